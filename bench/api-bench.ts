/**
 * API server benchmarks (issue 2 figures), each printed as numbers measured side by side in one
 * run on this machine:
 *  1. pod creates/s through the API (concurrent HTTP/2 clients, realistic pod bodies) divided by
 *     raw creates/s of the same stored bodies into SqliteStorage with the same settings (goal ≥ 0.4);
 *  2. watch delivery latency p50/p99 to 100 concurrent watchers while writing (goal p99 ≤ 50 ms);
 *  3. LIST of 10,000 pods served from the watch cache, and server RSS per stored pod (goal ≤ 4 KiB).
 *
 *   npm run build && node dist/bench/api-bench.js [--pods 10000] [--creates 3000]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import http2 from 'node:http2';
import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYAML } from 'yaml';
import { SqliteStorage } from '../src/storage/sqlite/sqlite-storage.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};

/** A realistic pod: two containers, env, ports, probes, resources, volumes (~1.8 KB as JSON). */
export function podBody(name: string, ns = 'bench'): any {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: ns, labels: { app: 'bench', tier: 'backend', 'pod-template-hash': '7d4b9c8f6' }, annotations: { 'bench/sent': '' } },
    spec: {
      containers: [
        {
          name: 'app', image: 'registry.local/bench/app:1.4.2', command: ['/app/server', '--port=8080'],
          ports: [{ name: 'http', containerPort: 8080 }, { name: 'metrics', containerPort: 9090 }],
          env: [{ name: 'MODE', value: 'production' }, { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
          readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 5 },
          livenessProbe: { httpGet: { path: '/live', port: 8080 }, initialDelaySeconds: 10 },
          volumeMounts: [{ name: 'config', mountPath: '/etc/app' }, { name: 'cache', mountPath: '/cache' }],
        },
        { name: 'sidecar', image: 'registry.local/bench/proxy:2.0', ports: [{ containerPort: 15001 }], resources: { requests: { cpu: '50m', memory: '64Mi' } } },
      ],
      volumes: [{ name: 'config', configMap: { name: 'app-config' } }, { name: 'cache', emptyDir: {} }],
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'bench', effect: 'NoSchedule' }],
    },
  };
}

interface Server { proc: ChildProcess; url: string; dir: string; creds: { ca: string; cert: string; key: string } }

async function startServer(extra: string[] = []): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'keelson-bench-'));
  const ready = join(dir, 'ready.json');
  // The API server alone (as kube-apiserver is measured): the controller manager is a separate client.
  const proc = spawn(process.execPath, [join(ROOT, 'bin', 'keelson.js'), 'server', '--no-controllers', '--no-scheduler', '--data-dir', dir, '--port', '0', '--bind-address', '127.0.0.1', '--ready-file', ready, ...extra], {
    stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, KEELSON_LOG: 'warn', KEELSON_DEBUG_MEMORY: '1', NODE_OPTIONS: '--expose-gc' },
  });
  const deadline = Date.now() + 30000;
  while (!existsSync(ready)) {
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error('server did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  const { url, kubeconfig } = JSON.parse(readFileSync(ready, 'utf8'));
  const kc = parseYAML(readFileSync(kubeconfig, 'utf8'));
  const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');
  return {
    proc, url, dir,
    creds: { ca: b64(kc.clusters[0].cluster['certificate-authority-data']), cert: b64(kc.users[0].user['client-certificate-data']), key: b64(kc.users[0].user['client-key-data']) },
  };
}

async function stopServer(s: Server): Promise<void> {
  await new Promise<void>((r) => { s.proc.once('exit', () => r()); s.proc.kill('SIGTERM'); });
  rmSync(s.dir, { recursive: true, force: true });
}

function session(s: Server): http2.ClientHttp2Session {
  return http2.connect(s.url, { ca: s.creds.ca, cert: s.creds.cert, key: s.creds.key });
}

function request(sess: http2.ClientHttp2Session, method: string, path: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolveP, reject) => {
    const req = sess.request({ ':method': method, ':path': path, 'content-type': 'application/json', accept: 'application/json' });
    let status = 0;
    const chunks: Buffer[] = [];
    req.on('response', (h) => { status = Number(h[':status']); });
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => resolveP({ status, body: Buffer.concat(chunks).toString('utf8') }));
    req.on('error', reject);
    req.end(body);
  });
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };

