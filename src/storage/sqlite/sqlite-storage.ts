/**
 * SQLite implementation of the storage contract (better-sqlite3).
 *
 * Layout: a log-structured table `kv`. Every write (create, update, delete) appends one row and
 * the row id IS the revision; `INTEGER PRIMARY KEY AUTOINCREMENT` makes SQLite remember the
 * highest id ever handed out (in sqlite_sequence), so revisions are never reused, not even after
 * compaction removed the newest rows or the process restarted.
 *
 *   id               revision of this write
 *   name             the key
 *   created          1 when this write created the key
 *   deleted          1 when this write deleted the key (a tombstone; `value` keeps the last value)
 *   create_revision  revision that created the key
 *   prev_revision    id of the row that was the key's latest row before this write (0 if none)
 *   value            the value
 *
 * The state of a key at revision R is its row with the highest id <= R (absent if that row is a
 * tombstone). A small side table `meta` holds the compaction floor durably.
 *
 * The API server is the only writer and owns the only connection, so writes are synchronous
 * transactions on that connection and watchers are notified in-process right after the commit.
 * Writes requested in the same event-loop turn share one commit (group commit, see
 * SqliteStorageOptions.groupCommit).
 *
 * Durability: journal_mode=WAL with synchronous=NORMAL. A commit returns after its frames were
 * written to the WAL file with write(2), i.e. they are in the kernel's page cache; a SIGKILL of
 * this process cannot lose them (the kernel still writes them out), so every resolved write
 * survives a process crash. NORMAL skips the fsync per commit, which is what keeps writes fast
 * (thousands per second); the trade-off is that an OS crash or power loss may roll back the last
 * few commits, but never corrupts the database. Pass `synchronous: 'FULL'` for fsync-per-commit.
 */
import Database from 'better-sqlite3';
import {
  CompactedError,
  ConflictError,
  FutureRevisionError,
  KeyExistsError,
  NotFoundError,
  StorageError,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Storage,
  type StorageEvent,
  type Watch,
} from '../interface.js';
import { QueuedWatcher, cloneKv } from '../watcher.js';

export interface SqliteStorageOptions {
  /**
   * Period of automatic compaction in milliseconds. Default 300000 (5 minutes), the same cadence
   * kube-apiserver uses to compact etcd. 0 disables automatic compaction.
   */
  compactIntervalMs?: number;
  /**
   * Automatic compaction keeps this many most recent revisions readable/watchable.
   * Default 10000 (about an hour of history on a busy small cluster; plenty for watch resumes).
   */
  retainRevisions?: number;
  /** SQLite `synchronous` setting. Default 'NORMAL' (survives process crashes; see file comment). */
  synchronous?: 'NORMAL' | 'FULL';
  /**
   * Compaction deletes in transactions covering this many revisions each, yielding to the event
   * loop in between so a large compaction does not stall requests. Default 10000.
   */
  compactBatchRevisions?: number;
  /**
   * Group commit (default true): writes requested in the same turn of the event loop are
   * committed together in one transaction (each in a savepoint of its own, so one write's
   * conflict does not affect the others), and each resolves only after that commit. Concurrent
   * API requests then share the cost of a commit; a lone write waits one event-loop turn.
   */
  groupCommit?: boolean;
}

export const DEFAULT_COMPACT_INTERVAL_MS = 5 * 60 * 1000;
export const DEFAULT_RETAIN_REVISIONS = 10_000;

/** Rows read per step of a watch catch-up, and revisions per compaction transaction. */
const CATCHUP_PAGE = 1000;
const DEFAULT_COMPACT_BATCH = 10_000;

interface Row {
  id: number;
  name: string;
  created: number;
  deleted: number;
  create_revision: number;
  prev_revision: number;
  value: string;
}

/** Statistics of the database file (for tests and diagnostics). */
export interface SqliteStats {
  pageCount: number;
  freelistCount: number;
  pageSize: number;
  rows: number;
}

