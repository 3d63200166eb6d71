/**
 * ServiceProxy: keelson's kube-proxy in iptables mode. It watches Services and
 * discovery.k8s.io/v1 EndpointSlices with informers and keeps this node's iptables rules equal
 * to renderRules(services, slices) (rules.ts), applied by Iptables (iptables.ts).
 *
 * Syncs as kube-proxy's BoundedFrequencyRunner schedules them:
 * - every change asks for a sync; changes arriving while one is pending or running are
 *   coalesced into the next one, and syncs start at most once per minSyncIntervalMs
 *   (default 1 s, kube-proxy's --iptables-min-sync-period);
 * - syncs are partial: the full rendering is diffed chain by chain against what was last
 *   applied, only changed chains go into the restore, and nothing runs when nothing changed;
 * - every syncPeriodMs (default 60 s) a verifying sync also reads iptables-save and rewrites
 *   whatever differs from what we wrote (missing/extra chains, rule counts, jump rules),
 *   repairing changes made behind our back;
 * - at start, after a failure, and every fullSyncPeriodMs (default 1 h) a full sync rewrites
 *   every chain and deletes stale ones (kube-proxy: full at start, on errors and periodically;
 *   here the period is long because a full rewrite of a large rule set costs seconds of
 *   nf_tables commit, see bench/proxy-bench.ts);
 * - a failed sync makes the next one full; retries back off from the minimum interval
 *   (at least 0.5 s) doubling to 30 s.
 * After each applied sync, UDP flows to removed endpoints are deleted from conntrack.
 *
 * Lifecycle: start(signal) waits for both informers' first list and makes the first (full)
 * sync; when `signal` aborts, syncing stops and the rules stay in place (traffic keeps
 * flowing across a restart, as with kube-proxy). stop() stops and removes every rule and chain
 * of the prefix (as `kube-proxy --cleanup`), unless asked to keep them.
 */
import { existsSync } from 'node:fs';
import { writeFile, readFile } from 'node:fs/promises';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { Informer, type ResourceDescriptor, type RestClient } from '../client/index.js';
import {
  DEFAULT_CHAIN_PREFIX, LABEL_SERVICE_NAME, LABEL_SERVICE_PROXY_NAME, renderRules,
  type RenderedRules, type ServicePortInfo,
} from './rules.js';
import { Iptables, conntrackCleanup, type ApplyMode } from './iptables.js';
import { logger } from '../util/log.js';

const log = logger('proxy');

