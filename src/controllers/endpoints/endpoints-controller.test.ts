import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type ResourceDescriptor, type RestClient } from '../../client/index.js';
import { eventually } from '../../client/testing.js';
import { PODS, type Obj } from '../replicaset/controller-utils.js';
import { markPodReady } from '../replicaset/fake-kubelet.js';
import { EndpointsController, computeSubsets, type Endpoints } from './endpoints-controller.js';
import { ENDPOINTS, LABEL_SKIP_MIRROR, SERVICES, resolveTargetPort } from './endpoints-util.js';
import { controllerTestBed } from '../testing.js';

const NAMESPACES: ResourceDescriptor = { group: '', version: 'v1', plural: 'namespaces', namespaced: false };

const bed = controllerTestBed((c) => new EndpointsController(c));

async function getEndpoints(ns: string, name: string): Promise<Endpoints | undefined> {
  try {
    return await bed.client.get<Endpoints>(ENDPOINTS, ns, name);
  } catch {
    return undefined;
  }
}

function pod(name: string, labels: Record<string, string>, ports: Array<{ name: string; containerPort: number }> = [{ name: 'http-port', containerPort: 8080 }], extra: Record<string, unknown> = {}): Obj {
  return { metadata: { name, labels, ...extra }, spec: { nodeName: 'node-a', containers: [{ name: 'c', image: 'busybox', ports }] } };
}

async function setReady(p: Obj, ready: boolean): Promise<void> {
  const cur = await bed.client.get<Obj>(PODS, p.metadata!.namespace, p.metadata!.name!);
  const conditions = (cur.status?.conditions ?? []).map((c: any) => (c.type === 'Ready' || c.type === 'ContainersReady' ? { ...c, status: ready ? 'True' : 'False' } : c));
  await bed.client.patch(PODS, p.metadata!.namespace, p.metadata!.name!, { status: { conditions } }, 'merge', { subresource: 'status' });
}

const addrCount = (ep: Endpoints | undefined, field: 'addresses' | 'notReadyAddresses') =>
  (ep?.subsets ?? []).reduce((n, s) => n + (s[field]?.length ?? 0), 0);

test('unit: named and numeric target ports resolve against the pod', () => {
  const p = pod('p', {}, [{ name: 'web', containerPort: 8080 }]);
  assert.equal(resolveTargetPort({ port: 80, targetPort: 'web' }, p), 8080);
  assert.equal(resolveTargetPort({ port: 80, targetPort: 'web', protocol: 'UDP' }, p), undefined);
  assert.equal(resolveTargetPort({ port: 80, targetPort: 9000 }, p), 9000);
  assert.equal(resolveTargetPort({ port: 80, targetPort: 'nope' }, p), undefined);
});

test('unit: subsets group pods by port set and sort deterministically', () => {
  const svc: Obj = { metadata: { name: 's', namespace: 'n' }, spec: { selector: { a: 'b' }, ports: [{ name: 'http', port: 80, targetPort: 'web', protocol: 'TCP' }, { name: 'm', port: 90, targetPort: 9100, protocol: 'TCP' }] } };
  const mk = (name: string, ip: string, ports: Array<{ name: string; containerPort: number }>, ready = true): Obj => ({
    metadata: { name, namespace: 'n', uid: name, labels: { a: 'b' } },
    spec: { containers: [{ name: 'c', ports }] },
    status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  });
  const pods = [mk('p3', '10.0.0.10', [{ name: 'web', containerPort: 8080 }]), mk('p1', '10.0.0.9', [{ name: 'web', containerPort: 8080 }]), mk('p2', '10.0.0.5', []), mk('p4', '10.0.0.1', [{ name: 'web', containerPort: 8080 }], false)];
  const a = computeSubsets(svc, pods);
  const b = computeSubsets(svc, [...pods].reverse());
  assert.deepEqual(a, b);
  assert.equal(a.length, 2);
  const full = a.find((s) => s.ports?.length === 2)!;
  assert.deepEqual(full.addresses!.map((x) => x.ip), ['10.0.0.9', '10.0.0.10']);
  assert.deepEqual(full.notReadyAddresses!.map((x) => x.ip), ['10.0.0.1']);
  const partial = a.find((s) => s.ports?.length === 1)!;
  assert.deepEqual(partial.ports, [{ name: 'm', port: 9100, protocol: 'TCP' }]);
});

