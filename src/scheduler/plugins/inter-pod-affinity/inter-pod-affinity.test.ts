import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code, CycleState, Status } from '../../framework.js';
import { makeCache, makeNode, makePod, nodeInfoOf, podInfo } from '../../testing.js';
import { InterPodAffinity, ERR_AFFINITY, ERR_ANTI_AFFINITY, ERR_EXISTING_ANTI_AFFINITY } from './inter-pod-affinity.js';

const HOST = 'kubernetes.io/hostname';
const ZONE = 'topology.kubernetes.io/zone';
const nodes = () => [
  makeNode('a1', { labels: { [ZONE]: 'a' } }), makeNode('a2', { labels: { [ZONE]: 'a' } }),
  makeNode('b1', { labels: { [ZONE]: 'b' } }), makeNode('nozone'),
];
const term = (labels: Record<string, string>, topologyKey: string) => ({ labelSelector: { matchLabels: labels }, topologyKey });
const affinity = (...terms: any[]) => ({ affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: terms } } });
const anti = (...terms: any[]) => ({ affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: terms } } });

function run(existing: ReturnType<typeof makePod>[], pod: ReturnType<typeof podInfo>): Record<string, string | null> {
  const cache = makeCache(nodes(), existing);
  const pl = new InterPodAffinity();
  const st = new CycleState();
  const pre = pl.preFilter(st, pod, cache);
  const out: Record<string, string | null> = {};
  for (const n of ['a1', 'a2', 'b1', 'nozone']) {
    if (pre instanceof Status && pre.code === Code.Skip) { out[n] = null; continue; }
    out[n] = pl.filter(st, pod, nodeInfoOf(cache, n))?.reasons[0] ?? null;
  }
  return out;
}

test('InterPodAffinity: required affinity by zone', () => {
  const db = makePod('db', { nodeName: 'a1', labels: { app: 'db' } });
  const r = run([db], podInfo('web', { labels: { app: 'web' }, spec: affinity(term({ app: 'db' }, ZONE)) }));
  assert.deepEqual(r, { a1: null, a2: null, b1: ERR_AFFINITY, nozone: ERR_AFFINITY });
});

test('InterPodAffinity: first pod of a self-affine group may go anywhere with the key', () => {
  const r = run([], podInfo('web', { labels: { app: 'web' }, spec: affinity(term({ app: 'web' }, ZONE)) }));
  assert.deepEqual(r, { a1: null, a2: null, b1: null, nozone: ERR_AFFINITY });
  const r2 = run([], podInfo('web', { labels: { app: 'web' }, spec: affinity(term({ app: 'db' }, ZONE)) }));
  assert.deepEqual(r2, { a1: ERR_AFFINITY, a2: ERR_AFFINITY, b1: ERR_AFFINITY, nozone: ERR_AFFINITY });
});

test('InterPodAffinity: required anti-affinity by hostname and by zone', () => {
  const other = makePod('w1', { nodeName: 'a1', labels: { app: 'web' } });
  const byHost = run([other], podInfo('w2', { labels: { app: 'web' }, spec: anti(term({ app: 'web' }, HOST)) }));
  assert.deepEqual(byHost, { a1: ERR_ANTI_AFFINITY, a2: null, b1: null, nozone: null });
  const byZone = run([other], podInfo('w2', { labels: { app: 'web' }, spec: anti(term({ app: 'web' }, ZONE)) }));
  assert.deepEqual(byZone, { a1: ERR_ANTI_AFFINITY, a2: ERR_ANTI_AFFINITY, b1: null, nozone: null });
  // Another namespace is not selected by default.
  const otherNs = run([makePod('w1', { nodeName: 'a1', labels: { app: 'web' }, namespace: 'other' })], podInfo('w2', { labels: { app: 'web' }, spec: anti(term({ app: 'web' }, HOST)) }));
  assert.equal(otherNs.a1, null);
});

test("InterPodAffinity: existing pods' anti-affinity keeps matching pods away (symmetry)", () => {
  const guard = makePod('guard', { nodeName: 'b1', labels: { app: 'guard' }, spec: anti(term({ app: 'web' }, ZONE)) });
  const r = run([guard], podInfo('web', { labels: { app: 'web' } }));
  assert.deepEqual(r, { a1: null, a2: null, b1: ERR_EXISTING_ANTI_AFFINITY, nozone: null });
  const unrelated = run([guard], podInfo('db', { labels: { app: 'db' } }));
  assert.deepEqual(unrelated, { a1: null, a2: null, b1: null, nozone: null });
});

test('InterPodAffinity score: preferred affinity pulls, preferred anti-affinity pushes', () => {
  const cache = makeCache(nodes(), [makePod('db', { nodeName: 'a1', labels: { app: 'db' } }), makePod('noisy', { nodeName: 'b1', labels: { app: 'noisy' } })]);
  const pl = new InterPodAffinity();
  const p = podInfo('web', { spec: { affinity: {
    podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: term({ app: 'db' }, ZONE) }] },
    podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5, podAffinityTerm: term({ app: 'noisy' }, HOST) }] },
  } } });
  const st = new CycleState();
  const list = ['a1', 'a2', 'b1', 'nozone'].map((n) => nodeInfoOf(cache, n));
  assert.equal(pl.preScore(st, p, list, cache), null);
  const scores = Float64Array.from(list.map((n) => pl.score(st, p, n)));
  assert.deepEqual([...scores], [10, 10, -5, 0]);
  pl.normalizeScore(st, p, scores, 4);
  assert.deepEqual([...scores], [100, 100, 0, 33]);
  assert.equal(pl.preScore(new CycleState(), podInfo('x'), list, cache)?.code, Code.Skip);
});

test('InterPodAffinity: preemption hooks update the counts', () => {
  const victim = makePod('w1', { nodeName: 'a1', labels: { app: 'web' } });
  const cache = makeCache(nodes(), [victim]);
  const pl = new InterPodAffinity();
  const p = podInfo('w2', { labels: { app: 'web' }, spec: anti(term({ app: 'web' }, HOST)) });
  const st = new CycleState();
  pl.preFilter(st, p, cache);
  const a1 = nodeInfoOf(cache, 'a1');
  assert.ok(pl.filter(st, p, a1));
  const vi = cache.podInfo('default/w1')!;
  const st2 = st.clone();
  pl.removePod(st2, p, vi, a1, cache);
  assert.equal(pl.filter(st2, p, a1), null);
  assert.ok(pl.filter(st, p, a1), 'the original state is unchanged');
});
