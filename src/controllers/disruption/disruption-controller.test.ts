import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ResourceDescriptor } from '../../client/index.js';
import { eventually } from '../../client/testing.js';
import { EVENTS } from '../../client/event-recorder.js';
import { DEPLOYMENTS, PODS, REPLICASETS, type Obj } from '../replicaset/controller-utils.js';
import { controllerTestBed } from '../testing.js';
import { DisruptionController, PDBS, REPLICATIONCONTROLLERS, STATEFULSETS } from './disruption-controller.js';
import {
  activeDisruptedPods, countHealthyPods, disruptionsAllowed, expectedAndDesired, scaledValue, setStatusCondition, withDisruptionAllowedCondition,
} from './pdb-status.js';

const NAMESPACES: ResourceDescriptor = { group: '', version: 'v1', plural: 'namespaces', namespaced: false };

// ---- pure arithmetic ------------------------------------------------------------------------------

test('scaledValue: integers, percentages rounded up or down, bad values', () => {
  assert.equal(scaledValue(3, 10, true), 3);
  assert.equal(scaledValue('50%', 3, true), 2);
  assert.equal(scaledValue('50%', 3, false), 1);
  assert.equal(scaledValue('34%', 3, true), 2);
  assert.equal(scaledValue('100%', 7, true), 7);
  assert.equal(scaledValue('0%', 7, true), 0);
  assert.throws(() => scaledValue('5', 10, true), /string is not a percentage/);
  assert.throws(() => scaledValue('x%', 10, true), /invalid value "x%"/);
});

test('expected and desired: int minAvailable counts pods, percentages and maxUnavailable use the scale', () => {
  const pdb = (spec: any): Obj => ({ spec });
  assert.deepEqual(expectedAndDesired(pdb({ minAvailable: 2 }), 3, () => { throw new Error('no scale needed'); }), { expectedCount: 3, desiredHealthy: 2 });
  assert.deepEqual(expectedAndDesired(pdb({ minAvailable: '50%' }), 3, () => 5), { expectedCount: 5, desiredHealthy: 3 });
  assert.deepEqual(expectedAndDesired(pdb({ maxUnavailable: 1 }), 3, () => 4), { expectedCount: 4, desiredHealthy: 3 });
  assert.deepEqual(expectedAndDesired(pdb({ maxUnavailable: '25%' }), 3, () => 5), { expectedCount: 5, desiredHealthy: 3 });
  assert.deepEqual(expectedAndDesired(pdb({ maxUnavailable: 10 }), 3, () => 4), { expectedCount: 4, desiredHealthy: 0 });
  assert.deepEqual(expectedAndDesired(pdb({}), 3, () => 4), { expectedCount: 0, desiredHealthy: 0 });
  assert.equal(disruptionsAllowed(3, 2, 3), 1);
  assert.equal(disruptionsAllowed(1, 2, 3), 0);
  assert.equal(disruptionsAllowed(3, 0, 0), 0, 'nothing expected: nothing allowed');
});

