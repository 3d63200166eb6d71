/**
 * `keelson agent`: everything a node runs, started in order with progress reports —
 * local routes for the cluster and service ranges (fail closed), keelson's own containerd
 * (or an existing one via `containerRuntimeEndpoint`) with the pause image imported, the
 * kubelet's HTTPS server (logs, exec, attach, port-forward), the Kubelet itself, cluster DNS,
 * the service proxy and the ingress controller (a child process: `keelson ingress`). It lives in
 * cli/ because it assembles several components.
 */
import os from 'node:os';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RestClient } from '../client/index.js';
import { GrpcRuntime } from '../kubelet/cri/grpc-client.js';
import { Containerd } from '../kubelet/containerd/containerd.js';
import { ensureLocalRoutes } from '../kubelet/network/local-routes.js';
import { buildImageArchive, PAUSE_IMAGE } from '../kubelet/images/catalog.js';
import { KubeletServer } from '../kubelet/server/kubelet-server.js';
import { ensureKubeletServingCert } from '../kubelet/server/serving-cert.js';
import { Kubelet } from '../kubelet/kubelet.js';
import { defaultHostIP } from '../kubelet/node-status.js';
import { StatsProvider } from '../kubelet/stats.js';
import { ServiceProxy } from '../proxy/index.js';
import { ClusterDNS } from '../dns/server.js';
import { ensureDNSAddress, ensureDNSConfigMap, ensureDNSService, removeDNSAddress } from '../dns/bootstrap.js';
import { startIngress, type IngressProcess } from '../ingress/index.js';
import { logger } from '../util/log.js';

const log = logger('agent');

export interface AgentOptions {
  client: RestClient;
  /** keelson's data dir for this node (containerd, kubelet state, logs). */
  dataDir: string;
  nodeName?: string;
  hostIP?: string;
  podCIDR: string;
  clusterCIDR: string;
  serviceCIDR: string;
  /** The cluster DNS IP (in the service range); the agent serves it node-locally (default: the range's 10th address). */
  clusterDNS?: string;
  clusterDomain?: string;
  /** Run the node-local cluster DNS server on clusterDNS:53 (default true). */
  dns?: boolean;
  /** Use this CRI endpoint instead of starting keelson's own containerd. */
  containerRuntimeEndpoint?: string;
  /** docker.io (and others) pulled from these mirrors, e.g. { 'docker.io': 'http://127.0.0.1:5000' }. */
  registryMirrors?: Record<string, string>;
  kubeletPort?: number;
  /** Bridge name of the pod network (default keelson0). */
  bridgeName?: string;
  /** CA that signs the API server's kubelet-client certificate (required client certs on :10250). */
  clientCaPem: string;
  backoffInitialMs?: number;
  /** Run the service proxy (default true) and the prefix of its iptables chains (default KEELSON). */
  proxy?: boolean;
  proxyChainPrefix?: string;
  /** Static pod manifests directory. */
  staticPodPath?: string;
  /** Run the ingress controller as a child process with this kubeconfig (ports default 80/443); false = none. */
  ingress?: { kubeconfig: string; httpPort?: number; httpsPort?: number; bindAddress?: string } | false;
  progress?: (msg: string) => void;
}

export interface RunningAgent {
  kubelet: Kubelet;
  runtime: GrpcRuntime;
  containerd?: Containerd;
  server: KubeletServer;
  proxy?: ServiceProxy;
  dns?: ClusterDNS;
  ingress?: IngressProcess;
  /** Stops the agent; containers keep running (as a kubelet restart). */
  stop(): Promise<void>;
}

