import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { BUILTIN_RESOURCES, type ResourceInfo } from '../api/resources.js';
import { builtinSchemas } from '../api/schemas.js';
import { REF_PREFIX, type SchemaMap } from '../api/schema-types.js';
import { OpenAPIV3, gvDocPath } from './openapi.js';

const S = builtinSchemas();
const PATCH_TYPES = ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'];

function fresh(resources: () => ResourceInfo[] = () => BUILTIN_RESOURCES, schemas: () => SchemaMap = () => S) {
  return new OpenAPIV3(resources, schemas);
}

/** PATCH operations of a document whose GVK extension matches (what kubectl looks for). */
function patchOpsFor(doc: any, group: string, version: string, kind: string): any[] {
  const out: any[] = [];
  for (const item of Object.values<any>(doc.paths)) {
    const g = item.patch?.['x-kubernetes-group-version-kind'];
    if (g && g.group === group && g.version === version && g.kind === kind) out.push(item.patch);
  }
  return out;
}

test('root lists every group version with a hash URL', () => {
  const o = fresh();
  const root = o.root();
  assert.deepEqual(Object.keys(root.paths).sort(), [...new Set(BUILTIN_RESOURCES.map((r) => gvDocPath(r.group, r.version)))].sort());
  for (const [p, v] of Object.entries(root.paths)) {
    const d = o.groupVersion(p)!;
    const hash = createHash('sha512').update(d.body).digest('hex').toUpperCase();
    assert.equal(v.serverRelativeURL, `/openapi/v3/${p}?hash=${hash}`);
    assert.match(hash, /^[0-9A-F]{128}$/);
    assert.equal(d.etag, `"${hash}"`);
    assert.equal(d.hash, hash);
  }
  assert.equal(o.groupVersion('apis/nope/v1'), undefined);
  assert.equal(o.groupVersion('/apis/apps/v1/')?.body, o.groupVersion('apis/apps/v1')?.body);
});

test('document shape', () => {
  const doc = fresh().document('apis/apps/v1');
  assert.equal(doc.openapi, '3.0.0');
  assert.deepEqual(doc.info, { title: 'Kubernetes', version: 'v1.32.0' });
  const paths = Object.keys(doc.paths);
  for (const p of [
    '/apis/apps/v1/', '/apis/apps/v1/deployments', '/apis/apps/v1/namespaces/{namespace}/deployments',
    '/apis/apps/v1/namespaces/{namespace}/deployments/{name}', '/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status',
    '/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale', '/apis/apps/v1/watch/namespaces/{namespace}/deployments',
  ]) assert.ok(paths.includes(p), p);
  const coll = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments'];
  assert.deepEqual(Object.keys(coll).sort(), ['delete', 'get', 'parameters', 'post']);
  const listParams = coll.get.parameters.map((p: any) => p.name);
  for (const n of ['labelSelector', 'fieldSelector', 'limit', 'continue', 'resourceVersion', 'watch', 'allowWatchBookmarks', 'timeoutSeconds']) assert.ok(listParams.includes(n), n);
  assert.equal(coll.get['x-kubernetes-action'], 'list');
  assert.deepEqual(coll.get['x-kubernetes-group-version-kind'], { group: 'apps', kind: 'Deployment', version: 'v1' });
  assert.equal(coll.get.responses['200'].content['application/json'].schema.$ref, `${REF_PREFIX}io.k8s.api.apps.v1.DeploymentList`);
  assert.deepEqual(coll.post.parameters.map((p: any) => p.name), ['dryRun', 'fieldManager', 'fieldValidation']);
  assert.equal(coll.post['x-kubernetes-action'], 'post');
  assert.equal(coll.delete['x-kubernetes-action'], 'deletecollection');
  assert.equal(coll.get.operationId, 'listAppsV1NamespacedDeployment');
  const item = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'];
  assert.deepEqual(Object.keys(item).sort(), ['delete', 'get', 'parameters', 'patch', 'put']);
  assert.deepEqual(item.parameters.map((p: any) => [p.name, p.in]), [['name', 'path'], ['namespace', 'path'], ['pretty', 'query']]);
  assert.equal(item.get.operationId, 'readAppsV1NamespacedDeployment');
  assert.equal(item.put['x-kubernetes-action'], 'put');
  assert.equal(item.delete['x-kubernetes-action'], 'delete');
  // Every operation carries the action and GVK extensions.
  for (const [p, it] of Object.entries<any>(doc.paths)) {
    if (p === '/apis/apps/v1/') continue;
    for (const [m, opn] of Object.entries<any>(it)) {
      if (m === 'parameters') continue;
      assert.ok(opn['x-kubernetes-action'], `${m} ${p} action`);
      assert.ok(opn['x-kubernetes-group-version-kind'], `${m} ${p} gvk`);
    }
  }
});

