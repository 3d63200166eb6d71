/**
 * GarbageCollector: deletes objects whose owners are gone, and carries out the Foreground and
 * Orphan deletion policies — the behaviour of Kubernetes' garbage collector
 * (pkg/controller/garbagecollector; docs "Garbage Collection", "Owners and Dependents").
 *
 * Resources. Every resource that discovery lists with the verbs list, watch and delete
 * (preferred version per group; core and events.k8s.io events ignored, as upstream) gets an
 * informer. Discovery is read again every `discoveryIntervalMs` (and soon after an
 * ownerReference names an unknown kind), so kinds that appear later (custom resources) are
 * watched from then on and kinds that disappear stop being watched.
 *
 * The graph. From the informers' events the collector keeps, per object uid, a node (where it
 * lives, its ownerReferences, whether it is being deleted, its finalizers) and, per owner uid,
 * the set of dependents that name it. The graph only decides *what to look at*; every decision
 * to change something is made on live reads (GET) of the object and of its owners, so a graph
 * that lags (informers of different kinds are not in step) can delay work but never cause a
 * wrong deletion:
 *
 * - An owner counts as gone only when a live GET of the reference (kind → resource, name, and
 *   for namespaced owners the *dependent's* namespace) answers 404 or an object with another
 *   uid. Confirmed-absent owners are remembered (a small LRU), since uids are never reused.
 * - Dependents are deleted with preconditions {uid, resourceVersion} of the state that was
 *   judged; if the object changed meanwhile (409) and its ownerReferences differ, it is judged
 *   again; if only other fields changed, the delete is retried with the uid precondition.
 * - ownerReferences and finalizers are changed with JSON patches that first `test` the uid and
 *   the exact list read, so a concurrent writer is never overwritten (a failed test → read
 *   again and retry).
 *
 * What is done, per object (one work item per uid; a workqueue never hands one uid to two
 * workers):
 * - Being deleted with the `orphan` finalizer: remove the ownerReferences naming it from all its
 *   dependents, then remove the `orphan` finalizer (the API server then deletes it).
 * - Being deleted with the `foregroundDeletion` finalizer: delete its dependents (they see this
 *   owner as "waiting for dependents" and delete themselves with Foreground propagation); once
 *   no dependent with `blockOwnerDeletion: true` remains, remove the finalizer.
 * - Otherwise, with ownerReferences: classify each owner as solid (exists), dangling (gone) or
 *   waiting (exists, being deleted in the foreground). Some solid → remove only the dangling
 *   and waiting references. None solid → delete the object: Foreground if some owner is
 *   waiting, else by its own finalizers (orphan → Orphan, foregroundDeletion → Foreground),
 *   else Background.
 * - A cluster-scoped object naming a namespaced owner is invalid and left alone (upstream).
 *
 * Events (component garbage-collector-controller): a Warning OwnerRefInvalidNamespace on a
 * dependent whose ownerReference cannot be valid — a cluster-scoped object naming a namespaced
 * owner, or a namespaced one naming an owner uid that lives in another namespace — "ownerRef
 * [v1/ConfigMap, namespace: ns, name: x, uid: u] does not exist in namespace "ns"", as upstream.
 *
 * Known gap (shared with upstream): an Orphan or Foreground owner is processed with the
 * dependents the graph knows; a dependent created just before the owner's deletion and not yet
 * seen by its informer is missed (orphan: later collected as dangling; foreground: the owner
 * may go first).
 */
import { setMaxListeners } from 'node:events';
import {
  Controller, Informer, isConflict, isNotFound, ApiError, sleep,
  type RestClient,
} from '../../client/index.js';
import { discoverResources, parseAPIVersion, preferredResources, type DiscoveredResource } from '../discovery.js';
import { EventRecorder } from '../../client/event-recorder.js';
import { deepEqual } from '../../util/objects.js';
import { logger } from '../../util/log.js';

const log = logger('garbage-collector');

