/**
 * SchedulingQueue: the pods waiting to be scheduled (upstream's PriorityQueue in
 * pkg/scheduler/internal/queue).
 *
 *  - activeQ: pods to try now, highest priority first, then the earliest enqueued (PrioritySort).
 *  - backoffQ: pods that failed recently and wait out a per-pod exponential back-off:
 *    1 s doubling per attempt up to 10 s (podInitialBackoffSeconds / podMaxBackoffSeconds).
 *    Flushed into activeQ once their back-off has expired (checked every second).
 *  - unschedulable: pods no node fits. They wait for a cluster event that may help (a node
 *    added or changed, a pod deleted, ...). On such an event the pods whose rejecting plugins
 *    care about it move to backoffQ (still backing off) or activeQ. Pods stuck longer than
 *    5 min are retried anyway (podMaxInUnschedulablePodsDuration).
 *  - If an event arrives while a pod is being scheduled (moveRequestCycle ≥ the pod's cycle),
 *    a failed pod goes to backoffQ instead of unschedulable, so that the event is not lost.
 *  - Pods with spec.schedulingGates wait in the gated set until their gates are removed.
 *
 * The nominator remembers pods nominated to a node by preemption, so that lower-priority pods
 * do not take the room freed for them.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { Heap } from './heap.js';
import type { PodInfo } from './pod-info.js';

export interface QueuedPodInfo {
  podInfo: PodInfo;
  /** When the pod was last added to (or moved into) a queue. */
  timestamp: number;
  /** When the pod was first enqueued. */
  initialAttemptTimestamp: number;
  /** Scheduling attempts so far. */
  attempts: number;
  /** Plugins that rejected the pod in its last attempt (empty = unknown: any event helps). */
  unschedulablePlugins: Set<string>;
}

export interface SchedulingQueueOptions {
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  maxInUnschedulableMs?: number;
  now?: () => number;
  /** Which rejecting plugins care about which events (ClusterEvent bits); absent = any. */
  pluginEvents?: Map<string, number>;
}

const key = (q: QueuedPodInfo) => q.podInfo.key;

export class SchedulingQueue {
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly maxInUnschedulableMs: number;
  private readonly now: () => number;
  private readonly pluginEvents: Map<string, number>;
  private activeQ: Heap<QueuedPodInfo>;
  private backoffQ: Heap<QueuedPodInfo>;
  private unschedulable = new Map<string, QueuedPodInfo>();
  /** Rejecting plugin name ('*' = unknown) → unschedulable pod keys, so an event visits only pods it may help. */
  private byPlugin = new Map<string, Set<string>>();
  private gated = new Map<string, QueuedPodInfo>();
  /** Pods popped and being scheduled right now (their key → cycle). */
  private inFlight = new Map<string, number>();
  private waiters: Array<() => void> = [];
  private closed = false;
  schedulingCycle = 0;
  private moveRequestCycle = -1;
  private lastLeftoverFlush = 0;
  /** node name → pods nominated to it. */
  private nominated = new Map<string, Map<string, PodInfo>>();
  private nominatedNode = new Map<string, string>();

  constructor(opts: SchedulingQueueOptions = {}) {
    this.initialBackoffMs = opts.initialBackoffMs ?? 1000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 10_000;
    this.maxInUnschedulableMs = opts.maxInUnschedulableMs ?? 5 * 60_000;
    this.now = opts.now ?? Date.now;
    this.pluginEvents = opts.pluginEvents ?? new Map();
    this.activeQ = new Heap(key, (a, b) => {
      const pa = a.podInfo.priority;
      const pb = b.podInfo.priority;
      return pa > pb || (pa === pb && a.timestamp < b.timestamp);
    });
    this.backoffQ = new Heap(key, (a, b) => this.backoffExpiry(a) < this.backoffExpiry(b));
  }

  // ---- adding and removing ---------------------------------------------------------------------

  /** A new pending pod. */
  add(podInfo: PodInfo): void {
    const k = podInfo.key;
    if (this.has(k)) return this.update(podInfo);
    const now = this.now();
    const q: QueuedPodInfo = { podInfo, timestamp: now, initialAttemptTimestamp: now, attempts: 0, unschedulablePlugins: new Set() };
    if (isGated(podInfo.pod)) this.gated.set(k, q);
    else this.pushActive(q);
    this.updateNomination(podInfo);
  }

