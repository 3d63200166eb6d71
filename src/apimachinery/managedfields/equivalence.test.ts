/**
 * Tests of the fast paths of the managed-fields code: sets that share sub-trees (copy on write),
 * the orders FieldsV1 levels are written in, the direct build of a create's FieldsV1, and that
 * nothing changes the objects it is given.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { builtinSchemas } from '../../api/schemas.js';
import { applyConfiguration, recordUpdate } from './apply.js';
import { FieldSet, compareStrings, pathOf, pe } from './fieldset.js';

const schemas = builtinSchemas();
const T1 = '2024-05-01T10:00:00Z';
const T2 = '2024-05-01T11:00:00Z';
const T3 = '2024-05-01T12:00:00Z';
const POD = { schemaName: 'io.k8s.api.core.v1.Pod', schemas, apiVersion: 'v1' };

type Obj = Record<string, any>;

const pod = (): Obj => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'p', namespace: 'ns', uid: 'u1', creationTimestamp: T1, labels: { app: 'web', 'é😀': 'x', '\ue000': 'y' }, finalizers: ['b', 'a'] },
  spec: {
    containers: [
      { name: 'app', image: 'x', ports: [{ containerPort: 8080, protocol: 'TCP' }, { containerPort: 53, protocol: 'UDP' }], env: [{ name: 'A', value: '1' }], resources: {} },
      { name: 'side', image: 'y', command: ['a'], securityContext: null },
    ],
    volumes: [{ name: 'v', emptyDir: {} }], tolerations: [{ key: 'k' }], nodeSelector: { a: 'b' }, restartPolicy: 'Always',
  },
  status: { phase: 'Pending' },
});

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

describe('FieldSet sharing and ordering', () => {
  it('results of operations and their inputs stay independent when either is changed', () => {
    const a = FieldSet.of(pathOf('spec', 'replicas'), pathOf('spec', 'template', 'spec', 'x'), pathOf('metadata', 'labels', 'app'));
    const b = FieldSet.of(pathOf('spec', 'paused'), pathOf('status', 'phase'));
    const before = [JSON.stringify(a.toFieldsV1()), JSON.stringify(b.toFieldsV1())];
    const u = a.union(b);
    const d = a.difference(b);
    const r = a.recursiveDifference(FieldSet.of(pathOf('metadata')));
    const c = a.clone();
    for (const s of [u, d, r, c]) {
      s.insert(pathOf('spec', 'template', 'spec', 'y'));
      s.insert(pathOf('status', 'phase', 'deep'));
    }
    assert.deepEqual([JSON.stringify(a.toFieldsV1()), JSON.stringify(b.toFieldsV1())], before);
    a.insert(pathOf('spec', 'template', 'spec', 'z'));
    b.insert(pathOf('status', 'reason'));
    assert.ok(!u.has(pathOf('spec', 'template', 'spec', 'z')) && !u.has(pathOf('status', 'reason')));
    assert.ok(!c.has(pathOf('spec', 'template', 'spec', 'z')));
    assert.ok(u.has(pathOf('spec', 'template', 'spec', 'y')) && c.has(pathOf('spec', 'template', 'spec', 'x')));
    assert.ok(!a.has(pathOf('spec', 'template', 'spec', 'y')));
  });

  it('sorts field names by code point, also on large levels', () => {
    const names = ['b', 'a', '\ue000', '😀', 'é', 'Z', '\uffff'];
    const s = FieldSet.of(...names.map((n) => pathOf('m', n)));
    assert.deepEqual(Object.keys((s.toFieldsV1() as Obj)['f:m']), ['f:Z', 'f:a', 'f:b', 'f:é', 'f:\ue000', 'f:\uffff', 'f:😀']);
    const many = Array.from({ length: 100 }, (_, i) => `k${(i * 37) % 100}${i % 3 ? '' : '😀'}`);
    const big = FieldSet.of(...many.map((n) => pathOf('m', n)));
    assert.deepEqual(Object.keys((big.toFieldsV1() as Obj)['f:m']), [...many].sort(compareStrings).map((n) => `f:${n}`));
    const items = FieldSet.of(...Array.from({ length: 50 }, (_, i) => [pe.field('l'), pe.key({ port: (i * 7) % 50 })]));
    assert.deepEqual(Object.keys((items.toFieldsV1() as Obj)['f:l']), Array.from({ length: 50 }, (_, i) => `k:{"port":${i}}`));
  });

  it('round-trips FieldsV1 with several kinds of elements on one level', () => {
    const fields = { 'f:a': {}, 'i:2': {}, 'k:{"b":1}': { '.': {}, 'f:x': {} }, 'v:"z"': {}, 'v:3': {}, 'i:10': {}, 'f:B': {} };
    assert.deepEqual(Object.keys(FieldSet.fromFieldsV1(fields).toFieldsV1()), ['f:B', 'f:a', 'k:{"b":1}', 'v:3', 'v:"z"', 'i:2', 'i:10']);
  });
});

describe('recordUpdate: the create fast path and its inputs', () => {
  it('a create records what the general compare of {} with the object records', () => {
    for (const extra of [{}, { ignoredPaths: [['status']] }, { ignoredPaths: [['spec'], ['metadata']], subresource: 'status' }, { ignoredPaths: [['spec', 'containers']] }]) {
      const opts = { ...POD, manager: 'm', now: T1, ...extra };
      // An old object without a uid is a create too, but takes the general path.
      assert.deepEqual(recordUpdate(undefined, pod(), opts), recordUpdate({}, pod(), opts), JSON.stringify(extra));
    }
    assert.deepEqual(recordUpdate(undefined, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } }, { ...POD, manager: 'm' }), []);
  });

  it('does not change the objects it is given', () => {
    const next = deepFreeze(pod());
    const created = recordUpdate(undefined, next, { ...POD, manager: 'm', now: T1 });
    const base = pod();
    const live: Obj = deepFreeze({ ...base, metadata: { ...base.metadata, managedFields: created } });
    const edited: Obj = deepFreeze({ ...live, spec: { ...live.spec, restartPolicy: 'Never' } });
    assert.equal(recordUpdate(live, edited, { ...POD, manager: 'other', now: T2 }).length, 2);
    const config = deepFreeze({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { app: 'web2' } }, spec: { containers: [{ name: 'app', image: 'z' }] } });
    const r = applyConfiguration(live, config, { ...POD, manager: 'kubectl', kind: 'Pod', force: true, now: T3 });
    assert.equal(r.obj.metadata.labels.app, 'web2');
    assert.equal(live.metadata.labels.app, 'web');
    const again = applyConfiguration(r.obj, config, { ...POD, manager: 'kubectl', kind: 'Pod', force: false, now: T3 });
    assert.equal(again.changed, false);
    assert.notEqual(again.obj, r.obj);
    assert.deepEqual(again.obj, r.obj);
  });
});
