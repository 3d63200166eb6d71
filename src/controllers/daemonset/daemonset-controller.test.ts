import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ResourceDescriptor, RestClient } from '../../client/index.js';
import { eventually } from '../../client/testing.js';
import { PODS, getControllerOf, type Obj } from '../replicaset/controller-utils.js';
import { FakeKubelet } from '../replicaset/fake-kubelet.js';
import {
  DAEMONSETS, DaemonSetController, NODES, REVISION_HASH_LABEL, newDaemonPod, nodeShouldRunDaemonPod, daemonPodSpec, resolveMaxUnavailable, templateHash,
} from './daemonset-controller.js';
import { controllerTestBed } from '../testing.js';

const NAMESPACES: ResourceDescriptor = { group: '', version: 'v1', plural: 'namespaces', namespaced: false };

const bed = controllerTestBed((c) => new DaemonSetController(c), { kubelet: { auto: true } });

async function node(name: string, labels: Record<string, string> = {}, taints: unknown[] = []): Promise<Obj> {
  return bed.client.create<Obj>(NODES, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels }, spec: taints.length ? { taints } : {} });
}

async function namespace(name: string): Promise<void> {
  await bed.client.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

function daemonSet(ns: string, name: string, podSpec: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Obj {
  return {
    apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name, namespace: ns },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'img:1' }], ...podSpec } },
      ...extra,
    },
  };
}

async function podsOf(ns: string, ds: string): Promise<Obj[]> {
  const list = await bed.client.list<Obj>(PODS, ns);
  return list.items.filter((p) => !p.metadata?.deletionTimestamp && getControllerOf(p)?.name === ds);
}

function nodesOf(pods: Obj[]): string[] {
  return pods.map((p) => p.spec?.nodeName as string).sort();
}

// The file's tests share one cluster: node names are distinct per test and each DaemonSet
// selects its own nodes by a label, so the tests do not see one another's nodes.

