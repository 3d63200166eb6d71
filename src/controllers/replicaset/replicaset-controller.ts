/**
 * ReplicaSetController: keeps the number of active pods a ReplicaSet selects equal to its
 * spec.replicas, as Kubernetes' pkg/controller/replicaset does.
 *
 * One sync of "ns/name":
 * 1. The ReplicaSet from the informer (gone → forget its expectations).
 * 2. The active pods of the namespace (not Succeeded/Failed, no deletionTimestamp), claimed:
 *    matching orphans are adopted (controllerRef with blockOwnerDeletion), owned pods that no
 *    longer match are released; nothing is adopted or released while the ReplicaSet is being
 *    deleted.
 * 3. Only if its expectations are satisfied (every create/delete it asked for has been seen in
 *    the pod informer, or 5 minutes passed) and it is not being deleted: create the missing pods
 *    from the template (generateName "<rs>-", the template's labels, annotations and finalizers,
 *    a controllerRef) in slow-start batches 1, 2, 4, ... (stopping at the first failure), or
 *    delete the surplus, choosing pods as upstream ranks them (see pod-ranking.ts). At most
 *    `burstReplicas` (500) per sync.
 * 4. Status: replicas, fullyLabeledReplicas (pods carrying all template labels), readyReplicas,
 *    availableReplicas (ready for minReadySeconds), observedGeneration = the generation acted
 *    on, and the ReplicaFailure condition (FailedCreate / FailedDelete with the error) while
 *    creating or deleting fails. Written only when something changed; a conflict is retried
 *    once on a fresh read.
 * 5. Errors are thrown (back-off requeue). A ready pod that becomes available later
 *    (minReadySeconds) requeues the ReplicaSet for that moment.
 *
 * The informers' handlers keep the expectations: a pod added with our controllerRef is an
 * observed creation, a pod deleted (or marked for deletion) an observed deletion.
 *
 * Events (component replicaset-controller, as upstream's PodControl records them on the
 * ReplicaSet): SuccessfulCreate "Created pod: <name>", FailedCreate "Error creating: <error>"
 * (not when the namespace is terminating), SuccessfulDelete "Deleted pod: <name>",
 * FailedDelete "Error deleting: <error>".
 */
import { Controller, Informer, isConflict, isNotFound, keyOf, splitKey, type RestClient } from '../../client/index.js';
import { EventRecorder } from '../../client/event-recorder.js';
import { labelSelectorFromObject, selectorFromSet, type LabelSelector } from '../../apimachinery/labels.js';
import { deepEqual } from '../../util/objects.js';
import { logger } from '../../util/log.js';
import {
  ControllerExpectations, FAILED_CREATE, FAILED_DELETE, PODS, REPLICASETS, SUCCESSFUL_CREATE, SUCCESSFUL_DELETE, claimObjects, errorText,
  getControllerOf, groupOf, innerSignal, isNamespaceTerminating, isPodActive, isPodAvailable, isPodReady, newControllerRef, nowTime,
  objectRef, podAvailableAt, slowStartBatch, type Obj,
} from './controller-utils.js';
import { podsToDelete } from './pod-ranking.js';

const log = logger('replicaset-controller');

/** Most pods created or deleted in one sync (upstream BurstReplicas). */
export const BURST_REPLICAS = 500;
/** First slow-start batch (upstream SlowStartInitialBatchSize). */
export const SLOW_START_INITIAL_BATCH = 1;
/** Upstream's statusUpdateRetries: one more attempt on a fresh read. */
const STATUS_UPDATE_RETRIES = 1;

export const CONTROLLER_UID_INDEX = 'controller-uid';

export interface ReplicaSetControllerOptions {
  /** Concurrent syncs (kube-controller-manager --concurrent-replicaset-syncs, default 5). */
  workers?: number;
  /** Most creations/deletions per sync (default 500). */
  burstReplicas?: number;
}

export interface ReplicaSetCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface ReplicaSetStatus {
  replicas: number;
  fullyLabeledReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
  conditions?: ReplicaSetCondition[];
}

/** Index values: the uid of the object's controller, if any. */
export function controllerUIDIndex(obj: Obj): string[] {
  const ref = getControllerOf(obj);
  return ref?.uid ? [ref.uid] : [];
}

