import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Obj } from '../replicaset/controller-utils.js';
import {
  calculateStatus, computeHash, deploymentComplete, deploymentProgressing, deploymentTimedOut, equalIgnoreHash, findActiveOrLatest,
  findNewReplicaSet, findOldReplicaSets, getProportion, isSaturated, maxRevision, maxSurge, maxUnavailable, newRSNewReplicas,
  resolveFenceposts, safeEncodeString, scaledValue, setCondition, setNewReplicaSetAnnotations, type DeploymentStatus,
} from './deployment-util.js';

const template = (image: string, extra: Record<string, string> = {}) => ({
  metadata: { labels: { app: 'a', ...extra } },
  spec: { containers: [{ name: 'c', image }] },
});

function dep(replicas: number, strategy: any = { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } }, extra: Record<string, unknown> = {}): Obj {
  return { metadata: { name: 'd', namespace: 'ns', uid: 'd-uid', generation: 1 }, spec: { replicas, strategy, template: template('i:1'), progressDeadlineSeconds: 600, ...extra }, status: {} };
}

function rs(name: string, replicas: number, o: { created?: string; image?: string; rev?: string; status?: Record<string, number>; annotations?: Record<string, string> } = {}): Obj {
  const annotations: Record<string, string> = { ...(o.annotations ?? {}) };
  if (o.rev) annotations['deployment.kubernetes.io/revision'] = o.rev;
  return {
    metadata: { name, namespace: 'ns', uid: `${name}-uid`, creationTimestamp: o.created ?? '2024-01-01T00:00:00Z', annotations },
    spec: { replicas, template: template(o.image ?? 'i:1', { 'pod-template-hash': name }) },
    status: o.status ?? {},
  };
}

test('computeHash: stable, safe-encoded, independent of key order, changed by the collision count', () => {
  const a = computeHash({ spec: { containers: [{ name: 'c', image: 'x' }] }, metadata: { labels: { b: '2', a: '1' } } });
  const b = computeHash({ metadata: { labels: { a: '1', b: '2' } }, spec: { containers: [{ image: 'x', name: 'c' }] } });
  assert.equal(a, b);
  assert.match(a, /^[456789bcdf]{1,10}$/);
  assert.notEqual(computeHash(template('i:1')), computeHash(template('i:2')));
  const c0 = computeHash(template('i:1'), 0);
  const c1 = computeHash(template('i:1'), 1);
  assert.notEqual(c0, computeHash(template('i:1')), 'a collision count of 0 still counts (as upstream)');
  assert.notEqual(c0, c1);
  assert.equal(computeHash(template('i:1'), 1), c1, 'deterministic');
});

test('safeEncodeString maps decimal digits as rand.SafeEncodeString does', () => {
  // '0'..'9' are bytes 48..57; index = byte % 27 into "bcdfghjklmnpqrstvwxz2456789", so a
  // rendered hash only ever has 4-9, b, c, d, f (as real ones: "7d98b4b6cf").
  assert.equal(safeEncodeString('0123456789'), '456789bcdf');
});

test('resolveFenceposts and MaxSurge/MaxUnavailable follow upstream rounding', () => {
  assert.deepEqual(resolveFenceposts('25%', '25%', 3), { surge: 1, unavailable: 0 });
  assert.deepEqual(resolveFenceposts('25%', '25%', 10), { surge: 3, unavailable: 2 });
  assert.deepEqual(resolveFenceposts(0, 0, 5), { surge: 0, unavailable: 1 }, 'both zero: one may be unavailable');
  assert.deepEqual(resolveFenceposts('0%', '1%', 2), { surge: 0, unavailable: 1 });
  assert.deepEqual(resolveFenceposts('1%', '25%', 2), { surge: 1, unavailable: 0 });
  assert.equal(scaledValue('50%', 5, true), 3);
  assert.equal(scaledValue('50%', 5, false), 2);
  assert.throws(() => scaledValue('5', 10, true), /not a percentage/);
  assert.equal(maxUnavailable(dep(2, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 5 } })), 2, 'never more than replicas');
  assert.equal(maxSurge(dep(4, { type: 'Recreate' })), 0);
  assert.equal(maxUnavailable(dep(4, { type: 'Recreate' })), 0);
});

