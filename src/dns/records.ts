/**
 * The cluster DNS resolver: a pure function from one question and a ClusterView to the
 * records of the answer, following the Kubernetes DNS-Based Service Discovery specification
 * (kubernetes/dns docs/specification.md) for the zone `cluster.local` (configurable):
 *
 * - `dns-version.<zone>` TXT: the schema version (§2.2).
 * - `<svc>.<ns>.svc.<zone>`: A/AAAA of the ClusterIPs (§2.3.1); for a headless Service one
 *   record per address of every ready endpoint, and NXDOMAIN when it has no ready endpoint
 *   (§2.4.1); a CNAME to spec.externalName for ExternalName Services (§2.5).
 * - `<hostname>.<svc>.<ns>.svc.<zone>`: the addresses of the ready endpoint(s) with that
 *   hostname (§2.4.1). The hostname of an endpoint is its `hostname` field; otherwise (as
 *   CoreDNS's kubernetes plugin) the name of the pod it targets when `endpointPodNames` is
 *   on, else its address with dashes (`10-244-0-5`). Like CoreDNS, this also works under
 *   Services that have a ClusterIP (the spec only asks it of headless ones; §3 allows more).
 * - `_<port>._<proto>.<svc>.<ns>.svc.<zone>` SRV for named ports (§2.3.2, §2.4.2): one record
 *   with the Service as target, or for headless Services one per ready endpoint (port number
 *   from the EndpointSlice, i.e. the pod's port, as CoreDNS does, since clients connect to
 *   the pods directly), with the targets' A/AAAA records in the additional section.
 * - PTR under in-addr.arpa / ip6.arpa for ClusterIPs (§2.3.3) and ready endpoint addresses
 *   (§2.4.3). An address the cluster does not know falls through to the upstream servers,
 *   as CoreDNS's default Corefile (`fallthrough in-addr.arpa ip6.arpa`).
 * - `<a-b-c-d>.<ns>.pod.<zone>` A (AAAA for dashed IPv6) (§2.6): `insecure` answers any name
 *   that parses as an address, `verified` only addresses of pods in that namespace,
 *   `disabled` none (CoreDNS's `pods` modes).
 * - The apex has SOA and NS (`ns.dns.<zone>`, whose A/AAAA are the cluster DNS Service IPs).
 *
 * NXDOMAIN vs NODATA: a name that exists — a record owner, or an interior name with existing
 * names below it (`svc.<zone>`, `<ns>.svc.<zone>` while the namespace has Services,
 * `_tcp.<svc>.<ns>.svc.<zone>` while it has a named TCP port) — answers NOERROR with an empty
 * answer when it has no record of the asked type; anything else is NXDOMAIN. Both carry the
 * zone's SOA in the authority section (negative caching, RFC 2308), its minimum = the TTL.
 * Search-path expansions such as `fortune.default.svc.cluster.local.default.svc.cluster.local`
 * are plain NXDOMAIN from the view, without any upstream query.
 *
 * Names compare case-insensitively (spec §2.1); answers keep the spelling of the question.
 */
import type { Answer, Question, SrvAnswer } from 'dns-packet';
import type { ClusterView, EndpointInfo, ServiceInfo } from './cluster-view.js';
import { canonicalIP, dashedIP, ipFamily, parseDashedIP, reverseLabelsToIP } from './ip.js';

/** The schema version this resolver implements (spec §1). */
export const DNS_SCHEMA_VERSION = '1.0.1';
export const DEFAULT_ZONE = 'cluster.local';
/** CoreDNS's kubernetes plugin: ttl 5 by default, at most 3600. */
export const DEFAULT_TTL = 5;
export const MAX_TTL = 3600;
/** How many CNAMEs inside the zone are followed before giving up. */
const MAX_CNAME_CHAIN = 8;

export type PodMode = 'insecure' | 'verified' | 'disabled';

