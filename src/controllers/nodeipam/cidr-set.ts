/**
 * CidrSet: the blocks of one cluster CIDR handed out as node pod ranges, after the behaviour of
 * kube-controller-manager's nodeipam cidrset (pkg/controller/nodeipam/ipam/cidrset):
 *
 * - The cluster CIDR (e.g. 10.244.0.0/16) is cut into 2^(nodeMaskSize - clusterMaskSize)
 *   blocks of size /nodeMaskSize (e.g. /24), tracked in a bitmap.
 * - allocateNext() hands out the next free block after the last one handed out, wrapping
 *   around (round robin, so a just-released block is not reused at once); when none is free it
 *   throws CIDRRangeFullError with upstream's message.
 * - occupy(cidr) marks every block `cidr` overlaps as used (a node's existing podCIDR, which
 *   may be larger or smaller than a block); a CIDR outside the cluster CIDR is an error.
 * - release(cidr) frees the blocks `cidr` overlaps.
 *
 * IPv4 and IPv6 alike (addresses as bigint). As upstream, an IPv6 set may not have more than
 * 2^16 blocks (ErrCIDRSetSubNetTooBig).
 */
import { parseCIDR, type IPFamily } from '../../apimachinery/validation.js';

/** Upstream's ErrCIDRRangeNoCIDRsRemaining. */
export class CIDRRangeFullError extends Error {
  constructor() {
    super('CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range');
  }
}

/** Maximum difference between the cluster and node mask sizes of an IPv6 set (upstream's clusterSubnetMaxDiff). */
const CLUSTER_SUBNET_MAX_DIFF = 16;

export interface ParsedCIDR {
  family: IPFamily;
  /** Address bits: 32 or 128. */
  bits: number;
  /** The network address (host bits cleared). */
  ip: bigint;
  prefix: number;
}

/** Parses "a.b.c.d/n" or an IPv6 CIDR; the address is masked to the prefix. Undefined if invalid. */
export function parseCIDRValue(cidr: string): ParsedCIDR | undefined {
  const p = parseCIDR(cidr.trim());
  if (!p) return undefined;
  const bits = p.family === 'IPv4' ? 32 : 128;
  let ip = 0n;
  for (const b of p.bytes) ip = (ip << 8n) | BigInt(b);
  return { family: p.family, bits, ip: ip & maskOf(p.prefix, bits), prefix: p.prefix };
}

function maskOf(prefix: number, bits: number): bigint {
  const all = (1n << BigInt(bits)) - 1n;
  return prefix === 0 ? 0n : (all >> BigInt(bits - prefix)) << BigInt(bits - prefix);
}

/** The text form of an address, as Go's net.IP.String (RFC 5952 for IPv6). */
export function formatIP(ip: bigint, family: IPFamily): string {
  if (family === 'IPv4') return [24n, 16n, 8n, 0n].map((s) => String((ip >> s) & 255n)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => Number((ip >> BigInt(112 - 16 * i)) & 0xffffn));
  // The longest run of two or more zero groups becomes "::" (the first one on a tie).
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = (g: number[]) => g.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(groups);
  return `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`;
}

export function formatCIDR(c: ParsedCIDR): string {
  return `${formatIP(c.ip, c.family)}/${c.prefix}`;
}

export class CidrSet {
  readonly family: IPFamily;
  readonly clusterCIDR: string;
  readonly clusterMaskSize: number;
  readonly nodeMaskSize: number;
  /** Number of node blocks in the cluster CIDR. */
  readonly maxCIDRs: number;
  private readonly bits: number;
  private readonly base: bigint;
  private readonly used: Uint8Array;
  private allocatedCount = 0;
  private nextCandidate = 0;