test('disruptedPods: entries expire after 2 minutes or with the pod; they keep pods out of currentHealthy', () => {
  const now = Date.parse('2026-01-01T00:10:00Z');
  const ready = (name: string, extra: Record<string, unknown> = {}): Obj => ({ metadata: { name, ...extra }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
  const pods = [ready('fresh'), ready('old'), ready('going', { deletionTimestamp: '2026-01-01T00:09:00Z' }), ready('plain'), { metadata: { name: 'unready' }, status: {} }];
  const pdb: Obj = { status: { disruptedPods: { fresh: '2026-01-01T00:09:30Z', old: '2026-01-01T00:07:00Z', going: '2026-01-01T00:09:30Z', gone: '2026-01-01T00:09:30Z' } } };
  const { disrupted, expired, recheckAt } = activeDisruptedPods(pods, pdb, now);
  assert.deepEqual(disrupted, { fresh: '2026-01-01T00:09:30Z' });
  assert.deepEqual(expired.map((p) => p.metadata!.name), ['old']);
  assert.equal(recheckAt, Date.parse('2026-01-01T00:11:30Z'));
  assert.equal(countHealthyPods(pods, disrupted, now), 2, 'old and plain (fresh is disrupted, going is terminating, unready is not ready)');
  assert.equal(countHealthyPods(pods, disrupted, now + 3 * 60_000), 3);
});

test('the DisruptionAllowed condition moves lastTransitionTime only on a change', () => {
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const a = withDisruptionAllowedCondition({ disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3, observedGeneration: 1 }, t0);
  assert.deepEqual(a.conditions, [{ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '', observedGeneration: 1, lastTransitionTime: '2026-01-01T00:00:00Z' }]);
  const b = withDisruptionAllowedCondition({ ...a, observedGeneration: 2 }, t0 + 5000);
  assert.equal(b.conditions![0].lastTransitionTime, '2026-01-01T00:00:00Z');
  assert.equal(b.conditions![0].observedGeneration, 2);
  const c = withDisruptionAllowedCondition({ ...b, disruptionsAllowed: 0 }, t0 + 9000);
  assert.deepEqual([c.conditions![0].status, c.conditions![0].reason, c.conditions![0].lastTransitionTime], ['False', 'InsufficientPods', '2026-01-01T00:00:09Z']);
  assert.equal(setStatusCondition([], { type: 'X', status: 'True', reason: 'R', message: 'm' }, t0).length, 1);
});

// ---- the controller against an API server -----------------------------------------------------------

let offset = 0;
const bed = controllerTestBed((c) => new DisruptionController(c, { clock: () => Date.now() + offset }));

let nsSeq = 0;
async function namespace(): Promise<string> {
  const name = `pdb-${++nsSeq}`;
  await bed.client.create(NAMESPACES, undefined, { metadata: { name } });
  return name;
}

const template = (app: string) => ({ metadata: { labels: { app } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
const ownerRef = (o: any, apiVersion: string, kind: string) => ({ apiVersion, kind, name: o.metadata.name, uid: o.metadata.uid, controller: true });

/** Inert workload objects (no workload controller runs here): only their replicas and UIDs matter. */
async function deployment(ns: string, name: string, replicas: number): Promise<{ d: any; rs: any }> {
  const d = await bed.client.create<any>(DEPLOYMENTS, ns, { metadata: { name }, spec: { replicas, selector: { matchLabels: { app: name } }, template: template(name) } });
  const rs = await bed.client.create<any>(REPLICASETS, ns, {
    metadata: { name: `${name}-abc`, ownerReferences: [ownerRef(d, 'apps/v1', 'Deployment')] },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: template(name) },
  });
  return { d, rs };
}

/** A pod (owned by `owner` if given), Running and Ready unless said otherwise. */
async function pod(ns: string, name: string, app: string, owner?: { ref: any }, opts: { ready?: boolean; conditions?: any[] } = {}): Promise<any> {
  const p = await bed.client.create<any>(PODS, ns, {
    metadata: { name, labels: { app }, ...(owner ? { ownerReferences: [owner.ref] } : {}) },
    spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'busybox' }] },
  });
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return bed.client.update(PODS, ns, {
    ...p, status: { ...p.status, phase: 'Running', conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True', lastTransitionTime: now }, ...(opts.conditions ?? [])] },
  }, { subresource: 'status' });
}

async function pdb(ns: string, name: string, spec: Record<string, unknown>): Promise<any> {
  return bed.client.create<any>(PDBS, ns, { metadata: { name }, spec: { selector: { matchLabels: { app: 'web' } }, ...spec } });
}

/** Waits for a status the controller wrote for the current generation, matching `want`. */
async function status(ns: string, name: string, want: Record<string, unknown>): Promise<any> {
  let last: any;
  try {
    return await eventually(async () => {
      const b = await bed.client.get<any>(PDBS, ns, name);
      last = b.status;
      if (b.status?.observedGeneration !== b.metadata.generation) return undefined;
      return Object.entries(want).every(([k, v]) => JSON.stringify(b.status?.[k]) === JSON.stringify(v)) ? b : undefined;
    }, `status of ${ns}/${name} to be ${JSON.stringify(want)}`);
  } catch (err) {
    throw new Error(`${(err as Error).message}; last status ${JSON.stringify(last)}`);
  }
}

const cond = (b: any) => b.status.conditions.find((c: any) => c.type === 'DisruptionAllowed');

test('integer minAvailable: counts matching Ready pods; terminating and unready pods are not healthy', async () => {
  const ns = await namespace();
  for (const n of ['a', 'b', 'c']) await pod(ns, n, 'web');
  await pod(ns, 'other', 'db');
  await pdb(ns, 'budget', { minAvailable: 2 });
  const b = await status(ns, 'budget', { expectedPods: 3, currentHealthy: 3, desiredHealthy: 2, disruptionsAllowed: 1 });
  assert.deepEqual([cond(b).status, cond(b).reason, cond(b).message, cond(b).observedGeneration], ['True', 'SufficientPods', '', 1]);

  await pod(ns, 'd', 'web', undefined, { ready: false });
  await status(ns, 'budget', { expectedPods: 4, currentHealthy: 3, disruptionsAllowed: 1 });
  await bed.client.delete(PODS, ns, 'a'); // bound: graceful, stays with a deletionTimestamp
  const b2 = await status(ns, 'budget', { expectedPods: 4, currentHealthy: 2, desiredHealthy: 2, disruptionsAllowed: 0 });
  assert.deepEqual([cond(b2).status, cond(b2).reason], ['False', 'InsufficientPods']);

  // A spec change is observed with the new generation.
  const cur = await bed.client.get<any>(PDBS, ns, 'budget');
  await bed.client.update(PDBS, ns, { ...cur, spec: { ...cur.spec, minAvailable: 1 } });
  const b3 = await status(ns, 'budget', { desiredHealthy: 1, disruptionsAllowed: 1, observedGeneration: 2 });
  assert.equal(cond(b3).observedGeneration, 2);
});

test('percentages and maxUnavailable use the scale of the pods\' controllers', async () => {
  const ns = await namespace();
  // Deployment of 4 (through its ReplicaSet), 3 pods up.
  const { rs } = await deployment(ns, 'web', 4);
  for (const n of ['w1', 'w2', 'w3']) await pod(ns, n, 'web', { ref: ownerRef(rs, 'apps/v1', 'ReplicaSet') });
  await pdb(ns, 'pct', { minAvailable: '50%' });
  await status(ns, 'pct', { expectedPods: 4, desiredHealthy: 2, currentHealthy: 3, disruptionsAllowed: 1 });
  await pdb(ns, 'max', { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } });
  await status(ns, 'max', { expectedPods: 4, desiredHealthy: 3, currentHealthy: 3, disruptionsAllowed: 0 });

  // A bare ReplicaSet, a StatefulSet and a ReplicationController, under one budget.
  const ns2 = await namespace();
  const bare = await bed.client.create<any>(REPLICASETS, ns2, { metadata: { name: 'rs' }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: template('web') } });
  const ss = await bed.client.create<any>(STATEFULSETS, ns2, { metadata: { name: 'ss' }, spec: { replicas: 3, serviceName: 'ss', selector: { matchLabels: { app: 'web' } }, template: template('web') } });
  const rc = await bed.client.create<any>(REPLICATIONCONTROLLERS, ns2, { metadata: { name: 'rc' }, spec: { replicas: 1, selector: { app: 'web' }, template: template('web') } });
  await pod(ns2, 'r1', 'web', { ref: ownerRef(bare, 'apps/v1', 'ReplicaSet') });
  await pod(ns2, 'r2', 'web', { ref: ownerRef(bare, 'apps/v1', 'ReplicaSet') });
  await pod(ns2, 's0', 'web', { ref: ownerRef(ss, 'apps/v1', 'StatefulSet') });
  await pod(ns2, 'c1', 'web', { ref: ownerRef(rc, 'v1', 'ReplicationController') });
  await pdb(ns2, 'budget', { maxUnavailable: '34%' });
  // expected 2 + 3 + 1 = 6; maxUnavailable ceil(2.04) = 3; desired 3; healthy 4.
  await status(ns2, 'budget', { expectedPods: 6, desiredHealthy: 3, currentHealthy: 4, disruptionsAllowed: 1 });

  // Any other kind with a scale subresource is asked through it (here a Deployment owning pods directly).
  const ns3 = await namespace();
  const { d } = await deployment(ns3, 'direct', 5);
  await pod(ns3, 'x1', 'web', { ref: ownerRef(d, 'apps/v1', 'Deployment') });
  await pdb(ns3, 'budget', { minAvailable: '40%' });
  await status(ns3, 'budget', { expectedPods: 5, desiredHealthy: 2, currentHealthy: 1, disruptionsAllowed: 0 });
});