test('equalIgnoreHash ignores the hash label and empty values; findNewReplicaSet takes the oldest match', () => {
  assert.ok(equalIgnoreHash(template('i:1', { 'pod-template-hash': 'x' }), template('i:1')));
  assert.ok(equalIgnoreHash({ ...template('i:1'), spec: { containers: [{ name: 'c', image: 'i:1', env: [] }] } }, template('i:1')));
  assert.ok(!equalIgnoreHash(template('i:1'), template('i:2')));
  const d = dep(3);
  const older = rs('older', 0, { created: '2024-01-01T00:00:00Z' });
  const newer = rs('newer', 0, { created: '2024-01-02T00:00:00Z' });
  const other = rs('other', 2, { image: 'i:0' });
  assert.equal(findNewReplicaSet(d, [newer, other, older])?.metadata?.name, 'older');
  const { active, all } = findOldReplicaSets(d, [newer, other, older, rs('empty-old', 0, { image: 'i:9' })]);
  assert.deepEqual(all.map((r) => r.metadata!.name).sort(), ['empty-old', 'newer', 'other']);
  assert.deepEqual(active.map((r) => r.metadata!.name), ['other']);
});

test('newRSNewReplicas: grows into replicas + maxSurge, counting pods an old ReplicaSet still has', () => {
  const d = dep(4, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } });
  const newRS = rs('new', 0);
  assert.equal(newRSNewReplicas(d, [rs('old', 4, { image: 'i:0', status: { replicas: 4 } }), newRS], newRS), 1);
  // The old one was scaled to 3 but still has 4 pods: no room yet.
  assert.equal(newRSNewReplicas(d, [rs('old', 3, { image: 'i:0', status: { replicas: 4 } }), rs('new', 1)], rs('new', 1)), 1);
  assert.equal(newRSNewReplicas(d, [rs('old', 3, { image: 'i:0', status: { replicas: 3 } }), rs('new', 1)], rs('new', 1)), 2);
  // Never past replicas.
  assert.equal(newRSNewReplicas(d, [rs('new', 3)], rs('new', 3)), 4);
  assert.equal(newRSNewReplicas(dep(4, { type: 'Recreate' }), [], rs('new', 0)), 4);
});

test('getProportion shares a scale-up by size (the documented 10 → 15 example)', () => {
  const d = dep(15, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } });
  const old = rs('old', 8, { annotations: { 'deployment.kubernetes.io/max-replicas': '13' } });
  const nw = rs('new', 5, { annotations: { 'deployment.kubernetes.io/max-replicas': '13' } });
  const toAdd = 18 - 13;
  const p1 = getProportion(old, d, toAdd, 0);
  const p2 = getProportion(nw, d, toAdd, p1);
  assert.deepEqual([p1, p2], [3, 2]);
  // Scaling to 0 takes everything away.
  assert.equal(getProportion(old, dep(0), -8, 0), -8);
  assert.equal(getProportion(rs('empty', 0), d, 5, 0), 0);
});

test('findActiveOrLatest and isSaturated', () => {
  const a = rs('a', 0, { created: '2024-01-01T00:00:00Z' });
  const b = rs('b', 0, { created: '2024-01-02T00:00:00Z' });
  assert.equal(findActiveOrLatest(undefined, [a, b])?.metadata?.name, 'b', 'none active: the newest');
  assert.equal(findActiveOrLatest(rs('n', 0), [a, b])?.metadata?.name, 'n');
  assert.equal(findActiveOrLatest(rs('n', 2), [a, b])?.metadata?.name, 'n');
  assert.equal(findActiveOrLatest(rs('n', 2), [rs('c', 1)]), undefined, 'two active: proportional');
  const d = dep(3);
  assert.ok(isSaturated(d, rs('n', 3, { status: { availableReplicas: 3 }, annotations: { 'deployment.kubernetes.io/desired-replicas': '3' } })));
  assert.ok(!isSaturated(d, rs('n', 3, { status: { availableReplicas: 2 }, annotations: { 'deployment.kubernetes.io/desired-replicas': '3' } })));
  assert.ok(!isSaturated(d, rs('n', 3, { status: { availableReplicas: 3 } })));
});

