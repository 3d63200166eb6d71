/**
 * EndpointSliceController: keeps discovery.k8s.io/v1 EndpointSlices for every Service that has
 * a selector, as kube-controller-manager's endpointslice controller does (IPv4 only).
 *
 * One sync of "ns/name" (a Service key):
 * - Service gone or without a selector: the slices this controller manages for it are deleted
 *   (for a deleted Service the garbage collector would also remove them through their
 *   ownerReference).
 * - Otherwise every matching pod with an IPv4 podIP that has not finished becomes an endpoint
 *   (terminating pods included): addresses [podIP], conditions {ready, serving, terminating}
 *   (serving = pod Ready; terminating = deletionTimestamp set; ready = publishNotReadyAddresses
 *   or serving and not terminating), nodeName, zone (the node's topology.kubernetes.io/zone
 *   label, when the node exists), hostname, targetRef to the pod.
 * - Endpoints are grouped by their resolved port set (as for Endpoints); each group fills
 *   slices of at most `maxEndpointsPerSlice` (100) endpoints. Existing slices with the same
 *   ports are reused: endpoints stay in the slice they are in, new ones fill free room first,
 *   then new slices are created (generateName "<svc>-"); slices left empty are deleted. A
 *   Service without any endpoint keeps one empty placeholder slice.
 * - Slices carry the Service's labels, `kubernetes.io/service-name`,
 *   `endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io` (and the
 *   headless label), a controller ownerReference to the Service, addressType IPv4.
 * - A slice is written only when its ports, endpoints, labels or owner differ.
 */
import { Controller, Informer, isConflict, isNotFound, keyFor, keyOf, splitKey, type RestClient } from '../../client/index.js';
import { errorText, innerSignal, objectRef, PODS, type Obj } from '../replicaset/controller-utils.js';
import { EventRecorder } from '../../client/event-recorder.js';
import { logger } from '../../util/log.js';
import {
  ENDPOINTSLICES, NODES, SERVICES, canonical, cmp, compareIP, isPodReady, podHostname, podIsEndpointCandidate, resolvePorts,
  serviceDerivedLabels, serviceSelectsPod, serviceSelector, type ResolvedPort,
} from '../endpoints/endpoints-util.js';

const log = logger('endpointslice-controller');

export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
export const LABEL_ZONE = 'topology.kubernetes.io/zone';
export const MAX_ENDPOINTS_PER_SLICE = 100;
const SERVICE_INDEX = 'service';
const CREATE_EXPECTATION_TTL_MS = 30_000;

export interface SliceEndpoint {
  addresses: string[];
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
  hostname?: string;
  nodeName?: string;
  zone?: string;
  targetRef?: { kind: string; namespace?: string; name?: string; uid?: string };
}

export interface EndpointSlice extends Obj {
  addressType?: string;
  endpoints?: SliceEndpoint[];
  ports?: Array<{ name?: string; port?: number; protocol?: string; appProtocol?: string }>;
}

export interface EndpointSliceControllerOptions {
  /** Concurrent syncs (--concurrent-service-endpoint-syncs, default 5). */
  workers?: number;
  /** --max-endpoints-per-slice (default 100). */
  maxEndpointsPerSlice?: number;
}

function isIPv4(ip: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(ip);
}

/** The endpoint a pod contributes to a Service's slices. */
export function podToEndpoint(svc: Obj, pod: Obj, node: Obj | undefined): SliceEndpoint {
  const serving = isPodReady(pod);
  const terminating = !!pod.metadata?.deletionTimestamp;
  const ready = svc.spec?.publishNotReadyAddresses === true || (serving && !terminating);
  const ep: SliceEndpoint = { addresses: [pod.status.podIP], conditions: { ready, serving, terminating } };
  const hostname = podHostname(svc, pod);
  if (hostname) ep.hostname = hostname;
  if (pod.spec?.nodeName) ep.nodeName = pod.spec.nodeName;
  const zone = node?.metadata?.labels?.[LABEL_ZONE];
  if (zone) ep.zone = zone;
  ep.targetRef = { kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid };
  return ep;
}

function endpointKey(ep: SliceEndpoint): string {
  return `${ep.addresses[0]}/${ep.targetRef?.uid ?? ''}`;
}

function compareEndpoints(a: SliceEndpoint, b: SliceEndpoint): number {
  return compareIP(a.addresses[0] ?? '', b.addresses[0] ?? '') || cmp(a.targetRef?.uid ?? '', b.targetRef?.uid ?? '');
}

