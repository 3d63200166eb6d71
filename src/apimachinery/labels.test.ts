import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from './errors.js';
import {
  everythingSelector, formatLabelSelector, goQuote, labelKeyErrors, labelSelectorFromObject, labelValueErrors,
  nothingSelector, parseLabelSelector, selectorFromSet, tryParseLabelSelector,
} from './labels.js';

const NAME_PART_REGEX = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

function parseError(s: string): string {
  try {
    parseLabelSelector(s);
  } catch (e) {
    assert.ok(e instanceof StatusError, 'a StatusError');
    assert.equal(e.code, 400);
    assert.equal(e.reason, 'BadRequest');
    return e.message;
  }
  assert.fail(`${JSON.stringify(s)} parsed`);
}

test('equality, inequality and existence', () => {
  const s = parseLabelSelector('app=web,tier!=db,env,!legacy');
  assert.equal(s.empty, false);
  assert.equal(s.matches({ app: 'web', env: 'x' }), true);
  assert.equal(s.matches({ app: 'web', env: 'x', tier: 'db' }), false);
  assert.equal(s.matches({ app: 'web', env: 'x', tier: 'fe' }), true);
  assert.equal(s.matches({ app: 'web' }), false, 'env must exist');
  assert.equal(s.matches({ app: 'web', env: '', legacy: '' }), false, 'legacy must not exist');
  assert.equal(s.matches(undefined), false);
  assert.equal(parseLabelSelector('a==b').matches({ a: 'b' }), true);
  assert.equal(parseLabelSelector('a!=b').matches({}), true, '!= matches a missing key');
});

test('set-based requirements', () => {
  const s = parseLabelSelector('env in (prod, qa),tier notin (db)');
  assert.equal(s.matches({ env: 'qa' }), true);
  assert.equal(s.matches({ env: 'dev' }), false);
  assert.equal(s.matches({ env: 'prod', tier: 'db' }), false);
  assert.equal(s.matches({ env: 'prod', tier: 'web' }), true);
  assert.equal(parseLabelSelector('x notin (a)').matches({}), true, 'notin matches a missing key');
  assert.equal(parseLabelSelector('x in (a)').matches({}), false);
  // in/notin are plain words where a key or value is expected.
  const kw = parseLabelSelector('in in (in, notin)');
  assert.equal(kw.matches({ in: 'notin' }), true);
  assert.deepEqual(kw.requirements, [{ key: 'in', operator: 'in', values: ['in', 'notin'] }]);
});

test('empty values in sets and exact matches', () => {
  assert.deepEqual(parseLabelSelector('x in (foo,,baz)').requirements[0].values, ['', 'baz', 'foo']);
  assert.deepEqual(parseLabelSelector('x in ()').requirements[0].values, ['']);
  assert.deepEqual(parseLabelSelector('x in (,a)').requirements[0].values, ['', 'a']);
  assert.deepEqual(parseLabelSelector('x in (a,)').requirements[0].values, ['', 'a']);
  assert.deepEqual(parseLabelSelector('x=').requirements[0].values, ['']);
  assert.equal(parseLabelSelector('x=,y').matches({ x: '', y: '1' }), true);
  assert.equal(parseLabelSelector('x=').matches({}), false);
});

test('gt and lt compare integers', () => {
  const s = parseLabelSelector('replicas>2,replicas<10');
  assert.equal(s.matches({ replicas: '5' }), true);
  assert.equal(s.matches({ replicas: '2' }), false);
  assert.equal(s.matches({ replicas: '10' }), false);
  assert.equal(s.matches({ replicas: 'five' }), false);
  assert.equal(s.matches({}), false);
  assert.equal(parseLabelSelector('n<1').matches({ n: '-2' }), true, 'labels may hold negative numbers');
  // A negative bound is an integer but not a valid label value: upstream rejects it.
  assert.match(parseError('n>-3'), /^unable to parse requirement: values\[0\]\[n\]: Invalid value: "-3": a valid label must be/);
  assert.equal(s.toString(), 'replicas>2,replicas<10');
  assert.equal(
    parseError('n>abc'),
    `unable to parse requirement: values[0]: Invalid value: "abc": for 'Gt', 'Lt' operators, the value must be an integer`,
  );
});

