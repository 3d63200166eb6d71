/**
 * The pure parts of the Deployment controller, after Kubernetes'
 * pkg/controller/deployment/util/deployment_util.go (behaviour, written anew): the
 * pod-template-hash, revision and replica annotations, maxSurge/maxUnavailable, finding the new
 * and old ReplicaSets, proportional scaling, conditions and the status a Deployment reports.
 *
 * Two deliberate differences from upstream, both only ever making a rollout wait a little
 * longer, never act differently:
 * - The room the new ReplicaSet may grow into counts each ReplicaSet as
 *   max(spec.replicas, status.replicas): an old ReplicaSet that was just scaled down still has
 *   its pods until its controller deletes them, and upstream's spec-only count lets the new
 *   pods appear before the old ones are gone (briefly more than replicas + maxSurge).
 * - Availability counts each ReplicaSet as min(spec.replicas, status.availableReplicas): pods an
 *   old ReplicaSet is about to delete are not available for long, and counting them (upstream)
 *   can scale old ReplicaSets down further than maxUnavailable allows while their status lags.
 */
import { byCreationTimestamp, nowTime, timeOf, type Obj } from '../replicaset/controller-utils.js';
import { deepEqual, isObject } from '../../util/objects.js';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
export const DEPRECATED_ROLLBACK_TO = 'deprecated.deployment.rollback.to';
/** The label that tells a Deployment's ReplicaSets (and their pods) apart (DefaultDeploymentUniqueLabelKey). */
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
/** Longest revision-history annotation kept (upstream maxRevHistoryLengthInChars). */
export const MAX_REV_HISTORY_LENGTH = 2000;
const MAX_INT32 = 2147483647;

// Condition reasons (deployment_util.go).
export const REASON_RS_UPDATED = 'ReplicaSetUpdated';
export const REASON_FAILED_RS_CREATE = 'ReplicaSetCreateError';
export const REASON_NEW_RS = 'NewReplicaSetCreated';
export const REASON_FOUND_NEW_RS = 'FoundNewReplicaSet';
export const REASON_NEW_RS_AVAILABLE = 'NewReplicaSetAvailable';
export const REASON_TIMED_OUT = 'ProgressDeadlineExceeded';
export const REASON_PAUSED = 'DeploymentPaused';
export const REASON_RESUMED = 'DeploymentResumed';
export const REASON_MIN_AVAILABLE = 'MinimumReplicasAvailable';
export const REASON_MIN_UNAVAILABLE = 'MinimumReplicasUnavailable';

export interface DeploymentCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastUpdateTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  collisionCount?: number;
  conditions?: DeploymentCondition[];
}

// ---- numbers ------------------------------------------------------------------------------------

export const specReplicas = (o: Obj | undefined): number => (o?.spec?.replicas ?? (o ? 1 : 0)) as number;
const statusNum = (o: Obj | undefined, f: string): number => Number(o?.status?.[f] ?? 0) || 0;

/**
 * intstr.GetScaledValueFromIntOrPercent: an int, or "N%" of `total` rounded up or down.
 * Throws on anything else (validation refuses those).
 */
