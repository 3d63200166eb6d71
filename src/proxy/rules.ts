/**
 * The service proxy's rules: a pure function from Services, EndpointSlices and this node's
 * facts to iptables rules for the `nat` and `filter` tables, in the layout of kube-proxy's
 * iptables mode (pkg/proxy/iptables/proxier.go), with keelson's chain prefix `<P>` in place of
 * `KUBE`:
 *
 *   nat  PREROUTING, OUTPUT  → <P>-SERVICES       one rule per service IP:port (cluster IP,
 *                                                  external IPs, load-balancer IPs), and last
 *                                                  a jump to <P>-NODEPORTS for local addresses
 *        <P>-NODEPORTS                             one rule per nodePort → <P>-EXT-<hash>
 *        <P>-SVC-<hash>  (traffic policy Cluster)  masquerade off-cluster clients, then pick an
 *        <P>-SVL-<hash>  (traffic policy Local)    endpoint: session affinity (`recent`) first,
 *                                                  then `statistic random` 1/n, 1/(n-1), …, last
 *                                                  unconditional
 *        <P>-EXT-<hash>                            external destinations (nodePort, external and
 *                                                  LB IPs): masquerade (Cluster) or keep the
 *                                                  client IP (Local), short-circuiting pods and
 *                                                  the node itself to the Cluster chain
 *        <P>-FW-<hash>                             loadBalancerSourceRanges
 *        <P>-SEP-<hash>                            one endpoint: hairpin masquerade when the
 *                                                  source is the endpoint itself, then DNAT
 *        POSTROUTING → <P>-POSTROUTING             MASQUERADE what <P>-MARK-MASQ marked
 *   filter INPUT/FORWARD/OUTPUT → <P>-SERVICES, <P>-EXTERNAL-SERVICES: REJECT (no endpoints)
 *          or DROP (traffic policy Local with no local endpoint); <P>-FORWARD accepts marked
 *          and established forwarded traffic; <P>-PROXY-FIREWALL drops LB traffic the source
 *          ranges refused; <P>-FIREWALL blocks outside packets to 127.0.0.0/8 (needed because
 *          route_localnet=1, as the kubelet does since CVE-2020-8558).
 *
 * Output is deterministic: service ports sorted by "ns/name:port" and protocol, endpoints by
 * "ip:port" (kube-proxy sorts endpoints the same way), so unit tests can compare text and the
 * applier can diff chain by chain. Chain names hash "ns/name:port" + protocol (and + "ip:port"
 * for endpoints) with SHA-256, base32, as kube-proxy does, cut to fit iptables' 28 characters.
 *
 * Probabilities are printed as iptables-save prints them back (the statistic match keeps
 * round(p · 2³¹) and prints it with 11 decimals), so 1/3 is 0.33333333349: what we write is
 * exactly what the kernel holds and what `iptables-save` shows.
 *
 * IPv4 only (this is the `iptables` table; ip6tables is not programmed).
 */
import { createHash } from 'node:crypto';
import type { Service, ServicePort } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';

export const DEFAULT_CHAIN_PREFIX = 'KEELSON';
/** iptables chain names hold at most 28 characters (XT_EXTENSION_MAXNAMELEN - 1). */
export const MAX_CHAIN_NAME = 28;
/** Default masquerade mark bit (0x4000), as kube-proxy's --iptables-masquerade-bit 14. */
export const DEFAULT_MASQUERADE_BIT = 14;
/** Default sessionAffinityConfig.clientIP.timeoutSeconds (3 hours). */
export const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10800;
export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
/** Services with this label belong to another proxy (kube-proxy skips them too). */
export const LABEL_SERVICE_PROXY_NAME = 'service.kubernetes.io/service-proxy-name';

export type Table = 'nat' | 'filter';
export type Protocol = 'tcp' | 'udp' | 'sctp';

