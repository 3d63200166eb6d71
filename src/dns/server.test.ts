import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket, { type Answer, type DecodedPacket, type Packet } from 'dns-packet';
import { ClusterDNS } from './server.js';
import { fixtureView, slice, svc } from './testing.js';
import { eventually, startTestCluster } from '../client/testing.js';
import { CONFIGMAPS } from './config.js';
import { ENDPOINTSLICES, SERVICES } from './server.js';

type Reply = DecodedPacket & { rcode: string; raw: Buffer };

let nextId = 1;
function query(name: string, type = 'A', opts: { edns?: number; id?: number } = {}): Packet {
  return {
    type: 'query', id: opts.id ?? (nextId++ & 0xffff), flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type: type as 'A', class: 'IN' }],
    additionals: opts.edns ? [{ name: '.', type: 'OPT', udpPayloadSize: opts.edns, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] } as Answer] : [],
  };
}

function decode(raw: Buffer): Reply {
  return Object.assign(dnsPacket.decode(raw) as Reply, { raw });
}

/** One UDP exchange; raw bytes in or a packet to encode. */
function udp(port: number, q: Packet | Buffer, timeoutMs = 3000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => { s.close(); reject(new Error('udp query timed out')); }, timeoutMs);
    s.on('message', (m) => { clearTimeout(t); s.close(); resolve(decode(m)); });
    s.send(Buffer.isBuffer(q) ? q : dnsPacket.encode(q), port, '127.0.0.1');
  });
}

/** Expects no UDP answer within `ms`. */
function udpSilence(port: number, raw: Buffer, ms = 300): Promise<boolean> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => { s.close(); resolve(true); }, ms);
    s.on('message', () => { clearTimeout(t); s.close(); resolve(false); });
    s.send(raw, port, '127.0.0.1');
  });
}

/** Several queries pipelined on one TCP connection; replies in arrival order. */
function tcp(port: number, qs: Packet[], timeoutMs = 3000): Promise<Reply[]> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1');
    const out: Reply[] = [];
    let buf = Buffer.alloc(0);
    const t = setTimeout(() => { c.destroy(); reject(new Error('tcp query timed out')); }, timeoutMs);
    c.on('connect', () => c.write(Buffer.concat(qs.map((q) => dnsPacket.streamEncode(q)))));
    c.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        out.push(decode(buf.subarray(2, 2 + buf.readUInt16BE(0))));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (out.length === qs.length) { clearTimeout(t); c.destroy(); resolve(out); }
    });
    c.on('error', (e) => { clearTimeout(t); reject(e); });
  });
}

const data = (r: Reply) => (r.answers ?? []).map((a) => `${a.type} ${typeof (a as { data: unknown }).data === 'string' ? (a as { data: string }).data : JSON.stringify((a as { data: unknown }).data)}`);

/**
 * A fake upstream on loopback (UDP + TCP on one port):
 * example.com A → 93.184.216.34; www.example.com A → 192.0.2.53; big.example.com TXT →
 * truncated over UDP, 40 TXT records over TCP; slow.example.com → never answers;
 * anything else → NXDOMAIN.
 */
class FakeUpstream {
  udp = dgram.createSocket('udp4');
  tcpServer = net.createServer((c) => {
    let buf = Buffer.alloc(0);
    c.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const q = dnsPacket.decode(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
        this.tcpQueries++;
        const r = this.answer(q, false);
        if (r) c.write(dnsPacket.streamEncode(r));
      }
    });
    c.on('error', () => c.destroy());
  });
  port = 0;
  udpQueries = 0;
  tcpQueries = 0;

  async start(): Promise<void> {
    await new Promise<void>((r) => this.tcpServer.listen(0, '127.0.0.1', () => r()));
    this.port = (this.tcpServer.address() as net.AddressInfo).port;
    await new Promise<void>((r) => this.udp.bind(this.port, '127.0.0.1', () => r()));
    this.udp.on('message', (m, rinfo) => {
      this.udpQueries++;
      const r = this.answer(dnsPacket.decode(m), true);
      if (r) this.udp.send(dnsPacket.encode(r), rinfo.port, rinfo.address);
    });
  }

  answer(q: DecodedPacket, overUdp: boolean): Packet | undefined {
    const qq = q.questions![0]!;
    const name = qq.name.toLowerCase();
    const base: Packet = { type: 'response', id: q.id, flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE, questions: q.questions };
    if (name === 'slow.example.com') return undefined;
    if (name === 'example.com' && qq.type === 'A') return { ...base, answers: [{ name: qq.name, type: 'A', ttl: 60, data: '93.184.216.34' }] };
    if (name === 'www.example.com' && qq.type === 'A') return { ...base, answers: [{ name: qq.name, type: 'A', ttl: 60, data: '192.0.2.53' }] };
    if (name === 'big.example.com') {
      if (overUdp) return { ...base, flags: base.flags! | dnsPacket.TRUNCATED_RESPONSE };
      return { ...base, answers: Array.from({ length: 40 }, (_, i) => ({ name: qq.name, type: 'TXT' as const, ttl: 60, data: `record number ${i} ${'x'.repeat(40)}` })) };
    }
    return { ...base, flags: base.flags! | 3 };
  }

  async stop(): Promise<void> {
    this.udp.close();
    await new Promise<void>((r) => this.tcpServer.close(() => r()));
  }
}

