import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CycleState } from '../../framework.js';
import { makeCache, makeNode, nodeInfoOf, podInfo } from '../../testing.js';
import { TaintToleration } from './taint-toleration.js';
import { toleratesTaint } from '../helper/taints.js';

test('toleration matching: table', () => {
  const taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };
  const cases: Array<[any, boolean]> = [
    [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }, true],
    [{ key: 'dedicated', value: 'gpu' }, true], // operator defaults to Equal, empty effect = all
    [{ key: 'dedicated', operator: 'Exists' }, true],
    [{ operator: 'Exists' }, true],
    [{ key: 'dedicated', value: 'cpu' }, false],
    [{ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }, false],
    [{ key: 'other', operator: 'Exists' }, false],
    [{ value: 'gpu' }, false], // empty key needs Exists
  ];
  for (const [t, want] of cases) assert.equal(toleratesTaint(t, taint), want, JSON.stringify(t));
});

test('TaintToleration filter: untolerated NoSchedule/NoExecute taints reject with upstream text', () => {
  const cache = makeCache([
    makeNode('cp', { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }),
    makeNode('gpu', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoExecute' }] }),
    makeNode('soft', { taints: [{ key: 'spot', value: 'true', effect: 'PreferNoSchedule' }] }),
  ]);
  const pl = new TaintToleration();
  const st = new CycleState();
  const plain = podInfo('p');
  const s = pl.filter(st, plain, nodeInfoOf(cache, 'cp'));
  assert.deepEqual(s?.reasons, ['node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }']);
  assert.equal(s?.code, 3);
  assert.deepEqual(pl.filter(st, plain, nodeInfoOf(cache, 'gpu'))?.reasons, ['node(s) had untolerated taint {dedicated: gpu}']);
  assert.equal(pl.filter(st, plain, nodeInfoOf(cache, 'soft')), null, 'PreferNoSchedule never rejects');
  const tol = podInfo('t', { spec: { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoExecute' }] } });
  assert.equal(pl.filter(st, tol, nodeInfoOf(cache, 'gpu')), null);
});

test('TaintToleration score: fewer untolerated PreferNoSchedule taints is better', () => {
  const cache = makeCache([
    makeNode('clean'),
    makeNode('one', { taints: [{ key: 'a', effect: 'PreferNoSchedule' }] }),
    makeNode('two', { taints: [{ key: 'a', effect: 'PreferNoSchedule' }, { key: 'b', effect: 'PreferNoSchedule' }] }),
  ]);
  const pl = new TaintToleration();
  const st = new CycleState();
  const p = podInfo('p');
  pl.preScore(st, p);
  const nodes = ['clean', 'one', 'two'].map((n) => nodeInfoOf(cache, n));
  const scores = Float64Array.from(nodes.map((n) => pl.score(st, p, n)));
  assert.deepEqual([...scores], [0, 1, 2]);
  pl.normalizeScore(st, p, scores, 3);
  assert.deepEqual([...scores], [100, 50, 0]);
  // Tolerating "a" makes "one" as good as clean.
  const t = podInfo('t', { spec: { tolerations: [{ key: 'a', operator: 'Exists' }] } });
  const st2 = new CycleState();
  pl.preScore(st2, t);
  assert.equal(pl.score(st2, t, nodes[1]), 0);
});
