/**
 * KubeletServer alone and behind the API server's node proxy, with a stub runtime whose
 * streaming URLs point at a small stand-in for containerd's streaming server (it answers SPDY
 * upgrades with 101 and WebSocket upgrades for v4.channel.k8s.io, then echoes). The protocols
 * themselves against real containerd are in kubelet-server.containerd.test.ts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import tls from 'node:tls';
import { mkdtempSync, rmSync, writeFileSync, appendFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { WebSocket, WebSocketServer } from 'ws';
import { KubeletServer, type PodLookup } from './kubelet-server.js';
import { ensureKubeletServingCert } from './serving-cert.js';
import { CriError, GRPC_NOT_FOUND, type RuntimeService, type StreamingRequestBase } from '../cri/api.js';
import { ensurePki, issueClientCert, type Pki } from '../../util/pki.js';
import { readResponseHead } from '../../util/upgrade-relay.js';
import { startTestCluster, eventually, type TestCluster } from '../../client/testing.js';

const dir = mkdtempSync(join(tmpdir(), 'keelson-kubelet-server-'));
const logDir = join(dir, 'logs');
mkdirSync(logDir);
const T = (s: number) => `2024-05-01T10:00:${String(s).padStart(2, '0')}.5Z`;

// ---- stand-in for containerd's streaming server ------------------------------------------------

interface Seen { method: string; url: string; headers: http.IncomingHttpHeaders; rawHeaders: string[] }
const seen: Seen[] = [];
const streamServer = http.createServer((_req, res) => { res.writeHead(400); res.end('not an upgrade'); });
const streamWss = new WebSocketServer({
  noServer: true,
  handleProtocols: (offered) => ['v4.channel.k8s.io', 'channel.k8s.io'].find((p) => offered.has(p)) ?? false,
});
streamServer.on('upgrade', (req, socket, head) => {
  seen.push({ method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders });
  if (req.url!.includes('expired')) {
    socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nConnection: close\r\n\r\ntoken expired');
    return;
  }
  if (/websocket/i.test(String(req.headers.upgrade))) {
    streamWss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (d: Buffer) => ws.send(Buffer.concat([Buffer.from('echo:'), d]))));
    return;
  }
  const offered = req.rawHeaders.filter((_, i) => i % 2 === 1 && /^x-stream-protocol-version$/i.test(req.rawHeaders[i - 1]));
  const chosen = ['v4.channel.k8s.io', 'portforward.k8s.io'].find((p) => offered.includes(p));
  if (!chosen) { socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'); return; }
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${chosen}\r\n\r\n`);
  if (head.length) socket.write(head);
  socket.on('data', (d) => socket.write(d)); // echo, as a stand-in for SPDY frames
  socket.on('end', () => socket.end());
  socket.on('error', () => socket.destroy());
});

// ---- stub runtime and pods -------------------------------------------------------------------

const containers = new Map<string, { state: 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' }>();
const calls: { method: string; args: unknown[] }[] = [];
let streamBase = '';
const runtime = {
  async containerStatus(id: string) {
    const c = containers.get(id);
    if (!c) throw new CriError('ContainerStatus', GRPC_NOT_FOUND, 'not found');
    return { id, state: c.state } as any;
  },
  async exec(id: string, cmd: string[], opts: StreamingRequestBase) {
    calls.push({ method: 'exec', args: [id, cmd, opts] });
    if (id === 'gone') throw new CriError('Exec', GRPC_NOT_FOUND, 'container "gone" not found');
    return `${streamBase}/exec/${cmd[0] === 'expired' ? 'expired' : 'tok1'}`;
  },
  async attach(id: string, opts: StreamingRequestBase) {
    calls.push({ method: 'attach', args: [id, opts] });
    return `${streamBase}/attach/tok2`;
  },
  async portForward(sandbox: string, ports: number[]) {
    calls.push({ method: 'portForward', args: [sandbox, ports] });
    return `${streamBase}/portforward/tok3`;
  },
} as unknown as RuntimeService;

const pods: PodLookup = {
  async findContainer(ns, pod, container, previous) {
    if (ns !== 'default') return { error: `pod "${ns}/${pod}" not found`, code: 404 };
    if (pod === 'waiting') return { error: `container "${container}" in pod "${pod}" is waiting to start: ContainerCreating`, code: 400 };
    if (pod === 'gone') return { containerId: 'gone', logPath: join(logDir, 'none.log'), podSandboxId: 's1' };
    const id = `${pod}-${container}${previous ? '-prev' : ''}`;
    return { containerId: id, logPath: join(logDir, `${id}.log`), podSandboxId: `sb-${pod}` };
  },
  async findSandbox(ns, pod) {
    if (ns !== 'default') return { error: `pod "${ns}/${pod}" not found`, code: 404 };
    return { podSandboxId: `sb-${pod}` };
  },
};

let pki: Pki;
let clientCert: { certPem: string; keyPem: string };
let kubelet: KubeletServer;

before(async () => {
  await new Promise<void>((r) => streamServer.listen(0, '127.0.0.1', () => r()));
  streamBase = `http://127.0.0.1:${(streamServer.address() as AddressInfo).port}`;
  pki = await ensurePki(join(dir, 'pki'), { hosts: ['127.0.0.1'] });
  clientCert = await issueClientCert(pki, 'kube-apiserver-kubelet-client', ['system:masters']);
  const serving = await ensureKubeletServingCert(join(dir, 'kubelet-pki'), ['127.0.0.1', 'localhost']);
  kubelet = new KubeletServer({
    port: 0, bindAddress: '127.0.0.1', tls: { ...serving, clientCaPem: pki.caCertPem }, runtime, pods, logPollIntervalMs: 50,
  });
  await kubelet.start();
});

after(async () => {
  await kubelet.stop();
  await new Promise<void>((r) => streamServer.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

// ---- helpers ---------------------------------------------------------------------------------

function kubeletGet(path: string, cert = clientCert): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https_request(path, cert);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

function https_request(path: string, cert: { certPem: string; keyPem: string }) {
  return https.request({ host: '127.0.0.1', port: kubelet.port, path, cert: cert.certPem, key: cert.keyPem, rejectUnauthorized: false, agent: false });
}

/** An HTTP/1.1 upgrade request on a raw TLS connection; returns the answer's head and the connection. */
async function upgrade(port: number, method: string, path: string, headers: [string, string][], auth: { cert?: string; key?: string; token?: string } = {}) {
  const sock = tls.connect({ host: '127.0.0.1', port, cert: auth.cert, key: auth.key, rejectUnauthorized: false });
  await new Promise<void>((r, j) => { sock.once('secureConnect', () => r()); sock.once('error', j); });
  const lines = [`${method} ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, ...headers.map(([k, v]) => `${k}: ${v}`)];
  if (auth.token) lines.push(`Authorization: Bearer ${auth.token}`);
  sock.write(`${lines.join('\r\n')}\r\n\r\n`);
  const head = await readResponseHead(sock);
  return { head, sock, body: () => collect(sock, head.rest, head.headers['transfer-encoding'] === 'chunked') };
}

function collect(sock: tls.TLSSocket, first: Buffer, chunked: boolean): Promise<string> {
  return new Promise((resolve) => {
    const chunks = [first];
    sock.on('data', (c) => chunks.push(c));
    sock.on('close', () => resolve(chunked ? dechunk(Buffer.concat(chunks)) : Buffer.concat(chunks).toString()));
    sock.resume();
  });
}

function dechunk(b: Buffer): string {
  const out: Buffer[] = [];
  let i = 0;
  while (i < b.length) {
    const eol = b.indexOf('\r\n', i);
    const size = parseInt(b.subarray(i, eol).toString(), 16);
    if (!size) break;
    out.push(b.subarray(eol + 2, eol + 2 + size));
    i = eol + 2 + size + 2;
  }
  return Buffer.concat(out).toString();
}

/**
 * kubectl's port-forward tunnel handshake, which `ws` cannot send ('/' is not allowed in a
 * subprotocol): a raw upgrade, then minimal client-side WebSocket framing.
 */
async function tunnelOpen(port: number, path: string, auth: { cert?: string; key?: string }) {
  const u = await upgrade(port, 'GET', path, [['Connection', 'Upgrade'], ['Upgrade', 'websocket'], ['Sec-WebSocket-Version', '13'],
    ['Sec-WebSocket-Key', randomBytes(16).toString('base64')], ['Sec-WebSocket-Protocol', 'SPDY/3.1+portforward.k8s.io']], auth);
  let pending = u.head.rest;
  let payload = Buffer.alloc(0);
  let closed = false;
  const parse = () => {
    for (;;) {
      if (pending.length < 2) return;
      const op = pending[0] & 0x0f;
      let len = pending[1] & 0x7f;
      let off = 2;
      if (len === 126) { if (pending.length < 4) return; len = pending.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (pending.length < 10) return; len = Number(pending.readBigUInt64BE(2)); off = 10; }
      if (pending.length < off + len) return;
      const data = pending.subarray(off, off + len);
      if (op === 0 || op === 2) payload = Buffer.concat([payload, data]);
      if (op === 8) closed = true;
      pending = pending.subarray(off + len);
    }
  };
  u.sock.on('data', (c: Buffer) => { pending = Buffer.concat([pending, c]); parse(); });
  u.sock.on('close', () => { closed = true; });
  u.sock.resume();
  parse();
  const frame = (op: number, data: Buffer) => {
    const mask = randomBytes(4);
    const masked = Buffer.from(data.map((b, i) => b ^ mask[i % 4]));
    const len = data.length < 126 ? Buffer.from([0x80 | data.length]) : Buffer.from([0x80 | 126, data.length >> 8, data.length & 0xff]);
    u.sock.write(Buffer.concat([Buffer.from([0x80 | op]), len, mask, masked]));
  };
  return {
    head: u.head,
    send: (data: Buffer) => frame(2, data),
    received: () => payload,
    closed: () => closed,
    close: () => { frame(8, Buffer.from([0x03, 0xe8])); },
    destroy: () => u.sock.destroy(),
  };
}

/** Writes `msg` and waits until `expect` has come back. */
async function roundTrip(sock: tls.TLSSocket, rest: Buffer, msg: string, expect = msg): Promise<void> {
  let got = rest.toString();
  const done = new Promise<void>((resolve, reject) => {
    const onData = (c: Buffer) => { got += c.toString(); if (got.includes(expect)) { sock.off('data', onData); resolve(); } };
    sock.on('data', onData);
    sock.once('close', () => reject(new Error(`closed; got ${JSON.stringify(got)}`)));
  });
  sock.resume();
  sock.write(msg);
  await done;
}

const SPDY_EXEC: [string, string][] = [
  ['Connection', 'Upgrade'], ['Upgrade', 'SPDY/3.1'],
  ['X-Stream-Protocol-Version', 'v5.channel.k8s.io'], ['X-Stream-Protocol-Version', 'v4.channel.k8s.io'],
  ['X-Stream-Protocol-Version', 'v3.channel.k8s.io'], ['X-Stream-Protocol-Version', 'v2.channel.k8s.io'],
  ['X-Stream-Protocol-Version', 'channel.k8s.io'], ['Content-Length', '0'],
];

function wsOpen(url: string, protocols: string[], opts: { cert?: string; key?: string; headers?: Record<string, string> }): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { cert: opts.cert, key: opts.key, rejectUnauthorized: false, headers: opts.headers, perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => reject(Object.assign(new Error(`status ${res.statusCode}: ${Buffer.concat(chunks)}`), { status: res.statusCode })));
    });
    ws.once('error', reject);
  });
}

const nextMessage = (ws: WebSocket) => new Promise<Buffer>((r) => ws.once('message', (d: Buffer) => r(d)));

// ---- the kubelet alone -----------------------------------------------------------------------

test('kubelet: clients without a certificate from the client CA are refused at the handshake', async () => {
  const other = await ensurePki(join(dir, 'other-pki'), { hosts: ['127.0.0.1'] });
  await assert.rejects(kubeletGet('/healthz', { certPem: other.adminCertPem, keyPem: other.adminKeyPem }));
  assert.equal((await kubeletGet('/healthz')).body, 'ok');
});

test('kubelet: containerLogs with tail, timestamps, limitBytes; errors from the pod lookup', async () => {
  writeFileSync(join(logDir, 'web-c.log'), [1, 2, 3].map((i) => `${T(i)} stdout F line ${i}`).join('\n') + '\n');
  containers.set('web-c', { state: 'CONTAINER_RUNNING' });
  assert.deepEqual(await kubeletGet('/containerLogs/default/web/c'), { status: 200, body: 'line 1\nline 2\nline 3\n' });
  assert.equal((await kubeletGet('/containerLogs/default/web/c?tailLines=1&timestamps=true')).body, '2024-05-01T10:00:03.500000000Z line 3\n');
  assert.equal((await kubeletGet('/containerLogs/default/web/c?limitBytes=3')).body, 'lin');
  assert.equal((await kubeletGet('/containerLogs/default/web/c?sinceTime=2024-05-01T10:00:02Z')).body, 'line 2\nline 3\n');
  assert.deepEqual(await kubeletGet('/containerLogs/other/web/c'), { status: 404, body: 'pod "other/web" not found' });
  assert.equal((await kubeletGet('/containerLogs/default/waiting/c')).status, 400);
  assert.equal((await kubeletGet('/containerLogs/default/web/c?tailLines=-1')).status, 422);
  assert.equal((await kubeletGet('/containerLogs/default/web/c?sinceSeconds=1&sinceTime=2024-05-01T10:00:02Z')).status, 422);
  assert.equal((await kubeletGet('/containerLogs/default/web/c?follow=maybe')).status, 400);
  assert.equal((await kubeletGet('/nothing/here')).status, 404);
  assert.equal((await kubeletGet('/exec/default/web/c?command=ls')).body, 'Upgrade request required');
});

test('kubelet: containerLogs follow streams until the container exits', { timeout: 10_000 }, async () => {
  const path = join(logDir, 'follow-c.log');
  writeFileSync(path, `${T(1)} stdout F hello\n`);
  containers.set('follow-c', { state: 'CONTAINER_RUNNING' });
  const req = https_request('/containerLogs/default/follow/c?follow=true', clientCert);
  const res = await new Promise<http.IncomingMessage>((r) => { req.on('response', r); req.end(); });
  let got = '';
  res.on('data', (c) => { got += c; });
  const ended = new Promise<void>((r) => res.on('end', () => r()));
  await eventually(() => got === 'hello\n', 'first line');
  appendFileSync(path, `${T(2)} stdout F world\n`);
  await eventually(() => got === 'hello\nworld\n', 'appended line');
  containers.set('follow-c', { state: 'CONTAINER_EXITED' });
  appendFileSync(path, `${T(3)} stderr F bye\n`);
  await ended;
  assert.equal(got, 'hello\nworld\nbye\n');
});

test('kubelet: exec over SPDY is relayed byte for byte to the streaming URL', async () => {
  calls.length = 0;
  seen.length = 0;
  const { head, sock } = await upgrade(kubelet.port, 'POST', '/exec/default/web/c?command=sh&command=-c&command=echo%20hi&input=1&output=1&error=1&tty=1', SPDY_EXEC,
    { cert: clientCert.certPem, key: clientCert.keyPem });
  assert.equal(head.statusCode, 101);
  assert.equal(head.headers['x-stream-protocol-version'], 'v4.channel.k8s.io');
  await roundTrip(sock, head.rest, '\x80\x03\x00\x01frames');
  sock.destroy();
  // tty drops stderr, as upstream.
  assert.deepEqual(calls, [{ method: 'exec', args: ['web-c', ['sh', '-c', 'echo hi'], { stdin: true, stdout: true, stderr: false, tty: true }] }]);
  assert.equal(seen[0].method, 'POST');
  assert.equal(seen[0].url, '/exec/tok1');
  // The five X-Stream-Protocol-Version lines arrive as five lines.
  assert.equal(seen[0].rawHeaders.filter((h) => /^x-stream-protocol-version$/i.test(h)).length, 5);
});

test('kubelet: exec/attach over WebSocket v4 are relayed; v5 alone is refused so kubectl falls back to SPDY', async () => {
  const base = `wss://127.0.0.1:${kubelet.port}`;
  const auth = { cert: clientCert.certPem, key: clientCert.keyPem };
  const ws = await wsOpen(`${base}/exec/default/web/c?command=cat&stdin=1&stdout=1`, ['v4.channel.k8s.io'], auth);
  assert.equal(ws.protocol, 'v4.channel.k8s.io');
  const reply = nextMessage(ws);
  ws.send(Buffer.from('\x00hi'));
  assert.equal((await reply).toString(), 'echo:\x00hi');
  ws.close();

  const att = await wsOpen(`${base}/attach/default/web/c?output=1`, ['v5.channel.k8s.io', 'channel.k8s.io'], auth);
  assert.equal(att.protocol, 'channel.k8s.io');
  att.close();

  calls.length = 0;
  await assert.rejects(wsOpen(`${base}/exec/default/web/c?command=ls&output=1`, ['v5.channel.k8s.io'], auth), (e: any) => e.status === 400);
  assert.equal(calls.length, 0, 'no runtime exec for a refused protocol');
});