const Z = 'cluster.local';
const upstream = new FakeUpstream();
let dns: ClusterDNS;
let port = 0;
const ac = new AbortController();

before(async () => {
  await upstream.start();
  const view = fixtureView();
  // A headless Service with 20 ready endpoints: ~1 kB of A records.
  view.upsertService(svc('default', 'many', { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] }));
  view.upsertEndpointSlice(slice('default', 'many-1', 'many', [{ name: 'http', port: 80, protocol: 'TCP' }],
    Array.from({ length: 20 }, (_, i) => ({ addresses: [`10.244.7.${i + 1}`], conditions: { ready: true } }))));
  dns = new ClusterDNS({ view, listen: [{ address: '127.0.0.1', port: 0 }], upstreams: [`127.0.0.1:${upstream.port}`], upstreamTimeoutMs: 300 });
  await dns.start(ac.signal);
  port = dns.addresses[0]!.port;
});

after(async () => {
  ac.abort();
  await dns.stop();
  await upstream.stop();
});

test('server: UDP and TCP on the same port answer cluster names', async () => {
  assert.equal(dns.addresses.length, 1);
  const u = await udp(port, query(`fortune.default.svc.${Z}`, 'A', { id: 4242 }));
  assert.equal(u.id, 4242);
  assert.equal(u.rcode, 'NOERROR');
  assert.equal(u.flag_aa, true);
  assert.equal(u.flag_qr, true);
  assert.equal(u.flag_rd, true);
  assert.deepEqual(data(u), ['A 10.96.0.20']);
  assert.equal((u.answers![0] as { ttl: number }).ttl, 5);

  const [t1, t2, t3] = await tcp(port, [query(`web-0.nginx.default.svc.${Z}`), query(`nope.default.svc.${Z}`), query(`_web._tcp.nginx.default.svc.${Z}`, 'SRV')]);
  const byId = new Map([t1!, t2!, t3!].map((r) => [r.questions![0]!.name, r]));
  assert.deepEqual(data(byId.get(`web-0.nginx.default.svc.${Z}`)!), ['A 10.244.0.10']);
  const nx = byId.get(`nope.default.svc.${Z}`)!;
  assert.equal(nx.rcode, 'NXDOMAIN');
  assert.equal(nx.authorities?.[0]?.type, 'SOA');
  assert.equal(byId.get(`_web._tcp.nginx.default.svc.${Z}`)!.answers!.length, 2);
});

test('server: NODATA is NOERROR with an empty answer and the SOA', async () => {
  const r = await udp(port, query(`fortune.default.svc.${Z}`, 'AAAA'));
  assert.equal(r.rcode, 'NOERROR');
  assert.equal(r.answers!.length, 0);
  assert.equal(r.authorities![0]!.type, 'SOA');
});

test('server: cached answers keep the client ID and follow view changes', async () => {
  const name = `plain-headless.default.svc.${Z}`;
  const first = await udp(port, query(name, 'A', { id: 1 }));
  const hits = dns.stats.cacheHits;
  const second = await udp(port, query(name, 'A', { id: 2 }));
  assert.equal(dns.stats.cacheHits, hits + 1);
  assert.equal(second.id, 2);
  assert.deepEqual(second.raw.subarray(2), first.raw.subarray(2));
  dns.view.upsertEndpointSlice(slice('default', 'plain-headless-x1', 'plain-headless', [{ name: 'http', port: 8000, protocol: 'TCP' }], [
    { addresses: ['10.244.1.6'], conditions: { ready: true } },
  ]));
  const third = await udp(port, query(name, 'A', { id: 3 }));
  assert.deepEqual(data(third), ['A 10.244.1.6']);
});

