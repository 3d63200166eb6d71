import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  QUANTITY_FORMAT_ERROR, QUANTITY_SUFFIX_ERROR, canonicalQuantity, canonicalResourceQuantity, compareQuantities,
  formatQuantity, isIntegerQuantity, parseQuantity, parseQuantityExact, parseQuantityOrError, quantityIntValue,
  quantityMilliValue, quantitySign, roundUpQuantity,
} from './quantity.js';

const q = (s: string | number) => {
  const r = parseQuantityExact(s);
  assert.ok(r, `${s} parses`);
  return r;
};

test('canonical form as the API server serializes it', () => {
  const cases: [string | number, string][] = [
    // decimal SI: the largest suffix that keeps an integer mantissa
    ['0.5', '500m'], ['100m', '100m'], ['1000m', '1'], ['1500m', '1500m'], ['1000', '1k'], ['1500', '1500'],
    ['12345', '12345'], ['1k', '1k'], ['1000k', '1M'], ['0.001', '1m'], ['0.0001', '100u'], ['1.0', '1'],
    ['.5', '500m'], ['1.', '1'], ['+5', '5'], ['-5', '-5'], ['-0.5', '-500m'], ['0', '0'], ['-0', '0'], ['000', '0'],
    ['1E', '1E'], ['1P', '1P'], ['5n', '5n'], ['1.5G', '1500M'], ['0.1m', '100u'],
    // binary SI: kept while the value is a whole number ≥ 1024, in the largest power of 1024
    ['1024Mi', '1Gi'], ['1.5Gi', '1536Mi'], ['0.5Gi', '512Mi'], ['1536Ki', '1536Ki'], ['2048Ki', '2Mi'], ['1Ki', '1Ki'],
    ['1.5Ki', '1536'], ['0.5Ki', '512'], ['1023', '1023'], ['1024Ki', '1Mi'], ['-1Ki', '-1Ki'], ['1Ei', '1Ei'],
    ['0.5Mi', '512Ki'], ['1.1Ki', '1126400m'],
    // decimal exponent keeps its notation
    ['1e3', '1e3'], ['1E3', '1e3'], ['12e6', '12e6'], ['1e-3', '1e-3'], ['100e3', '100e3'], ['1e0', '1'],
    // JSON numbers arrive as numbers
    [0.5, '500m'], [1000, '1k'], [2, '2'], [0.25, '250m'],
  ];
  for (const [input, want] of cases) assert.equal(canonicalQuantity(input), want, `${input}`);
});

test('values finer than nano round up (away from zero); binary values are capped at MaxInt64', () => {
  assert.equal(canonicalQuantity('0.0000000001'), '1n');
  assert.equal(canonicalQuantity('1.0000000001'), '1000000001n');
  assert.equal(canonicalQuantity('-0.0000000001'), '-1n');
  assert.equal(canonicalQuantity('16Ei'), '9223372036854775807');
});

test('resource lists are rounded up to milli precision (SetDefaults_ResourceList)', () => {
  const cases: [string, string][] = [['100u', '1m'], ['1n', '1m'], ['1500u', '2m'], ['0.5', '500m'], ['1Gi', '1Gi'], ['1.0001', '1001m'], ['-1n', '-1m']];
  for (const [input, want] of cases) assert.equal(canonicalResourceQuantity(input), want, input);
});

test('invalid quantities give the decoder errors', () => {
  const cases: [string, string][] = [
    ['', QUANTITY_FORMAT_ERROR], ['abc', QUANTITY_FORMAT_ERROR], ['1.2.3', QUANTITY_FORMAT_ERROR], ['1 Gi', QUANTITY_FORMAT_ERROR],
    ['5Gi3', QUANTITY_SUFFIX_ERROR], ['1x', QUANTITY_FORMAT_ERROR],
    ['1Zi', QUANTITY_FORMAT_ERROR], ['1ii', QUANTITY_SUFFIX_ERROR], ['1e', QUANTITY_SUFFIX_ERROR], ['1Ki1', QUANTITY_SUFFIX_ERROR],
    ['1KiB', QUANTITY_FORMAT_ERROR], ['1mi', QUANTITY_SUFFIX_ERROR], ['1K', QUANTITY_SUFFIX_ERROR],
  ];
  for (const [input, want] of cases) assert.equal(parseQuantityOrError(input), want, JSON.stringify(input));
  assert.equal(QUANTITY_FORMAT_ERROR, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
  assert.equal(QUANTITY_SUFFIX_ERROR, "unable to parse quantity's suffix");
  assert.equal(canonicalQuantity('nope'), undefined);
  assert.equal(parseQuantity('nope'), undefined);
});

test('comparison, sign, integer and scaled values', () => {
  assert.equal(compareQuantities(q('1'), q('1000m')), 0);
  assert.equal(compareQuantities(q('1Gi'), q('1G')), 1);
  assert.equal(compareQuantities(q('-1'), q('0')), -1);
  assert.equal(compareQuantities(q('500m'), q('0.5')), 0);
  assert.equal(quantitySign(q('0')), 0);
  assert.equal(quantitySign(q('-1m')), -1);
  assert.equal(quantitySign(q('1n')), 1);
  assert.equal(quantityMilliValue(q('1.5')), 1500n);
  assert.equal(quantityMilliValue(q('1n')), 1n, 'milli value rounds up');
  assert.equal(quantityIntValue(q('1.2')), 2n, 'value rounds up');
  assert.equal(quantityIntValue(q('-1.2')), -2n, 'away from zero');
  assert.equal(quantityIntValue(q('1Ki')), 1024n);
  assert.equal(isIntegerQuantity(q('2')), true);
  assert.equal(isIntegerQuantity(q('1500m')), false);
  assert.equal(formatQuantity(roundUpQuantity(q('1234u'), -3)), '2m');
  assert.equal(parseQuantity('250m')?.value, 0.25);
  assert.equal(parseQuantity('2Ki')?.value, 2048);
});
