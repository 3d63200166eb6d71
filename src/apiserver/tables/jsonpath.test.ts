import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileJSONPath, findJSONPath, JSONPathError } from './jsonpath.js';
import { goFloatString, goPrintValue } from './format.js';

const doc = {
  metadata: { name: 'n', labels: { app: 'web', 'app.kubernetes.io/name': 'shop' } },
  spec: { ports: [{ port: 80, name: 'http' }, { port: 443, name: 'https' }, { port: 8080 }] },
  status: {
    conditions: [
      { type: 'Available', status: 'True', observedGeneration: 2 },
      { type: 'Ready', status: 'False', observedGeneration: 3 },
    ],
  },
};

test('JSONPath subset used by printer columns', () => {
  const cases: [string, unknown[]][] = [
    ['.metadata.name', ['n']],
    ['{.metadata.name}', ['n']],
    ['$.metadata.name', ['n']],
    ['.metadata.labels.app', ['web']],
    [".metadata.labels['app.kubernetes.io/name']", ['shop']],
    ['.metadata.labels["app.kubernetes.io/name"]', ['shop']],
    ['.metadata.labels.app\\.kubernetes\\.io/name', ['shop']],
    ['.spec.ports[0].port', [80]],
    ['.spec.ports[-1].port', [8080]],
    ['.spec.ports[*].port', [80, 443, 8080]],
    ['.spec.ports[0:2].name', ['http', 'https']],
    ['.spec.ports[*].name', ['http', 'https']],
    ['.spec.ports[5].port', []],
    ['.status.conditions[?(@.type=="Ready")].status', ['False']],
    [".status.conditions[?(@.type == 'Available')].status", ['True']],
    ['.status.conditions[?(@.type!="Ready")].type', ['Available']],
    ['.status.conditions[?(@.observedGeneration>2)].type', ['Ready']],
    ['.spec.ports[?(@.name)].port', [80, 443]],
    ['.status.conditions[?(@.type=="Nope")].status', []],
    ['.spec.missing.deeper', []],
    ['.metadata.name.length', []],
    ['.metadata.labels.*', ['web', 'shop']],
  ];
  for (const [path, want] of cases) assert.deepEqual(compileJSONPath(path).find(doc), want, path);
});

test('invalid paths throw at compile time; findJSONPath returns nothing instead', () => {
  for (const bad of ['.spec[', '.spec..x', 'spec', '.a[abc]', '.a[?(@.b=="c"']) {
    assert.throws(() => compileJSONPath(bad), JSONPathError, bad);
    assert.deepEqual(findJSONPath(bad, doc), []);
  }
});

test('values print as client-go JSONPath prints them', () => {
  assert.equal(goPrintValue('s'), 's');
  assert.equal(goPrintValue(12), '12');
  assert.equal(goPrintValue(true), 'true');
  assert.equal(goPrintValue(0.5), '0.5');
  assert.equal(goPrintValue([1, 'a']), '[1,"a"]');
  assert.equal(goPrintValue({ b: 1, a: { d: 2, c: 3 } }), '{"a":{"c":3,"d":2},"b":1}');
  assert.equal(goPrintValue({ h: '<&>' }), '{"h":"\\u003c\\u0026\\u003e"}');
  assert.equal(goFloatString(1234567.5), '1.2345675e+06');
  assert.equal(goFloatString(123456.5), '123456.5');
  assert.equal(goFloatString(0.00001), '1e-05');
  assert.equal(goFloatString(0.0001), '0.0001');
});
