/**
 * IngressProxy against real Node HTTP (and WebSocket) backends on 127.0.0.1, with routing tables
 * built from Ingress/Service/EndpointSlice objects: routing and forwarded headers, 404/503/502,
 * round-robin and retries, streaming both ways, TLS with SNI, the HTTPS redirect, WebSocket
 * upgrades, live table swaps under continuous keep-alive traffic, and a graceful stop.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer, WebSocket } from 'ws';
import { IngressProxy } from './ingress-proxy.js';
import { createDefaultCertificate, DEFAULT_CERT_CN } from './certificates.js';
import { endpointSlice, ingress, path, rule, service, tableFor, testCA, tlsSecret, type TestCA } from './testing.js';
import type { RoutingTable } from './routing-table.js';

interface Backend {
  name: string;
  port: number;
  server: http.Server;
  seen: http.IncomingHttpHeaders[];
}

/** A backend answering `<name> <method> <url>` and recording the headers it got; some paths do special things. */
async function backend(name: string): Promise<Backend> {
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers);
    if (req.url === '/echo') {
      // Streams the body back chunk by chunk as it arrives.
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-backend': name });
      req.on('data', (d) => res.write(d));
      req.on('end', () => res.end());
      return;
    }
    if (req.url?.startsWith('/slow')) {
      const ms = Number(new URL(req.url, 'http://x').searchParams.get('ms') ?? 300);
      setTimeout(() => { res.writeHead(200, { 'x-backend': name }); res.end(`${name} slow`); }, ms);
      return;
    }
    if (req.url === '/cookies') {
      res.writeHead(201, 'Made', ['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'Keep-Alive', 'timeout=5', 'X-Backend', name]);
      res.end();
      return;
    }
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', 'x-backend': name });
    res.end(`${name} ${req.method} ${req.url}`);
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => {
    ws.send(`hello from ${name} at ${req.url}`);
    ws.on('message', (m) => ws.send(`${name} echo: ${m}`));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { name, port: (server.address() as AddressInfo).port, server, seen };
}

const closeServer = (s: http.Server) => new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()); });

interface Reply { status: number; headers: http.IncomingHttpHeaders; rawHeaders: string[]; body: string; cert?: string }

function get(port: number, host: string, p: string, opts: { method?: string; agent?: http.Agent | false; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: p, method: opts.method ?? 'GET', headers: { host, ...opts.headers }, agent: opts.agent ?? false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, rawHeaders: res.rawHeaders, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function getTLS(port: number, servername: string | undefined, host: string, p: string, ca?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1', port, path: p, headers: { host }, agent: false,
      ...(servername ? { servername } : {}), ...(ca ? { ca } : { rejectUnauthorized: false }),
    }, (res) => {
      const cert = (res.socket as TLSSocket).getPeerCertificate();
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, rawHeaders: res.rawHeaders, body, cert: cert?.subject?.CN as string }));
    });
    req.on('error', reject);
    req.end();
  });
}

let ca: TestCA;
let a: Backend, b: Backend, c: Backend;
let deadPort: number;
let proxy: IngressProxy;
let certs: { foo: { certPem: string; keyPem: string }; wild: { certPem: string; keyPem: string } };

/** The Services and slices for backends a, b, c (one pod each) and `both` (a and b), `none` (no pods), `half` (c and a dead port). */
function objects() {
  const svc = (n: string) => service(n, [{ name: 'http', port: 80, targetPort: 8080 }]);
  const sl = (n: string, eps: Array<[string, number]>) => eps.map(([ip, port], i) => endpointSlice(`${n}-${i}`, n, [{ name: 'http', port }], [ip]));
  return {
    services: ['a', 'b', 'c', 'both', 'none', 'half'].map(svc),
    slices: [
      ...sl('a', [['127.0.0.1', a.port]]), ...sl('b', [['127.0.0.1', b.port]]), ...sl('c', [['127.0.0.1', c.port]]),
      ...sl('both', [['127.0.0.1', a.port], ['127.0.0.1', b.port]]),
      // Two endpoints on one IP must be distinct ports: the slices carry the port per slice.
      ...sl('half', [['127.0.0.1', c.port], ['127.0.0.1', deadPort]]),
    ],
  };
}

