import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCluster, eventually } from './testing.js';
import { EventRecorder, EVENTS } from './event-recorder.js';

test('EventRecorder writes core/v1 events and aggregates repeats into count', async (t) => {
  const cluster = await startTestCluster();
  t.after(() => cluster.stop());
  const rec = new EventRecorder(cluster.client, { component: 'default-scheduler', instance: 'test-1' });
  const ref = { kind: 'Pod', apiVersion: 'v1', namespace: 'default', name: 'p', uid: 'u-1' };
  rec.event(ref, 'Warning', 'FailedScheduling', 'Scheduling', '0/1 nodes are available: 1 Insufficient cpu.');
  await rec.idle();
  rec.event(ref, 'Warning', 'FailedScheduling', 'Scheduling', '0/1 nodes are available: 1 Insufficient cpu.');
  rec.event(ref, 'Normal', 'Scheduled', 'Binding', 'Successfully assigned default/p to n');
  await rec.idle();
  const items: any[] = (await cluster.client.list(EVENTS, 'default')).items;
  assert.equal(items.length, 2);
  const failed = items.find((e) => e.reason === 'FailedScheduling');
  assert.equal(failed.count, 2);
  assert.equal(failed.type, 'Warning');
  assert.equal(failed.involvedObject.uid, 'u-1');
  assert.equal(failed.source.component, 'default-scheduler');
  assert.equal(failed.reportingInstance, 'test-1');
  assert.match(failed.metadata.name, /^p\.[0-9a-f]+$/);
  await eventually(() => rec.written === 3, 'three writes');
});

test('EventRecorder drops events beyond its queue instead of blocking', () => {
  const never = { create: () => new Promise(() => {}), patch: () => new Promise(() => {}) } as any;
  const rec = new EventRecorder(never, { component: 'x', concurrency: 1, maxQueued: 2 });
  for (let i = 0; i < 5; i++) rec.event({ kind: 'Pod', name: `p${i}`, namespace: 'default' }, 'Normal', 'R', 'A', 'm');
  // One in flight, two queued, two dropped.
  assert.equal(rec.dropped, 2);
});