export function scaledValue(v: number | string | undefined, total: number, roundUp: boolean): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  const m = /^(-?\d+)%$/.exec(v);
  if (!m) throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage`);
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

/**
 * ResolveFenceposts: maxSurge rounds up, maxUnavailable rounds down; if both come out 0,
 * maxUnavailable is 1 so a rollout can always move.
 */
export function resolveFenceposts(maxSurge: number | string | undefined, maxUnavailable: number | string | undefined, desired: number): { surge: number; unavailable: number } {
  const surge = scaledValue(maxSurge ?? 0, desired, true);
  let unavailable = scaledValue(maxUnavailable ?? 0, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

export const isRollingUpdate = (d: Obj): boolean => (d.spec?.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';

export function maxSurge(d: Obj): number {
  if (!isRollingUpdate(d)) return 0;
  const ru = d.spec?.strategy?.rollingUpdate ?? {};
  return resolveFenceposts(ru.maxSurge, ru.maxUnavailable, specReplicas(d)).surge;
}

export function maxUnavailable(d: Obj): number {
  const replicas = specReplicas(d);
  if (!isRollingUpdate(d) || replicas === 0) return 0;
  const ru = d.spec?.strategy?.rollingUpdate ?? {};
  return Math.min(resolveFenceposts(ru.maxSurge, ru.maxUnavailable, replicas).unavailable, replicas);
}

export const hasProgressDeadline = (d: Obj): boolean => typeof d.spec?.progressDeadlineSeconds === 'number' && d.spec.progressDeadlineSeconds !== MAX_INT32;
export const hasRevisionHistoryLimit = (d: Obj): boolean => typeof d.spec?.revisionHistoryLimit === 'number' && d.spec.revisionHistoryLimit !== MAX_INT32;

/** FilterActiveReplicaSets: those with spec.replicas > 0. */
export const activeReplicaSets = (rss: Array<Obj | undefined>): Obj[] => rss.filter((r): r is Obj => !!r && specReplicas(r) > 0);

export const sumSpecReplicas = (rss: Array<Obj | undefined>): number => rss.reduce((n, r) => n + (r ? specReplicas(r) : 0), 0);
export const sumStatus = (rss: Array<Obj | undefined>, f: 'replicas' | 'readyReplicas' | 'availableReplicas'): number => rss.reduce((n, r) => n + (r ? statusNum(r, f) : 0), 0);

/** An upper bound of the pods a ReplicaSet has: its spec, or more while a scale-down is in flight. */
export const podsUpperBound = (rs: Obj): number => Math.max(specReplicas(rs), statusNum(rs, 'replicas'));
/** A lower bound of its available pods: those beyond spec.replicas are about to go. */
export const availableLowerBound = (rs: Obj): number => Math.min(specReplicas(rs), statusNum(rs, 'availableReplicas'));

// ---- hashing ------------------------------------------------------------------------------------

/** JSON with object keys sorted, so equal values always give the same text. */
export function canonicalJSON(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map((x) => canonicalJSON(x === undefined ? null : x)).join(',')}]`;
  if (isObject(v)) {
    const keys = Object.keys(v).filter((k) => v[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJSON(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** 32-bit FNV-1a. */
export function fnv32a(data: Uint8Array, h = 0x811c9dc5): number {
  for (const b of data) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** rand.SafeEncodeString: each character mapped into an alphabet without vowels (no words, no 0/1/3). */
export function safeEncodeString(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) out += SAFE_ALPHABET[b % SAFE_ALPHABET.length];
  return out;
}

/**
 * ComputeHash: the pod-template-hash of a template, FNV-32a over its canonical JSON (upstream
 * hashes the Go struct dump instead, so values differ from Kubernetes' but are just as
 * stable), then the collision count as 8 little-endian bytes when set, rendered as the decimal
 * sum safe-encoded.
 */
export function computeHash(template: unknown, collisionCount?: number): string {
  let h = fnv32a(Buffer.from(canonicalJSON(template ?? {}), 'utf8'));
  if (typeof collisionCount === 'number') {
    const b = Buffer.alloc(8);
    b.writeUInt32LE(collisionCount >>> 0, 0);
    h = fnv32a(b, h);
  }
  return safeEncodeString(String(h));
}

// ---- templates and replica sets -----------------------------------------------------------------

/** Empty lists/maps and nulls dropped, as apimachinery's semantic equality treats them as unset. */
function normalized(v: unknown): unknown {
  if (Array.isArray(v)) return v.length ? v.map(normalized) : undefined;
  if (isObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const n = normalized(x);
      if (n !== undefined) out[k] = n;
    }
    return Object.keys(out).length ? out : undefined;
  }
  return v === null ? undefined : v;
}

/** EqualIgnoreHash: templates equal apart from the pod-template-hash label. */
export function equalIgnoreHash(t1: any, t2: any): boolean {
  const strip = (t: any) => {
    const c = structuredClone(t ?? {});
    if (c.metadata?.labels) delete c.metadata.labels[POD_TEMPLATE_HASH_LABEL];
    return normalized(c);
  };
  return deepEqual(strip(t1), strip(t2));
}

/** FindNewReplicaSet: the oldest ReplicaSet whose template is the Deployment's. */
export function findNewReplicaSet(d: Obj, rsList: Obj[]): Obj | undefined {
  return [...rsList].sort(byCreationTimestamp).find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
}

/** FindOldReplicaSets: every other ReplicaSet (`all`), and those of them with replicas (`active`). */
export function findOldReplicaSets(d: Obj, rsList: Obj[]): { active: Obj[]; all: Obj[] } {
  const newRS = findNewReplicaSet(d, rsList);
  const all = rsList.filter((rs) => !newRS || rs.metadata?.uid !== newRS.metadata?.uid);
  return { active: all.filter((rs) => specReplicas(rs) !== 0), all };
}

/** The revision annotation as a number: 0 when absent, NaN when not an integer. */
export function revisionOf(o: Obj | undefined): number {
  const v = o?.metadata?.annotations?.[REVISION_ANNOTATION];
  if (v === undefined) return 0;
  return /^[+-]?\d+$/.test(v) ? Number(v) : NaN;
}

/** MaxRevision: the highest parseable revision (0 if none). */
export function maxRevision(rss: Obj[]): number {
  let max = 0;
  for (const rs of rss) {
    const v = revisionOf(rs);
    if (!Number.isNaN(v) && v > max) max = v;
  }
  return max;
}

function annotations(o: Obj): Record<string, string> {
  o.metadata ??= {};
  return (o.metadata.annotations ??= {});
}

const SKIPPED_ANNOTATIONS = new Set([
  LAST_APPLIED_ANNOTATION, REVISION_ANNOTATION, REVISION_HISTORY_ANNOTATION, DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION, DEPRECATED_ROLLBACK_TO,
]);

/** Whether a Deployment annotation is not copied to its ReplicaSets (and not restored by rollback). */
export const skipCopyAnnotation = (k: string): boolean => SKIPPED_ANNOTATIONS.has(k);

/** Copies the Deployment's annotations (but the skipped ones) onto `rs`; true if any changed. */
export function copyDeploymentAnnotationsToReplicaSet(d: Obj, rs: Obj): boolean {
  const ann = annotations(rs);
  let changed = false;
  for (const [k, v] of Object.entries(d.metadata?.annotations ?? {})) {
    if (skipCopyAnnotation(k) || ann[k] === v) continue;
    ann[k] = v;
    changed = true;
  }
  return changed;
}

/** SetReplicasAnnotations: desired-replicas and max-replicas; true if either changed. */
export function setReplicasAnnotations(rs: Obj, desired: number, max: number): boolean {
  const ann = annotations(rs);
  let changed = false;
  if (ann[DESIRED_REPLICAS_ANNOTATION] !== String(desired)) { ann[DESIRED_REPLICAS_ANNOTATION] = String(desired); changed = true; }
  if (ann[MAX_REPLICAS_ANNOTATION] !== String(max)) { ann[MAX_REPLICAS_ANNOTATION] = String(max); changed = true; }
  return changed;
}

export function replicasAnnotationsNeedUpdate(rs: Obj, desired: number, max: number): boolean {
  const ann = rs.metadata?.annotations ?? {};
  return ann[DESIRED_REPLICAS_ANNOTATION] !== String(desired) || ann[MAX_REPLICAS_ANNOTATION] !== String(max);
}

function intAnnotation(rs: Obj, key: string): number | undefined {
  const v = rs.metadata?.annotations?.[key];
  if (v === undefined || !/^[+-]?\d+$/.test(v)) return undefined;
  return Number(v);
}
export const desiredReplicasAnnotation = (rs: Obj): number | undefined => intAnnotation(rs, DESIRED_REPLICAS_ANNOTATION);
export const maxReplicasAnnotation = (rs: Obj): number | undefined => intAnnotation(rs, MAX_REPLICAS_ANNOTATION);

/**
 * SetNewReplicaSetAnnotations: copy the Deployment's annotations, raise the revision to
 * `newRevision` if it is lower (remembering the old one in revision-history: the ReplicaSet is
 * being rolled back to), and on a ReplicaSet about to be created the replica annotations.
 * Returns whether anything changed.
 */
export function setNewReplicaSetAnnotations(d: Obj, rs: Obj, newRevision: string, exists: boolean, historyLimit = MAX_REV_HISTORY_LENGTH): boolean {
  let changed = copyDeploymentAnnotationsToReplicaSet(d, rs);
  const ann = annotations(rs);
  const oldRevision = ann[REVISION_ANNOTATION];
  const hadRevision = oldRevision !== undefined;
  let oldRev = 0;
  if (hadRevision) {
    if (!/^[+-]?\d+$/.test(oldRevision)) return false;
    oldRev = Number(oldRevision);
  }
  if (!/^[+-]?\d+$/.test(newRevision)) return false;
  const newRev = Number(newRevision);
  if (oldRev < newRev) {
    ann[REVISION_ANNOTATION] = newRevision;
    changed = true;
    if (hadRevision) {
      const history = ann[REVISION_HISTORY_ANNOTATION] ?? '';
      if (!history) ann[REVISION_HISTORY_ANNOTATION] = oldRevision;
      else {
        let entries = history.split(',');
        let total = history.length + oldRevision.length + 1;
        while (total > historyLimit && entries.length) {
          total -= entries[0]!.length + 1;
          entries = entries.slice(1);
        }
        if (total <= historyLimit) ann[REVISION_HISTORY_ANNOTATION] = [...entries, oldRevision].join(',');
      }
    }
  }
  if (!exists && setReplicasAnnotations(rs, specReplicas(d), specReplicas(d) + maxSurge(d))) changed = true;
  return changed;
}

/** SetDeploymentRevision; true if it changed. */
export function setDeploymentRevision(d: Obj, revision: string | undefined): boolean {
  if (revision === undefined) return false;
  const ann = annotations(d);
  if (ann[REVISION_ANNOTATION] === revision) return false;
  ann[REVISION_ANNOTATION] = revision;
  return true;
}

/** FindActiveOrLatest: the only ReplicaSet with replicas, or the newest if none has; undefined if several have. */
export function findActiveOrLatest(newRS: Obj | undefined, oldRSs: Obj[]): Obj | undefined {
  if (!newRS && !oldRSs.length) return undefined;
  const newestFirst = [...oldRSs].sort((a, b) => byCreationTimestamp(b, a));
  const active = activeReplicaSets([...newestFirst, newRS]);
  if (active.length === 0) return newRS ?? newestFirst[0];
  if (active.length === 1) return active[0];
  return undefined;
}

/** IsSaturated: the new ReplicaSet owns all desired replicas, and they are all available. */
export function isSaturated(d: Obj, rs: Obj | undefined): boolean {
  if (!rs) return false;
  const desired = desiredReplicasAnnotation(rs);
  if (desired === undefined) return false;
  const replicas = specReplicas(d);
  return specReplicas(rs) === replicas && desired === replicas && statusNum(rs, 'availableReplicas') === replicas;
}

/** getReplicaSetFraction: how much `rs` should grow (or shrink) for the Deployment's new size. */
export function replicaSetFraction(rs: Obj, d: Obj): number {
  const replicas = specReplicas(d);
  if (replicas === 0) return -specReplicas(rs);
  const deploymentReplicas = replicas + maxSurge(d);
  const annotated = maxReplicasAnnotation(rs) ?? statusNum(d, 'replicas');
  // Never reached with annotated = 0 for a ReplicaSet with replicas (see getProportion's guard).
  if (!annotated) return 0;
  return roundHalfAwayFromZero((specReplicas(rs) * deploymentReplicas) / annotated) - specReplicas(rs);
}

function roundHalfAwayFromZero(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** GetProportion: the share of `toAdd` for `rs`, never past what is left to distribute. */
export function getProportion(rs: Obj | undefined, d: Obj, toAdd: number, added: number): number {
  if (!rs || specReplicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  const fraction = replicaSetFraction(rs, d);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

/** ReplicaSetsBySizeNewer: larger first, newer first among equals (scaling up). */
export function bySizeNewer(a: Obj, b: Obj): number {
  const d = specReplicas(b) - specReplicas(a);
  return d !== 0 ? d : byCreationTimestamp(b, a);
}

/** ReplicaSetsBySizeOlder: larger first, older first among equals (scaling down). */
export function bySizeOlder(a: Obj, b: Obj): number {
  const d = specReplicas(b) - specReplicas(a);
  return d !== 0 ? d : byCreationTimestamp(a, b);
}

/** ReplicaSetsByRevision: lower revision first (then older). */
export function byRevision(a: Obj, b: Obj): number {
  const ra = revisionOf(a);
  const rb = revisionOf(b);
  if (ra === rb || Number.isNaN(ra) || Number.isNaN(rb)) return byCreationTimestamp(a, b);
  return ra - rb;
}

/**
 * NewRSNewReplicas: how many replicas the new ReplicaSet should have now. RollingUpdate: grow
 * into the room left under replicas + maxSurge (pods counted as podsUpperBound), never past
 * replicas. Recreate: all of them.
 */
export function newRSNewReplicas(d: Obj, allRSs: Array<Obj | undefined>, newRS: Obj): number {
  const replicas = specReplicas(d);
  if (!isRollingUpdate(d)) {
    if (d.spec?.strategy?.type !== 'Recreate') throw new Error(`deployment type ${d.spec?.strategy?.type} isn't supported`);
    return replicas;
  }
  const surge = scaledValue(d.spec?.strategy?.rollingUpdate?.maxSurge ?? 0, replicas, true);
  const current = allRSs.reduce((n, rs) => n + (rs ? podsUpperBound(rs) : 0), 0);
  const maxTotal = replicas + surge;
  if (current >= maxTotal) return specReplicas(newRS);
  const scaleUp = Math.min(maxTotal - current, replicas - specReplicas(newRS));
  return specReplicas(newRS) + Math.max(0, scaleUp);
}

// ---- conditions ---------------------------------------------------------------------------------

export function newCondition(type: string, status: DeploymentCondition['status'], reason: string, message: string, now = nowTime()): DeploymentCondition {
  return { type, status, lastUpdateTime: now, lastTransitionTime: now, reason, message };
}

export function getCondition(status: DeploymentStatus | undefined, type: string): DeploymentCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/**
 * SetDeploymentCondition: replaces the condition of that type unless status and reason are the
 * same; keeps lastTransitionTime when the status does not change.
 */
export function setCondition(status: DeploymentStatus, cond: DeploymentCondition): void {
  const cur = getCondition(status, cond.type);
  if (cur && cur.status === cond.status && cur.reason === cond.reason) return;
  const next = { ...cond };
  if (cur && cur.status === cond.status) next.lastTransitionTime = cur.lastTransitionTime;
  status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== cond.type), next];
}

export function removeCondition(status: DeploymentStatus, type: string): void {
  if (!status.conditions) return;
  status.conditions = status.conditions.filter((c) => c.type !== type);
  if (!status.conditions.length) delete status.conditions;
}

// ---- status -------------------------------------------------------------------------------------

/** calculateStatus: what the Deployment reports for its ReplicaSets, with the Available condition. */
export function calculateStatus(allRSs: Array<Obj | undefined>, newRS: Obj | undefined, d: Obj): DeploymentStatus {
  const available = sumStatus(allRSs, 'availableReplicas');
  const total = sumSpecReplicas(allRSs);
  const status: DeploymentStatus = {
    observedGeneration: d.metadata?.generation ?? 0,
    replicas: sumStatus(allRSs, 'replicas'),
    updatedReplicas: newRS ? statusNum(newRS, 'replicas') : 0,
    readyReplicas: sumStatus(allRSs, 'readyReplicas'),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, total - available),
  };
  if (typeof d.status?.collisionCount === 'number') status.collisionCount = d.status.collisionCount;
  const conditions = (d.status?.conditions ?? []).map((c: DeploymentCondition) => ({ ...c }));
  if (conditions.length) status.conditions = conditions;
  if (available >= specReplicas(d) - maxUnavailable(d)) {
    setCondition(status, newCondition('Available', 'True', REASON_MIN_AVAILABLE, 'Deployment has minimum availability.'));
  } else {
    setCondition(status, newCondition('Available', 'False', REASON_MIN_UNAVAILABLE, 'Deployment does not have minimum availability.'));
  }
  return omitEmpty(status);
}

/**
 * Drops zero counts, as the Go types' `omitempty` does in what Kubernetes serves (every
 * DeploymentStatus count is omitempty), so clients see the same documents.
 */
export function omitEmpty(status: DeploymentStatus): DeploymentStatus {
  const out: DeploymentStatus = { ...status };
  for (const k of ['observedGeneration', 'replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas'] as const) {
    if (!out[k]) delete out[k];
  }
  if (!out.conditions?.length) delete out.conditions;
  return out;
}

/** DeploymentComplete: every desired replica updated and available, no old ones, spec observed. */
export function deploymentComplete(d: Obj, s: DeploymentStatus): boolean {
  const replicas = specReplicas(d);
  return (s.updatedReplicas ?? 0) === replicas && (s.replicas ?? 0) === replicas && (s.availableReplicas ?? 0) === replicas &&
    (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
}

/** DeploymentProgressing: more updated, fewer old, more ready or more available pods than before. */
export function deploymentProgressing(d: Obj, s: DeploymentStatus): boolean {
  const old: DeploymentStatus = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (s.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) || newOld < oldOld ||
    (s.readyReplicas ?? 0) > (old.readyReplicas ?? 0) || (s.availableReplicas ?? 0) > (old.availableReplicas ?? 0);
}

/**
 * DeploymentTimedOut: the Progressing condition was last updated more than
 * progressDeadlineSeconds ago (or already says ProgressDeadlineExceeded); never after a
 * completed rollout.
 */
export function deploymentTimedOut(d: Obj, s: DeploymentStatus, now = Date.now()): boolean {
  if (!hasProgressDeadline(d)) return false;
  const cond = getCondition(s, 'Progressing');
  if (!cond) return false;
  if (cond.reason === REASON_NEW_RS_AVAILABLE) return false;
  if (cond.reason === REASON_TIMED_OUT) return true;
  const from = timeOf(cond.lastUpdateTime);
  if (Number.isNaN(from)) return false;
  return from + d.spec.progressDeadlineSeconds * 1000 < now;
}

/** The Deployment's own label selector is `{}` (selects every pod): refused, as upstream. */
export function selectsEverything(d: Obj): boolean {
  const sel = d.spec?.selector;
  return isObject(sel) && !Object.keys(sel.matchLabels ?? {}).length && !(sel.matchExpressions ?? []).length;
}

/** A copy of `sel` (a metav1.LabelSelector) also requiring key=value. */
export function selectorWithLabel(sel: any, key: string, value: string): any {
  const out = structuredClone(sel ?? {});
  out.matchLabels = { ...(out.matchLabels ?? {}), [key]: value };
  return out;
}
