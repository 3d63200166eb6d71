import { test, before, after } from 'node:test';
import { setMaxListeners } from 'node:events';
import assert from 'node:assert/strict';
import { type ResourceDescriptor, type RestClient } from '../../client/index.js';
import { eventually, startTestCluster, type TestCluster } from '../../client/testing.js';
import { nowTime, type Obj } from '../replicaset/controller-utils.js';
import { JOBS } from '../job/job-controller.js';
import { CRONJOBS, CronJobController, SCHEDULED_TIMESTAMP_ANNOTATION, jobFromTemplate } from './cronjob-controller.js';

const NAMESPACES: ResourceDescriptor = { group: '', version: 'v1', plural: 'namespaces', namespaced: false };
const EVENTS: ResourceDescriptor = { group: '', version: 'v1', plural: 'events', namespaced: true };

let cluster: TestCluster;
let client: RestClient;
let cjc: CronJobController;
/** The injected clock: starts an hour in the past, so nothing is due until a test moves it. */
let clock = Date.now() - 3_600_000;
const ac = new AbortController();
setMaxListeners(100, ac.signal);

before(async () => {
  cluster = await startTestCluster();
  client = cluster.client;
  cjc = new CronJobController(cluster.newClient(), { now: () => new Date(clock) });
  cjc.start(ac.signal);
  assert.ok(await cjc.waitForSync(AbortSignal.timeout(10_000)));
});

after(async () => {
  ac.abort();
  await cjc.stopped();
  await cluster.stop();
});

async function waitFor<T>(cond: () => Promise<T | undefined | false>, what: string): Promise<T> {
  return (await eventually(cond, what)) as T;
}

async function namespace(name: string): Promise<string> {
  clock = Date.now() - 3_600_000; // each test starts with nothing due
  await client.create(NAMESPACES, undefined, { metadata: { name } });
  return name;
}

function cronJob(name: string, spec: Record<string, unknown> = {}): Obj {
  return {
    metadata: { name },
    spec: {
      schedule: '* * * * *', ...spec,
      jobTemplate: {
        metadata: { labels: { app: name }, annotations: { note: 'tpl' } },
        spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox' }] } } },
      },
    },
  };
}

/** The Events recorded about a CronJob (as `kubectl describe` finds them). */
async function eventsOf(ns: string, name: string): Promise<Array<{ reason: string; message: string; type: string; source?: { component?: string } }>> {
  return (await client.list<any>(EVENTS, ns, { fieldSelector: `involvedObject.kind=CronJob,involvedObject.name=${name}` })).items;
}

async function ownedJobs(ns: string): Promise<Obj[]> {
  return (await client.list<Obj>(JOBS, ns)).items;
}

/** Moves the clock to `t` and has the controller look again. */
function setClock(t: number): void {
  clock = t;
  cjc.resync();
}

test('jobFromTemplate: name, labels, annotations and controllerRef', () => {
  const cj: Obj = { metadata: { name: 'hello', namespace: 'n', uid: 'u' }, spec: cronJob('hello').spec };
  const j = jobFromTemplate(cj, new Date('2024-01-10T14:00:00Z'), 'America/New_York');
  assert.equal(j.metadata!.name, `hello-${Date.UTC(2024, 0, 10, 14) / 60000}`);
  assert.deepEqual(j.metadata!.labels, { app: 'hello' });
  assert.deepEqual(j.metadata!.annotations, { note: 'tpl', [SCHEDULED_TIMESTAMP_ANNOTATION]: '2024-01-10T09:00:00-05:00' });
  assert.deepEqual(j.metadata!.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'hello', uid: 'u', controller: true, blockOwnerDeletion: true }]);
});

test('a Job is created once the injected clock passes a schedule time', async () => {
  const ns = await namespace('cron-create');
  const cj = await client.create<Obj>(CRONJOBS, ns, cronJob('hello'));
  const created = Date.parse(cj.metadata!.creationTimestamp!);
  // Nothing is due while the clock is before the CronJob's creation (controller has looked: status untouched).
  cjc.resync();
  assert.equal((await ownedJobs(ns)).length, 0);
  const at = created + 150_000;
  setClock(at);
  const scheduled = Math.floor(at / 60_000) * 60_000; // the most recent of the two missed minutes
  const [job] = await waitFor(async () => { const js = await ownedJobs(ns); return js.length ? js : undefined; }, 'a job');
  assert.equal(job.metadata!.name, `hello-${scheduled / 60_000}`);
  assert.equal(job.metadata!.annotations![SCHEDULED_TIMESTAMP_ANNOTATION], nowTime(new Date(scheduled)));
  assert.equal(job.metadata!.ownerReferences?.[0]?.uid, cj.metadata!.uid);
  assert.equal(job.metadata!.labels!.app, 'hello');
  const st = await waitFor(async () => {
    const c = await client.get<Obj>(CRONJOBS, ns, 'hello');
    return c.status?.active?.length === 1 ? c.status : undefined;
  }, 'status.active');
  assert.equal(st.active[0].name, job.metadata!.name);
  assert.equal(st.active[0].uid, job.metadata!.uid);
  assert.equal(st.lastScheduleTime, nowTime(new Date(scheduled)));
  assert.equal((await ownedJobs(ns)).length, 1);
});

