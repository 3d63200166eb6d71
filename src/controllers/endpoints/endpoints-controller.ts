/**
 * EndpointsController: keeps a v1 Endpoints object next to every Service that has a selector,
 * as kube-controller-manager's endpoint controller does.
 *
 * One sync of "ns/name" (a Service key):
 * - Service gone, or without a selector: Endpoints of that name that this controller wrote
 *   (label endpoints.kubernetes.io/managed-by=endpoint-controller) are deleted; others — e.g.
 *   the apiserver's `default/kubernetes` or hand-written ones for selector-less Services — are
 *   left alone.
 * - Otherwise every pod the selector matches that has a podIP and has not finished becomes an
 *   address: ready pods in `addresses`, the others in `notReadyAddresses` (everything in
 *   `addresses` when spec.publishNotReadyAddresses). Pods being deleted are left out unless
 *   publishNotReadyAddresses. Each address has ip, nodeName, hostname (pod hostname when its
 *   subdomain is the Service) and a targetRef to the pod.
 * - Ports are resolved per pod and Service port (numeric targetPort, or a named container
 *   port of the pod; name and protocol from the Service port); a port that does not resolve is
 *   left out for that pod. Addresses are grouped into subsets by identical port sets; subsets,
 *   addresses and ports are sorted so the result is deterministic. A headless Service without
 *   ports still lists its addresses.
 * - Labels: the Service's labels, `endpointslice.kubernetes.io/skip-mirror: "true"`, the
 *   managed-by label and `service.kubernetes.io/headless` for headless Services.
 * - Written only when subsets or labels differ from what is stored.
 */
import { Controller, Informer, isAlreadyExists, isConflict, isNotFound, keyFor, keyOf, splitKey, type RestClient } from '../../client/index.js';
import { errorText, innerSignal, isNamespaceTerminating, PODS, type Obj } from '../replicaset/controller-utils.js';
import { EventRecorder } from '../../client/event-recorder.js';
import { logger } from '../../util/log.js';
import {
  ENDPOINTS, ENDPOINTS_CONTROLLER_NAME, LABEL_ENDPOINTS_MANAGED_BY, LABEL_SKIP_MIRROR, SERVICES, canonical, cmp, compareIP, isPodReady,
  podHostname, podIsEndpointCandidate, resolvePorts, serviceDerivedLabels, serviceSelectsPod, serviceSelector, type ResolvedPort,
} from './endpoints-util.js';

const log = logger('endpoints-controller');

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef?: { kind: string; namespace?: string; name?: string; uid?: string };
}

export interface EndpointPort {
  name?: string;
  port: number;
  protocol?: string;
  appProtocol?: string;
}

export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

export interface EndpointsControllerOptions {
  /** Concurrent syncs (--concurrent-endpoint-syncs, default 5). */
  workers?: number;
}

/** Whether these Endpoints were written by this controller. */
export function isManagedEndpoints(ep: Obj | undefined): boolean {
  return ep?.metadata?.labels?.[LABEL_ENDPOINTS_MANAGED_BY] === ENDPOINTS_CONTROLLER_NAME;
}

function address(svc: Obj, pod: Obj): EndpointAddress {
  const a: EndpointAddress = { ip: pod.status.podIP };
  const hostname = podHostname(svc, pod);
  if (hostname) a.hostname = hostname;
  if (pod.spec?.nodeName) a.nodeName = pod.spec.nodeName;
  a.targetRef = { kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid };
  return a;
}

function compareAddress(a: EndpointAddress, b: EndpointAddress): number {
  return compareIP(a.ip, b.ip) || cmp(a.targetRef?.uid ?? '', b.targetRef?.uid ?? '');
}

/** The subsets a Service's Endpoints should hold for these pods (any pods: filtered here). */
export function computeSubsets(svc: Obj, pods: Obj[]): EndpointSubset[] {
  const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
  const headless = svc.spec?.clusterIP === 'None';
  const groups = new Map<string, { ports: ResolvedPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }>();
  for (const pod of pods) {
    if (!serviceSelectsPod(svc, pod) || !podIsEndpointCandidate(pod, publishNotReady)) continue;
    const ports = resolvePorts(svc, pod);
    // A pod none of whose ports resolve gets no address (unless the Service has no ports and
    // is headless: then addresses alone are the point).
    if (ports.length === 0 && !((svc.spec?.ports ?? []).length === 0 && headless)) continue;
    const key = canonical(ports);
    let g = groups.get(key);
    if (!g) groups.set(key, g = { ports, ready: [], notReady: [] });
    const ready = publishNotReady || isPodReady(pod);
    (ready ? g.ready : g.notReady).push(address(svc, pod));
  }
  const subsets: Array<{ key: string; subset: EndpointSubset }> = [];
  for (const [key, g] of groups) {
    const subset: EndpointSubset = {};
    if (g.ready.length) subset.addresses = g.ready.sort(compareAddress);
    if (g.notReady.length) subset.notReadyAddresses = g.notReady.sort(compareAddress);
    // An unnamed port has no name field (omitempty), as the API serves it.
    if (g.ports.length) subset.ports = g.ports.map(({ name, ...rest }) => (name ? { name, ...rest } : rest));
    subsets.push({ key, subset });
  }
  return subsets.sort((a, b) => cmp(a.key, b.key)).map((s) => s.subset);
}