test('server: UDP answers over 512 bytes are truncated unless EDNS allows more; TCP has them all', async () => {
  const name = `many.default.svc.${Z}`;
  const plain = await udp(port, query(name));
  assert.equal(plain.flag_tc, true);
  assert.ok(plain.raw.length <= 512, `${plain.raw.length} bytes`);
  assert.ok(plain.answers!.length > 0 && plain.answers!.length < 20, 'as many records as fit');

  const edns = await udp(port, query(name, 'A', { edns: 4096 }));
  assert.equal(edns.flag_tc, false);
  assert.equal(edns.answers!.length, 20);
  assert.ok(edns.raw.length <= 1232);
  const opt = edns.additionals!.find((a) => a.type === 'OPT') as { udpPayloadSize: number } | undefined;
  assert.equal(opt?.udpPayloadSize, 1232);

  // An EDNS size below 512 still means 512.
  const small = await udp(port, query(name, 'A', { edns: 256 }));
  assert.equal(small.flag_tc, true);
  assert.ok(small.raw.length <= 512 && small.raw.length > 256);

  const [full] = await tcp(port, [query(name)]);
  assert.equal(full!.flag_tc, false);
  assert.equal(full!.answers!.length, 20);
  assert.ok(dns.stats.truncated >= 2);
});

test('server: other names are forwarded upstream over UDP, with TCP on truncation', async () => {
  const r = await udp(port, query('example.com', 'A', { id: 777 }));
  assert.equal(r.id, 777);
  assert.equal(r.rcode, 'NOERROR');
  assert.deepEqual(data(r), ['A 93.184.216.34']);
  // The second time it comes from the forward cache, TTL counting down from 60 capped at 30.
  const asked = upstream.udpQueries;
  const again = await udp(port, query('example.com', 'A', { id: 778 }));
  assert.equal(again.id, 778);
  assert.deepEqual(data(again), ['A 93.184.216.34']);
  assert.ok((again.answers![0] as { ttl: number }).ttl <= 30);
  assert.equal(upstream.udpQueries, asked);
  assert.equal((await udp(port, query('nothing.example.com'))).rcode, 'NXDOMAIN');

  // UDP client: the upstream's TC reply is passed on (the client retries over TCP itself).
  const tcpBefore = upstream.tcpQueries;
  const big = await udp(port, query('big.example.com', 'TXT'));
  assert.equal(big.flag_tc, true);
  assert.equal(upstream.tcpQueries, tcpBefore);
  // TCP client: the server asks the upstream over TCP after its TC.
  const [bigTcp] = await tcp(port, [query('big.example.com', 'TXT')]);
  assert.equal(bigTcp!.flag_tc, false);
  assert.equal(bigTcp!.answers!.length, 40);
  assert.equal(upstream.tcpQueries, tcpBefore + 1);

  // Unknown reverse names fall through to the upstream too.
  assert.equal((await udp(port, query('4.3.2.1.in-addr.arpa', 'PTR'))).rcode, 'NXDOMAIN');
  assert.ok(dns.stats.forwarded >= 4);
});

test('server: an upstream that does not answer gives SERVFAIL after the timeout', async () => {
  const failures = dns.stats.forwardFailures;
  const t0 = Date.now();
  const r = await udp(port, query('slow.example.com'));
  assert.equal(r.rcode, 'SERVFAIL');
  assert.ok(Date.now() - t0 < 2500);
  assert.equal(dns.stats.forwardFailures, failures + 1);
});

test('server: ExternalName CNAMEs are chased upstream', async () => {
  const r = await udp(port, query(`ext.default.svc.${Z}`));
  assert.equal(r.rcode, 'NOERROR');
  assert.deepEqual(data(r), ['CNAME www.example.com', 'A 192.0.2.53']);
});

test('server: malformed input gets FORMERR or is dropped; other opcodes NOTIMP', async () => {
  const noQuestion = Buffer.alloc(12);
  noQuestion.writeUInt16BE(99, 0);
  const r = await udp(port, noQuestion);
  assert.equal(r.id, 99);
  assert.equal(r.rcode, 'FORMERR');

  const garbage = Buffer.from('0063010000010000000000000377777700', 'hex'); // question cut short
  assert.equal((await udp(port, garbage)).rcode, 'FORMERR');

  const response = dnsPacket.encode({ ...query(`fortune.default.svc.${Z}`), type: 'response' });
  assert.equal(await udpSilence(port, response), true, 'a response is never answered');
  assert.equal(await udpSilence(port, Buffer.from([1, 2, 3])), true, 'a runt is dropped');

  const notify = Buffer.from(dnsPacket.encode(query(`fortune.default.svc.${Z}`)));
  notify.writeUInt16BE((notify.readUInt16BE(2) & ~0x7800) | (4 << 11), 2); // opcode NOTIFY
  assert.equal((await udp(port, notify)).rcode, 'NOTIMP');

  const v1 = dnsPacket.encode({ ...query(`fortune.default.svc.${Z}`), additionals: [{ name: '.', type: 'OPT', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 1, flags: 0, flag_do: false, options: [] } as Answer] });
  const bad = await udp(port, v1);
  const opt = bad.additionals!.find((a) => a.type === 'OPT') as { extendedRcode: number };
  assert.equal(opt.extendedRcode, 1, 'BADVERS');
});