export interface ResolverOptions {
  /** The cluster domain, lower-case, without trailing dot. */
  zone: string;
  ttl: number;
  pods: PodMode;
  endpointPodNames: boolean;
  /**
   * Addresses of `ns.dns.<zone>`, the zone's name server. Default: the ClusterIPs of the
   * Service kube-system/kube-dns, when it exists.
   */
  nameserverIPs?: string[];
}

export function resolverOptions(o: Partial<ResolverOptions> = {}): ResolverOptions {
  const ttl = Math.min(MAX_TTL, Math.max(0, Math.floor(o.ttl ?? DEFAULT_TTL)));
  return {
    zone: normalizeZone(o.zone ?? DEFAULT_ZONE),
    ttl,
    pods: o.pods ?? 'insecure',
    endpointPodNames: o.endpointPodNames ?? false,
    nameserverIPs: o.nameserverIPs,
  };
}

export function normalizeZone(zone: string): string {
  return zone.trim().toLowerCase().replace(/^\.+|\.+$/g, '');
}

export type Rcode = 'NOERROR' | 'FORMERR' | 'SERVFAIL' | 'NXDOMAIN' | 'NOTIMP' | 'REFUSED';

export const RCODE: Record<Rcode, number> = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };

export interface Resolution {
  rcode: Rcode;
  /** The name is in a zone this server is authoritative for (AA bit). */
  authoritative: boolean;
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
  /** Not a cluster name (or an unknown reverse address): the server asks its upstreams. */
  forward?: boolean;
  /**
   * The answer ends in a CNAME to a name outside the zone: the server resolves this question
   * upstream and appends what it gets (spec §2.5's example answer has both records).
   */
  chase?: Question;
}

/** What exists at one name: undefined = NXDOMAIN. */
interface NameData {
  a?: string[];
  aaaa?: string[];
  srv?: SrvAnswer['data'][];
  ptr?: string[];
  txt?: string[];
  soa?: boolean;
  ns?: string[];
  cname?: string;
  /** A/AAAA records of names referred to (SRV targets, NS). */
  glue?: Array<{ name: string; ips: string[] }>;
}

const EMPTY: NameData = {};

/** Answers one question from the view. */
export function resolve(q: Question, view: ClusterView, o: ResolverOptions): Resolution {
  const asked = q.name.replace(/\.$/, '');
  const name = asked.toLowerCase();
  const type = String(q.type).toUpperCase();
  const cls = q.class ?? 'IN';
  const zone = o.zone;
  const inZone = name === zone || name.endsWith('.' + zone);
  const reverseZone = name === 'in-addr.arpa' || name.endsWith('.in-addr.arpa') ? 'in-addr.arpa'
    : name === 'ip6.arpa' || name.endsWith('.ip6.arpa') ? 'ip6.arpa' : undefined;

  if (!inZone && !reverseZone) return { rcode: 'NOERROR', authoritative: false, answers: [], authorities: [], additionals: [], forward: true };
  if (cls !== 'IN' && cls !== 'ANY') {
    if (!inZone) return { rcode: 'NOERROR', authoritative: false, answers: [], authorities: [], additionals: [], forward: true };
    return { rcode: 'REFUSED', authoritative: false, answers: [], authorities: [], additionals: [] };
  }

  // Zone transfers are not offered (CoreDNS's kubernetes plugin refuses them unless configured).
  if (type === 'AXFR' || type === 'IXFR') return { rcode: 'REFUSED', authoritative: false, answers: [], authorities: [], additionals: [] };

  if (!inZone) {
    const labels = name.split('.');
    const ip = reverseLabelsToIP(labels.slice(0, labels.length - 2), reverseZone!);
    const names = ip ? ptrNames(ip, view, o) : [];
    // Unknown addresses and interior names belong to the upstream servers.
    if (names.length === 0) return { rcode: 'NOERROR', authoritative: false, answers: [], authorities: [], additionals: [], forward: true };
    const res = emptyResolution();
    if (type === 'PTR' || type === 'ANY') for (const n of names) res.answers.push({ name: asked, type: 'PTR', ttl: o.ttl, data: n });
    return res;
  }

  const res = emptyResolution();
  let owner = asked;
  let lower = name;
  for (let hop = 0; ; hop++) {
    const data = lookupZoneName(lower, view, o);
    if (!data) {
      res.rcode = 'NXDOMAIN';
      break;
    }
    if (data.cname !== undefined && type !== 'CNAME') {
      res.answers.push({ name: owner, type: 'CNAME', ttl: o.ttl, data: data.cname });
      if (type === 'ANY') break;
      const target = data.cname.toLowerCase();
      if (target === zone || target.endsWith('.' + zone)) {
        if (hop + 1 >= MAX_CNAME_CHAIN) break;
        owner = data.cname;
        lower = target;
        continue;
      }
      res.chase = { name: data.cname, type: q.type };
      break;
    }
    addRecords(res, owner, type, data, view, o);
    break;
  }
  if (res.answers.length === 0) res.authorities.push(soaRecord(view, o));
  return res;
}