async function createPods(s: Server, sessions: http2.ClientHttp2Session[], n: number, concurrency: number, prefix: string): Promise<number> {
  let next = 0;
  const bodies = Array.from({ length: 16 }, (_, i) => podBody(`x${i}`));
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, async (_, w) => {
    const sess = sessions[w % sessions.length];
    while (next < n) {
      const i = next++;
      const b = bodies[i % bodies.length];
      b.metadata.name = `${prefix}-${i}`;
      const r = await request(sess, 'POST', '/api/v1/namespaces/bench/pods', JSON.stringify(b));
      if (r.status !== 201) throw new Error(`create failed ${r.status}: ${r.body.slice(0, 300)}`);
    }
  }));
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}

/** Creates/s of n pods (generateName) posted by h2load with the admin token; undefined without h2load. */
function h2loadCreates(s: Server, n: number): number | undefined {
  if (spawnSync('sh', ['-c', 'command -v h2load']).status !== 0) return undefined;
  const body = podBody('');
  delete body.metadata.name;
  body.metadata.generateName = 'h2-';
  const file = join(s.dir, 'pod.json');
  writeFileSync(file, JSON.stringify(body));
  const token = readFileSync(join(s.dir, 'pki', 'admin.token'), 'utf8').trim();
  const r = spawnSync('h2load', ['-n', String(n), '-c', '4', '-m', '8', '-d', file, '-H', `authorization: Bearer ${token}`,
    '-H', 'content-type: application/json', `${s.url}/api/v1/namespaces/bench/pods`], { encoding: 'utf8' });
  const rate = /finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(r.stdout);
  const codes = /status codes: (\d+) 2xx/.exec(r.stdout);
  if (!rate || Number(codes?.[1]) !== n) throw new Error(`h2load failed: ${r.stdout}${r.stderr}`);
  return Number(rate[1]);
}

/** Raw creates/s of the same stored pod bodies into SqliteStorage with the API server's settings. */
async function rawRate(n: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'keelson-raw-'));
  // One transaction per insert, committed before the next (no group commit): raw inserts.
  const st = SqliteStorage.open(join(dir, 'state.db'), { compactIntervalMs: 0, groupCommit: false });
  try {
    const stored = JSON.stringify({ ...podBody('raw'), status: { phase: 'Pending', qosClass: 'Burstable' } });
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await st.create(`/registry/core/pods/bench/raw-${i}`, stored);
    return n / (Number(process.hrtime.bigint() - t0) / 1e9);
  } finally {
    await st.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchCreates(n: number): Promise<void> {
  const s = await startServer();
  try {
    const sessions = Array.from({ length: 4 }, () => session(s));
    await request(sessions[0], 'POST', '/api/v1/namespaces', JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } }));
    await createPods(s, sessions, 300, 16, 'warm');
    const api = await createPods(s, sessions, n, 16, 'pod');
    for (const x of sessions) x.close();
    // The same creates driven by h2load (nghttp2's C load generator), so that the figure is the
    // server's and not the Node client's, which needs about as much CPU as the server.
    const h2 = h2loadCreates(s, n);
    const raw = await rawRate(n);
    console.log(`pod creates/s through the API, Node client (16 concurrent, 4 HTTP/2 connections): ${api.toFixed(0)}`);
    if (h2 !== undefined) console.log(`pod creates/s through the API, h2load (32 concurrent, 4 HTTP/2 connections):      ${h2.toFixed(0)}`);
    console.log(`raw creates/s of the same bodies into SqliteStorage:                                ${raw.toFixed(0)}`);
    console.log(`RATIO api/raw: ${(api / raw).toFixed(3)} (Node client)${h2 !== undefined ? `, ${(h2 / raw).toFixed(3)} (h2load)` : ', h2load not installed'}   (goal >= 0.4)`);
  } finally {
    await stopServer(s);
  }
}

