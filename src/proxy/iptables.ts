/**
 * Iptables: puts rendered rules (rules.ts) into the kernel, as kube-proxy's iptables proxier
 * does it:
 *
 * - ONE `iptables-restore --noflush` transaction per sync. Only chains this prefix owns are
 *   named in it (a `:chain` line creates or flushes one, then its rules follow), so every other
 *   rule on the machine stays as it is.
 * - Full sync (the first one, after a failure, and periodically): every chain is rewritten,
 *   and the chains this prefix has in the kernel (read with iptables-save) but no longer needs
 *   are flushed and deleted in the same transaction. Then the jump rules from the built-in
 *   chains are made sure of: `iptables -C` and only if that fails `iptables -I` (idempotent).
 * - Partial sync: only the chains whose lines differ from the last applied rendering are
 *   rewritten, and the ones that disappeared deleted (kube-proxy's partial sync, KEP-3453, by
 *   diff rather than by change tracking). Nothing differs → nothing runs.
 * - Verify sync (the periodic repair): one iptables-save; chains of ours that are missing,
 *   unexpected, or hold a different number of rules than we wrote are rewritten (or deleted),
 *   together with what a partial sync would write; missing jump rules are re-inserted. A full
 *   rewrite of a large rule set costs seconds in the nf_tables commit (≈8 s for 32k rules in
 *   11k chains), a verify a fraction of a second, so the periodic sync verifies and a full
 *   rewrite is kept for start, failures and a long period.
 * - conntrack: UDP has no connection end, so a flow DNATed to an endpoint that is gone (or one
 *   that was not DNATed because there was no endpoint yet) lives on in conntrack and keeps
 *   black-holing the client. `conntrackCleanup` deletes those flows with `conntrack -D`, as
 *   kube-proxy's ClearEntriesForNAT / ClearEntriesForIP / ClearEntriesForPort.
 * - `cleanup(prefix)` removes every rule and chain of a prefix (the jumps from built-in chains
 *   included) in one transaction.
 */
import { spawn } from 'node:child_process';
import {
  DEFAULT_CHAIN_PREFIX, isOwnChain, jumpRules, toRestoreText, validatePrefix,
  type RenderedRules, type ServicePortInfo, type Table,
} from './rules.js';
import { logger } from '../util/log.js';

const log = logger('proxy');

export interface IptablesOptions {
  chainPrefix?: string;
  /** Binaries (paths or names on PATH). */
  iptablesRestore?: string;
  iptables?: string;
  iptablesSave?: string;
  conntrack?: string;
  /** Seconds to wait for the xtables lock (default 5). */
  lockWaitSeconds?: number;
}

/** full: rewrite everything; verify: partial plus repair of drift found by iptables-save; partial: diff only. */
export type ApplyMode = 'full' | 'verify' | 'partial';

export interface ApplyResult {
  /** Whether iptables-restore ran at all. */
  wrote: boolean;
  /** The mode used (a partial or verify apply becomes full when the kernel state is unknown). */
  mode: ApplyMode;
  full: boolean;
  /** Chains rewritten (or deleted) because the kernel differed from what we had applied. */
  drifted: number;
  chainsWritten: number;
  chainsRemoved: number;
  /** Rules in the restore input. */
  rulesWritten: number;
  /** Size of the restore input. */
  bytes: number;
  durationMs: number;
}

interface RunResult { code: number; stdout: string; stderr: string }

/** Runs a command without a shell; resolves with its exit code (never rejects on exit != 0). */
export function run(cmd: string, args: string[], input?: string, timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    child.stdin.on('error', () => {}); // the child may exit before reading everything
    child.stdin.end(input ?? '');
  });
}

/** The chains of each table as iptables-save lists them, and the table's rule lines. */
export interface SavedTable {
  chains: string[];
  rules: string[];
}

/** Rules per chain of a saved table. */
function ruleCounts(t: SavedTable): Map<string, number> {
  const counts = new Map<string, number>();
  for (const c of t.chains) counts.set(c, 0);
  for (const rule of t.rules) {
    const chain = rule.slice(3, rule.indexOf(' ', 3));
    counts.set(chain, (counts.get(chain) ?? 0) + 1);
  }
  return counts;
}

