/**
 * Node benchmarks (issue 5 figures), measured side by side in one run on this machine against a
 * real single-node cluster started with `keelson up` on a temporary data dir:
 *  1. `keelson up` on an empty data dir to the "node … is Ready" line (cold), and again after
 *     `keelson down` on the same dir (warm); goal ≤ 5 s.
 *  2. pod startup latency with the image present (a first pod pulls busybox): N = 50 busybox pods
 *     (`sleep 3600`, restartPolicy Never, small requests, imagePullPolicy IfNotPresent) created
 *     on a fixed schedule, create request sent → Running + Ready seen through a watch
 *     (client-side clock), p50/p99. The baseline, in the same run on the same containerd:
 *     N × (RunPodSandbox with a config like the kubelet's + CreateContainer + StartContainer)
 *     straight through the CRI, on the same schedule. Two schedules by default (--interval-ms):
 *     one pod every 500 ms (2/s, the figure with the goals: keelson p99 ≤ 1 s and keelson p99 /
 *     CRI p99 ≤ 1.5), then one every 100 ms (10/s, which saturates even the bare CRI on 2 cores).
 *     Where the time goes is printed too (events, watch milestones, CPU of keelson and containerd).
 *  3. idle RSS after the pods are gone and the cluster has idled 10 s: the `keelson up` process
 *     (goal ≤ 200 MiB), containerd (+ its shims) and docker-registry.
 * The cluster is always removed at the end (`keelson down --wipe`), also on errors and SIGINT.
 * Needs root, containerd, runc, the CNI plugins, docker-registry and busybox-static.
 *
 *   npm run build && node dist/bench/node-bench.js [--pods 50] [--interval-ms 500,100] [--idle-s 10]
 *     [--node-flags '--trace-gc'] [--up-log /tmp/up.log]   (profiling the `up` process)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RestClient, type ResourceDescriptor, type WatchEvent } from '../src/client/index.js';
import { GrpcRuntime } from '../src/kubelet/cri/grpc-client.js';
import type { ContainerConfig, PodSandboxConfig } from '../src/kubelet/cri/api.js';
import { containerdPaths } from '../src/kubelet/containerd/containerd.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const BIN = join(ROOT, 'bin', 'keelson.js');
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const sarg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
/** For profiling: node flags for the `up` process (e.g. "--trace-gc --cpu-prof"), and a file that gets its output. */
const NODE_FLAGS = sarg('node-flags')?.split(/\s+/).filter(Boolean) ?? [];
const UP_LOG = sarg('up-log');
const NS = 'nbench';
const PODS: ResourceDescriptor = { group: '', version: 'v1', plural: 'pods', namespaced: true };
const EVENTS: ResourceDescriptor = { group: '', version: 'v1', plural: 'events', namespaced: true };
const NAMESPACES: ResourceDescriptor = { group: '', version: 'v1', plural: 'namespaces', namespaced: false };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now(); // ms since the epoch, sub-ms resolution
const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };
const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(0)} ms` : 'n/a');
const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;

async function waitFor(what: string, fn: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

// ---- the cluster ----------------------------------------------------------------------------------

class Cluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'keelson-nbench-'));
  readonly dataDir = join(this.dir, 'data');
  readonly kubeconfig = join(this.dir, 'kubeconfig');
  readonly bridge: string;
  readonly podCIDR: string;
  proc?: ChildProcess;
  out = '';

  constructor() {
    const id = randomBytes(3).toString('hex');
    this.bridge = `kb${id}`;
    // Away from the e2e tests' ranges (10.244.50–249.0/24).
    this.podCIDR = `10.244.${250 + (parseInt(id, 16) % 5)}.0/24`;
  }

  /** Spawns `keelson up`; resolves at the Ready line with the wall time and each progress line's time. */
  async up(): Promise<{ wallMs: number; reported: string; steps: { atMs: number; line: string }[] }> {
    this.out = '';
    const steps: { atMs: number; line: string }[] = [];
    const t0 = now();
    const proc = spawn(process.execPath, [...NODE_FLAGS, BIN, 'up', '--data-dir', this.dataDir, '--port', '0', '--kubeconfig', this.kubeconfig,
      '--kubelet-port', '0', '--pod-cidr', this.podCIDR, '--bridge', this.bridge], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // /debug/memory (a full GC, then process.memoryUsage()) is read after the idle RSS.
      env: { ...process.env, KEELSON_LOG: 'warn', KEELSON_DEBUG_MEMORY: '1', NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --expose-gc`.trim() },
    });
    if (UP_LOG) {
      const log = createWriteStream(UP_LOG, { flags: 'a' });
      proc.stdout!.pipe(log, { end: false });
      proc.stderr!.pipe(log, { end: false });
    }
    this.proc = proc;
    let partial = '';
    let readyAt = 0;
    proc.stdout!.on('data', (d) => {
      const t = now();
      this.out += d;
      partial += d;
      let nl: number;
      while ((nl = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        steps.push({ atMs: t - t0, line });
        if (!readyAt && /node \S+ is Ready/.test(line)) readyAt = t;
      }
    });
    proc.stderr!.on('data', (d) => { this.out += d; });
    await waitFor('keelson up to report a Ready node', () => {
      if (proc.exitCode !== null) throw new Error(`keelson up exited with ${proc.exitCode}:\n${this.out}`);
      return readyAt > 0;
    }, 180_000, 5);
    const reported = /is Ready \(([\d.]+ s)\)/.exec(this.out)?.[1] ?? '?';
    return { wallMs: readyAt - t0, reported, steps };
  }

  /** `keelson down` (optionally --wipe); resolves when the `up` process has exited too. */
  async down(wipe: boolean): Promise<number> {
    const t0 = now();
    // Not spawnSync: a blocked event loop would not reap the exited `up` child, and `down`
    // (which polls the pid with kill 0) would wait its full 60 s for the zombie.
    const d = spawn(process.execPath, [BIN, 'down', '--data-dir', this.dataDir, '--bridge', this.bridge, ...(wipe ? ['--wipe'] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    d.stdout!.on('data', (x) => { out += x; });
    d.stderr!.on('data', (x) => { out += x; });
    const code = await new Promise<number | null>((r) => d.once('exit', (c) => r(c)));
    if (code !== 0) throw new Error(`keelson down failed (${code}): ${out}`);
    const p = this.proc;
    if (p) await waitFor('keelson up to exit', () => p.exitCode !== null || p.signalCode !== null, 60_000);
    return now() - t0;
  }

  client(): RestClient {
    return RestClient.fromKubeconfig(this.kubeconfig, undefined, { qps: Infinity, burst: 1000 });
  }

  get containerdDir(): string { return join(this.dataDir, 'node', 'containerd'); }
}

/** After a full GC in the `up` process: its RSS and V8 heap (the RSS measured before is the figure). */
async function afterGC(client: RestClient, pid: number): Promise<string> {
  try {
    const m = await client.requestJSON<{ heapUsed: number; heapTotal: number; external: number; arrayBuffers: number }>('GET', '/debug/memory');
    const M = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
    return `after a full GC: RSS ${mib(rssKiB(pid))}, V8 heap used ${M(m.heapUsed)} of ${M(m.heapTotal)}, external ${M(m.external)} (array buffers ${M(m.arrayBuffers)})`;
  } catch (err) {
    return `(no /debug/memory: ${(err as Error).message})`;
  }
}

// ---- /proc ----------------------------------------------------------------------------------------

function rssKiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch { return NaN; }
}

/** utime + stime of a process, in ms. */
function cpuMs(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // USER_HZ = 100
  } catch { return NaN; }
}

