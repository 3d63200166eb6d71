import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCluster, eventually, type TestCluster } from '../client/testing.js';
import { LEASES } from '../client/index.js';
import { Scheduler, PODS, NODES, PRIORITY_CLASSES } from './scheduler.js';
import { EVENTS } from '../client/event-recorder.js';
import { SimNodes } from '../simnodes/sim-nodes.js';
import { zoneLabels } from '../simnodes/cli.js';

interface Env {
  cluster: TestCluster;
  client: TestCluster['client'];
  sched: Scheduler;
}

/** A cluster, a scheduler (with leader election) and optional simulated nodes, torn down after the test. */
async function env(t: any, sim?: ConstructorParameters<typeof SimNodes>[1]): Promise<Env & { sim?: SimNodes }> {
  const cluster = await startTestCluster();
  const ac = new AbortController();
  const sched = new Scheduler(cluster.newClient(), { leaderElection: { leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2 } });
  const running = sched.start(ac.signal);
  let nodes: SimNodes | undefined;
  let simRunning: Promise<void> | undefined;
  if (sim) {
    nodes = new SimNodes(cluster.newClient(), sim);
    simRunning = nodes.start(ac.signal);
    await nodes.registered();
  }
  t.after(async () => {
    ac.abort();
    await running;
    await simRunning;
    await cluster.stop();
  });
  return { cluster, client: cluster.client, sched, sim: nodes };
}

async function addNode(client: any, name: string, opts: { cpu?: string; memory?: string; labels?: Record<string, string>; taints?: any[] } = {}) {
  await client.create(NODES, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(opts.labels ?? {}) } }, spec: opts.taints ? { taints: opts.taints } : {} });
  const alloc = { cpu: opts.cpu ?? '4', memory: opts.memory ?? '8Gi', pods: '110' };
  await client.patch(NODES, undefined, name, { status: { capacity: alloc, allocatable: alloc, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ready' }] } }, 'merge', { subresource: 'status' });
}

function podObj(name: string, o: { cpu?: string; labels?: Record<string, string>; spec?: Record<string, unknown> } = {}) {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: o.labels ?? {} },
    spec: { containers: [{ name: 'c', image: 'busybox', resources: o.cpu ? { requests: { cpu: o.cpu } } : {} }], ...(o.spec ?? {}) },
  };
}

const nodeOf = async (client: any, name: string): Promise<string | undefined> => ((await client.get(PODS, 'default', name)) as any).spec?.nodeName;
const waitBound = (client: any, name: string) => eventually(() => nodeOf(client, name), `${name} bound`, 15_000);

test('places a pod on the only node with enough CPU, records Scheduled, holds the Lease', async (t) => {
  const { client, sched } = await env(t);
  await addNode(client, 'small-1', { cpu: '1' });
  await addNode(client, 'small-2', { cpu: '1' });
  await addNode(client, 'big', { cpu: '8' });
  await client.create(PODS, 'default', podObj('cruncher', { cpu: '3' }));
  assert.equal(await waitBound(client, 'cruncher'), 'big');
  const pod: any = await client.get(PODS, 'default', 'cruncher');
  assert.equal(pod.status.conditions.find((c: any) => c.type === 'PodScheduled').status, 'True');
  const ev: any = await eventually(async () => (await client.list(EVENTS, 'default')).items.find((e: any) => e.reason === 'Scheduled' && e.involvedObject.name === 'cruncher'), 'Scheduled event');
  assert.equal(ev.message, 'Successfully assigned default/cruncher to big');
  assert.equal(ev.type, 'Normal');
  assert.equal(ev.source.component, 'default-scheduler');
  const lease: any = await client.get(LEASES, 'kube-system', 'keelson-scheduler');
  assert.equal(lease.spec.holderIdentity, sched.identity);
  assert.equal(sched.isLeader(), true);
});

test('respects nodeSelector and taints/tolerations; ignores pods for other schedulers', async (t) => {
  const { client } = await env(t);
  await addNode(client, 'plain-1');
  await addNode(client, 'plain-2');
  await addNode(client, 'ssd', { labels: { disk: 'ssd' } });
  await addNode(client, 'gpu', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] });
  await client.create(PODS, 'default', podObj('fast', { spec: { nodeSelector: { disk: 'ssd' } } }));
  await client.create(PODS, 'default', podObj('trainer', { spec: { nodeSelector: { 'kubernetes.io/hostname': 'gpu' }, tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] } }));
  await client.create(PODS, 'default', podObj('other', { spec: { schedulerName: 'my-scheduler' } }));
  for (let i = 0; i < 6; i++) await client.create(PODS, 'default', podObj(`any-${i}`));
  assert.equal(await waitBound(client, 'fast'), 'ssd');
  assert.equal(await waitBound(client, 'trainer'), 'gpu');
  for (let i = 0; i < 6; i++) assert.notEqual(await waitBound(client, `any-${i}`), 'gpu', 'untolerated taint keeps pods off');
  assert.equal(await nodeOf(client, 'other'), undefined, 'another scheduler\'s pod is left alone');
});

test('required anti-affinity puts two pods with the same label on different nodes', async (t) => {
  const { client } = await env(t);
  await addNode(client, 'n1');
  await addNode(client, 'n2');
  const anti = { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'kubernetes.io/hostname' }] } } };
  await client.create(PODS, 'default', podObj('db-0', { labels: { app: 'db' }, spec: anti }));
  await client.create(PODS, 'default', podObj('db-1', { labels: { app: 'db' }, spec: anti }));
  const a = await waitBound(client, 'db-0');
  const b = await waitBound(client, 'db-1');
  assert.notEqual(a, b);
  // A third has nowhere to go.
  await client.create(PODS, 'default', podObj('db-2', { labels: { app: 'db' }, spec: anti }));
  const ev: any = await eventually(async () => (await client.list(EVENTS, 'default')).items.find((e: any) => e.reason === 'FailedScheduling' && e.involvedObject.name === 'db-2'), 'FailedScheduling');
  assert.equal(ev.message, "0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.");
});

