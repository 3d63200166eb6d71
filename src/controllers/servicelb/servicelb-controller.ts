/**
 * ServiceLBController: keelson's built-in load balancer for `type: LoadBalancer` Services (what
 * k3s's ServiceLB or kind's cloud provider give a cluster without a cloud). Each such Service
 * without a `loadBalancerClass` gets, in `status.loadBalancer.ingress`, the InternalIP of every
 * Ready, schedulable node (ipMode VIP); the service proxy on each node then answers on
 * <ingress IP>:<port> exactly as for any load-balancer address. Services that stop being
 * LoadBalancers get their ingress cleared.
 */
import { Controller, Informer, isNotFound, keyOf, splitKey, type ResourceDescriptor, type RestClient } from '../../client/index.js';
import { innerSignal, type Obj } from '../replicaset/controller-utils.js';
import { deepEqual } from '../../util/objects.js';

export const SERVICES: ResourceDescriptor = { group: '', version: 'v1', plural: 'services', namespaced: true };
export const NODES: ResourceDescriptor = { group: '', version: 'v1', plural: 'nodes', namespaced: false };

const isReady = (n: Obj) => n.status?.conditions?.some((c: { type?: string; status?: string }) => c.type === 'Ready' && c.status === 'True');

export class ServiceLBController {
  readonly serviceInformer: Informer<Obj>;
  readonly nodeInformer: Informer<Obj>;
  readonly controller: Controller;

  constructor(readonly client: RestClient) {
    this.serviceInformer = new Informer<Obj>(client, SERVICES);
    this.nodeInformer = new Informer<Obj>(client, NODES);
    this.controller = new Controller('servicelb', { reconcile: (key) => this.reconcile(key) }, { workers: 1 });
    this.controller.watch(this.serviceInformer, (s) => keyOf(s));
    // Node addresses or readiness changed: every LoadBalancer service is looked at again.
    const all = () => { for (const s of this.serviceInformer.list()) if (s.spec?.type === 'LoadBalancer') this.controller.enqueue(keyOf(s)); };
    this.nodeInformer.on('add', all);
    this.nodeInformer.on('delete', all);
    this.nodeInformer.on('update', (a, b) => {
      if (!deepEqual(a.status?.addresses, b.status?.addresses) || isReady(a) !== isReady(b) || a.spec?.unschedulable !== b.spec?.unschedulable) all();
    });
  }

  start(outer: AbortSignal): void {
    const signal = innerSignal(outer);
    this.serviceInformer.start(signal);
    this.nodeInformer.start(signal);
    void (async () => {
      if (!(await this.serviceInformer.waitForSync(signal)) || !(await this.nodeInformer.waitForSync(signal))) return;
      this.controller.start(signal);
    })();
  }

  async stopped(): Promise<void> {
    await Promise.all([this.serviceInformer.stopped(), this.nodeInformer.stopped()]);
    await this.controller.stopped();
  }

  /** The ingress addresses a LoadBalancer gets: the InternalIPs of Ready, schedulable nodes. */
  ingress(): { ip: string; ipMode: string }[] {
    const ips = new Set<string>();
    for (const n of this.nodeInformer.list()) {
      if (!isReady(n) || n.spec?.unschedulable) continue;
      const ip = n.status?.addresses?.find((a: { type?: string; address?: string }) => a.type === 'InternalIP')?.address;
      if (ip) ips.add(ip);
    }
    return [...ips].sort().map((ip) => ({ ip, ipMode: 'VIP' }));
  }

  async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const svc = this.serviceInformer.get(namespace, name);
    if (!svc) return;
    const ours = svc.spec?.type === 'LoadBalancer' && !svc.spec?.loadBalancerClass;
    const want = ours ? this.ingress() : [];
    const have = svc.status?.loadBalancer?.ingress ?? [];
    if (!ours && (svc.spec?.loadBalancerClass || !have.length)) return;
    if (deepEqual(want, have)) return;
    try {
      await this.client.patch(SERVICES, namespace, name!, { status: { loadBalancer: { ingress: want.length ? want : null } } }, 'merge', { subresource: 'status' });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
