/**
 * LeaderElector: one active instance among several, decided through a
 * coordination.k8s.io/v1 Lease (the way client-go's leaderelection package does it).
 *
 * - **Acquire.** Every retryPeriod (jittered up to +120 %, as client-go's JitterUntil with
 *   factor 1.2) read the Lease. If it does not exist, create it holding it. If another holder
 *   has it and we have seen its record change within the last leaseDurationSeconds (measured
 *   on *our* clock from when we observed the change, so clock skew between machines does not
 *   matter), wait. Otherwise write ourselves in as holder.
 * - **Optimistic concurrency.** Every write is a PUT carrying the resourceVersion we read; a
 *   409 Conflict means someone else wrote first and we lost that round. Creating races are
 *   settled by 409 AlreadyExists the same way.
 * - **Renew.** While leading, renew every retryPeriod. If no renewal succeeds within
 *   renewDeadlineSeconds, leadership is lost: the signal given to onStartedLeading aborts,
 *   onStoppedLeading runs and run() returns (the caller usually exits or starts over).
 * - **Release.** When run()'s signal aborts while leading (and releaseOnCancel, the default),
 *   the Lease is written with no holder and leaseDurationSeconds 1, so a standby takes over
 *   within one retry period instead of a whole lease duration (client-go's ReleaseOnCancel).
 *
 * Lease fields written: holderIdentity, leaseDurationSeconds, acquireTime, renewTime
 * (MicroTime, `2006-01-02T15:04:05.000000Z`), leaseTransitions (+1 whenever the holder changes).
 *
 * Safety needs leaseDuration > renewDeadline > retryPeriod × 1.2: a leader that cannot renew
 * gives up (renewDeadline) before anyone else may take the lease (leaseDuration).
 */
import { isAlreadyExists, isConflict, isNotFound, type ResourceDescriptor, type RestClient } from './rest-client.js';
import { sleep } from './rate-limit.js';
import { logger } from '../util/log.js';

const log = logger('leader-election');

export const LEASES: ResourceDescriptor = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespaced: true };

const JITTER_FACTOR = 1.2;

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
  [k: string]: unknown;
}

export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; [k: string]: unknown };
  spec?: LeaseSpec;
}

export interface LeaderElectorOptions {
  client: RestClient;
  namespace: string;
  name: string;
  /** Unique per candidate (e.g. hostname + random suffix). */
  identity: string;
  /** How long a lease is valid without renewal, for non-leaders (default 15). Whole seconds. */
  leaseDurationSeconds?: number;
  /** How long the leader keeps retrying to renew before giving up (default 10). */
  renewDeadlineSeconds?: number;
  /** Wait between attempts (default 2). */
  retryPeriodSeconds?: number;
  /** Give the lease up when run()'s signal aborts (default true). */
  releaseOnCancel?: boolean;
}

export interface LeaderCallbacks {
  /** Called when we become leader; `signal` aborts when leadership ends. */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** Called once after leading ends (not called if we never led). */
  onStoppedLeading(): void;
  /** Called when the observed holder changes (also to ourselves). */
  onNewLeader?(identity: string): void;
}

