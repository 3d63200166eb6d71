/**
 * DisruptionController: keeps the status of every policy/v1 PodDisruptionBudget current, so
 * the eviction subresource can tell whether a pod may go (kube-controller-manager's disruption
 * controller, pkg/controller/disruption; behaviour only). The arithmetic is in pdb-status.ts.
 *
 * One sync of a budget "ns/name":
 * 1. The matching pods: the pods of the namespace its selector selects, with policy/v1
 *    semantics — a null selector selects nothing, an empty one ({}) every pod.
 *    None: a Normal event NoPods ("No matching pods found").
 * 2. Expected pods and desired healthy (see pdb-status.ts). For a percentage minAvailable or a
 *    maxUnavailable, the expected count is the sum of the scale of the pods' controllers, found
 *    through controller ownerReferences as upstream's finders do: a ReplicationController; a
 *    ReplicaSet owned by a Deployment (the Deployment's replicas); a ReplicaSet (its own); a
 *    StatefulSet; otherwise any kind with a scale subresource (found through discovery, GET
 *    .../scale, UIDs must match). Pods without a controller are left out, with a Warning
 *    event UnmanagedPods; a controller found nowhere fails the sync.
 * 3. disruptedPods (written by the eviction subresource) keeps entries younger than 2 minutes
 *    of pods that exist and are not being deleted; an expired entry gets a Warning event
 *    NotDeleted on the pod; the budget is looked at again when the earliest entry expires.
 * 4. currentHealthy, disruptionsAllowed, observedGeneration and the DisruptionAllowed condition
 *    are written through the status subresource (conflict-checked), only when they changed.
 * A failed sync (not a conflict) sets disruptionsAllowed to 0 and the condition to
 * False/SyncFailed with the error (upstream's failSafe), then retries with back-off.
 *
 * Stale DisruptionTarget conditions: a pod that is not being deleted and not terminal, whose
 * DisruptionTarget condition (e.g. added by an eviction that then failed) has been True for 2
 * minutes, gets it set back to False (reason kept), as upstream's stale pod disruption worker.
 *
 * Changes to pods requeue the budgets that select them (before and after the change); budget
 * changes requeue the budget.
 */
import { Controller, Informer, isConflict, isNotFound, keyOf, splitKey, type ResourceDescriptor, type RestClient } from '../../client/index.js';
import { EventRecorder, type ObjectReference } from '../../client/event-recorder.js';
import { labelSelectorFromObject, type LabelSelector } from '../../apimachinery/labels.js';
import { DEPLOYMENTS, PODS, REPLICASETS, getControllerOf, groupOf, innerSignal, type Obj, type OwnerRef } from '../replicaset/controller-utils.js';
import { discoverResources, type DiscoveredResource } from '../discovery.js';
import { logger } from '../../util/log.js';
import {
  DELETION_TIMEOUT_MS, DISRUPTION_ALLOWED_CONDITION, SYNC_FAILED_REASON, activeDisruptedPods, conditionsAreUpToDate, countHealthyPods,
  disruptionsAllowed, expectedAndDesired, metaTime, needsScale, sameDisruptedPods, setStatusCondition, withDisruptionAllowedCondition,
  type Condition, type PdbStatus,
} from './pdb-status.js';

const log = logger('disruption-controller');

export const PDBS: ResourceDescriptor = { group: 'policy', version: 'v1', plural: 'poddisruptionbudgets', namespaced: true };
export const STATEFULSETS: ResourceDescriptor = { group: 'apps', version: 'v1', plural: 'statefulsets', namespaced: true };
export const REPLICATIONCONTROLLERS: ResourceDescriptor = { group: '', version: 'v1', plural: 'replicationcontrollers', namespaced: true };

/** After this long a DisruptionTarget=True condition on a live pod is reset (upstream stalePodDisruptionTimeout). */
export const STALE_POD_DISRUPTION_TIMEOUT_MS = 2 * 60_000;
export const DISRUPTION_TARGET = 'DisruptionTarget';
/** The reason the kubelet uses; such conditions are never stale. */
const TERMINATION_BY_KUBELET = 'TerminationByKubelet';

export interface DisruptionControllerOptions {
  /** Current time in ms (default Date.now). */
  clock?: () => number;
  /** Concurrent budget syncs (default 2). */
  workers?: number;
  stalePodDisruptionTimeoutMs?: number;
}

