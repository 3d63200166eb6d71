import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Informer, type ResourceDescriptor, type RestClient } from '../../client/index.js';
import { eventually } from '../../client/testing.js';
import { PODS, isPodReady, type Obj } from '../replicaset/controller-utils.js';
import { FakeKubelet } from '../replicaset/fake-kubelet.js';
import { CONTROLLERREVISIONS, POD_INDEX_LABEL, POD_NAME_LABEL, PVCS, REVISION_LABEL, STATEFULSETS, StatefulSetController, ordinalOf } from './statefulset-controller.js';
import { controllerTestBed } from '../testing.js';

const NAMESPACES: ResourceDescriptor = { group: '', version: 'v1', plural: 'namespaces', namespaced: false };

const bed = controllerTestBed((c) => new StatefulSetController(c), { kubelet: { auto: true } });

async function namespace(name: string): Promise<string> {
  await bed.client.create(NAMESPACES, undefined, { metadata: { name } });
  return name;
}

function statefulSet(name: string, replicas: number, extra: Record<string, unknown> = {}): Obj {
  return {
    metadata: { name },
    spec: {
      replicas, serviceName: name, selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox:1', volumeMounts: [{ name: 'data', mountPath: '/data' }] }] } },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      ...extra,
    },
  };
}

async function livePods(ns: string): Promise<Obj[]> {
  return (await bed.client.list<Obj>(PODS, ns)).items.filter((p) => !p.metadata?.deletionTimestamp);
}

/** Waits until the set has exactly these ready pods and its status says so. */
async function waitReady(ns: string, name: string, n: number): Promise<Obj[]> {
  return (await eventually(async () => {
    const pods = await livePods(ns);
    const set = await bed.client.get<Obj>(STATEFULSETS, ns, name);
    const names = pods.map((p) => p.metadata!.name).sort();
    const want = Array.from({ length: n }, (_, i) => `${name}-${i}`).sort();
    return JSON.stringify(names) === JSON.stringify(want) && pods.every(isPodReady) && set.status?.readyReplicas === n
      && set.status?.replicas === n && set.status?.observedGeneration === set.metadata?.generation ? pods : undefined;
  }, `${n} ready pods of ${name}`, 15_000)) as Obj[];
}