export const SERVICES: ResourceDescriptor = { group: '', version: 'v1', plural: 'services', namespaced: true };
export const ENDPOINTSLICES: ResourceDescriptor = { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', namespaced: true };

export interface ServiceProxyOptions {
  client: RestClient;
  nodeName: string;
  nodeIPs: string[];
  /** The pod network (e.g. 10.244.0.0/16): clients outside it are masqueraded. */
  clusterCIDR: string;
  /** Chain prefix (default KEELSON); tests use their own so that proxies never meet. */
  chainPrefix?: string;
  /** At most one sync per this many ms (default 1000). */
  minSyncIntervalMs?: number;
  /** Period of the verifying resync (default 60000). */
  syncPeriodMs?: number;
  /** Period of the full rewrite (default 3600000). */
  fullSyncPeriodMs?: number;
  iptablesRestore?: string;
  iptables?: string;
  iptablesSave?: string;
  conntrack?: string;
  masqueradeAll?: boolean;
  masqueradeBit?: number;
  /** CIDRs NodePorts answer on (default: every local address, 127.0.0.1 included). */
  nodePortAddresses?: string[];
  /**
   * Handle only services labelled service.kubernetes.io/service-proxy-name=<this>; default:
   * only services without that label (kube-proxy's behaviour). Tests use it to program only
   * their own services on a shared machine.
   */
  serviceProxyName?: string;
  /**
   * Set net.ipv4.conf.all.route_localnet=1 (NodePorts on 127.0.0.1) and
   * net.bridge.bridge-nf-call-iptables=1 (bridged pod traffic sees the rules); default true.
   */
  setSysctls?: boolean;
}

export interface SyncStats {
  mode: ApplyMode;
  full: boolean;
  /** Chains rewritten or deleted because the kernel had drifted from what we wrote. */
  drifted: number;
  /** Whether iptables-restore ran (false: nothing changed). */
  wrote: boolean;
  durationMs: number;
  renderMs: number;
  applyMs: number;
  services: number;
  servicePorts: number;
  endpoints: number;
  rules: number;
  chains: number;
  chainsWritten: number;
  chainsRemoved: number;
  rulesWritten: number;
  conntrackDeletes: number;
}

export interface ProxyCounters {
  syncs: number;
  fullSyncs: number;
  verifySyncs: number;
  /** Syncs that found nothing to change. */
  noopSyncs: number;
  failedSyncs: number;
  lastSyncDurationMs: number;
  lastSync?: SyncStats;
  lastError?: string;
  /** Rules and chains currently programmed. */
  rules: number;
  chains: number;
}

export class ServiceProxy {
  private readonly prefix: string;
  private readonly minInterval: number;
  private readonly syncPeriod: number;
  private readonly fullSyncPeriod: number;
  private lastFull = 0;
  private needVerify = false;
  private readonly iptables: Iptables;
  private services?: Informer<Service & { metadata: NonNullable<Service['metadata']> }>;
  private slices?: Informer<EndpointSlice>;
  private ac?: AbortController;
  private timer?: NodeJS.Timeout;
  private periodic?: NodeJS.Timeout;
  private inFlight?: Promise<SyncStats>;
  private dirty = false;
  private needFull = true;
  private lastStart = 0;
  /** Consecutive failed syncs: retries back off from minSyncIntervalMs doubling to 30 s. */
  private failures = 0;
  private active = false;
  private lastPorts: ServicePortInfo[] = [];
  private last?: RenderedRules;
  private readonly c: ProxyCounters = { syncs: 0, fullSyncs: 0, verifySyncs: 0, noopSyncs: 0, failedSyncs: 0, lastSyncDurationMs: 0, rules: 0, chains: 0 };

  constructor(private readonly opts: ServiceProxyOptions) {
    this.prefix = opts.chainPrefix ?? DEFAULT_CHAIN_PREFIX;
    this.minInterval = opts.minSyncIntervalMs ?? 1000;
    this.syncPeriod = opts.syncPeriodMs ?? 60_000;
    this.fullSyncPeriod = opts.fullSyncPeriodMs ?? 3_600_000;
    this.iptables = new Iptables({
      chainPrefix: this.prefix, iptablesRestore: opts.iptablesRestore, iptables: opts.iptables,
      iptablesSave: opts.iptablesSave, conntrack: opts.conntrack,
    });
  }

  /** Counters (a copy). */
  get counters(): ProxyCounters {
    return { ...this.c };
  }

  /** The rules of the last applied sync (for debugging and tests). */
  get rendered(): RenderedRules | undefined {
    return this.last;
  }

  /** Starts the informers, waits for their first list, and makes the first full sync. */
  async start(signal: AbortSignal): Promise<void> {
    if (this.ac) throw new Error('service proxy already started');
    const ac = (this.ac = new AbortController());
    const onAbort = () => this.halt();
    if (signal.aborted) ac.abort();
    else signal.addEventListener('abort', onAbort, { once: true });
    ac.signal.addEventListener('abort', () => signal.removeEventListener('abort', onAbort), { once: true });

    if (this.opts.setSysctls ?? true) await setProxySysctls();

    const changed = () => this.requestSync();
    this.services = new Informer(this.opts.client, SERVICES, {
      labelSelector: this.opts.serviceProxyName ? `${LABEL_SERVICE_PROXY_NAME}=${this.opts.serviceProxyName}` : `!${LABEL_SERVICE_PROXY_NAME}`,
    });
    this.slices = new Informer(this.opts.client, ENDPOINTSLICES, { labelSelector: LABEL_SERVICE_NAME });
    for (const inf of [this.services, this.slices] as Informer<any>[]) {
      inf.on('add', changed).on('update', (a: any, b: any) => { if (a !== b) changed(); }).on('delete', changed);
      inf.start(ac.signal);
    }
    const synced = (await this.services.waitForSync(ac.signal)) && (await this.slices.waitForSync(ac.signal));
    if (!synced) throw new Error('service proxy stopped before its informers synced');

    this.active = true;
    this.periodic = setInterval(() => { this.needVerify = true; this.requestSync(); }, this.syncPeriod);
    this.periodic.unref();
    try {
      await this.syncNow();
    } catch (err) {
      this.halt();
      throw err;
    }
    log.info('service proxy started', { node: this.opts.nodeName, prefix: this.prefix, rules: this.c.rules });
  }

  /**
   * Syncs now (waiting for a running sync first), bypassing the rate limit. `mode` asks for a
   * verifying or full sync instead of a partial one.
   */
  async syncNow(opts: { mode?: ApplyMode } = {}): Promise<SyncStats> {
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    if (opts.mode === 'full') this.needFull = true;
    if (opts.mode === 'verify') this.needVerify = true;
    this.dirty = true;
    return this.runSync();
  }

  /**
   * Stops syncing, waits for the informers and a running sync, then removes every rule and
   * chain of the prefix (unless keepRules).
   */
  async stop(opts: { keepRules?: boolean } = {}): Promise<void> {
    this.halt();
    await Promise.all([this.services?.stopped(), this.slices?.stopped(), this.inFlight?.catch(() => {})]);
    if (!opts.keepRules) {
      await this.iptables.cleanup();
      this.c.rules = 0;
      this.c.chains = 0;
      log.info('service proxy rules removed', { prefix: this.prefix });
    }
  }

  private halt(): void {
    this.active = false;
    this.ac?.abort();
    if (this.timer) clearTimeout(this.timer);
    if (this.periodic) clearInterval(this.periodic);
    this.timer = this.periodic = undefined;
  }

  private requestSync(): void {
    this.dirty = true;
    this.schedule();
  }

  private schedule(): void {
    if (!this.active || this.timer || this.inFlight || !this.dirty) return;
    const interval = this.failures ? Math.min(30_000, Math.max(this.minInterval, 500) * 2 ** Math.min(this.failures - 1, 10)) : this.minInterval;
    const wait = Math.max(0, this.lastStart + interval - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.runSync().catch(() => {}); // logged and counted in doSync
    }, wait);
  }

  private async runSync(): Promise<SyncStats> {
    while (this.inFlight) await this.inFlight.catch(() => {});
    const p = (this.inFlight = this.doSync());
    try {
      return await p;
    } finally {
      this.inFlight = undefined;
      this.schedule();
    }
  }

  private async doSync(): Promise<SyncStats> {
    this.dirty = false;
    this.lastStart = Date.now();
    const wantFull = this.needFull || Date.now() - this.lastFull >= this.fullSyncPeriod;
    const requested: ApplyMode = wantFull ? 'full' : this.needVerify ? 'verify' : 'partial';
    this.needFull = this.needVerify = false;
    const t0 = performance.now();
    try {
      const services = (this.services?.list() ?? []) as Service[];
      const slices = this.slices?.list() ?? [];
      const r = renderRules(services, slices, {
        chainPrefix: this.prefix, nodeName: this.opts.nodeName, nodeIPs: this.opts.nodeIPs,
        clusterCIDR: this.opts.clusterCIDR, masqueradeAll: this.opts.masqueradeAll,
        masqueradeBit: this.opts.masqueradeBit, nodePortAddresses: this.opts.nodePortAddresses,
        serviceProxyName: this.opts.serviceProxyName,
      });
      const t1 = performance.now();
      const applied = await this.iptables.apply(r, { mode: requested });
      const t2 = performance.now();
      const full = applied.full;
      if (full) this.lastFull = Date.now();
      const conntrackDeletes = applied.wrote ? await conntrackCleanup(this.lastPorts, r.servicePorts, this.opts.conntrack) : 0;
      this.lastPorts = r.servicePorts;
      this.last = r;
      const stats: SyncStats = {
        mode: applied.mode, full, drifted: applied.drifted, wrote: applied.wrote, durationMs: performance.now() - t0, renderMs: t1 - t0, applyMs: t2 - t1,
        services: services.length, servicePorts: r.servicePorts.length,
        endpoints: r.servicePorts.reduce((n, s) => n + s.endpoints.length, 0),
        rules: r.ruleCount, chains: r.chainCount, chainsWritten: applied.chainsWritten, chainsRemoved: applied.chainsRemoved,
        rulesWritten: applied.rulesWritten, conntrackDeletes,
      };
      this.c.syncs++;
      if (full) this.c.fullSyncs++;
      if (applied.mode === 'verify') this.c.verifySyncs++;
      if (applied.drifted) log.warn('rules had drifted; repaired', { prefix: this.prefix, chains: applied.drifted });
      if (!applied.wrote) this.c.noopSyncs++;
      this.c.lastSyncDurationMs = stats.durationMs;
      this.c.lastSync = stats;
      this.c.lastError = undefined;
      this.failures = 0;
      this.c.rules = r.ruleCount;
      this.c.chains = r.chainCount;
      if (applied.wrote) log.debug('rules synced', { mode: applied.mode, ms: Math.round(stats.durationMs), chainsWritten: stats.chainsWritten, rules: stats.rules });
      return stats;
    } catch (err) {
      this.c.failedSyncs++;
      this.failures++;
      this.c.lastError = (err as Error).message;
      this.needFull = true;
      this.dirty = true; // retried after the minimum interval
      log.error('rule sync failed', { prefix: this.prefix, err: (err as Error).message });
      throw err;
    }
  }
}

/** Sets the sysctls the rules rely on; a missing or read-only one is logged, not fatal. */
export async function setProxySysctls(): Promise<void> {
  const want: Array<[string, string]> = [
    // DNAT of 127.0.0.1:nodePort to a pod: the kernel must route a 127/8 source off lo.
    ['/proc/sys/net/ipv4/conf/all/route_localnet', '1'],
    // Pods on one bridge reaching a service: the bridged reply must pass conntrack/NAT.
    ['/proc/sys/net/bridge/bridge-nf-call-iptables', '1'],
  ];
  for (const [path, value] of want) {
    try {
      if (!existsSync(path)) { log.warn('sysctl missing', { path }); continue; }
      if ((await readFile(path, 'utf8')).trim() !== value) await writeFile(path, value + '\n');
    } catch (err) {
      log.warn('cannot set sysctl', { path, value, err: (err as Error).message });
    }
  }
}
