/**
 * PodDisruptionBudgets, the eviction subresource and node IPAM end to end (issue 4): `keelson
 * server` (API server + controller manager + scheduler) and a `keelson sim-nodes` process,
 * driven by the real kubectl. Nodes get pod ranges from node IPAM; a Deployment of 3 under a
 * budget of minAvailable 2 allows one disruption; `kubectl drain` cordons a node and evicts its
 * pods within the budget (the Deployment replaces them elsewhere); an eviction the budget does
 * not allow is refused with 429, and a drain that needs one does not get through.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { BIN, Cluster, haveKubectl, raw, waitFor } from './harness.js';

const skip = !haveKubectl() && 'kubectl is not on the PATH';

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: web:1
        resources:
          requests: {cpu: 100m, memory: 64Mi}
        volumeMounts:
        - {name: scratch, mountPath: /scratch}
      volumes:
      - name: scratch
        emptyDir: {}
`;

const PDB = (minAvailable: number) => `apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
spec:
  minAvailable: ${minAvailable}
  selector:
    matchLabels: {app: web}
`;

describe('disruption budgets, eviction, drain and node IPAM on simulated nodes', { skip, concurrency: false }, () => {
  let c: Cluster;
  let nodes: ChildProcess | undefined;
  let nodeLogs = '';
  let drained = '';

  before(async () => {
    c = await Cluster.start();
    nodes = spawn(process.execPath, [BIN, 'sim-nodes', '--kubeconfig', c.kubeconfig, '--count', '3', '--cpu', '2', '--memory', '4Gi', '--name-prefix', 'pdb-node-'], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KEELSON_LOG: 'warn' },
    });
    nodes.stdout!.on('data', (d) => { nodeLogs += d; });
    nodes.stderr!.on('data', (d) => { nodeLogs += d; });
  });

  after(async () => {
    if (nodes && nodes.exitCode === null) await new Promise<void>((r) => { nodes!.once('exit', () => r()); nodes!.kill('SIGTERM'); });
    await c?.stop();
  });

  /** Live (not terminating) pods of the Deployment. */
  const livePods = async () => (await c.kjson(['get', 'pods', '-l', 'app=web'])).items.filter((p: any) => !p.metadata.deletionTimestamp);

  it('nodes get distinct pod CIDRs from node IPAM', async () => {
    await waitFor('3 Ready nodes', async () => {
      const out = await c.k(['get', 'nodes', '--no-headers']);
      return out.trim().split('\n').filter((l) => /\sReady\s/.test(l)).length === 3;
    }, 30000, 200).catch((e) => { throw new Error(`${e.message}\nsim-nodes: ${nodeLogs}`); });
    const lines = await waitFor('a podCIDR on every node', async () => {
      const out = await c.k(['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.spec.podCIDR} {.spec.podCIDRs[0]}{"\\n"}{end}']);
      const ls = out.trim().split('\n').map((l) => l.trim().split(/\s+/));
      return ls.length === 3 && ls.every((l) => l.length === 3) && ls;
    }, 30000, 200);
    for (const [name, cidr, first] of lines) {
      assert.match(cidr, /^10\.244\.\d+\.0\/24$/, name);
      assert.equal(first, cidr, `${name}: podCIDRs[0] is podCIDR`);
    }
    assert.equal(new Set(lines.map((l) => l[1])).size, 3, 'no range is given twice');
  });

  it('a budget of minAvailable 2 over a Deployment of 3 allows one disruption', async () => {
    await c.k(['apply', '-f', c.writeFile('web.yaml', DEPLOYMENT)]);
    const st = await c.kubectl(['rollout', 'status', 'deploy/web', '--timeout=90s'], { timeoutMs: 100000 });
    assert.equal(st.code, 0, st.stderr + st.stdout);
    await c.k(['apply', '-f', c.writeFile('pdb.yaml', PDB(2))]);
    const out = await waitFor('ALLOWED DISRUPTIONS 1', async () => {
      const o = await c.k(['get', 'pdb', 'web']);
      return /^web\s+2\s+N\/A\s+1\s+\S+\s*$/m.test(o) && o;
    }, 30000, 200);
    // The columns kubectl shows for upstream.
    assert.match(out, /^NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE\s*$/m);
    const pdb = await c.kjson(['get', 'pdb', 'web']);
    assert.deepEqual(
      [pdb.status.expectedPods, pdb.status.currentHealthy, pdb.status.desiredHealthy, pdb.status.disruptionsAllowed, pdb.status.observedGeneration],
      [3, 3, 2, 1, pdb.metadata.generation],
    );
    const cond = pdb.status.conditions.find((x: any) => x.type === 'DisruptionAllowed');
    assert.deepEqual([cond.status, cond.reason], ['True', 'SufficientPods']);
  });

  it('kubectl drain cordons a node and evicts its pods within the budget; they come back elsewhere', async () => {
    const pods = await livePods();
    drained = pods[0].spec.nodeName;
    const onNode = pods.filter((p: any) => p.spec.nodeName === drained).map((p: any) => p.metadata.name);
    const r = await c.kubectl(['drain', drained, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=120s'], { timeoutMs: 150000 });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, new RegExp(`node/${drained} cordoned`));
    // Through the eviction subresource (kubectl says "deleting pod" when it falls back to DELETE).
    for (const name of onNode) assert.match(r.stdout, new RegExp(`evicting pod default/${name}\\n[^]*pod/${name} evicted`));
    assert.match(r.stdout, new RegExp(`node/${drained} drained`));
    const node = await c.kjson(['get', 'node', drained]);
    assert.equal(node.spec.unschedulable, true);
    // The Deployment replaces them on the other nodes.
    await waitFor('3 available replicas off the drained node', async () => {
      const d = await c.kjson(['get', 'deploy', 'web']);
      const live = await livePods();
      return d.status?.availableReplicas === 3 && live.length === 3 && live.every((p: any) => p.spec.nodeName && p.spec.nodeName !== drained);
    }, 60000, 250);
    // With the replacements Ready the budget allows one disruption again.
    await waitFor('ALLOWED DISRUPTIONS back to 1', async () => /^web\s+2\s+N\/A\s+1\s/m.test(await c.k(['get', 'pdb', 'web'])), 30000, 200);
  });

  it('an eviction beyond the budget is refused with 429, and a drain needing one does not get through', async () => {
    await c.k(['apply', '-f', c.writeFile('pdb.yaml', PDB(3))]);
    await waitFor('ALLOWED DISRUPTIONS 0', async () => {
      const pdb = await c.kjson(['get', 'pdb', 'web']);
      return pdb.status?.observedGeneration === pdb.metadata.generation && pdb.status.disruptionsAllowed === 0;
    }, 30000, 200);
    const victim = (await livePods())[0];
    const res = await raw(c, 'POST', `/api/v1/namespaces/default/pods/${victim.metadata.name}/eviction`, JSON.stringify({
      apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: victim.metadata.name, namespace: 'default' },
    }));
    assert.equal(res.status, 429, res.body);
    assert.equal(res.json.reason, 'TooManyRequests');
    assert.equal(res.json.message, "Cannot evict pod as it would violate the pod's disruption budget.");
    assert.deepEqual(res.json.details.causes, [{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 3 healthy pods and has 3 currently' }]);
    assert.ok(!(await c.kjson(['get', 'pod', victim.metadata.name])).metadata.deletionTimestamp, 'the pod stays');

    // kubectl drain retries on 429 until its timeout, then gives up with the budget's message.
    const node = victim.spec.nodeName;
    const r = await c.kubectl(['drain', node, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=12s'], { timeoutMs: 60000 });
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /Cannot evict pod as it would violate the pod's disruption budget\./);
    assert.match(r.stderr, /will retry after 5s/);
    assert.equal((await livePods()).length, 3, 'nothing was evicted');
    await c.k(['uncordon', node]);
    await c.k(['uncordon', drained]);
  });
});
