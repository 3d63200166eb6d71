/**
 * DaemonSetController: runs one pod of a DaemonSet on every eligible node (the behaviour
 * described for pkg/controller/daemon and the DaemonSet docs; keelson's own implementation).
 *
 * Eligibility of a node for a DaemonSet (computed against the pod the controller would create,
 * i.e. the template plus the automatic tolerations below):
 * - shouldRun: spec.template.spec.nodeSelector and required node affinity match the node, and
 *   every NoSchedule/NoExecute taint of the node is tolerated;
 * - shouldContinueRunning: nodeSelector/affinity match and every NoExecute taint is tolerated
 *   (a pod already on a node that gains a NoSchedule taint stays there).
 *
 * Pods are created with spec.nodeName set to their node (bound directly, not through the
 * scheduler) and, as upstream does, the required node affinity replaced by one term
 * `matchFields metadata.name In [node]`. Labels: the template's plus `controller-revision-hash`
 * (a hash of the template); generateName `<ds>-`; a controller ownerReference. Every pod gets
 * the tolerations node.kubernetes.io/{not-ready,unreachable} (NoExecute, Exists) and
 * node.kubernetes.io/{disk-pressure,memory-pressure,pid-pressure,unschedulable} (NoSchedule,
 * Exists), plus network-unavailable (NoSchedule) for hostNetwork pods.
 *
 * One sync of "ns/name":
 * 1. Claim the active pods (adopt matching orphans, release non-matching owned ones).
 * 2. Only when the expectations are satisfied and the DaemonSet is not being deleted:
 *    create a pod on every node that shouldRun and has none; delete every pod on a node that
 *    no longer qualifies (or no longer exists); on a node with several pods keep the oldest
 *    (preferring a ready one) and delete the rest.
 * 3. If nothing was created or deleted and the strategy is RollingUpdate (the default):
 *    old-revision pods that are not available are deleted at once; available old-revision
 *    pods are deleted while fewer than maxUnavailable (int or percent of desired, rounded up,
 *    default 1, at least 1) desired nodes lack an available pod. Deleted pods are replaced by
 *    step 2 on a later sync. OnDelete: nothing is replaced until a pod is deleted by hand.
 * 4. Status: desiredNumberScheduled, currentNumberScheduled, numberMisscheduled, numberReady,
 *    updatedNumberScheduled, numberAvailable, numberUnavailable, observedGeneration.
 *
 * History (upstream's constructHistory / cleanupHistory): every template the DaemonSet has had
 * is a ControllerRevision "<ds>-<hash>" (labels: the template's plus controller-revision-hash;
 * data: a patch replacing the template; a controllerRef). The current template's revision is
 * created with the next revision number, or renumbered as the newest when the template goes
 * back to it (`kubectl rollout undo ds`). Old revisions beyond revisionHistoryLimit (default
 * 10) that no pod runs are deleted, oldest first. `kubectl rollout history/undo ds` read these.
 *
 * Terminating pods (deletionTimestamp) are not counted; a node whose pod is terminating gets a
 * replacement at once (no wait for the old one to go).
 *
 * Events (component daemonset-controller, on the DaemonSet, as upstream's PodControl):
 * SuccessfulCreate "Created pod: <name>", FailedCreate "Error creating: <error>",
 * SuccessfulDelete "Deleted pod: <name>", FailedDelete "Error deleting: <error>"; Warning
 * SelectingAll for an empty selector.
 */