export const FINALIZER_ORPHAN = 'orphan';
export const FINALIZER_FOREGROUND = 'foregroundDeletion';

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** What the graph knows about one object. */
export interface GraphNode {
  uid: string;
  /** The resource it was observed through. */
  res: DiscoveredResource;
  namespace?: string;
  name: string;
  owners: OwnerReference[];
  deleting: boolean;
  finalizers: string[];
}

export interface GarbageCollectorOptions {
  /** Concurrent workers (default 10; kube-controller-manager's --concurrent-gc-syncs is 20). */
  workers?: number;
  /** How often discovery is read again to follow new and removed kinds (default 30 s, as upstream). */
  discoveryIntervalMs?: number;
  /** Resources never watched nor collected, as "group/plural" (default: core and events.k8s.io events). */
  ignoredResources?: string[];
  /** Longest wait for the informers of newly found resources to sync (default 60 s). */
  syncTimeoutMs?: number;
}

const DEFAULT_IGNORED = ['/events', 'events.k8s.io/events'];
const ABSENT_CACHE_SIZE = 500;
const PATCH_ATTEMPTS = 8;
const MIN_DISCOVERY_GAP_MS = 1000;

interface Monitor {
  res: DiscoveredResource;
  informer: Informer<any>;
  abort: AbortController;
}

const resKey = (r: { group: string; plural: string }) => `${r.group}/${r.plural}`;
const hasFinalizer = (n: { finalizers: string[] }, f: string) => n.finalizers.includes(f);
const isWaitingForDependents = (n: GraphNode) => n.deleting && hasFinalizer(n, FINALIZER_FOREGROUND);

function ownerRefsOf(obj: any): OwnerReference[] {
  const refs = obj?.metadata?.ownerReferences;
  return Array.isArray(refs) ? refs.filter((r: any) => r && typeof r.uid === 'string') : [];
}

/** The dependency graph: nodes by uid and, per owner uid, its dependents' uids. */
export class DependencyGraph {
  readonly nodes = new Map<string, GraphNode>();
  private dependents = new Map<string, Set<string>>();

  /** Inserts or replaces a node; returns the previous one. */
  upsert(n: GraphNode): GraphNode | undefined {
    const prev = this.nodes.get(n.uid);
    if (prev) this.unlink(prev);
    this.nodes.set(n.uid, n);
    for (const r of n.owners) {
      let set = this.dependents.get(r.uid);
      if (!set) this.dependents.set(r.uid, (set = new Set()));
      set.add(n.uid);
    }
    return prev;
  }

  /** Removes a node (its edges to its owners go; edges from its dependents stay). */
  remove(uid: string): GraphNode | undefined {
    const n = this.nodes.get(uid);
    if (!n) return undefined;
    this.unlink(n);
    this.nodes.delete(uid);
    return n;
  }

  /** Observed objects whose ownerReferences name `ownerUID`. */
  dependentsOf(ownerUID: string): GraphNode[] {
    const out: GraphNode[] = [];
    for (const d of this.dependents.get(ownerUID) ?? []) {
      const n = this.nodes.get(d);
      if (n) out.push(n);
    }
    return out;
  }

  private unlink(n: GraphNode): void {
    for (const r of n.owners) {
      const set = this.dependents.get(r.uid);
      if (!set) continue;
      set.delete(n.uid);
      if (set.size === 0) this.dependents.delete(r.uid);
    }
  }
}

type OwnerLookup = { state: 'absent' } | { state: 'invalid' } | { state: 'present'; obj: any };

export class GarbageCollector {
  readonly graph = new DependencyGraph();
  readonly controller: Controller;
  readonly recorder: EventRecorder;
  private monitors = new Map<string, Monitor>();
  /** Kind → resource, for resolving ownerReferences: "group/version/Kind" and "group/Kind". */
  private kinds = new Map<string, DiscoveredResource>();
  /** "namespace/uid" of owners confirmed absent (LRU by insertion order). */
  private absentOwners = new Map<string, true>();
  private readonly ignored: Set<string>;
  private readonly discoveryIntervalMs: number;
  private readonly syncTimeoutMs: number;
  private running?: Promise<void>;
  private synced = false;
  private syncWaiters: Array<(ok: boolean) => void> = [];
  private wake?: () => void;
  private lastDiscovery = 0;

