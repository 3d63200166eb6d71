/**
 * Resource arithmetic for the scheduler: quantities turned into plain numbers once (milli-CPU,
 * bytes, counts) so that Filter and Score compare numbers and never parse in the hot loop.
 *
 * Pod requests follow the rule Kubernetes' scheduler applies (resource helpers behind
 * NodeResourcesFit, KEP-753 for sidecars):
 *  - regular containers add up;
 *  - init containers run one at a time, so the pod needs the largest of them — but a
 *    restartable init container (a sidecar, restartPolicy Always) keeps running, so it is
 *    added to everything that starts after it;
 *  - the pod's request is max(sum(containers) + sidecars, max over init containers of
 *    (init + sidecars started before it)), plus spec.overhead.
 * For scoring, a container without a cpu/memory request counts as 100m / 200 MiB
 * (the scheduler's DefaultMilliCPURequest / DefaultMemoryRequest), so that best-effort pods
 * are still spread.
 */
import { parseQuantityExact, quantityMilliValue, quantityIntValue } from '../apimachinery/quantity.js';

export const CPU = 'cpu';
export const MEMORY = 'memory';
export const EPHEMERAL_STORAGE = 'ephemeral-storage';
export const PODS = 'pods';

/** Default requests used for scoring containers that set none (upstream DefaultMilliCPURequest / DefaultMemoryRequest). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

const milliCache = new Map<string, number>();
const intCache = new Map<string, number>();

/** A quantity in thousandths, rounded up (Quantity.MilliValue); 0 for junk. Memoized. */
export function milliValue(q: string | number | undefined): number {
  if (q === undefined || q === null) return 0;
  const key = String(q);
  let v = milliCache.get(key);
  if (v === undefined) {
    const parsed = parseQuantityExact(key);
    v = parsed ? Number(quantityMilliValue(parsed)) : 0;
    if (milliCache.size < 100_000) milliCache.set(key, v);
  }
  return v;
}

/** A quantity in base units, rounded up (Quantity.Value); 0 for junk. Memoized. */
export function intValue(q: string | number | undefined): number {
  if (q === undefined || q === null) return 0;
  const key = String(q);
  let v = intCache.get(key);
  if (v === undefined) {
    const parsed = parseQuantityExact(key);
    v = parsed ? Number(quantityIntValue(parsed)) : 0;
    if (intCache.size < 100_000) intCache.set(key, v);
  }
  return v;
}

/** Resources as numbers: cpu in milli-cores, memory and storage in bytes, the rest as counts. */
export class Resource {
  milliCPU = 0;
  memory = 0;
  ephemeralStorage = 0;
  allowedPodNumber = 0;
  /** Extended resources (nvidia.com/gpu, hugepages-*, ...); null when there are none. */
  scalar: Map<string, number> | null = null;

  static fromList(list: Record<string, string | number> | undefined | null): Resource {
    const r = new Resource();
    if (list) r.addList(list);
    return r;
  }

  addList(list: Record<string, string | number>): void {
    for (const name in list) this.addOne(name, list[name]);
  }

  private addOne(name: string, q: string | number): void {
    switch (name) {
      case CPU: this.milliCPU += milliValue(q); break;
      case MEMORY: this.memory += intValue(q); break;
      case EPHEMERAL_STORAGE: this.ephemeralStorage += intValue(q); break;
      case PODS: this.allowedPodNumber += intValue(q); break;
      default:
        if (isScalarResourceName(name)) this.addScalar(name, intValue(q));
    }
  }

  addScalar(name: string, v: number): void {
    if (!this.scalar) this.scalar = new Map();
    this.scalar.set(name, (this.scalar.get(name) ?? 0) + v);
  }

  add(o: Resource): void {
    this.milliCPU += o.milliCPU;
    this.memory += o.memory;
    this.ephemeralStorage += o.ephemeralStorage;
    this.allowedPodNumber += o.allowedPodNumber;
    if (o.scalar) for (const [k, v] of o.scalar) this.addScalar(k, v);
  }

  sub(o: Resource): void {
    this.milliCPU -= o.milliCPU;
    this.memory -= o.memory;
    this.ephemeralStorage -= o.ephemeralStorage;
    this.allowedPodNumber -= o.allowedPodNumber;
    if (o.scalar) for (const [k, v] of o.scalar) this.addScalar(k, -v);
  }

  /** Each field becomes max(this, o) (init containers). */
  setMax(o: Resource): void {
    this.milliCPU = Math.max(this.milliCPU, o.milliCPU);
    this.memory = Math.max(this.memory, o.memory);
    this.ephemeralStorage = Math.max(this.ephemeralStorage, o.ephemeralStorage);
    this.allowedPodNumber = Math.max(this.allowedPodNumber, o.allowedPodNumber);
    if (o.scalar) for (const [k, v] of o.scalar) {
      if (!this.scalar) this.scalar = new Map();
      this.scalar.set(k, Math.max(this.scalar.get(k) ?? 0, v));
    }
  }

