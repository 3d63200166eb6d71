/**
 * KubeletServer against a real containerd 1.6 and real containers (busybox), alone and behind an
 * in-process API server driven by the real kubectl:
 *  - what containerd's streaming server accepts (SPDY v4, WebSocket v4/channel, 403 for v5 and
 *    for the port-forward tunnel), which is why the kubelet refuses WebSocket v5 and terminates
 *    the tunnel itself;
 *  - logs (incl. follow ending at container exit), exec over WebSocket v4 (channels, exit code,
 *    tty) directly;
 *  - kubectl exec (WebSocket v5 refused → SPDY), exec -i with stdin EOF, exit codes, cp both
 *    ways, logs, attach, port-forward over the WebSocket tunnel and over plain SPDY.
 * Skipped unless root with containerd, ctr, runc, the CNI plugins and busybox-static; the kubectl
 * part also needs kubectl on PATH. Starts its own containerd (unique bridge and pod range) in a
 * temporary dir and destroys it afterwards.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { randomBytes, randomInt } from 'node:crypto';
import { delimiter, join } from 'node:path';
import { WebSocket } from 'ws';
import { Containerd } from '../containerd/containerd.js';
import { GrpcRuntime } from '../cri/grpc-client.js';
import type { PodSandboxConfig, ContainerConfig } from '../cri/api.js';
import { buildImageArchive, PAUSE_IMAGE, BUSYBOX_IMAGE } from '../images/catalog.js';
import { KubeletServer, type PodLookup } from './kubelet-server.js';
import { ensureKubeletServingCert } from './serving-cert.js';
import { readResponseHead } from '../../util/upgrade-relay.js';
import { startTestCluster, eventually, type TestCluster } from '../../client/testing.js';

const onPath = (bin: string) => (process.env.PATH ?? '').split(delimiter).some((d) => d && existsSync(join(d, bin)));
const cniDir = ['/usr/lib/cni', '/opt/cni/bin'].find((d) => existsSync(join(d, 'bridge')));
const skip = process.getuid?.() !== 0 ? 'needs root'
  : !onPath('containerd') || !onPath('ctr') || !onPath('runc') ? 'needs containerd, ctr and runc on PATH'
    : !cniDir ? 'needs the CNI plugins'
      : !existsSync('/bin/busybox') && !existsSync('/usr/bin/busybox') ? 'needs busybox-static'
        : false;
/** The kubectl to drive (KEELSON_TEST_KUBECTL=/path/to/kubectl for another version). */
const KUBECTL = process.env.KEELSON_TEST_KUBECTL ?? 'kubectl';
const skipKubectl = skip || (!(KUBECTL.includes('/') ? existsSync(KUBECTL) : onPath(KUBECTL)) && `needs ${KUBECTL}`);

let dir = '';
let ctd: Containerd | undefined;
let rt: GrpcRuntime;
let cluster: TestCluster | undefined;
let kubelet: KubeletServer | undefined;
const pods = new Map<string, { sandbox: string; containerId: string; logPath: string }>();

const lookup: PodLookup = {
  async findContainer(ns, pod, _container, previous) {
    const p = ns === 'default' ? pods.get(pod) : undefined;
    if (!p || previous) return { error: `pod "${ns}/${pod}" not found`, code: 404 };
    return { containerId: p.containerId, logPath: p.logPath, podSandboxId: p.sandbox };
  },
  async findSandbox(ns, pod) {
    const p = ns === 'default' ? pods.get(pod) : undefined;
    return p ? { podSandboxId: p.sandbox } : { error: `pod "${ns}/${pod}" not found`, code: 404 };
  },
};

