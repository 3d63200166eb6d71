import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage } from '../apimachinery/errors.js';
import { StructuralSchema, compileCEL, evaluateCEL, compileValidationRule, goRegExp, parseGoDuration } from './schema.js';

const msgs = (s: StructuralSchema, obj: unknown) => s.validate(obj).map(fieldErrorMessage);

const crontab = new StructuralSchema({
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['name'],
      properties: {
        name: { type: 'string', minLength: 2, maxLength: 5, pattern: '^[a-z]+$' },
        replicas: { type: 'integer', minimum: 1, maximum: 10 },
        ratio: { type: 'number', exclusiveMaximum: true, maximum: 1, exclusiveMinimum: true, minimum: 0 },
        step: { type: 'integer', multipleOf: 5 },
        size: { type: 'string', enum: ['S', 'M', 'L'] },
        level: { type: 'integer', enum: [1, 2] },
        tags: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 3 },
        labels: { type: 'object', additionalProperties: { type: 'string' }, maxProperties: 2, minProperties: 1 },
        when: { type: 'string', format: 'date-time' },
        ip: { type: 'string', format: 'ipv4' },
        any: { type: 'string', format: 'int32' },
        note: { type: 'string', nullable: true },
        enabled: { type: 'boolean' },
      },
    },
  },
});

test('validation messages match kube-openapi wording for each keyword', () => {
  const cases: [string, unknown, string[]][] = [
    ['valid', { spec: { name: 'ab' } }, []],
    ['required', { spec: {} }, ['spec.name: Required value']],
    ['type', { spec: { name: 'ab', replicas: 'three' } }, ['spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"']],
    ['type of a float for an integer', { spec: { name: 'ab', replicas: 1.5 } }, ['spec.replicas: Invalid value: "number": spec.replicas in body must be of type integer: "number"']],
    ['type of null (non-nullable)', { spec: { name: 'ab', enabled: null } }, ['spec.enabled: Invalid value: "null": spec.enabled in body must be of type boolean: "null"']],
    ['nullable accepts null', { spec: { name: 'ab', note: null } }, []],
    ['string enum', { spec: { name: 'ab', size: 'XL' } }, ['spec.size: Unsupported value: "XL": supported values: "S", "M", "L"']],
    ['non-string enum', { spec: { name: 'ab', level: 3 } }, ['spec.level: Unsupported value: 3: supported values: "1", "2"']],
    ['maximum', { spec: { name: 'ab', replicas: 11 } }, ['spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10']],
    ['minimum', { spec: { name: 'ab', replicas: 0 } }, ['spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1']],
    ['exclusiveMaximum', { spec: { name: 'ab', ratio: 1 } }, ['spec.ratio: Invalid value: 1: spec.ratio in body should be less than 1']],
    ['exclusiveMinimum', { spec: { name: 'ab', ratio: 0 } }, ['spec.ratio: Invalid value: 0: spec.ratio in body should be greater than 0']],
    ['multipleOf', { spec: { name: 'ab', step: 7 } }, ['spec.step: Invalid value: 7: spec.step in body should be a multiple of 5']],
    ['maxLength', { spec: { name: 'abcdef' } }, ['spec.name: Too long: may not be longer than 5']],
    ['minLength', { spec: { name: 'a' } }, ['spec.name: Invalid value: "a": spec.name in body should be at least 2 chars long']],
    ['pattern', { spec: { name: 'AB' } }, ["spec.name: Invalid value: \"AB\": spec.name in body should match '^[a-z]+$'"]],
    ['maxItems', { spec: { name: 'ab', tags: ['a', 'b', 'c', 'd'] } }, ['spec.tags: Too many: 4: must have at most 3 items']],
    ['minItems', { spec: { name: 'ab', tags: [] } }, ['spec.tags: Invalid value: 0: spec.tags in body should have at least 1 items']],
    ['item type', { spec: { name: 'ab', tags: ['a', 2] } }, ['spec.tags[1]: Invalid value: "integer": spec.tags[1] in body must be of type string: "integer"']],
    ['additionalProperties value', { spec: { name: 'ab', labels: { a: 1 } } }, ['spec.labels.a: Invalid value: "integer": spec.labels.a in body must be of type string: "integer"']],
    ['maxProperties', { spec: { name: 'ab', labels: { a: 'x', b: 'y', c: 'z' } } }, ['spec.labels: Too many: 3: must have at most 2 items']],
    ['minProperties', { spec: { name: 'ab', labels: {} } }, ['spec.labels: Invalid value: 0: spec.labels in body should have at least 1 properties']],
    ['format date-time', { spec: { name: 'ab', when: 'yesterday' } }, ['spec.when: Invalid value: "yesterday": spec.when in body must be of type date-time: "yesterday"']],
    ['format date-time ok', { spec: { name: 'ab', when: '2024-01-02T03:04:05Z' } }, []],
    ['format ipv4', { spec: { name: 'ab', ip: '1.2.3' } }, ['spec.ip: Invalid value: "1.2.3": spec.ip in body must be of type ipv4: "1.2.3"']],
    ['unsupported formats are ignored', { spec: { name: 'ab', any: 'x' } }, []],
  ];
  for (const [name, obj, want] of cases) assert.deepEqual(msgs(crontab, obj), want, name);
  // A prefix path is prepended to the field (the message keeps the relative name).
  assert.deepEqual(crontab.validate({ spec: {} }, 'x').map(fieldErrorMessage), ['x.spec.name: Required value']);
});

