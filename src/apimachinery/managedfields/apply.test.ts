import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { builtinSchemas } from '../../api/schemas.js';
import { StatusError } from '../errors.js';
import type { ApplyOptions, ManagedFieldsEntry } from './apply.js';
import {
  LAST_APPLIED_ANNOTATION, applyConfiguration, defaultManagerName, recordUpdate, setManagedFields, validateFieldManager,
} from './apply.js';
import { FieldSet, pathToString } from './fieldset.js';

const schemas = builtinSchemas();
const T1 = '2024-05-01T10:00:00Z';
const T2 = '2024-05-01T11:00:00Z';
const T3 = '2024-05-01T12:00:00Z';
const D = { schemaName: 'io.k8s.api.apps.v1.Deployment', schemas, apiVersion: 'apps/v1' };

type Obj = Record<string, any>;

function deployment(opts: { replicas?: number; image?: string; labels?: Record<string, string>; extra?: Obj; container?: Obj; podSpec?: Obj; metadata?: Obj } = {}): Obj {
  const spec: Obj = {
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: opts.image ?? 'nginx:1.25', ...opts.container }], ...opts.podSpec } },
    ...opts.extra,
  };
  if (opts.replicas !== undefined) spec.replicas = opts.replicas;
  const metadata: Obj = { name: 'web', ...opts.metadata };
  if (opts.labels) metadata.labels = opts.labels;
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata, spec };
}

const apply = (live: Obj | undefined, config: Obj, manager: string, extra: Partial<ApplyOptions> = {}) =>
  applyConfiguration(live, config, { ...D, kind: 'Deployment', manager, force: false, now: T1, ...extra });

/** What the registry does after a write: the object gets a uid (it exists now). */
const stored = (obj: Obj): Obj => ({ ...obj, metadata: { uid: '6f1c', ...obj.metadata } });

const entry = (obj: Obj, manager: string, operation?: string): ManagedFieldsEntry | undefined =>
  (obj.metadata.managedFields as ManagedFieldsEntry[] | undefined)?.find((e) => e.manager === manager && (!operation || e.operation === operation));
const owned = (obj: Obj, manager: string, operation?: string): string[] => {
  const e = entry(obj, manager, operation);
  return e ? FieldSet.fromFieldsV1(e.fieldsV1).paths().map(pathToString) : [];
};

function conflict(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof StatusError, String(e));
    return e;
  }
  assert.fail('expected a conflict');
}

const IMAGE = '.spec.template.spec.containers[name="nginx"].image';

