/**
 * Helpers shared by the workload controllers (ReplicaSet, Deployment), after Kubernetes'
 * pkg/controller/controller_utils.go and controller_ref_manager.go (behaviour, not code):
 *
 * - pod state: active / ready / available (minReadySeconds), as podutil reads them;
 * - ControllerExpectations: what a controller has asked for and not yet seen in its informer,
 *   so it does not act twice on a stale cache (UID-tracking for deletions);
 * - claimObjects: adopt matching orphans and release owned objects that stopped matching,
 *   with upstream's rules (never while the owner is being deleted, a fresh check that the owner
 *   still exists before the first adoption, strategic-merge patches with a uid precondition);
 * - slowStartBatch: 1, 2, 4, ... calls at a time, stopping at the first failure.
 *
 * They live here because only the ReplicaSet and Deployment controllers use them so far; they
 * belong in a shared controllers/util/ once another controller needs them.
 */
import { setMaxListeners } from 'node:events';
import { isNotFound, type ResourceDescriptor, type RestClient } from '../../client/index.js';
import type { LabelSelector } from '../../apimachinery/labels.js';
import type { ObjectReference } from '../../client/event-recorder.js';

export const PODS: ResourceDescriptor = { group: '', version: 'v1', plural: 'pods', namespaced: true };
export const REPLICASETS: ResourceDescriptor = { group: 'apps', version: 'v1', plural: 'replicasets', namespaced: true };
export const DEPLOYMENTS: ResourceDescriptor = { group: 'apps', version: 'v1', plural: 'deployments', namespaced: true };

export interface OwnerRef {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** The parts of an object the helpers read (pods, replica sets and deployments all fit). */
export interface Obj {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: OwnerRef[];
    [k: string]: unknown;
  };
  spec?: any;
  status?: any;
}

/** Pod label/annotation keys Kubernetes gives meaning to. */
export const POD_DELETION_COST_ANNOTATION = 'controller.kubernetes.io/pod-deletion-cost';

/** RFC 3339 with seconds, as metav1.Time serializes. */
export function nowTime(d = new Date()): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Parses a metav1.Time; NaN when absent or malformed. */
export function timeOf(t: string | undefined): number {
  return t ? Date.parse(t) : NaN;
}

/**
 * A signal of the controller's own that aborts with `signal`. Every informer watch and every
 * waiting call listens on it; one shared signal would pass Node's listener warning threshold
 * (the garbage collector does the same).
 */
export function innerSignal(signal: AbortSignal): AbortSignal {
  const inner = new AbortController();
  setMaxListeners(0, inner.signal);
  if (signal.aborted) inner.abort();
  else signal.addEventListener('abort', () => inner.abort(), { once: true });
  return inner.signal;
}

// ---- owner references ---------------------------------------------------------------------------

/** metav1.GetControllerOf: the owner reference with controller=true, if any. */
export function getControllerOf(obj: Obj | undefined): OwnerRef | undefined {
  return obj?.metadata?.ownerReferences?.find((r) => r?.controller === true);
}

/** The controller reference an owner puts on what it creates (metav1.NewControllerRef). */
export function newControllerRef(owner: Obj, apiVersion: string, kind: string): OwnerRef {
  return { apiVersion, kind, name: owner.metadata!.name!, uid: owner.metadata!.uid!, controller: true, blockOwnerDeletion: true };
}

/** The API group of an ownerReference's apiVersion ("apps/v1" → "apps", "v1" → ""). */
export function groupOf(apiVersion: string | undefined): string {
  const s = apiVersion ?? '';
  const i = s.indexOf('/');
  return i < 0 ? '' : s.slice(0, i);
}

// ---- events -------------------------------------------------------------------------------------

/** Event reasons controller_utils.go's PodControl records (upstream names). */
export const SUCCESSFUL_CREATE = 'SuccessfulCreate';
export const FAILED_CREATE = 'FailedCreate';
export const SUCCESSFUL_DELETE = 'SuccessfulDelete';
export const FAILED_DELETE = 'FailedDelete';