/** The pod a ReplicaSet creates from its template (controller.GetPodFromTemplate). */
export function podFromTemplate(rs: Obj): Obj {
  const tpl = rs.spec?.template ?? {};
  const meta: Record<string, unknown> = {
    generateName: `${rs.metadata!.name}-`,
    namespace: rs.metadata!.namespace,
    ownerReferences: [newControllerRef(rs, 'apps/v1', 'ReplicaSet')],
  };
  if (tpl.metadata?.labels) meta.labels = { ...tpl.metadata.labels };
  if (tpl.metadata?.annotations) meta.annotations = { ...tpl.metadata.annotations };
  if (tpl.metadata?.finalizers) meta.finalizers = [...tpl.metadata.finalizers];
  return { apiVersion: 'v1', kind: 'Pod', metadata: meta as Obj['metadata'], spec: structuredClone(tpl.spec ?? {}) };
}

/**
 * calculateStatus: the status a ReplicaSet should report for its claimed active pods, keeping
 * (or setting, or clearing) the ReplicaFailure condition from the last manage error.
 */
export function calculateStatus(rs: Obj, pods: Obj[], manageError: { error: unknown; diff: number } | undefined, now = Date.now()): ReplicaSetStatus {
  const templateLabels = selectorFromSet(rs.spec?.template?.metadata?.labels ?? {});
  const minReadySeconds = rs.spec?.minReadySeconds ?? 0;
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  for (const p of pods) {
    if (templateLabels.matches(p.metadata?.labels ?? {})) fullyLabeled++;
    if (isPodReady(p)) {
      ready++;
      if (isPodAvailable(p, minReadySeconds, now)) available++;
    }
  }
  let conditions: ReplicaSetCondition[] = (rs.status?.conditions ?? []).map((c: ReplicaSetCondition) => ({ ...c }));
  const failure = conditions.find((c) => c.type === 'ReplicaFailure');
  if (manageError && !failure) {
    const reason = manageError.diff < 0 ? 'FailedCreate' : 'FailedDelete';
    conditions.push({ type: 'ReplicaFailure', status: 'True', lastTransitionTime: nowTime(new Date(now)), reason, message: (manageError.error as Error)?.message ?? String(manageError.error) });
  } else if (!manageError && failure) {
    conditions = conditions.filter((c) => c.type !== 'ReplicaFailure');
  }
  // As served by Kubernetes: replicas always, the other counts only when non-zero (omitempty).
  const status: ReplicaSetStatus = { replicas: pods.length };
  if (fullyLabeled) status.fullyLabeledReplicas = fullyLabeled;
  if (ready) status.readyReplicas = ready;
  if (available) status.availableReplicas = available;
  if (conditions.length) status.conditions = conditions;
  return status;
}

export class ReplicaSetController {
  readonly rsInformer: Informer<Obj>;
  readonly podInformer: Informer<Obj>;
  readonly controller: Controller;
  readonly expectations = new ControllerExpectations();
  readonly recorder: EventRecorder;
  private readonly burstReplicas: number;

  constructor(readonly client: RestClient, opts: ReplicaSetControllerOptions = {}) {
    this.burstReplicas = opts.burstReplicas ?? BURST_REPLICAS;
    this.recorder = new EventRecorder(client, { component: 'replicaset-controller' });
    this.rsInformer = new Informer<Obj>(client, REPLICASETS);
    this.podInformer = new Informer<Obj>(client, PODS);
    this.podInformer.addIndex(CONTROLLER_UID_INDEX, controllerUIDIndex);
    this.rsInformer.addIndex(CONTROLLER_UID_INDEX, controllerUIDIndex);
    this.controller = new Controller('replicaset', { reconcile: (key) => this.reconcile(key) }, { workers: opts.workers ?? 5 });

    this.rsInformer.on('add', (rs) => this.controller.enqueue(keyOf(rs)));
    this.rsInformer.on('update', (_old, rs) => this.controller.enqueue(keyOf(rs)));
    this.rsInformer.on('delete', (rs) => {
      const key = keyOf(rs);
      this.expectations.delete(key);
      this.controller.enqueue(key);
    });
    this.podInformer.on('add', (pod) => this.addPod(pod));
    this.podInformer.on('update', (oldPod, pod) => this.updatePod(oldPod, pod));
    this.podInformer.on('delete', (pod) => this.deletePod(pod));
  }