  /** A newer version of a pending pod. */
  update(podInfo: PodInfo): void {
    const k = podInfo.key;
    this.updateNomination(podInfo);
    let q = this.activeQ.get(k);
    if (q) { q.podInfo = podInfo; this.activeQ.push(q); return; }
    q = this.backoffQ.get(k);
    if (q) { q.podInfo = podInfo; this.backoffQ.push(q); return; }
    q = this.gated.get(k);
    if (q) {
      q.podInfo = podInfo;
      if (!isGated(podInfo.pod)) {
        this.gated.delete(k);
        q.timestamp = this.now();
        this.pushActive(q);
      }
      return;
    }
    q = this.unschedulable.get(k);
    if (q) {
      const changed = q.podInfo.pod !== podInfo.pod && specOrLabelsChanged(q.podInfo.pod, podInfo.pod);
      q.podInfo = podInfo;
      if (changed) {
        // The pod itself changed in a way that may make it fit: try again.
        this.removeUnschedulable(k);
        if (this.isBackingOff(q)) this.backoffQ.push(q);
        else this.pushActive(q);
      }
      return;
    }
    if (this.inFlight.has(k)) return; // being scheduled; the result decides where it goes
    this.add(podInfo);
  }

  /** The pod is gone or got bound elsewhere. */
  delete(k: string): void {
    this.activeQ.delete(k);
    this.backoffQ.delete(k);
    this.removeUnschedulable(k);
    this.gated.delete(k);
    this.deleteNomination(k);
  }

  has(k: string): boolean {
    return this.activeQ.has(k) || this.backoffQ.has(k) || this.unschedulable.has(k) || this.gated.has(k);
  }

  // ---- popping ---------------------------------------------------------------------------------

  /** The next pod to schedule, or undefined when activeQ is empty. */
  pop(): QueuedPodInfo | undefined {
    const q = this.activeQ.pop();
    if (!q) return undefined;
    q.attempts++;
    this.schedulingCycle++;
    this.inFlight.set(q.podInfo.key, this.schedulingCycle);
    return q;
  }

