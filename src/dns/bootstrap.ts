/**
 * What a node needs around ClusterDNS so that pods reach it at the cluster DNS IP (kubelet
 * --cluster-dns, default 10.96.0.10), in the way NodeLocal DNSCache serves DNS on every node:
 *
 * - ensureDNSAddress: the DNS IP as a /32 address on the node's service-range sink device
 *   (`keelson-svc0`). That puts `local 10.96.0.10` in the kernel's `local` routing table, which
 *   is consulted before the main table's `10.96.0.0/16 dev keelson-svc0` sink route: packets
 *   from pods (forwarded from the bridge) and from the node itself are delivered to the socket
 *   ClusterDNS binds on 10.96.0.10:53, on this node, without any NAT.
 * - ensureDNSService: the `kube-system/kube-dns` Service with that ClusterIP (ports 53/UDP
 *   "dns" and 53/TCP "dns-tcp", no selector), as clusters expect it to exist. It carries
 *   `service.kubernetes.io/service-proxy-name: keelson-dns`, so the service proxy leaves it
 *   alone (kube-proxy skips Services with that label): otherwise it would see a Service
 *   without endpoints and REJECT its traffic in the filter table, or DNAT it away from the
 *   node-local server if it had endpoints.
 * - ensureDNSConfigMap: the `kube-system/keelson-dns` ConfigMap with the defaults, created
 *   once (never overwritten) so that `kubectl edit` finds the knobs config.ts reads live.
 *
 * The address must exist before ClusterDNS binds it (EADDRNOTAVAIL otherwise), so the order on
 * a node is: sink device and routes → ensureDNSAddress → ClusterDNS.start.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { isIPv6 } from 'node:net';
import type { ConfigMap, Service } from 'kubernetes-types/core/v1.js';
import { isAlreadyExists, isNotFound, type RestClient } from '../client/index.js';
import { CONFIGMAPS, DEFAULT_CONFIGMAP, DEFAULT_RESOLV_CONF } from './config.js';
import { DEFAULT_TTL, DEFAULT_ZONE } from './records.js';
import { SERVICES } from './server.js';
import { logger } from '../util/log.js';

const execFileP = promisify(execFile);
const log = logger('dns-bootstrap');

export const DEFAULT_CLUSTER_DNS_IP = '10.96.0.10';
export const DEFAULT_DNS_DEVICE = 'keelson-svc0';
export const DNS_SERVICE = { namespace: 'kube-system', name: 'kube-dns' };
/** The service proxy's "not mine" label and keelson DNS's value for it. */
export const LABEL_SERVICE_PROXY_NAME = 'service.kubernetes.io/service-proxy-name';
export const DNS_PROXY_NAME = 'keelson-dns';

export interface AddressOptions {
  /** Device holding the address (default keelson-svc0; it must exist and be up). */
  device?: string;
  /** Run `ip` in this network namespace (ip -n); tests use their own namespaces. */
  netns?: string;
}

async function ip(o: AddressOptions, ...args: string[]): Promise<string> {
  const full = o.netns ? ['-n', o.netns, ...args] : args;
  try {
    return (await execFileP('ip', full)).stdout;
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new Error(`ip ${full.join(' ')}: ${(err.stderr || err.message).trim()}`);
  }
}

/** Adds `address`/32 (/128) to the device unless it is there already. */
export async function ensureDNSAddress(address: string = DEFAULT_CLUSTER_DNS_IP, o: AddressOptions = {}): Promise<void> {
  const dev = o.device ?? DEFAULT_DNS_DEVICE;
  const v6 = isIPv6(address);
  const prefix = `${address}/${v6 ? 128 : 32}`;
  const shown = await ip(o, v6 ? '-6' : '-4', '-o', 'addr', 'show', 'dev', dev);
  if (shown.split('\n').some((l) => l.includes(` ${prefix} `) || l.includes(` ${address} `))) return;
  // `nodad`: a v6 address must not wait for duplicate address detection on a sink device.
  await ip(o, 'addr', 'replace', prefix, 'dev', dev, ...(v6 ? ['nodad'] : []));
  log.info('cluster DNS address added', { address, device: dev });
}

/** Removes the address again (the device itself belongs to the node's local routes). */
export async function removeDNSAddress(address: string = DEFAULT_CLUSTER_DNS_IP, o: AddressOptions = {}): Promise<void> {
  const dev = o.device ?? DEFAULT_DNS_DEVICE;
  const prefix = `${address}/${isIPv6(address) ? 128 : 32}`;
  await ip(o, 'addr', 'del', prefix, 'dev', dev).catch(() => undefined);
}

/** The kube-dns Service as keelson creates it. */
export function dnsService(clusterIP: string = DEFAULT_CLUSTER_DNS_IP): Service {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: {
      namespace: DNS_SERVICE.namespace, name: DNS_SERVICE.name,
      labels: {
        'k8s-app': 'kube-dns', 'kubernetes.io/name': 'KeelsonDNS', 'kubernetes.io/cluster-service': 'true',
        [LABEL_SERVICE_PROXY_NAME]: DNS_PROXY_NAME,
      },
      annotations: { 'keelson.io/served-by': 'the cluster DNS of every node, on this ClusterIP bound locally' },
    },
    spec: {
      type: 'ClusterIP', clusterIP, clusterIPs: [clusterIP],
      ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 }, { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 }],
    },
  };
}

/**
 * Creates kube-system/kube-dns with `clusterIP`, or makes an existing one carry the proxy
 * label. A kube-dns with another ClusterIP is an error (a ClusterIP cannot change; delete the
 * Service or point the kubelets at its address).
 */
export async function ensureDNSService(client: RestClient, clusterIP: string = DEFAULT_CLUSTER_DNS_IP): Promise<Service> {
  const want = dnsService(clusterIP);
  try {
    return await client.create<Service>(SERVICES, DNS_SERVICE.namespace, want);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
  const have = await client.get<Service>(SERVICES, DNS_SERVICE.namespace, DNS_SERVICE.name);
  if (have.spec?.clusterIP !== clusterIP) {
    throw new Error(`${DNS_SERVICE.namespace}/${DNS_SERVICE.name} has ClusterIP ${have.spec?.clusterIP}, not the cluster DNS IP ${clusterIP}`);
  }
  if (have.metadata?.labels?.[LABEL_SERVICE_PROXY_NAME] === DNS_PROXY_NAME) return have;
  return client.patch<Service>(SERVICES, DNS_SERVICE.namespace, DNS_SERVICE.name, { metadata: { labels: { [LABEL_SERVICE_PROXY_NAME]: DNS_PROXY_NAME } } }, 'merge');
}

/** Creates the settings ConfigMap with the defaults when it does not exist; never overwrites. */
export async function ensureDNSConfigMap(client: RestClient, defaults: { zone?: string; ttl?: number; upstreams?: string[] } = {}, ref = DEFAULT_CONFIGMAP): Promise<void> {
  try {
    await client.get<ConfigMap>(CONFIGMAPS, ref.namespace, ref.name);
    return;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  const cm: ConfigMap = {
    apiVersion: 'v1', kind: 'ConfigMap',
    metadata: { namespace: ref.namespace, name: ref.name, labels: { 'k8s-app': 'kube-dns' } },
    data: {
      zone: defaults.zone ?? DEFAULT_ZONE,
      ttl: String(defaults.ttl ?? DEFAULT_TTL),
      upstreams: (defaults.upstreams ?? [DEFAULT_RESOLV_CONF]).join(' '),
    },
  };
  try {
    await client.create(CONFIGMAPS, ref.namespace, cm);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
}