test('unmanaged pods are left out of the scale (UnmanagedPods event); an unknown controller fails the sync (SyncFailed)', async () => {
  const ns = await namespace();
  await pod(ns, 'lonely', 'web');
  const b = await pdb(ns, 'budget', { maxUnavailable: 1 });
  await status(ns, 'budget', { expectedPods: 0, desiredHealthy: 0, currentHealthy: 1, disruptionsAllowed: 0 });
  await eventually(async () => (await bed.client.list<any>(EVENTS, ns)).items.some((e) => e.reason === 'UnmanagedPods' && e.involvedObject.uid === b.metadata.uid), 'UnmanagedPods event');

  const ns2 = await namespace();
  await pod(ns2, 'orphan', 'web', { ref: { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'missing', uid: 'no-such-uid', controller: true } });
  await pdb(ns2, 'budget', { minAvailable: '50%' });
  const failed = await eventually(async () => {
    const x = await bed.client.get<any>(PDBS, ns2, 'budget');
    const c = x.status?.conditions?.find((y: any) => y.type === 'DisruptionAllowed');
    return c?.reason === 'SyncFailed' ? x : undefined;
  }, 'SyncFailed');
  assert.equal(failed.status.disruptionsAllowed, 0);
  assert.equal(cond(failed).status, 'False');
  assert.match(cond(failed).message, /found no controllers for pod "orphan"/);

  // A controller kind without a scale subresource cannot give a scale.
  const ns3 = await namespace();
  const ds = await bed.client.create<any>({ group: 'apps', version: 'v1', plural: 'daemonsets', namespaced: true }, ns3, {
    metadata: { name: 'ds' }, spec: { selector: { matchLabels: { app: 'web' } }, template: template('web') },
  });
  await pod(ns3, 'd1', 'web', { ref: ownerRef(ds, 'apps/v1', 'DaemonSet') });
  await pdb(ns3, 'budget', { maxUnavailable: 1 });
  await eventually(async () => {
    const c = (await bed.client.get<any>(PDBS, ns3, 'budget')).status?.conditions?.find((y: any) => y.type === 'DisruptionAllowed');
    return c?.reason === 'SyncFailed' && /daemonsets.apps does not implement the scale subresource/.test(c.message);
  }, 'SyncFailed for a DaemonSet');
});

