/**
 * JobController: runs a batch/v1 Job's pods to completion, after the behaviour of Kubernetes'
 * pkg/controller/job (1.32) and the kubernetes.io Job documentation (written fresh, not ported).
 *
 * One sync of "ns/name":
 * 1. A finished Job (Complete or Failed condition True) only waits for ttlSecondsAfterFinished,
 *    then is deleted with propagationPolicy Background (the ttl-after-finished controller's job).
 * 2. The Job's pods are those whose controllerRef carries its uid (no adoption of orphans).
 *    Counted: active (not terminal, not being deleted), ready, terminating (being deleted, not
 *    terminal), succeeded and failed (phase; with restartPolicy OnFailure container restarts
 *    count as failures too). Counts never go below what status already reports, since pods
 *    may be removed after they finished (upstream tracks this with finalizers).
 * 3. Failure: failed > backoffLimit (BackoffLimitExceeded) or active longer than
 *    activeDeadlineSeconds since status.startTime (DeadlineExceeded) adds FailureTarget; the
 *    active pods are deleted, and once no pod is active or terminating Failed is added.
 *    Success: `completions` pods (or, for Indexed, every index) succeeded — or, without
 *    completions, any pod succeeded — adds SuccessCriteriaMet (CompletionsReached); remaining
 *    pods are deleted and, once none runs, Complete and status.completionTime are set.
 * 4. Otherwise, if the expectations are met: spec.suspend deletes the active pods (condition
 *    Suspended=True, startTime cleared); else up to `parallelism` pods are kept active (never
 *    more than the completions still missing). Replacements after a failure wait an
 *    exponential back-off (10 s, 20 s, ... up to 6 min; configurable). Indexed jobs create
 *    pods for the lowest missing indexes with the job-completion-index annotation and label,
 *    hostname `<job>-<index>` and the JOB_COMPLETION_INDEX env var; status.completedIndexes
 *    lists the succeeded ones. podReplacementPolicy Failed waits for terminating pods.
 * 5. Status is written through the status subresource when it changed.
 *
 * Events (component job-controller, on the Job, upstream's texts): SuccessfulCreate "Created pod:
 * <name>", FailedCreate "Error creating: <error>", SuccessfulDelete "Deleted pod: <name>",
 * FailedDelete "Error deleting: <error>"; once the Job finishes, Normal Completed "Job completed"
 * or a Warning with the Failed condition's reason and message (BackoffLimitExceeded "Job has
 * reached the specified backoff limit", DeadlineExceeded "Job was active longer than specified
 * deadline"); Normal Suspended "Job suspended" / Resumed "Job resumed".
 */
import { Controller, Informer, isConflict, isNotFound, keyOf, splitKey, type ResourceDescriptor, type RestClient } from '../../client/index.js';
import { EventRecorder } from '../../client/event-recorder.js';
import { logger } from '../../util/log.js';
import { deepEqual } from '../../util/objects.js';
import {
  ControllerExpectations, FAILED_CREATE, FAILED_DELETE, PODS, SUCCESSFUL_CREATE, SUCCESSFUL_DELETE, errorText, getControllerOf, groupOf,
  innerSignal, isNamespaceTerminating, isPodActive, isPodReady, newControllerRef, nowTime, objectRef, timeOf, type Obj,
} from '../replicaset/controller-utils.js';

const log = logger('job-controller');

export const JOBS: ResourceDescriptor = { group: 'batch', version: 'v1', plural: 'jobs', namespaced: true };
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
export const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
export const COMPLETION_INDEX_KEY = 'batch.kubernetes.io/job-completion-index';
export const COMPLETION_INDEX_ENV = 'JOB_COMPLETION_INDEX';
const UID_INDEX = 'controller-uid';

export interface JobControllerOptions {
  workers?: number;
  /** First back-off before replacing a failed pod (default 10 s, doubling up to backoffMaxMs). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** The clock (ms since epoch); default Date.now. */
  now?: () => number;
}

