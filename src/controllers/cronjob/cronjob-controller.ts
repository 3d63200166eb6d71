/**
 * CronJobController: creates a CronJob's Jobs on its schedule, after the behaviour of
 * Kubernetes' pkg/controller/cronjob (v2) and the kubernetes.io CronJob documentation (written
 * fresh, not ported).
 *
 * One sync of "ns/name" (clock injectable for tests):
 * 1. Jobs whose controllerRef is the CronJob are read from the job informer. status.active
 *    keeps the unfinished ones (an owned unfinished Job missing from it is added; a listed one
 *    that no longer exists, checked against the API, is dropped); finished ones leave it and a
 *    Complete one advances status.lastSuccessfulTime.
 * 2. Finished Jobs beyond successfulJobsHistoryLimit / failedJobsHistoryLimit are deleted,
 *    oldest first, with propagationPolicy Background.
 * 3. Unless suspended: the most recent schedule time after status.lastScheduleTime (else the
 *    creation time), no earlier than now - startingDeadlineSeconds, and not after now. None →
 *    requeue at the next one. Later than startingDeadlineSeconds → skipped (MissedSchedule).
 *    concurrencyPolicy Forbid with an active Job → skipped (JobAlreadyActive) until the next
 *    time; Replace → the active Jobs are deleted (Background) first.
 * 4. The Job `<cronjob>-<scheduled time in minutes since the epoch>` is created from
 *    jobTemplate (its labels and annotations, plus batch.kubernetes.io/cronjob-scheduled-timestamp
 *    in the CronJob's zone, and a controllerRef). AlreadyExists for a Job of ours counts as done.
 *    status.active gets its reference and status.lastScheduleTime the scheduled time.
 *
 * Events (component cronjob-controller, on the CronJob, upstream's reasons and texts):
 * SuccessfulCreate "Created job <name>", FailedCreate "Error creating job: <error>",
 * SawCompletedJob "Saw completed job: <name>, condition: Complete|Failed", SuccessfulDelete
 * "Deleted job <name>" (history limits, Replace), FailedDelete "Deleted job: <error>",
 * JobAlreadyActive, MissSchedule, TooManyMissedTimes, UnparseableSchedule, UnexpectedJob (an
 * unfinished Job of ours the status does not list, also on a live read) and MissingJob (a
 * listed Job that no longer exists). Every event is logged too.
 */
import { Controller, Informer, isConflict, isNotFound, keyOf, splitKey, type ResourceDescriptor, type RestClient } from '../../client/index.js';
import { logger } from '../../util/log.js';
import { deepEqual } from '../../util/objects.js';
import { EventRecorder } from '../../client/event-recorder.js';
import { errorText, getControllerOf, isNamespaceTerminating, groupOf, innerSignal, newControllerRef, nowTime, objectRef, timeOf, type Obj } from '../replicaset/controller-utils.js';
import { JOBS, findCondition } from '../job/job-controller.js';
import { Schedule, formatInZone } from './schedule.js';

const log = logger('cronjob-controller');

export const CRONJOBS: ResourceDescriptor = { group: 'batch', version: 'v1', plural: 'cronjobs', namespaced: true };
export const SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
const UID_INDEX = 'controller-uid';
/** Upstream warns when more than this many start times were missed. */
const TOO_MANY_MISSED = 100;

export interface CronJobControllerOptions {
  workers?: number;
  /** The clock; default `() => new Date()`. */
  now?: () => Date;
}

interface ObjectRef { apiVersion: string; kind: string; name: string; namespace: string; uid: string; resourceVersion?: string }

/** The Job name for a scheduled time: `<cronjob>-<minutes since epoch>`. */
export function jobNameFor(cronJobName: string, scheduled: Date): string {
  return `${cronJobName}-${Math.floor(scheduled.getTime() / 60_000)}`;
}

/**
 * The most recent schedule time in (earliest, now], how many there were (capped search), and the
 * next one after now.
 */
export function scheduleTimes(schedule: Schedule, earliest: Date, now: Date): { mostRecent?: Date; missed: number; next?: Date } {
  let missed = 0;
  let mostRecent: Date | undefined;
  let t = schedule.next(earliest);
  while (t && t.getTime() <= now.getTime()) {
    missed++;
    mostRecent = t;
    if (missed > TOO_MANY_MISSED * 10) {
      // Far behind: skip ahead to shortly before now and keep only the latest.
      const jump = new Date(now.getTime() - 61 * 60_000);
      if (jump > t) { t = schedule.next(jump); continue; }
    }
    t = schedule.next(t);
  }
  return { mostRecent, missed, next: t };
}

