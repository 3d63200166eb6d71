import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CycleState } from './framework.js';
import { Diagnosis, FitError, GenericScheduler, fitErrorMessage, numFeasibleNodesToFind } from './generic-scheduler.js';
import { Profile, defaultPlugins } from './profile.js';
import { makeCache, makeNode, makePod, podInfo } from './testing.js';
import { Preemptor } from './preemption.js';
import { SchedulingQueue } from './queue.js';

test('numFeasibleNodesToFind: all below 100, adaptive percentage above, at least 100', () => {
  assert.equal(numFeasibleNodesToFind(50), 50);
  assert.equal(numFeasibleNodesToFind(100), 100);
  assert.equal(numFeasibleNodesToFind(1000), 420); // 50 - 8 = 42%
  assert.equal(numFeasibleNodesToFind(5000), 500); // 50 - 40 = 10%
  assert.equal(numFeasibleNodesToFind(10000), 500); // 5% minimum
  assert.equal(numFeasibleNodesToFind(1500, 1), 100);
  assert.equal(numFeasibleNodesToFind(1500, 100), 1500);
});

function setup(nodes: ReturnType<typeof makeNode>[], pods: ReturnType<typeof makePod>[] = []) {
  const cache = makeCache(nodes, pods);
  const queue = new SchedulingQueue();
  const cfg = defaultPlugins({ totalNodes: () => cache.numNodes });
  const profile = new Profile({ plugins: cfg.plugins, weights: cfg.weights });
  return { cache, queue, profile, algo: new GenericScheduler(cache, queue) };
}

test('FailedScheduling message as Kubernetes prints it', () => {
  const cp = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' };
  const { cache, profile, algo, queue } = setup([
    makeNode('small', { cpu: '1' }), makeNode('cp1', { taints: [cp] }), makeNode('cp2', { taints: [cp] }),
  ]);
  const pod = podInfo('big', { cpu: '2' });
  const state = new CycleState();
  let err: FitError | undefined;
  try { algo.schedule(profile, state, pod); } catch (e) { err = e as FitError; }
  assert.ok(err instanceof FitError);
  const pre = new Preemptor(cache, queue).preempt(profile, state, pod, err.diagnosis, err.numAllNodes);
  err.diagnosis.postFilterMsg = pre.message;
  assert.equal(err.describe(), '0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.');
  assert.deepEqual([...err.diagnosis.unschedulablePlugins].sort(), ['NodeResourcesFit', 'TaintToleration']);
});

test('no nodes at all', () => {
  assert.equal(fitErrorMessage(0, new Diagnosis()), 'no nodes available to schedule pods');
});

test('schedule picks the only fitting node and the least loaded among many', () => {
  const { profile, algo } = setup(
    [makeNode('a', { cpu: '2' }), makeNode('b', { cpu: '8' }), makeNode('c', { cpu: '8' })],
    [makePod('x', { cpu: '6', nodeName: 'c' })],
  );
  assert.equal(algo.schedule(profile, new CycleState(), podInfo('p', { cpu: '3' })).node.name, 'b');
  assert.equal(algo.schedule(profile, new CycleState(), podInfo('q', { cpu: '1', memory: '1Gi' })).node.name, 'b');
});

test('sampling stops after enough feasible nodes and rotates the start', () => {
  const nodes = Array.from({ length: 1000 }, (_, i) => makeNode(`n${i}`));
  const { profile, algo } = setup(nodes);
  const r1 = algo.schedule(profile, new CycleState(), podInfo('p1'));
  assert.equal(r1.evaluatedNodes, 420);
  assert.equal(r1.feasibleNodes, 420);
  const r2 = algo.schedule(profile, new CycleState(), podInfo('p2'));
  assert.equal(r2.evaluatedNodes, 420);
});