const COLS = 'id, name, created, deleted, create_revision, prev_revision, value';

/**
 * The exclusive upper bound for keys starting with prefix, as a byte string: the UTF-8 encoding
 * of prefix with its last byte incremented (UTF-8 never contains 0xFF, so this cannot overflow).
 * It is bound as a BLOB and CAST to TEXT so SQLite compares it bytewise against `name` (BINARY
 * collation is memcmp on UTF-8), which is exactly "starts with prefix". For the empty prefix the
 * bound is 0xFF, above every valid UTF-8 string.
 */
function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix, 'utf8');
  if (b.length === 0) return Buffer.from([0xff]);
  b[b.length - 1] = b[b.length - 1]! + 1;
  return b;
}

function rowKv(r: Row): KeyValue {
  return { key: r.name, value: r.value, createRevision: r.create_revision, modRevision: r.id };
}



export class SqliteStorage implements Storage {
  private readonly db: Database.Database;
  private rev: number;
  private compactRev: number;
  private closed = false;
  private readonly watchers = new Set<QueuedWatcher>();
  private timer: NodeJS.Timeout | undefined;
  /** The running compaction, if any (compactions never overlap). */
  private compacting: Promise<void> | undefined;
  /** Revisions up to this one have had their superseded rows deleted (<= compactRev). */
  private compactDone: number;
  private readonly retainRevisions: number;
  private readonly compactBatch: number;

  private readonly stLatest: Database.Statement<[string], Row>;
  private readonly stAt: Database.Statement<[string, number], Row>;
  private readonly stById: Database.Statement<[number], Row>;
  private readonly stInsert: Database.Statement<[number, string, number, number, number, number, string]>;
  private readonly stListFrom: Database.Statement<[string, Buffer, number, number, number], Row>;
  private readonly stListAfter: Database.Statement<[string, Buffer, number, number, number], Row>;
  private readonly stCount: Database.Statement<[string, Buffer], { n: number }>;
  private readonly stCatchup: Database.Statement<[number, string, Buffer, number], Row>;
  private readonly stSetMeta: Database.Statement<[string, number]>;
  private readonly stDelPrev: Database.Statement<[number, number]>;
  private readonly stDelTombstones: Database.Statement<[number, number]>;

  private readonly txCreate: (key: string, value: string) => StorageEvent;
  private readonly txUpdate: (key: string, value: string, expected: number) => StorageEvent;
  private readonly txDelete: (key: string, expected: number | undefined) => StorageEvent;
  private readonly txCompactChunk: (from: number, to: number) => void;
  private readonly txBatch: (run: () => void) => void;
  private readonly groupCommit: boolean;
  /** Writes waiting for the next group commit. */
  private pending: { op: () => StorageEvent; resolve: (kv: KeyValue) => void; reject: (err: unknown) => void }[] = [];
  private flushScheduled = false;

  /** Opens (creating if needed) the database at path. Same as the constructor. */
  static open(path: string, opts: SqliteStorageOptions = {}): SqliteStorage {
    return new SqliteStorage(path, opts);
  }

