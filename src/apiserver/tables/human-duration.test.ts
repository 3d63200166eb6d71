import { test } from 'node:test';
import assert from 'node:assert/strict';
import { humanDuration, parseTime, shortHumanDuration, translateTimestampSince } from './human-duration.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

test('humanDuration follows apimachinery HumanDuration at every boundary', () => {
  const cases: [number, string][] = [
    [-3 * S, '<invalid>'],
    [-2 * S, '<invalid>'],
    [-1999, '0s'],
    [-1 * S, '0s'],
    [-500, '0s'],
    [0, '0s'],
    [999, '0s'],
    [1 * S, '1s'],
    [59 * S, '59s'],
    [60 * S, '60s'],
    [119 * S + 999, '119s'],
    [120 * S, '2m'],
    [150 * S, '2m30s'],
    [4 * M + 30 * S, '4m30s'],
    [9 * M + 59 * S, '9m59s'],
    [10 * M, '10m'],
    [10 * M + 30 * S, '10m'],
    [179 * M + 59 * S, '179m'],
    [3 * H, '3h'],
    [3 * H + 30 * M, '3h30m'],
    [7 * H + 59 * M + 59 * S, '7h59m'],
    [8 * H, '8h'],
    [8 * H + 30 * M, '8h'],
    [47 * H + 59 * M, '47h'],
    [48 * H, '2d'],
    [2 * D + 5 * H, '2d5h'],
    [7 * D + 23 * H, '7d23h'],
    [8 * D, '8d'],
    [8 * D + 5 * H, '8d'],
    [729 * D, '729d'],
    [730 * D, '2y'],
    [730 * D + 100 * D, '2y100d'],
    [8 * 365 * D - D, '7y364d'],
    [8 * 365 * D, '8y'],
    [10 * 365 * D + 200 * D, '10y'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, `humanDuration(${ms})`);
});

test('shortHumanDuration prints a single unit', () => {
  const cases: [number, string][] = [
    [-2 * S, '<invalid>'], [-1 * S, '0s'], [59 * S, '59s'], [60 * S, '1m'], [59 * M, '59m'], [H, '1h'],
    [23 * H, '23h'], [D, '1d'], [364 * D, '364d'], [365 * D, '1y'],
  ];
  for (const [ms, want] of cases) assert.equal(shortHumanDuration(ms), want, `shortHumanDuration(${ms})`);
});

test('parseTime treats missing, empty, garbage and Go zero times as zero', () => {
  assert.equal(parseTime(undefined), undefined);
  assert.equal(parseTime(null), undefined);
  assert.equal(parseTime(''), undefined);
  assert.equal(parseTime('nope'), undefined);
  assert.equal(parseTime('0001-01-01T00:00:00Z'), undefined);
  assert.equal(parseTime('2024-06-01T12:00:00Z'), Date.UTC(2024, 5, 1, 12));
  assert.equal(parseTime('2024-06-01T12:00:00.123456Z'), Date.UTC(2024, 5, 1, 12, 0, 0, 123));
});

test('translateTimestampSince', () => {
  const now = Date.UTC(2024, 5, 1, 12);
  assert.equal(translateTimestampSince(undefined, now), '<unknown>');
  assert.equal(translateTimestampSince('2024-06-01T11:55:00Z', now), '5m');
  assert.equal(translateTimestampSince('2024-06-01T12:00:05Z', now), '<invalid>');
});
