import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, type ResourceDescriptor, type RestClient } from '../../client/index.js';
import { eventually, startTestCluster, type TestCluster } from '../../client/testing.js';
import { DependencyGraph, GarbageCollector, type GraphNode, type OwnerReference } from './garbage-collector.js';
import { discoverResources } from '../discovery.js';

const CONFIGMAPS: ResourceDescriptor = { group: '', version: 'v1', plural: 'configmaps', namespaced: true };
const NAMESPACES: ResourceDescriptor = { group: '', version: 'v1', plural: 'namespaces', namespaced: false };
const CLUSTERROLES: ResourceDescriptor = { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterroles', namespaced: false };
const CRDS: ResourceDescriptor = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', namespaced: false };
const WIDGETS: ResourceDescriptor = { group: 'gc.example.com', version: 'v1', plural: 'widgets', namespaced: true };

const NS = 'gc-test';
let cluster: TestCluster;
let client: RestClient;
let gc: GarbageCollector;
const ac = new AbortController();

before(async () => {
  cluster = await startTestCluster();
  client = cluster.client;
  await client.create(NAMESPACES, undefined, { metadata: { name: NS } });
  // Discovery is read often here so the custom resource test need not wait long.
  gc = new GarbageCollector(cluster.newClient(), { discoveryIntervalMs: 200 });
  gc.start(ac.signal);
  assert.ok(await gc.waitForSync(AbortSignal.timeout(20_000)), 'garbage collector synced');
});

after(async () => {
  ac.abort();
  await gc.stopped();
  await cluster.stop();
});

const ref = (owner: any, extra: Partial<OwnerReference> = {}): OwnerReference => ({
  apiVersion: owner.apiVersion ?? 'v1', kind: owner.kind ?? 'ConfigMap', name: owner.metadata.name, uid: owner.metadata.uid, ...extra,
});

async function cm(name: string, owners: OwnerReference[] = [], finalizers?: string[]): Promise<any> {
  const meta: any = { name };
  if (owners.length) meta.ownerReferences = owners;
  if (finalizers) meta.finalizers = finalizers;
  const obj = await client.create<any>(CONFIGMAPS, NS, { metadata: meta });
  return { apiVersion: 'v1', kind: 'ConfigMap', ...obj };
}

async function getCM(name: string): Promise<any | undefined> {
  try {
    return await client.get<any>(CONFIGMAPS, NS, name);
  } catch (err) {
    if (err instanceof ApiError && err.code === 404) return undefined;
    throw err;
  }
}

/** The graph has seen these objects (the Orphan and Foreground policies act on what it has seen). */
const observed = (...objs: any[]) => eventually(() => objs.every((o) => gc.graphHasUID(o.metadata.uid)), 'objects observed by the garbage collector');

test('discovery: the collector watches the listable resources and ignores events', () => {
  const watched = gc.watchedResources();
  for (const r of ['/configmaps', '/pods', '/namespaces', 'apps/deployments', 'rbac.authorization.k8s.io/clusterroles']) assert.ok(watched.includes(r), r);
  assert.ok(!watched.includes('/events'));
  assert.ok(!watched.includes('events.k8s.io/events'));
  assert.ok(!watched.includes('/bindings'), 'create-only resources are not watched');
});

test('background: dependents of a deleted owner go; one with another live owner only loses the reference', async () => {
  const owner = await cm('bg-owner');
  const other = await cm('bg-other');
  await cm('bg-dep-1', [ref(owner)]);
  await cm('bg-dep-2', [ref(owner, { controller: true })]);
  await cm('bg-shared', [ref(owner), ref(other)]);

  await client.delete(CONFIGMAPS, NS, 'bg-owner');
  await eventually(async () => !(await getCM('bg-dep-1')) && !(await getCM('bg-dep-2')), 'dependents deleted');
  const shared = await eventually(async () => {
    const s = await getCM('bg-shared');
    return s && s.metadata.ownerReferences?.length === 1 ? s : undefined;
  }, 'dead reference removed from the shared dependent');
  assert.deepEqual(shared.metadata.ownerReferences.map((r: any) => r.uid), [other.metadata.uid]);
  assert.equal(shared.metadata.deletionTimestamp, undefined);
  assert.ok(await getCM('bg-other'));
});

test('background: a dependent whose owner never existed (or has another uid) is collected', async () => {
  const live = await cm('dangling-named');
  await cm('dangling-1', [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'no-such-owner', uid: '00000000-0000-0000-0000-000000000001' }]);
  // Same name as a live object, but not its uid: a different (gone) owner.
  await cm('dangling-2', [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'dangling-named', uid: '00000000-0000-0000-0000-000000000002' }]);
  await eventually(async () => !(await getCM('dangling-1')) && !(await getCM('dangling-2')), 'dangling dependents deleted');
  assert.ok(await getCM('dangling-named'), 'the unrelated object of the same name stays');
  assert.equal(live.metadata.name, 'dangling-named');
});

