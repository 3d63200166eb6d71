import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from './errors.js';
import { escapeFieldValue, fieldSelectorFromSet, parseFieldSelector } from './fields.js';

function parseError(s: string): string {
  try {
    parseFieldSelector(s);
  } catch (e) {
    assert.ok(e instanceof StatusError);
    assert.equal(e.code, 400);
    assert.equal(e.reason, 'BadRequest');
    return e.message;
  }
  assert.fail(`${JSON.stringify(s)} parsed`);
}

test('equality and inequality terms', () => {
  const s = parseFieldSelector('status.phase!=Running,spec.nodeName==node-1,metadata.namespace=ns');
  assert.deepEqual(s.requirements, [
    { field: 'metadata.namespace', op: '=', value: 'ns' },
    { field: 'spec.nodeName', op: '=', value: 'node-1' },
    { field: 'status.phase', op: '!=', value: 'Running' },
  ]);
  assert.equal(s.matches({ 'metadata.namespace': 'ns', 'spec.nodeName': 'node-1', 'status.phase': 'Pending' }), true);
  assert.equal(s.matches({ 'metadata.namespace': 'ns', 'spec.nodeName': 'node-1', 'status.phase': 'Running' }), false);
  assert.equal(s.matches({ 'metadata.namespace': 'other', 'spec.nodeName': 'node-1' }), false);
});

test('a missing field compares as empty', () => {
  assert.equal(parseFieldSelector('spec.nodeName=').matches({}), true);
  assert.equal(parseFieldSelector('spec.nodeName=').matches({ 'spec.nodeName': 'n' }), false);
  assert.equal(parseFieldSelector('spec.nodeName!=').matches({ 'spec.nodeName': 'n' }), true);
  assert.equal(parseFieldSelector('a=x').matches({}), false);
});

test('empty selectors and empty terms', () => {
  assert.equal(parseFieldSelector('').empty, true);
  assert.equal(parseFieldSelector('').matches({ a: 'b' }), true);
  assert.equal(parseFieldSelector(',').empty, true);
  assert.equal(parseFieldSelector('a=b,,c=d').requirements.length, 2);
});

test('backslash escapes in values', () => {
  const s = parseFieldSelector('metadata.name=a\\,b\\=c\\\\d,x=y');
  assert.deepEqual(s.requirements, [
    { field: 'metadata.name', op: '=', value: 'a,b=c\\d' },
    { field: 'x', op: '=', value: 'y' },
  ]);
  assert.equal(s.toString(), 'metadata.name=a\\,b\\=c\\\\d,x=y');
  assert.equal(escapeFieldValue('a,b=c\\'), 'a\\,b\\=c\\\\');
  assert.equal(parseFieldSelector(`v=${escapeFieldValue('1,2=3')}`).requirements[0].value, '1,2=3');
});

test('the first operator splits the term', () => {
  assert.deepEqual(parseFieldSelector('a!=b').requirements[0], { field: 'a', op: '!=', value: 'b' });
  assert.deepEqual(parseFieldSelector('a==b').requirements[0], { field: 'a', op: '=', value: 'b' });
  assert.deepEqual(parseFieldSelector('=x').requirements[0], { field: '', op: '=', value: 'x' });
});

test('errors carry upstream messages', () => {
  assert.equal(parseError('foo'), "invalid selector: 'foo'; can't understand 'foo'");
  assert.equal(parseError('b=1,foo'), "invalid selector: 'b=1,foo'; can't understand 'foo'");
  assert.equal(parseError('a=b=c'), 'invalid field selector: unescaped character in value: 61');
  assert.equal(parseError('a=\\x'), 'invalid field selector: invalid escape sequence: \\x');
  assert.equal(parseError('a=b\\'), 'invalid field selector: invalid escape sequence: \\');
});

test('exact matches and transforms', () => {
  const s = parseFieldSelector('metadata.name=web-0,metadata.namespace=default');
  assert.equal(s.exactName(), 'web-0');
  assert.equal(s.requiresExactMatch('metadata.namespace'), 'default');
  assert.equal(parseFieldSelector('metadata.name!=web-0').exactName(), undefined);
  assert.equal(parseFieldSelector('').exactName(), undefined);
  const t = parseFieldSelector('spec.host=n1').transform((field, value) => ({ field: field === 'spec.host' ? 'spec.nodeName' : field, value }));
  assert.deepEqual(t.requirements, [{ field: 'spec.nodeName', op: '=', value: 'n1' }]);
  assert.equal(t.matches({ 'spec.nodeName': 'n1' }), true);
  assert.equal(fieldSelectorFromSet({ 'metadata.name': 'x' }).exactName(), 'x');
});