import { createHash } from 'node:crypto';
import type { Pod, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { Controller, Informer, isAlreadyExists, isConflict, isNotFound, keyOf, splitKey, type ResourceDescriptor, type RestClient } from '../../client/index.js';
import { labelSelectorFromObject, type LabelSelector } from '../../apimachinery/labels.js';
import { EventRecorder } from '../../client/event-recorder.js';
import { logger } from '../../util/log.js';
import {
  ControllerExpectations, FAILED_CREATE, FAILED_DELETE, PODS, SUCCESSFUL_CREATE, SUCCESSFUL_DELETE, byCreationTimestamp, claimObjects,
  errorText, getControllerOf, groupOf, innerSignal, isNamespaceTerminating, isPodActive, isPodAvailable, isPodReady, newControllerRef,
  objectRef, podAvailableAt, revisionData, CONTROLLERREVISIONS, type Obj,
} from '../replicaset/controller-utils.js';
import { RequiredNodeSelector } from '../../scheduler/plugins/helper/node-selector.js';
import { findUntoleratedTaint } from '../../scheduler/plugins/helper/taints.js';
import type { NodeInfo } from '../../scheduler/node-info.js';

const log = logger('daemonset-controller');

export const DAEMONSETS: ResourceDescriptor = { group: 'apps', version: 'v1', plural: 'daemonsets', namespaced: true };
export const NODES: ResourceDescriptor = { group: '', version: 'v1', plural: 'nodes', namespaced: false };
export const REVISION_HASH_LABEL = 'controller-revision-hash';
const CONTROLLER_UID_INDEX = 'controller-uid';

/** Tolerations every daemon pod gets (as upstream adds them). */
export const DAEMON_TOLERATIONS: Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];
const NETWORK_UNAVAILABLE: Toleration = { key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' };

export interface DaemonSetControllerOptions {
  /** Concurrent syncs (kube-controller-manager --concurrent-daemonset-syncs, default 2). */
  workers?: number;
}

export interface DaemonSetStatus {
  desiredNumberScheduled: number;
  currentNumberScheduled: number;
  numberMisscheduled: number;
  numberReady: number;
  updatedNumberScheduled: number;
  numberAvailable: number;
  numberUnavailable: number;
  observedGeneration?: number;
}

function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableStringify((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The revision hash of a DaemonSet's template (the value of the controller-revision-hash label). */
export function templateHash(ds: Obj): string {
  return createHash('sha256').update(stableStringify(ds.spec?.template ?? {})).digest('hex').slice(0, 10);
}

/** Adds the automatic daemon tolerations that the pod does not already carry (same key and effect). */
export function addDaemonTolerations(spec: { tolerations?: Toleration[]; hostNetwork?: boolean }): void {
  const tols = spec.tolerations ? [...spec.tolerations] : [];
  const wanted = spec.hostNetwork ? [...DAEMON_TOLERATIONS, NETWORK_UNAVAILABLE] : DAEMON_TOLERATIONS;
  for (const t of wanted) {
    if (!tols.some((x) => x.key === t.key && x.effect === t.effect)) tols.push({ ...t });
  }
  spec.tolerations = tols;
}

/** The pod (without node) the DaemonSet would run: the template plus the daemon tolerations. */
export function daemonPodSpec(ds: Obj): Pod['spec'] & Record<string, any> {
  const spec = structuredClone(ds.spec?.template?.spec ?? {});
  addDaemonTolerations(spec);
  return spec;
}

/** The pod the DaemonSet creates on `nodeName`. */
export function newDaemonPod(ds: Obj, nodeName: string, hash = templateHash(ds)): Obj {
  const tpl = ds.spec?.template ?? {};
  const spec = daemonPodSpec(ds);
  spec.nodeName = nodeName;
  const term = { matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] };
  spec.affinity = { ...(spec.affinity ?? {}), nodeAffinity: { ...(spec.affinity?.nodeAffinity ?? {}), requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [term] } } };
  const meta: Record<string, unknown> = {
    generateName: `${ds.metadata!.name}-`,
    namespace: ds.metadata!.namespace,
    labels: { ...(tpl.metadata?.labels ?? {}), [REVISION_HASH_LABEL]: hash },
    ownerReferences: [newControllerRef(ds, 'apps/v1', 'DaemonSet')],
  };
  if (tpl.metadata?.annotations) meta.annotations = { ...tpl.metadata.annotations };
  if (tpl.metadata?.finalizers) meta.finalizers = [...tpl.metadata.finalizers];
  return { apiVersion: 'v1', kind: 'Pod', metadata: meta as Obj['metadata'], spec };
}

/** Whether a daemon pod should run on / may stay on `node`. */
export function nodeShouldRunDaemonPod(node: Obj, podSpec: Pod['spec']): { shouldRun: boolean; shouldContinueRunning: boolean } {
  const fit = new RequiredNodeSelector({ spec: podSpec } as Pod).matches({ labels: node.metadata?.labels ?? {}, name: node.metadata?.name ?? '' } as unknown as NodeInfo);
  if (!fit) return { shouldRun: false, shouldContinueRunning: false };
  const taints: Taint[] = node.spec?.taints ?? [];
  const tols: Toleration[] = podSpec?.tolerations ?? [];
  const shouldRun = !findUntoleratedTaint(taints, tols);
  const shouldContinueRunning = !findUntoleratedTaint(taints.filter((t) => t.effect === 'NoExecute'), tols);
  return { shouldRun, shouldContinueRunning };
}

/** The node a daemon pod is on or pinned to (nodeName, else the matchFields metadata.name pin). */
export function nodeOfPod(pod: Obj): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  for (const t of pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const f of t.matchFields ?? []) if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
  }
  return undefined;
}