export interface RenderOptions {
  /** Chain name prefix (default KEELSON): upper-case letters and digits, at most 10 characters. */
  chainPrefix?: string;
  /** This node's name: endpoints with this nodeName are local. */
  nodeName: string;
  /** This node's addresses (used for loadBalancerSourceRanges that contain the node). */
  nodeIPs?: string[];
  /** The pod network; traffic to a cluster IP from outside it is masqueraded. '' = unknown. */
  clusterCIDR?: string;
  /** Masquerade all traffic to cluster IPs (kube-proxy --masquerade-all). */
  masqueradeAll?: boolean;
  /** Bit of the packet mark meaning "masquerade me" (default 14 → 0x4000). */
  masqueradeBit?: number;
  /**
   * Addresses (CIDRs) NodePorts answer on. Default: every local address, including 127.0.0.1
   * (kube-proxy's default), matched with `-m addrtype --dst-type LOCAL`.
   */
  nodePortAddresses?: string[];
  /**
   * Handle only services labelled service.kubernetes.io/service-proxy-name=<this> (an
   * alternative proxy, as that label means in Kubernetes). Default: only unlabelled services.
   */
  serviceProxyName?: string;
}

/** What the applier needs to know about one service port besides its rules (conntrack). */
export interface ServicePortInfo {
  /** "ns/name:port/proto" (unique). */
  key: string;
  /** "ns/name:port" (or "ns/name" for an unnamed port), as kube-proxy's ServicePortName. */
  name: string;
  protocol: Protocol;
  clusterIP: string;
  port: number;
  nodePort?: number;
  externalIPs: string[];
  loadBalancerIPs: string[];
  /** Endpoints ("ip:port") that some rule of this service port may DNAT to. */
  endpoints: string[];
}

export interface RenderedRules {
  /** Chains of each table in output order; each value lists complete `-A <chain> …` lines. */
  nat: Map<string, string[]>;
  filter: Map<string, string[]>;
  servicePorts: ServicePortInfo[];
  /** Number of rules (lines) over both tables. */
  ruleCount: number;
  chainCount: number;
}

/** The fixed chains of one prefix. */
export interface FixedChains {
  services: string;
  nodePorts: string;
  postrouting: string;
  markMasq: string;
  externalServices: string;
  forward: string;
  proxyFirewall: string;
  firewall: string;
}

export function fixedChains(prefix = DEFAULT_CHAIN_PREFIX): FixedChains {
  validatePrefix(prefix);
  return {
    services: `${prefix}-SERVICES`,
    nodePorts: `${prefix}-NODEPORTS`,
    postrouting: `${prefix}-POSTROUTING`,
    markMasq: `${prefix}-MARK-MASQ`,
    externalServices: `${prefix}-EXTERNAL-SERVICES`,
    forward: `${prefix}-FORWARD`,
    proxyFirewall: `${prefix}-PROXY-FIREWALL`,
    firewall: `${prefix}-FIREWALL`,
  };
}

export function validatePrefix(prefix: string): void {
  // The longest fixed chain is <P>-EXTERNAL-SERVICES (18 + P), so P may have 10 characters.
  if (!/^[A-Z][A-Z0-9]{0,9}$/.test(prefix)) {
    throw new Error(`chain prefix ${JSON.stringify(prefix)} must be 1-10 upper-case letters or digits, starting with a letter`);
  }
}

/** True for the names of chains this prefix owns (fixed or per service), in either table. */
export function isOwnChain(prefix: string, chain: string): boolean {
  if (!chain.startsWith(prefix + '-')) return false;
  const rest = chain.slice(prefix.length + 1);
  return /^(SVC|SVL|EXT|FW|SEP)-[A-Z2-7]+$/.test(rest)
    || ['SERVICES', 'NODEPORTS', 'POSTROUTING', 'MARK-MASQ', 'EXTERNAL-SERVICES', 'FORWARD', 'PROXY-FIREWALL', 'FIREWALL'].includes(rest);
}

/** A rule that must exist in a built-in chain and jump to one of ours (ensured with -C/-I). */
export interface JumpRule {
  table: Table;
  chain: string;
  args: string[];
}

