/**
 * PodWorkers: one serialized worker per pod (kubelet's pod_workers.go). Updates for a pod that
 * is being worked on are coalesced: the worker runs again once with the latest pod, so the
 * newest spec always wins and two syncs of one pod never overlap. The work function decides
 * the pod's stage (sync → terminating → terminated); it may ask to run again at a time (crash
 * back-off expiry, periodic resync) and says when the pod is finished so its worker goes away.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { logger } from '../util/log.js';

const log = logger('pod-workers');

export interface WorkResult {
  /** Run again at this time (ms since the epoch). */
  requeueAt?: number;
  /** The pod is terminated and forgotten: drop the worker. */
  done?: boolean;
}

export type PodWork = (pod: Pod, deleted: boolean) => Promise<WorkResult>;

interface Worker {
  pod: Pod;
  deleted: boolean;
  running: boolean;
  pending: boolean;
  timer?: NodeJS.Timeout;
  timerAt?: number;
}

export class PodWorkers {
  private workers = new Map<string, Worker>();
  private stopped = false;
  private idle: Array<() => void> = [];

  constructor(private readonly work: PodWork) {}

  /** A new version of the pod (or its deletion from the API). */
  update(pod: Pod, deleted = false, kick = true): void {
    if (this.stopped) return;
    const uid = pod.metadata?.uid;
    if (!uid) return;
    let w = this.workers.get(uid);
    if (w && !kick && !deleted) {
      // Only the status moved (often this kubelet's own write): keep the newest copy, no sync.
      w.pod = pod;
      return;
    }
    if (!w) {
      if (deleted && !pod.metadata) return;
      w = { pod, deleted, running: false, pending: false };
      this.workers.set(uid, w);
    } else {
      w.pod = pod;
      w.deleted = w.deleted || deleted;
    }
    this.kick(uid, w);
  }

  /** Re-run a known pod's worker (runtime event, probe change). */
  enqueue(uid: string): void {
    const w = this.workers.get(uid);
    if (w && !this.stopped) this.kick(uid, w);
  }

  has(uid: string): boolean { return this.workers.has(uid); }
  uids(): string[] { return [...this.workers.keys()]; }
  pod(uid: string): Pod | undefined { return this.workers.get(uid)?.pod; }

  private kick(uid: string, w: Worker): void {
    if (w.running) { w.pending = true; return; }
    w.running = true;
    void this.loop(uid, w);
  }

  private async loop(uid: string, w: Worker): Promise<void> {
    do {
      w.pending = false;
      if (w.timer) { clearTimeout(w.timer); w.timer = undefined; w.timerAt = undefined; }
      let res: WorkResult = {};
      try {
        res = await this.work(w.pod, w.deleted);
      } catch (err) {
        log.warn('pod sync failed', { pod: `${w.pod.metadata?.namespace}/${w.pod.metadata?.name}`, err: (err as Error).message });
        res = { requeueAt: Date.now() + 2000 };
      }
      if (this.stopped) break;
      if (res.done) {
        this.workers.delete(uid);
        break;
      }
      if (res.requeueAt !== undefined && !w.pending) {
        const delay = Math.max(0, res.requeueAt - Date.now());
        w.timerAt = res.requeueAt;
        w.timer = setTimeout(() => { w.timer = undefined; this.kick(uid, w); }, delay);
      }
    } while (w.pending && !this.stopped);
    w.running = false;
    if (![...this.workers.values()].some((x) => x.running)) for (const f of this.idle.splice(0)) f();
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.workers.values()) if (w.timer) clearTimeout(w.timer);
  }

  /** Resolves once no worker is running (tests). */
  whenIdle(): Promise<void> {
    if (![...this.workers.values()].some((x) => x.running)) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }
}