  /** Resolves when activeQ may have something (or the queue closes, or the signal aborts). */
  waitForPod(signal?: AbortSignal): Promise<void> {
    if (this.activeQ.size > 0 || this.closed || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** The scheduling attempt of a popped pod ended (whatever the outcome). */
  done(k: string): void {
    this.inFlight.delete(k);
  }

  get activeSize(): number {
    return this.activeQ.size;
  }

  // ---- failures --------------------------------------------------------------------------------

  /**
   * A popped pod did not fit (or failed): it goes to unschedulable, or to backoffQ if a
   * cluster event arrived since it was popped or the failure was an error.
   */
  addUnschedulableIfNotPresent(q: QueuedPodInfo, cycle: number, error = false): void {
    const k = q.podInfo.key;
    this.inFlight.delete(k);
    if (this.has(k)) return;
    q.timestamp = this.now();
    if (error || this.moveRequestCycle >= cycle) this.backoffQ.push(q);
    else this.addUnschedulable(q);
  }

  private addUnschedulable(q: QueuedPodInfo): void {
    const k = q.podInfo.key;
    this.unschedulable.set(k, q);
    const plugins = q.unschedulablePlugins.size ? q.unschedulablePlugins : ['*'];
    for (const p of plugins) {
      let set = this.byPlugin.get(p);
      if (!set) this.byPlugin.set(p, (set = new Set()));
      set.add(k);
    }
  }

  private removeUnschedulable(k: string): void {
    const q = this.unschedulable.get(k);
    if (!q) return;
    this.unschedulable.delete(k);
    const plugins = q.unschedulablePlugins.size ? q.unschedulablePlugins : ['*'];
    for (const p of plugins) {
      const set = this.byPlugin.get(p);
      set?.delete(k);
      if (set && set.size === 0) this.byPlugin.delete(p);
    }
  }

  /** A cluster event happened: move the pods it may help. */
  moveAllToActiveOrBackoffQueue(event: number): void {
    const keys = new Set<string>();
    for (const [plugin, set] of this.byPlugin) {
      const ev = plugin === '*' ? undefined : this.pluginEvents.get(plugin);
      if (ev === undefined || (ev & event) !== 0) for (const k of set) keys.add(k);
    }
    const moved: QueuedPodInfo[] = [];
    for (const k of keys) moved.push(this.unschedulable.get(k)!);
    for (const q of moved) {
      this.removeUnschedulable(q.podInfo.key);
      if (this.isBackingOff(q)) this.backoffQ.push(q);
      else this.pushActive(q);
    }
    this.moveRequestCycle = this.schedulingCycle;
  }

  /** Moves back-offs that expired into activeQ; retries long-unschedulable pods. */
  flush(): void {
    const now = this.now();
    for (;;) {
      const q = this.backoffQ.peek();
      if (!q || this.backoffExpiry(q) > now) break;
      this.backoffQ.pop();
      this.pushActive(q);
    }
    if (now - this.lastLeftoverFlush < 30_000) return;
    this.lastLeftoverFlush = now;
    const stale: QueuedPodInfo[] = [];
    for (const q of this.unschedulable.values()) if (now - q.timestamp > this.maxInUnschedulableMs) stale.push(q);
    for (const q of stale) {
      this.removeUnschedulable(q.podInfo.key);
      if (this.isBackingOff(q)) this.backoffQ.push(q);
      else this.pushActive(q);
    }
  }

  backoffDuration(q: QueuedPodInfo): number {
    if (q.attempts <= 0) return 0;
    let d = this.initialBackoffMs;
    for (let i = 1; i < q.attempts; i++) {
      d *= 2;
      if (d >= this.maxBackoffMs) return this.maxBackoffMs;
    }
    return Math.min(d, this.maxBackoffMs);
  }

  private backoffExpiry(q: QueuedPodInfo): number {
    return q.timestamp + this.backoffDuration(q);
  }

  private isBackingOff(q: QueuedPodInfo): boolean {
    return this.backoffExpiry(q) > this.now();
  }

  private pushActive(q: QueuedPodInfo): void {
    this.activeQ.push(q);
    const w = this.waiters;
    if (w.length) {
      this.waiters = [];
      for (const f of w) f();
    }
  }

  close(): void {
    this.closed = true;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Sizes, for tests and metrics. */
  stats(): { active: number; backoff: number; unschedulable: number; gated: number } {
    return { active: this.activeQ.size, backoff: this.backoffQ.size, unschedulable: this.unschedulable.size, gated: this.gated.size };
  }

  // ---- nominator -------------------------------------------------------------------------------

  /** Records (or clears) the node a pod was nominated to by preemption. */
  addNominatedPod(podInfo: PodInfo, nodeName: string): void {
    this.deleteNomination(podInfo.key);
    if (!nodeName) return;
    let m = this.nominated.get(nodeName);
    if (!m) this.nominated.set(nodeName, (m = new Map()));
    m.set(podInfo.key, podInfo);
    this.nominatedNode.set(podInfo.key, nodeName);
  }

  deleteNomination(k: string): void {
    const node = this.nominatedNode.get(k);
    if (node === undefined) return;
    this.nominatedNode.delete(k);
    const m = this.nominated.get(node);
    m?.delete(k);
    if (m && m.size === 0) this.nominated.delete(node);
  }

  nominatedPodsForNode(nodeName: string): Iterable<PodInfo> | undefined {
    return this.nominated.get(nodeName)?.values();
  }

  get hasNominatedPods(): boolean {
    return this.nominated.size > 0;
  }

  private updateNomination(podInfo: PodInfo): void {
    const n = podInfo.pod.status?.nominatedNodeName ?? '';
    const cur = this.nominatedNode.get(podInfo.key);
    if (n) {
      if (cur !== n || this.nominated.get(n)?.get(podInfo.key) !== podInfo) this.addNominatedPod(podInfo, n);
    } else if (cur !== undefined) {
      this.deleteNomination(podInfo.key);
    }
  }
}

function isGated(pod: Pod): boolean {
  return (pod.spec?.schedulingGates?.length ?? 0) > 0;
}

function specOrLabelsChanged(a: Pod, b: Pod): boolean {
  return JSON.stringify(a.spec) !== JSON.stringify(b.spec) || JSON.stringify(a.metadata?.labels ?? {}) !== JSON.stringify(b.metadata?.labels ?? {});
}
