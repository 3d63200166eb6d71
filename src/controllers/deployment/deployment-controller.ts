/**
 * DeploymentController: rolls a Deployment's pod template out through ReplicaSets, as
 * Kubernetes' pkg/controller/deployment does (behaviour from deployment_controller.go, sync.go,
 * rolling.go, recreate.go and progress.go; written anew).
 *
 * One sync of "ns/name" (syncDeployment):
 * - A selector of `{}` is refused (only observedGeneration is recorded).
 * - The Deployment's ReplicaSets are claimed: orphans its selector matches are adopted, owned
 *   ones that stopped matching released. Pods are grouped by ReplicaSet (Recreate needs them).
 * - Being deleted → status only. Paused, or the replica count changed (the desired-replicas
 *   annotation of an active ReplicaSet differs from spec.replicas) → `sync`: scale
 *   proportionally, no rollout. Otherwise roll out with the strategy:
 *   - RollingUpdate: the new ReplicaSet grows while all pods stay within replicas + maxSurge,
 *     old ReplicaSets shrink while available pods stay at least replicas - maxUnavailable
 *     (unhealthy old pods first); old ReplicaSets beyond revisionHistoryLimit are deleted once
 *     the rollout is complete.
 *   - Recreate: old ReplicaSets go to 0; once no old pod is left the new one is created and
 *     scaled to replicas.
 * - The new ReplicaSet is the one whose template equals the Deployment's (ignoring the
 *   pod-template-hash label), so `kubectl rollout undo` — which writes an old ReplicaSet's
 *   template back into the Deployment — reuses that ReplicaSet and gives it the next revision
 *   (its old revision goes to revision-history). A missing one is created as
 *   `<deployment>-<hash>` with the hash label in its labels, selector and template, the
 *   revision, desired-replicas and max-replicas annotations and the Deployment's other
 *   annotations. A name taken by something else bumps status.collisionCount (a new hash).
 * - Status: replicas, updatedReplicas, readyReplicas, availableReplicas, unavailableReplicas,
 *   observedGeneration, collisionCount, and the conditions kubectl rollout status reads:
 *   Available (MinimumReplicasAvailable / MinimumReplicasUnavailable) and Progressing
 *   (NewReplicaSetCreated, FoundNewReplicaSet, ReplicaSetUpdated, NewReplicaSetAvailable,
 *   ProgressDeadlineExceeded, DeploymentPaused, DeploymentResumed, ReplicaSetCreateError);
 *   ReplicaFailure is copied up from the ReplicaSets. A rollout without progress is looked at
 *   again when its deadline passes.
 *
 * Differences from upstream:
 * - (Not a difference: the `deployment.kubernetes.io/revision` annotation travels with the
 *   status write, as upstream, because the Deployment status strategy keeps annotations.)
 * - Own writes are remembered (MutationCache) so a sync never works from an older copy of a
 *   ReplicaSet or Deployment than the one it wrote; objects a sync updates are refreshed in
 *   place, so later steps of the same sync see them (upstream sometimes requeues on a
 *   Conflict instead).
 * - Surge and availability arithmetic use the bounds described in deployment-util.ts.
 *
 * Events (component deployment-controller, on the Deployment, upstream's reasons and texts):
 * ScalingReplicaSet "Scaled up replica set <rs> from 0 to <n>" when a new ReplicaSet is created
 * with replicas, "Scaled up|down replica set <rs> from <old> to <new>" on every resize;
 * Warning ReplicaSetCreateError "Failed to create new replica set "<rs>": <error>"; Warning
 * SelectingAll for an empty selector.
 */
import { Controller, Informer, isAlreadyExists, isConflict, isNotFound, keyOf, splitKey, type RestClient } from '../../client/index.js';
import { EventRecorder } from '../../client/event-recorder.js';
import { labelSelectorFromObject } from '../../apimachinery/labels.js';
import { deepEqual } from '../../util/objects.js';
import { logger } from '../../util/log.js';
import {
  DEPLOYMENTS, PODS, REPLICASETS, byCreationTimestamp, claimObjects, errorText, getControllerOf, groupOf, innerSignal, newControllerRef,
  objectRef, type Obj,
} from '../replicaset/controller-utils.js';
import { MutationCache } from './mutation-cache.js';
import {
  POD_TEMPLATE_HASH_LABEL, REASON_FAILED_RS_CREATE, REASON_FOUND_NEW_RS, REASON_NEW_RS, REASON_NEW_RS_AVAILABLE, REASON_PAUSED,
  REASON_RESUMED, REASON_RS_UPDATED, REASON_TIMED_OUT, REVISION_ANNOTATION,
  activeReplicaSets, availableLowerBound, byRevision, bySizeNewer, bySizeOlder, calculateStatus, computeHash, deploymentComplete,
  deploymentProgressing, deploymentTimedOut, desiredReplicasAnnotation, equalIgnoreHash, findActiveOrLatest, findNewReplicaSet,
  findOldReplicaSets, getCondition, getProportion, hasProgressDeadline, hasRevisionHistoryLimit, isRollingUpdate, isSaturated,
  maxRevision, maxSurge, maxUnavailable, newCondition, newRSNewReplicas, removeCondition, replicasAnnotationsNeedUpdate,
  selectorWithLabel, selectsEverything, setCondition, setDeploymentRevision, setNewReplicaSetAnnotations, setReplicasAnnotations,
  specReplicas, sumSpecReplicas, type DeploymentCondition, type DeploymentStatus,
} from './deployment-util.js';