export interface JobCondition {
  type: string;
  status: string;
  lastProbeTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export function findCondition(job: Obj, type: string): JobCondition | undefined {
  return (job.status?.conditions ?? []).find((c: JobCondition) => c?.type === type);
}

export function isJobFinished(job: Obj): boolean {
  return ['Complete', 'Failed'].some((t) => findCondition(job, t)?.status === 'True');
}

/** Sets (or replaces when status/reason/message differ) a condition; returns the new list. */
function setCondition(conds: JobCondition[], type: string, status: string, reason: string, message: string, now: string): JobCondition[] {
  const cur = conds.find((c) => c.type === type);
  if (cur && cur.status === status && cur.reason === reason && cur.message === message) return conds;
  const next: JobCondition = { type, status, lastProbeTime: now, lastTransitionTime: cur && cur.status === status ? cur.lastTransitionTime : now, reason, message };
  return cur ? conds.map((c) => (c === cur ? next : c)) : [...conds, next];
}

/** The completion index of an Indexed job's pod (annotation first, then label); undefined if invalid. */
export function podCompletionIndex(pod: Obj, completions: number): number | undefined {
  const v = pod.metadata?.annotations?.[COMPLETION_INDEX_KEY] ?? pod.metadata?.labels?.[COMPLETION_INDEX_KEY];
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  const n = Number(v);
  return n < completions ? n : undefined;
}

/** "1,3-5,7": sorted indexes as intervals, as status.completedIndexes. */
export function formatIndexes(idx: Iterable<number>): string {
  const s = [...new Set(idx)].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < s.length;) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j] + 1) j++;
    out.push(i === j ? `${s[i]}` : `${s[i]}-${s[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

/** The pod a Job creates (index given for Indexed jobs). */
export function podFromJobTemplate(job: Obj, index?: number): Obj {
  const tpl = job.spec?.template ?? {};
  const name = job.metadata!.name!;
  const labels: Record<string, string> = { ...(tpl.metadata?.labels ?? {}) };
  const annotations: Record<string, string> = { ...(tpl.metadata?.annotations ?? {}) };
  const spec = structuredClone(tpl.spec ?? {});
  if (index !== undefined) {
    annotations[COMPLETION_INDEX_KEY] = String(index);
    labels[COMPLETION_INDEX_KEY] = String(index);
    if (!spec.hostname) spec.hostname = `${name}-${index}`;
    const env = { name: COMPLETION_INDEX_ENV, valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${COMPLETION_INDEX_KEY}']` } } };
    for (const list of [spec.containers, spec.initContainers]) {
      for (const c of Array.isArray(list) ? list : []) {
        c.env = Array.isArray(c.env) ? c.env.filter((e: any) => e?.name !== COMPLETION_INDEX_ENV) : [];
        c.env.push(structuredClone(env));
      }
    }
  }
  const meta: Record<string, unknown> = {
    generateName: index !== undefined ? `${name}-${index}-` : `${name}-`,
    namespace: job.metadata!.namespace,
    ownerReferences: [newControllerRef(job, 'batch/v1', 'Job')],
  };
  if (Object.keys(labels).length) meta.labels = labels;
  if (Object.keys(annotations).length) meta.annotations = annotations;
  if (tpl.metadata?.finalizers) meta.finalizers = [...tpl.metadata.finalizers];
  return { apiVersion: 'v1', kind: 'Pod', metadata: meta as Obj['metadata'], spec };
}

/** When a failed pod finished (its containers' finishedAt, else its last condition change, else creation). */
function podFinishedAt(pod: Obj): number {
  let t = NaN;
  for (const cs of pod.status?.containerStatuses ?? []) {
    const f = timeOf(cs?.state?.terminated?.finishedAt);
    if (!Number.isNaN(f) && !(f <= t)) t = f;
  }
  if (!Number.isNaN(t)) return t;
  for (const c of pod.status?.conditions ?? []) {
    const f = timeOf(c?.lastTransitionTime);
    if (!Number.isNaN(f) && !(f <= t)) t = f;
  }
  return Number.isNaN(t) ? timeOf(pod.metadata?.creationTimestamp) : t;
}