/** maxUnavailable as a number of nodes (percent of desired rounded up; at least 1). */
export function resolveMaxUnavailable(ds: Obj, desired: number): number {
  const v = ds.spec?.updateStrategy?.rollingUpdate?.maxUnavailable ?? 1;
  let n: number;
  if (typeof v === 'string' && v.endsWith('%')) n = Math.ceil((Number(v.slice(0, -1)) * desired) / 100);
  else n = Number(v);
  if (!Number.isFinite(n) || n < 1) n = 1;
  return n;
}

export class DaemonSetController {
  readonly dsInformer: Informer<Obj>;
  readonly podInformer: Informer<Obj>;
  readonly nodeInformer: Informer<Obj>;
  readonly revisionInformer: Informer<Obj>;
  readonly controller: Controller;
  readonly expectations = new ControllerExpectations();
  readonly recorder: EventRecorder;

  constructor(readonly client: RestClient, opts: DaemonSetControllerOptions = {}) {
    this.recorder = new EventRecorder(client, { component: 'daemonset-controller' });
    this.dsInformer = new Informer<Obj>(client, DAEMONSETS);
    this.podInformer = new Informer<Obj>(client, PODS);
    this.nodeInformer = new Informer<Obj>(client, NODES);
    this.revisionInformer = new Informer<Obj>(client, CONTROLLERREVISIONS);
    this.revisionInformer.addIndex(CONTROLLER_UID_INDEX, (r) => { const ref = getControllerOf(r); return ref?.uid ? [ref.uid] : []; });
    this.controller = new Controller('daemonset', { reconcile: (key) => this.reconcile(key) }, { workers: opts.workers ?? 2 });

    this.dsInformer.on('add', (ds) => this.controller.enqueue(keyOf(ds)));
    this.dsInformer.on('update', (_o, ds) => this.controller.enqueue(keyOf(ds)));
    this.dsInformer.on('delete', (ds) => {
      this.expectations.delete(keyOf(ds));
      this.controller.enqueue(keyOf(ds));
    });
    this.podInformer.on('add', (pod) => {
      if (pod.metadata?.deletionTimestamp) return this.podGone(pod);
      const ds = this.ownerOf(pod);
      if (ds) {
        this.expectations.creationObserved(keyOf(ds));
        this.controller.enqueue(keyOf(ds));
      } else if (!getControllerOf(pod)) this.enqueueSelecting(pod);
    });
    this.podInformer.on('update', (old, pod) => {
      if (old.metadata?.resourceVersion === pod.metadata?.resourceVersion) return;
      if (pod.metadata?.deletionTimestamp) return this.podGone(pod);
      const oldDs = this.ownerOf(old);
      const ds = this.ownerOf(pod);
      if (oldDs && oldDs !== ds) this.controller.enqueue(keyOf(oldDs));
      if (ds) {
        this.controller.enqueue(keyOf(ds));
        const mrs = ds.spec?.minReadySeconds ?? 0;
        if (mrs > 0 && !isPodReady(old) && isPodReady(pod)) this.controller.queue.addAfter(keyOf(ds), mrs * 1000 + 1000);
      } else if (!getControllerOf(pod)) this.enqueueSelecting(pod);
    });
    this.podInformer.on('delete', (pod) => this.podGone(pod));
    // Any node change may change eligibility: look at every DaemonSet again.
    const allDs = () => { for (const ds of this.dsInformer.list()) this.controller.enqueue(keyOf(ds)); };
    this.nodeInformer.on('add', allDs);
    this.nodeInformer.on('update', (old, node) => {
      if (old.metadata?.resourceVersion === node.metadata?.resourceVersion) return;
      // Heartbeat-only status updates do not change eligibility.
      if (JSON.stringify(old.metadata?.labels ?? {}) === JSON.stringify(node.metadata?.labels ?? {}) &&
        JSON.stringify(old.spec ?? {}) === JSON.stringify(node.spec ?? {})) return;
      allDs();
    });
    this.nodeInformer.on('delete', allDs);
    // A revision of ours changed or went: the history is rebuilt on the next sync.
    const onRevision = (r: Obj) => { const ds = this.ownerOf(r); if (ds) this.controller.enqueue(keyOf(ds)); };
    this.revisionInformer.on('update', (_o, r) => onRevision(r));
    this.revisionInformer.on('delete', onRevision);
  }

