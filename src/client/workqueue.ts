/**
 * WorkQueue: the queue between informers and reconcilers, with client-go's guarantees
 * (k8s.io/client-go/util/workqueue):
 *
 * - **Coalescing.** A key added while it is already waiting is stored once ("dirty" set).
 * - **Exclusivity.** A key handed out by `get()` is "processing" until `done(key)`. If it is
 *   added again meanwhile it is not handed to a second worker; it is queued again when `done`
 *   is called, so the change is not lost and two workers never reconcile one key at once.
 * - **Delays.** `addAfter(key, ms)` adds the key later; when a key is already waiting for a
 *   delay, the earlier ready time wins (as client-go's delaying queue).
 * - **Rate limiting.** `addRateLimited(key)` asks the rate limiter how long this key must wait
 *   (default: 5 ms doubling per failure up to 1000 s, combined with 10 qps / burst 100
 *   overall); `forget(key)` resets its failure count.
 * - **Shutdown.** After `shutDown()` every pending and future `get()` resolves `undefined` and
 *   adds are ignored. Unlike client-go's ShutDown, keys still queued are *not* drained: the
 *   reconcilers are level-based and will see the same state again when they next start.
 *
 * Keys are compared with SameValueZero (Map/Set semantics), so use strings or other
 * primitives, not freshly built objects.
 */
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limit.js';

export interface WorkQueueOptions<K> {
  /** Name for logs and metrics. */
  name?: string;
  /** Defaults to defaultControllerRateLimiter(). */
  rateLimiter?: RateLimiter<K>;
}

export class WorkQueue<K = string> {
  readonly name: string;
  readonly rateLimiter: RateLimiter<K>;
  /** Keys ready to be handed out, in order. Every key here is also in `dirty`. */
  private queue: K[] = [];
  private head = 0;
  /** Keys that need processing (queued, or re-added while processing). */
  private dirty = new Set<K>();
  /** Keys handed out and not yet `done`. */
  private processing = new Set<K>();
  /** Delayed adds: key → ready time and its timer. */
  private waiting = new Map<K, { at: number; timer: NodeJS.Timeout }>();
  /** Workers blocked in get(). */
  private waiters: Array<(key: K | undefined) => void> = [];
  private shuttingDown = false;

  constructor(opts: WorkQueueOptions<K> = {}) {
    this.name = opts.name ?? '';
    this.rateLimiter = opts.rateLimiter ?? defaultControllerRateLimiter<K>();
  }

  /** Marks `key` as needing processing. */
  add(key: K): void {
    if (this.shuttingDown) return;
    if (this.dirty.has(key)) return; // coalesced with the pending entry
    this.dirty.add(key);
    if (this.processing.has(key)) return; // re-queued by done()
    this.push(key);
  }

  /** Adds `key` after `ms` milliseconds (at once when ms <= 0). */
  addAfter(key: K, ms: number): void {
    if (this.shuttingDown) return;
    if (!(ms > 0)) {
      this.add(key);
      return;
    }
    const at = Date.now() + ms;
    const prev = this.waiting.get(key);
    if (prev) {
      if (prev.at <= at) return; // an earlier retry is already planned
      clearTimeout(prev.timer);
    }
    const timer = setTimeout(() => {
      this.waiting.delete(key);
      this.add(key);
    }, ms);
    // A queue alone must not keep a process alive; the informers' connections do that.
    timer.unref();
    this.waiting.set(key, { at, timer });
  }

  /** Adds `key` after the delay the rate limiter gives it (one more failure). */
  addRateLimited(key: K): void {
    if (this.shuttingDown) return;
    this.addAfter(key, this.rateLimiter.when(key));
  }

  /** Resets `key`'s failure count (call after it was processed successfully). */
  forget(key: K): void {
    this.rateLimiter.forget(key);
  }

  /** How many times `key` was re-added with addRateLimited since it was last forgotten. */
  numRequeues(key: K): number {
    return this.rateLimiter.numRequeues(key);
  }

  /**
   * The next key to process, waiting until there is one; `undefined` once the queue is shut
   * down. The caller must call `done(key)` when finished with it.
   */
  get(): Promise<K | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    if (this.len() > 0) return Promise.resolve(this.take());
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Ends processing of `key`; if it was added meanwhile, it is queued again. */
  done(key: K): void {
    if (!this.processing.delete(key)) return;
    if (this.dirty.has(key) && !this.shuttingDown) this.push(key);
  }

  /** Keys ready to be handed out (not those being processed or delayed). */
  len(): number {
    return this.queue.length - this.head;
  }

  /** Whether `key` is currently handed out to a worker. */
  isProcessing(key: K): boolean {
    return this.processing.has(key);
  }

  shutDown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const { timer } of this.waiting.values()) clearTimeout(timer);
    this.waiting.clear();
    this.queue = [];
    this.head = 0;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w(undefined);
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  private push(key: K): void {
    const w = this.waiters.shift();
    if (w) {
      // Hand the key straight to a blocked worker.
      this.dirty.delete(key);
      this.processing.add(key);
      w(key);
      return;
    }
    this.queue.push(key);
  }

  private take(): K {
    const key = this.queue[this.head++]!;
    // Compact now and then so the array does not grow without bound.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.dirty.delete(key);
    this.processing.add(key);
    return key;
  }
}