function emptyResolution(): Resolution {
  return { rcode: 'NOERROR', authoritative: true, answers: [], authorities: [], additionals: [] };
}

/** The zone's SOA record (also the negative-answer authority). */
export function soaRecord(view: ClusterView, o: ResolverOptions): Answer {
  return {
    name: o.zone, type: 'SOA', ttl: o.ttl,
    data: {
      mname: `ns.dns.${o.zone}`, rname: `hostmaster.${o.zone}`, serial: view.lastModified >>> 0,
      refresh: 7200, retry: 1800, expire: 86400, minimum: o.ttl,
    },
  };
}

function addRecords(res: Resolution, owner: string, type: string, d: NameData, view: ClusterView, o: ResolverOptions): void {
  const ttl = o.ttl;
  const want = (t: string) => type === t || type === 'ANY';
  if (want('A')) for (const ip of d.a ?? []) res.answers.push({ name: owner, type: 'A', ttl, data: ip });
  if (want('AAAA')) for (const ip of d.aaaa ?? []) res.answers.push({ name: owner, type: 'AAAA', ttl, data: ip });
  if (want('CNAME') && d.cname !== undefined) res.answers.push({ name: owner, type: 'CNAME', ttl, data: d.cname });
  if (want('TXT')) for (const t of d.txt ?? []) res.answers.push({ name: owner, type: 'TXT', ttl, data: t });
  if (want('PTR')) for (const p of d.ptr ?? []) res.answers.push({ name: owner, type: 'PTR', ttl, data: p });
  if (want('SOA') && d.soa) res.answers.push({ ...soaRecord(view, o), name: owner });
  if (want('NS')) for (const n of d.ns ?? []) res.answers.push({ name: owner, type: 'NS', ttl, data: n });
  if (want('SRV')) for (const s of d.srv ?? []) res.answers.push({ name: owner, type: 'SRV', ttl, data: s });
  const glueFor = type === 'SRV' || type === 'NS' || type === 'ANY';
  if (glueFor && res.answers.length > 0) {
    for (const g of d.glue ?? []) {
      for (const ip of g.ips) res.additionals.push({ name: g.name, type: ipFamily(ip) === 6 ? 'AAAA' : 'A', ttl, data: ip });
    }
  }
}

/** The records at a lower-cased name inside the zone; undefined if the name does not exist. */
function lookupZoneName(name: string, view: ClusterView, o: ResolverOptions): NameData | undefined {
  const zone = o.zone;
  if (name === zone) {
    const nsName = `ns.dns.${zone}`;
    const ips = nameserverIPs(view, o);
    return { soa: true, ns: [nsName], glue: ips.length ? [{ name: nsName, ips }] : [] };
  }
  // Labels below the zone, nearest the zone first: "web-0.nginx.default.svc" → svc, default, nginx, web-0.
  const rel = name.slice(0, name.length - zone.length - 1);
  if (!rel) return undefined;
  const labels = rel.split('.').reverse();
  const top = labels[0];
  switch (top) {
    case 'dns-version':
      return labels.length === 1 ? { txt: [DNS_SCHEMA_VERSION] } : undefined;
    case 'dns':
      if (labels.length === 1) return EMPTY;
      if (labels.length === 2 && labels[1] === 'ns') return splitFamilies(nameserverIPs(view, o));
      return undefined;
    case 'svc':
      return lookupSvc(labels, view, o);
    case 'pod':
      return lookupPod(labels, view, o);
    default:
      return undefined;
  }
}