test('concurrencyPolicy Forbid skips a run while a Job is active; Replace replaces it', async () => {
  const ns = await namespace('cron-forbid');
  const cj = await client.create<Obj>(CRONJOBS, ns, cronJob('f', { concurrencyPolicy: 'Forbid' }));
  const created = Date.parse(cj.metadata!.creationTimestamp!);
  setClock(created + 90_000);
  const [first] = await waitFor(async () => { const js = await ownedJobs(ns); return js.length ? js : undefined; }, 'first job');
  await waitFor(async () => (await client.get<Obj>(CRONJOBS, ns, 'f')).status?.active?.length === 1, 'active job');
  // The first Job never finishes (no job controller here): the next minute is skipped.
  const created1 = await waitFor(async () => (await eventsOf(ns, 'f')).find((e) => e.reason === 'SuccessfulCreate'), 'the SuccessfulCreate event');
  assert.equal(created1.message, `Created job ${first.metadata!.name}`);
  assert.equal(created1.source?.component, 'cronjob-controller');
  setClock(created + 150_000);
  const skipped = await waitFor(async () => (await eventsOf(ns, 'f')).find((e) => e.reason === 'JobAlreadyActive'), 'a skipped run');
  assert.equal(skipped.message, 'Not starting job because prior execution is running and concurrency policy is Forbid');
  const jobs = await ownedJobs(ns);
  assert.deepEqual(jobs.map((j) => j.metadata!.name), [first.metadata!.name]);
  const c = await client.get<Obj>(CRONJOBS, ns, 'f');
  assert.equal(c.status.active.length, 1);

  // Replace: the active Job is deleted and a new one created for the next time.
  await client.patch(CRONJOBS, ns, 'f', { spec: { concurrencyPolicy: 'Replace' } }, 'merge');
  await waitFor(async () => cjc.cronJobInformer.get(ns, 'f')?.spec?.concurrencyPolicy === 'Replace', 'cache updated');
  setClock(created + 210_000);
  await waitFor(async () => {
    const js = (await ownedJobs(ns)).filter((j) => !j.metadata?.deletionTimestamp);
    return js.length === 1 && js[0].metadata!.name !== first.metadata!.name;
  }, 'replaced job');
  await waitFor(async () => (await eventsOf(ns, 'f')).some((e) => e.reason === 'SuccessfulDelete' && e.message === `Deleted job ${first.metadata!.name}`), 'the SuccessfulDelete event');
});

test('suspend stops scheduling; history limits delete old finished jobs', async () => {
  const ns = await namespace('cron-history');
  const cj = await client.create<Obj>(CRONJOBS, ns, cronJob('h', { suspend: true, successfulJobsHistoryLimit: 1 }));
  const created = Date.parse(cj.metadata!.creationTimestamp!);
  // Two finished jobs of ours (as if the job controller completed them).
  for (const m of [1, 2]) {
    const t = new Date(Math.floor(created / 60_000) * 60_000 - m * 60_000);
    const j = await client.create<Obj>(JOBS, ns, jobFromTemplate(cj, t));
    await client.update(JOBS, ns, { ...j, status: { startTime: nowTime(t), completionTime: nowTime(t), succeeded: 1, conditions: [
      { type: 'SuccessCriteriaMet', status: 'True', reason: 'CompletionsReached', message: 'm', lastTransitionTime: nowTime(t), lastProbeTime: nowTime(t) },
      { type: 'Complete', status: 'True', reason: 'CompletionsReached', message: 'm', lastTransitionTime: nowTime(t), lastProbeTime: nowTime(t) },
    ] } }, { subresource: 'status' });
  }
  setClock(created + 600_000);
  await waitFor(async () => (await ownedJobs(ns)).filter((j) => !j.metadata?.deletionTimestamp).length === 1, 'one job kept');
  const c = await waitFor(async () => { const c = await client.get<Obj>(CRONJOBS, ns, 'h'); return c.status?.lastSuccessfulTime ? c : undefined; }, 'lastSuccessfulTime');
  assert.equal(c.status.lastSuccessfulTime, nowTime(new Date(Math.floor(created / 60_000) * 60_000 - 60_000)));
  assert.equal(c.status.lastScheduleTime, undefined, 'suspended: nothing scheduled');
});
