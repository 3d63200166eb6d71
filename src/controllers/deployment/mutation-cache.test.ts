import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Informer } from '../../client/index.js';
import type { Obj } from '../replicaset/controller-utils.js';
import { MutationCache } from './mutation-cache.js';

/** Just enough of an Informer: a store and its handlers. */
function fakeInformer() {
  const items = new Map<string, Obj>();
  const handlers: Record<string, Array<(...a: any[]) => void>> = { add: [], update: [], delete: [] };
  const inf = {
    on(ev: string, h: (...a: any[]) => void) { handlers[ev]!.push(h); return inf; },
    getByKey: (k: string) => items.get(k),
    list: (ns: string) => [...items.values()].filter((o) => o.metadata?.namespace === ns),
  };
  const key = (o: Obj) => `${o.metadata!.namespace}/${o.metadata!.name}`;
  return {
    informer: inf as unknown as Informer<Obj>,
    set(o: Obj) {
      const old = items.get(key(o));
      items.set(key(o), o);
      if (old) for (const h of handlers.update!) h(old, o); else for (const h of handlers.add!) h(o);
    },
    remove(o: Obj) {
      items.delete(key(o));
      for (const h of handlers.delete!) h(o);
    },
  };
}

const obj = (name: string, rv: string, replicas = 1): Obj => ({ metadata: { name, namespace: 'ns', resourceVersion: rv }, spec: { replicas } });

test('MutationCache: own writes win until the informer catches up', () => {
  const f = fakeInformer();
  const cache = new MutationCache(f.informer);
  f.set(obj('a', '10', 1));
  cache.mutated(obj('a', '12', 2));
  assert.equal(cache.get('ns', 'a')?.spec.replicas, 2, 'informer still at 10');
  f.set(obj('a', '11', 1));
  assert.equal(cache.get('ns', 'a')?.spec.replicas, 2, 'informer at 11 is still older');
  f.set(obj('a', '12', 2));
  assert.equal(cache.get('ns', 'a')?.metadata?.resourceVersion, '12');
  f.set(obj('a', '13', 5));
  assert.equal(cache.get('ns', 'a')?.spec.replicas, 5, 'later changes by others show');
});

test('MutationCache: created objects are listed before the informer has them; deletes drop them', () => {
  const f = fakeInformer();
  const cache = new MutationCache(f.informer);
  cache.mutated(obj('new', '20'));
  assert.deepEqual(cache.list('ns').map((o) => o.metadata!.name), ['new']);
  assert.deepEqual(cache.list('other'), []);
  f.set(obj('new', '20'));
  f.remove(obj('new', '21'));
  assert.deepEqual(cache.list('ns'), []);
});

test('MutationCache: entries expire', () => {
  const f = fakeInformer();
  const cache = new MutationCache(f.informer, -1);
  f.set(obj('a', '1', 1));
  cache.mutated(obj('a', '2', 2));
  assert.equal(cache.get('ns', 'a')?.spec.replicas, 1);
});
