/**
 * ClusterView: the in-memory picture of the cluster that the DNS resolver answers from —
 * Services, their EndpointSlices (grouped by the `kubernetes.io/service-name` label, as
 * CoreDNS's kubernetes plugin groups them) and, optionally, pod IPs per namespace (only for
 * `pods verified`).
 *
 * Informer handlers (or a test, or a benchmark) feed it whole objects with upsert/delete; it
 * keeps only what DNS needs, already lower-cased (queries are case-insensitive, spec §2.1),
 * plus two indexes: services per namespace (a namespace "exists" for `<ns>.svc.<zone>` while
 * it has a Service) and IP → services that own the address (ClusterIP or endpoint), for PTR.
 *
 * Every change bumps `generation` and calls the change listeners, so a response cache keyed
 * on the generation can never serve a stale answer.
 */
import type { Service, Pod } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { canonicalIP, ipFamily } from './ip.js';

/** The label that ties an EndpointSlice to its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export interface PortInfo {
  /** Lower-cased port name ('' when unnamed: no SRV record, spec §2.3.2). */
  name: string;
  port: number;
  /** Lower-cased protocol: tcp, udp, sctp. */
  protocol: string;
}

export interface ServiceInfo {
  namespace: string;
  name: string;
  kind: 'ClusterIP' | 'Headless' | 'ExternalName';
  /** ClusterIPs (both families for dual-stack); empty for headless and ExternalName. */
  clusterIPs: string[];
  /** ExternalName target without a trailing dot. */
  externalName?: string;
  ports: PortInfo[];
  /** spec.publishNotReadyAddresses: every endpoint counts as ready. */
  publishNotReady: boolean;
}

export interface EndpointInfo {
  addresses: string[];
  ready: boolean;
  /** Lower-cased endpoint hostname (StatefulSet pods under their governing Service). */
  hostname?: string;
  /** Lower-cased name of the pod the endpoint targets (targetRef kind Pod). */
  podName?: string;
}

export interface SliceInfo {
  /** The ports as the slice states them: for headless SRV the pod's own port numbers. */
  ports: PortInfo[];
  endpoints: EndpointInfo[];
}

export class ClusterView {
  private services = new Map<string, ServiceInfo>();
  /** service key → slice name → slice */
  private slices = new Map<string, Map<string, SliceInfo>>();
  /** slice key (ns/name) → the service key it was filed under (labels can change). */
  private sliceOwner = new Map<string, string>();
  private nsServices = new Map<string, number>();
  /** canonical IP → service keys owning it */
  private ipIndex = new Map<string, Set<string>>();
  /** service key → canonical IPs it put in ipIndex */
  private ipsOf = new Map<string, Set<string>>();
  /** namespace → canonical pod IP → number of pods with it */
  private podIPs = new Map<string, Map<string, number>>();
  private podIPsOf = new Map<string, { ns: string; ips: string[] }>();
  private listeners: Array<() => void> = [];
  private gen = 0;
  private modified = Math.floor(Date.now() / 1000);

  /** Increases on every change. */
  get generation(): number { return this.gen; }
  /** Unix seconds of the last change (the SOA serial). */
  get lastModified(): number { return this.modified; }
  get serviceCount(): number { return this.services.size; }

  onChange(fn: () => void): () => void {
    this.listeners.push(fn);
    return () => { this.listeners = this.listeners.filter((l) => l !== fn); };
  }

  // ---- reads (the resolver's interface) -------------------------------------------------------

  service(namespace: string, name: string): ServiceInfo | undefined {
    return this.services.get(`${namespace}/${name}`);
  }

  /** The slices of a Service (possibly none, or present before the Service itself). */
  slicesOf(namespace: string, name: string): Iterable<SliceInfo> {
    return this.slices.get(`${namespace}/${name}`)?.values() ?? [];
  }

  /** A namespace is visible under svc.<zone> while it holds at least one Service. */
  hasNamespace(namespace: string): boolean {
    return (this.nsServices.get(namespace) ?? 0) > 0 || this.podIPs.has(namespace);
  }

  /** Services owning an address as ClusterIP or endpoint address. */
  servicesWithIP(ip: string): ServiceInfo[] {
    const canon = canonicalIP(ip);
    const keys = canon ? this.ipIndex.get(canon) : undefined;
    if (!keys) return [];
    const out: ServiceInfo[] = [];
    for (const k of keys) {
      const s = this.services.get(k);
      if (s) out.push(s);
    }
    return out;
  }