/** The jump rules from the built-in chains into this prefix's chains, as kube-proxy installs. */
export function jumpRules(prefix = DEFAULT_CHAIN_PREFIX): JumpRule[] {
  const c = fixedChains(prefix);
  const cm = (text: string) => ['-m', 'comment', '--comment', text];
  const ctNew = ['-m', 'conntrack', '--ctstate', 'NEW'];
  const rules: JumpRule[] = [];
  for (const chain of ['PREROUTING', 'OUTPUT']) rules.push({ table: 'nat', chain, args: [...cm('kubernetes service portals'), '-j', c.services] });
  rules.push({ table: 'nat', chain: 'POSTROUTING', args: [...cm('kubernetes postrouting rules'), '-j', c.postrouting] });
  for (const chain of ['INPUT', 'FORWARD', 'OUTPUT']) {
    rules.push({ table: 'filter', chain, args: [...ctNew, ...cm('kubernetes load balancer firewall'), '-j', c.proxyFirewall] });
    rules.push({ table: 'filter', chain, args: [...ctNew, ...cm('kubernetes service portals'), '-j', c.services] });
  }
  for (const chain of ['INPUT', 'FORWARD']) {
    rules.push({ table: 'filter', chain, args: [...ctNew, ...cm('kubernetes externally-visible service portals'), '-j', c.externalServices] });
  }
  rules.push({ table: 'filter', chain: 'FORWARD', args: [...cm('kubernetes forwarding rules'), '-j', c.forward] });
  for (const chain of ['INPUT', 'OUTPUT']) rules.push({ table: 'filter', chain, args: ['-j', c.firewall] });
  return rules;
}

/**
 * The probability for the first of n remaining endpoints, as iptables-save prints it: the
 * statistic match stores lround(p · 2³¹) and prints value / 2³¹ with 11 decimals.
 */