export class JobController {
  readonly jobInformer: Informer<Obj>;
  readonly podInformer: Informer<Obj>;
  readonly controller: Controller;
  readonly expectations = new ControllerExpectations();
  readonly recorder: EventRecorder;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly now: () => number;

  constructor(readonly client: RestClient, opts: JobControllerOptions = {}) {
    this.backoffBaseMs = opts.backoffBaseMs ?? 10_000;
    this.backoffMaxMs = opts.backoffMaxMs ?? 360_000;
    this.now = opts.now ?? Date.now;
    this.recorder = new EventRecorder(client, { component: 'job-controller' });
    this.jobInformer = new Informer<Obj>(client, JOBS);
    this.podInformer = new Informer<Obj>(client, PODS);
    this.podInformer.addIndex(UID_INDEX, (p) => { const r = getControllerOf(p); return r?.uid ? [r.uid] : []; });
    this.controller = new Controller('job', { reconcile: (key) => this.reconcile(key) }, { workers: opts.workers ?? 5 });
    this.jobInformer.on('add', (j) => this.controller.enqueue(keyOf(j)));
    this.jobInformer.on('update', (_o, j) => this.controller.enqueue(keyOf(j)));
    this.jobInformer.on('delete', (j) => { this.expectations.delete(keyOf(j)); this.controller.enqueue(keyOf(j)); });
    this.podInformer.on('add', (p) => {
      if (p.metadata?.deletionTimestamp) return this.podGone(p);
      const key = this.ownerKey(p);
      if (key) { this.expectations.creationObserved(key); this.controller.enqueue(key); }
    });
    this.podInformer.on('update', (_o, p) => {
      if (p.metadata?.deletionTimestamp) this.podGone(p);
      else { const key = this.ownerKey(p); if (key) this.controller.enqueue(key); }
    });
    this.podInformer.on('delete', (p) => this.podGone(p));
  }

  start(outer: AbortSignal): void {
    const signal = innerSignal(outer);
    this.jobInformer.start(signal);
    this.podInformer.start(signal);
    signal.addEventListener('abort', () => this.recorder.stop(), { once: true });
    void (async () => {
      if (await this.waitForSync(signal)) this.controller.start(signal);
    })();
  }

  async stopped(): Promise<void> {
    await Promise.all([this.jobInformer.stopped(), this.podInformer.stopped()]);
    await this.controller.stopped();
  }

  async waitForSync(signal?: AbortSignal): Promise<boolean> {
    return (await this.jobInformer.waitForSync(signal)) && (await this.podInformer.waitForSync(signal));
  }

  /** The key of the cached Job a pod's controllerRef points to. */
  private ownerKey(pod: Obj): string | undefined {
    const ref = getControllerOf(pod);
    if (!ref || ref.kind !== 'Job' || groupOf(ref.apiVersion) !== 'batch' || !ref.name) return undefined;
    const job = this.jobInformer.get(pod.metadata?.namespace, ref.name);
    return job && job.metadata?.uid === ref.uid ? keyOf(job) : undefined;
  }

  private podGone(pod: Obj): void {
    const key = this.ownerKey(pod);
    if (!key) return;
    this.expectations.deletionObserved(key, keyOf(pod));
    this.controller.enqueue(key);
  }