/** A controller and its scale, as upstream's controllerAndScale. */
export interface ControllerScale {
  uid: string;
  scale: number;
}

const isTerminal = (pod: Obj) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

function verifyGroupKind(ref: OwnerRef, kind: string, groups: string[]): boolean {
  return ref.kind === kind && groups.includes(groupOf(ref.apiVersion));
}

export class DisruptionController {
  readonly pdbInformer: Informer<Obj>;
  readonly podInformer: Informer<Obj>;
  readonly rsInformer: Informer<Obj>;
  readonly deploymentInformer: Informer<Obj>;
  readonly statefulSetInformer: Informer<Obj>;
  readonly rcInformer: Informer<Obj>;
  /** Budgets, keyed "ns/name". */
  readonly controller: Controller;
  /** Pods with a possibly stale DisruptionTarget condition, keyed "ns/name". */
  readonly staleController: Controller;
  readonly events: EventRecorder;
  private readonly now: () => number;
  private readonly staleTimeout: number;
  private discovered?: { at: number; resources: DiscoveredResource[] };

  constructor(readonly client: RestClient, opts: DisruptionControllerOptions = {}) {
    this.now = opts.clock ?? Date.now;
    this.staleTimeout = opts.stalePodDisruptionTimeoutMs ?? STALE_POD_DISRUPTION_TIMEOUT_MS;
    this.pdbInformer = new Informer<Obj>(client, PDBS);
    this.podInformer = new Informer<Obj>(client, PODS);
    this.rsInformer = new Informer<Obj>(client, REPLICASETS);
    this.deploymentInformer = new Informer<Obj>(client, DEPLOYMENTS);
    this.statefulSetInformer = new Informer<Obj>(client, STATEFULSETS);
    this.rcInformer = new Informer<Obj>(client, REPLICATIONCONTROLLERS);
    this.events = new EventRecorder(client, { component: 'controllermanager' });
    this.controller = new Controller('disruption', { reconcile: (k) => this.sync(k) }, { workers: opts.workers ?? 2 });
    this.staleController = new Controller('disruption-stale-pod', { reconcile: (k) => this.syncStalePodDisruption(k) });

    this.controller.watch(this.pdbInformer);
    this.controller.watch(this.podInformer, (pod) => this.pdbsForPod(pod).map(keyOf));
    for (const inf of [this.rsInformer, this.deploymentInformer, this.statefulSetInformer, this.rcInformer]) {
      this.controller.watch(inf, () => undefined); // listers only; syncs wait for them
    }
    this.podInformer.on('add', (pod) => {
      this.checkStale(pod);
      const pdbs = this.pdbsForPod(pod);
      if (pdbs.length > 1) {
        const msg = `Pod "${pod.metadata!.namespace}"/"${pod.metadata!.name}" matches multiple PodDisruptionBudgets.  Chose "${pdbs[0].metadata!.name}" arbitrarily.`;
        this.events.event(this.podRef(pod), 'Warning', 'MultiplePodDisruptionBudgets', 'Sync', msg);
      }
    });
    this.podInformer.on('update', (_old, pod) => this.checkStale(pod));
    this.staleController.watch(this.podInformer, () => undefined);
  }

  start(outer: AbortSignal): void {
    const signal = innerSignal(outer);
    for (const inf of this.informers()) inf.start(signal);
    signal.addEventListener('abort', () => this.events.stop(), { once: true });
    this.controller.start(signal);
    this.staleController.start(signal);
  }

  async stopped(): Promise<void> {
    await Promise.all(this.informers().map((i) => i.stopped()));
    await Promise.all([this.controller.stopped(), this.staleController.stopped()]);
  }

  async waitForSync(signal?: AbortSignal): Promise<boolean> {
    for (const inf of this.informers()) if (!(await inf.waitForSync(signal))) return false;
    return true;
  }

  private informers(): Informer<Obj>[] {
    return [this.pdbInformer, this.podInformer, this.rsInformer, this.deploymentInformer, this.statefulSetInformer, this.rcInformer];
  }

  private podRef(pod: Obj): ObjectReference {
    return { kind: 'Pod', apiVersion: 'v1', namespace: pod.metadata!.namespace, name: pod.metadata!.name!, uid: pod.metadata?.uid };
  }

  private pdbRef(pdb: Obj): ObjectReference {
    return { kind: 'PodDisruptionBudget', apiVersion: 'policy/v1', namespace: pdb.metadata!.namespace, name: pdb.metadata!.name!, uid: pdb.metadata?.uid };
  }

