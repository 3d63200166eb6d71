/**
 * Pod resources as the kubelet turns them into cgroup settings: the QoS class (Guaranteed,
 * Burstable, BestEffort: the same rules as Kubernetes' qos.GetPodQOS), the pod's cgroup parent
 * under /kubepods, and each container's CPU shares / CFS quota / memory limit / OOM score.
 */
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from '../apimachinery/quantity.js';
import type { LinuxContainerResources } from './cri/api.js';

export type QOSClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

const CPU_PERIOD = 100_000;
const MIN_SHARES = 2;

export function quantityValue(q: string | number | undefined): number | undefined {
  if (q === undefined) return undefined;
  return parseQuantity(q)?.value;
}

function allContainers(pod: Pod): Container[] {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
}

export function podQOSClass(pod: Pod): QOSClass {
  const requests = new Map<string, number>();
  const limits = new Map<string, number>();
  let guaranteed = true;
  for (const c of allContainers(pod)) {
    for (const [k, v] of Object.entries(c.resources?.requests ?? {})) {
      if (k !== 'cpu' && k !== 'memory') continue;
      const n = quantityValue(v) ?? 0;
      if (n > 0) requests.set(k, (requests.get(k) ?? 0) + n);
    }
    const seen = new Set<string>();
    for (const [k, v] of Object.entries(c.resources?.limits ?? {})) {
      if (k !== 'cpu' && k !== 'memory') continue;
      const n = quantityValue(v) ?? 0;
      if (n > 0) { seen.add(k); limits.set(k, (limits.get(k) ?? 0) + n); }
    }
    if (!seen.has('cpu') || !seen.has('memory')) guaranteed = false;
  }
  if (!requests.size && !limits.size) return 'BestEffort';
  if (guaranteed) {
    for (const [k, v] of requests) if (limits.get(k) !== v) { guaranteed = false; break; }
  }
  return guaranteed && limits.size === 2 ? 'Guaranteed' : 'Burstable';
}

/** The pod's cgroup (cgroupfs layout as the kubelet's: /kubepods[/burstable|/besteffort]/pod<uid>). */
export function podCgroupParent(pod: Pod): string {
  const qos = podQOSClass(pod);
  const uid = pod.metadata?.uid ?? '';
  return qos === 'Guaranteed' ? `/kubepods/pod${uid}` : `/kubepods/${qos.toLowerCase()}/pod${uid}`;
}

/** Container cgroup settings, as kuberuntime's generateLinuxContainerResources. */
export function containerResources(pod: Pod, c: Container, nodeMemory: number): LinuxContainerResources {
  const cpuReq = quantityValue(c.resources?.requests?.cpu ?? c.resources?.limits?.cpu);
  const cpuLim = quantityValue(c.resources?.limits?.cpu);
  const memLim = quantityValue(c.resources?.limits?.memory);
  const memReq = quantityValue(c.resources?.requests?.memory ?? c.resources?.limits?.memory);
  const r: LinuxContainerResources = {};
  r.cpuShares = cpuReq ? Math.max(MIN_SHARES, Math.round(cpuReq * 1024)) : MIN_SHARES;
  if (cpuLim) {
    r.cpuPeriod = CPU_PERIOD;
    r.cpuQuota = Math.max(1000, Math.round(cpuLim * CPU_PERIOD));
  }
  if (memLim) r.memoryLimitInBytes = Math.round(memLim);
  const qos = podQOSClass(pod);
  if (qos === 'Guaranteed') r.oomScoreAdj = -997;
  else if (qos === 'BestEffort') r.oomScoreAdj = 1000;
  else {
    // Burstable: 1000 - 1000 * request / capacity, kept within (2, 999] so it stays between the other two classes.
    const adj = 1000 - Math.floor((1000 * (memReq ?? 0)) / Math.max(1, nodeMemory));
    r.oomScoreAdj = Math.min(999, Math.max(adj, 2 + 1));
  }
  return r;
}
