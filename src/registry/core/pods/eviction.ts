/**
 * The pods/eviction subresource (Kubernetes pkg/registry/core/pod/storage/eviction.go,
 * EvictionREST; behaviour only): `POST /api/v1/namespaces/{ns}/pods/{name}/eviction` with a
 * policy/v1 (or policy/v1beta1) Eviction deletes the pod only if its PodDisruptionBudget allows.
 *
 * - The Eviction's name must be the pod's; its deleteOptions (grace period, preconditions,
 *   propagation, dryRun) are used for the delete. `?dryRun=All` and deleteOptions.dryRun combine.
 * - A pod that is terminal (Succeeded/Failed), Pending, or already being deleted is deleted
 *   without looking at budgets (a Pending or live pod with a resourceVersion precondition, so a
 *   pod that changed meanwhile is not deleted on stale grounds; conflicts are retried).
 * - Budgets: those of the pod's namespace whose selector selects it (policy/v1: null selects
 *   nothing, {} everything). More than one: a 500 Failure Status, "This pod has more than one
 *   PodDisruptionBudget, which the eviction subresource does not support." None: deleted.
 * - A pod that is not Ready does not count as healthy: under unhealthyPodEvictionPolicy
 *   AlwaysAllow it is deleted at once; under IfHealthyBudget (the default) it is deleted at once
 *   when currentHealthy >= desiredHealthy > 0; either way with a resourceVersion precondition
 *   (a conflict there is a 429, as the pod may have turned Ready).
 * - Otherwise the budget must allow it: status.observedGeneration behind metadata.generation →
 *   429 "still being processed" (Retry-After 10 s); disruptionsAllowed 0 → 429 "Cannot evict
 *   pod as it would violate the pod's disruption budget." with a DisruptionBudget cause;
 *   negative, or more than 2000 disruptedPods → 403. If allowed, disruptionsAllowed is
 *   decremented and the pod added to disruptedPods in ONE write of the budget's status,
 *   conditioned on the resourceVersion read (a conflict re-reads and re-checks, up to 20 times).
 *   A dry run checks without writing.
 * - Before deleting, the pod gets the condition DisruptionTarget=True (reason
 *   EvictionByEvictionAPI), as with the PodDisruptionConditions feature (not on dry runs).
 * - Success is a 201 Success Status. A missing pod is 404.
 */
import type { ResourceStore, WriteContext, DeleteOptions } from '../../store.js';
import { StatusError, badRequest, conflict, forbidden, invalid, fieldError, notFound, type Status } from '../../../apimachinery/errors.js';
import { labelSelectorFromObject } from '../../../apimachinery/labels.js';

/** Upstream MaxDisruptedPodSize. */
export const MAX_DISRUPTED_POD_SIZE = 2000;
/** Upstream EvictionsRetry.Steps. */
const EVICTION_RETRIES = 20;
export const DISRUPTION_BUDGET_CAUSE = 'DisruptionBudget';
export const EVICTION_MESSAGE = "Cannot evict pod as it would violate the pod's disruption budget.";
export const MULTIPLE_PDBS_MESSAGE = 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.';

export interface EvictionStores {
  pods: ResourceStore;
  /** policy/v1 PodDisruptionBudgets. */
  pdbs?: ResourceStore;
}

const metaTime = (d = new Date()) => d.toISOString().replace(/\.\d+Z$/, 'Z');
const isReady = (pod: any) => (pod?.status?.conditions ?? []).some((c: any) => c?.type === 'Ready' && c?.status === 'True');
const isTerminal = (pod: any) => pod?.status?.phase === 'Succeeded' || pod?.status?.phase === 'Failed';

/** canIgnorePDB: terminal, Pending, or already being deleted. */
function canIgnorePDB(pod: any): boolean {
  return isTerminal(pod) || pod?.status?.phase === 'Pending' || !!pod?.metadata?.deletionTimestamp;
}

/** shouldEnforceResourceVersion: not for terminal pods or pods already being deleted. */
function shouldEnforceResourceVersion(pod: any): boolean {
  return !isTerminal(pod) && !pod?.metadata?.deletionTimestamp;
}

