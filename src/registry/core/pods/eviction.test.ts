import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCluster, type TestCluster } from '../../../client/testing.js';
import type { ResourceDescriptor, RestClient } from '../../../client/index.js';
import { EVICTION_MESSAGE, MULTIPLE_PDBS_MESSAGE } from './eviction.js';

const PODS: ResourceDescriptor = { group: '', version: 'v1', plural: 'pods', namespaced: true };
const PDBS: ResourceDescriptor = { group: 'policy', version: 'v1', plural: 'poddisruptionbudgets', namespaced: true };
const NAMESPACES: ResourceDescriptor = { group: '', version: 'v1', plural: 'namespaces', namespaced: false };

let cluster: TestCluster;
let client: RestClient;
/** No automatic retries on 429 + Retry-After: the test looks at the answer itself. */
let raw: RestClient;

before(async () => {
  cluster = await startTestCluster();
  client = cluster.client;
  raw = cluster.newClient({ maxRetries: 0 });
});
after(async () => { await cluster?.stop(); });

let nsSeq = 0;
async function namespace(): Promise<string> {
  const name = `ev-${++nsSeq}`;
  await client.create(NAMESPACES, undefined, { metadata: { name } });
  return name;
}

type Phase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

/** A pod bound to a node, with the phase and readiness asked for (status written as a kubelet would). */
async function pod(ns: string, name: string, opts: { phase?: Phase; ready?: boolean; labels?: Record<string, string>; bound?: boolean } = {}): Promise<any> {
  const { phase = 'Running', ready = true, labels = { app: 'web' }, bound = true } = opts;
  await client.create(PODS, ns, {
    metadata: { name, labels },
    spec: { ...(bound ? { nodeName: 'node-1' } : {}), containers: [{ name: 'c', image: 'busybox' }] },
  });
  const cur = await client.get(PODS, ns, name);
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return client.update(PODS, ns, {
    ...cur,
    status: { ...cur.status, phase, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now }] },
  }, { subresource: 'status' });
}

/** A budget with the status a disruption controller would have written. */
async function pdb(ns: string, name: string, spec: Record<string, unknown>, status: Record<string, unknown>, opts: { stale?: boolean } = {}): Promise<any> {
  const created = await client.create<any>(PDBS, ns, { metadata: { name }, spec: { selector: { matchLabels: { app: 'web' } }, ...spec } });
  const gen = created.metadata.generation;
  return client.update(PDBS, ns, {
    ...created,
    status: { observedGeneration: opts.stale ? gen - 1 : gen, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, disruptionsAllowed: 0, ...status },
  }, { subresource: 'status' });
}

function evict(ns: string, name: string, body: Record<string, unknown> = {}, query = '') {
  return raw.request('POST', `/api/v1/namespaces/${ns}/pods/${name}/eviction${query}`, {
    apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: ns }, ...body,
  });
}

const json = (r: { body: Buffer }) => JSON.parse(r.body.toString('utf8'));

