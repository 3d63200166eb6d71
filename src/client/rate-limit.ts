/**
 * Rate limiters shared by the REST client and the workqueue.
 *
 * TokenBucket is a reservation-style token bucket (the shape of golang.org/x/time/rate that
 * client-go uses): every call takes one token, possibly from the future, and is told how long
 * to wait for it. Reserving instead of polling keeps callers in FIFO order and needs no timers
 * of its own.
 *
 * The item limiters follow client-go's workqueue defaults (DefaultControllerRateLimiter): a
 * per-item exponential back-off (5 ms doubling up to 1000 s) combined, by taking the larger
 * delay, with an overall bucket of 10 qps / burst 100 so that a storm of failing keys cannot
 * hammer the API server.
 */

/** A clock in milliseconds; injectable so tests need not depend on wall time. */
export type Clock = () => number;
const realClock: Clock = () => performance.now();

export class TokenBucket {
  private tokens: number;
  private last: number;

  /**
   * @param qps tokens added per second; `Infinity` (or <= 0) disables limiting
   * @param burst bucket size (>= 1); the bucket starts full
   */
  constructor(readonly qps: number, readonly burst: number, private readonly now: Clock = realClock) {
    this.tokens = Math.max(1, burst);
    this.last = now();
  }

  get unlimited(): boolean { return !(this.qps > 0) || this.qps === Infinity; }

  /** Takes one token; returns how many milliseconds the caller must wait before using it. */
  reserve(): number {
    if (this.unlimited) return 0;
    const t = this.now();
    this.tokens = Math.min(Math.max(1, this.burst), this.tokens + ((t - this.last) / 1000) * this.qps);
    this.last = t;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }

  /** Gives back a token reserved but not used (e.g. the caller was aborted while waiting). */
  cancel(): void {
    if (!this.unlimited) this.tokens = Math.min(Math.max(1, this.burst), this.tokens + 1);
  }

  /** Waits for a token. Rejects with the signal's reason if aborted (and returns the token). */
  async acquire(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const ms = this.reserve();
    if (ms <= 0) return;
    try {
      await sleep(ms, signal);
    } catch (err) {
      this.cancel();
      throw err;
    }
  }
}

/** Resolves after `ms`; rejects with the signal's reason when aborted first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => { clearTimeout(timer); reject(signal!.reason); };
    const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Decides how long a key waits before it is retried (client-go's workqueue.TypedRateLimiter). */
export interface RateLimiter<K> {
  /** Records one more failure of `key` and returns the delay (ms) before its retry. */
  when(key: K): number;
  /** Forgets `key`'s failures (call on success). */
  forget(key: K): void;
  /** How many times `key` has failed since it was last forgotten. */
  numRequeues(key: K): number;
}

/** Per-item exponential back-off: base * 2^(failures-1), capped at max. */
export class ItemExponentialRateLimiter<K> implements RateLimiter<K> {
  private failures = new Map<K, number>();
  constructor(readonly baseMs = 5, readonly maxMs = 1000_000) {}

  when(key: K): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    // 2^n overflows to Infinity long after the cap is reached; min() handles that.
    return Math.min(this.baseMs * 2 ** n, this.maxMs);
  }
  forget(key: K): void { this.failures.delete(key); }
  numRequeues(key: K): number { return this.failures.get(key) ?? 0; }
}

/** An overall token bucket, whatever the key (client-go's BucketRateLimiter). */
export class BucketRateLimiter<K> implements RateLimiter<K> {
  readonly bucket: TokenBucket;
  constructor(qps = 10, burst = 100, now?: Clock) { this.bucket = new TokenBucket(qps, burst, now); }
  when(_key: K): number { return this.bucket.reserve(); }
  forget(_key: K): void {}
  numRequeues(_key: K): number { return 0; }
}

/** The largest delay of several limiters (client-go's MaxOfRateLimiter). */
export class MaxOfRateLimiter<K> implements RateLimiter<K> {
  readonly limiters: RateLimiter<K>[];
  constructor(...limiters: RateLimiter<K>[]) { this.limiters = limiters; }
  when(key: K): number {
    let d = 0;
    for (const l of this.limiters) d = Math.max(d, l.when(key));
    return d;
  }
  forget(key: K): void { for (const l of this.limiters) l.forget(key); }
  numRequeues(key: K): number {
    let n = 0;
    for (const l of this.limiters) n = Math.max(n, l.numRequeues(key));
    return n;
  }
}

/** client-go's DefaultControllerRateLimiter: max(5 ms..1000 s per item, 10 qps / 100 burst overall). */
export function defaultControllerRateLimiter<K>(now?: Clock): RateLimiter<K> {
  return new MaxOfRateLimiter<K>(new ItemExponentialRateLimiter<K>(5, 1000_000), new BucketRateLimiter<K>(10, 100, now));
}