/** The 429 of a budget that allows no disruption. */
function budgetExhausted(pdb: any): StatusError {
  const s = pdb.status ?? {};
  return new StatusError(429, 'TooManyRequests', EVICTION_MESSAGE, {
    causes: [{ reason: DISRUPTION_BUDGET_CAUSE, message: `The disruption budget ${pdb.metadata.name} needs ${s.desiredHealthy ?? 0} healthy pods and has ${s.currentHealthy ?? 0} currently` }],
  });
}

/** createTooManyRequestsError: the budget's status is not current yet; retry in 10 s. */
function budgetProcessing(name: string): StatusError {
  return new StatusError(429, 'TooManyRequests', EVICTION_MESSAGE, {
    causes: [{ reason: DISRUPTION_BUDGET_CAUSE, message: `The disruption budget ${name} is still being processed by the server.` }],
    retryAfterSeconds: 10,
  });
}

const pdbForbidden = (name: string, why: string) => forbidden(`poddisruptionbudget.policy "${name}" is forbidden: ${why}`);

/** The Eviction's deleteOptions, checked (400/422 for bad ones), with the request's dryRun merged in. */
function evictionDeleteOptions(body: any, requestDryRun: boolean): { opts: DeleteOptions; dryRun: boolean } {
  const raw = body?.deleteOptions;
  if (raw !== undefined && raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) throw badRequest('deleteOptions must be an object');
  const d: any = raw ?? {};
  const opts: DeleteOptions = {};
  if (d.gracePeriodSeconds !== undefined && d.gracePeriodSeconds !== null) {
    if (typeof d.gracePeriodSeconds !== 'number' || !Number.isInteger(d.gracePeriodSeconds)) throw badRequest('deleteOptions.gracePeriodSeconds must be an integer');
    opts.gracePeriodSeconds = Math.max(0, d.gracePeriodSeconds);
  }
  if (d.propagationPolicy !== undefined && d.propagationPolicy !== null) opts.propagationPolicy = d.propagationPolicy;
  if (typeof d.orphanDependents === 'boolean') opts.orphanDependents = d.orphanDependents;
  if (d.preconditions && typeof d.preconditions === 'object') {
    const p: { uid?: string; resourceVersion?: string } = {};
    if (typeof d.preconditions.uid === 'string' && d.preconditions.uid) p.uid = d.preconditions.uid;
    if (typeof d.preconditions.resourceVersion === 'string' && d.preconditions.resourceVersion) p.resourceVersion = d.preconditions.resourceVersion;
    if (p.uid || p.resourceVersion) opts.preconditions = p;
  }
  const dry: unknown[] = Array.isArray(d.dryRun) ? d.dryRun : d.dryRun === undefined || d.dryRun === null ? [] : [d.dryRun];
  for (const v of dry) if (v !== 'All') throw invalid('Eviction', 'policy', body?.metadata?.name ?? '', [fieldError.notSupported('deleteOptions.dryRun', v, ['All'])]);
  return { opts, dryRun: requestDryRun || dry.length > 0 };
}

/** The budgets selecting the pod (policy/v1 selector semantics; an invalid selector selects nothing). */
async function budgetsFor(stores: EvictionStores, pod: any): Promise<any[]> {
  if (!stores.pdbs) return [];
  const { items } = await stores.pdbs.list(pod.metadata.namespace, {});
  const out: any[] = [];
  for (const it of items) {
    const pdb = stores.pdbs.decode(it.json, it.rev);
    if (pdb.metadata?.namespace !== pod.metadata.namespace) continue;
    let matches = false;
    try {
      matches = labelSelectorFromObject(pdb.spec?.selector).matches(pod.metadata?.labels ?? {});
    } catch { /* invalid selector: matches nothing */ }
    if (matches) out.push(pdb);
  }
  return out;
}

