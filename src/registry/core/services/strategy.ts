/**
 * Service rules (pkg/registry/core/service): a ClusterIP from the service range and NodePorts
 * from 30000–32767 are allocated in the registry when a Service is created or changed, and
 * released when it is deleted. Allocations are storage keys created with compare-and-swap
 * (`/registry/ranges/serviceips/<ip>`, `/registry/ranges/servicenodeports/<port>`), so two API
 * servers never hand out the same address and a crash never leaves a duplicate.
 */
import { GenericStrategy } from '../../strategy.js';
import type { ResourceInfo } from '../../../api/resources.js';
import type { Storage } from '../../../storage/interface.js';
import { KeyExistsError, NotFoundError } from '../../../storage/interface.js';
import { fieldError, invalid, type FieldError } from '../../../apimachinery/errors.js';

export interface ServiceRanges {
  /** IPv4 CIDR, e.g. 10.96.0.0/16. */
  serviceCIDR: string;
  nodePortMin: number;
  nodePortMax: number;
}

export function parseCIDR(cidr: string): { base: number; size: number } {
  const [ip, bits] = cidr.split('/');
  const p = ip.split('.').map(Number);
  const n = Number(bits);
  const base = (((p[0] << 24) >>> 0) + (p[1] << 16) + (p[2] << 8) + p[3]) >>> 0;
  const mask = n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0;
  return { base: (base & mask) >>> 0, size: 2 ** (32 - n) };
}
export const ipToString = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
export function ipToNumber(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const p = m.slice(1).map(Number);
  if (p.some((x) => x > 255)) return undefined;
  return (((p[0] << 24) >>> 0) + (p[1] << 16) + (p[2] << 8) + p[3]) >>> 0;
}

/** The first usable address of the range: the `kubernetes` service's ClusterIP. */
export function firstServiceIP(cidr: string): string {
  return ipToString(parseCIDR(cidr).base + 1);
}

const IP_PREFIX = '/registry/ranges/serviceips/';
const PORT_PREFIX = '/registry/ranges/servicenodeports/';

type Undo = () => Promise<void>;

const needsClusterIP = (svc: any) => svc.spec?.type !== 'ExternalName' && svc.spec?.clusterIP !== 'None';
const needsNodePorts = (svc: any) => svc.spec?.type === 'NodePort' || (svc.spec?.type === 'LoadBalancer' && svc.spec?.allocateLoadBalancerNodePorts !== false);

export class ServiceStrategy extends GenericStrategy {
  private range: { base: number; size: number };
  constructor(info: ResourceInfo, private storage: Storage, private ranges: ServiceRanges) {
    super(info);
    this.range = parseCIDR(ranges.serviceCIDR);
  }

  override prepareForCreate(obj: any): void {
    obj.status = { loadBalancer: {} };
  }

  override prepareForUpdate(obj: any, old: any): void {
    super.prepareForUpdate(obj, old);
    // An update that omits the ClusterIP keeps the allocated one (as kubectl apply relies on).
    if (needsClusterIP(obj) && !obj.spec?.clusterIP && old.spec?.clusterIP && old.spec.clusterIP !== 'None') {
      obj.spec.clusterIP = old.spec.clusterIP;
      obj.spec.clusterIPs = old.spec.clusterIPs ?? [old.spec.clusterIP];
    }
    if (needsNodePorts(obj)) {
      const oldPorts = new Map<string, number>();
      for (const p of old.spec?.ports ?? []) if (p.nodePort) oldPorts.set(`${p.protocol ?? 'TCP'}/${p.port}`, p.nodePort);
      for (const p of obj.spec?.ports ?? []) if (!p.nodePort) {
        const prev = oldPorts.get(`${p.protocol ?? 'TCP'}/${p.port}`);
        if (prev) p.nodePort = prev;
      }
    }
  }

  override validateUpdate(obj: any, old: any): FieldError[] {
    const errs = super.validateUpdate(obj, old);
    const oldIP = old.spec?.clusterIP;
    if (oldIP && oldIP !== 'None' && needsClusterIP(obj) && old.spec?.type !== 'ExternalName' && obj.spec?.clusterIP !== oldIP) {
      errs.push(fieldError.invalid('spec.clusterIPs[0]', obj.spec?.clusterIP ?? '', 'may not change once set'));
    }
    return errs;
  }

  /** Allocates what the new object needs that the old one (if any) did not hold. Returns an undo. */
  async allocate(obj: any, old: any | undefined, dryRun: boolean): Promise<Undo> {
    const undo: Undo[] = [];
    const rollback: Undo = async () => { for (const u of undo.reverse()) await u(); };
    try {
      if (needsClusterIP(obj) && !(old && old.spec?.clusterIP && old.spec.clusterIP === obj.spec?.clusterIP)) {
        const ip = await this.allocateIP(obj, dryRun);
        if (ip) {
          obj.spec.clusterIP = ip;
          obj.spec.clusterIPs = [ip];
          if (!dryRun) undo.push(() => this.free(IP_PREFIX + ip));
        }
      }
      if (needsNodePorts(obj)) {
        const held = new Set<number>((old?.spec?.ports ?? []).map((p: any) => p.nodePort).filter(Boolean));
        for (let i = 0; i < (obj.spec.ports ?? []).length; i++) {
          const p = obj.spec.ports[i];
          if (p.nodePort && held.has(p.nodePort)) continue;
          const port = await this.allocatePort(obj, i, p.nodePort, dryRun);
          p.nodePort = port;
          held.add(port);
          if (!dryRun) undo.push(() => this.free(PORT_PREFIX + port));
        }
      } else {
        for (const p of obj.spec?.ports ?? []) if (obj.spec?.type === 'ClusterIP' || obj.spec?.type === undefined) delete p.nodePort;
      }
    } catch (err) {
      await rollback();
      throw err;
    }
    return rollback;
  }