test('several errors are reported at once; reason types are right', () => {
  const errs = crontab.validate({ spec: { replicas: 20, size: 'XL' } });
  assert.deepEqual(errs.map((e) => e.type).sort(), ['FieldValueInvalid', 'FieldValueNotSupported', 'FieldValueRequired']);
});

test('x-kubernetes-int-or-string accepts integers and strings only', () => {
  const s = new StructuralSchema({
    type: 'object',
    properties: {
      port: { 'x-kubernetes-int-or-string': true },
      pct: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }], pattern: '^\\d+%$' },
    },
  });
  assert.deepEqual(msgs(s, { port: 80 }), []);
  assert.deepEqual(msgs(s, { port: 'http' }), []);
  assert.deepEqual(msgs(s, { port: true }), ['port: Invalid value: "boolean": port in body must be of type integer,string: "boolean"']);
  assert.deepEqual(msgs(s, { port: 1.5 }), ['port: Invalid value: "number": port in body must be of type integer,string: "number"']);
  assert.deepEqual(msgs(s, { pct: '50%' }), []);
  assert.deepEqual(msgs(s, { pct: 'half' }), ["pct: Invalid value: \"half\": pct in body should match '^\\d+%$'"]);
});

test('anyOf/oneOf/not report kube-openapi composite messages', () => {
  const s = new StructuralSchema({
    type: 'object',
    properties: {
      a: { type: 'object', properties: { x: { type: 'string' }, y: { type: 'string' } }, oneOf: [{ required: ['x'] }, { required: ['y'] }] },
      b: { type: 'string', not: { enum: ['no'] } },
    },
  });
  assert.deepEqual(msgs(s, { a: { x: '1' } }), []);
  assert.deepEqual(msgs(s, { a: { x: '1', y: '2' } }), ['a: Invalid value: "": "a" must validate one and only one schema (oneOf). Found 2 valid alternatives']);
  assert.deepEqual(msgs(s, { a: {} }), ['a: Invalid value: "": "a" must validate one and only one schema (oneOf). Found none valid']);
  assert.deepEqual(msgs(s, { b: 'no' }), ['b: Invalid value: "": "b" must not validate the schema (not)']);
});

test('Go (RE2) patterns: flags, named groups, POSIX classes', () => {
  assert.ok(goRegExp('(?i)^abc$').test('ABC'));
  assert.ok(goRegExp('^(?P<n>[[:alpha:]]+)$').test('abc'));
  assert.ok(!goRegExp('^[[:digit:]]+\\z').test('12a'));
  const s = new StructuralSchema({ type: 'object', properties: { n: { type: 'string', pattern: '(?i)^[a-z]+$' } } });
  assert.deepEqual(msgs(s, { n: 'ABC' }), []);
});

