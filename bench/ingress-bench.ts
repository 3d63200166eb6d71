/**
 * Ingress benchmark, measured side by side in one run on this machine against a real
 * single-node cluster started with `keelson up` on a temporary data dir (its own bridge, pod
 * range, service range, iptables chain prefix and free ingress ports):
 *
 *   requests/s and latency (p50 / p99) of small GETs through the ingress controller (HTTP, and
 *   HTTPS with the certificate from a Secret) vs straight to the backend pod's IP, from the host.
 *
 * The backend is one pod running busybox's httpd (from the local registry's busybox image)
 * serving a 6-byte file; busybox httpd closes the connection after every response, so every
 * request costs the pod one TCP connection and one fork, on both paths alike (through the
 * ingress, the pod side of the connection is the controller's). The load generator is a
 * separate Node process (this file with `--loadgen`) with --connections keep-alive connections
 * to its target (to the pod it has to reconnect after each response), so it does not share an
 * event loop with anything it measures. Rounds of --seconds alternate direct / ingress HTTP /
 * ingress HTTPS (the order rotates every round) after a short warm-up; the ratio is given as the
 * median of the per-round ratios (robust on a shared, noisy machine) and as the ratio of the
 * totals. Goal: ingress HTTP / direct ≥ 0.7. The CPU the ingress controller process used during
 * its rounds is printed too. The cluster is always removed at the end (`keelson down --wipe`),
 * also on errors and SIGINT. Needs root, containerd, runc, the CNI plugins, docker-registry
 * and busybox-static.
 *
 *   npm run build && node dist/bench/ingress-bench.js [--rounds 6] [--seconds 3] [--connections 16]
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RestClient, type ResourceDescriptor } from '../src/client/index.js';
import { createCa, issueServingCert } from '../src/util/pki.js';

const BUILD = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const ROOT = resolve(BUILD, '..');
const BIN = join(ROOT, 'bin', 'keelson.js');
const SELF = fileURLToPath(import.meta.url);
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? Number(process.argv[i + 1]) : def;
};
const NS = 'ibench';
const HOST = 'bench.example.test';
const R = {
  namespaces: { group: '', version: 'v1', plural: 'namespaces', namespaced: false },
  pods: { group: '', version: 'v1', plural: 'pods', namespaced: true },
  services: { group: '', version: 'v1', plural: 'services', namespaced: true },
  secrets: { group: '', version: 'v1', plural: 'secrets', namespaced: true },
  deployments: { group: 'apps', version: 'v1', plural: 'deployments', namespaced: true },
  ingresses: { group: 'networking.k8s.io', version: 'v1', plural: 'ingresses', namespaced: true },
} satisfies Record<string, ResourceDescriptor>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: ArrayLike<number>, p: number) => { const s = Float64Array.from(xs).sort(); return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN; };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function waitFor(what: string, fn: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try { if (await fn()) return; } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '0.0.0.0', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

// ---- the load generator (a child process) ---------------------------------------------------------

interface LoadSpec { host: string; port: number; tls: boolean; hostHeader: string; connections: number; seconds: number }
interface LoadResult { requests: number; errors: number; firstError?: string; seconds: number; latenciesMs: number[] }

async function loadgen(spec: LoadSpec): Promise<LoadResult> {
  const mod = spec.tls ? https : http;
  const agent = new mod.Agent({ keepAlive: true, maxSockets: spec.connections, ...(spec.tls ? { rejectUnauthorized: false, servername: spec.hostHeader } : {}) });
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const one = () => new Promise<void>((resolveP, reject) => {
    const req = mod.request({ host: spec.host, port: spec.port, path: '/', headers: { host: spec.hostHeader }, agent, ...(spec.tls ? { servername: spec.hostHeader } : {}) }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => (res.statusCode === 200 ? resolveP() : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
  const t0 = performance.now();
  const end = t0 + spec.seconds * 1000;
  await Promise.all(Array.from({ length: spec.connections }, async () => {
    while (performance.now() < end) {
      const s = performance.now();
      try {
        await one();
        latencies.push(performance.now() - s);
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
      }
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  return { requests: latencies.length, errors, firstError, seconds, latenciesMs: latencies };
}

function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolveP, reject) => {
    const child = fork(SELF, ['--loadgen', JSON.stringify(spec)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
    let result: LoadResult | undefined;
    child.on('message', (m) => { result = m as LoadResult; });
    child.on('exit', (code) => (result ? resolveP(result) : reject(new Error(`load generator exited with ${code}`))));
  });
}

// ---- the cluster ----------------------------------------------------------------------------------

class Cluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'keelson-ibench-'));
  readonly dataDir = join(this.dir, 'data');
  readonly kubeconfig = join(this.dir, 'kubeconfig');
  readonly bridge: string;
  readonly podCIDR: string;
  readonly serviceCIDR: string;
  readonly chainPrefix: string;
  httpPort = 0;
  httpsPort = 0;
  proc?: ChildProcess;
  out = '';

  constructor() {
    const id = randomBytes(3).toString('hex');
    this.bridge = `ki${id}`;
    // Away from the e2e tests' ranges (10.244.50–249.0/24), as node-bench.
    this.podCIDR = `10.244.${250 + (parseInt(id, 16) % 5)}.0/24`;
    this.serviceCIDR = `10.96.${250 + (parseInt(id, 16) % 5)}.0/24`;
    this.chainPrefix = `KI${id.toUpperCase()}`;
  }

  async up(): Promise<void> {
    this.httpPort = await freePort();
    this.httpsPort = await freePort();
    const proc = spawn(process.execPath, [BIN, 'up', '--data-dir', this.dataDir, '--port', '0', '--kubeconfig', this.kubeconfig,
      '--kubelet-port', '0', '--pod-cidr', this.podCIDR, '--bridge', this.bridge, '--service-cidr', this.serviceCIDR,
      '--proxy-chain-prefix', this.chainPrefix, '--ingress-http-port', String(this.httpPort), '--ingress-https-port', String(this.httpsPort)], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KEELSON_LOG: 'warn', KEELSON_DIST: BUILD },
    });
    this.proc = proc;
    proc.stdout!.on('data', (d) => { this.out += d; });
    proc.stderr!.on('data', (d) => { this.out += d; });
    await waitFor('keelson up to report a Ready node', () => {
      if (proc.exitCode !== null) throw new Error(`keelson up exited with ${proc.exitCode}:\n${this.out}`);
      return /node \S+ is Ready/.test(this.out);
    }, 180_000, 50).catch((err) => { throw new Error(`${err.message}\n${this.out}`); });
    if (/ingress controller is not running/.test(this.out)) throw new Error(`the ingress controller did not start:\n${this.out}`);
  }

  async down(): Promise<void> {
    const d = spawn(process.execPath, [BIN, 'down', '--data-dir', this.dataDir, '--bridge', this.bridge, '--wipe'], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KEELSON_DIST: BUILD },
    });
    let out = '';
    d.stdout!.on('data', (x) => { out += x; });
    d.stderr!.on('data', (x) => { out += x; });
    const code = await new Promise<number | null>((r) => d.once('exit', (c) => r(c)));
    if (code !== 0) throw new Error(`keelson down failed (${code}): ${out}`);
    const p = this.proc;
    if (p) await waitFor('keelson up to exit', () => p.exitCode !== null || p.signalCode !== null, 60_000);
  }

  /** The ingress controller child of this cluster's `keelson up` process. */
  ingressPid(): number | undefined {
    for (const e of readdirSync('/proc')) {
      if (!/^\d+$/.test(e)) continue;
      try {
        const argv = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
        if (argv.some((a) => a.endsWith('child.js') || a === 'ingress') && argv.includes(String(this.httpPort))) return Number(e);
      } catch { /* gone */ }
    }
    return undefined;
  }
}