test('background: a cluster-scoped owner collects its namespaced dependents', async () => {
  const role = await client.create<any>(CLUSTERROLES, undefined, { metadata: { name: 'gc-owner-role' }, rules: [] });
  await cm('role-dep', [{ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name: role.metadata.name, uid: role.metadata.uid }]);
  await client.delete(CLUSTERROLES, undefined, 'gc-owner-role');
  await eventually(async () => !(await getCM('role-dep')), 'dependent of the cluster role deleted');
});

test('an impossible ownerReference gets an OwnerRefInvalidNamespace event', async () => {
  // A cluster-scoped object naming a namespaced owner: left alone, with a Warning.
  const owner = await cm('ns-owner');
  const role = await client.create<any>(CLUSTERROLES, undefined, {
    metadata: { name: 'gc-invalid-ref', ownerReferences: [ref(owner)] }, rules: [],
  });
  const EVENTS: ResourceDescriptor = { group: '', version: 'v1', plural: 'events', namespaced: true };
  const ev = await eventually(async () => (await client.list<any>(EVENTS, 'default')).items
    .find((e: any) => e.reason === 'OwnerRefInvalidNamespace' && e.involvedObject?.name === 'gc-invalid-ref'), 'the OwnerRefInvalidNamespace event');
  assert.equal(ev.type, 'Warning');
  assert.equal(ev.source.component, 'garbage-collector-controller');
  assert.equal(ev.involvedObject.uid, role.metadata.uid);
  assert.equal(ev.message, `ownerRef [v1/ConfigMap, namespace: , name: ns-owner, uid: ${owner.metadata.uid}] does not exist in namespace ""`);
  assert.ok(await client.get(CLUSTERROLES, undefined, 'gc-invalid-ref'), 'the object stays');
  await client.delete(CLUSTERROLES, undefined, 'gc-invalid-ref');
});

test('foreground: the owner goes only after its blocking dependents', async () => {
  const owner = await cm('fg-owner');
  // The blocking dependent holds its own finalizer, so it stays (being deleted) until released.
  const blocker = await cm('fg-blocker', [ref(owner, { blockOwnerDeletion: true })], ['example.com/hold']);
  const plain = await cm('fg-plain', [ref(owner)]);
  await observed(owner, blocker, plain);

  const marked = await client.delete<any>(CONFIGMAPS, NS, 'fg-owner', { propagationPolicy: 'Foreground' });
  assert.ok(marked.metadata.finalizers.includes('foregroundDeletion'));

  // The collector deletes the dependents (foreground, so the blocker's own foregroundDeletion
  // finalizer is handled too and only our hold is left).
  await eventually(async () => {
    const b = await getCM('fg-blocker');
    return b?.metadata.deletionTimestamp && JSON.stringify(b.metadata.finalizers) === '["example.com/hold"]';
  }, 'blocking dependent being deleted, held only by its own finalizer');
  await eventually(async () => !(await getCM('fg-plain')), 'non-blocking dependent deleted');
  const waiting = await getCM('fg-owner');
  assert.ok(waiting, 'the owner stays while a blocking dependent exists');
  assert.ok(waiting.metadata.deletionTimestamp);
  assert.deepEqual(waiting.metadata.finalizers, ['foregroundDeletion']);

  await client.patch(CONFIGMAPS, NS, 'fg-blocker', [{ op: 'remove', path: '/metadata/finalizers' }], 'json');
  await eventually(async () => !(await getCM('fg-owner')), 'owner deleted after its dependents');
  assert.equal(await getCM('fg-blocker'), undefined);
});

test('foreground: an owner without blocking dependents goes at once; dependents follow', async () => {
  const owner = await cm('fg2-owner');
  const dep = await cm('fg2-dep', [ref(owner, { blockOwnerDeletion: false })]);
  await observed(owner, dep);
  await client.delete(CONFIGMAPS, NS, 'fg2-owner', { propagationPolicy: 'Foreground' });
  await eventually(async () => !(await getCM('fg2-owner')) && !(await getCM('fg2-dep')), 'owner and dependent deleted');
});