/** Desired endpoints grouped by port set (key = canonical ports). */
export function desiredGroups(svc: Obj, pods: Obj[], nodeOf: (name: string) => Obj | undefined): Map<string, { ports: ResolvedPort[]; endpoints: SliceEndpoint[] }> {
  const groups = new Map<string, { ports: ResolvedPort[]; endpoints: SliceEndpoint[] }>();
  const headless = svc.spec?.clusterIP === 'None';
  for (const pod of pods) {
    if (!serviceSelectsPod(svc, pod) || !podIsEndpointCandidate(pod, true) || !isIPv4(pod.status.podIP)) continue;
    const ports = resolvePorts(svc, pod);
    if (ports.length === 0 && !((svc.spec?.ports ?? []).length === 0 && headless)) continue;
    const key = canonical(ports);
    let g = groups.get(key);
    if (!g) groups.set(key, g = { ports, endpoints: [] });
    g.endpoints.push(podToEndpoint(svc, pod, pod.spec?.nodeName ? nodeOf(pod.spec.nodeName) : undefined));
  }
  for (const g of groups.values()) g.endpoints.sort(compareEndpoints);
  return groups;
}

/** The ports of a stored slice in the canonical form resolvePorts produces. */
function slicePortsKey(slice: EndpointSlice): string {
  return canonical((slice.ports ?? []).map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP', appProtocol: p.appProtocol }))
    .sort((a, b) => cmp(a.name, b.name) || (a.port ?? 0) - (b.port ?? 0) || cmp(a.protocol, b.protocol)));
}

function normalizeEndpoint(ep: SliceEndpoint): unknown {
  return {
    addresses: ep.addresses, conditions: { ready: !!ep.conditions?.ready, serving: !!ep.conditions?.serving, terminating: !!ep.conditions?.terminating },
    hostname: ep.hostname, nodeName: ep.nodeName, zone: ep.zone,
    targetRef: ep.targetRef ? { kind: ep.targetRef.kind, namespace: ep.targetRef.namespace, name: ep.targetRef.name, uid: ep.targetRef.uid } : undefined,
  };
}

function ownerRefFor(svc: Obj) {
  return { apiVersion: 'v1', kind: 'Service', name: svc.metadata!.name!, uid: svc.metadata!.uid!, controller: true, blockOwnerDeletion: true };
}

export function sliceLabels(svc: Obj): Record<string, string> {
  return { ...serviceDerivedLabels(svc), [LABEL_SERVICE_NAME]: svc.metadata!.name!, [LABEL_MANAGED_BY]: CONTROLLER_NAME };
}

interface Plan {
  existing?: EndpointSlice;
  ports: ResolvedPort[];
  endpoints: SliceEndpoint[];
}

export class EndpointSliceController {
  readonly serviceInformer: Informer<Obj>;
  readonly podInformer: Informer<Obj>;
  readonly sliceInformer: Informer<EndpointSlice>;
  readonly nodeInformer: Informer<Obj>;
  readonly controller: Controller;
  /** Warnings about Services whose slices cannot be written (component endpoint-slice-controller). */
  readonly recorder: EventRecorder;
  private readonly maxPerSlice: number;
  /** Service key → names of slices created and not yet seen in the informer (with the time). */
  private readonly createdNotSeen = new Map<string, Map<string, number>>();

  constructor(readonly client: RestClient, opts: EndpointSliceControllerOptions = {}) {
    this.maxPerSlice = opts.maxEndpointsPerSlice ?? MAX_ENDPOINTS_PER_SLICE;
    this.recorder = new EventRecorder(client, { component: 'endpoint-slice-controller' });
    this.serviceInformer = new Informer<Obj>(client, SERVICES);
    this.podInformer = new Informer<Obj>(client, PODS);
    this.sliceInformer = new Informer<EndpointSlice>(client, ENDPOINTSLICES, { labelSelector: `${LABEL_MANAGED_BY}=${CONTROLLER_NAME}` });
    this.nodeInformer = new Informer<Obj>(client, NODES);
    this.sliceInformer.addIndex(SERVICE_INDEX, (s) => {
      const svc = s.metadata?.labels?.[LABEL_SERVICE_NAME];
      return svc ? [keyFor(s.metadata?.namespace, svc)] : [];
    });
    this.controller = new Controller('endpointslice', { reconcile: (key) => this.reconcile(key) }, { workers: opts.workers ?? 5 });
    this.controller.watch(this.serviceInformer);
    this.controller.watch(this.podInformer, (pod) => this.servicesFor(pod));
    this.controller.watch(this.sliceInformer, (s) => {
      const svc = s.metadata?.labels?.[LABEL_SERVICE_NAME];
      return svc ? keyFor(s.metadata?.namespace, svc) : undefined;
    });
    // A node's zone label feeds the endpoints on it: look at the Services with pods there.
    this.controller.watch(this.nodeInformer, (node) => this.servicesOnNode(node.metadata?.name));
  }

