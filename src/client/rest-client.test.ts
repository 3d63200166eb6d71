import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import {
  ApiError, RestClient, isAlreadyExists, isConflict, isGone, isNotFound, loadKubeconfig, resourcePath,
  type ResourceDescriptor, type WatchEvent,
} from './rest-client.js';
import { eventually, startTestCluster, type TestCluster } from './testing.js';

const CONFIGMAPS: ResourceDescriptor = { group: '', version: 'v1', plural: 'configmaps', namespaced: true };
const NAMESPACES: ResourceDescriptor = { group: '', version: 'v1', plural: 'namespaces', namespaced: false };
const DEPLOYMENTS: ResourceDescriptor = { group: 'apps', version: 'v1', plural: 'deployments', namespaced: true };

test('resourcePath builds core, group, namespaced, cluster-scoped and subresource paths', () => {
  assert.equal(resourcePath(CONFIGMAPS, 'ns1'), '/api/v1/namespaces/ns1/configmaps');
  assert.equal(resourcePath(CONFIGMAPS), '/api/v1/configmaps');
  assert.equal(resourcePath(DEPLOYMENTS, 'a', 'b', 'scale'), '/apis/apps/v1/namespaces/a/deployments/b/scale');
  assert.equal(resourcePath(NAMESPACES, 'ignored', 'x'), '/api/v1/namespaces/x');
  assert.throws(() => resourcePath(CONFIGMAPS, 'a', ''));
});

// ---- against a tiny fake HTTP/2 server (transport behaviour the real server does not show) ----

