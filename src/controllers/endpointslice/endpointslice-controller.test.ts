import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type ResourceDescriptor, type RestClient } from '../../client/index.js';
import { eventually } from '../../client/testing.js';
import { PODS, type Obj } from '../replicaset/controller-utils.js';
import { markPodReady } from '../replicaset/fake-kubelet.js';
import { ENDPOINTSLICES, NODES, SERVICES } from '../endpoints/endpoints-util.js';
import { CONTROLLER_NAME, EndpointSliceController, LABEL_MANAGED_BY, LABEL_SERVICE_NAME, type EndpointSlice, type SliceEndpoint } from './endpointslice-controller.js';
import { controllerTestBed } from '../testing.js';

const NAMESPACES: ResourceDescriptor = { group: '', version: 'v1', plural: 'namespaces', namespaced: false };

// Two endpoints per slice, so that three pods need two slices.
const bed = controllerTestBed((c) => new EndpointSliceController(c, { maxEndpointsPerSlice: 2 }));

async function slices(ns: string, svc: string): Promise<EndpointSlice[]> {
  const list = await bed.client.list<EndpointSlice>(ENDPOINTSLICES, ns, { labelSelector: `${LABEL_SERVICE_NAME}=${svc}` });
  return list.items;
}

const allEndpoints = (ss: EndpointSlice[]): SliceEndpoint[] => ss.flatMap((s) => s.endpoints ?? []);

function pod(name: string, labels: Record<string, string>, extra: Record<string, unknown> = {}): Obj {
  return { metadata: { name, labels, ...extra }, spec: { nodeName: 'node-a', containers: [{ name: 'c', image: 'busybox', ports: [{ name: 'http-port', containerPort: 8080 }] }] } };
}