test('whitespace is allowed around tokens', () => {
  const s = parseLabelSelector('  a = b ,\tc  in ( x , y ) ,  ! d \n');
  assert.equal(s.toString(), 'a=b,c in (x,y),!d');
  assert.equal(parseLabelSelector('').empty, true);
  assert.equal(parseLabelSelector('   ').empty, true);
  assert.equal(parseLabelSelector('').matches({ any: 'thing' }), true);
});

test('requirements are sorted by key and printed canonically', () => {
  const s = parseLabelSelector('z=1,a in (c,b,b),m');
  assert.deepEqual(s.requirements.map((r) => r.key), ['a', 'm', 'z']);
  assert.equal(s.toString(), 'a in (b,c),m,z=1');
  assert.equal(s.requiresExactMatch('z'), '1');
  assert.equal(s.requiresExactMatch('a'), undefined);
  assert.equal(parseLabelSelector('a in (x)').requiresExactMatch('a'), 'x');
});

test('syntax errors carry upstream messages', () => {
  assert.equal(parseError('a b'), 'unable to parse requirement: found \'b\', expected: in, notin, =, ==, !=, gt, lt');
  assert.equal(parseError('a=b c'), "found 'c', expected: ',' or 'end of string'");
  assert.equal(parseError('a=b,'), "found '', expected: identifier after ','");
  assert.equal(parseError(',a'), "found ',', expected: !, identifier, or 'end of string'");
  assert.equal(parseError('a in b'), "unable to parse requirement: found 'b' expected: '('");
  assert.equal(parseError('a in (b c)'), "unable to parse requirement: found 'c', expected: ',' or ')'");
  assert.equal(parseError('a in (='), "unable to parse requirement: found '=', expected: ',', ')' or identifier");
  assert.equal(parseError('a=(b)'), "unable to parse requirement: found '(', expected: identifier");
  assert.equal(parseError('!'), "unable to parse requirement: found '', expected: identifier");
  assert.equal(parseError('!a=b'), "found '=', expected: ',' or 'end of string'");
});

test('invalid keys and values carry upstream messages', () => {
  assert.equal(parseError('app:monolith'), `unable to parse requirement: <nil>: Invalid value: "app:monolith": ${NAME_PART_REGEX}`);
  assert.equal(
    parseError('app.kubernetes_io/name=x'),
    'unable to parse requirement: <nil>: Invalid value: "app.kubernetes_io/name": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character (e.g. \'example.com\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\')',
  );
  assert.match(parseError('a/b/c=d'), /^unable to parse requirement: <nil>: Invalid value: "a\/b\/c": a qualified name must consist of .* with an optional DNS subdomain prefix and '\/' \(e.g. 'example.com\/MyName'\)$/);
  assert.equal(
    parseError('a=b:c'),
    "unable to parse requirement: values[0][a]: Invalid value: \"b:c\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
  );
  assert.match(parseError(`a=${'v'.repeat(64)}`), /values\[0\]\[a\]: Invalid value: "v{64}": must be no more than 63 characters$/);
  assert.match(parseError(`a=-${'v'.repeat(63)}`), /: must be no more than 63 characters; a valid label must be/);
  assert.match(parseError(`${'k'.repeat(64)}`), /<nil>: Invalid value: "k{64}": name part must be no more than 63 characters$/);
  assert.equal(parseLabelSelector(`example.com/${'k'.repeat(63)}=v`).requirements.length, 1);
  assert.deepEqual(tryParseLabelSelector('a b').error, "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt");
  assert.equal(tryParseLabelSelector('a').selector?.toString(), 'a');
});