describe('transport (fake h2c server)', () => {
  let server: http2.Http2Server;
  let url = '';
  let sessions = 0;
  const seen: Array<{ path: string; auth?: string; method: string }> = [];
  let tooMany = 0;

  before(async () => {
    server = http2.createServer();
    server.on('session', () => { sessions++; });
    server.on('stream', (stream, headers) => {
      const path = String(headers[':path']);
      seen.push({ path, method: String(headers[':method']), auth: headers.authorization as string | undefined });
      if (path === '/goaway') {
        stream.respond({ ':status': 200, 'content-type': 'application/json' });
        stream.end('{"ok":true}');
        // close() sends GOAWAY and ends the session once its streams are done.
        stream.session?.close();
        return;
      }
      if (path === '/ok') {
        stream.respond({ ':status': 200, 'content-type': 'application/json' });
        stream.end('{"ok":true}');
        return;
      }
      if (path === '/busy') {
        if (tooMany++ < 2) {
          stream.respond({ ':status': 429, 'retry-after': '0', 'content-type': 'application/json' });
          stream.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 429, reason: 'TooManyRequests', message: 'slow down' }));
          return;
        }
        stream.respond({ ':status': 200, 'content-type': 'application/json' });
        stream.end('{"served":true}');
        return;
      }
      if (path === '/plain-error') {
        stream.respond({ ':status': 500, 'content-type': 'text/plain' });
        stream.end('boom');
        return;
      }
      if (path.startsWith('/api/v1/namespaces/w/configmaps?') && path.includes('resourceVersion=1')) {
        stream.respond({ ':status': 410, 'content-type': 'application/json' });
        stream.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 410, reason: 'Expired', message: 'too old resource version: 1 (5)' }));
        return;
      }
      if (path.startsWith('/api/v1/namespaces/w/configmaps?')) {
        stream.respond({ ':status': 200, 'content-type': 'application/json' });
        // Lines split across DATA frames in awkward places, a multi-byte character cut in two.
        const a = JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '6' }, data: { k: 'héllo' } } });
        const b = JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '7' } } });
        const bytes = Buffer.from(`${a}\n${b}\n`);
        const cut = bytes.indexOf(Buffer.from('é')) + 1;
        stream.write(bytes.subarray(0, cut));
        setImmediate(() => {
          stream.write(bytes.subarray(cut, cut + 10));
          setImmediate(() => stream.end(bytes.subarray(cut + 10)));
        });
        return;
      }
      if (path.startsWith('/api/v1/namespaces/hang/configmaps?')) {
        stream.respond({ ':status': 200, 'content-type': 'application/json' });
        stream.write(JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'x' } } }) + '\n');
        return; // never ends
      }
      stream.respond({ ':status': 404 });
      stream.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });

  test('sends the bearer token and reuses one session', async () => {
    const c = new RestClient({ server: url, token: 'sekret', qps: Infinity });
    const before = sessions;
    await c.requestJSON('GET', '/ok');
    await c.requestJSON('GET', '/ok');
    assert.equal(sessions - before, 1);
    assert.equal(seen.at(-1)?.auth, 'Bearer sekret');
    c.close();
  });

  test('reconnects after GOAWAY', async () => {
    const c = new RestClient({ server: url, qps: Infinity });
    const before = sessions;
    assert.deepEqual(await c.requestJSON('GET', '/goaway'), { ok: true });
    assert.deepEqual(await c.requestJSON('GET', '/ok'), { ok: true });
    assert.deepEqual(await c.requestJSON('GET', '/ok'), { ok: true });
    assert.equal(sessions - before, 2);
    c.close();
  });

  test('retries 429 with Retry-After', async () => {
    const c = new RestClient({ server: url, qps: Infinity });
    tooMany = 0;
    assert.deepEqual(await c.requestJSON('GET', '/busy'), { served: true });
    assert.equal(tooMany, 3);
    c.close();
  });

  test('a non-Status error body becomes an ApiError with a reason from the code', async () => {
    const c = new RestClient({ server: url, qps: Infinity });
    const err = await c.requestJSON('GET', '/plain-error').then(() => undefined, (e) => e);
    assert.ok(err instanceof ApiError);
    assert.equal(err.code, 500);
    assert.equal(err.reason, 'InternalError');
    assert.equal(err.message, 'boom');
    const raw = await c.request('GET', '/plain-error');
    assert.equal(raw.status, 500, 'request() returns non-2xx answers instead of throwing');
    c.close();
  });

  test('watch parses NDJSON split across frames and resolves at end of stream', async () => {
    const c = new RestClient({ server: url, qps: Infinity });
    const events: WatchEvent[] = [];
    await c.watch(CONFIGMAPS, 'w', { resourceVersion: '5', allowWatchBookmarks: true }, (ev) => { events.push(ev); });
    assert.deepEqual(events.map((e) => e.type), ['ADDED', 'BOOKMARK']);
    assert.equal(events[0]!.object.data.k, 'héllo');
    assert.match(seen.at(-1)!.path, /watch=true/);
    assert.match(seen.at(-1)!.path, /allowWatchBookmarks=true/);
    c.close();
  });

  test('watch refused with 410 rejects with ApiError isGone', async () => {
    const c = new RestClient({ server: url, qps: Infinity });
    const err = await c.watch(CONFIGMAPS, 'w', { resourceVersion: '1' }, () => {}).then(() => undefined, (e) => e);
    assert.ok(isGone(err), String(err));
    assert.equal(err.reason, 'Expired');
    c.close();
  });

  test('aborting a watch resolves it', async () => {
    const c = new RestClient({ server: url, qps: Infinity });
    const ac = new AbortController();
    let got = 0;
    const done = c.watch(CONFIGMAPS, 'hang', {}, () => { got++; ac.abort(); }, ac.signal);
    await done;
    assert.equal(got, 1);
    c.close();
  });

  test('a refused connection rejects (no hang)', async () => {
    const probe = http2.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const c = new RestClient({ server: `http://127.0.0.1:${port}`, qps: Infinity });
    await assert.rejects(c.requestJSON('GET', '/ok'));
    c.close();
  });
});

// ---- against the real API server ---------------------------------------------------------------

