import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyJsonPatch, JSON_PATCH_APPLY_FAILED_MESSAGE, MAX_JSON_PATCH_OPERATIONS } from './json-patch.js';
import { StatusError } from '../errors.js';

interface OkCase { name: string; doc: unknown; patch: unknown; want: unknown }
interface FailCase { name: string; doc: unknown; patch: unknown; code: number; reason: string; message?: string | RegExp; detail?: RegExp }

// Behaviours of RFC 6902 (including those illustrated by its Appendix A), with our own data.
const okCases: OkCase[] = [
  { name: 'add an object member', doc: { kind: 'Pod' }, patch: [{ op: 'add', path: '/apiVersion', value: 'v1' }], want: { kind: 'Pod', apiVersion: 'v1' } },
  { name: 'add replaces an existing member', doc: { a: 1 }, patch: [{ op: 'add', path: '/a', value: 2 }], want: { a: 2 } },
  { name: 'add inserts into an array at an index', doc: { l: ['x', 'z'] }, patch: [{ op: 'add', path: '/l/1', value: 'y' }], want: { l: ['x', 'y', 'z'] } },
  { name: 'add at index == length appends', doc: { l: [1] }, patch: [{ op: 'add', path: '/l/1', value: 2 }], want: { l: [1, 2] } },
  { name: 'add with "-" appends', doc: { l: [1, 2] }, patch: [{ op: 'add', path: '/l/-', value: 3 }], want: { l: [1, 2, 3] } },
  { name: 'add a nested object member', doc: { metadata: { name: 'a' } }, patch: [{ op: 'add', path: '/metadata/labels', value: { app: 'web' } }], want: { metadata: { name: 'a', labels: { app: 'web' } } } },
  { name: 'add an array value as a whole', doc: { spec: {} }, patch: [{ op: 'add', path: '/spec/args', value: ['-v', ['nested']] }], want: { spec: { args: ['-v', ['nested']] } } },
  { name: 'add with path "" replaces the document', doc: { a: 1 }, patch: [{ op: 'add', path: '', value: { b: 2 } }], want: { b: 2 } },
  { name: 'remove an object member', doc: { a: 1, b: 2 }, patch: [{ op: 'remove', path: '/a' }], want: { b: 2 } },
  { name: 'remove an array element shifts the rest', doc: { l: ['a', 'b', 'c'] }, patch: [{ op: 'remove', path: '/l/1' }], want: { l: ['a', 'c'] } },
  { name: 'replace a value', doc: { spec: { replicas: 1 } }, patch: [{ op: 'replace', path: '/spec/replicas', value: 3 }], want: { spec: { replicas: 3 } } },
  { name: 'replace an array element', doc: { l: [1, 2, 3] }, patch: [{ op: 'replace', path: '/l/0', value: 9 }], want: { l: [9, 2, 3] } },
  { name: 'replace the whole document', doc: { a: 1 }, patch: [{ op: 'replace', path: '', value: { z: 0 } }], want: { z: 0 } },
  { name: 'move a member to another object', doc: { a: { x: 1 }, b: {} }, patch: [{ op: 'move', from: '/a/x', path: '/b/y' }], want: { a: {}, b: { y: 1 } } },
  { name: 'move an array element', doc: { l: ['a', 'b', 'c', 'd'] }, patch: [{ op: 'move', from: '/l/1', path: '/l/3' }], want: { l: ['a', 'c', 'd', 'b'] } },
  { name: 'move to the same location is a no-op', doc: { a: 1 }, patch: [{ op: 'move', from: '/a', path: '/a' }], want: { a: 1 } },
  { name: 'copy a value (deep)', doc: { a: { n: [1] } }, patch: [{ op: 'copy', from: '/a', path: '/b' }, { op: 'add', path: '/b/n/-', value: 2 }], want: { a: { n: [1] }, b: { n: [1, 2] } } },
  { name: 'test success lets later ops run', doc: { s: 'x', n: [1, { k: true }] }, patch: [{ op: 'test', path: '/s', value: 'x' }, { op: 'test', path: '/n', value: [1, { k: true }] }, { op: 'add', path: '/ok', value: 1 }], want: { s: 'x', n: [1, { k: true }], ok: 1 } },
  { name: 'test compares objects regardless of key order', doc: { o: { a: 1, b: 2 } }, patch: [{ op: 'test', path: '/o', value: { b: 2, a: 1 } }], want: { o: { a: 1, b: 2 } } },
  { name: 'test on the whole document', doc: { a: 1 }, patch: [{ op: 'test', path: '', value: { a: 1 } }], want: { a: 1 } },
  { name: 'unrecognized members of an operation are ignored', doc: { a: 1 }, patch: [{ op: 'add', path: '/b', value: 2, extra: { x: 1 }, from: '/ignored' }], want: { a: 1, b: 2 } },
  { name: '~1 decodes to "/" (annotation keys)', doc: { metadata: { annotations: {} } }, patch: [{ op: 'add', path: '/metadata/annotations/example.com~1owner', value: 'me' }], want: { metadata: { annotations: { 'example.com/owner': 'me' } } } },
  { name: '~0 decodes to "~" and ~01 is "~1"', doc: { 'a~b': 1, '~1': 2 }, patch: [{ op: 'test', path: '/a~0b', value: 1 }, { op: 'remove', path: '/~01' }], want: { 'a~b': 1 } },
  { name: 'empty-string member names', doc: { '': { '': 1 } }, patch: [{ op: 'replace', path: '//', value: 2 }], want: { '': { '': 2 } } },
  { name: 'ops apply in sequence', doc: {}, patch: [{ op: 'add', path: '/l', value: [] }, { op: 'add', path: '/l/-', value: 'a' }, { op: 'add', path: '/l/0', value: 'b' }, { op: 'remove', path: '/l/1' }], want: { l: ['b'] } },
  { name: 'empty patch', doc: { a: 1 }, patch: [], want: { a: 1 } },
  // Upstream (evanphx/json-patch v4) leniencies we keep for compatibility with Kubernetes.
  { name: 'replace of a missing member creates it (upstream)', doc: { metadata: {} }, patch: [{ op: 'replace', path: '/metadata/labels', value: { a: 'b' } }], want: { metadata: { labels: { a: 'b' } } } },
  { name: 'test of a missing member against null passes (upstream)', doc: { a: 1 }, patch: [{ op: 'test', path: '/missing', value: null }], want: { a: 1 } },
  { name: 'negative index counts from the end (upstream)', doc: { l: [1, 2, 3] }, patch: [{ op: 'remove', path: '/l/-1' }, { op: 'replace', path: '/l/-2', value: 0 }], want: { l: [0, 2] } },
  { name: 'add at -1 appends (upstream)', doc: { l: [1] }, patch: [{ op: 'add', path: '/l/-1', value: 2 }], want: { l: [1, 2] } },
  { name: 'add without value adds null (upstream)', doc: {}, patch: [{ op: 'add', path: '/a' }], want: { a: null } },
  { name: '__proto__ is an ordinary member name', doc: {}, patch: [{ op: 'add', path: '/__proto__', value: { polluted: true } }], want: JSON.parse('{"__proto__":{"polluted":true}}') },
];

