/**
 * NamespaceController: empties a namespace that is being deleted, then releases it.
 *
 * Deleting a Namespace through the API only marks it (deletionTimestamp, phase Terminating) and
 * leaves `spec.finalizers: ["kubernetes"]`; new content is refused from then on (admission
 * NamespaceLifecycle). This controller does the rest, as Kubernetes' namespace controller
 * (pkg/controller/namespace/deletion) does:
 *
 * 1. Read the namespace live (the cache may lag); stop if it is gone, not being deleted, or no
 *    longer carries our "kubernetes" finalizer.
 * 2. Discover every namespaced resource that can be deleted (verb `delete`, plus
 *    `deletecollection` or `list`), preferred version per group — from discovery each time, so
 *    custom resources are included as soon as they are served.
 * 3. For each: `deletecollection` in the namespace with propagationPolicy Background (the
 *    namespace is emptied anyway, so no orphaning), or list + delete each item when the
 *    resource has no deletecollection (or the server answers 405/404 to it). Events go too.
 * 4. List each again. Whatever remains is counted per resource and per finalizer; pods that
 *    are still terminating gracefully give an estimate of how long to wait.
 * 5. Record the outcome in status.conditions: NamespaceDeletionDiscoveryFailure,
 *    NamespaceDeletionGroupVersionParsingFailure, NamespaceDeletionContentFailure,
 *    NamespaceContentRemaining, NamespaceFinalizersRemaining (upstream's reasons and messages;
 *    "ok" variants with status False when nothing is wrong).
 * 6. Errors → throw (the key is retried with back-off). Content remaining → requeue: after half
 *    the pods' remaining grace period (+1 s), as upstream, or else with a growing delay (doubling
 *    from 50 ms, at most `maxPollMs`, default 8 s — what upstream waits for finalizers).
 *    Nothing left → PUT the namespace's `finalize` subresource without "kubernetes"; the API
 *    server removes the namespace once no finalizer is left.
 */
import {
  Controller, Informer, ItemExponentialRateLimiter, isConflict, isNotFound, keyOf, ApiError,
  type ResourceDescriptor, type RestClient,
} from '../../client/index.js';
import { discoverResources, groupResourceString, preferredResources, type DiscoveredResource } from '../discovery.js';
import { logger } from '../../util/log.js';

const log = logger('namespace-controller');

export const NAMESPACES: ResourceDescriptor = { group: '', version: 'v1', plural: 'namespaces', namespaced: false };

/** The spec.finalizers token this controller owns (FinalizerKubernetes). */
export const FINALIZER_KUBERNETES = 'kubernetes';

/**
 * Longest wait between checks while content without a known end remains (content held by
 * finalizers: upstream assumes 15 s and looks again after half of it, 8 s).
 */
const DEFAULT_MAX_POLL_MS = 8_000;
/**
 * First wait when content remains. Each pass costs two requests per resource, so the first
 * re-checks are not made back to back.
 */
const POLL_BASE_MS = 50;

export interface NamespaceCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export const CONDITION_TYPES = [
  'NamespaceDeletionDiscoveryFailure',
  'NamespaceDeletionGroupVersionParsingFailure',
  'NamespaceDeletionContentFailure',
  'NamespaceContentRemaining',
  'NamespaceFinalizersRemaining',
] as const;
export type NamespaceConditionType = (typeof CONDITION_TYPES)[number];

const OK: Record<NamespaceConditionType, { reason: string; message: string }> = {
  NamespaceDeletionDiscoveryFailure: { reason: 'ResourcesDiscovered', message: 'All resources successfully discovered' },
  NamespaceDeletionGroupVersionParsingFailure: { reason: 'ParsedGroupVersions', message: 'All legacy kube types successfully parsed' },
  NamespaceDeletionContentFailure: { reason: 'ContentDeleted', message: 'All content successfully deleted, may be waiting on finalization' },
  NamespaceContentRemaining: { reason: 'ContentRemoved', message: 'All content successfully removed' },
  NamespaceFinalizersRemaining: { reason: 'ContentHasNoFinalizers', message: 'All content-preserving finalizers finished' },
};

export interface NamespaceControllerOptions {
  /** Namespaces handled at once (default 5; kube-controller-manager's --concurrent-namespace-syncs is 10). */
  workers?: number;
  /** Resync of the namespace informer (default 5 min), so nothing stuck is forgotten. */
  resyncMs?: number;
  /**
   * Longest wait between checks of a namespace whose content is still going (e.g. held by
   * finalizers) when no graceful-deletion estimate is known (default 8 s).
   */
  maxPollMs?: number;
}

