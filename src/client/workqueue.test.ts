import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue } from './workqueue.js';
import {
  BucketRateLimiter, ItemExponentialRateLimiter, MaxOfRateLimiter, TokenBucket, defaultControllerRateLimiter,
} from './rate-limit.js';
import { eventually } from './testing.js';

/** Whether a promise has settled, without waiting for it. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  const marker = Symbol('pending');
  const v = await Promise.race([p, new Promise((r) => setImmediate(() => r(marker)))]);
  return v !== marker;
}

test('duplicates coalesce while waiting, order is FIFO', async () => {
  const q = new WorkQueue<string>();
  q.add('a');
  q.add('b');
  q.add('a');
  q.add('b');
  q.add('c');
  assert.equal(q.len(), 3);
  assert.equal(await q.get(), 'a');
  assert.equal(await q.get(), 'b');
  assert.equal(await q.get(), 'c');
  assert.equal(q.len(), 0);
  q.shutDown();
});

test('a key being processed is not handed out again until done, then comes back once', async () => {
  const q = new WorkQueue<string>();
  q.add('a');
  const k = await q.get();
  assert.equal(k, 'a');
  assert.ok(q.isProcessing('a'));
  q.add('a');
  q.add('a');
  assert.equal(q.len(), 0, 'a re-added while processing waits for done');
  const second = q.get();
  assert.equal(await settled(second), false, 'no second worker gets a');
  q.done('a');
  assert.equal(await second, 'a', 're-added key is handed out after done');
  q.done('a');
  assert.equal(q.len(), 0, 'both re-adds coalesced into one');
  assert.equal(await settled(q.get()), false);
  q.shutDown();
});

test('done without re-add does not requeue; get hands keys straight to a blocked worker', async () => {
  const q = new WorkQueue<string>();
  const waiting = q.get();
  q.add('x');
  assert.equal(await waiting, 'x');
  q.done('x');
  assert.equal(q.len(), 0);
  q.shutDown();
});

test('concurrent workers never process one key at the same time and lose no adds', async () => {
  const q = new WorkQueue<string>({ rateLimiter: new ItemExponentialRateLimiter(0, 0) });
  const inFlight = new Set<string>();
  const processedAfter = new Map<string, number>(); // key → number of completed runs
  let violations = 0;
  const lastAddGen = new Map<string, number>();
  const seenGen = new Map<string, number>();
  let gen = 0;
  const worker = async () => {
    for (;;) {
      const key = await q.get();
      if (key === undefined) return;
      if (inFlight.has(key)) violations++;
      inFlight.add(key);
      const observed = lastAddGen.get(key) ?? 0;
      // Yield a few times so other workers and producers interleave.
      for (let i = 0; i < 1 + (key.charCodeAt(1) % 3); i++) await new Promise((r) => setImmediate(r));
      inFlight.delete(key);
      seenGen.set(key, Math.max(seenGen.get(key) ?? 0, observed));
      processedAfter.set(key, (processedAfter.get(key) ?? 0) + 1);
      q.done(key);
    }
  };
  const workers = Array.from({ length: 4 }, () => worker());
  const keys = Array.from({ length: 10 }, (_, i) => `k${i}`);
  for (let round = 0; round < 200; round++) {
    const key = keys[round % keys.length]!;
    lastAddGen.set(key, ++gen);
    q.add(key);
    if (round % 7 === 0) await new Promise((r) => setImmediate(r));
  }
  // Every key must eventually be processed after its last add (level-triggered: nothing lost).
  await eventually(() => keys.every((k) => (seenGen.get(k) ?? 0) === lastAddGen.get(k)) && q.len() === 0 && inFlight.size === 0, 'all adds processed');
  assert.equal(violations, 0);
  q.shutDown();
  await Promise.all(workers);
});

test('addAfter adds later; an earlier ready time wins over a later one', async () => {
  const q = new WorkQueue<string>();
  q.addAfter('slow', 60_000);
  q.addAfter('slow', 1); // earlier: replaces the 60 s wait
  q.addAfter('fast', 1);
  q.addAfter('fast', 60_000); // later: ignored
  assert.equal(q.len(), 0);
  await eventually(() => q.len() === 2, 'both delayed keys ready');
  const got = new Set([await q.get(), await q.get()]);
  assert.deepEqual(got, new Set(['slow', 'fast']));
  q.addAfter('now', 0);
  assert.equal(q.len(), 1, 'zero delay adds at once');
  q.shutDown();
});

test('item exponential back-off: 5 ms doubling per failure, capped at 1000 s, reset by forget', () => {
  const rl = new ItemExponentialRateLimiter<string>(5, 1000_000);
  const delays = Array.from({ length: 8 }, () => rl.when('a'));
  assert.deepEqual(delays, [5, 10, 20, 40, 80, 160, 320, 640]);
  assert.equal(rl.numRequeues('a'), 8);
  assert.equal(rl.when('b'), 5, 'keys back off independently');
  for (let i = 0; i < 100; i++) rl.when('a');
  assert.equal(rl.when('a'), 1000_000, 'capped');
  rl.forget('a');
  assert.equal(rl.numRequeues('a'), 0);
  assert.equal(rl.when('a'), 5);
});

test('token bucket: burst free, then 1/qps apart (fake clock)', () => {
  let now = 0;
  const b = new TokenBucket(10, 100, () => now);
  for (let i = 0; i < 100; i++) assert.equal(b.reserve(), 0, `burst token ${i}`);
  assert.equal(Math.round(b.reserve()), 100);
  assert.equal(Math.round(b.reserve()), 200);
  now += 1000; // 10 tokens refill; 2 were borrowed
  assert.equal(Math.round(b.reserve()), 0);
  const unlimited = new TokenBucket(Infinity, 1, () => now);
  for (let i = 0; i < 1000; i++) assert.equal(unlimited.reserve(), 0);
});

test('default controller rate limiter is the max of per-item back-off and the overall bucket', () => {
  let now = 0;
  const rl = new MaxOfRateLimiter<string>(new ItemExponentialRateLimiter(5, 1000_000), new BucketRateLimiter(10, 100, () => now));
  // Per item dominates while the bucket has tokens.
  assert.equal(rl.when('a'), 5);
  assert.equal(rl.when('a'), 10);
  // Exhaust the bucket with other keys: then the bucket dominates a fresh key's 5 ms.
  for (let i = 0; i < 98; i++) rl.when(`k${i}`);
  assert.equal(Math.round(rl.when('fresh')), 100);
  assert.equal(rl.numRequeues('a'), 2);
  rl.forget('a');
  assert.equal(rl.numRequeues('a'), 0);
  const def = defaultControllerRateLimiter<string>(() => now);
  assert.deepEqual([def.when('x'), def.when('x'), def.when('x')], [5, 10, 20]);
});

test('addRateLimited delays grow per failure and forget resets them', async () => {
  const q = new WorkQueue<string>();
  q.addRateLimited('a');
  q.addRateLimited('a');
  assert.equal(q.numRequeues('a'), 2);
  await eventually(() => q.len() === 1, 'rate-limited key ready');
  assert.equal(await q.get(), 'a');
  q.forget('a');
  q.done('a');
  assert.equal(q.numRequeues('a'), 0);
  q.shutDown();
});

test('shutDown releases blocked workers, ignores later adds and cancels delayed ones', async () => {
  const q = new WorkQueue<string>();
  const w1 = q.get();
  const w2 = q.get();
  q.addAfter('later', 60_000);
  q.shutDown();
  assert.equal(await w1, undefined);
  assert.equal(await w2, undefined);
  q.add('x');
  assert.equal(q.len(), 0);
  assert.equal(await q.get(), undefined);
  assert.ok(q.isShuttingDown);
});