test('pruning drops unknown fields at every level and reports their paths', () => {
  const s = new StructuralSchema({
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          a: { type: 'string' },
          nested: { type: 'object', properties: { keep: { type: 'integer' } } },
          list: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } },
          map: { type: 'object', additionalProperties: { type: 'object', properties: { v: { type: 'string' } } } },
          free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { typed: { type: 'object', properties: { t: { type: 'string' } } } } },
          template: {
            type: 'object',
            'x-kubernetes-embedded-resource': true,
            properties: { spec: { type: 'object', properties: { x: { type: 'string' } } } },
          },
          raw: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true },
        },
      },
    },
  });
  const obj: any = {
    apiVersion: 'example.com/v1', kind: 'Foo', metadata: { name: 'x', anything: 1 },
    spec: {
      a: 'x', b: 'drop',
      nested: { keep: 1, drop: 2 },
      list: [{ name: 'n', extra: true }, { other: 1 }],
      map: { k: { v: 'v', w: 'w' } },
      free: { whatever: { deep: 1 }, typed: { t: 't', u: 'u' } },
      template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { a: 'b' }, bogus: 1 }, spec: { x: 'y', z: 1 }, status: {} },
      raw: { apiVersion: 'v1', kind: 'ConfigMap', data: { k: 'v' } },
    },
    status: { gone: true },
  };
  const removed = s.prune(obj);
  assert.deepEqual(removed, [
    'spec.b',
    'spec.free.typed.u',
    'spec.list[0].extra',
    'spec.list[1].other',
    'spec.map.k.w',
    'spec.nested.drop',
    'spec.template.metadata.bogus',
    'spec.template.spec.z',
    'spec.template.status',
    'status',
  ]);
  assert.deepEqual(obj, {
    apiVersion: 'example.com/v1', kind: 'Foo', metadata: { name: 'x', anything: 1 },
    spec: {
      a: 'x',
      nested: { keep: 1 },
      list: [{ name: 'n' }, {}],
      map: { k: { v: 'v' } },
      free: { whatever: { deep: 1 }, typed: { t: 't' } },
      template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { a: 'b' } }, spec: { x: 'y' } },
      raw: { apiVersion: 'v1', kind: 'ConfigMap', data: { k: 'v' } },
    },
  });
  // A preserve-unknown-fields root keeps everything.
  const open = new StructuralSchema({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
  const o = { spec: { anything: [1, { x: 2 }] } };
  assert.deepEqual(open.prune(o), []);
  assert.deepEqual(o, { spec: { anything: [1, { x: 2 }] } });
});

test('embedded resources must carry apiVersion and kind and valid metadata', () => {
  const s = new StructuralSchema({
    type: 'object',
    properties: { tpl: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true } },
  });
  assert.deepEqual(msgs(s, { tpl: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } } }), []);
  assert.deepEqual(msgs(s, { tpl: {} }), ['tpl.apiVersion: Required value', 'tpl.kind: Required value']);
  assert.deepEqual(msgs(s, { tpl: { apiVersion: 'a/b/c', kind: 'a_b' } }), [
    'tpl.apiVersion: Invalid value: "a/b/c": unexpected GroupVersion string: a/b/c',
    "tpl.kind: Invalid value: \"a_b\": may have mixed case, but should otherwise match: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
  ]);
});

test('list-type set and map reject duplicates', () => {
  const s = new StructuralSchema({
    type: 'object',
    properties: {
      set: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
      map: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'], items: { type: 'object', properties: { name: { type: 'string' }, v: { type: 'integer' } } } },
    },
  });
  assert.deepEqual(msgs(s, { set: ['a', 'b', 'a'] }), ['set[2]: Duplicate value: "a"']);
  assert.deepEqual(msgs(s, { map: [{ name: 'a', v: 1 }, { name: 'a', v: 2 }] }), ['map[1]: Duplicate value: {"name":"a"}']);
});

