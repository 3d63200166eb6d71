/**
 * In-memory implementation of the storage contract, for unit tests.
 *
 * It keeps the full semantics of the SQLite backend: a global revision counter, per-key version
 * history (so reads at a past revision work), an event log for watch catch-up, and compaction
 * (reads and watches below the compacted revision fail with CompactedError). Nothing is durable.
 */
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

/** One write to one key. A tombstone records the value the key had when it was deleted. */
interface Version {
  rev: number;
  deleted: boolean;
  value: string;
  createRevision: number;
}


/** Index of the first element of the sorted array that is >= key (or > key when strict). */
function lowerBound(sorted: readonly string[], key: string, strict: boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid]!;
    if (v < key || (strict && v === key)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The last version with rev <= revision, or undefined. Versions are sorted by rev. */
function versionAt(versions: readonly Version[], revision: number): Version | undefined {
  let lo = 0;
  let hi = versions.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (versions[mid]!.rev <= revision) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? undefined : versions[lo - 1];
}


export class MemoryStorage implements Storage {
  private rev = 0;
  private compactRev = 0;
  /** Per-key history, oldest first. Keys appear here until compaction removes all their versions. */
  private readonly history = new Map<string, Version[]>();
  /** All keys of `history`, sorted. */
  private keys: string[] = [];
  /** Every event with revision > compactRev, in revision order. */
  private log: StorageEvent[] = [];
  private readonly watchers = new Set<QueuedWatcher>();
  private closed = false;

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
    const versions = this.history.get(key);
    if (!versions) return undefined;
    const v = versionAt(versions, rev);
    return v && !v.deleted ? this.toKv(key, v) : undefined;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.checkOpen();
    const rev = this.resolveRevision(opts.revision);
    const limit = opts.limit && opts.limit > 0 ? opts.limit : Infinity;
    const start =
      opts.startAfter !== undefined && opts.startAfter >= prefix
        ? lowerBound(this.keys, opts.startAfter, true)
        : lowerBound(this.keys, prefix, false);
    const items: KeyValue[] = [];
    let more = false;
    for (let i = start; i < this.keys.length; i++) {
      const key = this.keys[i]!;
      if (!key.startsWith(prefix)) break;
      const v = versionAt(this.history.get(key)!, rev);
      if (!v || v.deleted) continue;
      if (items.length >= limit) {
        more = true;
        break;
      }
      items.push(this.toKv(key, v));
    }
    return { items, revision: rev, more };
  }

  async count(prefix: string): Promise<number> {
    this.checkOpen();
    let n = 0;
    for (let i = lowerBound(this.keys, prefix, false); i < this.keys.length; i++) {
      const key = this.keys[i]!;
      if (!key.startsWith(prefix)) break;
      const versions = this.history.get(key)!;
      if (!versions[versions.length - 1]!.deleted) n++;
    }
    return n;
  }

  async create(key: string, value: string): Promise<KeyValue> {
    this.checkOpen();
    const latest = this.latest(key);
    if (latest && !latest.deleted) throw new KeyExistsError(key);
    const rev = this.rev + 1;
    const v: Version = { rev, deleted: false, value, createRevision: rev };
    this.append(key, v);
    const kv = this.toKv(key, v);
    this.publish({ type: 'create', kv, revision: rev });
    return cloneKv(kv);
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<KeyValue> {
    this.checkOpen();
    const latest = this.latest(key);
    if (!latest || latest.deleted) throw new NotFoundError(key);
    if (latest.rev !== expectedModRevision) throw new ConflictError(key, this.toKv(key, latest));
    const rev = this.rev + 1;
    const v: Version = { rev, deleted: false, value, createRevision: latest.createRevision };
    this.append(key, v);
    const kv = this.toKv(key, v);
    this.publish({ type: 'update', kv, prevKv: this.toKv(key, latest), revision: rev });
    return cloneKv(kv);
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    this.checkOpen();
    const latest = this.latest(key);
    if (!latest || latest.deleted) throw new NotFoundError(key);
    if (expectedModRevision !== undefined && latest.rev !== expectedModRevision) {
      throw new ConflictError(key, this.toKv(key, latest));
    }
    const rev = this.rev + 1;
    const v: Version = { rev, deleted: true, value: latest.value, createRevision: latest.createRevision };
    this.append(key, v);
    const kv: KeyValue = { key, value: latest.value, createRevision: latest.createRevision, modRevision: rev };
    this.publish({ type: 'delete', kv, prevKv: this.toKv(key, latest), revision: rev });
    return cloneKv(kv);
  }

  watch(
    prefix: string,
    fromRevision: number,
    onEvent: (ev: StorageEvent) => void,
    onError: (err: Error) => void,
  ): Watch {
    const w = new QueuedWatcher(prefix, fromRevision, onEvent, onError, (x) => this.watchers.delete(x));
    if (this.closed) {
      queueMicrotask(() => w.fail(new StorageError('storage is closed')));
      return w;
    }
    if (fromRevision < this.compactRev) {
      const err = new CompactedError(fromRevision, this.compactRev);
      queueMicrotask(() => w.fail(err));
      return w;
    }
    // Catch-up and registration happen in the same synchronous step, so no write can slip in
    // between them; the watcher's cursor drops anything already queued.
    let lo = 0;
    let hi = this.log.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.log[mid]!.revision <= fromRevision) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.log.length; i++) w.push(this.log[i]!);
    this.watchers.add(w);
    return w;
  }

  async compact(revision: number): Promise<void> {
    this.checkOpen();
    if (revision > this.rev) throw new FutureRevisionError(revision, this.rev);
    if (revision <= this.compactRev) return;
    this.compactRev = revision;
    const survivors: string[] = [];
    for (const key of this.keys) {
      const versions = this.history.get(key)!;
      // Index of the version that is current as of `revision`; everything before it is superseded.
      let idx = -1;
      for (let i = versions.length - 1; i >= 0; i--) {
        if (versions[i]!.rev <= revision) {
          idx = i;
          break;
        }
      }
      if (idx >= 0) {
        const keepFrom = versions[idx]!.deleted ? idx + 1 : idx;
        if (keepFrom > 0) versions.splice(0, keepFrom);
      }
      if (versions.length === 0) this.history.delete(key);
      else survivors.push(key);
    }
    this.keys = survivors;
    let drop = 0;
    while (drop < this.log.length && this.log[drop]!.revision <= revision) drop++;
    if (drop > 0) this.log = this.log.slice(drop);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of [...this.watchers]) w.fail(new StorageError('storage is closed'));
    this.watchers.clear();
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

  private latest(key: string): Version | undefined {
    const versions = this.history.get(key);
    return versions ? versions[versions.length - 1] : undefined;
  }

  private append(key: string, v: Version): void {
    let versions = this.history.get(key);
    if (!versions) {
      versions = [];
      this.history.set(key, versions);
      this.keys.splice(lowerBound(this.keys, key, false), 0, key);
    }
    versions.push(v);
    this.rev = v.rev;
  }

  private toKv(key: string, v: Version): KeyValue {
    return { key, value: v.value, createRevision: v.createRevision, modRevision: v.rev };
  }

  private publish(ev: StorageEvent): void {
    this.log.push(ev);
    for (const w of this.watchers) w.push(ev);
  }
}