export function probability(n: number): string {
  const stored = Math.round(0x80000000 / n);
  return (stored / 0x80000000).toFixed(11);
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Memo of hashName: the same services hash to the same names on every sync. */
const hashMemo = new Map<string, string>();
const HASH_MEMO_MAX = 200_000;

/** First `len` characters of base32(sha256(s)) (RFC 4648 alphabet), as kube-proxy names chains. */
export function hashName(s: string, len = 16): string {
  const key = `${len}|${s}`;
  const hit = hashMemo.get(key);
  if (hit !== undefined) return hit;
  const out = hashUncached(s, len);
  if (hashMemo.size >= HASH_MEMO_MAX) hashMemo.clear();
  hashMemo.set(key, out);
  return out;
}

function hashUncached(s: string, len: number): string {
  const digest = createHash('sha256').update(s).digest();
  let out = '';
  let bits = 0;
  let value = 0;
  for (let i = 0; i < digest.length && out.length < len; i++) {
    value = (value << 8) | digest[i]!;
    bits += 8;
    while (bits >= 5 && out.length < len) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return out;
}

// ---- input normalization ---------------------------------------------------------------------

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
export const isIPv4 = (s: unknown): s is string => typeof s === 'string' && IPV4.test(s);

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((a, o) => ((a << 8) | Number(o)) >>> 0, 0);
}

/** Whether an IPv4 address lies in an IPv4 CIDR (false for anything malformed). */
export function cidrContains(cidr: string, ip: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  if (!isIPv4(base) || !isIPv4(ip) || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return ((ipv4ToInt(base) & mask) >>> 0) === ((ipv4ToInt(ip) & mask) >>> 0);
}

const isIPv4CIDR = (s: string) => {
  const [ip, bits] = s.split('/');
  return isIPv4(ip) && bits !== undefined && /^\d{1,2}$/.test(bits) && Number(bits) <= 32;
};

interface Endpoint {
  ip: string;
  port: number;
  /** "ip:port" */
  str: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  local: boolean;
}

interface SvcPort {
  name: string;
  protocol: Protocol;
  clusterIP: string;
  port: number;
  nodePort: number;
  externalIPs: string[];
  loadBalancerIPs: string[];
  loadBalancerSourceRanges: string[];
  affinityTimeout: number; // 0 = no affinity
  internalLocal: boolean;
  externalLocal: boolean;
  endpoints: Endpoint[];
}

function protocolOf(p: string | undefined): Protocol | undefined {
  switch ((p ?? 'TCP').toUpperCase()) {
    case 'TCP': return 'tcp';
    case 'UDP': return 'udp';
    case 'SCTP': return 'sctp';
    default: return undefined;
  }
}

/** The IPv4 cluster IP of a proxyable service, or undefined (headless, ExternalName, IPv6). */
function clusterIPv4(svc: Service): string | undefined {
  const spec = svc.spec;
  if (!spec || spec.type === 'ExternalName') return undefined;
  const ips = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
  return ips.find(isIPv4);
}

/** Endpoints of one service port from the service's slices, deduplicated, sorted by ip:port. */
function endpointsFor(port: ServicePort, protocol: Protocol, slices: EndpointSlice[], nodeName: string): Endpoint[] {
  const byStr = new Map<string, Endpoint>();
  const portName = port.name ?? '';
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4') continue;
    const sp = (slice.ports ?? []).find((p) => (p.name ?? '') === portName && protocolOf(p.protocol) === protocol);
    if (!sp || typeof sp.port !== 'number' || sp.port < 1 || sp.port > 65535) continue;
    for (const ep of slice.endpoints ?? []) {
      // Only the first address counts, as in kube-proxy's EndpointSlice cache.
      const ip = ep.addresses?.[0];
      if (!isIPv4(ip)) continue;
      const str = `${ip}:${sp.port}`;
      if (byStr.has(str)) continue;
      // A nil condition means "unknown": ready and serving default to true, terminating to false.
      const ready = ep.conditions?.ready ?? true;
      byStr.set(str, {
        ip, port: sp.port, str, ready,
        serving: ep.conditions?.serving ?? ready,
        terminating: ep.conditions?.terminating ?? false,
        local: !!nodeName && ep.nodeName === nodeName,
      });
    }
  }
  return [...byStr.values()].sort((a, b) => (a.str < b.str ? -1 : a.str > b.str ? 1 : 0));
}

function collectServicePorts(services: Service[], slices: EndpointSlice[], nodeName: string, proxyName: string | undefined): SvcPort[] {
  const slicesBySvc = new Map<string, EndpointSlice[]>();
  for (const s of slices) {
    const svcName = s.metadata?.labels?.[LABEL_SERVICE_NAME];
    if (!svcName) continue;
    const k = `${s.metadata?.namespace ?? ''}/${svcName}`;
    let list = slicesBySvc.get(k);
    if (!list) slicesBySvc.set(k, (list = []));
    list.push(s);
  }
  // Slices in name order, so that "first slice wins" in deduplication is deterministic.
  for (const list of slicesBySvc.values()) list.sort((a, b) => ((a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1));

  const out: SvcPort[] = [];
  for (const svc of services) {
    if (svc.metadata?.labels?.[LABEL_SERVICE_PROXY_NAME] !== proxyName) continue;
    const clusterIP = clusterIPv4(svc);
    if (!clusterIP) continue;
    const spec = svc.spec!;
    const ns = svc.metadata?.namespace ?? '';
    const svcName = `${ns}/${svc.metadata?.name ?? ''}`;
    const exposesNodePorts = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
    const externalIPs = [...new Set((spec.externalIPs ?? []).filter(isIPv4))];
    const loadBalancerIPs = spec.type === 'LoadBalancer'
      ? [...new Set((svc.status?.loadBalancer?.ingress ?? [])
        // ipMode Proxy: the load balancer delivers to the node itself, not to this IP.
        .filter((i) => (i as { ipMode?: string }).ipMode !== 'Proxy')
        .map((i) => i.ip).filter(isIPv4))]
      : [];
    const sourceRanges = (spec.loadBalancerSourceRanges ?? []).map((r) => r.trim()).filter(isIPv4CIDR);
    const affinityTimeout = spec.sessionAffinity === 'ClientIP'
      ? spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_TIMEOUT_SECONDS
      : 0;
    for (const port of spec.ports ?? []) {
      const protocol = protocolOf(port.protocol);
      if (!protocol || !Number.isInteger(port.port) || port.port < 1 || port.port > 65535) continue;
      const nodePort = exposesNodePorts && Number.isInteger(port.nodePort) && port.nodePort! > 0 ? port.nodePort! : 0;
      out.push({
        name: port.name ? `${svcName}:${port.name}` : svcName,
        protocol, clusterIP, port: port.port, nodePort, externalIPs, loadBalancerIPs,
        loadBalancerSourceRanges: sourceRanges, affinityTimeout,
        internalLocal: spec.internalTrafficPolicy === 'Local',
        externalLocal: exposesNodePorts && spec.externalTrafficPolicy === 'Local',
        endpoints: endpointsFor(port, protocol, slicesBySvc.get(svcName) ?? [], nodeName),
      });
    }
  }
  const key = (p: SvcPort) => `${p.name}/${p.protocol}`;
  return out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/**
 * Which endpoints each traffic policy uses, as kube-proxy's CategorizeEndpoints: ready ones;
 * if there are none, serving-and-terminating ones (so connections drain during a rollout
 * instead of failing). `hasAny`: some usable endpoint exists anywhere (REJECT vs DROP).
 */
function categorize(sp: SvcPort): { cluster: Endpoint[]; local: Endpoint[]; hasAny: boolean; usesCluster: boolean; usesLocal: boolean } {
  const accessible = sp.nodePort > 0 || sp.externalIPs.length > 0 || sp.loadBalancerIPs.length > 0;
  // Even with externalTrafficPolicy Local the Cluster endpoints are needed: pods and the node
  // itself reach external destinations through them (the "short circuit").
  const usesCluster = !sp.internalLocal || accessible;
  const usesLocal = sp.internalLocal || (sp.externalLocal && accessible);
  const pick = (eps: Endpoint[]) => {
    const ready = eps.filter((e) => e.ready);
    return ready.length ? ready : eps.filter((e) => e.serving && e.terminating);
  };
  const cluster = usesCluster ? pick(sp.endpoints) : [];
  const local = usesLocal ? pick(sp.endpoints.filter((e) => e.local)) : [];
  const hasAny = sp.endpoints.some((e) => e.ready || (e.serving && e.terminating));
  return { cluster, local, hasAny, usesCluster, usesLocal };
}

// ---- rendering -------------------------------------------------------------------------------

class ChainSet {
  readonly chains = new Map<string, string[]>();
  add(chain: string): string[] {
    let lines = this.chains.get(chain);
    if (!lines) this.chains.set(chain, (lines = []));
    return lines;
  }
  rule(chain: string, ...parts: string[]): void {
    this.add(chain).push(`-A ${chain} ${parts.join(' ')}`);
  }
}

const comment = (text: string) => `-m comment --comment "${text.replace(/["\\]/g, '')}"`;

/** Renders every rule for the given objects. Pure: same input, same output. */
export function renderRules(services: Service[], slices: EndpointSlice[], opts: RenderOptions): RenderedRules {
  const P = opts.chainPrefix ?? DEFAULT_CHAIN_PREFIX;
  const c = fixedChains(P);
  const bit = opts.masqueradeBit ?? DEFAULT_MASQUERADE_BIT;
  if (!Number.isInteger(bit) || bit < 0 || bit > 31) throw new Error(`masquerade bit ${bit} is not in 0..31`);
  const mark = `0x${(1 << bit >>> 0).toString(16)}`;
  const clusterCIDR = opts.clusterCIDR && isIPv4CIDR(opts.clusterCIDR) ? opts.clusterCIDR : '';
  const nodeIPs = (opts.nodeIPs ?? []).filter(isIPv4);
  const hashLen = (kind: string) => Math.min(16, MAX_CHAIN_NAME - P.length - kind.length - 2);

  const nat = new ChainSet();
  const filter = new ChainSet();
  // Fixed chains first, in a fixed order (they exist even when empty).
  for (const ch of [c.services, c.nodePorts, c.postrouting, c.markMasq]) nat.add(ch);
  for (const ch of [c.services, c.externalServices, c.forward, c.proxyFirewall, c.firewall]) filter.add(ch);

  nat.rule(c.postrouting, `-m mark ! --mark ${mark}/${mark}`, '-j RETURN');
  // Clear the mark so that a packet re-traversing (e.g. through a tunnel) is not masqueraded twice.
  nat.rule(c.postrouting, `-j MARK --xor-mark ${mark}`);
  nat.rule(c.postrouting, comment('kubernetes service traffic requiring SNAT'), '-j MASQUERADE --random-fully');
  nat.rule(c.markMasq, `-j MARK --or-mark ${mark}`);

  filter.rule(c.forward, comment('kubernetes forwarding rules'), `-m mark --mark ${mark}/${mark}`, '-j ACCEPT');
  filter.rule(c.forward, comment('kubernetes forwarding conntrack rule'), '-m conntrack --ctstate RELATED,ESTABLISHED', '-j ACCEPT');
  filter.rule(c.firewall, '! -s 127.0.0.0/8 -d 127.0.0.0/8', comment('block incoming localnet connections'),
    '-m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT', '-j DROP');

  const infos: ServicePortInfo[] = [];
  const written = new Set<string>();

  for (const sp of collectServicePorts(services, slices, opts.nodeName, opts.serviceProxyName)) {
    const proto = sp.protocol;
    const protoArgs = `-m ${proto} -p ${proto}`;
    const base = sp.name + proto;
    const svcChain = `${P}-SVC-${hashName(base, hashLen('SVC'))}`;
    const svlChain = `${P}-SVL-${hashName(base, hashLen('SVL'))}`;
    const extChain = `${P}-EXT-${hashName(base, hashLen('EXT'))}`;
    const fwChain = `${P}-FW-${hashName(base, hashLen('FW'))}`;
    const sepNames = new Map<string, string>();
    const sepChain = (ep: Endpoint) => {
      let name = sepNames.get(ep.str);
      if (!name) sepNames.set(ep.str, (name = `${P}-SEP-${hashName(base + ep.str, hashLen('SEP'))}`));
      return name;
    };

    const { cluster, local, hasAny, usesCluster, usesLocal } = categorize(sp);
    const usesClusterChain = usesCluster && cluster.length > 0;
    const usesLocalChain = usesLocal && local.length > 0;
    const hasInternal = sp.internalLocal ? local.length > 0 : cluster.length > 0;
    const hasExternal = sp.externalLocal ? local.length > 0 : cluster.length > 0;
    const internalChain = sp.internalLocal ? svlChain : svcChain;
    const externalPolicyChain = sp.externalLocal ? svlChain : svcChain;
    const accessible = sp.nodePort > 0 || sp.externalIPs.length > 0 || sp.loadBalancerIPs.length > 0;
    const usesExtChain = hasAny && accessible;
    const usesFwChain = hasAny && sp.loadBalancerIPs.length > 0 && sp.loadBalancerSourceRanges.length > 0;
    const lbTarget = usesFwChain ? fwChain : extChain;

    // No usable endpoint at all: REJECT (the client learns at once). Endpoints only elsewhere
    // while the policy is Local: DROP, as kube-proxy (the client may retry another node).
    const internalFilter = !hasAny ? { target: 'REJECT', text: `${sp.name} has no endpoints` }
      : !hasInternal ? { target: 'DROP', text: `${sp.name} has no local endpoints` } : undefined;
    const externalFilter = !hasAny ? { target: 'REJECT', text: `${sp.name} has no endpoints` }
      : !hasExternal ? { target: 'DROP', text: `${sp.name} has no local endpoints` } : undefined;

    const dst = (ip: string, port = sp.port) => `-d ${ip}/32 --dport ${port}`;

    // Cluster IP.
    if (hasInternal) nat.rule(c.services, comment(`${sp.name} cluster IP`), protoArgs, dst(sp.clusterIP), `-j ${internalChain}`);
    else filter.rule(c.services, comment(internalFilter!.text), protoArgs, dst(sp.clusterIP), `-j ${internalFilter!.target}`);

    // External IPs.
    for (const ip of sp.externalIPs) {
      if (hasAny) nat.rule(c.services, comment(`${sp.name} external IP`), protoArgs, dst(ip), `-j ${extChain}`);
      if (externalFilter) filter.rule(c.externalServices, comment(externalFilter.text), protoArgs, dst(ip), `-j ${externalFilter.target}`);
    }

    // Load-balancer ingress IPs.
    for (const ip of sp.loadBalancerIPs) {
      if (hasAny) nat.rule(c.services, comment(`${sp.name} loadbalancer IP`), protoArgs, dst(ip), `-j ${lbTarget}`);
      if (usesFwChain) {
        // Whatever the FW chain did not accept is still addressed to the LB IP here.
        filter.rule(c.proxyFirewall, comment(`${sp.name} traffic not accepted by ${fwChain}`), protoArgs, dst(ip), '-j DROP');
      }
    }
    if (externalFilter) {
      for (const ip of sp.loadBalancerIPs) filter.rule(c.externalServices, comment(externalFilter.text), protoArgs, dst(ip), `-j ${externalFilter.target}`);
    }

    // NodePort.
    if (sp.nodePort > 0) {
      if (hasAny) nat.rule(c.nodePorts, comment(sp.name), protoArgs, `--dport ${sp.nodePort}`, `-j ${extChain}`);
      if (externalFilter) {
        filter.rule(c.externalServices, comment(externalFilter.text), '-m addrtype --dst-type LOCAL', protoArgs,
          `--dport ${sp.nodePort}`, `-j ${externalFilter.target}`);
      }
    }

    // Internal traffic: masquerade clients from outside the pod network (the reply must come
    // back through this node to be un-DNATed).
    if (hasInternal) {
      const args = [comment(`${sp.name} cluster IP`), protoArgs, dst(sp.clusterIP)];
      if (opts.masqueradeAll) nat.rule(internalChain, ...args, `-j ${c.markMasq}`);
      else if (clusterCIDR) nat.rule(internalChain, ...args, `! -s ${clusterCIDR}`, `-j ${c.markMasq}`);
    }

    // External traffic.
    if (usesExtChain) {
      nat.add(extChain);
      if (!sp.externalLocal) {
        nat.rule(extChain, comment(`masquerade traffic for ${sp.name} external destinations`), `-j ${c.markMasq}`);
      } else {
        // Pods reaching an external destination skip the Local policy, as if they had gone
        // out to a load balancer and come back in.
        if (clusterCIDR) nat.rule(extChain, comment(`pod traffic for ${sp.name} external destinations`), `-s ${clusterCIDR}`, `-j ${svcChain}`);
        // The node itself: its source address is local (maybe the LB IP itself), so masquerade
        // and use the Cluster endpoints.
        nat.rule(extChain, comment(`masquerade LOCAL traffic for ${sp.name} external destinations`), '-m addrtype --src-type LOCAL', `-j ${c.markMasq}`);
        nat.rule(extChain, comment(`route LOCAL traffic for ${sp.name} external destinations`), '-m addrtype --src-type LOCAL', `-j ${svcChain}`);
      }
      if (hasExternal) nat.rule(extChain, `-j ${externalPolicyChain}`);
    }

    // loadBalancerSourceRanges.
    if (usesFwChain) {
      nat.add(fwChain);
      for (const range of sp.loadBalancerSourceRanges) {
        nat.rule(fwChain, comment(`${sp.name} loadbalancer IP`), `-s ${range}`, `-j ${extChain}`);
      }
      // A node inside the allowed ranges may reach the LB IP with the LB IP as its source.
      if (sp.loadBalancerSourceRanges.some((r) => nodeIPs.some((ip) => cidrContains(r, ip)))) {
        for (const ip of sp.loadBalancerIPs) nat.rule(fwChain, comment(`${sp.name} loadbalancer IP`), `-s ${ip}/32`, `-j ${extChain}`);
      }
      // Anything else falls through and is dropped by <P>-PROXY-FIREWALL in filter.
    }

    const writeBalancing = (chain: string, eps: Endpoint[]) => {
      nat.add(chain);
      if (sp.affinityTimeout > 0) {
        for (const ep of eps) {
          nat.rule(chain, comment(`${sp.name} -> ${ep.str}`),
            `-m recent --name ${sepChain(ep)} --rcheck --seconds ${sp.affinityTimeout} --reap`, `-j ${sepChain(ep)}`);
        }
      }
      eps.forEach((ep, i) => {
        const stat = i < eps.length - 1 ? [`-m statistic --mode random --probability ${probability(eps.length - i)}`] : [];
        nat.rule(chain, comment(`${sp.name} -> ${ep.str}`), ...stat, `-j ${sepChain(ep)}`);
      });
    };
    if (usesClusterChain) writeBalancing(svcChain, cluster);
    if (usesLocalChain) writeBalancing(svlChain, local);

    const reachable = new Map<string, Endpoint>();
    for (const ep of [...(usesClusterChain ? cluster : []), ...(usesLocalChain ? local : [])]) reachable.set(ep.str, ep);
    for (const ep of [...reachable.values()].sort((a, b) => (a.str < b.str ? -1 : 1))) {
      const chain = sepChain(ep);
      if (written.has(chain)) continue; // only on a hash collision across services
      written.add(chain);
      nat.add(chain);
      // Hairpin: a pod reaching itself through the service must be SNATed, or its reply
      // would go straight to itself and never be un-DNATed.
      nat.rule(chain, comment(sp.name), `-s ${ep.ip}/32`, `-j ${c.markMasq}`);
      const affinity = sp.affinityTimeout > 0 ? [`-m recent --name ${chain} --set`] : [];
      nat.rule(chain, comment(sp.name), ...affinity, protoArgs, `-j DNAT --to-destination ${ep.str}`);
    }

    infos.push({
      key: `${sp.name}/${proto}`, name: sp.name, protocol: proto, clusterIP: sp.clusterIP, port: sp.port,
      nodePort: sp.nodePort || undefined, externalIPs: sp.externalIPs, loadBalancerIPs: sp.loadBalancerIPs,
      endpoints: [...reachable.keys()].sort(),
    });
  }

  // Must be the last rule of <P>-SERVICES: NodePorts on the node's own addresses.
  const npComment = comment('kubernetes service nodeports; NOTE: this must be the last rule in this chain');
  if (opts.nodePortAddresses?.length) {
    for (const cidr of opts.nodePortAddresses) {
      if (cidr === '0.0.0.0/0') nat.rule(c.services, npComment, '-m addrtype --dst-type LOCAL', `-j ${c.nodePorts}`);
      else if (isIPv4CIDR(cidr)) nat.rule(c.services, npComment, `-d ${cidr}`, `-j ${c.nodePorts}`);
      else if (isIPv4(cidr)) nat.rule(c.services, npComment, `-d ${cidr}/32`, `-j ${c.nodePorts}`);
    }
  } else {
    nat.rule(c.services, npComment, '-m addrtype --dst-type LOCAL', `-j ${c.nodePorts}`);
  }

  let ruleCount = 0;
  for (const t of [nat, filter]) for (const lines of t.chains.values()) ruleCount += lines.length;
  return { nat: nat.chains, filter: filter.chains, servicePorts: infos, ruleCount, chainCount: nat.chains.size + filter.chains.size };
}

/** Chains to delete, per table (they are flushed and removed in the same transaction). */
export interface RestoreSelection {
  /** Chains to (re)write; default: all of them. */
  write?: { nat: Iterable<string>; filter: Iterable<string> };
  /** Chains to flush and delete. */
  remove?: { nat: Iterable<string>; filter: Iterable<string> };
}

/**
 * The `iptables-restore --noflush` input: per table, a `:chain - [0:0]` line for each chain
 * written (creating it, or flushing it if it exists), its rules, then `-X` for removed chains.
 * Built-in chains are never named, so everything else in the tables is left alone.
 */
export function toRestoreText(r: RenderedRules, sel: RestoreSelection = {}): string {
  const out: string[] = [];
  for (const table of ['filter', 'nat'] as const) {
    const chains = r[table];
    const write = sel.write ? [...sel.write[table]] : [...chains.keys()];
    const remove = sel.remove ? [...sel.remove[table]] : [];
    if (write.length === 0 && remove.length === 0) continue;
    out.push(`*${table}`);
    for (const ch of write) out.push(`:${ch} - [0:0]`);
    for (const ch of remove) out.push(`:${ch} - [0:0]`);
    for (const ch of write) {
      const lines = chains.get(ch);
      if (lines) for (const l of lines) out.push(l);
    }
    for (const ch of remove) out.push(`-X ${ch}`);
    out.push('COMMIT');
  }
  return out.length ? out.join('\n') + '\n' : '';
}

/** renderRules then toRestoreText: the complete restore input for these objects. */
export function renderRestoreText(services: Service[], slices: EndpointSlice[], opts: RenderOptions): string {
  return toRestoreText(renderRules(services, slices, opts));
}