test('unit: eligibility, tolerations, pod shape, maxUnavailable', () => {
  const ds = daemonSet('ns', 'x', { nodeSelector: { role: 'a' } });
  ds.metadata!.uid = 'u1';
  const spec = daemonPodSpec(ds);
  const keys = spec.tolerations!.map((t) => `${t.key}:${t.effect}`);
  assert.ok(keys.includes('node.kubernetes.io/not-ready:NoExecute'));
  assert.ok(keys.includes('node.kubernetes.io/unschedulable:NoSchedule'));
  const n = (labels: Record<string, string>, taints: unknown[] = []): Obj => ({ metadata: { name: 'n', labels }, spec: { taints } });
  assert.deepEqual(nodeShouldRunDaemonPod(n({ role: 'a' }), spec), { shouldRun: true, shouldContinueRunning: true });
  assert.deepEqual(nodeShouldRunDaemonPod(n({ role: 'b' }), spec), { shouldRun: false, shouldContinueRunning: false });
  assert.deepEqual(nodeShouldRunDaemonPod(n({ role: 'a' }, [{ key: 'k', effect: 'NoSchedule' }]), spec), { shouldRun: false, shouldContinueRunning: true });
  assert.deepEqual(nodeShouldRunDaemonPod(n({ role: 'a' }, [{ key: 'k', effect: 'NoExecute' }]), spec), { shouldRun: false, shouldContinueRunning: false });
  assert.deepEqual(nodeShouldRunDaemonPod(n({ role: 'a' }, [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }]), spec), { shouldRun: true, shouldContinueRunning: true });
  const pod = newDaemonPod(ds, 'n1');
  assert.equal(pod.metadata!.generateName, 'x-');
  assert.equal(pod.metadata!.labels![REVISION_HASH_LABEL], templateHash(ds));
  assert.equal(pod.metadata!.labels!.app, 'x');
  assert.equal(pod.spec.nodeName, 'n1');
  assert.deepEqual(pod.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms,
    [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }]);
  assert.equal(getControllerOf(pod)?.kind, 'DaemonSet');
  assert.equal(resolveMaxUnavailable(ds, 10), 1);
  assert.equal(resolveMaxUnavailable(daemonSet('ns', 'y', {}, { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%' } } }), 10), 3);
  assert.equal(resolveMaxUnavailable(daemonSet('ns', 'y', {}, { updateStrategy: { rollingUpdate: { maxUnavailable: 0 } } }), 10), 1);
});

test('one pod per node, a new node gets one, status counts', async () => {
  await namespace('ds1');
  for (const n of ['a1', 'a2', 'a3']) await node(n, { grp: 'a' });
  await bed.client.create(DAEMONSETS, 'ds1', daemonSet('ds1', 'agent', { nodeSelector: { grp: 'a' } }));
  await eventually(async () => (nodesOf(await podsOf('ds1', 'agent')).join() === 'a1,a2,a3'), '3 pods on a1..a3');
  await node('a4', { grp: 'a' });
  await eventually(async () => (nodesOf(await podsOf('ds1', 'agent')).join() === 'a1,a2,a3,a4'), 'a pod on a4');
  const ds: Obj = await eventually(async () => {
    const d = await bed.client.get<Obj>(DAEMONSETS, 'ds1', 'agent');
    const s = d.status ?? {};
    return s.desiredNumberScheduled === 4 && s.currentNumberScheduled === 4 && s.numberReady === 4 && s.numberAvailable === 4 &&
      s.updatedNumberScheduled === 4 && (s.numberUnavailable ?? 0) === 0 && (s.numberMisscheduled ?? 0) === 0 ? d : undefined;
  }, 'status counts') as Obj;
  assert.equal(ds.status.observedGeneration, ds.metadata!.generation);
  // Pods of a node that leaves the selection are deleted.
  await bed.client.patch(NODES, undefined, 'a4', { metadata: { labels: { grp: 'other' } } }, 'merge');
  await eventually(async () => (nodesOf(await podsOf('ds1', 'agent')).join() === 'a1,a2,a3'), 'pod on a4 deleted');
  await eventually(async () => (await bed.client.get<Obj>(DAEMONSETS, 'ds1', 'agent')).status?.desiredNumberScheduled === 3, 'desired 3');

  // Upstream's PodControl events on the DaemonSet: four creations, one deletion.
  const EVENTS: ResourceDescriptor = { group: '', version: 'v1', plural: 'events', namespaced: true };
  const events = await eventually(async () => {
    const es = (await bed.client.list<any>(EVENTS, 'ds1', { fieldSelector: 'involvedObject.kind=DaemonSet,involvedObject.name=agent' })).items;
    return es.filter((e: any) => e.reason === 'SuccessfulCreate').length === 4 && es.some((e: any) => e.reason === 'SuccessfulDelete') ? es : undefined;
  }, 'DaemonSet events') as any[];
  for (const e of events) {
    assert.match(e.message, e.reason === 'SuccessfulCreate' ? /^Created pod: agent-[a-z0-9]{5}$/ : /^Deleted pod: agent-[a-z0-9]{5}$/);
    assert.equal(e.source.component, 'daemonset-controller');
    assert.equal(e.involvedObject.uid, ds.metadata!.uid);
  }
});

test('taints: NoSchedule taint keeps the pod off unless tolerated', async () => {
  await namespace('ds2');
  await node('t1', { grp: 't' });
  await node('t2', { grp: 't' }, [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }]);
  await bed.client.create(DAEMONSETS, 'ds2', daemonSet('ds2', 'plain', { nodeSelector: { grp: 't' } }));
  await bed.client.create(DAEMONSETS, 'ds2', daemonSet('ds2', 'tol', {
    nodeSelector: { grp: 't' }, tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'x', effect: 'NoSchedule' }],
  }));
  await eventually(async () => (nodesOf(await podsOf('ds2', 'tol')).join() === 't1,t2'), 'tolerating DS on both nodes');
  await eventually(async () => {
    const d = await bed.client.get<Obj>(DAEMONSETS, 'ds2', 'plain');
    return d.status?.desiredNumberScheduled === 1 && d.status?.currentNumberScheduled === 1;
  }, 'plain DS status');
  assert.deepEqual(nodesOf(await podsOf('ds2', 'plain')), ['t1']);
  // Node affinity restricts too.
  await bed.client.create(DAEMONSETS, 'ds2', daemonSet('ds2', 'aff', {
    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['t1'] }] }] } } },
  }));
  await eventually(async () => (nodesOf(await podsOf('ds2', 'aff')).join() === 't1'), 'affinity DS only on t1');
});

test('an extra pod on a node is deleted; a deleted pod is replaced', async () => {
  await namespace('ds3');
  await node('e1', { grp: 'e' });
  const created = await bed.client.create<Obj>(DAEMONSETS, 'ds3', daemonSet('ds3', 'dup', { nodeSelector: { grp: 'e' } }));
  const [p] = await eventually(async () => { const ps = await podsOf('ds3', 'dup'); return ps.length === 1 ? ps : undefined; }, 'one pod') as Obj[];
  // An orphan with matching labels on the same node is adopted, then one of the two deleted.
  await bed.client.create(PODS, 'ds3', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'extra', labels: { app: 'dup' } }, spec: { nodeName: 'e1', containers: [{ name: 'c', image: 'img:1' }] } });
  await eventually(async () => {
    const all = (await bed.client.list<Obj>(PODS, 'ds3')).items.filter((x) => !x.metadata?.deletionTimestamp);
    return all.length === 1 && getControllerOf(all[0])?.uid === created.metadata!.uid;
  }, 'only one pod left on e1');
  await bed.client.delete(PODS, 'ds3', (await podsOf('ds3', 'dup'))[0].metadata!.name!);
  await eventually(async () => { const ps = await podsOf('ds3', 'dup'); return ps.length === 1 && ps[0].metadata!.uid !== p.metadata!.uid; }, 'replacement');
});