const log = logger('deployment-controller');

const CONTROLLER_UID_INDEX = 'controller-uid';
/** How soon a sync that hit a write conflict runs again. */
const CONFLICT_REQUEUE_MS = 50;

export interface DeploymentControllerOptions {
  /** Concurrent syncs (kube-controller-manager --concurrent-deployment-syncs, default 5). */
  workers?: number;
}

/** What a sync asks of the queue: look again after this many ms (progress deadline). */
type Requeue = number | undefined;

/** Replaces the contents of `target` with `src`, so every reference to `target` sees the update. */
function replaceInPlace(target: Obj, src: Obj): void {
  for (const k of Object.keys(target)) delete (target as Record<string, unknown>)[k];
  Object.assign(target, structuredClone(src));
}

const controllerUIDIndex = (o: Obj): string[] => {
  const ref = getControllerOf(o);
  return ref?.uid ? [ref.uid] : [];
};

export class DeploymentController {
  readonly dInformer: Informer<Obj>;
  readonly rsInformer: Informer<Obj>;
  readonly podInformer: Informer<Obj>;
  readonly controller: Controller;
  readonly recorder: EventRecorder;
  private readonly deployments: MutationCache<Obj>;
  private readonly replicaSets: MutationCache<Obj>;

  constructor(readonly client: RestClient, opts: DeploymentControllerOptions = {}) {
    this.dInformer = new Informer<Obj>(client, DEPLOYMENTS);
    this.rsInformer = new Informer<Obj>(client, REPLICASETS);
    this.podInformer = new Informer<Obj>(client, PODS);
    this.podInformer.addIndex(CONTROLLER_UID_INDEX, controllerUIDIndex);
    this.deployments = new MutationCache(this.dInformer);
    this.replicaSets = new MutationCache(this.rsInformer);
    this.recorder = new EventRecorder(client, { component: 'deployment-controller' });
    this.controller = new Controller('deployment', { reconcile: (key) => this.reconcile(key) }, { workers: opts.workers ?? 5 });

    this.dInformer.on('add', (d) => this.controller.enqueue(keyOf(d)));
    this.dInformer.on('update', (_o, d) => this.controller.enqueue(keyOf(d)));
    this.dInformer.on('delete', (d) => this.controller.enqueue(keyOf(d)));
    this.rsInformer.on('add', (rs) => this.addReplicaSet(rs));
    this.rsInformer.on('update', (o, rs) => this.updateReplicaSet(o, rs));
    this.rsInformer.on('delete', (rs) => this.deleteReplicaSet(rs));
    this.podInformer.on('delete', (pod) => this.deletePod(pod));
  }

  start(outer: AbortSignal): void {
    const signal = innerSignal(outer);
    for (const inf of [this.dInformer, this.rsInformer, this.podInformer]) inf.start(signal);
    signal.addEventListener('abort', () => this.recorder.stop(), { once: true });
    void (async () => {
      if (await this.waitForSync(signal)) this.controller.start(signal);
    })();
  }

  async stopped(): Promise<void> {
    await Promise.all([this.dInformer.stopped(), this.rsInformer.stopped(), this.podInformer.stopped()]);
    await this.controller.stopped();
  }

  async waitForSync(signal?: AbortSignal): Promise<boolean> {
    for (const inf of [this.dInformer, this.rsInformer, this.podInformer]) if (!(await inf.waitForSync(signal))) return false;
    return true;
  }

  // ---- event handlers ------------------------------------------------------------------------

  /** The Deployment a controllerRef points to, if cached with that uid. */
  private resolveControllerRef(namespace: string | undefined, ref: { apiVersion?: string; kind?: string; name?: string; uid?: string } | undefined): Obj | undefined {
    if (!ref || ref.kind !== 'Deployment' || groupOf(ref.apiVersion) !== 'apps' || !ref.name) return undefined;
    const d = this.dInformer.get(namespace, ref.name);
    return d && d.metadata?.uid === ref.uid ? d : undefined;
  }