test('selectors as policy/v1: {} selects every pod of the namespace, null selects none', async () => {
  const ns = await namespace();
  await pod(ns, 'a', 'web');
  await pod(ns, 'b', 'db');
  await bed.client.create(PDBS, ns, { metadata: { name: 'all' }, spec: { minAvailable: 1, selector: {} } });
  await bed.client.create(PDBS, ns, { metadata: { name: 'none' }, spec: { minAvailable: 1 } });
  await status(ns, 'all', { expectedPods: 2, currentHealthy: 2, disruptionsAllowed: 1 });
  await status(ns, 'none', { expectedPods: 0, currentHealthy: 0, disruptionsAllowed: 0 });
  // A pod under two budgets gets a MultiplePodDisruptionBudgets warning.
  await pdb(ns, 'web', { minAvailable: 1 });
  await pod(ns, 'c', 'web');
  await eventually(async () => (await bed.client.list<any>(EVENTS, ns)).items.some((e) => e.reason === 'MultiplePodDisruptionBudgets' && e.involvedObject.name === 'c'), 'MultiplePodDisruptionBudgets event');
});

test('disruptedPods written by an eviction keep the pod out of currentHealthy until it is deleted or 2 minutes pass', async () => {
  const ns = await namespace();
  for (const n of ['a', 'b', 'c']) await pod(ns, n, 'web');
  await pdb(ns, 'budget', { minAvailable: 1 });
  await status(ns, 'budget', { currentHealthy: 3, disruptionsAllowed: 2 });
  // What the eviction subresource does: decrement and record, in one status write.
  const cur = await bed.client.get<any>(PDBS, ns, 'budget');
  const at = new Date(Date.now() + offset).toISOString().replace(/\.\d+Z$/, 'Z');
  await bed.client.update(PDBS, ns, { ...cur, status: { ...cur.status, disruptionsAllowed: 0, disruptedPods: { a: at, b: at, ghost: at } } }, { subresource: 'status' });
  // The controller keeps the live pods' entries (ghost does not exist) and counts them out.
  await status(ns, 'budget', { currentHealthy: 1, disruptionsAllowed: 0, disruptedPods: { a: at, b: at } });
  // b is deleted: its entry goes, it is not healthy either (terminating).
  await bed.client.delete(PODS, ns, 'b', { gracePeriodSeconds: 0 });
  await status(ns, 'budget', { currentHealthy: 1, disruptionsAllowed: 0, disruptedPods: { a: at } });
  // a was never deleted: 2 minutes later the entry expires (NotDeleted event) and a counts again.
  offset += 2 * 60_000 + 2000;
  bed.controller.controller.enqueue(`${ns}/budget`);
  const b = await status(ns, 'budget', { currentHealthy: 2, disruptionsAllowed: 1 });
  assert.equal(b.status.disruptedPods, undefined);
  await eventually(async () => (await bed.client.list<any>(EVENTS, ns)).items.some((e) => e.reason === 'NotDeleted' && e.involvedObject.name === 'a'), 'NotDeleted event');
});

test('a stale DisruptionTarget condition on a live pod is reset after 2 minutes', async () => {
  const ns = await namespace();
  const old = new Date(Date.now() + offset - 3 * 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
  await pod(ns, 'p', 'web', undefined, { conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting', lastTransitionTime: old }] });
  const p = await eventually(async () => {
    const x = await bed.client.get<any>(PODS, ns, 'p');
    const c = x.status.conditions.find((y: any) => y.type === 'DisruptionTarget');
    return c.status === 'False' ? c : undefined;
  }, 'DisruptionTarget reset');
  assert.equal(p.reason, 'EvictionByEvictionAPI');
  assert.notEqual(p.lastTransitionTime, old);
  // A fresh one is left alone (for now).
  const fresh = new Date(Date.now() + offset).toISOString().replace(/\.\d+Z$/, 'Z');
  await pod(ns, 'q', 'web', undefined, { conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', message: 'x', lastTransitionTime: fresh }] });
  assert.equal(bed.controller.staleDisruption(await bed.client.get<any>(PODS, ns, 'q'), Date.now() + offset).has, true);
  assert.ok(bed.controller.staleDisruption(await bed.client.get<any>(PODS, ns, 'q'), Date.now() + offset).inMs > 60_000);
});