export class CronJobController {
  readonly cronJobInformer: Informer<Obj>;
  readonly jobInformer: Informer<Obj>;
  readonly controller: Controller;
  readonly recorder: EventRecorder;
  private readonly now: () => Date;

  constructor(readonly client: RestClient, opts: CronJobControllerOptions = {}) {
    this.now = opts.now ?? (() => new Date());
    this.recorder = new EventRecorder(client, { component: 'cronjob-controller' });
    this.cronJobInformer = new Informer<Obj>(client, CRONJOBS);
    this.jobInformer = new Informer<Obj>(client, JOBS);
    this.jobInformer.addIndex(UID_INDEX, (j) => { const r = getControllerOf(j); return r?.uid ? [r.uid] : []; });
    this.controller = new Controller('cronjob', { reconcile: (key) => this.reconcile(key) }, { workers: opts.workers ?? 5 });
    this.cronJobInformer.on('add', (cj) => this.controller.enqueue(keyOf(cj)));
    this.cronJobInformer.on('update', (_o, cj) => this.controller.enqueue(keyOf(cj)));
    this.cronJobInformer.on('delete', (cj) => this.controller.enqueue(keyOf(cj)));
    const onJob = (j: Obj) => { const k = this.ownerKey(j); if (k) this.controller.enqueue(k); };
    this.jobInformer.on('add', onJob);
    this.jobInformer.on('update', (_o, j) => onJob(j));
    this.jobInformer.on('delete', onJob);
  }

  start(outer: AbortSignal): void {
    const signal = innerSignal(outer);
    this.cronJobInformer.start(signal);
    this.jobInformer.start(signal);
    signal.addEventListener('abort', () => this.recorder.stop(), { once: true });
    void (async () => {
      if (await this.waitForSync(signal)) this.controller.start(signal);
    })();
  }

  async stopped(): Promise<void> {
    await Promise.all([this.cronJobInformer.stopped(), this.jobInformer.stopped()]);
    await this.controller.stopped();
  }

  async waitForSync(signal?: AbortSignal): Promise<boolean> {
    return (await this.cronJobInformer.waitForSync(signal)) && (await this.jobInformer.waitForSync(signal));
  }

  /** Looks at every CronJob again (after an injected clock moved). */
  resync(): void {
    for (const cj of this.cronJobInformer.list()) this.controller.enqueue(keyOf(cj));
  }

  private ownerKey(job: Obj): string | undefined {
    const ref = getControllerOf(job);
    if (!ref || ref.kind !== 'CronJob' || groupOf(ref.apiVersion) !== 'batch' || !ref.name) return undefined;
    const cj = this.cronJobInformer.get(job.metadata?.namespace, ref.name);
    return cj && cj.metadata?.uid === ref.uid ? keyOf(cj) : undefined;
  }

  private record(cj: Obj, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.recorder.event(objectRef(cj, 'batch/v1', 'CronJob'), type, reason, '', message);
    (type === 'Warning' ? log.warn : log.info).call(log, 'recorded event', { cronJob: keyOf(cj), reason, message });
  }