function processes(): { pid: number; argv: string[] }[] {
  const out: { pid: number; argv: string[] }[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const argv = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (argv.length) out.push({ pid: Number(e), argv });
    } catch { /* gone */ }
  }
  return out;
}

// ---- pods -----------------------------------------------------------------------------------------

function podBody(name: string): any {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: NS, labels: { app: 'nbench' } },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 1,
      containers: [{
        name: 'main', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'],
        resources: { requests: { cpu: '10m', memory: '16Mi' } },
      }],
    },
  };
}

const isReady = (p: any) => p?.status?.phase === 'Running' && (p.status.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');

interface PodTimes {
  sent: number;
  created?: number;
  scheduled?: number; // spec.nodeName first seen (watch)
  running?: number; // phase Running first seen (watch)
  ready?: number; // Running + Ready first seen (watch)
  events: Map<string, number>; // reason → emitted at (decoded from the Event's name), or received at
}

/**
 * Watches pods and events in the namespace; `times` gets each pod's milestones. Event names are
 * `<object>.<hex of ms·1e6 + random>` (see EventRecorder), which gives the emitter's own clock
 * (same machine) in ms, free of the recorder's queueing; the receive time is the fallback.
 */
function watchAll(client: RestClient, rv: { pods: string; events: string }, times: Map<string, PodTimes>, signal: AbortSignal): Promise<unknown> {
  const onPod = (ev: WatchEvent) => {
    const t = now();
    const p = ev.object;
    const pt = times.get(p?.metadata?.name);
    if (!pt || (ev.type !== 'ADDED' && ev.type !== 'MODIFIED')) return;
    if (!pt.scheduled && p.spec?.nodeName) pt.scheduled = t;
    if (!pt.running && p.status?.phase === 'Running') pt.running = t;
    if (!pt.ready && isReady(p)) pt.ready = t;
  };
  const onEvent = (ev: WatchEvent) => {
    const t = now();
    const e = ev.object;
    if (ev.type !== 'ADDED' || e?.involvedObject?.kind !== 'Pod') return;
    const pt = times.get(e.involvedObject.name);
    if (!pt || pt.events.has(e.reason)) return;
    let at = t;
    const m = /\.([0-9a-f]+)$/.exec(e.metadata?.name ?? '');
    if (m) {
      const emitted = Number(BigInt(`0x${m[1]}`) / 1_000_000n);
      if (Math.abs(emitted - t) < 60_000) at = emitted;
    }
    pt.events.set(e.reason, at);
  };
  const keep = async (fn: () => Promise<void>) => {
    while (!signal.aborted) {
      try { await fn(); } catch (err) { if (!signal.aborted) console.error(`watch: ${(err as Error).message}`); }
      if (!signal.aborted) await sleep(100);
    }
  };
  return Promise.all([
    keep(() => client.watch(PODS, NS, { resourceVersion: rv.pods }, onPod, signal)),
    keep(() => client.watch(EVENTS, NS, { resourceVersion: rv.events }, onEvent, signal)),
  ]);
}

async function ensureNamespace(client: RestClient): Promise<void> {
  await client.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }).catch((err) => {
    if ((err as { code?: number }).code !== 409) throw err;
  });
}