  constructor(readonly client: RestClient, opts: GarbageCollectorOptions = {}) {
    this.ignored = new Set(opts.ignoredResources ?? DEFAULT_IGNORED);
    this.discoveryIntervalMs = opts.discoveryIntervalMs ?? 30_000;
    this.syncTimeoutMs = opts.syncTimeoutMs ?? 60_000;
    this.controller = new Controller('garbage-collector', { reconcile: (uid) => this.reconcile(uid) }, { workers: opts.workers ?? 10 });
    this.recorder = new EventRecorder(client, { component: 'garbage-collector-controller' });
  }

  /** Runs in the background until `signal` aborts. */
  start(signal: AbortSignal): void {
    if (this.running) throw new Error('garbage collector already started');
    // One informer per resource listens for the end: give them a signal of our own (no limit on
    // listeners) instead of piling listeners onto the caller's.
    const inner = new AbortController();
    setMaxListeners(0, inner.signal);
    if (signal.aborted) inner.abort();
    else signal.addEventListener('abort', () => inner.abort(), { once: true });
    inner.signal.addEventListener('abort', () => this.recorder.stop(), { once: true });
    this.running = this.run(inner.signal).catch((err) => log.error('garbage collector stopped on an unexpected error', { err }));
  }

  async stopped(): Promise<void> {
    await this.running;
  }

  /** True once the informers of the first discovery have synced and the workers run. */
  hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => { signal?.removeEventListener('abort', onAbort); resolve(ok); };
      const onAbort = () => { this.syncWaiters = this.syncWaiters.filter((w) => w !== done); resolve(false); };
      this.syncWaiters.push(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Whether the graph has observed `uid` (upstream's GraphHasUID, for tests). */
  graphHasUID(uid: string): boolean {
    return this.graph.nodes.has(uid);
  }

  /** The resources being watched, as "group/plural". */
  watchedResources(): string[] {
    return [...this.monitors.keys()].sort();
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  private async run(signal: AbortSignal): Promise<void> {
    try {
      await this.runUntilAborted(signal);
    } finally {
      for (const w of this.syncWaiters.splice(0)) w(false);
      await this.controller.stopped();
      await Promise.all([...this.monitors.values()].map((m) => m.informer.stopped()));
    }
  }

  private async runUntilAborted(signal: AbortSignal): Promise<void> {
    let failures = 0;
    for (;;) {
      if (signal.aborted) return;
      try {
        const fresh = await this.syncResources(signal);
        await this.waitForMonitors(fresh, signal);
        break;
      } catch (err) {
        if (signal.aborted) return;
        failures++;
        log.warn('initial discovery failed; retrying', { err: (err as Error).message });
        await sleep(Math.min(30_000, 500 * 2 ** Math.min(failures, 6)), signal).catch(() => {});
      }
    }
    if (signal.aborted) return;
    this.synced = true;
    for (const w of this.syncWaiters.splice(0)) w(true);
    this.controller.start(signal);
    log.info('garbage collector synced', { resources: this.monitors.size, objects: this.graph.nodes.size });

    while (!signal.aborted) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(finish, this.discoveryIntervalMs);
        // Like the workqueue's timers: the informers' connections keep the process alive, not this.
        timer.unref();
        function finish() { clearTimeout(timer); signal.removeEventListener('abort', finish); resolve(); }
        this.wake = finish;
        signal.addEventListener('abort', finish, { once: true });
      });
      this.wake = undefined;
      if (signal.aborted) break;
      const gap = MIN_DISCOVERY_GAP_MS - (Date.now() - this.lastDiscovery);
      if (gap > 0) await sleep(gap, signal).catch(() => {});
      if (signal.aborted) break;
      try {
        const fresh = await this.syncResources(signal);
        // New kinds: let their informers fill the graph before relying on it for them.
        await this.waitForMonitors(fresh, signal);
      } catch (err) {
        if (!signal.aborted) log.warn('discovery failed; keeping the current resources', { err: (err as Error).message });
      }
    }
  }