/** What one pass over a namespace's content found. */
export interface ContentReport {
  /** Discovery problems (group version → message). */
  discoveryFailures: Map<string, string>;
  /** Errors deleting or listing, one message per resource. */
  deleteErrors: string[];
  /** Objects still present, per "resource.group" ("configmaps." for the core group, as upstream). */
  remaining: Map<string, number>;
  /** Objects still present, per finalizer. */
  finalizers: Map<string, number>;
  /** Seconds until graceful deletions are expected to end (0 = none known). */
  estimateSeconds: number;
}

const nowTime = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * The conditions a namespace should have after a pass (upstream's namespaceConditionUpdater):
 * every managed type is present; a failing one is True with its reason, the others are the
 * "ok" variant (False). lastTransitionTime moves only when the status changes. Returns the new
 * list, or undefined if nothing changed.
 */
export function updatedConditions(current: NamespaceCondition[] | undefined, report: ContentReport): NamespaceCondition[] | undefined {
  const failing = new Map<NamespaceConditionType, { reason: string; message: string }>();
  if (report.discoveryFailures.size) {
    const parts = [...report.discoveryFailures].map(([g, m]) => `${g}: ${m}`).sort();
    failing.set('NamespaceDeletionDiscoveryFailure', {
      reason: 'DiscoveryFailed',
      message: `Discovery failed for some groups, ${parts.length} failing: ${parts.join(', ')}`,
    });
  }
  if (report.deleteErrors.length) {
    const msgs = [...report.deleteErrors].sort();
    failing.set('NamespaceDeletionContentFailure', {
      reason: 'ContentDeletionFailed',
      message: `Failed to delete all resource types, ${msgs.length} remaining: ${msgs.join(', ')}`,
    });
  }
  const remaining = [...report.remaining].filter(([, n]) => n > 0).map(([gr, n]) => `${gr} has ${n} resource instances`).sort();
  if (remaining.length) {
    failing.set('NamespaceContentRemaining', { reason: 'SomeResourcesRemain', message: `Some resources are remaining: ${remaining.join(', ')}` });
  }
  const fins = [...report.finalizers].filter(([, n]) => n > 0).map(([f, n]) => `${f} in ${n} resource instances`).sort();
  if (fins.length) {
    failing.set('NamespaceFinalizersRemaining', {
      reason: 'SomeFinalizersRemain',
      message: `Some content in the namespace has finalizers remaining: ${fins.join(', ')}`,
    });
  }

  const out: NamespaceCondition[] = (current ?? []).map((c) => ({ ...c }));
  let changed = false;
  for (const type of CONDITION_TYPES) {
    const want = failing.get(type);
    const status: 'True' | 'False' = want ? 'True' : 'False';
    const { reason, message } = want ?? OK[type];
    const old = out.find((c) => c.type === type);
    if (!old) {
      out.push({ type, status, lastTransitionTime: nowTime(), reason, message });
      changed = true;
    } else if (old.status !== status || old.reason !== reason || old.message !== message) {
      if (old.status !== status) old.lastTransitionTime = nowTime();
      old.status = status;
      old.reason = reason;
      old.message = message;
      changed = true;
    }
  }
  return changed ? out : undefined;
}

export class NamespaceController {
  readonly informer: Informer<any>;
  readonly controller: Controller;
  /** Consecutive passes that found content remaining, per namespace (for the poll delay). */
  private waits = new Map<string, number>();
  /** Resources where deletecollection turned out not to work (405/404): use list + delete. */
  private noDeleteCollection = new Set<string>();
  private readonly maxPollMs: number;

  constructor(readonly client: RestClient, opts: NamespaceControllerOptions = {}) {
    this.maxPollMs = opts.maxPollMs ?? DEFAULT_MAX_POLL_MS;
    this.informer = new Informer<any>(client, NAMESPACES, { resyncMs: opts.resyncMs ?? 5 * 60_000 });
    // Upstream's namespace queue: 5 ms doubling up to 60 s per namespace.
    this.controller = new Controller('namespace', { reconcile: (key) => this.reconcile(key) }, {
      workers: opts.workers ?? 5,
      rateLimiter: new ItemExponentialRateLimiter<string>(5, 60_000),
    });
    // Only namespaces being deleted need work; deletes need none (the namespace is gone).
    this.informer.on('add', (ns) => { if (ns?.metadata?.deletionTimestamp) this.controller.enqueue(keyOf(ns)); });
    this.informer.on('update', (_old, ns) => { if (ns?.metadata?.deletionTimestamp) this.controller.enqueue(keyOf(ns)); });
  }

  start(signal: AbortSignal): void {
    this.informer.start(signal);
    // Controller.watch is not used (it would enqueue every namespace); wait for the cache here.
    void this.informer.waitForSync(signal).then((ok) => { if (ok) this.controller.start(signal); });
  }

  async stopped(): Promise<void> {
    await this.informer.stopped();
    await this.controller.stopped();
  }

  /** One pass over namespace `name`. */
  async reconcile(name: string): Promise<{ requeueAfter?: number } | void> {
    const cached = this.informer.get(undefined, name);
    if (cached && !cached.metadata?.deletionTimestamp) return;
    let ns: any;
    try {
      ns = await this.client.get(NAMESPACES, undefined, name);
    } catch (err) {
      if (isNotFound(err)) { this.waits.delete(name); return; }
      throw err;
    }
    if (!ns.metadata?.deletionTimestamp) return;
    if (!(ns.spec?.finalizers ?? []).includes(FINALIZER_KUBERNETES)) { this.waits.delete(name); return; }

    ns = await this.ensureTerminating(ns);
    if (!ns) return;

    const report = await this.deleteAllContent(name);
    const next = await this.writeConditions(ns, report);
    if (!next) return;
    ns = next;

    if (report.discoveryFailures.size || report.deleteErrors.length) {
      throw new Error(`namespace ${name}: content deletion incomplete: ${[...report.discoveryFailures.values(), ...report.deleteErrors].join('; ')}`);
    }
    const left = [...report.remaining.values()].reduce((a, b) => a + b, 0);
    if (left > 0) {
      const n = this.waits.get(name) ?? 0;
      this.waits.set(name, n + 1);
      const estimate = report.estimateSeconds > 0
        ? (Math.floor(report.estimateSeconds / 2) + 1) * 1000
        : Math.min(POLL_BASE_MS * 2 ** n, this.maxPollMs);
      log.debug('namespace content remains', { namespace: name, objects: left, requeueAfterMs: estimate });
      return { requeueAfter: estimate };
    }
    this.waits.delete(name);
    await this.finalize(ns);
    log.info('namespace finalized', { namespace: name });
  }

  /** Makes sure status.phase says Terminating (the API server normally did already). */
  private async ensureTerminating(ns: any): Promise<any | undefined> {
    if (ns.status?.phase === 'Terminating') return ns;
    return this.retryOnConflict(ns, async (cur) => {
      if (cur.status?.phase === 'Terminating') return cur;
      return this.client.update(NAMESPACES, undefined, { ...cur, status: { ...(cur.status ?? {}), phase: 'Terminating' } }, { subresource: 'status' });
    });
  }

  /** Writes the conditions for `report` (if they changed); undefined if the namespace is gone. */
  private async writeConditions(ns: any, report: ContentReport): Promise<any | undefined> {
    return this.retryOnConflict(ns, async (cur) => {
      const conditions = updatedConditions(cur.status?.conditions, report);
      if (!conditions) return cur;
      return this.client.update(NAMESPACES, undefined, { ...cur, status: { ...(cur.status ?? {}), conditions } }, { subresource: 'status' });
    });
  }

  /** Removes our token from spec.finalizers through the finalize subresource. */
  private async finalize(ns: any): Promise<void> {
    await this.retryOnConflict(ns, async (cur) => {
      const finalizers: string[] = cur.spec?.finalizers ?? [];
      if (!finalizers.includes(FINALIZER_KUBERNETES)) return cur;
      const body = { ...cur, spec: { ...(cur.spec ?? {}), finalizers: finalizers.filter((f) => f !== FINALIZER_KUBERNETES) } };
      return this.client.update(NAMESPACES, undefined, body, { subresource: 'finalize' });
    });
  }

  /**
   * Runs `fn` on the namespace; on 409 Conflict reads it again and retries (the uid must stay
   * the same). Resolves undefined when the namespace is gone.
   */
  private async retryOnConflict(ns: any, fn: (cur: any) => Promise<any>): Promise<any | undefined> {
    let cur = ns;
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn(cur);
      } catch (err) {
        if (isNotFound(err)) return undefined;
        if (!isConflict(err) || attempt >= 5) throw err;
      }
      let fresh: any;
      try {
        fresh = await this.client.get(NAMESPACES, undefined, ns.metadata.name);
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
      if (fresh.metadata?.uid !== ns.metadata?.uid) throw new Error(`namespace ${ns.metadata.name}: uid changed across retries`);
      cur = fresh;
    }
  }

  /** Namespaced resources that can be deleted (upstream's GetDeletableResources, namespaced). */
  static deletableResources(all: DiscoveredResource[]): DiscoveredResource[] {
    return preferredResources(all).filter((r) => r.namespaced && r.verbs.includes('delete') &&
      (r.verbs.includes('deletecollection') || r.verbs.includes('list')));
  }

  /** Deletes everything in namespace `ns` and reports what is left. */
  async deleteAllContent(ns: string): Promise<ContentReport> {
    const report: ContentReport = { discoveryFailures: new Map(), deleteErrors: [], remaining: new Map(), finalizers: new Map(), estimateSeconds: 0 };
    let resources: DiscoveredResource[];
    try {
      const found = await discoverResources(this.client);
      for (const [g, m] of found.failed) report.discoveryFailures.set(g, m);
      resources = NamespaceController.deletableResources(found.resources);
    } catch (err) {
      // Nothing discovered at all: nothing can be deleted this pass.
      report.discoveryFailures.set('*', (err as Error).message);
      return report;
    }
    // Resources are independent: work on them concurrently (the client's rate limit applies).
    await Promise.all(resources.map((r) => this.deleteResourceContent(ns, r, report)));
    return report;
  }

  private async deleteResourceContent(ns: string, r: DiscoveredResource, report: ContentReport): Promise<void> {
    const gr = groupResourceString(r);
    // Upstream's wording: "<resource>.<group>", so core resources read "configmaps.".
    const counted = `${r.plural}.${r.group}`;
    const canList = r.verbs.includes('list');
    try {
      let deleted = false;
      if (r.verbs.includes('deletecollection') && !this.noDeleteCollection.has(gr)) {
        deleted = await this.deleteCollection(ns, r);
        if (!deleted) this.noDeleteCollection.add(gr);
      }
      if (!deleted && canList) await this.deleteEachItem(ns, r);
      if (!canList) return; // nothing more can be known about it
      const list = await this.client.list<any>(r, ns);
      const items = list.items ?? [];
      if (!items.length) return;
      report.remaining.set(counted, items.length);
      for (const it of items) {
        for (const f of it?.metadata?.finalizers ?? []) report.finalizers.set(f, (report.finalizers.get(f) ?? 0) + 1);
        report.estimateSeconds = Math.max(report.estimateSeconds, gracefulEstimateSeconds(r, it));
      }
    } catch (err) {
      report.deleteErrors.push(`${gr}: ${(err as Error).message}`);
    }
  }

  /** deletecollection with Background propagation; false if the server does not support it here. */
  private async deleteCollection(ns: string, r: DiscoveredResource): Promise<boolean> {
    const path = `${r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`}/namespaces/${encodeURIComponent(ns)}/${r.plural}`;
    try {
      await this.client.requestJSON('DELETE', path, { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' });
      return true;
    } catch (err) {
      // Resources listed in discovery but without a working collection endpoint (upstream
      // special-cases MethodNotSupported and NotFound the same way).
      if (err instanceof ApiError && (err.code === 405 || err.code === 404)) return false;
      throw err;
    }
  }

  private async deleteEachItem(ns: string, r: DiscoveredResource): Promise<void> {
    const list = await this.client.list<any>(r, ns);
    for (const it of list.items ?? []) {
      const name = it?.metadata?.name;
      if (!name || it.metadata?.deletionTimestamp) continue;
      try {
        await this.client.delete(r, ns, name, { propagationPolicy: 'Background' });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }
}

/** Seconds until a gracefully deleted pod is expected to be gone (0 for anything else). */
function gracefulEstimateSeconds(r: DiscoveredResource, obj: any): number {
  if (r.group !== '' || r.plural !== 'pods') return 0;
  const phase = obj?.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return 0;
  const ts = obj?.metadata?.deletionTimestamp;
  if (!ts) return obj?.spec?.terminationGracePeriodSeconds ?? 30;
  // keelson's deletionTimestamp of a graceful delete is the time it is due.
  const left = Math.ceil((Date.parse(ts) - Date.now()) / 1000);
  return Math.max(1, left);
}
