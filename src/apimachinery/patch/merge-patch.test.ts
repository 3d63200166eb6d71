import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyMergePatch, createMergePatch, BAD_MERGE_PATCH_MESSAGE } from './merge-patch.js';
import { StatusError } from '../errors.js';

interface Case { name: string; doc: unknown; patch: unknown; want: unknown }

// The behaviours RFC 7386 specifies (its Appendix A examples among them), with our own data.
const cases: Case[] = [
  { name: 'a changed member is replaced', doc: { spec: { replicas: 1 } }, patch: { spec: { replicas: 2 } }, want: { spec: { replicas: 2 } } },
  { name: 'a new member is added', doc: { a: 'x' }, patch: { b: 'y' }, want: { a: 'x', b: 'y' } },
  { name: 'null removes a member', doc: { a: 'x', b: 'y' }, patch: { a: null }, want: { b: 'y' } },
  { name: 'null on a missing member is a no-op', doc: { a: 1 }, patch: { z: null }, want: { a: 1 } },
  { name: 'an array is replaced by a scalar', doc: { a: ['x'] }, patch: { a: 'y' }, want: { a: 'y' } },
  { name: 'a scalar is replaced by an array', doc: { a: 'y' }, patch: { a: ['x'] }, want: { a: ['x'] } },
  { name: 'objects merge recursively, nested null removes', doc: { m: { labels: { a: '1', b: '2' }, name: 'n' } }, patch: { m: { labels: { b: null, c: '3' } } }, want: { m: { labels: { a: '1', c: '3' }, name: 'n' } } },
  { name: 'arrays are replaced as a whole, never merged', doc: { l: [{ name: 'a', image: 'x' }] }, patch: { l: [{ name: 'a' }] }, want: { l: [{ name: 'a' }] } },
  { name: 'nulls inside arrays are kept', doc: {}, patch: { l: [1, null] }, want: { l: [1, null] } },
  { name: 'null members already in the target are kept', doc: { e: null }, patch: { a: 1 }, want: { e: null, a: 1 } },
  { name: 'a non-object target is replaced by an object', doc: { a: [1, 2] }, patch: { a: { b: 'c', d: null } }, want: { a: { b: 'c' } } },
  { name: 'nulls in a new nested object are dropped', doc: {}, patch: { a: { bb: { ccc: null } } }, want: { a: { bb: {} } } },
  { name: 'an object replaces a scalar', doc: { a: 'x' }, patch: { a: { b: 1 } }, want: { a: { b: 1 } } },
  { name: 'a top-level non-object document is replaced', doc: [1, 2], patch: { a: 'b', c: null }, want: { a: 'b' } },
  { name: 'an empty patch changes nothing', doc: { a: { b: 1 } }, patch: {}, want: { a: { b: 1 } } },
  { name: 'a top-level array patch replaces the document', doc: { a: 'b' }, patch: ['c'], want: ['c'] },
  { name: 'top-level array replaces an array', doc: ['a', 'b'], patch: ['c', 'd'], want: ['c', 'd'] },
  { name: 'member order: existing first, new appended', doc: { b: 1, a: 2 }, patch: { c: 3, b: 4 }, want: { b: 4, a: 2, c: 3 } },
  { name: '__proto__ is an ordinary member name', doc: {}, patch: JSON.parse('{"__proto__":{"x":1}}'), want: JSON.parse('{"__proto__":{"x":1}}') },
];

describe('applyMergePatch', () => {
  for (const c of cases) {
    it(c.name, () => {
      const docBefore = structuredClone(c.doc);
      const patchBefore = structuredClone(c.patch);
      const got = applyMergePatch(c.doc, c.patch);
      assert.deepStrictEqual(got, c.want);
      assert.deepStrictEqual(Object.keys(got as object), Object.keys(c.want as object));
      assert.deepStrictEqual(c.doc, docBefore, 'document must not be mutated');
      assert.deepStrictEqual(c.patch, patchBefore, 'patch must not be mutated');
    });
  }

  for (const [name, patch] of [['null', null], ['a string', 'bar'], ['a number', 1], ['a boolean', true]] as const) {
    it(`rejects a top-level ${name} patch with 400 like Kubernetes`, () => {
      assert.throws(() => applyMergePatch({ a: 'foo' }, patch), (e: unknown) => {
        assert.ok(e instanceof StatusError);
        assert.equal(e.code, 400);
        assert.equal(e.reason, 'BadRequest');
        assert.equal(e.message, BAD_MERGE_PATCH_MESSAGE);
        return true;
      });
    });
  }

  it('does not pollute Object.prototype', () => {
    applyMergePatch({}, JSON.parse('{"__proto__":{"polluted":1}}'));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('the result shares no structure with the patch', () => {
    const patch = { a: { l: [1] } };
    const got = applyMergePatch({}, patch) as { a: { l: number[] } };
    got.a.l.push(2);
    assert.deepStrictEqual(patch, { a: { l: [1] } });
  });
});

describe('createMergePatch', () => {
  const diffCases: { name: string; original: unknown; modified: unknown; want: unknown }[] = [
    { name: 'identical documents give an empty patch', original: { a: { b: [1] } }, modified: { a: { b: [1] } }, want: {} },
    { name: 'changed, added and removed members', original: { a: 1, b: 2, c: 3 }, modified: { a: 1, b: 5, d: 4 }, want: { b: 5, d: 4, c: null } },
    { name: 'nested objects are diffed', original: { m: { labels: { x: '1', y: '2' } } }, modified: { m: { labels: { x: '1', z: '3' } } }, want: { m: { labels: { z: '3', y: null } } } },
    { name: 'changed arrays are sent whole', original: { l: [1, 2] }, modified: { l: [1, 2, 3] }, want: { l: [1, 2, 3] } },
    { name: 'type changes are sent whole', original: { a: { b: 1 } }, modified: { a: 'x' }, want: { a: 'x' } },
    { name: 'a non-object side gives the modified document', original: [1], modified: { a: 1 }, want: { a: 1 } },
  ];
  for (const c of diffCases) {
    it(c.name, () => {
      const got = createMergePatch(c.original, c.modified);
      assert.deepStrictEqual(got, c.want);
      assert.deepStrictEqual(applyMergePatch(c.original, got), c.modified, 'applying the patch yields the modified document');
    });
  }
});