function cpuMs(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch { return NaN; }
}

async function deploy(client: RestClient): Promise<string> {
  await client.create(R.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }).catch(() => undefined);
  const ca = await createCa('ingress-bench-ca');
  const cert = await issueServingCert({ caCertPem: ca.certPem, caKeyPem: ca.keyPem }, HOST, [HOST]);
  await client.create(R.secrets, NS, {
    apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: 'bench-tls' },
    data: { 'tls.crt': Buffer.from(cert.certPem).toString('base64'), 'tls.key': Buffer.from(cert.keyPem).toString('base64') },
  });
  await client.create(R.deployments, NS, {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'echo' },
    spec: {
      replicas: 1, selector: { matchLabels: { app: 'echo' } },
      template: {
        metadata: { labels: { app: 'echo' } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [{
            name: 'httpd', image: 'busybox', ports: [{ containerPort: 8080, name: 'http' }],
            command: ['sh', '-c', 'mkdir -p /www && echo hello > /www/index.html && exec busybox httpd -f -p 8080 -h /www'],
            readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
          }],
        },
      },
    },
  });
  await client.create(R.services, NS, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'echo' }, spec: { selector: { app: 'echo' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } });
  // Two Ingresses: plain HTTP on one host, HTTPS (a TLS host redirects plain HTTP) on another.
  const rule = (host: string) => ({ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'echo', port: { name: 'http' } } } }] } });
  await client.create(R.ingresses, NS, { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'echo' }, spec: { rules: [rule(HOST)] } });
  await client.create(R.ingresses, NS, {
    apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'echo-tls' },
    spec: { tls: [{ hosts: [`tls.${HOST}`], secretName: 'bench-tls' }], rules: [rule(`tls.${HOST}`)] },
  });
  let podIP = '';
  await waitFor('the backend pod to be Ready', async () => {
    const pods = await client.list<any>(R.pods, NS, { labelSelector: 'app=echo' });
    const p = pods.items.find((x) => x.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'));
    podIP = p?.status?.podIP ?? '';
    return !!podIP;
  }, 120_000, 200);
  return podIP;
}

