import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCluster, eventually } from '../client/testing.js';
import { LEASES } from '../client/index.js';
import { SimNodes, NODES, PODS, nodeIP, parseDurationMs, podBehaviourFromAnnotations } from './sim-nodes.js';
import { zoneLabels } from './cli.js';

const pod = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
  spec: { containers: [{ name: 'app', image: 'busybox' }], ...spec },
});

async function bind(client: any, name: string, node: string) {
  await client.requestJSON('POST', `/api/v1/namespaces/default/pods/${name}/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { kind: 'Node', name: node } });
}

test('SimNodes registers nodes with status and leases, and runs bound pods', async (t) => {
  const cluster = await startTestCluster();
  const ac = new AbortController();
  t.after(async () => { ac.abort(); await sim.stopped(); await cluster.stop(); });
  const sim = new SimNodes(cluster.newClient(), {
    count: 3, namePrefix: 'sn-', capacity: { cpu: '8', memory: '32Gi', pods: '110', 'nvidia.com/gpu': '2' },
    labels: zoneLabels(3), taints: (i) => (i === 2 ? [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }] : undefined),
  });
  void sim.start(ac.signal);
  await sim.registered();
  const { client } = cluster;
  const nodes = (await client.list(NODES)).items.filter((n: any) => n.metadata.name.startsWith('sn-'));
  assert.deepEqual(nodes.map((n: any) => n.metadata.name).sort(), ['sn-0', 'sn-1', 'sn-2']);
  const n0: any = nodes.find((n: any) => n.metadata.name === 'sn-0');
  assert.equal(n0.status.allocatable.cpu, '8');
  assert.equal(n0.status.capacity['nvidia.com/gpu'], '2');
  assert.equal(n0.status.conditions.find((c: any) => c.type === 'Ready').status, 'True');
  assert.ok(n0.status.conditions.find((c: any) => c.type === 'Ready').lastHeartbeatTime);
  assert.deepEqual(n0.status.addresses[0], { type: 'InternalIP', address: nodeIP(0) });
  assert.match(nodeIP(0), /^10\./);
  assert.equal(n0.status.nodeInfo.kubeletVersion, 'v1.32.0-keelson');
  assert.equal(n0.metadata.labels['topology.kubernetes.io/zone'], 'zone-0');
  assert.equal(n0.metadata.labels['kubernetes.io/hostname'], 'sn-0');
  const n2: any = nodes.find((n: any) => n.metadata.name === 'sn-2');
  assert.deepEqual(n2.spec.taints, [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }]);

  const lease: any = await client.get(LEASES, 'kube-node-lease', 'sn-1');
  assert.equal(lease.spec.holderIdentity, 'sn-1');
  assert.match(lease.spec.renewTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  assert.equal(lease.metadata.ownerReferences[0].kind, 'Node');

  await client.create(PODS, 'default', pod('web', { initContainers: [{ name: 'init', image: 'busybox' }] }));
  await bind(client, 'web', 'sn-1');
  const running: any = await eventually(async () => {
    const p: any = await client.get(PODS, 'default', 'web');
    return p.status.phase === 'Running' && p;
  }, 'pod running');
  assert.match(running.status.podIP, /^10\./);
  assert.equal(running.status.hostIP, nodeIP(1));
  const cs = running.status.containerStatuses[0];
  assert.equal(cs.ready, true);
  assert.equal(cs.started, true);
  assert.equal(cs.restartCount, 0);
  assert.ok(cs.state.running.startedAt);
  for (const type of ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready']) {
    assert.equal(running.status.conditions.find((c: any) => c.type === type)?.status, 'True', type);
  }
  assert.equal(running.status.initContainerStatuses[0].state.terminated.reason, 'Completed');

  // Deleting a bound pod is graceful; the node finishes it (grace 0, uid precondition).
  await client.delete(PODS, 'default', 'web');
  await eventually(async () => {
    try { await client.get(PODS, 'default', 'web'); return false; } catch (e: any) { return e.code === 404; }
  }, 'pod deleted by the node');
  assert.equal(sim.counters.podsDeleted, 1);
});

test('SimNodes pod behaviour: exits, restart policies and CrashLoopBackOff; heartbeats renew', async (t) => {
  const cluster = await startTestCluster();
  const ac = new AbortController();
  t.after(async () => { ac.abort(); await sim.stopped(); await cluster.stop(); });
  const sim = new SimNodes(cluster.newClient(), {
    count: 1, namePrefix: 'beh-', capacity: { cpu: '8', memory: '32Gi', pods: '110' },
    heartbeatSeconds: 0.2, tickMs: 50, startupDelayMs: 20,
    restartBackoffMs: { initial: 50, max: 200 },
    podBehaviour: (p) => {
      const code = p.metadata?.annotations?.['exit-code'];
      return code === undefined ? undefined : { exitCode: Number(code), runForMs: 10 };
    },
  });
  void sim.start(ac.signal);
  await sim.registered();
  const { client } = cluster;
  const withExit = (name: string, code: number, restartPolicy: string) => ({
    ...pod(name, { restartPolicy }), metadata: { name, namespace: 'default', annotations: { 'exit-code': String(code) } },
  });
  await client.create(PODS, 'default', withExit('ok', 0, 'Never'));
  await client.create(PODS, 'default', withExit('bad', 3, 'Never'));
  await client.create(PODS, 'default', withExit('retry', 1, 'OnFailure'));
  await client.create(PODS, 'default', withExit('done', 0, 'OnFailure'));
  for (const n of ['ok', 'bad', 'retry', 'done']) await bind(client, n, 'beh-0');

  const phase = async (n: string) => ((await client.get(PODS, 'default', n)) as any).status.phase;
  await eventually(async () => (await phase('ok')) === 'Succeeded', 'ok Succeeded');
  await eventually(async () => (await phase('bad')) === 'Failed', 'bad Failed');
  await eventually(async () => (await phase('done')) === 'Succeeded', 'done Succeeded');
  const bad: any = await client.get(PODS, 'default', 'bad');
  assert.equal(bad.status.containerStatuses[0].state.terminated.exitCode, 3);
  assert.equal(bad.status.containerStatuses[0].state.terminated.reason, 'Error');

  // OnFailure with a failing container: restarted with back-off, restartCount grows.
  const crashing: any = await eventually(async () => {
    const p: any = await client.get(PODS, 'default', 'retry');
    const cs = p.status.containerStatuses?.[0];
    return cs && cs.restartCount >= 2 && cs.state.waiting?.reason === 'CrashLoopBackOff' && p;
  }, 'CrashLoopBackOff with restarts');
  assert.equal(crashing.status.phase, 'Running');
  assert.equal(crashing.status.containerStatuses[0].lastState.terminated.exitCode, 1);
  assert.match(crashing.status.containerStatuses[0].state.waiting.message, /^back-off \d+s restarting failed container=app pod=retry_default\(/);
  assert.equal(crashing.status.conditions.find((c: any) => c.type === 'Ready').status, 'False');

  // Leases keep being renewed.
  const first: any = await client.get(LEASES, 'kube-node-lease', 'beh-0');
  await eventually(async () => ((await client.get(LEASES, 'kube-node-lease', 'beh-0')) as any).spec.renewTime !== first.spec.renewTime, 'lease renewed');
});

test('podBehaviourFromAnnotations: exit code, run time, startup delay and readiness from sim.keelson.io annotations', async (t) => {
  const withAnn = (annotations: Record<string, string>) => ({ metadata: { annotations } }) as any;
  assert.equal(podBehaviourFromAnnotations({ metadata: {} } as any), undefined);
  assert.deepEqual(podBehaviourFromAnnotations(withAnn({ 'sim.keelson.io/exit-code': '3', 'sim.keelson.io/run-for': '1.5s' })), { exitCode: 3, runForMs: 1500 });
  assert.deepEqual(podBehaviourFromAnnotations(withAnn({ 'sim.keelson.io/startup-delay': '250', 'sim.keelson.io/ready': 'false' })), { startupDelayMs: 250, ready: false });
  assert.deepEqual(podBehaviourFromAnnotations(withAnn({ 'sim.keelson.io/exit-code': 'x', 'sim.keelson.io/run-for': 'soon' })), undefined);
  assert.equal(parseDurationMs('2m'), 120_000);
  assert.equal(parseDurationMs('20ms'), 20);

  // A SimNodes without a podBehaviour option follows the annotations.
  const cluster = await startTestCluster();
  const ac = new AbortController();
  const sim = new SimNodes(cluster.newClient(), { count: 1, namePrefix: 'ann-', capacity: { cpu: '8', memory: '32Gi', pods: '110' }, tickMs: 50 });
  t.after(async () => { ac.abort(); await sim.stopped(); await cluster.stop(); });
  void sim.start(ac.signal);
  await sim.registered();
  const { client } = cluster;
  const annotated = (name: string, annotations: Record<string, string>) => ({ ...pod(name, { restartPolicy: 'Never' }), metadata: { name, namespace: 'default', annotations } });
  await client.create(PODS, 'default', annotated('exits', { 'sim.keelson.io/exit-code': '2', 'sim.keelson.io/run-for': '50ms' }));
  await client.create(PODS, 'default', annotated('unready', { 'sim.keelson.io/ready': 'false' }));
  for (const n of ['exits', 'unready']) await bind(client, n, 'ann-0');
  const failed: any = await eventually(async () => {
    const p: any = await client.get(PODS, 'default', 'exits');
    return p.status.phase === 'Failed' && p;
  }, 'the annotated pod fails');
  assert.equal(failed.status.containerStatuses[0].state.terminated.exitCode, 2);
  const running: any = await eventually(async () => {
    const p: any = await client.get(PODS, 'default', 'unready');
    return p.status.phase === 'Running' && p;
  }, 'the unready pod runs');
  assert.equal(running.status.conditions.find((c: any) => c.type === 'Ready').status, 'False');
  assert.equal(running.status.containerStatuses[0].ready, false);
});
