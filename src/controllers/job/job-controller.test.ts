import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type ResourceDescriptor, type RestClient } from '../../client/index.js';
import { eventually } from '../../client/testing.js';
import { PODS, nowTime, type Obj } from '../replicaset/controller-utils.js';
import { JOBS, JobController, findCondition, formatIndexes, podFromJobTemplate } from './job-controller.js';
import { controllerTestBed } from '../testing.js';

const NAMESPACES: ResourceDescriptor = { group: '', version: 'v1', plural: 'namespaces', namespaced: false };

const bed = controllerTestBed((c) => new JobController(c, { backoffBaseMs: 50, backoffMaxMs: 200 }));

/** The fake kubelet's last word on a pod: phase Succeeded/Failed through pods/status. */
async function finishPod(pod: Obj, phase: 'Succeeded' | 'Failed'): Promise<void> {
  const t = nowTime();
  const exitCode = phase === 'Succeeded' ? 0 : 1;
  await bed.client.patch(PODS, pod.metadata!.namespace, pod.metadata!.name!, {
    metadata: { uid: pod.metadata!.uid },
    status: {
      phase, startTime: t,
      containerStatuses: (pod.spec?.containers ?? []).map((c: any) => ({
        name: c.name, image: c.image, imageID: `${c.image}@sha256:0`, ready: false, started: false, restartCount: 0,
        state: { terminated: { exitCode, reason: phase === 'Succeeded' ? 'Completed' : 'Error', startedAt: t, finishedAt: t } },
      })),
    },
  }, 'merge', { subresource: 'status' });
}

async function namespace(name: string): Promise<string> {
  await bed.client.create(NAMESPACES, undefined, { metadata: { name } });
  return name;
}

function job(name: string, spec: Record<string, unknown>): Obj {
  return { metadata: { name }, spec: { ...spec, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } };
}

const EVENTS: ResourceDescriptor = { group: '', version: 'v1', plural: 'events', namespaced: true };

/** `reason: message` of the Events about a Job, once `done` holds for them. */
async function jobEvents(ns: string, name: string, done: (es: string[]) => boolean): Promise<string[]> {
  return waitFor(async () => {
    const items = (await bed.client.list<any>(EVENTS, ns, { fieldSelector: `involvedObject.kind=Job,involvedObject.name=${name}` })).items;
    assert.ok(items.every((e: any) => e.source.component === 'job-controller'));
    const es = items.map((e: any) => `${e.type} ${e.reason}: ${e.message}`);
    return done(es) ? es : undefined;
  }, `events of job ${name}`);
}

async function jobPods(ns: string, name: string): Promise<Obj[]> {
  return (await bed.client.list<Obj>(PODS, ns, { labelSelector: `batch.kubernetes.io/job-name=${name}` })).items;
}
async function waitFor<T>(cond: () => Promise<T | undefined | false>, what: string, timeoutMs?: number, interval?: number): Promise<T> {
  return (await eventually(cond, what, timeoutMs, interval)) as T;
}
const isActive = (p: Obj) => !p.metadata?.deletionTimestamp && !['Succeeded', 'Failed'].includes(p.status?.phase);

test('formatIndexes writes intervals', () => {
  assert.equal(formatIndexes([5, 1, 3, 4, 7, 3]), '1,3-5,7');
  assert.equal(formatIndexes([]), '');
});

test('podFromJobTemplate sets the completion index for Indexed jobs', () => {
  const j: Obj = { metadata: { name: 'ix', namespace: 'n', uid: 'u1' }, spec: { template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } };
  const p = podFromJobTemplate(j, 2);
  assert.equal(p.metadata!.generateName, 'ix-2-');
  assert.equal(p.metadata!.annotations!['batch.kubernetes.io/job-completion-index'], '2');
  assert.equal(p.metadata!.labels!['batch.kubernetes.io/job-completion-index'], '2');
  assert.equal(p.spec.hostname, 'ix-2');
  assert.equal(p.spec.containers[0].env[0].name, 'JOB_COMPLETION_INDEX');
  assert.deepEqual(p.metadata!.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'Job', name: 'ix', uid: 'u1', controller: true, blockOwnerDeletion: true }]);
});

test('completions=3 parallelism=2: at most 2 active, 3 succeeded, then Complete', async () => {
  const ns = await namespace('job-complete');
  const created = await bed.client.create<Obj>(JOBS, ns, job('pi', { completions: 3, parallelism: 2 }));
  let finished = 0;
  let maxActive = 0;
  await eventually(async () => {
    const pods = await jobPods(ns, 'pi');
    const active = pods.filter(isActive);
    maxActive = Math.max(maxActive, active.length);
    assert.ok(active.length <= 2, `${active.length} active pods`);
    for (const p of pods) {
      assert.equal(p.metadata!.ownerReferences?.[0]?.uid, created.metadata!.uid);
      assert.match(p.metadata!.name!, /^pi-[a-z0-9]{5}$/);
    }
    if (finished < 3 && active.length === Math.min(2, 3 - finished)) {
      // Finish one pod only once the controller has filled the slots it should.
      await finishPod(active[0], 'Succeeded');
      finished++;
    }
    const j = await bed.client.get<Obj>(JOBS, ns, 'pi');
    return findCondition(j, 'Complete')?.status === 'True';
  }, 'job Complete', 15_000, 20);
  assert.equal(maxActive, 2);
  const j = await bed.client.get<Obj>(JOBS, ns, 'pi');
  assert.equal(j.status.succeeded, 3);
  assert.equal(j.status.active ?? 0, 0);
  assert.equal(findCondition(j, 'SuccessCriteriaMet')?.reason, 'CompletionsReached');
  assert.equal(findCondition(j, 'Complete')?.reason, 'CompletionsReached');
  assert.ok(j.status.startTime && j.status.completionTime);
  assert.equal((await jobPods(ns, 'pi')).filter((p) => p.status?.phase === 'Succeeded').length, 3);
  const es = await jobEvents(ns, 'pi', (e) => e.includes('Normal Completed: Job completed'));
  assert.equal(es.filter((e) => /^Normal SuccessfulCreate: Created pod: pi-[a-z0-9]{5}$/.test(e)).length, 3);
});