test('endpoints follow pods: ready, not ready, publishNotReadyAddresses, service deletion', async () => {
  const ns = 'ep-main';
  await bed.client.create(NAMESPACES, undefined, { metadata: { name: ns } });
  await bed.client.create(SERVICES, ns, {
    metadata: { name: 'web', labels: { team: 'a' } },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http-port' }, { name: 'metrics', port: 9090, targetPort: 9100 }] },
  });
  const pods: Obj[] = [];
  for (const n of ['web-a', 'web-b', 'web-c']) pods.push(await bed.client.create<Obj>(PODS, ns, pod(n, { app: 'web' })));
  // A pod of another app and a pod without an IP are not endpoints.
  const other = await bed.client.create<Obj>(PODS, ns, pod('other', { app: 'other' }));
  await bed.client.create<Obj>(PODS, ns, pod('pending', { app: 'web' }));
  for (const p of [...pods, other]) assert.ok(await markPodReady(bed.client, p));

  let ep = await eventually(async () => {
    const e = await getEndpoints(ns, 'web');
    return addrCount(e, 'addresses') === 3 ? e : undefined;
  }, 'endpoints with 3 ready addresses');
  assert.equal(ep!.subsets!.length, 1);
  const subset = ep!.subsets![0];
  assert.deepEqual(subset.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'metrics', port: 9100, protocol: 'TCP' }]);
  assert.equal(subset.notReadyAddresses, undefined);
  const podA = pods[0];
  const addrA = subset.addresses!.find((a) => a.targetRef?.name === 'web-a')!;
  assert.deepEqual(addrA.targetRef, { kind: 'Pod', namespace: ns, name: 'web-a', uid: podA.metadata!.uid });
  assert.equal(addrA.nodeName, 'node-a');
  assert.ok(addrA.ip);
  assert.equal(ep!.metadata!.labels![LABEL_SKIP_MIRROR], 'true');
  assert.equal(ep!.metadata!.labels!.team, 'a');

  // Nothing changed: a sync writes nothing.
  const rv = ep!.metadata!.resourceVersion;
  await bed.controller.reconcile(`${ns}/web`);
  assert.equal((await getEndpoints(ns, 'web'))!.metadata!.resourceVersion, rv);

  // A pod turning not ready moves to notReadyAddresses.
  await setReady(podA, false);
  ep = await eventually(async () => {
    const e = await getEndpoints(ns, 'web');
    return addrCount(e, 'addresses') === 2 && addrCount(e, 'notReadyAddresses') === 1 ? e : undefined;
  }, 'one not-ready address');
  assert.equal(ep!.subsets![0].notReadyAddresses![0].targetRef!.name, 'web-a');

  // publishNotReadyAddresses: every pod in addresses.
  const svc = await bed.client.get<Obj>(SERVICES, ns, 'web');
  await bed.client.update(SERVICES, ns, { ...svc, spec: { ...svc.spec, publishNotReadyAddresses: true } });
  await eventually(async () => {
    const e = await getEndpoints(ns, 'web');
    return addrCount(e, 'addresses') === 3 && addrCount(e, 'notReadyAddresses') === 0;
  }, 'all addresses published');

  // Deleting the Service removes its Endpoints.
  await bed.client.delete(SERVICES, ns, 'web');
  await eventually(async () => (await getEndpoints(ns, 'web')) === undefined, 'endpoints deleted');
});

test('terminating pods leave the endpoints; selector-less services are left alone', async () => {
  const ns = 'ep-term';
  await bed.client.create(NAMESPACES, undefined, { metadata: { name: ns } });
  await bed.client.create(SERVICES, ns, { metadata: { name: 'api' }, spec: { selector: { app: 'api' }, ports: [{ port: 80, targetPort: 8080 }] } });
  const keep = await bed.client.create<Obj>(PODS, ns, pod('api-1', { app: 'api' }));
  const going = await bed.client.create<Obj>(PODS, ns, pod('api-2', { app: 'api' }, undefined, { finalizers: ['example.com/hold'] }));
  assert.ok(await markPodReady(bed.client, keep));
  assert.ok(await markPodReady(bed.client, going));
  await eventually(async () => addrCount(await getEndpoints(ns, 'api'), 'addresses') === 2, 'two addresses');
  await bed.client.delete(PODS, ns, 'api-2');
  const ep = await eventually(async () => {
    const e = await getEndpoints(ns, 'api');
    return addrCount(e, 'addresses') === 1 && addrCount(e, 'notReadyAddresses') === 0 ? e : undefined;
  }, 'terminating pod removed');
  assert.equal(ep!.subsets![0].addresses![0].targetRef!.name, 'api-1');
  assert.deepEqual(ep!.subsets![0].ports, [{ port: 8080, protocol: 'TCP' }]);

  // A Service without a selector with hand-written Endpoints: untouched.
  await bed.client.create(SERVICES, ns, { metadata: { name: 'manual' }, spec: { ports: [{ port: 80 }] } });
  const manual = await bed.client.create<Endpoints>(ENDPOINTS, ns, { metadata: { name: 'manual' }, subsets: [{ addresses: [{ ip: '192.0.2.1' }], ports: [{ port: 80 }] }] });
  await bed.controller.reconcile(`${ns}/manual`);
  const after = await getEndpoints(ns, 'manual');
  assert.equal(after!.metadata!.resourceVersion, manual.metadata!.resourceVersion);

  // Removing the selector of a Service removes the Endpoints the controller made for it.
  const api = await bed.client.get<Obj>(SERVICES, ns, 'api');
  const { selector: _drop, ...spec } = api.spec;
  await bed.client.update(SERVICES, ns, { ...api, spec });
  await eventually(async () => (await getEndpoints(ns, 'api')) === undefined, 'endpoints of selector-less service deleted');
  await bed.client.patch(PODS, ns, 'api-2', { metadata: { finalizers: null } }, 'merge');
});
