import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type RestClient } from '../../client/index.js';
import { eventually } from '../../client/testing.js';
import { NAMESPACES, SERVICEACCOUNTS, ServiceAccountsController } from './serviceaccount-controller.js';
import { controllerTestBed } from '../testing.js';

const bed = controllerTestBed((c) => new ServiceAccountsController(c));

async function exists(ns: string, name: string): Promise<boolean> {
  try {
    await bed.client.get(SERVICEACCOUNTS, ns, name);
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
  await bed.client.create(NAMESPACES, undefined, { metadata: { name: 'sa-new' } });
  await eventually(() => exists('sa-new', 'default'), 'sa-new/default');
  const first = await bed.client.get<any>(SERVICEACCOUNTS, 'sa-new', 'default');
  await bed.client.delete(SERVICEACCOUNTS, 'sa-new', 'default');
  const again = await eventually(async () => {
    try {
      const sa = await bed.client.get<any>(SERVICEACCOUNTS, 'sa-new', 'default');
      return sa.metadata.uid !== first.metadata.uid ? sa : undefined;
    } catch {
      return undefined;
    }
  }, 'default service account recreated');
  assert.equal(again.metadata.name, 'default');
});

test('missing or terminating namespaces get none', async () => {
  await bed.controller.reconcile('does-not-exist');
  assert.equal(await exists('does-not-exist', 'default'), false);
  // No namespace controller runs here: the deleted namespace stays Terminating.
  await bed.client.create(NAMESPACES, undefined, { metadata: { name: 'sa-term' } });
  await eventually(() => exists('sa-term', 'default'), 'sa-term/default');
  await bed.client.delete(NAMESPACES, undefined, 'sa-term');
  await eventually(() => bed.controller.namespaceInformer.get(undefined, 'sa-term')?.status?.phase === 'Terminating', 'namespace terminating');
  await bed.client.delete(SERVICEACCOUNTS, 'sa-term', 'default');
  await eventually(() => !bed.controller.serviceAccountInformer.get('sa-term', 'default'), 'deletion seen');
  await bed.controller.reconcile('sa-term');
  assert.equal(await exists('sa-term', 'default'), false);
});