  private async waitForMonitors(monitors: Monitor[], signal: AbortSignal): Promise<void> {
    if (!monitors.length) return;
    const timeout = AbortSignal.any([signal, AbortSignal.timeout(this.syncTimeoutMs)]);
    setMaxListeners(0, timeout);
    const results = await Promise.all(monitors.map((m) => m.informer.waitForSync(timeout)));
    const unsynced = monitors.filter((_, i) => !results[i]).map((m) => resKey(m.res));
    if (unsynced.length && !signal.aborted) log.warn('some resources did not sync in time; continuing', { resources: unsynced });
  }

  /** Reads discovery; starts informers for new resources, stops those for removed ones. */
  private async syncResources(signal: AbortSignal): Promise<Monitor[]> {
    this.lastDiscovery = Date.now();
    const found = await discoverResources(this.client, signal);
    const kinds = new Map<string, DiscoveredResource>();
    for (const r of found.resources) {
      if (!r.kind || !r.verbs.includes('get')) continue;
      const exact = `${r.group}/${r.version}/${r.kind}`;
      if (!kinds.has(exact)) kinds.set(exact, r);
      if (!kinds.has(`${r.group}/${r.kind}`)) kinds.set(`${r.group}/${r.kind}`, r);
    }
    this.kinds = kinds;

    const wanted = new Map<string, DiscoveredResource>();
    for (const r of preferredResources(found.resources)) {
      if (!['list', 'watch', 'delete'].every((v) => r.verbs.includes(v))) continue;
      if (this.ignored.has(resKey(r))) continue;
      wanted.set(resKey(r), r);
    }
    const failedGroups = new Set([...found.failed.keys()].map((gv) => parseAPIVersion(gv).group));

    for (const [k, m] of [...this.monitors]) {
      const want = wanted.get(k);
      if (want && want.version === m.res.version) continue;
      // A group that failed discovery this time keeps its informers (no churn on a blip).
      if (!want && (failedGroups.has(m.res.group) || found.failed.has('*'))) continue;
      this.stopMonitor(k, m);
    }
    const fresh: Monitor[] = [];
    for (const [k, r] of wanted) {
      if (this.monitors.has(k)) continue;
      fresh.push(this.startMonitor(k, r, signal));
    }
    if (fresh.length) log.info('watching resources', { added: fresh.map((m) => resKey(m.res)) });
    return fresh;
  }

  private startMonitor(key: string, res: DiscoveredResource, signal: AbortSignal): Monitor {
    const abort = new AbortController();
    const stop = () => abort.abort();
    signal.addEventListener('abort', stop, { once: true });
    abort.signal.addEventListener('abort', () => signal.removeEventListener('abort', stop), { once: true });
    // Metadata is all the graph needs (as upstream's metadata informers): full objects would
    // double the memory of every resource in the cluster.
    const informer = new Informer<any>(this.client, res, { metadataOnly: true });
    informer.on('add', (obj) => this.onUpsert(res, obj));
    informer.on('update', (_old, obj) => this.onUpsert(res, obj));
    informer.on('delete', (obj) => this.onDelete(res, obj));
    const m: Monitor = { res, informer, abort };
    this.monitors.set(key, m);
    informer.start(abort.signal);
    return m;
  }

  private stopMonitor(key: string, m: Monitor): void {
    log.info('no longer watching resource', { resource: key });
    m.abort.abort();
    this.monitors.delete(key);
    // Its objects leave the graph; their dependents are checked (live) as for a deletion.
    for (const n of [...this.graph.nodes.values()]) {
      if (resKey(n.res) === key) this.onDelete(m.res, { metadata: { uid: n.uid } });
    }
  }

  /** Asks for discovery to be read again soon (an ownerReference named an unknown kind). */
  private refreshDiscoverySoon(): void {
    this.wake?.();
  }

  // ---- graph events ----------------------------------------------------------------------------

