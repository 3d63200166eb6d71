import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, LEASES, type ResourceDescriptor, type RestClient } from '../client/index.js';
import { eventually, startTestCluster, type TestCluster } from '../client/testing.js';
import { ControllerManager, CONTROLLERS, LEASE_NAME, LEASE_NAMESPACE, type ControllerManagerCommonOptions } from './manager.js';
import { startControllerManager } from './run.js';

const CONFIGMAPS: ResourceDescriptor = { group: '', version: 'v1', plural: 'configmaps', namespaced: true };
const NAMESPACES: ResourceDescriptor = { group: '', version: 'v1', plural: 'namespaces', namespaced: false };

let cluster: TestCluster;
let client: RestClient;

before(async () => {
  cluster = await startTestCluster();
  client = cluster.client;
});

after(async () => {
  await cluster.stop();
});

const FAST: ControllerManagerCommonOptions = {
  leaderElection: { leaseDurationSeconds: 2, renewDeadlineSeconds: 1, retryPeriodSeconds: 0.2 },
  namespace: { maxPollMs: 500 },
};

async function gone(res: ResourceDescriptor, ns: string | undefined, name: string): Promise<boolean> {
  try {
    await client.get(res, ns, name);
    return false;
  } catch (err) {
    if (err instanceof ApiError && err.code === 404) return true;
    throw err;
  }
}

const holder = async () => (await client.get<any>(LEASES, LEASE_NAMESPACE, LEASE_NAME)).spec?.holderIdentity;

/** Owner + dependent config maps in a fresh namespace; checks GC and namespace deletion work. */
async function exerciseControllers(ns: string): Promise<void> {
  await client.create(NAMESPACES, undefined, { metadata: { name: ns } });
  const owner = await client.create<any>(CONFIGMAPS, ns, { metadata: { name: 'owner' } });
  await client.create(CONFIGMAPS, ns, {
    metadata: { name: 'dependent', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid }] },
  });
  await client.create(CONFIGMAPS, ns, { metadata: { name: 'other' } });
  await client.delete(CONFIGMAPS, ns, 'owner');
  await eventually(() => gone(CONFIGMAPS, ns, 'dependent'), 'garbage collector deleted the dependent');
  assert.equal(await gone(CONFIGMAPS, ns, 'other'), false);
  await client.delete(NAMESPACES, undefined, ns);
  await eventually(() => gone(NAMESPACES, undefined, ns), 'namespace controller removed the namespace');
  assert.equal(await gone(CONFIGMAPS, ns, 'other'), true);
}

test('the manager runs every controller while it holds the lease; a standby takes over when it stops', async () => {
  const acA = new AbortController();
  const a = startControllerManager(cluster.server.kubeconfigPath, acA.signal, { ...FAST, identity: 'manager-a' });
  await eventually(async () => a.isLeader() && (await holder()) === 'manager-a', 'manager-a leads');
  assert.deepEqual(a.controllers.length, Object.keys(CONTROLLERS).length);
  await exerciseControllers('mgr-1');

  const acB = new AbortController();
  const b = new ControllerManager({ ...FAST, client: cluster.newClient(), identity: 'manager-b' });
  const bDone = b.start(acB.signal);
  assert.equal(await holder(), 'manager-a', 'the lease stays with its holder');

  acA.abort();
  await a.stopped();
  assert.equal(a.controllers.length, 0, 'a stopped manager runs no controllers');
  assert.equal(a.isLeader(), false);

  await eventually(async () => b.isLeader() && (await holder()) === 'manager-b', 'manager-b takes over');
  await exerciseControllers('mgr-2');

  acB.abort();
  await bDone;
  assert.equal(b.isLeader(), false);
});

test('without leader election the controllers start at once', async () => {
  const ac = new AbortController();
  const m = new ControllerManager({ client: cluster.newClient(), leaderElection: false, controllers: ['namespace'], namespace: { maxPollMs: 500 } });
  const done = m.start(ac.signal);
  await eventually(() => m.controllers.length === 1, 'namespace controller running');
  await client.create(NAMESPACES, undefined, { metadata: { name: 'mgr-3' } });
  await client.delete(NAMESPACES, undefined, 'mgr-3');
  await eventually(() => gone(NAMESPACES, undefined, 'mgr-3'), 'namespace removed');
  ac.abort();
  await done;
});

test('unknown controller names and missing connection settings are refused', () => {
  assert.throws(() => new ControllerManager({ client, controllers: ['nope'] }), /unknown controller "nope"/);
  assert.throws(() => new ControllerManager({} as any), /kubeconfigPath or a client/);
});
