/**
 * Fixtures for the ingress tests: Ingress, Service, EndpointSlice and TLS Secret objects, a
 * ServiceLookup over plain arrays, a table builder over them, and certificates for test hosts.
 */
import type { Secret, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { HTTPIngressPath, Ingress, IngressRule, IngressSpec } from 'kubernetes-types/networking/v1.js';
import { createCa, issueServingCert } from '../util/pki.js';
import { resolveBackend, SERVICE_NAME_LABEL, type ServiceLookup } from './backends.js';
import { SecretCertificates } from './certificates.js';
import { compareCreation } from './ingress-class.js';
import { buildRoutingTable, type RoutingTable } from './routing-table.js';

let seq = 0;

/** An Ingress created `age` seconds after a fixed epoch (smaller = older). */
export function ingress(name: string, spec: IngressSpec, opts: { ns?: string; age?: number; annotations?: Record<string, string> } = {}): Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1', kind: 'Ingress',
    metadata: {
      name, namespace: opts.ns ?? 'default', uid: `uid-${name}-${++seq}`, generation: 1, resourceVersion: String(seq),
      creationTimestamp: new Date(Date.UTC(2024, 0, 1) + (opts.age ?? 0) * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    },
    spec,
  };
}

/** A path to a service port (number or name). */
export function path(p: string, service: string, port: number | string, pathType = 'Prefix'): HTTPIngressPath {
  return { path: p, pathType, backend: { service: { name: service, port: typeof port === 'number' ? { number: port } : { name: port } } } };
}

export function rule(host: string | undefined, ...paths: HTTPIngressPath[]): IngressRule {
  return { ...(host !== undefined ? { host } : {}), http: { paths } };
}

export function service(name: string, ports: Array<{ name?: string; port: number; targetPort?: number | string; protocol?: string }>, ns = 'default'): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { clusterIP: '10.96.0.100', ports: ports.map((p) => ({ protocol: 'TCP', ...p })) } };
}

export function endpointSlice(name: string, svc: string, ports: Array<{ name?: string; port: number }>, addrs: Array<string | { ip: string; ready: boolean }>, ns = 'default'): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
    metadata: { name, namespace: ns, labels: { [SERVICE_NAME_LABEL]: svc } },
    ports: ports.map((p) => ({ protocol: 'TCP', name: p.name ?? '', port: p.port })),
    endpoints: addrs.map((a) => (typeof a === 'string' ? { addresses: [a], conditions: { ready: true } } : { addresses: [a.ip], conditions: { ready: a.ready } })),
  };
}

export function tlsSecret(name: string, certPem: string, keyPem: string, ns = 'default'): Secret {
  return {
    apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name, namespace: ns, resourceVersion: String(++seq) },
    data: { 'tls.crt': Buffer.from(certPem).toString('base64'), 'tls.key': Buffer.from(keyPem).toString('base64') },
  };
}

export function lookupFrom(services: Service[], slices: EndpointSlice[]): ServiceLookup {
  return {
    service: (ns, name) => services.find((s) => s.metadata?.namespace === ns && s.metadata?.name === name),
    endpointSlices: (ns, name) => slices.filter((s) => s.metadata?.namespace === ns && s.metadata?.labels?.[SERVICE_NAME_LABEL] === name),
  };
}

/** The table for these (already served) Ingresses, sorted oldest first as the controller does. */
export function tableFor(ingresses: Ingress[], services: Service[] = [], slices: EndpointSlice[] = [], secrets: Secret[] = []): RoutingTable {
  const lookup = lookupFrom(services, slices);
  const certs = new SecretCertificates();
  return buildRoutingTable([...ingresses].sort(compareCreation), (ns, b) => resolveBackend(lookup, ns, b), (ns, name) =>
    certs.load(secrets.find((s) => s.metadata?.namespace === ns && s.metadata?.name === name), ns, name).cert);
}

export interface TestCA {
  caCertPem: string;
  caKeyPem: string;
  /** A serving certificate for these hosts (first one is the CN). */
  issue(...hosts: string[]): Promise<{ certPem: string; keyPem: string }>;
}

export async function testCA(): Promise<TestCA> {
  const ca = await createCa('ingress-test-ca');
  return {
    caCertPem: ca.certPem, caKeyPem: ca.keyPem,
    issue: (...hosts) => issueServingCert({ caCertPem: ca.certPem, caKeyPem: ca.keyPem }, hosts[0], hosts),
  };
}
