import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code, CycleState } from '../../framework.js';
import { makeCache, makeNode, nodeInfoOf, podInfo } from '../../testing.js';
import { NodeResourcesBalancedAllocation } from './node-resources-balanced-allocation.js';

test('BalancedAllocation: equal cpu/memory fractions score 100, skewed ones less; skipped without requests', () => {
  const pl = new NodeResourcesBalancedAllocation();
  const cache = makeCache([makeNode('n', { cpu: '4', memory: '4Gi' })]);
  const st = new CycleState();
  assert.equal(pl.score(st, podInfo('a', { cpu: '2', memory: '2Gi' }), nodeInfoOf(cache, 'n')), 100);
  // cpu 1.0, memory 0.0 → std 0.5 → 50
  assert.equal(pl.score(st, podInfo('b', { cpu: '4' }), nodeInfoOf(cache, 'n')), 50);
  assert.equal(pl.preScore(st, podInfo('c'))?.code, Code.Skip);
  assert.equal(pl.preScore(st, podInfo('d', { cpu: '1' })), null);
});