test('defaulting: missing fields, nested objects, array items, maps, nullable', () => {
  const s = new StructuralSchema({
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        default: {},
        properties: {
          replicas: { type: 'integer', default: 1 },
          policy: { type: 'object', default: {}, properties: { mode: { type: 'string', default: 'auto' } } },
          containers: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, pull: { type: 'string', default: 'IfNotPresent' } } } },
          ports: { type: 'array', items: { type: 'integer', default: 80 } },
          limits: { type: 'object', additionalProperties: { type: 'object', properties: { max: { type: 'integer', default: 10 } } } },
          note: { type: 'string', nullable: true, default: 'n' },
          keep: { type: 'string', default: 'k' },
          drop: { type: 'string' },
        },
      },
    },
  });
  const empty: any = {};
  s.applyDefaults(empty);
  assert.deepEqual(empty, { spec: { replicas: 1, policy: { mode: 'auto' }, note: 'n', keep: 'k' } });

  const obj: any = {
    spec: {
      replicas: 3,
      containers: [{ name: 'a' }, { name: 'b', pull: 'Always' }],
      ports: [8080, null],
      limits: { cpu: {}, mem: { max: 2 } },
      note: null,
      keep: null,
      drop: null,
    },
  };
  s.applyDefaults(obj);
  assert.deepEqual(obj, {
    spec: {
      replicas: 3,
      policy: { mode: 'auto' },
      containers: [{ name: 'a', pull: 'IfNotPresent' }, { name: 'b', pull: 'Always' }],
      ports: [8080, 80],
      limits: { cpu: { max: 10 }, mem: { max: 2 } },
      note: null, // nullable: an explicit null stays
      keep: 'k', // non-nullable null with a default is defaulted
    }, // non-nullable null without a default is dropped
  });
});

// ---------------------------------------------------------------------------------------------
// CEL

test('CEL: the common expressions evaluate with CEL semantics', () => {
  const self = { minReplicas: 1, maxReplicas: 3, name: 'xyz', items: [1, 2, 3], foo: 'a', m: { a: 1 } };
  const cases: [string, unknown][] = [
    ['self.minReplicas <= self.maxReplicas', true],
    ["self.name.startsWith('x')", true],
    ["self.name.endsWith('z') && self.name.contains('y')", true],
    ['has(self.foo)', true],
    ['has(self.bar)', false],
    ['size(self.items) <= 3', true],
    ['self.items.size() == 3', true],
    ['self.items.all(x, x > 0)', true],
    ['self.items.exists(x, x == 2)', true],
    ['self.items.exists_one(x, x > 1)', false],
    ['self.items.filter(x, x > 1).size() == 2', true],
    ['self.items.map(x, x * 2) == [2, 4, 6]', true],
    ["self.m.all(k, k == 'a')", true],
    ['7 / 2 == 3 && 7 % 3 == 1', true],
    ['7.0 / 2.0 == 3.5', true],
    ["self.name.matches('^x.z$')", true],
    ["'a' in ['a', 'b'] && 'a' in self.m", true],
    ["size('héllo') == 5", true],
    ["self.name.split('y') == ['x', 'z']", true],
    ["['b', 'a'].size() == 2", true],
    ["(self.name + 'a').size() == 4", true],
    ["self.name.upperAscii() == 'XYZ'", true],
    ["self.items.isSorted() && self.items.sum() == 6 && self.items.max() == 3", true],
    ["duration('1h') > duration('30m')", true],
    ["timestamp('2024-01-01T00:00:00Z') + duration('24h') == timestamp('2024-01-02T00:00:00Z')", true],
    ["quantity('1Gi').isGreaterThan(quantity('512Mi'))", true],
    ['type(self.name) == string', true],
    ["int('42') + 1 == 43", true],
    ['self.missing == 1 || true', true],
    ['true ? 1 : 2', 1n],
    ["string(3) + 'x'", '3x'],
  ];
  for (const [expr, want] of cases) assert.deepEqual(evaluateCEL(expr, { self }), want, expr);
});

test('CEL: runtime errors are cel-go errors', () => {
  const bad: [string, RegExp][] = [
    ['self.missing == 1', /^no such key: missing$/],
    ['1 / 0 == 1', /^division by zero$/],
    ['9223372036854775807 + 1 > 0', /^integer overflow$/],
    ['self.items[5] == 1', /^index out of bounds: 5$/],
    ["1 + 'a' == 'x'", /^no such overload$/],
  ];
  for (const [expr, re] of bad) assert.throws(() => evaluateCEL(expr, { self: { items: [1] } }), { message: re }, expr);
});