function mainTable(): RoutingTable {
  const { services, slices } = objects();
  const secrets = [tlsSecret('foo-tls', certs.foo.certPem, certs.foo.keyPem), tlsSecret('wild-tls', certs.wild.certPem, certs.wild.keyPem)];
  return tableFor([
    ingress('main', {
      tls: [{ hosts: ['secure.example.com'], secretName: 'foo-tls' }, { hosts: ['*.wild.test'], secretName: 'wild-tls' }],
      rules: [
        rule('a.test', path('/', 'a', 80), path('/b', 'b', 'http')),
        rule('both.test', path('/', 'both', 80)),
        rule('none.test', path('/', 'none', 80)),
        rule('missing.test', path('/', 'nosuchservice', 80)),
        rule('half.test', path('/', 'half', 80)),
        rule('secure.example.com', path('/', 'c', 80)),
        rule('*.wild.test', path('/', 'b', 80)),
      ],
    }, { age: 1 }),
  ], services, slices, secrets);
}

before(async () => {
  ca = await testCA();
  certs = { foo: await ca.issue('secure.example.com'), wild: await ca.issue('*.wild.test') };
  [a, b, c] = await Promise.all([backend('a'), backend('b'), backend('c')]);
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  deadPort = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  proxy = new IngressProxy({ httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1', defaultCertificate: await createDefaultCertificate() });
  await proxy.start();
  proxy.setTable(mainTable());
});

after(async () => {
  await proxy.stop(1000);
  await Promise.all([a, b, c].map((x) => closeServer(x.server)));
});

test('routes by host and path; Host passes through; X-Forwarded-* are set; hop-by-hop headers are dropped', async () => {
  const r1 = await get(proxy.httpPort, 'a.test', '/hello?x=1', { headers: { 'x-forwarded-for': '203.0.113.9', connection: 'keep-alive, x-private', 'x-private': 'secret', 'x-custom': 'yes' } });
  assert.equal(r1.status, 200);
  assert.equal(r1.body, 'a GET /hello?x=1');
  const h = a.seen.at(-1)!;
  assert.equal(h.host, 'a.test');
  assert.equal(h['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
  assert.equal(h['x-real-ip'], '127.0.0.1');
  assert.equal(h['x-forwarded-proto'], 'http');
  assert.equal(h['x-forwarded-host'], 'a.test');
  assert.equal(h['x-forwarded-port'], String(proxy.httpPort));
  assert.equal(h['x-custom'], 'yes');
  assert.equal(h['x-private'], undefined);
  assert.equal((await get(proxy.httpPort, 'A.TEST:1234', '/b/c')).body, 'b GET /b/c');
  assert.equal((await get(proxy.httpPort, 'a.test', '/bc')).body, 'a GET /bc');
  assert.equal((await get(proxy.httpPort, 'a.test', '/', { method: 'POST' })).body, 'a POST /');
  // Multiple Set-Cookie headers and the status text survive; the pod's Keep-Alive header does not.
  const r2 = await get(proxy.httpPort, 'a.test', '/cookies');
  assert.equal(r2.status, 201);
  assert.deepEqual(r2.headers['set-cookie'], ['a=1', 'b=2']);
  assert.equal(r2.headers['keep-alive'], undefined);
});

test('404 without a route (no default backend), 503 without endpoints or Service, default backend when set', async () => {
  const r404 = await get(proxy.httpPort, 'unknown.test', '/');
  assert.equal(r404.status, 404);
  assert.match(r404.body, /default backend - 404/);
  assert.equal((await get(proxy.httpPort, 'none.test', '/')).status, 503);
  assert.equal((await get(proxy.httpPort, 'missing.test', '/')).status, 503);
  const { services, slices } = objects();
  const saved = proxy.routingTable;
  proxy.setTable(tableFor([ingress('d', { defaultBackend: { service: { name: 'c', port: { name: 'http' } } }, rules: [rule('a.test', path('/only', 'a', 80))] })], services, slices));
  try {
    assert.equal((await get(proxy.httpPort, 'unknown.test', '/x')).body, 'c GET /x');
    assert.equal((await get(proxy.httpPort, 'a.test', '/other')).body, 'c GET /other');
    assert.equal((await get(proxy.httpPort, 'a.test', '/only')).body, 'a GET /only');
  } finally {
    proxy.setTable(saved);
  }
});

test('balances round-robin over the endpoints; a dead endpoint is retried on the next for GETs', async () => {
  const agent = new http.Agent({ keepAlive: true });
  const seen = [];
  for (let i = 0; i < 6; i++) seen.push((await get(proxy.httpPort, 'both.test', '/', { agent })).headers['x-backend']);
  agent.destroy();
  assert.deepEqual(seen.slice().sort(), ['a', 'a', 'a', 'b', 'b', 'b']);
  for (let i = 1; i < seen.length; i++) assert.notEqual(seen[i], seen[i - 1]);
  // half.test: c and a port nobody listens on.
  const retriesBefore = proxy.stats.retries;
  for (let i = 0; i < 6; i++) assert.equal((await get(proxy.httpPort, 'half.test', '/')).status, 200);
  assert.ok(proxy.stats.retries > retriesBefore);
  // A request with a body is not replayed: some POSTs hit the dead endpoint and get 502.
  const codes = new Set<number>();
  for (let i = 0; i < 4; i++) {
    const r = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: proxy.httpPort, path: '/', method: 'POST', headers: { host: 'half.test', 'content-length': '2' }, agent: false }, (res) => { res.resume(); resolve(res.statusCode!); });
      req.on('error', reject);
      req.end('hi');
    });
    codes.add(r);
  }
  assert.deepEqual([...codes].sort(), [200, 502]);
});