test('orphan: dependents stay without the ownerReference and the owner goes', async () => {
  const owner = await cm('or-owner');
  const other = await cm('or-other');
  const d1 = await cm('or-dep-1', [ref(owner)]);
  const d2 = await cm('or-dep-2', [ref(owner, { controller: true, blockOwnerDeletion: true }), ref(other)]);
  await observed(owner, d1, d2);

  const marked = await client.delete<any>(CONFIGMAPS, NS, 'or-owner', { propagationPolicy: 'Orphan' });
  assert.ok(marked.metadata.finalizers.includes('orphan'));
  await eventually(async () => !(await getCM('or-owner')), 'owner deleted');

  const a = await getCM('or-dep-1');
  const b = await getCM('or-dep-2');
  assert.ok(a && b, 'dependents still exist');
  assert.equal(a.metadata.ownerReferences, undefined);
  assert.deepEqual(b.metadata.ownerReferences.map((r: any) => r.uid), [other.metadata.uid]);
  assert.equal(a.metadata.deletionTimestamp, undefined);
  assert.equal(b.metadata.deletionTimestamp, undefined);
});

test('custom resources: a kind served after the collector started is watched and collected', async (t) => {
  await client.create(CRDS, undefined, {
    metadata: { name: 'widgets.gc.example.com' },
    spec: {
      group: 'gc.example.com', scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
    },
  });
  const served = await eventually(async () => (await discoverResources(client)).resources.some((r) => r.group === 'gc.example.com'), 'widgets served', 10_000).catch(() => false);
  if (!served) {
    t.skip('the API server does not serve the custom resource (CRD serving unavailable)');
    return;
  }
  await eventually(() => gc.watchedResources().includes('gc.example.com/widgets'), 'collector watches widgets');

  // A widget owned by a config map, and a config map owned by a widget.
  const owner = await cm('cr-owner');
  await client.create(WIDGETS, NS, { apiVersion: 'gc.example.com/v1', kind: 'Widget', metadata: { name: 'w-dep', ownerReferences: [ref(owner)] } });
  const wOwner = await client.create<any>(WIDGETS, NS, { apiVersion: 'gc.example.com/v1', kind: 'Widget', metadata: { name: 'w-owner' } });
  await cm('cr-cm-dep', [{ apiVersion: 'gc.example.com/v1', kind: 'Widget', name: 'w-owner', uid: wOwner.metadata.uid }]);

  const widgetGone = async (name: string) => {
    try { await client.get(WIDGETS, NS, name); return false; } catch (err) { if (err instanceof ApiError && err.code === 404) return true; throw err; }
  };
  await client.delete(CONFIGMAPS, NS, 'cr-owner');
  await eventually(() => widgetGone('w-dep'), 'widget dependent deleted');
  await client.delete(WIDGETS, NS, 'w-owner');
  await eventually(async () => !(await getCM('cr-cm-dep')), 'config map dependent of the widget deleted');
});

test('DependencyGraph keeps dependents by owner uid', () => {
  const g = new DependencyGraph();
  const res = { group: '', version: 'v1', plural: 'configmaps', namespaced: true, kind: 'ConfigMap', verbs: [] };
  const node = (uid: string, owners: string[]): GraphNode => ({
    uid, res, namespace: 'ns', name: uid, deleting: false, finalizers: [],
    owners: owners.map((o) => ({ apiVersion: 'v1', kind: 'ConfigMap', name: o, uid: o })),
  });
  g.upsert(node('a', []));
  g.upsert(node('b', ['a']));
  g.upsert(node('c', ['a', 'x']));
  assert.deepEqual(g.dependentsOf('a').map((n) => n.uid).sort(), ['b', 'c']);
  assert.deepEqual(g.dependentsOf('x').map((n) => n.uid), ['c'], 'unobserved owners have dependents too');
  g.upsert(node('c', ['x']));
  assert.deepEqual(g.dependentsOf('a').map((n) => n.uid), ['b']);
  g.remove('a');
  assert.deepEqual(g.dependentsOf('a').map((n) => n.uid), ['b'], 'dependents of a removed owner are still known');
  g.remove('b');
  assert.deepEqual(g.dependentsOf('a'), []);
});
