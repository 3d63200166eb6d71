import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SchedulerCache } from './cache.js';
import { PodInfo } from './pod-info.js';
import { makeNode, makePod, podInfo } from './testing.js';

const mk = (pod: any, existing?: PodInfo) => existing ? (existing.update(pod, 0), existing) : new PodInfo(pod, 0);

test('assume, confirm, forget', () => {
  const c = new SchedulerCache();
  c.addNode(makeNode('n', { cpu: '4' }));
  const p = podInfo('p', { cpu: '1' });
  c.assumePod(p, 'n');
  assert.equal(c.get('n')!.requested.milliCPU, 1000);
  assert.equal(c.isAssumed(p.key), true);
  // The informer reports the pod bound: confirmed, still counted once.
  const bound = { ...p.pod, spec: { ...p.pod.spec, nodeName: 'n' } } as any;
  c.addPod(bound, mk);
  assert.equal(c.isAssumed(p.key), false);
  assert.equal(c.get('n')!.requested.milliCPU, 1000);
  assert.equal(c.get('n')!.pods.length, 1);
  const q = podInfo('q', { cpu: '2' });
  c.assumePod(q, 'n');
  c.forgetPod(q.key);
  assert.equal(c.get('n')!.requested.milliCPU, 1000);
  c.removePod(p.key);
  assert.equal(c.get('n')!.requested.milliCPU, 0);
});

test('assumed pods expire after their binding finished if never confirmed', () => {
  let t = 0;
  const c = new SchedulerCache(1000, () => t);
  c.addNode(makeNode('n'));
  const p = podInfo('p', { cpu: '1' });
  c.assumePod(p, 'n');
  t = 5000;
  assert.deepEqual(c.cleanupAssumedPods(), [], 'binding in flight: kept');
  c.finishBinding(p.key);
  t = 5500;
  assert.deepEqual(c.cleanupAssumedPods(), []);
  t = 6001;
  assert.deepEqual(c.cleanupAssumedPods(), [p.key]);
  assert.equal(c.get('n')!.pods.length, 0);
});

test('node list interleaves zones; pods on unknown nodes wait for the node', () => {
  const c = new SchedulerCache();
  const z = (name: string, zone: string) => makeNode(name, { labels: { 'topology.kubernetes.io/zone': zone } });
  for (const n of [z('a1', 'a'), z('a2', 'a'), z('a3', 'a'), z('b1', 'b'), z('c1', 'c')]) c.addNode(n);
  assert.deepEqual(c.nodeInfos().map((n) => n.name), ['a1', 'b1', 'c1', 'a2', 'a3']);
  c.addPod(makePod('early', { nodeName: 'later', cpu: '1' }), mk);
  assert.equal(c.get('later'), undefined);
  c.addNode(makeNode('later'));
  assert.equal(c.get('later')!.requested.milliCPU, 1000);
  c.removeNode('a2');
  assert.equal(c.numNodes, 5);
  assert.ok(!c.nodeInfos().some((n) => n.name === 'a2'));
});

test('image spread is counted across nodes', () => {
  const c = new SchedulerCache();
  const img = { names: ['docker.io/library/nginx:1.25'], sizeBytes: 100 };
  c.addNode(makeNode('a', { images: [img] }));
  c.addNode(makeNode('b', { images: [img] }));
  assert.equal(c.get('a')!.images.get('nginx:1.25')!.spread.numNodes, 2);
  c.removeNode('b');
  assert.equal(c.get('a')!.images.get('nginx:1.25')!.spread.numNodes, 1);
});