/** The reference an Event names its object by (what `kubectl describe` looks events up with). */
export function objectRef(obj: Obj, apiVersion: string, kind: string): ObjectReference {
  const ref: ObjectReference = { kind, apiVersion, name: obj.metadata?.name ?? '' };
  if (obj.metadata?.namespace) ref.namespace = obj.metadata.namespace;
  if (obj.metadata?.uid) ref.uid = obj.metadata.uid;
  if (obj.metadata?.resourceVersion) ref.resourceVersion = obj.metadata.resourceVersion;
  return ref;
}

/** An error as Go's %v prints it in event messages: the API Status message, else the text. */
export function errorText(err: unknown): string {
  return (err as Error)?.message ?? String(err);
}

/** The API refused a create because the namespace is terminating (NamespaceTerminatingCause). */
export function isNamespaceTerminating(err: unknown): boolean {
  const e = err as { code?: number; status?: { details?: { causes?: Array<{ type?: string }> } }; message?: string };
  if (e?.code !== 403) return false;
  if (e.status?.details?.causes?.some((c) => c?.type === 'NamespaceTerminating')) return true;
  return /because it is being terminated/.test(e.message ?? '');
}

// ---- controller revisions -----------------------------------------------------------------------

export const CONTROLLERREVISIONS: ResourceDescriptor = { group: 'apps', version: 'v1', plural: 'controllerrevisions', namespaced: true };

/**
 * The `data` of a StatefulSet's or DaemonSet's ControllerRevision, as upstream's getPatch writes
 * it: a strategic merge patch that replaces the whole pod template, so `kubectl rollout undo`
 * (which applies it to the object) restores that template exactly and `kubectl rollout
 * history --revision` can show it.
 */
export function revisionData(template: unknown): { spec: { template: Record<string, unknown> } } {
  return { spec: { template: { ...(structuredClone(template ?? {}) as Record<string, unknown>), $patch: 'replace' } } };
}

/** The pod template a ControllerRevision holds (without the patch directive). */
export function revisionTemplate(rev: Obj): any | undefined {
  const t = (rev as { data?: { spec?: { template?: Record<string, unknown> } } }).data?.spec?.template;
  if (!t) return undefined;
  const { $patch: _directive, ...template } = t;
  return template;
}

// ---- pods ---------------------------------------------------------------------------------------

/** controller.IsPodActive: not terminal and not being deleted. */
export function isPodActive(pod: Obj): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata?.deletionTimestamp;
}

export function podReadyCondition(pod: Obj): { status?: string; lastTransitionTime?: string } | undefined {
  const conds = pod.status?.conditions;
  return Array.isArray(conds) ? conds.find((c: any) => c?.type === 'Ready') : undefined;
}

/** podutil.IsPodReady: the Ready condition is True. */
export function isPodReady(pod: Obj): boolean {
  return podReadyCondition(pod)?.status === 'True';
}

/**
 * podutil.IsPodAvailable: ready, and — when minReadySeconds > 0 — ready since at least
 * minReadySeconds (a Ready condition without lastTransitionTime never counts then).
 */
export function isPodAvailable(pod: Obj, minReadySeconds: number, now: number): boolean {
  const c = podReadyCondition(pod);
  if (c?.status !== 'True') return false;
  if (!minReadySeconds) return true;
  const t = timeOf(c.lastTransitionTime);
  return Number.isFinite(t) && t + minReadySeconds * 1000 < now;
}

/**
 * When a ready-but-not-yet-available pod becomes available (ms since epoch), or undefined when
 * that is not expected (not ready, already available, no transition time).
 */
export function podAvailableAt(pod: Obj, minReadySeconds: number): number | undefined {
  if (!minReadySeconds) return undefined;
  const c = podReadyCondition(pod);
  if (c?.status !== 'True') return undefined;
  const t = timeOf(c.lastTransitionTime);
  return Number.isFinite(t) ? t + minReadySeconds * 1000 : undefined;
}

// ---- ordering -----------------------------------------------------------------------------------

/**
 * controller.ReplicaSetsByCreationTimestamp: older first; equal times ordered by name, so the
 * order is total and stable.
 */
