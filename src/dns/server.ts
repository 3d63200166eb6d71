/**
 * ClusterDNS: keelson's cluster DNS server (what CoreDNS with the `kubernetes`, `forward` and
 * `cache` plugins does in a Kubernetes cluster).
 *
 * - Answers from informers on Services and discovery.k8s.io/v1 EndpointSlices (and Pods in
 *   `pods verified` mode) through a ClusterView: no API request per query. Until the
 *   informers have synced, cluster names get SERVFAIL (clients retry) rather than a wrong
 *   NXDOMAIN that they would cache.
 * - Every listen address gets a UDP socket and a TCP listener on the same port. UDP answers
 *   fit 512 bytes, or the EDNS payload size the query advertises (capped at 1232), and are
 *   truncated with TC otherwise (wire.ts); TCP messages carry the 2-byte length prefix and
 *   may be pipelined (RFC 7766; answers may come back out of order); idle connections close
 *   after 10 s.
 * - Names outside the zone (and reverse names of unknown addresses) go to the upstream
 *   servers (forwarder.ts), by default the node's /etc/resolv.conf nameservers minus this
 *   server's own addresses; SERVFAIL when none answers in time. ExternalName CNAMEs that
 *   leave the zone are chased upstream and the target's records appended.
 * - Upstream answers are kept up to 30 s (their TTL, counting down; CoreDNS's `cache 30`),
 *   negative ones per RFC 2308 (forward-cache.ts).
 * - Encoded answers for cluster names are cached by the exact query bytes after the ID
 *   (question spelling, flags, EDNS size all included) and dropped on every change of the
 *   view or settings, so a cached answer is always the one the resolver would give now.
 * - Settings (zone, upstreams, ttl, pods, endpointPodNames) come from the constructor and,
 *   when a client is given, are overridden live by the ConfigMap kube-system/keelson-dns
 *   (config.ts).
 *
 * The `view` option is a seam for tests and benchmarks: a ready-made ClusterView, no API
 * server and no informers.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { isIPv6 } from 'node:net';
import dnsPacket, { type Answer, type Question } from 'dns-packet';
import type { Service, Pod } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { Informer, type RestClient, type ResourceDescriptor } from '../client/index.js';
import { logger } from '../util/log.js';
import { ClusterView } from './cluster-view.js';
import { DEFAULT_CONFIGMAP, DEFAULT_RESOLV_CONF, DNSConfigWatcher, resolveUpstreams, type DNSSettings, type Upstream } from './config.js';
import { DEFAULT_UPSTREAM_TIMEOUT_MS, Forwarder } from './forwarder.js';
import { ForwardCache, FORWARD_CACHE_MAX_TTL } from './forward-cache.js';
import { RCODE, resolve, resolverOptions, type PodMode, type Rcode, type Resolution, type ResolverOptions } from './records.js';
import { encodeResponse, parseQuery, TCP_LIMIT, truncateEncoded, udpLimit, type Query } from './wire.js';

const log = logger('dns');

export const SERVICES: ResourceDescriptor = { group: '', version: 'v1', plural: 'services', namespaced: true };
export const ENDPOINTSLICES: ResourceDescriptor = { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', namespaced: true };
export const PODS: ResourceDescriptor = { group: '', version: 'v1', plural: 'pods', namespaced: true };

const CACHE_MAX_ENTRIES = 50_000;
const TCP_IDLE_MS = 10_000;
const DEFAULT_SYNC_TIMEOUT_MS = 10_000;

export interface ListenAddress {
  address: string;
  /** 53 in a cluster; 0 = any free port (the same one for UDP and TCP). */
  port: number;
}

export interface ClusterDNSOptions {
  /** API client for the informers (and the ConfigMap). Required unless `view` is given. */
  client?: RestClient;
  /** UDP and TCP on each. */
  listen: ListenAddress[];
  /** Cluster domain (default cluster.local). */
  zone?: string;
  /** Upstream servers or resolv.conf paths (default: /etc/resolv.conf's nameservers). */
  upstreams?: string[];
  /** Record TTL in seconds (default 5, as CoreDNS's kubernetes plugin). */
  ttl?: number;
  /** Pod A records: insecure (default, as kube-dns and kubeadm's Corefile), verified, disabled. */
  pods?: PodMode;
  endpointPodNames?: boolean;
  /** Addresses answered for ns.dns.<zone> (default: ClusterIPs of kube-system/kube-dns). */
  nameserverIPs?: string[];
  /** Time for one upstream to answer (default 2000 ms). */
  upstreamTimeoutMs?: number;
  /** The ConfigMap with live settings; false = none. Default kube-system/keelson-dns when a client is given. */
  configMap?: { namespace: string; name: string } | false;
  /** How long start() waits for the informers' first lists (default 10 s); serving starts regardless. */
  syncTimeoutMs?: number;
  /** Seconds upstream answers are kept at most (default 30, as CoreDNS's `cache 30`; 0 = off). */
  forwardCacheTtl?: number;
  /** Seam for tests and benchmarks: answer from this view; no informers are started. */
  view?: ClusterView;
}

