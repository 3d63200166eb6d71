import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Controller, keyOf, splitKey, type Reconciler } from './controller.js';
import { Informer } from './informer.js';
import { ItemExponentialRateLimiter } from './rate-limit.js';
import type { ResourceDescriptor, RestClient } from './rest-client.js';
import { eventually, startTestCluster, type TestCluster } from './testing.js';

const CONFIGMAPS: ResourceDescriptor = { group: '', version: 'v1', plural: 'configmaps', namespaced: true };
const NAMESPACES: ResourceDescriptor = { group: '', version: 'v1', plural: 'namespaces', namespaced: false };

test('keyOf and splitKey', () => {
  assert.equal(keyOf({ metadata: { name: 'n', namespace: 'ns' } }), 'ns/n');
  assert.equal(keyOf({ metadata: { name: 'node-1' } }), 'node-1');
  assert.deepEqual(splitKey('ns/n'), { namespace: 'ns', name: 'n' });
  assert.deepEqual(splitKey('node-1'), { namespace: undefined, name: 'node-1' });
  assert.throws(() => splitKey('a/b/c'));
  assert.throws(() => splitKey(''));
  assert.throws(() => keyOf({ metadata: {} }));
});

test('a throwing reconcile is retried with back-off and forgotten on success; requeueAfter comes back', async () => {
  const calls = new Map<string, number>();
  const reconciler: Reconciler = {
    async reconcile(key) {
      const n = (calls.get(key) ?? 0) + 1;
      calls.set(key, n);
      if (key === 'flaky' && n <= 2) throw new Error('not yet');
      if (key === 'again' && n === 1) return { requeueAfter: 5 };
    },
  };
  const ctrl = new Controller('unit', reconciler, { workers: 2 });
  const ac = new AbortController();
  ctrl.start(ac.signal);
  ctrl.enqueue('flaky');
  ctrl.enqueue('again');
  ctrl.enqueue({ metadata: { name: 'obj', namespace: 'ns' } });
  await eventually(() => calls.get('flaky') === 3 && calls.get('again') === 2 && calls.get('ns/obj') === 1, 'reconciles');
  await eventually(() => !ctrl.queue.isProcessing('flaky'), 'flaky done');
  assert.equal(ctrl.queue.numRequeues('flaky'), 0, 'success forgets the failures');
  ac.abort();
  await ctrl.stopped();
});

test('one key is never reconciled by two workers at once', async () => {
  const inFlight = new Set<string>();
  let overlaps = 0;
  let total = 0;
  const ctrl = new Controller('exclusive', {
    async reconcile(key) {
      if (inFlight.has(key)) overlaps++;
      inFlight.add(key);
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      inFlight.delete(key);
      total++;
    },
  }, { workers: 8, rateLimiter: new ItemExponentialRateLimiter(0, 0) });
  const ac = new AbortController();
  ctrl.start(ac.signal);
  for (let i = 0; i < 300; i++) {
    ctrl.enqueue(`k${i % 3}`);
    if (i % 5 === 0) await new Promise((r) => setImmediate(r));
  }
  await eventually(() => ctrl.queue.len() === 0 && inFlight.size === 0 && total > 0, 'queue drained');
  assert.equal(overlaps, 0);
  ac.abort();
  await ctrl.stopped();
});

describe('Controller with an informer against the API server', () => {
  let cluster: TestCluster;
  let c: RestClient;
  before(async () => {
    cluster = await startTestCluster();
    c = cluster.client;
    await c.create(NAMESPACES, undefined, { metadata: { name: 'ctrl' } });
  });
  after(async () => { await cluster?.stop(); });

  test('reconciles each key once per change burst', async () => {
    for (const name of ['a', 'b', 'c']) await c.create(CONFIGMAPS, 'ctrl', { metadata: { name }, data: { v: '0' } });
    const inf = new Informer<any>(cluster.newClient(), CONFIGMAPS, { namespace: 'ctrl' });
    const counts = new Map<string, number>();
    const seenVersions = new Map<string, string | undefined>();
    let hold: Promise<void> | undefined;
    let release = () => {};
    const ctrl = new Controller('burst', {
      async reconcile(key) {
        counts.set(key, (counts.get(key) ?? 0) + 1);
        if (key === 'ctrl/a' && hold) await hold;
        // Level-based: read the cache, not an event.
        const { namespace, name } = splitKey(key);
        seenVersions.set(key, inf.get(namespace, name)?.data?.v);
      },
    }, { workers: 3 });
    ctrl.watch(inf);
    const ac = new AbortController();
    inf.start(ac.signal);
    ctrl.start(ac.signal);
    const idle = () => ctrl.queue.len() === 0 && !['ctrl/a', 'ctrl/b', 'ctrl/c'].some((k) => ctrl.queue.isProcessing(k));
    try {
      await eventually(() => ['ctrl/a', 'ctrl/b', 'ctrl/c'].every((k) => counts.get(k) === 1) && idle(), 'initial reconcile of each key');
      assert.deepEqual([...counts.keys()].sort(), ['ctrl/a', 'ctrl/b', 'ctrl/c']);

      // Reconciling a is held; a burst of changes arrives meanwhile.
      hold = new Promise((r) => { release = r; });
      await c.patch(CONFIGMAPS, 'ctrl', 'a', { data: { v: '1' } }, 'merge');
      await eventually(() => counts.get('ctrl/a') === 2, 'reconcile of a started');
      let last: any;
      for (let i = 2; i <= 6; i++) last = await c.patch(CONFIGMAPS, 'ctrl', 'a', { data: { v: String(i) } }, 'merge');
      await eventually(() => inf.get('ctrl', 'a')?.metadata.resourceVersion === last.metadata.resourceVersion, 'informer saw the burst');
      assert.equal(counts.get('ctrl/a'), 2, 'no second worker took a while it was being reconciled');
      hold = undefined;
      release();
      await eventually(() => counts.get('ctrl/a') === 3 && idle(), 'one more reconcile for the whole burst');
      assert.equal(counts.get('ctrl/a'), 3);
      assert.equal(seenVersions.get('ctrl/a'), '6', 'the last reconcile saw the final state');
      assert.equal(counts.get('ctrl/b'), 1);
      assert.equal(counts.get('ctrl/c'), 1);

      // A delete is one more reconcile; the cache no longer has the object.
      await c.delete(CONFIGMAPS, 'ctrl', 'b');
      await eventually(() => counts.get('ctrl/b') === 2 && idle(), 'reconcile after delete');
      assert.equal(seenVersions.get('ctrl/b'), undefined);
    } finally {
      release();
      ac.abort();
      await ctrl.stopped();
      await inf.stopped();
    }
  });
});
