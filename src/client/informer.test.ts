import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Informer, NAMESPACE_INDEX } from './informer.js';
import {
  RestClient, type ListOptions, type ObjectList, type ResourceDescriptor, type WatchEvent, type WatchOptions,
} from './rest-client.js';
import { eventually, startTestCluster, type TestCluster } from './testing.js';

const CONFIGMAPS: ResourceDescriptor = { group: '', version: 'v1', plural: 'configmaps', namespaced: true };
const NAMESPACES: ResourceDescriptor = { group: '', version: 'v1', plural: 'namespaces', namespaced: false };

interface CM { apiVersion?: string; kind?: string; metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> }; data?: Record<string, string> }

/**
 * A client that records list/watch calls and can hold new watches at a gate, so a test can
 * make changes while the informer is not watching (and so must notice them by relisting).
 */
class GatedClient extends RestClient {
  lists: Array<string | undefined> = [];
  watches: Array<string | undefined> = [];
  private gate?: Promise<void>;
  private openGate?: () => void;
  heldWatches = 0;

  close_gate(): void {
    this.gate = new Promise((r) => { this.openGate = r; });
  }
  open_gate(): void {
    this.openGate?.();
    this.gate = undefined;
  }

  override list<T = any>(res: ResourceDescriptor, namespace?: string, opts: ListOptions = {}): Promise<ObjectList<T>> {
    this.lists.push(opts.resourceVersion);
    return super.list<T>(res, namespace, opts);
  }

  override async watch<T = any>(res: ResourceDescriptor, namespace: string | undefined, opts: WatchOptions, onEvent: (ev: WatchEvent<T>) => void | Promise<void>, signal?: AbortSignal): Promise<void> {
    if (this.gate) {
      this.heldWatches++;
      await this.gate;
      this.heldWatches--;
    }
    this.watches.push(opts.resourceVersion);
    return super.watch<T>(res, namespace, opts, onEvent, signal);
  }
}

