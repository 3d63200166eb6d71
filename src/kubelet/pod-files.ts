/**
 * The files the kubelet makes for every pod: the managed /etc/hosts (managedHostsFileContent in
 * pkg/kubelet/kubelet_pods.go) and the pod's DNS configuration (pkg/kubelet/network/dns), which
 * the runtime writes as /etc/resolv.conf. Pure functions of the pod and the node's settings.
 *
 * Written from the documented behaviour of the kubelet and containerd; no code copied.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';

export const MANAGED_HOSTS_HEADER = '# Kubernetes-managed hosts file.\n';
export const MANAGED_HOSTS_HEADER_HOST_NETWORK = '# Kubernetes-managed hosts file (host network).\n';

/** Resolver limits the kubelet enforces (validation.MaxDNSNameservers / MaxDNSSearchPaths / MaxDNSSearchListChars). */
const MAX_NAMESERVERS = 3;
const MAX_SEARCH_PATHS = 32;
const MAX_SEARCH_LIST_CHARS = 2048;
const HOSTNAME_MAX_LEN = 63;

export interface HostsFileOptions {
  /** For `<hostname>.<subdomain>.<ns>.svc.<clusterDomain>`; default `cluster.local`. */
  clusterDomain?: string;
  /** The node's /etc/hosts content, used for hostNetwork pods (the kubelet copies the node's file). */
  nodeHostsFile?: string;
}

/**
 * The pod's hostname and domain (GeneratePodHostNameAndDomain): spec.hostnameOverride, else
 * spec.hostname, else the pod name, cut to 63 characters without a trailing `-` or `.`; the
 * domain is `<subdomain>.<ns>.svc.<clusterDomain>` when spec.subdomain is set.
 */
export function podHostnameAndDomain(pod: Pod, clusterDomain = 'cluster.local'): { hostname: string; domain: string } {
  const override = (pod.spec as { hostnameOverride?: string } | undefined)?.hostnameOverride;
  if (override) return { hostname: truncateHostname(override), domain: '' };
  const hostname = truncateHostname(pod.spec?.hostname || pod.metadata?.name || '');
  const sub = pod.spec?.subdomain;
  const domain = sub ? `${sub}.${pod.metadata?.namespace ?? 'default'}.svc.${clusterDomain}` : '';
  return { hostname, domain };
}

function truncateHostname(h: string): string {
  if (h.length <= HOSTNAME_MAX_LEN) return h;
  return h.slice(0, HOSTNAME_MAX_LEN).replace(/[-.]+$/, '');
}

/**
 * The pod's /etc/hosts. Pod network: header, the IPv4 and IPv6 localhost lines, one line per
 * pod IP with the hostname (FQDN first when a subdomain is set), then the hostAliases section.
 * Host network: header, the node's file as is, then the hostAliases section.
 */
export function makeHostsFile(pod: Pod, podIPs: string[], opts: HostsFileOptions = {}): string {
  const aliases = hostAliasesSection(pod);
  if (pod.spec?.hostNetwork) return MANAGED_HOSTS_HEADER_HOST_NETWORK + (opts.nodeHostsFile ?? '') + aliases;
  const { hostname, domain } = podHostnameAndDomain(pod, opts.clusterDomain);
  let out = MANAGED_HOSTS_HEADER;
  out += '127.0.0.1\tlocalhost\n';
  out += '::1\tlocalhost ip6-localhost ip6-loopback\n';
  out += 'fe00::0\tip6-localnet\n';
  out += 'fe00::0\tip6-mcastprefix\n';
  out += 'fe00::1\tip6-allnodes\n';
  out += 'fe00::2\tip6-allrouters\n';
  for (const ip of podIPs) out += domain ? `${ip}\t${hostname}.${domain}\t${hostname}\n` : `${ip}\t${hostname}\n`;
  return out + aliases;
}

function hostAliasesSection(pod: Pod): string {
  const aliases = pod.spec?.hostAliases ?? [];
  if (!aliases.length) return '';
  let out = '\n# Entries added by HostAliases.\n';
  for (const a of aliases) out += `${a.ip}\t${(a.hostnames ?? []).join('\t')}\n`;
  return out;
}

// ---------------------------------------------------------------------------------------------
// DNS

export interface ResolvConfOptions {
  /** The cluster DNS service IPs (kubelet --cluster-dns). */
  clusterDNS: string[];
  /** kubelet --cluster-domain, e.g. `cluster.local`. */
  clusterDomain: string;
  /** The content of the node's resolv.conf (kubelet --resolv-conf). */
  hostResolvConf: string;
}

/** What the kubelet hands the runtime (runtime.v1 DNSConfig). */
export interface PodDNSConfig {
  servers: string[];
  searches: string[];
  options: string[];
}