  start(outer: AbortSignal): void {
    const signal = innerSignal(outer);
    this.serviceInformer.start(signal);
    this.podInformer.start(signal);
    this.sliceInformer.start(signal);
    this.nodeInformer.start(signal);
    signal.addEventListener('abort', () => this.recorder.stop(), { once: true });
    this.controller.start(signal);
  }

  async stopped(): Promise<void> {
    await Promise.all([this.serviceInformer.stopped(), this.podInformer.stopped(), this.sliceInformer.stopped(), this.nodeInformer.stopped()]);
    await this.controller.stopped();
  }

  async waitForSync(signal?: AbortSignal): Promise<boolean> {
    for (const inf of [this.serviceInformer, this.podInformer, this.sliceInformer, this.nodeInformer] as Informer<any>[]) {
      if (!(await inf.waitForSync(signal))) return false;
    }
    return true;
  }

  private servicesFor(pod: Obj): string[] {
    return this.serviceInformer.list(pod.metadata?.namespace ?? '').filter((s) => serviceSelectsPod(s, pod)).map((s) => keyOf(s));
  }

  private servicesOnNode(nodeName: string | undefined): string[] {
    if (!nodeName) return [];
    const keys = new Set<string>();
    for (const pod of this.podInformer.list()) {
      if (pod.spec?.nodeName === nodeName) for (const k of this.servicesFor(pod)) keys.add(k);
    }
    return [...keys];
  }

  /** The managed slices of a Service (by its service-name label). */
  slicesFor(namespace: string | undefined, name: string): EndpointSlice[] {
    return this.sliceInformer.byIndex(SERVICE_INDEX, keyFor(namespace, name))
      .sort((a, b) => cmp(a.metadata?.name ?? '', b.metadata?.name ?? ''));
  }

  /**
   * Whether slices this controller created for the Service are not in the cache yet: acting on
   * such a cache would create them twice (upstream's endpointSliceTracker). Entries expire.
   */
  private awaitingCreates(key: string, namespace: string | undefined): boolean {
    const pending = this.createdNotSeen.get(key);
    if (!pending) return false;
    const now = Date.now();
    for (const [name, at] of pending) {
      if (this.sliceInformer.get(namespace, name) || now - at > CREATE_EXPECTATION_TTL_MS) pending.delete(name);
    }
    if (pending.size === 0) this.createdNotSeen.delete(key);
    return pending.size > 0;
  }

  async reconcile(key: string): Promise<{ requeueAfter?: number } | void> {
    try {
      return await this.syncService(key);
    } catch (err) {
      // As upstream's syncService: a Warning on the Service, then the back-off retry.
      const { namespace, name } = splitKey(key);
      const svc = this.serviceInformer.get(namespace, name);
      if (svc && !isNotFound(err)) {
        this.recorder.event(objectRef(svc, 'v1', 'Service'), 'Warning', 'FailedToUpdateEndpointSlices', '', `Error updating Endpoint Slices for Service ${namespace}/${name}: ${errorText(err)}`);
      }
      throw err;
    }
  }

