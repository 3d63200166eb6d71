/**
 * The arithmetic of a PodDisruptionBudget's status, as kube-controller-manager's disruption
 * controller computes it (pkg/controller/disruption) — plain functions, no I/O:
 *
 * - expected pods and desired healthy:
 *   - maxUnavailable (int or percent): expected = the summed scale of the pods' controllers,
 *     desiredHealthy = max(0, expected - scaled(maxUnavailable, expected, round up));
 *   - minAvailable as an integer: expected = the number of matching pods, desiredHealthy = it;
 *   - minAvailable as a percentage: expected = the summed scale, desiredHealthy =
 *     scaled(minAvailable, expected, round up);
 *   - neither: both 0.
 * - currentHealthy: matching pods that are Ready, not being deleted, and not in disruptedPods
 *   (an entry younger than the deletion timeout).
 * - disruptionsAllowed = currentHealthy - desiredHealthy, but 0 when that is negative or when
 *   no pods are expected (so a budget whose pods have not appeared yet is safe).
 * - disruptedPods keeps the entries of pods that still exist, are not being deleted, and were
 *   disrupted less than the deletion timeout (2 minutes) ago; the earliest expiry is when the
 *   budget must be looked at again.
 * - The DisruptionAllowed condition: True/SufficientPods when disruptions are allowed,
 *   False/InsufficientPods otherwise, False/SyncFailed (with the error) when the sync failed;
 *   lastTransitionTime moves only when the status changes (meta.SetStatusCondition).
 */
import { isPodReady, type Obj } from '../replicaset/controller-utils.js';

/** How long an eviction's entry in disruptedPods keeps the pod out of currentHealthy (upstream DeletionTimeout). */
export const DELETION_TIMEOUT_MS = 2 * 60_000;

export const DISRUPTION_ALLOWED_CONDITION = 'DisruptionAllowed';
export const SUFFICIENT_PODS_REASON = 'SufficientPods';
export const INSUFFICIENT_PODS_REASON = 'InsufficientPods';
export const SYNC_FAILED_REASON = 'SyncFailed';

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export interface PdbStatus {
  observedGeneration?: number;
  disruptedPods?: Record<string, string>;
  disruptionsAllowed: number;
  currentHealthy: number;
  desiredHealthy: number;
  expectedPods: number;
  conditions?: Condition[];
}

/** metav1.Time: RFC 3339 with whole seconds. */
export function metaTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

/**
 * intstr.GetScaledValueFromIntOrPercent: an integer as is; "N%" as N percent of `total`,
 * rounded up or down. Anything else throws (upstream: "invalid value for IntOrString").
 */
export function scaledValue(v: number | string, total: number, roundUp: boolean): number {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`invalid value for IntOrString: invalid value ${v}`);
    return v;
  }
  if (typeof v === 'string') {
    const m = /^(-?\d+)%$/.exec(v);
    if (!m) {
      throw new Error(!v.endsWith('%')
        ? 'invalid value for IntOrString: invalid type: string is not a percentage'
        : `invalid value for IntOrString: invalid value "${v}": strconv.Atoi: parsing ${JSON.stringify(v.slice(0, -1))}: invalid syntax`);
    }
    const pct = Number(m[1]);
    const x = (pct * total) / 100;
    return roundUp ? Math.ceil(x) : Math.floor(x);
  }
  throw new Error('invalid value for IntOrString: invalid type: neither int nor percentage');
}

const isSet = (v: unknown) => v !== undefined && v !== null;

/** Whether the budget needs the controllers' scale (percentage minAvailable, or maxUnavailable). */
export function needsScale(pdb: Obj): boolean {
  const spec = pdb.spec ?? {};
  if (isSet(spec.maxUnavailable)) return true;
  return isSet(spec.minAvailable) && typeof spec.minAvailable === 'string';
}

/**
 * Expected pods and desired healthy. `expectedScale` is the summed scale of the controllers of
 * the matching pods (only asked for when needsScale(pdb)).
 */
export function expectedAndDesired(pdb: Obj, podCount: number, expectedScale: () => number): { expectedCount: number; desiredHealthy: number } {
  const spec = pdb.spec ?? {};
  if (isSet(spec.maxUnavailable)) {
    const expectedCount = expectedScale();
    const maxUnavailable = scaledValue(spec.maxUnavailable, expectedCount, true);
    return { expectedCount, desiredHealthy: Math.max(0, expectedCount - maxUnavailable) };
  }
  if (isSet(spec.minAvailable)) {
    if (typeof spec.minAvailable === 'number') return { expectedCount: podCount, desiredHealthy: spec.minAvailable };
    const expectedCount = expectedScale();
    return { expectedCount, desiredHealthy: scaledValue(spec.minAvailable, expectedCount, true) };
  }
  return { expectedCount: 0, desiredHealthy: 0 };
}

