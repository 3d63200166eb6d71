import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, type ResourceDescriptor, type RestClient } from '../../client/index.js';
import { eventually, startTestCluster, type TestCluster } from '../../client/testing.js';
import { NamespaceController, NAMESPACES, updatedConditions, type ContentReport, type NamespaceCondition } from './namespace-controller.js';

const CONFIGMAPS: ResourceDescriptor = { group: '', version: 'v1', plural: 'configmaps', namespaced: true };
const SECRETS: ResourceDescriptor = { group: '', version: 'v1', plural: 'secrets', namespaced: true };
const SERVICES: ResourceDescriptor = { group: '', version: 'v1', plural: 'services', namespaced: true };
const PODS: ResourceDescriptor = { group: '', version: 'v1', plural: 'pods', namespaced: true };
const EVENTS: ResourceDescriptor = { group: '', version: 'v1', plural: 'events', namespaced: true };
const DEPLOYMENTS: ResourceDescriptor = { group: 'apps', version: 'v1', plural: 'deployments', namespaced: true };
const CRDS: ResourceDescriptor = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', namespaced: false };
const GADGETS: ResourceDescriptor = { group: 'ns.example.com', version: 'v1', plural: 'gadgets', namespaced: true };

let cluster: TestCluster;
let client: RestClient;
const ac = new AbortController();
let ctrl: NamespaceController;

before(async () => {
  cluster = await startTestCluster();
  client = cluster.client;
  ctrl = new NamespaceController(cluster.newClient(), { maxPollMs: 500 });
  ctrl.start(ac.signal);
});

after(async () => {
  ac.abort();
  await ctrl.stopped();
  await cluster.stop();
});

async function exists(res: ResourceDescriptor, ns: string | undefined, name: string): Promise<boolean> {
  try {
    await client.get(res, ns, name);
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.code === 404) return false;
    throw err;
  }
}