  /** Whether a pod with this IP exists in the namespace (for `pods verified`). */
  hasPodIP(namespace: string, ip: string): boolean {
    const canon = canonicalIP(ip);
    return !!canon && (this.podIPs.get(namespace)?.has(canon) ?? false);
  }

  // ---- writes (informer handlers) -------------------------------------------------------------

  upsertService(svc: Service): void {
    const ns = svc.metadata?.namespace?.toLowerCase();
    const name = svc.metadata?.name?.toLowerCase();
    if (!ns || !name) return;
    const key = `${ns}/${name}`;
    const spec = svc.spec ?? {};
    let kind: ServiceInfo['kind'] = 'ClusterIP';
    let clusterIPs: string[] = [];
    if (spec.type === 'ExternalName') kind = 'ExternalName';
    else if (!spec.clusterIP || spec.clusterIP === 'None') kind = 'Headless';
    else clusterIPs = (spec.clusterIPs?.length ? spec.clusterIPs : [spec.clusterIP]).filter((ip) => ipFamily(ip) !== undefined);
    const info: ServiceInfo = {
      namespace: ns, name, kind, clusterIPs,
      ports: (spec.ports ?? []).map((p) => ({ name: (p.name ?? '').toLowerCase(), port: p.port, protocol: (p.protocol ?? 'TCP').toLowerCase() })),
      publishNotReady: spec.publishNotReadyAddresses === true,
    };
    if (kind === 'ExternalName') info.externalName = (spec.externalName ?? '').replace(/\.$/, '');
    const old = this.services.get(key);
    // Most updates (status, annotations) change nothing DNS shows: keep caches warm.
    if (old && JSON.stringify(old) === JSON.stringify(info)) return;
    if (!old) this.nsServices.set(ns, (this.nsServices.get(ns) ?? 0) + 1);
    this.services.set(key, info);
    this.reindexIPs(key);
    this.changed();
  }

  deleteService(svc: Service): void {
    const ns = svc.metadata?.namespace?.toLowerCase();
    const name = svc.metadata?.name?.toLowerCase();
    if (!ns || !name) return;
    const key = `${ns}/${name}`;
    if (!this.services.delete(key)) return;
    const n = (this.nsServices.get(ns) ?? 1) - 1;
    if (n > 0) this.nsServices.set(ns, n);
    else this.nsServices.delete(ns);
    this.reindexIPs(key);
    this.changed();
  }