/** The labels the Endpoints of this Service carry. */
export function endpointsLabels(svc: Obj): Record<string, string> {
  return { ...serviceDerivedLabels(svc), [LABEL_SKIP_MIRROR]: 'true', [LABEL_ENDPOINTS_MANAGED_BY]: ENDPOINTS_CONTROLLER_NAME };
}

/** Stored subsets in the shape computeSubsets produces (API defaults applied to ours too). */
function normalizeSubsets(subsets: EndpointSubset[] | undefined): string {
  return canonical((subsets ?? []).map((s) => ({
    addresses: s.addresses?.length ? s.addresses : undefined,
    notReadyAddresses: s.notReadyAddresses?.length ? s.notReadyAddresses : undefined,
    ports: s.ports?.length ? s.ports.map((p) => ({ ...p, protocol: p.protocol ?? 'TCP', name: p.name || undefined })) : undefined,
  })));
}

export class EndpointsController {
  readonly serviceInformer: Informer<Obj>;
  readonly podInformer: Informer<Obj>;
  readonly endpointsInformer: Informer<Obj>;
  readonly controller: Controller;
  /** Warnings when the Endpoints cannot be written (component endpoint-controller, as upstream). */
  readonly recorder: EventRecorder;

  constructor(readonly client: RestClient, opts: EndpointsControllerOptions = {}) {
    this.recorder = new EventRecorder(client, { component: 'endpoint-controller' });
    this.serviceInformer = new Informer<Obj>(client, SERVICES);
    this.podInformer = new Informer<Obj>(client, PODS);
    this.endpointsInformer = new Informer<Obj>(client, ENDPOINTS);
    this.controller = new Controller('endpoints', { reconcile: (key) => this.reconcile(key) }, { workers: opts.workers ?? 5 });
    this.controller.watch(this.serviceInformer);
    this.controller.watch(this.podInformer, (pod) => this.servicesFor(pod));
    // Someone changed or deleted the Endpoints: put them back as they should be.
    this.controller.watch(this.endpointsInformer);
  }

  start(outer: AbortSignal): void {
    const signal = innerSignal(outer);
    this.serviceInformer.start(signal);
    this.podInformer.start(signal);
    this.endpointsInformer.start(signal);
    signal.addEventListener('abort', () => this.recorder.stop(), { once: true });
    this.controller.start(signal);
  }

  async stopped(): Promise<void> {
    await Promise.all([this.serviceInformer.stopped(), this.podInformer.stopped(), this.endpointsInformer.stopped()]);
    await this.controller.stopped();
  }

  async waitForSync(signal?: AbortSignal): Promise<boolean> {
    return (await this.serviceInformer.waitForSync(signal)) && (await this.podInformer.waitForSync(signal)) && (await this.endpointsInformer.waitForSync(signal));
  }

  /** Keys of the Services in the pod's namespace that select it. */
  private servicesFor(pod: Obj): string[] {
    return this.serviceInformer.list(pod.metadata?.namespace ?? '').filter((s) => serviceSelectsPod(s, pod)).map((s) => keyOf(s));
  }

  async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const svc = this.serviceInformer.get(namespace, name);
    const current = this.endpointsInformer.get(namespace, name);
    if (!svc || !serviceSelector(svc)) {
      if (current && isManagedEndpoints(current)) {
        try {
          await this.client.delete(ENDPOINTS, namespace, name, { preconditions: { uid: current.metadata!.uid } });
          log.debug('deleted endpoints', { endpoints: key });
        } catch (err) {
          if (!isNotFound(err) && !isConflict(err)) throw err;
        }
      }
      return;
    }
    const subsets = computeSubsets(svc, this.podInformer.list(namespace ?? ''));
    const labels = endpointsLabels(svc);
    if (current) {
      if (normalizeSubsets((current as Endpoints).subsets) === normalizeSubsets(subsets) && canonical(current.metadata?.labels ?? {}) === canonical(labels)) return;
      try {
        await this.client.update(ENDPOINTS, namespace, { ...current, metadata: { ...current.metadata, labels }, subsets });
      } catch (err) {
        if (isNotFound(err)) throw err;
        this.recorder.event(endpointsRef(namespace, name, current.metadata?.uid), 'Warning', 'FailedToUpdateEndpoint', '', `Failed to update endpoint ${namespace}/${name}: ${errorText(err)}`);
        throw err;
      }
      log.debug('updated endpoints', { endpoints: key });
      return;
    }
    try {
      await this.client.create(ENDPOINTS, namespace, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace, labels }, subsets });
      log.debug('created endpoints', { endpoints: key });
    } catch (err) {
      // Created meanwhile (our cache is behind): the informer event brings us back.
      if (isAlreadyExists(err)) throw new Error(`endpoints ${keyFor(namespace, name)} exist but are not in the cache yet`);
      // A terminating namespace refuses every create: nothing to report.
      if (!isNamespaceTerminating(err)) {
        this.recorder.event(endpointsRef(namespace, name), 'Warning', 'FailedToCreateEndpoint', '', `Failed to create endpoint for service ${namespace}/${name}: ${errorText(err)}`);
      }
      throw err;
    }
  }
}

function endpointsRef(namespace: string | undefined, name: string, uid?: string) {
  return { kind: 'Endpoints', apiVersion: 'v1', namespace, name, ...(uid ? { uid } : {}) };
}

/** The Endpoints kind, for callers that want the plain object type. */
export interface Endpoints extends Obj {
  subsets?: EndpointSubset[];
}