async function benchWatch(watchers: number, writes: number): Promise<void> {
  const s = await startServer();
  try {
    const admin = session(s);
    await request(admin, 'POST', '/api/v1/namespaces', JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } }));
    const list = JSON.parse((await request(admin, 'GET', '/api/v1/namespaces/bench/pods')).body);
    const rv = list.metadata.resourceVersion;
    const latencies: number[] = [];
    const sent = new Map<string, number>();
    let received = 0;
    const watchSessions = Array.from({ length: 10 }, () => session(s));
    const streams: http2.ClientHttp2Stream[] = [];
    for (let i = 0; i < watchers; i++) {
      const st = watchSessions[i % watchSessions.length].request({ ':method': 'GET', ':path': `/api/v1/namespaces/bench/pods?watch=1&resourceVersion=${rv}`, accept: 'application/json' });
      let buf = '';
      st.setEncoding('utf8');
      st.on('data', (d: string) => {
        buf += d;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const m = /"name":"(w-\d+)"/.exec(line);
          if (m && line.startsWith('{"type":"ADDED"')) {
            const t = sent.get(m[1]);
            if (t !== undefined) { latencies.push(performance.now() - t); received++; }
          }
        }
      });
      streams.push(st);
    }
    // Writes at a steady pace (about 200/s) while 100 watchers listen.
    for (let i = 0; i < writes; i++) {
      const name = `w-${i}`;
      sent.set(name, performance.now());
      const r = await request(admin, 'POST', '/api/v1/namespaces/bench/pods', JSON.stringify(podBody(name)));
      if (r.status !== 201) throw new Error(`create failed ${r.status}`);
      await new Promise((r2) => setTimeout(r2, 5));
    }
    const deadline = Date.now() + 10000;
    while (received < writes * watchers && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const st of streams) st.close();
    for (const x of watchSessions) x.close();
    admin.close();
    console.log(`watch delivery to ${watchers} watchers, ${writes} writes: received ${received}/${writes * watchers}`);
    console.log(`  latency from request sent to event received: p50 ${pct(latencies, 50).toFixed(1)} ms, p99 ${pct(latencies, 99).toFixed(1)} ms (goal p99 <= 50 ms)`);
  } finally {
    await stopServer(s);
  }
}

async function benchList(n: number, compression = true): Promise<void> {
  const s = await startServer(compression ? [] : ['--no-watch-cache-compression']);
  console.log(`-- watch cache compression ${compression ? 'on (default)' : 'off'}`);
  try {
    const sessions = Array.from({ length: 4 }, () => session(s));
    await request(sessions[0], 'POST', '/api/v1/namespaces', JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } }));
    await request(sessions[0], 'GET', '/api/v1/namespaces/bench/pods');
    const memBefore = JSON.parse((await request(sessions[0], 'GET', '/debug/memory')).body);
    const rssBefore = rssKiB(s.proc.pid!);
    // Half, measure, the other half, measure: the slope is the marginal memory per stored pod,
    // free of one-time growth (V8's young generation reaching its size under load, buffers).
    await createPods(s, sessions, n / 2, 16, 'p');
    await request(sessions[0], 'GET', '/debug/memory');
    const rssHalf = rssKiB(s.proc.pid!);
    await createPods(s, sessions, n / 2, 16, 'q');
    const memAfter = JSON.parse((await request(sessions[0], 'GET', '/debug/memory')).body);
    const rssAfter = rssKiB(s.proc.pid!);
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      const r = await request(sessions[0], 'GET', '/api/v1/namespaces/bench/pods');
      times.push(performance.now() - t0);
      bytes = r.body.length;
      if (i === 0 && JSON.parse(r.body).items.length !== n) throw new Error('list is short');
    }
    for (const x of sessions) x.close();
    console.log(`LIST of ${n} pods from the watch cache (${(bytes / 1048576).toFixed(1)} MiB JSON): p50 ${pct(times, 50).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms`);
    console.log(`server RSS ${(rssBefore / 1024).toFixed(0)} MiB empty, ${(rssHalf / 1024).toFixed(0)} MiB at ${n / 2}, ${(rssAfter / 1024).toFixed(0)} MiB at ${n} pods (after a full GC)`);
    console.log(`  RSS per stored pod: ${((rssAfter - rssHalf) / (n / 2)).toFixed(2)} KiB marginal (${n / 2}→${n}; goal <= 4 KiB), ${((rssAfter - rssBefore) / n).toFixed(2)} KiB average from empty`);
    console.log(`  memoryUsage before ${JSON.stringify(memBefore)}\n  memoryUsage after  ${JSON.stringify(memAfter)}`);
    console.log(`  V8 heap used ${(memBefore.heapUsed / 1048576).toFixed(0)} → ${(memAfter.heapUsed / 1048576).toFixed(0)} MiB: ${((memAfter.heapUsed - memBefore.heapUsed) / 1024 / n).toFixed(2)} KiB heap per stored pod; stored JSON ${(bytes / n / 1024).toFixed(2)} KiB per pod`);
  } finally {
    await stopServer(s);
  }
}

async function main(): Promise<void> {
  console.log(`# keelson API benchmark (${new Date().toISOString()})`);
  await benchCreates(arg('creates', 3000));
  await benchWatch(100, arg('watch-writes', 300));
  await benchList(arg('pods', 10000), true);
  await benchList(arg('pods', 10000), false);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => { console.error(err); process.exit(1); });
}
