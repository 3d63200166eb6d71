/**
 * The node-side commands: `keelson agent`, and `keelson up` / `keelson down`, which start and
 * stop a whole single-node cluster in one process: API server, controller manager, scheduler,
 * a local image registry (Debian's docker-registry, seeded with keelson's own busybox and kubia
 * images and used as containerd's docker.io mirror), and the node agent.
 */
import { setMaxListeners } from 'node:events';
import { existsSync, readFileSync, rmSync, writeFileSync, unlinkSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { APIServer } from '../apiserver/apiserver.js';
import { RestClient } from '../client/index.js';
import { startControllerManager } from '../controllers/run.js';
import { startScheduler } from '../scheduler/run.js';
import { startAgent, type RunningAgent } from './agent.js';
import { LocalRegistry } from '../kubelet/images/local-registry.js';
import { Containerd } from '../kubelet/containerd/containerd.js';
import { mergeIntoKubeconfig } from './kubeconfig.js';
import { cleanup as proxyCleanup } from '../proxy/index.js';

type OnSignals = (stop: () => Promise<void>) => void;
const say = (m: string) => process.stdout.write(`keelson: ${m}\n`);

function parseMirrors(list: string[] | undefined): Record<string, string> | undefined {
  if (!list?.length) return undefined;
  const out: Record<string, string> = {};
  for (const item of list) {
    const i = item.indexOf('=');
    if (i <= 0) throw new Error(`--registry-mirror wants host=url, got ${JSON.stringify(item)}`);
    out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}

function caFromKubeconfig(path: string): string {
  const text = readFileSync(path, 'utf8');
  const m = text.match(/certificate-authority-data:\s*(\S+)/);
  if (m) return Buffer.from(m[1], 'base64').toString('utf8');
  const f = text.match(/certificate-authority:\s*(\S+)/);
  if (f) return readFileSync(f[1], 'utf8');
  throw new Error(`${path} has no certificate-authority: the agent needs the cluster CA`);
}

export async function runAgentCommand(o: Record<string, any>, onSignals: OnSignals): Promise<void> {
  const ac = new AbortController();
  // The components of this process (controllers, scheduler, kubelet, proxy, DNS) all stop on it.
  setMaxListeners(0, ac.signal);
  const client = RestClient.fromKubeconfig(o.kubeconfig);
  let agent: RunningAgent | undefined;
  onSignals(async () => { ac.abort(); await agent?.stop(); client.close(); });
  agent = await startAgent({
    client, dataDir: o.dataDir, nodeName: o.nodeName, hostIP: o.nodeIp, podCIDR: o.podCidr, clusterCIDR: o.clusterCidr,
    serviceCIDR: o.serviceCidr, clusterDNS: o.clusterDns, dns: o.dns, containerRuntimeEndpoint: o.containerRuntimeEndpoint,
    registryMirrors: parseMirrors(o.registryMirror), kubeletPort: Number(o.kubeletPort), bridgeName: o.bridge,
    clientCaPem: caFromKubeconfig(o.kubeconfig), progress: say, staticPodPath: o.podManifestPath,
    proxy: o.proxy, proxyChainPrefix: o.proxyChainPrefix,
    ingress: o.ingress === false ? false : { kubeconfig: o.kubeconfig, httpPort: Number(o.ingressHttpPort ?? 80), httpsPort: Number(o.ingressHttpsPort ?? 443) },
    // Crash-loop back-off start (default 10 s as the kubelet); tests shorten it.
    backoffInitialMs: process.env.KEELSON_BACKOFF_MS ? Number(process.env.KEELSON_BACKOFF_MS) : undefined,
  }, ac.signal);
  say(`node ${agent.kubelet.opts.nodeName} is running (kubelet on :${agent.server.port})`);
}

const pidFile = (dataDir: string) => join(dataDir, 'keelson.pid');

/** Whether a process runs (a zombie — exited, not yet reaped by its parent — does not). */
function alive(pid: number): boolean {
  try { process.kill(pid, 0); } catch { return false; }
  try { return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0] !== 'Z'; } catch { return true; }
}

export async function runUp(o: Record<string, any>, onSignals: OnSignals): Promise<void> {
  const t0 = Date.now();
  const dataDir: string = o.dataDir;
  mkdirSync(dataDir, { recursive: true });
  const pf = pidFile(dataDir);
  if (existsSync(pf)) {
    const pid = Number(readFileSync(pf, 'utf8'));
    if (pid && alive(pid) && pid !== process.pid) throw new Error(`keelson is already running from ${dataDir} (pid ${pid}); stop it with \`keelson down\``);
  }
  writeFileSync(pf, String(process.pid));
  say(`starting the API server (data in ${dataDir})…`);
  const server = new APIServer({ dataDir, port: Number(o.port), serviceCIDR: o.serviceCidr });
  const ac = new AbortController();
  // The components of this process (controllers, scheduler, kubelet, proxy, DNS) all stop on it.
  setMaxListeners(0, ac.signal);
  let agent: RunningAgent | undefined;
  let registry: LocalRegistry | undefined;
  let client: RestClient | undefined;
  onSignals(async () => {
    say('stopping…');
    ac.abort();
    if (agent) {
      // A clean stop: the pods' sandboxes stop with the node (they come back at the next `up`).
      const sbs = await agent.runtime.listPodSandbox().catch(() => []);
      await Promise.all(sbs.map((s) => agent!.runtime.stopPodSandbox(s.id).catch(() => undefined)));
      await agent.stop();
    }
    await registry?.stop();
    client?.close();
    await server.stop();
    try { unlinkSync(pf); } catch { /* gone */ }
    say('stopped');
  });
  await server.start();
  say('starting the controller manager and the scheduler…');
  startControllerManager(server.kubeconfigPath, ac.signal);
  startScheduler(server.kubeconfigPath, ac.signal);
  mergeIntoKubeconfig(o.kubeconfig, readFileSync(server.kubeconfigPath, 'utf8'));
  say(`API server ready at ${server.url}`);
  if (o.agent) {
    let mirrors: Record<string, string> | undefined;
    if (spawnSync('sh', ['-c', 'command -v docker-registry'], { encoding: 'utf8' }).status === 0) {
      say('starting the local image registry (docker.io mirror with busybox and luksa/kubia)…');
      registry = new LocalRegistry({ dir: join(dataDir, 'registry'), port: 0 });
      await registry.start();
      await registry.seedCatalog();
      mirrors = { 'docker.io': registry.url };
    } else {
      say('docker-registry is not installed: images can only come from their registries');
    }
    client = RestClient.fromKubeconfig(server.kubeconfigPath);
    // Remembered for `keelson down --wipe`, which removes the bridge.
    writeFileSync(join(dataDir, 'node.json'), JSON.stringify({ bridge: o.bridge, podCIDR: o.podCidr, proxyChainPrefix: o.proxyChainPrefix }));
    agent = await startAgent({
      client, dataDir: join(dataDir, 'node'), podCIDR: o.podCidr, clusterCIDR: '10.244.0.0/16', serviceCIDR: o.serviceCidr,
      registryMirrors: mirrors, kubeletPort: Number(o.kubeletPort), bridgeName: o.bridge, clientCaPem: server.pki.caCertPem, progress: say,
      staticPodPath: join(dataDir, 'manifests'), proxyChainPrefix: o.proxyChainPrefix,
      ingress: o.ingress === false ? false : { kubeconfig: server.kubeconfigPath, httpPort: Number(o.ingressHttpPort ?? 80), httpsPort: Number(o.ingressHttpsPort ?? 443) },
      backoffInitialMs: process.env.KEELSON_BACKOFF_MS ? Number(process.env.KEELSON_BACKOFF_MS) : undefined,
    }, ac.signal);
    const node = agent.kubelet.opts.nodeName;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const n = await client.get<any>({ group: '', version: 'v1', plural: 'nodes', namespaced: false }, undefined, node).catch(() => undefined);
      if (n?.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')) break;
      if (Date.now() > deadline) { say(`node ${node} is not Ready yet; check \`kubectl describe node ${node}\``); break; }
      await new Promise((r) => setTimeout(r, 100));
    }
    say(`node ${node} is Ready (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
  say(`kubeconfig: context "keelson" in ${o.kubeconfig} (also ${server.kubeconfigPath})`);
  say('try: kubectl get nodes; stop with: keelson down');
}

export async function runDown(o: Record<string, any>): Promise<void> {
  const dataDir: string = o.dataDir;
  const pf = pidFile(dataDir);
  if (existsSync(pf)) {
    const pid = Number(readFileSync(pf, 'utf8'));
    if (pid && alive(pid)) {
      say(`stopping keelson (pid ${pid})…`);
      process.kill(pid, 'SIGTERM');
      const deadline = Date.now() + 60_000;
      while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      if (alive(pid)) { say('still running after 60 s; sending SIGKILL'); process.kill(pid, 'SIGKILL'); }
    }
    try { unlinkSync(pf); } catch { /* gone */ }
  } else {
    say(`keelson is not running from ${dataDir}`);
  }
  let node: { bridge?: string; podCIDR?: string; proxyChainPrefix?: string } = {};
  try { node = JSON.parse(readFileSync(join(dataDir, 'node.json'), 'utf8')); } catch { /* defaults */ }
  if (o.wipe) {
    say('wiping containers, images and cluster state…');
    const ctdDir = join(dataDir, 'node', 'containerd');
    if (existsSync(ctdDir)) {
      const ctd = new Containerd({ dir: ctdDir, podCIDR: node.podCIDR ?? '10.244.0.0/24', bridgeName: node.bridge ?? o.bridge, sandboxImage: 'keelson.local/pause:3.10' });
      await ctd.start().catch(() => undefined);
      await ctd.destroy().catch((err: Error) => say(`could not clean containerd: ${err.message}`));
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
  // Safety net: the service proxy removes its rules when it stops; if the agent died, do it here.
  await proxyCleanup(node.proxyChainPrefix ?? 'KEELSON').catch(() => undefined);
  say('down');
}
