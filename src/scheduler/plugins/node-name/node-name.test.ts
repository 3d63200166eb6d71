import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CycleState } from '../../framework.js';
import { makeCache, makeNode, nodeInfoOf, podInfo } from '../../testing.js';
import { NodeName, ERR_REASON } from './node-name.js';

test('NodeName: only the named node fits', () => {
  const cache = makeCache([makeNode('a'), makeNode('b')]);
  const pl = new NodeName();
  const st = new CycleState();
  assert.equal(pl.filter(st, podInfo('p'), nodeInfoOf(cache, 'a')), null);
  assert.equal(pl.filter(st, podInfo('p', { nodeName: 'a' }), nodeInfoOf(cache, 'a')), null);
  const s = pl.filter(st, podInfo('p', { nodeName: 'a' }), nodeInfoOf(cache, 'b'));
  assert.deepEqual(s?.reasons, [ERR_REASON]);
  assert.equal(s?.code, 3);
});
