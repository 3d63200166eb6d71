import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, type ResourceDescriptor, type RestClient } from '../../client/index.js';
import { eventually } from '../../client/testing.js';
import { ReplicaSetController, calculateStatus, podFromTemplate } from './replicaset-controller.js';
import { ControllerExpectations, PODS, REPLICASETS, isPodReady, slowStartBatch, type Obj } from './controller-utils.js';
import { podsToDelete } from './pod-ranking.js';
import { FakeKubelet, markPodReady } from './fake-kubelet.js';
import { controllerTestBed } from '../testing.js';

const NAMESPACES: ResourceDescriptor = { group: '', version: 'v1', plural: 'namespaces', namespaced: false };
const EVENTS: ResourceDescriptor = { group: '', version: 'v1', plural: 'events', namespaced: true };

/** Events about an object, as `kubectl describe` finds them. */
async function eventsFor(ns: string, kind: string, name: string): Promise<any[]> {
  return (await bed.client.list<any>(EVENTS, ns, { fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${name}` })).items;
}

const bed = controllerTestBed((c) => new ReplicaSetController(c), { kubelet: {} });

/** Polls until `cond` gives a value (never a fixed sleep). */
async function waitFor<T>(cond: () => Promise<T | undefined | false | null>, what: string, timeoutMs?: number): Promise<T> {
  return (await eventually(cond, what, timeoutMs)) as T;
}

async function namespace(name: string): Promise<string> {
  await bed.client.create(NAMESPACES, undefined, { metadata: { name } });
  return name;
}

function replicaSet(name: string, replicas: number, labels: Record<string, string> = { app: name }, extra: Record<string, unknown> = {}): Obj {
  return {
    metadata: { name },
    spec: {
      replicas, selector: { matchLabels: labels }, ...extra,
      template: { metadata: { labels: { ...labels, tier: 'web' }, annotations: { note: 'from-template' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
    },
  };
}

/** Active pods (not being deleted) with these labels. */
async function activePods(ns: string, labels: Record<string, string>): Promise<Obj[]> {
  const sel = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
  const list = await bed.client.list<Obj>(PODS, ns, { labelSelector: sel });
  return list.items.filter((p) => !p.metadata?.deletionTimestamp);
}

async function getRS(ns: string, name: string): Promise<Obj> {
  return bed.client.get<Obj>(REPLICASETS, ns, name);
}

test('a ReplicaSet creates its pods from the template and reports them in status', async () => {
  const ns = await namespace('rs-create');
  const rs = await bed.client.create<Obj>(REPLICASETS, ns, replicaSet('web', 3));
  const pods = await waitFor(async () => {
    const ps = await activePods(ns, { app: 'web' });
    return ps.length === 3 ? ps : undefined;
  }, '3 pods');
  for (const p of pods) {
    assert.match(p.metadata!.name!, /^web-[a-z0-9]{5}$/);
    assert.deepEqual(p.metadata!.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata!.uid, controller: true, blockOwnerDeletion: true }]);
    assert.deepEqual(p.metadata!.labels, { app: 'web', tier: 'web' });
    assert.equal(p.metadata!.annotations?.note, 'from-template');
  }
  const st = await waitFor(async () => {
    const cur = await getRS(ns, 'web');
    return cur.status?.replicas === 3 && cur.status?.fullyLabeledReplicas === 3 && cur.status?.observedGeneration === 1 ? cur.status : undefined;
  }, 'status with 3 replicas');
  assert.equal(st.readyReplicas ?? 0, 0);
  assert.equal(st.availableReplicas ?? 0, 0);

  // Never more than asked for, even after things settle.
  const again = await activePods(ns, { app: 'web' });
  assert.equal(again.length, 3);

  // The kubelet starts them: ready and available follow.
  for (const p of pods) await markPodReady(bed.client, p);
  await waitFor(async () => {
    const cur = await getRS(ns, 'web');
    return cur.status?.readyReplicas === 3 && cur.status?.availableReplicas === 3;
  }, 'ready and available 3');
});

test('a deleted pod is replaced; scaling up and down follows spec.replicas', async () => {
  const ns = await namespace('rs-replace');
  await bed.client.create(REPLICASETS, ns, replicaSet('api', 2));
  const pods = await waitFor(async () => {
    const ps = await activePods(ns, { app: 'api' });
    return ps.length === 2 ? ps : undefined;
  }, '2 pods');
  const victim = pods[0]!.metadata!.name!;
  await bed.client.delete(PODS, ns, victim);
  const replaced = await waitFor(async () => {
    const ps = await activePods(ns, { app: 'api' });
    return ps.length === 2 && !ps.some((p) => p.metadata!.name === victim) ? ps : undefined;
  }, 'replacement pod');
  assert.ok(replaced.some((p) => p.metadata!.name === pods[1]!.metadata!.name), 'the other pod stays');

  await bed.client.patch(REPLICASETS, ns, 'api', { spec: { replicas: 5 } }, 'merge');
  await waitFor(async () => (await activePods(ns, { app: 'api' })).length === 5, 'scaled up to 5');
  await bed.client.patch(REPLICASETS, ns, 'api', { spec: { replicas: 0 } }, 'merge');
  await waitFor(async () => (await activePods(ns, { app: 'api' })).length === 0, 'scaled down to 0');
  const cur = await waitFor(async () => {
    const r = await getRS(ns, 'api');
    return r.status?.observedGeneration === r.metadata?.generation && r.status?.replicas === 0 ? r : undefined;
  }, 'status observed scale to 0');
  assert.equal(cur.metadata?.generation, 3);

  // Every create and delete was recorded as upstream's PodControl does.
  const events = await waitFor(async () => {
    const es = await eventsFor(ns, 'ReplicaSet', 'api');
    const n = (reason: string) => es.filter((e) => e.reason === reason).reduce((sum, e) => sum + (e.count ?? 1), 0);
    return n('SuccessfulCreate') === 6 && n('SuccessfulDelete') === 5 ? es : undefined;
  }, '6 SuccessfulCreate and 5 SuccessfulDelete events');
  for (const e of events) {
    assert.equal(e.type, 'Normal');
    assert.equal(e.source.component, 'replicaset-controller');
    assert.equal(e.involvedObject.uid, cur.metadata!.uid);
    assert.match(e.message, e.reason === 'SuccessfulCreate' ? /^Created pod: api-[a-z0-9]{5}$/ : /^Deleted pod: api-[a-z0-9]{5}$/);
  }
});

test('scaling down deletes pods that are not ready before ready ones', async () => {
  const ns = await namespace('rs-scale-down');
  await bed.client.create(REPLICASETS, ns, replicaSet('mixed', 4));
  const pods = await waitFor(async () => {
    const ps = await activePods(ns, { app: 'mixed' });
    return ps.length === 4 ? ps : undefined;
  }, '4 pods');
  const ready = pods.slice(0, 2);
  for (const p of ready) assert.ok(await markPodReady(bed.client, p));
  await waitFor(async () => (await getRS(ns, 'mixed')).status?.readyReplicas === 2, 'two ready');

  await bed.client.patch(REPLICASETS, ns, 'mixed', { spec: { replicas: 2 } }, 'merge');
  const left = await waitFor(async () => {
    const ps = await activePods(ns, { app: 'mixed' });
    return ps.length === 2 ? ps : undefined;
  }, 'scaled down to 2');
  assert.deepEqual(left.map((p) => p.metadata!.name).sort(), ready.map((p) => p.metadata!.name).sort());
  assert.ok(left.every(isPodReady));
});

test('a matching orphan is adopted (and counted); a pod whose labels stop matching is released and replaced', async () => {
  const ns = await namespace('rs-adopt');
  const orphan = await bed.client.create<Obj>(PODS, ns, { metadata: { name: 'orphan', labels: { app: 'adopt' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
  const rs = await bed.client.create<Obj>(REPLICASETS, ns, replicaSet('adopt', 2));
  const adopted = await waitFor(async () => {
    const p = await bed.client.get<Obj>(PODS, ns, 'orphan');
    return p.metadata?.ownerReferences?.length ? p : undefined;
  }, 'orphan adopted');
  assert.deepEqual(adopted.metadata!.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'adopt', uid: rs.metadata!.uid, controller: true, blockOwnerDeletion: true }]);
  assert.equal(adopted.metadata!.uid, orphan.metadata!.uid);
  await waitFor(async () => (await activePods(ns, { app: 'adopt' })).length === 2, '2 pods');
  const st = await waitFor(async () => {
    const r = await getRS(ns, 'adopt');
    return r.status?.replicas === 2 ? r.status : undefined;
  }, 'status replicas 2');
  // The orphan lacks the template's tier label: not fully labeled.
  assert.equal(st.fullyLabeledReplicas, 1);
  assert.equal((await activePods(ns, { app: 'adopt' })).length, 2, 'only one pod was created');

  // A pod that no longer matches the selector is let go, and replaced.
  await bed.client.patch(PODS, ns, 'orphan', { metadata: { labels: { app: 'elsewhere' } } }, 'merge');
  await waitFor(async () => {
    const p = await bed.client.get<Obj>(PODS, ns, 'orphan');
    return !(p.metadata?.ownerReferences ?? []).length;
  }, 'pod released');
  await waitFor(async () => (await activePods(ns, { app: 'adopt' })).length === 2, 'replacement created');
  assert.ok(await bed.client.get(PODS, ns, 'orphan'), 'the released pod is not deleted');
});

test('a pod owned by another controller is left alone', async () => {
  const ns = await namespace('rs-foreign');
  await bed.client.create(PODS, ns, {
    metadata: { name: 'foreign', labels: { app: 'foreign' }, ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: '00000000-0000-0000-0000-00000000000f', controller: true }] },
    spec: { containers: [{ name: 'c', image: 'busybox' }] },
  });
  await bed.client.create(REPLICASETS, ns, replicaSet('foreign', 1));
  await waitFor(async () => (await activePods(ns, { app: 'foreign' })).length === 2, 'own pod created next to the foreign one');
  const p = await bed.client.get<Obj>(PODS, ns, 'foreign');
  assert.equal(p.metadata!.ownerReferences![0]!.kind, 'ConfigMap');
});

test('minReadySeconds: a ready pod becomes available only after it', async () => {
  const ns = await namespace('rs-minready');
  await bed.client.create(REPLICASETS, ns, replicaSet('slow', 1, { app: 'slow' }, { minReadySeconds: 1 }));
  const [pod] = await waitFor(async () => {
    const ps = await activePods(ns, { app: 'slow' });
    return ps.length === 1 ? ps : undefined;
  }, '1 pod');
  await markPodReady(bed.client, pod!);
  await waitFor(async () => (await getRS(ns, 'slow')).status?.readyReplicas === 1, 'ready');
  await waitFor(async () => (await getRS(ns, 'slow')).status?.availableReplicas === 1, 'available after minReadySeconds', 15_000);
});

test('pods being deleted do not count; the fake kubelet readies what the controller creates', async () => {
  const ns = await namespace('rs-kubelet');
  bed.kubelet.setAuto(true);
  try {
    await bed.client.create(REPLICASETS, ns, replicaSet('auto', 3));
    await waitFor(async () => {
      const r = await getRS(ns, 'auto');
      return r.status?.availableReplicas === 3 && r.status?.readyReplicas === 3;
    }, 'all available');
  } finally {
    bed.kubelet.setAuto(false);
  }
  assert.deepEqual(bed.kubelet.failures, []);
});

test('a ReplicaSet being deleted creates nothing', async () => {
  const ns = await namespace('rs-deleting');
  await bed.client.create(REPLICASETS, ns, { ...replicaSet('going', 0), metadata: { name: 'going', finalizers: ['example.com/hold'] } });
  await bed.client.delete(REPLICASETS, ns, 'going');
  await bed.client.patch(REPLICASETS, ns, 'going', { spec: { replicas: 3 } }, 'merge').catch((err) => {
    // Some servers refuse spec changes of an object being deleted; either way nothing is created.
    if (!(err instanceof ApiError)) throw err;
  });
  await bed.controller.reconcile(`${ns}/going`);
  assert.equal((await activePods(ns, { app: 'going' })).length, 0);
  await bed.client.patch(REPLICASETS, ns, 'going', { metadata: { finalizers: null } }, 'merge');
});

// ---- units ---------------------------------------------------------------------------------------

const pod = (name: string, o: { node?: string; phase?: string; ready?: boolean; readySince?: string; restarts?: number; created?: string; cost?: string } = {}): Obj => ({
  metadata: {
    name, namespace: 'ns', uid: `uid-${name}`, creationTimestamp: o.created ?? '2024-01-01T00:00:00Z',
    ...(o.cost !== undefined ? { annotations: { 'controller.kubernetes.io/pod-deletion-cost': o.cost } } : {}),
  },
  spec: { nodeName: o.node },
  status: {
    phase: o.phase ?? 'Running',
    conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: o.readySince ?? '2024-01-01T00:00:00Z' }],
    containerStatuses: [{ name: 'c', restartCount: o.restarts ?? 0 }],
  },
});

test('podsToDelete ranks as upstream: unscheduled, pending, not ready, cost, doubled up, recently ready, restarts, newer', () => {
  const now = Date.parse('2024-06-01T00:00:00Z');
  const pick = (pods: Obj[], related: Obj[] = pods) => podsToDelete(pods, related, 1, now)[0]!.metadata!.name;
  assert.equal(pick([pod('sched', { node: 'n1' }), pod('unsched')]), 'unsched');
  assert.equal(pick([pod('running', { node: 'n1' }), pod('pending', { node: 'n1', phase: 'Pending' })]), 'pending');
  assert.equal(pick([pod('ready', { node: 'n1' }), pod('notready', { node: 'n1', ready: false })]), 'notready');
  assert.equal(pick([pod('expensive', { node: 'n1', cost: '100' }), pod('cheap', { node: 'n1', cost: '-5' })]), 'cheap');
  const a = pod('alone', { node: 'n1' });
  const b = pod('crowded', { node: 'n2' });
  assert.equal(pick([a, b], [a, b, pod('x', { node: 'n2' })]), 'crowded');
  assert.equal(pick([pod('long', { node: 'n1', readySince: '2024-01-01T00:00:00Z' }), pod('recent', { node: 'n1', readySince: '2024-05-31T23:59:00Z' })]), 'recent');
  assert.equal(pick([pod('stable', { node: 'n1' }), pod('flaky', { node: 'n1', restarts: 7 })]), 'flaky');
  assert.equal(pick([pod('old', { node: 'n1', created: '2023-01-01T00:00:00Z' }), pod('new', { node: 'n1', created: '2024-05-31T00:00:00Z' })]), 'new');
  assert.equal(podsToDelete([pod('a'), pod('b')], [], 5, now).length, 2);
});

test('ControllerExpectations: satisfied only once every create and each deletion (once) is seen, or after the timeout', () => {
  let now = 0;
  const e = new ControllerExpectations(1000, () => now);
  assert.ok(e.satisfied('k'));
  e.expectCreations('k', 2);
  assert.ok(!e.satisfied('k'));
  e.creationObserved('k');
  assert.ok(!e.satisfied('k'));
  e.creationObserved('k');
  assert.ok(e.satisfied('k'));
  e.expectDeletions('k', ['ns/a', 'ns/b']);
  e.deletionObserved('k', 'ns/a');
  e.deletionObserved('k', 'ns/a');
  assert.ok(!e.satisfied('k'), 'the same pod counts once');
  now = 2000;
  assert.ok(e.satisfied('k'), 'expired');
  now = 0;
  e.deletionObserved('k', 'ns/b');
  assert.ok(e.satisfied('k'));
});

test('slowStartBatch: batches of 1, 2, 4 ... stopping after the first failing batch', async () => {
  const batches: number[] = [];
  let inBatch = 0;
  const ok = await slowStartBatch(10, 1, async () => { inBatch++; await Promise.resolve(); batches.push(inBatch); inBatch = 0; });
  assert.equal(ok.successes, 10);
  let calls = 0;
  const failing = await slowStartBatch(10, 1, async (i) => { calls++; if (i === 2) throw new Error('quota'); });
  assert.equal(calls, 3, 'batch 1, then batch 2 which fails');
  assert.equal(failing.successes, 2);
  assert.equal((failing.error as Error).message, 'quota');
});

test('calculateStatus counts fully labeled, ready and available pods and keeps ReplicaFailure while failing', () => {
  const rs: Obj = { metadata: { name: 'r', generation: 2 }, spec: { replicas: 3, minReadySeconds: 10, template: { metadata: { labels: { a: '1', b: '2' } } } } };
  const now = Date.parse('2024-01-01T00:01:00Z');
  const pods: Obj[] = [
    { metadata: { labels: { a: '1', b: '2' } }, status: { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2024-01-01T00:00:00Z' }] } },
    { metadata: { labels: { a: '1', b: '2' } }, status: { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2024-01-01T00:00:55Z' }] } },
    { metadata: { labels: { a: '1' } }, status: {} },
  ];
  const s = calculateStatus(rs, pods, undefined, now);
  assert.deepEqual(s, { replicas: 3, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 1 });
  assert.deepEqual(calculateStatus(rs, [], undefined, now), { replicas: 0 }, 'zero counts are omitted, replicas is not');
  const failed = calculateStatus(rs, pods, { error: new Error('pods "x" is forbidden: exceeded quota'), diff: -1 }, now);
  assert.equal(failed.conditions?.[0]?.type, 'ReplicaFailure');
  assert.equal(failed.conditions?.[0]?.reason, 'FailedCreate');
  assert.equal(failed.conditions?.[0]?.message, 'pods "x" is forbidden: exceeded quota');
  const cleared = calculateStatus({ ...rs, status: { conditions: failed.conditions } }, pods, undefined, now);
  assert.equal(cleared.conditions, undefined);
});

test('podFromTemplate copies labels, annotations, finalizers and spec and sets the controllerRef', () => {
  const p = podFromTemplate({
    metadata: { name: 'r', namespace: 'ns', uid: 'u1' },
    spec: { template: { metadata: { labels: { a: '1' }, annotations: { x: 'y' }, finalizers: ['f'] }, spec: { containers: [{ name: 'c', image: 'i' }] } } },
  });
  assert.deepEqual(p.metadata, {
    generateName: 'r-', namespace: 'ns', labels: { a: '1' }, annotations: { x: 'y' }, finalizers: ['f'],
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'r', uid: 'u1', controller: true, blockOwnerDeletion: true }],
  });
  assert.deepEqual(p.spec, { containers: [{ name: 'c', image: 'i' }] });
});