/** The policy actually applied (getPodDNSType plus the no-cluster-DNS fallback). */
export function effectiveDNSPolicy(pod: Pod, clusterDNS: string[]): 'ClusterFirst' | 'Default' | 'None' {
  const policy = pod.spec?.dnsPolicy || 'ClusterFirst';
  let type: 'ClusterFirst' | 'Default' | 'None';
  switch (policy) {
    case 'None': type = 'None'; break;
    case 'ClusterFirstWithHostNet': type = 'ClusterFirst'; break;
    case 'Default': type = 'Default'; break;
    default:
      // ClusterFirst: host-network pods use the node's resolver.
      type = pod.spec?.hostNetwork ? 'Default' : 'ClusterFirst';
  }
  // Without a cluster DNS address the kubelet falls back to the node's resolver.
  if (type === 'ClusterFirst' && clusterDNS.length === 0) type = 'Default';
  return type;
}

/**
 * The pod's DNS configuration (GetPodDNS): ClusterFirst → only the cluster DNS servers, the
 * cluster searches then the node's, `ndots:5`; Default → the node's resolv.conf; None → empty.
 * Then spec.dnsConfig is merged in (nameservers and searches appended without duplicates,
 * options replaced by name) and the resolver limits are applied.
 */
export function podDNSConfig(pod: Pod, opts: ResolvConfOptions): PodDNSConfig {
  const type = effectiveDNSPolicy(pod, opts.clusterDNS);
  const host = parseResolvConf(opts.hostResolvConf);
  let cfg: PodDNSConfig;
  if (type === 'None') {
    cfg = { servers: [], searches: [], options: [] };
  } else if (type === 'ClusterFirst') {
    const ns = pod.metadata?.namespace ?? 'default';
    const d = opts.clusterDomain;
    const searches = d ? omitDuplicates([`${ns}.svc.${d}`, `svc.${d}`, d, ...host.searches]) : host.searches;
    cfg = { servers: [...opts.clusterDNS], searches, options: ['ndots:5'] };
  } else {
    cfg = host;
  }
  const extra = pod.spec?.dnsConfig;
  if (extra) {
    cfg = {
      servers: omitDuplicates([...cfg.servers, ...(extra.nameservers ?? [])]),
      searches: omitDuplicates([...cfg.searches, ...(extra.searches ?? [])]),
      options: mergeOptions(cfg.options, (extra.options ?? []).map((o) => (o.value ? `${o.name}:${o.value}` : o.name ?? ''))),
    };
  }
  return fitLimits(cfg);
}

/** The resolv.conf the runtime writes from a DNS config (containerd's layout: search, nameserver, options). */
export function formatResolvConf(cfg: PodDNSConfig): string {
  let out = '';
  if (cfg.searches.length) out += `search ${cfg.searches.join(' ')}\n`;
  for (const s of cfg.servers) out += `nameserver ${s}\n`;
  if (cfg.options.length) out += `options ${cfg.options.join(' ')}\n`;
  return out;
}

/** The pod's /etc/resolv.conf. */
export function makeResolvConf(pod: Pod, opts: ResolvConfOptions): string {
  return formatResolvConf(podDNSConfig(pod, opts));
}

/**
 * Parses a resolv.conf as the kubelet does: every `nameserver`, the last `search` line (trailing
 * dots dropped, `.` ignored), `options` merged by name; comments and other lines ignored.
 */
export function parseResolvConf(text: string): PodDNSConfig {
  const servers: string[] = [];
  let searches: string[] = [];
  let options: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const fields = line.split(/\s+/);
    if (fields[0] === 'nameserver' && fields.length > 1) servers.push(fields[1]);
    else if (fields[0] === 'search') searches = fields.slice(1).filter((s) => s !== '.').map((s) => s.replace(/\.$/, ''));
    else if (fields[0] === 'options') options = mergeOptions(options, fields.slice(1));
  }
  return { servers, searches, options };
}

/** Options keyed by name (the part before `:`); a later one replaces an earlier one in place. */
function mergeOptions(existing: string[], added: string[]): string[] {
  const m = new Map<string, string>();
  for (const o of [...existing, ...added]) {
    if (!o) continue;
    m.set(o.split(':')[0], o);
  }
  return [...m.values()];
}

function omitDuplicates(list: string[]): string[] {
  return [...new Set(list)];
}

function fitLimits(cfg: PodDNSConfig): PodDNSConfig {
  const servers = cfg.servers.slice(0, MAX_NAMESERVERS);
  let searches = cfg.searches.slice(0, MAX_SEARCH_PATHS);
  if (searches.join(' ').length > MAX_SEARCH_LIST_CHARS) {
    let len = 0;
    let keep = 0;
    for (const s of searches) {
      const next = len + (keep ? 1 : 0) + s.length;
      if (next > MAX_SEARCH_LIST_CHARS) break;
      len = next;
      keep++;
    }
    searches = searches.slice(0, keep);
  }
  return { servers, searches, options: cfg.options };
}