/** Kubernetes MicroTime: RFC 3339 with exactly six fractional digits, UTC. */
export function microTime(d: Date = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationSeconds: number;
  readonly renewDeadlineSeconds: number;
  readonly retryPeriodSeconds: number;
  readonly releaseOnCancel: boolean;
  private readonly client: RestClient;
  /** The last Lease read or written, and when (our clock) its spec last changed. */
  private observed?: Lease;
  private observedRaw = '';
  private observedTime = 0;
  private leading = false;

  constructor(opts: LeaderElectorOptions) {
    this.client = opts.client;
    this.namespace = opts.namespace;
    this.name = opts.name;
    this.identity = opts.identity;
    this.leaseDurationSeconds = opts.leaseDurationSeconds ?? 15;
    this.renewDeadlineSeconds = opts.renewDeadlineSeconds ?? 10;
    this.retryPeriodSeconds = opts.retryPeriodSeconds ?? 2;
    this.releaseOnCancel = opts.releaseOnCancel ?? true;
    if (!this.identity) throw new Error('leader election: identity is required');
    if (!Number.isInteger(this.leaseDurationSeconds) || this.leaseDurationSeconds < 1) throw new Error('leader election: leaseDurationSeconds must be a whole number >= 1');
    if (!(this.leaseDurationSeconds > this.renewDeadlineSeconds)) throw new Error('leader election: leaseDurationSeconds must be greater than renewDeadlineSeconds');
    if (!(this.renewDeadlineSeconds > JITTER_FACTOR * this.retryPeriodSeconds)) throw new Error(`leader election: renewDeadlineSeconds must be greater than retryPeriodSeconds*${JITTER_FACTOR}`);
    if (!(this.retryPeriodSeconds > 0)) throw new Error('leader election: retryPeriodSeconds must be positive');
  }

  /** Whether we hold the lease right now (as far as we know). */
  isLeader(): boolean {
    return this.leading;
  }

  /** The holder seen in the last Lease read ('' if none). */
  getLeader(): string {
    return this.observed?.spec?.holderIdentity ?? '';
  }

  /**
   * Campaigns until leader, leads until leadership is lost or `signal` aborts, then returns.
   * Returns without leading if `signal` aborts first.
   */
  async run(signal: AbortSignal, callbacks: LeaderCallbacks): Promise<void> {
    const retryMs = this.retryPeriodSeconds * 1000;
    // ---- acquire
    for (;;) {
      if (signal.aborted) return;
      if (await this.tryAcquireOrRenew(signal, this.leaseDurationSeconds * 1000, callbacks)) break;
      await sleep(retryMs * (1 + Math.random() * JITTER_FACTOR), signal).catch(() => {});
    }
    if (signal.aborted) {
      // We won the lease while being cancelled: hand it straight back.
      if (this.releaseOnCancel) await this.release();
      return;
    }
    this.leading = true;
    log.info('became leader', { lease: `${this.namespace}/${this.name}`, identity: this.identity });
    const leader = new AbortController();
    const onAbort = () => leader.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    void (async () => {
      try {
        await callbacks.onStartedLeading(leader.signal);
      } catch (err) {
        log.error('onStartedLeading failed', { lease: `${this.namespace}/${this.name}`, err });
      }
    })();

    // ---- renew
    try {
      for (;;) {
        await sleep(retryMs, leader.signal).catch(() => {});
        if (leader.signal.aborted) break;
        const deadline = Date.now() + this.renewDeadlineSeconds * 1000;
        let renewed = false;
        while (!renewed && !leader.signal.aborted) {
          const left = deadline - Date.now();
          if (left <= 0) break;
          renewed = await this.tryAcquireOrRenew(leader.signal, left, callbacks);
          if (!renewed) await sleep(Math.min(retryMs, Math.max(0, deadline - Date.now())), leader.signal).catch(() => {});
        }
        if (leader.signal.aborted) break;
        if (!renewed) {
          log.warn('failed to renew lease; leadership lost', { lease: `${this.namespace}/${this.name}`, identity: this.identity });
          break;
        }
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.leading = false;
      leader.abort();
      if (signal.aborted && this.releaseOnCancel) await this.release();
      try {
        callbacks.onStoppedLeading();
      } catch (err) {
        log.error('onStoppedLeading failed', { lease: `${this.namespace}/${this.name}`, err });
      }
    }
  }

  /** One attempt to take or keep the lease; true if we hold it afterwards. */
  private async tryAcquireOrRenew(outer: AbortSignal, timeoutMs: number, cb: LeaderCallbacks): Promise<boolean> {
    const signal = AbortSignal.any([outer, AbortSignal.timeout(Math.max(1, timeoutMs))]);
    const now = new Date();
    let lease: Lease;
    try {
      lease = await this.client.get<Lease>(LEASES, this.namespace, this.name, { signal });
    } catch (err) {
      if (!isNotFound(err)) {
        if (!outer.aborted) log.warn('error reading lease', { lease: `${this.namespace}/${this.name}`, err: (err as Error).message });
        return false;
      }
      const fresh: Lease = {
        apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
        metadata: { name: this.name, namespace: this.namespace },
        spec: {
          holderIdentity: this.identity, leaseDurationSeconds: this.leaseDurationSeconds,
          acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0,
        },
      };
      try {
        const created = await this.client.create<Lease>(LEASES, this.namespace, fresh, { signal });
        this.observe(created, cb);
        return true;
      } catch (err2) {
        if (!isAlreadyExists(err2) && !outer.aborted) log.warn('error creating lease', { lease: `${this.namespace}/${this.name}`, err: (err2 as Error).message });
        return false;
      }
    }

    this.observe(lease, cb);
    const old = lease.spec ?? {};
    const holder = old.holderIdentity ?? '';
    const duration = (old.leaseDurationSeconds ?? this.leaseDurationSeconds) * 1000;
    if (holder && holder !== this.identity && this.observedTime + duration > Date.now()) {
      return false; // someone else holds a lease that has not expired
    }
    const wasHolder = holder === this.identity;
    const next: Lease = {
      ...lease,
      spec: {
        ...old,
        holderIdentity: this.identity,
        leaseDurationSeconds: this.leaseDurationSeconds,
        acquireTime: wasHolder && old.acquireTime ? old.acquireTime : microTime(now),
        renewTime: microTime(now),
        leaseTransitions: wasHolder ? old.leaseTransitions ?? 0 : (old.leaseTransitions ?? 0) + 1,
      },
    };
    try {
      const updated = await this.client.update<Lease>(LEASES, this.namespace, next, { signal });
      this.observe(updated, cb);
      return true;
    } catch (err) {
      if (!isConflict(err) && !outer.aborted) log.warn('error updating lease', { lease: `${this.namespace}/${this.name}`, err: (err as Error).message });
      return false;
    }
  }

  /** Records a Lease read or written; its change time is taken from our clock. */
  private observe(lease: Lease, cb: LeaderCallbacks): void {
    const raw = JSON.stringify(lease.spec ?? {});
    const prevHolder = this.observed?.spec?.holderIdentity ?? '';
    this.observed = lease;
    if (raw !== this.observedRaw) {
      this.observedRaw = raw;
      this.observedTime = Date.now();
    }
    const holder = lease.spec?.holderIdentity ?? '';
    if (holder && holder !== prevHolder && cb.onNewLeader) {
      try { cb.onNewLeader(holder); } catch (err) { log.error('onNewLeader failed', { err }); }
    }
  }

  /** Gives the lease up so a standby need not wait for it to expire. */
  private async release(): Promise<void> {
    const lease = this.observed;
    if (!lease || lease.spec?.holderIdentity !== this.identity) return;
    const now = microTime();
    const { holderIdentity: _h, ...rest } = lease.spec;
    const released: Lease = {
      ...lease,
      spec: { ...rest, leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: lease.spec.leaseTransitions ?? 0 },
    };
    try {
      const updated = await this.client.update<Lease>(LEASES, this.namespace, released, { signal: AbortSignal.timeout(Math.max(1000, this.renewDeadlineSeconds * 1000)) });
      this.observed = updated;
      log.info('released lease', { lease: `${this.namespace}/${this.name}`, identity: this.identity });
    } catch (err) {
      log.warn('failed to release lease', { lease: `${this.namespace}/${this.name}`, err: (err as Error).message });
    }
  }
}