test('streams request and response bodies without buffering', async () => {
  // Each chunk is sent only after the echo of the previous one came back: a proxy that waited
  // for the whole request (or response) would never finish.
  const chunks = ['one,', 'two,', 'three'];
  const got = await new Promise<string>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxy.httpPort, path: '/echo', method: 'PUT', headers: { host: 'a.test', 'transfer-encoding': 'chunked' }, agent: false }, (res) => {
      let body = '';
      let next = 1;
      res.setEncoding('utf8');
      res.on('data', (d) => {
        body += d;
        if (next < chunks.length) req.write(chunks[next++]);
        if (next === chunks.length && body.endsWith(chunks[chunks.length - 1])) req.end();
      });
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.flushHeaders();
    req.write(chunks[0]);
    setTimeout(() => reject(new Error('streaming stalled')), 5000).unref();
  });
  assert.equal(got, 'one,two,three');
});

test('TLS: the certificate follows SNI (exact, wildcard), the default one otherwise; routing by Host over HTTPS', async () => {
  const r1 = await getTLS(proxy.httpsPort, 'secure.example.com', 'secure.example.com', '/x', ca.caCertPem);
  assert.equal(r1.status, 200);
  assert.equal(r1.cert, 'secure.example.com');
  assert.equal(r1.body, 'c GET /x');
  assert.equal(c.seen.at(-1)!['x-forwarded-proto'], 'https');
  const r2 = await getTLS(proxy.httpsPort, 'Deep.wild.test', 'deep.wild.test', '/', ca.caCertPem);
  assert.equal(r2.cert, '*.wild.test');
  assert.equal(r2.body, 'b GET /');
  // No certificate for the name (or no SNI at all): the default, self-signed certificate.
  const r3 = await getTLS(proxy.httpsPort, 'a.test', 'a.test', '/', undefined);
  assert.equal(r3.cert, DEFAULT_CERT_CN);
  assert.equal(r3.body, 'a GET /');
  const r4 = await getTLS(proxy.httpsPort, undefined, 'a.test', '/', undefined);
  assert.equal(r4.cert, DEFAULT_CERT_CN);
  // The default certificate is not trusted by the test CA.
  await assert.rejects(getTLS(proxy.httpsPort, 'a.test', 'a.test', '/', ca.caCertPem));
});