export async function iptablesSave(table: Table, bin = 'iptables-save'): Promise<SavedTable> {
  const r = await run(bin, ['-t', table]);
  if (r.code !== 0) throw new Error(`${bin} -t ${table}: ${r.stderr.trim() || `exit ${r.code}`}`);
  const chains: string[] = [];
  const rules: string[] = [];
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith(':')) chains.push(line.slice(1).split(' ')[0]!);
    else if (line.startsWith('-A ')) rules.push(line);
  }
  return { chains, rules };
}

/** Chains of this prefix that exist in the kernel now. */
export async function listOwnChains(prefix: string, iptablesSaveBin = 'iptables-save'): Promise<Record<Table, string[]>> {
  const [nat, filter] = await Promise.all([iptablesSave('nat', iptablesSaveBin), iptablesSave('filter', iptablesSaveBin)]);
  return {
    nat: nat.chains.filter((c) => isOwnChain(prefix, c)),
    filter: filter.chains.filter((c) => isOwnChain(prefix, c)),
  };
}

const sameLines = (a: string[] | undefined, b: string[] | undefined) => {
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};

export class Iptables {
  readonly prefix: string;
  private readonly bins: Required<Pick<IptablesOptions, 'iptablesRestore' | 'iptables' | 'iptablesSave' | 'conntrack'>>;
  private readonly wait: string;
  /** What the kernel holds, as far as we know; undefined = unknown (next apply is full). */
  private applied?: RenderedRules;

  constructor(opts: IptablesOptions = {}) {
    this.prefix = opts.chainPrefix ?? DEFAULT_CHAIN_PREFIX;
    validatePrefix(this.prefix);
    this.bins = {
      iptablesRestore: opts.iptablesRestore ?? 'iptables-restore',
      iptables: opts.iptables ?? 'iptables',
      iptablesSave: opts.iptablesSave ?? 'iptables-save',
      conntrack: opts.conntrack ?? 'conntrack',
    };
    this.wait = String(opts.lockWaitSeconds ?? 5);
  }

  /** Forgets what was applied: the next apply is a full one. */
  invalidate(): void {
    this.applied = undefined;
  }

  /**
   * Applies `r`. mode 'partial' (default) writes the chains that differ from the last apply;
   * 'verify' also compares with iptables-save and repairs drift; 'full' rewrites everything.
   * Without a known last apply (first time, after a failure or cleanup) it is always full.
   * Accepts the legacy `{ full: true }` too.
   */
  async apply(r: RenderedRules, opts: { mode?: ApplyMode; full?: boolean } = {}): Promise<ApplyResult> {
    const started = performance.now();
    const mode: ApplyMode = opts.full || !this.applied ? 'full' : opts.mode ?? 'partial';
    const full = mode === 'full';
    const write: Record<Table, Set<string>> = { nat: new Set(), filter: new Set() };
    const remove: Record<Table, Set<string>> = { nat: new Set(), filter: new Set() };
    let drifted = 0;
    let jumpsMissing = full;
    if (mode === 'full') {
      const existing = await listOwnChains(this.prefix, this.bins.iptablesSave);
      for (const t of ['nat', 'filter'] as const) {
        write[t] = new Set(r[t].keys());
        remove[t] = new Set(existing[t].filter((c) => !r[t].has(c)));
      }
    } else {
      const prev = this.applied!;
      for (const t of ['nat', 'filter'] as const) {
        for (const [chain, lines] of r[t]) if (!sameLines(prev[t].get(chain), lines)) write[t].add(chain);
        for (const chain of prev[t].keys()) if (!r[t].has(chain)) remove[t].add(chain);
      }
      if (mode === 'verify') {
        const jumps = jumpRules(this.prefix);
        for (const t of ['nat', 'filter'] as const) {
          const saved = await iptablesSave(t, this.bins.iptablesSave);
          const counts = ruleCounts(saved);
          // Our chains as the kernel has them vs. as we last wrote them.
          for (const [chain, lines] of prev[t]) {
            if (!r[t].has(chain) || write[t].has(chain)) continue;
            if (counts.get(chain) !== lines.length) { write[t].add(chain); drifted++; }
          }
          for (const chain of counts.keys()) {
            if (isOwnChain(this.prefix, chain) && !r[t].has(chain) && !remove[t].has(chain)) { remove[t].add(chain); drifted++; }
          }
          // Each jump from a built-in chain must be there (exactly one rule with that target).
          for (const j of jumps.filter((x) => x.table === t)) {
            const target = j.args.at(-1)!;
            if (!saved.rules.some((l) => l.startsWith(`-A ${j.chain} `) && l.endsWith(` -j ${target}`))) jumpsMissing = true;
          }
        }
      }
    }
    const chainsWritten = write.nat.size + write.filter.size;
    const chainsRemoved = remove.nat.size + remove.filter.size;
    let rulesWritten = 0;
    for (const t of ['nat', 'filter'] as const) for (const c of write[t]) rulesWritten += r[t].get(c)?.length ?? 0;
    const base = { mode, full, drifted, chainsWritten, chainsRemoved, rulesWritten };
    if (!full && chainsWritten === 0 && chainsRemoved === 0) {
      if (jumpsMissing) await this.ensureJumps();
      return { ...base, wrote: false, bytes: 0, durationMs: performance.now() - started };
    }
    const text = toRestoreText(r, { write, remove });
    this.applied = undefined; // unknown until the restore succeeds
    await this.restore(text);
    if (jumpsMissing) await this.ensureJumps();
    this.applied = r;
    return { ...base, wrote: true, bytes: Buffer.byteLength(text), durationMs: performance.now() - started };
  }