  upsertEndpointSlice(slice: EndpointSlice): void {
    const ns = slice.metadata?.namespace?.toLowerCase();
    const sliceName = slice.metadata?.name;
    if (!ns || !sliceName) return;
    const sliceKey = `${ns}/${sliceName}`;
    const svcName = slice.metadata?.labels?.[SERVICE_NAME_LABEL]?.toLowerCase();
    const prevOwner = this.sliceOwner.get(sliceKey);
    if (prevOwner && prevOwner !== `${ns}/${svcName}`) this.removeSlice(sliceKey);
    // FQDN slices (addressType FQDN) carry names, not addresses: nothing for DNS.
    if (!svcName || (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6')) {
      if (prevOwner) this.changed();
      return;
    }
    const svcKey = `${ns}/${svcName}`;
    const info: SliceInfo = {
      ports: (slice.ports ?? []).map((p) => ({ name: (p.name ?? '').toLowerCase(), port: p.port ?? 0, protocol: (p.protocol ?? 'TCP').toLowerCase() })),
      endpoints: (slice.endpoints ?? []).map((e) => {
        const ep: EndpointInfo = {
          addresses: (e.addresses ?? []).filter((a) => ipFamily(a) !== undefined),
          // An unset condition means ready (discovery/v1 EndpointConditions).
          ready: e.conditions?.ready !== false,
        };
        if (e.hostname) ep.hostname = e.hostname.toLowerCase();
        if (e.targetRef?.kind === 'Pod' && e.targetRef.name) ep.podName = e.targetRef.name.toLowerCase();
        return ep;
      }),
    };
    let group = this.slices.get(svcKey);
    const old = group?.get(sliceName);
    if (old && JSON.stringify(old) === JSON.stringify(info)) return;
    if (!group) this.slices.set(svcKey, (group = new Map()));
    group.set(sliceName, info);
    this.sliceOwner.set(sliceKey, svcKey);
    this.reindexIPs(svcKey);
    this.changed();
  }

  deleteEndpointSlice(slice: EndpointSlice): void {
    const ns = slice.metadata?.namespace?.toLowerCase();
    const sliceName = slice.metadata?.name;
    if (!ns || !sliceName) return;
    if (this.removeSlice(`${ns}/${sliceName}`)) this.changed();
  }

  upsertPod(pod: Pod): void {
    const ns = pod.metadata?.namespace?.toLowerCase();
    const name = pod.metadata?.name;
    if (!ns || !name) return;
    const key = `${ns}/${name}`;
    const ips = (pod.status?.podIPs?.map((p) => p.ip) ?? (pod.status?.podIP ? [pod.status.podIP] : []))
      .map((ip) => (ip ? canonicalIP(ip) : undefined)).filter((ip): ip is string => !!ip);
    const prev = this.podIPsOf.get(key);
    if (prev && prev.ips.join() === ips.join()) return;
    this.removePod(key);
    if (ips.length) {
      let m = this.podIPs.get(ns);
      if (!m) this.podIPs.set(ns, (m = new Map()));
      for (const ip of ips) m.set(ip, (m.get(ip) ?? 0) + 1);
      this.podIPsOf.set(key, { ns, ips });
    }
    this.changed();
  }

  deletePod(pod: Pod): void {
    const ns = pod.metadata?.namespace?.toLowerCase();
    const name = pod.metadata?.name;
    if (!ns || !name) return;
    if (this.removePod(`${ns}/${name}`)) this.changed();
  }

  // ---- internals ------------------------------------------------------------------------------

  private changed(): void {
    this.gen++;
    this.modified = Math.floor(Date.now() / 1000);
    for (const l of this.listeners) l();
  }

  private removeSlice(sliceKey: string): boolean {
    const svcKey = this.sliceOwner.get(sliceKey);
    if (!svcKey) return false;
    this.sliceOwner.delete(sliceKey);
    const group = this.slices.get(svcKey);
    group?.delete(sliceKey.slice(sliceKey.indexOf('/') + 1));
    if (group && group.size === 0) this.slices.delete(svcKey);
    this.reindexIPs(svcKey);
    return true;
  }

  private removePod(key: string): boolean {
    const prev = this.podIPsOf.get(key);
    if (!prev) return false;
    this.podIPsOf.delete(key);
    const m = this.podIPs.get(prev.ns);
    if (m) {
      for (const ip of prev.ips) {
        const n = (m.get(ip) ?? 1) - 1;
        if (n > 0) m.set(ip, n);
        else m.delete(ip);
      }
      if (m.size === 0) this.podIPs.delete(prev.ns);
    }
    return true;
  }

  /** Recomputes which addresses point at one Service (its ClusterIPs and endpoint addresses). */
  private reindexIPs(svcKey: string): void {
    const next = new Set<string>();
    const svc = this.services.get(svcKey);
    if (svc) {
      for (const ip of svc.clusterIPs) next.add(canonicalIP(ip)!);
      for (const s of this.slices.get(svcKey)?.values() ?? []) {
        for (const e of s.endpoints) for (const a of e.addresses) next.add(canonicalIP(a)!);
      }
    }
    const prev = this.ipsOf.get(svcKey);
    if (prev) {
      for (const ip of prev) {
        if (next.has(ip)) continue;
        const set = this.ipIndex.get(ip);
        set?.delete(svcKey);
        if (set && set.size === 0) this.ipIndex.delete(ip);
      }
    }
    for (const ip of next) {
      if (prev?.has(ip)) continue;
      let set = this.ipIndex.get(ip);
      if (!set) this.ipIndex.set(ip, (set = new Set()));
      set.add(svcKey);
    }
    if (next.size) this.ipsOf.set(svcKey, next);
    else this.ipsOf.delete(svcKey);
  }

  /** A view filled from plain lists: the seam for tests and the benchmark (no API server). */
  static from(objs: { services?: Service[]; endpointSlices?: EndpointSlice[]; pods?: Pod[] }): ClusterView {
    const v = new ClusterView();
    for (const s of objs.services ?? []) v.upsertService(s);
    for (const s of objs.endpointSlices ?? []) v.upsertEndpointSlice(s);
    for (const p of objs.pods ?? []) v.upsertPod(p);
    return v;
  }
}