test('plain HTTP to a TLS host is redirected to HTTPS with 308; other hosts are not', async () => {
  const r = await get(proxy.httpPort, 'secure.example.com', '/p/q?x=1&y=2', { method: 'POST' });
  assert.equal(r.status, 308);
  assert.equal(r.headers.location, `https://secure.example.com:${proxy.httpsPort}/p/q?x=1&y=2`);
  const w = await get(proxy.httpPort, 'x.wild.test:80', '/');
  assert.equal(w.status, 308);
  assert.equal(w.headers.location, `https://x.wild.test:${proxy.httpsPort}/`);
  assert.equal((await get(proxy.httpPort, 'a.test', '/')).status, 200);
});

function wsExchange(url: string, opts: { headers?: Record<string, string>; ca?: string; servername?: string } = {}): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: opts.headers, ...(opts.ca ? { ca: opts.ca, servername: opts.servername } : {}) });
    const got: string[] = [];
    ws.on('message', (m) => {
      got.push(String(m));
      if (got.length === 1) ws.send('ping 1');
      else if (got.length === 2) ws.send('ping 2');
      else ws.close();
    });
    ws.on('close', () => resolve(got));
    ws.on('error', reject);
    ws.on('unexpected-response', (_req, res) => reject(new Error(`unexpected response ${res.statusCode}`)));
  });
}

test('WebSocket upgrades are relayed both ways (HTTP and HTTPS); unroutable upgrades get 404/503', async () => {
  assert.deepEqual(await wsExchange(`ws://127.0.0.1:${proxy.httpPort}/b/socket`, { headers: { host: 'a.test' } }),
    ['hello from b at /b/socket', 'b echo: ping 1', 'b echo: ping 2']);
  assert.deepEqual(await wsExchange(`wss://127.0.0.1:${proxy.httpsPort}/ws`, { headers: { host: 'secure.example.com' }, ca: ca.caCertPem, servername: 'secure.example.com' }),
    ['hello from c at /ws', 'c echo: ping 1', 'c echo: ping 2']);
  await assert.rejects(wsExchange(`ws://127.0.0.1:${proxy.httpPort}/`, { headers: { host: 'unknown.test' } }), /unexpected response 404/);
  await assert.rejects(wsExchange(`ws://127.0.0.1:${proxy.httpPort}/`, { headers: { host: 'none.test' } }), /unexpected response 503/);
  await assert.rejects(wsExchange(`ws://127.0.0.1:${proxy.httpPort}/`, { headers: { host: 'secure.example.com' } }), /unexpected response 308/);
  assert.ok(proxy.stats.upgrades >= 5);
});

