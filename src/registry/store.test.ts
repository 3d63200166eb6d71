import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStorage } from '../storage/memory/memory-storage.js';
import { WatchCache, ExpiredError, type CacheEvent } from '../apiserver/watch-cache.js';
import { ResourceStore, type WriteContext } from './store.js';
import { GenericStrategy } from './strategy.js';
import { PodStrategy } from './core/pods/strategy.js';
import { BUILTIN_RESOURCES } from '../api/resources.js';
import { AdmissionChain } from '../apiserver/admission/admission.js';
import { StatusError } from '../apimachinery/errors.js';
import { parseLabelSelector } from '../apimachinery/labels.js';

const info = (plural: string, group = '') => BUILTIN_RESOURCES.find((r) => r.plural === plural && r.group === group)!;
const ctx = (): WriteContext => ({ user: { username: 'test', groups: ['system:authenticated'] }, dryRun: false, warnings: [] });
const code = async (p: Promise<unknown>): Promise<number> => {
  try { await p; return 0; } catch (e) { if (e instanceof StatusError) return e.code; throw e; }
};

describe('ResourceStore on MemoryStorage', () => {
  let storage: MemoryStorage;
  let cache: WatchCache;
  let cms: ResourceStore;
  let pods: ResourceStore;

  beforeEach(async () => {
    storage = new MemoryStorage();
    cache = new WatchCache(storage, (_p, obj) => ({ labels: obj?.metadata?.labels, fields: { 'metadata.name': obj?.metadata?.name ?? '' } }), { historySize: 10, bookmarkIntervalMs: 60000 });
    await cache.start();
    cms = new ResourceStore(info('configmaps'), new GenericStrategy(info('configmaps')), storage, cache, new AdmissionChain());
    pods = new ResourceStore(info('pods'), new PodStrategy(info('pods')), storage, cache, new AdmissionChain());
  });
  afterEach(async () => { cache.stop(); await storage.close(); });

  const cm = (name: string, data: Record<string, string> = {}, extra: any = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...extra }, data });

  it('creates with uid, creationTimestamp and a resourceVersion; reads it back consistently', async () => {
    const created = await cms.create('default', cm('a', { k: 'v' }), ctx());
    assert.match(created.metadata.uid, /^[0-9a-f-]{36}$/);
    assert.match(created.metadata.resourceVersion, /^\d+$/);
    const got = await cms.get('default', 'a');
    assert.deepEqual(got, created);
    assert.equal(await code(cms.create('default', cm('a'), ctx())), 409);
  });

  it('generateName gives a 5-character suffix', async () => {
    const created = await cms.create('default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'gen-' } }, ctx());
    assert.match(created.metadata.name, /^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it('a generated name that is taken is replaced (RetryGenerateName); a taken given name is 409', async () => {
    const realCreate = storage.create.bind(storage);
    let collisions = 2;
    // The first two generated names "collide".
    storage.create = async (key: string, value: string) => {
      if (key.includes('/gen-') && collisions-- > 0) await realCreate(key, value).then(() => realCreate(key, value));
      return realCreate(key, value);
    };
    const created = await cms.create('default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'gen-' } }, ctx());
    assert.match(created.metadata.name, /^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.equal((await cms.list('default', {})).items.length, 3);
    assert.equal(await code(cms.create('default', cm(created.metadata.name), ctx())), 409);
  });

  it('updates compare-and-swap on resourceVersion; no-op updates do not move it', async () => {
    const a = await cms.create('default', cm('a', { n: '1' }), ctx());
    const { obj: b } = await cms.update('default', 'a', { ...a, data: { n: '2' } }, ctx());
    assert.ok(Number(b.metadata.resourceVersion) > Number(a.metadata.resourceVersion));
    // a's resourceVersion is now stale.
    assert.equal(await code(cms.update('default', 'a', { ...a, data: { n: '3' } }, ctx())), 409);
    const { obj: c } = await cms.update('default', 'a', b, ctx());
    assert.equal(c.metadata.resourceVersion, b.metadata.resourceVersion);
    assert.equal(c.metadata.uid, a.metadata.uid);
  });

  it('dry run validates and returns the object without writing', async () => {
    const rev = await storage.currentRevision();
    const out = await cms.create('default', cm('dry'), { ...ctx(), dryRun: true });
    assert.equal(out.metadata.name, 'dry');
    assert.equal(await storage.currentRevision(), rev);
    assert.equal(await code(cms.get('default', 'dry')), 404);
  });

  it('finalizers hold deletion until removed', async () => {
    const a = await cms.create('default', cm('fin', {}, { finalizers: ['example.com/hold'] }), ctx());
    const { obj, deletedNow } = await cms.delete('default', 'fin', {}, ctx());
    assert.equal(deletedNow, false);
    assert.ok(obj.metadata.deletionTimestamp);
    const cur = await cms.get('default', 'fin');
    assert.equal(await code(cms.update('default', 'fin', { ...cur, metadata: { ...cur.metadata, finalizers: ['example.com/hold', 'new'] } }, ctx())), 422);
    await cms.update('default', 'fin', { ...cur, metadata: { ...cur.metadata, finalizers: [] } }, ctx());
    assert.equal(await code(cms.get('default', 'fin')), 404);
    assert.ok(a);
  });

  it('pods bound to a node are deleted gracefully; unbound pods at once', async () => {
    const spec = { containers: [{ name: 'c', image: 'busybox' }] };
    await pods.create('default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bound' }, spec: { ...spec, nodeName: 'n1' } }, ctx());
    await pods.create('default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'free' }, spec }, ctx());
    const g = await pods.delete('default', 'bound', {}, ctx());
    assert.equal(g.deletedNow, false);
    assert.equal(g.obj.metadata.deletionGracePeriodSeconds, 30);
    const now = await pods.delete('default', 'bound', { gracePeriodSeconds: 0 }, ctx());
    assert.equal(now.deletedNow, true);
    assert.equal((await pods.delete('default', 'free', {}, ctx())).deletedNow, true);
  });

  it('lists with selectors and paginates with a continue token at one revision', async () => {
    for (let i = 0; i < 7; i++) await cms.create('default', cm(`c${i}`, {}, { labels: { even: String(i % 2 === 0) } }), ctx());
    const even = await cms.list('default', { labelSelector: parseLabelSelector('even=true') });
    assert.equal(even.items.length, 4);
    const p1 = await cms.list('default', { limit: 3 });
    assert.equal(p1.items.length, 3);
    assert.ok(p1.continueToken);
    await cms.create('default', cm('c9'), ctx()); // written after the first page: not in this list
    const p2 = await cms.list('default', { limit: 3, continueToken: p1.continueToken });
    const p3 = await cms.list('default', { limit: 3, continueToken: p2.continueToken });
    const names = [...p1.items, ...p2.items, ...p3.items].map((i) => JSON.parse(i.json).metadata.name);
    assert.deepEqual(names, ['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6']);
    assert.equal(p3.continueToken, undefined);
  });

  it('the watch cache replays from a resourceVersion and expires old ones', async () => {
    const a = await cms.create('default', cm('w0'), ctx());
    for (let i = 1; i < 5; i++) await cms.create('default', cm(`w${i}`), ctx());
    await cache.sync();
    const seen: CacheEvent[] = [];
    const stop = cache.watch({ prefix: cms.prefix, onEvent: (e) => seen.push(e), onBookmark: () => {}, onError: () => {} }, Number(a.metadata.resourceVersion));
    assert.deepEqual(seen.map((e) => e.entry.name), ['w1', 'w2', 'w3', 'w4']);
    stop();
    for (let i = 5; i < 20; i++) await cms.create('default', cm(`w${i}`), ctx());
    await cache.sync();
    assert.throws(() => cache.watch({ prefix: cms.prefix, onEvent: () => {}, onBookmark: () => {}, onError: () => {} }, Number(a.metadata.resourceVersion)), ExpiredError);
  });
});