const invalid = { code: 422, reason: 'Invalid', message: JSON_PATCH_APPLY_FAILED_MESSAGE };

const failCases: FailCase[] = [
  { name: 'patch is not an array', doc: {}, patch: { op: 'add' }, code: 400, reason: 'BadRequest', message: /cannot unmarshal object into Go value of type jsonpatch.Patch/ },
  { name: 'operation is not an object', doc: {}, patch: ['add'], code: 400, reason: 'BadRequest', message: /cannot unmarshal string into Go value of type jsonpatch.Operation/ },
  { name: 'test failure', doc: { a: 'x' }, patch: [{ op: 'test', path: '/a', value: 'y' }], ...invalid, detail: /testing value \/a failed/ },
  { name: 'test: a string is not a number', doc: { n: 10 }, patch: [{ op: 'test', path: '/n', value: '10' }], ...invalid, detail: /test failed/ },
  { name: 'test: a missing member is not a non-null value', doc: {}, patch: [{ op: 'test', path: '/a', value: 1 }], ...invalid, detail: /test failed/ },
  { name: 'add to a nonexistent parent', doc: { a: {} }, patch: [{ op: 'add', path: '/b/c', value: 1 }], ...invalid, detail: /missing path/ },
  { name: 'add through a primitive', doc: { a: 1 }, patch: [{ op: 'add', path: '/a/b', value: 1 }], ...invalid, detail: /missing path/ },
  { name: 'add beyond the end of an array', doc: { l: [1] }, patch: [{ op: 'add', path: '/l/5', value: 1 }], ...invalid, detail: /invalid index/ },
  { name: 'add with a non-numeric array index', doc: { l: [1] }, patch: [{ op: 'add', path: '/l/x', value: 1 }], ...invalid, detail: /not a proper array index/ },
  { name: 'remove a missing member', doc: { a: 1 }, patch: [{ op: 'remove', path: '/b' }], ...invalid, detail: /nonexistent key: b/ },
  { name: 'remove an index out of range', doc: { l: [] }, patch: [{ op: 'remove', path: '/l/0' }], ...invalid, detail: /invalid index/ },
  { name: 'remove "-"', doc: { l: [1] }, patch: [{ op: 'remove', path: '/l/-' }], ...invalid, detail: /not a proper array index/ },
  { name: 'replace an index out of range', doc: { l: [1] }, patch: [{ op: 'replace', path: '/l/1', value: 2 }], ...invalid, detail: /invalid index/ },
  { name: 'move from a missing location', doc: {}, patch: [{ op: 'move', from: '/a', path: '/b' }], ...invalid, detail: /missing from path/ },
  { name: 'move into its own child', doc: { a: { b: {} } }, patch: [{ op: 'move', from: '/a', path: '/a/b/c' }], ...invalid, detail: /own child/ },
  { name: 'copy from a missing location', doc: {}, patch: [{ op: 'copy', from: '/a', path: '/b' }], ...invalid, detail: /missing from path/ },
  { name: 'unknown op', doc: {}, patch: [{ op: 'merge', path: '/a' }], ...invalid, detail: /Unexpected kind: merge/ },
  { name: 'missing op', doc: {}, patch: [{ path: '/a' }], ...invalid, detail: /Unexpected kind: unknown/ },
  { name: 'missing path', doc: {}, patch: [{ op: 'add', value: 1 }], ...invalid, detail: /missing path field/ },
  { name: 'missing from', doc: { a: 1 }, patch: [{ op: 'copy', path: '/b' }], ...invalid, detail: /missing from field/ },
  { name: 'pointer without leading slash', doc: { a: 1 }, patch: [{ op: 'remove', path: 'a' }], ...invalid, detail: /invalid JSON pointer/ },
  { name: 'remove the whole document', doc: { a: 1 }, patch: [{ op: 'remove', path: '' }], ...invalid, detail: /whole document/ },
  { name: 'a failure undoes earlier ops (no partial result)', doc: { a: 1 }, patch: [{ op: 'add', path: '/b', value: 2 }, { op: 'test', path: '/a', value: 2 }], ...invalid },
];

