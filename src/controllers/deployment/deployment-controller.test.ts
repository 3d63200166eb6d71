import { test, before, after } from 'node:test';
import { setMaxListeners } from 'node:events';
import assert from 'node:assert/strict';
import { Informer, type ResourceDescriptor, type RestClient } from '../../client/index.js';
import { eventually, startTestCluster, type TestCluster } from '../../client/testing.js';
import { ReplicaSetController } from '../replicaset/replicaset-controller.js';
import { DEPLOYMENTS, PODS, REPLICASETS, isPodActive, isPodReady, type Obj } from '../replicaset/controller-utils.js';
import { FakeKubelet } from '../replicaset/fake-kubelet.js';
import { DeploymentController } from './deployment-controller.js';
import { computeHash, skipCopyAnnotation } from './deployment-util.js';

const NAMESPACES: ResourceDescriptor = { group: '', version: 'v1', plural: 'namespaces', namespaced: false };
const EVENTS: ResourceDescriptor = { group: '', version: 'v1', plural: 'events', namespaced: true };
const REV = 'deployment.kubernetes.io/revision';

let cluster: TestCluster;
let client: RestClient;
let rsc: ReplicaSetController;
let dc: DeploymentController;
const ac = new AbortController();
// Every informer, controller and fake kubelet of the file listens on this one signal.
setMaxListeners(100, ac.signal);
const kubelets: FakeKubelet[] = [];

before(async () => {
  cluster = await startTestCluster();
  client = cluster.client;
  rsc = new ReplicaSetController(cluster.newClient());
  dc = new DeploymentController(cluster.newClient());
  rsc.start(ac.signal);
  dc.start(ac.signal);
  assert.ok(await rsc.waitForSync(AbortSignal.timeout(10_000)));
  assert.ok(await dc.waitForSync(AbortSignal.timeout(10_000)));
});

after(async () => {
  ac.abort();
  await Promise.all([rsc.stopped(), dc.stopped(), ...kubelets.map((k) => k.stopped())]);
  await cluster.stop();
});

// ---- helpers -------------------------------------------------------------------------------------

async function waitFor<T>(cond: () => Promise<T | undefined | false | null> | T | undefined | false | null, what: string, timeoutMs = 20_000): Promise<T> {
  return (await eventually(cond, what, timeoutMs)) as T;
}

async function namespace(name: string): Promise<string> {
  await client.create(NAMESPACES, undefined, { metadata: { name } });
  return name;
}

async function kubeletFor(ns: string, auto: boolean): Promise<FakeKubelet> {
  const k = new FakeKubelet(cluster.newClient(), { namespace: ns, auto });
  kubelets.push(k);
  k.start(ac.signal);
  assert.ok(await k.informer.waitForSync(AbortSignal.timeout(10_000)));
  return k;
}

function deployment(name: string, spec: Record<string, unknown> = {}, image = 'busybox:1'): Obj {
  return {
    metadata: { name },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image }] } },
      ...spec,
    },
  };
}

const getD = (ns: string, name: string) => client.get<Obj>(DEPLOYMENTS, ns, name);
const listRS = async (ns: string) => (await client.list<Obj>(REPLICASETS, ns)).items;
const cond = (d: Obj, type: string) => (d.status?.conditions ?? []).find((c: any) => c.type === type);