function nameserverIPs(view: ClusterView, o: ResolverOptions): string[] {
  return o.nameserverIPs ?? view.service('kube-system', 'kube-dns')?.clusterIPs ?? [];
}

function splitFamilies(ips: string[]): NameData {
  const d: NameData = {};
  for (const ip of ips) {
    if (ipFamily(ip) === 6) (d.aaaa ??= []).push(ip);
    else (d.a ??= []).push(ip);
  }
  return d;
}

function pushUnique(list: string[], seen: Set<string>, ip: string): void {
  const c = canonicalIP(ip) ?? ip;
  if (seen.has(c)) return;
  seen.add(c);
  list.push(ip);
}

/** The hostname of an endpoint for one of its addresses (see the file comment). */
function endpointName(ep: EndpointInfo, address: string, o: ResolverOptions): string {
  if (ep.hostname) return ep.hostname;
  if (o.endpointPodNames && ep.podName) return ep.podName;
  return dashedIP(address);
}

function isReady(ep: EndpointInfo, svc: ServiceInfo): boolean {
  return ep.ready || svc.publishNotReady;
}

function lookupSvc(labels: string[], view: ClusterView, o: ResolverOptions): NameData | undefined {
  if (labels.length === 1) return EMPTY; // svc.<zone>: parent of every namespace
  const ns = labels[1]!;
  if (labels.length === 2) return view.hasNamespace(ns) ? EMPTY : undefined;
  const svc = view.service(ns, labels[2]!);
  if (!svc) return undefined;
  const svcName = `${svc.name}.${svc.namespace}.svc.${o.zone}`;

  if (svc.kind === 'ExternalName') {
    if (labels.length > 3) return undefined;
    return svc.externalName ? { cname: svc.externalName } : undefined;
  }

  const headless = svc.kind === 'Headless';
  // Spec §2.4.1: a headless Service without ready endpoints does not exist.
  if (headless && !hasReadyEndpoint(svc, view)) return undefined;

  if (labels.length === 3) {
    const d: NameData = headless ? readyAddresses(svc, view) : splitFamilies(svc.clusterIPs);
    return d;
  }

  const l4 = labels[3]!;
  if (labels.length === 4) {
    if (l4.startsWith('_')) {
      // `_tcp.<svc>...`: an interior name while some named port uses that protocol.
      const proto = l4.slice(1);
      return namedPorts(svc, view).some((p) => p.protocol === proto) ? EMPTY : undefined;
    }
    const d: NameData = {};
    const seen = new Set<string>();
    for (const s of view.slicesOf(svc.namespace, svc.name)) {
      for (const ep of s.endpoints) {
        if (!isReady(ep, svc)) continue;
        for (const addr of ep.addresses) {
          if (endpointName(ep, addr, o) !== l4) continue;
          pushUnique(ipFamily(addr) === 6 ? (d.aaaa ??= []) : (d.a ??= []), seen, addr);
        }
      }
    }
    return seen.size ? d : undefined;
  }

  if (labels.length === 5 && l4.startsWith('_') && labels[4]!.startsWith('_')) {
    const proto = l4.slice(1);
    const portName = labels[4]!.slice(1);
    if (!portName) return undefined;
    if (!headless) {
      const ports = svc.ports.filter((p) => p.name === portName && p.protocol === proto);
      if (!ports.length) return undefined;
      return {
        srv: ports.map((p) => ({ priority: 0, weight: 100, port: p.port, target: svcName })),
        glue: svc.clusterIPs.length ? [{ name: svcName, ips: svc.clusterIPs }] : [],
      };
    }
    const srv: SrvAnswer['data'][] = [];
    const glue = new Map<string, { name: string; ips: string[]; seen: Set<string> }>();
    const seenSrv = new Set<string>();
    for (const s of view.slicesOf(svc.namespace, svc.name)) {
      const ports = s.ports.filter((p) => p.name === portName && p.protocol === proto);
      if (!ports.length) continue;
      for (const ep of s.endpoints) {
        if (!isReady(ep, svc)) continue;
        for (const addr of ep.addresses) {
          const target = `${endpointName(ep, addr, o)}.${svcName}`;
          let g = glue.get(target);
          if (!g) glue.set(target, (g = { name: target, ips: [], seen: new Set() }));
          pushUnique(g.ips, g.seen, addr);
          for (const p of ports) {
            const k = `${target}:${p.port}`;
            if (seenSrv.has(k)) continue;
            seenSrv.add(k);
            srv.push({ priority: 0, weight: 0, port: p.port, target });
          }
        }
      }
    }
    if (!srv.length) return undefined;
    // RFC 2782: equal shares of one priority; the spec leaves the numbers open.
    const weight = Math.max(1, Math.floor(100 / srv.length));
    for (const r of srv) r.weight = weight;
    return { srv, glue: [...glue.values()].map(({ name, ips }) => ({ name, ips })) };
  }
  return undefined;
}