  start(outer: AbortSignal): void {
    const signal = innerSignal(outer);
    this.rsInformer.start(signal);
    this.podInformer.start(signal);
    signal.addEventListener('abort', () => this.recorder.stop(), { once: true });
    void (async () => {
      if (!(await this.rsInformer.waitForSync(signal))) return;
      if (!(await this.podInformer.waitForSync(signal))) return;
      this.controller.start(signal);
    })();
  }

  async stopped(): Promise<void> {
    await Promise.all([this.rsInformer.stopped(), this.podInformer.stopped()]);
    await this.controller.stopped();
  }

  /** Resolves true once both caches are filled (for tests). */
  async waitForSync(signal?: AbortSignal): Promise<boolean> {
    return (await this.rsInformer.waitForSync(signal)) && (await this.podInformer.waitForSync(signal));
  }

  // ---- event handlers ------------------------------------------------------------------------

  /** The ReplicaSet a controllerRef points to, if it is in the cache with that uid. */
  private resolveControllerRef(namespace: string | undefined, ref: { apiVersion?: string; kind?: string; name?: string; uid?: string } | undefined): Obj | undefined {
    if (!ref || ref.kind !== 'ReplicaSet' || groupOf(ref.apiVersion) !== 'apps' || !ref.name) return undefined;
    const rs = this.rsInformer.get(namespace, ref.name);
    return rs && rs.metadata?.uid === ref.uid ? rs : undefined;
  }

  /** ReplicaSets in the pod's namespace whose selector matches it (for orphans). */
  private replicaSetsSelecting(pod: Obj): Obj[] {
    const labels = pod.metadata?.labels ?? {};
    if (!Object.keys(labels).length) return [];
    const out: Obj[] = [];
    for (const rs of this.rsInformer.list(pod.metadata?.namespace ?? '')) {
      const sel = safeSelector(rs);
      if (sel && !sel.empty && sel.matches(labels)) out.push(rs);
    }
    return out;
  }

  private addPod(pod: Obj): void {
    if (pod.metadata?.deletionTimestamp) {
      // Seen for the first time already being deleted (e.g. after a relist): a deletion.
      this.deletePod(pod);
      return;
    }
    const ref = getControllerOf(pod);
    if (ref) {
      const rs = this.resolveControllerRef(pod.metadata?.namespace, ref);
      if (!rs) return;
      const key = keyOf(rs);
      this.expectations.creationObserved(key);
      this.controller.enqueue(key);
      return;
    }
    for (const rs of this.replicaSetsSelecting(pod)) this.controller.enqueue(keyOf(rs));
  }

  private updatePod(oldPod: Obj, pod: Obj): void {
    if (oldPod.metadata?.resourceVersion === pod.metadata?.resourceVersion) return;
    const labelsChanged = !deepEqual(oldPod.metadata?.labels ?? {}, pod.metadata?.labels ?? {});
    if (pod.metadata?.deletionTimestamp) {
      // Graceful deletion started: as good as deleted for counting (the kubelet ends it later).
      this.deletePod(pod);
      if (labelsChanged) this.deletePod(oldPod);
      return;
    }
    const ref = getControllerOf(pod);
    const oldRef = getControllerOf(oldPod);
    const refChanged = ref?.uid !== oldRef?.uid;
    if (refChanged && oldRef) {
      const old = this.resolveControllerRef(oldPod.metadata?.namespace, oldRef);
      if (old) this.controller.enqueue(keyOf(old));
    }
    if (ref) {
      const rs = this.resolveControllerRef(pod.metadata?.namespace, ref);
      if (!rs) return;
      const key = keyOf(rs);
      this.controller.enqueue(key);
      // A pod that just became ready is available only after minReadySeconds: look again then.
      const mrs = rs.spec?.minReadySeconds ?? 0;
      if (mrs > 0 && !isPodReady(oldPod) && isPodReady(pod)) this.controller.queue.addAfter(key, mrs * 1000 + 1000);
      return;
    }
    if (labelsChanged || refChanged) {
      for (const rs of this.replicaSetsSelecting(pod)) this.controller.enqueue(keyOf(rs));
    }
  }