test('key and value validators', () => {
  assert.deepEqual(labelKeyErrors('app'), []);
  assert.deepEqual(labelKeyErrors('k8s.io/app'), []);
  assert.deepEqual(labelKeyErrors('/app'), ['prefix part must be non-empty']);
  assert.deepEqual(labelKeyErrors('k8s.io/'), ['name part must be non-empty', NAME_PART_REGEX]);
  assert.deepEqual(labelValueErrors(''), []);
  assert.deepEqual(labelValueErrors('a.b_c-d'), []);
  assert.equal(labelValueErrors('-a').length, 1);
  assert.equal(goQuote('a"b\\c\n\u0001'), '"a\\"b\\\\c\\n\\x01"');
});

test('metav1.LabelSelector: null matches nothing, {} matches everything', () => {
  assert.equal(labelSelectorFromObject(null), nothingSelector);
  assert.equal(labelSelectorFromObject(undefined).matches({}), false);
  assert.equal(labelSelectorFromObject(null).empty, false);
  assert.equal(labelSelectorFromObject({}), everythingSelector);
  assert.equal(labelSelectorFromObject({ matchLabels: {}, matchExpressions: [] }).matches({ a: 'b' }), true);
  assert.equal(labelSelectorFromObject({}).empty, true);
});

test('metav1.LabelSelector: matchLabels and matchExpressions', () => {
  const sel = labelSelectorFromObject({
    matchLabels: { app: 'web' },
    matchExpressions: [
      { key: 'tier', operator: 'In', values: ['fe', 'be'] },
      { key: 'env', operator: 'NotIn', values: ['dev'] },
      { key: 'owner', operator: 'Exists' },
      { key: 'legacy', operator: 'DoesNotExist', values: [] },
    ],
  });
  assert.equal(sel.matches({ app: 'web', tier: 'fe', owner: 'x' }), true);
  assert.equal(sel.matches({ app: 'web', tier: 'fe', owner: 'x', env: 'dev' }), false);
  assert.equal(sel.matches({ app: 'web', tier: 'db', owner: 'x' }), false);
  assert.equal(sel.matches({ app: 'web', tier: 'fe' }), false);
  assert.equal(sel.matches({ app: 'web', tier: 'fe', owner: 'x', legacy: '1' }), false);
  assert.equal(sel.toString(), 'app=web,env notin (dev),!legacy,owner,tier in (be,fe)');
});

test('metav1.LabelSelector errors', () => {
  assert.throws(() => labelSelectorFromObject({ matchExpressions: [{ key: 'a', operator: 'Foo' }] }), (e: unknown) =>
    e instanceof StatusError && e.code === 400 && e.message === '"Foo" is not a valid pod selector operator');
  assert.throws(() => labelSelectorFromObject({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }), (e: unknown) =>
    e instanceof StatusError && e.message === "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty");
  assert.throws(() => labelSelectorFromObject({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }), (e: unknown) =>
    e instanceof StatusError && e.message === 'values: Invalid value: []string{"x"}: values set must be empty for exists and does not exist');
  assert.throws(() => labelSelectorFromObject({ matchLabels: { 'a b': 'c' } }), (e: unknown) =>
    e instanceof StatusError && e.message.startsWith('key: Invalid value: "a b": name part must consist'));
});

test('formatLabelSelector prints like metav1.FormatLabelSelector', () => {
  assert.equal(formatLabelSelector({ matchLabels: { app: 'x' } }), 'app=x');
  assert.equal(formatLabelSelector({ matchLabels: { b: '2', a: '1' } }), 'a=1,b=2');
  assert.equal(formatLabelSelector({ matchExpressions: [{ key: 'k', operator: 'In', values: ['z', 'y'] }] }), 'k in (y,z)');
  assert.equal(formatLabelSelector({}), '<none>');
  assert.equal(formatLabelSelector(null), '<none>');
  assert.equal(formatLabelSelector({ matchExpressions: [{ key: 'k', operator: 'Bad' }] }), '<error>');
});

test('selectorFromSet', () => {
  const s = selectorFromSet({ b: '2', a: '1' });
  assert.equal(s.toString(), 'a=1,b=2');
  assert.equal(s.matches({ a: '1', b: '2', c: '3' }), true);
  assert.equal(selectorFromSet(undefined).empty, true);
  assert.equal(selectorFromSet({}).matches({}), true);
});
