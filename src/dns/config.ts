/**
 * The cluster DNS settings and where they come from: the constructor (command-line flags),
 * the node's resolv.conf (default upstreams, as CoreDNS's `forward . /etc/resolv.conf`), and
 * a ConfigMap (default kube-system/keelson-dns) that overrides them live, in the spirit of
 * CoreDNS reading its Corefile from the `coredns` ConfigMap and reloading it:
 *
 * ```yaml
 * data:
 *   zone: cluster.local                # the cluster domain
 *   upstreams: 1.1.1.1, 9.9.9.9:53       # or "/etc/resolv.conf" (the default)
 *   ttl: "5"                            # seconds, 0–3600
 *   pods: insecure                      # insecure | verified | disabled
 *   endpointPodNames: "false"           # name endpoints without hostname after their pod
 * ```
 *
 * A key that is absent keeps the value from the flags; a key with a bad value is ignored
 * (and reported) so that a typo never takes cluster DNS down.
 */
import { readFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { Informer, type RestClient, type ResourceDescriptor } from '../client/index.js';
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import { MAX_TTL, normalizeZone, type PodMode } from './records.js';
import { logger } from '../util/log.js';

const log = logger('dns-config');

export const CONFIGMAPS: ResourceDescriptor = { group: '', version: 'v1', plural: 'configmaps', namespaced: true };
export const DEFAULT_CONFIGMAP = { namespace: 'kube-system', name: 'keelson-dns' };
export const DEFAULT_RESOLV_CONF = '/etc/resolv.conf';

export interface Upstream {
  host: string;
  port: number;
}

/** What a ConfigMap may set; every field optional (absent = keep the flag's value). */
export interface DNSSettings {
  zone?: string;
  /** Upstream servers ("host", "host:port", "[v6]:port") or a resolv.conf path. */
  upstreams?: string[];
  ttl?: number;
  pods?: PodMode;
  endpointPodNames?: boolean;
}

/** Reads the settings in a ConfigMap's data; errors name the key and the bad value. */
export function parseSettings(data: Record<string, string> | undefined): { settings: DNSSettings; errors: string[] } {
  const settings: DNSSettings = {};
  const errors: string[] = [];
  if (!data) return { settings, errors };
  if (data.zone !== undefined) {
    const z = normalizeZone(data.zone);
    if (z && /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(z) && z.length <= 253) settings.zone = z;
    else errors.push(`zone: ${JSON.stringify(data.zone)} is not a domain name`);
  }
  if (data.upstreams !== undefined) {
    const items = data.upstreams.split(/[\s,]+/).filter(Boolean);
    const bad = items.filter((s) => !s.startsWith('/') && !parseUpstream(s));
    if (bad.length) errors.push(`upstreams: ${bad.map((b) => JSON.stringify(b)).join(', ')} not an address, address:port or file path`);
    else settings.upstreams = items;
  }
  if (data.ttl !== undefined) {
    const t = Number(data.ttl.trim());
    if (data.ttl.trim() !== '' && Number.isInteger(t) && t >= 0 && t <= MAX_TTL) settings.ttl = t;
    else errors.push(`ttl: ${JSON.stringify(data.ttl)} is not a whole number of seconds in 0-${MAX_TTL}`);
  }
  if (data.pods !== undefined) {
    const p = data.pods.trim().toLowerCase();
    if (p === 'insecure' || p === 'verified' || p === 'disabled') settings.pods = p;
    else errors.push(`pods: ${JSON.stringify(data.pods)} is not insecure, verified or disabled`);
  }
  if (data.endpointPodNames !== undefined) {
    const v = data.endpointPodNames.trim().toLowerCase();
    if (v === 'true' || v === 'false') settings.endpointPodNames = v === 'true';
    else errors.push(`endpointPodNames: ${JSON.stringify(data.endpointPodNames)} is not true or false`);
  }
  return { settings, errors };
}

/** "1.2.3.4", "1.2.3.4:5353", "::1", "[::1]:5353" → host and port (53 by default). */
export function parseUpstream(s: string): Upstream | undefined {
  const text = s.trim();
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracket) return isIPv6(bracket[1]!) ? withPort(bracket[1]!, bracket[2]) : undefined;
  if (isIPv6(text)) return { host: text, port: 53 };
  const m = /^([^:]+)(?::(\d+))?$/.exec(text);
  if (m && isIPv4(m[1]!)) return withPort(m[1]!, m[2]);
  return undefined;
}