/** Creates one pod and waits for it to be Running + Ready (retrying while the namespace's service account is missing). */
async function warmPod(client: RestClient): Promise<number> {
  const t0 = now();
  await waitFor('the warm-up pod to be created', async () => {
    try { await client.create(PODS, NS, podBody('warm')); return true; } catch (err) {
      if ((err as { code?: number }).code === 409) return true;
      return false;
    }
  }, 30_000, 100);
  await waitFor('the warm-up pod to be Ready', async () => isReady(await client.get(PODS, NS, 'warm')), 120_000, 50);
  return now() - t0;
}

async function deletePods(client: RestClient, runtime: GrpcRuntime): Promise<number> {
  const t0 = now();
  const list = await client.list<any>(PODS, NS);
  await Promise.all(list.items.map((p) => client.delete(PODS, NS, p.metadata.name, { gracePeriodSeconds: 1 }).catch(() => undefined)));
  await waitFor('the pods to be deleted', async () => (await client.list(PODS, NS)).items.length === 0, 120_000, 100);
  // …and the kubelet to have removed their sandboxes from containerd.
  await waitFor('the kubelet to remove the sandboxes', async () => (await runtime.listPodSandbox()).length === 0, 120_000, 100);
  return now() - t0;
}

async function benchPods(client: RestClient, n: number, intervalMs: number): Promise<{ lat: number[]; times: Map<string, PodTimes>; createMs: number[] }> {
  const [pl, el] = await Promise.all([client.list(PODS, NS), client.list(EVENTS, NS)]);
  const times = new Map<string, PodTimes>();
  for (let i = 0; i < n; i++) times.set(`p-${i}`, { sent: 0, events: new Map() });
  const ac = new AbortController();
  const watching = watchAll(client, { pods: pl.metadata!.resourceVersion!, events: el.metadata!.resourceVersion! }, times, ac.signal);
  await sleep(200); // the watches are open
  const t0 = now();
  const creates: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const at = t0 + i * intervalMs;
    const wait = at - now();
    if (wait > 0) await sleep(wait);
    const pt = times.get(`p-${i}`)!;
    pt.sent = now();
    creates.push(client.create(PODS, NS, podBody(`p-${i}`)).then(() => { pt.created = now(); }));
  }
  await Promise.all(creates);
  try {
    await waitFor('every pod to be Running and Ready', () => [...times.values()].every((t) => t.ready), 180_000, 20);
    await sleep(1500); // late events (the recorder writes them off the kubelet's path)
  } finally {
    ac.abort();
    await watching;
  }
  const all = [...times.values()];
  return { lat: all.map((t) => t.ready! - t.sent), times, createMs: all.map((t) => t.created! - t.sent) };
}

