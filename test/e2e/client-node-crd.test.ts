/**
 * @kubernetes/client-node against keelson (issue 3): CRUD on built-in kinds, a watch, and an
 * informer on a custom resource of a CRD created through the client.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { Cluster, waitFor } from './harness.js';

describe('client-node: CRUD, watch, CRD informer', () => {
  let c: Cluster | undefined;
  after(async () => { await c?.stop(); });

  it('works end to end', async () => {
    c = await Cluster.start();
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(c.kubeconfig);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);

    // CRUD on built-in kinds.
    const cm = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'cn' }, data: { a: '1' } } });
    assert.equal(cm.metadata?.name, 'cn');
    const read = await core.readNamespacedConfigMap({ name: 'cn', namespace: 'default' });
    assert.equal(read.data?.a, '1');
    read.data = { a: '2' };
    const replaced = await core.replaceNamespacedConfigMap({ name: 'cn', namespace: 'default', body: read });
    assert.equal(replaced.data?.a, '2');
    const dep = await apps.createNamespacedDeployment({ namespace: 'default', body: {
      metadata: { name: 'cnd' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'cnd' } }, template: { metadata: { labels: { app: 'cnd' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
    } });
    assert.equal(dep.spec?.template.spec?.containers[0].imagePullPolicy, 'Always');
    const list = await core.listNamespacedConfigMap({ namespace: 'default', labelSelector: '' });
    assert.ok(list.items.some((i) => i.metadata?.name === 'cn'));
    await assert.rejects(core.readNamespacedConfigMap({ name: 'absent', namespace: 'default' }), (e: any) => e.code === 404);

    // A watch sees a change made while it runs.
    const events: string[] = [];
    const watch = new k8s.Watch(kc);
    const req = await watch.watch('/api/v1/namespaces/default/configmaps', { resourceVersion: replaced.metadata?.resourceVersion },
      (type: string, obj: any) => { events.push(`${type} ${obj.metadata.name}`); }, () => {});
    await core.deleteNamespacedConfigMap({ name: 'cn', namespace: 'default' });
    await waitFor('the DELETED event', () => events.includes('DELETED cn'));
    req.abort();

    // A CRD created through the client, then an informer on its custom resources.
    await ext.createCustomResourceDefinition({ body: {
      metadata: { name: 'gadgets.example.keelson.dev' },
      spec: {
        group: 'example.keelson.dev', scope: 'Namespaced',
        names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer', _default: 3 } } } } } } }],
      },
    } });
    const informer = k8s.makeInformer<k8s.KubernetesObject & { spec?: { size?: number } }>(kc, '/apis/example.keelson.dev/v1/namespaces/default/gadgets',
      () => custom.listNamespacedCustomObject({ group: 'example.keelson.dev', version: 'v1', namespace: 'default', plural: 'gadgets' }) as any);
    const seen: string[] = [];
    informer.on('add', (o) => seen.push(`add ${o.metadata?.name} ${o.spec?.size}`));
    informer.on('update', (o) => seen.push(`update ${o.metadata?.name} ${o.spec?.size}`));
    informer.on('delete', (o) => seen.push(`delete ${o.metadata?.name}`));
    let stopped = false;
    informer.on('error', () => { if (!stopped) setTimeout(() => { if (!stopped) void informer.start(); }, 200); });
    await informer.start();
    try {
      await custom.createNamespacedCustomObject({ group: 'example.keelson.dev', version: 'v1', namespace: 'default', plural: 'gadgets', body: { apiVersion: 'example.keelson.dev/v1', kind: 'Gadget', metadata: { name: 'g1' }, spec: {} } });
      await waitFor('the add with the defaulted size', () => seen.includes('add g1 3'));
      await custom.patchNamespacedCustomObject({ group: 'example.keelson.dev', version: 'v1', namespace: 'default', plural: 'gadgets', name: 'g1', body: { spec: { size: 5 } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      await waitFor('the update', () => seen.includes('update g1 5'));
      await custom.deleteNamespacedCustomObject({ group: 'example.keelson.dev', version: 'v1', namespace: 'default', plural: 'gadgets', name: 'g1' });
      await waitFor('the delete', () => seen.includes('delete g1'));
    } finally {
      stopped = true;
      await informer.stop();
    }
  });
});