export interface DNSStats {
  queries: number;
  udp: number;
  tcp: number;
  cacheHits: number;
  forwarded: number;
  forwardFailures: number;
  truncated: number;
  /** Responses by rcode name. */
  rcodes: Record<string, number>;
}

type Transport = 'udp' | 'tcp';

export class ClusterDNS {
  readonly view: ClusterView;
  private resolverOpts: ResolverOptions;
  private forwarder: Forwarder;
  private settings: DNSSettings = {};
  private udpSockets: dgram.Socket[] = [];
  private tcpServers: net.Server[] = [];
  private tcpConns = new Set<net.Socket>();
  private informers: Informer<any>[] = [];
  private configWatcher?: DNSConfigWatcher;
  /** Encoded cluster answers by query bytes after the ID, one map per transport. */
  private cache = { udp: new Map<string, Buffer>(), tcp: new Map<string, Buffer>() };
  private forwardCache: ForwardCache;
  private synced: boolean;
  private bound: Array<ListenAddress & { family: 4 | 6 }> = [];
  private abort = new AbortController();
  private unsubscribe?: () => void;
  private readonly statsData: Omit<DNSStats, 'rcodes'> = { queries: 0, udp: 0, tcp: 0, cacheHits: 0, forwarded: 0, forwardFailures: 0, truncated: 0 };
  /** Responses by header rcode (index 0–15); 16 = BADVERS. */
  private readonly rcodeCounts = new Float64Array(17);

  constructor(readonly opts: ClusterDNSOptions) {
    if (!opts.client && !opts.view) throw new Error('ClusterDNS needs a client or a view');
    if (!opts.listen?.length) throw new Error('ClusterDNS needs at least one listen address');
    this.view = opts.view ?? new ClusterView();
    this.synced = !!opts.view;
    this.resolverOpts = this.computeResolverOptions();
    this.forwarder = new Forwarder([], opts.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS);
    this.forwardCache = new ForwardCache(10_000, opts.forwardCacheTtl ?? FORWARD_CACHE_MAX_TTL);
  }

  /** Counters since start (a copy). */
  get stats(): DNSStats {
    const rcodes: Record<string, number> = {};
    this.rcodeCounts.forEach((n, i) => { if (n) rcodes[i === 16 ? 'BADVERS' : RCODE_NAMES[i] ?? `RCODE${i}`] = n; });
    return { ...this.statsData, rcodes };
  }

  /** The addresses actually bound (ports resolved when 0 was asked). */
  get addresses(): Array<ListenAddress & { family: 4 | 6 }> {
    return [...this.bound];
  }

  /** The settings in force: flags overridden by the ConfigMap. */
  get effective(): ResolverOptions & { upstreams: Upstream[] } {
    return { ...this.resolverOpts, upstreams: [...this.forwarder.upstreams] };
  }

  /** True once the informers have listed everything (always true with a given view). */
  get isSynced(): boolean {
    return this.synced;
  }