test('kubelet: exec errors: no streams, no command, unknown container, runtime not found, expired URL', async () => {
  const auth = { cert: clientCert.certPem, key: clientCert.keyPem };
  const body = async (path: string) => { const u = await upgrade(kubelet.port, 'POST', path, SPDY_EXEC, auth); return { code: u.head.statusCode, body: await u.body() }; };
  assert.deepEqual(await body('/exec/default/web/c?command=ls'), { code: 400, body: 'you must specify at least 1 of stdin, stdout, stderr' });
  assert.equal((await body('/exec/default/web/c?output=1')).code, 400);
  assert.deepEqual(await body('/exec/other/web/c?command=ls&output=1'), { code: 404, body: 'pod "other/web" not found' });
  assert.equal((await body('/exec/default/gone/c?command=ls&output=1')).code, 404);
  // Whatever the streaming server answers is passed on.
  assert.deepEqual(await body('/exec/default/web/c?command=expired&output=1'), { code: 404, body: 'token expired' });
});

test('kubelet: port-forward over SPDY is relayed; the WebSocket tunnel carries raw SPDY bytes', async () => {
  const auth = { cert: clientCert.certPem, key: clientCert.keyPem };
  calls.length = 0;
  seen.length = 0;
  const { head, sock } = await upgrade(kubelet.port, 'POST', '/portForward/default/web',
    [['Connection', 'Upgrade'], ['Upgrade', 'SPDY/3.1'], ['X-Stream-Protocol-Version', 'portforward.k8s.io']], auth);
  assert.equal(head.statusCode, 101);
  assert.equal(head.headers['x-stream-protocol-version'], 'portforward.k8s.io');
  await roundTrip(sock, head.rest, 'spdy-bytes');
  sock.destroy();
  assert.deepEqual(calls[0], { method: 'portForward', args: ['sb-web', []] });

  seen.length = 0;
  const ws = await tunnelOpen(kubelet.port, '/portForward/default/web', auth);
  assert.equal(ws.head.statusCode, 101);
  assert.equal(ws.head.headers['sec-websocket-protocol'], 'SPDY/3.1+portforward.k8s.io');
  ws.send(Buffer.from([0x80, 0x03]));
  ws.send(Buffer.from([0x00, 0x01, 0xff]));
  await eventually(() => ws.received().equals(Buffer.from([0x80, 0x03, 0x00, 0x01, 0xff])), 'tunnelled bytes echoed');
  // The kubelet made a plain SPDY upgrade to the runtime for it.
  assert.equal(seen[0].method, 'POST');
  assert.equal(seen[0].headers['upgrade'], 'SPDY/3.1');
  assert.equal(seen[0].headers['x-stream-protocol-version'], 'portforward.k8s.io');
  ws.close();
  await eventually(() => ws.closed(), 'tunnel closed');

  calls.length = 0;
  const v4 = await upgrade(kubelet.port, 'GET', '/portForward/default/web?port=80,8080', [['Connection', 'Upgrade'], ['Upgrade', 'websocket'],
    ['Sec-WebSocket-Version', '13'], ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='], ['Sec-WebSocket-Protocol', 'v4.channel.k8s.io']], auth);
  assert.equal(v4.head.statusCode, 101);
  v4.sock.destroy();
  assert.deepEqual(calls[0].args, ['sb-web', [80, 8080]]);
});

// ---- behind the API server ---------------------------------------------------------------------

let cluster: TestCluster | undefined;
let apiPort = 0;
const admin = () => ({ cert: cluster!.server.pki.adminCertPem, key: cluster!.server.pki.adminKeyPem });

async function startCluster(): Promise<TestCluster> {
  if (cluster) return cluster;
  cluster = await startTestCluster();
  apiPort = Number(new URL(cluster.server.url).port);
  const c = cluster.client;
  // The kubelet trusts the API server's CA for client certificates.
  await kubelet.stop();
  const serving = await ensureKubeletServingCert(join(dir, 'kubelet-pki'), ['127.0.0.1', 'localhost']);
  kubelet = new KubeletServer({ port: 0, bindAddress: '127.0.0.1', tls: { ...serving, clientCaPem: cluster.server.pki.caCertPem }, runtime, pods, logPollIntervalMs: 50 });
  await kubelet.start();
  await c.requestJSON('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
  const node = await c.requestJSON('GET', '/api/v1/nodes/n1');
  node.status = { addresses: [{ type: 'Hostname', address: 'n1.invalid' }, { type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: kubelet.port } } };
  await c.requestJSON('PUT', '/api/v1/nodes/n1/status', node);
  const pod = (name: string, containers: string[], nodeName?: string) => c.requestJSON('POST', '/api/v1/namespaces/default/pods', {
    apiVersion: 'v1', kind: 'Pod', metadata: { name },
    spec: { ...(nodeName ? { nodeName } : {}), containers: containers.map((n) => ({ name: n, image: 'busybox' })) },
  });
  await pod('web', ['c'], 'n1');
  await pod('two', ['a', 'b'], 'n1');
  await pod('pending', ['c']);
  await pod('waiting', ['c'], 'n1');
  return cluster;
}

after(async () => { await cluster?.stop(); });

/** A GET over HTTP/2 (as kubectl sends log requests); resolves with status and body. */
function h2get(path: string, onData?: (chunk: string) => void): Promise<{ status: number; body: string; contentType: string }> {
  return new Promise((resolve, reject) => {
    const s = http2.connect(`https://127.0.0.1:${apiPort}`, { ...admin(), rejectUnauthorized: false });
    s.on('error', reject);
    const req = s.request({ ':path': path, accept: 'application/json, */*' });
    let status = 0; let contentType = ''; let body = '';
    req.on('response', (h) => { status = Number(h[':status']); contentType = String(h['content-type']); });
    req.setEncoding('utf8');
    req.on('data', (c: string) => { body += c; onData?.(c); });
    req.on('end', () => { s.close(); resolve({ status, body, contentType }); });
    req.on('error', reject);
  });
}

test('api server: pods/log proxied to the kubelet, with options; errors as Status', async () => {
  await startCluster();
  writeFileSync(join(logDir, 'web-c.log'), [1, 2, 3].map((i) => `${T(i)} stdout F line ${i}`).join('\n') + '\n');
  writeFileSync(join(logDir, 'two-b.log'), `${T(1)} stderr F from b\n`);
  containers.set('web-c', { state: 'CONTAINER_RUNNING' });

  const r = await h2get('/api/v1/namespaces/default/pods/web/log');
  assert.deepEqual(r, { status: 200, body: 'line 1\nline 2\nline 3\n', contentType: 'text/plain' });
  assert.equal((await h2get('/api/v1/namespaces/default/pods/web/log?container=c&tailLines=2&timestamps=true')).body,
    '2024-05-01T10:00:02.500000000Z line 2\n2024-05-01T10:00:03.500000000Z line 3\n');
  assert.equal((await h2get('/api/v1/namespaces/default/pods/two/log?container=b')).body, 'from b\n');

  const status = async (path: string) => { const x = await h2get(path); return { code: x.status, ...JSON.parse(x.body) }; };
  let s = await status('/api/v1/namespaces/default/pods/two/log');
  assert.equal(s.code, 400);
  assert.equal(s.message, 'a container name must be specified for pod two, choose one of: [a b]');
  s = await status('/api/v1/namespaces/default/pods/web/log?container=zz');
  assert.equal(s.message, 'container zz is not valid for pod web');
  s = await status('/api/v1/namespaces/default/pods/nope/log');
  assert.equal(s.code, 404);
  assert.equal(s.message, 'pods "nope" not found');
  s = await status('/api/v1/namespaces/default/pods/web/log?tailLines=-2');
  assert.equal(s.code, 422);
  assert.equal(s.reason, 'Invalid');
  // The kubelet's 400 is a BadRequest with its text.
  s = await status('/api/v1/namespaces/default/pods/waiting/log');
  assert.deepEqual([s.code, s.reason, s.message], [400, 'BadRequest', 'container "c" in pod "waiting" is waiting to start: ContainerCreating']);
  // A pod not bound to a node has no logs yet.
  assert.deepEqual(await h2get('/api/v1/namespaces/default/pods/pending/log'), { status: 200, body: '', contentType: 'text/plain' });
});

test('api server: pods/log follow streams each chunk as it is written', { timeout: 10_000 }, async () => {
  await startCluster();
  const path = join(logDir, 'web-c.log');
  writeFileSync(path, `${T(1)} stdout F one\n`);
  containers.set('web-c', { state: 'CONTAINER_RUNNING' });
  let got = '';
  const done = h2get('/api/v1/namespaces/default/pods/web/log?follow=true', (c) => { got += c; });
  await eventually(() => got === 'one\n', 'first line through the API server');
  appendFileSync(path, `${T(2)} stdout F two\n`);
  await eventually(() => got === 'one\ntwo\n', 'second line through the API server');
  containers.set('web-c', { state: 'CONTAINER_EXITED' });
  const r = await done;
  assert.equal(r.body, 'one\ntwo\n');
});

test('api server: exec/attach/portforward upgrades are relayed to the kubelet', async () => {
  await startCluster();
  calls.length = 0;
  seen.length = 0;
  // SPDY (kubectl's fallback): POST with upgrade, PodExecOptions → the kubelet's parameters.
  const { head, sock } = await upgrade(apiPort, 'POST', '/api/v1/namespaces/default/pods/web/exec?command=ls&command=-l&container=c&stdin=true&stdout=true&stderr=true',
    SPDY_EXEC, admin());
  assert.equal(head.statusCode, 101);
  assert.equal(head.headers['x-stream-protocol-version'], 'v4.channel.k8s.io');
  await roundTrip(sock, head.rest, 'through two relays');
  sock.destroy();
  assert.deepEqual(calls[0], { method: 'exec', args: ['web-c', ['ls', '-l'], { stdin: true, stdout: true, stderr: true, tty: false }] });

  // WebSocket v4 (client libraries) and the bearer token.
  const token = { headers: { Authorization: `Bearer ${cluster!.server.pki.adminToken}` } };
  const ws = await wsOpen(`wss://127.0.0.1:${apiPort}/api/v1/namespaces/default/pods/web/attach?stdout=true&stdin=true`, ['v4.channel.k8s.io'], token);
  const reply = nextMessage(ws);
  ws.send(Buffer.from('\x00x'));
  assert.equal((await reply).toString(), 'echo:\x00x');
  ws.close();

  // kubectl's first try: WebSocket v5 only → refused (400), so it falls back to SPDY.
  await assert.rejects(wsOpen(`wss://127.0.0.1:${apiPort}/api/v1/namespaces/default/pods/web/exec?command=ls&stdout=true`, ['v5.channel.k8s.io'], admin()),
    (e: any) => e.status === 400);

  // Port-forward tunnel through both.
  const pf = await tunnelOpen(apiPort, '/api/v1/namespaces/default/pods/web/portforward', admin());
  assert.equal(pf.head.headers['sec-websocket-protocol'], 'SPDY/3.1+portforward.k8s.io');
  pf.send(Buffer.from('raw spdy'));
  await eventually(() => pf.received().toString() === 'raw spdy', 'tunnel echo');
  pf.close();
  await eventually(() => pf.closed(), 'tunnel closed');
});

test('api server: upgrade errors are Status (pod, container, node, credentials) or the kubelet answer', async () => {
  await startCluster();
  const call = async (path: string, auth: { cert?: string; key?: string; token?: string } = admin()) => {
    const u = await upgrade(apiPort, 'POST', path, SPDY_EXEC, auth);
    const body = await u.body();
    return { code: u.head.statusCode, body };
  };
  let r = await call('/api/v1/namespaces/default/pods/nope/exec?command=ls&stdout=true');
  assert.equal(r.code, 404);
  assert.equal(JSON.parse(r.body).message, 'pods "nope" not found');
  r = await call('/api/v1/namespaces/default/pods/two/exec?command=ls&stdout=true');
  assert.equal(JSON.parse(r.body).message, 'a container name must be specified for pod two, choose one of: [a b]');
  r = await call('/api/v1/namespaces/default/pods/pending/exec?command=ls&stdout=true');
  assert.deepEqual([r.code, JSON.parse(r.body).message], [400, 'pod pending does not have a host assigned']);
  r = await call('/api/v1/namespaces/default/pods/pending/portforward');
  assert.deepEqual([r.code, JSON.parse(r.body).message], [400, 'pod pending does not have a host assigned']);
  r = await call('/api/v1/namespaces/default/pods/web/exec?command=ls&stdout=true', {});
  assert.equal(r.code, 401);
  // The kubelet's own refusal passes through unchanged (kubectl prints "unable to upgrade connection: …").
  r = await call('/api/v1/namespaces/default/pods/waiting/exec?command=ls&stdout=true');
  assert.deepEqual(r, { code: 400, body: 'container "c" in pod "waiting" is waiting to start: ContainerCreating' });
  // Without an upgrade (HTTP/2): 400.
  const h = await h2get('/api/v1/namespaces/default/pods/web/exec?command=ls&stdout=true');
  assert.deepEqual([h.status, JSON.parse(h.body).message], [400, 'Upgrade request required']);
  // An unreachable kubelet.
  const c = cluster!.client;
  await c.requestJSON('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'dead' } });
  const node = await c.requestJSON('GET', '/api/v1/nodes/dead');
  node.status = { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: 1 } } };
  await c.requestJSON('PUT', '/api/v1/nodes/dead/status', node);
  await c.requestJSON('POST', '/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'ondead' }, spec: { nodeName: 'dead', containers: [{ name: 'c', image: 'busybox' }] } });
  r = await call('/api/v1/namespaces/default/pods/ondead/exec?command=ls&stdout=true');
  assert.equal(r.code, 500);
  assert.match(JSON.parse(r.body).message, /error dialing backend/);
  const l = await h2get('/api/v1/namespaces/default/pods/ondead/log');
  assert.equal(l.status, 500);
  // Ordinary requests still work on an upgrade connection (the handler answers and closes).
  const g = await upgrade(apiPort, 'GET', '/api/v1/namespaces/default/pods/web', [['Connection', 'Upgrade'], ['Upgrade', 'websocket']], admin());
  assert.equal(g.head.statusCode, 200);
  assert.equal(JSON.parse(await g.body()).metadata.name, 'web');
});