describe('Informer against the API server', () => {
  let cluster: TestCluster;
  let c: RestClient;
  let gated: GatedClient;
  before(async () => {
    cluster = await startTestCluster({ watchHistorySize: 20, watchTimeoutSeconds: [1, 2] });
    c = cluster.client;
    gated = new GatedClient({ server: cluster.server.url, ca: cluster.server.pki.caCertPem, cert: cluster.server.pki.adminCertPem, key: cluster.server.pki.adminKeyPem, qps: Infinity });
    for (const name of ['inf-a', 'inf-b', 'inf-relist', 'inf-other', 'inf-resync']) {
      await c.create(NAMESPACES, undefined, { metadata: { name } });
    }
  });
  after(async () => {
    gated?.close();
    await cluster?.stop();
  });

  test('syncs existing objects, then sees add, update and delete; lister and indexes', async () => {
    await c.create(CONFIGMAPS, 'inf-a', { metadata: { name: 'pre', labels: { app: 'x' } }, data: { v: '0' } });
    await c.create(CONFIGMAPS, 'inf-b', { metadata: { name: 'pre', labels: { app: 'y' } } });
    const inf = new Informer<CM>(gated, CONFIGMAPS);
    const log: string[] = [];
    inf.on('add', (o) => log.push(`add ${o.metadata.namespace}/${o.metadata.name}`));
    inf.on('update', (o, n) => log.push(`update ${n.metadata.namespace}/${n.metadata.name} ${o.data?.v}->${n.data?.v}`));
    inf.on('delete', (o) => log.push(`delete ${o.metadata.namespace}/${o.metadata.name} ${o.data?.v}`));
    inf.addIndex('app', (o) => (o.metadata.labels?.app ? [o.metadata.labels.app] : []));
    assert.equal(inf.hasSynced(), false);
    const ac = new AbortController();
    const listsBefore = gated.lists.length;
    inf.start(ac.signal);
    try {
      assert.equal(await inf.waitForSync(AbortSignal.timeout(10_000)), true);
      assert.equal(inf.hasSynced(), true);
      assert.equal(gated.lists[listsBefore], '0', 'first list is resourceVersion=0');
      assert.ok(log.includes('add inf-a/pre') && log.includes('add inf-b/pre'));
      assert.equal(inf.get('inf-a', 'pre')?.data?.v, '0');
      assert.deepEqual(inf.list('inf-b').map((o) => o.metadata.name), ['pre']);
      assert.deepEqual(inf.byIndex('app', 'x').map((o) => o.metadata.namespace), ['inf-a']);
      assert.ok(inf.byIndex(NAMESPACE_INDEX, 'inf-a').length >= 1);

      log.length = 0;
      await c.create(CONFIGMAPS, 'inf-a', { metadata: { name: 'live', labels: { app: 'x' } }, data: { v: '1' } });
      await c.patch(CONFIGMAPS, 'inf-a', 'live', { data: { v: '2' }, metadata: { labels: { app: 'z' } } }, 'merge');
      await c.delete(CONFIGMAPS, 'inf-a', 'live');
      await eventually(() => log.length >= 3, 'three notifications');
      assert.deepEqual(log, ['add inf-a/live', 'update inf-a/live 1->2', 'delete inf-a/live 2']);
      assert.equal(inf.get('inf-a', 'live'), undefined);
      assert.deepEqual(inf.byIndex('app', 'z'), [], 'index entries go with the object');
      assert.deepEqual(inf.byIndex('app', 'x').map((o) => o.metadata.name), ['pre']);
      // A handler registered late is replayed the current objects as adds.
      const late: string[] = [];
      inf.on('add', (o) => late.push(o.metadata.name));
      assert.ok(late.includes('pre'));
    } finally {
      ac.abort();
      await inf.stopped();
    }
  });

  test('re-watches from the last resourceVersion when the server ends the stream', async () => {
    const client = new GatedClient({ server: cluster.server.url, ca: cluster.server.pki.caCertPem, token: cluster.server.pki.adminToken, qps: Infinity });
    const inf = new Informer<CM>(client, CONFIGMAPS, { namespace: 'inf-other', watchTimeoutSeconds: [1, 1] });
    const ac = new AbortController();
    inf.start(ac.signal);
    try {
      await inf.waitForSync();
      await eventually(() => client.watches.length >= 2, 'a second watch after the first timed out');
      await c.create(CONFIGMAPS, 'inf-other', { metadata: { name: 'after-rewatch' } });
      await eventually(() => inf.get('inf-other', 'after-rewatch'), 'object seen on the new watch');
      assert.equal(client.lists.length, 1, 'a stream ending normally does not relist');
    } finally {
      ac.abort();
      await inf.stopped();
      client.close();
    }
  });

  test('a broken connection is re-watched from the same version on a new connection, without relisting', async () => {
    const client = new GatedClient({ server: cluster.server.url, ca: cluster.server.pki.caCertPem, token: cluster.server.pki.adminToken, qps: Infinity });
    const inf = new Informer<CM>(client, CONFIGMAPS, { namespace: 'inf-b' });
    const ac = new AbortController();
    inf.start(ac.signal);
    try {
      await inf.waitForSync();
      await eventually(() => client.watches.length === 1, 'watching');
      const rv = inf.lastSyncResourceVersion;
      client.destroy();
      await eventually(() => client.watches.length === 2, 're-watch after the connection broke');
      assert.equal(client.watches[1], rv);
      await c.create(CONFIGMAPS, 'inf-b', { metadata: { name: 'after-break' } });
      await eventually(() => inf.get('inf-b', 'after-break'), 'object seen after reconnect');
      assert.equal(client.lists.length, 1);
    } finally {
      ac.abort();
      await inf.stopped();
      client.close();
    }
  });

  test('relists with resourceVersion="" after 410 and notifies the differences', async () => {
    const client = new GatedClient({ server: cluster.server.url, ca: cluster.server.pki.caCertPem, token: cluster.server.pki.adminToken, qps: Infinity });
    for (const name of ['keep', 'gone', 'change']) {
      await c.create(CONFIGMAPS, 'inf-relist', { metadata: { name }, data: { v: '1' } });
    }
    const inf = new Informer<CM>(client, CONFIGMAPS, { namespace: 'inf-relist', watchTimeoutSeconds: [1, 1] });
    const log: string[] = [];
    const ac = new AbortController();
    inf.start(ac.signal);
    try {
      await inf.waitForSync();
      assert.deepEqual(inf.list().map((o) => o.metadata.name).sort(), ['change', 'gone', 'keep']);
      inf.on('update', (o, n) => log.push(`update ${n.metadata.name} ${o.data?.v}->${n.data?.v}`));
      inf.on('delete', (o) => log.push(`delete ${o.metadata.name} ${o.data?.v}`));
      inf.on('add', (o) => { if (o.metadata.name === 'new') log.push(`add ${o.metadata.name}`); });

      // Hold the informer's next watch; its current one ends within a second.
      client.close_gate();
      await eventually(() => client.heldWatches === 1, 'informer waiting to re-watch');
      const staleRV = inf.lastSyncResourceVersion;
      await c.delete(CONFIGMAPS, 'inf-relist', 'gone');
      await c.patch(CONFIGMAPS, 'inf-relist', 'change', { data: { v: '2' } }, 'merge');
      await c.create(CONFIGMAPS, 'inf-relist', { metadata: { name: 'new' } });
      // Unrelated writes push the informer's resourceVersion out of the server's history (20).
      for (let i = 0; i < 30; i++) await c.create(CONFIGMAPS, 'inf-other', { metadata: { name: `push-${i}` } });
      const listsBefore = client.lists.length;
      const watchesBefore = client.watches.length;
      client.open_gate();

      await eventually(() => log.length >= 3, 'differences notified after relist');
      assert.deepEqual(log.sort(), ['add new', 'delete gone 1', 'update change 1->2']);
      assert.equal(client.watches[watchesBefore], staleRV, 'the held watch asked for the stale version');
      assert.deepEqual(client.lists.slice(listsBefore), [''], 'relisted once, consistently (resourceVersion="")');
      assert.deepEqual(inf.list().map((o) => o.metadata.name).sort(), ['change', 'keep', 'new']);
      assert.equal(inf.get('inf-relist', 'keep')?.data?.v, '1');
      // And it keeps watching afterwards.
      await c.patch(CONFIGMAPS, 'inf-relist', 'keep', { data: { v: '3' } }, 'merge');
      await eventually(() => inf.get('inf-relist', 'keep')?.data?.v === '3', 'watch resumed after relist');
    } finally {
      client.open_gate();
      ac.abort();
      await inf.stopped();
      client.close();
    }
  });

  test('resync passes every object to update handlers as (obj, obj)', async () => {
    await c.create(CONFIGMAPS, 'inf-resync', { metadata: { name: 'r1' } });
    const inf = new Informer<CM>(c, CONFIGMAPS, { namespace: 'inf-resync', resyncMs: 20 });
    let resyncs = 0;
    inf.on('update', (o, n) => { if (o === n && n.metadata.name === 'r1') resyncs++; });
    const ac = new AbortController();
    inf.start(ac.signal);
    try {
      await eventually(() => resyncs >= 2, 'two resyncs');
    } finally {
      ac.abort();
      await inf.stopped();
    }
  });

  test('waitForSync resolves false when aborted before the first list', async () => {
    const dead = new RestClient({ server: 'https://127.0.0.1:1', qps: Infinity });
    const inf = new Informer<CM>(dead, CONFIGMAPS);
    const ac = new AbortController();
    inf.start(ac.signal);
    const waiting = inf.waitForSync();
    ac.abort();
    assert.equal(await waiting, false);
    await inf.stopped();
    dead.close();
  });
});
