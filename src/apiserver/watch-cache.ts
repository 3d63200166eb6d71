/**
 * The API server's watch cache (as Kubernetes' cacher): every object under /registry/ kept in
 * memory as its stored JSON (not parsed, to keep memory per object low), fed by one storage watch.
 * Lists and watches are served from here; writes go to storage and come back through the watch.
 *
 * - `revision` is the highest global revision applied; consistent reads wait until it reaches the
 *   storage's current revision (as Kubernetes' consistent reads from cache do).
 * - A ring buffer of recent events lets watches resume from a resourceVersion; older than the
 *   buffer gives `ExpiredError` (the HTTP layer sends 410 Expired).
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Storage, StorageEvent, Watch } from '../storage/interface.js';
import { logger } from '../util/log.js';

const log = logger('watch-cache');

export interface CacheEntry {
  key: string;
  namespace: string;
  name: string;
  /** modRevision: the object's resourceVersion. */
  rev: number;
  /** Stored JSON (without metadata.resourceVersion). */
  readonly json: string;
  labels: Record<string, string> | undefined;
  /** Selectable fields (field selectors), computed at ingest. */
  fields: Record<string, string>;
}

/** Objects smaller than this are kept as plain strings. */
const COMPRESS_MIN = 256;

/**
 * A cached object. Large objects are kept deflated against a per-resource dictionary (the first
 * object stored for that resource): replicas of one workload are nearly identical, so a 4 KB pod
 * takes about 100 bytes. The JSON is inflated when read (about 25 µs for a pod).
 */
class Entry implements CacheEntry {
  constructor(
    public key: string, public namespace: string, public name: string, public rev: number,
    private data: string | Buffer, private dict: Buffer | undefined,
    public labels: Record<string, string> | undefined, public fields: Record<string, string>,
  ) {}

  get json(): string {
    return typeof this.data === 'string' ? this.data : inflateRawSync(this.data, { dictionary: this.dict }).toString('utf8');
  }

  withRev(rev: number): Entry {
    return new Entry(this.key, this.namespace, this.name, rev, this.data, this.dict, this.labels, this.fields);
  }
}

export type CacheEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface CacheEvent {
  type: CacheEventType;
  rev: number;
  prefix: string;
  entry: CacheEntry;
  prev?: CacheEntry;
}

export class ExpiredError extends Error {
  constructor(public requested: number, public oldest: number) {
    super(`too old resource version: ${requested} (${oldest})`);
  }
}

/** Computes labels and selectable fields of a stored object, given its resource prefix. */
export type Indexer = (prefix: string, obj: any) => { labels?: Record<string, string>; fields: Record<string, string> };

export interface CacheWatcher {
  prefix: string;
  namespace?: string;
  onEvent(ev: CacheEvent): void;
  onBookmark(rev: number): void;
  onError(err: Error): void;
}

interface PrefixIndex {
  entries: Map<string, CacheEntry>;
  sorted: string[] | null;
}

/** `/registry/<group>/<resource>/` of a key. */
export function prefixOf(key: string): string {
  let slashes = 0;
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) === 47 && ++slashes === 4) return key.slice(0, i + 1);
  return key;
}

function splitKey(key: string, prefix: string): { namespace: string; name: string } {
  const rest = key.slice(prefix.length);
  const i = rest.indexOf('/');
  return i < 0 ? { namespace: '', name: rest } : { namespace: rest.slice(0, i), name: rest.slice(i + 1) };
}

export class WatchCache {
  private prefixes = new Map<string, PrefixIndex>();
  private watchers = new Map<string, Set<CacheWatcher>>();
  private history: CacheEvent[] = [];
  private historyHead = 0;
  /** All events with rev > historyStart are in the buffer. */
  private historyStart = 0;
  private storageWatch?: Watch;
  private waiters: { rev: number; resolve: () => void }[] = [];
  private bookmarkTimer?: NodeJS.Timeout;
  revision = 0;
  ready = false;

  private dicts = new Map<string, Buffer>();
  /** Labels and fields of values about to be written, by key (see hint). */
  private hints = new Map<string, { json: string; labels?: Record<string, string>; fields: Record<string, string> }>();

  constructor(private storage: Storage, private indexer: Indexer, private opts: { historySize?: number; bookmarkIntervalMs?: number; compress?: boolean } = {}) {}