  private onUpsert(res: DiscoveredResource, obj: any): void {
    const meta = obj?.metadata;
    if (!meta?.uid || !meta.name) return;
    const node: GraphNode = {
      uid: meta.uid, res, namespace: meta.namespace || undefined, name: meta.name,
      owners: ownerRefsOf(obj), deleting: !!meta.deletionTimestamp,
      finalizers: Array.isArray(meta.finalizers) ? meta.finalizers : [],
    };
    const prev = this.graph.upsert(node);

    // As an owner: the deletion policies need work.
    if (node.deleting && (hasFinalizer(node, FINALIZER_ORPHAN) || hasFinalizer(node, FINALIZER_FOREGROUND))) this.enqueue(node.uid);

    // As a dependent: look at it when an owner may be missing or is deleting in the foreground.
    const refsChanged = !prev || !deepEqual(prev.owners, node.owners);
    if (refsChanged && node.owners.some((r) => this.needsAttention(r, node))) this.enqueue(node.uid);

    // Owners waiting for their dependents re-check when a dependent's references change.
    if (prev && refsChanged) {
      for (const r of [...prev.owners, ...node.owners]) {
        const o = this.graph.nodes.get(r.uid);
        if (o && isWaitingForDependents(o)) this.enqueue(o.uid);
      }
    }
  }

  private onDelete(_res: DiscoveredResource, obj: any): void {
    const uid = obj?.metadata?.uid;
    if (!uid) return;
    const n = this.graph.remove(uid);
    if (!n) return;
    // Its dependents may have lost their last owner.
    for (const d of this.graph.dependentsOf(uid)) this.enqueue(d.uid);
    // An owner waiting for it may now be free to go.
    for (const r of n.owners) {
      const o = this.graph.nodes.get(r.uid);
      if (o && isWaitingForDependents(o)) this.enqueue(o.uid);
    }
  }

  /** An owner reference worth a live check: owner unseen, elsewhere, or deleting its dependents. */
  private needsAttention(ref: OwnerReference, dependent: GraphNode): boolean {
    const o = this.graph.nodes.get(ref.uid);
    if (!o) return true;
    if (o.res.namespaced && o.namespace !== dependent.namespace) return true;
    return isWaitingForDependents(o);
  }

  private enqueue(uid: string): void {
    this.controller.enqueue(uid);
  }

  // ---- work ------------------------------------------------------------------------------------

  /** One work item: the object with this uid, as owner and as dependent. */
  async reconcile(uid: string): Promise<void> {
    const node = this.graph.nodes.get(uid);
    if (!node) return; // gone; its dependents were enqueued by the deletion
    const live = await this.getLive(node);
    if (!live) return;
    const meta = live.metadata;
    const finalizers: string[] = meta.finalizers ?? [];

    if (meta.deletionTimestamp) {
      if (finalizers.includes(FINALIZER_ORPHAN)) {
        await this.orphanDependents(node);
        await this.removeFinalizer(node, FINALIZER_ORPHAN);
        return;
      }
      if (finalizers.includes(FINALIZER_FOREGROUND)) {
        await this.processDeletingDependents(node);
        return;
      }
      return; // being deleted: its dependents are handled once it is gone
    }

    const refs = ownerRefsOf(live);
    if (!refs.length) return;
    const solid: OwnerReference[] = [];
    const dangling: OwnerReference[] = [];
    const waiting: OwnerReference[] = [];
    for (const ref of refs) {
      const found = await this.lookupOwner(ref, node);
      if (found.state === 'invalid') {
        log.warn('cluster-scoped object names a namespaced owner; ignored', { object: this.describe(node), owner: `${ref.kind}/${ref.name}` });
        this.reportInvalidNamespaceOwnerRef(node, live, ref);
        return;
      }
      if (found.state === 'absent') {
        // The owner's uid is known in another namespace: the reference can never be right.
        const elsewhere = this.graph.nodes.get(ref.uid);
        if (elsewhere && elsewhere.namespace && elsewhere.namespace !== node.namespace) this.reportInvalidNamespaceOwnerRef(node, live, ref);
        dangling.push(ref);
      }
      else if (found.obj.metadata?.deletionTimestamp && (found.obj.metadata?.finalizers ?? []).includes(FINALIZER_FOREGROUND)) waiting.push(ref);
      else solid.push(ref);
    }

    if (solid.length) {
      if (!dangling.length && !waiting.length) return;
      // Keep the object; drop the references to owners that are gone or going.
      await this.removeOwnerRefs(node, [...dangling, ...waiting].map((r) => r.uid));
      log.info('removed ownerReferences to absent or deleting owners', { object: this.describe(node), owners: [...dangling, ...waiting].map((r) => r.uid) });
      return;
    }
    const policy = waiting.length ? 'Foreground'
      : finalizers.includes(FINALIZER_ORPHAN) ? 'Orphan'
        : finalizers.includes(FINALIZER_FOREGROUND) ? 'Foreground' : 'Background';
    await this.deleteObject(node, live, policy);
  }

