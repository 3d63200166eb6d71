/**
 * `keelson agent`: everything a node runs, started in order with progress reports —
 * local routes for the cluster and service ranges (fail closed), keelson's own containerd
 * (or an existing one via `containerRuntimeEndpoint`) with the pause image imported, the
 * kubelet's HTTPS server (logs, exec, attach, port-forward) and the Kubelet itself.
 */
import os from 'node:os';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RestClient } from '../client/index.js';
import { GrpcRuntime } from './cri/grpc-client.js';
import { Containerd } from './containerd/containerd.js';
import { ensureLocalRoutes } from './network/local-routes.js';
import { buildImageArchive, PAUSE_IMAGE } from './images/catalog.js';
import { KubeletServer } from './server/kubelet-server.js';
import { ensureKubeletServingCert } from './server/serving-cert.js';
import { Kubelet } from './kubelet.js';
import { defaultHostIP } from './node-status.js';
import { StatsProvider } from './stats.js';
import { ServiceProxy } from '../proxy/index.js';
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
  clusterDNS?: string[];
  clusterDomain?: string;
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
  progress?: (msg: string) => void;
}

export interface RunningAgent {
  kubelet: Kubelet;
  runtime: GrpcRuntime;
  containerd?: Containerd;
  server: KubeletServer;
  proxy?: ServiceProxy;
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
    hostIP, kubeletPort: server.port, podCIDR: o.podCIDR, clusterDNS: o.clusterDNS, clusterDomain: o.clusterDomain,
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
  return {
    kubelet, runtime, containerd, server, proxy,
    async stop() {
      // The proxy's rules go with the agent (`keelson down` leaves no rules behind).
      await proxy?.stop().catch((err) => log.warn('proxy cleanup failed', { err: (err as Error).message }));
      kubelet!.stop();
      await server.stop();
      runtime.close();
      if (containerd) await containerd.stop();
    },
  };
}