  async start(): Promise<void> {
    const listed = await this.storage.list('/registry/');
    for (const kv of listed.items) {
      const prefix = prefixOf(kv.key);
      const entry = this.makeEntry(kv.key, prefix, kv.value, kv.modRevision);
      if (entry) this.index(prefix).entries.set(kv.key, entry);
    }
    this.revision = listed.revision;
    this.historyStart = listed.revision;
    this.storageWatch = this.storage.watch('/registry/', listed.revision, (ev) => this.apply(ev), (err) => {
      log.error('storage watch failed; restarting cache watch', { err });
      // The store compacted past us or failed: restart from a fresh list (watchers get 410 and relist).
      for (const set of this.watchers.values()) for (const w of set) w.onError(new ExpiredError(this.revision, this.revision));
      this.watchers.clear();
      this.prefixes.clear();
      this.history = [];
      this.historyHead = 0;
      void this.start();
    });
    this.ready = true;
    const interval = this.opts.bookmarkIntervalMs ?? 5000;
    this.bookmarkTimer ??= setInterval(() => this.bookmarkAll(), interval);
    this.bookmarkTimer.unref();
    log.info('watch cache ready', { objects: listed.items.length, revision: listed.revision });
  }

  stop(): void {
    this.storageWatch?.stop();
    if (this.bookmarkTimer) clearInterval(this.bookmarkTimer);
  }

  private index(prefix: string): PrefixIndex {
    let idx = this.prefixes.get(prefix);
    if (!idx) { idx = { entries: new Map(), sorted: null }; this.prefixes.set(prefix, idx); }
    return idx;
  }

  /**
   * A writer (the registry) tells the cache the object behind a value it is about to store, so
   * that when the write's event arrives the cache indexes it without parsing the JSON again.
   * The labels and fields are taken now (the caller may change the object afterwards); a hint
   * whose value is not the one that arrives is ignored, and hints of failed writes are dropped
   * when the map grows large.
   */
  hint(key: string, json: string, obj: unknown): void {
    if (this.hints.size >= 4096) this.hints.clear();
    const ix = this.indexer(prefixOf(key), obj);
    this.hints.set(key, { json, labels: ix.labels && { ...ix.labels }, fields: ix.fields });
  }

  private makeEntry(key: string, prefix: string, json: string, rev: number): Entry | undefined {
    const { namespace, name } = splitKey(key, prefix);
    let labels: Record<string, string> | undefined;
    let fields: Record<string, string> = {};
    const hint = this.hints.get(key);
    if (hint) this.hints.delete(key);
    if (hint && hint.json === json) {
      labels = hint.labels;
      fields = hint.fields;
    } else {
      try {
        const obj = JSON.parse(json);
        const ix = this.indexer(prefix, obj);
        labels = ix.labels;
        fields = ix.fields;
      } catch {
        // Non-object values (allocation markers) have no labels or fields.
      }
    }
    let data: string | Buffer = json;
    let dict: Buffer | undefined;
    if (this.opts.compress !== false && json.length >= COMPRESS_MIN) {
      dict = this.dicts.get(prefix);
      if (!dict) { dict = Buffer.from(json, 'utf8'); this.dicts.set(prefix, dict); }
      // Copy: the result is a slice of zlib's 16 KiB output chunk, which it would keep alive.
      data = Buffer.from(deflateRawSync(json, { dictionary: dict }));
    }
    return new Entry(key, namespace, name, rev, data, dict, labels, fields);
  }

  private apply(ev: StorageEvent): void {
    const key = ev.kv.key;
    const prefix = prefixOf(key);
    const idx = this.index(prefix);
    const prev = idx.entries.get(key);
    let cev: CacheEvent;
    if (ev.type === 'delete') {
      if (prev) { idx.entries.delete(key); idx.sorted = null; }
      const entry = prev ? (prev as Entry).withRev(ev.revision) : this.makeEntry(key, prefix, ev.kv.value, ev.revision)!;
      cev = { type: 'DELETED', rev: ev.revision, prefix, entry, prev };
    } else {
      const entry = this.makeEntry(key, prefix, ev.kv.value, ev.revision)!;
      if (!prev) idx.sorted = null;
      idx.entries.set(key, entry);
      cev = { type: prev ? 'MODIFIED' : 'ADDED', rev: ev.revision, prefix, entry, prev };
    }
    this.revision = ev.revision;
    this.record(cev);
    const ws = this.watchers.get(prefix);
    if (ws) for (const w of ws) {
      if (w.namespace && w.namespace !== cev.entry.namespace) continue;
      try { w.onEvent(cev); } catch (err) { log.warn('watcher failed', { err }); }
    }
    if (this.waiters.length) {
      const still: typeof this.waiters = [];
      for (const w of this.waiters) (w.rev <= this.revision ? w.resolve() : still.push(w));
      this.waiters = still;
    }
  }

