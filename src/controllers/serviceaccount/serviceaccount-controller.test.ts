import { test, before, after } from 'node:test';
import { setMaxListeners } from 'node:events';
import assert from 'node:assert/strict';
import { type RestClient } from '../../client/index.js';
import { eventually, startTestCluster, type TestCluster } from '../../client/testing.js';
import { NAMESPACES, SERVICEACCOUNTS, ServiceAccountsController } from './serviceaccount-controller.js';

let cluster: TestCluster;
let client: RestClient;
let sac: ServiceAccountsController;
const ac = new AbortController();
setMaxListeners(100, ac.signal);

before(async () => {
  cluster = await startTestCluster();
  client = cluster.client;
  sac = new ServiceAccountsController(cluster.newClient());
  sac.start(ac.signal);
  assert.ok(await sac.waitForSync(AbortSignal.timeout(10_000)));
});

after(async () => {
  ac.abort();
  await sac.stopped();
  await cluster.stop();
});

async function exists(ns: string, name: string): Promise<boolean> {
  try {
    await client.get(SERVICEACCOUNTS, ns, name);
    return true;
  } catch {
    return false;
  }
}

test('existing namespaces get a default service account', async () => {
  await eventually(() => exists('default', 'default'), 'default/default');
  await eventually(() => exists('kube-system', 'default'), 'kube-system/default');
});

test('a new namespace gets a default service account, recreated when deleted', async () => {
  await client.create(NAMESPACES, undefined, { metadata: { name: 'sa-new' } });
  await eventually(() => exists('sa-new', 'default'), 'sa-new/default');
  const first = await client.get<any>(SERVICEACCOUNTS, 'sa-new', 'default');
  await client.delete(SERVICEACCOUNTS, 'sa-new', 'default');
  const again = await eventually(async () => {
    try {
      const sa = await client.get<any>(SERVICEACCOUNTS, 'sa-new', 'default');
      return sa.metadata.uid !== first.metadata.uid ? sa : undefined;
    } catch {
      return undefined;
    }
  }, 'default service account recreated');
  assert.equal(again.metadata.name, 'default');
});

test('missing or terminating namespaces get none', async () => {
  await sac.reconcile('does-not-exist');
  assert.equal(await exists('does-not-exist', 'default'), false);
  // No namespace controller runs here: the deleted namespace stays Terminating.
  await client.create(NAMESPACES, undefined, { metadata: { name: 'sa-term' } });
  await eventually(() => exists('sa-term', 'default'), 'sa-term/default');
  await client.delete(NAMESPACES, undefined, 'sa-term');
  await eventually(() => sac.namespaceInformer.get(undefined, 'sa-term')?.status?.phase === 'Terminating', 'namespace terminating');
  await client.delete(SERVICEACCOUNTS, 'sa-term', 'default');
  await eventually(() => !sac.serviceAccountInformer.get('sa-term', 'default'), 'deletion seen');
  await sac.reconcile('sa-term');
  assert.equal(await exists('sa-term', 'default'), false);
});