describe('against the API server', () => {
  let cluster: TestCluster;
  let c: RestClient;
  before(async () => {
    cluster = await startTestCluster();
    c = cluster.client;
  });
  after(async () => { await cluster?.stop(); });

  test('kubeconfig with certificate data authenticates', async () => {
    const opts = loadKubeconfig(cluster.server.kubeconfigPath);
    assert.equal(opts.server, cluster.server.url);
    assert.ok(opts.ca && opts.cert && opts.key);
    const ns = await c.get(NAMESPACES, undefined, 'default');
    assert.equal(ns.metadata.name, 'default');
  });

  test('bearer token and insecure-skip-tls-verify from a kubeconfig', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kc-'));
    try {
      const path = join(dir, 'config');
      writeFileSync(path, [
        'apiVersion: v1', 'kind: Config', 'current-context: other',
        'clusters:', `- name: c1`, '  cluster:', `    server: ${cluster.server.url}`, '    insecure-skip-tls-verify: true',
        'users:', '- name: u1', '  user:', `    token: ${cluster.server.pki.adminToken}`,
        'contexts:', '- name: other', '  context: {cluster: c1, user: u1, namespace: kube-system}',
      ].join('\n'));
      const tc = RestClient.fromKubeconfig(path);
      assert.equal(tc.namespace, 'kube-system');
      const ns = await tc.get(NAMESPACES, undefined, 'kube-system');
      assert.equal(ns.metadata.name, 'kube-system');
      tc.close();
      // No credentials at all: 401 as an ApiError.
      const anon = new RestClient({ server: cluster.server.url, ca: cluster.server.pki.caCertPem, qps: Infinity });
      const err = await anon.get(NAMESPACES, undefined, 'default').then(() => undefined, (e) => e);
      assert.ok(err instanceof ApiError);
      assert.equal(err.code, 401);
      anon.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('CRUD on a namespaced resource, with Status errors', async () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'crud', namespace: 'default', labels: { app: 'x' } }, data: { a: '1' } };
    const created: any = await c.create(CONFIGMAPS, 'default', cm);
    assert.equal(created.data.a, '1');
    assert.ok(created.metadata.resourceVersion);

    const dup = await c.create(CONFIGMAPS, 'default', cm).then(() => undefined, (e) => e);
    assert.ok(isAlreadyExists(dup), String(dup));
    assert.equal(dup.status.kind, 'Status');

    const dry = await c.create(CONFIGMAPS, 'default', { ...cm, metadata: { ...cm.metadata, name: 'dry' } }, { dryRun: true });
    assert.equal(dry.metadata.name, 'dry');
    assert.ok(isNotFound(await c.get(CONFIGMAPS, 'default', 'dry').catch((e) => e)));

    const got = await c.get(CONFIGMAPS, 'default', 'crud');
    assert.equal(got.metadata.uid, created.metadata.uid);

    const updated = await c.update(CONFIGMAPS, 'default', { ...got, data: { a: '2' } });
    assert.equal(updated.data.a, '2');
    const stale = await c.update(CONFIGMAPS, 'default', { ...got, data: { a: '3' } }).then(() => undefined, (e) => e);
    assert.ok(isConflict(stale), `stale resourceVersion must conflict: ${stale}`);

    const merged = await c.patch(CONFIGMAPS, 'default', 'crud', { data: { b: 'm' } }, 'merge');
    assert.deepEqual(merged.data, { a: '2', b: 'm' });
    const strategic = await c.patch(CONFIGMAPS, 'default', 'crud', { metadata: { labels: { tier: 's' } } }, 'strategic');
    assert.equal(strategic.metadata.labels.tier, 's');
    const jsonPatched = await c.patch(CONFIGMAPS, 'default', 'crud', [{ op: 'remove', path: '/data/b' }], 'json');
    assert.deepEqual(jsonPatched.data, { a: '2' });
    const applied = await c.patch(CONFIGMAPS, 'default', 'crud', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'crud' }, data: { a: '2', c: 'applied' } }, 'apply', { fieldManager: 'test', force: true });
    assert.equal(applied.data.c, 'applied');

    const list = await c.list(CONFIGMAPS, 'default', { labelSelector: 'app=x' });
    assert.deepEqual(list.items.map((i: any) => i.metadata.name), ['crud']);
    assert.ok(list.metadata.resourceVersion);
    const none = await c.list(CONFIGMAPS, 'default', { labelSelector: 'app=nope' });
    assert.equal(none.items.length, 0);
    const byField = await c.list(CONFIGMAPS, undefined, { fieldSelector: 'metadata.name=crud' });
    assert.equal(byField.items.length, 1, 'all-namespaces list with a field selector');

    await c.delete(CONFIGMAPS, 'default', 'crud');
    const missing = await c.get(CONFIGMAPS, 'default', 'crud').then(() => undefined, (e) => e);
    assert.ok(isNotFound(missing));
    assert.equal(missing.reason, 'NotFound');
    assert.match(missing.message, /not found/);
  });

  test('paging with limit and continue', async () => {
    for (let i = 0; i < 5; i++) await c.create(CONFIGMAPS, 'kube-public', { metadata: { name: `page-${i}` } });
    const names: string[] = [];
    let cont: string | undefined;
    let pages = 0;
    do {
      const page = await c.list(CONFIGMAPS, 'kube-public', { limit: 2, continue: cont });
      names.push(...page.items.map((i: any) => i.metadata.name));
      cont = page.metadata.continue;
      pages++;
    } while (cont);
    assert.ok(pages >= 3);
    assert.deepEqual(names.filter((n) => n.startsWith('page-')).sort(), ['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
  });

  test('cluster-scoped create/get/delete', async () => {
    const ns: any = await c.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'rc-test' } });
    assert.equal(ns.metadata.name, 'rc-test');
    assert.equal((await c.get(NAMESPACES, undefined, 'rc-test')).metadata.uid, ns.metadata.uid);
    await c.delete(NAMESPACES, undefined, 'rc-test');
  });

  test('watch delivers ADDED, MODIFIED and DELETED in order and stops on abort', async () => {
    const list = await c.list(CONFIGMAPS, 'default');
    const events: WatchEvent[] = [];
    const ac = new AbortController();
    const watching = c.watch(CONFIGMAPS, 'default', { resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: true }, (ev) => {
      if (ev.type !== 'BOOKMARK') events.push(ev);
    }, ac.signal);
    const w = cluster.newClient();
    await w.create(CONFIGMAPS, 'default', { metadata: { name: 'watched' }, data: { v: '1' } });
    await w.patch(CONFIGMAPS, 'default', 'watched', { data: { v: '2' } }, 'merge');
    await w.delete(CONFIGMAPS, 'default', 'watched');
    await eventually(() => events.length >= 3, 'three watch events');
    assert.deepEqual(events.map((e) => `${e.type}:${e.object.metadata.name}`), ['ADDED:watched', 'MODIFIED:watched', 'DELETED:watched']);
    assert.equal(events[1]!.object.data.v, '2');
    ac.abort();
    await watching;
  });

  test('watch resolves when the server times the stream out', async () => {
    const list = await c.list(CONFIGMAPS, 'default');
    await c.watch(CONFIGMAPS, 'default', { resourceVersion: list.metadata.resourceVersion, timeoutSeconds: 1 }, () => {});
  });

  test('a watch from an expired resourceVersion reports 410', async () => {
    const small = await startTestCluster({ watchHistorySize: 5 });
    try {
      const sc = small.client;
      const start = (await sc.list(CONFIGMAPS, 'default')).metadata.resourceVersion!;
      for (let i = 0; i < 20; i++) await sc.create(CONFIGMAPS, 'kube-public', { metadata: { name: `filler-${i}` } });
      const events: WatchEvent[] = [];
      let err: unknown;
      await sc.watch(CONFIGMAPS, 'default', { resourceVersion: start }, (ev) => { events.push(ev); }).catch((e) => { err = e; });
      // Either answer is a valid 410: an ERROR event in the stream or a refused watch.
      const gone = isGone(err) || events.some((e) => e.type === 'ERROR' && e.object.code === 410);
      assert.ok(gone, `expected 410, got ${JSON.stringify(events)} ${err}`);
    } finally {
      await small.stop();
    }
  });
});