  private deletePod(pod: Obj): void {
    const ref = getControllerOf(pod);
    if (!ref) return; // orphans were never counted by anyone
    const rs = this.resolveControllerRef(pod.metadata?.namespace, ref);
    if (!rs) return;
    const key = keyOf(rs);
    this.expectations.deletionObserved(key, keyOf(pod));
    this.controller.enqueue(key);
  }

  // ---- sync ----------------------------------------------------------------------------------

  async reconcile(key: string): Promise<{ requeueAfter?: number } | void> {
    const { namespace, name } = splitKey(key);
    const rs = this.rsInformer.get(namespace, name);
    if (!rs) {
      this.expectations.delete(key);
      return;
    }
    const selector = safeSelector(rs);
    if (!selector) {
      // Validation normally refuses this; nothing sensible can be done with it.
      log.warn('replica set has an invalid selector; skipped', { replicaSet: key });
      return;
    }
    const needsSync = this.expectations.satisfied(key);
    const active = this.podInformer.list(namespace ?? '').filter(isPodActive);
    const pods = await this.claimPods(rs, selector, active);

    let manageError: { error: unknown; diff: number } | undefined;
    if (needsSync && !rs.metadata?.deletionTimestamp) {
      const diff = pods.length - (rs.spec?.replicas ?? 1);
      try {
        await this.manageReplicas(rs, key, pods);
      } catch (error) {
        manageError = { error, diff };
      }
    }

    const now = Date.now();
    const status = calculateStatus(rs, pods, manageError, now);
    await this.updateStatus(rs, status);
    if (manageError) throw manageError.error;

    // Look again when the first ready-but-not-yet-available pod becomes available.
    const mrs = rs.spec?.minReadySeconds ?? 0;
    if (mrs > 0) {
      let next = Infinity;
      for (const p of pods) {
        const at = podAvailableAt(p, mrs);
        if (at !== undefined && at >= now) next = Math.min(next, at);
      }
      if (next < Infinity) return { requeueAfter: next - now + 1000 };
    }
  }

  private async claimPods(rs: Obj, selector: LabelSelector, pods: Obj[]): Promise<Obj[]> {
    const ns = rs.metadata!.namespace!;
    return claimObjects(pods, {
      client: this.client, resource: PODS, owner: { ...rs, kind: 'ReplicaSet' }, selector,
      ownerRef: newControllerRef(rs, 'apps/v1', 'ReplicaSet'),
      fetchOwner: async () => {
        try {
          return await this.client.get<Obj>(REPLICASETS, ns, rs.metadata!.name!);
        } catch (err) {
          if (isNotFound(err)) return undefined;
          throw err;
        }
      },
    });
  }

