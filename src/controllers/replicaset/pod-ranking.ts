/**
 * Which pods a ReplicaSet deletes first when it has too many: Kubernetes'
 * ActivePodsWithRanks ordering (pkg/controller/controller_utils.go) with the PodDeletionCost
 * and LogarithmicScaleDown behaviour that is on by default. Earlier in the order = deleted
 * first:
 *
 * 1. unscheduled before scheduled;
 * 2. Pending before Unknown before Running;
 * 3. not ready before ready;
 * 4. lower `controller.kubernetes.io/pod-deletion-cost` before higher;
 * 5. more related pods on the same node before fewer ("doubled up");
 * 6. both ready: ready more recently before longer (compared on a log2 time scale, ties by uid);
 * 7. more container restarts before fewer;
 * 8. created more recently before earlier (log2 scale, ties by uid).
 */
import { isPodActive, isPodReady, podReadyCondition, timeOf, POD_DELETION_COST_ANNOTATION, type Obj } from './controller-utils.js';

const PHASE_ORDINAL: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/** The pod-deletion-cost annotation as an int32 (0 when absent or invalid). */
export function deletionCost(pod: Obj): number {
  const v = pod.metadata?.annotations?.[POD_DELETION_COST_ANNOTATION];
  if (v === undefined || !/^[+-]?\d+$/.test(v.trim())) return 0;
  const n = Number(v.trim());
  return n >= -2147483648 && n <= 2147483647 ? n : 0;
}

function maxRestarts(pod: Obj): number {
  let max = 0;
  for (const c of pod.status?.containerStatuses ?? []) max = Math.max(max, Number(c?.restartCount) || 0);
  return max;
}

/** Negative when a is "more recent" than b on a log2 scale of age at `now` (logarithmicRankDiff). */
function logRankDiff(a: number, b: number, now: number): number {
  // Ages in nanoseconds, as upstream compares time.Durations.
  const ra = now - a > 0 ? Math.floor(Math.log2((now - a) * 1e6)) : -1;
  const rb = now - b > 0 ? Math.floor(Math.log2((now - b) * 1e6)) : -1;
  return ra - rb;
}

/** afterOrZero: a missing time sorts first, then the later time. */
function afterOrZero(a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a);
  return a > b;
}

export interface RankedPod {
  pod: Obj;
  /** Related active pods on the same node. */
  rank: number;
}

/** True when `a` should be deleted before `b`. */
export function deleteBefore(a: RankedPod, b: RankedPod, now: number): boolean {
  const pa = a.pod;
  const pb = b.pod;
  const na = pa.spec?.nodeName ?? '';
  const nb = pb.spec?.nodeName ?? '';
  if (na !== nb && (!na || !nb)) return !na;
  const oa = PHASE_ORDINAL[pa.status?.phase] ?? 0;
  const ob = PHASE_ORDINAL[pb.status?.phase] ?? 0;
  if (oa !== ob) return oa < ob;
  const ra = isPodReady(pa);
  const rb = isPodReady(pb);
  if (ra !== rb) return !ra;
  const ca = deletionCost(pa);
  const cb = deletionCost(pb);
  if (ca !== cb) return ca < cb;
  if (a.rank !== b.rank) return a.rank > b.rank;
  const uidLess = () => (pa.metadata?.uid ?? '') < (pb.metadata?.uid ?? '');
  if (ra && rb) {
    const ta = timeOf(podReadyCondition(pa)?.lastTransitionTime);
    const tb = timeOf(podReadyCondition(pb)?.lastTransitionTime);
    if (ta !== tb && !(Number.isNaN(ta) && Number.isNaN(tb))) {
      if (Number.isNaN(ta) || Number.isNaN(tb)) return afterOrZero(ta, tb);
      const d = logRankDiff(ta, tb, now);
      if (d === 0) return uidLess();
      return d < 0;
    }
  }
  const xa = maxRestarts(pa);
  const xb = maxRestarts(pb);
  if (xa !== xb) return xa > xb;
  const ta = timeOf(pa.metadata?.creationTimestamp);
  const tb = timeOf(pb.metadata?.creationTimestamp);
  if (ta !== tb && !(Number.isNaN(ta) && Number.isNaN(tb))) {
    if (Number.isNaN(ta) || Number.isNaN(tb)) return afterOrZero(ta, tb);
    const d = logRankDiff(ta, tb, now);
    if (d === 0) return uidLess();
    return d < 0;
  }
  return false;
}

/**
 * getPodsToDelete: the `n` pods of `pods` to delete, ranked with `related` (the active pods of
 * every ReplicaSet with the same controller, this one's included) counting co-located pods.
 */
export function podsToDelete(pods: Obj[], related: Obj[], n: number, now = Date.now()): Obj[] {
  if (n >= pods.length) return [...pods];
  const onNode = new Map<string, number>();
  for (const p of related) {
    if (!isPodActive(p)) continue;
    const node = p.spec?.nodeName ?? '';
    onNode.set(node, (onNode.get(node) ?? 0) + 1);
  }
  const ranked: RankedPod[] = pods.map((pod) => ({ pod, rank: onNode.get(pod.spec?.nodeName ?? '') ?? 0 }));
  ranked.sort((a, b) => (deleteBefore(a, b, now) ? -1 : deleteBefore(b, a, now) ? 1 : 0));
  return ranked.slice(0, n).map((r) => r.pod);
}
