/**
 * StatefulSetController: gives each replica of a StatefulSet a stable identity — a pod named
 * "<set>-<ordinal>" with its own PersistentVolumeClaims — and creates, deletes and updates those
 * pods in order, after the behaviour Kubernetes documents for pkg/controller/statefulset.
 *
 * One sync of "ns/name" (one step at a time; every event requeues the set):
 * 1. Claim the pods: those the selector matches whose names are "<set>-<n>" (adopting orphans,
 *    releasing pods that stopped matching).
 * 2. Revisions: the update revision is a ControllerRevision "<set>-<hash of the template>"
 *    holding the template; the current revision is status.currentRevision while it still exists.
 * 3. Only when earlier creations/deletions were seen in the informer (expectations):
 *    - ordinals start..start+replicas-1 (spec.ordinals.start): a missing pod is created, after
 *      its claims "<template>-<set>-<ordinal>" (kept on scale down: Retain), from the current
 *      revision below the RollingUpdate partition and the update revision otherwise; a Failed
 *      or Succeeded pod is deleted to be recreated. OrderedReady stops at the first pod that is
 *      not Running and Ready (minReadySeconds), or that it just created; Parallel goes on.
 *    - pods with ordinals outside the range are deleted from the highest down: OrderedReady one
 *      at a time, waiting for it to be gone and for the rest to be ready; Parallel all at once.
 *    - RollingUpdate (once every replica exists, is ready and nothing is being removed): the
 *      highest ordinal at or above the partition that is not at the update revision is deleted
 *      (and so recreated from the new template), one at a time. OnDelete: pods only take the
 *      new template when something else deletes them.
 * 4. Status: replicas, readyReplicas, availableReplicas, currentReplicas, updatedReplicas,
 *    currentRevision, updateRevision, observedGeneration; once a rolling update is complete,
 *    the current revision becomes the update revision. Old revisions beyond
 *    revisionHistoryLimit that no pod uses are deleted.
 *
 * Events (component statefulset-controller, on the set, upstream's texts): SuccessfulCreate
 * "create Pod web-0 in StatefulSet web successful" and "create Claim www-web-0 Pod web-0 in
 * StatefulSet web success", SuccessfulDelete "delete Pod web-1 in StatefulSet web successful",
 * FailedCreate / FailedDelete "... failed error: <error>", Warning RecreatingFailedPod /
 * Normal RecreatingTerminatedPod "StatefulSet ns/web is recreating failed|terminated Pod web-0".
 */
import { createHash } from 'node:crypto';
import { Controller, Informer, isAlreadyExists, isConflict, isNotFound, keyOf, splitKey, type ResourceDescriptor, type RestClient } from '../../client/index.js';
import { labelSelectorFromObject, type LabelSelector } from '../../apimachinery/labels.js';
import { EventRecorder } from '../../client/event-recorder.js';
import { logger } from '../../util/log.js';
import {
  ControllerExpectations, PODS, claimObjects, errorText, getControllerOf, groupOf, innerSignal, isPodAvailable, isPodReady, newControllerRef,
  objectRef, podAvailableAt, revisionData, revisionTemplate, CONTROLLERREVISIONS, type Obj,
} from '../replicaset/controller-utils.js';

const log = logger('statefulset-controller');

export const STATEFULSETS: ResourceDescriptor = { group: 'apps', version: 'v1', plural: 'statefulsets', namespaced: true };
export { CONTROLLERREVISIONS };
export const PVCS: ResourceDescriptor = { group: '', version: 'v1', plural: 'persistentvolumeclaims', namespaced: true };

export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';
export const REVISION_LABEL = 'controller-revision-hash';

const CONTROLLER_UID_INDEX = 'controller-uid';

export interface StatefulSetControllerOptions {
  /** Concurrent syncs (--concurrent-statefulset-syncs, default 5). */
  workers?: number;
}

export interface StatefulSetStatus {
  replicas: number;
  readyReplicas?: number;
  currentReplicas?: number;
  updatedReplicas?: number;
  availableReplicas?: number;
  currentRevision?: string;
  updateRevision?: string;
  observedGeneration?: number;
  collisionCount?: number;
}

/** The ordinal of a pod named "<set>-<n>" of this set, or -1. */
export function ordinalOf(setName: string, pod: Obj): number {
  const name = pod.metadata?.name ?? '';
  const prefix = `${setName}-`;
  if (!name.startsWith(prefix)) return -1;
  const rest = name.slice(prefix.length);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : -1;
}

