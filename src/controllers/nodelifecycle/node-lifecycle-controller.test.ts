import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCluster, eventually } from '../../client/testing.js';
import { SimNodes } from '../../simnodes/sim-nodes.js';
import { NodeLifecycleController, NODES } from './node-lifecycle-controller.js';
import { PODS } from '../replicaset/controller-utils.js';
import { EVENTS } from '../../client/event-recorder.js';
import { evictionDecision, tolerates, TAINT_UNREACHABLE, TAINT_NOT_READY } from './taints.js';

test('tolerates and evictionDecision', () => {
  const taint = { key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: '2026-01-01T00:00:00Z' };
  const t0 = Date.parse(taint.timeAdded);
  const since = (t: { timeAdded?: string }) => Date.parse(t.timeAdded!);
  assert.ok(tolerates({ operator: 'Exists' }, taint));
  assert.ok(tolerates({ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute' }, taint));
  assert.ok(!tolerates({ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoSchedule' }, taint));
  assert.ok(tolerates({ key: 'k', value: 'v' }, { key: 'k', value: 'v', effect: 'NoExecute' }));
  assert.ok(!tolerates({ key: 'k', value: 'w' }, { key: 'k', value: 'v', effect: 'NoExecute' }));
  assert.deepEqual(evictionDecision([taint], [], since), { kind: 'now', taint });
  assert.deepEqual(evictionDecision([{ key: 'x', effect: 'NoSchedule' }], [], since), { kind: 'none' });
  assert.deepEqual(evictionDecision([taint], [{ key: TAINT_UNREACHABLE, operator: 'Exists' }], since), { kind: 'none' });
  assert.deepEqual(evictionDecision([taint], [
    { key: TAINT_UNREACHABLE, operator: 'Exists', tolerationSeconds: 300 },
    { operator: 'Exists', tolerationSeconds: 5 },
  ], since), { kind: 'at', at: t0 + 5000 });
  assert.deepEqual(evictionDecision([taint], [{ operator: 'Exists', tolerationSeconds: -3 }], since), { kind: 'at', at: t0 });
  // Two taints: the earliest deadline wins; one untolerated taint means now.
  const other = { key: TAINT_NOT_READY, effect: 'NoExecute', timeAdded: '2026-01-01T00:01:00Z' };
  assert.deepEqual(evictionDecision([taint, other], [
    { key: TAINT_UNREACHABLE, operator: 'Exists' }, { key: TAINT_NOT_READY, operator: 'Exists', tolerationSeconds: 10 },
  ], since), { kind: 'at', at: t0 + 70_000 });
  assert.equal(evictionDecision([taint, other], [{ key: TAINT_UNREACHABLE, operator: 'Exists' }], since).kind, 'now');
});

const CAP = { cpu: '8', memory: '32Gi', pods: '110' };
const simOpts = (prefix: string) => ({ count: 1, namePrefix: prefix, capacity: CAP, heartbeatSeconds: 0.3, tickMs: 100 });

const pod = (name: string, tolerations: unknown[]) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
  spec: { containers: [{ name: 'app', image: 'busybox' }], tolerations },
});

async function bind(client: any, name: string, node: string) {
  await client.requestJSON('POST', `/api/v1/namespaces/default/pods/${name}/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { kind: 'Node', name: node } });
}

const cond = (n: any, type: string) => n.status?.conditions?.find((c: any) => c.type === type);
const lifecycleTaints = (n: any) => (n.spec?.taints ?? []).filter((t: any) => t.key === TAINT_UNREACHABLE || t.key === TAINT_NOT_READY);

async function gone(client: any, name: string): Promise<boolean> {
  try {
    const p: any = await client.get(PODS, 'default', name);
    return !!p.metadata.deletionTimestamp;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return true;
    throw err;
  }
}

test('silent nodes become Unknown and tainted, pods are evicted per tolerationSeconds, heartbeats untaint', async (t) => {
  const cluster = await startTestCluster();
  const { client } = cluster;
  const ctlAbort = new AbortController();
  const aAbort = new AbortController();
  const a2Abort = new AbortController();
  const bAbort = new AbortController();
  const ctl = new NodeLifecycleController(cluster.newClient(), { nodeMonitorGracePeriodMs: 2000, monitorPeriodMs: 200 });
  const simA = new SimNodes(cluster.newClient(), simOpts('a-'));
  const simB = new SimNodes(cluster.newClient(), simOpts('b-'));
  let simA2: SimNodes | undefined;
  t.after(async () => {
    ctlAbort.abort(); aAbort.abort(); bAbort.abort(); a2Abort.abort();
    await Promise.all([ctl.stopped(), simA.stopped(), simB.stopped(), simA2?.stopped()]);
    await cluster.stop();
  });
  void simA.start(aAbort.signal);
  void simB.start(bAbort.signal);
  await Promise.all([simA.registered(), simB.registered()]);
  ctl.start(ctlAbort.signal);
  assert.ok(await ctl.waitForSync(ctlAbort.signal));

  // Pods on a-0: evicted 1 s after the taint, and kept forever.
  await client.create(PODS, 'default', pod('tol1', [{ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 1 }]));
  await client.create(PODS, 'default', pod('forever', [{ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute' }]));
  const forever0: any = await client.get(PODS, 'default', 'forever');
  // DefaultTolerationSeconds added not-ready (which it did not tolerate) but not unreachable.
  assert.ok(forever0.spec.tolerations.some((x: any) => x.key === TAINT_NOT_READY && x.tolerationSeconds === 300));
  assert.ok(!forever0.spec.tolerations.some((x: any) => x.key === TAINT_UNREACHABLE && x.tolerationSeconds !== undefined));
  await bind(client, 'tol1', 'a-0');
  await bind(client, 'forever', 'a-0');
  await eventually(async () => {
    const p: any = await client.get(PODS, 'default', 'forever');
    return cond(p, 'Ready')?.status === 'True';
  }, 'pod forever ready');

  // Heartbeats stop on a-0.
  aAbort.abort();
  await simA.stopped();
  const a0: any = await eventually(async () => {
    const n: any = await client.get(NODES, undefined, 'a-0');
    return lifecycleTaints(n).length === 2 && cond(n, 'Ready')?.status === 'Unknown' && n;
  }, 'a-0 unreachable', 10_000, 50);
  assert.deepEqual(lifecycleTaints(a0).map((x: any) => `${x.key}:${x.effect}`).sort(), [`${TAINT_UNREACHABLE}:NoExecute`, `${TAINT_UNREACHABLE}:NoSchedule`]);
  assert.ok(lifecycleTaints(a0).every((x: any) => typeof x.timeAdded === 'string'));
  for (const type of ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure']) {
    const c = cond(a0, type);
    assert.equal(c.status, 'Unknown', type);
    assert.equal(c.reason, 'NodeStatusUnknown');
    assert.equal(c.message, 'Kubelet stopped posting node status.');
  }
  // b-0 kept heartbeating all along: Ready, no lifecycle taints.
  const b0: any = await client.get(NODES, undefined, 'b-0');
  assert.equal(cond(b0, 'Ready').status, 'True');
  assert.deepEqual(lifecycleTaints(b0), []);

  await eventually(() => gone(client, 'tol1'), 'tol1 evicted', 10_000, 50);
  await eventually(async () => {
    const p: any = await client.get(PODS, 'default', 'forever');
    return cond(p, 'Ready')?.status === 'False';
  }, 'forever marked not ready');
  const evs = await eventually(async () => {
    const es = (await client.list(EVENTS, 'default')).items as any[];
    return es.some((e) => e.reason === 'NodeNotReady' && e.involvedObject?.name === 'forever') ? es : undefined;
  }, 'the NodeNotReady events') as any[];
  assert.ok(evs.some((e) => e.reason === 'TaintManagerEviction' && e.involvedObject?.name === 'tol1' && e.message === 'Marking for deletion Pod default/tol1'));
  assert.ok(evs.some((e) => e.reason === 'NodeNotReady' && e.involvedObject?.kind === 'Node' && e.involvedObject?.name === 'a-0' && e.message === 'Node a-0 status is now: NodeNotReady'));
  assert.ok(evs.some((e) => e.reason === 'NodeNotReady' && e.type === 'Warning' && e.involvedObject?.name === 'forever' && e.message === 'Node is not ready'));
  // The pod tolerating unreachable without tolerationSeconds stays (its eviction sync ran:
  // tol1's sync came from the same node change).
  const forever: any = await client.get(PODS, 'default', 'forever');
  assert.equal(forever.metadata.deletionTimestamp, undefined);

  // An untolerated NoExecute taint on b-0 evicts at once.
  await client.create(PODS, 'default', pod('plain', []));
  await bind(client, 'plain', 'b-0');
  const bn: any = await client.get(NODES, undefined, 'b-0');
  await client.update(NODES, undefined, { ...bn, spec: { ...bn.spec, taints: [...(bn.spec.taints ?? []), { key: 'example.com/drain', effect: 'NoExecute' }] } });
  await eventually(() => gone(client, 'plain'), 'plain evicted', 10_000, 50);

  // Heartbeats come back on a-0: the taints go.
  simA2 = new SimNodes(cluster.newClient(), simOpts('a-'));
  void simA2.start(a2Abort.signal);
  await simA2.registered();
  const back: any = await eventually(async () => {
    const n: any = await client.get(NODES, undefined, 'a-0');
    return lifecycleTaints(n).length === 0 && n;
  }, 'a-0 untainted', 10_000, 50);
  assert.equal(cond(back, 'Ready').status, 'True');
});

test('a kubelet-reported Ready=False gives not-ready taints', async (t) => {
  const cluster = await startTestCluster();
  const { client } = cluster;
  const ctlAbort = new AbortController();
  const simAbort = new AbortController();
  const ctl = new NodeLifecycleController(cluster.newClient(), { nodeMonitorGracePeriodMs: 5000, monitorPeriodMs: 200 });
  const sim = new SimNodes(cluster.newClient(), simOpts('c-'));
  t.after(async () => { ctlAbort.abort(); simAbort.abort(); await Promise.all([ctl.stopped(), sim.stopped()]); await cluster.stop(); });
  void sim.start(simAbort.signal);
  await sim.registered();
  ctl.start(ctlAbort.signal);
  const n: any = await client.get(NODES, undefined, 'c-0');
  const conditions = n.status.conditions.map((c: any) => (c.type === 'Ready' ? { ...c, status: 'False', reason: 'KubeletNotReady', lastHeartbeatTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') } : c));
  await client.patch(NODES, undefined, 'c-0', { status: { conditions } }, 'merge', { subresource: 'status' });
  const tainted: any = await eventually(async () => {
    const x: any = await client.get(NODES, undefined, 'c-0');
    return lifecycleTaints(x).length === 2 && x;
  }, 'c-0 not-ready taints', 10_000, 50);
  assert.ok(lifecycleTaints(tainted).every((x: any) => x.key === TAINT_NOT_READY));
  assert.equal(cond(tainted, 'Ready').status, 'False');
  await client.patch(NODES, undefined, 'c-0', { status: { conditions: conditions.map((c: any) => (c.type === 'Ready' ? { ...c, status: 'True' } : c)) } }, 'merge', { subresource: 'status' });
  await eventually(async () => lifecycleTaints(await client.get(NODES, undefined, 'c-0')).length === 0, 'c-0 untainted', 10_000, 50);
});
