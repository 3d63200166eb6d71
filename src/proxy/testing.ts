/**
 * A throw-away pod network for the proxy's real-kernel test and benchmark: a Linux bridge with
 * a gateway address, N network namespaces ("pods") each on a veth into the bridge, and tiny
 * node TCP servers and clients run inside them. Everything gets a random id, so concurrent
 * runs never meet, and destroy() removes all of it (servers are killed by PID).
 * Needs root and iproute2.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { cidrContains } from './rules.js';
import { run } from './iptables.js';

export interface TestPod {
  name: string;
  netns: string;
  ip: string;
  hostVeth: string;
}

/** Why the real-kernel tests cannot run here ('' = they can). */
export async function netSkipReason(): Promise<string> {
  if (process.platform !== 'linux') return 'needs Linux';
  if (process.getuid?.() !== 0) return 'needs root';
  for (const [bin, args] of [['ip', ['-V']], ['iptables-restore', ['--version']], ['iptables-save', ['--version']], ['iptables', ['--version']]] as const) {
    const ok = await run(bin, [...args]).then((r) => r.code === 0, () => false);
    if (!ok) return `needs ${bin}`;
  }
  return '';
}

async function sh(cmd: string, ...args: string[]): Promise<string> {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

/**
 * A server (node) inside a pod: `name` (TCP) answers its name and closes; `source` (TCP)
 * streams zeros; `udp` answers every datagram with its name.
 */
const SERVER = `
const net = require('node:net');
const [mode, name, port] = process.argv.slice(1);
const chunk = Buffer.alloc(1 << 20);
if (mode === 'udp') {
  const u = require('node:dgram').createSocket('udp4');
  u.on('message', (m, r) => u.send(name, r.port, r.address));
  u.bind(Number(port), '0.0.0.0', () => console.log('ready'));
} else {
  const srv = net.createServer((s) => {
    s.on('error', () => {});
    if (mode === 'name') { s.end(name + '\\n'); return; }
    const pump = () => { while (!s.destroyed && s.write(chunk)) {} };
    s.on('drain', pump);
    pump();
  });
  srv.listen(Number(port), '0.0.0.0', () => console.log('ready'));
}
`;

/** A TCP client (node) run inside a pod (or on the host): see runClient. */
const CLIENT = `
const net = require('node:net');
const [mode, host, port, n, srcPort] = process.argv.slice(1);
const udp = (count) => new Promise((resolve) => {
  // One socket, one source port: every datagram is the same conntrack flow.
  const u = require('node:dgram').createSocket('udp4');
  const out = {};
  let i = 0, timer;
  const next = () => {
    if (i++ >= count) { u.close(); resolve(out); return; }
    timer = setTimeout(() => { out.timeout = (out.timeout || 0) + 1; next(); }, 700);
    u.send('hi', Number(port), host);
  };
  u.on('message', (m) => { clearTimeout(timer); out[m] = (out[m] || 0) + 1; next(); });
  u.on('error', (e) => { clearTimeout(timer); out[e.code] = (out[e.code] || 0) + 1; next(); });
  u.bind(Number(srcPort || 0), next);
});
const connectOnce = () => new Promise((resolve) => {
  const s = net.connect({ host, port: Number(port) });
  let data = '';
  const t = setTimeout(() => { s.destroy(); resolve('timeout'); }, 3000);
  s.on('data', (d) => { data += d; });
  s.on('end', () => { clearTimeout(t); resolve(data.trim()); });
  s.on('error', (e) => { clearTimeout(t); resolve(e.code || 'error'); });
});
const bulk = (ms) => new Promise((resolve) => {
  const s = net.connect({ host, port: Number(port) });
  let bytes = 0, t0 = 0;
  s.on('connect', () => { t0 = process.hrtime.bigint(); setTimeout(() => { const dt = Number(process.hrtime.bigint() - t0) / 1e9; s.destroy(); resolve({ bytes, seconds: dt }); }, ms); });
  s.on('data', (d) => { bytes += d.length; });
  s.on('error', (e) => resolve({ error: e.code }));
});
(async () => {
  if (mode === 'udp') {
    console.log(JSON.stringify(await udp(Number(n))));
  } else if (mode === 'names') {
    const out = {};
    for (let i = 0; i < Number(n); i++) { const r = await connectOnce(); out[r] = (out[r] || 0) + 1; }
    console.log(JSON.stringify(out));
  } else {
    console.log(JSON.stringify(await bulk(Number(n))));
  }
})();
`;

export class TestNet {
  readonly pods: TestPod[] = [];
  private readonly children: ChildProcess[] = [];
  private readonly routes: string[] = [];

  private constructor(readonly id: string, readonly bridge: string, readonly subnet: string, readonly gateway: string) {}

  /** Creates the bridge and `count` pods in a free 10.201.x.0/24. */
  static async create(count: number): Promise<TestNet> {
    const id = randomBytes(2).toString('hex');
    const routes = await sh('ip', '-4', 'route', 'show');
    const used = routes.split('\n').map((l) => l.split(' ')[0]!).filter((p) => /^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(p));
    let third = -1;
    for (let tries = 0; tries < 50 && third < 0; tries++) {
      const x = Math.floor(Math.random() * 250) + 1;
      if (!used.some((p) => cidrContains(p.includes('/') ? p : `${p}/32`, `10.201.${x}.1`) || cidrContains(`10.201.${x}.0/24`, p.split('/')[0]!))) third = x;
    }
    if (third < 0) throw new Error('no free 10.201.x.0/24 for the test network');
    const tn = new TestNet(id, `kpt${id}br`, `10.201.${third}.0/24`, `10.201.${third}.1`);
    try {
      await sh('ip', 'link', 'add', tn.bridge, 'type', 'bridge');
      await sh('ip', 'addr', 'add', `${tn.gateway}/24`, 'dev', tn.bridge);
      await sh('ip', 'link', 'set', tn.bridge, 'up');
      for (let i = 0; i < count; i++) {
        const pod: TestPod = { name: `pod${i}`, netns: `kpt-${id}-${i}`, ip: `10.201.${third}.${i + 2}`, hostVeth: `kpt${id}h${i}` };
        tn.pods.push(pod);
        const peer = `kpt${id}p${i}`;
        await sh('ip', 'netns', 'add', pod.netns);
        await sh('ip', 'link', 'add', pod.hostVeth, 'type', 'veth', 'peer', 'name', peer);
        await sh('ip', 'link', 'set', peer, 'netns', pod.netns);
        await sh('ip', '-n', pod.netns, 'link', 'set', peer, 'name', 'eth0');
        await sh('ip', '-n', pod.netns, 'addr', 'add', `${pod.ip}/24`, 'dev', 'eth0');
        await sh('ip', '-n', pod.netns, 'link', 'set', 'eth0', 'up');
        await sh('ip', '-n', pod.netns, 'link', 'set', 'lo', 'up');
        await sh('ip', '-n', pod.netns, 'route', 'add', 'default', 'via', tn.gateway);
        await sh('ip', 'link', 'set', pod.hostVeth, 'master', tn.bridge);
        // As the CNI bridge plugin's hairpinMode (keelson's CNI config sets it): with
        // br_netfilter a pod's packet DNATed back to the same pod is bridged out of the port it
        // came in by, which the bridge only allows with hairpin on.
        await sh('ip', 'link', 'set', pod.hostVeth, 'type', 'bridge_slave', 'hairpin', 'on');
        await sh('ip', 'link', 'set', pod.hostVeth, 'up');
      }
    } catch (err) {
      await tn.destroy();
      throw err;
    }
    return tn;
  }

  /** Routes one (service) address to the bridge, so the host can connect() to it. */
  async routeToBridge(ip: string): Promise<void> {
    await sh('ip', 'route', 'add', `${ip}/32`, 'dev', this.bridge);
    this.routes.push(ip);
  }

  /** Starts a server in a pod and waits until it listens. */
  async startServer(pod: TestPod, port: number, mode: 'name' | 'source' | 'udp'): Promise<void> {
    const child = spawn('ip', ['netns', 'exec', pod.netns, process.execPath, '-e', SERVER, mode, pod.name, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.push(child);
    await new Promise<void>((resolve, reject) => {
      let err = '';
      const t = setTimeout(() => reject(new Error(`server in ${pod.netns} did not start: ${err}`)), 10_000);
      child.stderr!.on('data', (d) => { err += d; });
      child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('ready')) { clearTimeout(t); resolve(); } });
      child.on('exit', (code) => { clearTimeout(t); reject(new Error(`server in ${pod.netns} exited ${code}: ${err}`)); });
    });
    child.removeAllListeners('exit');
  }

  /**
   * Runs the client in a pod (or on the host with pod undefined):
   *  'names': n connections, returns { answer: count } (answers are server names or error codes);
   *  'bulk': one connection reading for n ms, returns { bytes, seconds };
   *  'udp': n datagrams from one socket (source port srcPort), returns { answer: count }.
   */
  async runClient(pod: TestPod | undefined, mode: 'names' | 'bulk' | 'udp', host: string, port: number, n: number, srcPort = 0): Promise<any> {
    const argv = [process.execPath, '-e', CLIENT, mode, host, String(port), String(n), String(srcPort)];
    const r = pod ? await run('ip', ['netns', 'exec', pod.netns, ...argv], undefined, 120_000) : await run(argv[0]!, argv.slice(1), undefined, 120_000);
    if (r.code !== 0) throw new Error(`client failed: ${r.stderr.trim()}`);
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  }

  /** Removes servers, routes, namespaces, veths and the bridge; never throws. */
  async destroy(): Promise<void> {
    for (const c of this.children) if (c.exitCode === null && c.pid) { try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ } }
    for (const ip of this.routes) await run('ip', ['route', 'del', `${ip}/32`, 'dev', this.bridge]).catch(() => {});
    for (const p of this.pods) {
      await run('ip', ['netns', 'del', p.netns]).catch(() => {});
      await run('ip', ['link', 'del', p.hostVeth]).catch(() => {});
    }
    await run('ip', ['link', 'del', this.bridge]).catch(() => {});
  }
}

/** A TCP port nothing listens on now, in [min, max] (tries random ones). */
export async function freePort(min: number, max: number, avoid: (port: number) => boolean = () => false): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = min + Math.floor(Math.random() * (max - min + 1));
    if (avoid(port)) continue;
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '0.0.0.0', () => s.close(() => resolve(true)));
    });
    if (ok) return port;
  }
  throw new Error(`no free port in ${min}-${max}`);
}