  private async syncService(key: string): Promise<{ requeueAfter?: number } | void> {
    const { namespace, name } = splitKey(key);
    // The informer's add event brings the Service back; the requeue is a safety net.
    if (this.awaitingCreates(key, namespace)) return { requeueAfter: 250 };
    const svc = this.serviceInformer.get(namespace, name);
    const existing = this.slicesFor(namespace, name);
    if (!svc || !serviceSelector(svc)) {
      await Promise.all(existing.map((s) => this.deleteSlice(s)));
      return;
    }
    const groups = desiredGroups(svc, this.podInformer.list(namespace ?? ''), (n) => this.nodeInformer.get(undefined, n));
    const plans: Plan[] = [];
    const used = new Set<EndpointSlice>();
    for (const [portsKey, g] of groups) {
      const want = new Map(g.endpoints.map((e) => [endpointKey(e), e]));
      const placed = new Set<string>();
      const groupPlans: Plan[] = [];
      // Keep endpoints in the slice that holds them already (fewer writes, as upstream).
      for (const s of existing) {
        if (used.has(s) || slicePortsKey(s) !== portsKey) continue;
        used.add(s);
        const keep: SliceEndpoint[] = [];
        for (const e of s.endpoints ?? []) {
          const k = endpointKey(e);
          const d = want.get(k);
          if (d && !placed.has(k) && keep.length < this.maxPerSlice) {
            keep.push(d);
            placed.add(k);
          }
        }
        groupPlans.push({ existing: s, ports: g.ports, endpoints: keep });
      }
      const rest = g.endpoints.filter((e) => !placed.has(endpointKey(e)));
      // Fill the fullest slices first (fewer, fuller slices), then open new ones.
      for (const p of [...groupPlans].sort((a, b) => b.endpoints.length - a.endpoints.length)) {
        if (p.endpoints.length === 0) continue;
        while (rest.length && p.endpoints.length < this.maxPerSlice) p.endpoints.push(rest.shift()!);
      }
      for (const p of groupPlans) {
        if (p.endpoints.length !== 0) continue;
        while (rest.length && p.endpoints.length < this.maxPerSlice) p.endpoints.push(rest.shift()!);
      }
      while (rest.length) groupPlans.push({ ports: g.ports, endpoints: rest.splice(0, this.maxPerSlice) });
      plans.push(...groupPlans);
    }
    // Slices whose port set is no longer wanted.
    for (const s of existing) if (!used.has(s)) plans.push({ existing: s, ports: [], endpoints: [] });

    // No endpoints at all: one empty placeholder slice (reusing an existing slice if any).
    const nonEmpty = plans.filter((p) => p.endpoints.length > 0);
    if (nonEmpty.length === 0) {
      const keep = plans.find((p) => p.existing);
      const placeholder: Plan = keep ? { existing: keep.existing, ports: [], endpoints: [] } : { ports: [], endpoints: [] };
      const toDelete = plans.filter((p) => p.existing && p.existing !== placeholder.existing).map((p) => p.existing!);
      await Promise.all(toDelete.map((s) => this.deleteSlice(s)));
      await this.write(svc, placeholder);
      return;
    }
    const errors: unknown[] = [];
    await Promise.all(plans.map(async (p) => {
      try {
        if (p.endpoints.length === 0) {
          if (p.existing) await this.deleteSlice(p.existing);
          return;
        }
        await this.write(svc, p);
      } catch (err) {
        errors.push(err);
      }
    }));
    if (errors.length) throw errors[0];
  }

  private async deleteSlice(s: EndpointSlice): Promise<void> {
    try {
      await this.client.delete(ENDPOINTSLICES, s.metadata!.namespace, s.metadata!.name!, { preconditions: { uid: s.metadata!.uid } });
      log.debug('deleted endpoint slice', { slice: keyOf(s) });
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }

  /** Creates the slice of a plan, or updates its existing slice when something differs. */
  private async write(svc: Obj, p: Plan): Promise<void> {
    const labels = sliceLabels(svc);
    const ports = p.ports.map((x) => ({ ...x }));
    const endpoints = [...p.endpoints].sort(compareEndpoints);
    const owner = ownerRefFor(svc);
    const s = p.existing;
    if (s) {
      const owners = s.metadata?.ownerReferences ?? [];
      const ownerOk = owners.some((o) => o.uid === owner.uid && o.controller);
      const same = ownerOk &&
        canonical(s.metadata?.labels ?? {}) === canonical(labels) &&
        slicePortsKey(s) === canonical(ports) &&
        canonical([...(s.endpoints ?? [])].sort(compareEndpoints).map(normalizeEndpoint)) === canonical(endpoints.map(normalizeEndpoint));
      if (same) return;
      const ownerReferences = ownerOk ? owners : [...owners.filter((o) => !o.controller), owner];
      await this.client.update(ENDPOINTSLICES, s.metadata!.namespace, { ...s, metadata: { ...s.metadata, labels, ownerReferences }, ports, endpoints });
      log.debug('updated endpoint slice', { slice: keyOf(s), endpoints: endpoints.length });
      return;
    }
    const created = await this.client.create<EndpointSlice>(ENDPOINTSLICES, svc.metadata!.namespace, {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { generateName: `${svc.metadata!.name}-`, namespace: svc.metadata!.namespace, labels, ownerReferences: [owner] } as Obj['metadata'],
      addressType: 'IPv4', ports, endpoints,
    });
    const svcKey = keyOf(svc);
    let pending = this.createdNotSeen.get(svcKey);
    if (!pending) this.createdNotSeen.set(svcKey, pending = new Map());
    pending.set(created.metadata!.name!, Date.now());
    log.debug('created endpoint slice', { slice: keyOf(created), endpoints: endpoints.length });
  }
}