test('PATCH operations: GVK, fieldValidation and the four patch media types', () => {
  const o = fresh();
  for (const r of BUILTIN_RESOURCES.filter((x) => x.verbs.includes('patch'))) {
    const doc = o.document(gvDocPath(r.group, r.version));
    const ops = patchOpsFor(doc, r.group, r.version, r.kind);
    assert.ok(ops.length >= 1, `patch op for ${r.kind}`);
    for (const p of ops) {
      assert.deepEqual(p.parameters.map((x: any) => x.name), ['dryRun', 'fieldManager', 'fieldValidation', 'force']);
      assert.ok(p.parameters.every((x: any) => x.in === 'query'));
      assert.deepEqual(Object.keys(p.requestBody.content), PATCH_TYPES);
      assert.equal(p['x-kubernetes-action'], 'patch');
    }
  }
});

test('api/v1 carries the Namespace PATCH operation with fieldValidation', () => {
  const doc = fresh().document('api/v1');
  const item = doc.paths['/api/v1/namespaces/{name}'];
  assert.deepEqual(item.patch['x-kubernetes-group-version-kind'], { group: '', kind: 'Namespace', version: 'v1' });
  assert.ok(item.patch.parameters.some((p: any) => p.name === 'fieldValidation' && p.in === 'query'));
  assert.ok(item.patch.requestBody.content['application/strategic-merge-patch+json']);
  assert.equal(item.patch.operationId, 'patchCoreV1Namespace');
  // Namespaced resources live under /namespaces/{namespace}/, with an all-namespaces list.
  assert.ok(doc.paths['/api/v1/namespaces/{namespace}/pods/{name}']);
  assert.equal(doc.paths['/api/v1/pods'].get.operationId, 'listCoreV1PodForAllNamespaces');
  assert.equal(doc.paths['/api/v1/namespaces/{name}/finalize'].put['x-kubernetes-action'], 'put');
});

test('subresources: status, scale, eviction, log, exec', () => {
  const o = fresh();
  const apps = o.document('apis/apps/v1');
  const scale = apps.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale'];
  assert.deepEqual(scale.patch['x-kubernetes-group-version-kind'], { group: 'autoscaling', kind: 'Scale', version: 'v1' });
  assert.equal(scale.get.responses['200'].content['application/json'].schema.$ref, `${REF_PREFIX}io.k8s.api.autoscaling.v1.Scale`);
  assert.ok(apps.components.schemas['io.k8s.api.autoscaling.v1.Scale']);
  const status = apps.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status'];
  assert.deepEqual(Object.keys(status).sort(), ['get', 'parameters', 'patch', 'put']);
  assert.deepEqual(status.patch['x-kubernetes-group-version-kind'], { group: 'apps', kind: 'Deployment', version: 'v1' });
  assert.equal(status.patch.operationId, 'patchAppsV1NamespacedDeploymentStatus');

  const core = o.document('api/v1');
  const ev = core.paths['/api/v1/namespaces/{namespace}/pods/{name}/eviction'];
  assert.deepEqual(ev.post['x-kubernetes-group-version-kind'], { group: 'policy', kind: 'Eviction', version: 'v1' });
  assert.ok(core.components.schemas['io.k8s.api.policy.v1.Eviction']);
  const log = core.paths['/api/v1/namespaces/{namespace}/pods/{name}/log'];
  assert.ok(log.parameters.some((p: any) => p.name === 'follow'));
  assert.ok(log.get.responses['200'].content['text/plain']);
  const exec = core.paths['/api/v1/namespaces/{namespace}/pods/{name}/exec'];
  assert.equal(exec.get['x-kubernetes-action'], 'connect');
  assert.deepEqual(exec.post['x-kubernetes-group-version-kind'], { group: '', kind: 'PodExecOptions', version: 'v1' });
  assert.ok(core.paths['/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token'].post);
  assert.ok(core.components.schemas['io.k8s.api.authentication.v1.TokenRequest']);
});