export function byCreationTimestamp(a: Obj, b: Obj): number {
  const ta = timeOf(a.metadata?.creationTimestamp);
  const tb = timeOf(b.metadata?.creationTimestamp);
  if (ta !== tb && !(Number.isNaN(ta) && Number.isNaN(tb))) {
    if (Number.isNaN(ta)) return -1;
    if (Number.isNaN(tb)) return 1;
    return ta - tb;
  }
  const na = a.metadata?.name ?? '';
  const nb = b.metadata?.name ?? '';
  return na < nb ? -1 : na > nb ? 1 : 0;
}

// ---- slow start ---------------------------------------------------------------------------------

/**
 * controller_utils' slowStartBatch: calls `fn` `count` times, first `initial` at once, then
 * twice as many per batch, so a failing call (e.g. quota) costs a few requests, not hundreds.
 * Stops after the first batch with a failure. Returns how many calls succeeded and the first
 * error.
 */
export async function slowStartBatch(count: number, initial: number, fn: (i: number) => Promise<void>): Promise<{ successes: number; error?: unknown }> {
  let remaining = count;
  let successes = 0;
  let index = 0;
  for (let batch = Math.min(remaining, initial); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn(index++)));
    let error: unknown;
    for (const r of results) {
      if (r.status === 'fulfilled') successes++;
      else error ??= r.reason;
    }
    if (error !== undefined) return { successes, error };
    remaining -= batch;
  }
  return { successes };
}

// ---- expectations -------------------------------------------------------------------------------

/** How long an expectation is trusted before the controller acts anyway (upstream: 5 minutes). */
export const EXPECTATIONS_TIMEOUT_MS = 5 * 60_000;

interface Expectation {
  add: number;
  del: number;
  /** Keys of pods whose deletion is awaited (each counted once: UIDTrackingControllerExpectations). */
  deleteKeys: Set<string>;
  timestamp: number;
}

/**
 * ControllerExpectations (+ UID tracking for deletions): per controller key, how many creations
 * and which deletions it has asked the API server for and not yet seen in its informer. A sync
 * only acts when expectations are satisfied (all observed, or older than the timeout), which is
 * what keeps a controller from creating a second batch of pods while its cache still lacks the
 * first.
 */
export class ControllerExpectations {
  private items = new Map<string, Expectation>();

  constructor(private readonly timeoutMs = EXPECTATIONS_TIMEOUT_MS, private readonly now: () => number = Date.now) {}

  /** True when `key` has nothing outstanding (or never recorded any, or its record expired). */
  satisfied(key: string): boolean {
    const e = this.items.get(key);
    if (!e) return true;
    if (e.add <= 0 && e.del <= 0) return true;
    return this.now() - e.timestamp > this.timeoutMs;
  }

  /** Replaces the expectations of `key` with `n` creations. */
  expectCreations(key: string, n: number): void {
    this.items.set(key, { add: n, del: 0, deleteKeys: new Set(), timestamp: this.now() });
  }

  /** Replaces the expectations of `key` with the deletions of these pod keys. */
  expectDeletions(key: string, podKeys: string[]): void {
    const deleteKeys = new Set(podKeys);
    this.items.set(key, { add: 0, del: deleteKeys.size, deleteKeys, timestamp: this.now() });
  }

  /** One creation seen (or one that will never happen: a failed create). */
  creationObserved(key: string): void {
    const e = this.items.get(key);
    if (e) e.add--;
  }

  /** The deletion of `podKey` seen (or failed); counted once per pod. */
  deletionObserved(key: string, podKey: string): void {
    const e = this.items.get(key);
    if (e && e.deleteKeys.delete(podKey)) e.del--;
  }

  /** Forgets `key` (its owner is gone). */
  delete(key: string): void {
    this.items.delete(key);
  }

  /** For tests and logs. */
  get(key: string): { add: number; del: number } | undefined {
    const e = this.items.get(key);
    return e ? { add: e.add, del: e.del } : undefined;
  }
}

// ---- adoption and release -----------------------------------------------------------------------