  async reconcile(key: string): Promise<{ requeueAfter?: number } | void> {
    const { namespace, name } = splitKey(key);
    const job = this.jobInformer.get(namespace, name);
    if (!job) { this.expectations.delete(key); return; }
    const nowMs = this.now();
    if (isJobFinished(job)) return this.handleTTL(job, nowMs);
    if (job.metadata?.deletionTimestamp) return;

    const spec = job.spec ?? {};
    const indexed = spec.completionMode === 'Indexed';
    const completions: number | undefined = typeof spec.completions === 'number' ? spec.completions : undefined;
    const parallelism: number = typeof spec.parallelism === 'number' ? spec.parallelism : 1;
    const backoffLimit: number = typeof spec.backoffLimit === 'number' ? spec.backoffLimit : 6;
    const pods = this.podInformer.byIndex(UID_INDEX, job.metadata!.uid!).filter((p) => p.metadata?.namespace === namespace);
    const active = pods.filter(isPodActive);
    const terminating = pods.filter((p) => p.metadata?.deletionTimestamp && !['Succeeded', 'Failed'].includes(p.status?.phase));
    const succeededPods = pods.filter((p) => p.status?.phase === 'Succeeded');
    const failedPods = pods.filter((p) => p.status?.phase === 'Failed');
    let restarts = 0;
    if (spec.template?.spec?.restartPolicy === 'OnFailure') {
      for (const p of active) for (const cs of p.status?.containerStatuses ?? []) restarts += cs?.restartCount ?? 0;
    }
    const st = job.status ?? {};
    const succeededIdx = new Set<number>();
    if (indexed && completions !== undefined) for (const p of succeededPods) { const i = podCompletionIndex(p, completions); if (i !== undefined) succeededIdx.add(i); }
    const succeeded = Math.max(st.succeeded ?? 0, indexed ? succeededIdx.size : succeededPods.length);
    const failed = Math.max(st.failed ?? 0, failedPods.length);
    const nowStr = nowTime(new Date(nowMs));
    let conditions: JobCondition[] = (st.conditions ?? []).map((c: JobCondition) => ({ ...c }));
    const status: Record<string, any> = { ...st };
    let requeueAfter: number | undefined;
    const want = (ms: number) => { requeueAfter = requeueAfter === undefined ? ms : Math.min(requeueAfter, ms); };

    const suspended = spec.suspend === true;
    if (!suspended && !status.startTime) status.startTime = nowStr;
    const startMs = timeOf(status.startTime);

    // Terminal decisions (sticky once made).
    let failureTarget = conditions.find((c) => c.type === 'FailureTarget' && c.status === 'True');
    let successMet = conditions.find((c) => c.type === 'SuccessCriteriaMet' && c.status === 'True');
    if (!failureTarget && !successMet) {
      const complete = indexed && completions !== undefined ? succeededIdx.size >= completions
        : completions !== undefined ? succeeded >= completions : succeeded > 0 && active.length === 0;
      if (complete) {
        conditions = setCondition(conditions, 'SuccessCriteriaMet', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods', nowStr);
      } else if (failed + restarts > backoffLimit) {
        conditions = setCondition(conditions, 'FailureTarget', 'True', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit', nowStr);
      } else if (!suspended && typeof spec.activeDeadlineSeconds === 'number' && !Number.isNaN(startMs)) {
        const deadline = startMs + spec.activeDeadlineSeconds * 1000;
        if (nowMs >= deadline) conditions = setCondition(conditions, 'FailureTarget', 'True', 'DeadlineExceeded', 'Job was active longer than specified deadline', nowStr);
        else want(deadline - nowMs + 100);
      }
      failureTarget = conditions.find((c) => c.type === 'FailureTarget' && c.status === 'True');
      successMet = conditions.find((c) => c.type === 'SuccessCriteriaMet' && c.status === 'True');
    }

    let activeCount = active.length;
    if (failureTarget || successMet) {
      if (active.length) await this.deletePods(job, key, active);
      activeCount = 0;
      if (active.length === 0 && terminating.length === 0) {
        if (failureTarget) {
          conditions = setCondition(conditions, 'Failed', 'True', failureTarget.reason ?? '', failureTarget.message ?? '', nowStr);
        } else if (successMet) {
          conditions = setCondition(conditions, 'Complete', 'True', successMet.reason ?? '', successMet.message ?? '', nowStr);
          status.completionTime = nowStr;
        }
      }
    } else if (suspended) {
      if (active.length) await this.deletePods(job, key, active);
      activeCount = 0;
      conditions = setCondition(conditions, 'Suspended', 'True', 'JobSuspended', 'Job suspended', nowStr);
      delete status.startTime;
    } else {
      if (findCondition({ status: { conditions } }, 'Suspended')?.status === 'True') {
        conditions = setCondition(conditions, 'Suspended', 'False', 'JobResumed', 'Job resumed', nowStr);
      }
      if (this.expectations.satisfied(key)) {
        const r = await this.manage(job, key, { active, terminating, failedPods, succeeded, succeededIdx, completions, parallelism, indexed, failed, nowMs });
        activeCount = r.active;
        if (r.requeueAfter !== undefined) want(r.requeueAfter);
      }
    }

    status.active = activeCount;
    status.ready = failureTarget || successMet || suspended ? 0 : active.filter(isPodReady).length;
    status.terminating = terminating.length;
    status.succeeded = succeeded;
    status.failed = failed;
    if (indexed) status.completedIndexes = formatIndexes(succeededIdx);
    if (conditions.length) status.conditions = conditions;
    for (const k of ['active', 'succeeded', 'failed']) if (!status[k]) delete status[k];
    if (await this.writeStatus(job, status)) this.recordTransitions(job, status);
    if (isJobFinished({ status })) {
      const r = await this.handleTTL({ ...job, status }, nowMs);
      if (r?.requeueAfter !== undefined) want(r.requeueAfter);
    }
    return requeueAfter !== undefined ? { requeueAfter } : undefined;
  }

  /** Creates or deletes pods toward the wanted number of active ones. */
  private async manage(job: Obj, key: string, s: {
    active: Obj[]; terminating: Obj[]; failedPods: Obj[]; succeeded: number; succeededIdx: Set<number>; completions?: number;
    parallelism: number; indexed: boolean; failed: number; nowMs: number;
  }): Promise<{ active: number; requeueAfter?: number }> {
    const replaceWhenFailedOnly = job.spec?.podReplacementPolicy === 'Failed';
    const busy = s.active.length + (replaceWhenFailedOnly ? s.terminating.length : 0);
    let wantActive = s.parallelism;
    if (s.completions !== undefined) wantActive = Math.min(wantActive, Math.max(0, s.completions - s.succeeded));
    else if (s.succeeded > 0) wantActive = s.active.length;

    if (s.active.length > wantActive) {
      // Too many (parallelism lowered): delete the not-ready and newest first.
      const victims = [...s.active].sort((a, b) => Number(isPodReady(a)) - Number(isPodReady(b)) ||
        (b.metadata!.creationTimestamp! > a.metadata!.creationTimestamp! ? 1 : -1)).slice(0, s.active.length - wantActive);
      await this.deletePods(job, key, victims);
      return { active: wantActive };
    }
    let toCreate = Math.max(0, wantActive - busy);
    if (!toCreate) return { active: s.active.length };

    // Back-off after failures: wait base * 2^(failures-1) from the last failure.
    if (s.failed > 0 && s.failedPods.length) {
      const last = Math.max(...s.failedPods.map(podFinishedAt));
      const delay = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** Math.min(s.failed - 1, 30));
      if (!Number.isNaN(last) && s.nowMs < last + delay) return { active: s.active.length, requeueAfter: last + delay - s.nowMs };
    }

    const indexes: (number | undefined)[] = [];
    if (s.indexed && s.completions !== undefined) {
      const taken = new Set<number>(s.succeededIdx);
      for (const p of [...s.active, ...(replaceWhenFailedOnly ? s.terminating : [])]) { const i = podCompletionIndex(p, s.completions); if (i !== undefined) taken.add(i); }
      for (let i = 0; i < s.completions && indexes.length < toCreate; i++) if (!taken.has(i)) indexes.push(i);
      toCreate = indexes.length;
    } else {
      for (let i = 0; i < toCreate; i++) indexes.push(undefined);
    }
    if (!toCreate) return { active: s.active.length };
    this.expectations.expectCreations(key, toCreate);
    let created = 0;
    let firstErr: unknown;
    const ref = objectRef(job, 'batch/v1', 'Job');
    await Promise.all(indexes.map(async (idx) => {
      try {
        const pod = await this.client.create<Obj>(PODS, job.metadata!.namespace, podFromJobTemplate(job, idx));
        created++;
        this.recorder.event(ref, 'Normal', SUCCESSFUL_CREATE, '', `Created pod: ${pod.metadata?.name}`);
      } catch (err) {
        this.expectations.creationObserved(key);
        if (!isNamespaceTerminating(err)) this.recorder.event(ref, 'Warning', FAILED_CREATE, '', `Error creating: ${errorText(err)}`);
        firstErr ??= err;
      }
    }));
    if (firstErr) {
      log.warn('failed to create pods', { job: key, err: (firstErr as Error)?.message });
      throw firstErr;
    }
    return { active: s.active.length + created };
  }

  private async deletePods(job: Obj, key: string, pods: Obj[]): Promise<void> {
    this.expectations.expectDeletions(key, pods.map((p) => keyOf(p)));
    let firstErr: unknown;
    const ref = objectRef(job, 'batch/v1', 'Job');
    await Promise.all(pods.map(async (p) => {
      try {
        await this.client.delete(PODS, p.metadata!.namespace, p.metadata!.name!, { preconditions: { uid: p.metadata!.uid } });
        this.recorder.event(ref, 'Normal', SUCCESSFUL_DELETE, '', `Deleted pod: ${p.metadata!.name}`);
      } catch (err) {
        this.expectations.deletionObserved(key, keyOf(p));
        if (!isNotFound(err) && !isConflict(err)) {
          this.recorder.event(ref, 'Warning', FAILED_DELETE, '', `Error deleting: ${errorText(err)}`);
          firstErr ??= err;
        }
      }
    }));
    if (firstErr) throw firstErr;
  }

  /** The events of condition changes a status write just made (recordJobFinished, Suspended/Resumed). */
  private recordTransitions(job: Obj, status: Record<string, any>): void {
    const ref = objectRef(job, 'batch/v1', 'Job');
    const before = (type: string) => findCondition(job, type);
    const after = (type: string) => findCondition({ status }, type);
    const became = (type: string, st: string) => after(type)?.status === st && before(type)?.status !== st;
    if (became('Complete', 'True')) {
      this.recorder.event(ref, 'Normal', 'Completed', '', 'Job completed');
    } else if (became('Failed', 'True')) {
      const c = after('Failed')!;
      this.recorder.event(ref, 'Warning', c.reason ?? 'Failed', '', c.message ?? '');
    }
    if (became('Suspended', 'True')) this.recorder.event(ref, 'Normal', 'Suspended', '', 'Job suspended');
    else if (became('Suspended', 'False') && before('Suspended')) this.recorder.event(ref, 'Normal', 'Resumed', '', 'Job resumed');
  }

  /** ttlSecondsAfterFinished: delete the finished Job once it expires, else look again then. */
  private async handleTTL(job: Obj, nowMs: number): Promise<{ requeueAfter?: number } | void> {
    const ttl = job.spec?.ttlSecondsAfterFinished;
    if (typeof ttl !== 'number' || job.metadata?.deletionTimestamp) return;
    const done = findCondition(job, 'Complete')?.status === 'True' ? findCondition(job, 'Complete') : findCondition(job, 'Failed');
    const finishedAt = timeOf(job.status?.completionTime ?? done?.lastTransitionTime);
    if (Number.isNaN(finishedAt)) return;
    const expireAt = finishedAt + ttl * 1000;
    if (nowMs < expireAt) return { requeueAfter: expireAt - nowMs + 100 };
    try {
      await this.client.delete(JOBS, job.metadata!.namespace, job.metadata!.name!, { propagationPolicy: 'Background', preconditions: { uid: job.metadata!.uid } });
      log.info('deleted finished job after its TTL', { job: keyOf(job) });
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }

  /** Writes the status if it changed; true when written. */
  private async writeStatus(job: Obj, status: Record<string, any>): Promise<boolean> {
    if (deepEqual(job.status ?? {}, status)) return false;
    try {
      await this.client.update(JOBS, job.metadata!.namespace, { ...job, status }, { subresource: 'status' });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err; // a conflict is retried from a fresh cache by the queue's back-off
    }
  }
}