  constructor(clusterCIDR: string, nodeMaskSize: number) {
    const c = parseCIDRValue(clusterCIDR);
    if (!c) throw new Error(`invalid cluster CIDR ${JSON.stringify(clusterCIDR)}`);
    if (!Number.isInteger(nodeMaskSize) || nodeMaskSize < c.prefix || nodeMaskSize > c.bits) {
      throw new Error(`node CIDR mask size ${nodeMaskSize} does not fit cluster CIDR ${clusterCIDR} (must be between ${c.prefix} and ${c.bits})`);
    }
    if (c.family === 'IPv6' && nodeMaskSize - c.prefix > CLUSTER_SUBNET_MAX_DIFF) {
      throw new Error('New CIDR set failed; the node CIDR size is too big');
    }
    if (nodeMaskSize - c.prefix > 24) throw new Error(`node CIDR mask size ${nodeMaskSize} gives too many blocks in ${clusterCIDR}`);
    this.family = c.family;
    this.bits = c.bits;
    this.base = c.ip;
    this.clusterMaskSize = c.prefix;
    this.clusterCIDR = formatCIDR(c);
    this.nodeMaskSize = nodeMaskSize;
    this.maxCIDRs = 2 ** (nodeMaskSize - c.prefix);
    this.used = new Uint8Array(Math.ceil(this.maxCIDRs / 8));
  }

  /** Blocks handed out or occupied. */
  get allocated(): number {
    return this.allocatedCount;
  }

  private isSet(i: number): boolean {
    return (this.used[i >> 3] & (1 << (i & 7))) !== 0;
  }

  private set(i: number, v: boolean): void {
    const was = this.isSet(i);
    if (v === was) return;
    if (v) this.used[i >> 3] |= 1 << (i & 7);
    else this.used[i >> 3] &= ~(1 << (i & 7));
    this.allocatedCount += v ? 1 : -1;
  }

  private blockCIDR(i: number): string {
    const ip = this.base + (BigInt(i) << BigInt(this.bits - this.nodeMaskSize));
    return `${formatIP(ip, this.family)}/${this.nodeMaskSize}`;
  }

  /** The next free block (round robin); throws CIDRRangeFullError when there is none. */
  allocateNext(): string {
    if (this.allocatedCount >= this.maxCIDRs) throw new CIDRRangeFullError();
    for (let n = 0; n < this.maxCIDRs; n++) {
      const i = (this.nextCandidate + n) % this.maxCIDRs;
      if (!this.isSet(i)) {
        this.set(i, true);
        this.nextCandidate = (i + 1) % this.maxCIDRs;
        return this.blockCIDR(i);
      }
    }
    throw new CIDRRangeFullError();
  }

  /** The first and last block indices `cidr` overlaps; throws if it lies outside the cluster CIDR. */
  private indices(cidr: string): [number, number] {
    const c = parseCIDRValue(cidr);
    if (!c) throw new Error(`invalid CIDR ${JSON.stringify(cidr)}`);
    if (c.family !== this.family) throw new Error(`cidr ${cidr} is out the range of cluster cidr ${this.clusterCIDR}`);
    const clusterMask = maskOf(this.clusterMaskSize, this.bits);
    const overlaps = (c.ip & clusterMask) === this.base || (this.base & maskOf(c.prefix, this.bits)) === c.ip;
    if (!overlaps) throw new Error(`cidr ${cidr} is out the range of cluster cidr ${this.clusterCIDR}`);
    if (c.prefix <= this.clusterMaskSize) return [0, this.maxCIDRs - 1];
    const shift = BigInt(this.bits - this.nodeMaskSize);
    const last = c.ip | (((1n << BigInt(this.bits)) - 1n) >> BigInt(c.prefix));
    return [Number((c.ip - this.base) >> shift), Number((last - this.base) >> shift)];
  }

  /** Marks every block `cidr` overlaps as used. */
  occupy(cidr: string): void {
    const [b, e] = this.indices(cidr);
    for (let i = b; i <= e; i++) this.set(i, true);
  }

  /** Frees every block `cidr` overlaps. */
  release(cidr: string): void {
    const [b, e] = this.indices(cidr);
    for (let i = b; i <= e; i++) this.set(i, false);
  }

  /** Whether `cidr` lies (at least partly) in this set's cluster CIDR. */
  contains(cidr: string): boolean {
    try {
      this.indices(cidr);
      return true;
    } catch {
      return false;
    }
  }
}