// ---- main -----------------------------------------------------------------------------------------

type Path = 'direct' | 'ingress' | 'ingress-tls';

async function main(): Promise<void> {
  const rounds = arg('rounds', 6);
  const seconds = arg('seconds', 3);
  const connections = arg('connections', 16);
  if (process.getuid?.() !== 0) throw new Error('the ingress benchmark needs root (containerd, runc, CNI)');
  const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');
  console.log(`# keelson ingress benchmark (${new Date().toISOString()}; load average ${load()})`);
  console.log(`# ${rounds} rounds × ${seconds} s per path, ${connections} keep-alive connections, GET / (6-byte body) from busybox httpd`);
  const cl = new Cluster();
  let stopping = false;
  const cleanup = async () => {
    if (stopping) return;
    stopping = true;
    try { await cl.down(); } catch (err) { console.error(`cleanup: ${(err as Error).message}`); }
    rmSync(cl.dir, { recursive: true, force: true });
  };
  const onSignal = (sig: NodeJS.Signals) => {
    console.error(`\n${sig}: removing the cluster (keelson down --wipe)…`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const results: Record<Path, LoadResult[]> = { direct: [], ingress: [], 'ingress-tls': [] };
  const ratios: Record<Exclude<Path, 'direct'>, number[]> = { ingress: [], 'ingress-tls': [] };
  let ingressCpu = 0;
  let ingressSeconds = 0;
  try {
    await cl.up();
    const client = RestClient.fromKubeconfig(cl.kubeconfig, undefined, { qps: Infinity });
    let podIP: string;
    try { podIP = await deploy(client); } finally { client.close(); }
    console.log(`backend pod ${podIP}:8080; ingress on :${cl.httpPort} (HTTP) and :${cl.httpsPort} (HTTPS)`);
    const specs: Record<Path, LoadSpec> = {
      direct: { host: podIP, port: 8080, tls: false, hostHeader: HOST, connections, seconds },
      ingress: { host: '127.0.0.1', port: cl.httpPort, tls: false, hostHeader: HOST, connections, seconds },
      'ingress-tls': { host: '127.0.0.1', port: cl.httpsPort, tls: true, hostHeader: `tls.${HOST}`, connections, seconds },
    };
    await waitFor('the ingress to route to the pod', async () => (await runLoad({ ...specs.ingress, connections: 1, seconds: 0.2 })).requests > 0, 60_000, 200);
    await waitFor('the HTTPS ingress to route to the pod', async () => (await runLoad({ ...specs['ingress-tls'], connections: 1, seconds: 0.2 })).requests > 0, 60_000, 200);
    const ingressPid = cl.ingressPid();
    for (const p of Object.keys(specs) as Path[]) await runLoad({ ...specs[p], seconds: 1 }); // warm-up
    const order: Path[] = ['direct', 'ingress', 'ingress-tls'];
    for (let r = 0; r < rounds; r++) {
      const thisRound = [...order.slice(r % 3), ...order.slice(0, r % 3)];
      const got: Partial<Record<Path, LoadResult>> = {};
      for (const p of thisRound) {
        const c0 = cpuMs(ingressPid);
        const t0 = performance.now();
        got[p] = await runLoad(specs[p]);
        if (p !== 'direct') { ingressCpu += cpuMs(ingressPid) - c0; ingressSeconds += (performance.now() - t0) / 1000; }
        results[p].push(got[p]!);
      }
      const rps = (p: Path) => got[p]!.requests / got[p]!.seconds;
      ratios.ingress.push(rps('ingress') / rps('direct'));
      ratios['ingress-tls'].push(rps('ingress-tls') / rps('direct'));
      console.log(`round ${r + 1} (${thisRound.join(', ')}): ${order.map((p) => `${p} ${rps(p).toFixed(0)}/s${got[p]!.errors ? ` (${got[p]!.errors} errors: ${got[p]!.firstError})` : ''}`).join(', ')}; ratio ingress/direct ${ratios.ingress.at(-1)!.toFixed(2)}`);
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await cleanup();
    console.log(`cluster removed (keelson down --wipe); load average ${load()} (other work on the machine skews every figure)`);
  }
  const total = (p: Path) => results[p].reduce((a, x) => a + x.requests, 0) / results[p].reduce((a, x) => a + x.seconds, 0);
  const lat = (p: Path) => { const all = results[p].flatMap((x) => x.latenciesMs); return `${pct(all, 50).toFixed(2)} ms / ${pct(all, 99).toFixed(2)} ms`; };
  const errors = (p: Path) => results[p].reduce((a, x) => a + x.errors, 0);
  const rows: [string, string, string][] = [
    ['requests/s straight to the pod IP (median round / total)', `${median(results.direct.map((x) => x.requests / x.seconds)).toFixed(0)} / ${total('direct').toFixed(0)}`, ''],
    ['requests/s through the ingress, HTTP', `${median(results.ingress.map((x) => x.requests / x.seconds)).toFixed(0)} / ${total('ingress').toFixed(0)}`, ''],
    ['requests/s through the ingress, HTTPS (keep-alive TLS)', `${median(results['ingress-tls'].map((x) => x.requests / x.seconds)).toFixed(0)} / ${total('ingress-tls').toFixed(0)}`, ''],
    ['**ratio ingress HTTP / direct** (median of rounds / totals)', `${median(ratios.ingress).toFixed(2)} / ${(total('ingress') / total('direct')).toFixed(2)}`, '≥ 0.7'],
    ['ratio ingress HTTPS / direct (median of rounds / totals)', `${median(ratios['ingress-tls']).toFixed(2)} / ${(total('ingress-tls') / total('direct')).toFixed(2)}`, ''],
    ['latency p50 / p99, direct', lat('direct'), ''],
    ['latency p50 / p99, ingress HTTP', lat('ingress'), ''],
    ['latency p50 / p99, ingress HTTPS', lat('ingress-tls'), ''],
    ['ingress controller CPU during its rounds', `${((ingressCpu / 1000 / ingressSeconds) * 100).toFixed(0)} % of a core`, ''],
    ['failed requests (direct / HTTP / HTTPS)', `${errors('direct')} / ${errors('ingress')} / ${errors('ingress-tls')}`, '0'],
  ];
  const w = [Math.max(...rows.map((r) => r[0].length)), Math.max(...rows.map((r) => r[1].length))];
  console.log(`\n${'figure'.padEnd(w[0])} | ${'measured'.padEnd(w[1])} | goal`);
  console.log(`${'-'.repeat(w[0])}-|-${'-'.repeat(w[1])}-|------`);
  for (const [a, b, c] of rows) console.log(`${a.padEnd(w[0])} | ${b.padEnd(w[1])} | ${c}`);
}

if (process.argv[2] === '--loadgen') {
  loadgen(JSON.parse(process.argv[3])).then((r) => process.send!(r, () => process.exit(0)), (err) => { console.error(err); process.exit(1); });
} else if (process.argv[1] && resolve(process.argv[1]) === SELF) {
  main().catch((err) => { console.error(err); process.exit(1); });
}