/** pdbhelper.UpdateDisruptionAllowedCondition on a status (meta.SetStatusCondition). */
function updateDisruptionAllowedCondition(status: any): void {
  const allowed = (status.disruptionsAllowed ?? 0) > 0;
  const want = { type: 'DisruptionAllowed', status: allowed ? 'True' : 'False', reason: allowed ? 'SufficientPods' : 'InsufficientPods', message: '', observedGeneration: status.observedGeneration };
  const conditions: any[] = (status.conditions ?? []).map((c: any) => ({ ...c }));
  const existing = conditions.find((c) => c.type === want.type);
  if (!existing) conditions.push({ ...want, lastTransitionTime: metaTime() });
  else {
    if (existing.status !== want.status) existing.lastTransitionTime = metaTime();
    Object.assign(existing, want);
  }
  status.conditions = conditions;
}

/**
 * checkAndDecrement with retries: re-reads the budget after a conflict. Resolves when the
 * eviction is allowed (and recorded, unless a dry run); throws the 429/403 otherwise.
 */
async function checkAndDecrement(stores: EvictionStores, first: any, podName: string, dryRun: boolean, ctx: WriteContext): Promise<void> {
  const store = stores.pdbs!;
  let pdb = first;
  for (let attempt = 0; attempt < EVICTION_RETRIES; attempt++) {
    if (attempt > 0) pdb = await store.get(pdb.metadata.namespace, pdb.metadata.name);
    const status = structuredClone(pdb.status ?? {});
    if ((status.observedGeneration ?? 0) < (pdb.metadata.generation ?? 0)) throw budgetProcessing(pdb.metadata.name);
    const allowed = status.disruptionsAllowed ?? 0;
    if (allowed < 0) throw pdbForbidden(pdb.metadata.name, 'pdb disruptions allowed is negative');
    if (Object.keys(status.disruptedPods ?? {}).length > MAX_DISRUPTED_POD_SIZE) {
      throw pdbForbidden(pdb.metadata.name, 'DisruptedPods map too big - too many evictions not confirmed by PDB controller');
    }
    if (allowed === 0) throw budgetExhausted(pdb);
    status.disruptionsAllowed = allowed - 1;
    if (status.disruptionsAllowed === 0) updateDisruptionAllowedCondition(status);
    if (dryRun) return;
    status.disruptedPods = { ...(status.disruptedPods ?? {}), [podName]: metaTime() };
    try {
      // The resourceVersion read makes it a compare-and-swap: two evictions never both take the last disruption.
      await store.update(pdb.metadata.namespace, pdb.metadata.name, { ...pdb, status }, {
        user: ctx.user, dryRun: false, warnings: [], userAgent: 'kube-apiserver',
      }, 'status');
      return;
    } catch (err) {
      if (err instanceof StatusError && err.code === 409) continue;
      throw err;
    }
  }
  throw new StatusError(504, 'Timeout', `couldn't update PodDisruptionBudget "${first.metadata.name}" due to conflicts`, { retryAfterSeconds: 10 });
}