async function runPod(name: string, command: string[], extra: Partial<ContainerConfig> = {}): Promise<void> {
  const logDirectory = join(dir, 'pods', name);
  mkdirSync(logDirectory, { recursive: true });
  const cfg: PodSandboxConfig = { metadata: { name, uid: `uid-${name}`, namespace: 'default', attempt: 0 }, hostname: name, logDirectory, linux: {} };
  const sandbox = await rt.runPodSandbox(cfg);
  const containerId = await rt.createContainer(sandbox, {
    metadata: { name: 'c', attempt: 0 }, image: { image: BUSYBOX_IMAGE }, command, logPath: 'c.log', ...extra,
  }, cfg);
  await rt.startContainer(containerId);
  pods.set(name, { sandbox, containerId, logPath: join(logDirectory, 'c.log') });
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync('/tmp/keelson-kubelet-stream-');
  ctd = new Containerd({
    dir: join(dir, 'containerd'), podCIDR: `10.244.${randomInt(100, 251)}.0/24`,
    bridgeName: `ks${process.pid.toString(36)}${randomInt(1296).toString(36)}`.slice(0, 15),
    sandboxImage: PAUSE_IMAGE, cniBinDir: cniDir, log: () => {},
  });
  await ctd.start();
  await ctd.importImage(await buildImageArchive('pause', dir));
  await ctd.importImage(await buildImageArchive('busybox', dir));
  rt = new GrpcRuntime(ctd.endpoint);
  await runPod('web', ['sh', '-c', 'mkdir -p /www; echo hello-from-httpd > /www/index.html; echo started; exec httpd -f -p 8080 -h /www']);
  await runPod('ticker', ['sh', '-c', 'while true; do echo tick; sleep 1; done']);
  await runPod('short', ['sh', '-c', 'echo one; sleep 1; echo err >&2; sleep 1; echo two']);

  cluster = await startTestCluster();
  const serving = await ensureKubeletServingCert(join(dir, 'kubelet-pki'), ['127.0.0.1']);
  kubelet = new KubeletServer({ port: 0, bindAddress: '127.0.0.1', tls: { ...serving, clientCaPem: cluster.server.pki.caCertPem }, runtime: rt, pods: lookup, logPollIntervalMs: 200 });
  await kubelet.start();
  const c = cluster.client;
  await c.requestJSON('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
  const node = await c.requestJSON('GET', '/api/v1/nodes/n1');
  node.status = { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: kubelet.port } } };
  await c.requestJSON('PUT', '/api/v1/nodes/n1/status', node);
  for (const name of pods.keys()) {
    const pod = await c.requestJSON('POST', '/api/v1/namespaces/default/pods', {
      apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }] },
    });
    pod.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] };
    await c.requestJSON('PUT', `/api/v1/namespaces/default/pods/${name}/status`, pod);
  }
});

