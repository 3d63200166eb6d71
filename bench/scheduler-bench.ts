/**
 * Scheduler benchmark (issue figure: ≥ 1,000 pods/s scheduling 10,000 pods onto 5,000
 * simulated nodes), measured side by side in one run:
 *
 *  1. An API server in a child process (the same APIServer `keelson server` runs, from this
 *     build; storage sqlite by default) — or in this process with --in-process.
 *  2. SimNodes registers --nodes nodes (10 zones), heartbeating their Leases every 10 s.
 *  3. 2 × --pods pending pods are created: "raw-*" (for no scheduler) and "sched-*" (for the
 *     scheduler under test, schedulerName bench-scheduler).
 *  4. Raw rate: the raw-* pods are bound by POSTing pods/binding directly, round robin over the
 *     nodes, with the same concurrency and one HTTP/2 connection as the scheduler's binder.
 *  5. Scheduler rate: a Scheduler starts; from the moment its informers have synced until every
 *     sched-* pod is bound (its binding returned). Its pods/s divided by the raw rate is the
 *     ratio: how close scheduling gets to the API's own binding speed.
 * Also printed: time in scheduling cycles per pod (the synchronous filter/score work).
 *
 *   node .build-sched/bench/scheduler-bench.js [--nodes 5000] [--pods 10000] [--storage sqlite|memory]
 *     [--in-process] [--run-pods] [--bind-concurrency 256] [--event-concurrency 1]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { APIServer } from '../src/apiserver/apiserver.js';
import { RestClient, type ResourceDescriptor } from '../src/client/index.js';
import { SimNodes } from '../src/simnodes/sim-nodes.js';
import { zoneLabels } from '../src/simnodes/cli.js';
import { Scheduler } from '../src/scheduler/scheduler.js';
import { setLogLevel } from '../src/util/log.js';

const PODS: ResourceDescriptor = { group: '', version: 'v1', plural: 'pods', namespaced: true };
const NAMESPACES: ResourceDescriptor = { group: '', version: 'v1', plural: 'namespaces', namespaced: false };
const SELF = fileURLToPath(import.meta.url);

const flag = (name: string) => process.argv.includes(`--${name}`);
const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : def;
};

// ---- child: the API server -----------------------------------------------------------------------

async function childServer(): Promise<void> {
  setLogLevel('warn');
  const dir = arg('dir', '');
  const server = new APIServer({ dataDir: dir, port: 0, bindAddress: '127.0.0.1', storage: arg('storage', 'sqlite') as any });
  await server.start();
  writeFileSync(join(dir, 'ready.tmp'), JSON.stringify({ kubeconfig: server.kubeconfigPath }));
  renameSync(join(dir, 'ready.tmp'), join(dir, 'ready.json'));
  process.on('SIGTERM', () => { server.stop().finally(() => process.exit(0)); });
}

interface ServerHandle { kubeconfig: string; stop(): Promise<void>; pid?: number }

async function startServer(storage: string, inProcess: boolean): Promise<ServerHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'keelson-sched-bench-'));
  if (inProcess) {
    const server = new APIServer({ dataDir: dir, port: 0, bindAddress: '127.0.0.1', storage: storage as any });
    await server.start();
    return { kubeconfig: server.kubeconfigPath, stop: async () => { await server.stop(); rmSync(dir, { recursive: true, force: true }); } };
  }
  const proc: ChildProcess = spawn(process.execPath, [SELF, '--child-server', '--dir', dir, '--storage', storage], { stdio: ['ignore', 'ignore', 'inherit'] });
  const ready = join(dir, 'ready.json');
  const deadline = Date.now() + 60_000;
  while (!existsSync(ready)) {
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error('API server did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  const { kubeconfig } = JSON.parse(readFileSync(ready, 'utf8'));
  return {
    kubeconfig, pid: proc.pid,
    stop: () => new Promise<void>((r) => {
      proc.once('exit', () => { rmSync(dir, { recursive: true, force: true }); r(); });
      proc.kill('SIGTERM');
    }),
  };
}

// ---- main ----------------------------------------------------------------------------------------

function pod(name: string, schedulerName: string): any {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'bench', labels: { app: 'bench' } },
    spec: {
      schedulerName,
      containers: [{ name: 'app', image: 'registry.local/bench/app:1.0', resources: { requests: { cpu: '100m', memory: '128Mi' } } }],
    },
  };
}

/** CPU seconds used so far by a process (this one, or a child by pid via /proc). */
function cpuSeconds(pid?: number): number {
  if (pid === undefined) {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  }
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime in clock ticks (100 Hz)
  } catch {
    return NaN;
  }
}

function cpuMeter(pid?: number): () => string {
  const c0 = { self: cpuSeconds(), server: cpuSeconds(pid) };
  const t0 = performance.now();
  return () => {
    const wall = (performance.now() - t0) / 1000;
    const self = ((cpuSeconds() - c0.self) / wall) * 100;
    const server = pid === undefined ? NaN : ((cpuSeconds(pid) - c0.server) / wall) * 100;
    return `cpu: bench process ${self.toFixed(0)}%` + (Number.isNaN(server) ? '' : `, API server ${server.toFixed(0)}%`);
  };
}