test('topology spread across 3 zones: 6 pods → 2 per zone', async (t) => {
  const { client } = await env(t, { count: 6, namePrefix: 'z-', capacity: { cpu: '8', memory: '16Gi', pods: '110' }, labels: zoneLabels(3) });
  const spread = { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } } }] };
  for (let i = 0; i < 6; i++) await client.create(PODS, 'default', podObj(`web-${i}`, { labels: { app: 'web' }, spec: spread }));
  const perZone = new Map<string, number>();
  for (let i = 0; i < 6; i++) {
    const node = await waitBound(client, `web-${i}`);
    const zone = ((await client.get(NODES, undefined, node!)) as any).metadata.labels['topology.kubernetes.io/zone'];
    perZone.set(zone, (perZone.get(zone) ?? 0) + 1);
  }
  assert.deepEqual([...perZone.entries()].sort(), [['zone-0', 2], ['zone-1', 2], ['zone-2', 2]]);
});

test('an unschedulable pod gets FailedScheduling and PodScheduled=False, then lands once a fitting node is added', async (t) => {
  const { client, sched } = await env(t);
  await addNode(client, 'tiny', { cpu: '1' });
  await addNode(client, 'cp', { cpu: '16', taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] });
  await addNode(client, 'cp2', { cpu: '16', taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] });
  await client.create(PODS, 'default', podObj('hungry', { cpu: '2' }));
  const ev: any = await eventually(async () => (await client.list(EVENTS, 'default')).items.find((e: any) => e.reason === 'FailedScheduling' && e.involvedObject.name === 'hungry'), 'FailedScheduling event');
  assert.equal(ev.type, 'Warning');
  assert.equal(ev.message, '0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.');
  const cond: any = await eventually(async () => ((await client.get(PODS, 'default', 'hungry')) as any).status.conditions?.find((c: any) => c.type === 'PodScheduled'), 'PodScheduled condition');
  assert.equal(cond.status, 'False');
  assert.equal(cond.reason, 'Unschedulable');
  assert.equal(cond.message, ev.message);
  assert.equal(await nodeOf(client, 'hungry'), undefined);
  await eventually(() => sched.queue.stats().unschedulable === 1, 'pod waits in the unschedulable queue');
  await addNode(client, 'roomy', { cpu: '4' });
  assert.equal(await waitBound(client, 'hungry'), 'roomy');
});

test('a high-priority pod preempts a low-priority one when the cluster is full', async (t) => {
  const { client } = await env(t, { count: 1, namePrefix: 'full-', capacity: { cpu: '2', memory: '4Gi', pods: '110' } });
  await client.create(PRIORITY_CLASSES, undefined, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'critical' }, value: 1000 });
  await client.create(PODS, 'default', podObj('batch', { cpu: '2', spec: { priority: 0 } }));
  assert.equal(await waitBound(client, 'batch'), 'full-0');
  await eventually(async () => ((await client.get(PODS, 'default', 'batch')) as any).status.phase === 'Running', 'batch running');
  // priorityClassName without spec.priority: the scheduler resolves it.
  const vip: any = podObj('vip', { cpu: '2', spec: { priorityClassName: 'critical' } });
  await client.create(PODS, 'default', vip);
  assert.equal(await waitBound(client, 'vip'), 'full-0');
  await eventually(async () => {
    try { await client.get(PODS, 'default', 'batch'); return false; } catch (e: any) { return e.code === 404; }
  }, 'victim deleted');
  const nominated: any = await eventually(async () => ((await client.get(PODS, 'default', 'vip')) as any).status.nominatedNodeName, 'status.nominatedNodeName');
  assert.equal(nominated, 'full-0');
  const events: any = await eventually(async () => {
    const items = (await client.list(EVENTS, 'default')).items;
    return items.some((e: any) => e.reason === 'Preempted' && e.involvedObject.name === 'batch') && items;
  }, 'Preempted event on the victim');
  const failed: any = events.find((e: any) => e.reason === 'FailedScheduling' && e.involvedObject.name === 'vip');
  assert.equal(failed?.message, '0/1 nodes are available: 1 Insufficient cpu.');
});

test('only the Lease holder schedules; a standby takes over when the leader stops', async (t) => {
  const cluster = await startTestCluster();
  const a = new AbortController();
  const b = new AbortController();
  const le = { leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 1 };
  const first = new Scheduler(cluster.newClient(), { leaderElection: le, identity: 'first' });
  const firstRunning = first.start(a.signal);
  await eventually(() => first.isLeader(), 'first leads');
  const second = new Scheduler(cluster.newClient(), { leaderElection: le, identity: 'second' });
  const secondRunning = second.start(b.signal);
  t.after(async () => { a.abort(); b.abort(); await firstRunning; await secondRunning; await cluster.stop(); });
  const { client } = cluster;
  await addNode(client, 'n1');
  await client.create(PODS, 'default', podObj('p1'));
  await waitBound(client, 'p1');
  assert.equal(second.isLeader(), false);
  assert.equal(second.stats().attempts, 0, 'the standby did not schedule');
  // The leader releases the Lease on shutdown; the standby takes over.
  a.abort();
  await firstRunning;
  await eventually(() => second.isLeader(), 'second leads', 15_000);
  await client.create(PODS, 'default', podObj('p2'));
  await waitBound(client, 'p2');
  assert.equal(second.stats().scheduled, 1);
});
