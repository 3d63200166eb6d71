/**
 * e2e harness for a real node: a `keelson server` process (Cluster), a local docker-registry
 * seeded with keelson's busybox and kubia images (the docker.io mirror), and a `keelson agent`
 * process running its own containerd on a temporary dir, with a bridge name and pod range of
 * its own so that test files can run side by side. `stop()` ends the agent, then removes every
 * container, mount, the bridge and the dirs (Containerd.destroy) and stops the rest.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { BIN, Cluster, haveKubectl, waitFor } from './harness.js';
import { LocalRegistry } from '../../src/kubelet/images/local-registry.js';
import { Containerd } from '../../src/kubelet/containerd/containerd.js';
import { PAUSE_IMAGE } from '../../src/kubelet/images/catalog.js';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** Why node e2e tests cannot run here, or false. */
export function nodeSkipReason(): string | false {
  if (!haveKubectl()) return 'kubectl is not on the PATH';
  if (process.getuid?.() !== 0) return 'a node needs root';
  for (const b of ['containerd', 'runc', 'docker-registry', 'iptables']) if (!has(b)) return `${b} is not installed`;
  if (!has('busybox') && !spawnSync('test', ['-x', '/bin/busybox']).status) return 'busybox-static is not installed';
  return false;
}

export class NodeCluster {
  agent?: ChildProcess;
  agentLogs = '';
  registry!: LocalRegistry;
  readonly nodeName: string;
  readonly bridge: string;
  readonly podCIDR: string;
  readonly nodeDir: string;
  readonly manifestDir: string;
  /** This cluster's own service range and proxy chains, so test clusters never share rules. */
  readonly serviceCIDR: string;
  readonly chainPrefix: string;

  private constructor(readonly c: Cluster) {
    const id = randomBytes(3).toString('hex');
    this.nodeName = `node-${id}`;
    this.bridge = `kt${id}`;
    this.podCIDR = `10.244.${100 + (parseInt(id, 16) % 150)}.0/24`;
    this.serviceCIDR = `10.96.${100 + (parseInt(id, 16) % 150)}.0/24`;
    this.chainPrefix = `KT${id.toUpperCase()}`;
    this.nodeDir = join(c.dataDir, 'node');
    this.manifestDir = join(c.dataDir, 'manifests');
  }

  static async start(serverArgs: string[] = [], agentArgs: string[] = []): Promise<NodeCluster> {
    const c = new Cluster(mkdtempSync(join(tmpdir(), 'keelson-e2e-')), serverArgs);
    const n = new NodeCluster(c);
    c.extraArgs = ['--service-cluster-ip-range', n.serviceCIDR, ...serverArgs];
    await c.startProcess();
    try {
      n.registry = new LocalRegistry({ dir: join(c.dataDir, 'registry'), port: 0 });
      await n.registry.start();
      await n.registry.seedCatalog();
      await n.startAgent(agentArgs);
    } catch (err) {
      await n.stop();
      throw err;
    }
    return n;
  }

  async startAgent(extra: string[] = []): Promise<void> {
    this.agentLogs = '';
    this.agent = spawn(process.execPath, [BIN, 'agent', '--kubeconfig', this.c.kubeconfig, '--data-dir', this.nodeDir,
      '--node-name', this.nodeName, '--pod-cidr', this.podCIDR, '--bridge', this.bridge, '--kubelet-port', '0',
      '--registry-mirror', `docker.io=${this.registry.url}`, '--pod-manifest-path', this.manifestDir,
      '--service-cidr', this.serviceCIDR, '--proxy-chain-prefix', this.chainPrefix,
      // The ingress controller only where a test asks for it (on ports of its choosing), never on :80/:443.
      ...(extra.some((a) => a.startsWith('--ingress-')) ? [] : ['--no-ingress']), ...extra], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KEELSON_LOG: process.env.KEELSON_LOG ?? 'warn', KEELSON_BACKOFF_MS: '1000' },
    });
    this.agent.stdout!.on('data', (d) => { this.agentLogs += d; });
    this.agent.stderr!.on('data', (d) => { this.agentLogs += d; });
    const proc = this.agent;
    await waitFor(`node ${this.nodeName} Ready`, async () => {
      if (proc.exitCode !== null) throw new Error(`agent exited with ${proc.exitCode}: ${this.agentLogs}`);
      const out = await this.c.kubectl(['get', 'node', this.nodeName, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
      return out.stdout.trim() === 'True';
    }, 90_000, 200).catch((err) => { throw new Error(`${err.message}\nagent: ${this.agentLogs}`); });
  }

  async stopAgent(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const p = this.agent;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((r) => { p.once('exit', () => r()); p.kill(signal); });
  }

  async stop(): Promise<void> {
    await this.stopAgent().catch(() => undefined);
    try {
      const ctd = new Containerd({ dir: join(this.nodeDir, 'containerd'), podCIDR: this.podCIDR, bridgeName: this.bridge, sandboxImage: PAUSE_IMAGE });
      await ctd.start();
      await ctd.destroy();
    } catch { /* nothing was started */ }
    await this.registry?.stop().catch(() => undefined);
    await this.c.stop();
  }

  k(args: string[], opts: { input?: string } = {}) { return this.c.k(args, opts); }
  kubectl(args: string[], opts: { input?: string; timeoutMs?: number } = {}) { return this.c.kubectl(args, opts); }
  kjson(args: string[]) { return this.c.kjson(args); }

  apply(yaml: string) { return this.c.k(['apply', '-f', '-'], { input: yaml }); }

  async pod(name: string, ns = 'default'): Promise<any> {
    return this.c.kjson(['get', 'pod', name, '-n', ns]);
  }

  /** Waits until the pod satisfies `pred` and returns it. */
  waitPod(name: string, what: string, pred: (p: any) => boolean, timeoutMs = 60_000, ns = 'default'): Promise<any> {
    return waitFor(`pod ${name}: ${what}`, async () => {
      const r = await this.c.kubectl(['get', 'pod', name, '-n', ns, '-o', 'json']);
      if (r.code !== 0) return false;
      const p = JSON.parse(r.stdout);
      return pred(p) && p;
    }, timeoutMs, 250).catch(async (err) => {
      const r = await this.c.kubectl(['describe', 'pod', name, '-n', ns]);
      throw new Error(`${err.message}\n${r.stdout}\nagent: ${this.agentLogs.slice(-4000)}`);
    });
  }

  async events(name: string, ns = 'default'): Promise<string> {
    const list = await this.c.kjson(['get', 'events', '-n', ns, '--field-selector', `involvedObject.name=${name}`]);
    return list.items.map((e: any) => `${e.reason}: ${e.message}`).join('\n');
  }
}

export const ready = (p: any) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');
export const phase = (ph: string) => (p: any) => p.status?.phase === ph;
export const cstatus = (p: any, name: string) => [...(p.status?.containerStatuses ?? []), ...(p.status?.initContainerStatuses ?? [])].find((s: any) => s.name === name);

/** GET http://host:port/ with a fresh connection; the body, or a rejection (3 s timeout). */
export function httpGet(host: string, port: number): Promise<string> {
  return new Promise((res, rej) => {
    const req = http.get({ host, port, path: '/', agent: false, timeout: 3000 }, (r) => {
      let b = '';
      r.on('data', (d) => { b += d; });
      r.on('end', () => res(b));
    });
    req.on('error', rej);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}
