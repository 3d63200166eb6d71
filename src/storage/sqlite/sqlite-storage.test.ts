import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { CompactedError, ConflictError, KeyExistsError, NotFoundError, type Storage, type StorageEvent } from '../interface.js';
import { MemoryStorage } from '../memory/memory-storage.js';
import { storageContractSuite, waitFor } from '../testing/suite.js';
import { SqliteStorage } from './sqlite-storage.js';

let root = '';
before(() => {
  root = mkdtempSync(join(tmpdir(), 'keelson-sqlite-test-'));
});
after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

/** A fresh directory under the suite's temp root. */
function freshDir(): string {
  return mkdtempSync(join(root, 't-'));
}

storageContractSuite('sqlite', async () => {
  const dir = freshDir();
  const storage = SqliteStorage.open(join(dir, 'db.sqlite'), { compactIntervalMs: 0 });
  return {
    storage,
    cleanup: async () => {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('sqlite storage', () => {
  it('uses WAL and incremental auto-vacuum', async () => {
    const path = join(freshDir(), 'db.sqlite');
    const s = SqliteStorage.open(path, { compactIntervalMs: 0 });
    await s.create('/k', 'v');
    await s.close();
    const db = new Database(path, { readonly: true });
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.pragma('auto_vacuum', { simple: true }), 2);
    } finally {
      db.close();
    }
  });

  it('group commit: concurrent writes share a commit, fail one by one, and are seen in order', async () => {
    const dir = freshDir();
    const st = SqliteStorage.open(join(dir, 'db.sqlite'), { compactIntervalMs: 0 });
    try {
      const seen: StorageEvent[] = [];
      const w = st.watch('/k/', await st.currentRevision(), (ev) => seen.push(ev), () => undefined);
      await new Promise((r) => setImmediate(r));
      // One turn of the event loop: a create, a duplicate create, an update of the first key
      // building on it, and a stale update.
      const results = await Promise.allSettled([
        st.create('/k/a', '1'), st.create('/k/a', 'dup'), st.create('/k/b', '2'), st.update('/k/a', '3', 1), st.update('/k/b', 'stale', 99),
      ]);
      assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'rejected']);
      assert.ok((results[1] as PromiseRejectedResult).reason instanceof KeyExistsError);
      assert.ok((results[4] as PromiseRejectedResult).reason instanceof ConflictError);
      assert.deepEqual(results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<any>).value.modRevision), [1, 2, 3]);
      assert.equal((await st.get('/k/a'))?.value, '3');
      await waitFor(() => seen.length === 3, 'three events');
      assert.deepEqual(seen.map((e) => [e.type, e.kv.key, e.revision]), [['create', '/k/a', 1], ['create', '/k/b', 2], ['update', '/k/a', 3]]);
      w.stop();
      // Writes requested just before close are committed, not lost.
      const last = st.create('/k/c', '4');
      await st.close();
      assert.equal((await last).modRevision, 4);
      const again = SqliteStorage.open(join(dir, 'db.sqlite'), { compactIntervalMs: 0 });
      assert.equal((await again.get('/k/c'))?.value, '4');
      await again.close();
    } finally {
      await st.close();
    }
  });

  it('reopen keeps data, revisions and the compaction floor; revisions continue from the max', async () => {
    const path = join(freshDir(), 'db.sqlite');
    let s = SqliteStorage.open(path, { compactIntervalMs: 0 });
    const a = await s.create('/p/a', 'a1');
    const a2 = await s.update('/p/a', 'a2', a.modRevision);
    const b = await s.create('/p/b', 'b1');
    await s.compact(a2.modRevision);
    const tmp = await s.create('/p/tmp', 't');
    const tmpDel = await s.delete('/p/tmp');
    const cur = await s.currentRevision();
    assert.equal(cur, tmpDel.modRevision);
    await s.close();

    s = SqliteStorage.open(path, { compactIntervalMs: 0 });
    try {
      assert.equal(await s.currentRevision(), cur);
      assert.equal(await s.compactedRevision(), a2.modRevision);
      assert.deepEqual((await s.list('/p/')).items, [a2, b]);
      assert.equal(await s.get('/p/tmp', tmp.modRevision).then((kv) => kv?.value), 't');
      await assert.rejects(s.get('/p/a', a.modRevision), CompactedError);
      const c = await s.create('/p/c', 'c1');
      assert.equal(c.modRevision, cur + 1);
      // Compact away everything including the newest rows (a tombstone): ids are still never reused.
      const del = await s.delete('/p/c');
      await s.compact(del.modRevision);
    } finally {
      await s.close();
    }
    s = SqliteStorage.open(path, { compactIntervalMs: 0 });
    try {
      const last = await s.currentRevision();
      assert.equal(last, cur + 2);
      assert.equal((await s.create('/p/d', 'd')).modRevision, last + 1);
    } finally {
      await s.close();
    }
  });

  it('compaction keeps the file size bounded over repeated update cycles', async () => {
    const s = SqliteStorage.open(join(freshDir(), 'db.sqlite'), { compactIntervalMs: 0 });
    try {
      const keys = 40;
      const value = (c: number) => JSON.stringify({ cycle: c, data: 'x'.repeat(2048) });
      const revs: number[] = [];
      for (let k = 0; k < keys; k++) revs.push((await s.create(`/f/${k}`, value(0))).modRevision);
      let cycle = 0;
      const runCycles = async (n: number) => {
        for (let i = 0; i < n; i++) {
          cycle++;
          for (let k = 0; k < keys; k++) revs[k] = (await s.update(`/f/${k}`, value(cycle), revs[k]!)).modRevision;
          await s.compact(await s.currentRevision());
        }
      };
      const N = 15;
      await runCycles(N);
      const afterN = s.stats();
      await runCycles(N);
      const after2N = s.stats();
      assert.equal(after2N.rows, keys);
      // Without compaction the file would double (each cycle writes 40 x 2 KB rows); with it the
      // size stays about the size of the live data.
      assert.ok(
        after2N.pageCount <= afterN.pageCount * 1.25 + 8,
        `page_count grew from ${afterN.pageCount} to ${after2N.pageCount}`,
      );
      const liveBytes = keys * 2100;
      assert.ok(
        after2N.pageCount * after2N.pageSize < liveBytes * 4 + 64 * 1024,
        `file is ${after2N.pageCount * after2N.pageSize} bytes for ${liveBytes} bytes of live data`,
      );
      assert.equal((await s.list('/f/')).items.length, keys);
    } finally {
      await s.close();
    }
  });

  it('automatic compaction keeps the last retainRevisions revisions', async () => {
    const s = SqliteStorage.open(join(freshDir(), 'db.sqlite'), { compactIntervalMs: 5, retainRevisions: 10 });
    try {
      let kv = await s.create('/auto/k', '0');
      for (let i = 1; i < 40; i++) kv = await s.update('/auto/k', String(i), kv.modRevision);
      const cur = await s.currentRevision();
      let floor = 0;
      const deadline = Date.now() + 10_000;
      while ((floor = await s.compactedRevision()) < cur - 10) {
        if (Date.now() > deadline) assert.fail(`automatic compaction did not run (floor ${floor}, current ${cur})`);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      assert.equal(floor, cur - 10);
      assert.equal((await s.get('/auto/k', cur - 10))?.value, String(39 - 10));
      await assert.rejects(s.get('/auto/k', cur - 11), CompactedError);
      assert.equal((await s.get('/auto/k'))?.value, '39');
    } finally {
      await s.close();
    }
  });

  it('finishes a compaction interrupted by a crash when reopened', async () => {
    const path = join(freshDir(), 'db.sqlite');
    let s = SqliteStorage.open(path, { compactIntervalMs: 0 });
    let kv = await s.create('/k', '0');
    for (let i = 1; i <= 20; i++) kv = await s.update('/k', String(i), kv.modRevision);
    const cur = await s.currentRevision();
    await s.close();
    // Simulate a crash right after the floor was raised, before any row was deleted.
    const db = new Database(path);
    db.prepare("INSERT INTO meta (name, value) VALUES ('compact_rev', ?)").run(cur);
    db.close();
    s = SqliteStorage.open(path, { compactIntervalMs: 0, compactBatchRevisions: 3 });
    try {
      assert.equal(await s.compactedRevision(), cur);
      await waitFor(() => s.stats().rows === 1, 'resumed compaction');
      assert.deepEqual(await s.get('/k'), kv);
      await assert.rejects(s.get('/k', cur - 1), CompactedError);
    } finally {
      await s.close();
    }
  });

  it('matches the memory storage under random writes and compactions (small compaction batches)', async () => {
    const sql = SqliteStorage.open(join(freshDir(), 'db.sqlite'), { compactIntervalMs: 0, compactBatchRevisions: 7 });
    const mem = new MemoryStorage();
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const apply = async (st: Storage, op: number, key: string, value: string, rev: number) => {
      try {
        if (op === 0) return JSON.stringify(await st.create(key, value));
        if (op === 1) return JSON.stringify(await st.update(key, value, rev));
        return JSON.stringify(await st.delete(key, rev === 0 ? undefined : rev));
      } catch (err) {
        if (err instanceof ConflictError) return `conflict ${JSON.stringify(err.current)}`;
        if (err instanceof KeyExistsError || err instanceof NotFoundError) return err.constructor.name;
        throw err;
      }
    };
    const replay = async (st: Storage, from: number) => {
      const events: StorageEvent[] = [];
      const errors: Error[] = [];
      const sentinelKey = `/zz-sentinel-${from}`;
      const w = st.watch('/', from, (ev) => events.push(ev), (err) => errors.push(err));
      const sentinel = await st.create(sentinelKey, 's');
      await waitFor(() => events.some((e) => e.revision === sentinel.modRevision) || errors.length > 0, 'replay');
      w.stop();
      await st.delete(sentinelKey);
      assert.deepEqual(errors, []);
      return events;
    };
    const compare = async () => {
      const cur = await mem.currentRevision();
      assert.equal(await sql.currentRevision(), cur);
      const floor = await mem.compactedRevision();
      assert.equal(await sql.compactedRevision(), floor);
      for (let r = Math.max(floor, 1); r <= cur; r++) {
        assert.deepEqual(await sql.list('/', { revision: r }), await mem.list('/', { revision: r }), `list at ${r}`);
      }
      assert.equal(await sql.count('/'), await mem.count('/'));
      assert.deepEqual(await replay(sql, floor), await replay(mem, floor));
    };
    let compactions = 0;
    try {
      for (let step = 0; step < 300; step++) {
        const key = `/k${rand(12)}`;
        const latest = await mem.get(key);
        const op = rand(3);
        // Mostly the right revision, sometimes a stale or absent one.
        const rev = rand(5) === 0 ? rand(step + 2) : (latest?.modRevision ?? 0);
        const value = `v${step}`;
        assert.equal(await apply(sql, op, key, value, rev), await apply(mem, op, key, value, rev), `step ${step}`);
        if (rand(40) === 0) {
          const target = (await mem.compactedRevision()) + rand((await mem.currentRevision()) - (await mem.compactedRevision()) + 1);
          await Promise.all([sql.compact(target), mem.compact(target)]);
          compactions++;
          await compare();
        }
      }
      await compare();
      assert.ok(compactions >= 3 && (await mem.compactedRevision()) > 0, `only ${compactions} compactions`);
    } finally {
      await sql.close();
      await mem.close();
    }
  });

  it('every acknowledged write survives SIGKILL', async () => {
    const dir = freshDir();
    const dbPath = join(dir, 'crash.sqlite');
    const modulePath = fileURLToPath(new URL('./sqlite-storage.js', import.meta.url));
    const script = join(dir, 'writer.mjs');
    writeFileSync(
      script,
      `import { SqliteStorage } from ${JSON.stringify(pathToFileURL(modulePath).href)};
const s = SqliteStorage.open(process.argv[2], { compactIntervalMs: 0 });
const value = JSON.stringify({ data: 'x'.repeat(2000) });
for (let i = 0; ; i++) {
  const key = '/crash/' + i;
  await s.create(key, value);
  process.stdout.write(key + '\\n');
  if (i % 8 === 0) await new Promise((resolve) => setImmediate(resolve));
}
`,
    );
    const child = spawn(process.execPath, [script, dbPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let exited = false;
    const exit = new Promise<void>((resolve) => child.on('exit', () => ((exited = true), resolve())));
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const acked = () => out.split('\n').length - 1; // complete lines only
    try {
      await waitFor(() => acked() >= 500 || exited, 'acknowledged writes', 20_000);
      assert.ok(!exited, `writer exited early: ${err}`);
      child.kill('SIGKILL');
      await exit;
    } finally {
      if (!exited) child.kill('SIGKILL');
    }
    assert.equal(child.signalCode, 'SIGKILL');
    const keys = out.split('\n').slice(0, -1);
    assert.ok(keys.length >= 500);

    const s = SqliteStorage.open(dbPath, { compactIntervalMs: 0 });
    try {
      const missing: string[] = [];
      for (const k of keys) if (!(await s.get(k))) missing.push(k);
      assert.deepEqual(missing.slice(0, 10), [], `${missing.length} acknowledged keys lost`);
      assert.ok((await s.currentRevision()) >= keys.length);
      assert.ok((await s.count('/crash/')) >= keys.length);
    } finally {
      await s.close();
    }
  });
});