  /** The budgets whose selector selects the pod (policy/v1: an empty selector selects all). */
  pdbsForPod(pod: Obj): Obj[] {
    const ns = pod.metadata?.namespace;
    if (!ns) return [];
    const out: Obj[] = [];
    for (const pdb of this.pdbInformer.list(ns)) {
      let sel: LabelSelector;
      try {
        sel = labelSelectorFromObject(pdb.spec?.selector);
      } catch {
        continue; // an invalid selector selects nothing
      }
      if (sel.matches(pod.metadata?.labels ?? {})) out.push(pdb);
    }
    return out;
  }

  // ---- budgets -------------------------------------------------------------------------------

  async sync(key: string): Promise<{ requeueAfter?: number } | void> {
    const { namespace, name } = splitKey(key);
    const pdb = this.pdbInformer.get(namespace, name);
    if (!pdb) return;
    try {
      return await this.trySync(pdb);
    } catch (err) {
      // A conflict is retried as it is: the cache was behind.
      if (isConflict(err) || isNotFound(err)) throw err;
      log.warn('failed to sync PodDisruptionBudget', { pdb: key, err: (err as Error).message });
      await this.failSafe(pdb, err as Error);
      throw err;
    }
  }

  private async trySync(pdb: Obj): Promise<{ requeueAfter?: number } | void> {
    const pods = this.podsForPdb(pdb);
    if (!pods.length) this.events.event(this.pdbRef(pdb), 'Normal', 'NoPods', 'Sync', 'No matching pods found');
    const { expectedCount, desiredHealthy, unmanagedPods } = await this.expectedPodCount(pdb, pods);
    if (unmanagedPods.length) {
      log.debug('found unmanaged pods associated with this PDB', { pdb: keyOf(pdb), pods: unmanagedPods });
      this.events.event(this.pdbRef(pdb), 'Warning', 'UnmanagedPods', 'Sync',
        `Pods selected by this PodDisruptionBudget (selector: ${JSON.stringify(pdb.spec?.selector ?? null)}) were found to be unmanaged. `
        + 'As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. '
        + 'To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.');
    }
    const now = this.now();
    const { disrupted, expired, recheckAt } = activeDisruptedPods(pods, pdb, now);
    for (const pod of expired) {
      log.info('pod was expected to be deleted but it was not, updating PDB', { pod: keyOf(pod), pdb: keyOf(pdb) });
      this.events.event(this.podRef(pod), 'Warning', 'NotDeleted', 'Sync', `Pod was expected by PDB ${pdb.metadata!.namespace}/${pdb.metadata!.name} to be deleted but it wasn't`);
    }
    const currentHealthy = countHealthyPods(pods, disrupted, now);
    await this.updateStatus(pdb, { currentHealthy, desiredHealthy, expectedCount, disrupted }, now);
    if (recheckAt !== undefined) return { requeueAfter: Math.max(1, recheckAt - now + 1) };
  }

  /** The budget's pods (getPodsForPdb); an invalid selector throws. */
  podsForPdb(pdb: Obj): Obj[] {
    const sel = labelSelectorFromObject(pdb.spec?.selector);
    if (sel.nothing) return [];
    return this.podInformer.list(pdb.metadata!.namespace).filter((p) => sel.matches(p.metadata?.labels ?? {}));
  }

  /** getExpectedPodCount: expected pods, desired healthy, and the pods without a controller. */
  async expectedPodCount(pdb: Obj, pods: Obj[]): Promise<{ expectedCount: number; desiredHealthy: number; unmanagedPods: string[] }> {
    let scale = 0;
    let unmanagedPods: string[] = [];
    if (needsScale(pdb)) ({ scale, unmanagedPods } = await this.expectedScale(pods));
    return { ...expectedAndDesired(pdb, pods.length, () => scale), unmanagedPods };
  }

  /** getExpectedScale: the summed scale of the distinct controllers of the pods. */
  async expectedScale(pods: Obj[]): Promise<{ scale: number; unmanagedPods: string[] }> {
    const byUID = new Map<string, number>();
    const unmanagedPods: string[] = [];
    for (const pod of pods) {
      const ref = getControllerOf(pod);
      if (!ref) {
        unmanagedPods.push(pod.metadata!.name!);
        continue;
      }
      if (byUID.has(ref.uid)) continue;
      const found = await this.controllerScale(ref, pod.metadata!.namespace!);
      if (!found) throw new Error(`found no controllers for pod "${pod.metadata!.name}"`);
      byUID.set(found.uid, found.scale);
    }
    let scale = 0;
    for (const n of byUID.values()) scale += n;
    return { scale, unmanagedPods };
  }