export interface ClaimOptions<T extends Obj> {
  client: RestClient;
  /** The resource of the objects claimed (pods, replica sets). */
  resource: ResourceDescriptor;
  /** The claiming owner. */
  owner: Obj;
  /** The controller reference to put on adopted objects. */
  ownerRef: OwnerRef;
  selector: LabelSelector;
  /**
   * Reads the owner live (not from a cache) before the first adoption; the owner may adopt only
   * if it still exists with the same uid and is not being deleted (RecheckDeletionTimestamp).
   */
  fetchOwner: () => Promise<Obj | undefined>;
  /** Extra condition for owning an object (default: always). */
  filter?: (obj: T) => boolean;
}

/**
 * BaseControllerRefManager.ClaimObject over a list: returns the objects this owner controls
 * after adopting matching orphans and releasing owned objects that no longer match. Objects
 * controlled by someone else are left alone. Errors other than NotFound fail the claim (the
 * caller retries the whole sync), as upstream's aggregate error does.
 */
export async function claimObjects<T extends Obj>(objs: T[], opts: ClaimOptions<T>): Promise<T[]> {
  const { client, resource, owner, ownerRef, selector } = opts;
  const ownerUID = owner.metadata?.uid;
  const ownerDeleting = !!owner.metadata?.deletionTimestamp;
  const matches = (o: T) => selector.matches(o.metadata?.labels ?? {}) && (opts.filter ? opts.filter(o) : true);
  let canAdopt: Promise<void> | undefined;
  const checkCanAdopt = () => (canAdopt ??= (async () => {
    const fresh = await opts.fetchOwner();
    if (!fresh) throw new Error(`${owner.kind ?? 'owner'} ${owner.metadata?.namespace}/${owner.metadata?.name} no longer exists: cannot adopt`);
    if (fresh.metadata?.uid !== ownerUID) throw new Error(`original ${owner.kind ?? 'owner'} ${owner.metadata?.namespace}/${owner.metadata?.name} is gone: got uid ${fresh.metadata?.uid}, wanted ${ownerUID}`);
    if (fresh.metadata?.deletionTimestamp) throw new Error(`${owner.kind ?? 'owner'} ${owner.metadata?.namespace}/${owner.metadata?.name} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
  })());

  const claimed: T[] = [];
  const errors: unknown[] = [];
  await Promise.all(objs.map(async (obj) => {
    const ref = getControllerOf(obj);
    const name = obj.metadata!.name!;
    const ns = obj.metadata!.namespace;
    if (ref) {
      if (ref.uid !== ownerUID) return; // someone else's
      if (matches(obj)) { claimed.push(obj); return; }
      // Owned but no longer selected: release it, unless we are being deleted (then the
      // garbage collector takes care of it).
      if (ownerDeleting) return;
      try {
        await client.patch(resource, ns, name, { metadata: { ownerReferences: [{ $patch: 'delete', uid: ownerUID }], uid: obj.metadata!.uid } }, 'strategic');
      } catch (err) {
        // Gone, or replaced by another object of the same name (uid precondition): nothing to release.
        if (!isNotFound(err) && !isUIDConflict(err)) errors.push(err);
      }
      return;
    }
    // An orphan: adopt it when it matches and neither side is being deleted.
    if (ownerDeleting || !matches(obj) || obj.metadata?.deletionTimestamp) return;
    if (owner.metadata?.namespace && owner.metadata.namespace !== ns) return;
    try {
      await checkCanAdopt();
      const adopted = await client.patch<T>(resource, ns, name, { metadata: { ownerReferences: [ownerRef], uid: obj.metadata!.uid } }, 'strategic');
      if (getControllerOf(adopted)?.uid === ownerUID) claimed.push(adopted);
    } catch (err) {
      if (!isNotFound(err) && !isUIDConflict(err)) errors.push(err);
    }
  }));
  if (errors.length) {
    const msg = errors.map((e) => (e as Error)?.message ?? String(e)).join('; ');
    throw new Error(`claiming ${resource.plural} for ${owner.metadata?.namespace}/${owner.metadata?.name}: ${msg}`);
  }
  return claimed;
}

function isUIDConflict(err: unknown): boolean {
  const e = err as { code?: number; message?: string };
  return e?.code === 409 && /UID in precondition/.test(e.message ?? '');
}