test('OrderedReady creates pods in order with identity, PVCs and a revision; scale down is in reverse and keeps PVCs', async () => {
  const ns = await namespace('sts-ordered');
  // Record when each pod appears and when each becomes ready.
  const created = new Map<string, number>();
  const readyAt = new Map<string, number>();
  let seq = 0;
  const deletedOrder: string[] = [];
  const inf = new Informer<Obj>(bed.cluster.newClient(), PODS, { namespace: ns });
  const note = (p: Obj) => {
    const n = p.metadata!.name!;
    if (!created.has(n)) created.set(n, ++seq);
    if (isPodReady(p) && !readyAt.has(n)) readyAt.set(n, ++seq);
  };
  inf.on('add', note);
  inf.on('update', (_o, p) => note(p));
  inf.on('delete', (p) => deletedOrder.push(p.metadata!.name!));
  inf.start(bed.signal);
  assert.ok(await inf.waitForSync(AbortSignal.timeout(10_000)));

  const set = await bed.client.create<Obj>(STATEFULSETS, ns, statefulSet('web', 3));
  const pods = await waitReady(ns, 'web', 3);
  assert.ok(created.get('web-1')! > readyAt.get('web-0')!, 'web-1 created only after web-0 was ready');
  assert.ok(created.get('web-2')! > readyAt.get('web-1')!, 'web-2 created only after web-1 was ready');

  const fresh = await bed.client.get<Obj>(STATEFULSETS, ns, 'web');
  for (const p of pods) {
    const n = p.metadata!.name!;
    const ord = ordinalOf('web', p);
    assert.equal(p.metadata!.labels![POD_NAME_LABEL], n);
    assert.equal(p.metadata!.labels![POD_INDEX_LABEL], String(ord));
    assert.equal(p.metadata!.labels!.app, 'web');
    assert.ok(fresh.status.updateRevision.endsWith(p.metadata!.labels![REVISION_LABEL]));
    assert.equal(p.spec.hostname, n);
    assert.equal(p.spec.subdomain, 'web');
    assert.deepEqual(p.metadata!.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: set.metadata!.uid, controller: true, blockOwnerDeletion: true }]);
    assert.deepEqual(p.spec.volumes.find((v: any) => v.name === 'data').persistentVolumeClaim, { claimName: `data-web-${ord}` });
  }
  assert.equal(fresh.status.currentRevision, fresh.status.updateRevision);
  assert.equal(fresh.status.updatedReplicas, 3);
  assert.equal(fresh.status.currentReplicas, 3);
  assert.equal(fresh.status.availableReplicas, 3);
  const claims = (await bed.client.list<Obj>(PVCS, ns)).items.map((c) => c.metadata!.name).sort();
  assert.deepEqual(claims, ['data-web-0', 'data-web-1', 'data-web-2']);

  await bed.client.patch(STATEFULSETS, ns, 'web', { spec: { replicas: 1 } }, 'merge');
  await waitReady(ns, 'web', 1);
  assert.deepEqual(deletedOrder, ['web-2', 'web-1']);
  const kept = (await bed.client.list<Obj>(PVCS, ns)).items.map((c) => c.metadata!.name).sort();
  assert.deepEqual(kept, ['data-web-0', 'data-web-1', 'data-web-2']);

  // Upstream's events, on the set.
  const EVENTS: ResourceDescriptor = { group: '', version: 'v1', plural: 'events', namespaced: true };
  const messages = await eventually(async () => {
    const es = (await bed.client.list<any>(EVENTS, ns, { fieldSelector: 'involvedObject.kind=StatefulSet,involvedObject.name=web' })).items;
    return es.length >= 8 ? es : undefined;
  }, 'the StatefulSet events') as any[];
  const got = messages.map((e) => `${e.reason}: ${e.message}`).sort();
  assert.deepEqual(got, [
    'SuccessfulCreate: create Claim data-web-0 Pod web-0 in StatefulSet web success',
    'SuccessfulCreate: create Claim data-web-1 Pod web-1 in StatefulSet web success',
    'SuccessfulCreate: create Claim data-web-2 Pod web-2 in StatefulSet web success',
    'SuccessfulCreate: create Pod web-0 in StatefulSet web successful',
    'SuccessfulCreate: create Pod web-1 in StatefulSet web successful',
    'SuccessfulCreate: create Pod web-2 in StatefulSet web successful',
    'SuccessfulDelete: delete Pod web-1 in StatefulSet web successful',
    'SuccessfulDelete: delete Pod web-2 in StatefulSet web successful',
  ]);
  assert.ok(messages.every((e) => e.source.component === 'statefulset-controller' && e.involvedObject.uid === set.metadata!.uid));
});

