import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code, CycleState } from '../../framework.js';
import { makeCache, makeNode, makePod, nodeInfoOf, podInfo } from '../../testing.js';
import { PodTopologySpread, ERR_CONSTRAINTS, ERR_MISSING_LABEL } from './pod-topology-spread.js';

const ZONE = 'topology.kubernetes.io/zone';
const nodes = () => [
  makeNode('a1', { labels: { [ZONE]: 'a' } }), makeNode('a2', { labels: { [ZONE]: 'a' } }),
  makeNode('b1', { labels: { [ZONE]: 'b' } }), makeNode('c1', { labels: { [ZONE]: 'c' } }),
  makeNode('nozone'),
];
const spread = (maxSkew: number, when: 'DoNotSchedule' | 'ScheduleAnyway', extra: Record<string, unknown> = {}) => ({
  topologySpreadConstraints: [{ maxSkew, topologyKey: ZONE, whenUnsatisfiable: when, labelSelector: { matchLabels: { app: 'web' } }, ...extra }],
});
const web = (name: string, node: string) => makePod(name, { nodeName: node, labels: { app: 'web' } });

function filter(existing: ReturnType<typeof makePod>[], pod: ReturnType<typeof podInfo>): Record<string, string | null> {
  const cache = makeCache(nodes(), existing);
  const pl = new PodTopologySpread();
  const st = new CycleState();
  assert.equal(pl.preFilter(st, pod, cache), null);
  const out: Record<string, string | null> = {};
  for (const n of ['a1', 'a2', 'b1', 'c1', 'nozone']) out[n] = pl.filter(st, pod, nodeInfoOf(cache, n))?.reasons[0] ?? null;
  return out;
}

test('PodTopologySpread filter: maxSkew 1 across zones', () => {
  // a has 2, b has 1, c has 0: only c keeps the skew within 1.
  const r = filter([web('w1', 'a1'), web('w2', 'a2'), web('w3', 'b1')], podInfo('p', { labels: { app: 'web' }, spec: spread(1, 'DoNotSchedule') }));
  assert.deepEqual(r, { a1: ERR_CONSTRAINTS, a2: ERR_CONSTRAINTS, b1: ERR_CONSTRAINTS, c1: null, nozone: ERR_MISSING_LABEL });
  // maxSkew 2 also admits b.
  const r2 = filter([web('w1', 'a1'), web('w2', 'a2'), web('w3', 'b1')], podInfo('p', { labels: { app: 'web' }, spec: spread(2, 'DoNotSchedule') }));
  assert.deepEqual(r2, { a1: ERR_CONSTRAINTS, a2: ERR_CONSTRAINTS, b1: null, c1: null, nozone: ERR_MISSING_LABEL });
});

test('PodTopologySpread filter: terminating and other-namespace pods do not count; self-match', () => {
  const dying = web('w1', 'a1');
  (dying.metadata as any).deletionTimestamp = '2024-01-01T00:00:00Z';
  const r = filter([dying, makePod('o', { nodeName: 'b1', labels: { app: 'web' }, namespace: 'other' })], podInfo('p', { labels: { app: 'web' }, spec: spread(1, 'DoNotSchedule') }));
  assert.deepEqual(r, { a1: null, a2: null, b1: null, c1: null, nozone: ERR_MISSING_LABEL });
  // A pod not matching its own selector adds no skew.
  const r2 = filter([web('w1', 'a1')], podInfo('p', { labels: { app: 'other' }, spec: spread(1, 'DoNotSchedule') }));
  assert.deepEqual(r2, { a1: null, a2: null, b1: null, c1: null, nozone: ERR_MISSING_LABEL });
});

test('PodTopologySpread filter: minDomains makes the global minimum 0 while domains are missing', () => {
  const r = filter([web('w1', 'a1'), web('w2', 'b1'), web('w3', 'c1')], podInfo('p', { labels: { app: 'web' }, spec: spread(1, 'DoNotSchedule', { minDomains: 4 }) }));
  assert.deepEqual(r, { a1: ERR_CONSTRAINTS, a2: ERR_CONSTRAINTS, b1: ERR_CONSTRAINTS, c1: ERR_CONSTRAINTS, nozone: ERR_MISSING_LABEL });
});

test('PodTopologySpread filter: nodeAffinityPolicy Honor only counts nodes the pod may use', () => {
  const affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: ZONE, operator: 'In', values: ['a', 'b'] }] }] } } };
  const existing = () => [web('w1', 'a1'), web('w2', 'b1')];
  // Honor (default): zone c is not the pod's to use, so the minimum is 1 and a is fine.
  const honor = filter(existing(), podInfo('p', { labels: { app: 'web' }, spec: { ...spread(1, 'DoNotSchedule'), affinity } }));
  assert.equal(honor.a1, null);
  // Ignore: empty zone c counts, the minimum is 0 and a would reach skew 2.
  const ignore = filter(existing(), podInfo('p', { labels: { app: 'web' }, spec: { ...spread(1, 'DoNotSchedule', { nodeAffinityPolicy: 'Ignore' }), affinity } }));
  assert.equal(ignore.a1, ERR_CONSTRAINTS);
});

test('PodTopologySpread score: ScheduleAnyway prefers emptier zones; nodes without the key score 0', () => {
  const cache = makeCache(nodes(), [web('w1', 'a1'), web('w2', 'a2'), web('w3', 'b1')]);
  const pl = new PodTopologySpread();
  const p = podInfo('p', { labels: { app: 'web' }, spec: spread(1, 'ScheduleAnyway') });
  const st = new CycleState();
  assert.equal(pl.preFilter(st, p, cache)?.code, Code.Skip, 'no hard constraints');
  const list = ['a1', 'b1', 'c1', 'nozone'].map((n) => nodeInfoOf(cache, n));
  assert.equal(pl.preScore(st, p, list, cache), null);
  const scores = Float64Array.from(list.map((n) => pl.score(st, p, n)));
  pl.normalizeScore(st, p, scores, 4);
  assert.ok(scores[2] > scores[1] && scores[1] > scores[0], `${[...scores]}`);
  assert.equal(scores[3], 0);
});