  /** Creates or deletes pods so that `pods` (active, claimed) reaches spec.replicas. */
  private async manageReplicas(rs: Obj, key: string, pods: Obj[]): Promise<void> {
    const want = rs.spec?.replicas ?? 1;
    let diff = pods.length - want;
    if (diff < 0) {
      diff = Math.min(-diff, this.burstReplicas);
      // Expect them before creating: the informer may report them before the creates return.
      this.expectations.expectCreations(key, diff);
      const template = podFromTemplate(rs);
      const ref = objectRef(rs, 'apps/v1', 'ReplicaSet');
      const { successes, error } = await slowStartBatch(diff, SLOW_START_INITIAL_BATCH, async () => {
        try {
          const pod = await this.client.create<Obj>(PODS, rs.metadata!.namespace, template);
          this.recorder.event(ref, 'Normal', SUCCESSFUL_CREATE, '', `Created pod: ${pod.metadata?.name}`);
        } catch (err) {
          // A terminating namespace refuses new pods: not this ReplicaSet's failure.
          if (isNamespaceTerminating(err)) return;
          this.recorder.event(ref, 'Warning', FAILED_CREATE, '', `Error creating: ${errorText(err)}`);
          throw err;
        }
      });
      // Creations that failed or were never tried will not be observed: stop waiting for them.
      for (let i = successes; i < diff; i++) this.expectations.creationObserved(key);
      if (error) {
        log.warn('failed to create pods', { replicaSet: key, wanted: diff, created: successes, err: (error as Error)?.message });
        throw error;
      }
      if (diff) log.debug('created pods', { replicaSet: key, count: diff });
      return;
    }
    if (diff > 0) {
      diff = Math.min(diff, this.burstReplicas);
      const related = this.relatedPods(rs, pods);
      const victims = podsToDelete(pods, related, diff);
      this.expectations.expectDeletions(key, victims.map((p) => keyOf(p)));
      const errors: unknown[] = [];
      const ref = objectRef(rs, 'apps/v1', 'ReplicaSet');
      await Promise.all(victims.map(async (p) => {
        try {
          await this.client.delete(PODS, p.metadata!.namespace, p.metadata!.name!);
          this.recorder.event(ref, 'Normal', SUCCESSFUL_DELETE, '', `Deleted pod: ${p.metadata!.name}`);
        } catch (err) {
          // The informer will not see this deletion (or saw it already): stop waiting for it.
          this.expectations.deletionObserved(key, keyOf(p));
          if (!isNotFound(err)) {
            this.recorder.event(ref, 'Warning', FAILED_DELETE, '', `Error deleting: ${errorText(err)}`);
            errors.push(err);
          }
        }
      }));
      if (errors.length) {
        log.warn('failed to delete pods', { replicaSet: key, wanted: diff, failed: errors.length, err: (errors[0] as Error)?.message });
        throw errors[0];
      }
      log.debug('deleted pods', { replicaSet: key, count: diff });
    }
  }

  /**
   * getIndirectlyRelatedPods: the active pods of every ReplicaSet with the same controller
   * (the Deployment's other revisions), used to prefer deleting co-located pods.
   */
  private relatedPods(rs: Obj, own: Obj[]): Obj[] {
    const ref = getControllerOf(rs);
    if (!ref) return own;
    const seen = new Set<string>();
    const out: Obj[] = [];
    for (const sibling of this.rsInformer.byIndex(CONTROLLER_UID_INDEX, ref.uid)) {
      if (sibling.metadata?.namespace !== rs.metadata?.namespace) continue;
      for (const p of this.podInformer.byIndex(CONTROLLER_UID_INDEX, sibling.metadata!.uid!)) {
        const k = keyOf(p);
        if (seen.has(k)) continue;
        seen.add(k);
        out.push(p);
      }
    }
    for (const p of own) if (!seen.has(keyOf(p))) out.push(p);
    return out;
  }

  /** updateReplicaSetStatus: writes `status` if it differs; observedGeneration = the generation acted on. */
  private async updateStatus(rs: Obj, status: ReplicaSetStatus): Promise<void> {
    const cur = rs.status ?? {};
    const generation = rs.metadata?.generation ?? 0;
    if ((cur.replicas ?? 0) === status.replicas &&
      (cur.fullyLabeledReplicas ?? 0) === (status.fullyLabeledReplicas ?? 0) &&
      (cur.readyReplicas ?? 0) === (status.readyReplicas ?? 0) &&
      (cur.availableReplicas ?? 0) === (status.availableReplicas ?? 0) &&
      (cur.observedGeneration ?? 0) === generation &&
      deepEqual(cur.conditions ?? [], status.conditions ?? [])) return;
    const newStatus: ReplicaSetStatus = generation ? { ...status, observedGeneration: generation } : status;
    let target: Obj = rs;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.client.update(REPLICASETS, target.metadata!.namespace, { ...target, status: newStatus }, { subresource: 'status' });
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        if (attempt >= STATUS_UPDATE_RETRIES || !isConflict(err)) throw err;
      }
      try {
        target = await this.client.get<Obj>(REPLICASETS, rs.metadata!.namespace, rs.metadata!.name!);
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
      if (target.metadata?.uid !== rs.metadata?.uid) return;
    }
  }
}

function safeSelector(rs: Obj): LabelSelector | undefined {
  try {
    return labelSelectorFromObject(rs.spec?.selector);
  } catch {
    return undefined;
  }
}
