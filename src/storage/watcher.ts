/**
 * The watch delivery both backends share: a registered watch with a revision cursor that makes
 * delivery exactly-once and in order, live events queued and delivered from a microtask (so
 * callbacks never run inside a write), and stop/fail that detach it once.
 */
import type { KeyValue, StorageEvent, Watch } from './interface.js';

export function cloneKv(kv: KeyValue): KeyValue {
  return { key: kv.key, value: kv.value, createRevision: kv.createRevision, modRevision: kv.modRevision };
}

export function cloneEvent(ev: StorageEvent): StorageEvent {
  const out: StorageEvent = { type: ev.type, kv: cloneKv(ev.kv), revision: ev.revision };
  if (ev.prevKv) out.prevKv = cloneKv(ev.prevKv);
  return out;
}

export class QueuedWatcher implements Watch {
  /** While false (a backend still catching up from its history), live events are ignored. */
  live = true;
  stopped = false;
  private queue: StorageEvent[] = [];
  private head = 0;
  private scheduled = false;

  constructor(
    readonly prefix: string,
    /** The last revision handed over; anything at or below it is dropped. */
    public cursor: number,
    private readonly onEvent: (ev: StorageEvent) => void,
    private readonly onError: (err: Error) => void,
    private readonly detach: (w: QueuedWatcher) => void,
  ) {}

  /** Queues a live event; delivered from a microtask. */
  push(ev: StorageEvent): void {
    if (this.stopped || !this.live || ev.revision <= this.cursor || !ev.kv.key.startsWith(this.prefix)) return;
    this.cursor = ev.revision;
    this.queue.push(ev);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Delivers a catch-up event directly (the caller already runs outside any write). */
  deliver(ev: StorageEvent): void {
    if (this.stopped || ev.revision <= this.cursor) return;
    this.cursor = ev.revision;
    this.call(ev);
  }

  private flush(): void {
    this.scheduled = false;
    while (!this.stopped && this.head < this.queue.length) this.call(this.queue[this.head++]!);
    this.queue = [];
    this.head = 0;
  }

  private call(ev: StorageEvent): void {
    try {
      this.onEvent(cloneEvent(ev));
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Stops the watch and reports err, once. */
  fail(err: Error): void {
    if (this.stopped) return;
    this.stop();
    this.onError(err);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.queue = [];
    this.head = 0;
    this.detach(this);
  }
}
