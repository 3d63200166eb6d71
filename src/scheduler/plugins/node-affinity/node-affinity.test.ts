import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code, CycleState, Status } from '../../framework.js';
import { makeCache, makeNode, nodeInfoOf, podInfo } from '../../testing.js';
import { NodeAffinity, ERR_REASON } from './node-affinity.js';

const nodes = [
  makeNode('a', { labels: { zone: 'z1', disk: 'ssd', gen: '5' } }),
  makeNode('b', { labels: { zone: 'z2', disk: 'hdd', gen: '3' } }),
  makeNode('c', { labels: { zone: 'z3' } }),
];
const cache = makeCache(nodes);
const pl = new NodeAffinity();

function fits(spec: Record<string, unknown>): string[] {
  const p = podInfo('p', { spec });
  const st = new CycleState();
  const pre = pl.preFilter(st, p);
  return ['a', 'b', 'c'].filter((n) => {
    if (pre && (pre as any).nodeNames && !(pre as any).nodeNames.has(n)) return false;
    return pl.filter(st, p, nodeInfoOf(cache, n)) === null;
  });
}

const required = (...terms: any[]) => ({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } });

test('NodeAffinity filter: nodeSelector and required terms (table)', () => {
  const cases: Array<[string, Record<string, unknown>, string[]]> = [
    ['nodeSelector', { nodeSelector: { disk: 'ssd' } }, ['a']],
    ['nodeSelector no match', { nodeSelector: { disk: 'nvme' } }, []],
    ['In', required({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1', 'z2'] }] }), ['a', 'b']],
    ['NotIn matches missing label', required({ matchExpressions: [{ key: 'disk', operator: 'NotIn', values: ['ssd'] }] }), ['b', 'c']],
    ['Exists', required({ matchExpressions: [{ key: 'disk', operator: 'Exists' }] }), ['a', 'b']],
    ['DoesNotExist', required({ matchExpressions: [{ key: 'disk', operator: 'DoesNotExist' }] }), ['c']],
    ['Gt', required({ matchExpressions: [{ key: 'gen', operator: 'Gt', values: ['4'] }] }), ['a']],
    ['Lt', required({ matchExpressions: [{ key: 'gen', operator: 'Lt', values: ['4'] }] }), ['b']],
    ['terms are ORed', required({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1'] }] }, { matchExpressions: [{ key: 'zone', operator: 'In', values: ['z3'] }] }), ['a', 'c']],
    ['expressions are ANDed', required({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1', 'z2'] }, { key: 'disk', operator: 'In', values: ['hdd'] }] }), ['b']],
    ['empty term matches nothing', required({}), []],
    ['matchFields metadata.name', required({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['c'] }] }), ['c']],
    ['selector AND affinity', { nodeSelector: { disk: 'ssd' }, ...required({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z2'] }] }) }, []],
  ];
  for (const [name, spec, want] of cases) assert.deepEqual(fits(spec), want, name);
});

test('NodeAffinity: skip without constraints; reason text; matchFields narrows candidates', () => {
  const st = new CycleState();
  assert.equal((pl.preFilter(st, podInfo('p')) as Status).code, Code.Skip);
  const s = pl.filter(st, podInfo('p', { spec: { nodeSelector: { disk: 'nvme' } } }), nodeInfoOf(cache, 'a'));
  assert.deepEqual(s?.reasons, [ERR_REASON]);
  assert.equal(s?.code, Code.UnschedulableAndUnresolvable);
  const pre = pl.preFilter(st, podInfo('p', { spec: required({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['b'] }] }) }));
  assert.deepEqual([...(pre as any).nodeNames], ['b']);
});

test('NodeAffinity score: weights of matching preferred terms, normalized', () => {
  const p = podInfo('p', { spec: { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [
    { weight: 10, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } },
    { weight: 5, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1', 'z2'] }] } },
  ] } } } });
  const st = new CycleState();
  assert.equal(pl.preScore(st, p), null);
  const scores = Float64Array.from(['a', 'b', 'c'].map((n) => pl.score(st, p, nodeInfoOf(cache, n))));
  assert.deepEqual([...scores], [15, 5, 0]);
  pl.normalizeScore(st, p, scores, 3);
  assert.deepEqual([...scores], [100, 33, 0]);
  assert.equal(pl.preScore(new CycleState(), podInfo('q'))?.code, Code.Skip);
});
