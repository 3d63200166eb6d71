/**
 * Batch and cleanup controllers end to end (issue 4): Jobs (completions/parallelism, backoff
 * limit, Indexed), a CronJob (a manual run and a scheduled one), the garbage collector's three
 * propagation policies and namespace deletion — `keelson server` and `keelson sim-nodes`
 * processes driven by the real kubectl, events checked through `kubectl describe`.
 *
 * Containers exit as their pods' sim.keelson.io/exit-code and sim.keelson.io/run-for
 * annotations say.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, KubectlWatch, applyObjects, haveKubectl, startSimNodes, waitFor, waitNodesReady, type Proc, type WatchEvent } from './harness.js';

const skip = !haveKubectl() && 'kubectl is not on the PATH';

function job(name: string, spec: Record<string, unknown>, exit: { code: number; runFor: string }): object {
  return {
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name },
    spec: {
      ...spec,
      template: {
        metadata: { annotations: { 'sim.keelson.io/exit-code': String(exit.code), 'sim.keelson.io/run-for': exit.runFor } },
        spec: { restartPolicy: 'Never', containers: [{ name: 'work', image: 'busybox' }] },
      },
    },
  };
}

function replicaSet(name: string, replicas: number, podMeta: Record<string, unknown> = {}): object {
  return {
    apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name },
    spec: {
      replicas, selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name }, ...podMeta }, spec: { containers: [{ name: 'app', image: `${name}:1` }] } },
    },
  };
}

describe('batch controllers, garbage collection and namespaces on simulated nodes', { skip, concurrency: false }, () => {
  let c: Cluster;
  let sim: Proc;
  const watches: KubectlWatch[] = [];
  const ns = async (name: string) => { await c.k(['create', 'namespace', name]); return name; };
  const podsOf = async (namespace: string, selector: string) => (await c.kjson(['-n', namespace, 'get', 'pods', '-l', selector])).items as any[];
  const exists = async (args: string[]) => {
    const r = await c.kubectl(['get', ...args, '-o', 'name']);
    if (r.code === 0) return true;
    if (/NotFound|not found/.test(r.stderr)) return false;
    throw new Error(r.stderr);
  };

  before(async () => {
    c = await Cluster.start();
    sim = startSimNodes(c, ['--count', '2', '--cpu', '8', '--memory', '16Gi']);
    await waitNodesReady(c, ['sim-node-0', 'sim-node-1']).catch((e) => { throw new Error(`${e.message}\nsim-nodes: ${sim.logs}`); });
  });

  after(async () => {
    for (const w of watches) await w.stop();
    await sim?.stop();
    await c?.stop();
  });

  // ---- CronJob (first: its scheduled run comes while the other tests run) -------------------------

  it('CronJob: kubectl create job --from runs it by hand', async () => {
    const n = await ns('cron');
    await applyObjects(c, [{
      apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'tick' },
      spec: {
        schedule: '*/1 * * * *', successfulJobsHistoryLimit: 5,
        jobTemplate: { spec: { template: {
          metadata: { annotations: { 'sim.keelson.io/exit-code': '0', 'sim.keelson.io/run-for': '200ms' } },
          spec: { restartPolicy: 'OnFailure', containers: [{ name: 'tick', image: 'busybox' }] },
        } } },
      },
    }], n);
    await c.k(['-n', n, 'create', 'job', 'tick-manual', '--from=cronjob/tick']);
    const r = await c.kubectl(['-n', n, 'wait', '--for=condition=complete', 'job/tick-manual', '--timeout=60s'], { timeoutMs: 70000 });
    assert.equal(r.code, 0, r.stderr);
    const j = await c.kjson(['-n', n, 'get', 'job', 'tick-manual']);
    assert.equal(j.metadata.ownerReferences?.[0]?.kind, 'CronJob');
    assert.equal(j.metadata.annotations['cronjob.kubernetes.io/instantiate'], 'manual');
    assert.equal(j.status.succeeded, 1);
  });

  // ---- Jobs --------------------------------------------------------------------------------------

  it('a Job with completions=4 and parallelism=2 completes (kubectl wait --for=condition=complete)', async () => {
    const n = await ns('jobs');
    let maxActive = 0;
    const active = new Map<string, boolean>();
    const w = new KubectlWatch(c, ['-n', n, 'pods'], (e: WatchEvent) => {
      const p = e.object;
      const running = e.type !== 'DELETED' && !p.metadata.deletionTimestamp && !['Succeeded', 'Failed'].includes(p.status?.phase);
      active.set(p.metadata.uid, running);
      maxActive = Math.max(maxActive, [...active.values()].filter(Boolean).length);
    });
    watches.push(w);
    await applyObjects(c, [job('pi', { completions: 4, parallelism: 2 }, { code: 0, runFor: '300ms' })], n);
    const r = await c.kubectl(['-n', n, 'wait', '--for=condition=complete', 'job/pi', '--timeout=60s'], { timeoutMs: 70000 });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /job.batch\/pi condition met/);
    const j = await c.kjson(['-n', n, 'get', 'job', 'pi']);
    assert.equal(j.status.succeeded, 4);
    assert.ok(j.status.completionTime);
    const pods = await podsOf(n, 'batch.kubernetes.io/job-name=pi');
    assert.equal(pods.filter((p) => p.status.phase === 'Succeeded').length, 4);
    assert.ok(maxActive <= 2, `at most parallelism pods at once (saw ${maxActive})`);
    assert.match(await c.k(['-n', n, 'get', 'job', 'pi']), /^pi\s+Complete\s+4\/4\s/m);
    const desc = await c.k(['-n', n, 'describe', 'job', 'pi']);
    assert.match(desc, /Normal\s+SuccessfulCreate\s+\S+\s+job-controller\s+Created pod: pi-[a-z0-9]{5}/);
    assert.match(desc, /Normal\s+Completed\s+\S+\s+job-controller\s+Job completed/);
  });

  it('a failing Job hits its backoffLimit: Failed with reason BackoffLimitExceeded', async () => {
    const n = 'jobs';
    await applyObjects(c, [job('boom', { backoffLimit: 1 }, { code: 3, runFor: '100ms' })], n);
    const r = await c.kubectl(['-n', n, 'wait', '--for=condition=failed', 'job/boom', '--timeout=60s'], { timeoutMs: 70000 });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const j = await c.kjson(['-n', n, 'get', 'job', 'boom']);
    const failed = j.status.conditions.find((x: any) => x.type === 'Failed');
    assert.equal(failed.status, 'True');
    assert.equal(failed.reason, 'BackoffLimitExceeded');
    assert.equal(failed.message, 'Job has reached the specified backoff limit');
    assert.equal(j.status.failed, 2, 'the first failure was retried once');
    const pods = await podsOf(n, 'batch.kubernetes.io/job-name=boom');
    assert.equal(pods.length, 2);
    for (const p of pods) {
      assert.equal(p.status.phase, 'Failed');
      assert.equal(p.status.containerStatuses[0].state.terminated.exitCode, 3);
    }
    const desc = await c.k(['-n', n, 'describe', 'job', 'boom']);
    assert.match(desc, /Warning\s+BackoffLimitExceeded\s+\S+\s+job-controller\s+Job has reached the specified backoff limit/);
  });

  it('an Indexed Job runs one pod per index and reports completedIndexes', async () => {
    const n = 'jobs';
    await applyObjects(c, [job('ix', { completions: 3, parallelism: 3, completionMode: 'Indexed' }, { code: 0, runFor: '200ms' })], n);
    const r = await c.kubectl(['-n', n, 'wait', '--for=condition=complete', 'job/ix', '--timeout=60s'], { timeoutMs: 70000 });
    assert.equal(r.code, 0, r.stderr);
    const j = await c.kjson(['-n', n, 'get', 'job', 'ix']);
    assert.equal(j.status.completedIndexes, '0-2');
    assert.equal(j.status.succeeded, 3);
    const pods = await podsOf(n, 'batch.kubernetes.io/job-name=ix');
    const byIndex = pods.map((p) => [p.metadata.annotations['batch.kubernetes.io/job-completion-index'], p.spec.hostname]).sort();
    assert.deepEqual(byIndex, [['0', 'ix-0'], ['1', 'ix-1'], ['2', 'ix-2']]);
    for (const p of pods) {
      const env = p.spec.containers[0].env.find((e: any) => e.name === 'JOB_COMPLETION_INDEX');
      assert.equal(env.valueFrom.fieldRef.fieldPath, "metadata.annotations['batch.kubernetes.io/job-completion-index']");
    }
  });

  // ---- garbage collection ------------------------------------------------------------------------

  it('foreground deletion: the owner stays (foregroundDeletion finalizer) until its dependents are gone', async () => {
    const n = await ns('gc-fg');
    // The pods carry a finalizer of ours, so they (and so their owners) stay until released.
    await applyObjects(c, [{
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'fg' },
      spec: {
        replicas: 2, selector: { matchLabels: { app: 'fg' } },
        template: { metadata: { labels: { app: 'fg' }, finalizers: ['example.com/hold'] }, spec: { containers: [{ name: 'app', image: 'fg:1' }] } },
      },
    }], n);
    await waitFor('2 running pods', async () => (await podsOf(n, 'app=fg')).filter((p) => p.status.phase === 'Running').length === 2, 30000, 200);
    await c.k(['-n', n, 'delete', 'deployment', 'fg', '--cascade=foreground', '--wait=false']);
    const d = await waitFor('the Deployment waiting for its dependents', async () => {
      const cur = await c.kjson(['-n', n, 'get', 'deployment', 'fg']);
      return cur.metadata.deletionTimestamp && cur;
    }, 20000, 100);
    assert.deepEqual(d.metadata.finalizers, ['foregroundDeletion']);
    // The ReplicaSet is deleted in the foreground too, and its pods are being deleted.
    const rs = await waitFor('the ReplicaSet being deleted in the foreground', async () => {
      const items = (await c.kjson(['-n', n, 'get', 'rs'])).items as any[];
      return items.length === 1 && items[0].metadata.deletionTimestamp && items[0];
    }, 20000, 100);
    assert.deepEqual(rs.metadata.finalizers, ['foregroundDeletion']);
    await waitFor('pods being deleted', async () => (await podsOf(n, 'app=fg')).every((p) => p.metadata.deletionTimestamp), 20000, 100);
    assert.ok(await exists(['-n', n, 'deployment', 'fg']), 'the Deployment is still there while pods remain');

    for (const p of await podsOf(n, 'app=fg')) await c.k(['-n', n, 'patch', 'pod', p.metadata.name, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    await waitFor('pods, ReplicaSet and Deployment gone', async () =>
      !(await exists(['-n', n, 'deployment', 'fg'])) && (await podsOf(n, 'app=fg')).length === 0 && (await c.kjson(['-n', n, 'get', 'rs'])).items.length === 0, 30000, 200);
  });

  it('background deletion: the owner goes at once, its dependents after; orphan: dependents stay without ownerReferences', async () => {
    const n = await ns('gc-bg');
    await applyObjects(c, [replicaSet('bg', 2), replicaSet('orph', 2)], n);
    await waitFor('4 pods', async () => (await podsOf(n, 'app in (bg,orph)')).filter((p) => p.status.phase === 'Running').length === 4, 30000, 200);
    const orphans = (await podsOf(n, 'app=orph')).map((p) => p.metadata.name).sort();

    await c.k(['-n', n, 'delete', 'rs', 'orph', '--cascade=orphan']);
    assert.equal(await exists(['-n', n, 'rs', 'orph']), false);
    await waitFor('ownerReferences removed from the orphans', async () => (await podsOf(n, 'app=orph')).every((p) => !p.metadata.ownerReferences), 20000, 100);

    // Background (kubectl's default): the ReplicaSet is gone when kubectl returns, its pods follow.
    await c.k(['-n', n, 'delete', 'rs', 'bg']);
    assert.equal(await exists(['-n', n, 'rs', 'bg']), false);
    await waitFor('the pods of bg collected', async () => (await podsOf(n, 'app=bg')).length === 0, 30000, 200);

    // The collector has acted on later deletions: the orphans are still there, unowned.
    const left = await podsOf(n, 'app=orph');
    assert.deepEqual(left.map((p) => p.metadata.name).sort(), orphans);
    for (const p of left) {
      assert.equal(p.metadata.ownerReferences, undefined);
      assert.equal(p.metadata.deletionTimestamp, undefined);
    }
  });

  it('deleting a namespace removes everything in it, then the namespace', async () => {
    const n = await ns('doomed');
    await applyObjects(c, [
      replicaSet('rs', 2),
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { a: '1' } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc' }, spec: { selector: { app: 'rs' }, ports: [{ port: 80 }] } },
      job('j', {}, { code: 0, runFor: '10m' }),
    ], n);
    await waitFor('pods running', async () => (await podsOf(n, 'app=rs')).filter((p) => p.status.phase === 'Running').length === 2, 30000, 200);
    const del = c.kubectl(['delete', 'namespace', n, '--timeout=60s'], { timeoutMs: 70000 });
    await waitFor('the namespace Terminating', async () => {
      const r = await c.kubectl(['get', 'namespace', n, '-o', 'json']);
      return r.code !== 0 || JSON.parse(r.stdout).status.phase === 'Terminating';
    }, 20000, 50);
    const r = await del;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await exists(['namespace', n]), false);
    for (const kind of ['pods', 'replicasets', 'configmaps', 'services', 'jobs']) {
      const items = (await c.kjson(['get', kind, '-n', n])).items;
      assert.deepEqual(items, [], `${kind} left in ${n}`);
    }
  });

  // ---- CronJob: the scheduled run ------------------------------------------------------------------

  it('CronJob: the schedule creates a Job that completes; kubectl describe shows the events', async () => {
    const n = 'cron';
    const scheduled = await waitFor('a scheduled Job of tick (at most a minute)', async () => {
      const jobs = (await c.kjson(['-n', n, 'get', 'jobs'])).items as any[];
      return jobs.find((j) => /^tick-\d+$/.test(j.metadata.name));
    }, 75000, 500);
    assert.equal(scheduled.metadata.ownerReferences[0].kind, 'CronJob');
    assert.ok(scheduled.metadata.annotations['batch.kubernetes.io/cronjob-scheduled-timestamp']);
    const r = await c.kubectl(['-n', n, 'wait', '--for=condition=complete', `job/${scheduled.metadata.name}`, '--timeout=60s'], { timeoutMs: 70000 });
    assert.equal(r.code, 0, r.stderr);
    const cj = await waitFor('the CronJob status', async () => {
      const cur = await c.kjson(['-n', n, 'get', 'cronjob', 'tick']);
      return cur.status?.lastScheduleTime && cur.status?.lastSuccessfulTime && !cur.status?.active?.length && cur;
    }, 20000, 200);
    assert.equal(Date.parse(cj.status.lastScheduleTime) % 60000, 0, 'scheduled on the minute');
    const desc = await c.k(['-n', n, 'describe', 'cronjob', 'tick']);
    assert.match(desc, new RegExp(`Normal\\s+SuccessfulCreate\\s+\\S+\\s+cronjob-controller\\s+Created job ${scheduled.metadata.name}`));
    assert.match(desc, new RegExp(`Normal\\s+SawCompletedJob\\s+\\S+\\s+cronjob-controller\\s+Saw completed job: ${scheduled.metadata.name}, condition: Complete`));
  });
});