test('rolling update replaces old-revision pods, at most maxUnavailable at a time', async () => {
  await namespace('ds4');
  for (const n of ['r1', 'r2', 'r3']) await node(n, { grp: 'r' });
  await bed.client.create(DAEMONSETS, 'ds4', daemonSet('ds4', 'roll', { nodeSelector: { grp: 'r' } }));
  await eventually(async () => {
    const d = await bed.client.get<Obj>(DAEMONSETS, 'ds4', 'roll');
    return d.status?.numberAvailable === 3 && d.status?.updatedNumberScheduled === 3;
  }, 'all available');
  const oldHash = (await podsOf('ds4', 'roll'))[0].metadata!.labels![REVISION_HASH_LABEL];
  // Observe the pods while rolling: never more than maxUnavailable (1) nodes without a pod.
  let worst = 0;
  const watchNodes = async () => {
    const ps = await podsOf('ds4', 'roll');
    worst = Math.max(worst, 3 - new Set(nodesOf(ps)).size);
  };
  const cur = await bed.client.get<Obj>(DAEMONSETS, 'ds4', 'roll');
  cur.spec.template.spec.containers[0].image = 'img:2';
  await bed.client.update(DAEMONSETS, 'ds4', cur);
  const done = await eventually(async () => {
    await watchNodes();
    const ps = await podsOf('ds4', 'roll');
    const d = await bed.client.get<Obj>(DAEMONSETS, 'ds4', 'roll');
    return ps.length === 3 && ps.every((x) => x.spec.containers[0].image === 'img:2' && x.metadata!.labels![REVISION_HASH_LABEL] !== oldHash) &&
      d.status?.updatedNumberScheduled === 3 && d.status?.numberAvailable === 3 && d.status?.observedGeneration === d.metadata!.generation ? ps : undefined;
  }, 'rolled to img:2', 15_000) as Obj[];
  assert.deepEqual(nodesOf(done), ['r1', 'r2', 'r3']);
  assert.ok(worst <= 1, `at most one node without a pod during the roll (saw ${worst})`);

  // Each template is a ControllerRevision (what kubectl rollout history/undo read), its data a
  // patch that replaces the template; going back to the first one renumbers it as the newest.
  const CONTROLLERREVISIONS: ResourceDescriptor = { group: 'apps', version: 'v1', plural: 'controllerrevisions', namespaced: true };
  const revisions = async () => (await bed.client.list<any>(CONTROLLERREVISIONS, 'ds4')).items
    .filter((r: any) => r.metadata.ownerReferences?.[0]?.name === 'roll')
    .map((r: any) => ({ name: r.metadata.name, revision: r.revision, hash: r.metadata.labels[REVISION_HASH_LABEL], image: r.data.spec.template.spec.containers[0].image, patch: r.data.spec.template.$patch }))
    .sort((a: any, b: any) => a.revision - b.revision);
  const newHash = done[0].metadata!.labels![REVISION_HASH_LABEL];
  assert.deepEqual(await revisions(), [
    { name: `roll-${oldHash}`, revision: 1, hash: oldHash, image: 'img:1', patch: 'replace' },
    { name: `roll-${newHash}`, revision: 2, hash: newHash, image: 'img:2', patch: 'replace' },
  ]);
  const again = await bed.client.get<Obj>(DAEMONSETS, 'ds4', 'roll');
  again.spec.template.spec.containers[0].image = 'img:1';
  await bed.client.update(DAEMONSETS, 'ds4', again);
  await eventually(async () => {
    const rs = await revisions();
    return rs.length === 2 && rs[1].hash === oldHash && rs[1].revision === 3;
  }, 'the first revision renumbered 3');
});

test('OnDelete: a template change replaces nothing until a pod is deleted', async () => {
  await namespace('ds5');
  for (const n of ['o1', 'o2']) await node(n, { grp: 'o' });
  await bed.client.create(DAEMONSETS, 'ds5', daemonSet('ds5', 'od', { nodeSelector: { grp: 'o' } }, { updateStrategy: { type: 'OnDelete' } }));
  await eventually(async () => (await bed.client.get<Obj>(DAEMONSETS, 'ds5', 'od')).status?.numberAvailable === 2, 'available');
  const cur = await bed.client.get<Obj>(DAEMONSETS, 'ds5', 'od');
  cur.spec.template.spec.containers[0].image = 'img:2';
  const updated = await bed.client.update<Obj>(DAEMONSETS, 'ds5', cur);
  await eventually(async () => {
    const d = await bed.client.get<Obj>(DAEMONSETS, 'ds5', 'od');
    return d.status?.observedGeneration === updated.metadata!.generation && (d.status?.updatedNumberScheduled ?? 0) === 0;
  }, 'observed, nothing updated');
  assert.ok((await podsOf('ds5', 'od')).every((p) => p.spec.containers[0].image === 'img:1'));
  const victim = (await podsOf('ds5', 'od')).find((p) => p.spec.nodeName === 'o1')!;
  await bed.client.delete(PODS, 'ds5', victim.metadata!.name!);
  await eventually(async () => {
    const ps = await podsOf('ds5', 'od');
    const o1 = ps.find((p) => p.spec.nodeName === 'o1');
    const o2 = ps.find((p) => p.spec.nodeName === 'o2');
    return ps.length === 2 && o1?.spec.containers[0].image === 'img:2' && o2?.spec.containers[0].image === 'img:1';
  }, 'o1 replaced with the new template, o2 untouched');
});
