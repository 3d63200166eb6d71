/**
 * Informer: a local, always-current copy of one kind of object, with change notifications.
 * It is client-go's shared informer reduced to one consumer-facing class: a reflector keeps an
 * indexed store (the indexer) in step with the API server, handlers hear every change, and
 * list/get/byIndex read the store (the lister).
 *
 * Reflector, as client-go's reflector.go does it:
 * - The first list asks for `resourceVersion=0` (any recent state, served from the API
 *   server's watch cache; no paging needed because the server ignores limit there).
 * - Then a watch from the list's resourceVersion with `allowWatchBookmarks=true` and a random
 *   `timeoutSeconds` in 300–600, so that many clients do not reconnect at once. Every event or
 *   bookmark moves the remembered resourceVersion on.
 * - When the server ends the stream (timeout), it watches again from the last resourceVersion.
 * - A `410 Expired/Gone` — as a response, or as an ERROR event in the stream — means the
 *   server no longer has history back to that version. The reflector relists with
 *   `resourceVersion=""` (a consistent read; an old version could be just as gone) and diffs
 *   the result against the store: new objects are adds, changed resourceVersions are updates,
 *   objects no longer listed are deletes (the handler gets the last object the store had).
 * - Any other failure backs off exponentially (800 ms doubling to 30 s, jittered, as
 *   client-go's reflector back-off), then relists (server errors) or re-watches from the same
 *   version (connection errors, as client-go retries a refused connection).
 *
 * Handlers run synchronously in the reflector's loop, in event order; they should be quick
 * (typically: put a key on a WorkQueue). An exception in a handler is logged and ignored.
 * Objects handed out are the store's own: never mutate them (copy with structuredClone first),
 * as with client-go listers.
 *
 * Resync (resyncMs > 0): every resyncMs, every stored object is passed to the update handlers
 * as (obj, obj), so a level-based controller re-checks everything now and then.
 */
import { ApiError, isGone, type ResourceDescriptor, type RestClient, type WatchEvent } from './rest-client.js';
import { keyFor, keyOf, type KubeObject } from './keys.js';
import { sleep } from './rate-limit.js';
import { logger } from '../util/log.js';

const log = logger('informer');

export interface InformerOptions {
  /** Keep only metadata (PartialObjectMetadata): for controllers such as the garbage collector. */
  metadataOnly?: boolean;
  /** Watch one namespace only (default: all namespaces). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Period of the resync (update(obj, obj) for every object); 0/undefined = none. */
  resyncMs?: number;
  /**
   * Range for the random watch `timeoutSeconds` (default [300, 600], as client-go's
   * reflector: minWatchTimeout 5 min, up to twice that).
   */
  watchTimeoutSeconds?: [number, number];
}

/** Computes the values an object is indexed under. */
export type IndexFunc<T> = (obj: T) => string[];

/** The index every informer has: metadata.namespace ('' for cluster-scoped objects). */
export const NAMESPACE_INDEX = 'namespace';

type AddHandler<T> = (obj: T) => void;
type UpdateHandler<T> = (oldObj: T, newObj: T) => void;
type DeleteHandler<T> = (obj: T) => void;

const BACKOFF_INITIAL_MS = 800;
const BACKOFF_MAX_MS = 30_000;
/** A watch that ends sooner than this without any event counts as a failure (no hot loop). */
const MIN_WATCH_MS = 1000;

export class Informer<T extends KubeObject = KubeObject> {
  private items = new Map<string, T>();
  private indexers = new Map<string, IndexFunc<T>>();
  /** index name → value → keys */
  private indices = new Map<string, Map<string, Set<string>>>();
  private handlers = { add: [] as AddHandler<T>[], update: [] as UpdateHandler<T>[], delete: [] as DeleteHandler<T>[] };
  private synced = false;
  private syncWaiters: Array<(ok: boolean) => void> = [];
  private running?: Promise<void>;
  private rv = '';

  constructor(readonly client: RestClient, readonly res: ResourceDescriptor, readonly opts: InformerOptions = {}) {
    this.addIndex(NAMESPACE_INDEX, (obj) => [obj.metadata?.namespace ?? '']);
  }

  /** The resourceVersion the store is known to be current at ('' before the first list). */
  get lastSyncResourceVersion(): string {
    return this.rv;
  }

  /**
   * Registers a handler. An add handler registered after the store has objects is first
   * called once for each of them (as client-go replays the store to a late handler).
   */
  on(event: 'add', handler: AddHandler<T>): this;
  on(event: 'update', handler: UpdateHandler<T>): this;
  on(event: 'delete', handler: DeleteHandler<T>): this;
  on(event: 'add' | 'update' | 'delete', handler: AddHandler<T> | UpdateHandler<T> | DeleteHandler<T>): this {
    if (event === 'add') {
      this.handlers.add.push(handler as AddHandler<T>);
      for (const obj of this.items.values()) this.call('add', () => (handler as AddHandler<T>)(obj));
    } else if (event === 'update') this.handlers.update.push(handler as UpdateHandler<T>);
    else if (event === 'delete') this.handlers.delete.push(handler as DeleteHandler<T>);
    else throw new Error(`unknown informer event ${String(event)}`);
    return this;
  }