test('CEL: compile errors are reported cel-go style with positions', () => {
  const self = { t: 'object', fields: { a: { type: 'integer' } }, root: false } as any;
  const undefinedField = compileCEL('self.b > 1', { self }).error;
  assert.equal(undefinedField, "ERROR: <input>:1:5: undefined field 'b'\n | self.b > 1\n | ....^");
  assert.equal(compileCEL('self.a >', { self }).error, "ERROR: <input>:1:9: Syntax error: mismatched input '<EOF>'\n | self.a >\n | ........^");
  assert.equal(compileCEL('self.a 1', { self }).error, "ERROR: <input>:1:8: Syntax error: extraneous input '1' expecting <EOF>\n | self.a 1\n | .......^");
  assert.match(compileCEL('foo(self.a)', { self }).error ?? '', /undeclared reference to 'foo' \(in container ''\)/);
  assert.match(compileCEL('other == 1', { self }).error ?? '', /undeclared reference to 'other'/);
  assert.match(compileCEL('self.a # 1', { self }).error ?? '', /Syntax error: token recognition error at: '#'/);
  // Rules must be boolean.
  const schema = { type: 'object', properties: { a: { type: 'integer' } } };
  assert.equal(compileValidationRule({ rule: 'self.a' }, schema).error, 'cel expression must evaluate to a bool');
  assert.equal(compileValidationRule({ rule: 'self.a > 0', messageExpression: 'self.a' }, schema).messageError, 'messageExpression must evaluate to a string');
  assert.equal(compileValidationRule({ rule: 'self.a == oldSelf.a' }, schema).usesOldSelf, true);
  // Resource roots see apiVersion, kind and metadata.name/generateName only.
  assert.equal(compileValidationRule({ rule: "self.metadata.name.startsWith('a') && self.kind == 'X'" }, schema, true).error, undefined);
  assert.match(compileValidationRule({ rule: 'size(self.metadata.labels) > 0' }, schema, true).error ?? '', /undefined field 'labels'/);
});

test('CEL: identifiers starting with keywords and escaped property names', () => {
  assert.equal(evaluateCEL('self.nullable && !self.falsey', { self: { nullable: true, falsey: false } }), true);
  assert.equal(evaluateCEL("self.foo__dash__bar == 'x'", { self: { 'foo-bar': 'x' } }), true);
  assert.equal(evaluateCEL('self.a-1 == 0', { self: { a: 1 } }), true);
});

test('go durations parse', () => {
  assert.equal(parseGoDuration('1h30m'), 5_400_000_000_000n);
  assert.equal(parseGoDuration('-1.5s'), -1_500_000_000n);
  assert.equal(parseGoDuration('1x'), undefined);
});

const rulesSchema = new StructuralSchema({
  type: 'object',
  'x-kubernetes-validations': [{ rule: "self.metadata.name.startsWith('ok')", message: 'name must start with ok' }],
  properties: {
    spec: {
      type: 'object',
      'x-kubernetes-validations': [
        { rule: 'self.minReplicas <= self.maxReplicas' },
        { rule: 'self.maxReplicas <= 10', messageExpression: "'maxReplicas is ' + string(self.maxReplicas) + ', the limit is 10'" },
        { rule: "!has(self.mode) || self.mode != 'bad'", message: 'mode is bad', fieldPath: '.mode', reason: 'FieldValueForbidden' },
        { rule: 'self.minReplicas == oldSelf.minReplicas', message: 'minReplicas is immutable' },
        { rule: "!has(self.extra) || self.extra != 'x'", reason: 'FieldValueRequired', message: 'extra' },
        { rule: "!has(self.dup) || self.dup != 'x'", reason: 'FieldValueDuplicate' },
      ],
      properties: {
        minReplicas: { type: 'integer' },
        maxReplicas: { type: 'integer' },
        mode: { type: 'string', maxLength: 5 },
        extra: { type: 'string' },
        dup: { type: 'string' },
        name: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self.size() <= 3' }] },
        items: { type: 'array', items: { type: 'integer', 'x-kubernetes-validations': [{ rule: 'self > 0', message: 'must be positive' }] } },
        labels: { type: 'object', additionalProperties: { type: 'string', 'x-kubernetes-validations': [{ rule: "self != ''" }] } },
      },
    },
  },
});

