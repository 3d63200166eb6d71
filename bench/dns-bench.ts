/**
 * Cluster DNS benchmark (issue 6 figure: queries per second and p99 latency against Debian's
 * dnsmasq answering the same names from a hosts file, same client, same run; goal ratio ≥ 1.0).
 *
 *  1. A ClusterView with --services Services (default 1,000) in 10 namespaces: 90 % ClusterIP,
 *     10 % headless with 3 ready endpoints each (so some answers carry three A records).
 *     ClusterDNS is fed this view directly through its `view` option — no API server and no
 *     informers; the query path (UDP socket → cache/resolver → encode) is the one a cluster
 *     uses. It runs in this process; the upstream list is empty (no name leaves the zone).
 *  2. dnsmasq (`--no-daemon --no-resolv --no-hosts --addn-hosts <file> --bind-interfaces`) on
 *     another loopback port, its hosts file holding exactly the same names and addresses.
 *     Both answers are compared for a sample of names before measuring.
 *  3. A client in a separate process (one UDP socket, --concurrency queries in flight, A
 *     queries for the service FQDNs in random order, as a pod's resolver sends them) runs
 *     --seconds against each server, alternating, --rounds times; the medians are reported.
 *     Every answer is checked: NOERROR with at least one record, or it counts as an error.
 *  4. For scale, a third server in the rotation: a node:dgram socket answering each query
 *     with a response prepared in advance — the floor for any DNS server written on Node.
 *  Also printed: server CPU time per answer (process CPU of this process / of dnsmasq during
 *  the rounds), which shows the cost independent of the client's speed and of other load.
 *
 *   node .build-dns/bench/dns-bench.js [--services 1000] [--concurrency 50] [--seconds 3] [--rounds 5]
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { ClusterView } from '../src/dns/cluster-view.js';
import { ClusterDNS } from '../src/dns/server.js';
import { setLogLevel } from '../src/util/log.js';

const SELF = fileURLToPath(import.meta.url);
const flag = (name: string) => process.argv.includes(`--${name}`);
const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
};

interface ClientResult { qps: number; p50: number; p99: number; answered: number; errors: number; timeouts: number; clientCpu: number }

// ---- child: the load generator -------------------------------------------------------------------

async function client(): Promise<void> {
  const port = Number(arg('port', '53'));
  const seconds = Number(arg('seconds', '5'));
  const concurrency = Number(arg('concurrency', '50'));
  const names: string[] = JSON.parse(readFileSync(arg('names', ''), 'utf8'));
  // Queries as glibc sends them: RD set, no EDNS; encoded once, only the ID changes.
  const encoded = names.map((n) => dnsPacket.encode({ type: 'query', id: 0, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: n, type: 'A', class: 'IN' }] }));
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.connect(port, '127.0.0.1', () => r()));
  const sentAt = new Float64Array(65536);
  const busy = new Uint8Array(65536);
  const lat: number[] = [];
  let nextId = 0;
  let answered = 0;
  let errors = 0;
  let timeouts = 0;
  let running = true;
  let inflight = 0;
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  const deadline = start + seconds * 1000;

  const send = () => {
    let id = nextId;
    while (busy[id]) id = (id + 1) & 0xffff;
    nextId = (id + 1) & 0xffff;
    const q = encoded[(Math.random() * encoded.length) | 0]!;
    const b = Buffer.from(q);
    b.writeUInt16BE(id, 0);
    busy[id] = 1;
    sentAt[id] = performance.now();
    inflight++;
    sock.send(b);
  };
  let finish!: () => void;
  const done = new Promise<void>((r) => { finish = r; });
  sock.on('message', (m) => {
    const id = m.readUInt16BE(0);
    if (!busy[id]) return; // late answer to a query already given up
    busy[id] = 0;
    inflight--;
    const now = performance.now();
    lat.push(now - sentAt[id]!);
    if ((m[3]! & 0x0f) !== 0 || m.readUInt16BE(6) === 0) errors++;
    else answered++;
    if (running && now < deadline) send();
    else {
      running = false;
      if (inflight === 0) finish();
    }
  });
  // A lost datagram would stall its slot: give up after 1 s and send another.
  const sweep = setInterval(() => {
    const now = performance.now();
    for (let id = 0; id < 65536; id++) {
      if (busy[id] && now - sentAt[id]! > 1000) {
        busy[id] = 0;
        inflight--;
        timeouts++;
        if (running && now < deadline) send();
      }
    }
    if (now >= deadline) running = false;
    if (!running && inflight === 0) finish();
  }, 250);
  for (let i = 0; i < concurrency; i++) send();
  await done;
  const elapsed = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sweep);
  sock.close();
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN;
  const res: ClientResult = { qps: answered / elapsed, p50: q(0.5), p99: q(0.99), answered, errors, timeouts, clientCpu: (cpu.user + cpu.system) / 1e6 / elapsed };
  process.send!(res);
}

function runClient(port: number, namesFile: string, seconds: number, concurrency: number): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    const c: ChildProcess = fork(SELF, ['--client', '--port', String(port), '--names', namesFile, '--seconds', String(seconds), '--concurrency', String(concurrency)], { stdio: 'inherit' });
    let result: ClientResult | undefined;
    c.on('message', (m) => { result = m as ClientResult; });
    c.on('exit', (code) => (result ? resolve(result) : reject(new Error(`client exited with ${code}`))));
  });
}

// ---- the cluster and the hosts file --------------------------------------------------------------

function buildCluster(n: number): { view: ClusterView; hosts: string; names: string[]; expected: Map<string, string[]> } {
  const services: Service[] = [];
  const slices: EndpointSlice[] = [];
  const lines: string[] = [];
  const names: string[] = [];
  const expected = new Map<string, string[]>();
  for (let i = 0; i < n; i++) {
    const ns = `ns-${i % 10}`;
    const name = `svc-${i}`;
    const fqdn = `${name}.${ns}.svc.cluster.local`;
    names.push(fqdn);
    const headless = i % 10 === 9;
    const eps = [0, 1, 2].map((k) => `10.${244 + k}.${(i >> 8) & 255}.${i & 255}`);
    if (headless) {
      services.push({ metadata: { namespace: ns, name }, spec: { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] } });
      expected.set(fqdn, eps);
    } else {
      const cip = `10.96.${1 + (i >> 8)}.${i & 255}`;
      services.push({ metadata: { namespace: ns, name }, spec: { clusterIP: cip, clusterIPs: [cip], ports: [{ name: 'http', port: 80 }] } });
      expected.set(fqdn, [cip]);
    }
    slices.push({
      metadata: { namespace: ns, name: `${name}-abcde`, labels: { 'kubernetes.io/service-name': name } }, addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: eps.map((a, k) => ({ addresses: [a], conditions: { ready: true }, targetRef: { kind: 'Pod', namespace: ns, name: `${name}-${k}` } })),
    });
    for (const ip of expected.get(fqdn)!) lines.push(`${ip} ${fqdn}`);
  }
  return { view: ClusterView.from({ services, endpointSlices: slices }), hosts: lines.join('\n') + '\n', names, expected };
}

async function freePort(): Promise<number> {
  // A port free for both UDP and TCP on 127.0.0.1.
  for (;;) {
    const srv = net.createServer();
    const port = await new Promise<number>((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as net.AddressInfo).port)));
    await new Promise<void>((r) => srv.close(() => r()));
    const u = dgram.createSocket('udp4');
    const ok = await new Promise<boolean>((r) => { u.once('error', () => r(false)); u.bind(port, '127.0.0.1', () => r(true)); });
    u.close();
    if (ok) return port;
  }
}

function ask(port: number, name: string, timeoutMs = 1000): Promise<string[] | undefined> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => { s.close(); resolve(undefined); }, timeoutMs);
    s.on('message', (m) => {
      clearTimeout(t);
      s.close();
      const p = dnsPacket.decode(m);
      resolve((p.answers ?? []).filter((a) => a.type === 'A').map((a) => String((a as { data: string }).data)).sort());
    });
    s.send(dnsPacket.encode({ type: 'query', id: 1, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: 'A', class: 'IN' }] }), port, '127.0.0.1');
  });
}

/** utime+stime of a process in seconds (/proc/<pid>/stat, clock ticks of 100 Hz). */
function procCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const hz = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  return (Number(fields[11]) + Number(fields[12])) / hz;
}