describe('applyJsonPatch', () => {
  for (const c of okCases) {
    it(c.name, () => {
      const before = structuredClone(c.doc);
      const got = applyJsonPatch(c.doc, c.patch);
      assert.deepStrictEqual(got, c.want);
      assert.deepStrictEqual(c.doc, before, 'input document must not be mutated');
    });
  }

  for (const c of failCases) {
    it(`fails: ${c.name}`, () => {
      const before = structuredClone(c.doc);
      assert.throws(() => applyJsonPatch(c.doc, c.patch), (e: unknown) => {
        assert.ok(e instanceof StatusError, `expected a StatusError, got ${String(e)}`);
        assert.equal(e.code, c.code);
        assert.equal(e.reason, c.reason);
        if (typeof c.message === 'string') assert.equal(e.message, c.message);
        else if (c.message) assert.match(e.message, c.message);
        if (c.detail) assert.match(String((e.cause as Error).message), c.detail);
        return true;
      });
      assert.deepStrictEqual(c.doc, before, 'input document must not be mutated');
    });
  }

  it('the 422 Status body matches Kubernetes', () => {
    try {
      applyJsonPatch({}, [{ op: 'test', path: '/a', value: 1 }]);
      assert.fail('expected an error');
    } catch (e) {
      assert.ok(e instanceof StatusError);
      assert.deepStrictEqual(e.toStatus(), {
        kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
        message: 'the server rejected our request due to an error in our request', reason: 'Invalid', details: {}, code: 422,
      });
    }
  });

  it('rejects more than the maximum number of operations with 413', () => {
    const ops = Array.from({ length: MAX_JSON_PATCH_OPERATIONS + 1 }, () => ({ op: 'test', path: '', value: {} }));
    assert.throws(() => applyJsonPatch({}, ops), (e: unknown) => {
      assert.ok(e instanceof StatusError);
      assert.equal(e.code, 413);
      assert.equal(e.reason, 'RequestEntityTooLarge');
      assert.equal(e.message, 'Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001');
      return true;
    });
    assert.deepStrictEqual(applyJsonPatch({}, ops.slice(1)), {});
  });

  it('does not share structure between the result and the patch values', () => {
    const value = { nested: [1] };
    const got = applyJsonPatch({}, [{ op: 'add', path: '/v', value }]) as { v: { nested: number[] } };
    got.v.nested.push(2);
    assert.deepStrictEqual(value, { nested: [1] });
  });

  it('does not pollute Object.prototype', () => {
    assert.throws(() => applyJsonPatch({}, [{ op: 'add', path: '/__proto__/polluted', value: 1 }]), StatusError);
    const got = applyJsonPatch(JSON.parse('{"__proto__":{}}'), [{ op: 'add', path: '/__proto__/polluted', value: 1 }]);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.deepStrictEqual(got, JSON.parse('{"__proto__":{"polluted":1}}'));
  });
});