describe('applyConfiguration', () => {
  it('creates: the applier gets an Apply entry with the fields of its configuration', () => {
    const config = deployment({ replicas: 2, labels: { app: 'web' }, container: { ports: [{ containerPort: 80 }] } });
    const r = apply(undefined, config, 'kubectl');
    assert.equal(r.changed, true);
    assert.deepEqual(r.managedFields, [{
      manager: 'kubectl', operation: 'Apply', apiVersion: 'apps/v1', time: T1, fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:metadata': { 'f:labels': { 'f:app': {} } },
        'f:spec': {
          'f:replicas': {}, 'f:selector': {},
          'f:template': {
            'f:metadata': { 'f:labels': { 'f:app': {} } },
            'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {}, 'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } } } } },
          },
        },
      },
    }]);
    assert.equal(r.obj.metadata.managedFields, r.managedFields);
    const { managedFields: _, ...meta } = r.obj.metadata;
    assert.deepEqual({ ...r.obj, metadata: meta }, config);
  });

  it('re-applying without a field removes it (when nobody else owns it)', () => {
    const first = stored(apply(undefined, deployment({ replicas: 2, labels: { app: 'web', tier: 'fe' } }), 'kubectl').obj);
    const r = apply(first, deployment({ labels: { app: 'web' } }), 'kubectl', { now: T2 });
    assert.equal(r.obj.spec.replicas, undefined);
    assert.deepEqual(r.obj.metadata.labels, { app: 'web' });
    assert.ok(!owned(r.obj, 'kubectl').includes('.spec.replicas'));
    assert.ok(!owned(r.obj, 'kubectl').includes('.metadata.labels.tier'));
    assert.equal(entry(r.obj, 'kubectl')!.time, T2);
    // dropping every label removes the labels map
    const r2 = apply(stored(r.obj), deployment(), 'kubectl', { now: T3 });
    assert.equal(r2.obj.metadata.labels, undefined);
  });

  it('an unchanged re-apply changes nothing, not even the time', () => {
    const first = stored(apply(undefined, deployment({ replicas: 2 }), 'kubectl').obj);
    const r = apply(first, deployment({ replicas: 2 }), 'kubectl', { now: T2 });
    assert.equal(r.changed, false);
    assert.deepEqual(r.managedFields, first.metadata.managedFields);
    assert.equal(r.obj.metadata.uid, '6f1c');
  });

  it('two managers applying different fields coexist', () => {
    const a = stored(apply(undefined, deployment({ replicas: 2 }), 'a').obj);
    const b = stored(apply(a, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', labels: { team: 'x' } }, spec: { paused: true } }, 'b', { now: T2 }).obj);
    assert.equal(b.spec.replicas, 2);
    assert.equal(b.spec.paused, true);
    assert.deepEqual(owned(b, 'b'), ['.metadata.labels.team', '.spec.paused']);
    assert.ok(owned(b, 'a').includes('.spec.replicas'));
    // a re-applies its configuration: b's fields stay
    const again = apply(b, deployment({ replicas: 2 }), 'a', { now: T3 });
    assert.equal(again.obj.spec.paused, true);
    assert.deepEqual(again.obj.metadata.labels, { team: 'x' });
    assert.deepEqual(again.managedFields.map((e) => e.manager), ['a', 'b']);
  });

  it('changing a field another manager owns is a 409 with upstream\'s message', () => {
    const a = stored(apply(undefined, deployment({ replicas: 2 }), 'a').obj);
    const e = conflict(() => apply(a, deployment({ replicas: 5 }), 'b'));
    assert.equal(e.code, 409);
    assert.equal(e.reason, 'Conflict');
    assert.equal(e.message, 'Apply failed with 1 conflict: conflict with "a": .spec.replicas');
    assert.deepEqual(e.details, { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "a"', field: '.spec.replicas' }] });
  });

  it('applying the same value is no conflict: the ownership is shared', () => {
    const a = stored(apply(undefined, deployment({ replicas: 2 }), 'a').obj);
    const b = stored(apply(a, deployment({ replicas: 2 }), 'b', { now: T2 }).obj);
    assert.ok(owned(b, 'a').includes('.spec.replicas'));
    assert.ok(owned(b, 'b').includes('.spec.replicas'));
    // a stops applying replicas: the value stays, b still owns it
    const r = apply(b, deployment({}), 'a', { now: T3 });
    assert.equal(r.obj.spec.replicas, 2);
    assert.ok(!owned(r.obj, 'a').includes('.spec.replicas'));
    assert.ok(owned(r.obj, 'b').includes('.spec.replicas'));
  });

  it('force takes the value and the ownership', () => {
    const a = stored(apply(undefined, deployment({ replicas: 2 }), 'a').obj);
    const r = apply(a, deployment({ replicas: 5 }), 'b', { force: true, now: T2 });
    assert.equal(r.obj.spec.replicas, 5);
    assert.ok(owned(r.obj, 'b').includes('.spec.replicas'));
    assert.ok(!owned(r.obj, 'a').includes('.spec.replicas'));
    assert.ok(owned(r.obj, 'a').includes(IMAGE), 'the rest stays with a');
  });

  it('lists several conflicts by manager (sorted), each with its paths', () => {
    const a = stored(apply(undefined, deployment({ replicas: 2, image: 'nginx:1' }), 'a').obj);
    // kubectl edit changes replicas and image (a PUT tracked as an Update)
    const edited = deployment({ replicas: 5, image: 'nginx:2' });
    edited.metadata = { ...a.metadata };
    setManagedFields(edited, recordUpdate(a, edited, { ...D, manager: 'kubectl-edit', now: T2 }));
    const e = conflict(() => apply(edited, deployment({ replicas: 2, image: 'nginx:1' }), 'a', { now: T3 }));
    assert.equal(e.message, `Apply failed with 2 conflicts: conflicts with "kubectl-edit" using apps/v1:\n- .spec.replicas\n- ${IMAGE}`);
    assert.deepEqual(e.details?.causes, [
      { reason: 'FieldManagerConflict', message: 'conflict with "kubectl-edit" using apps/v1', field: '.spec.replicas' },
      { reason: 'FieldManagerConflict', message: 'conflict with "kubectl-edit" using apps/v1', field: IMAGE },
    ]);
    // when an edit took only replicas, a manager changing both conflicts with both owners
    const scaled = deployment({ replicas: 5, image: 'nginx:1' });
    scaled.metadata = { ...a.metadata };
    setManagedFields(scaled, recordUpdate(a, scaled, { ...D, manager: 'kubectl-edit', now: T2 }));
    const e2 = conflict(() => apply(stored(scaled), deployment({ replicas: 7, image: 'nginx:3' }), 'c', { now: T3 }));
    assert.equal(e2.message, `Apply failed with 2 conflicts: conflicts with "a":\n- ${IMAGE}\nconflicts with "kubectl-edit" using apps/v1:\n- .spec.replicas`);
  });

  it('an Update after an apply (kubectl edit) moves the changed fields to the updater', () => {
    const a = stored(apply(undefined, deployment({ replicas: 2, labels: { app: 'web' } }), 'kubectl').obj);
    const edited = structuredClone(a); // kubectl edit sends managedFields back unchanged
    edited.spec.replicas = 4;
    edited.metadata.labels.env = 'prod';
    const entries = recordUpdate(a, edited, { ...D, manager: 'kubectl-edit', now: T2 });
    assert.deepEqual(entries.map((x) => [x.manager, x.operation, x.time]), [['kubectl', 'Apply', T1], ['kubectl-edit', 'Update', T2]]);
    assert.deepEqual(FieldSet.fromFieldsV1(entries[1].fieldsV1).paths().map(pathToString), ['.metadata.labels.env', '.spec.replicas']);
    assert.ok(!FieldSet.fromFieldsV1(entries[0].fieldsV1).paths().map(pathToString).includes('.spec.replicas'));
    // the applier now conflicts on replicas
    setManagedFields(edited, entries);
    assert.equal(conflict(() => apply(edited, deployment({ replicas: 2, labels: { app: 'web' } }), 'kubectl')).message,
      'Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas');
  });

  describe('kubectl client-side apply → server-side apply', () => {
    // `kubectl apply` (client-side) creates the object with the annotation, as manager
    // "kubectl-client-side-apply" (an Update).
    function clientSideApplied(config: Obj, lastApplied: Obj = config): Obj {
      const obj = structuredClone(config);
      obj.metadata.annotations = { [LAST_APPLIED_ANNOTATION]: JSON.stringify(lastApplied) + '\n' };
      const entries = recordUpdate(undefined, obj, { ...D, manager: 'kubectl-client-side-apply', now: T1 });
      return stored(setManagedFields(obj, entries));
    }

    it('another manager changing a field the client-side applier owns conflicts', () => {
      const live = clientSideApplied(deployment({ replicas: 2 }));
      assert.deepEqual(live.metadata.managedFields.map((e: ManagedFieldsEntry) => [e.manager, e.operation]), [['kubectl-client-side-apply', 'Update']]);
      assert.equal(conflict(() => apply(live, deployment({ replicas: 3 }), 'deployer')).message,
        'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');
    });

    it('kubectl --server-side may take over fields the last-applied annotation still matches', () => {
      const live = clientSideApplied(deployment({ replicas: 2 }));
      const r = apply(live, deployment({ replicas: 3 }), 'kubectl', { now: T2 });
      assert.equal(r.obj.spec.replicas, 3);
      assert.ok(owned(r.obj, 'kubectl', 'Apply').includes('.spec.replicas'));
      assert.ok(!owned(r.obj, 'kubectl-client-side-apply').includes('.spec.replicas'));
      // and the annotation follows the applied configuration (Go's JSON: sorted keys, newline)
      assert.equal(r.obj.metadata.annotations[LAST_APPLIED_ANNOTATION],
        '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"image":"nginx:1.25","name":"nginx"}]}}}}\n');
    });

    it('but not fields changed since that annotation was written, unless forced', () => {
      const live = clientSideApplied(deployment({ replicas: 2 }), deployment({ replicas: 1 }));
      const e = conflict(() => apply(live, deployment({ replicas: 3 }), 'kubectl'));
      assert.equal(e.message, 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');
      assert.deepEqual(e.details?.causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: '.spec.replicas' }]);
      assert.equal(apply(live, deployment({ replicas: 3 }), 'kubectl', { force: true }).obj.spec.replicas, 3);
    });
  });

  it('a set (finalizers) is shared item by item', () => {
    const fin = (f: string[]) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', finalizers: f } });
    const a = stored(apply(undefined, fin(['a.io/x']), 'a').obj);
    const b = stored(apply(a, fin(['b.io/y']), 'b', { now: T2 }).obj);
    assert.deepEqual(b.metadata.finalizers, ['a.io/x', 'b.io/y']);
    assert.deepEqual(owned(b, 'b'), ['.metadata.finalizers[="b.io/y"]']);
    const r = apply(b, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' } }, 'a', { now: T3 });
    assert.deepEqual(r.obj.metadata.finalizers, ['b.io/y']);
    assert.equal(entry(r.obj, 'a'), undefined, 'a owns nothing any more');
  });

  it('an atomic list (tolerations) is owned and replaced as a whole', () => {
    const tol = (key: string) => deployment({ podSpec: { tolerations: [{ key, operator: 'Exists' }] } });
    const a = stored(apply(undefined, tol('a'), 'a').obj);
    assert.ok(owned(a, 'a').includes('.spec.template.spec.tolerations'));
    assert.equal(conflict(() => apply(a, tol('b'), 'b')).message, 'Apply failed with 1 conflict: conflict with "a": .spec.template.spec.tolerations');
    const r = apply(a, tol('b'), 'b', { force: true });
    assert.deepEqual(r.obj.spec.template.spec.tolerations, [{ key: 'b', operator: 'Exists' }]);
  });

  it('an associative list with two keys (containerPort, protocol) merges item by item', () => {
    const a = stored(apply(undefined, deployment({ container: { ports: [{ containerPort: 80 }, { containerPort: 53, protocol: 'UDP' }] } }), 'a').obj);
    const b = apply(a, deployment({ container: { ports: [{ containerPort: 53, protocol: 'UDP', name: 'dns' }] } }), 'b', { now: T2 }).obj;
    assert.deepEqual(b.spec.template.spec.containers[0].ports, [{ containerPort: 80 }, { containerPort: 53, protocol: 'UDP', name: 'dns' }]);
    assert.ok(owned(b, 'b').includes('.spec.template.spec.containers[name="nginx"].ports[containerPort=53,protocol="UDP"].name'));
    assert.equal(conflict(() => apply(stored(b), deployment({ container: { ports: [{ containerPort: 53, protocol: 'UDP', name: 'other' }] } }), 'c')).message,
      'Apply failed with 1 conflict: conflict with "b": .spec.template.spec.containers[name="nginx"].ports[containerPort=53,protocol="UDP"].name');
    // an associative list keyed by name: a new container from b is added next to a's
    const c = apply(stored(b), { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'envoy' }] } } } }, 'c', { now: T3 }).obj;
    assert.deepEqual(c.spec.template.spec.containers.map((x: Obj) => x.name), ['nginx', 'sidecar']);
  });

  it('labels (a granular map) are owned key by key', () => {
    const a = stored(apply(undefined, deployment({ labels: { app: 'web' } }), 'a').obj);
    const b = stored(apply(a, deployment({ labels: { team: 'x' } }), 'b', { now: T2 }).obj);
    assert.deepEqual(b.metadata.labels, { app: 'web', team: 'x' });
    const r = apply(b, deployment({}), 'a', { now: T3 });
    assert.deepEqual(r.obj.metadata.labels, { team: 'x' });
  });

  it('an object without managedFields: its fields go to "before-first-apply" first', () => {
    const untracked = stored(deployment({ replicas: 1, labels: { app: 'web' } }));
    assert.equal(conflict(() => apply(untracked, deployment({ replicas: 3 }), 'kubectl')).message,
      'Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: .spec.replicas');
    const r = apply(untracked, deployment({ replicas: 1 }), 'kubectl', { now: T2 });
    assert.deepEqual(r.managedFields.map((e) => [e.manager, e.operation, e.time]), [['kubectl', 'Apply', undefined], ['before-first-apply', 'Update', T2]]);
    assert.ok(owned(r.obj, 'before-first-apply').includes('.metadata.labels.app'));
  });

  it('a null creationTimestamp in the configuration keeps the live one', () => {
    const live = stored({ ...apply(undefined, deployment({ replicas: 1 }), 'a').obj });
    live.metadata.creationTimestamp = T1;
    const config = deployment({ replicas: 2, metadata: { creationTimestamp: null } });
    const r = apply(live, config, 'a', { now: T2 });
    assert.equal(r.obj.metadata.creationTimestamp, T1);
    assert.equal(r.obj.spec.replicas, 2);
    assert.equal(config.metadata.creationTimestamp, null, 'the configuration is not changed');
  });

  it('does not track ignored paths (status of the main resource)', () => {
    const config = { ...deployment({ replicas: 1 }), status: { replicas: 1 } };
    const r = apply(undefined, config, 'a', { ignoredPaths: [['status']] });
    assert.ok(!owned(r.obj, 'a').some((p) => p.startsWith('.status')));
  });

  it('rejects what upstream rejects', () => {
    const withMF = deployment();
    withMF.metadata.managedFields = [];
    assert.equal(conflict(() => apply(undefined, withMF, 'a')).message, 'metadata.managedFields must be nil');
    const e = conflict(() => apply(undefined, { ...deployment(), kind: 'StatefulSet' }, 'a'));
    assert.equal(e.code, 400);
    assert.equal(e.message, 'invalid object type: apps/v1, Kind=StatefulSet');
    const e2 = conflict(() => applyConfiguration(undefined, { ...deployment(), apiVersion: 'apps/v1beta1' }, { ...D, manager: 'a', force: false }));
    assert.equal(e2.message, 'Incorrect version specified in apply patch. Specified patch version: apps/v1beta1, expected: apps/v1');
    const dup = deployment({ podSpec: { containers: [{ name: 'a' }, { name: 'a' }] } });
    const e3 = conflict(() => apply(undefined, dup, 'a'));
    assert.equal(e3.code, 500);
    assert.equal(e3.message, 'failed to create typed patch object (/web; apps/v1, Kind=Deployment): .spec.template.spec.containers: duplicate entries for key [name="a"]');
  });
});