test('endpoint slices mirror ready, not-ready and terminating pods; deleted with the service', async () => {
  const ns = 'eps-main';
  await bed.client.create(NAMESPACES, undefined, { metadata: { name: ns } });
  await bed.client.create(NODES, undefined, { metadata: { name: 'node-a', labels: { 'topology.kubernetes.io/zone': 'zone-1' } } });
  const svc = await bed.client.create<Obj>(SERVICES, ns, {
    metadata: { name: 'web', labels: { team: 'a' } },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http-port' }] },
  });
  const pods: Obj[] = [];
  for (const n of ['web-a', 'web-b']) pods.push(await bed.client.create<Obj>(PODS, ns, pod(n, { app: 'web' })));
  pods.push(await bed.client.create<Obj>(PODS, ns, pod('web-c', { app: 'web' }, { finalizers: ['example.com/hold'] })));
  for (const p of pods) assert.ok(await markPodReady(bed.client, p));

  let ss: EndpointSlice[] = await eventually(async () => {
    const s = await slices(ns, 'web');
    return allEndpoints(s).filter((e) => e.conditions.ready).length === 3 ? s : (undefined as unknown as EndpointSlice[]);
  }, '3 ready endpoints');
  assert.equal(ss.length, 2, 'three endpoints at two per slice');
  for (const s of ss) {
    assert.equal(s.addressType, 'IPv4');
    assert.match(s.metadata!.name!, /^web-/);
    assert.equal(s.metadata!.labels![LABEL_SERVICE_NAME], 'web');
    assert.equal(s.metadata!.labels![LABEL_MANAGED_BY], CONTROLLER_NAME);
    assert.equal(s.metadata!.labels!.team, 'a');
    assert.deepEqual(s.metadata!.ownerReferences, [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: svc.metadata!.uid, controller: true, blockOwnerDeletion: true }]);
    assert.deepEqual(s.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    assert.ok((s.endpoints ?? []).length <= 2);
  }
  const epA = allEndpoints(ss).find((e) => e.targetRef?.name === 'web-a')!;
  assert.deepEqual(epA.conditions, { ready: true, serving: true, terminating: false });
  assert.equal(epA.nodeName, 'node-a');
  assert.equal(epA.zone, 'zone-1');
  assert.deepEqual(epA.targetRef, { kind: 'Pod', namespace: ns, name: 'web-a', uid: pods[0].metadata!.uid });
  assert.equal(epA.addresses.length, 1);

  // No change: a sync writes nothing.
  const rvs = ss.map((s) => s.metadata!.resourceVersion).sort();
  await bed.controller.reconcile(`${ns}/web`);
  assert.deepEqual((await slices(ns, 'web')).map((s) => s.metadata!.resourceVersion).sort(), rvs);

  // Not ready: ready and serving false.
  const cur = await bed.client.get<Obj>(PODS, ns, 'web-a');
  const conditions = cur.status.conditions.map((c: any) => (c.type === 'Ready' ? { ...c, status: 'False' } : c));
  await bed.client.patch(PODS, ns, 'web-a', { status: { conditions } }, 'merge', { subresource: 'status' });
  await eventually(async () => {
    const e = allEndpoints(await slices(ns, 'web')).find((x) => x.targetRef?.name === 'web-a');
    return e && !e.conditions.ready && !e.conditions.serving && !e.conditions.terminating;
  }, 'web-a not ready');

  // Terminating (held by a finalizer): still listed, terminating, serving, not ready.
  await bed.client.delete(PODS, ns, 'web-c');
  await eventually(async () => {
    const e = allEndpoints(await slices(ns, 'web')).find((x) => x.targetRef?.name === 'web-c');
    return e && !e.conditions.ready && e.conditions.serving && e.conditions.terminating;
  }, 'web-c terminating');

  // publishNotReadyAddresses: ready for all.
  const s1 = await bed.client.get<Obj>(SERVICES, ns, 'web');
  await bed.client.update(SERVICES, ns, { ...s1, spec: { ...s1.spec, publishNotReadyAddresses: true } });
  ss = await eventually<EndpointSlice[]>(async () => {
    const s = await slices(ns, 'web');
    return allEndpoints(s).length === 3 && allEndpoints(s).every((e) => e.conditions.ready) ? s : (undefined as unknown as EndpointSlice[]);
  }, 'all ready with publishNotReadyAddresses');

  // The pod goes away for good: its endpoint leaves the slices.
  // (Graceful deletion would wait for a kubelet: remove the finalizer and force it.)
  await bed.client.patch(PODS, ns, 'web-c', { metadata: { finalizers: null } }, 'merge');
  await bed.client.delete(PODS, ns, 'web-c', { gracePeriodSeconds: 0 }).catch(() => {});
  await eventually(async () => allEndpoints(await slices(ns, 'web')).length === 2, 'two endpoints left');

  // Deleting the Service: its slices go (the ownerReference also lets the GC remove them).
  await bed.client.delete(SERVICES, ns, 'web');
  await eventually(async () => (await slices(ns, 'web')).length === 0, 'slices deleted');
});

test('a service without endpoints gets one empty placeholder slice', async () => {
  const ns = 'eps-empty';
  await bed.client.create(NAMESPACES, undefined, { metadata: { name: ns } });
  await bed.client.create(SERVICES, ns, { metadata: { name: 'none' }, spec: { selector: { app: 'none' }, ports: [{ port: 80 }] } });
  const ss = await eventually<EndpointSlice[]>(async () => {
    const s = await slices(ns, 'none');
    return s.length === 1 ? s : (undefined as unknown as EndpointSlice[]);
  }, 'placeholder slice');
  assert.deepEqual(ss[0].endpoints ?? [], []);
  // Selector-less Services get no slices from this controller.
  await bed.client.create(SERVICES, ns, { metadata: { name: 'manual' }, spec: { ports: [{ port: 80 }] } });
  await bed.controller.reconcile(`${ns}/manual`);
  assert.equal((await slices(ns, 'manual')).length, 0);
});