test('server: informers feed the answers; the ConfigMap reloads settings live', async (t) => {
  const cluster = await startTestCluster();
  const sig = new AbortController();
  const live = new ClusterDNS({ client: cluster.client, listen: [{ address: '127.0.0.1', port: 0 }], upstreams: [`127.0.0.1:${upstream.port}`], upstreamTimeoutMs: 300 });
  t.after(async () => { sig.abort(); await live.stop(); await cluster.stop(); });
  const c = cluster.client;
  await c.create(SERVICES, 'default', svc('default', 'fortune', { clusterIP: '10.96.0.77', ports: [{ name: 'http', port: 80 }] }));
  await live.start(sig.signal);
  assert.equal(live.isSynced, true);
  const p = live.addresses[0]!.port;
  assert.deepEqual(data(await udp(p, query(`fortune.default.svc.${Z}`))), ['A 10.96.0.77']);

  // New objects appear without a restart.
  await c.create(SERVICES, 'default', svc('default', 'nginx', { clusterIP: 'None', ports: [{ name: 'web', port: 80 }] }));
  await c.create(ENDPOINTSLICES, 'default', slice('default', 'nginx-1', 'nginx', [{ name: 'web', port: 80, protocol: 'TCP' }], [
    { addresses: ['10.244.0.10'], hostname: 'web-0', conditions: { ready: true } },
    { addresses: ['10.244.0.11'], hostname: 'web-1', conditions: { ready: true } },
  ]));
  await eventually(async () => data(await udp(p, query(`web-1.nginx.default.svc.${Z}`)))[0] === 'A 10.244.0.11', 'web-1 resolves');
  assert.deepEqual(data(await udp(p, query(`nginx.default.svc.${Z}`))).sort(), ['A 10.244.0.10', 'A 10.244.0.11']);

  // Live settings: TTL and zone from kube-system/keelson-dns.
  await c.create(CONFIGMAPS, 'kube-system', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'keelson-dns', namespace: 'kube-system' }, data: { ttl: '30', zone: 'kube.test' } });
  await eventually(async () => {
    const r = await udp(p, query('fortune.default.svc.kube.test'));
    return r.answers?.length === 1 && (r.answers[0] as { ttl: number }).ttl === 30;
  }, 'new zone and TTL in force');
  // cluster.local is no longer ours: it goes upstream (which says NXDOMAIN).
  assert.equal((await udp(p, query(`fortune.default.svc.${Z}`))).flag_aa, false);
  // A bad value is ignored, the good ones stay.
  await c.patch(CONFIGMAPS, 'kube-system', 'keelson-dns', { data: { ttl: 'soon' } }, 'merge');
  await eventually(() => live.effective.ttl === 5 && live.effective.zone === 'kube.test', 'bad ttl ignored');
  await c.delete(CONFIGMAPS, 'kube-system', 'keelson-dns');
  await eventually(() => live.effective.zone === Z, 'flags back in force');

  await c.delete(SERVICES, 'default', 'fortune');
  await eventually(async () => (await udp(p, query(`fortune.default.svc.${Z}`))).rcode === 'NXDOMAIN', 'deleted service is NXDOMAIN');
});

test('server: two listen addresses, and stop() frees the ports', async () => {
  const s = new ClusterDNS({ view: fixtureView(), listen: [{ address: '127.0.0.1', port: 0 }, { address: '127.0.0.2', port: 0 }], upstreams: [] });
  const sig = new AbortController();
  await s.start(sig.signal);
  const [a, b] = s.addresses;
  assert.ok(a && b);
  const r = await new Promise<Reply>((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    const t = setTimeout(() => { sock.close(); reject(new Error('timeout')); }, 3000);
    sock.on('message', (m) => { clearTimeout(t); sock.close(); resolve(decode(m)); });
    sock.send(dnsPacket.encode(query(`fortune.default.svc.${Z}`)), b.port, '127.0.0.2');
  });
  assert.deepEqual(data(r), ['A 10.96.0.20']);
  // No upstream: outside names are SERVFAIL at once.
  assert.equal((await udp(a.port, query('example.com'))).rcode, 'SERVFAIL');
  sig.abort();
  await s.stop();
  await new Promise<void>((resolve, reject) => {
    const srv = net.createServer().once('error', reject).listen(a.port, '127.0.0.1', () => srv.close(() => resolve()));
  });

  // An address that cannot be bound fails start() and releases what was bound before it.
  const busy = new ClusterDNS({ view: fixtureView(), listen: [{ address: '127.0.0.1', port: a.port }, { address: '127.0.0.1', port: upstream.port }], upstreams: [] });
  await assert.rejects(busy.start(new AbortController().signal), /EADDRINUSE/);
  await new Promise<void>((resolve, reject) => {
    const srv = net.createServer().once('error', reject).listen(a.port, '127.0.0.1', () => srv.close(() => resolve()));
  });
});
