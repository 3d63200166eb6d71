import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, type RestClient } from '../client/index.js';
import { startTestCluster, type TestCluster } from '../client/testing.js';
import { discoverResources, parseAPIVersion, preferredResources, groupResourceString } from './discovery.js';

let cluster: TestCluster;

before(async () => { cluster = await startTestCluster(); });
after(async () => { await cluster.stop(); });

test('aggregated discovery from the API server lists every resource with scope, kind and verbs', async () => {
  const { resources, failed } = await discoverResources(cluster.client);
  assert.equal(failed.size, 0);
  const find = (group: string, plural: string) => resources.find((r) => r.group === group && r.plural === plural);
  assert.deepEqual(find('', 'configmaps'), {
    group: '', version: 'v1', plural: 'configmaps', namespaced: true, kind: 'ConfigMap',
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  });
  assert.equal(find('', 'namespaces')?.namespaced, false);
  assert.equal(find('apps', 'deployments')?.kind, 'Deployment');
  assert.ok(!resources.some((r) => r.plural.includes('/')), 'no subresources');
});

/** A stand-in for RestClient serving canned legacy discovery documents. */
function legacyServer(docs: Record<string, unknown>): RestClient {
  const answer = (path: string) => {
    if (!(path in docs)) throw new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 503, reason: 'ServiceUnavailable', message: `${path} unavailable` });
    return docs[path];
  };
  return {
    async request(_m: string, path: string) {
      // No aggregated discovery: the server answers with the legacy documents.
      try {
        return { status: 200, headers: {}, body: Buffer.from(JSON.stringify(answer(path))) };
      } catch (err) {
        return { status: (err as ApiError).code, headers: {}, body: Buffer.from(JSON.stringify((err as ApiError).status)) };
      }
    },
    async requestJSON(_m: string, path: string) { return answer(path); },
  } as unknown as RestClient;
}

test('legacy discovery: preferred version first, subresources skipped, failing group versions reported', async () => {
  const client = legacyServer({
    '/api': { kind: 'APIVersions', versions: ['v1'] },
    '/api/v1': { kind: 'APIResourceList', groupVersion: 'v1', resources: [
      { name: 'pods', namespaced: true, kind: 'Pod', verbs: ['get', 'list'] },
      { name: 'pods/status', namespaced: true, kind: 'Pod', verbs: ['get'] },
    ] },
    '/apis': { kind: 'APIGroupList', groups: [
      { name: 'x.io', versions: [{ groupVersion: 'x.io/v1', version: 'v1' }, { groupVersion: 'x.io/v2', version: 'v2' }], preferredVersion: { groupVersion: 'x.io/v2', version: 'v2' } },
      { name: 'broken.io', versions: [{ groupVersion: 'broken.io/v1', version: 'v1' }], preferredVersion: { groupVersion: 'broken.io/v1', version: 'v1' } },
    ] },
    '/apis/x.io/v1': { kind: 'APIResourceList', resources: [{ name: 'widgets', namespaced: true, kind: 'Widget', verbs: ['list'] }, { name: 'old', namespaced: false, kind: 'Old', verbs: ['list'] }] },
    '/apis/x.io/v2': { kind: 'APIResourceList', resources: [{ name: 'widgets', namespaced: true, kind: 'Widget', verbs: ['list', 'delete'] }] },
  });
  const { resources, failed } = await discoverResources(client);
  assert.deepEqual(resources.map((r) => `${r.group}/${r.version}/${r.plural}`), ['/v1/pods', 'x.io/v2/widgets', 'x.io/v1/widgets', 'x.io/v1/old']);
  assert.deepEqual([...failed.keys()], ['broken.io/v1']);
  assert.deepEqual(preferredResources(resources).map((r) => `${r.group}/${r.version}/${r.plural}`), ['/v1/pods', 'x.io/v2/widgets', 'x.io/v1/old']);
});

test('helpers', () => {
  assert.deepEqual(parseAPIVersion('v1'), { group: '', version: 'v1' });
  assert.deepEqual(parseAPIVersion('apps/v1'), { group: 'apps', version: 'v1' });
  assert.equal(groupResourceString({ group: '', plural: 'pods' }), 'pods');
  assert.equal(groupResourceString({ group: 'apps', plural: 'deployments' }), 'deployments.apps');
});