test('live reconfiguration: tables swapped under continuous keep-alive traffic drop nothing', async () => {
  const { services, slices } = objects();
  const toA = tableFor([ingress('live', { rules: [rule('live.test', path('/', 'a', 80))] })], services, slices);
  const toB = tableFor([ingress('live', { rules: [rule('live.test', path('/', 'b', 80))] })], services, slices);
  proxy.setTable(toA);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const connsBefore = proxy.stats.connections;
  let running = true;
  const failures: string[] = [];
  const byBackend = { a: 0, b: 0 };
  let total = 0;
  const worker = async () => {
    while (running) {
      try {
        const r = await get(proxy.httpPort, 'live.test', total % 10 === 0 ? '/slow?ms=50' : '/', { agent });
        if (r.status !== 200) failures.push(`${r.status} ${r.body}`);
        else byBackend[r.headers['x-backend'] as 'a' | 'b']++;
      } catch (err) {
        failures.push((err as Error).message);
      }
      total++;
    }
  };
  const workers = Array.from({ length: 4 }, worker);
  // A slow request in flight across many swaps finishes on the backend it started with.
  const slow = get(proxy.httpPort, 'live.test', '/slow?ms=400', { headers: { 'x-slow': '1' } });
  while (!a.seen.some((h) => h['x-forwarded-host'] === 'live.test' && h['x-slow'] === '1')) await new Promise((r) => setTimeout(r, 5));
  let swaps = 0;
  const deadline = Date.now() + 1500;
  while (Date.now() < deadline || swaps < 50) {
    proxy.setTable(swaps % 2 === 0 ? toB : toA);
    swaps++;
    await new Promise((r) => setTimeout(r, 10));
  }
  proxy.setTable(toB);
  const last = await get(proxy.httpPort, 'live.test', '/', { agent });
  running = false;
  await Promise.all(workers);
  const s = await slow;
  agent.destroy();
  assert.deepEqual(failures, []);
  assert.equal(s.body, 'a slow');
  assert.equal(last.headers['x-backend'], 'b');
  assert.ok(byBackend.a > 0 && byBackend.b > 0, JSON.stringify(byBackend));
  assert.ok(total > 50, `only ${total} requests`);
  // Keep-alive connections stayed open across the swaps (4 workers + the slow request).
  assert.ok(proxy.stats.connections - connsBefore <= 5, `${proxy.stats.connections - connsBefore} connections for ${total} requests`);
  proxy.setTable(mainTable());
});

test('stop(): refuses new connections, lets requests in flight finish', async () => {
  const p = new IngressProxy({ httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1', defaultCertificate: await createDefaultCertificate() });
  await p.start();
  p.setTable(mainTable());
  const agent = new http.Agent({ keepAlive: true });
  const inFlight = get(p.httpPort, 'a.test', '/slow?ms=300', { agent, headers: { 'x-stop': '1' } });
  while (!a.seen.some((h) => h['x-stop'] === '1')) await new Promise((r) => setTimeout(r, 5));
  const stopped = p.stop(5000);
  const r = await inFlight;
  agent.destroy();
  assert.equal(r.status, 200);
  assert.equal(r.body, 'a slow');
  assert.equal(r.headers.connection, 'close');
  await stopped;
  await assert.rejects(get(p.httpPort, 'a.test', '/'), /ECONNREFUSED/);
});

test('a client gone mid-upload does not disturb the proxy; a pod too slow to answer gets 504', async () => {
  await new Promise<void>((resolve) => {
    const sock = net.connect(proxy.httpPort, '127.0.0.1', () => {
      sock.write('POST /echo HTTP/1.1\r\nHost: a.test\r\nContent-Length: 1000\r\n\r\npartial');
      setTimeout(() => { sock.destroy(); resolve(); }, 50);
    });
    sock.on('error', () => undefined);
  });
  assert.equal((await get(proxy.httpPort, 'a.test', '/after')).body, 'a GET /after');
  const quick = new IngressProxy({ httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1', defaultCertificate: await createDefaultCertificate(), upstreamTimeoutMs: 100 });
  await quick.start();
  try {
    quick.setTable(mainTable());
    const r = await get(quick.httpPort, 'a.test', '/slow?ms=1000');
    assert.equal(r.status, 504);
  } finally {
    await quick.stop(100);
  }
});

test('a port that is taken makes start() fail', async () => {
  const p = new IngressProxy({ httpPort: proxy.httpPort, httpsPort: 0, bindAddress: '127.0.0.1', defaultCertificate: await createDefaultCertificate() });
  await assert.rejects(p.start(), /cannot listen on 127\.0\.0\.1: .*EADDRINUSE/);
});