// ---- the CRI baseline -----------------------------------------------------------------------------

/** A sandbox config shaped like the kubelet's (runtime-manager.ts sandboxConfig), under labels the kubelet ignores. */
function criSandboxConfig(name: string, uid: string, logRoot: string): PodSandboxConfig {
  return {
    metadata: { name, uid, namespace: 'nbench-cri', attempt: 0 },
    hostname: name,
    logDirectory: join(logRoot, `nbench-cri_${name}_${uid}`),
    dnsConfig: { servers: [], searches: [], options: [] },
    portMappings: [],
    labels: { 'bench.keelson.io/pod.name': name, 'bench.keelson.io/pod.namespace': 'nbench-cri', 'bench.keelson.io/pod.uid': uid },
    annotations: {},
    linux: {
      cgroupParent: `/kubepods/burstable/pod${uid}`,
      securityContext: { namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' }, supplementalGroups: [] },
      sysctls: {},
    },
  };
}

function criContainerConfig(name: string, uid: string): ContainerConfig {
  return {
    metadata: { name: 'main', attempt: 0 },
    image: { image: 'busybox' },
    command: ['sleep', '3600'],
    envs: [],
    mounts: [],
    labels: { 'bench.keelson.io/pod.name': name, 'bench.keelson.io/pod.uid': uid, 'bench.keelson.io/container.name': 'main' },
    annotations: {},
    logPath: 'main/0.log',
    linux: {
      resources: { cpuShares: 10, oomScoreAdj: 999 },
      securityContext: {
        privileged: false, capabilities: { addCapabilities: [], dropCapabilities: [] },
        namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' }, supplementalGroups: [],
      },
    },
  };
}

interface CriTimes { total: number; run: number; create: number; start: number }

async function benchCri(runtime: GrpcRuntime, n: number, intervalMs: number, logRoot: string): Promise<CriTimes[]> {
  const ids: string[] = [];
  const t0 = now();
  const runs: Promise<CriTimes>[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const at = t0 + i * intervalMs;
      const wait = at - now();
      if (wait > 0) await sleep(wait);
      runs.push((async () => {
        const name = `c-${i}`;
        const uid = randomBytes(16).toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');
        const s = now();
        const cfg = criSandboxConfig(name, uid, logRoot);
        mkdirSync(join(cfg.logDirectory!, 'main'), { recursive: true });
        const id = await runtime.runPodSandbox(cfg);
        ids.push(id);
        const a = now();
        const cid = await runtime.createContainer(id, criContainerConfig(name, uid), cfg);
        const b = now();
        await runtime.startContainer(cid);
        const e = now();
        return { total: e - s, run: a - s, create: b - a, start: e - b };
      })());
    }
    return await Promise.all(runs);
  } finally {
    // Stop and remove every baseline sandbox (and its container) before moving on.
    await Promise.allSettled(runs);
    const all = (await runtime.listPodSandbox().catch(() => [])).filter((s) => s.labels?.['bench.keelson.io/pod.uid']).map((s) => s.id);
    await Promise.all([...new Set([...ids, ...all])].map(async (id) => {
      await runtime.stopPodSandbox(id).catch(() => undefined);
      await runtime.removePodSandbox(id).catch(() => undefined);
    }));
    rmSync(logRoot, { recursive: true, force: true });
  }
}