  /** Deployments whose selector matches an orphan ReplicaSet's labels. */
  private deploymentsSelecting(rs: Obj): Obj[] {
    const labels = rs.metadata?.labels ?? {};
    const out: Obj[] = [];
    for (const d of this.dInformer.list(rs.metadata?.namespace ?? '')) {
      try {
        const sel = labelSelectorFromObject(d.spec?.selector);
        if (!sel.empty && sel.matches(labels)) out.push(d);
      } catch { /* invalid selector: selects nothing */ }
    }
    return out;
  }

  private addReplicaSet(rs: Obj): void {
    if (rs.metadata?.deletionTimestamp) { this.deleteReplicaSet(rs); return; }
    const ref = getControllerOf(rs);
    if (ref) {
      const d = this.resolveControllerRef(rs.metadata?.namespace, ref);
      if (d) this.controller.enqueue(keyOf(d));
      return;
    }
    for (const d of this.deploymentsSelecting(rs)) this.controller.enqueue(keyOf(d));
  }

  private updateReplicaSet(old: Obj, rs: Obj): void {
    if (old.metadata?.resourceVersion === rs.metadata?.resourceVersion) return;
    const ref = getControllerOf(rs);
    const oldRef = getControllerOf(old);
    const refChanged = ref?.uid !== oldRef?.uid;
    if (refChanged && oldRef) {
      const d = this.resolveControllerRef(old.metadata?.namespace, oldRef);
      if (d) this.controller.enqueue(keyOf(d));
    }
    if (ref) {
      const d = this.resolveControllerRef(rs.metadata?.namespace, ref);
      if (d) this.controller.enqueue(keyOf(d));
      return;
    }
    if (refChanged || !deepEqual(old.metadata?.labels ?? {}, rs.metadata?.labels ?? {})) {
      for (const d of this.deploymentsSelecting(rs)) this.controller.enqueue(keyOf(d));
    }
  }

  private deleteReplicaSet(rs: Obj): void {
    const d = this.resolveControllerRef(rs.metadata?.namespace, getControllerOf(rs));
    if (d) this.controller.enqueue(keyOf(d));
  }

  /** A Recreate rollout waits for the old pods to be gone: look again when one goes. */
  private deletePod(pod: Obj): void {
    const ref = getControllerOf(pod);
    if (!ref || ref.kind !== 'ReplicaSet') return;
    const rs = this.rsInformer.get(pod.metadata?.namespace, ref.name);
    if (!rs || rs.metadata?.uid !== ref.uid) return;
    const d = this.resolveControllerRef(rs.metadata?.namespace, getControllerOf(rs));
    if (d && d.spec?.strategy?.type === 'Recreate') this.controller.enqueue(keyOf(d));
  }

  private event(d: Obj, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.recorder.event(objectRef(d, 'apps/v1', 'Deployment'), type, reason, '', message);
  }

  // ---- API writes ----------------------------------------------------------------------------

  /**
   * Writes d.status (and the revision annotation upstream sends along with it); `d` becomes
   * what the server returned.
   */
  private async writeStatus(d: Obj): Promise<void> {
    const ns = d.metadata!.namespace!;
    // The status subresource keeps annotations from the request (as upstream's Deployment status
    // strategy), so the revision annotation travels with the status, without bumping generation.
    const updated = await this.client.update<Obj>(DEPLOYMENTS, ns, { ...d, status: structuredClone(d.status ?? {}) }, { subresource: 'status' });
    this.deployments.mutated(updated);
    replaceInPlace(d, updated);
  }

  /** PUT of a ReplicaSet copy; `rs` (the sync's object) becomes the server's answer. */
  private async writeReplicaSet(rs: Obj, copy: Obj): Promise<Obj> {
    const updated = await this.client.update<Obj>(REPLICASETS, copy.metadata!.namespace, copy);
    this.replicaSets.mutated(updated);
    replaceInPlace(rs, updated);
    return rs;
  }

  // ---- sync ----------------------------------------------------------------------------------

  async reconcile(key: string): Promise<{ requeueAfter?: number } | void> {
    const { namespace, name } = splitKey(key);
    const cached = this.deployments.get(namespace, name);
    if (!cached) return;
    const d = structuredClone(cached);
    d.status ??= {};
    try {
      const after = await this.syncDeployment(d);
      if (after !== undefined) return { requeueAfter: after };
    } catch (err) {
      if (isNotFound(err) && !(await this.exists(d))) return; // deleted meanwhile
      if (isConflict(err)) {
        // Someone (usually the ReplicaSet controller writing status) changed an object after
        // our cache copy: its watch event brings the newer copy and this key back. Look again
        // shortly, without the back-off a real failure gets.
        log.debug('conflict; syncing again', { deployment: key, err: (err as Error).message });
        return { requeueAfter: CONFLICT_REQUEUE_MS };
      }
      throw err;
    }
  }