test('a failing job exceeds backoffLimit=1 and fails with BackoffLimitExceeded', async () => {
  const ns = await namespace('job-fail');
  await bed.client.create<Obj>(JOBS, ns, job('boom', { backoffLimit: 1 }));
  await eventually(async () => {
    for (const p of (await jobPods(ns, 'boom')).filter(isActive)) await finishPod(p, 'Failed');
    const j = await bed.client.get<Obj>(JOBS, ns, 'boom');
    return findCondition(j, 'Failed')?.status === 'True';
  }, 'job Failed', 15_000, 20);
  const j = await bed.client.get<Obj>(JOBS, ns, 'boom');
  assert.equal(findCondition(j, 'Failed')?.reason, 'BackoffLimitExceeded');
  assert.equal(findCondition(j, 'FailureTarget')?.reason, 'BackoffLimitExceeded');
  assert.equal(j.status.failed, 2);
  assert.equal(j.status.completionTime, undefined);
  assert.equal(findCondition(j, 'Complete'), undefined);
  await jobEvents(ns, 'boom', (e) => e.includes('Warning BackoffLimitExceeded: Job has reached the specified backoff limit'));
});

test('activeDeadlineSeconds fails the job with DeadlineExceeded and deletes its pods', async () => {
  const ns = await namespace('job-deadline');
  await bed.client.create<Obj>(JOBS, ns, job('slow', { activeDeadlineSeconds: 1 }));
  const j = await waitFor(async () => {
    const j = await bed.client.get<Obj>(JOBS, ns, 'slow');
    return findCondition(j, 'Failed')?.status === 'True' ? j : undefined;
  }, 'job Failed by deadline', 10_000, 50);
  assert.equal(findCondition(j, 'Failed')?.reason, 'DeadlineExceeded');
  await eventually(async () => (await jobPods(ns, 'slow')).filter(isActive).length === 0, 'pods deleted');
  await jobEvents(ns, 'slow', (e) => e.includes('Warning DeadlineExceeded: Job was active longer than specified deadline') &&
    e.some((x) => /^Normal SuccessfulDelete: Deleted pod: slow-[a-z0-9]{5}$/.test(x)));
});

test('Indexed job: one pod per index, completedIndexes, ttlSecondsAfterFinished deletes it', async () => {
  const ns = await namespace('job-indexed');
  await bed.client.create<Obj>(JOBS, ns, job('ix', { completions: 3, parallelism: 3, completionMode: 'Indexed', ttlSecondsAfterFinished: 0 }));
  const pods = await waitFor(async () => { const ps = await jobPods(ns, 'ix'); return ps.length === 3 ? ps : undefined; }, '3 indexed pods');
  assert.deepEqual(pods.map((p) => p.metadata!.annotations!['batch.kubernetes.io/job-completion-index']).sort(), ['0', '1', '2']);
  for (const p of pods) await finishPod(p, 'Succeeded');
  await eventually(async () => {
    try { await bed.client.get<Obj>(JOBS, ns, 'ix'); return false; } catch (err) { return (err as { code?: number }).code === 404; }
  }, 'job deleted after TTL');
});

test('suspend deletes active pods and sets Suspended', async () => {
  const ns = await namespace('job-suspend');
  await bed.client.create<Obj>(JOBS, ns, job('s', { parallelism: 2, completions: 4 }));
  await eventually(async () => (await jobPods(ns, 's')).filter(isActive).length === 2, '2 pods');
  await bed.client.patch(JOBS, ns, 's', { spec: { suspend: true } }, 'merge');
  const j = await waitFor(async () => {
    const j = await bed.client.get<Obj>(JOBS, ns, 's');
    return findCondition(j, 'Suspended')?.status === 'True' && !j.status.active ? j : undefined;
  }, 'suspended');
  assert.equal(findCondition(j, 'Suspended')?.reason, 'JobSuspended');
  await eventually(async () => (await jobPods(ns, 's')).filter(isActive).length === 0, 'pods deleted');
  await bed.client.patch(JOBS, ns, 's', { spec: { suspend: false } }, 'merge');
  await eventually(async () => {
    const j = await bed.client.get<Obj>(JOBS, ns, 's');
    return findCondition(j, 'Suspended')?.status === 'False' && j.status.active === 2;
  }, 'resumed');
  await jobEvents(ns, 's', (e) => e.includes('Normal Suspended: Job suspended') && e.includes('Normal Resumed: Job resumed'));
});
