/**
 * Backend resolution: an Ingress backend (service name + port number or name, in the Ingress's
 * namespace) → the Service's port → the ready endpoints of the Service's EndpointSlices.
 *
 * As kube-proxy reads EndpointSlices (pkg/proxy/endpointslicecache.go):
 * - slices belong to a Service by the label `kubernetes.io/service-name`;
 * - the slice port that serves a Service port is the one with the same name ('' for an unnamed
 *   port) and protocol; its number is the endpoints' port (targetPort, resolved per pod);
 * - an endpoint counts when `conditions.ready` is true or unset (unset means ready);
 * - the first address of an endpoint is used; duplicates (one endpoint in two slices during a
 *   slice rewrite) count once.
 * The proxy connects to the pod IPs directly, not through the ClusterIP, as ingress-nginx does.
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { IngressBackend } from 'kubernetes-types/networking/v1.js';
import type { Backend, Endpoint } from './routing-table.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** What resolution reads: the informers' listers (or plain maps in tests). */
export interface ServiceLookup {
  service(namespace: string, name: string): Service | undefined;
  /** The EndpointSlices labelled for the Service. */
  endpointSlices(namespace: string, service: string): EndpointSlice[];
}

export function backendKey(namespace: string, b: IngressBackend): string {
  if (b.service) {
    const p = b.service.port;
    return `${namespace}/${b.service.name}:${p?.name || (p?.number ?? '')}`;
  }
  const r = b.resource;
  return `${namespace}/${r?.apiGroup ?? ''}/${r?.kind ?? ''}/${r?.name ?? ''}`;
}

export function resolveBackend(lookup: ServiceLookup, namespace: string, b: IngressBackend): Backend {
  const key = backendKey(namespace, b);
  const none = (problem: string): Backend => ({ key, endpoints: [], problem });
  if (!b.service) return none(`resource backends (${b.resource?.kind ?? '?'} ${b.resource?.name ?? '?'}) are not supported`);
  const svcName = b.service.name;
  const svc = lookup.service(namespace, svcName);
  if (!svc) return none(`service ${namespace}/${svcName} not found`);
  if (svc.spec?.type === 'ExternalName') return none(`service ${namespace}/${svcName} is an ExternalName service, which is not supported`);
  const want = b.service.port;
  const sp = (svc.spec?.ports ?? []).find((p) => (want?.name ? p.name === want.name : p.port === want?.number));
  if (!sp) return none(`service ${namespace}/${svcName} has no port ${want?.name ?? want?.number}`);
  const protocol = sp.protocol ?? 'TCP';
  if (protocol !== 'TCP') return none(`port ${want?.name ?? want?.number} of service ${namespace}/${svcName} is ${protocol}, not TCP`);
  const portName = sp.name ?? '';
  const seen = new Set<string>();
  const endpoints: Endpoint[] = [];
  for (const slice of lookup.endpointSlices(namespace, svcName)) {
    if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
    const port = (slice.ports ?? []).find((p) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === protocol)?.port;
    if (!port) continue;
    for (const e of slice.endpoints ?? []) {
      if (e.conditions?.ready === false) continue;
      const ip = e.addresses?.[0];
      if (!ip) continue;
      const k = `${ip}|${port}`;
      if (seen.has(k)) continue;
      seen.add(k);
      endpoints.push({ ip, port });
    }
  }
  endpoints.sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : a.port - b.port));
  return endpoints.length ? { key, endpoints } : { key, endpoints, problem: `service ${namespace}/${svcName} has no ready endpoints` };
}