after(async () => {
  await kubelet?.stop();
  await cluster?.stop();
  rt?.close();
  await ctd?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const kubeletAuth = () => ({ cert: cluster!.server.pki.adminCertPem, key: cluster!.server.pki.adminKeyPem });

/** Raw upgrade probe: the status line and headers the server answers with. */
async function probe(url: string, method: string, headers: [string, string][]) {
  const u = new URL(url);
  const s = net.connect(Number(u.port), u.hostname);
  await new Promise<void>((r, j) => { s.once('connect', () => r()); s.once('error', j); });
  s.write(`${method} ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
  try { return await readResponseHead(s, 5000); } finally { s.destroy(); }
}
const wsHeaders = (protocol?: string): [string, string][] => [['Connection', 'Upgrade'], ['Upgrade', 'websocket'], ['Sec-WebSocket-Version', '13'],
  ['Sec-WebSocket-Key', randomBytes(16).toString('base64')], ...(protocol ? [['Sec-WebSocket-Protocol', protocol] as [string, string]] : [])];
const spdyHeaders = (...versions: string[]): [string, string][] => [['Connection', 'Upgrade'], ['Upgrade', 'SPDY/3.1'],
  ...versions.map((v) => ['X-Stream-Protocol-Version', v] as [string, string]), ['Content-Length', '0']];

test('containerd 1.6 streaming server: what it accepts', { skip }, async () => {
  const web = pods.get('web')!;
  const exec = () => rt.exec(web.containerId, ['true'], { stdout: true });
  let h = await probe(await exec(), 'POST', spdyHeaders('v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'));
  assert.deepEqual([h.statusCode, h.headers['x-stream-protocol-version']], [101, 'v4.channel.k8s.io']);
  assert.equal((await probe(await exec(), 'POST', spdyHeaders('v5.channel.k8s.io'))).statusCode, 403);
  assert.equal((await probe(await exec(), 'GET', wsHeaders('v5.channel.k8s.io'))).statusCode, 403);
  h = await probe(await exec(), 'GET', wsHeaders('v4.channel.k8s.io'));
  assert.deepEqual([h.statusCode, h.headers['sec-websocket-protocol']], [101, 'v4.channel.k8s.io']);
  assert.equal((await probe(await exec(), 'GET', wsHeaders())).statusCode, 101);
  // Streaming URLs are single use.
  const once = await exec();
  assert.equal((await probe(once, 'POST', spdyHeaders('v4.channel.k8s.io'))).statusCode, 101);
  assert.equal((await probe(once, 'POST', spdyHeaders('v4.channel.k8s.io'))).statusCode, 404);
  const pf = () => rt.portForward(web.sandbox, []);
  h = await probe(await pf(), 'POST', spdyHeaders('portforward.k8s.io'));
  assert.deepEqual([h.statusCode, h.headers['x-stream-protocol-version']], [101, 'portforward.k8s.io']);
  assert.equal((await probe(await pf(), 'GET', wsHeaders('SPDY/3.1+portforward.k8s.io'))).statusCode, 403);
  assert.equal((await probe(await pf(), 'GET', wsHeaders('v4.channel.k8s.io'))).statusCode, 101);
});

/** exec over WebSocket v4 (channel byte first) straight to the kubelet. */
async function wsExec(path: string): Promise<{ stdout: string; stderr: string; status: any }> {
  const ws = new WebSocket(`wss://127.0.0.1:${kubelet!.port}${path}`, ['v4.channel.k8s.io'], { ...kubeletAuth(), rejectUnauthorized: false });
  const out: Record<number, string> = { 1: '', 2: '', 3: '' };
  return new Promise((resolve, reject) => {
    ws.on('message', (d: Buffer) => { if (d.length) out[d[0]] = (out[d[0]] ?? '') + d.subarray(1).toString(); });
    ws.on('close', () => resolve({ stdout: out[1], stderr: out[2], status: out[3] ? JSON.parse(out[3]) : undefined }));
    ws.on('error', reject);
  });
}

test('kubelet: exec over WebSocket v4 against a real container: streams, exit code, tty', { skip }, async () => {
  const q = (cmd: string[]) => cmd.map((c) => `command=${encodeURIComponent(c)}`).join('&');
  let r = await wsExec(`/exec/default/web/c?${q(['sh', '-c', 'echo out; echo err >&2; exit 3'])}&output=1&error=1`);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
  assert.equal(r.status.reason, 'NonZeroExitCode');
  assert.equal(r.status.details.causes[0].message, '3');
  r = await wsExec(`/exec/default/web/c?${q(['cat', '/www/index.html'])}&output=1`);
  assert.deepEqual([r.stdout, r.status.status], ['hello-from-httpd\n', 'Success']);
  // A terminal needs stdin as well: containerd 1.6 loses a tty exec's output without it (also
  // when talking to its streaming server directly); kubectl only uses -t with -i.
  r = await wsExec(`/exec/default/web/c?${q(['tty'])}&input=1&output=1&tty=1`);
  assert.match(r.stdout, /^\/dev\/pts\/\d+\r?\n$/, JSON.stringify(r));
});

test('kubelet: logs of a real container, follow ending when it exits', { skip, timeout: 30_000 }, async () => {
  const get = (path: string) => new Promise<string>((resolve, reject) => {
    import('node:https').then(({ default: https }) => {
      const req = https.get({ host: '127.0.0.1', port: kubelet!.port, path, ...kubeletAuth(), rejectUnauthorized: false, agent: false }, (res) => {
        let b = '';
        res.on('data', (c) => { b += c; });
        res.on('end', () => resolve(b));
      });
      req.on('error', reject);
    }, reject);
  });
  assert.match(await get('/containerLogs/default/web/c'), /^started\n/);
  // `short` prints for 2 s and exits: follow returns everything, then ends.
  assert.equal(await get('/containerLogs/default/short/c?follow=true'), 'one\nerr\ntwo\n');
  assert.match(await get('/containerLogs/default/short/c?timestamps=true&tailLines=1'), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d) two\n$/);
});

test('WebSocket v4 clients through the API server: exec and the channel port-forward protocol', { skip, timeout: 30_000 }, async () => {
  const api = new URL(cluster!.server.url);
  const auth = { headers: { Authorization: `Bearer ${cluster!.server.pki.adminToken}` }, rejectUnauthorized: false };
  // exec, as client libraries (JS, Python) do it: v4 over WebSocket.
  const ws = new WebSocket(`wss://${api.host}/api/v1/namespaces/default/pods/web/exec?command=sh&command=-c&command=echo%20v4;%20exit%205&stdout=true&stderr=true`,
    ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'], auth);
  const out: Record<number, string> = {};
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (d: Buffer) => { out[d[0]] = (out[d[0]] ?? '') + d.subarray(1).toString(); });
    ws.on('close', () => resolve());
    ws.on('error', reject);
  });
  assert.equal(ws.protocol, 'v4.channel.k8s.io');
  assert.equal(out[1], 'v4\n');
  assert.equal(JSON.parse(out[3]).details.causes[0].message, '5');

  // port-forward over the channel protocol: channel 0 carries the data of the first port,
  // channel 1 its errors; the server's first message on each is the port, little endian.
  const pf = new WebSocket(`wss://${api.host}/api/v1/namespaces/default/pods/web/portforward?ports=8080`, ['v4.channel.k8s.io'], auth);
  let data = Buffer.alloc(0);
  const seenPorts: number[] = [];
  const firsts = new Set<number>();
  pf.on('message', (d: Buffer) => {
    const ch = d[0];
    let payload = d.subarray(1);
    if (!firsts.has(ch)) { firsts.add(ch); seenPorts.push(payload.readUInt16LE(0)); payload = payload.subarray(2); }
    if (ch === 0) data = Buffer.concat([data, payload]);
  });
  await new Promise<void>((resolve, reject) => { pf.once('open', () => resolve()); pf.once('error', reject); });
  pf.send(Buffer.concat([Buffer.from([0]), Buffer.from('GET / HTTP/1.0\r\nHost: x\r\n\r\n')]));
  await eventually(() => data.toString().includes('hello-from-httpd'), 'HTTP answer through the WebSocket port-forward', 10_000, 50);
  assert.deepEqual(seenPorts, [8080, 8080]);
  pf.close();
});

