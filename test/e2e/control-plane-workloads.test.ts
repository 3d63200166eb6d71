/**
 * The workload controllers end to end (issue 4): `keelson server` and `keelson sim-nodes`
 * processes driven by the real kubectl. Deployments (a rolling update watched step by step,
 * Recreate, history and undo, pause/resume, restart), StatefulSets (OrderedReady, Parallel,
 * partitioned rolling update, claims) and DaemonSets (every node, a node added later, taints),
 * and the controllers' events as `kubectl describe` shows them.
 *
 * Pods say how the simulated kubelet runs them with sim.keelson.io/* annotations (a startup
 * delay makes each rollout step observable). Watches are the real `kubectl get -w`.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  Cluster, KubectlWatch, applyObjects, haveKubectl, isPodReady, startSimNodes, waitFor, waitNodesReady, type Proc, type WatchEvent,
} from './harness.js';

const skip = !haveKubectl() && 'kubectl is not on the PATH';
const NODES = ['sim-node-0', 'sim-node-1', 'sim-node-2'];

function deployment(name: string, image: string, spec: Record<string, unknown> = {}, annotations: Record<string, string> = {}): object {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
    spec: {
      replicas: 3, selector: { matchLabels: { app: name } }, ...spec,
      template: {
        metadata: { labels: { app: name }, annotations },
        spec: { containers: [{ name: 'app', image, resources: { requests: { cpu: '100m', memory: '32Mi' } } }] },
      },
    },
  };
}

function statefulSet(name: string, spec: Record<string, unknown> = {}, annotations: Record<string, string> = {}): object {
  return {
    apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name },
    spec: {
      replicas: 3, serviceName: name, selector: { matchLabels: { app: name } }, ...spec,
      template: {
        metadata: { labels: { app: name }, annotations },
        spec: { containers: [{ name: 'app', image: `${name}:1`, volumeMounts: [{ name: 'www', mountPath: '/data' }] }] },
      },
      volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    },
  };
}

function headlessService(name: string): object {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { clusterIP: 'None', selector: { app: name }, ports: [{ port: 80 }] } };
}

function daemonSet(name: string, tolerations: object[] = []): object {
  return {
    apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { tolerations, containers: [{ name: 'agent', image: `${name}:1` }] } },
    },
  };
}

/** Pods by uid as a watch last showed them (deleted ones removed). */
class PodTracker {
  pods = new Map<string, any>();
  apply(e: WatchEvent): void {
    const uid = e.object?.metadata?.uid;
    if (!uid) return;
    if (e.type === 'DELETED') this.pods.delete(uid);
    else if (e.type === 'ADDED' || e.type === 'MODIFIED') this.pods.set(uid, e.object);
  }
  /** Not being deleted and not finished. */
  active(): any[] {
    return [...this.pods.values()].filter((p) => !p.metadata.deletionTimestamp && !['Succeeded', 'Failed'].includes(p.status?.phase));
  }
  byName(name: string): any | undefined {
    return [...this.pods.values()].find((p) => p.metadata.name === name);
  }
}

