/**
 * @kubernetes/client-node's informer against keelson (issue 2): it lists, watches, survives its
 * resourceVersion falling out of the watch history (410 Expired → relist) and sees the changes
 * of an object in order, each once.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { Cluster, raw, waitFor } from './harness.js';

describe('client-node informer', () => {
  let c: Cluster | undefined;
  after(async () => { await c?.stop(); });

  it('lists, watches, relists after 410 and sees each change once in order', async () => {
    // A short watch history and short server-side watch timeouts make the informer fall behind.
    c = await Cluster.start(['--watch-history-size', '40', '--watch-timeout-seconds', '1-2']);
    const cluster = c;
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    let listCalls = 0;
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/default/configmaps', () => {
      listCalls++;
      return core.listNamespacedConfigMap({ namespace: 'default' });
    });
    const seen: { type: string; name: string; n?: string; rv: string }[] = [];
    const record = (type: string) => (o: k8s.V1ConfigMap) => seen.push({ type, name: o.metadata!.name!, n: o.data?.n, rv: o.metadata!.resourceVersion! });
    informer.on('add', record('add'));
    informer.on('update', record('update'));
    informer.on('delete', record('delete'));
    let stopped = false;
    informer.on('error', () => { if (!stopped) setTimeout(() => { if (!stopped) void informer.start(); }, 200); });
    await informer.start();
    try {

    const cm = (name: string, n: number) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { n: String(n) } });
    const put = async (n: number) => {
      const cur = (await raw(cluster, 'GET', '/api/v1/namespaces/default/configmaps/tracked')).json;
      const r = await raw(cluster, 'PUT', '/api/v1/namespaces/default/configmaps/tracked', JSON.stringify({ ...cur, data: { n: String(n) } }));
      assert.equal(r.status, 200, r.body);
    };
    assert.equal((await raw(cluster, 'POST', '/api/v1/namespaces/default/configmaps', cm('tracked', 0))).status, 201);
    for (let n = 1; n <= 10; n++) await put(n);
    await waitFor('informer to see n=10', () => informer.get('tracked', 'default')?.data?.n === '10');

    // Unrelated writes push the informer's resourceVersion out of the history; its next re-watch gets 410.
    for (let i = 0; i < 120; i++) {
      const r = await raw(cluster, 'POST', '/api/v1/namespaces/default/secrets', JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: `s${i}` } }));
      assert.equal(r.status, 201);
    }
    await waitFor('a relist after 410', () => listCalls >= 2, 20000);

    for (let n = 11; n <= 15; n++) await put(n);
    assert.equal((await raw(cluster, 'POST', '/api/v1/namespaces/default/configmaps', cm('other', 1))).status, 201);
    assert.equal((await raw(cluster, 'DELETE', '/api/v1/namespaces/default/configmaps/other')).status, 200);
    await waitFor('informer to see n=15 and other gone', () => informer.get('tracked', 'default')?.data?.n === '15' && !informer.get('other', 'default') && seen.some((s) => s.type === 'delete' && s.name === 'other'));
    } finally {
      stopped = true;
      await informer.stop();
    }

    const tracked = seen.filter((s) => s.name === 'tracked');
    const ns = tracked.map((s) => Number(s.n));
    for (let i = 1; i < ns.length; i++) assert.ok(ns[i] > ns[i - 1], `changes in order, each once: ${ns.join(',')}`);
    const rvs = tracked.map((s) => Number(s.rv));
    for (let i = 1; i < rvs.length; i++) assert.ok(rvs[i] > rvs[i - 1], `resourceVersions increase: ${rvs.join(',')}`);
    assert.equal(ns[ns.length - 1], 15);
    // Before the relist every change was seen live.
    assert.deepEqual(ns.filter((x) => x <= 10), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});