  start(outer: AbortSignal): void {
    const signal = innerSignal(outer);
    this.dsInformer.start(signal);
    this.podInformer.start(signal);
    this.nodeInformer.start(signal);
    this.revisionInformer.start(signal);
    signal.addEventListener('abort', () => this.recorder.stop(), { once: true });
    void (async () => {
      if (!(await this.waitForSync(signal))) return;
      this.controller.start(signal);
    })();
  }

  async stopped(): Promise<void> {
    await Promise.all([this.dsInformer.stopped(), this.podInformer.stopped(), this.nodeInformer.stopped(), this.revisionInformer.stopped()]);
    await this.controller.stopped();
  }

  async waitForSync(signal?: AbortSignal): Promise<boolean> {
    return (await this.dsInformer.waitForSync(signal)) && (await this.podInformer.waitForSync(signal)) && (await this.nodeInformer.waitForSync(signal))
      && (await this.revisionInformer.waitForSync(signal));
  }

  private ownerOf(pod: Obj): Obj | undefined {
    const ref = getControllerOf(pod);
    if (!ref || ref.kind !== 'DaemonSet' || groupOf(ref.apiVersion) !== 'apps') return undefined;
    const ds = this.dsInformer.get(pod.metadata?.namespace, ref.name);
    return ds && ds.metadata?.uid === ref.uid ? ds : undefined;
  }

  private enqueueSelecting(pod: Obj): void {
    const labels = pod.metadata?.labels ?? {};
    if (!Object.keys(labels).length) return;
    for (const ds of this.dsInformer.list(pod.metadata?.namespace ?? '')) {
      const sel = safeSelector(ds);
      if (sel && !sel.empty && sel.matches(labels)) this.controller.enqueue(keyOf(ds));
    }
  }

  private podGone(pod: Obj): void {
    const ds = this.ownerOf(pod);
    if (!ds) return;
    this.expectations.deletionObserved(keyOf(ds), keyOf(pod));
    this.controller.enqueue(keyOf(ds));
  }

  // ---- sync ----------------------------------------------------------------------------------