/** JSON with object keys sorted, so equal templates hash equally. */
function stableJSON(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJSON).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().filter((k) => (v as any)[k] !== undefined).map((k) => `${JSON.stringify(k)}:${stableJSON((v as any)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

/** The revision hash of a set's pod template (10 hex digits; fits a label value). */
export function templateHash(template: unknown): string {
  return createHash('sha256').update(stableJSON(template ?? {})).digest('hex').slice(0, 10);
}

/** The name of the claim for volume claim template `tpl` of pod `ordinal`. */
export function claimName(tplName: string, setName: string, ordinal: number): string {
  return `${tplName}-${setName}-${ordinal}`;
}

/** The pod for `ordinal` built from `template` (of revision `hash`). */
export function newStatefulSetPod(set: Obj, template: any, hash: string, ordinal: number): Obj {
  const setName = set.metadata!.name!;
  const name = `${setName}-${ordinal}`;
  const tpl = template ?? {};
  const labels: Record<string, string> = { ...(tpl.metadata?.labels ?? {}), [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal), [REVISION_LABEL]: hash };
  const meta: Record<string, unknown> = {
    name, namespace: set.metadata!.namespace, labels,
    ownerReferences: [newControllerRef(set, 'apps/v1', 'StatefulSet')],
  };
  if (tpl.metadata?.annotations) meta.annotations = { ...tpl.metadata.annotations };
  if (tpl.metadata?.finalizers) meta.finalizers = [...tpl.metadata.finalizers];
  const spec = structuredClone(tpl.spec ?? {});
  spec.hostname = name;
  if (set.spec?.serviceName) spec.subdomain = set.spec.serviceName;
  const claims: any[] = set.spec?.volumeClaimTemplates ?? [];
  if (claims.length) {
    const volumes: any[] = (spec.volumes ?? []).filter((v: any) => !claims.some((c) => c?.metadata?.name === v?.name));
    for (const c of claims) {
      const n = c?.metadata?.name;
      if (n) volumes.push({ name: n, persistentVolumeClaim: { claimName: claimName(n, setName, ordinal) } });
    }
    spec.volumes = volumes;
  }
  return { apiVersion: 'v1', kind: 'Pod', metadata: meta as Obj['metadata'], spec };
}

/** The claims pod `ordinal` needs (no owner: the Retain policy keeps them). */
export function newClaims(set: Obj, ordinal: number): Obj[] {
  const setName = set.metadata!.name!;
  const matchLabels = set.spec?.selector?.matchLabels ?? {};
  return (set.spec?.volumeClaimTemplates ?? []).filter((c: any) => c?.metadata?.name).map((c: any) => ({
    apiVersion: 'v1', kind: 'PersistentVolumeClaim',
    metadata: {
      name: claimName(c.metadata.name, setName, ordinal), namespace: set.metadata!.namespace,
      labels: { ...(c.metadata.labels ?? {}), ...matchLabels },
      ...(c.metadata.annotations ? { annotations: { ...c.metadata.annotations } } : {}),
    },
    spec: structuredClone(c.spec ?? {}),
  }));
}

function isTerminating(pod: Obj): boolean {
  return !!pod.metadata?.deletionTimestamp;
}

function isTerminal(pod: Obj): boolean {
  const phase = pod.status?.phase;
  return phase === 'Failed' || phase === 'Succeeded';
}

/** Running, Ready and available for minReadySeconds. */
function isHealthy(pod: Obj, minReadySeconds: number, now: number): boolean {
  return !isTerminating(pod) && pod.status?.phase === 'Running' && isPodAvailable(pod, minReadySeconds, now);
}

export class StatefulSetController {
  readonly setInformer: Informer<Obj>;
  readonly podInformer: Informer<Obj>;
  readonly revisionInformer: Informer<Obj>;
  readonly controller: Controller;
  readonly expectations = new ControllerExpectations();
  readonly recorder: EventRecorder;

  constructor(readonly client: RestClient, opts: StatefulSetControllerOptions = {}) {
    this.recorder = new EventRecorder(client, { component: 'statefulset-controller' });
    this.setInformer = new Informer<Obj>(client, STATEFULSETS);
    this.podInformer = new Informer<Obj>(client, PODS);
    this.revisionInformer = new Informer<Obj>(client, CONTROLLERREVISIONS);
    const byController = (o: Obj) => { const r = getControllerOf(o); return r?.uid ? [r.uid] : []; };
    this.podInformer.addIndex(CONTROLLER_UID_INDEX, byController);
    this.revisionInformer.addIndex(CONTROLLER_UID_INDEX, byController);
    this.controller = new Controller('statefulset', { reconcile: (key) => this.reconcile(key) }, { workers: opts.workers ?? 5 });

    this.setInformer.on('add', (s) => this.controller.enqueue(keyOf(s)));
    this.setInformer.on('update', (_o, s) => this.controller.enqueue(keyOf(s)));
    this.setInformer.on('delete', (s) => { this.expectations.delete(keyOf(s)); this.controller.enqueue(keyOf(s)); });
    this.podInformer.on('add', (p) => {
      if (isTerminating(p)) return this.podGone(p);
      const set = this.ownerOf(p);
      if (set) {
        this.expectations.creationObserved(keyOf(set));
        this.controller.enqueue(keyOf(set));
      } else if (!getControllerOf(p)) {
        for (const s of this.setsSelecting(p)) this.controller.enqueue(keyOf(s));
      }
    });
    this.podInformer.on('update', (oldPod, p) => {
      if (isTerminating(p)) this.podGone(p);
      const old = this.ownerOf(oldPod);
      if (old) this.controller.enqueue(keyOf(old));
      const set = this.ownerOf(p);
      if (set) this.controller.enqueue(keyOf(set));
      else if (!getControllerOf(p)) for (const s of this.setsSelecting(p)) this.controller.enqueue(keyOf(s));
    });
    this.podInformer.on('delete', (p) => this.podGone(p));
  }

  start(outer: AbortSignal): void {
    const signal = innerSignal(outer);
    this.setInformer.start(signal);
    this.podInformer.start(signal);
    this.revisionInformer.start(signal);
    signal.addEventListener('abort', () => this.recorder.stop(), { once: true });
    void (async () => {
      if (!(await this.waitForSync(signal))) return;
      this.controller.start(signal);
    })();
  }

  async stopped(): Promise<void> {
    await Promise.all([this.setInformer.stopped(), this.podInformer.stopped(), this.revisionInformer.stopped()]);
    await this.controller.stopped();
  }

  async waitForSync(signal?: AbortSignal): Promise<boolean> {
    return (await this.setInformer.waitForSync(signal)) && (await this.podInformer.waitForSync(signal)) && (await this.revisionInformer.waitForSync(signal));
  }

  private ownerOf(pod: Obj): Obj | undefined {
    const ref = getControllerOf(pod);
    if (!ref || ref.kind !== 'StatefulSet' || groupOf(ref.apiVersion) !== 'apps' || !ref.name) return undefined;
    const set = this.setInformer.get(pod.metadata?.namespace, ref.name);
    return set && set.metadata?.uid === ref.uid ? set : undefined;
  }

  private setsSelecting(pod: Obj): Obj[] {
    const labels = pod.metadata?.labels ?? {};
    return this.setInformer.list(pod.metadata?.namespace ?? '').filter((s) => {
      const sel = safeSelector(s);
      return sel && !sel.empty && sel.matches(labels);
    });
  }

  private podGone(pod: Obj): void {
    const set = this.ownerOf(pod);
    if (!set) return;
    this.expectations.deletionObserved(keyOf(set), keyOf(pod));
    this.controller.enqueue(keyOf(set));
  }

  // ---- sync ----------------------------------------------------------------------------------

  async reconcile(key: string): Promise<{ requeueAfter?: number } | void> {
    const { namespace, name } = splitKey(key);
    const set = this.setInformer.get(namespace, name);
    if (!set) {
      this.expectations.delete(key);
      return;
    }
    const selector = safeSelector(set);
    if (!selector || selector.empty) {
      log.warn('stateful set has an invalid selector; skipped', { statefulSet: key });
      return;
    }
    const ns = namespace ?? '';
    const candidates = this.podInformer.list(ns);
    const pods = await claimObjects(candidates, {
      client: this.client, resource: PODS, owner: { ...set, kind: 'StatefulSet' }, selector,
      ownerRef: newControllerRef(set, 'apps/v1', 'StatefulSet'),
      filter: (p) => ordinalOf(name!, p) >= 0,
      fetchOwner: async () => {
        try { return await this.client.get<Obj>(STATEFULSETS, ns, name!); } catch (err) { if (isNotFound(err)) return undefined; throw err; }
      },
    });

    const { current, update, revisions } = await this.ensureRevisions(set);
    const now = Date.now();
    if (this.expectations.satisfied(key) && !set.metadata?.deletionTimestamp) {
      await this.manage(set, key, pods, current, update, now);
    }
    await this.updateStatus(set, pods, current, update, now);
    await this.truncateHistory(set, pods, revisions, current, update);

    const mrs = set.spec?.minReadySeconds ?? 0;
    if (mrs > 0) {
      let next = Infinity;
      for (const p of pods) {
        const at = podAvailableAt(p, mrs);
        if (at !== undefined && at >= now) next = Math.min(next, at);
      }
      if (next < Infinity) return { requeueAfter: next - now + 1000 };
    }
  }

  /** The set's revisions; creates the update revision if missing (or renumbers it as newest). */
  private async ensureRevisions(set: Obj): Promise<{ current: Obj; update: Obj; revisions: Obj[] }> {
    const ns = set.metadata!.namespace!;
    let revisions = this.revisionInformer.byIndex(CONTROLLER_UID_INDEX, set.metadata!.uid!).filter((r) => r.metadata?.namespace === ns);
    const hash = templateHash(set.spec?.template);
    const revName = `${set.metadata!.name}-${hash}`;
    const maxRev = revisions.reduce((m, r) => Math.max(m, Number((r as any).revision ?? 0)), 0);
    let update = revisions.find((r) => r.metadata?.name === revName);
    if (!update) {
      const body = {
        apiVersion: 'apps/v1', kind: 'ControllerRevision',
        metadata: {
          name: revName, namespace: ns,
          labels: { ...(set.spec?.selector?.matchLabels ?? {}), [REVISION_LABEL]: hash },
          ownerReferences: [newControllerRef(set, 'apps/v1', 'StatefulSet')],
        },
        data: revisionData(set.spec?.template),
        revision: maxRev + 1,
      };
      try {
        update = await this.client.create<Obj>(CONTROLLERREVISIONS, ns, body);
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        update = await this.client.get<Obj>(CONTROLLERREVISIONS, ns, revName);
        if (getControllerOf(update)?.uid !== set.metadata!.uid) throw new Error(`controller revision ${ns}/${revName} exists and is not owned by this stateful set`);
      }
      revisions = [...revisions, update];
    } else if (Number((update as any).revision ?? 0) < maxRev) {
      // Going back to an earlier template: that revision becomes the newest again.
      try {
        update = await this.client.update<Obj>(CONTROLLERREVISIONS, ns, { ...update, revision: maxRev + 1 } as Obj);
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
      revisions = revisions.map((r) => (r.metadata?.name === revName ? update! : r));
    }
    const curName = set.status?.currentRevision;
    const current = (curName && revisions.find((r) => r.metadata?.name === curName)) || update;
    return { current, update, revisions };
  }

  private revisionHash(rev: Obj): string {
    return rev.metadata?.labels?.[REVISION_LABEL] ?? rev.metadata!.name!.slice(rev.metadata!.name!.lastIndexOf('-') + 1);
  }

  /** recordPodEvent / recordClaimEvent: "<verb> Pod web-0 in StatefulSet web successful" and the failures. */
  private recordPodEvent(set: Obj, verb: 'create' | 'delete', podName: string, err?: unknown): void {
    const ref = objectRef(set, 'apps/v1', 'StatefulSet');
    const Verb = verb === 'create' ? 'Create' : 'Delete';
    const setName = set.metadata!.name;
    if (err === undefined) this.recorder.event(ref, 'Normal', `Successful${Verb}`, '', `${verb} Pod ${podName} in StatefulSet ${setName} successful`);
    else this.recorder.event(ref, 'Warning', `Failed${Verb}`, '', `${verb} Pod ${podName} in StatefulSet ${setName} failed error: ${errorText(err)}`);
  }

  private async createPod(set: Obj, key: string, ordinal: number, rev: Obj): Promise<void> {
    const ns = set.metadata!.namespace!;
    const ref = objectRef(set, 'apps/v1', 'StatefulSet');
    const podName = `${set.metadata!.name}-${ordinal}`;
    for (const claim of newClaims(set, ordinal)) {
      const claimName = claim.metadata!.name;
      try {
        await this.client.create(PVCS, ns, claim);
        this.recorder.event(ref, 'Normal', 'SuccessfulCreate', '', `create Claim ${claimName} Pod ${podName} in StatefulSet ${set.metadata!.name} success`);
      } catch (err) {
        if (isAlreadyExists(err)) continue;
        this.recorder.event(ref, 'Warning', 'FailedCreate', '', `create Claim ${claimName} for Pod ${podName} in StatefulSet ${set.metadata!.name} failed error: ${errorText(err)}`);
        throw err;
      }
    }
    const template = revisionTemplate(rev) ?? set.spec?.template;
    const pod = newStatefulSetPod(set, template, this.revisionHash(rev), ordinal);
    this.expectations.expectCreations(key, 1);
    try {
      await this.client.create(PODS, ns, pod);
      log.debug('created pod', { statefulSet: key, pod: pod.metadata!.name });
      this.recordPodEvent(set, 'create', podName);
    } catch (err) {
      this.expectations.creationObserved(key);
      if (!isAlreadyExists(err)) {
        this.recordPodEvent(set, 'create', podName, err);
        throw err;
      }
    }
  }

  private async deletePods(set: Obj, key: string, victims: Obj[]): Promise<void> {
    if (!victims.length) return;
    this.expectations.expectDeletions(key, victims.map((p) => keyOf(p)));
    const errors: unknown[] = [];
    await Promise.all(victims.map(async (p) => {
      try {
        await this.client.delete(PODS, p.metadata!.namespace, p.metadata!.name!, { preconditions: { uid: p.metadata!.uid } });
        log.debug('deleted pod', { statefulSet: key, pod: p.metadata!.name });
        this.recordPodEvent(set, 'delete', p.metadata!.name!);
      } catch (err) {
        this.expectations.deletionObserved(key, keyOf(p));
        if (!isNotFound(err) && !isConflict(err)) {
          this.recordPodEvent(set, 'delete', p.metadata!.name!, err);
          errors.push(err);
        }
      }
    }));
    if (errors.length) throw errors[0];
  }

  /** One step towards the spec (see the file comment). */
  private async manage(set: Obj, key: string, pods: Obj[], current: Obj, update: Obj, now: number): Promise<void> {
    const name = set.metadata!.name!;
    const replicas = set.spec?.replicas ?? 1;
    const start = set.spec?.ordinals?.start ?? 0;
    const end = start + replicas;
    const ordered = (set.spec?.podManagementPolicy ?? 'OrderedReady') !== 'Parallel';
    const mrs = set.spec?.minReadySeconds ?? 0;
    const strategy = set.spec?.updateStrategy?.type ?? 'RollingUpdate';
    const partition = strategy === 'RollingUpdate' ? (set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0) : 0;
    const updateHash = this.revisionHash(update);

    const byOrdinal = new Map<number, Obj>();
    const condemned: Obj[] = [];
    for (const p of pods) {
      const ord = ordinalOf(name, p);
      if (ord >= start && ord < end) byOrdinal.set(ord, p);
      else condemned.push(p);
    }
    condemned.sort((a, b) => ordinalOf(name, b) - ordinalOf(name, a));

    let blocked = false;
    // Terminal pods go first, to be recreated.
    const terminal = [...byOrdinal.values()].filter((p) => isTerminal(p) && !isTerminating(p));
    if (terminal.length) {
      const victims = ordered ? [terminal.sort((a, b) => ordinalOf(name, a) - ordinalOf(name, b))[0]] : terminal;
      const ref = objectRef(set, 'apps/v1', 'StatefulSet');
      for (const p of victims) {
        const ns = set.metadata!.namespace;
        if (p.status?.phase === 'Failed') this.recorder.event(ref, 'Warning', 'RecreatingFailedPod', '', `StatefulSet ${ns}/${name} is recreating failed Pod ${p.metadata!.name}`);
        else this.recorder.event(ref, 'Normal', 'RecreatingTerminatedPod', '', `StatefulSet ${ns}/${name} is recreating terminated Pod ${p.metadata!.name}`);
      }
      await this.deletePods(set, key, victims);
      return;
    }
    for (let ord = start; ord < end; ord++) {
      const pod = byOrdinal.get(ord);
      if (!pod) {
        const useCurrent = strategy === 'RollingUpdate' && ord < start + partition;
        await this.createPod(set, key, ord, useCurrent ? current : update);
        if (ordered) return;
        blocked = true;
        continue;
      }
      if (!isHealthy(pod, mrs, now)) {
        if (ordered) return;
        blocked = true;
      }
    }

    // Scale down, highest ordinal first.
    if (condemned.length) {
      if (ordered) {
        if (condemned.some(isTerminating)) return;
        await this.deletePods(set, key, [condemned[0]]);
      } else {
        await this.deletePods(set, key, condemned.filter((p) => !isTerminating(p)));
      }
      return;
    }
    if (blocked || strategy !== 'RollingUpdate') return;

    // Rolling update: highest ordinal down to the partition, one at a time.
    for (let ord = end - 1; ord >= start + partition; ord--) {
      const pod = byOrdinal.get(ord)!;
      if (pod.metadata?.labels?.[REVISION_LABEL] !== updateHash) {
        await this.deletePods(set, key, [pod]);
        return;
      }
    }
  }

  private async updateStatus(set: Obj, pods: Obj[], current: Obj, update: Obj, now: number): Promise<void> {
    const mrs = set.spec?.minReadySeconds ?? 0;
    const curHash = this.revisionHash(current);
    const updHash = this.revisionHash(update);
    const live = pods.filter((p) => !isTerminating(p));
    let ready = 0; let available = 0; let currentReplicas = 0; let updated = 0;
    for (const p of live) {
      if (isPodReady(p)) ready++;
      if (isPodReady(p) && isPodAvailable(p, mrs, now)) available++;
      const h = p.metadata?.labels?.[REVISION_LABEL];
      if (h === curHash) currentReplicas++;
      if (h === updHash) updated++;
    }
    const status: StatefulSetStatus = {
      replicas: live.length, readyReplicas: ready, currentReplicas, updatedReplicas: updated, availableReplicas: available,
      currentRevision: current.metadata!.name, updateRevision: update.metadata!.name,
      observedGeneration: set.metadata?.generation ?? 0, collisionCount: set.status?.collisionCount ?? 0,
    };
    // A finished rolling update: the update revision becomes current.
    const want = set.spec?.replicas ?? 1;
    if ((set.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate' && updated === want && ready === want && live.length === want) {
      status.currentRevision = status.updateRevision;
      status.currentReplicas = updated;
    }
    const cur = set.status ?? {};
    const same = (Object.keys(status) as (keyof StatefulSetStatus)[]).every((k) => (cur[k] ?? 0) === (status[k] ?? 0));
    if (same) return;
    let target: Obj = set;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.client.update(STATEFULSETS, set.metadata!.namespace, { ...target, status: { ...(target.status ?? {}), ...status } }, { subresource: 'status' });
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        if (attempt >= 1 || !isConflict(err)) throw err;
      }
      try {
        target = await this.client.get<Obj>(STATEFULSETS, set.metadata!.namespace, set.metadata!.name!);
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
      if (target.metadata?.uid !== set.metadata?.uid) return;
    }
  }

  /** Deletes the oldest revisions beyond revisionHistoryLimit that are neither current, update nor used by a pod. */
  private async truncateHistory(set: Obj, pods: Obj[], revisions: Obj[], current: Obj, update: Obj): Promise<void> {
    const limit = set.spec?.revisionHistoryLimit ?? 10;
    const used = new Set(pods.map((p) => p.metadata?.labels?.[REVISION_LABEL]));
    const old = revisions
      .filter((r) => r.metadata?.name !== current.metadata?.name && r.metadata?.name !== update.metadata?.name && !used.has(this.revisionHash(r)))
      .sort((a, b) => Number((a as any).revision ?? 0) - Number((b as any).revision ?? 0));
    for (const r of old.slice(0, Math.max(0, old.length - limit))) {
      try {
        await this.client.delete(CONTROLLERREVISIONS, r.metadata!.namespace, r.metadata!.name!, { preconditions: { uid: r.metadata!.uid } });
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
    }
  }
}

function safeSelector(set: Obj): LabelSelector | undefined {
  try {
    return labelSelectorFromObject(set.spec?.selector);
  } catch {
    return undefined;
  }
}