describe('recordUpdate', () => {
  const created = (obj: Obj, manager = 'kubectl-create') => stored(setManagedFields(obj, recordUpdate(undefined, obj, { ...D, manager, now: T1 })));

  it('tracks a create as an Update entry', () => {
    const obj = created(deployment({ replicas: 1, labels: { app: 'web' } }));
    assert.deepEqual(obj.metadata.managedFields.map((e: ManagedFieldsEntry) => [e.manager, e.operation, e.apiVersion, e.time, e.fieldsType]),
      [['kubectl-create', 'Update', 'apps/v1', T1, 'FieldsV1']]);
    assert.deepEqual(obj.metadata.managedFields[0].fieldsV1['f:metadata'], { 'f:labels': { '.': {}, 'f:app': {} } });
  });

  it('one entry per manager: later updates merge into it and move its time', () => {
    const obj = created(deployment({ replicas: 1 }), 'ctl');
    const next = structuredClone(obj);
    next.spec.paused = true;
    const entries = recordUpdate(obj, next, { ...D, manager: 'ctl', now: T2 });
    assert.equal(entries.length, 1);
    assert.equal(entries[0].time, T2);
    assert.ok(FieldSet.fromFieldsV1(entries[0].fieldsV1).paths().map(pathToString).includes('.spec.paused'));
    // nothing changed: nothing moves, the time stays
    assert.deepEqual(recordUpdate(obj, structuredClone(obj), { ...D, manager: 'ctl', now: T3 }), obj.metadata.managedFields);
  });

  it('entries left with nothing are dropped; removed fields leave every owner', () => {
    const obj = created(deployment({ replicas: 1 }), 'one');
    const next = structuredClone(obj);
    next.spec.replicas = 2;
    const e1 = recordUpdate(obj, next, { ...D, manager: 'two', now: T2 });
    const o2 = stored(setManagedFields(next, e1));
    const o3 = structuredClone(o2);
    delete o3.spec.replicas;
    const e2 = recordUpdate(o2, o3, { ...D, manager: 'three', now: T3 });
    assert.deepEqual(e2.map((e) => e.manager), ['one'], 'two owned only replicas; three changed nothing it keeps');
  });

  it('does not start tracking an existing object that has none', () => {
    const live = stored(deployment({ replicas: 1 }));
    const next = structuredClone(live);
    next.spec.replicas = 2;
    assert.deepEqual(recordUpdate(live, next, { ...D, manager: 'x' }), []);
  });

  it('takes managedFields from the request: [] clears them, edited ones are used', () => {
    const obj = created(deployment({ replicas: 1 }));
    const cleared = structuredClone(obj);
    cleared.metadata.managedFields = [];
    assert.deepEqual(recordUpdate(obj, cleared, { ...D, manager: 'x' }), []);
    const single = structuredClone(obj);
    single.metadata.managedFields = [{}];
    assert.deepEqual(recordUpdate(obj, single, { ...D, manager: 'x' }), []);
    const renamed = structuredClone(obj);
    renamed.metadata.managedFields[0].manager = 'renamed';
    assert.deepEqual(recordUpdate(obj, renamed, { ...D, manager: 'x' }).map((e) => e.manager), ['renamed']);
    // a request without managedFields keeps the live ones
    const none = structuredClone(obj);
    delete none.metadata.managedFields;
    assert.deepEqual(recordUpdate(obj, none, { ...D, manager: 'x' }).map((e) => e.manager), ['kubectl-create']);
  });

  it('records the subresource and ignores the paths the endpoint resets', () => {
    const obj = created(deployment({ replicas: 1 }));
    const withStatus = { ...structuredClone(obj), status: { replicas: 1, conditions: [{ type: 'Available', status: 'True' }] } };
    const entries = recordUpdate(obj, withStatus, { ...D, manager: 'kube-controller-manager', subresource: 'status', ignoredPaths: [['spec']], now: T2 });
    const cm = entries.find((e) => e.manager === 'kube-controller-manager')!;
    assert.equal(cm.subresource, 'status');
    assert.deepEqual(cm.fieldsV1, { 'f:status': { 'f:conditions': { '.': {}, 'k:{"type":"Available"}': { '.': {}, 'f:status': {}, 'f:type': {} } }, 'f:replicas': {} } });
    assert.deepEqual(Object.keys(cm), ['manager', 'operation', 'apiVersion', 'time', 'fieldsType', 'fieldsV1', 'subresource']);
    // the main resource ignores status
    assert.deepEqual(recordUpdate(obj, withStatus, { ...D, manager: 'x', ignoredPaths: [['status']] }), obj.metadata.managedFields);
  });

  it('keeps at most 10 Update entries, merging the oldest into "ancient-changes"', () => {
    let obj = created(deployment({ replicas: 1 }), 'm0');
    for (let i = 1; i <= 11; i++) {
      const next = structuredClone(obj);
      next.metadata.labels = { ...next.metadata.labels, [`l${i}`]: 'x' };
      obj = stored(setManagedFields(next, recordUpdate(obj, next, { ...D, manager: `m${i}`, now: `2024-05-01T10:${String(i).padStart(2, '0')}:00Z` })));
    }
    const managers = obj.metadata.managedFields.map((e: ManagedFieldsEntry) => e.manager);
    assert.equal(managers.length, 10);
    assert.ok(managers.includes('ancient-changes'));
    assert.ok(!managers.includes('m0') && !managers.includes('m1') && !managers.includes('m2'));
    const ancient = owned(obj, 'ancient-changes');
    assert.ok(ancient.includes('.spec.replicas') && ancient.includes('.metadata.labels.l1') && ancient.includes('.metadata.labels.l2'));
  });
});

describe('manager names', () => {
  it('defaults to the user agent up to the first "/"', () => {
    assert.equal(defaultManagerName('kubectl/v1.31.0 (linux/amd64) kubernetes/abcdef'), 'kubectl');
    assert.equal(defaultManagerName('Go-http-client/1.1'), 'Go-http-client');
    assert.equal(defaultManagerName(undefined), '');
    assert.equal(defaultManagerName('a\u0007b/1'), 'ab');
    assert.equal(defaultManagerName('x'.repeat(200)), 'x'.repeat(128));
  });

  it('validates fieldManager as upstream', () => {
    assert.deepEqual(validateFieldManager('', true), [{ type: 'FieldValueRequired', field: 'fieldManager', detail: 'is required for apply patch' }]);
    assert.deepEqual(validateFieldManager('', false), []);
    assert.deepEqual(validateFieldManager('a\u0007', false).map((e) => e.detail), ['invalid character U+0007 (at position 1)']);
    assert.equal(validateFieldManager('x'.repeat(129), false)[0].type, 'FieldValueTooLong');
  });
});