  async reconcile(key: string): Promise<{ requeueAfter?: number } | void> {
    const { namespace, name } = splitKey(key);
    const cj = this.cronJobInformer.get(namespace, name);
    if (!cj || cj.metadata?.deletionTimestamp) return;
    const spec = cj.spec ?? {};
    const jobs = this.jobInformer.byIndex(UID_INDEX, cj.metadata!.uid!).filter((j) => j.metadata?.namespace === namespace);
    const status: Record<string, any> = { ...(cj.status ?? {}) };
    let active: ObjectRef[] = [...(status.active ?? [])];

    // 1. Active list and last success.
    const byUID = new Map(jobs.map((j) => [j.metadata!.uid!, j]));
    // Our cache of the CronJob may lag behind our own status write listing a Job just created:
    // an unlisted unfinished Job is looked up on a live read before it counts as unexpected.
    let live: ObjectRef[] | undefined;
    for (const j of jobs) {
      const finished = jobFinished(j);
      const listed = active.some((r) => r.uid === j.metadata!.uid);
      if (finished) {
        if (listed) {
          active = active.filter((r) => r.uid !== j.metadata!.uid);
          this.record(cj, 'Normal', 'SawCompletedJob', `Saw completed job: ${j.metadata!.name}, condition: ${finished}`);
        }
        if (finished === 'Complete') {
          const done = j.status?.completionTime ?? findCondition(j, 'Complete')?.lastTransitionTime;
          if (done && !(timeOf(status.lastSuccessfulTime) >= timeOf(done))) status.lastSuccessfulTime = done;
        }
      } else if (!listed) {
        if (!live) {
          try {
            live = (await this.client.get<Obj>(CRONJOBS, namespace, name!)).status?.active ?? [];
          } catch (err) {
            if (isNotFound(err)) return;
            throw err;
          }
        }
        if (!live!.some((r) => r.uid === j.metadata!.uid)) {
          this.record(cj, 'Warning', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${j.metadata!.name}`);
        }
        active.push(refTo(j));
      }
    }
    const kept: ObjectRef[] = [];
    for (const r of active) {
      if (byUID.has(r.uid)) { kept.push(r); continue; }
      // Not in the cache: it may be new (cache lag) or gone; ask the API.
      try {
        const j = await this.client.get<Obj>(JOBS, r.namespace ?? namespace, r.name);
        if (j.metadata?.uid === r.uid && !jobFinished(j)) kept.push(r);
        else if (j.metadata?.uid !== r.uid) this.record(cj, 'Normal', 'MissingJob', `Active job went missing: ${r.name}`);
      } catch (err) {
        if (!isNotFound(err)) throw err;
        this.record(cj, 'Normal', 'MissingJob', `Active job went missing: ${r.name}`);
      }
    }
    active = kept;

    // 2. History limits.
    await this.cleanupHistory(cj, jobs);

    // 3. Scheduling.
    const writeStatus = async () => {
      if (active.length) status.active = active; else delete status.active;
      await this.writeStatus(cj, status);
    };
    let schedule: Schedule;
    try {
      schedule = Schedule.parse(String(spec.schedule ?? ''), spec.timeZone || undefined);
    } catch (err) {
      this.record(cj, 'Warning', 'UnparseableSchedule', `unparseable schedule: ${JSON.stringify(spec.schedule)} : ${(err as Error).message}`);
      await writeStatus();
      return;
    }
    if (spec.suspend === true) { await writeStatus(); return; }

    const now = this.now();
    let earliest = new Date(timeOf(status.lastScheduleTime ?? cj.metadata?.creationTimestamp));
    if (Number.isNaN(earliest.getTime())) earliest = now;
    const sds = typeof spec.startingDeadlineSeconds === 'number' ? spec.startingDeadlineSeconds : undefined;
    if (sds !== undefined && now.getTime() - sds * 1000 > earliest.getTime()) earliest = new Date(now.getTime() - sds * 1000);
    const { mostRecent, missed, next } = earliest <= now ? scheduleTimes(schedule, earliest, now) : { mostRecent: undefined, missed: 0, next: schedule.next(earliest) };
    const requeue = next ? { requeueAfter: Math.max(100, next.getTime() - now.getTime() + 100) } : undefined;
    if (!mostRecent) { await writeStatus(); return requeue; }
    if (missed > TOO_MANY_MISSED) {
      this.record(cj, 'Warning', 'TooManyMissedTimes', `too many missed start times: ${missed}. Set or decrease .spec.startingDeadlineSeconds or check clock skew`);
    }
    if (sds !== undefined && mostRecent.getTime() + sds * 1000 < now.getTime()) {
      this.record(cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${rfc1123z(mostRecent)}`);
      await writeStatus();
      return requeue;
    }
    const policy = spec.concurrencyPolicy ?? 'Allow';
    if (policy === 'Forbid' && active.length) {
      this.record(cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      await writeStatus();
      return requeue;
    }
    if (policy === 'Replace' && active.length) {
      for (const r of active) {
        try {
          await this.client.delete(JOBS, r.namespace ?? namespace, r.name, { propagationPolicy: 'Background', preconditions: { uid: r.uid } });
          this.record(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${r.name}`);
        } catch (err) {
          if (!isNotFound(err) && !isConflict(err)) {
            this.record(cj, 'Warning', 'FailedDelete', `Deleted job: ${errorText(err)}`);
            throw err;
          }
        }
      }
      active = [];
    }

    // 4. Create the Job.
    const tz = schedule.timeZone;
    const job = jobFromTemplate(cj, mostRecent, tz);
    let created: Obj;
    try {
      created = await this.client.create<Obj>(JOBS, namespace, job);
      this.record(cj, 'Normal', 'SuccessfulCreate', `Created job ${created.metadata?.name ?? job.metadata!.name}`);
    } catch (err) {
      if ((err as { code?: number }).code !== 409) {
        if (!isNamespaceTerminating(err)) this.record(cj, 'Warning', 'FailedCreate', `Error creating job: ${errorText(err)}`);
        throw err;
      }
      const existing = await this.client.get<Obj>(JOBS, namespace, job.metadata!.name!);
      if (getControllerOf(existing)?.uid !== cj.metadata!.uid) throw err;
      created = existing;
    }
    if (!jobFinished(created) && !active.some((r) => r.uid === created.metadata!.uid)) active.push(refTo(created));
    status.lastScheduleTime = nowTime(mostRecent);
    await writeStatus();
    return requeue;
  }

  private async cleanupHistory(cj: Obj, jobs: Obj[]): Promise<void> {
    const spec = cj.spec ?? {};
    const groups: Array<[string, number | undefined]> = [['Complete', spec.successfulJobsHistoryLimit], ['Failed', spec.failedJobsHistoryLimit]];
    for (const [kind, limit] of groups) {
      if (typeof limit !== 'number') continue;
      const done = jobs.filter((j) => jobFinished(j) === kind && !j.metadata?.deletionTimestamp)
        .sort((a, b) => startOf(a) - startOf(b));
      for (const j of done.slice(0, Math.max(0, done.length - limit))) {
        try {
          await this.client.delete(JOBS, j.metadata!.namespace, j.metadata!.name!, { propagationPolicy: 'Background', preconditions: { uid: j.metadata!.uid } });
          this.record(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${j.metadata!.name}`);
        } catch (err) {
          if (!isNotFound(err) && !isConflict(err)) {
            this.record(cj, 'Warning', 'FailedDelete', `Deleted job: ${errorText(err)}`);
            throw err;
          }
        }
      }
    }
  }

  private async writeStatus(cj: Obj, status: Record<string, any>): Promise<void> {
    if (deepEqual(cj.status ?? {}, status)) return;
    try {
      await this.client.update(CRONJOBS, cj.metadata!.namespace, { ...cj, status }, { subresource: 'status' });
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
  }
}

function jobFinished(j: Obj): 'Complete' | 'Failed' | undefined {
  if (findCondition(j, 'Complete')?.status === 'True') return 'Complete';
  if (findCondition(j, 'Failed')?.status === 'True') return 'Failed';
  return undefined;
}

/** Go's time.RFC1123Z of a UTC time: "Mon, 02 Jan 2006 15:04:05 +0000". */
export function rfc1123z(t: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[t.getUTCDay()]}, ${p(t.getUTCDate())} ${months[t.getUTCMonth()]} ${t.getUTCFullYear()} ${p(t.getUTCHours())}:${p(t.getUTCMinutes())}:${p(t.getUTCSeconds())} +0000`;
}

function startOf(j: Obj): number {
  const t = timeOf(j.status?.startTime ?? j.metadata?.creationTimestamp);
  return Number.isNaN(t) ? 0 : t;
}

function refTo(j: Obj): ObjectRef {
  const ref: ObjectRef = { apiVersion: 'batch/v1', kind: 'Job', name: j.metadata!.name!, namespace: j.metadata!.namespace!, uid: j.metadata!.uid! };
  if (j.metadata?.resourceVersion) ref.resourceVersion = j.metadata.resourceVersion;
  return ref;
}

/** The Job a CronJob starts for `scheduled`. */
export function jobFromTemplate(cj: Obj, scheduled: Date, timeZone = 'UTC'): Obj {
  const tpl = cj.spec?.jobTemplate ?? {};
  const annotations: Record<string, string> = { ...(tpl.metadata?.annotations ?? {}), [SCHEDULED_TIMESTAMP_ANNOTATION]: formatInZone(scheduled, timeZone) };
  const meta: Record<string, unknown> = {
    name: jobNameFor(cj.metadata!.name!, scheduled),
    namespace: cj.metadata!.namespace,
    annotations,
    ownerReferences: [newControllerRef(cj, 'batch/v1', 'CronJob')],
  };
  if (tpl.metadata?.labels) meta.labels = { ...tpl.metadata.labels };
  return { apiVersion: 'batch/v1', kind: 'Job', metadata: meta as Obj['metadata'], spec: structuredClone(tpl.spec ?? {}) };
}