/**
 * buildDisruptedPodMap: the entries of status.disruptedPods still in force, the pods whose
 * entry expired without them being deleted, and when the earliest entry in force expires.
 */
export function activeDisruptedPods(pods: Obj[], pdb: Obj, now: number, timeoutMs = DELETION_TIMEOUT_MS): { disrupted: Record<string, string>; expired: Obj[]; recheckAt?: number } {
  const current: Record<string, string> = pdb.status?.disruptedPods ?? {};
  const disrupted: Record<string, string> = {};
  const expired: Obj[] = [];
  let recheckAt: number | undefined;
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue; // already being deleted
    const name = pod.metadata!.name!;
    if (!Object.prototype.hasOwnProperty.call(current, name)) continue;
    const at = Date.parse(current[name]);
    const expectedDeletion = (Number.isNaN(at) ? 0 : at) + timeoutMs;
    if (expectedDeletion < now) {
      expired.push(pod);
    } else {
      if (recheckAt === undefined || expectedDeletion < recheckAt) recheckAt = expectedDeletion;
      disrupted[name] = current[name];
    }
  }
  return { disrupted, expired, recheckAt };
}

/** countHealthyPods: Ready, not being deleted, not expected to be deleted soon. */
export function countHealthyPods(pods: Obj[], disrupted: Record<string, string>, now: number, timeoutMs = DELETION_TIMEOUT_MS): number {
  let n = 0;
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    const name = pod.metadata!.name!;
    if (Object.prototype.hasOwnProperty.call(disrupted, name)) {
      const at = Date.parse(disrupted[name]);
      if (!Number.isNaN(at) && at + timeoutMs > now) continue;
    }
    if (isPodReady(pod)) n++;
  }
  return n;
}

/** disruptionsAllowed: never negative, and 0 while no pods are expected. */
export function disruptionsAllowed(currentHealthy: number, desiredHealthy: number, expectedCount: number): number {
  const n = currentHealthy - desiredHealthy;
  return expectedCount <= 0 || n <= 0 ? 0 : n;
}

/** meta.SetStatusCondition: a new or changed status moves lastTransitionTime; the rest is overwritten. */
export function setStatusCondition(conditions: Condition[], c: Omit<Condition, 'lastTransitionTime'>, now: number): Condition[] {
  const out = conditions.map((x) => ({ ...x }));
  const existing = out.find((x) => x.type === c.type);
  if (!existing) {
    out.push({ ...c, lastTransitionTime: metaTime(now) });
    return out;
  }
  if (existing.status !== c.status) {
    existing.status = c.status;
    existing.lastTransitionTime = metaTime(now);
  }
  existing.reason = c.reason;
  existing.message = c.message;
  existing.observedGeneration = c.observedGeneration;
  return out;
}

/** pdbhelper.UpdateDisruptionAllowedCondition for a status. */
export function withDisruptionAllowedCondition(status: PdbStatus, now: number): PdbStatus {
  const allowed = status.disruptionsAllowed > 0;
  return {
    ...status,
    conditions: setStatusCondition(status.conditions ?? [], {
      type: DISRUPTION_ALLOWED_CONDITION,
      status: allowed ? 'True' : 'False',
      reason: allowed ? SUFFICIENT_PODS_REASON : INSUFFICIENT_PODS_REASON,
      message: '',
      observedGeneration: status.observedGeneration,
    }, now),
  };
}

/** pdbhelper.ConditionsAreUpToDate. */
export function conditionsAreUpToDate(pdb: Obj): boolean {
  const cond = (pdb.status?.conditions ?? []).find((c: Condition) => c.type === DISRUPTION_ALLOWED_CONDITION) as Condition | undefined;
  if (!cond) return false;
  if ((pdb.status?.observedGeneration ?? 0) !== (pdb.metadata?.generation ?? 0)) return false;
  if ((pdb.status?.disruptionsAllowed ?? 0) > 0) return cond.status === 'True' && cond.reason === SUFFICIENT_PODS_REASON;
  return cond.status === 'False' && cond.reason === INSUFFICIENT_PODS_REASON;
}

/** Two disruptedPods maps are equal (a missing map equals an empty one, as Semantic.DeepEqual). */
export function sameDisruptedPods(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {});
  const kb = Object.keys(b ?? {});
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b ?? {}, k) && Date.parse(a![k]) === Date.parse(b![k]));
}
