/**
 * The control plane end to end (issue 4): `keelson server` (API server + controller manager +
 * scheduler) and a `keelson sim-nodes` process, driven by the real kubectl: a Deployment is
 * scheduled onto the simulated nodes, rolled out, updated, rolled back, scaled and deleted.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { BIN, Cluster, haveKubectl, waitFor } from './harness.js';

const skip = !haveKubectl() && 'kubectl is not on the PATH';

const deployment = (image: string, replicas = 3) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: hello
spec:
  replicas: ${replicas}
  strategy:
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  selector:
    matchLabels: {app: hello}
  template:
    metadata:
      labels: {app: hello}
    spec:
      containers:
      - name: app
        image: ${image}
        resources:
          requests: {cpu: 100m, memory: 64Mi}
`;

describe('control plane on simulated nodes', { skip, concurrency: false }, () => {
  let c: Cluster;
  let nodes: ChildProcess | undefined;
  let nodeLogs = '';

  before(async () => {
    c = await Cluster.start();
    nodes = spawn(process.execPath, [BIN, 'sim-nodes', '--kubeconfig', c.kubeconfig, '--count', '3', '--zones', '3', '--cpu', '2', '--memory', '4Gi'], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KEELSON_LOG: 'warn' },
    });
    nodes.stdout!.on('data', (d) => { nodeLogs += d; });
    nodes.stderr!.on('data', (d) => { nodeLogs += d; });
  });

  after(async () => {
    if (nodes && nodes.exitCode === null) await new Promise<void>((r) => { nodes!.once('exit', () => r()); nodes!.kill('SIGTERM'); });
    await c?.stop();
  });

  it('registers Ready nodes with zones', async () => {
    await waitFor('3 Ready nodes', async () => {
      const out = await c.k(['get', 'nodes', '--no-headers']);
      return out.trim().split('\n').filter((l) => /\sReady\s/.test(l)).length === 3;
    }, 30000, 200).catch((e) => { throw new Error(`${e.message}\nsim-nodes: ${nodeLogs}`); });
    const zones = await c.k(['get', 'nodes', '-L', 'topology.kubernetes.io/zone', '--no-headers']);
    assert.equal(new Set(zones.trim().split('\n').map((l) => l.trim().split(/\s+/).pop())).size, 3);
  });

  it('schedules and rolls out a Deployment; rollout status succeeds', async () => {
    await c.k(['apply', '-f', c.writeFile('hello.yaml', deployment('hello:1'))]);
    const st = await c.kubectl(['rollout', 'status', 'deploy/hello', '--timeout=90s'], { timeoutMs: 100000 });
    assert.equal(st.code, 0, st.stderr + st.stdout);
    assert.match(st.stdout, /successfully rolled out/);
    const pods = await c.kjson(['get', 'pods', '-l', 'app=hello']);
    assert.equal(pods.items.length, 3);
    for (const p of pods.items) {
      assert.equal(p.status.phase, 'Running');
      assert.match(p.spec.nodeName, /^sim-node-/);
    }
    // The default scheduler spreads replicas over the nodes (balanced allocation / spread scores).
    assert.equal(new Set(pods.items.map((p: any) => p.spec.nodeName)).size, 3);
    assert.match(await c.k(['get', 'deploy', 'hello']), /^hello\s+3\/3\s+3\s+3\s+/m);
  });

  it('rolling update, history, undo', async () => {
    await c.k(['set', 'image', 'deploy/hello', 'app=hello:2']);
    const st = await c.kubectl(['rollout', 'status', 'deploy/hello', '--timeout=90s'], { timeoutMs: 100000 });
    assert.equal(st.code, 0, st.stderr);
    const images = (await c.kjson(['get', 'pods', '-l', 'app=hello'])).items.filter((p: any) => !p.metadata.deletionTimestamp).map((p: any) => p.spec.containers[0].image);
    assert.deepEqual([...new Set(images)], ['hello:2']);
    const hist = await c.k(['rollout', 'history', 'deploy/hello']);
    assert.match(hist, /^1\s/m);
    assert.match(hist, /^2\s/m);
    await c.k(['rollout', 'undo', 'deploy/hello']);
    const st2 = await c.kubectl(['rollout', 'status', 'deploy/hello', '--timeout=90s'], { timeoutMs: 100000 });
    assert.equal(st2.code, 0, st2.stderr);
    const d = await c.kjson(['get', 'deploy', 'hello']);
    assert.equal(d.spec.template.spec.containers[0].image, 'hello:1');
    assert.equal(d.metadata.annotations['deployment.kubernetes.io/revision'], '3');
    assert.equal((await c.kjson(['get', 'rs', '-l', 'app=hello'])).items.length, 2, 'the old ReplicaSet was reused');
  });

  it('scales, and deleting the Deployment removes its ReplicaSets and pods', async () => {
    await c.k(['scale', 'deploy/hello', '--replicas=5']);
    await waitFor('5 available replicas', async () => (await c.kjson(['get', 'deploy', 'hello'])).status?.availableReplicas === 5, 60000, 200);
    await c.k(['delete', 'deploy', 'hello']);
    await waitFor('ReplicaSets and pods gone', async () => {
      const rs = await c.kjson(['get', 'rs', '-l', 'app=hello']);
      const pods = await c.kjson(['get', 'pods', '-l', 'app=hello']);
      return rs.items.length === 0 && pods.items.length === 0;
    }, 60000, 250);
  });

  it('an unschedulable pod gets a FailedScheduling event', async () => {
    await c.k(['apply', '-f', c.writeFile('big.yaml', 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: big\nspec:\n  containers:\n  - name: c\n    image: x\n    resources:\n      requests: {cpu: "64"}\n')]);
    await waitFor('the FailedScheduling event', async () => /FailedScheduling.*Insufficient cpu/.test(await c.k(['describe', 'pod', 'big'])), 30000, 250);
    assert.match(await c.k(['describe', 'pod', 'big']), /0\/3 nodes are available: 3 Insufficient cpu/);
  });
});