  constructor(path: string, opts: SqliteStorageOptions = {}) {
    const db = new Database(path);
    this.db = db;
    try {
      // auto_vacuum only takes effect before the first table is created (or after a VACUUM);
      // INCREMENTAL lets us return the pages freed by compaction to the OS.
      db.pragma('auto_vacuum = INCREMENTAL');
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${opts.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
      db.pragma('busy_timeout = 5000');
      // Truncate the WAL back to this size after checkpoints so it cannot grow without bound.
      db.pragma('journal_size_limit = 67108864');
      // Reads are served by the API server's watch cache; SQLite's own cache only needs the hot B-tree pages.
      db.pragma('cache_size = -2048');
      db.exec(`
        CREATE TABLE IF NOT EXISTS kv (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          name TEXT NOT NULL,
          created INTEGER NOT NULL,
          deleted INTEGER NOT NULL,
          create_revision INTEGER NOT NULL,
          prev_revision INTEGER NOT NULL,
          value TEXT NOT NULL
        );
        -- (name, id) serves "latest row of a key at or below a revision"; carrying \`deleted\` makes
        -- it covering for count and for the filters of list, so only returned rows are fetched.
        CREATE INDEX IF NOT EXISTS kv_name_id ON kv (name, id, deleted);
        CREATE TABLE IF NOT EXISTS meta (
          name TEXT PRIMARY KEY,
          value INTEGER NOT NULL
        ) WITHOUT ROWID;
      `);
      if (db.pragma('auto_vacuum', { simple: true }) !== 2) {
        // A database created without incremental auto-vacuum: convert it once.
        db.pragma('auto_vacuum = INCREMENTAL');
        db.exec('VACUUM');
      }
    } catch (err) {
      db.close();
      throw err;
    }

    this.stLatest = db.prepare(`SELECT ${COLS} FROM kv WHERE name = ? ORDER BY id DESC LIMIT 1`);
    this.stAt = db.prepare(`SELECT ${COLS} FROM kv WHERE name = ? AND id <= ? ORDER BY id DESC LIMIT 1`);
    this.stById = db.prepare(`SELECT ${COLS} FROM kv WHERE id = ?`);
    this.stInsert = db.prepare(
      'INSERT INTO kv (id, name, created, deleted, create_revision, prev_revision, value) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    // Latest row per key with id <= rev: walk the (name, id) index in key order and keep a row when
    // no newer row of the same key exists at or below rev (one index probe per row). Streaming in
    // index order lets LIMIT stop early.
    const listSql = (lower: string) => `
      SELECT ${COLS} FROM kv
      WHERE ${lower} AND name < CAST(? AS TEXT) AND id <= ? AND deleted = 0
        AND NOT EXISTS (SELECT 1 FROM kv AS n WHERE n.name = kv.name AND n.id > kv.id AND n.id <= ?)
      ORDER BY name LIMIT ?`;
    this.stListFrom = db.prepare(listSql('name >= ?'));
    this.stListAfter = db.prepare(listSql('name > ?'));
    this.stCount = db.prepare(`
      SELECT COUNT(*) AS n FROM kv
      WHERE name >= ? AND name < CAST(? AS TEXT) AND deleted = 0
        AND NOT EXISTS (SELECT 1 FROM kv AS n WHERE n.name = kv.name AND n.id > kv.id)`);
    // `+name` keeps SQLite on the primary key (id order) instead of the name index.
    this.stCatchup = db.prepare(
      `SELECT ${COLS} FROM kv WHERE id > ? AND +name >= ? AND +name < CAST(? AS TEXT) ORDER BY id LIMIT ?`,
    );
    this.stSetMeta = db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value');
    // Compaction of the revisions (from, to]: every row written there superseded the row its
    // prev_revision points at, so that row is no longer needed at any revision >= to; tombstones
    // written there are not needed either (the key is absent at those revisions anyway).
    this.stDelPrev = db.prepare(
      'DELETE FROM kv WHERE id IN (SELECT prev_revision FROM kv WHERE id > ? AND id <= ? AND prev_revision > 0)',
    );
    this.stDelTombstones = db.prepare('DELETE FROM kv WHERE id > ? AND id <= ? AND deleted = 1');

    const seq = db.prepare<[], { seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'kv'").get();
    const max = db.prepare<[], { m: number | null }>('SELECT MAX(id) AS m FROM kv').get();
    this.rev = Math.max(seq?.seq ?? 0, max?.m ?? 0);
    const getMeta = db.prepare<[string], { value: number }>('SELECT value FROM meta WHERE name = ?');
    this.compactRev = getMeta.get('compact_rev')?.value ?? 0;
    this.compactDone = Math.min(getMeta.get('compact_done')?.value ?? 0, this.compactRev);

    this.txCreate = db.transaction((key: string, value: string): StorageEvent => {
      const latest = this.stLatest.get(key);
      if (latest && !latest.deleted) throw new KeyExistsError(key);
      const rev = this.rev + 1;
      this.stInsert.run(rev, key, 1, 0, rev, latest?.id ?? 0, value);
      return { type: 'create', kv: { key, value, createRevision: rev, modRevision: rev }, revision: rev };
    });
    this.txUpdate = db.transaction((key: string, value: string, expected: number): StorageEvent => {
      const latest = this.stLatest.get(key);
      if (!latest || latest.deleted) throw new NotFoundError(key);
      if (latest.id !== expected) throw new ConflictError(key, rowKv(latest));
      const rev = this.rev + 1;
      this.stInsert.run(rev, key, 0, 0, latest.create_revision, latest.id, value);
      return {
        type: 'update',
        kv: { key, value, createRevision: latest.create_revision, modRevision: rev },
        prevKv: rowKv(latest),
        revision: rev,
      };
    });
    this.txDelete = db.transaction((key: string, expected: number | undefined): StorageEvent => {
      const latest = this.stLatest.get(key);
      if (!latest || latest.deleted) throw new NotFoundError(key);
      if (expected !== undefined && latest.id !== expected) throw new ConflictError(key, rowKv(latest));
      const rev = this.rev + 1;
      this.stInsert.run(rev, key, 0, 1, latest.create_revision, latest.id, latest.value);
      return {
        type: 'delete',
        kv: { key, value: latest.value, createRevision: latest.create_revision, modRevision: rev },
        prevKv: rowKv(latest),
        revision: rev,
      };
    });
    this.txCompactChunk = db.transaction((from: number, to: number) => {
      this.stDelPrev.run(from, to);
      this.stDelTombstones.run(from, to);
      this.stSetMeta.run('compact_done', to);
    });

    this.txBatch = db.transaction((run: () => void) => run());
    this.groupCommit = opts.groupCommit !== false;

    this.retainRevisions = Math.max(0, opts.retainRevisions ?? DEFAULT_RETAIN_REVISIONS);
    this.compactBatch = Math.max(1, opts.compactBatchRevisions ?? DEFAULT_COMPACT_BATCH);
    const interval = opts.compactIntervalMs ?? DEFAULT_COMPACT_INTERVAL_MS;
    if (interval > 0) {
      this.timer = setInterval(() => this.autoCompact(), interval);
      this.timer.unref();
    }
    // A compaction interrupted by a crash: finish deleting what the recorded floor allows.
    if (this.compactDone < this.compactRev) this.startCompaction().catch(() => undefined);
  }

  async currentRevision(): Promise<number> {
    this.checkOpen();
    return this.rev;
  }

  async compactedRevision(): Promise<number> {
    this.checkOpen();
    return this.compactRev;
  }

  async get(key: string, revision?: number): Promise<KeyValue | undefined> {
    this.checkOpen();
    const rev = this.resolveRevision(revision);
    const row = rev === this.rev ? this.stLatest.get(key) : this.stAt.get(key, rev);
    return row && !row.deleted ? rowKv(row) : undefined;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.checkOpen();
    const rev = this.resolveRevision(opts.revision);
    const limit = opts.limit && opts.limit > 0 ? opts.limit : -1;
    const hi = prefixEnd(prefix);
    // Fetch one extra row to learn whether more exist.
    const sqlLimit = limit > 0 ? limit + 1 : -1;
    const rows =
      opts.startAfter !== undefined && opts.startAfter >= prefix
        ? this.stListAfter.all(opts.startAfter, hi, rev, rev, sqlLimit)
        : this.stListFrom.all(prefix, hi, rev, rev, sqlLimit);
    const more = limit > 0 && rows.length > limit;
    if (more) rows.length = limit;
    return { items: rows.map(rowKv), revision: rev, more };
  }

  async count(prefix: string): Promise<number> {
    this.checkOpen();
    return this.stCount.get(prefix, prefixEnd(prefix))!.n;
  }

  create(key: string, value: string): Promise<KeyValue> {
    return this.write(() => this.txCreate(key, value));
  }

  update(key: string, value: string, expectedModRevision: number): Promise<KeyValue> {
    return this.write(() => this.txUpdate(key, value, expectedModRevision));
  }

  delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    return this.write(() => this.txDelete(key, expectedModRevision));
  }

  watch(
    prefix: string,
    fromRevision: number,
    onEvent: (ev: StorageEvent) => void,
    onError: (err: Error) => void,
  ): Watch {
    const w = new QueuedWatcher(prefix, fromRevision, onEvent, onError, (x) => this.watchers.delete(x));
    // Live events are ignored until the catch-up from the table has handed over (catchUp).
    w.live = false;
    if (this.closed) {
      queueMicrotask(() => w.fail(new StorageError('storage is closed')));
      return w;
    }
    this.watchers.add(w);
    void this.catchUp(w);
    return w;
  }

  /** Compacts history up to revision (inclusive); resolves when the rows are gone and the file trimmed. */
  async compact(revision: number): Promise<void> {
    this.checkOpen();
    if (revision > this.rev) throw new FutureRevisionError(revision, this.rev);
    // Serialize compactions; each one continues where the previous one stopped.
    while (this.compacting) await this.compacting.catch(() => undefined);
    this.checkOpen();
    if (revision <= this.compactRev) return;
    // Raise the floor first (durably and in memory): from now on nobody may read below it, so the
    // chunked deletion below cannot be observed half-done. If the process dies midway, open()
    // finishes the job (compact_done < compact_rev).
    this.stSetMeta.run('compact_rev', revision);
    this.compactRev = revision;
    await this.startCompaction();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Writes already requested are committed (or fail) before the database closes.
    if (this.pending.length) this.flushWrites();
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const w of [...this.watchers]) w.fail(new StorageError('storage is closed'));
    this.watchers.clear();
    // runCompaction checks `closed` between chunks, so this settles promptly.
    if (this.compacting) await this.compacting.catch(() => undefined);
    this.db.close();
  }

  /** Page and row counts of the database file. */
  stats(): SqliteStats {
    this.checkOpen();
    return {
      pageCount: this.db.pragma('page_count', { simple: true }) as number,
      freelistCount: this.db.pragma('freelist_count', { simple: true }) as number,
      pageSize: this.db.pragma('page_size', { simple: true }) as number,
      rows: this.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM kv').get()!.n,
    };
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageError('storage is closed');
  }

  private resolveRevision(revision: number | undefined): number {
    if (!revision) return this.rev;
    if (revision > this.rev) throw new FutureRevisionError(revision, this.rev);
    if (revision < this.compactRev) throw new CompactedError(revision, this.compactRev);
    return revision;
  }

  private write(op: () => StorageEvent): Promise<KeyValue> {
    if (this.closed) return Promise.reject(new StorageError('storage is closed'));
    if (!this.groupCommit) {
      try {
        const ev = op();
        // Committed: advance the revision and notify in the same synchronous step.
        this.rev = ev.revision;
        for (const w of this.watchers) w.push(ev);
        return Promise.resolve(cloneKv(ev.kv));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return new Promise<KeyValue>((resolve, reject) => {
      this.pending.push({ op, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flushWrites());
      }
    });
  }

  /**
   * Commits the pending writes in one transaction, in the order they were requested. Each write
   * is its own savepoint (the tx* functions nest), so a write that fails its precondition leaves
   * the others alone; if the commit itself fails, every write of the batch fails and nothing of
   * it is visible. Watchers are notified and callers resolved only after the commit.
   */
  private flushWrites(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    if (this.closed) {
      for (const p of batch) p.reject(new StorageError('storage is closed'));
      return;
    }
    const startRev = this.rev;
    const results: (StorageEvent | { error: unknown })[] = [];
    try {
      this.txBatch(() => {
        for (const p of batch) {
          try {
            const ev = p.op();
            // The next write of the batch builds on this one.
            this.rev = ev.revision;
            results.push(ev);
          } catch (error) {
            results.push({ error });
          }
        }
      });
    } catch (err) {
      this.rev = startRev;
      for (const p of batch) p.reject(err);
      return;
    }
    for (const r of results) if (!('error' in r)) for (const w of this.watchers) w.push(r);
    batch.forEach((p, i) => {
      const r = results[i]!;
      if ('error' in r) p.reject(r.error);
      else p.resolve(cloneKv(r.kv));
    });
  }

  private rowEvent(r: Row): StorageEvent {
    const kv = rowKv(r);
    if (r.created) return { type: 'create', kv, revision: r.id };
    const prev = r.prev_revision > 0 ? this.stById.get(r.prev_revision) : undefined;
    const ev: StorageEvent = { type: r.deleted ? 'delete' : 'update', kv, revision: r.id };
    if (prev) ev.prevKv = rowKv(prev);
    return ev;
  }

  /**
   * Replays rows with id > cursor from the table, a page at a time, yielding to the event loop
   * between pages; once a page comes back short and nothing was written since it was read, the
   * watcher switches to live notifications in that same synchronous step.
   */
  private async catchUp(w: QueuedWatcher): Promise<void> {
    const hi = prefixEnd(w.prefix);
    try {
      // Never call onEvent from inside watch(): the caller does not have the handle yet.
      await Promise.resolve();
      for (;;) {
        if (w.stopped) return;
        if (this.closed) return w.fail(new StorageError('storage is closed'));
        // Compaction may only remove rows at or below its floor; while the cursor is at or above
        // it, every row we still need is intact.
        if (w.cursor < this.compactRev) return w.fail(new CompactedError(w.cursor, this.compactRev));
        const upTo = this.rev;
        const rows = this.stCatchup.all(w.cursor, w.prefix, hi, CATCHUP_PAGE);
        for (const r of rows) {
          if (w.stopped) return;
          w.deliver(this.rowEvent(r));
        }
        if (w.stopped) return;
        if (rows.length < CATCHUP_PAGE) {
          // The query saw every row up to `upTo`. If a callback wrote meanwhile, those rows were
          // committed after the query: read again. Otherwise switch to live right now, in the same
          // synchronous step as this check, so no write can fall in between.
          if (this.rev !== upTo) continue;
          w.cursor = Math.max(w.cursor, upTo);
          w.live = true;
          return;
        }
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } catch (err) {
      w.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Deletes the rows made unnecessary by the floor compactRev, starting at compactDone. */
  private startCompaction(): Promise<void> {
    const p = this.runCompaction().finally(() => {
      if (this.compacting === p) this.compacting = undefined;
    });
    this.compacting = p;
    return p;
  }

  private async runCompaction(): Promise<void> {
    while (this.compactDone < this.compactRev) {
      if (this.closed) return;
      const to = Math.min(this.compactDone + this.compactBatch, this.compactRev);
      this.txCompactChunk(this.compactDone, to);
      this.compactDone = to;
      if (this.compactDone < this.compactRev) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (this.closed) return;
    // Return freed pages to the file system, and let the WAL shrink.
    this.db.exec('PRAGMA incremental_vacuum');
    this.db.pragma('wal_checkpoint(PASSIVE)');
  }

  private autoCompact(): void {
    if (this.closed || this.compacting) return;
    const target = this.rev - this.retainRevisions;
    if (target <= this.compactRev) return;
    this.compact(target).catch(() => {
      // Best effort; the next tick retries. Reads are unaffected by a failed compaction.
    });
  }
}