  /**
   * Binds every listen address (UDP + TCP), starts the informers and the ConfigMap watch, and
   * resolves once the first lists are in (or after syncTimeoutMs; cluster names are SERVFAIL
   * until then). Rejects if an address cannot be bound.
   */
  async start(signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw new Error('aborted');
    signal.addEventListener('abort', () => { void this.stop(); }, { once: true });
    const inner = this.abort.signal;
    this.unsubscribe = this.view.onChange(() => this.clearCache());

    try {
      for (const l of this.opts.listen) await this.bind(l);
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.applyUpstreams();

    if (!this.opts.view && this.opts.client) {
      const client = this.opts.client;
      const v = this.view;
      const services = new Informer<Service>(client, SERVICES);
      services.on('add', (s) => v.upsertService(s)).on('update', (_o, s) => v.upsertService(s)).on('delete', (s) => v.deleteService(s));
      const slices = new Informer<EndpointSlice>(client, ENDPOINTSLICES);
      slices.on('add', (s) => v.upsertEndpointSlice(s)).on('update', (_o, s) => v.upsertEndpointSlice(s)).on('delete', (s) => v.deleteEndpointSlice(s));
      this.informers.push(services, slices);
      if (this.resolverOpts.pods === 'verified') this.informers.push(this.podInformer(client));
      if (this.opts.configMap !== false) {
        this.configWatcher = new DNSConfigWatcher(client, this.opts.configMap ?? DEFAULT_CONFIGMAP);
        this.configWatcher.onChange((s) => this.applySettings(s));
        this.configWatcher.start(inner);
      }
      for (const inf of this.informers) inf.start(inner);
      const timeout = AbortSignal.timeout(this.opts.syncTimeoutMs ?? DEFAULT_SYNC_TIMEOUT_MS);
      const both = AbortSignal.any([inner, timeout]);
      const waits = [...this.informers.map((i) => i.waitForSync(both)), ...(this.configWatcher ? [this.configWatcher.waitForSync(both)] : [])];
      const ok = (await Promise.all(waits)).every(Boolean);
      if (ok) this.synced = true;
      else {
        log.warn('informers not synced yet; cluster names answer SERVFAIL until they are', { timeoutMs: this.opts.syncTimeoutMs ?? DEFAULT_SYNC_TIMEOUT_MS });
        void Promise.all(this.informers.map((i) => i.waitForSync(inner))).then((r) => {
          if (r.every(Boolean)) { this.synced = true; this.clearCache(); log.info('informers synced'); }
        });
      }
    }
    log.info('cluster DNS serving', {
      listen: this.bound.map((b) => `${b.family === 6 ? `[${b.address}]` : b.address}:${b.port}`),
      zone: this.resolverOpts.zone, upstreams: this.forwarder.upstreams.map((u) => `${u.host}:${u.port}`), services: this.view.serviceCount,
    });
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const s of this.udpSockets) { try { s.close(); } catch { /* already closed */ } }
    this.udpSockets = [];
    for (const c of this.tcpConns) c.destroy();
    this.tcpConns.clear();
    await Promise.all(this.tcpServers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.tcpServers = [];
    this.forwarder.close();
    await Promise.all(this.informers.map((i) => i.stopped()));
  }

  // ---- settings -------------------------------------------------------------------------------

  private computeResolverOptions(): ResolverOptions {
    const s = this.settings;
    const o = this.opts;
    return resolverOptions({
      zone: s.zone ?? o.zone, ttl: s.ttl ?? o.ttl, pods: s.pods ?? o.pods,
      endpointPodNames: s.endpointPodNames ?? o.endpointPodNames, nameserverIPs: o.nameserverIPs,
    });
  }

  private applyUpstreams(): void {
    const items = this.settings.upstreams ?? this.opts.upstreams ?? [DEFAULT_RESOLV_CONF];
    const ups = resolveUpstreams(items, this.bound.map((b) => ({ host: b.address, port: b.port })));
    if (ups.length === 0) log.warn('no upstream DNS servers: names outside the cluster answer SERVFAIL', { upstreams: items });
    this.forwarder.upstreams = ups;
    this.forwardCache.clear();
  }

  /** Applies ConfigMap settings (live reload). */
  private applySettings(s: DNSSettings): void {
    const before = JSON.stringify(this.settings);
    if (before === JSON.stringify(s)) return;
    const oldPods = this.resolverOpts.pods;
    this.settings = s;
    this.resolverOpts = this.computeResolverOptions();
    this.applyUpstreams();
    this.clearCache();
    this.forwardCache.clear();
    if (oldPods !== 'verified' && this.resolverOpts.pods === 'verified' && this.opts.client && !this.abort.signal.aborted) {
      const inf = this.podInformer(this.opts.client);
      this.informers.push(inf);
      inf.start(this.abort.signal);
    }
    log.info('cluster DNS settings changed', {
      zone: this.resolverOpts.zone, ttl: this.resolverOpts.ttl, pods: this.resolverOpts.pods,
      upstreams: this.forwarder.upstreams.map((u) => `${u.host}:${u.port}`),
    });
  }

  private podInformer(client: RestClient): Informer<Pod> {
    const v = this.view;
    const pods = new Informer<Pod>(client, PODS);
    pods.on('add', (p) => v.upsertPod(p)).on('update', (_o, p) => v.upsertPod(p)).on('delete', (p) => v.deletePod(p));
    return pods;
  }

  // ---- transports -----------------------------------------------------------------------------

  private async bind(l: ListenAddress): Promise<void> {
    const family: 4 | 6 = isIPv6(l.address) ? 6 : 4;
    if (l.address === '0.0.0.0' || l.address === '::') {
      // A wildcard UDP socket answers from whatever source address routing picks; resolvers
      // drop replies that do not come from the address they asked (the DNS IP on a dummy
      // device would be answered from the bridge address). Bind the DNS IP itself.
      log.warn('listening on a wildcard address: UDP replies may come from another address than the one asked', { address: l.address });
    }
    // Port 0: take a free TCP port and bind UDP to the same number (retry if UDP has it taken).
    for (let attempt = 0; ; attempt++) {
      const server = net.createServer((c) => this.onTcpConnection(c));
      const port = await new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: l.address, port: l.port, exclusive: true }, () => {
          server.off('error', reject);
          resolve((server.address() as net.AddressInfo).port);
        });
      });
      // Replies go to the address the query came from, always a literal: a synchronous lookup
      // saves dns.lookup's deferral through process.nextTick on every send.
      const sock = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4', recvBufferSize: 4 << 20, lookup: literalLookup });
      try {
        await new Promise<void>((resolve, reject) => {
          sock.once('error', reject);
          sock.bind({ address: l.address, port, exclusive: true }, () => { sock.off('error', reject); resolve(); });
        });
      } catch (err) {
        sock.close();
        await new Promise<void>((r) => server.close(() => r()));
        if (l.port === 0 && (err as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < 20) continue;
        throw err;
      }
      server.on('error', (err) => log.error('tcp listener error', { err: err.message }));
      sock.on('error', (err) => log.error('udp socket error', { err: err.message }));
      sock.on('message', (msg, rinfo) => this.onUdp(sock, msg, rinfo));
      this.udpSockets.push(sock);
      this.tcpServers.push(server);
      this.bound.push({ address: l.address, port, family });
      return;
    }
  }

  private onUdp(sock: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const out = this.handle(msg, 'udp');
    if (out === undefined) return;
    if (!(out instanceof Promise)) {
      sock.send(out, rinfo.port, rinfo.address);
      return;
    }
    out.then((b) => { if (b) sock.send(b, rinfo.port, rinfo.address); }, (err) => log.error('query failed', { err }));
  }

  private onTcpConnection(conn: net.Socket): void {
    this.tcpConns.add(conn);
    conn.setNoDelay(true);
    conn.setTimeout(TCP_IDLE_MS, () => conn.destroy());
    let buf: Buffer = Buffer.alloc(0);
    const send = (b: Buffer) => {
      if (conn.destroyed) return;
      const len = Buffer.allocUnsafe(2);
      len.writeUInt16BE(b.length);
      conn.write(Buffer.concat([len, b]));
    };
    conn.on('data', (d: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      while (buf.length >= 2) {
        const n = buf.readUInt16BE(0);
        if (buf.length < 2 + n) break;
        const msg = buf.subarray(2, 2 + n);
        buf = buf.subarray(2 + n);
        const out = this.handle(msg, 'tcp');
        if (out === undefined) continue;
        if (!(out instanceof Promise)) send(out);
        else out.then((b) => { if (b) send(b); }, (err) => log.error('query failed', { err }));
      }
    });
    conn.on('error', () => conn.destroy());
    conn.on('close', () => this.tcpConns.delete(conn));
  }

  // ---- queries --------------------------------------------------------------------------------

  private clearCache(): void {
    this.cache.udp.clear();
    this.cache.tcp.clear();
  }

  private count(rcode: Rcode | 'BADVERS'): void {
    this.rcodeCounts[rcode === 'BADVERS' ? 16 : RCODE[rcode]]++;
  }

  /** Counts a response by the rcode in its header. */
  private countEncoded(buf: Buffer): void {
    this.rcodeCounts[buf[3]! & 0xf]++;
  }

  /**
   * One message in, the response out: a Buffer at once (cache hits and cluster names), a
   * promise when upstream servers are involved, undefined when the message is dropped.
   */
  handle(msg: Buffer, transport: Transport): Buffer | Promise<Buffer | undefined> | undefined {
    const st = this.statsData;
    st.queries++;
    st[transport]++;
    if (msg.length < 12) return undefined;

    const cache = this.cache[transport];
    const key = msg.toString('latin1', 2);
    const hit = cache.get(key);
    if (hit) {
      st.cacheHits++;
      const out = Buffer.allocUnsafe(hit.length);
      hit.copy(out);
      out[0] = msg[0]!;
      out[1] = msg[1]!;
      this.countEncoded(out);
      if (out[2]! & 0x02) st.truncated++;
      return out;
    }

    const parsed = parseQuery(msg);
    if (!parsed.ok) {
      if ('drop' in parsed) return undefined;
      this.count(parsed.rcode);
      const limit = transport === 'udp' ? udpLimit(parsed.edns) : TCP_LIMIT;
      return encodeResponse(parsed, { rcode: parsed.rcode, authoritative: false, answers: [], authorities: [], additionals: [] }, limit).buf;
    }
    const q = parsed.query;
    const limit = transport === 'udp' ? udpLimit(q.edns) : TCP_LIMIT;
    const res = resolve(q.question, this.view, this.resolverOpts);

    if (res.forward) {
      const cached = this.forwardCache.get(transport[0] + key, q.id);
      if (cached && cached.length <= limit) {
        st.cacheHits++;
        this.countEncoded(cached);
        return cached;
      }
      return this.forward(msg, q, transport, limit, key);
    }
    if (!this.synced) {
      this.count('SERVFAIL');
      return encodeResponse(q, { rcode: 'SERVFAIL', authoritative: false, answers: [], authorities: [], additionals: [] }, limit).buf;
    }
    if (res.chase) return this.chase(q, res, limit);

    const enc = encodeResponse(q, res, limit);
    if (enc.truncated) st.truncated++;
    this.count(res.rcode);
    if (cache.size >= CACHE_MAX_ENTRIES) {
      // Oldest first (insertion order): a bounded cache without per-hit bookkeeping.
      const first = cache.keys().next().value;
      if (first !== undefined) cache.delete(first);
    }
    cache.set(key, enc.buf);
    return enc.buf;
  }

  private async forward(msg: Buffer, q: Query, transport: Transport, limit: number, key: string): Promise<Buffer> {
    key = transport[0] + key;
    const st = this.statsData;
    st.forwarded++;
    try {
      let reply = await this.forwarder.query(msg, { acceptTruncated: transport === 'udp' });
      this.forwardCache.put(key, reply);
      if (reply.length > limit) {
        reply = truncateEncoded(reply, limit);
        st.truncated++;
      }
      this.countEncoded(reply);
      return reply;
    } catch (err) {
      st.forwardFailures++;
      log.debug('upstream failed', { name: q.question.name, type: q.question.type, err: (err as Error).message });
      this.count('SERVFAIL');
      return encodeResponse(q, { rcode: 'SERVFAIL', authoritative: false, answers: [], authorities: [], additionals: [] }, limit).buf;
    }
  }

  /** An ExternalName CNAME leaving the zone: ask upstream for the target and append its records. */
  private async chase(q: Query, res: Resolution, limit: number): Promise<Buffer> {
    const st = this.statsData;
    const target = res.chase as Question;
    let rcode: Rcode = res.rcode;
    const answers: Answer[] = [...res.answers];
    const authorities: Answer[] = [];
    try {
      st.forwarded++;
      const query = dnsPacket.encode({
        type: 'query', id: 0, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: target.name, type: target.type, class: 'IN' }],
        additionals: [{ name: '.', type: 'OPT', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] } as Answer],
      });
      const reply = dnsPacket.decode(await this.forwarder.query(query));
      const upRcode = (reply as unknown as { rcode: string }).rcode;
      if (upRcode === 'NXDOMAIN') rcode = 'NXDOMAIN';
      for (const a of reply.answers ?? []) answers.push(a);
      if (!reply.answers?.length) for (const a of reply.authorities ?? []) if (a.type === 'SOA') authorities.push(a);
    } catch (err) {
      // The CNAME alone is still a correct answer; the client may chase it itself.
      st.forwardFailures++;
      log.debug('could not chase CNAME upstream', { name: target.name, err: (err as Error).message });
    }
    const enc = encodeResponse(q, { rcode, authoritative: false, answers, authorities, additionals: [] }, limit);
    if (enc.truncated) st.truncated++;
    this.count(rcode);
    return enc.buf;
  }
}

/** node:dgram calls this with the socket's family (4 or 6); the address is already a literal. */
function literalLookup(address: string, family: unknown, cb: (err: Error | null, address: string, family: number) => void): void {
  cb(null, address, family === 6 ? 6 : 4);
}

const RCODE_NAMES: Record<number, string> = { 0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED' };