/** kubectl rollout status for a Deployment (polymorphichelpers' DeploymentStatusViewer). */
function rolloutStatus(d: Obj): { done: boolean; message: string; error?: string } {
  const name = d.metadata!.name;
  const s = d.status ?? {};
  if ((d.metadata!.generation ?? 0) > (s.observedGeneration ?? 0)) return { done: false, message: 'Waiting for deployment spec update to be observed...' };
  if (cond(d, 'Progressing')?.reason === 'ProgressDeadlineExceeded') return { done: false, message: '', error: `deployment "${name}" exceeded its progress deadline` };
  const replicas = d.spec?.replicas ?? 1;
  const updated = s.updatedReplicas ?? 0;
  if (updated < replicas) return { done: false, message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${replicas} new replicas have been updated...` };
  if ((s.replicas ?? 0) > updated) return { done: false, message: `Waiting for deployment "${name}" rollout to finish: ${(s.replicas ?? 0) - updated} old replicas are pending termination...` };
  if ((s.availableReplicas ?? 0) < updated) return { done: false, message: `Waiting for deployment "${name}" rollout to finish: ${s.availableReplicas ?? 0} of ${updated} updated replicas are available...` };
  return { done: true, message: `deployment "${name}" successfully rolled out` };
}

async function rolledOut(ns: string, name: string, timeoutMs?: number): Promise<Obj> {
  return waitFor(async () => {
    const d = await getD(ns, name);
    const st = rolloutStatus(d);
    if (st.error) throw new Error(st.error);
    return st.done ? d : undefined;
  }, `rollout of ${ns}/${name}`, timeoutMs);
}

/** What `kubectl rollout undo [--to-revision]` sends: the old ReplicaSet's template and annotations, as a JSON patch. */
async function rolloutUndo(ns: string, name: string, toRevision?: number): Promise<void> {
  const d = await getD(ns, name);
  const rss = (await listRS(ns)).filter((rs) => rs.metadata?.ownerReferences?.some((r) => r.uid === d.metadata!.uid));
  const revs = rss.map((rs) => Number(rs.metadata!.annotations![REV])).sort((a, b) => a - b);
  const target = toRevision ?? revs[revs.length - 2];
  const rs = rss.find((r) => Number(r.metadata!.annotations![REV]) === target);
  assert.ok(rs, `revision ${target} exists`);
  const template = structuredClone(rs.spec.template);
  delete template.metadata.labels['pod-template-hash'];
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(d.metadata!.annotations ?? {})) if (skipCopyAnnotation(k)) annotations[k] = v;
  for (const [k, v] of Object.entries(rs.metadata!.annotations ?? {})) if (!skipCopyAnnotation(k)) annotations[k] = v;
  await client.patch(DEPLOYMENTS, ns, name, [
    { op: 'replace', path: '/spec/template', value: template },
    { op: 'replace', path: '/metadata/annotations', value: annotations },
  ], 'json');
}

async function setImage(ns: string, name: string, image: string): Promise<void> {
  await client.patch(DEPLOYMENTS, ns, name, { spec: { template: { spec: { containers: [{ name: 'c', image }] } } } }, 'strategic');
}

/** Watches pods and ReplicaSets of a namespace and checks invariants at every change. */
class Recorder {
  readonly pods: Informer<Obj>;
  readonly rss: Informer<Obj>;
  readonly violations: string[] = [];
  maxPods = 0;
  minReady = Infinity;
  readonly steps: string[] = [];
  /** Checks start once both initial lists are in (their replay is not a sequence of states). */
  private live = false;

  constructor(c: RestClient, ns: string, private readonly check: (r: Recorder, what: string) => void) {
    this.pods = new Informer<Obj>(c, PODS, { namespace: ns });
    this.rss = new Informer<Obj>(c, REPLICASETS, { namespace: ns });
    const run = (what: string) => { if (this.live) this.check(this, what); };
    for (const inf of [this.pods, this.rss]) {
      inf.on('add', (o) => run(`add ${o.kind ?? ''} ${o.metadata?.name}`));
      inf.on('update', (_x, o) => run(`update ${o.metadata?.name}`));
      inf.on('delete', (o) => run(`delete ${o.metadata?.name}`));
    }
  }

  async start(signal: AbortSignal): Promise<void> {
    this.pods.start(signal);
    this.rss.start(signal);
    assert.ok(await this.pods.waitForSync(signal));
    assert.ok(await this.rss.waitForSync(signal));
    this.live = true;
    this.check(this, 'initial state');
  }

  activePods(filter: (p: Obj) => boolean = () => true): Obj[] {
    return this.pods.list().filter((p) => isPodActive(p) && filter(p));
  }
}

// ---- tests ---------------------------------------------------------------------------------------

test('a new Deployment gets a ReplicaSet named by its pod-template-hash, revision 1, and completes', async () => {
  const ns = await namespace('dep-create');
  await kubeletFor(ns, true);
  const created = await client.create<Obj>(DEPLOYMENTS, ns, deployment('web'));
  const d = await rolledOut(ns, 'web');

  const rss = await listRS(ns);
  assert.equal(rss.length, 1);
  const rs = rss[0]!;
  const hash = rs.metadata!.labels!['pod-template-hash']!;
  assert.match(hash, /^[456789bcdf]{1,10}$/);
  assert.equal(hash, computeHash(created.spec.template), 'the hash of the Deployment template');
  assert.equal(rs.metadata!.name, `web-${hash}`);
  assert.deepEqual(rs.spec.selector, { matchLabels: { app: 'web', 'pod-template-hash': hash } });
  assert.deepEqual(rs.spec.template.metadata.labels, { app: 'web', 'pod-template-hash': hash });
  assert.deepEqual(rs.metadata!.labels, { app: 'web', 'pod-template-hash': hash });
  assert.equal(rs.metadata!.annotations![REV], '1');
  assert.equal(rs.metadata!.annotations!['deployment.kubernetes.io/desired-replicas'], '3');
  assert.equal(rs.metadata!.annotations!['deployment.kubernetes.io/max-replicas'], '4', '3 + 25% surge rounded up');
  assert.deepEqual(rs.metadata!.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: created.metadata!.uid, controller: true, blockOwnerDeletion: true }]);
  assert.equal(rs.spec.replicas, 3);

  const pods = (await client.list<Obj>(PODS, ns)).items;
  assert.equal(pods.length, 3);
  for (const p of pods) assert.equal(p.metadata!.labels!['pod-template-hash'], hash);

  assert.equal(d.metadata!.annotations?.[REV], '1');
  assert.equal(d.status.observedGeneration, d.metadata!.generation);
  assert.equal(d.status.replicas, 3);
  assert.equal(d.status.updatedReplicas, 3);
  assert.equal(d.status.readyReplicas, 3);
  assert.equal(d.status.availableReplicas, 3);
  assert.equal(d.status.unavailableReplicas, undefined, 'zero counts are omitted as Kubernetes does');
  const available = cond(d, 'Available');
  assert.equal(available.status, 'True');
  assert.equal(available.reason, 'MinimumReplicasAvailable');
  assert.equal(available.message, 'Deployment has minimum availability.');
  const progressing = await waitFor(async () => {
    const c = cond(await getD(ns, 'web'), 'Progressing');
    return c?.reason === 'NewReplicaSetAvailable' ? c : undefined;
  }, 'Progressing NewReplicaSetAvailable');
  assert.equal(progressing.status, 'True');
  assert.equal(progressing.message, `ReplicaSet "web-${hash}" has successfully progressed.`);
  assert.ok(progressing.lastUpdateTime && progressing.lastTransitionTime);
});

test('a rolling update keeps within replicas + maxSurge pods and replicas - maxUnavailable ready pods at every step', async (t) => {
  const ns = await namespace('dep-rolling');
  const kubelet = await kubeletFor(ns, true);
  const replicas = 5;
  const surge = 2;
  const unavailable = 1;
  await client.create(DEPLOYMENTS, ns, deployment('roll', { replicas, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: surge, maxUnavailable: unavailable } } }));
  await rolledOut(ns, 'roll');
  kubelet.setAuto(false);

  const rec = new Recorder(cluster.newClient(), ns, (r, what) => {
    const active = r.activePods();
    const ready = active.filter(isPodReady).length;
    r.maxPods = Math.max(r.maxPods, active.length);
    r.minReady = Math.min(r.minReady, ready);
    if (active.length > replicas + surge) r.violations.push(`${what}: ${active.length} pods > ${replicas + surge}`);
    if (ready < replicas - unavailable) r.violations.push(`${what}: ${ready} ready pods < ${replicas - unavailable}`);
    const sizes = r.rss.list().map((rs) => `${rs.spec.template.spec.containers[0].image}=${rs.spec.replicas}`).sort().join(' ');
    if (r.steps[r.steps.length - 1] !== sizes) r.steps.push(sizes);
  });
  await rec.start(ac.signal);

  await setImage(ns, 'roll', 'busybox:2');
  const deadline = Date.now() + 60_000;
  let readied = 0;
  for (;;) {
    const d = await getD(ns, 'roll');
    if (rolloutStatus(d).done && d.spec.template.spec.containers[0].image === 'busybox:2') break;
    assert.ok(Date.now() < deadline, `rollout finished in time (last: ${rolloutStatus(d).message}; steps ${rec.steps.join(' | ')})`);
    // The kubelet starts one new pod at a time; otherwise wait for the controllers to move.
    if (await kubelet.readyOne()) readied++;
    else await new Promise((r) => setTimeout(r, 10));
  }
  t.diagnostic(`ReplicaSet sizes seen: ${rec.steps.join(' | ')}; most pods ${rec.maxPods}, fewest ready ${rec.minReady}`);
  assert.deepEqual(rec.violations, []);
  assert.equal(readied, replicas, 'each new pod was made ready once');
  assert.ok(rec.maxPods > replicas, 'the surge was used');
  assert.ok(rec.maxPods <= replicas + surge);
  assert.ok(rec.minReady >= replicas - unavailable);
  // Several intermediate steps (old and new both partly scaled).
  assert.ok(rec.steps.some((s) => /busybox:1=[1-4] /.test(`${s} `) && /busybox:2=[1-5]/.test(s)), `intermediate steps: ${rec.steps.join(' | ')}`);

  const rss = await listRS(ns);
  const byImage = new Map(rss.map((rs) => [rs.spec.template.spec.containers[0].image, rs]));
  assert.equal(byImage.get('busybox:1')!.spec.replicas, 0);
  assert.equal(byImage.get('busybox:2')!.spec.replicas, replicas);
  assert.equal(byImage.get('busybox:2')!.metadata!.annotations![REV], '2');
  const d = await getD(ns, 'roll');
  assert.equal(d.metadata!.annotations![REV], '2');
  assert.equal(d.status.observedGeneration, d.metadata!.generation);
  const pods = rec.activePods();
  assert.equal(pods.length, replicas);
  assert.ok(pods.every((p) => p.spec.containers[0].image === 'busybox:2'));

  // ScalingReplicaSet events tell the rollout's story, in upstream's words.
  const oldRS = byImage.get('busybox:1')!.metadata!.name;
  const newRS = byImage.get('busybox:2')!.metadata!.name;
  const events = await waitFor(async () => {
    const es = (await client.list<any>(EVENTS, ns, { fieldSelector: 'involvedObject.kind=Deployment,involvedObject.name=roll' })).items;
    return es.some((e: any) => e.message.startsWith(`Scaled down replica set ${oldRS} from `) && e.message.endsWith(' to 0')) ? es : undefined;
  }, 'the events of the rollout');
  const messages = events.map((e: any) => e.message);
  for (const e of events) {
    assert.equal(e.reason, 'ScalingReplicaSet');
    assert.equal(e.source.component, 'deployment-controller');
    assert.equal(e.involvedObject.uid, d.metadata!.uid);
  }
  assert.ok(messages.includes(`Scaled up replica set ${oldRS} from 0 to ${replicas}`), messages.join('; '));
  assert.ok(messages.includes(`Scaled up replica set ${newRS} from 0 to ${surge}`), messages.join('; '));
  assert.ok(messages.every((m: string) => /^Scaled (up|down) replica set roll-[a-z0-9]+ from \d+ to \d+$/.test(m)), messages.join('; '));
});

test('Recreate: every old pod is gone before the first new pod exists', async () => {
  const ns = await namespace('dep-recreate');
  await kubeletFor(ns, true);
  await client.create(DEPLOYMENTS, ns, deployment('rec', { replicas: 3, strategy: { type: 'Recreate' } }));
  await rolledOut(ns, 'rec');

  let newPodsSeen = 0;
  const rec = new Recorder(cluster.newClient(), ns, (r) => {
    const active = r.activePods();
    const fresh = active.filter((p) => p.spec.containers[0].image === 'busybox:2');
    const old = r.pods.list().filter((p) => p.spec.containers[0].image !== 'busybox:2');
    if (fresh.length && old.length) r.violations.push(`${fresh.length} new pods while ${old.length} old pods exist`);
    newPodsSeen = Math.max(newPodsSeen, fresh.length);
  });
  await rec.start(ac.signal);
  await setImage(ns, 'rec', 'busybox:2');
  const d = await waitFor(async () => {
    const cur = await getD(ns, 'rec');
    return cur.spec.template.spec.containers[0].image === 'busybox:2' && rolloutStatus(cur).done ? cur : undefined;
  }, 'recreate rollout');
  assert.deepEqual(rec.violations, []);
  assert.equal(newPodsSeen, 3);
  assert.equal(d.metadata!.annotations![REV], '2');
  assert.equal(cond(d, 'Available').status, 'True');
});

test('rollout undo: the old ReplicaSet is reused with a new revision (and --to-revision)', async () => {
  const ns = await namespace('dep-undo');
  await kubeletFor(ns, true);
  await client.create(DEPLOYMENTS, ns, deployment('undo'));
  await rolledOut(ns, 'undo');
  await setImage(ns, 'undo', 'busybox:2');
  await waitFor(async () => (await getD(ns, 'undo')).metadata!.annotations?.[REV] === '2' && rolloutStatus(await getD(ns, 'undo')).done, 'revision 2 rolled out');
  const before = await listRS(ns);
  assert.equal(before.length, 2);
  const v1 = before.find((rs) => rs.spec.template.spec.containers[0].image === 'busybox:1')!;
  const v2 = before.find((rs) => rs.spec.template.spec.containers[0].image === 'busybox:2')!;

  await rolloutUndo(ns, 'undo');
  const d = await waitFor(async () => {
    const cur = await getD(ns, 'undo');
    return cur.metadata!.annotations?.[REV] === '3' && rolloutStatus(cur).done ? cur : undefined;
  }, 'undo rolled out as revision 3');
  assert.equal(d.spec.template.spec.containers[0].image, 'busybox:1');
  const after = await listRS(ns);
  assert.equal(after.length, 2, 'no new ReplicaSet');
  const v1After = after.find((rs) => rs.metadata!.uid === v1.metadata!.uid)!;
  assert.equal(v1After.metadata!.annotations![REV], '3');
  assert.equal(v1After.metadata!.annotations!['deployment.kubernetes.io/revision-history'], '1');
  assert.equal(v1After.spec.replicas, 3);
  assert.equal(after.find((rs) => rs.metadata!.uid === v2.metadata!.uid)!.spec.replicas, 0);

  // kubectl rollout undo --to-revision=2
  await rolloutUndo(ns, 'undo', 2);
  await waitFor(async () => {
    const cur = await getD(ns, 'undo');
    return cur.metadata!.annotations?.[REV] === '4' && cur.spec.template.spec.containers[0].image === 'busybox:2' && rolloutStatus(cur).done;
  }, 'undo to revision 2 rolled out as revision 4');
  const last = await listRS(ns);
  assert.equal(last.length, 2);
  const v2After = last.find((rs) => rs.metadata!.uid === v2.metadata!.uid)!;
  assert.equal(v2After.metadata!.annotations![REV], '4');
  assert.equal(v2After.metadata!.annotations!['deployment.kubernetes.io/revision-history'], '2');
});

test('paused: a template change creates no ReplicaSet and scaling still works; resume rolls out', async () => {
  const ns = await namespace('dep-pause');
  await kubeletFor(ns, true);
  await client.create(DEPLOYMENTS, ns, deployment('pz'));
  await rolledOut(ns, 'pz');
  await client.patch(DEPLOYMENTS, ns, 'pz', { spec: { paused: true } }, 'merge');
  await setImage(ns, 'pz', 'busybox:2');
  await client.patch(DEPLOYMENTS, ns, 'pz', { spec: { replicas: 5 } }, 'merge');
  const paused = await waitFor(async () => {
    const d = await getD(ns, 'pz');
    return d.status.observedGeneration === d.metadata!.generation && cond(d, 'Progressing')?.reason === 'DeploymentPaused' && d.status.availableReplicas === 5 ? d : undefined;
  }, 'paused deployment observed and scaled');
  assert.equal(cond(paused, 'Progressing').status, 'Unknown');
  assert.equal(cond(paused, 'Progressing').message, 'Deployment is paused');
  let rss = await listRS(ns);
  assert.equal(rss.length, 1, 'no new ReplicaSet while paused');
  assert.equal(rss[0]!.spec.template.spec.containers[0].image, 'busybox:1');
  assert.equal(rss[0]!.spec.replicas, 5);
  assert.equal(paused.status.updatedReplicas, undefined, 'no replica runs the paused template');
  assert.equal(rolloutStatus(paused).done, false);

  await client.patch(DEPLOYMENTS, ns, 'pz', { spec: { paused: false } }, 'merge');
  const d = await waitFor(async () => {
    const cur = await getD(ns, 'pz');
    return rolloutStatus(cur).done && cond(cur, 'Progressing')?.reason === 'NewReplicaSetAvailable' ? cur : undefined;
  }, 'resumed rollout complete');
  rss = await listRS(ns);
  assert.equal(rss.length, 2);
  assert.equal(d.metadata!.annotations![REV], '2');
  assert.equal(d.status.updatedReplicas, 5);
});

test('kubectl rollout restart (a template annotation) rolls out a new ReplicaSet', async () => {
  const ns = await namespace('dep-restart');
  await kubeletFor(ns, true);
  await client.create(DEPLOYMENTS, ns, deployment('rr', { replicas: 2 }));
  await rolledOut(ns, 'rr');
  await client.patch(DEPLOYMENTS, ns, 'rr', { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2024-01-01T00:00:00Z' } } } } }, 'strategic');
  const d = await waitFor(async () => {
    const cur = await getD(ns, 'rr');
    return cur.metadata!.annotations?.[REV] === '2' && rolloutStatus(cur).done ? cur : undefined;
  }, 'restart rolled out');
  const rss = await listRS(ns);
  assert.equal(rss.length, 2);
  const newest = rss.find((rs) => rs.metadata!.annotations![REV] === '2')!;
  assert.equal(newest.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt'], '2024-01-01T00:00:00Z');
  assert.equal(d.status.updatedReplicas, 2);
  const pods = (await client.list<Obj>(PODS, ns)).items.filter(isPodActive);
  assert.ok(pods.every((p) => p.metadata!.annotations?.['kubectl.kubernetes.io/restartedAt']));
});

test('revisionHistoryLimit: 2 keeps the two newest old ReplicaSets', async () => {
  const ns = await namespace('dep-history');
  await kubeletFor(ns, true);
  await client.create(DEPLOYMENTS, ns, deployment('hist', { replicas: 1, revisionHistoryLimit: 2 }));
  await rolledOut(ns, 'hist');
  for (let v = 2; v <= 5; v++) {
    await setImage(ns, 'hist', `busybox:${v}`);
    await waitFor(async () => {
      const d = await getD(ns, 'hist');
      return d.metadata!.annotations?.[REV] === String(v) && rolloutStatus(d).done;
    }, `revision ${v} rolled out`);
  }
  const rss = await waitFor(async () => {
    const list = await listRS(ns);
    return list.length === 3 ? list : undefined;
  }, 'history trimmed to 2 old ReplicaSets');
  assert.deepEqual(rss.map((rs) => rs.metadata!.annotations![REV]).sort(), ['3', '4', '5']);
  assert.deepEqual(rss.map((rs) => rs.spec.template.spec.containers[0].image).sort(), ['busybox:3', 'busybox:4', 'busybox:5']);
});

test('progressDeadlineSeconds: pods that never become ready end in ProgressDeadlineExceeded', async () => {
  const ns = await namespace('dep-deadline');
  await client.create(DEPLOYMENTS, ns, deployment('stuck', { replicas: 2, progressDeadlineSeconds: 5 }));
  const d = await waitFor(async () => {
    const cur = await getD(ns, 'stuck');
    return cond(cur, 'Progressing')?.reason === 'ProgressDeadlineExceeded' ? cur : undefined;
  }, 'ProgressDeadlineExceeded', 30_000);
  const c = cond(d, 'Progressing');
  assert.equal(c.status, 'False');
  assert.match(c.message, /^ReplicaSet "stuck-[456789bcdf]+" has timed out progressing\.$/);
  assert.equal(rolloutStatus(d).error, 'deployment "stuck" exceeded its progress deadline');
  assert.equal(cond(d, 'Available').status, 'False');
  assert.equal(cond(d, 'Available').reason, 'MinimumReplicasUnavailable');
});

test('scaling in the middle of a rollout is proportional (the documented 10 → 15 example)', async () => {
  const ns = await namespace('dep-proportional');
  const kubelet = await kubeletFor(ns, true);
  await client.create(DEPLOYMENTS, ns, deployment('prop', { replicas: 10, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } } }));
  await rolledOut(ns, 'prop');
  kubelet.setAuto(false); // the new pods never become ready: the rollout stalls
  await setImage(ns, 'prop', 'busybox:broken');
  const sizes = async () => {
    const rss = await listRS(ns);
    const get = (img: string) => rss.find((rs) => rs.spec.template.spec.containers[0].image === img)?.spec.replicas;
    return [get('busybox:1'), get('busybox:broken')];
  };
  await waitFor(async () => JSON.stringify(await sizes()) === '[8,5]', 'rollout stalled at 8 old + 5 new');
  await client.patch(DEPLOYMENTS, ns, 'prop', { spec: { replicas: 15 } }, 'merge');
  await waitFor(async () => JSON.stringify(await sizes()) === '[11,7]', 'scaled proportionally to 11 old + 7 new');
  const rss = await listRS(ns);
  for (const rs of rss) {
    assert.equal(rs.metadata!.annotations!['deployment.kubernetes.io/desired-replicas'], '15');
    assert.equal(rs.metadata!.annotations!['deployment.kubernetes.io/max-replicas'], '18');
  }
});

test('a Deployment adopts a matching orphan ReplicaSet with its template', async () => {
  const ns = await namespace('dep-adopt');
  await kubeletFor(ns, true);
  const d = deployment('adopt', { replicas: 2 });
  const template = structuredClone(d.spec.template);
  template.metadata.labels['pod-template-hash'] = 'orphan';
  await client.create(REPLICASETS, ns, {
    metadata: { name: 'adopt-orphan', labels: { app: 'adopt', 'pod-template-hash': 'orphan' } },
    spec: { replicas: 2, selector: { matchLabels: { app: 'adopt', 'pod-template-hash': 'orphan' } }, template },
  });
  const created = await client.create<Obj>(DEPLOYMENTS, ns, d);
  await rolledOut(ns, 'adopt');
  const rss = await listRS(ns);
  assert.equal(rss.length, 1, 'the orphan is the new ReplicaSet; none created');
  assert.equal(rss[0]!.metadata!.ownerReferences?.[0]?.uid, created.metadata!.uid);
  const progressing = cond(await getD(ns, 'adopt'), 'Progressing');
  assert.ok(['FoundNewReplicaSet', 'ReplicaSetUpdated', 'NewReplicaSetAvailable'].includes(progressing.reason));
});