function withPort(host: string, port: string | undefined): Upstream | undefined {
  const p = port === undefined ? 53 : Number(port);
  return p >= 1 && p <= 65535 ? { host, port: p } : undefined;
}

/** The `nameserver` lines of a resolv.conf (the kubelet and CoreDNS read it the same way). */
export function resolvConfNameservers(text: string): Upstream[] {
  const out: Upstream[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const m = /^nameserver\s+(\S+)/.exec(line);
    if (!m) continue;
    // A link-local IPv6 server may carry a zone (fe80::1%eth0): node's sockets accept that.
    const u = parseUpstream(m[1]!) ?? (isIPv6(m[1]!.split('%')[0]!) ? { host: m[1]!, port: 53 } : undefined);
    if (u) out.push(u);
  }
  return out;
}

/**
 * The upstream servers a list of settings names: addresses are taken as they are, a path is
 * read as a resolv.conf. Servers in `exclude` (this DNS server's own listen addresses) are
 * left out, so that a node whose resolv.conf points at cluster DNS does not loop.
 */
export function resolveUpstreams(items: string[], exclude: Upstream[] = []): Upstream[] {
  const out: Upstream[] = [];
  for (const item of items) {
    if (item.startsWith('/')) {
      let text = '';
      try { text = readFileSync(item, 'utf8'); } catch (err) {
        log.warn('cannot read resolv.conf', { path: item, err: (err as Error).message });
      }
      out.push(...resolvConfNameservers(text));
    } else {
      const u = parseUpstream(item);
      if (u) out.push(u);
    }
  }
  const seen = new Set<string>();
  return out.filter((u) => {
    const k = `${u.host}#${u.port}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return !exclude.some((e) => e.port === u.port && (e.host === u.host || ((e.host === '0.0.0.0' || e.host === '::') && isLoopbackOrAny(u.host))));
  });
}

function isLoopbackOrAny(host: string): boolean {
  return host.startsWith('127.') || host === '::1' || host === '0.0.0.0' || host === '::';
}

/**
 * Watches one ConfigMap and reports its settings whenever they change (and once after the
 * first list, with {} when it does not exist). Only that object is listed and watched
 * (fieldSelector metadata.name), so the cost does not grow with the cluster.
 */
export class DNSConfigWatcher {
  private informer: Informer<ConfigMap>;
  private last = '';
  private listeners: Array<(s: DNSSettings) => void> = [];

  constructor(client: RestClient, readonly ref: { namespace: string; name: string } = DEFAULT_CONFIGMAP) {
    this.informer = new Informer<ConfigMap>(client, CONFIGMAPS, { namespace: ref.namespace, fieldSelector: `metadata.name=${ref.name}` });
    const update = () => this.emit();
    this.informer.on('add', update).on('update', (_o, _n) => update()).on('delete', update);
  }

  onChange(fn: (s: DNSSettings) => void): void {
    this.listeners.push(fn);
  }

  /** The settings the ConfigMap holds now ({} when absent). */
  current(): DNSSettings {
    const cm = this.informer.get(this.ref.namespace, this.ref.name);
    const { settings, errors } = parseSettings(cm?.data);
    if (errors.length) log.warn('ignoring bad settings in the DNS ConfigMap', { configMap: `${this.ref.namespace}/${this.ref.name}`, errors });
    return settings;
  }

  start(signal: AbortSignal): void {
    this.informer.start(signal);
    void this.informer.waitForSync(signal).then((ok) => { if (ok) this.emit(); });
  }

  waitForSync(signal?: AbortSignal): Promise<boolean> {
    return this.informer.waitForSync(signal);
  }

  private emit(): void {
    if (!this.informer.hasSynced()) return;
    const cm = this.informer.get(this.ref.namespace, this.ref.name);
    const key = JSON.stringify(cm?.data ?? null);
    if (key === this.last) return;
    this.last = key;
    const s = this.current();
    for (const l of this.listeners) {
      try { l(s); } catch (err) { log.error('DNS settings listener failed', { err }); }
    }
  }
}