export async function startAgent(o: AgentOptions, signal: AbortSignal): Promise<RunningAgent> {
  const say = o.progress ?? ((m: string) => log.info(m));
  const nodeName = (o.nodeName ?? os.hostname()).toLowerCase();
  const hostIP = o.hostIP ?? defaultHostIP();
  mkdirSync(o.dataDir, { recursive: true });

  say(`routing ${o.clusterCIDR} and ${o.serviceCIDR} locally…`);
  await ensureLocalRoutes({ serviceCIDR: o.serviceCIDR, clusterCIDR: o.clusterCIDR });

  // Cluster DNS, node-local: the DNS IP is an address of the service-range device, so pods reach
  // this node's server there; kube-dns is labelled so that the service proxy leaves it alone.
  const dnsIP = o.clusterDNS ?? nthAddress(o.serviceCIDR, 10);
  const domain = o.clusterDomain ?? 'cluster.local';
  let dns: ClusterDNS | undefined;
  if (o.dns !== false) {
    say(`starting cluster DNS on ${dnsIP}:53…`);
    await ensureDNSAddress(dnsIP);
    await ensureDNSService(o.client, dnsIP);
    await ensureDNSConfigMap(o.client, { zone: domain });
    dns = new ClusterDNS({ client: o.client, listen: [{ address: dnsIP, port: 53 }], zone: domain });
    await dns.start(signal);
  }

  let containerd: Containerd | undefined;
  let endpoint = o.containerRuntimeEndpoint;
  if (!endpoint) {
    say('starting containerd…');
    containerd = new Containerd({
      dir: join(o.dataDir, 'containerd'), podCIDR: o.podCIDR, bridgeName: o.bridgeName, sandboxImage: PAUSE_IMAGE,
      registryMirrors: o.registryMirrors, log: (m: string) => log.debug(m),
    });
    await containerd.start();
    endpoint = containerd.endpoint;
  }
  const runtime = new GrpcRuntime(endpoint!);
  if (!(await runtime.imageStatus({ image: PAUSE_IMAGE }).catch(() => null))) {
    say('importing the pause image…');
    const archive = await buildImageArchive('pause', join(o.dataDir, 'images'));
    if (containerd) await containerd.importImage(archive);
    else throw new Error(`the runtime at ${endpoint} has no ${PAUSE_IMAGE}; import ${archive} into its k8s.io namespace`);
  }
  const version = await runtime.version();

  const cert = await ensureKubeletServingCert(join(o.dataDir, 'pki'), [nodeName, hostIP, '127.0.0.1', 'localhost']);
  let kubelet: Kubelet | undefined;
  const server = new KubeletServer({
    port: o.kubeletPort ?? 10250, bindAddress: '0.0.0.0',
    tls: { certPem: cert.certPem, keyPem: cert.keyPem, clientCaPem: o.clientCaPem },
    runtime,
    stats: new StatsProvider(runtime, nodeName),
    pods: {
      findContainer: (ns, pod, c, prev) => kubelet!.findContainer(ns, pod, c, prev),
      findSandbox: (ns, pod) => kubelet!.findSandbox(ns, pod),
    },
  });
  await server.start();

  say(`starting the kubelet for node ${nodeName}…`);
  kubelet = new Kubelet({
    client: o.client, runtime, nodeName, rootDir: join(o.dataDir, 'kubelet'), logDir: join(o.dataDir, 'pod-logs'),
    hostIP, kubeletPort: server.port, podCIDR: o.podCIDR, clusterDNS: dns ? [dnsIP] : [], clusterDomain: domain,
    caCertPem: o.clientCaPem, runtimeVersion: `${version.runtimeName}://${version.runtimeVersion}`,
    backoffInitialMs: o.backoffInitialMs, staticPodPath: o.staticPodPath,
  });
  await kubelet.start(signal);
  let proxy: ServiceProxy | undefined;
  if (o.proxy !== false) {
    say('starting the service proxy…');
    proxy = new ServiceProxy({ client: o.client, nodeName, nodeIPs: [hostIP], clusterCIDR: o.clusterCIDR, chainPrefix: o.proxyChainPrefix });
    await proxy.start(signal);
  }
  let ingress: IngressProcess | undefined;
  if (o.ingress) {
    const [httpPort, httpsPort] = [o.ingress.httpPort ?? 80, o.ingress.httpsPort ?? 443];
    say(`starting the ingress controller on :${httpPort}/:${httpsPort}…`);
    ingress = await startIngress(o.client, {
      kubeconfig: o.ingress.kubeconfig, httpPort, httpsPort, bindAddress: o.ingress.bindAddress, nodeIP: hostIP, nodeName,
    }, (m) => { say(`warning: ${m}`); log.warn(m); });
  }
  return {
    kubelet, runtime, containerd, server, proxy, dns, ingress,
    async stop() {
      await ingress?.stop();
      if (dns) {
        await dns.stop().catch(() => undefined);
        await removeDNSAddress(dnsIP).catch(() => undefined);
      }
      // The proxy's rules go with the agent (`keelson down` leaves no rules behind).
      await proxy?.stop().catch((err) => log.warn('proxy cleanup failed', { err: (err as Error).message }));
      kubelet!.stop();
      await server.stop();
      runtime.close();
      if (containerd) await containerd.stop();
    },
  };
}

/** The n-th address of an IPv4 CIDR (10.96.0.0/16, 10 → 10.96.0.10). */
export function nthAddress(cidr: string, n: number): string {
  const [base] = cidr.split('/');
  const v = base.split('.').reduce((a, o) => a * 256 + Number(o), 0) + n;
  return [24, 16, 8, 0].map((sh) => Math.floor(v / 2 ** sh) % 256).join('.');
}
