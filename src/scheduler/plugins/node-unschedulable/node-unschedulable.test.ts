import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CycleState } from '../../framework.js';
import { makeCache, makeNode, nodeInfoOf, podInfo } from '../../testing.js';
import { NodeUnschedulable } from './node-unschedulable.js';

test('NodeUnschedulable: cordoned nodes take only pods tolerating the unschedulable taint', () => {
  const cache = makeCache([makeNode('ok'), makeNode('cordoned', { unschedulable: true })]);
  const pl = new NodeUnschedulable();
  const st = new CycleState();
  assert.equal(pl.filter(st, podInfo('p'), nodeInfoOf(cache, 'ok')), null);
  assert.deepEqual(pl.filter(st, podInfo('p'), nodeInfoOf(cache, 'cordoned'))?.reasons, ['node(s) were unschedulable']);
  const tolerant = podInfo('ds', { spec: { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] } });
  assert.equal(pl.filter(st, tolerant, nodeInfoOf(cache, 'cordoned')), null);
});
