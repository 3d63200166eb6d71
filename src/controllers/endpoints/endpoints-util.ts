/**
 * Helpers shared by the Endpoints and EndpointSlice controllers: which pods back a Service,
 * how a Service port resolves against a pod (numeric or named targetPort), and a canonical
 * (key-sorted, undefined-free) serialization used to decide whether a write is needed.
 *
 * Written for keelson after the documented behaviour of Kubernetes' endpoint and endpointslice
 * controllers (not their code).
 */
import type { ResourceDescriptor } from '../../client/index.js';
import { selectorFromSet } from '../../apimachinery/labels.js';
import { isPodReady, type Obj } from '../replicaset/controller-utils.js';

export const SERVICES: ResourceDescriptor = { group: '', version: 'v1', plural: 'services', namespaced: true };
export const ENDPOINTS: ResourceDescriptor = { group: '', version: 'v1', plural: 'endpoints', namespaced: true };
export const ENDPOINTSLICES: ResourceDescriptor = { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', namespaced: true };
export const NODES: ResourceDescriptor = { group: '', version: 'v1', plural: 'nodes', namespaced: false };

/** Label on Endpoints the controller writes, so the EndpointSlice mirroring controller skips them. */
export const LABEL_SKIP_MIRROR = 'endpointslice.kubernetes.io/skip-mirror';
/** Marks Endpoints written by this controller (the value Kubernetes 1.33+ uses). */
export const LABEL_ENDPOINTS_MANAGED_BY = 'endpoints.kubernetes.io/managed-by';
export const ENDPOINTS_CONTROLLER_NAME = 'endpoint-controller';
/** On Endpoints/EndpointSlices of headless Services (clusterIP None). */
export const LABEL_HEADLESS = 'service.kubernetes.io/headless';

/** The Service's selector as a map, or undefined when it has none (nil or empty). */
export function serviceSelector(svc: Obj): Record<string, string> | undefined {
  const sel = svc.spec?.selector;
  if (!sel || typeof sel !== 'object' || Object.keys(sel).length === 0) return undefined;
  return sel as Record<string, string>;
}

/** Whether the Service selects the pod (same namespace, selector matches its labels). */
export function serviceSelectsPod(svc: Obj, pod: Obj): boolean {
  const sel = serviceSelector(svc);
  if (!sel || svc.metadata?.namespace !== pod.metadata?.namespace) return false;
  return selectorFromSet(sel).matches(pod.metadata?.labels ?? {});
}

/**
 * Whether the pod can be an endpoint at all: it has a pod IP, has not finished
 * (Succeeded/Failed) and, unless `includeTerminating`, is not being deleted.
 */
export function podIsEndpointCandidate(pod: Obj, includeTerminating: boolean): boolean {
  if (!pod.status?.podIP) return false;
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  if (pod.metadata?.deletionTimestamp && !includeTerminating) return false;
  return true;
}

export { isPodReady };

export interface ResolvedPort {
  name: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

/**
 * The container port a Service port targets on this pod: a number is used as is, a name is
 * looked up among the pod's container ports (same protocol); undefined when it cannot be found.
 */
export function resolveTargetPort(svcPort: any, pod: Obj): number | undefined {
  const protocol = svcPort?.protocol ?? 'TCP';
  const tp = svcPort?.targetPort ?? svcPort?.port;
  if (typeof tp === 'number') return tp > 0 ? tp : undefined;
  if (typeof tp === 'string' && tp !== '') {
    for (const c of [...(pod.spec?.initContainers ?? []).filter((ic: any) => ic?.restartPolicy === 'Always'), ...(pod.spec?.containers ?? [])]) {
      for (const p of c?.ports ?? []) {
        if (p?.name === tp && (p?.protocol ?? 'TCP') === protocol && typeof p.containerPort === 'number') return p.containerPort;
      }
    }
  }
  return undefined;
}

/** Every Service port resolved for this pod (ports that cannot be resolved are left out). */
export function resolvePorts(svc: Obj, pod: Obj): ResolvedPort[] {
  const out: ResolvedPort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const port = resolveTargetPort(sp, pod);
    if (port === undefined) continue;
    const rp: ResolvedPort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
    if (sp.appProtocol) rp.appProtocol = sp.appProtocol;
    out.push(rp);
  }
  return sortPorts(out);
}

export function sortPorts<T extends { name?: string; port?: number; protocol?: string }>(ports: T[]): T[] {
  return [...ports].sort((a, b) => cmp(a.name ?? '', b.name ?? '') || (a.port ?? 0) - (b.port ?? 0) || cmp(a.protocol ?? '', b.protocol ?? ''));
}

/** The pod's hostname within the Service's DNS subdomain, if it asks for one. */
export function podHostname(svc: Obj, pod: Obj): string | undefined {
  const h = pod.spec?.hostname;
  return h && pod.spec?.subdomain === svc.metadata?.name ? h : undefined;
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Compares dotted IPv4 addresses numerically (other strings lexically). */
export function compareIP(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  if (pa.length === 4 && pb.length === 4 && pa.every(Number.isFinite) && pb.every(Number.isFinite)) {
    for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
    return 0;
  }
  return cmp(a, b);
}

/** JSON with sorted keys and without undefined values: equal strings mean equal content. */
export function canonical(v: unknown): string {
  return JSON.stringify(normalize(v));
}

function normalize(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = normalize(x);
    }
    return out;
  }
  return v;
}

/** Labels of the Service copied onto its Endpoints/EndpointSlices, plus the headless marker. */
export function serviceDerivedLabels(svc: Obj): Record<string, string> {
  const labels: Record<string, string> = { ...(svc.metadata?.labels ?? {}) };
  delete labels[LABEL_HEADLESS];
  if (svc.spec?.clusterIP === 'None') labels[LABEL_HEADLESS] = '';
  return labels;
}