const cr = (spec: Record<string, unknown>, name = 'ok-1') => ({ apiVersion: 'example.com/v1', kind: 'Foo', metadata: { name, labels: { x: 'y' } }, spec });

test('CEL rules: messages, messageExpression, reasons, fieldPath, nested nodes', () => {
  assert.deepEqual(rulesSchema.validate(cr({ minReplicas: 1, maxReplicas: 2 })), []);
  assert.deepEqual(rulesSchema.validate(cr({ minReplicas: 30, maxReplicas: 20, mode: 'bad', extra: 'x', dup: 'x', name: 'long', items: [1, -1], labels: { a: '' } }, 'nope')).map(fieldErrorMessage), [
    '<nil>: Invalid value: "object": name must start with ok',
    'spec: Invalid value: "object": failed rule: self.minReplicas <= self.maxReplicas',
    'spec: Invalid value: "object": maxReplicas is 20, the limit is 10',
    'spec.mode: Forbidden: mode is bad',
    'spec: Required value: extra',
    'spec: Duplicate value: "object"',
    'spec.name: Invalid value: "string": failed rule: self.size() <= 3',
    'spec.items[1]: Invalid value: "integer": must be positive',
    'spec.labels[a]: Invalid value: "string": failed rule: self != \'\'',
  ]);
});

test('CEL transition rules run only on update with an old value', () => {
  const old = cr({ minReplicas: 1, maxReplicas: 5 });
  const next = cr({ minReplicas: 2, maxReplicas: 5 });
  assert.deepEqual(rulesSchema.validate(next), []);
  assert.deepEqual(rulesSchema.validateUpdate(next, old).map(fieldErrorMessage), ['spec: Invalid value: "object": minReplicas is immutable']);
  assert.deepEqual(rulesSchema.validateUpdate(old, old), []);
  // no old spec: the transition rule is skipped
  assert.deepEqual(rulesSchema.validateUpdate(next, { ...old, spec: undefined }), []);
});

test('CEL rules are skipped when the object has blocking errors (type, required, enum, too long/many)', () => {
  assert.deepEqual(rulesSchema.validate(cr({ minReplicas: 5, maxReplicas: 1, mode: 'toolong' })).map(fieldErrorMessage), [
    'spec.mode: Too long: may not be longer than 5',
    '<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
  ]);
  assert.deepEqual(rulesSchema.validate(cr({ minReplicas: 'x', maxReplicas: 1 })).map(fieldErrorMessage), [
    'spec.minReplicas: Invalid value: "string": spec.minReplicas in body must be of type integer: "string"',
    '<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
  ]);
});

test('CEL evaluation errors are reported with the rule', () => {
  const s = new StructuralSchema({
    type: 'object',
    properties: { spec: { type: 'object', 'x-kubernetes-validations': [{ rule: 'self.a > 0' }], properties: { a: { type: 'integer' } } } },
  });
  assert.deepEqual(s.validate({ spec: {} }).map(fieldErrorMessage), ['spec: Invalid value: "object": no such key: a evaluating rule: self.a > 0']);
});

test('CEL optionalOldSelf rules run on create with oldSelf = optional.none()', () => {
  const s = new StructuralSchema({
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        'x-kubernetes-validations': [
          { rule: '!oldSelf.hasValue() || self.v >= oldSelf.value().v', optionalOldSelf: true, message: 'v may not decrease' },
          { rule: 'oldSelf.hasValue() || self.v < 10', optionalOldSelf: true, message: 'new objects start below 10' },
        ],
        properties: { v: { type: 'integer' } },
      },
    },
  });
  assert.deepEqual(s.validate({ spec: { v: 5 } }).map(fieldErrorMessage), []);
  assert.deepEqual(s.validate({ spec: { v: 50 } }).map(fieldErrorMessage), ['spec: Invalid value: "object": new objects start below 10']);
  assert.deepEqual(s.validateUpdate({ spec: { v: 50 } }, { spec: { v: 5 } }).map(fieldErrorMessage), []);
  assert.deepEqual(s.validateUpdate({ spec: { v: 4 } }, { spec: { v: 5 } }).map(fieldErrorMessage), ['spec: Invalid value: "object": v may not decrease']);
  assert.equal(evaluateCEL('optional.none().orValue(3) == 3 && optional.of(1).value() == 1'), true);
});