test('preemption picks the node whose victims have the lowest priority', () => {
  const { cache, queue, profile, algo } = setup(
    [makeNode('a', { cpu: '2' }), makeNode('b', { cpu: '2' })],
    [makePod('mid', { cpu: '2', nodeName: 'a', priority: 50 }), makePod('low', { cpu: '2', nodeName: 'b', priority: 10 })],
  );
  const pod = podInfo('vip', { cpu: '1', priority: 100 });
  const state = new CycleState();
  let err: FitError | undefined;
  try { algo.schedule(profile, state, pod); } catch (e) { err = e as FitError; }
  assert.ok(err);
  const r = new Preemptor(cache, queue).preempt(profile, state, pod, err.diagnosis, err.numAllNodes);
  assert.equal(r.message, '');
  assert.equal(r.candidate?.node.name, 'b');
  assert.deepEqual(r.candidate?.victims.map((v) => v.name), ['low']);
  // Never-preempting pods and equal priorities get nothing.
  const never = new Preemptor(cache, queue).preempt(profile, state, pod, err.diagnosis, err.numAllNodes, 'Never');
  assert.equal(never.message, 'preemption: not eligible due to preemptionPolicy=Never.');
  const peer = podInfo('peer', { cpu: '1', priority: 10 });
  const st2 = new CycleState();
  let err2: FitError | undefined;
  try { algo.schedule(profile, st2, peer); } catch (e) { err2 = e as FitError; }
  const r2 = new Preemptor(cache, queue).preempt(profile, st2, peer, err2!.diagnosis, err2!.numAllNodes);
  assert.equal(r2.candidate, undefined);
  assert.equal(r2.message, 'preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.');
});

test('only the lowest-priority victims needed are chosen (reprieve)', () => {
  const { cache, queue, profile, algo } = setup(
    [makeNode('a', { cpu: '4' })],
    [makePod('l1', { cpu: '1', nodeName: 'a', priority: 1 }), makePod('l2', { cpu: '1', nodeName: 'a', priority: 2 }), makePod('l3', { cpu: '2', nodeName: 'a', priority: 3 })],
  );
  const pod = podInfo('vip', { cpu: '2', priority: 100 });
  const state = new CycleState();
  let err: FitError | undefined;
  try { algo.schedule(profile, state, pod); } catch (e) { err = e as FitError; }
  const r = new Preemptor(cache, queue).preempt(profile, state, pod, err!.diagnosis, err!.numAllNodes);
  // Put back most important first: l3 (2 cpu) stays, then l2 does not fit → victim, l1 → victim.
  assert.deepEqual(r.candidate?.victims.map((v) => v.name).sort(), ['l1', 'l2']);
});

test('pods nominated to a node keep their room from lower-priority pods', () => {
  const { profile, algo, queue } = setup([makeNode('a', { cpu: '2' })]);
  queue.addNominatedPod(podInfo('nominee', { cpu: '2', priority: 100 }), 'a');
  assert.throws(() => algo.schedule(profile, new CycleState(), podInfo('low', { cpu: '1', priority: 1 })), FitError);
  assert.equal(algo.schedule(profile, new CycleState(), podInfo('higher', { cpu: '1', priority: 200 })).node.name, 'a');
});

test('a PreFilter result (matchFields metadata.name) limits the nodes looked at', () => {
  const { profile, algo } = setup([makeNode('a', { cpu: '1' }), makeNode('b'), makeNode('c')]);
  const pinned = (node: string, cpu: string) => podInfo('ds', { cpu, spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] }] } } } } });
  const r = algo.schedule(profile, new CycleState(), pinned('c', '1'));
  assert.equal(r.node.name, 'c');
  assert.equal(r.evaluatedNodes, 1);
  try {
    algo.schedule(profile, new CycleState(), pinned('a', '2'));
    assert.fail('should not fit');
  } catch (e) {
    assert.ok(e instanceof FitError);
    assert.equal(e.message, '0/3 nodes are available: 1 Insufficient cpu, 2 node is filtered out by the prefilter result.');
  }
});