  /** Releases what `old` held and `obj` (if any) no longer uses. */
  async release(old: any, obj?: any): Promise<void> {
    const ip = old.spec?.clusterIP;
    if (ip && ip !== 'None' && obj?.spec?.clusterIP !== ip) await this.free(IP_PREFIX + ip);
    const keep = new Set<number>((obj && needsNodePorts(obj) ? obj.spec?.ports ?? [] : []).map((p: any) => p.nodePort));
    for (const p of old.spec?.ports ?? []) if (p.nodePort && !keep.has(p.nodePort)) await this.free(PORT_PREFIX + p.nodePort);
  }

  private async free(key: string): Promise<void> {
    try { await this.storage.delete(key); } catch (err) { if (!(err instanceof NotFoundError)) throw err; }
  }

  private reject(obj: any, field: string, value: unknown, detail: string): never {
    throw invalid('Service', '', obj.metadata?.name ?? '', [fieldError.invalid(field, value, detail)]);
  }

  private async allocateIP(obj: any, dryRun: boolean): Promise<string | undefined> {
    const requested: string | undefined = obj.spec?.clusterIP || obj.spec?.clusterIPs?.[0];
    if (requested) {
      const n = ipToNumber(requested);
      if (n === undefined) return undefined; // validation reports the malformed address
      if (n < this.range.base || n >= this.range.base + this.range.size) {
        this.reject(obj, 'spec.clusterIPs', requested, `failed to allocate IP ${requested}: the provided IP (${requested}) is not in the valid range. The range of valid IPs is ${this.ranges.serviceCIDR}`);
      }
      if (dryRun) {
        if (await this.storage.get(IP_PREFIX + requested)) this.reject(obj, 'spec.clusterIPs', requested, `failed to allocate IP ${requested}: provided IP is already allocated`);
        return requested;
      }
      try { await this.storage.create(IP_PREFIX + requested, JSON.stringify({ service: `${obj.metadata.namespace}/${obj.metadata.name}` })); }
      catch (err) {
        if (err instanceof KeyExistsError) this.reject(obj, 'spec.clusterIPs', requested, `failed to allocate IP ${requested}: provided IP is already allocated`);
        throw err;
      }
      return requested;
    }
    // Skip network and broadcast addresses; start at a random offset and probe forward.
    const usable = this.range.size - 2;
    const start = Math.floor(Math.random() * usable);
    for (let i = 0; i < usable; i++) {
      const ip = ipToString(this.range.base + 1 + ((start + i) % usable));
      if (dryRun) { if (!(await this.storage.get(IP_PREFIX + ip))) return ip; continue; }
      try {
        await this.storage.create(IP_PREFIX + ip, JSON.stringify({ service: `${obj.metadata.namespace}/${obj.metadata.name}` }));
        return ip;
      } catch (err) {
        if (!(err instanceof KeyExistsError)) throw err;
      }
    }
    throw invalid('Service', '', obj.metadata?.name ?? '', [fieldError.invalid('spec.clusterIPs', '', 'failed to allocate IP: range is full')]);
  }

  private async allocatePort(obj: any, index: number, requested: number | undefined, dryRun: boolean): Promise<number> {
    const { nodePortMin: min, nodePortMax: max } = this.ranges;
    const field = `spec.ports[${index}].nodePort`;
    const owner = JSON.stringify({ service: `${obj.metadata.namespace}/${obj.metadata.name}` });
    if (requested) {
      if (requested < min || requested > max) this.reject(obj, field, requested, `provided port is not in the valid range. The range of valid ports is ${min}-${max}`);
      if (dryRun) {
        if (await this.storage.get(PORT_PREFIX + requested)) this.reject(obj, field, requested, 'provided port is already allocated');
        return requested;
      }
      try { await this.storage.create(PORT_PREFIX + requested, owner); }
      catch (err) {
        if (err instanceof KeyExistsError) this.reject(obj, field, requested, 'provided port is already allocated');
        throw err;
      }
      return requested;
    }
    const size = max - min + 1;
    const start = Math.floor(Math.random() * size);
    for (let i = 0; i < size; i++) {
      const port = min + ((start + i) % size);
      if (dryRun) { if (!(await this.storage.get(PORT_PREFIX + port))) return port; continue; }
      try { await this.storage.create(PORT_PREFIX + port, owner); return port; }
      catch (err) { if (!(err instanceof KeyExistsError)) throw err; }
    }
    this.reject(obj, field, 0, 'failed to allocate a nodePort: range is full');
  }
}
