/**
 * The scheduler end to end (issue 4): `keelson server` (with its scheduler) and two `keelson
 * sim-nodes` processes — three nodes in three zones and one GPU node — driven by the real
 * kubectl. Each filter places (or refuses) pods as upstream does, scores spread pods and follow
 * preferences, a higher-priority pod preempts a lower one, and FailedScheduling events read as
 * kube-scheduler writes them.
 *
 * Every test works in its own namespace and deletes it at the end, so the nodes are empty
 * again for the next one.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, KubectlWatch, applyObjects, haveKubectl, startSimNodes, waitFor, waitNodesReady, type Proc, type WatchEvent } from './harness.js';

const skip = !haveKubectl() && 'kubectl is not on the PATH';
const ZONE = 'topology.kubernetes.io/zone';

/** A pod with these requests and spec fields. */
function pod(name: string, spec: Record<string, unknown> = {}, requests: Record<string, string> = { cpu: '100m' }, labels: Record<string, string> = {}): object {
  const limits = requests['nvidia.com/gpu'] ? { 'nvidia.com/gpu': requests['nvidia.com/gpu'] } : undefined;
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: name, ...labels } },
    spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests, ...(limits ? { limits } : {}) } }], ...spec },
  };
}

describe('scheduler on simulated nodes', { skip, concurrency: false }, () => {
  let c: Cluster;
  let sim: Proc;
  let gpu: Proc;
  let n = '';
  let seq = 0;

  /** A fresh namespace for the test. */
  const ns = async (name: string) => { n = `${name}-${++seq}`; await c.k(['create', 'namespace', n]); return n; };
  const cleanup = async () => { if (n) await c.k(['delete', 'namespace', n, '--timeout=60s']); n = ''; };
  const nodeOf = async (name: string) => waitFor(`pod ${name} bound and running`, async () => {
    const p = await c.kjson(['-n', n, 'get', 'pod', name]);
    return p.spec.nodeName && p.status.phase === 'Running' && p.spec.nodeName as string;
  }, 30000, 100);
  /** The FailedScheduling message of a pod that stays Pending. */
  const failedScheduling = async (name: string) => waitFor(`a FailedScheduling event for ${name}`, async () => {
    const evs = (await c.kjson(['-n', n, 'get', 'events', '--field-selector', `involvedObject.name=${name},reason=FailedScheduling`])).items as any[];
    const p = await c.kjson(['-n', n, 'get', 'pod', name]);
    assert.equal(p.spec.nodeName, undefined, `${name} stays unscheduled`);
    return evs.length > 0 && evs[evs.length - 1].message as string;
  }, 30000, 200);

  before(async () => {
    c = await Cluster.start();
    sim = startSimNodes(c, ['--count', '3', '--zones', '3', '--cpu', '4', '--memory', '8Gi']);
    gpu = startSimNodes(c, ['--count', '1', '--name-prefix', 'gpu-node-', '--gpus', '2', '--cpu', '4', '--memory', '8Gi']);
    await waitNodesReady(c, ['sim-node-0', 'sim-node-1', 'sim-node-2', 'gpu-node-0'])
      .catch((e) => { throw new Error(`${e.message}\nsim-nodes: ${sim.logs}${gpu.logs}`); });
  });

  after(async () => {
    await sim?.stop();
    await gpu?.stop();
    await c?.stop();
  });

  it('NodeResourcesFit: CPU and the extended resource nvidia.com/gpu; Insufficient messages', async () => {
    await ns('resources');
    await applyObjects(c, [pod('gpu1', {}, { cpu: '100m', 'nvidia.com/gpu': '1' }), pod('gpu3', {}, { cpu: '100m', 'nvidia.com/gpu': '3' }), pod('huge', {}, { cpu: '5' })], n);
    assert.equal(await nodeOf('gpu1'), 'gpu-node-0');
    assert.equal(await failedScheduling('gpu3'),
      '0/4 nodes are available: 4 Insufficient nvidia.com/gpu. preemption: 0/4 nodes are available: 4 No preemption victims found for incoming pod.');
    assert.equal(await failedScheduling('huge'),
      '0/4 nodes are available: 4 Insufficient cpu. preemption: 0/4 nodes are available: 4 No preemption victims found for incoming pod.');
    assert.match(await c.k(['-n', n, 'describe', 'pod', 'huge']), /Warning\s+FailedScheduling\s+\S+\s+default-scheduler\s+0\/4 nodes are available: 4 Insufficient cpu\./);
    assert.match(await c.k(['-n', n, 'describe', 'pod', 'gpu1']), /Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned resources-\d+\/gpu1 to gpu-node-0/);
    await cleanup();
  });

  it('nodeName bypasses the scheduler; nodeSelector and required node affinity choose the zone', async () => {
    await ns('placement');
    await applyObjects(c, [
      pod('pinned', { nodeName: 'sim-node-1' }),
      pod('in-zone-2', { nodeSelector: { [ZONE]: 'zone-2' } }),
      pod('nowhere', { nodeSelector: { [ZONE]: 'zone-9' } }),
      pod('affine', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: ZONE, operator: 'In', values: ['zone-0'] }] }] } } } }),
    ], n);
    assert.equal(await nodeOf('pinned'), 'sim-node-1');
    const pinnedEvents = (await c.kjson(['-n', n, 'get', 'events', '--field-selector', 'involvedObject.name=pinned'])).items as any[];
    assert.ok(!pinnedEvents.some((e) => e.source?.component === 'default-scheduler'), 'the scheduler never saw the pinned pod');
    assert.equal(await nodeOf('in-zone-2'), 'sim-node-2');
    assert.equal(await nodeOf('affine'), 'sim-node-0');
    assert.equal(await failedScheduling('nowhere'),
      "0/4 nodes are available: 4 node(s) didn't match Pod's node affinity/selector. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.");
    await cleanup();
  });

  it('taints and tolerations; removing the taint lets the waiting pod in', async () => {
    await ns('taints');
    await c.k(['taint', 'nodes', 'sim-node-0', 'dedicated=special:NoSchedule']);
    try {
      const onNode0 = { nodeSelector: { 'kubernetes.io/hostname': 'sim-node-0' } };
      await applyObjects(c, [
        pod('intolerant', onNode0),
        pod('tolerant', { ...onNode0, tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'special', effect: 'NoSchedule' }] }),
      ], n);
      assert.equal(await nodeOf('tolerant'), 'sim-node-0');
      assert.equal(await failedScheduling('intolerant'),
        "0/4 nodes are available: 1 node(s) had untolerated taint {dedicated: special}, 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.");
    } finally {
      await c.k(['taint', 'nodes', 'sim-node-0', 'dedicated-']);
    }
    assert.equal(await nodeOf('intolerant'), 'sim-node-0');
    await cleanup();
  });

  it('NodePorts: one pod per node for a host port', async () => {
    await ns('ports');
    const hostPort = (name: string) => ({
      ...pod(name, { nodeSelector: { 'topology.kubernetes.io/region': 'sim' } }),
      spec: {
        nodeSelector: { 'topology.kubernetes.io/region': 'sim' },
        containers: [{ name: 'c', image: 'busybox', ports: [{ containerPort: 80, hostPort: 8080 }] }],
      },
    });
    await applyObjects(c, [hostPort('hp-0'), hostPort('hp-1'), hostPort('hp-2')], n);
    const nodes = [await nodeOf('hp-0'), await nodeOf('hp-1'), await nodeOf('hp-2')].sort();
    assert.deepEqual(nodes, ['sim-node-0', 'sim-node-1', 'sim-node-2']);
    await applyObjects(c, [hostPort('hp-3')], n);
    assert.equal(await failedScheduling('hp-3'),
      "0/4 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 3 node(s) didn't have free ports for the requested pod ports. " +
      'preemption: 0/4 nodes are available: 1 Preemption is not helpful for scheduling, 3 No preemption victims found for incoming pod.');
    await cleanup();
  });

  it('inter-pod affinity and anti-affinity', async () => {
    await ns('affinity');
    await applyObjects(c, [pod('anchor')], n);
    const anchorNode = await nodeOf('anchor');
    const term = (app: string) => ({ labelSelector: { matchLabels: { app } }, topologyKey: 'kubernetes.io/hostname' });
    await applyObjects(c, [pod('follower', { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('anchor')] } } })], n);
    assert.equal(await nodeOf('follower'), anchorNode);

    // Four pods that refuse to share a node: one per node; a fifth finds none.
    const lonely = (i: number) => pod(`lonely-${i}`, { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('lonely')] } } }, { cpu: '100m' }, { app: 'lonely' });
    for (let i = 0; i < 4; i++) {
      await applyObjects(c, [lonely(i)], n);
      await nodeOf(`lonely-${i}`);
    }
    const placed = await Promise.all([0, 1, 2, 3].map((i) => nodeOf(`lonely-${i}`)));
    assert.equal(new Set(placed).size, 4);
    await applyObjects(c, [lonely(4)], n);
    assert.equal(await failedScheduling('lonely-4'),
      "0/4 nodes are available: 4 node(s) didn't match pod anti-affinity rules. preemption: 0/4 nodes are available: 4 No preemption victims found for incoming pod.");
    await cleanup();
  });

  it('topology spread across zones; least allocation spreads; a preferred node affinity wins', async () => {
    await ns('spread');
    const deploy = (name: string, replicas: number, spec: Record<string, unknown>) => ({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
      spec: {
        replicas, selector: { matchLabels: { app: name } },
        template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '200m' } } }], ...spec } },
      },
    });
    const placement = async (app: string, count: number) => waitFor(`${count} ${app} pods running`, async () => {
      const ps = ((await c.kjson(['-n', n, 'get', 'pods', '-l', `app=${app}`])).items as any[]).filter((p) => p.status.phase === 'Running');
      return ps.length === count && ps.map((p) => p.spec.nodeName as string);
    }, 30000, 200);

    await applyObjects(c, [deploy('zoned', 6, {
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: ZONE, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'zoned' } } }],
    })], n);
    const zoned = await placement('zoned', 6);
    const perNode = (nodes: string[]) => nodes.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
    assert.deepEqual([...perNode(zoned)].sort(), [['sim-node-0', 2], ['sim-node-1', 2], ['sim-node-2', 2]], 'two per zone; the GPU node has no zone');

    // Without constraints, the least allocated nodes win: one pod on each of the four nodes.
    await c.k(['-n', n, 'delete', 'deploy', 'zoned']);
    await waitFor('zoned pods gone', async () => (await c.kjson(['-n', n, 'get', 'pods'])).items.length === 0, 30000, 200);
    await applyObjects(c, [deploy('plain', 4, {})], n);
    assert.equal(new Set(await placement('plain', 4)).size, 4);

    // A preferred zone outweighs the spreading scores.
    await applyObjects(c, [deploy('prefers', 3, {
      affinity: { nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: ZONE, operator: 'In', values: ['zone-0', 'zone-1'] }] }] },
        preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, preference: { matchExpressions: [{ key: ZONE, operator: 'In', values: ['zone-1'] }] } }],
      } },
    })], n);
    assert.deepEqual(await placement('prefers', 3), ['sim-node-1', 'sim-node-1', 'sim-node-1']);
    await cleanup();
  });

  it('preemption: a higher-priority pod evicts a lower-priority one, is nominated, then runs there', async () => {
    await ns('preempt');
    await applyObjects(c, [
      { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'e2e-low' }, value: 100 },
      { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'e2e-high' }, value: 1000 },
    ]);
    try {
      // One 3-CPU pod per 4-CPU node.
      const lows = [0, 1, 2, 3].map((i) => pod(`low-${i}`, { priorityClassName: 'e2e-low' }, { cpu: '3' }));
      await applyObjects(c, lows, n);
      const lowNodes = await Promise.all([0, 1, 2, 3].map((i) => nodeOf(`low-${i}`)));
      assert.equal(new Set(lowNodes).size, 4);

      let nominated = '';
      const w = new KubectlWatch(c, ['-n', n, 'pods', '--field-selector', 'metadata.name=vip'], (e: WatchEvent) => {
        if (e.object.status?.nominatedNodeName && !nominated) nominated = e.object.status.nominatedNodeName;
      });
      try {
        await applyObjects(c, [pod('vip', { priorityClassName: 'e2e-high' }, { cpu: '3' })], n);
        const node = await nodeOf('vip');
        await waitFor('the nomination seen in the watch', () => nominated, 10000);
        assert.equal(nominated, node, 'nominated to the node it then ran on');
        const p = await c.kjson(['-n', n, 'get', 'pod', 'vip']);
        // (spec.priority stays unset: keelson has no Priority admission plugin yet; the scheduler
        // resolves priorityClassName itself.)
        assert.equal(p.spec.priorityClassName, 'e2e-high');
        // The victim was the low pod on that node; the others stay.
        const victim = `low-${lowNodes.indexOf(node)}`;
        const left = ((await c.kjson(['-n', n, 'get', 'pods'])).items as any[]).map((x) => x.metadata.name).sort();
        assert.deepEqual(left, ['low-0', 'low-1', 'low-2', 'low-3', 'vip'].filter((x) => x !== victim));
        const evs = (await c.kjson(['-n', n, 'get', 'events'])).items as any[];
        const preempted = evs.find((e) => e.reason === 'Preempted' && e.involvedObject.name === victim);
        assert.ok(preempted, `a Preempted event for ${victim}`);
        assert.equal(preempted.message, `Preempted by pod ${p.metadata.uid} on node ${node}`);
        const failed = evs.find((e) => e.reason === 'FailedScheduling' && e.involvedObject.name === 'vip');
        assert.equal(failed?.message, '0/4 nodes are available: 4 Insufficient cpu.');
      } finally {
        await w.stop();
      }
    } finally {
      await cleanup();
      await c.k(['delete', 'priorityclass', 'e2e-low', 'e2e-high']);
    }
  });
});