  /** Runs one iptables-restore --noflush transaction. */
  async restore(text: string): Promise<void> {
    const r = await run(this.bins.iptablesRestore, ['-w', this.wait, '--noflush'], text);
    if (r.code !== 0) {
      const msg = (r.stderr || r.stdout).trim();
      // iptables-restore names the failing line ("line 42 failed"): show it.
      const m = /line:? (\d+)/i.exec(msg);
      const line = m ? text.split('\n')[Number(m[1]) - 1] : undefined;
      throw new Error(`iptables-restore failed: ${msg}${line ? ` (input line: ${line})` : ''}`);
    }
  }

  /** Makes sure every jump rule from a built-in chain exists: -C, and -I only if missing. */
  async ensureJumps(): Promise<number> {
    let inserted = 0;
    for (const j of jumpRules(this.prefix)) {
      const check = await run(this.bins.iptables, ['-w', this.wait, '-t', j.table, '-C', j.chain, ...j.args]);
      if (check.code === 0) continue;
      const ins = await run(this.bins.iptables, ['-w', this.wait, '-t', j.table, '-I', j.chain, ...j.args]);
      if (ins.code !== 0) throw new Error(`iptables -t ${j.table} -I ${j.chain} ${j.args.join(' ')}: ${ins.stderr.trim()}`);
      inserted++;
    }
    return inserted;
  }

  /** Removes every rule and chain of this prefix; the next apply is a full one. */
  async cleanup(): Promise<void> {
    this.applied = undefined;
    await cleanup(this.prefix, this.bins);
  }
}

/**
 * Removes every chain of `prefix` from nat and filter, and every rule elsewhere that jumps to
 * one of them, in one iptables-restore transaction. Idempotent: nothing there, nothing done.
 */
export async function cleanup(prefix: string, bins: { iptablesRestore?: string; iptablesSave?: string } = {}): Promise<void> {
  validatePrefix(prefix);
  const out: string[] = [];
  for (const table of ['filter', 'nat'] as const) {
    const saved = await iptablesSave(table, bins.iptablesSave ?? 'iptables-save');
    const own = saved.chains.filter((c) => isOwnChain(prefix, c));
    const deletes: string[] = [];
    for (const rule of saved.rules) {
      const chain = rule.split(' ')[1]!;
      if (isOwnChain(prefix, chain)) continue; // goes with the chain
      const target = / -[jg] (\S+)/.exec(rule)?.[1];
      if (target && isOwnChain(prefix, target)) deletes.push('-D' + rule.slice(2));
    }
    if (own.length === 0 && deletes.length === 0) continue;
    out.push(`*${table}`, ...deletes, ...own.map((c) => `:${c} - [0:0]`), ...own.map((c) => `-X ${c}`), 'COMMIT');
  }
  if (out.length === 0) return;
  const bin = bins.iptablesRestore ?? 'iptables-restore';
  const r = await run(bin, ['-w', '5', '--noflush'], out.join('\n') + '\n');
  if (r.code !== 0) throw new Error(`cleanup of ${prefix} chains failed: ${(r.stderr || r.stdout).trim()}`);
}