  clone(): Resource {
    const r = new Resource();
    r.milliCPU = this.milliCPU;
    r.memory = this.memory;
    r.ephemeralStorage = this.ephemeralStorage;
    r.allowedPodNumber = this.allowedPodNumber;
    r.scalar = this.scalar ? new Map(this.scalar) : null;
    return r;
  }

  getScalar(name: string): number {
    return this.scalar?.get(name) ?? 0;
  }

  /** The amount of a resource by its API name. */
  get(name: string): number {
    switch (name) {
      case CPU: return this.milliCPU;
      case MEMORY: return this.memory;
      case EPHEMERAL_STORAGE: return this.ephemeralStorage;
      case PODS: return this.allowedPodNumber;
      default: return this.getScalar(name);
    }
  }

  isZero(): boolean {
    if (this.milliCPU || this.memory || this.ephemeralStorage) return false;
    if (this.scalar) for (const v of this.scalar.values()) if (v) return false;
    return true;
  }
}

/**
 * Extended resources (domain-prefixed names such as nvidia.com/gpu), hugepages and
 * attachable volumes count as scalar resources (v1helper.IsScalarResourceName).
 */
export function isScalarResourceName(name: string): boolean {
  if (name.startsWith('hugepages-') || name.startsWith('attachable-volumes-')) return true;
  // Extended: fully qualified and outside kubernetes.io/ (except requests.* quota names).
  return name.includes('/') && !name.includes('kubernetes.io/') && !name.startsWith('requests.');
}

interface ContainerLike {
  resources?: { requests?: Record<string, string | number> | null; limits?: Record<string, string | number> | null } | null;
  restartPolicy?: string;
}

/** A container's requests; limits stand in for unset requests (as API defaulting does). */
function containerRequests(c: ContainerLike): Resource {
  const requests = c.resources?.requests ?? undefined;
  const limits = c.resources?.limits ?? undefined;
  const r = Resource.fromList(requests);
  if (limits) {
    for (const name in limits) {
      if (requests && name in requests) continue;
      // Defaulting copies limits to unset requests for cpu/memory/extended resources.
      const one: Record<string, string | number> = {};
      one[name] = limits[name];
      r.add(Resource.fromList(one));
    }
  }
  return r;
}

export interface PodRequests {
  /** Exact requests (for Filter). */
  requests: Resource;
  /** cpu/memory with per-container defaults for unset values (for Score). */
  nonZeroMilliCPU: number;
  nonZeroMemory: number;
}

/** The requests of a pod spec (see the file comment for the rule). */
export function computePodRequests(spec: any): PodRequests {
  const containers: ContainerLike[] = spec?.containers ?? [];
  const inits: ContainerLike[] = spec?.initContainers ?? [];
  const sum = new Resource();
  let nzCPU = 0;
  let nzMem = 0;
  for (const c of containers) {
    const r = containerRequests(c);
    sum.add(r);
    nzCPU += c.resources?.requests?.[CPU] !== undefined || c.resources?.limits?.[CPU] !== undefined ? r.milliCPU : DEFAULT_MILLI_CPU_REQUEST;
    nzMem += c.resources?.requests?.[MEMORY] !== undefined || c.resources?.limits?.[MEMORY] !== undefined ? r.memory : DEFAULT_MEMORY_REQUEST;
  }
  const sidecars = new Resource();
  const initMax = new Resource();
  let nzSideCPU = 0;
  let nzSideMem = 0;
  let nzInitCPU = 0;
  let nzInitMem = 0;
  for (const c of inits) {
    const r = containerRequests(c);
    const cpu = c.resources?.requests?.[CPU] !== undefined || c.resources?.limits?.[CPU] !== undefined ? r.milliCPU : DEFAULT_MILLI_CPU_REQUEST;
    const mem = c.resources?.requests?.[MEMORY] !== undefined || c.resources?.limits?.[MEMORY] !== undefined ? r.memory : DEFAULT_MEMORY_REQUEST;
    if (c.restartPolicy === 'Always') {
      sidecars.add(r);
      nzSideCPU += cpu;
      nzSideMem += mem;
      const withSidecars = sidecars.clone();
      initMax.setMax(withSidecars);
      nzInitCPU = Math.max(nzInitCPU, nzSideCPU);
      nzInitMem = Math.max(nzInitMem, nzSideMem);
    } else {
      const t = r.clone();
      t.add(sidecars);
      initMax.setMax(t);
      nzInitCPU = Math.max(nzInitCPU, cpu + nzSideCPU);
      nzInitMem = Math.max(nzInitMem, mem + nzSideMem);
    }
  }
  sum.add(sidecars);
  sum.setMax(initMax);
  nzCPU = Math.max(nzCPU + nzSideCPU, nzInitCPU);
  nzMem = Math.max(nzMem + nzSideMem, nzInitMem);
  if (spec?.overhead) {
    const o = Resource.fromList(spec.overhead);
    sum.add(o);
    nzCPU += o.milliCPU;
    nzMem += o.memory;
  }
  sum.allowedPodNumber = 0;
  return { requests: sum, nonZeroMilliCPU: nzCPU, nonZeroMemory: nzMem };
}
