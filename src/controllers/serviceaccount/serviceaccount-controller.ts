/**
 * ServiceAccountsController: makes sure every active namespace has the ServiceAccounts it must
 * have — `default` — as kube-controller-manager's serviceaccount controller does. A deleted
 * `default` ServiceAccount is created again; namespaces being terminated are left alone.
 *
 * One sync of a namespace name: if the namespace exists and is active (no deletionTimestamp,
 * phase not Terminating), each managed name missing from the ServiceAccount cache is created
 * (AlreadyExists is fine: the cache was behind).
 */
import { Controller, Informer, isAlreadyExists, isNotFound, type ResourceDescriptor, type RestClient } from '../../client/index.js';
import { innerSignal, type Obj } from '../replicaset/controller-utils.js';
import { logger } from '../../util/log.js';

const log = logger('serviceaccount-controller');

export const NAMESPACES: ResourceDescriptor = { group: '', version: 'v1', plural: 'namespaces', namespaced: false };
export const SERVICEACCOUNTS: ResourceDescriptor = { group: '', version: 'v1', plural: 'serviceaccounts', namespaced: true };

export interface ServiceAccountsControllerOptions {
  /** ServiceAccount names every namespace gets (default ['default']). */
  serviceAccounts?: string[];
  /** Concurrent syncs (--concurrent-serviceaccount-token-syncs style, default 1). */
  workers?: number;
}

function isNamespaceActive(ns: Obj): boolean {
  return !ns.metadata?.deletionTimestamp && ns.status?.phase !== 'Terminating';
}

export class ServiceAccountsController {
  readonly namespaceInformer: Informer<Obj>;
  readonly serviceAccountInformer: Informer<Obj>;
  readonly controller: Controller;
  readonly names: string[];

  constructor(readonly client: RestClient, opts: ServiceAccountsControllerOptions = {}) {
    this.names = opts.serviceAccounts ?? ['default'];
    this.namespaceInformer = new Informer<Obj>(client, NAMESPACES);
    this.serviceAccountInformer = new Informer<Obj>(client, SERVICEACCOUNTS);
    this.controller = new Controller('serviceaccount', { reconcile: (key) => this.reconcile(key) }, { workers: opts.workers ?? 1 });
    this.controller.watch(this.namespaceInformer, (ns) => ns.metadata?.name);
    // Only deletions matter: a managed ServiceAccount that went away is made again.
    this.serviceAccountInformer.on('delete', (sa) => {
      if (this.names.includes(sa.metadata?.name ?? '') && sa.metadata?.namespace) this.controller.enqueue(sa.metadata.namespace);
    });
  }

  start(outer: AbortSignal): void {
    const signal = innerSignal(outer);
    this.namespaceInformer.start(signal);
    this.serviceAccountInformer.start(signal);
    void (async () => {
      if (!(await this.serviceAccountInformer.waitForSync(signal))) return;
      this.controller.start(signal);
    })();
  }

  async stopped(): Promise<void> {
    await Promise.all([this.namespaceInformer.stopped(), this.serviceAccountInformer.stopped()]);
    await this.controller.stopped();
  }

  async waitForSync(signal?: AbortSignal): Promise<boolean> {
    return (await this.namespaceInformer.waitForSync(signal)) && (await this.serviceAccountInformer.waitForSync(signal));
  }

  async reconcile(namespace: string): Promise<void> {
    const ns = this.namespaceInformer.get(undefined, namespace);
    if (!ns || !isNamespaceActive(ns)) return;
    for (const name of this.names) {
      if (this.serviceAccountInformer.get(namespace, name)) continue;
      try {
        await this.client.create(SERVICEACCOUNTS, namespace, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } });
        log.debug('created service account', { namespace, name });
      } catch (err) {
        if (isAlreadyExists(err)) continue;
        // The namespace went away, or is terminating and refuses new objects.
        if (isNotFound(err) || (err as { code?: number }).code === 403) return;
        throw err;
      }
    }
  }
}