// ---- conntrack -------------------------------------------------------------------------------

const conntrackPresent = new Map<string, Promise<boolean>>();

/** Whether the conntrack binary can run here (checked once per binary). */
export function hasConntrack(bin = 'conntrack'): Promise<boolean> {
  let p = conntrackPresent.get(bin);
  if (!p) {
    p = run(bin, ['--version']).then((r) => r.code === 0, () => false);
    conntrackPresent.set(bin, p);
  }
  return p;
}

/**
 * The `conntrack -D` invocations needed after a sync from `prev` to `next` (UDP only):
 *  - an endpoint no longer used by a service port: flows to its service IPs / nodePort that
 *    were DNATed to that endpoint;
 *  - a service port that had no endpoint and now has one: every flow to its service IPs and
 *    nodePort (they were not DNATed and would stay that way).
 * Pure, for tests; conntrackCleanup runs them.
 */
export function conntrackDeletions(prev: ServicePortInfo[], next: ServicePortInfo[]): string[][] {
  const nextByKey = new Map(next.map((s) => [s.key, s]));
  const prevByKey = new Map(prev.map((s) => [s.key, s]));
  const cmds: string[][] = [];
  const seen = new Set<string>();
  const add = (args: string[]) => {
    const k = args.join(' ');
    if (!seen.has(k)) { seen.add(k); cmds.push(args); }
  };
  const ipsOf = (s: ServicePortInfo) => [s.clusterIP, ...s.externalIPs, ...s.loadBalancerIPs];
  for (const old of prev) {
    if (old.protocol !== 'udp') continue;
    const cur = nextByKey.get(old.key);
    const still = new Set(cur?.endpoints ?? []);
    for (const ep of old.endpoints) {
      if (still.has(ep)) continue;
      const epIP = ep.slice(0, ep.lastIndexOf(':'));
      for (const ip of ipsOf(old)) add(['-D', '-p', 'udp', '--orig-dst', ip, '--dst-nat', epIP]);
      if (old.nodePort) add(['-D', '-p', 'udp', '--orig-port-dst', String(old.nodePort), '--dst-nat', epIP]);
    }
  }
  for (const cur of next) {
    if (cur.protocol !== 'udp' || cur.endpoints.length === 0) continue;
    const old = prevByKey.get(cur.key);
    if (old && old.endpoints.length > 0) continue;
    for (const ip of ipsOf(cur)) add(['-D', '-p', 'udp', '--orig-dst', ip, '--orig-port-dst', String(cur.port)]);
    if (cur.nodePort) add(['-D', '-p', 'udp', '--orig-port-dst', String(cur.nodePort)]);
  }
  return cmds;
}

/** Runs conntrackDeletions; returns how many commands ran (0 without a conntrack binary). */
export async function conntrackCleanup(prev: ServicePortInfo[], next: ServicePortInfo[], bin = 'conntrack'): Promise<number> {
  const cmds = conntrackDeletions(prev, next);
  if (cmds.length === 0) return 0;
  if (!(await hasConntrack(bin))) {
    log.warn('conntrack binary missing; stale UDP flows are not cleared', { bin, flows: cmds.length });
    return 0;
  }
  for (const args of cmds) {
    const r = await run(bin, args);
    // Exit 1 with "0 flow entries have been deleted" is not an error.
    if (r.code !== 0 && !/0 flow entries/.test(r.stderr)) log.warn('conntrack delete failed', { args: args.join(' '), err: r.stderr.trim() });
  }
  return cmds.length;
}