test('components: every reference resolves, kinds carry GVKs, v3 reference convention', () => {
  const o = fresh();
  for (const p of Object.keys(o.root().paths)) {
    const doc = o.document(p);
    const schemas = doc.components.schemas;
    const refs: string[] = [];
    const walk = (v: unknown) => {
      if (Array.isArray(v)) { v.forEach(walk); return; }
      if (!v || typeof v !== 'object') return;
      const x = v as Record<string, unknown>;
      if (typeof x.$ref === 'string') refs.push(x.$ref);
      Object.values(x).forEach(walk);
    };
    walk(doc);
    for (const r of refs) assert.ok(schemas[r.slice(REF_PREFIX.length)], `${p}: ${r}`);
    for (const m of ['Status', 'DeleteOptions', 'ListMeta', 'ObjectMeta', 'Patch', 'WatchEvent', 'StatusDetails']) {
      assert.ok(schemas[`io.k8s.apimachinery.pkg.apis.meta.v1.${m}`], `${p}: ${m}`);
    }
  }
  const core = o.document('api/v1').components.schemas;
  assert.deepEqual(core['io.k8s.api.core.v1.Pod']['x-kubernetes-group-version-kind'], [{ group: '', kind: 'Pod', version: 'v1' }]);
  assert.deepEqual(core['io.k8s.api.core.v1.Pod'].properties.spec.allOf, [{ $ref: `${REF_PREFIX}io.k8s.api.core.v1.PodSpec` }]);
  assert.equal(core['io.k8s.api.core.v1.PodSpec'].properties.containers['x-kubernetes-patch-merge-key'], 'name');
  assert.ok(core['io.k8s.api.core.v1.PodSpec'].properties.containers.description);
  assert.ok(core['io.k8s.api.core.v1.PodList']);
  // Only what the group version needs.
  assert.equal(core['io.k8s.api.apps.v1.Deployment'], undefined);
});

test('documents are cached and rebuilt when resources or schemas change', () => {
  let list = BUILTIN_RESOURCES.filter((r) => r.group === 'apps');
  let schemas: SchemaMap = S;
  const o = fresh(() => list, () => schemas);
  const a = o.groupVersion('apis/apps/v1')!;
  assert.equal(o.groupVersion('apis/apps/v1'), a, 'cached');
  list = list.filter((r) => r.kind !== 'StatefulSet');
  const b = o.groupVersion('apis/apps/v1')!;
  assert.notEqual(b.hash, a.hash);
  assert.ok(!b.body.includes('/statefulsets'));
  schemas = { ...S };
  const c = o.groupVersion('apis/apps/v1')!;
  assert.notEqual(c, b, 'new schema map: rebuilt');
  assert.equal(c.hash, b.hash, 'same content: same hash');
  o.invalidate();
  assert.notEqual(o.groupVersion('apis/apps/v1'), c);
});

test('custom resources: no strategic merge patch, fallback schemas, GVKs added', () => {
  const widget: ResourceInfo = {
    group: 'example.com', version: 'v1', kind: 'Widget', listKind: 'WidgetList', plural: 'widgets', singular: 'widget',
    namespaced: true, shortNames: [], categories: [], verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    subresources: [{ name: 'status', group: 'example.com', version: 'v1', kind: 'Widget', verbs: ['get', 'patch', 'update'] }],
    storageResource: 'widgets', storageGroup: 'example.com', schemaName: 'com.example.v1.Widget',
  };
  const gadget: ResourceInfo = { ...widget, kind: 'Gadget', listKind: 'GadgetList', plural: 'gadgets', singular: 'gadget', schemaName: 'com.example.v1.Gadget', subresources: [] };
  const schemas: SchemaMap = { ...S, 'com.example.v1.Widget': { type: 'object', properties: { spec: { type: 'object', description: 'the spec' } } } };
  const o = fresh(() => [...BUILTIN_RESOURCES, widget, gadget], () => schemas);
  assert.ok(o.root().paths['apis/example.com/v1']);
  const doc = o.document('apis/example.com/v1');
  const patch = doc.paths['/apis/example.com/v1/namespaces/{namespace}/widgets/{name}'].patch;
  assert.deepEqual(Object.keys(patch.requestBody.content), ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json']);
  assert.ok(patch.parameters.some((p: any) => p.name === 'fieldValidation'));
  assert.equal(patch.operationId, 'patchExampleComV1NamespacedWidget');
  const cs = doc.components.schemas;
  assert.deepEqual(cs['com.example.v1.Widget']['x-kubernetes-group-version-kind'], [{ group: 'example.com', kind: 'Widget', version: 'v1' }]);
  assert.deepEqual(cs['com.example.v1.WidgetList']['x-kubernetes-group-version-kind'], [{ group: 'example.com', kind: 'WidgetList', version: 'v1' }]);
  assert.equal(cs['com.example.v1.WidgetList'].properties.items.items.$ref, `${REF_PREFIX}com.example.v1.Widget`);
  assert.equal(cs['com.example.v1.Gadget']['x-kubernetes-preserve-unknown-fields'], true);
  // The input schema map is not modified.
  assert.equal(schemas['com.example.v1.Widget']['x-kubernetes-group-version-kind'], undefined);
  // Built-in documents keep strategic merge patch.
  assert.ok(o.document('api/v1').paths['/api/v1/namespaces/{name}'].patch.requestBody.content['application/strategic-merge-patch+json']);
});

test('building the core document is fast', () => {
  const o = fresh();
  const t0 = performance.now();
  const d = o.groupVersion('api/v1')!;
  const ms = performance.now() - t0;
  assert.ok(d.body.length > 100_000);
  assert.ok(ms < 1000, `api/v1 built in ${ms.toFixed(1)} ms`);
});