  async reconcile(key: string): Promise<{ requeueAfter?: number } | void> {
    const { namespace, name } = splitKey(key);
    const ds = this.dsInformer.get(namespace, name);
    if (!ds) {
      this.expectations.delete(key);
      return;
    }
    const selector = safeSelector(ds);
    if (!selector || selector.empty) {
      log.warn('daemon set has an invalid or empty selector; skipped', { daemonSet: key });
      if (selector?.empty) this.recorder.event(objectRef(ds, 'apps/v1', 'DaemonSet'), 'Warning', 'SelectingAll', '', 'This daemon set is selecting all pods. A non-empty selector is required.');
      return;
    }
    const satisfied = this.expectations.satisfied(key);
    const active = this.podInformer.list(namespace ?? '').filter(isPodActive);
    const pods = await claimObjects(active, {
      client: this.client, resource: PODS, owner: { ...ds, kind: 'DaemonSet' }, selector,
      ownerRef: newControllerRef(ds, 'apps/v1', 'DaemonSet'),
      fetchOwner: async () => {
        try {
          return await this.client.get<Obj>(DAEMONSETS, namespace, name);
        } catch (err) {
          if (isNotFound(err)) return undefined;
          throw err;
        }
      },
    });

    const hash = templateHash(ds);
    if (!ds.metadata?.deletionTimestamp) await this.constructHistory(ds, hash);
    const podSpec = daemonPodSpec(ds);
    const minReady = ds.spec?.minReadySeconds ?? 0;
    const now = Date.now();
    const byNode = new Map<string, Obj[]>();
    const toDelete: Obj[] = [];
    for (const p of pods) {
      const n = nodeOfPod(p);
      if (!n) { toDelete.push(p); continue; } // not pinned to any node: not ours to keep
      let list = byNode.get(n);
      if (!list) byNode.set(n, (list = []));
      list.push(p);
    }

    const toCreate: string[] = [];
    const status: DaemonSetStatus = {
      desiredNumberScheduled: 0, currentNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0,
      updatedNumberScheduled: 0, numberAvailable: 0, numberUnavailable: 0,
    };
    /** Desired nodes whose one pod is of an old revision. */
    const oldPods: Obj[] = [];
    let unavailableNodes = 0;
    const seenNodes = new Set<string>();
    for (const node of this.nodeInformer.list()) {
      const nodeName = node.metadata!.name!;
      seenNodes.add(nodeName);
      const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(node, podSpec);
      const onNode = (byNode.get(nodeName) ?? []).sort((a, b) => Number(isPodReady(b)) - Number(isPodReady(a)) || byCreationTimestamp(a, b));
      if (shouldRun) status.desiredNumberScheduled++;
      if (onNode.length) {
        if (shouldRun) status.currentNumberScheduled++;
        else status.numberMisscheduled++;
      }
      if (shouldRun) {
        const p = onNode[0];
        if (p && isPodReady(p)) status.numberReady++;
        if (p && p.metadata?.labels?.[REVISION_HASH_LABEL] === hash) status.updatedNumberScheduled++;
        if (p && isPodReady(p) && isPodAvailable(p, minReady, now)) status.numberAvailable++;
        else unavailableNodes++;
        if (p && p.metadata?.labels?.[REVISION_HASH_LABEL] !== hash) oldPods.push(p);
      }
      if (shouldRun && onNode.length === 0) toCreate.push(nodeName);
      else if (!shouldContinueRunning) toDelete.push(...onNode);
      else if (onNode.length > 1) toDelete.push(...onNode.slice(1));
    }
    // Pods on nodes that do not exist (any more).
    for (const [n, list] of byNode) if (!seenNodes.has(n)) toDelete.push(...list);
    status.numberUnavailable = status.desiredNumberScheduled - status.numberAvailable;

    let manageError: unknown;
    if (satisfied && !ds.metadata?.deletionTimestamp) {
      try {
        if (toCreate.length || toDelete.length) {
          await this.syncNodes(ds, key, toCreate, toDelete, hash);
        } else if ((ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate' && oldPods.length) {
          const maxUnavailable = resolveMaxUnavailable(ds, status.desiredNumberScheduled);
          const victims: Obj[] = [];
          let unavailable = unavailableNodes;
          for (const p of oldPods) {
            if (!(isPodReady(p) && isPodAvailable(p, minReady, now))) victims.push(p); // already unavailable
          }
          for (const p of oldPods.sort(byCreationTimestamp)) {
            if (victims.includes(p)) continue;
            if (unavailable >= maxUnavailable) break;
            victims.push(p);
            unavailable++;
          }
          if (victims.length) await this.syncNodes(ds, key, [], victims, hash);
        }
      } catch (err) {
        manageError = err;
      }
    }

    await this.updateStatus(ds, status);
    if (manageError) throw manageError;
    if (satisfied && !ds.metadata?.deletionTimestamp) await this.cleanupHistory(ds, hash, pods);

    if (minReady > 0) {
      let next = Infinity;
      for (const p of pods) {
        const at = podAvailableAt(p, minReady);
        if (at !== undefined && at >= now) next = Math.min(next, at);
      }
      if (next < Infinity) return { requeueAfter: next - now + 1000 };
    }
  }

  private async syncNodes(ds: Obj, key: string, create: string[], del: Obj[], hash: string): Promise<void> {
    const errors: unknown[] = [];
    const ref = objectRef(ds, 'apps/v1', 'DaemonSet');
    this.expectations.expectCreations(key, create.length);
    this.expectations.expectDeletions(key, del.map((p) => keyOf(p)));
    await Promise.all([
      ...create.map(async (nodeName) => {
        try {
          const pod = await this.client.create<Obj>(PODS, ds.metadata!.namespace, newDaemonPod(ds, nodeName, hash));
          this.recorder.event(ref, 'Normal', SUCCESSFUL_CREATE, '', `Created pod: ${pod.metadata?.name}`);
        } catch (err) {
          this.expectations.creationObserved(key);
          if (!isNamespaceTerminating(err)) this.recorder.event(ref, 'Warning', FAILED_CREATE, '', `Error creating: ${errorText(err)}`);
          errors.push(err);
        }
      }),
      ...del.map(async (p) => {
        try {
          await this.client.delete(PODS, p.metadata!.namespace, p.metadata!.name!);
          this.recorder.event(ref, 'Normal', SUCCESSFUL_DELETE, '', `Deleted pod: ${p.metadata!.name}`);
        } catch (err) {
          this.expectations.deletionObserved(key, keyOf(p));
          if (!isNotFound(err)) {
            this.recorder.event(ref, 'Warning', FAILED_DELETE, '', `Error deleting: ${errorText(err)}`);
            errors.push(err);
          }
        }
      }),
    ]);
    if (create.length || del.length) log.debug('synced daemon pods', { daemonSet: key, created: create.length, deleted: del.length, failed: errors.length });
    if (errors.length) throw errors[0];
  }

  /** The DaemonSet's ControllerRevisions (from the cache). */
  private revisionsOf(ds: Obj): Obj[] {
    return this.revisionInformer.byIndex(CONTROLLER_UID_INDEX, ds.metadata!.uid!).filter((r) => r.metadata?.namespace === ds.metadata?.namespace);
  }

  /** constructHistory: the current template's revision exists and is the newest. */
  private async constructHistory(ds: Obj, hash: string): Promise<void> {
    const ns = ds.metadata!.namespace!;
    const name = `${ds.metadata!.name}-${hash}`;
    const revisions = this.revisionsOf(ds);
    const max = revisions.reduce((m, r) => Math.max(m, Number((r as any).revision ?? 0)), 0);
    const cur = revisions.find((r) => r.metadata?.name === name);
    if (cur) {
      if (Number((cur as any).revision ?? 0) >= max) return;
      try {
        await this.client.update(CONTROLLERREVISIONS, ns, { ...cur, revision: max + 1 } as Obj);
      } catch (err) {
        if (!isConflict(err) && !isNotFound(err)) throw err; // the cache was behind: the next sync sees it
      }
      return;
    }
    const body = {
      apiVersion: 'apps/v1', kind: 'ControllerRevision',
      metadata: {
        name, namespace: ns,
        labels: { ...(ds.spec?.template?.metadata?.labels ?? {}), [REVISION_HASH_LABEL]: hash },
        ownerReferences: [newControllerRef(ds, 'apps/v1', 'DaemonSet')],
      },
      data: revisionData(ds.spec?.template),
      revision: max + 1,
    };
    try {
      await this.client.create(CONTROLLERREVISIONS, ns, body);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      // Ours, created by a sync the cache has not caught up with? Then it is fine.
      const existing = await this.client.get<Obj>(CONTROLLERREVISIONS, ns, name);
      if (getControllerOf(existing)?.uid !== ds.metadata!.uid) throw new Error(`controller revision ${ns}/${name} exists and is not owned by daemon set ${keyOf(ds)}`);
    }
  }

  /** cleanupHistory: old revisions beyond revisionHistoryLimit that no pod runs go, oldest first. */
  private async cleanupHistory(ds: Obj, hash: string, pods: Obj[]): Promise<void> {
    const limit = typeof ds.spec?.revisionHistoryLimit === 'number' ? ds.spec.revisionHistoryLimit : 10;
    const live = new Set(pods.map((p) => p.metadata?.labels?.[REVISION_HASH_LABEL]));
    const old = this.revisionsOf(ds).filter((r) => r.metadata?.labels?.[REVISION_HASH_LABEL] !== hash)
      .sort((a, b) => Number((a as any).revision ?? 0) - Number((b as any).revision ?? 0));
    let toKill = old.length - limit;
    for (const r of old) {
      if (toKill <= 0) break;
      if (live.has(r.metadata?.labels?.[REVISION_HASH_LABEL])) continue;
      try {
        await this.client.delete(CONTROLLERREVISIONS, r.metadata!.namespace, r.metadata!.name!, { preconditions: { uid: r.metadata!.uid } });
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
      toKill--;
    }
  }

  private async updateStatus(ds: Obj, status: DaemonSetStatus): Promise<void> {
    const generation = ds.metadata?.generation ?? 0;
    const cur = ds.status ?? {};
    const next: DaemonSetStatus = generation ? { ...status, observedGeneration: generation } : status;
    const same = (Object.keys(next) as Array<keyof DaemonSetStatus>).every((k) => (cur[k] ?? 0) === (next[k] ?? 0));
    if (same) return;
    let target: Obj = ds;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.client.update(DAEMONSETS, target.metadata!.namespace, { ...target, status: { ...(target.status ?? {}), ...next } }, { subresource: 'status' });
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        if (attempt >= 1 || !isConflict(err)) throw err;
      }
      try {
        target = await this.client.get<Obj>(DAEMONSETS, ds.metadata!.namespace, ds.metadata!.name!);
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
      if (target.metadata?.uid !== ds.metadata?.uid) return;
    }
  }
}

function safeSelector(ds: Obj): LabelSelector | undefined {
  try {
    return labelSelectorFromObject(ds.spec?.selector);
  } catch {
    return undefined;
  }
}