// ---- main -----------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const nPods = arg('pods', 50);
  // Pod arrival schedules, one run of pods + baseline each; the first carries the goals.
  const intervals = (sarg('interval-ms') ?? '500,100').split(',').map(Number);
  const idleS = arg('idle-s', 10);
  if (process.getuid?.() !== 0) throw new Error('the node benchmark needs root (containerd, runc, CNI)');
  const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');
  console.log(`# keelson node benchmark (${new Date().toISOString()}; load average ${load()})`);
  const cl = new Cluster();
  let stopping = false;
  const cleanup = async () => {
    if (stopping) return;
    stopping = true;
    try { await cl.down(true); } catch (err) { console.error(`cleanup: ${(err as Error).message}`); }
    rmSync(cl.dir, { recursive: true, force: true });
  };
  const onSignal = (sig: NodeJS.Signals) => {
    console.error(`\n${sig}: removing the cluster (keelson down --wipe)…`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const rows: [string, string, string][] = [];
  try {
    // 1. up, cold then warm.
    const cold = await cl.up();
    console.log(`keelson up, empty data dir → Ready: ${ms(cold.wallMs)} (up reports ${cold.reported})`);
    for (const s of cold.steps) console.log(`  ${s.atMs.toFixed(0).padStart(6)} ms  ${s.line}`);
    const downMs = await cl.down(false);
    console.log(`keelson down (keeps the data): ${ms(downMs)}`);
    const warm = await cl.up();
    console.log(`keelson up again on the same data dir → Ready: ${ms(warm.wallMs)} (up reports ${warm.reported})`);
    for (const s of warm.steps) console.log(`  ${s.atMs.toFixed(0).padStart(6)} ms  ${s.line}`);
    rows.push(['keelson up → Ready, empty data dir (cold)', ms(cold.wallMs), '≤ 5 s']);
    rows.push(['keelson up → Ready after down (warm)', ms(warm.wallMs), '≤ 5 s']);

    // 2. pod startup, then the CRI baseline on the same containerd, at each rate.
    const client = cl.client();
    const runtime = new GrpcRuntime(containerdPaths(cl.containerdDir).socket);
    try {
      await ensureNamespace(client);
      const warmMs = await warmPod(client);
      console.log(`warm-up pod (pulls busybox from the local registry): created → Ready in ${ms(warmMs)}`);
      await deletePods(client, runtime);
      const upPid = cl.proc!.pid!;
      const ctdPid = Number(readFileSync(containerdPaths(cl.containerdDir).pidFile, 'utf8'));
      await sleep(idleS * 1000);
      const rssBefore = { up: rssKiB(upPid), ctd: rssKiB(ctdPid) };
      console.log(`idle, ${idleS} s after Ready and the warm-up pod: keelson up RSS ${mib(rssBefore.up)}, containerd RSS ${mib(rssBefore.ctd)}`);
      console.log(`  keelson up ${await afterGC(client, upPid)}`);
      const cpu = () => ({ t: now(), up: cpuMs(upPid), ctd: cpuMs(ctdPid) });
      const busy = (a: ReturnType<typeof cpu>, b: ReturnType<typeof cpu>) =>
        `keelson up ${(((b.up - a.up) / (b.t - a.t)) * 100).toFixed(0)} %, containerd ${(((b.ctd - a.ctd) / (b.t - a.t)) * 100).toFixed(0)} % of a core`;

      for (const [k, intervalMs] of intervals.entries()) {
        const rate = intervalMs > 0 ? `one every ${intervalMs} ms, ${+(1000 / intervalMs).toFixed(1)}/s` : 'all at once';
        const c0 = cpu();
        const { lat, times, createMs } = await benchPods(client, nPods, intervalMs);
        const c1 = cpu();
        const kp50 = pct(lat, 50), kp99 = pct(lat, 99);
        console.log(`${nPods} pods created ${rate}: create sent → Running+Ready seen by a watch: p50 ${ms(kp50)}, p99 ${ms(kp99)} (= max of ${nPods})`);
        // Where the time goes: each milestone's offset from the create request, p50 / p99 over the pods.
        const steps: [string, (t: PodTimes) => number | undefined][] = [
          ['create response', (t) => t.created],
          ['Scheduled event (scheduler clock)', (t) => t.events.get('Scheduled')],
          ['spec.nodeName seen (watch)', (t) => t.scheduled],
          ['Pulled event (kubelet clock)', (t) => t.events.get('Pulled')],
          ['Created event', (t) => t.events.get('Created')],
          ['Started event', (t) => t.events.get('Started')],
          ['phase Running seen (watch)', (t) => t.running],
          ['Running + Ready seen (watch)', (t) => t.ready],
        ];
        console.log('  where the time goes (ms after the create request was sent, p50 / p99 over the pods):');
        for (const [label, f] of steps) {
          const xs = [...times.values()].map((t) => { const v = f(t); return v === undefined ? NaN : v - t.sent; }).filter(Number.isFinite);
          console.log(`    ${label.padEnd(36)} ${xs.length ? `${pct(xs, 50).toFixed(0).padStart(5)} / ${pct(xs, 99).toFixed(0).padStart(5)}` : 'n/a'}${xs.length < nPods ? `  (${xs.length}/${nPods} seen)` : ''}`);
        }
        const slowest = [...times.entries()].sort((a, b) => (b[1].ready! - b[1].sent) - (a[1].ready! - a[1].sent))[0];
        if (slowest) {
          const [name, t] = slowest;
          const parts = [`created +${(t.created! - t.sent).toFixed(0)}`, ...[...t.events.entries()].sort((a, b) => a[1] - b[1]).map(([r, at]) => `${r} +${(at - t.sent).toFixed(0)}`),
            `Running +${(t.running! - t.sent).toFixed(0)}`, `Ready +${(t.ready! - t.sent).toFixed(0)}`];
          console.log(`  slowest pod ${name}: ${parts.join(', ')} ms`);
        }
        console.log(`  create → Ready of each pod in creation order (ms): ${[...times.values()].map((t) => (t.ready! - t.sent).toFixed(0)).join(' ')}`);
        console.log(`  create request → response: p50 ${ms(pct(createMs, 50))}, p99 ${ms(pct(createMs, 99))}`);
        console.log(`  CPU from the first create to the last pod Ready (${ms(c1.t - c0.t)}): ${busy(c0, c1)}`);
        const delMs = await deletePods(client, runtime);
        console.log(`  deleting the ${nPods} pods (grace 1 s) until the kubelet removed their sandboxes: ${ms(delMs)}`);

        const c2 = cpu();
        const cri = await benchCri(runtime, nPods, intervalMs, join(cl.dir, 'cri-logs'));
        const c3 = cpu();
        const tot = cri.map((t) => t.total);
        const cp50 = pct(tot, 50), cp99 = pct(tot, 99);
        console.log(`CRI baseline, ${nPods} × (RunPodSandbox + CreateContainer + StartContainer), ${rate}: p50 ${ms(cp50)}, p99 ${ms(cp99)}`);
        console.log(`  RunPodSandbox p50 ${ms(pct(cri.map((t) => t.run), 50))}, CreateContainer p50 ${ms(pct(cri.map((t) => t.create), 50))}, StartContainer p50 ${ms(pct(cri.map((t) => t.start), 50))}`);
        console.log(`  each pod in start order (ms): ${tot.map((x) => x.toFixed(0)).join(' ')}`);
        console.log(`  CPU during the baseline incl. its cleanup (${ms(c3.t - c2.t)}): ${busy(c2, c3)}`);
        const goal = k === 0;
        rows.push([`pod create → Running+Ready, p50 / p99 (${nPods} pods, ${rate})`, `${ms(kp50)} / ${ms(kp99)}`, goal ? 'p99 ≤ 1 s' : '']);
        rows.push([`  CRI baseline (sandbox + create + start), p50 / p99`, `${ms(cp50)} / ${ms(cp99)}`, '']);
        rows.push([`  ratio keelson / CRI, p50 / p99`, `${(kp50 / cp50).toFixed(2)} / ${(kp99 / cp99).toFixed(2)}`, goal ? 'p99 ≤ 1.5' : '']);
      }

      // 3. idle RSS.
      await sleep(idleS * 1000);
      const sock = containerdPaths(cl.containerdDir).socket;
      const procs = processes();
      const shims = procs.filter((p) => /containerd-shim/.test(p.argv[0]) && p.argv.includes(sock));
      const registry = procs.filter((p) => /docker-registry/.test(p.argv[0]) && p.argv.some((a) => a.startsWith(cl.dataDir)));
      const cpu0 = cpuMs(upPid);
      await sleep(5000);
      const idleCpu = (cpuMs(upPid) - cpu0) / 5000;
      const upRss = rssKiB(upPid);
      const ctdRss = rssKiB(ctdPid);
      const shimRss = shims.reduce((a, p) => a + rssKiB(p.pid), 0);
      const regRss = registry.reduce((a, p) => a + rssKiB(p.pid), 0);
      console.log(`idle (${idleS} s after the pods were removed): keelson up RSS ${mib(upRss)}, CPU ${(idleCpu * 100).toFixed(1)} % of a core over 5 s`);
      console.log(`  keelson up ${await afterGC(client, upPid)}`);
      console.log(`  containerd RSS ${mib(ctdRss)}; ${shims.length} shims (${mib(shimRss)}); docker-registry RSS ${mib(regRss)} (${registry.length} process)`);
      rows.push([`keelson up process RSS, idle before the pods / after (${idleS} s after they are gone)`, `${mib(rssBefore.up)} / ${mib(upRss)}`, '≤ 200 MiB']);
      rows.push(['containerd RSS before / after (+ shims left)', `${mib(rssBefore.ctd)} / ${mib(ctdRss)} (+${shims.length} shims)`, '']);
      rows.push(['docker-registry RSS', mib(regRss), '']);
    } finally {
      runtime.close();
      client.close();
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await cleanup();
    console.log(`cluster removed (keelson down --wipe); load average ${load()} (other work on the machine skews every figure)`);
  }
  const w = [Math.max(...rows.map((r) => r[0].length)), Math.max(...rows.map((r) => r[1].length))];
  console.log(`\n${'figure'.padEnd(w[0])} | ${'measured'.padEnd(w[1])} | goal`);
  console.log(`${'-'.repeat(w[0])}-|-${'-'.repeat(w[1])}-|------`);
  for (const [a, b, c] of rows) console.log(`${a.padEnd(w[0])} | ${b.padEnd(w[1])} | ${c}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => { console.error(err); process.exit(1); });
}