test('setNewReplicaSetAnnotations: copies annotations, raises the revision and keeps a revision history', () => {
  const d = dep(3);
  d.metadata!.annotations = { 'kubernetes.io/change-cause': 'v2', 'kubectl.kubernetes.io/last-applied-configuration': '{}', 'deployment.kubernetes.io/revision': '9' };
  const fresh = rs('fresh', 0);
  assert.ok(setNewReplicaSetAnnotations(d, fresh, '4', false));
  assert.deepEqual(fresh.metadata!.annotations, {
    'kubernetes.io/change-cause': 'v2', 'deployment.kubernetes.io/revision': '4',
    'deployment.kubernetes.io/desired-replicas': '3', 'deployment.kubernetes.io/max-replicas': '4',
  });
  const rolledBack = rs('back', 0, { rev: '2', annotations: { 'deployment.kubernetes.io/revision-history': '1' } });
  assert.ok(setNewReplicaSetAnnotations(d, rolledBack, '5', true));
  assert.equal(rolledBack.metadata!.annotations!['deployment.kubernetes.io/revision'], '5');
  assert.equal(rolledBack.metadata!.annotations!['deployment.kubernetes.io/revision-history'], '1,2');
  assert.equal(rolledBack.metadata!.annotations!['deployment.kubernetes.io/desired-replicas'], undefined, 'existing: replica annotations are left to scaling');
  assert.ok(!setNewReplicaSetAnnotations(d, rolledBack, '5', true), 'nothing left to change');
  assert.ok(!setNewReplicaSetAnnotations(d, rolledBack, '3', true), 'never lowered');
  const limited = rs('lim', 0, { rev: '30', annotations: { 'deployment.kubernetes.io/revision-history': '10,20' } });
  setNewReplicaSetAnnotations(d, limited, '40', true, 5);
  assert.equal(limited.metadata!.annotations!['deployment.kubernetes.io/revision-history'], '20,30', 'oldest entries dropped past the limit');
  assert.equal(maxRevision([rs('x', 0, { rev: '7' }), rs('y', 0, { rev: 'junk' }), rs('z', 0)]), 7);
});

test('calculateStatus, deploymentComplete, deploymentProgressing and deploymentTimedOut', () => {
  const d = dep(3);
  const newRS = rs('new', 3, { status: { replicas: 3, readyReplicas: 3, availableReplicas: 3 } });
  const old = rs('old', 0, { image: 'i:0', status: {} });
  const s = calculateStatus([old, newRS], newRS, d);
  assert.equal(s.observedGeneration, 1);
  assert.equal(s.replicas, 3);
  assert.equal(s.updatedReplicas, 3);
  assert.equal(s.availableReplicas, 3);
  assert.equal(s.unavailableReplicas, undefined);
  assert.equal(s.conditions?.[0]?.reason, 'MinimumReplicasAvailable');
  assert.ok(deploymentComplete(d, s));
  assert.ok(!deploymentComplete({ ...d, metadata: { ...d.metadata, generation: 2 } }, s), 'an unobserved spec is not complete');
  assert.ok(deploymentProgressing(d, s));
  assert.ok(!deploymentProgressing({ ...d, status: s }, s));

  const stuck: DeploymentStatus = {};
  setCondition(stuck, { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', lastUpdateTime: '2024-01-01T00:00:00Z', lastTransitionTime: '2024-01-01T00:00:00Z' });
  assert.ok(deploymentTimedOut(d, stuck, Date.parse('2024-01-01T00:10:01Z')));
  assert.ok(!deploymentTimedOut(d, stuck, Date.parse('2024-01-01T00:09:59Z')));
  assert.ok(!deploymentTimedOut({ ...d, spec: { ...d.spec, progressDeadlineSeconds: 2147483647 } }, stuck, Date.parse('2030-01-01T00:00:00Z')));
});

test('setCondition keeps lastTransitionTime while the status stays, and ignores same status + reason', () => {
  const s: DeploymentStatus = {};
  setCondition(s, { type: 'Available', status: 'False', reason: 'A', lastTransitionTime: 't1', lastUpdateTime: 't1' });
  setCondition(s, { type: 'Available', status: 'False', reason: 'A', lastTransitionTime: 't2', lastUpdateTime: 't2' });
  assert.equal(s.conditions![0]!.lastUpdateTime, 't1');
  setCondition(s, { type: 'Available', status: 'False', reason: 'B', lastTransitionTime: 't3', lastUpdateTime: 't3' });
  assert.deepEqual([s.conditions![0]!.reason, s.conditions![0]!.lastTransitionTime, s.conditions![0]!.lastUpdateTime], ['B', 't1', 't3']);
  setCondition(s, { type: 'Available', status: 'True', reason: 'B', lastTransitionTime: 't4', lastUpdateTime: 't4' });
  assert.equal(s.conditions![0]!.lastTransitionTime, 't4');
});