function hasReadyEndpoint(svc: ServiceInfo, view: ClusterView): boolean {
  for (const s of view.slicesOf(svc.namespace, svc.name)) {
    for (const ep of s.endpoints) if (ep.addresses.length && isReady(ep, svc)) return true;
  }
  return false;
}

function readyAddresses(svc: ServiceInfo, view: ClusterView): NameData {
  const d: NameData = {};
  const seen = new Set<string>();
  for (const s of view.slicesOf(svc.namespace, svc.name)) {
    for (const ep of s.endpoints) {
      if (!isReady(ep, svc)) continue;
      for (const addr of ep.addresses) pushUnique(ipFamily(addr) === 6 ? (d.aaaa ??= []) : (d.a ??= []), seen, addr);
    }
  }
  return d;
}

function namedPorts(svc: ServiceInfo, view: ClusterView): Array<{ name: string; protocol: string }> {
  if (svc.kind !== 'Headless') return svc.ports.filter((p) => p.name);
  const out: Array<{ name: string; protocol: string }> = [];
  for (const s of view.slicesOf(svc.namespace, svc.name)) for (const p of s.ports) if (p.name) out.push(p);
  return out;
}

function lookupPod(labels: string[], view: ClusterView, o: ResolverOptions): NameData | undefined {
  if (o.pods === 'disabled') return undefined;
  if (labels.length === 1) return EMPTY;
  const ns = labels[1]!;
  if (labels.length === 2) return o.pods === 'insecure' || view.hasNamespace(ns) ? EMPTY : undefined;
  if (labels.length !== 3) return undefined;
  const ip = parseDashedIP(labels[2]!);
  if (!ip) return undefined;
  if (o.pods === 'verified' && !view.hasPodIP(ns, ip)) return undefined;
  return ipFamily(ip) === 6 ? { aaaa: [ip] } : { a: [ip] };
}

/** The names an address has in the cluster: ClusterIPs and ready endpoint addresses. */
function ptrNames(ip: string, view: ClusterView, o: ResolverOptions): string[] {
  const canon = canonicalIP(ip);
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (n: string) => { if (!seen.has(n)) { seen.add(n); out.push(n); } };
  for (const svc of view.servicesWithIP(ip)) {
    const svcName = `${svc.name}.${svc.namespace}.svc.${o.zone}`;
    if (svc.clusterIPs.some((c) => canonicalIP(c) === canon)) add(svcName);
    if (svc.kind === 'Headless' || svc.kind === 'ClusterIP') {
      for (const s of view.slicesOf(svc.namespace, svc.name)) {
        for (const ep of s.endpoints) {
          if (!isReady(ep, svc)) continue;
          for (const addr of ep.addresses) if (canonicalIP(addr) === canon) add(`${endpointName(ep, addr, o)}.${svcName}`);
        }
      }
    }
  }
  return out;
}
