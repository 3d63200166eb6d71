/**
 * EventRecorder: writes core/v1 Events (what `kubectl describe` and `kubectl get events` show)
 * off the caller's path, the way client-go's event broadcaster does:
 *  - events are queued and written by a few concurrent writers, so recording never waits on
 *    the API server; when the queue is full new events are dropped (client-go drops too rather
 *    than block the component);
 *  - a repeat of the same event (same object, type, reason and message) within the cache's
 *    memory patches the existing Event's count and lastTimestamp instead of creating another
 *    (the event correlator's aggregation), e.g. "FailedScheduling (x5 over 2m)".
 * Event names are `<object name>.<hex nanoseconds>` as client-go makes them.
 */
import { isNotFound, type ResourceDescriptor, type RestClient } from './index.js';
import { logger } from '../util/log.js';

const log = logger('event-recorder');

export const EVENTS: ResourceDescriptor = { group: '', version: 'v1', plural: 'events', namespaced: true };

export interface ObjectReference {
  kind: string;
  apiVersion?: string;
  namespace?: string;
  name: string;
  uid?: string;
  resourceVersion?: string;
  fieldPath?: string;
}

export interface EventRecorderOptions {
  /** source.component and reportingComponent (e.g. "default-scheduler"). */
  component: string;
  /** reportingInstance / source.host. */
  instance?: string;
  /** Concurrent writes (default 8). */
  concurrency?: number;
  /** Queued events beyond which new ones are dropped (default 1000, as client-go's queue). */
  maxQueued?: number;
  /** Remembered events for aggregation (default 4096). */
  cacheSize?: number;
}

interface Pending {
  ref: ObjectReference;
  type: 'Normal' | 'Warning';
  reason: string;
  action: string;
  message: string;
  time: Date;
}

interface Seen {
  name: string;
  namespace: string;
  count: number;
  first: string;
}

export class EventRecorder {
  private queue: Pending[] = [];
  private inFlight = 0;
  private seen = new Map<string, Seen>();
  private readonly concurrency: number;
  private readonly maxQueued: number;
  private readonly cacheSize: number;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];
  dropped = 0;
  written = 0;

  constructor(private readonly client: RestClient, readonly opts: EventRecorderOptions) {
    this.concurrency = opts.concurrency ?? 8;
    this.maxQueued = opts.maxQueued ?? 1000;
    this.cacheSize = opts.cacheSize ?? 4096;
  }

  /** Records an event about `ref` (never throws, never waits). */
  event(ref: ObjectReference, type: 'Normal' | 'Warning', reason: string, action: string, message: string): void {
    if (this.stopped) return;
    if (this.queue.length >= this.maxQueued) {
      this.dropped++;
      return;
    }
    this.queue.push({ ref, type, reason, action, message, time: new Date() });
    this.pump();
  }

  /** Stops accepting events and drops the queued ones (writes in flight finish). */
  stop(): void {
    this.stopped = true;
    this.dropped += this.queue.length;
    this.queue = [];
  }

  /** Resolves when nothing is queued or being written. */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private pump(): void {
    while (this.inFlight < this.concurrency && this.queue.length) {
      const e = this.queue.shift()!;
      this.inFlight++;
      this.write(e)
        .catch((err) => log.debug('failed to write event', { reason: e.reason, object: `${e.ref.namespace}/${e.ref.name}`, err: (err as Error).message }))
        .finally(() => {
          this.inFlight--;
          this.pump();
          if (this.queue.length === 0 && this.inFlight === 0) {
            const w = this.idleWaiters;
            this.idleWaiters = [];
            for (const f of w) f();
          }
        });
    }
  }

  private async write(e: Pending): Promise<void> {
    const ns = e.ref.namespace || 'default';
    const key = `${e.ref.uid ?? ''}\u0000${e.ref.namespace}\u0000${e.ref.name}\u0000${e.type}\u0000${e.reason}\u0000${e.message}`;
    const ts = e.time.toISOString().replace(/\.\d+Z$/, 'Z');
    const prev = this.seen.get(key);
    if (prev) {
      prev.count++;
      try {
        await this.client.patch(EVENTS, prev.namespace, prev.name, { count: prev.count, lastTimestamp: ts }, 'merge');
        this.written++;
        // Refresh its place in the LRU.
        this.seen.delete(key);
        this.seen.set(key, prev);
        return;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        this.seen.delete(key); // expired or deleted: create a new one
      }
    }
    const name = `${e.ref.name}.${(BigInt(e.time.getTime()) * 1_000_000n + BigInt(Math.floor(Math.random() * 1_000_000))).toString(16)}`;
    const ev = {
      apiVersion: 'v1', kind: 'Event',
      metadata: { name, namespace: ns },
      involvedObject: { ...e.ref },
      reason: e.reason,
      message: e.message,
      type: e.type,
      action: e.action,
      source: { component: this.opts.component, ...(this.opts.instance ? { host: this.opts.instance } : {}) },
      reportingComponent: this.opts.component,
      reportingInstance: this.opts.instance ?? '',
      firstTimestamp: ts,
      lastTimestamp: ts,
      count: 1,
    };
    await this.client.create(EVENTS, ns, ev);
    this.written++;
    this.seen.set(key, { name, namespace: ns, count: 1, first: ts });
    if (this.seen.size > this.cacheSize) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }
}