test('a rolling update with partition=1 replaces web-2 then web-1 and leaves web-0', async () => {
  const ns = await namespace('sts-rolling');
  await bed.client.create<Obj>(STATEFULSETS, ns, statefulSet('web', 3, { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } }));
  const before = await waitReady(ns, 'web', 3);
  const oldUID = new Map(before.map((p) => [p.metadata!.name!, p.metadata!.uid!]));
  const oldSet = await bed.client.get<Obj>(STATEFULSETS, ns, 'web');

  const order: string[] = [];
  let seq = 0;
  const deletedAt = new Map<string, number>();
  const newReadyAt = new Map<string, number>();
  const inf = new Informer<Obj>(bed.cluster.newClient(), PODS, { namespace: ns });
  inf.on('delete', (p) => { order.push(p.metadata!.name!); deletedAt.set(p.metadata!.name!, ++seq); });
  inf.on('update', (_o, p) => {
    const n = p.metadata!.name!;
    if (isPodReady(p) && p.metadata!.uid !== oldUID.get(n) && !newReadyAt.has(n)) newReadyAt.set(n, ++seq);
  });
  inf.start(bed.signal);
  assert.ok(await inf.waitForSync(AbortSignal.timeout(10_000)));

  const tpl = structuredClone(oldSet.spec.template);
  tpl.spec.containers[0].image = 'busybox:2';
  await bed.client.patch(STATEFULSETS, ns, 'web', { spec: { template: tpl } }, 'merge');

  const after = (await eventually(async () => {
    const set = await bed.client.get<Obj>(STATEFULSETS, ns, 'web');
    const pods = await livePods(ns);
    const img = (n: string) => pods.find((p) => p.metadata!.name === n)?.spec.containers[0].image;
    return set.status?.updatedReplicas === 2 && set.status?.readyReplicas === 3 && img('web-1') === 'busybox:2' && img('web-2') === 'busybox:2' && pods.every(isPodReady) && pods.length === 3 ? { set, pods } : undefined;
  }, 'web-1 and web-2 updated', 15_000)) as { set: Obj; pods: Obj[] };
  assert.deepEqual(order, ['web-2', 'web-1']);
  assert.ok(deletedAt.get('web-1')! > newReadyAt.get('web-2')!, 'web-1 replaced only after the new web-2 was ready');
  const web0 = after.pods.find((p) => p.metadata!.name === 'web-0')!;
  assert.equal(web0.metadata!.uid, oldUID.get('web-0'));
  assert.equal(web0.spec.containers[0].image, 'busybox:1');
  assert.notEqual(after.set.status.updateRevision, after.set.status.currentRevision);
  assert.equal(after.set.status.currentRevision, oldSet.status.currentRevision);
  assert.equal(after.set.status.currentReplicas, 1);

  // The revisions' data replace the whole template when applied (kubectl rollout undo), as
  // upstream's getPatch makes them.
  const rev: any = await bed.client.get(CONTROLLERREVISIONS, ns, after.set.status.currentRevision);
  assert.equal(rev.data.spec.template.$patch, 'replace');
  assert.equal(rev.data.spec.template.spec.containers[0].image, 'busybox:1');
});

test('OnDelete with ordinals.start and Parallel: pods keep their template until deleted, then come back with the new one', async () => {
  const ns = await namespace('sts-ondelete');
  await bed.client.create<Obj>(STATEFULSETS, ns, statefulSet('db', 2, { podManagementPolicy: 'Parallel', ordinals: { start: 5 }, updateStrategy: { type: 'OnDelete' } }));
  const ready = (names: string[]) => eventually(async () => {
    const pods = await livePods(ns);
    return JSON.stringify(pods.map((p) => p.metadata!.name).sort()) === JSON.stringify(names) && pods.every(isPodReady) ? pods : undefined;
  }, names.join(','), 15_000) as Promise<Obj[]>;
  const first = await ready(['db-5', 'db-6']);
  const set = await bed.client.get<Obj>(STATEFULSETS, ns, 'db');
  const tpl = structuredClone(set.spec.template);
  tpl.spec.containers[0].image = 'busybox:2';
  await bed.client.patch(STATEFULSETS, ns, 'db', { spec: { template: tpl } }, 'merge');
  await eventually(async () => {
    const s = await bed.client.get<Obj>(STATEFULSETS, ns, 'db');
    return s.status?.updateRevision && s.status.updateRevision !== s.status.currentRevision && s.status.updatedReplicas === 0;
  }, 'new update revision', 15_000);
  const db6 = first.find((p) => p.metadata!.name === 'db-6')!;
  await bed.client.delete(PODS, ns, 'db-6');
  const after = await eventually(async () => {
    const pods = await ready(['db-5', 'db-6']);
    const n6 = pods.find((p) => p.metadata!.name === 'db-6')!;
    return n6.metadata!.uid !== db6.metadata!.uid ? pods : undefined;
  }, 'db-6 recreated', 15_000) as Obj[];
  const img = (n: string) => after.find((p) => p.metadata!.name === n)!.spec.containers[0].image;
  assert.equal(img('db-6'), 'busybox:2');
  assert.equal(img('db-5'), 'busybox:1');
  assert.equal(after.find((p) => p.metadata!.name === 'db-5')!.metadata!.uid, first.find((p) => p.metadata!.name === 'db-5')!.metadata!.uid);
  const claims = (await bed.client.list<Obj>(PVCS, ns)).items.map((c) => c.metadata!.name).sort();
  assert.deepEqual(claims, ['data-db-5', 'data-db-6']);
  await eventually(async () => (await bed.client.get<Obj>(STATEFULSETS, ns, 'db')).status?.updatedReplicas === 1, 'updatedReplicas 1', 15_000);
});