  /** The finders, in upstream's order: RC, Deployment (through its ReplicaSet), ReplicaSet, StatefulSet, any scalable kind. */
  async controllerScale(ref: OwnerRef, ns: string): Promise<ControllerScale | undefined> {
    for (const finder of [this.findRC, this.findDeployment, this.findReplicaSet, this.findStatefulSet]) {
      const found = finder.call(this, ref, ns);
      if (found) return found;
    }
    return this.findScalable(ref, ns);
  }

  private findRC(ref: OwnerRef, ns: string): ControllerScale | undefined {
    if (!verifyGroupKind(ref, 'ReplicationController', [''])) return undefined;
    const rc = this.rcInformer.get(ns, ref.name);
    if (!rc || rc.metadata?.uid !== ref.uid) return undefined;
    return { uid: rc.metadata.uid!, scale: rc.spec?.replicas ?? 1 };
  }

  private findDeployment(ref: OwnerRef, ns: string): ControllerScale | undefined {
    if (!verifyGroupKind(ref, 'ReplicaSet', ['apps', 'extensions'])) return undefined;
    const rs = this.rsInformer.get(ns, ref.name);
    if (!rs || rs.metadata?.uid !== ref.uid) return undefined;
    const dref = getControllerOf(rs);
    if (!dref || !verifyGroupKind(dref, 'Deployment', ['apps', 'extensions'])) return undefined;
    const d = this.deploymentInformer.get(ns, dref.name);
    if (!d || d.metadata?.uid !== dref.uid) return undefined;
    return { uid: d.metadata.uid!, scale: d.spec?.replicas ?? 1 };
  }

  private findReplicaSet(ref: OwnerRef, ns: string): ControllerScale | undefined {
    if (!verifyGroupKind(ref, 'ReplicaSet', ['apps', 'extensions'])) return undefined;
    const rs = this.rsInformer.get(ns, ref.name);
    if (!rs || rs.metadata?.uid !== ref.uid) return undefined;
    // A ReplicaSet of a Deployment counts through the Deployment.
    if (getControllerOf(rs)?.kind === 'Deployment') return undefined;
    return { uid: rs.metadata.uid!, scale: rs.spec?.replicas ?? 1 };
  }

  private findStatefulSet(ref: OwnerRef, ns: string): ControllerScale | undefined {
    if (!verifyGroupKind(ref, 'StatefulSet', ['apps'])) return undefined;
    const ss = this.statefulSetInformer.get(ns, ref.name);
    if (!ss || ss.metadata?.uid !== ref.uid) return undefined;
    return { uid: ss.metadata.uid!, scale: ss.spec?.replicas ?? 1 };
  }

