/**
 * Contract tests for any Storage implementation. Register them from a *.test.ts file:
 *
 *   storageContractSuite('memory', async () => {
 *     const storage = new MemoryStorage();
 *     return { storage, cleanup: () => storage.close() };
 *   });
 *
 * Every test gets a fresh storage from the factory and calls cleanup afterwards (cleanup must
 * tolerate a storage that the test already closed).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CompactedError,
  ConflictError,
  FutureRevisionError,
  KeyExistsError,
  NotFoundError,
  StorageError,
  type KeyValue,
  type Storage,
  type StorageEvent,
  type Watch,
} from '../interface.js';

export type StorageFactory = () => Promise<{ storage: Storage; cleanup: () => Promise<void> }>;

/** Polls cond until it holds or the deadline passes (no fixed sleeps). */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

interface Collector {
  events: StorageEvent[];
  errors: Error[];
  watch: Watch;
}

function collect(storage: Storage, prefix: string, fromRevision: number): Collector {
  const events: StorageEvent[] = [];
  const errors: Error[] = [];
  const watch = storage.watch(prefix, fromRevision, (ev) => events.push(ev), (err) => errors.push(err));
  return { events, errors, watch };
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

function assertStrictlyIncreasing(revs: number[], what: string): void {
  for (let i = 1; i < revs.length; i++) {
    assert.ok(revs[i]! > revs[i - 1]!, `${what}: revision ${revs[i]} after ${revs[i - 1]} at index ${i}`);
  }
}

export function storageContractSuite(name: string, factory: StorageFactory): void {
  async function withStorage(fn: (s: Storage) => Promise<void>): Promise<void> {
    const { storage, cleanup } = await factory();
    try {
      await fn(storage);
    } finally {
      await cleanup();
    }
  }

  const test = (title: string, fn: (s: Storage) => Promise<void>) => it(title, () => withStorage(fn));

  describe(`storage contract: ${name}`, () => {
    describe('create / get', () => {
      test('create returns the kv and get reads it back', async (s) => {
        const before = await s.currentRevision();
        const kv = await s.create('/registry/pods/default/a', '{"v":1}');
        assert.equal(kv.key, '/registry/pods/default/a');
        assert.equal(kv.value, '{"v":1}');
        assert.ok(kv.modRevision > before);
        assert.equal(kv.createRevision, kv.modRevision);
        assert.equal(await s.currentRevision(), kv.modRevision);
        assert.deepEqual(await s.get('/registry/pods/default/a'), kv);
      });

      test('get of a missing key returns undefined', async (s) => {
        assert.equal(await s.get('/registry/pods/default/nope'), undefined);
        await s.create('/registry/pods/default/a', 'x');
        assert.equal(await s.get('/registry/pods/default/a/'), undefined);
        assert.equal(await s.get('/registry/pods/default/'), undefined);
      });

      test('create of an existing key throws KeyExistsError and changes nothing', async (s) => {
        const kv = await s.create('/k', 'one');
        const rev = await s.currentRevision();
        await assert.rejects(s.create('/k', 'two'), (err: unknown) => {
          assert.ok(err instanceof KeyExistsError);
          assert.equal(err.key, '/k');
          return true;
        });
        assert.deepEqual(await s.get('/k'), kv);
        assert.equal(await s.currentRevision(), rev, 'a failed write must not consume a revision');
      });

      test('a deleted key can be created again with a new createRevision', async (s) => {
        const first = await s.create('/k', 'one');
        await s.delete('/k');
        const second = await s.create('/k', 'two');
        assert.ok(second.createRevision > first.createRevision);
        assert.equal(second.createRevision, second.modRevision);
        assert.deepEqual(await s.get('/k'), second);
      });
    });

    describe('revisions', () => {
      test('are monotonic and global across keys', async (s) => {
        const revs: number[] = [];
        revs.push((await s.create('/a', '1')).modRevision);
        revs.push((await s.create('/b', '1')).modRevision);
        revs.push((await s.update('/a', '2', revs[0]!)).modRevision);
        revs.push((await s.create('/c', '1')).modRevision);
        revs.push((await s.delete('/b')).modRevision);
        revs.push((await s.update('/c', '2', revs[3]!)).modRevision);
        assertStrictlyIncreasing(revs, 'write revisions');
        assert.equal(new Set(revs).size, revs.length);
        assert.equal(await s.currentRevision(), revs[revs.length - 1]);
      });

      test('createRevision is kept across updates', async (s) => {
        const created = await s.create('/k', 'v0');
        let cur = created;
        for (let i = 1; i <= 5; i++) {
          const next = await s.update('/k', `v${i}`, cur.modRevision);
          assert.equal(next.createRevision, created.createRevision);
          assert.ok(next.modRevision > cur.modRevision);
          cur = next;
        }
        assert.deepEqual(await s.get('/k'), cur);
      });
    });

    describe('update', () => {
      test('compare-and-swap succeeds with the current modRevision', async (s) => {
        const kv = await s.create('/k', 'a');
        const upd = await s.update('/k', 'b', kv.modRevision);
        assert.equal(upd.value, 'b');
        assert.equal(upd.key, '/k');
        assert.deepEqual(await s.get('/k'), upd);
      });

      test('a stale modRevision throws ConflictError carrying the current kv', async (s) => {
        const kv = await s.create('/k', 'a');
        const upd = await s.update('/k', 'b', kv.modRevision);
        const rev = await s.currentRevision();
        await assert.rejects(s.update('/k', 'c', kv.modRevision), (err: unknown) => {
          assert.ok(err instanceof ConflictError);
          assert.equal(err.key, '/k');
          assert.deepEqual(err.current, upd);
          return true;
        });
        assert.deepEqual(await s.get('/k'), upd);
        assert.equal(await s.currentRevision(), rev);
      });

      test('a missing or deleted key throws NotFoundError', async (s) => {
        await assert.rejects(s.update('/missing', 'x', 1), NotFoundError);
        const kv = await s.create('/k', 'a');
        await s.delete('/k');
        await assert.rejects(s.update('/k', 'x', kv.modRevision), (err: unknown) => {
          assert.ok(err instanceof NotFoundError);
          assert.equal(err.key, '/k');
          return true;
        });
      });
    });

    describe('delete', () => {
      test('with the expected revision returns the last value at the delete revision', async (s) => {
        const kv = await s.create('/k', 'a');
        const upd = await s.update('/k', 'b', kv.modRevision);
        const del = await s.delete('/k', upd.modRevision);
        assert.equal(del.key, '/k');
        assert.equal(del.value, 'b');
        assert.equal(del.createRevision, kv.createRevision);
        assert.ok(del.modRevision > upd.modRevision);
        assert.equal(await s.currentRevision(), del.modRevision);
        assert.equal(await s.get('/k'), undefined);
        assert.deepEqual((await s.list('/')).items, []);
      });

      test('without an expected revision', async (s) => {
        await s.create('/k', 'a');
        const del = await s.delete('/k');
        assert.equal(del.value, 'a');
        assert.equal(await s.get('/k'), undefined);
      });

      test('with a stale expected revision throws ConflictError and keeps the key', async (s) => {
        const kv = await s.create('/k', 'a');
        const upd = await s.update('/k', 'b', kv.modRevision);
        await assert.rejects(s.delete('/k', kv.modRevision), (err: unknown) => {
          assert.ok(err instanceof ConflictError);
          assert.deepEqual(err.current, upd);
          return true;
        });
        assert.deepEqual(await s.get('/k'), upd);
      });

      test('of a missing or already deleted key throws NotFoundError', async (s) => {
        await assert.rejects(s.delete('/missing'), NotFoundError);
        await s.create('/k', 'a');
        await s.delete('/k');
        await assert.rejects(s.delete('/k'), NotFoundError);
        await assert.rejects(s.delete('/k', 12345), NotFoundError);
      });
    });

    describe('list / count', () => {
      const keys = [
        '/registry/pod',
        '/registry/pods',
        '/registry/pods.',
        '/registry/pods/ns1/a',
        '/registry/pods/ns1/b',
        '/registry/pods/ns2/a',
        '/registry/pods0',
        '/registry/podsx/ns1/a',
        '/registry/services/ns1/a',
      ];

      test('prefix boundaries: /registry/pods/ does not match /registry/podsx/', async (s) => {
        for (const k of [...keys].reverse()) await s.create(k, `v:${k}`);
        const pods = await s.list('/registry/pods/');
        assert.deepEqual(
          pods.items.map((kv) => kv.key),
          ['/registry/pods/ns1/a', '/registry/pods/ns1/b', '/registry/pods/ns2/a'],
        );
        assert.equal(pods.more, false);
        assert.equal(pods.revision, await s.currentRevision());
        assert.equal(pods.items[0]!.value, 'v:/registry/pods/ns1/a');
        assert.deepEqual(
          (await s.list('/registry/pods/ns1/')).items.map((kv) => kv.key),
          ['/registry/pods/ns1/a', '/registry/pods/ns1/b'],
        );
        assert.deepEqual((await s.list('/registry/podsx/')).items.map((kv) => kv.key), ['/registry/podsx/ns1/a']);
        assert.deepEqual((await s.list('/registry/nothing/')).items, []);
        assert.deepEqual(
          (await s.list('')).items.map((kv) => kv.key),
          [...keys].sort(),
        );
        assert.deepEqual((await s.list('/registry/')).items.map((kv) => kv.key), [...keys].sort());
      });

      test('list returns full kvs and skips deleted keys', async (s) => {
        const a = await s.create('/p/a', '1');
        const b = await s.create('/p/b', '1');
        const b2 = await s.update('/p/b', '2', b.modRevision);
        await s.create('/p/c', '1');
        await s.delete('/p/c');
        const res = await s.list('/p/');
        assert.deepEqual(res.items, [a, b2]);
      });

      test('count counts live keys under the prefix only', async (s) => {
        for (const k of keys) await s.create(k, 'x');
        assert.equal(await s.count('/registry/pods/'), 3);
        assert.equal(await s.count('/registry/pods/ns1/'), 2);
        assert.equal(await s.count('/registry/'), keys.length);
        assert.equal(await s.count(''), keys.length);
        assert.equal(await s.count('/none/'), 0);
        await s.delete('/registry/pods/ns1/a');
        const kv = (await s.get('/registry/pods/ns2/a'))!;
        await s.update('/registry/pods/ns2/a', 'y', kv.modRevision);
        assert.equal(await s.count('/registry/pods/'), 2);
      });

      test('pagination with limit, startAfter and more', async (s) => {
        const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((n) => `/registry/cm/ns/${n}`);
        for (const k of names) await s.create(k, k);
        await s.create('/registry/cmx/ns/a', 'other');

        const seen: string[] = [];
        let startAfter: string | undefined;
        let revision = 0;
        const mores: boolean[] = [];
        for (let page = 0; page < 10; page++) {
          const res = await s.list('/registry/cm/', { limit: 3, startAfter, revision });
          if (page === 0) revision = res.revision;
          else assert.equal(res.revision, revision);
          seen.push(...res.items.map((kv) => kv.key));
          mores.push(res.more);
          if (!res.more) break;
          startAfter = res.items[res.items.length - 1]!.key;
          // Writes between pages must not show up in a list pinned to the first page's revision.
          if (page === 0) {
            await s.create('/registry/cm/ns/dd', 'new');
            await s.delete('/registry/cm/ns/f');
          }
        }
        assert.deepEqual(seen, names);
        assert.deepEqual(mores, [true, true, false]);

        // Exactly `limit` items left: more is false.
        const six = await s.list('/registry/cm/', { limit: 3, startAfter: '/registry/cm/ns/c' });
        assert.deepEqual(six.items.map((kv) => kv.key), ['/registry/cm/ns/d', '/registry/cm/ns/dd', '/registry/cm/ns/e']);
        assert.equal(six.more, true);
        const last = await s.list('/registry/cm/', { limit: 2, startAfter: '/registry/cm/ns/e' });
        assert.deepEqual(last.items.map((kv) => kv.key), ['/registry/cm/ns/g']);
        assert.equal(last.more, false);
        const exact = await s.list('/registry/cm/', { limit: 1, startAfter: '/registry/cm/ns/e' });
        assert.deepEqual(exact.items.map((kv) => kv.key), ['/registry/cm/ns/g']);
        assert.equal(exact.more, false);

        // startAfter a key that does not exist, and one sorting before the prefix.
        const mid = await s.list('/registry/cm/', { startAfter: '/registry/cm/ns/bb' });
        assert.equal(mid.items[0]!.key, '/registry/cm/ns/c');
        const before = await s.list('/registry/cm/', { limit: 1, startAfter: '/registry/a' });
        assert.equal(before.items[0]!.key, '/registry/cm/ns/a');
        assert.equal(before.more, true);
        const after = await s.list('/registry/cm/', { startAfter: '/registry/cm/ns/z' });
        assert.deepEqual(after.items, []);
        assert.equal(after.more, false);
        // limit 0 = all
        assert.equal((await s.list('/registry/cm/', { limit: 0 })).items.length, 7);
      });
    });

    describe('reads at a revision', () => {
      test('get and list read the state as of a past revision', async (s) => {
        const a1 = await s.create('/r/a', 'a1');
        const a2 = await s.update('/r/a', 'a2', a1.modRevision);
        const b1 = await s.create('/r/b', 'b1');
        const aDel = await s.delete('/r/a');
        const c1 = await s.create('/r/c', 'c1');

        assert.deepEqual(await s.get('/r/a', a1.modRevision), a1);
        assert.deepEqual(await s.get('/r/a', a2.modRevision), a2);
        assert.deepEqual(await s.get('/r/a', b1.modRevision), a2);
        assert.equal(await s.get('/r/a', aDel.modRevision), undefined);
        assert.equal(await s.get('/r/b', a2.modRevision), undefined);
        assert.deepEqual(await s.get('/r/b', c1.modRevision), b1);

        const at2 = await s.list('/r/', { revision: a2.modRevision });
        assert.equal(at2.revision, a2.modRevision);
        assert.deepEqual(at2.items, [a2]);
        assert.deepEqual((await s.list('/r/', { revision: b1.modRevision })).items, [a2, b1]);
        assert.deepEqual((await s.list('/r/', { revision: aDel.modRevision })).items, [b1]);
        assert.deepEqual((await s.list('/r/', { revision: c1.modRevision })).items, [b1, c1]);
        const paged = await s.list('/r/', { revision: b1.modRevision, limit: 1 });
        assert.deepEqual(paged.items, [a2]);
        assert.equal(paged.more, true);
        assert.deepEqual((await s.list('/r/')).items, [b1, c1]);
      });

      test('a future revision throws FutureRevisionError', async (s) => {
        await s.create('/k', 'v');
        const cur = await s.currentRevision();
        await assert.rejects(s.get('/k', cur + 1), (err: unknown) => {
          assert.ok(err instanceof FutureRevisionError);
          assert.equal(err.requested, cur + 1);
          assert.equal(err.current, cur);
          return true;
        });
        await assert.rejects(s.list('/', { revision: cur + 100 }), FutureRevisionError);
        // The current revision itself is fine.
        assert.equal((await s.get('/k', cur))?.value, 'v');
        assert.equal((await s.list('/', { revision: cur })).items.length, 1);
      });
    });

    describe('watch', () => {
      test('replays history after fromRevision, then live events, in order and exactly once', async (s) => {
        await s.create('/w/before', '0');
        const from = await s.currentRevision();
        const expected: number[] = [];
        for (let i = 0; i < 20; i++) expected.push((await s.create(`/w/hist-${i}`, `${i}`)).modRevision);

        const c = collect(s, '/w/', from);
        // Live writes race with the catch-up: issue them without waiting for the watch to settle.
        const live = (async () => {
          for (let i = 0; i < 20; i++) {
            expected.push((await s.create(`/w/live-${i}`, `${i}`)).modRevision);
            if (i % 3 === 0) await yieldToLoop();
          }
        })();
        await live;
        await waitFor(() => c.events.length >= expected.length || c.errors.length > 0, 'all events');
        // A sentinel: once it arrives, anything duplicated before it would have arrived too.
        const sentinel = await s.create('/w/sentinel', 's');
        await waitFor(() => c.events.some((e) => e.revision === sentinel.modRevision), 'sentinel');
        c.watch.stop();
        assert.deepEqual(c.errors, []);
        assert.deepEqual(c.events.map((e) => e.revision), [...expected, sentinel.modRevision]);
        for (const e of c.events) {
          assert.equal(e.type, 'create');
          assert.equal(e.revision, e.kv.modRevision);
          assert.equal(e.prevKv, undefined);
        }
        assert.equal(c.events[0]!.kv.key, '/w/hist-0');
        assert.equal(c.events[20]!.kv.key, '/w/live-0');
      });

      test('long catch-up while writes continue', async (s) => {
        const from = await s.currentRevision();
        const expected: number[] = [];
        for (let i = 0; i < 1500; i++) expected.push((await s.create(`/w/h${i}`, 'x')).modRevision);
        const c = collect(s, '/w/', from);
        for (let i = 0; i < 300; i++) {
          expected.push((await s.create(`/w/l${i}`, 'y')).modRevision);
          if (i % 10 === 0) await yieldToLoop();
        }
        const sentinel = await s.create('/w/sentinel', 's');
        expected.push(sentinel.modRevision);
        await waitFor(() => c.events.some((e) => e.revision === sentinel.modRevision) || c.errors.length > 0, 'sentinel');
        c.watch.stop();
        assert.deepEqual(c.errors, []);
        assert.deepEqual(c.events.map((e) => e.revision), expected);
      });

      test('watch from the current revision delivers only new events', async (s) => {
        await s.create('/w/a', '1');
        const c = collect(s, '/w/', await s.currentRevision());
        const b = await s.create('/w/b', '1');
        await waitFor(() => c.events.length >= 1, 'event');
        const sentinel = await s.create('/w/z', '1');
        await waitFor(() => c.events.length >= 2, 'sentinel');
        c.watch.stop();
        assert.deepEqual(c.events.map((e) => e.revision), [b.modRevision, sentinel.modRevision]);
      });

      test('filters by prefix', async (s) => {
        const from = await s.currentRevision();
        const c = collect(s, '/registry/pods/', from);
        await s.create('/registry/pods/ns/a', '1');
        await s.create('/registry/podsx/ns/a', '1');
        await s.create('/registry/pods', '1');
        await s.create('/registry/services/ns/a', '1');
        const b = await s.create('/registry/pods/ns/b', '1');
        await s.delete('/registry/podsx/ns/a');
        const sentinel = await s.create('/registry/pods/zz/sentinel', '1');
        await waitFor(() => c.events.some((e) => e.revision === sentinel.modRevision), 'sentinel');
        c.watch.stop();
        assert.deepEqual(
          c.events.map((e) => e.kv.key),
          ['/registry/pods/ns/a', '/registry/pods/ns/b', '/registry/pods/zz/sentinel'],
        );
        assert.equal(c.events[1]!.revision, b.modRevision);

        // The same filtering applies to replayed history.
        const h = collect(s, '/registry/pods/', from);
        await waitFor(() => h.events.length >= 3, 'replay');
        const s2 = await s.create('/registry/pods/zz/sentinel2', '1');
        await waitFor(() => h.events.some((e) => e.revision === s2.modRevision), 'sentinel2');
        h.watch.stop();
        assert.deepEqual(
          h.events.map((e) => e.kv.key),
          ['/registry/pods/ns/a', '/registry/pods/ns/b', '/registry/pods/zz/sentinel', '/registry/pods/zz/sentinel2'],
        );
      });

      test('events carry prevKv on update and delete (replayed and live)', async (s) => {
        const from = await s.currentRevision();
        const liveWatch = collect(s, '/e/', from);
        const created = await s.create('/e/k', 'v1');
        const updated = await s.update('/e/k', 'v2', created.modRevision);
        const deleted = await s.delete('/e/k');
        const check = (events: StorageEvent[]) => {
          assert.deepEqual(events.map((e) => e.type), ['create', 'update', 'delete']);
          const [c, u, d] = events as [StorageEvent, StorageEvent, StorageEvent];
          assert.deepEqual(c.kv, created);
          assert.equal(c.prevKv, undefined);
          assert.equal(c.revision, created.modRevision);
          assert.deepEqual(u.kv, updated);
          assert.deepEqual(u.prevKv, created);
          assert.equal(u.revision, updated.modRevision);
          assert.deepEqual(d.kv, deleted);
          assert.equal(d.kv.value, 'v2');
          assert.equal(d.kv.modRevision, d.revision);
          assert.deepEqual(d.prevKv, updated);
        };
        await waitFor(() => liveWatch.events.length >= 3, 'live events');
        liveWatch.watch.stop();
        check(liveWatch.events);
        const replay = collect(s, '/e/', from);
        await waitFor(() => replay.events.length >= 3, 'replayed events');
        replay.watch.stop();
        check(replay.events);
      });

      test('stop ends delivery', async (s) => {
        const from = await s.currentRevision();
        const stopped = collect(s, '/s/', from);
        const other = collect(s, '/s/', from);
        await s.create('/s/a', '1');
        await waitFor(() => stopped.events.length === 1 && other.events.length === 1, 'first event');
        stopped.watch.stop();
        await s.create('/s/b', '1');
        // Stop also before any catch-up happened.
        const early = collect(s, '/s/', from);
        early.watch.stop();
        await s.create('/s/c', '1');
        await waitFor(() => other.events.length === 3, 'events on the other watch');
        other.watch.stop();
        await yieldToLoop();
        assert.equal(stopped.events.length, 1);
        assert.equal(early.events.length, 0);
        assert.deepEqual([...stopped.errors, ...early.errors, ...other.errors], []);
      });

      test('a watch that writes from its callback sees its own writes in order', async (s) => {
        const seen: number[] = [];
        const errors: Error[] = [];
        let n = 0;
        const w = s.watch(
          '/cb/',
          await s.currentRevision(),
          (ev) => {
            seen.push(ev.revision);
            if (n < 5) {
              n++;
              void s.create(`/cb/${n}`, 'x');
            }
          },
          (err) => errors.push(err),
        );
        await s.create('/cb/0', 'x');
        await waitFor(() => seen.length >= 6 || errors.length > 0, 'chained events');
        w.stop();
        assert.deepEqual(errors, []);
        assert.equal(seen.length, 6);
        assertStrictlyIncreasing(seen, 'chained events');
      });
    });

    describe('compaction', () => {
      test('older revisions fail with CompactedError, latest values stay readable', async (s) => {
        const a1 = await s.create('/c/a', 'a1');
        const b1 = await s.create('/c/b', 'b1');
        const a2 = await s.update('/c/a', 'a2', a1.modRevision);
        const x1 = await s.create('/c/x', 'x1');
        const xDel = await s.delete('/c/x');
        const a3 = await s.update('/c/a', 'a3', a2.modRevision);
        const mid = a3.modRevision;
        const b2 = await s.update('/c/b', 'b2', b1.modRevision);
        const d1 = await s.create('/c/d', 'd1');
        assert.equal(await s.compactedRevision(), 0);
        void x1;
        void xDel;

        await s.compact(mid);
        assert.equal(await s.compactedRevision(), mid);

        await assert.rejects(s.get('/c/a', mid - 1), (err: unknown) => {
          assert.ok(err instanceof CompactedError);
          assert.equal(err.requested, mid - 1);
          assert.equal(err.compacted, mid);
          return true;
        });
        await assert.rejects(s.list('/c/', { revision: a1.modRevision }), CompactedError);
        const w = collect(s, '/c/', mid - 1);
        await waitFor(() => w.errors.length > 0, 'watch error');
        assert.ok(w.errors[0] instanceof CompactedError);
        assert.equal(w.errors.length, 1);
        assert.deepEqual(w.events, []);

        // Latest state is intact.
        assert.deepEqual(await s.get('/c/a'), a3);
        assert.deepEqual(await s.get('/c/b'), b2);
        assert.equal(await s.get('/c/x'), undefined);
        assert.deepEqual((await s.list('/c/')).items, [a3, b2, d1]);
        assert.equal(await s.count('/c/'), 3);

        // The compacted revision itself is still readable.
        assert.deepEqual((await s.list('/c/', { revision: mid })).items, [a3, b1]);
        assert.deepEqual(await s.get('/c/b', mid), b1);

        // Watching from the compacted revision replays what came after it, with prevKv.
        const ok = collect(s, '/c/', mid);
        await waitFor(() => ok.events.length >= 2 || ok.errors.length > 0, 'replay after compaction');
        ok.watch.stop();
        assert.deepEqual(ok.errors, []);
        assert.deepEqual(ok.events.map((e) => e.revision), [b2.modRevision, d1.modRevision]);
        assert.deepEqual(ok.events[0]!.prevKv, b1);

        // Compacting to an older revision is a no-op; writes continue with higher revisions.
        await s.compact(a1.modRevision);
        assert.equal(await s.compactedRevision(), mid);
        const a4 = await s.update('/c/a', 'a4', a3.modRevision);
        assert.ok(a4.modRevision > d1.modRevision);
        assert.equal(a4.createRevision, a1.createRevision);
      });

      test('compaction of deleted and re-created keys', async (s) => {
        const k1 = await s.create('/c/k', '1');
        await s.delete('/c/k');
        const k2 = await s.create('/c/k', '2');
        const gone = await s.create('/c/gone', 'g');
        const goneDel = await s.delete('/c/gone');
        await s.compact(goneDel.modRevision);
        assert.deepEqual(await s.get('/c/k'), k2);
        assert.ok(k2.createRevision > k1.createRevision);
        assert.equal(await s.get('/c/gone'), undefined);
        assert.equal(await s.get('/c/gone', goneDel.modRevision), undefined);
        assert.deepEqual((await s.list('/c/')).items, [k2]);
        await assert.rejects(s.get('/c/gone', gone.modRevision), CompactedError);
        const again = await s.create('/c/gone', 'back');
        assert.ok(again.modRevision > goneDel.modRevision);
        // Compact everything: latest values survive, revisions continue.
        const cur = await s.currentRevision();
        await s.compact(cur);
        assert.deepEqual((await s.list('/c/')).items, [again, k2]);
        assert.equal(await s.currentRevision(), cur);
        assert.ok((await s.create('/c/new', 'n')).modRevision > cur);
      });

      test('a watch that is catching up when compaction passes it fails with CompactedError', async (s) => {
        const from = await s.currentRevision();
        for (let i = 0; i < 3000; i++) await s.create(`/cw/${i % 50}-${i}`, 'x');
        const errors: Error[] = [];
        let events = 0;
        const w = s.watch('/cw/', from, () => events++, (err) => errors.push(err));
        await s.compact(await s.currentRevision());
        await waitFor(() => errors.length > 0 || events >= 3000, 'watch outcome');
        w.stop();
        // Either the watch had already replayed everything, or it must report the compaction;
        // it must never silently skip events.
        if (errors.length > 0) assert.ok(errors[0] instanceof CompactedError);
        else assert.equal(events, 3000);
      });
    });

    describe('concurrency', () => {
      test('parallel CAS increments with retry lose no updates', async (s) => {
        const key = '/counter';
        await s.create(key, '0');
        const from = await s.currentRevision();
        const c = collect(s, key, from);
        const workers = 10;
        const perWorker = 20;
        let conflicts = 0;
        const worker = async () => {
          for (let i = 0; i < perWorker; i++) {
            for (;;) {
              const cur = (await s.get(key))!;
              await yieldToLoop(); // let other workers interleave between read and write
              try {
                await s.update(key, String(Number(cur.value) + 1), cur.modRevision);
                break;
              } catch (err) {
                if (!(err instanceof ConflictError)) throw err;
                conflicts++;
              }
            }
          }
        };
        await Promise.all(Array.from({ length: workers }, worker));
        const final = (await s.get(key))!;
        assert.equal(final.value, String(workers * perWorker));
        await waitFor(() => c.events.length >= workers * perWorker, 'update events');
        c.watch.stop();
        const values = c.events.map((e) => Number(e.kv.value));
        assert.deepEqual(values, Array.from({ length: workers * perWorker }, (_, i) => i + 1));
        for (const e of c.events) assert.equal(Number(e.prevKv!.value) + 1, Number(e.kv.value));
        // Not asserted (scheduling dependent), but with the yield above conflicts do happen.
        void conflicts;
      });

      test('parallel creates of the same key: exactly one wins', async (s) => {
        const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => s.create('/one', `${i}`)));
        const ok = results.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<KeyValue>[];
        assert.equal(ok.length, 1);
        for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof KeyExistsError);
        assert.deepEqual(await s.get('/one'), ok[0]!.value);
      });
    });

    describe('close', () => {
      test('close ends watches with an error and later calls reject', async (s) => {
        const c = collect(s, '/', await s.currentRevision());
        await s.create('/a', '1');
        await waitFor(() => c.events.length === 1, 'event');
        await s.close();
        await waitFor(() => c.errors.length > 0, 'watch error after close');
        assert.ok(c.errors[0] instanceof StorageError);
        assert.equal(c.errors.length, 1);
        await assert.rejects(s.get('/a'), StorageError);
        await assert.rejects(s.create('/b', '1'), StorageError);
        await s.close(); // idempotent
      });
    });
  });
}