describe('workload controllers on simulated nodes', { skip, concurrency: false }, () => {
  let c: Cluster;
  let sim: Proc;
  let late: Proc | undefined;
  const watches: KubectlWatch[] = [];

  const ns = async (name: string) => { await c.k(['create', 'namespace', name]); return name; };
  const watch = (args: string[], onEvent?: (e: WatchEvent) => void) => {
    const w = new KubectlWatch(c, args, onEvent);
    watches.push(w);
    return w;
  };
  /** Waits until a watch has reported (as ADDED) everything that exists, so it is live. */
  const watchLive = async (w: KubectlWatch, n: number) =>
    waitFor(`kubectl get -w to list ${n} objects`, () => w.events.length >= n || (!w.running && Promise.reject(new Error(w.logs))), 20000);
  const rolloutStatus = async (kind: string, name: string, namespace: string) => {
    const r = await c.kubectl(['-n', namespace, 'rollout', 'status', `${kind}/${name}`, '--timeout=90s'], { timeoutMs: 100000 });
    assert.equal(r.code, 0, `rollout status ${kind}/${name}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  const pods = async (namespace: string, selector: string) =>
    ((await c.kjson(['-n', namespace, 'get', 'pods', '-l', selector])).items as any[]).filter((p) => !p.metadata.deletionTimestamp);

  before(async () => {
    c = await Cluster.start();
    sim = startSimNodes(c, ['--count', '3', '--zones', '3', '--cpu', '8', '--memory', '16Gi']);
    await waitNodesReady(c, NODES, 30000).catch((e) => { throw new Error(`${e.message}\nsim-nodes: ${sim.logs}\nserver: ${c.logs}`); });
  });

  after(async () => {
    for (const w of watches) await w.stop();
    await late?.stop();
    await sim?.stop();
    await c?.stop();
  });

  // ---- Deployments -------------------------------------------------------------------------------

  it('a rolling update, watched step by step, stays within replicas+maxSurge pods and replicas-maxUnavailable ready pods', async () => {
    const n = await ns('rolling');
    const replicas = 4;
    const maxSurge = 1;
    const maxUnavailable = 1;
    // New pods take a moment to start, so each step of the rollout is visible.
    await applyObjects(c, [deployment('roll', 'roll:1', { replicas, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge, maxUnavailable } } },
      { 'sim.keelson.io/startup-delay': '300ms' })], n);
    await rolloutStatus('deploy', 'roll', n);

    const tracker = new PodTracker();
    const violations: string[] = [];
    const steps: string[] = [];
    let maxPods = 0;
    let minReady = Infinity;
    let checking = false; // from the update on (the watch's initial list comes one pod at a time)
    const podWatch = watch(['-n', n, 'pods'], (e) => {
      tracker.apply(e);
      if (!checking) return;
      const active = tracker.active();
      const ready = active.filter(isPodReady).length;
      maxPods = Math.max(maxPods, active.length);
      minReady = Math.min(minReady, ready);
      if (active.length > replicas + maxSurge) violations.push(`${active.length} pods > ${replicas + maxSurge} after ${e.type} ${e.object.metadata.name}`);
      if (ready < replicas - maxUnavailable) violations.push(`${ready} ready pods < ${replicas - maxUnavailable} after ${e.type} ${e.object.metadata.name}`);
      const images = active.map((p) => p.spec.containers[0].image).sort().join(',');
      if (steps[steps.length - 1] !== images) steps.push(images);
    });
    const rsSizes = new Map<string, number>();
    const rsViolations: string[] = [];
    const rsWatch = watch(['-n', n, 'replicasets'], (e) => {
      if (e.type === 'DELETED') rsSizes.delete(e.object.metadata.name);
      else rsSizes.set(e.object.metadata.name, e.object.spec.replicas ?? 0);
      if (!checking) return;
      const total = [...rsSizes.values()].reduce((a, b) => a + b, 0);
      if (total > replicas + maxSurge) rsViolations.push(`ReplicaSets want ${total} pods`);
    });
    await watchLive(podWatch, replicas);
    await watchLive(rsWatch, 1);
    checking = true;

    await c.k(['-n', n, 'set', 'image', 'deploy/roll', 'app=roll:2']);
    await rolloutStatus('deploy', 'roll', n);
    await waitFor('the watch to see only new pods, all ready', () => {
      const active = tracker.active();
      return active.length === replicas && active.every((p) => p.spec.containers[0].image === 'roll:2' && isPodReady(p));
    }, 30000);
    assert.deepEqual(violations, [], `steps: ${steps.join(' | ')}`);
    assert.deepEqual(rsViolations, []);
    assert.ok(maxPods > replicas, `the surge was used (steps: ${steps.join(' | ')})`);
    assert.ok(minReady < replicas, 'old pods went before all new ones were ready (maxUnavailable was used)');
    assert.ok(steps.some((s) => s.includes('roll:1') && s.includes('roll:2')), `old and new pods ran side by side: ${steps.join(' | ')}`);

    const d = await c.kjson(['-n', n, 'get', 'deploy', 'roll']);
    assert.equal(d.status.updatedReplicas, replicas);
    assert.equal(d.status.availableReplicas, replicas);
    assert.equal(d.metadata.annotations['deployment.kubernetes.io/revision'], '2');
    // Events, as kubectl describe shows them.
    const desc = await c.k(['-n', n, 'describe', 'deploy', 'roll']);
    assert.match(desc, /Normal\s+ScalingReplicaSet\s+\S+\s+deployment-controller\s+Scaled up replica set roll-[a-z0-9]+ from 0 to 4/);
    assert.match(desc, /Normal\s+ScalingReplicaSet\s+\S+\s+deployment-controller\s+Scaled up replica set roll-[a-z0-9]+ from 0 to 1/);
    assert.match(desc, /Normal\s+ScalingReplicaSet\s+\S+\s+deployment-controller\s+Scaled down replica set roll-[a-z0-9]+ from \d to \d/);
    const rs = (await c.kjson(['-n', n, 'get', 'rs'])).items.find((r: any) => r.spec.template.spec.containers[0].image === 'roll:2');
    const rsDesc = await c.k(['-n', n, 'describe', 'rs', rs.metadata.name]);
    assert.match(rsDesc, new RegExp(`Normal\\s+SuccessfulCreate\\s+\\S+\\s+replicaset-controller\\s+Created pod: ${rs.metadata.name}-[a-z0-9]{5}`));
    const oldRS = (await c.kjson(['-n', n, 'get', 'rs'])).items.find((r: any) => r.spec.template.spec.containers[0].image === 'roll:1');
    assert.match(await c.k(['-n', n, 'describe', 'rs', oldRS.metadata.name]), /Normal\s+SuccessfulDelete\s+\S+\s+replicaset-controller\s+Deleted pod: roll-/);
  });

  it('Recreate: every old pod is gone before the first new pod is created', async () => {
    const n = await ns('recreate');
    await applyObjects(c, [deployment('rec', 'rec:1', { strategy: { type: 'Recreate' } })], n);
    await rolloutStatus('deploy', 'rec', n);
    const tracker = new PodTracker();
    const violations: string[] = [];
    let newSeen = 0;
    const w = watch(['-n', n, 'pods'], (e) => {
      tracker.apply(e);
      if (e.type === 'ADDED' && e.object.spec.containers[0].image === 'rec:2') {
        newSeen++;
        const old = [...tracker.pods.values()].filter((p) => p.spec.containers[0].image === 'rec:1');
        if (old.length) violations.push(`new pod ${e.object.metadata.name} created while ${old.map((p) => p.metadata.name).join(', ')} exist`);
      }
    });
    await watchLive(w, 3);
    await c.k(['-n', n, 'set', 'image', 'deploy/rec', 'app=rec:2']);
    await rolloutStatus('deploy', 'rec', n);
    await waitFor('3 new pods seen', () => newSeen >= 3, 20000);
    assert.deepEqual(violations, []);
    assert.deepEqual((await pods(n, 'app=rec')).map((p) => p.spec.containers[0].image), ['rec:2', 'rec:2', 'rec:2']);
  });

  it('rollout history, undo --to-revision, pause/resume and restart', async () => {
    const n = await ns('history');
    await applyObjects(c, [deployment('hist', 'hist:1', { replicas: 2 })], n);
    await rolloutStatus('deploy', 'hist', n);
    for (const v of ['2', '3']) {
      await c.k(['-n', n, 'set', 'image', 'deploy/hist', `app=hist:${v}`]);
      await rolloutStatus('deploy', 'hist', n);
    }
    const hist = await c.k(['-n', n, 'rollout', 'history', 'deploy/hist']);
    assert.match(hist, /^REVISION\s+CHANGE-CAUSE$/m);
    for (const r of ['1', '2', '3']) assert.match(hist, new RegExp(`^${r}\\s`, 'm'));
    assert.match(await c.k(['-n', n, 'rollout', 'history', 'deploy/hist', '--revision=2']), /Image:\s+hist:2/);

    // Back to revision 1: its ReplicaSet is reused and becomes revision 4.
    await c.k(['-n', n, 'rollout', 'undo', 'deploy/hist', '--to-revision=1']);
    await rolloutStatus('deploy', 'hist', n);
    let d = await c.kjson(['-n', n, 'get', 'deploy', 'hist']);
    assert.equal(d.spec.template.spec.containers[0].image, 'hist:1');
    assert.equal(d.metadata.annotations['deployment.kubernetes.io/revision'], '4');
    assert.equal((await c.kjson(['-n', n, 'get', 'rs'])).items.length, 3, 'no new ReplicaSet for an old template');
    assert.deepEqual((await pods(n, 'app=hist')).map((p) => p.spec.containers[0].image), ['hist:1', 'hist:1']);
    const after = await c.k(['-n', n, 'rollout', 'history', 'deploy/hist']);
    assert.doesNotMatch(after, /^1\s/m, 'revision 1 became revision 4');
    assert.match(after, /^4\s/m);

    // Paused: a template change is recorded but not rolled out.
    await c.k(['-n', n, 'rollout', 'pause', 'deploy/hist']);
    await c.k(['-n', n, 'set', 'image', 'deploy/hist', 'app=hist:5']);
    d = await waitFor('the controller to see the paused change', async () => {
      const cur = await c.kjson(['-n', n, 'get', 'deploy', 'hist']);
      const prog = (cur.status.conditions ?? []).find((x: any) => x.type === 'Progressing');
      return cur.status.observedGeneration === cur.metadata.generation && prog?.reason === 'DeploymentPaused' && cur;
    }, 30000, 200);
    assert.equal(d.spec.paused, true);
    const rsWhilePaused = (await c.kjson(['-n', n, 'get', 'rs'])).items as any[];
    assert.equal(rsWhilePaused.length, 3);
    assert.ok(!rsWhilePaused.some((r) => r.spec.template.spec.containers[0].image === 'hist:5'), 'no ReplicaSet for the paused template');
    assert.deepEqual((await pods(n, 'app=hist')).map((p) => p.spec.containers[0].image), ['hist:1', 'hist:1']);
    await c.k(['-n', n, 'rollout', 'resume', 'deploy/hist']);
    await rolloutStatus('deploy', 'hist', n);
    await waitFor('hist:5 pods only', async () => (await pods(n, 'app=hist')).every((p) => p.spec.containers[0].image === 'hist:5'), 30000, 200);

    // Restart: same image, new pods (a restartedAt template annotation).
    const before = new Set((await pods(n, 'app=hist')).map((p) => p.metadata.uid));
    await c.k(['-n', n, 'rollout', 'restart', 'deploy/hist']);
    await rolloutStatus('deploy', 'hist', n);
    const restarted = await waitFor('restarted pods', async () => {
      const ps = await pods(n, 'app=hist');
      return ps.length === 2 && ps.every((p) => !before.has(p.metadata.uid)) && ps;
    }, 30000, 200);
    for (const p of restarted) {
      assert.ok(p.metadata.annotations['kubectl.kubernetes.io/restartedAt']);
      assert.equal(p.spec.containers[0].image, 'hist:5');
    }
    d = await c.kjson(['-n', n, 'get', 'deploy', 'hist']);
    assert.equal(d.metadata.annotations['deployment.kubernetes.io/revision'], '6');
  });

  // ---- StatefulSets ------------------------------------------------------------------------------

  it('StatefulSet OrderedReady: web-0 Running and Ready before web-1 exists; claims; scale down in reverse keeps claims', async () => {
    const n = await ns('sts-ordered');
    // A pod that already exists makes the watch's first answer observable.
    await applyObjects(c, [{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'sentinel' }, spec: { containers: [{ name: 'c', image: 'pause' }] } }], n);
    const order: string[] = [];
    const tracker = new PodTracker();
    const w = watch(['-n', n, 'pods'], (e) => {
      const name = e.object.metadata.name;
      const had = tracker.byName(name);
      tracker.apply(e);
      if (name === 'sentinel') return;
      if (e.type === 'ADDED') order.push(`created ${name}`);
      if (e.type !== 'DELETED' && !had?.metadata?.deletionTimestamp && e.object.metadata.deletionTimestamp) order.push(`deleting ${name}`);
      if (e.type !== 'DELETED' && e.object.status?.phase === 'Running' && isPodReady(e.object) && !(had && isPodReady(had))) order.push(`ready ${name}`);
    });
    await watchLive(w, 1);
    await applyObjects(c, [headlessService('web'), statefulSet('web', {}, { 'sim.keelson.io/startup-delay': '200ms' })], n);
    await rolloutStatus('sts', 'web', n);
    await waitFor('web-2 ready in the watch', () => order.includes('ready web-2'), 20000);
    const idx = (s: string) => order.indexOf(s);
    assert.ok(idx('ready web-0') >= 0 && idx('ready web-0') < idx('created web-1'), `web-0 ready before web-1 exists: ${order.join(', ')}`);
    assert.ok(idx('ready web-1') < idx('created web-2'), `web-1 ready before web-2 exists: ${order.join(', ')}`);
    const ps = await pods(n, 'app=web');
    for (const p of ps) {
      assert.equal(p.spec.hostname, p.metadata.name);
      assert.equal(p.spec.subdomain, 'web');
      assert.equal(p.metadata.labels['statefulset.kubernetes.io/pod-name'], p.metadata.name);
      assert.deepEqual(p.spec.volumes.find((v: any) => v.name === 'www').persistentVolumeClaim, { claimName: `www-${p.metadata.name}` });
    }
    const claims = async () => ((await c.kjson(['-n', n, 'get', 'pvc'])).items as any[]).map((x) => x.metadata.name).sort();
    assert.deepEqual(await claims(), ['www-web-0', 'www-web-1', 'www-web-2']);

    await c.k(['-n', n, 'scale', 'sts/web', '--replicas=1']);
    await waitFor('web-1 and web-2 gone', async () => (await pods(n, 'app=web')).map((p) => p.metadata.name).join() === 'web-0', 30000, 200);
    await waitFor('the deletions in the watch', () => order.includes('deleting web-1'), 10000);
    assert.ok(idx('deleting web-2') < idx('deleting web-1'), `scale down in reverse order: ${order.join(', ')}`);
    assert.deepEqual(await claims(), ['www-web-0', 'www-web-1', 'www-web-2'], 'claims are kept after scale down');

    const desc = await c.k(['-n', n, 'describe', 'sts', 'web']);
    assert.match(desc, /Normal\s+SuccessfulCreate\s+\S+\s+statefulset-controller\s+create Claim www-web-0 Pod web-0 in StatefulSet web success/);
    assert.match(desc, /Normal\s+SuccessfulCreate\s+\S+\s+statefulset-controller\s+create Pod web-0 in StatefulSet web successful/);
    assert.match(desc, /Normal\s+SuccessfulDelete\s+\S+\s+statefulset-controller\s+delete Pod web-2 in StatefulSet web successful/);
  });

  it('StatefulSet Parallel: every pod is created without waiting for the others to be ready', async () => {
    const n = await ns('sts-parallel');
    await applyObjects(c, [{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'sentinel' }, spec: { containers: [{ name: 'c', image: 'pause' }] } }], n);
    const order: string[] = [];
    const w = watch(['-n', n, 'pods'], (e) => {
      const name = e.object.metadata.name;
      if (!name.startsWith('par-')) return;
      if (e.type === 'ADDED') order.push(`created ${name}`);
      if (e.type !== 'DELETED' && isPodReady(e.object) && !order.includes(`ready ${name}`)) order.push(`ready ${name}`);
    });
    await watchLive(w, 1);
    // Pods take 2 s to start: all three exist long before the first is ready.
    await applyObjects(c, [headlessService('par'), statefulSet('par', { podManagementPolicy: 'Parallel' }, { 'sim.keelson.io/startup-delay': '2s' })], n);
    await rolloutStatus('sts', 'par', n);
    await waitFor('all ready in the watch', () => order.filter((x) => x.startsWith('ready')).length === 3, 20000);
    const firstReady = order.findIndex((x) => x.startsWith('ready'));
    assert.deepEqual(order.slice(0, firstReady).sort(), ['created par-0', 'created par-1', 'created par-2'], order.join(', '));
  });

  it('StatefulSet RollingUpdate with a partition updates only the ordinals at or above it, highest first', async () => {
    const n = await ns('sts-partition');
    await applyObjects(c, [headlessService('part'), statefulSet('part', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } })], n);
    await rolloutStatus('sts', 'part', n);
    const image = async () => Object.fromEntries((await pods(n, 'app=part')).map((p) => [p.metadata.name, p.spec.containers[0].image]));
    await c.k(['-n', n, 'set', 'image', 'sts/part', 'app=part:2']);
    await waitFor('part-2 updated', async () => {
      const s = await c.kjson(['-n', n, 'get', 'sts', 'part']);
      const im = await image();
      return im['part-2'] === 'part:2' && s.status.updatedReplicas === 1 && s.status.readyReplicas === 3;
    }, 30000, 200);
    assert.deepEqual(await image(), { 'part-0': 'part:1', 'part-1': 'part:1', 'part-2': 'part:2' });
    let s = await c.kjson(['-n', n, 'get', 'sts', 'part']);
    assert.notEqual(s.status.currentRevision, s.status.updateRevision, 'the partition holds the rollout');

    // Lowering the partition rolls the rest, from the highest ordinal down.
    const tracker = new PodTracker();
    const deletions: string[] = [];
    const w = watch(['-n', n, 'pods'], (e) => {
      const had = tracker.byName(e.object.metadata.name);
      tracker.apply(e);
      if (e.type !== 'DELETED' && e.object.metadata.deletionTimestamp && !had?.metadata?.deletionTimestamp) deletions.push(e.object.metadata.name);
    });
    await watchLive(w, 3);
    await c.k(['-n', n, 'patch', 'sts', 'part', '-p', '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}']);
    s = await waitFor('all updated', async () => {
      const cur = await c.kjson(['-n', n, 'get', 'sts', 'part']);
      return cur.status.updatedReplicas === 3 && cur.status.readyReplicas === 3 && cur.status.currentRevision === cur.status.updateRevision && cur;
    }, 30000, 200);
    assert.deepEqual(await image(), { 'part-0': 'part:2', 'part-1': 'part:2', 'part-2': 'part:2' });
    assert.deepEqual(deletions, ['part-1', 'part-0']);
    assert.equal(s.status.currentReplicas, 3);

    // History and undo: a template that also gained an env var goes back exactly to revision 2
    // (the revision's data replaces the template; it is not merged into it).
    await c.k(['-n', n, 'set', 'env', 'sts/part', 'EXTRA=1']);
    await rolloutStatus('sts', 'part', n);
    const hist = await c.k(['-n', n, 'rollout', 'history', 'sts/part']);
    for (const r of ['1', '2', '3']) assert.match(hist, new RegExp(`^${r}\\s`, 'm'));
    assert.match(await c.k(['-n', n, 'rollout', 'history', 'sts/part', '--revision=3']), /EXTRA:\s+1/);
    await c.k(['-n', n, 'rollout', 'undo', 'sts/part']);
    await waitFor('the undo rolled out', async () => {
      const cur = await c.kjson(['-n', n, 'get', 'sts', 'part']);
      const ps = await pods(n, 'app=part');
      return cur.status.updatedReplicas === 3 && cur.status.readyReplicas === 3 && cur.status.currentRevision === cur.status.updateRevision
        && ps.length === 3 && ps.every((p) => !p.spec.containers[0].env) && cur;
    }, 30000, 200);
    const back = await c.kjson(['-n', n, 'get', 'sts', 'part']);
    assert.equal(back.spec.template.spec.containers[0].env, undefined, 'EXTRA is gone again');
    assert.equal(back.spec.template.spec.containers[0].image, 'part:2');
  });

  // ---- DaemonSets --------------------------------------------------------------------------------

  it('DaemonSet: a pod on every node, one on a node added later; taints and tolerations', async () => {
    const n = await ns('daemons');
    const nodesOf = async (app: string) => (await pods(n, `app=${app}`)).map((p) => p.spec.nodeName).sort();
    await applyObjects(c, [daemonSet('agent')], n);
    await waitFor('an agent on every node', async () => (await nodesOf('agent')).join() === NODES.join(), 30000, 200);
    await rolloutStatus('ds', 'agent', n);

    // A node that joins later (a second sim-nodes process) gets its pod.
    late = startSimNodes(c, ['--count', '1', '--name-prefix', 'late-node-', '--cpu', '8', '--memory', '16Gi']);
    await waitNodesReady(c, ['late-node-0']);
    await waitFor('an agent on late-node-0', async () => (await nodesOf('agent')).includes('late-node-0'), 30000, 200);
    const ds = await c.kjson(['-n', n, 'get', 'ds', 'agent']);
    assert.equal(ds.status.desiredNumberScheduled, 4);

    // A NoSchedule taint: only DaemonSets that tolerate it place a pod there (a pod already
    // running there stays).
    await c.k(['taint', 'nodes', 'sim-node-2', 'dedicated=infra:NoSchedule']);
    try {
      await applyObjects(c, [
        daemonSet('plain'),
        daemonSet('tolerant', [{ key: 'dedicated', operator: 'Equal', value: 'infra', effect: 'NoSchedule' }]),
      ], n);
      await waitFor('tolerant on all 4 nodes', async () => (await nodesOf('tolerant')).length === 4, 30000, 200);
      await waitFor('plain on the 3 untainted nodes', async () => (await nodesOf('plain')).join() === 'late-node-0,sim-node-0,sim-node-1', 30000, 200);
      assert.ok((await nodesOf('agent')).includes('sim-node-2'), 'the agent already there stays');
      assert.equal((await c.kjson(['-n', n, 'get', 'ds', 'plain'])).status.desiredNumberScheduled, 3);
    } finally {
      await c.k(['taint', 'nodes', 'sim-node-2', 'dedicated-']);
    }
    await waitFor('plain on sim-node-2 once untainted', async () => (await nodesOf('plain')).includes('sim-node-2'), 30000, 200);

    // A NoExecute taint nothing tolerates: the daemon pods there go.
    await c.k(['taint', 'nodes', 'late-node-0', 'evict=now:NoExecute']);
    await waitFor('no daemon pod left on late-node-0', async () => {
      const ps = ((await c.kjson(['-n', n, 'get', 'pods'])).items as any[]).filter((p) => p.spec.nodeName === 'late-node-0');
      return ps.length === 0;
    }, 30000, 200);
    assert.equal((await c.kjson(['-n', n, 'get', 'ds', 'agent'])).status.desiredNumberScheduled, 3);

    // A rolling update of the template, its history, and undo.
    await c.k(['-n', n, 'set', 'image', 'ds/agent', 'agent=agent:2']);
    await rolloutStatus('ds', 'agent', n);
    assert.deepEqual([...new Set((await pods(n, 'app=agent')).map((p) => p.spec.containers[0].image))], ['agent:2']);
    const hist = await c.k(['-n', n, 'rollout', 'history', 'ds/agent']);
    assert.match(hist, /^1\s/m);
    assert.match(hist, /^2\s/m);
    assert.match(await c.k(['-n', n, 'rollout', 'history', 'ds/agent', '--revision=1']), /Image:\s+agent:1/);
    await c.k(['-n', n, 'rollout', 'undo', 'ds/agent']);
    await rolloutStatus('ds', 'agent', n);
    await waitFor('agent:1 everywhere again', async () => {
      const ps = await pods(n, 'app=agent');
      return ps.length === 3 && ps.every((p) => p.spec.containers[0].image === 'agent:1');
    }, 30000, 200);
    const revs = ((await c.kjson(['-n', n, 'get', 'controllerrevisions'])).items as any[]).filter((r) => r.metadata.ownerReferences?.[0]?.name === 'agent');
    assert.deepEqual(revs.map((r) => r.revision).sort(), [2, 3], 'revision 1 came back as revision 3');

    const desc = await c.k(['-n', n, 'describe', 'ds', 'agent']);
    assert.match(desc, /Normal\s+SuccessfulCreate\s+\S+\s+daemonset-controller\s+Created pod: agent-[a-z0-9]{5}/);
    assert.match(desc, /Normal\s+SuccessfulDelete\s+\S+\s+daemonset-controller\s+Deleted pod: agent-[a-z0-9]{5}/);
    await late.stop();
    await c.k(['delete', 'node', 'late-node-0']);
  });
});