  /** getScaleController: any kind serving the scale subresource (custom resources too). */
  private async findScalable(ref: OwnerRef, ns: string): Promise<ControllerScale | undefined> {
    const group = groupOf(ref.apiVersion);
    const res = await this.resourceFor(group, ref.kind);
    if (!res) throw new Error(`no matches for kind "${ref.kind}" in group "${group}"`);
    let scale: any;
    try {
      scale = await this.client.get(res, ns, ref.name, { subresource: 'scale' });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      // Either the object is gone, or its kind has no scale subresource.
      try {
        await this.client.get(res, ns, ref.name);
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
      throw new Error(`${res.plural}${res.group ? `.${res.group}` : ''} does not implement the scale subresource`);
    }
    if (scale?.metadata?.uid !== ref.uid) return undefined;
    return { uid: ref.uid, scale: scale?.spec?.replicas ?? 0 };
  }

  /** The resource of a group and kind, from discovery (refreshed at most every 10 s on a miss). */
  private async resourceFor(group: string, kind: string): Promise<DiscoveredResource | undefined> {
    const find = () => this.discovered?.resources.find((r) => r.group === group && r.kind === kind);
    let r = find();
    if (r) return r;
    if (!this.discovered || this.now() - this.discovered.at > 10_000) {
      const result = await discoverResources(this.client);
      this.discovered = { at: this.now(), resources: result.resources };
      r = find();
    }
    return r;
  }

  /** updatePdbStatus: writes the status when anything in it changed. */
  private async updateStatus(pdb: Obj, s: { currentHealthy: number; desiredHealthy: number; expectedCount: number; disrupted: Record<string, string> }, now: number): Promise<void> {
    const allowed = disruptionsAllowed(s.currentHealthy, s.desiredHealthy, s.expectedCount);
    const st = pdb.status ?? {};
    const generation = pdb.metadata?.generation ?? 0;
    if (st.currentHealthy === s.currentHealthy && st.desiredHealthy === s.desiredHealthy && st.expectedPods === s.expectedCount
      && st.disruptionsAllowed === allowed && sameDisruptedPods(st.disruptedPods, s.disrupted)
      && (st.observedGeneration ?? 0) === generation && conditionsAreUpToDate(pdb)) return;
    const status: PdbStatus = {
      currentHealthy: s.currentHealthy, desiredHealthy: s.desiredHealthy, expectedPods: s.expectedCount,
      disruptionsAllowed: allowed, observedGeneration: generation, conditions: st.conditions ?? [],
    };
    if (Object.keys(s.disrupted).length) status.disruptedPods = s.disrupted;
    await this.writeStatus(pdb, withDisruptionAllowedCondition(status, now));
    log.debug('updated PodDisruptionBudget status', { pdb: keyOf(pdb), currentHealthy: s.currentHealthy, desiredHealthy: s.desiredHealthy, expectedPods: s.expectedCount, disruptionsAllowed: allowed });
  }

  /** failSafe: no disruptions, and the condition says why. */
  private async failSafe(pdb: Obj, err: Error): Promise<void> {
    const status: PdbStatus = { ...(pdb.status ?? {}), disruptionsAllowed: 0 };
    status.conditions = setStatusCondition(status.conditions ?? [], {
      type: DISRUPTION_ALLOWED_CONDITION, status: 'False', reason: SYNC_FAILED_REASON, message: err.message,
      observedGeneration: status.observedGeneration,
    }, this.now());
    try {
      await this.writeStatus(pdb, status);
    } catch (e) {
      log.warn('failed to write PodDisruptionBudget fail-safe status', { pdb: keyOf(pdb), err: (e as Error).message });
    }
  }

  private async writeStatus(pdb: Obj, status: PdbStatus): Promise<void> {
    // The cached object's resourceVersion makes this a conflict-checked write.
    await this.client.update(PDBS, pdb.metadata!.namespace, { ...pdb, status }, { subresource: 'status' });
  }

  // ---- stale DisruptionTarget conditions -----------------------------------------------------

  /** nonTerminatingPodHasStaleDisruptionCondition: whether to look, and in how many ms. */
  staleDisruption(pod: Obj, now: number): { has: boolean; inMs: number } {
    if (pod.metadata?.deletionTimestamp) return { has: false, inMs: 0 };
    const cond = (pod.status?.conditions ?? []).find((c: Condition) => c?.type === DISRUPTION_TARGET) as Condition | undefined;
    if (!cond || cond.status !== 'True' || cond.reason === TERMINATION_BY_KUBELET || isTerminal(pod)) return { has: false, inMs: 0 };
    const since = Date.parse(cond.lastTransitionTime ?? '');
    const inMs = Number.isNaN(since) ? 0 : Math.max(0, this.staleTimeout - (now - since));
    return { has: true, inMs };
  }

  private checkStale(pod: Obj): void {
    const { has, inMs } = this.staleDisruption(pod, this.now());
    if (!has) return;
    if (inMs > 0) this.staleController.queue.addAfter(keyOf(pod), inMs);
    else this.staleController.enqueue(keyOf(pod));
  }

  async syncStalePodDisruption(key: string): Promise<{ requeueAfter?: number } | void> {
    const { namespace, name } = splitKey(key);
    const pod = this.podInformer.get(namespace, name);
    if (!pod) return;
    const { has, inMs } = this.staleDisruption(pod, this.now());
    if (!has) return;
    if (inMs > 0) return { requeueAfter: inMs };
    try {
      // Only status and lastTransitionTime change; reason and message stay (as upstream's apply).
      await this.client.patch(PODS, namespace, name, {
        status: { conditions: [{ type: DISRUPTION_TARGET, status: 'False', lastTransitionTime: metaTime(this.now()) }] },
      }, 'strategic', { subresource: 'status' });
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    log.info('reset stale DisruptionTarget condition', { pod: key });
  }
}

export { DELETION_TIMEOUT_MS };