  private async exists(d: Obj): Promise<boolean> {
    try {
      const cur = await this.client.get<Obj>(DEPLOYMENTS, d.metadata!.namespace, d.metadata!.name!);
      return cur.metadata?.uid === d.metadata?.uid;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  private async syncDeployment(d: Obj): Promise<Requeue> {
    if (selectsEverything(d)) {
      log.warn('deployment selects all pods; a non-empty selector is required', { deployment: keyOf(d) });
      this.event(d, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      if ((d.status.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) {
        d.status.observedGeneration = d.metadata?.generation;
        await this.writeStatus(d);
      }
      return undefined;
    }
    const rsList = await this.getReplicaSetsForDeployment(d);
    const podMap = this.getPodMapForDeployment(d, rsList);

    if (d.metadata?.deletionTimestamp) {
      await this.syncStatusOnly(d, rsList);
      return undefined;
    }
    await this.checkPausedConditions(d);
    if (d.spec?.paused) {
      await this.sync(d, rsList);
      return undefined;
    }
    if (await this.isScalingEvent(d, rsList)) {
      await this.sync(d, rsList);
      return undefined;
    }
    const type = d.spec?.strategy?.type ?? 'RollingUpdate';
    if (type === 'Recreate') return this.rolloutRecreate(d, rsList, podMap);
    if (type === 'RollingUpdate') return this.rolloutRolling(d, rsList);
    throw new Error(`unexpected deployment strategy type: ${type}`);
  }

  /** getReplicaSetsForDeployment: claimed ReplicaSets, as private copies the sync may update. */
  private async getReplicaSetsForDeployment(d: Obj): Promise<Obj[]> {
    const ns = d.metadata!.namespace!;
    const selector = labelSelectorFromObject(d.spec?.selector);
    const claimed = await claimObjects(this.replicaSets.list(ns), {
      client: this.client, resource: REPLICASETS, owner: { ...d, kind: 'Deployment' }, selector,
      ownerRef: newControllerRef(d, 'apps/v1', 'Deployment'),
      fetchOwner: async () => {
        try {
          return await this.client.get<Obj>(DEPLOYMENTS, ns, d.metadata!.name!);
        } catch (err) {
          if (isNotFound(err)) return undefined;
          throw err;
        }
      },
    });
    return claimed.map((rs) => structuredClone(rs));
  }

  /** getPodMapForDeployment: the Deployment's pods (its selector) by owning ReplicaSet uid. */
  private getPodMapForDeployment(d: Obj, rsList: Obj[]): Map<string, Obj[]> {
    const selector = labelSelectorFromObject(d.spec?.selector);
    const map = new Map<string, Obj[]>();
    for (const rs of rsList) {
      const uid = rs.metadata!.uid!;
      map.set(uid, this.podInformer.byIndex(CONTROLLER_UID_INDEX, uid).filter((p) => selector.matches(p.metadata?.labels ?? {})));
    }
    return map;
  }

  private async syncStatusOnly(d: Obj, rsList: Obj[]): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, false);
    await this.syncDeploymentStatus([...oldRSs, newRS], newRS, d);
  }

  /** sync: scaling (and history cleanup while paused), no rollout. */
  private async sync(d: Obj, rsList: Obj[]): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, false);
    await this.scale(d, newRS, oldRSs);
    if (d.spec?.paused) await this.cleanupDeployment(oldRSs, d);
    await this.syncDeploymentStatus([...oldRSs, newRS], newRS, d);
  }

  /** checkPausedConditions: Progressing Unknown DeploymentPaused / DeploymentResumed. */
  private async checkPausedConditions(d: Obj): Promise<void> {
    if (!hasProgressDeadline(d)) return;
    const cond = getCondition(d.status, 'Progressing');
    if (cond?.reason === REASON_TIMED_OUT) return; // a reported failure is not overwritten
    const pausedCond = cond?.reason === REASON_PAUSED;
    let condition: DeploymentCondition | undefined;
    if (d.spec?.paused && !pausedCond) condition = newCondition('Progressing', 'Unknown', REASON_PAUSED, 'Deployment is paused');
    else if (!d.spec?.paused && pausedCond) condition = newCondition('Progressing', 'Unknown', REASON_RESUMED, 'Deployment is resumed');
    if (!condition) return;
    setCondition(d.status, condition);
    await this.writeStatus(d);
  }