  /** reportInvalidNamespaceOwnerRef: a Warning Event on the dependent. */
  private reportInvalidNamespaceOwnerRef(node: GraphNode, live: any, ref: OwnerReference): void {
    const ns = node.namespace ?? '';
    const kind = live.kind ?? node.res.kind;
    const apiVersion = live.apiVersion ?? (node.res.group ? `${node.res.group}/${node.res.version}` : node.res.version);
    this.recorder.event(
      { kind, apiVersion, namespace: node.namespace, name: node.name, uid: node.uid },
      'Warning', 'OwnerRefInvalidNamespace', '',
      `ownerRef [${ref.apiVersion}/${ref.kind}, namespace: ${ns}, name: ${ref.name}, uid: ${ref.uid}] does not exist in namespace ${JSON.stringify(ns)}`,
    );
  }

  /** The live object of a node; undefined if it is gone or was replaced (another uid). */
  private async getLive(node: GraphNode): Promise<any | undefined> {
    try {
      const obj = await this.client.get<any>(node.res, node.namespace, node.name);
      return obj?.metadata?.uid === node.uid ? obj : undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private resolveKind(ref: OwnerReference): DiscoveredResource | undefined {
    const { group, version } = parseAPIVersion(ref.apiVersion ?? '');
    return this.kinds.get(`${group}/${version}/${ref.kind}`) ?? this.kinds.get(`${group}/${ref.kind}`);
  }

  /** Live lookup of an owner (upstream isDangling). */
  private async lookupOwner(ref: OwnerReference, dependent: GraphNode): Promise<OwnerLookup> {
    const res = this.resolveKind(ref);
    if (!res) {
      this.refreshDiscoverySoon();
      // Unknown kinds are retried (with back-off), never taken as absent: an upgrade or a CRD
      // being installed must not cascade into deletions.
      throw new Error(`ownerReference ${ref.apiVersion}/${ref.kind} ${ref.name}: kind not served by the API server`);
    }
    if (res.namespaced && !dependent.namespace) return { state: 'invalid' };
    const ns = res.namespaced ? dependent.namespace : undefined;
    const cacheKey = `${ns ?? ''}/${ref.uid}`;
    if (this.absentOwners.has(cacheKey)) return { state: 'absent' };
    let obj: any;
    try {
      obj = await this.client.get<any>(res, ns, ref.name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      this.rememberAbsent(cacheKey);
      return { state: 'absent' };
    }
    if (obj?.metadata?.uid !== ref.uid) {
      this.rememberAbsent(cacheKey);
      return { state: 'absent' };
    }
    return { state: 'present', obj };
  }

  private rememberAbsent(key: string): void {
    this.absentOwners.delete(key);
    this.absentOwners.set(key, true);
    if (this.absentOwners.size > ABSENT_CACHE_SIZE) this.absentOwners.delete(this.absentOwners.keys().next().value!);
  }

  /**
   * Deletes `node` with preconditions on the state that was judged. On a conflict it reads the
   * object again: different ownerReferences → throw (judged again after back-off); same →
   * delete with the uid precondition only (upstream deleteObject does the same).
   */
  private async deleteObject(node: GraphNode, live: any, policy: 'Background' | 'Foreground' | 'Orphan'): Promise<void> {
    try {
      await this.client.delete(node.res, node.namespace, node.name, {
        propagationPolicy: policy, preconditions: { uid: node.uid, resourceVersion: live.metadata.resourceVersion },
      });
    } catch (err) {
      if (isNotFound(err)) return;
      if (!isConflict(err)) throw err;
      const again = await this.getLive(node);
      if (!again) return;
      if (!deepEqual(ownerRefsOf(again), ownerRefsOf(live))) throw new Error(`${this.describe(node)}: ownerReferences changed while deciding; will look again`);
      try {
        await this.client.delete(node.res, node.namespace, node.name, { propagationPolicy: policy, preconditions: { uid: node.uid } });
      } catch (err2) {
        if (!isNotFound(err2)) throw err2;
      }
    }
    log.info('deleted object whose owners are gone', { object: this.describe(node), propagationPolicy: policy });
  }

  /** Orphan: removes the references to `owner` from every dependent the graph knows. */
  private async orphanDependents(owner: GraphNode): Promise<void> {
    const deps = this.graph.dependentsOf(owner.uid);
    const results = await Promise.allSettled(deps.map((d) => this.removeOwnerRefs(d, [owner.uid])));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length) {
      throw new Error(`orphaning the dependents of ${this.describe(owner)} failed: ${failed.map((f) => (f.reason as Error)?.message ?? String(f.reason)).join('; ')}`);
    }
    if (deps.length) log.info('orphaned dependents', { owner: this.describe(owner), dependents: deps.length });
  }

  /** Foreground: dependents go first; the finalizer goes once no blocking dependent is left. */
  private async processDeletingDependents(owner: GraphNode): Promise<void> {
    const deps = this.graph.dependentsOf(owner.uid);
    const blocking = deps.filter((d) => d.owners.some((r) => r.uid === owner.uid && r.blockOwnerDeletion === true));
    if (!blocking.length) {
      await this.removeFinalizer(owner, FINALIZER_FOREGROUND);
      return;
    }
    // They see this owner as waiting and delete themselves; their deletions bring us back here.
    for (const d of deps) if (!d.deleting) this.enqueue(d.uid);
  }

  /** Removes the ownerReferences with these uids from `node` (a tested JSON patch). */
  private async removeOwnerRefs(node: GraphNode, ownerUIDs: string[]): Promise<void> {
    await this.patchList(node, '/metadata/ownerReferences', (obj) => ownerRefsOf(obj).length ? obj.metadata.ownerReferences : undefined,
      (refs: any[]) => refs.filter((r) => !ownerUIDs.includes(r?.uid)));
  }

  /** Removes one finalizer from `node` (a tested JSON patch). */
  private async removeFinalizer(node: GraphNode, finalizer: string): Promise<void> {
    await this.patchList(node, '/metadata/finalizers', (obj) => obj.metadata?.finalizers,
      (fins: string[]) => fins.filter((f) => f !== finalizer));
  }

  /**
   * Replaces the list at `path` with `change(list)` by a JSON patch that first tests the uid
   * and the list as read; retried on a failed test or conflict. Nothing to do if the object is
   * gone or the list would not change.
   */
  private async patchList<T>(node: GraphNode, path: string, read: (obj: any) => T[] | undefined, change: (list: T[]) => T[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const live = await this.getLive(node);
      if (!live) return;
      const list = read(live);
      if (!Array.isArray(list)) return;
      const next = change(list);
      if (next.length === list.length) return;
      const ops: unknown[] = [
        { op: 'test', path: '/metadata/uid', value: node.uid },
        { op: 'test', path, value: list },
        next.length ? { op: 'replace', path, value: next } : { op: 'remove', path },
      ];
      try {
        await this.client.patch(node.res, node.namespace, node.name, ops, 'json');
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        const retriable = isConflict(err) || (err instanceof ApiError && err.code === 422);
        if (!retriable || attempt + 1 >= PATCH_ATTEMPTS) throw err;
      }
    }
  }

  private describe(n: GraphNode): string {
    const gr = n.res.group ? `${n.res.plural}.${n.res.group}` : n.res.plural;
    return `${gr}/${n.namespace ? `${n.namespace}/` : ''}${n.name}`;
  }
}