/** addConditionAndDeletePod: DisruptionTarget=True on the pod (not on dry runs), then the delete. */
async function addConditionAndDeletePod(stores: EvictionStores, namespace: string, name: string, opts: DeleteOptions, ctx: WriteContext): Promise<void> {
  let options = opts;
  if (!ctx.dryRun) {
    const pre = opts.preconditions;
    const { obj } = await stores.pods.guaranteedUpdate(namespace, name, ctx, async (cur) => {
      if (!cur) throw notFound({ group: '', resource: 'pods' }, name);
      if (pre?.uid && pre.uid !== cur.metadata.uid) {
        throw conflict({ group: '', resource: 'Pod' }, name, `the UID in the precondition (${pre.uid}) does not match the UID in record (${cur.metadata.uid}). The object might have been deleted and then recreated`);
      }
      if (pre?.resourceVersion && pre.resourceVersion !== cur.metadata.resourceVersion) {
        throw conflict({ group: '', resource: 'Pod' }, name, `the ResourceVersion in the precondition (${pre.resourceVersion}) does not match the ResourceVersion in record (${cur.metadata.resourceVersion}). The object might have been modified`);
      }
      const pod = cur;
      pod.status ??= {};
      const conditions: any[] = (pod.status.conditions ?? []).map((c: any) => ({ ...c }));
      const want = { type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting' };
      const existing = conditions.find((c) => c.type === want.type);
      if (!existing) conditions.push({ ...want, lastProbeTime: null, lastTransitionTime: metaTime() });
      else {
        if (existing.status !== want.status) existing.lastTransitionTime = metaTime();
        Object.assign(existing, want);
      }
      pod.status.conditions = conditions;
      return { obj: pod, subresource: '__eviction__' };
    });
    // Our own write moved the resourceVersion: the precondition follows it.
    if (pre?.resourceVersion) options = { ...opts, preconditions: { ...pre, resourceVersion: obj.metadata.resourceVersion } };
  }
  await stores.pods.delete(namespace, name, options, ctx);
}

const success = (): Status => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
const isConflict = (err: unknown) => err instanceof StatusError && err.code === 409;

/**
 * Evicts pod `namespace/name` as the Eviction `body` asks. Resolves with the Status to send
 * (201 Success, or the 500 Failure for a pod under several budgets); throws a StatusError for
 * every other refusal.
 */
export async function evictPod(stores: EvictionStores, namespace: string, name: string, body: any, ctx: WriteContext): Promise<Status> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('the body of the request was not a JSON object');
  if (body.kind !== undefined && body.kind !== 'Eviction') throw badRequest(`not a Eviction object: ${String(body.kind)}`);
  if (body.apiVersion !== undefined && !['policy/v1', 'policy/v1beta1'].includes(body.apiVersion)) {
    throw badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (policy/v1)`);
  }
  if ((body.metadata?.name ?? '') !== name) throw badRequest('name in URL does not match name in Eviction object');
  if (body.metadata?.namespace && body.metadata.namespace !== namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  const { opts: original, dryRun } = evictionDeleteOptions(body, ctx.dryRun);
  const wctx: WriteContext = { ...ctx, dryRun };
  const rvUnset = !original.preconditions?.resourceVersion;

  // Pods the budgets do not protect: terminal, Pending, or already going.
  let pod: any;
  for (let attempt = 0; ; attempt++) {
    pod = await stores.pods.get(namespace, name);
    if (!canIgnorePDB(pod)) break;
    let opts = original;
    if (shouldEnforceResourceVersion(pod) && rvUnset) opts = { ...original, preconditions: { ...original.preconditions, resourceVersion: pod.metadata.resourceVersion } };
    try {
      await addConditionAndDeletePod(stores, namespace, name, opts, wctx);
      return success();
    } catch (err) {
      if (rvUnset && isConflict(err) && attempt + 1 < EVICTION_RETRIES) continue;
      throw err;
    }
  }

  const pdbs = await budgetsFor(stores, pod);
  if (pdbs.length > 1) return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: MULTIPLE_PDBS_MESSAGE, code: 500 };
  let updateDeletionOptions = false;
  const pdb = pdbs[0];
  if (pdb) {
    // A pod that is not Ready is not part of the healthy count: removing it disrupts nothing more.
    if (!isReady(pod)) {
      if (pdb.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow') updateDeletionOptions = true;
      else if ((pdb.status?.currentHealthy ?? 0) >= (pdb.status?.desiredHealthy ?? 0) && (pdb.status?.desiredHealthy ?? 0) > 0) updateDeletionOptions = true;
    }
    if (!updateDeletionOptions) await checkAndDecrement(stores, pdb, name, dryRun, ctx);
  }

  let opts = original;
  // The pod must still be the unready one we decided on.
  if (updateDeletionOptions) opts = { ...original, preconditions: { ...original.preconditions, resourceVersion: pod.metadata.resourceVersion } };
  try {
    await addConditionAndDeletePod(stores, namespace, name, opts, wctx);
  } catch (err) {
    if (isConflict(err) && updateDeletionOptions && rvUnset) throw budgetProcessing(pdb.metadata.name);
    throw err;
  }
  return success();
}