async function pool(n: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) await fn(next++);
  }));
}

async function main(): Promise<void> {
  setLogLevel('warn');
  const numNodes = Number(arg('nodes', '5000'));
  const numPods = Number(arg('pods', '10000'));
  const storage = arg('storage', 'sqlite');
  const bindConcurrency = Number(arg('bind-concurrency', '256'));
  const inProcess = flag('in-process');
  console.log(`scheduler bench: ${numPods} pods onto ${numNodes} simulated nodes; API server ${inProcess ? 'in process' : 'in a child process'}, storage ${storage}`);

  const server = await startServer(storage, inProcess);
  const newClient = (ua: string) => RestClient.fromKubeconfig(server.kubeconfig, undefined, { qps: Infinity, userAgent: ua });
  const setup = newClient('bench-setup');
  const ac = new AbortController();
  try {
    await setup.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });

    let t = performance.now();
    const sim = new SimNodes(newClient('bench-sim-nodes'), {
      count: numNodes, namePrefix: 'node-', capacity: { cpu: '32', memory: '128Gi', pods: '110' },
      labels: zoneLabels(10), heartbeatSeconds: 10, runPods: flag('run-pods'),
    });
    const simRunning = sim.start(ac.signal);
    await sim.registered();
    console.log(`  registered ${numNodes} nodes (node + status + lease) in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    t = performance.now();
    await pool(2 * numPods, 64, async (i) => {
      const raw = i < numPods;
      await setup.create(PODS, 'bench', pod(raw ? `raw-${i}` : `sched-${i - numPods}`, raw ? 'nobody' : 'bench-scheduler'));
    });
    console.log(`  created ${2 * numPods} pending pods in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    // Raw binding rate: POST pods/binding straight, as many in flight as the scheduler allows itself.
    const binder = newClient('bench-raw-binder');
    let cpu = cpuMeter(server.pid);
    t = performance.now();
    await pool(numPods, bindConcurrency, async (i) => {
      await binder.requestJSON('POST', `/api/v1/namespaces/bench/pods/raw-${i}/binding`, {
        apiVersion: 'v1', kind: 'Binding', metadata: { name: `raw-${i}` }, target: { kind: 'Node', name: `node-${i % numNodes}` },
      });
    });
    const rawSeconds = (performance.now() - t) / 1000;
    const rawRate = numPods / rawSeconds;
    console.log(`  raw pods/binding: ${numPods} in ${rawSeconds.toFixed(2)} s = ${rawRate.toFixed(0)} pods/s (${cpu()})`);

    // The scheduler.
    const schedClient = newClient('bench-scheduler');
    const informerClient = newClient('bench-scheduler/informers');
    const sched = new Scheduler(schedClient, {
      schedulerName: 'bench-scheduler', leaderElection: false, bindConcurrency, informerClient,
      eventConcurrency: Number(arg('event-concurrency', '1')),
    });
    const t0 = performance.now();
    const schedRunning = sched.start(ac.signal);
    await sched.waitForSync();
    const tSync = performance.now();
    cpu = cpuMeter(server.pid);
    const deadline = Date.now() + 600_000;
    while (sched.stats().scheduled < numPods) {
      if (Date.now() > deadline) throw new Error(`timed out: ${JSON.stringify(sched.stats())}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const tEnd = performance.now();
    const cpuLine = cpu();
    const st = sched.stats();
    const schedSeconds = (tEnd - tSync) / 1000;
    const schedRate = numPods / schedSeconds;
    console.log(`  informers synced in ${((tSync - t0) / 1000).toFixed(2)} s (${numNodes} nodes, ${2 * numPods} pods)`);
    console.log(`  scheduler: ${numPods} pods bound in ${schedSeconds.toFixed(2)} s = ${schedRate.toFixed(0)} pods/s (attempts ${st.attempts}, unschedulable ${st.unschedulable}, errors ${st.errors}; ${cpuLine})`);
    console.log(`  events: ${sched.recorder.written} written, ${sched.recorder.dropped} dropped (queue full)`);
    console.log(`  scheduling cycles: ${(st.cycleMs / st.attempts * 1000).toFixed(0)} µs per pod on average (${(st.attempts / (st.cycleMs / 1000)).toFixed(0)} pods/s of pure filter+score)`);

    // Sanity: every sched pod bound, spread over many nodes.
    const bound = (await setup.list<any>(PODS, 'bench', { labelSelector: 'app=bench', fieldSelector: 'spec.schedulerName=bench-scheduler,spec.nodeName!=' })).items;
    const nodesUsed = new Set(bound.map((p) => p.spec.nodeName)).size;
    console.log(`  check: ${bound.length} sched-* pods bound, on ${nodesUsed} distinct nodes`);
    console.log(`RESULT scheduler ${schedRate.toFixed(0)} pods/s; raw binding ${rawRate.toFixed(0)} pods/s; ratio ${(schedRate / rawRate).toFixed(2)}`);

    ac.abort();
    await schedRunning;
    await simRunning;
    schedClient.close();
    informerClient.close();
    binder.close();
  } finally {
    ac.abort();
    setup.close();
    await server.stop();
  }
}

if (process.argv.includes('--child-server')) void childServer();
else main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
