/**
 * Taint and toleration helpers for the node lifecycle controller (behaviour as documented in
 * Kubernetes' "Taints and Tolerations"; own implementation).
 */

export interface Taint {
  key: string;
  value?: string;
  effect: string;
  timeAdded?: string;
}

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const NO_SCHEDULE = 'NoSchedule';
export const NO_EXECUTE = 'NoExecute';

/** Whether `tol` tolerates `taint`: same effect (or any), and key/value per the operator. */
export function tolerates(tol: Toleration, taint: Taint): boolean {
  if (tol.effect && tol.effect !== taint.effect) return false;
  const op = tol.operator || 'Equal';
  if (op === 'Exists') {
    // An empty key with Exists tolerates every taint.
    return !tol.key || tol.key === taint.key;
  }
  if (op !== 'Equal') return false;
  return (tol.key ?? '') === taint.key && (tol.value ?? '') === (taint.value ?? '');
}

/** Same taint (key and effect identify a taint on a node). */
export function sameTaint(a: Taint, b: Taint): boolean {
  return a.key === b.key && a.effect === b.effect;
}

export type EvictionDecision =
  | { kind: 'none' }
  | { kind: 'now'; taint: Taint }
  | { kind: 'at'; at: number };

/**
 * When a pod with `tolerations` must leave a node carrying `taints`:
 * - some NoExecute taint has no matching toleration → now;
 * - otherwise each NoExecute taint is tolerated for the smallest tolerationSeconds among the
 *   tolerations that match it (a negative value counts as 0; a matching toleration without
 *   tolerationSeconds does not bound it), counted from `since(taint)` (the taint's timeAdded,
 *   or when it was first seen) → at the earliest such moment;
 * - no bound anywhere → never.
 */
export function evictionDecision(taints: Taint[], tolerations: Toleration[], since: (taint: Taint) => number): EvictionDecision {
  let earliest = Infinity;
  for (const taint of taints) {
    if (taint.effect !== NO_EXECUTE) continue;
    const matching = tolerations.filter((t) => tolerates(t, taint));
    if (!matching.length) return { kind: 'now', taint };
    let seconds = Infinity;
    for (const t of matching) {
      if (typeof t.tolerationSeconds === 'number') seconds = Math.min(seconds, Math.max(0, t.tolerationSeconds));
    }
    if (seconds === Infinity) continue;
    earliest = Math.min(earliest, since(taint) + seconds * 1000);
  }
  return earliest === Infinity ? { kind: 'none' } : { kind: 'at', at: earliest };
}
