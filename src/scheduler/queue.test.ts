import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SchedulingQueue } from './queue.js';
import { ClusterEvent } from './framework.js';
import { podInfo } from './testing.js';

function clockQueue(opts: ConstructorParameters<typeof SchedulingQueue>[0] = {}) {
  let t = 1_000_000;
  const q = new SchedulingQueue({ now: () => t, ...opts });
  return { q, advance: (ms: number) => { t += ms; } };
}

test('activeQ pops by priority, then by time added', () => {
  const { q, advance } = clockQueue();
  q.add(podInfo('low', { priority: 0 }));
  advance(1);
  q.add(podInfo('high', { priority: 100 }));
  advance(1);
  q.add(podInfo('low2', { priority: 0 }));
  assert.deepEqual([q.pop(), q.pop(), q.pop()].map((x) => x?.podInfo.name), ['high', 'low', 'low2']);
  assert.equal(q.pop(), undefined);
});

test('back-off: 1s doubling per attempt, capped at 10s', () => {
  const { q } = clockQueue();
  const qi = { podInfo: podInfo('p'), timestamp: 0, initialAttemptTimestamp: 0, attempts: 1, unschedulablePlugins: new Set<string>() };
  const ds = [1, 2, 3, 4, 5, 6].map((a) => q.backoffDuration({ ...qi, attempts: a }));
  assert.deepEqual(ds, [1000, 2000, 4000, 8000, 10000, 10000]);
});

test('unschedulable pods move on a matching cluster event, through back-off', () => {
  const { q, advance } = clockQueue({ pluginEvents: new Map([['NodeResourcesFit', ClusterEvent.NodeAdd | ClusterEvent.PodDelete], ['TaintToleration', ClusterEvent.NodeTaintChange]]) });
  q.add(podInfo('a'));
  q.add(podInfo('b'));
  const a = q.pop()!;
  const b = q.pop()!;
  const cycle = q.schedulingCycle;
  a.unschedulablePlugins = new Set(['NodeResourcesFit']);
  b.unschedulablePlugins = new Set(['TaintToleration']);
  q.addUnschedulableIfNotPresent(a, cycle);
  q.addUnschedulableIfNotPresent(b, cycle);
  assert.deepEqual(q.stats(), { active: 0, backoff: 0, unschedulable: 2, gated: 0 });
  q.moveAllToActiveOrBackoffQueue(ClusterEvent.NodeLabelChange); // helps neither
  assert.equal(q.stats().unschedulable, 2);
  q.moveAllToActiveOrBackoffQueue(ClusterEvent.NodeAdd); // helps a; a is still backing off (1s)
  assert.deepEqual(q.stats(), { active: 0, backoff: 1, unschedulable: 1, gated: 0 });
  q.flush();
  assert.equal(q.stats().active, 0);
  advance(1001);
  q.flush();
  assert.equal(q.pop()?.podInfo.name, 'a');
});

test('an event during the attempt sends the failed pod to back-off, not unschedulable', () => {
  const { q } = clockQueue();
  q.add(podInfo('a'));
  const a = q.pop()!;
  const cycle = q.schedulingCycle;
  q.moveAllToActiveOrBackoffQueue(ClusterEvent.NodeAdd);
  q.addUnschedulableIfNotPresent(a, cycle);
  assert.deepEqual(q.stats(), { active: 0, backoff: 1, unschedulable: 0, gated: 0 });
});

test('gated pods wait until their scheduling gates are removed; delete removes everywhere', () => {
  const { q } = clockQueue();
  const gated = podInfo('g', { spec: { schedulingGates: [{ name: 'wait' }] } });
  q.add(gated);
  assert.equal(q.pop(), undefined);
  assert.equal(q.stats().gated, 1);
  const open = podInfo('g');
  (open as any).key = gated.key;
  q.update(open);
  assert.equal(q.pop()?.podInfo.name, 'g');
  q.add(podInfo('x'));
  q.delete('default/x');
  assert.equal(q.pop(), undefined);
});

test('a pod left unschedulable for 5 minutes is retried anyway', () => {
  const { q, advance } = clockQueue();
  q.add(podInfo('a'));
  const a = q.pop()!;
  a.unschedulablePlugins = new Set(['NodeResourcesFit']);
  q.addUnschedulableIfNotPresent(a, q.schedulingCycle);
  advance(5 * 60_000 + 1);
  q.flush();
  assert.equal(q.pop()?.podInfo.name, 'a');
});

test('nominator tracks pods by node', () => {
  const { q } = clockQueue();
  const p = podInfo('p', { priority: 10 });
  q.addNominatedPod(p, 'n1');
  assert.deepEqual([...(q.nominatedPodsForNode('n1') ?? [])].map((x) => x.name), ['p']);
  q.addNominatedPod(p, 'n2');
  assert.equal(q.nominatedPodsForNode('n1'), undefined);
  q.deleteNomination(p.key);
  assert.equal(q.hasNominatedPods, false);
});