  /** isScalingEvent: an active ReplicaSet was sized for a different spec.replicas. */
  private async isScalingEvent(d: Obj, rsList: Obj[]): Promise<boolean> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, false);
    for (const rs of activeReplicaSets([...oldRSs, newRS])) {
      const desired = desiredReplicasAnnotation(rs);
      if (desired !== undefined && desired !== specReplicas(d)) return true;
    }
    return false;
  }

  /** The new ReplicaSet (created if asked and missing) and all old ones, revisions synced. */
  private async getAllReplicaSetsAndSyncRevision(d: Obj, rsList: Obj[], createIfNotExisted: boolean): Promise<{ newRS: Obj | undefined; oldRSs: Obj[] }> {
    const { all } = findOldReplicaSets(d, rsList);
    const newRS = await this.getNewReplicaSet(d, rsList, all, createIfNotExisted);
    return { newRS, oldRSs: all };
  }

  /** getNewReplicaSet: finds (and brings up to date) or creates the ReplicaSet for d's template. */
  private async getNewReplicaSet(d: Obj, rsList: Obj[], oldRSs: Obj[], createIfNotExisted: boolean): Promise<Obj | undefined> {
    const existing = findNewReplicaSet(d, rsList);
    const newRevision = String(maxRevision(oldRSs) + 1);
    if (existing) {
      const copy = structuredClone(existing);
      const annotationsUpdated = setNewReplicaSetAnnotations(d, copy, newRevision, true);
      const minReadyChanged = (copy.spec?.minReadySeconds ?? 0) !== (d.spec?.minReadySeconds ?? 0);
      if (annotationsUpdated || minReadyChanged) {
        copy.spec.minReadySeconds = d.spec?.minReadySeconds ?? 0;
        // As upstream, the Deployment's own revision follows on the next sync.
        return this.writeReplicaSet(existing, copy);
      }
      let needsUpdate = setDeploymentRevision(d, existing.metadata?.annotations?.[REVISION_ANNOTATION]);
      if (hasProgressDeadline(d) && !getCondition(d.status, 'Progressing')) {
        setCondition(d.status, newCondition('Progressing', 'True', REASON_FOUND_NEW_RS, `Found new replica set "${existing.metadata!.name}"`));
        needsUpdate = true;
      }
      if (needsUpdate) await this.writeStatus(d);
      return existing;
    }
    if (!createIfNotExisted) return undefined;

    const ns = d.metadata!.namespace!;
    const hash = computeHash(d.spec?.template, d.status?.collisionCount);
    const template = structuredClone(d.spec?.template ?? {});
    template.metadata ??= {};
    template.metadata.labels = { ...(template.metadata.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
    const newRS: Obj = {
      apiVersion: 'apps/v1', kind: 'ReplicaSet',
      metadata: { name: `${d.metadata!.name}-${hash}`, namespace: ns, ownerReferences: [newControllerRef(d, 'apps/v1', 'Deployment')], labels: { ...template.metadata.labels } },
      spec: { replicas: 0, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector: selectorWithLabel(d.spec?.selector, POD_TEMPLATE_HASH_LABEL, hash), template },
    };
    newRS.spec.replicas = newRSNewReplicas(d, [...oldRSs, newRS], newRS);
    setNewReplicaSetAnnotations(d, newRS, newRevision, false);

    let created: Obj;
    let alreadyExists = false;
    try {
      created = await this.client.create<Obj>(REPLICASETS, ns, newRS);
      this.replicaSets.mutated(created);
    } catch (err) {
      if (isAlreadyExists(err)) {
        // Ours, created by an earlier sync this cache has not seen yet? Then use it.
        const rs = this.replicaSets.get(ns, newRS.metadata!.name!) ?? await this.client.get<Obj>(REPLICASETS, ns, newRS.metadata!.name!).catch(() => undefined);
        if (rs && getControllerOf(rs)?.uid === d.metadata?.uid && equalIgnoreHash(d.spec?.template, rs.spec?.template)) {
          created = rs;
          alreadyExists = true;
        } else {
          // A hash collision: the next sync uses another hash.
          d.status.collisionCount = (d.status.collisionCount ?? 0) + 1;
          await this.writeStatus(d);
          log.info('replica set name collision; collisionCount raised', { deployment: keyOf(d), replicaSet: newRS.metadata!.name, collisionCount: d.status.collisionCount });
          throw err;
        }
      } else {
        const msg = `Failed to create new replica set "${newRS.metadata!.name}": ${errorText(err)}`;
        if (hasProgressDeadline(d)) {
          setCondition(d.status, newCondition('Progressing', 'False', REASON_FAILED_RS_CREATE, msg));
          await this.writeStatus(d).catch(() => {}); // the create error is the one to report
        }
        this.event(d, 'Warning', REASON_FAILED_RS_CREATE, msg);
        throw err;
      }
    }
    const rs = structuredClone(created);
    rsList.push(rs);
    if (!alreadyExists) {
      log.info('created new replica set', { deployment: keyOf(d), replicaSet: rs.metadata!.name, replicas: specReplicas(rs) });
      if (specReplicas(rs) > 0) this.event(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${rs.metadata!.name} from 0 to ${specReplicas(rs)}`);
    }
    let needsUpdate = setDeploymentRevision(d, newRevision);
    if (!alreadyExists && hasProgressDeadline(d)) {
      setCondition(d.status, newCondition('Progressing', 'True', REASON_NEW_RS, `Created new replica set "${rs.metadata!.name}"`));
      needsUpdate = true;
    }
    if (needsUpdate) await this.writeStatus(d);
    return rs;
  }

  // ---- scaling -------------------------------------------------------------------------------

  /** scaleReplicaSet: sets the size and the replica annotations; true if the size changed. */
  private async scaleReplicaSet(rs: Obj, newScale: number, d: Obj): Promise<boolean> {
    const sizeChanged = specReplicas(rs) !== newScale;
    const desired = specReplicas(d);
    const max = desired + maxSurge(d);
    if (!sizeChanged && !replicasAnnotationsNeedUpdate(rs, desired, max)) return false;
    const oldScale = specReplicas(rs);
    const copy = structuredClone(rs);
    copy.spec.replicas = newScale;
    setReplicasAnnotations(copy, desired, max);
    await this.writeReplicaSet(rs, copy);
    if (sizeChanged) {
      log.info('scaled replica set', { deployment: keyOf(d), replicaSet: rs.metadata!.name, from: oldScale, to: newScale });
      this.event(d, 'Normal', 'ScalingReplicaSet', `Scaled ${oldScale < newScale ? 'up' : 'down'} replica set ${rs.metadata!.name} from ${oldScale} to ${newScale}`);
    }
    return sizeChanged;
  }

  /** scaleReplicaSetAndRecordEvent: no write at all when the size is right. */
  private async scaleIfNeeded(rs: Obj, newScale: number, d: Obj): Promise<boolean> {
    if (specReplicas(rs) === newScale) return false;
    return this.scaleReplicaSet(rs, newScale, d);
  }

  /**
   * scale: on a replica count change (or while paused) bring the total to the new size. One
   * active ReplicaSet takes it all; a saturated new one means the old ones go; otherwise (rolling
   * update mid-rollout) the difference is shared out in proportion to each ReplicaSet's size.
   */
  private async scale(d: Obj, newRS: Obj | undefined, oldRSs: Obj[]): Promise<void> {
    const replicas = specReplicas(d);
    const single = findActiveOrLatest(newRS, oldRSs);
    if (single) {
      // Also when the size is already right: a stale desired-replicas annotation would make
      // every later sync look like a scaling event and hold the rollout back (upstream returns
      // early here). scaleReplicaSet writes nothing when size and annotations are right.
      await this.scaleReplicaSet(single, replicas, d);
      return;
    }
    if (isSaturated(d, newRS)) {
      for (const old of activeReplicaSets(oldRSs)) await this.scaleIfNeeded(old, 0, d);
      return;
    }
    if (!isRollingUpdate(d)) return;
    const all = activeReplicaSets([...oldRSs, newRS]);
    const allowed = replicas > 0 ? replicas + maxSurge(d) : 0;
    const toAdd = allowed - sumSpecReplicas(all);
    if (toAdd > 0) all.sort(bySizeNewer);
    else if (toAdd < 0) all.sort(bySizeOlder);
    let added = 0;
    const sizes = new Map<Obj, number>();
    for (const rs of all) {
      if (toAdd !== 0) {
        const p = getProportion(rs, d, toAdd, added);
        sizes.set(rs, specReplicas(rs) + p);
        added += p;
      } else sizes.set(rs, specReplicas(rs));
    }
    for (let i = 0; i < all.length; i++) {
      const rs = all[i]!;
      if (i === 0 && toAdd !== 0) sizes.set(rs, Math.max(0, sizes.get(rs)! + toAdd - added)); // leftovers to the largest
      await this.scaleReplicaSet(rs, sizes.get(rs)!, d);
    }
  }

  // ---- rolling update ------------------------------------------------------------------------

  private async rolloutRolling(d: Obj, rsList: Obj[]): Promise<Requeue> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, true);
    const all = [...oldRSs, newRS];
    if (await this.reconcileNewReplicaSet(all, newRS!, d)) return this.syncRolloutStatus(all, newRS, d);
    if (await this.reconcileOldReplicaSets(all, activeReplicaSets(oldRSs), newRS!, d)) return this.syncRolloutStatus(all, newRS, d);
    if (deploymentComplete(d, d.status)) await this.cleanupDeployment(oldRSs, d);
    return this.syncRolloutStatus(all, newRS, d);
  }

  private async reconcileNewReplicaSet(all: Array<Obj | undefined>, newRS: Obj, d: Obj): Promise<boolean> {
    const replicas = specReplicas(d);
    if (specReplicas(newRS) === replicas) return false;
    if (specReplicas(newRS) > replicas) return this.scaleIfNeeded(newRS, replicas, d);
    return this.scaleIfNeeded(newRS, newRSNewReplicas(d, all, newRS), d);
  }

  /**
   * reconcileOldReplicaSets: old ReplicaSets shrink by at most
   * allPods - minAvailable - newRSUnavailable — first their unhealthy pods, then, while more
   * pods are available than replicas - maxUnavailable, healthy ones (oldest ReplicaSet first).
   */
  private async reconcileOldReplicaSets(all: Array<Obj | undefined>, oldRSs: Obj[], newRS: Obj, d: Obj): Promise<boolean> {
    if (sumSpecReplicas(oldRSs) === 0) return false;
    const allPods = sumSpecReplicas(all);
    const minAvailable = specReplicas(d) - maxUnavailable(d);
    const newUnavailable = specReplicas(newRS) - availableLowerBound(newRS);
    const maxScaledDown = allPods - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return false;
    const cleaned = await this.cleanupUnhealthyReplicas(oldRSs, d, maxScaledDown);
    const scaled = await this.scaleDownOldReplicaSetsForRollingUpdate([...oldRSs, newRS], oldRSs, d);
    return cleaned + scaled > 0;
  }

  /** cleanupUnhealthyReplicas: removes old pods that are not available (they cost no availability). */
  private async cleanupUnhealthyReplicas(oldRSs: Obj[], d: Obj, maxCleanup: number): Promise<number> {
    let total = 0;
    for (const rs of [...oldRSs].sort(byCreationTimestamp)) {
      if (total >= maxCleanup) break;
      const replicas = specReplicas(rs);
      if (replicas === 0) continue;
      const unhealthy = replicas - availableLowerBound(rs);
      if (unhealthy <= 0) continue;
      const n = Math.min(maxCleanup - total, unhealthy);
      await this.scaleIfNeeded(rs, replicas - n, d);
      total += n;
    }
    return total;
  }

  private async scaleDownOldReplicaSetsForRollingUpdate(all: Obj[], oldRSs: Obj[], d: Obj): Promise<number> {
    const minAvailable = specReplicas(d) - maxUnavailable(d);
    const available = all.reduce((n, rs) => n + availableLowerBound(rs), 0);
    if (available <= minAvailable) return 0;
    const toScaleDown = available - minAvailable;
    let total = 0;
    for (const rs of [...oldRSs].sort(byCreationTimestamp)) {
      if (total >= toScaleDown) break;
      const replicas = specReplicas(rs);
      if (replicas === 0) continue;
      const n = Math.min(replicas, toScaleDown - total);
      await this.scaleIfNeeded(rs, replicas - n, d);
      total += n;
    }
    return total;
  }

  // ---- recreate ------------------------------------------------------------------------------

  private async rolloutRecreate(d: Obj, rsList: Obj[], podMap: Map<string, Obj[]>): Promise<Requeue> {
    // The new ReplicaSet is created only after the old pods are gone (never both at once).
    let { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, false);
    let all = [...oldRSs, newRS];
    let scaledDown = false;
    for (const rs of activeReplicaSets(oldRSs)) if (await this.scaleIfNeeded(rs, 0, d)) scaledDown = true;
    if (scaledDown) return this.syncRolloutStatus(all, newRS, d);
    if (this.oldPodsRunning(newRS, oldRSs, podMap)) return this.syncRolloutStatus(all, newRS, d);
    if (!newRS) {
      ({ newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, true));
      all = [...oldRSs, newRS];
    }
    await this.scaleIfNeeded(newRS!, specReplicas(d), d);
    if (deploymentComplete(d, d.status)) await this.cleanupDeployment(oldRSs, d);
    return this.syncRolloutStatus(all, newRS, d);
  }

  /** oldPodsRunning: an old ReplicaSet still reports pods, or one of its pods is not terminal. */
  private oldPodsRunning(newRS: Obj | undefined, oldRSs: Obj[], podMap: Map<string, Obj[]>): boolean {
    if (oldRSs.some((rs) => (rs.status?.replicas ?? 0) > 0)) return true;
    for (const [uid, pods] of podMap) {
      if (newRS && newRS.metadata?.uid === uid) continue;
      for (const p of pods) {
        const phase = p.status?.phase;
        if (phase !== 'Failed' && phase !== 'Succeeded') return true;
      }
    }
    return false;
  }

  // ---- history -------------------------------------------------------------------------------

  /**
   * cleanupDeployment: keeps the revisionHistoryLimit newest old ReplicaSets (by revision);
   * older ones are deleted if they have no pods and their controller has seen their size.
   */
  private async cleanupDeployment(oldRSs: Obj[], d: Obj): Promise<void> {
    if (!hasRevisionHistoryLimit(d)) return;
    const alive = oldRSs.filter((rs) => !rs.metadata?.deletionTimestamp);
    const diff = alive.length - d.spec.revisionHistoryLimit;
    if (diff <= 0) return;
    alive.sort(byRevision);
    for (const rs of alive.slice(0, diff)) {
      if ((rs.status?.replicas ?? 0) !== 0 || specReplicas(rs) !== 0 || (rs.metadata?.generation ?? 0) > (rs.status?.observedGeneration ?? 0)) continue;
      try {
        await this.client.delete(REPLICASETS, rs.metadata!.namespace, rs.metadata!.name!, { preconditions: { uid: rs.metadata!.uid } });
        log.info('deleted old replica set beyond revisionHistoryLimit', { deployment: keyOf(d), replicaSet: rs.metadata!.name });
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
    }
  }

  // ---- status --------------------------------------------------------------------------------

  /** syncDeploymentStatus: the computed status, written if it changed (no progress estimate). */
  private async syncDeploymentStatus(all: Array<Obj | undefined>, newRS: Obj | undefined, d: Obj): Promise<void> {
    const status = calculateStatus(all, newRS, d);
    if (deepEqual(d.status ?? {}, status)) return;
    d.status = status;
    await this.writeStatus(d);
  }

  /**
   * syncRolloutStatus: the status with progress judged against progressDeadlineSeconds; returns
   * when to look again if the rollout might time out.
   */
  private async syncRolloutStatus(all: Array<Obj | undefined>, newRS: Obj | undefined, d: Obj): Promise<Requeue> {
    const status = calculateStatus(all, newRS, d);
    if (!hasProgressDeadline(d)) removeCondition(status, 'Progressing');
    const current = getCondition(d.status, 'Progressing');
    const isComplete = (status.replicas ?? 0) === (status.updatedReplicas ?? 0) && current?.reason === REASON_NEW_RS_AVAILABLE;
    if (hasProgressDeadline(d) && !isComplete) {
      const what = newRS ? `ReplicaSet "${newRS.metadata!.name}"` : `Deployment "${d.metadata!.name}"`;
      if (deploymentComplete(d, status)) {
        setCondition(status, newCondition('Progressing', 'True', REASON_NEW_RS_AVAILABLE, `${what} has successfully progressed.`));
      } else if (deploymentProgressing(d, status)) {
        // Progress refreshes lastUpdateTime even with the same reason (the deadline restarts).
        const cond = newCondition('Progressing', 'True', REASON_RS_UPDATED, `${what} is progressing.`);
        if (current) {
          if (current.status === 'True') cond.lastTransitionTime = current.lastTransitionTime;
          removeCondition(status, 'Progressing');
        }
        setCondition(status, cond);
      } else if (deploymentTimedOut(d, status)) {
        setCondition(status, newCondition('Progressing', 'False', REASON_TIMED_OUT, `${what} has timed out progressing.`));
      }
    }
    const failure = this.replicaFailure(all, newRS);
    if (failure) setCondition(status, failure);
    else removeCondition(status, 'ReplicaFailure');

    if (deepEqual(d.status ?? {}, status)) return this.requeueStuckDeployment(d, status);
    d.status = status;
    await this.writeStatus(d);
    return undefined;
  }

  /** getReplicaFailures: the new ReplicaSet's ReplicaFailure condition, else an old one's. */
  private replicaFailure(all: Array<Obj | undefined>, newRS: Obj | undefined): DeploymentCondition | undefined {
    for (const rs of [newRS, ...all]) {
      const c = (rs?.status?.conditions ?? []).find((x: any) => x?.type === 'ReplicaFailure');
      if (c) return { type: 'ReplicaFailure', status: c.status, lastUpdateTime: c.lastTransitionTime, lastTransitionTime: c.lastTransitionTime, reason: c.reason, message: c.message };
    }
    return undefined;
  }

  /** requeueStuckDeployment: a rollout without progress is looked at again 1 s after its deadline. */
  private requeueStuckDeployment(d: Obj, status: DeploymentStatus): Requeue {
    const cond = getCondition(d.status, 'Progressing');
    if (!hasProgressDeadline(d) || !cond) return undefined;
    if (deploymentComplete(d, status) || cond.reason === REASON_TIMED_OUT) return undefined;
    const last = Date.parse(cond.lastUpdateTime ?? '');
    if (Number.isNaN(last)) return undefined;
    const after = last + d.spec.progressDeadlineSeconds * 1000 - Date.now();
    return Math.max(after, 0) + 1000;
  }
}
