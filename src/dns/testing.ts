/**
 * Fixtures for the DNS tests: a small cluster with every kind of Service the resolver
 * distinguishes (ClusterIP, headless with StatefulSet hostnames, headless without hostnames,
 * headless without endpoints, ExternalName in and out of the zone, dual-stack, kube-dns).
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { ClusterView } from './cluster-view.js';

export function svc(ns: string, name: string, spec: Service['spec']): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: ns, name }, spec };
}

export function slice(ns: string, name: string, service: string, ports: EndpointSlice['ports'], endpoints: EndpointSlice['endpoints'], addressType = 'IPv4'): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType, ports, endpoints,
    metadata: { namespace: ns, name, labels: { 'kubernetes.io/service-name': service } },
  };
}

export function fixtureView(): ClusterView {
  return ClusterView.from({
    services: [
      svc('default', 'fortune', { type: 'ClusterIP', clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { port: 8080, protocol: 'TCP' }] }),
      svc('default', 'nginx', { clusterIP: 'None', ports: [{ name: 'web', port: 80 }] }),
      svc('default', 'plain-headless', { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] }),
      svc('default', 'empty-headless', { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] }),
      svc('default', 'ext', { type: 'ExternalName', externalName: 'www.example.com.' }),
      svc('default', 'ext-in', { type: 'ExternalName', externalName: 'Fortune.default.svc.cluster.local' }),
      svc('kube-system', 'kube-dns', { clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] }),
      svc('dual', 'dual', { clusterIP: '10.96.5.5', clusterIPs: ['10.96.5.5', 'fd00:96::5'], ports: [{ name: 'http', port: 80 }] }),
    ],
    endpointSlices: [
      slice('default', 'nginx-abcde', 'nginx', [{ name: 'web', port: 8080, protocol: 'TCP' }], [
        { addresses: ['10.244.0.10'], hostname: 'web-0', conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'web-0', namespace: 'default' } },
        { addresses: ['10.244.0.11'], hostname: 'web-1', conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'web-1', namespace: 'default' } },
        { addresses: ['10.244.0.12'], hostname: 'web-2', conditions: { ready: false }, targetRef: { kind: 'Pod', name: 'web-2', namespace: 'default' } },
      ]),
      slice('default', 'plain-headless-x1', 'plain-headless', [{ name: 'http', port: 8000, protocol: 'TCP' }], [
        { addresses: ['10.244.1.5'], targetRef: { kind: 'Pod', name: 'api-7d9f-abc', namespace: 'default' } },
      ]),
      slice('default', 'fortune-q1', 'fortune', [{ name: 'http', port: 8080, protocol: 'TCP' }], [
        { addresses: ['10.244.2.7'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'fortune-abc', namespace: 'default' } },
      ]),
    ],
  });
}
