/**
 * ProbeManager: one worker per (container instance, probe kind), as the kubelet's prober:
 * waits initialDelaySeconds, then probes every periodSeconds with timeoutSeconds; a result
 * flips only after successThreshold successes or failureThreshold failures in a row. Startup
 * probes gate the other two (liveness and readiness start once the container has started).
 * Results: readiness starts false (true when there is no probe), liveness and startup start
 * unknown. Each change calls `onChange(podUid)` so the pod worker syncs (a failed liveness or
 * startup probe makes the runtime manager restart the container; readiness goes into status).
 */
import type { Container, Pod, Probe } from 'kubernetes-types/core/v1.js';
import type { RuntimeService } from './cri/api.js';
import { execAction, grpcAction, httpGetAction, tcpAction, type ActionResult, type ActionTarget } from './lifecycle.js';
import { containerRef } from './runtime-manager.js';
import type { ObjectReference } from '../client/event-recorder.js';

type Kind = 'liveness' | 'readiness' | 'startup';
const TITLE: Record<Kind, string> = { liveness: 'Liveness', readiness: 'Readiness', startup: 'Startup' };

interface Worker {
  kind: Kind;
  containerId: string;
  podUid: string;
  timer?: NodeJS.Timeout;
  stopped: boolean;
  successes: number;
  failures: number;
  /** undefined = no result yet. */
  result?: boolean;
}

export interface ProbeManagerOptions {
  runtime: RuntimeService;
  onChange: (podUid: string, kind: 'liveness' | 'readiness' | 'startup') => void;
  event: (ref: ObjectReference, type: 'Normal' | 'Warning', reason: string, message: string) => void;
}

export class ProbeManager {
  private workers = new Map<string, Worker>();

  constructor(private readonly opts: ProbeManagerOptions) {}

  private key(id: string, kind: Kind) { return `${id}/${kind}`; }

  /** Makes sure running containers of the pod have their probe workers; stops the others. */
  ensure(pod: Pod, running: { id: string; container: Container }[], podIP: string): void {
    const uid = pod.metadata!.uid!;
    const want = new Set<string>();
    for (const { id, container: c } of running) {
      for (const kind of ['startup', 'liveness', 'readiness'] as Kind[]) {
        const probe = kind === 'liveness' ? c.livenessProbe : kind === 'readiness' ? c.readinessProbe : c.startupProbe;
        if (!probe) continue;
        const k = this.key(id, kind);
        want.add(k);
        if (!this.workers.has(k)) this.startWorker(pod, c, id, kind, probe, podIP);
      }
    }
    for (const [k, w] of this.workers) {
      if (w.podUid === uid && !want.has(k)) this.stopWorker(k, w);
    }
  }

  removePod(uid: string): void {
    for (const [k, w] of this.workers) if (w.podUid === uid) this.stopWorker(k, w);
  }

  stopAll(): void {
    for (const [k, w] of this.workers) this.stopWorker(k, w);
  }

  private stopWorker(k: string, w: Worker) {
    w.stopped = true;
    if (w.timer) clearTimeout(w.timer);
    this.workers.delete(k);
  }

  /** Whether the container has started (its startup probe succeeded, or it has none). */
  started(containerId: string, c: Container): boolean {
    if (!c.startupProbe) return true;
    return this.workers.get(this.key(containerId, 'startup'))?.result === true;
  }

  ready(containerId: string, c: Container): boolean {
    if (!c.readinessProbe) return true;
    return this.workers.get(this.key(containerId, 'readiness'))?.result === true;
  }

  /** 'liveness' / 'startup' when that probe has declared the container failed. */
  failed(containerId: string): 'liveness' | 'startup' | undefined {
    if (this.workers.get(this.key(containerId, 'startup'))?.result === false) return 'startup';
    if (this.workers.get(this.key(containerId, 'liveness'))?.result === false) return 'liveness';
    return undefined;
  }

  private startWorker(pod: Pod, c: Container, id: string, kind: Kind, probe: Probe, podIP: string) {
    const w: Worker = { kind, containerId: id, podUid: pod.metadata!.uid!, stopped: false, successes: 0, failures: 0 };
    const k = this.key(id, kind);
    this.workers.set(k, w);
    const period = Math.max(1, probe.periodSeconds ?? 10) * 1000;
    const timeout = Math.max(1, probe.timeoutSeconds ?? 1);
    const successThreshold = Math.max(1, probe.successThreshold ?? 1);
    const failureThreshold = Math.max(1, probe.failureThreshold ?? 3);
    const target: ActionTarget = { runtime: this.opts.runtime, containerId: id, pod, container: c, podIP: podIP || '127.0.0.1' };
    const tick = async () => {
      if (w.stopped) return;
      // Liveness and readiness wait until the startup probe (if any) has succeeded.
      if (kind !== 'startup' && c.startupProbe && this.workers.get(this.key(id, 'startup'))?.result !== true) {
        w.timer = setTimeout(tick, period);
        return;
      }
      // A startup probe that succeeded is done.
      if (kind === 'startup' && w.result === true) return;
      const r = await runProbe(target, probe, timeout);
      if (w.stopped) return;
      const before = w.result;
      if (r.ok) {
        w.failures = 0;
        w.successes++;
        if (w.successes >= successThreshold) w.result = true;
      } else {
        w.successes = 0;
        w.failures++;
        this.opts.event(containerRef(pod, c.name), 'Warning', 'Unhealthy', `${TITLE[kind]} probe failed: ${r.message}`);
        if (w.failures >= failureThreshold) w.result = false;
      }
      if (before !== w.result) this.opts.onChange(w.podUid, kind);
      // After a liveness/startup failure the container is restarted; this worker stops with it.
      if ((kind === 'liveness' || kind === 'startup') && w.result === false) return;
      w.timer = setTimeout(tick, period);
    };
    w.timer = setTimeout(tick, Math.max(0, probe.initialDelaySeconds ?? 0) * 1000);
  }
}

export function runProbe(t: ActionTarget, probe: Probe, timeoutSeconds: number): Promise<ActionResult> {
  if (probe.exec?.command) return execAction(t, probe.exec.command, timeoutSeconds);
  if (probe.httpGet) return httpGetAction(t, probe.httpGet, timeoutSeconds);
  if (probe.tcpSocket) return tcpAction(t, probe.tcpSocket, timeoutSeconds);
  if (probe.grpc) return grpcAction(t, probe.grpc, timeoutSeconds);
  return Promise.resolve({ ok: false, message: 'probe has no action' });
}