  private record(ev: CacheEvent): void {
    const cap = this.opts.historySize ?? 20000;
    if (this.history.length < cap) { this.history.push(ev); return; }
    const evicted = this.history[this.historyHead];
    this.historyStart = evicted.rev;
    this.history[this.historyHead] = ev;
    this.historyHead = (this.historyHead + 1) % cap;
  }

  /** Resolves once the cache has applied revision `rev` (consistent reads). */
  waitForRevision(rev: number, timeoutMs = 3000): Promise<void> {
    if (rev <= this.revision) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for watch cache to reach revision ${rev} (at ${this.revision})`)), timeoutMs);
      this.waiters.push({ rev, resolve: () => { clearTimeout(t); resolve(); } });
    });
  }

  /** Waits until the cache reflects everything in storage now. */
  async sync(): Promise<void> {
    await this.waitForRevision(await this.storage.currentRevision());
  }

  get(key: string): CacheEntry | undefined {
    return this.prefixes.get(prefixOf(key))?.entries.get(key);
  }

  /** Entries under a resource prefix (optionally one namespace), sorted by key. */
  list(prefix: string, namespace?: string, startAfter?: string): CacheEntry[] {
    const idx = this.prefixes.get(prefix);
    if (!idx) return [];
    if (!idx.sorted) idx.sorted = [...idx.entries.keys()].sort();
    let keys = idx.sorted;
    let from = 0;
    if (namespace) {
      const nsPrefix = `${prefix}${namespace}/`;
      from = lowerBound(keys, nsPrefix);
      let to = from;
      while (to < keys.length && keys[to].startsWith(nsPrefix)) to++;
      keys = keys.slice(from, to);
      from = 0;
    }
    if (startAfter) from = upperBound(keys, startAfter);
    const out: CacheEntry[] = [];
    for (let i = from; i < keys.length; i++) out.push(idx.entries.get(keys[i])!);
    return out;
  }

  /** Number of objects held. */
  size(): number {
    let n = 0;
    for (const idx of this.prefixes.values()) n += idx.entries.size;
    return n;
  }

  count(prefix: string): number {
    return this.prefixes.get(prefix)?.entries.size ?? 0;
  }

  /**
   * Registers a watcher receiving every event after `fromRev` (replayed from history, then live).
   * fromRev undefined: live only. Throws ExpiredError when fromRev is older than the history.
   */
  watch(w: CacheWatcher, fromRev?: number): () => void {
    if (fromRev !== undefined && fromRev < this.historyStart) throw new ExpiredError(fromRev, this.historyStart);
    if (fromRev !== undefined && fromRev < this.revision) {
      const n = this.history.length;
      for (let i = 0; i < n; i++) {
        const ev = this.history[(this.historyHead + i) % n];
        if (ev.rev <= fromRev || ev.prefix !== w.prefix) continue;
        if (w.namespace && w.namespace !== ev.entry.namespace) continue;
        w.onEvent(ev);
      }
    }
    let set = this.watchers.get(w.prefix);
    if (!set) { set = new Set(); this.watchers.set(w.prefix, set); }
    set.add(w);
    return () => { set!.delete(w); };
  }

  watcherCount(): number {
    let n = 0;
    for (const s of this.watchers.values()) n += s.size;
    return n;
  }

  private bookmarkAll(): void {
    for (const set of this.watchers.values()) for (const w of set) w.onBookmark(this.revision);
  }
}

function lowerBound(a: string[], x: string): number {
  let lo = 0, hi = a.length;
  while (lo < hi) { const m = (lo + hi) >> 1; if (a[m] < x) lo = m + 1; else hi = m; }
  return lo;
}
function upperBound(a: string[], x: string): number {
  let lo = 0, hi = a.length;
  while (lo < hi) { const m = (lo + hi) >> 1; if (a[m] <= x) lo = m + 1; else hi = m; }
  return lo;
}

/** Inserts metadata.resourceVersion into stored JSON (stored objects never carry it). */
export function withResourceVersion(json: string, rev: number): string {
  const i = json.indexOf('"metadata":{');
  if (i < 0) return json;
  const at = i + 12;
  return `${json.slice(0, at)}"resourceVersion":"${rev}"${json.charCodeAt(at) === 125 ? '' : ','}${json.slice(at)}`;
}
