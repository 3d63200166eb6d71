/**
 * MutationCache: an informer's view plus the controller's own recent writes (client-go's
 * MutationCache idea). A controller that writes an object and syncs again before its informer
 * has seen that write would otherwise act on the older copy: scale a ReplicaSet from a size it
 * no longer has, or send a status update that can only fail with a Conflict.
 *
 * A written object is kept until the informer shows that resourceVersion (or a newer one), or
 * a delete at least as new, or `ttlMs` passes. resourceVersions are compared as integers, as
 * client-go does for this purpose; when they are not integers the informer's copy wins as soon
 * as it changes.
 */
import { keyFor, keyOf, type Informer } from '../../client/index.js';
import type { Obj } from '../replicaset/controller-utils.js';

const DEFAULT_TTL_MS = 60_000;

function rvNum(o: Obj | undefined): number {
  const v = o?.metadata?.resourceVersion;
  return v && /^\d+$/.test(v) ? Number(v) : NaN;
}

/** Whether `a` is known to be at least as new as `b`. */
function atLeastAsNew(a: Obj, b: Obj): boolean {
  const ra = rvNum(a);
  const rb = rvNum(b);
  if (Number.isNaN(ra) || Number.isNaN(rb)) return a.metadata?.resourceVersion !== undefined;
  return ra >= rb;
}

export class MutationCache<T extends Obj> {
  private overlay = new Map<string, { obj: T; until: number }>();

  constructor(private readonly informer: Informer<T>, private readonly ttlMs = DEFAULT_TTL_MS) {
    informer.on('add', (o) => this.observe(o));
    informer.on('update', (_old, o) => this.observe(o));
    informer.on('delete', (o) => this.observe(o));
  }

  /** Records an object this controller just wrote (as the server returned it). */
  mutated(obj: T): void {
    this.overlay.set(keyOf(obj), { obj, until: Date.now() + this.ttlMs });
  }

  get(namespace: string | undefined, name: string): T | undefined {
    const key = keyFor(namespace, name);
    return this.pick(key, this.informer.getByKey(key));
  }

  /** The objects of one namespace, with recent writes in place of older copies. */
  list(namespace: string): T[] {
    const out: T[] = [];
    const seen = new Set<string>();
    for (const o of this.informer.list(namespace)) {
      const key = keyOf(o);
      seen.add(key);
      const v = this.pick(key, o);
      if (v) out.push(v);
    }
    for (const [key, e] of this.overlay) {
      if (seen.has(key) || (e.obj.metadata?.namespace ?? '') !== namespace) continue;
      const v = this.pick(key, undefined);
      if (v) out.push(v);
    }
    return out;
  }

  private pick(key: string, fromInformer: T | undefined): T | undefined {
    const e = this.overlay.get(key);
    if (!e) return fromInformer;
    if (Date.now() > e.until || (fromInformer && atLeastAsNew(fromInformer, e.obj))) {
      this.overlay.delete(key);
      return fromInformer;
    }
    return e.obj;
  }

  private observe(o: T): void {
    let key: string;
    try { key = keyOf(o); } catch { return; }
    const e = this.overlay.get(key);
    if (e && atLeastAsNew(o, e.obj)) this.overlay.delete(key);
  }
}
