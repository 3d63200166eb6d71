/**
 * A node failure end to end (issue 4): the `keelson sim-nodes` process that owns one node is
 * killed, so that node's heartbeats stop. The node lifecycle controller marks it Unknown and
 * taints it node.kubernetes.io/unreachable; its pods, which tolerate that taint for a few
 * seconds only, are evicted once the toleration runs out, and their ReplicaSet replaces them on
 * the healthy nodes. The real kubectl drives and observes it all.
 *
 * Timings are shortened (upstream's defaults are a 40 s grace period, 5 s checks and 10 s
 * heartbeats): the nodes heartbeat every 2 s, a node is Unknown after 8 s of silence.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, applyObjects, haveKubectl, isPodReady, startSimNodes, waitFor, waitNodesReady, type Proc } from './harness.js';

const skip = !haveKubectl() && 'kubectl is not on the PATH';
const UNREACHABLE = 'node.kubernetes.io/unreachable';
const TOLERATION_SECONDS = 5;

describe('node failure on simulated nodes', { skip, concurrency: false }, () => {
  let c: Cluster;
  let healthy: Proc;
  let flaky: Proc;

  before(async () => {
    c = await Cluster.start(['--node-monitor-grace-period', '8s', '--node-monitor-period', '1s']);
    healthy = startSimNodes(c, ['--count', '2', '--cpu', '8', '--memory', '16Gi', '--heartbeat-seconds', '2']);
    flaky = startSimNodes(c, ['--count', '1', '--name-prefix', 'flaky-', '--cpu', '8', '--memory', '16Gi', '--heartbeat-seconds', '2']);
    await waitNodesReady(c, ['sim-node-0', 'sim-node-1', 'flaky-0']).catch((e) => { throw new Error(`${e.message}\n${healthy.logs}${flaky.logs}`); });
  });

  after(async () => {
    await flaky?.stop();
    await healthy?.stop();
    await c?.stop();
  });

  it('a silent node becomes Unknown and unreachable-tainted; its pods are evicted after tolerationSeconds and replaced elsewhere', async () => {
    const n = 'app';
    await c.k(['create', 'namespace', n]);
    const tolerations = ['unreachable', 'not-ready'].map((t) => ({ key: `node.kubernetes.io/${t}`, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: TOLERATION_SECONDS }));
    await applyObjects(c, [{
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' },
      spec: {
        replicas: 2, selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            tolerations,
            // Both replicas start on the node that is about to fail.
            affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, preference: { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['flaky-0'] }] } }] } },
            containers: [{ name: 'web', image: 'web:1', resources: { requests: { cpu: '100m' } } }],
          },
        },
      },
    }], n);
    const r = await c.kubectl(['-n', n, 'rollout', 'status', 'deploy/web', '--timeout=60s'], { timeoutMs: 70000 });
    assert.equal(r.code, 0, r.stderr);
    const first = (await c.kjson(['-n', n, 'get', 'pods', '-l', 'app=web'])).items as any[];
    assert.deepEqual(first.map((p) => p.spec.nodeName), ['flaky-0', 'flaky-0']);

    // The node's kubelet dies without a word.
    await flaky.stop('SIGKILL');
    const node = await waitFor('flaky-0 Unknown with the unreachable taints', async () => {
      const cur = await c.kjson(['get', 'node', 'flaky-0']);
      const ready = cur.status.conditions.find((x: any) => x.type === 'Ready');
      const taints = (cur.spec.taints ?? []).filter((t: any) => t.key === UNREACHABLE).map((t: any) => t.effect).sort();
      return ready.status === 'Unknown' && taints.join() === 'NoExecute,NoSchedule' && cur;
    }, 90000, 500);
    const ready = node.status.conditions.find((x: any) => x.type === 'Ready');
    assert.equal(ready.reason, 'NodeStatusUnknown');
    assert.equal(ready.message, 'Kubelet stopped posting node status.');
    assert.match(await c.k(['get', 'node', 'flaky-0']), /^flaky-0\s+NotReady\s/m);

    // Evicted once the toleration ran out: marked for deletion (nobody is left on the node to
    // finish that), and replaced on the healthy nodes.
    const evicted = await waitFor('the pods on flaky-0 evicted', async () => {
      const ps = ((await c.kjson(['-n', n, 'get', 'pods', '-l', 'app=web'])).items as any[]).filter((p) => p.spec.nodeName === 'flaky-0');
      return ps.length === 2 && ps.every((p) => p.metadata.deletionTimestamp) && ps;
    }, 30000, 250);
    const taintAdded = Date.parse(node.spec.taints.find((t: any) => t.key === UNREACHABLE && t.effect === 'NoExecute').timeAdded);
    const evs = (await c.kjson(['-n', n, 'get', 'events', '--field-selector', 'reason=TaintManagerEviction'])).items as any[];
    for (const p of evicted) {
      const ev = evs.find((e) => e.involvedObject.name === p.metadata.name);
      assert.ok(ev, `a TaintManagerEviction event for ${p.metadata.name}`);
      assert.equal(ev.message, `Marking for deletion Pod ${n}/${p.metadata.name}`);
      // Not before the toleration ran out (timestamps have whole seconds).
      assert.ok(Date.parse(ev.firstTimestamp) >= taintAdded + (TOLERATION_SECONDS - 1) * 1000, `evicted ${ev.firstTimestamp}, tainted ${new Date(taintAdded).toISOString()}`);
    }
    const replacements = await waitFor('two replacements running on the healthy nodes', async () => {
      const ps = ((await c.kjson(['-n', n, 'get', 'pods', '-l', 'app=web'])).items as any[])
        .filter((p) => !p.metadata.deletionTimestamp && p.status.phase === 'Running' && isPodReady(p));
      return ps.length === 2 && ps;
    }, 30000, 250);
    for (const p of replacements) assert.match(p.spec.nodeName, /^sim-node-[01]$/);
    await waitFor('the Deployment available again', async () => (await c.kjson(['-n', n, 'get', 'deploy', 'web'])).status.availableReplicas === 2, 20000, 250);

    // What kubectl describe tells about it.
    const desc = await c.k(['describe', 'node', 'flaky-0']);
    assert.match(desc, /node\.kubernetes\.io\/unreachable:NoExecute/);
    assert.match(desc, /NodeNotReady\s+\S+\s+node-controller\s+Node flaky-0 status is now: NodeNotReady/);
    const podDesc = await c.k(['-n', n, 'describe', 'pod', evicted[0].metadata.name]);
    assert.match(podDesc, /Normal\s+TaintManagerEviction\s+\S+\s+taint-eviction-controller\s+Marking for deletion Pod app\/web-/);
    assert.match(podDesc, /Warning\s+NodeNotReady\s+\S+\s+node-controller\s+Node is not ready/);

    // The kubelet comes back: the node is Ready and untainted again, and it finishes the
    // deletion of the pods evicted while it was away.
    flaky = startSimNodes(c, ['--count', '1', '--name-prefix', 'flaky-', '--cpu', '8', '--memory', '16Gi']);
    await waitFor('flaky-0 Ready without the unreachable taints', async () => {
      const cur = await c.kjson(['get', 'node', 'flaky-0']);
      const readyNow = cur.status.conditions.find((x: any) => x.type === 'Ready');
      return readyNow.status === 'True' && !(cur.spec.taints ?? []).some((t: any) => t.key === UNREACHABLE);
    }, 30000, 250);
    await waitFor('the evicted pods gone', async () =>
      ((await c.kjson(['-n', n, 'get', 'pods', '-l', 'app=web'])).items as any[]).every((p) => p.spec.nodeName !== 'flaky-0'), 30000, 250);
    assert.equal(((await c.kjson(['-n', n, 'get', 'pods', '-l', 'app=web'])).items as any[]).length, 2);
  });
});
