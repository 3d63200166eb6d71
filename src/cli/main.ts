/**
 * The `keelson` command. `server` runs the API server; `up` starts a single-node cluster (today:
 * the API server with a kubeconfig merged into ~/.kube/config; the node agent, controllers and
 * add-ons join `up` as they land).
 */
import { Command } from 'commander';
import { join } from 'node:path';
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { APIServer } from '../apiserver/apiserver.js';
import { mergeIntoKubeconfig } from './kubeconfig.js';
import { startControllerManager } from '../controllers/run.js';
import { startScheduler } from '../scheduler/run.js';
import { runSimNodes } from '../simnodes/cli.js';
import { runAgentCommand, runUp, runDown } from './node.js';
import { runIngressCommand } from '../ingress/command.js';
import { parseGoDuration } from '../apiextensions/schema.js';

/** The controller manager's settings from the flags `server` and `controller-manager` share. */
function controllerOptions(o: Record<string, any>) {
  const ms = (flag: string, v: string) => {
    const ns = parseGoDuration(String(v));
    if (ns === undefined || ns <= 0n) throw new Error(`${flag}: invalid duration ${JSON.stringify(v)} (e.g. 40s, 500ms)`);
    return Number(ns / 1_000_000n);
  };
  return {
    clusterCIDR: o.clusterCidr, nodeCIDRMaskSize: Number(o.nodeCidrMaskSize),
    nodeLifecycle: { nodeMonitorGracePeriodMs: ms('--node-monitor-grace-period', o.nodeMonitorGracePeriod), monitorPeriodMs: ms('--node-monitor-period', o.nodeMonitorPeriod) },
  };
}

const program = new Command();
program.name('keelson').description('Kubernetes, written in TypeScript').version('0.1.0');

function defaultDataDir(): string {
  return process.env.KEELSON_DATA_DIR ?? join(os.homedir(), '.keelson');
}

function onSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = () => {
    if (stopping) process.exit(1);
    stopping = true;
    stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

program.command('controller-manager')
  .description('run the controllers against an API server (leader-elected)')
  .requiredOption('--kubeconfig <path>', 'kubeconfig of the API server')
  .option('--cluster-cidr <cidr>', 'pod range node IPAM gives nodes their ranges from', '10.244.0.0/16')
  .option('--node-cidr-mask-size <n>', 'prefix length of each node\'s pod range', '24')
  .option('--node-monitor-grace-period <duration>', 'how long a node may miss heartbeats before it is marked Unknown', '40s')
  .option('--node-monitor-period <duration>', 'how often node heartbeats are checked', '5s')
  .action(async (o) => {
    const ac = new AbortController();
    onSignals(async () => { ac.abort(); });
    startControllerManager(o.kubeconfig, ac.signal, controllerOptions(o));
  });

program.command('scheduler')
  .description('run the scheduler against an API server (leader-elected)')
  .requiredOption('--kubeconfig <path>', 'kubeconfig of the API server')
  .action(async (o) => {
    const ac = new AbortController();
    onSignals(async () => { ac.abort(); });
    startScheduler(o.kubeconfig, ac.signal);
  });

program.command('sim-nodes')
  .description('register simulated nodes that play the kubelet for their pods (as KWOK)')
  .requiredOption('--kubeconfig <path>', 'kubeconfig of the API server')
  .option('--count <n>', 'number of nodes', '10')
  .option('--cpu <q>', 'CPU capacity per node', '32')
  .option('--memory <q>', 'memory capacity per node', '256Gi')
  .option('--pods <n>', 'pod capacity per node', '110')
  .option('--gpus <n>', 'nvidia.com/gpu per node', '0')
  .option('--zones <n>', 'spread nodes over this many zones', '0')
  .option('--racks-per-zone <n>', 'racks per zone', '0')
  .option('--name-prefix <p>', 'node name prefix', 'sim-node-')
  .option('--heartbeat-seconds <n>', 'how often each node renews its Lease', '10')
  .action(async (o) => {
    const ac = new AbortController();
    onSignals(async () => { ac.abort(); });
    runSimNodes(o.kubeconfig, {
      count: Number(o.count), cpu: o.cpu, memory: o.memory, pods: Number(o.pods), gpus: Number(o.gpus) || undefined,
      zones: Number(o.zones) || undefined, racksPerZone: Number(o.racksPerZone) || undefined, namePrefix: o.namePrefix,
      heartbeatSeconds: Number(o.heartbeatSeconds) || 10,
    }, ac.signal);
  });

program.command('server')
  .description('run the API server on an embedded SQLite store')
  .option('--data-dir <dir>', 'state, PKI and kubeconfig directory', defaultDataDir())
  .option('--port <port>', 'HTTPS port (0 = any free port)', '6443')
  .option('--bind-address <addr>', 'address to listen on', '0.0.0.0')
  .option('--storage <kind>', 'sqlite | memory', 'sqlite')
  .option('--service-cluster-ip-range <cidr>', 'ClusterIP range', '10.96.0.0/16')
  .option('--ready-file <path>', 'write the server URL to this file once ready (for scripts and tests)')
  .option('--watch-history-size <n>', 'events kept for watch resumption (older resourceVersions get 410)', '20000')
  .option('--watch-timeout-seconds <min-max>', 'server-side watch timeout range when the client sets none', '1800-3600')
  .option('--compact-interval-ms <ms>', 'storage compaction interval', '300000')
  .option('--retain-revisions <n>', 'revisions kept by compaction', '10000')
  .option('--no-controllers', 'do not run the controller manager in this process')
  .option('--no-scheduler', 'do not run the scheduler in this process')
  .option('--no-watch-cache-compression', 'keep cached objects as plain JSON (more memory, faster large LISTs)')
  .option('--cluster-cidr <cidr>', 'pod range node IPAM gives nodes their ranges from', '10.244.0.0/16')
  .option('--node-cidr-mask-size <n>', 'prefix length of each node\'s pod range', '24')
  .option('--node-monitor-grace-period <duration>', 'how long a node may miss heartbeats before it is marked Unknown', '40s')
  .option('--node-monitor-period <duration>', 'how often node heartbeats are checked', '5s')
  .action(async (o) => {
    const [wmin, wmax] = String(o.watchTimeoutSeconds).split('-').map(Number);
    const server = new APIServer({
      dataDir: o.dataDir, port: Number(o.port), bindAddress: o.bindAddress, storage: o.storage, serviceCIDR: o.serviceClusterIpRange,
      watchHistorySize: Number(o.watchHistorySize), watchTimeoutSeconds: [wmin, wmax ?? wmin],
      compactIntervalMs: Number(o.compactIntervalMs), retainRevisions: Number(o.retainRevisions),
      watchCacheCompression: o.watchCacheCompression,
    });
    const controllers = new AbortController();
    onSignals(async () => { controllers.abort(); await server.stop(); });
    await server.start();
    // The controller manager is an ordinary API client, in this process for convenience.
    if (o.controllers) startControllerManager(server.kubeconfigPath, controllers.signal, controllerOptions(o));
    if (o.scheduler) startScheduler(server.kubeconfigPath, controllers.signal);
    if (o.readyFile) {
      const { writeFileSync, renameSync } = await import('node:fs');
      writeFileSync(`${o.readyFile}.tmp`, JSON.stringify({ url: server.url, kubeconfig: server.kubeconfigPath }));
      renameSync(`${o.readyFile}.tmp`, o.readyFile);
    }
  });

program.command('agent')
  .description('run the node agent (kubelet on containerd) against an API server')
  .requiredOption('--kubeconfig <path>', 'kubeconfig of the API server')
  .option('--data-dir <dir>', 'node state directory', join(defaultDataDir(), 'node'))
  .option('--node-name <name>', 'node name (default: the hostname)')
  .option('--node-ip <ip>', 'the node\'s InternalIP (default: first non-loopback IPv4)')
  .option('--pod-cidr <cidr>', 'this node\'s pod range', '10.244.0.0/24')
  .option('--cluster-cidr <cidr>', 'the cluster\'s pod range (routed locally)', '10.244.0.0/16')
  .option('--service-cidr <cidr>', 'the service range (routed locally)', '10.96.0.0/16')
  .option('--cluster-dns <ip>', 'cluster DNS IP, served node-locally (default: the 10th address of the service range)')
  .option('--no-dns', 'do not run the node-local cluster DNS server')
  .option('--container-runtime-endpoint <ep>', 'use this CRI endpoint instead of starting containerd')
  .option('--registry-mirror <host=url...>', 'pull <host> images from <url>, e.g. docker.io=http://127.0.0.1:5000')
  .option('--kubelet-port <port>', 'kubelet HTTPS port', '10250')
  .option('--bridge <name>', 'pod network bridge', 'keelson0')
  .option('--pod-manifest-path <dir>', 'static pod manifests directory')
  .option('--no-proxy', 'do not run the service proxy')
  .option('--proxy-chain-prefix <p>', 'prefix of the proxy\'s iptables chains', 'KEELSON')
  .option('--ingress-http-port <port>', 'the ingress controller\'s HTTP port', '80')
  .option('--ingress-https-port <port>', 'the ingress controller\'s HTTPS port', '443')
  .option('--no-ingress', 'do not run the ingress controller')
  .action(async (o) => {
    await runAgentCommand(o, onSignals);
  });

program.command('ingress')
  .description('run the ingress controller (Ingresses of the IngressClasses with controller keelson.io/ingress-controller)')
  .requiredOption('--kubeconfig <path>', 'kubeconfig of the API server')
  .option('--http-port <port>', 'HTTP port (0 = any free port)', '80')
  .option('--https-port <port>', 'HTTPS port (0 = any free port)', '443')
  .option('--bind-address <addr>', 'address to listen on', '0.0.0.0')
  .option('--node-ip <ip>', 'address published in the Ingresses\' status (default: first non-loopback IPv4)')
  .option('--node-name <name>', 'name of this instance in events (default: the hostname)')
  .action(async (o) => {
    await runIngressCommand(o, onSignals);
  });

program.command('up')
  .description('start a single-node cluster (API server, controllers, scheduler, local registry, node agent) and point kubectl at it')
  .option('--data-dir <dir>', 'state directory', defaultDataDir())
  .option('--port <port>', 'API server HTTPS port', '6443')
  .option('--kubeconfig <path>', 'kubeconfig to merge the cluster into', process.env.KUBECONFIG?.split(':')[0] ?? join(os.homedir(), '.kube', 'config'))
  .option('--no-agent', 'control plane only (no node)')
  .option('--pod-cidr <cidr>', 'the node\'s pod range', '10.244.0.0/24')
  .option('--kubelet-port <port>', 'kubelet HTTPS port', '10250')
  .option('--bridge <name>', 'pod network bridge', 'keelson0')
  .option('--service-cidr <cidr>', 'service ClusterIP range', '10.96.0.0/16')
  .option('--proxy-chain-prefix <p>', 'prefix of the service proxy\'s iptables chains', 'KEELSON')
  .option('--ingress-http-port <port>', 'the ingress controller\'s HTTP port', '80')
  .option('--ingress-https-port <port>', 'the ingress controller\'s HTTPS port', '443')
  .option('--no-ingress', 'do not run the ingress controller')
  .action(async (o) => {
    await runUp(o, onSignals);
  });

program.command('down')
  .description('stop the cluster started by `keelson up` (its pods stop; `up` brings them back)')
  .option('--data-dir <dir>', 'state directory', defaultDataDir())
  .option('--wipe', 'also delete all cluster state (containers, images, the store)')
  .option('--bridge <name>', 'pod network bridge to remove with --wipe', 'keelson0')
  .action(async (o) => {
    await runDown(o);
  });

program.parseAsync(process.argv).catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