/**
 * The floor for any DNS server on node:dgram: a socket that answers each query with a
 * response prepared in advance (same records as ClusterDNS), looked up by the query bytes.
 * It does nothing a DNS server could do without, so ClusterDNS's distance to it is the cost
 * of the DNS work and the distance from it to dnsmasq the cost of Node's datagram path.
 */
async function startEcho(names: string[], expected: Map<string, string[]>): Promise<{ port: number; close(): void }> {
  const answers = new Map<string, Buffer>();
  for (const n of names) {
    const q = { name: n, type: 'A' as const, class: 'IN' as const };
    const key = dnsPacket.encode({ type: 'query', id: 0, flags: dnsPacket.RECURSION_DESIRED, questions: [q] }).toString('latin1', 2);
    answers.set(key, dnsPacket.encode({
      type: 'response', id: 0, flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | dnsPacket.AUTHORITATIVE_ANSWER, questions: [q],
      answers: expected.get(n)!.map((ip) => ({ name: n, type: 'A' as const, ttl: 5, data: ip })),
    }));
  }
  const sock = dgram.createSocket({ type: 'udp4', lookup: (a: string, _f: unknown, cb: (e: Error | null, a: string, f: number) => void) => cb(null, a, 4) } as dgram.SocketOptions);
  sock.on('message', (m, rinfo) => {
    const r = answers.get(m.toString('latin1', 2));
    if (!r) return;
    const out = Buffer.allocUnsafe(r.length);
    r.copy(out);
    out[0] = m[0]!;
    out[1] = m[1]!;
    sock.send(out, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  return { port: sock.address().port, close: () => sock.close() };
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };
const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

async function main(): Promise<void> {
  setLogLevel('warn');
  const nServices = Number(arg('services', '1000'));
  const concurrency = Number(arg('concurrency', '50'));
  const seconds = Number(arg('seconds', '3'));
  const rounds = Number(arg('rounds', '5'));
  const dnsmasqBin = spawnSync('sh', ['-c', 'command -v dnsmasq'], { encoding: 'utf8' }).stdout.trim();
  if (!dnsmasqBin) throw new Error('dnsmasq is not installed (Debian: apt-get install -y dnsmasq-base)');
  const version = spawnSync(dnsmasqBin, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0];

  const dir = mkdtempSync(join(tmpdir(), 'keelson-dns-bench-'));
  const { view, hosts, names, expected } = buildCluster(nServices);
  const hostsFile = join(dir, 'hosts');
  const namesFile = join(dir, 'names.json');
  writeFileSync(hostsFile, hosts, { mode: 0o644 });
  writeFileSync(namesFile, JSON.stringify(names));

  const dns = new ClusterDNS({ view, listen: [{ address: '127.0.0.1', port: 0 }], upstreams: [] });
  const ac = new AbortController();
  await dns.start(ac.signal);
  const kPort = dns.addresses[0]!.port;

  const mPort = await freePort();
  const dnsmasq = spawn(dnsmasqBin, [
    '--no-daemon', '--port', String(mPort), '--listen-address', '127.0.0.1', '--no-resolv', '--no-hosts',
    '--addn-hosts', hostsFile, '--bind-interfaces', '--pid-file=',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let dnsmasqErr = '';
  const closers: Array<() => void> = [];
  dnsmasq.stderr!.on('data', (d) => { dnsmasqErr += String(d); });
  try {
    const probe = names[0]!;
    for (let i = 0; ; i++) {
      if (await ask(mPort, probe, 200)) break;
      if (i > 50 || dnsmasq.exitCode !== null) throw new Error(`dnsmasq did not start: ${dnsmasqErr}`);
    }
    // Same answers from both for a sample of names (every 7th).
    for (let i = 0; i < names.length; i += 7) {
      const want = [...expected.get(names[i]!)!].sort();
      const k = await ask(kPort, names[i]!);
      const m = await ask(mPort, names[i]!);
      if (JSON.stringify(k) !== JSON.stringify(want) || JSON.stringify(m) !== JSON.stringify(want)) {
        throw new Error(`answers differ for ${names[i]}: want ${want} keelson ${k} dnsmasq ${m}`);
      }
    }

    console.log(`cluster DNS benchmark: ${nServices} services (10 % headless × 3 endpoints), ${concurrency} queries in flight, ${seconds} s × ${rounds} rounds each`);
    console.log(`baseline: ${version} from a hosts file; client: one UDP socket in a separate node process`);
    const echo = await startEcho(names, expected);
    closers.push(() => echo.close());
    // Warm-up (JIT, caches) for all three.
    await runClient(kPort, namesFile, 1, concurrency);
    await runClient(mPort, namesFile, 1, concurrency);
    await runClient(echo.port, namesFile, 1, concurrency);

    const k: ClientResult[] = [];
    const m: ClientResult[] = [];
    const e: ClientResult[] = [];
    let kCpu = 0;
    let mCpu = 0;
    let eCpu = 0;
    for (let r = 0; r < rounds; r++) {
      const c0 = process.cpuUsage();
      k.push(await runClient(kPort, namesFile, seconds, concurrency));
      const c1 = process.cpuUsage(c0);
      kCpu += (c1.user + c1.system) / 1e6;
      const d0 = procCpuSeconds(dnsmasq.pid!);
      m.push(await runClient(mPort, namesFile, seconds, concurrency));
      mCpu += procCpuSeconds(dnsmasq.pid!) - d0;
      const e0 = process.cpuUsage();
      e.push(await runClient(echo.port, namesFile, seconds, concurrency));
      const e1 = process.cpuUsage(e0);
      eCpu += (e1.user + e1.system) / 1e6;
      const show = (x: ClientResult) => `${fmt(x.qps)} q/s p99 ${fmt(x.p99, 2)} ms (client CPU ${fmt(x.clientCpu * 100)} %)`;
      console.log(`  round ${r + 1}: keelson ${show(k[r]!)} | dnsmasq ${show(m[r]!)} | node echo ${show(e[r]!)}`);
    }
    const sum = (rs: ClientResult[], f: keyof ClientResult) => rs.reduce((a, x) => a + x[f], 0);
    const row = (label: string, rs: ClientResult[], cpu: number) => {
      const answered = sum(rs, 'answered');
      console.log(`| ${label} | ${fmt(median(rs.map((x) => x.qps)))} | ${fmt(Math.max(...rs.map((x) => x.qps)))} | ${fmt(median(rs.map((x) => x.p50)), 3)} | ${fmt(median(rs.map((x) => x.p99)), 3)} | ${fmt((cpu / answered) * 1e6, 1)} µs | ${sum(rs, 'errors')} / ${sum(rs, 'timeouts')} |`);
    };
    console.log('');
    console.log('| server | queries/s (median) | queries/s (best round) | p50 ms | p99 ms | server CPU per answer | errors / timeouts |');
    console.log('|---|---|---|---|---|---|---|');
    row('keelson ClusterDNS', k, kCpu);
    row('dnsmasq (hosts file)', m, mCpu);
    row('node:dgram echo of prepared answers (floor for Node)', e, eCpu);
    const qpsRatio = median(k.map((x) => x.qps)) / median(m.map((x) => x.qps));
    const p99Ratio = median(m.map((x) => x.p99)) / median(k.map((x) => x.p99));
    console.log('');
    console.log(`ratio keelson/dnsmasq queries/s: ${qpsRatio.toFixed(2)} (goal ≥ 1.0 — ${qpsRatio >= 1 ? 'met' : 'not met'})`);
    console.log(`ratio dnsmasq/keelson p99 (higher is better for keelson): ${p99Ratio.toFixed(2)}`);
    const best = (rs: ClientResult[]) => Math.max(...rs.map((x) => x.qps));
    console.log(`ratio keelson/dnsmasq, best rounds (least disturbed by other load): ${(best(k) / best(m)).toFixed(2)}`);
    const perAnswer = (rs: ClientResult[], cpu: number) => cpu / sum(rs, 'answered');
    console.log(`server CPU per answer, dnsmasq/keelson: ${(perAnswer(m, mCpu) / perAnswer(k, kCpu)).toFixed(2)}; node echo/keelson: ${(perAnswer(e, eCpu) / perAnswer(k, kCpu)).toFixed(2)}`);
    const st = dns.stats;
    console.log(`keelson: ${fmt(st.queries)} queries, ${fmt(st.cacheHits)} from the answer cache (${((st.cacheHits / st.queries) * 100).toFixed(1)} %)`);
  } finally {
    for (const c of closers) c();
    dnsmasq.kill('SIGTERM');
    ac.abort();
    await dns.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (flag('client')) void client();
else main().catch((err) => { console.error(err); process.exit(1); });
