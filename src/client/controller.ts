/**
 * Controller: workers that drain a WorkQueue into a Reconciler (controller-runtime's shape).
 *
 * Level-based: a reconciler gets only a key ("ns/name" or "name"), reads the current state
 * from informer caches and makes the world match it. It does not learn what changed, so
 * several changes to one object coalesce into one reconcile, and a restart loses nothing.
 *
 * For each key a worker takes from the queue:
 * - success → `forget(key)` (reset its back-off); if `{ requeueAfter }` was returned, the key
 *   comes back after that many milliseconds;
 * - throw → `addRateLimited(key)`: retried with per-key exponential back-off;
 * - always → `done(key)`; the queue never gives one key to two workers at once.
 *
 * `start(signal)` waits for the informers registered with `watch()` to sync (so a reconciler
 * never acts on an empty cache, as client-go's WaitForCacheSync), then runs `workers`
 * workers until `signal` aborts; then the queue shuts down and workers finish the key they
 * hold.
 */
import { WorkQueue } from './workqueue.js';
import type { Informer } from './informer.js';
import type { RateLimiter } from './rate-limit.js';
import { keyOf, type KubeObject } from './keys.js';
import { logger } from '../util/log.js';

export { keyOf, keyFor, splitKey } from './keys.js';

const log = logger('controller');

export interface Reconciler {
  /** Makes the world match the desired state of `key`; throw to be retried with back-off. */
  reconcile(key: string): Promise<{ requeueAfter?: number } | void>;
}

export interface ControllerOptions {
  /** Concurrent workers (default 1). */
  workers?: number;
  /** Defaults to the workqueue's default controller rate limiter. */
  rateLimiter?: RateLimiter<string>;
}

export class Controller {
  readonly queue: WorkQueue<string>;
  readonly workers: number;
  private informers: Informer<any>[] = [];
  private running?: Promise<void>;

  constructor(readonly name: string, readonly reconciler: Reconciler, opts: ControllerOptions = {}) {
    this.workers = Math.max(1, opts.workers ?? 1);
    this.queue = new WorkQueue<string>({ name, rateLimiter: opts.rateLimiter });
  }

  /**
   * Enqueues keys on every add/update/delete of an informer; `map` turns an object into the
   * keys to reconcile (default: the object's own key, e.g. an owner's key for owned objects).
   * The informer also becomes one that start() waits for.
   */
  watch<T extends KubeObject>(informer: Informer<T>, map: (obj: T) => string[] | string | undefined = (o) => keyOf(o)): this {
    const enqueue = (obj: T) => {
      const keys = map(obj);
      if (keys === undefined) return;
      for (const k of Array.isArray(keys) ? keys : [keys]) this.queue.add(k);
    };
    informer.on('add', enqueue);
    informer.on('update', (oldObj, newObj) => {
      enqueue(newObj);
      // When the mapping moved (e.g. a new owner), the old target must hear about it too.
      // (Duplicate keys coalesce in the queue.)
      if (oldObj !== newObj) enqueue(oldObj);
    });
    informer.on('delete', enqueue);
    this.informers.push(informer);
    return this;
  }

  /** Adds a key (or an object's key) to the queue. */
  enqueue(keyOrObj: string | KubeObject): void {
    this.queue.add(typeof keyOrObj === 'string' ? keyOrObj : keyOf(keyOrObj));
  }

  /** Runs the workers in the background until `signal` aborts. */
  start(signal: AbortSignal): void {
    if (this.running) throw new Error(`controller ${this.name} already started`);
    const stop = () => this.queue.shutDown();
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
    this.running = (async () => {
      for (const inf of this.informers) {
        if (!(await inf.waitForSync(signal))) return;
      }
      log.info('controller started', { controller: this.name, workers: this.workers });
      await Promise.all(Array.from({ length: this.workers }, () => this.worker()));
      log.info('controller stopped', { controller: this.name });
    })();
  }

  /** Resolves once every worker has exited (after the signal aborted). */
  async stopped(): Promise<void> {
    await this.running;
  }

  private async worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      await this.processOne(key);
    }
  }

  private async processOne(key: string): Promise<void> {
    try {
      const result = await this.reconciler.reconcile(key);
      this.queue.forget(key);
      if (result && typeof result.requeueAfter === 'number' && result.requeueAfter > 0) {
        this.queue.addAfter(key, result.requeueAfter);
      }
    } catch (err) {
      log.warn('reconcile failed; requeued with back-off', { controller: this.name, key, requeues: this.queue.numRequeues(key) + 1, err: (err as Error)?.message ?? String(err) });
      this.queue.addRateLimited(key);
    } finally {
      this.queue.done(key);
    }
  }
}