// ---- the real kubectl through the API server ---------------------------------------------------

interface Run { code: number | null; stdout: string; stderr: string }
function kubectl(args: string[], opts: { input?: string | Buffer; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Run> {
  const home = join(dir, 'home');
  mkdirSync(home, { recursive: true });
  return new Promise((resolve) => {
    const p = spawn(KUBECTL, ['--kubeconfig', cluster!.server.kubeconfigPath, '--cache-dir', join(home, 'cache'), ...args], {
      env: { ...process.env, HOME: home, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = ''; let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    p.stdin.end(opts.input ?? '');
  });
}

test('kubectl exec: WebSocket v5 refused, SPDY fallback; stdin EOF; exit codes; errors', { skip: skipKubectl, timeout: 60_000 }, async () => {
  for (const env of [{}, { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' }] as Record<string, string>[]) {
    let r = await kubectl(['exec', 'web', '--', 'cat', '/www/index.html'], { env });
    assert.deepEqual([r.code, r.stdout], [0, 'hello-from-httpd\n'], r.stderr);
    r = await kubectl(['exec', '-i', 'web', '--', 'sh', '-c', 'cat; echo done'], { input: 'piped\n', env });
    assert.deepEqual([r.code, r.stdout], [0, 'piped\ndone\n'], r.stderr);
    r = await kubectl(['exec', 'web', '--', 'sh', '-c', 'echo to-stderr >&2; exit 7'], { env });
    assert.equal(r.code, 7, r.stderr);
    assert.match(r.stderr, /to-stderr/);
  }
  const r = await kubectl(['exec', 'nope', '--', 'true']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /pods "nope" not found/);
});

test('kubectl cp into and out of a container (tar over exec with stdin)', { skip: skipKubectl, timeout: 60_000 }, async () => {
  const local = join(dir, 'cp');
  mkdirSync(local, { recursive: true });
  const big = randomBytes(300_000).toString('base64'); // several SPDY frames and flow-control windows
  writeFileSync(join(local, 'up.txt'), big);
  let r = await kubectl(['cp', join(local, 'up.txt'), 'web:/tmp/up.txt']);
  assert.equal(r.code, 0, r.stderr);
  r = await kubectl(['exec', 'web', '--', 'md5sum', '/tmp/up.txt']);
  const want = (await import('node:crypto')).createHash('md5').update(big).digest('hex');
  assert.equal(r.stdout.split(' ')[0], want);
  r = await kubectl(['cp', 'web:/www/index.html', join(local, 'down.html')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(join(local, 'down.html'), 'utf8'), 'hello-from-httpd\n');
});

test('kubectl logs and attach', { skip: skipKubectl, timeout: 60_000 }, async () => {
  let r = await kubectl(['logs', 'web']);
  assert.match(r.stdout, /^started\n/);
  r = await kubectl(['logs', 'short', '--tail=1']);
  assert.equal(r.stdout, 'two\n');
  r = await kubectl(['logs', '-f', 'short']);
  assert.equal(r.stdout, 'one\nerr\ntwo\n');
  // attach shows the running output; stopped by us once it has.
  const home = join(dir, 'home');
  const p = spawn(KUBECTL, ['--kubeconfig', cluster!.server.kubeconfigPath, '--cache-dir', join(home, 'cache'), 'attach', 'ticker'], {
    env: { ...process.env, HOME: home }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  p.stdout.on('data', (d) => { out += d; });
  p.stderr.on('data', (d) => { out += d; });
  try {
    await eventually(() => /tick\ntick\n/.test(out), 'attach output', 15_000, 50);
  } finally {
    p.kill('SIGTERM');
  }
});

async function portForward(env: Record<string, string>): Promise<void> {
  const home = join(dir, 'home');
  const p = spawn(KUBECTL, ['--kubeconfig', cluster!.server.kubeconfigPath, '--cache-dir', join(home, 'cache'), 'port-forward', 'pod/web', ':8080'], {
    env: { ...process.env, HOME: home, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  p.stdout.on('data', (d) => { out += d; });
  p.stderr.on('data', (d) => { out += d; });
  try {
    const m = (await eventually(() => /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(out), 'port-forward ready', 15_000, 50))!;
    for (let i = 0; i < 3; i++) {
      const body = await fetch(`http://127.0.0.1:${m[1]}/`).then((res) => res.text());
      assert.equal(body, 'hello-from-httpd\n');
    }
  } finally {
    p.kill('SIGTERM');
    await new Promise((r) => p.once('close', r));
  }
}

test('kubectl port-forward over the WebSocket tunnel (default)', { skip: skipKubectl, timeout: 60_000 }, async () => {
  await portForward({});
});

test('kubectl port-forward over plain SPDY', { skip: skipKubectl, timeout: 60_000 }, async () => {
  await portForward({ KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' });
});

test('every relay is closed once its client is gone', { skip: skipKubectl, timeout: 30_000 }, async () => {
  const relays = (cluster!.server.nodeProxy as unknown as { relays: Set<unknown> }).relays;
  await eventually(() => relays.size === 0, `relays to close (${relays.size} open)`, 15_000, 100);
});