async function exists(ns: string, name: string): Promise<any | undefined> {
  try {
    return await client.get(PODS, ns, name);
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

test('discovery lists pods/eviction (policy/v1 Eviction, create) so kubectl drain uses it', async () => {
  const list = await client.requestJSON('GET', '/api/v1');
  const ev = list.resources.find((r: any) => r.name === 'pods/eviction');
  assert.deepEqual({ kind: ev.kind, group: ev.group, version: ev.version, verbs: ev.verbs }, { kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] });
});

test('without a budget the pod is deleted (gracefully) and marked DisruptionTarget', async () => {
  const ns = await namespace();
  await pod(ns, 'a');
  const r = await evict(ns, 'a');
  assert.equal(r.status, 201, r.body.toString());
  assert.deepEqual(json(r), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
  const p = await exists(ns, 'a');
  assert.ok(p.metadata.deletionTimestamp, 'graceful deletion started');
  const c = p.status.conditions.find((x: any) => x.type === 'DisruptionTarget');
  assert.deepEqual([c.status, c.reason, c.message], ['True', 'EvictionByEvictionAPI', 'Eviction API: evicting']);

  // deleteOptions are honoured: grace period 0 removes it at once.
  await pod(ns, 'b');
  const r2 = await evict(ns, 'b', { deleteOptions: { gracePeriodSeconds: 0 } });
  assert.equal(r2.status, 201);
  assert.equal(await exists(ns, 'b'), undefined);
});

test('a budget that allows it: decremented and recorded in one write; the next eviction gets 429', async () => {
  const ns = await namespace();
  for (const n of ['p1', 'p2', 'p3']) await pod(ns, n);
  await pdb(ns, 'budget', { minAvailable: 2 }, { currentHealthy: 3, desiredHealthy: 2, expectedPods: 3, disruptionsAllowed: 1 });
  const r = await evict(ns, 'p1');
  assert.equal(r.status, 201, r.body.toString());
  assert.ok((await exists(ns, 'p1')).metadata.deletionTimestamp);
  const b = await client.get(PDBS, ns, 'budget');
  assert.equal(b.status.disruptionsAllowed, 0);
  assert.deepEqual(Object.keys(b.status.disruptedPods), ['p1']);
  assert.ok(Math.abs(Date.parse(b.status.disruptedPods.p1) - Date.now()) < 60_000);
  const cond = b.status.conditions.find((c: any) => c.type === 'DisruptionAllowed');
  assert.deepEqual([cond.status, cond.reason], ['False', 'InsufficientPods']);

  const r2 = await evict(ns, 'p2');
  assert.equal(r2.status, 429);
  const st = json(r2);
  assert.equal(st.reason, 'TooManyRequests');
  assert.equal(st.message, EVICTION_MESSAGE);
  assert.deepEqual(st.details.causes, [{ reason: 'DisruptionBudget', message: 'The disruption budget budget needs 2 healthy pods and has 3 currently' }]);
  assert.equal(r2.headers['retry-after'], undefined);
  assert.ok(!(await exists(ns, 'p2')).metadata.deletionTimestamp, 'p2 untouched');
});

test('a budget whose status is behind its generation: 429 with Retry-After', async () => {
  const ns = await namespace();
  await pod(ns, 'p');
  await pdb(ns, 'budget', { maxUnavailable: 1 }, { disruptionsAllowed: 5, currentHealthy: 1, expectedPods: 1 }, { stale: true });
  const r = await evict(ns, 'p');
  assert.equal(r.status, 429);
  assert.equal(r.headers['retry-after'], '10');
  assert.equal(json(r).details.causes[0].message, 'The disruption budget budget is still being processed by the server.');
  assert.ok(await exists(ns, 'p'));
});

test('terminal and pending pods are deleted whatever the budget says', async () => {
  const ns = await namespace();
  await pdb(ns, 'budget', { minAvailable: 5 }, { disruptionsAllowed: 0, desiredHealthy: 5 });
  await pod(ns, 'done', { phase: 'Succeeded', ready: false });
  await pod(ns, 'failed', { phase: 'Failed', ready: false });
  await pod(ns, 'pending', { phase: 'Pending', ready: false, bound: false });
  for (const n of ['done', 'failed', 'pending']) {
    const r = await evict(ns, n);
    assert.equal(r.status, 201, `${n}: ${r.body}`);
    assert.equal(await exists(ns, n), undefined, `${n} deleted at once`);
  }
  assert.equal((await client.get(PDBS, ns, 'budget')).status.disruptionsAllowed, 0);
});

test('unready pods: IfHealthyBudget only while the budget is met; AlwaysAllow always; the budget is not decremented', async () => {
  const ns = await namespace();
  await pod(ns, 'sick', { ready: false });
  await pdb(ns, 'budget', { minAvailable: 2 }, { currentHealthy: 2, desiredHealthy: 2, expectedPods: 3, disruptionsAllowed: 0 });
  assert.equal((await evict(ns, 'sick')).status, 201);
  assert.ok((await exists(ns, 'sick')).metadata.deletionTimestamp);
  assert.equal((await client.get(PDBS, ns, 'budget')).status.disruptedPods, undefined);

  const ns2 = await namespace();
  await pod(ns2, 'sick', { ready: false });
  await pdb(ns2, 'budget', { minAvailable: 2 }, { currentHealthy: 1, desiredHealthy: 2, expectedPods: 3, disruptionsAllowed: 0 });
  assert.equal((await evict(ns2, 'sick')).status, 429, 'budget not met: the unready pod is protected');

  const ns3 = await namespace();
  await pod(ns3, 'sick', { ready: false });
  await pdb(ns3, 'budget', { minAvailable: 2, unhealthyPodEvictionPolicy: 'AlwaysAllow' }, { currentHealthy: 1, desiredHealthy: 2, expectedPods: 3, disruptionsAllowed: 0 });
  assert.equal((await evict(ns3, 'sick')).status, 201);
  assert.ok((await exists(ns3, 'sick')).metadata.deletionTimestamp);
});

test('a pod under two budgets: 500 and nothing deleted; empty and null selectors (policy/v1)', async () => {
  const ns = await namespace();
  await pod(ns, 'p');
  await pdb(ns, 'one', { minAvailable: 1 }, { disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2 });
  // {} selects every pod of the namespace under policy/v1.
  await pdb(ns, 'all', { minAvailable: 1, selector: {} }, { disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2 });
  const r = await evict(ns, 'p');
  assert.equal(r.status, 500);
  assert.deepEqual(json(r), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: MULTIPLE_PDBS_MESSAGE, code: 500 });
  assert.ok(!(await exists(ns, 'p')).metadata.deletionTimestamp);

  // A budget without a selector selects nothing: only "one" applies.
  const ns2 = await namespace();
  await pod(ns2, 'p');
  await pdb(ns2, 'one', { minAvailable: 1 }, { disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2 });
  const created = await client.create<any>(PDBS, ns2, { metadata: { name: 'none' }, spec: { minAvailable: 1 } });
  assert.equal(created.spec.selector, undefined);
  assert.equal((await evict(ns2, 'p')).status, 201);
});

test('dry run: answered as a real eviction, nothing changes', async () => {
  const ns = await namespace();
  await pod(ns, 'a');
  await pod(ns, 'b');
  await pdb(ns, 'budget', { minAvailable: 1 }, { currentHealthy: 2, desiredHealthy: 1, expectedPods: 2, disruptionsAllowed: 1 });
  const before = await client.get(PDBS, ns, 'budget');
  assert.equal((await evict(ns, 'a', {}, '?dryRun=All')).status, 201);
  assert.equal((await evict(ns, 'b', { deleteOptions: { dryRun: ['All'] } })).status, 201);
  for (const n of ['a', 'b']) {
    const p = await exists(ns, n);
    assert.ok(!p.metadata.deletionTimestamp);
    assert.ok(!(p.status.conditions ?? []).some((c: any) => c.type === 'DisruptionTarget'));
  }
  assert.equal((await client.get(PDBS, ns, 'budget')).metadata.resourceVersion, before.metadata.resourceVersion);
  assert.equal((await evict(ns, 'a', { deleteOptions: { dryRun: ['Some'] } })).status, 422);
});

test('bad requests: missing pod 404, name mismatch 400, failed precondition 409, GET 405', async () => {
  const ns = await namespace();
  const missing = await evict(ns, 'ghost');
  assert.equal(missing.status, 404);
  assert.equal(json(missing).message, 'pods "ghost" not found');
  await pod(ns, 'p');
  const mismatch = await raw.request('POST', `/api/v1/namespaces/${ns}/pods/p/eviction`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'q' } });
  assert.equal(mismatch.status, 400);
  assert.equal(json(mismatch).message, 'name in URL does not match name in Eviction object');
  const pre = await evict(ns, 'p', { deleteOptions: { preconditions: { uid: 'not-the-uid' } } });
  assert.equal(pre.status, 409);
  assert.ok(!(await exists(ns, 'p')).metadata.deletionTimestamp);
  assert.equal((await raw.request('GET', `/api/v1/namespaces/${ns}/pods/p/eviction`)).status, 405);
  // policy/v1beta1 Evictions are accepted too.
  const beta = await raw.request('POST', `/api/v1/namespaces/${ns}/pods/p/eviction`, { apiVersion: 'policy/v1beta1', kind: 'Eviction', metadata: { name: 'p' } });
  assert.equal(beta.status, 201);
});

test('concurrent evictions never take more disruptions than allowed', async () => {
  const ns = await namespace();
  const names = ['c1', 'c2', 'c3', 'c4', 'c5'];
  for (const n of names) await pod(ns, n);
  await pdb(ns, 'budget', { minAvailable: 3 }, { currentHealthy: 5, desiredHealthy: 3, expectedPods: 5, disruptionsAllowed: 2 });
  const codes = await Promise.all(names.map((n) => evict(ns, n).then((r) => r.status)));
  assert.equal(codes.filter((c) => c === 201).length, 2, String(codes));
  assert.equal(codes.filter((c) => c === 429).length, 3, String(codes));
  const b = await client.get(PDBS, ns, 'budget');
  assert.equal(Object.keys(b.status.disruptedPods).length, 2);
  assert.equal(b.status.disruptionsAllowed, 0);
});