  /** Starts the reflector (and resync) in the background until `signal` aborts. */
  start(signal: AbortSignal): void {
    if (this.running) throw new Error(`informer for ${this.res.plural} already started`);
    let resync: NodeJS.Timeout | undefined;
    if (this.opts.resyncMs && this.opts.resyncMs > 0) {
      resync = setInterval(() => this.resync(), this.opts.resyncMs);
      resync.unref();
    }
    this.running = this.run(signal)
      .catch((err) => log.error('reflector stopped on an unexpected error', { resource: this.res.plural, err }))
      .finally(() => {
        clearInterval(resync);
        const waiters = this.syncWaiters;
        this.syncWaiters = [];
        for (const w of waiters) w(this.synced);
      });
  }

  /** Resolves once the informer has stopped (after its signal aborted). */
  async stopped(): Promise<void> {
    await this.running;
  }

  /** True once the first list has been stored and its add handlers called. */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves true once synced, false if `signal` aborts (or the informer stops) first. */
  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = () => {
        this.syncWaiters = this.syncWaiters.filter((w) => w !== done);
        resolve(false);
      };
      const done = (ok: boolean) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(ok);
      };
      this.syncWaiters.push(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  // ---- lister ----------------------------------------------------------------------------------

  /** Objects in the store, of one namespace or all. */
  list(namespace?: string): T[] {
    if (namespace === undefined) return [...this.items.values()];
    return this.byIndex(NAMESPACE_INDEX, namespace);
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.items.get(keyFor(namespace, name));
  }

  getByKey(key: string): T | undefined {
    return this.items.get(key);
  }

  keys(): string[] {
    return [...this.items.keys()];
  }

  get size(): number {
    return this.items.size;
  }

  // ---- indexer ---------------------------------------------------------------------------------

  /** Adds an index (also over the objects already stored). */
  addIndex(name: string, fn: IndexFunc<T>): void {
    if (this.indexers.has(name)) throw new Error(`index ${JSON.stringify(name)} already exists`);
    this.indexers.set(name, fn);
    const index = new Map<string, Set<string>>();
    this.indices.set(name, index);
    for (const [key, obj] of this.items) this.indexOne(index, fn, key, obj);
  }

  /** Objects whose index `name` contains `value`. */
  byIndex(name: string, value: string): T[] {
    const index = this.indices.get(name);
    if (!index) throw new Error(`index ${JSON.stringify(name)} does not exist`);
    const keys = index.get(value);
    if (!keys) return [];
    const out: T[] = [];
    for (const k of keys) {
      const obj = this.items.get(k);
      if (obj) out.push(obj);
    }
    return out;
  }

  private indexOne(index: Map<string, Set<string>>, fn: IndexFunc<T>, key: string, obj: T): void {
    let values: string[];
    try { values = fn(obj); } catch (err) {
      log.error('index function failed', { resource: this.res.plural, key, err });
      return;
    }
    for (const v of values) {
      let set = index.get(v);
      if (!set) index.set(v, (set = new Set()));
      set.add(key);
    }
  }

  private unindexOne(index: Map<string, Set<string>>, fn: IndexFunc<T>, key: string, obj: T): void {
    let values: string[];
    try { values = fn(obj); } catch { return; }
    for (const v of values) {
      const set = index.get(v);
      if (!set) continue;
      set.delete(key);
      if (set.size === 0) index.delete(v);
    }
  }

  private storeSet(key: string, obj: T): T | undefined {
    const old = this.items.get(key);
    for (const [name, fn] of this.indexers) {
      const index = this.indices.get(name)!;
      if (old) this.unindexOne(index, fn, key, old);
      this.indexOne(index, fn, key, obj);
    }
    this.items.set(key, obj);
    return old;
  }

  private storeDelete(key: string): T | undefined {
    const old = this.items.get(key);
    if (!old) return undefined;
    for (const [name, fn] of this.indexers) this.unindexOne(this.indices.get(name)!, fn, key, old);
    this.items.delete(key);
    return old;
  }

  // ---- notifications ---------------------------------------------------------------------------

  private call(event: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      log.error('informer handler failed', { resource: this.res.plural, event, err });
    }
  }

  private notifyAdd(obj: T): void {
    for (const h of this.handlers.add) this.call('add', () => h(obj));
  }

  private notifyUpdate(oldObj: T, newObj: T): void {
    for (const h of this.handlers.update) this.call('update', () => h(oldObj, newObj));
  }

  private notifyDelete(obj: T): void {
    for (const h of this.handlers.delete) this.call('delete', () => h(obj));
  }

  private resync(): void {
    if (!this.synced) return;
    for (const obj of [...this.items.values()]) this.notifyUpdate(obj, obj);
  }

  // ---- reflector -------------------------------------------------------------------------------

  /** Makes the store equal to a fresh list, notifying the differences. */
  private replace(items: T[], resourceVersion: string): void {
    const seen = new Set<string>();
    for (const obj of items) {
      const key = keyOf(obj);
      seen.add(key);
      const old = this.storeSet(key, obj);
      if (!old) this.notifyAdd(obj);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.notifyUpdate(old, obj);
    }
    const gone: string[] = [];
    for (const key of this.items.keys()) if (!seen.has(key)) gone.push(key);
    for (const key of gone) {
      const old = this.storeDelete(key)!;
      this.notifyDelete(old);
    }
    this.rv = resourceVersion;
    if (!this.synced) {
      this.synced = true;
      const waiters = this.syncWaiters;
      this.syncWaiters = [];
      for (const w of waiters) w(true);
    }
  }

  /** Metadata-only informers also drop managedFields (as kube-controller-manager's informers do). */
  private trim(obj: T): T {
    if (this.opts.metadataOnly && (obj as any)?.metadata?.managedFields) delete (obj as any).metadata.managedFields;
    return obj;
  }

  private handleEvent(ev: WatchEvent<T>): void {
    const obj = ev.object;
    switch (ev.type) {
      case 'ADDED':
      case 'MODIFIED': {
        const old = this.storeSet(keyOf(obj), obj);
        if (old) this.notifyUpdate(old, obj);
        else this.notifyAdd(obj);
        break;
      }
      case 'DELETED': {
        const key = keyOf(obj);
        const last = this.storeDelete(key);
        // The event carries the object's final state; it is the best "last known" one.
        this.notifyDelete(obj ?? last);
        break;
      }
      case 'BOOKMARK':
        break;
      case 'ERROR': {
        const s: any = obj;
        throw new ApiError(s && s.kind === 'Status'
          ? s
          : { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 500, reason: 'InternalError', message: `watch error: ${JSON.stringify(obj)}` });
      }
      default:
        log.warn('unknown watch event type', { resource: this.res.plural, type: (ev as any).type });
        return;
    }
    const rv = obj?.metadata?.resourceVersion;
    if (rv) this.rv = rv;
  }

  private async run(signal: AbortSignal): Promise<void> {
    const { namespace, labelSelector, fieldSelector } = this.opts;
    const what = { resource: this.res.plural, namespace };
    let needList = true;
    let listRV = '0';
    let failures = 0;
    let expiredInARow = 0;
    const [minT, maxT] = this.opts.watchTimeoutSeconds ?? [300, 600];
    const backoff = async () => {
      failures++;
      const base = Math.min(BACKOFF_MAX_MS, BACKOFF_INITIAL_MS * 2 ** Math.min(failures - 1, 20));
      await sleep(base * (0.75 + Math.random() * 0.5), signal).catch(() => {});
    };

    while (!signal.aborted) {
      if (needList) {
        try {
          const list = await this.client.list<T>(this.res, namespace, { labelSelector, fieldSelector, resourceVersion: listRV, signal, metadataOnly: this.opts.metadataOnly });
          if (signal.aborted) break;
          this.replace((list.items ?? []).map((o) => this.trim(o)), list.metadata?.resourceVersion ?? '');
          needList = false;
          failures = 0;
          log.debug('listed', { ...what, resourceVersion: this.rv, items: this.items.size });
        } catch (err) {
          if (signal.aborted) break;
          // A version the server no longer has: ask for the current state instead.
          if (isGone(err)) listRV = '';
          log.warn('list failed', { ...what, err: (err as Error).message });
          await backoff();
          continue;
        }
      }

      const started = Date.now();
      let events = 0;
      try {
        await this.client.watch<T>(this.res, namespace, {
          resourceVersion: this.rv, labelSelector, fieldSelector, allowWatchBookmarks: true, metadataOnly: this.opts.metadataOnly,
          timeoutSeconds: minT + Math.floor(Math.random() * (maxT - minT + 1)),
        }, (ev) => {
          if (ev.type !== 'ERROR' && ev.type !== 'BOOKMARK') ev.object = this.trim(ev.object);
          this.handleEvent(ev);
          if (ev.type !== 'ERROR') {
            events++;
            expiredInARow = 0;
          }
        }, signal);
        if (signal.aborted) break;
        // The server closed the stream (its timeout): watch again from where we are.
        if (events === 0 && Date.now() - started < MIN_WATCH_MS) await backoff();
        else failures = 0;
      } catch (err) {
        if (signal.aborted) break;
        if (isGone(err)) {
          log.info('watch expired; relisting', { ...what, resourceVersion: this.rv, err: (err as Error).message });
          needList = true;
          listRV = '';
          // Relist at once; only a repeat without progress in between waits.
          if (expiredInARow++ > 0) await backoff();
          continue;
        }
        if (err instanceof ApiError) {
          // The server refused or broke off the watch for another reason: start over.
          needList = true;
          listRV = '';
        }
        log.warn('watch failed', { ...what, resourceVersion: this.rv, err: (err as Error).message });
        await backoff();
      }
    }
  }
}
