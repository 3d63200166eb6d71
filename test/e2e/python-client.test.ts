/**
 * The official Python client (Debian's python3-kubernetes, run with /usr/bin/python3) against a
 * real `keelson server`: it loads the kubeconfig keelson wrote, lists namespaces, creates and
 * patches a ConfigMap and a Deployment (strategic merge, merge, JSON patch), and watches while
 * changes are made. test/e2e/python/client_flows.py prints what it saw as JSON.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Cluster, ROOT } from './harness.js';
import { pythonWithKubernetes, run, toolError } from './tools.js';

const PY = pythonWithKubernetes();
const skip = !PY && `the Python kubernetes client is unavailable: ${toolError}`;
const SCRIPT = join(ROOT, 'test', 'e2e', 'python', 'client_flows.py');

describe('python kubernetes client against keelson server', { skip }, () => {
  let c: Cluster;
  before(async () => { c = await Cluster.start(); });
  after(async () => { await c?.stop(); });

  it('lists, creates, patches and watches', async () => {
    const r = await run(PY!, [SCRIPT, c.kubeconfig], { env: { ...process.env, HOME: c.home, PYTHONDONTWRITEBYTECODE: '1' }, timeoutMs: 120000 });
    assert.equal(r.code, 0, `client_flows.py failed (${r.code}):\n${r.stderr}\n${r.stdout}`);
    const out = JSON.parse(r.stdout);

    assert.match(out.version, /^v1\.32\./);
    for (const ns of ['default', 'kube-node-lease', 'kube-public', 'kube-system']) assert.ok(out.namespaces.includes(ns), out.namespaces.join(','));

    assert.equal(out.cm_created.name, 'py-cm');
    assert.deepEqual(out.cm_created.data, { a: '1' });
    assert.equal(out.cm_created.uid, true);
    assert.deepEqual(out.cm_smp, { a: '1', b: '2' });
    assert.deepEqual(out.cm_merge, { data: { b: '2', c: '3' }, labels: { from: 'python', merged: 'yes' } });
    assert.deepEqual(out.cm_json, { b: 'two', c: '3' });
    assert.deepEqual(out.cm_stale_replace, { status: 409, reason: 'Conflict' });

    assert.deepEqual(out.dep_created, { name: 'py-dep', generation: 1, strategy: 'RollingUpdate', image: 'nginx:1.25' });
    // Strategic merge: the container is merged by name, its env kept.
    assert.deepEqual(out.dep_smp, { replicas: 3, generation: 2, containers: 1, image: 'nginx:1.26', env: [{ name: 'KEEP', value: 'me' }] });
    // Merge patch: the containers list is replaced whole, so env is gone.
    assert.deepEqual(out.dep_merge, { labels: { app: 'py-dep', patched: 'merge' }, image: 'nginx:1.27', env: [] });
    assert.deepEqual(out.dep_scale, { kind: 'Scale', replicas: 3, selector: 'app=py-dep' });
    assert.deepEqual(out.dep_list, ['py-dep']);

    assert.deepEqual(out.watch_error, []);
    assert.equal(out.watch_finished, true);
    const watched = out.watch_events.filter((e: any) => e.name === 'py-watched').map((e: any) => [e.type, e.data?.n]);
    assert.deepEqual(watched, [['ADDED', '1'], ['MODIFIED', '2'], ['DELETED', '2']], JSON.stringify(out.watch_events));
    const cmEvents = out.watch_events.filter((e: any) => e.name === 'py-cm').map((e: any) => e.type);
    assert.deepEqual(cmEvents, ['ADDED', 'MODIFIED', 'MODIFIED', 'MODIFIED'], JSON.stringify(out.watch_events));
    const rvs = out.watch_events.map((e: any) => BigInt(e.rv));
    for (let i = 1; i < rvs.length; i++) assert.ok(rvs[i] > rvs[i - 1], `resourceVersions increase: ${JSON.stringify(out.watch_events)}`);

    assert.deepEqual(out.missing, { status: 404, reason: 'NotFound', kind: 'Status' });
    assert.deepEqual(out.after_delete, []);
  });
});