async function fill(ns: string): Promise<void> {
  await client.create(NAMESPACES, undefined, { metadata: { name: ns } });
  await client.create(CONFIGMAPS, ns, { metadata: { name: 'cm-1' }, data: { a: '1' } });
  await client.create(CONFIGMAPS, ns, { metadata: { name: 'cm-2' } });
  await client.create(SECRETS, ns, { metadata: { name: 'secret-1' }, stringData: { k: 'v' } });
  await client.create(SERVICES, ns, { metadata: { name: 'svc-1' }, spec: { selector: { app: 'x' }, ports: [{ port: 80 }] } });
  await client.create(DEPLOYMENTS, ns, {
    metadata: { name: 'deploy-1' },
    spec: {
      replicas: 1, selector: { matchLabels: { app: 'x' } },
      template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
    },
  });
  // No nodeName: an unscheduled pod is deleted at once (no kubelet needed).
  await client.create(PODS, ns, { metadata: { name: 'pod-1' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
  await client.create(EVENTS, ns, {
    metadata: { name: 'ev-1' }, involvedObject: { kind: 'Pod', name: 'pod-1', namespace: ns },
    reason: 'Testing', message: 'an event', type: 'Normal',
  });
}

const CONTENT: Array<[ResourceDescriptor, string]> = [
  [CONFIGMAPS, 'cm-1'], [CONFIGMAPS, 'cm-2'], [SECRETS, 'secret-1'], [SERVICES, 'svc-1'],
  [DEPLOYMENTS, 'deploy-1'], [PODS, 'pod-1'], [EVENTS, 'ev-1'],
];

test('deleting a namespace removes all of its content, then the namespace', async () => {
  const ns = 'doomed';
  await fill(ns);
  for (const [res, name] of CONTENT) assert.ok(await exists(res, ns, name), `${res.plural}/${name} created`);

  const marked = await client.delete<any>(NAMESPACES, undefined, ns);
  assert.equal(marked.status?.phase, 'Terminating');

  await eventually(async () => !(await exists(NAMESPACES, undefined, ns)), 'namespace gone');
  for (const [res, name] of CONTENT) assert.equal(await exists(res, ns, name), false, `${res.plural}/${name} deleted`);
});

test('a terminating namespace refuses new content, reports what remains, and waits for finalizers', async () => {
  const ns = 'held';
  await fill(ns);
  // Content that cannot go until its finalizer is removed keeps the namespace Terminating.
  await client.create(CONFIGMAPS, ns, { metadata: { name: 'held', finalizers: ['example.com/hold'] } });
  await client.delete(NAMESPACES, undefined, ns);

  await assert.rejects(
    client.create(CONFIGMAPS, ns, { metadata: { name: 'late' } }),
    (err: unknown) => err instanceof ApiError && err.code === 403 && /being terminated/.test(err.message),
  );

  // Everything else goes; the held config map stays (being deleted).
  await eventually(async () => {
    for (const [res, name] of CONTENT) if (await exists(res, ns, name)) return false;
    return true;
  }, 'content deleted');
  const held = await client.get<any>(CONFIGMAPS, ns, 'held');
  assert.ok(held.metadata.deletionTimestamp, 'held config map is being deleted');

  const conditions = await eventually(async () => {
    const cur = await client.get<any>(NAMESPACES, undefined, ns);
    const cs: NamespaceCondition[] = cur.status?.conditions ?? [];
    const remaining = cs.find((c) => c.type === 'NamespaceContentRemaining');
    return remaining?.status === 'True' && remaining.message === 'Some resources are remaining: configmaps. has 1 resource instances' ? cs : undefined;
  }, 'NamespaceContentRemaining condition');
  const byType = new Map(conditions!.map((c) => [c.type, c]));
  assert.equal(byType.get('NamespaceFinalizersRemaining')?.status, 'True');
  assert.equal(byType.get('NamespaceFinalizersRemaining')?.reason, 'SomeFinalizersRemain');
  assert.equal(byType.get('NamespaceFinalizersRemaining')?.message, 'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances');
  assert.equal(byType.get('NamespaceDeletionDiscoveryFailure')?.status, 'False');
  assert.equal(byType.get('NamespaceDeletionContentFailure')?.status, 'False');
  assert.equal(byType.get('NamespaceDeletionContentFailure')?.reason, 'ContentDeleted');
  const still = await client.get<any>(NAMESPACES, undefined, ns);
  assert.deepEqual(still.spec.finalizers, ['kubernetes'], 'not finalized while content remains');
  assert.equal(still.status.phase, 'Terminating');

  // Releasing the content releases the namespace.
  await client.patch(CONFIGMAPS, ns, 'held', { metadata: { finalizers: null } }, 'merge');
  await eventually(async () => !(await exists(NAMESPACES, undefined, ns)), 'namespace gone after the finalizer is removed');
});

test('custom resources are deleted with their namespace (found through discovery)', async (t) => {
  await client.create(CRDS, undefined, {
    metadata: { name: 'gadgets.ns.example.com' },
    spec: {
      group: 'ns.example.com', scope: 'Namespaced',
      names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget', listKind: 'GadgetList' },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
    },
  });
  const served = await eventually(async () => {
    try { await client.list(GADGETS, 'default'); return true; } catch { return false; }
  }, 'gadgets served', 10_000).catch(() => false);
  if (!served) {
    t.skip('the API server does not serve the custom resource (CRD serving unavailable)');
    return;
  }
  await client.create(NAMESPACES, undefined, { metadata: { name: 'with-crs' } });
  await client.create(GADGETS, 'with-crs', { apiVersion: 'ns.example.com/v1', kind: 'Gadget', metadata: { name: 'g-1' } });
  await client.delete(NAMESPACES, undefined, 'with-crs');
  await eventually(async () => !(await exists(NAMESPACES, undefined, 'with-crs')), 'namespace gone');
  assert.equal(await exists(GADGETS, 'with-crs', 'g-1'), false);
});

test('a namespace that is not being deleted is left alone', async () => {
  await client.create(NAMESPACES, undefined, { metadata: { name: 'alive' } });
  await client.create(CONFIGMAPS, 'alive', { metadata: { name: 'keep' } });
  await ctrl.reconcile('alive');
  assert.ok(await exists(CONFIGMAPS, 'alive', 'keep'));
  const ns = await client.get<any>(NAMESPACES, undefined, 'alive');
  assert.equal(ns.status.phase, 'Active');
  assert.equal(ns.status.conditions, undefined);
});

test('NamespaceController.deletableResources picks namespaced, deletable, preferred versions', () => {
  const r = (group: string, version: string, plural: string, namespaced: boolean, verbs: string[]) => ({ group, version, plural, namespaced, kind: 'K', verbs });
  const out = NamespaceController.deletableResources([
    r('', 'v1', 'configmaps', true, ['create', 'delete', 'deletecollection', 'get', 'list']),
    r('', 'v1', 'nodes', false, ['delete', 'deletecollection', 'list']),
    r('', 'v1', 'bindings', true, ['create']),
    r('x.io', 'v2', 'widgets', true, ['delete', 'list']),
    r('x.io', 'v1', 'widgets', true, ['delete', 'list']),
    r('x.io', 'v1', 'gadgets', true, ['delete']),
  ]);
  assert.deepEqual(out.map((x) => `${x.group}/${x.version}/${x.plural}`), ['/v1/configmaps', 'x.io/v2/widgets']);
});

test('updatedConditions: failing types are True, the rest are the ok variant; unchanged → undefined', () => {
  const empty: ContentReport = { discoveryFailures: new Map(), deleteErrors: [], remaining: new Map(), finalizers: new Map(), estimateSeconds: 0 };
  const first = updatedConditions(undefined, empty)!;
  assert.deepEqual(first.map((c) => [c.type, c.status, c.reason]), [
    ['NamespaceDeletionDiscoveryFailure', 'False', 'ResourcesDiscovered'],
    ['NamespaceDeletionGroupVersionParsingFailure', 'False', 'ParsedGroupVersions'],
    ['NamespaceDeletionContentFailure', 'False', 'ContentDeleted'],
    ['NamespaceContentRemaining', 'False', 'ContentRemoved'],
    ['NamespaceFinalizersRemaining', 'False', 'ContentHasNoFinalizers'],
  ]);
  assert.equal(updatedConditions(first, empty), undefined);

  const bad: ContentReport = {
    ...empty,
    discoveryFailures: new Map([['x.io/v1', 'boom']]),
    deleteErrors: ['widgets.x.io: nope'],
    remaining: new Map([['pods.', 2], ['widgets.x.io', 1]]),
    finalizers: new Map([['a/b', 1]]),
  };
  const next = updatedConditions(first, bad)!;
  const get = (t: string) => next.find((c) => c.type === t)!;
  assert.equal(get('NamespaceDeletionDiscoveryFailure').message, 'Discovery failed for some groups, 1 failing: x.io/v1: boom');
  assert.equal(get('NamespaceDeletionContentFailure').message, 'Failed to delete all resource types, 1 remaining: widgets.x.io: nope');
  assert.equal(get('NamespaceContentRemaining').message, 'Some resources are remaining: pods. has 2 resource instances, widgets.x.io has 1 resource instances');
  assert.equal(get('NamespaceFinalizersRemaining').message, 'Some content in the namespace has finalizers remaining: a/b in 1 resource instances');
  assert.equal(get('NamespaceDeletionGroupVersionParsingFailure').status, 'False');
});
