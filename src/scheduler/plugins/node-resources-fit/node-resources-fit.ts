/**
 * NodeResourcesFit.
 *
 * Filter: the node must have room for the pod's requests on top of the pods already there —
 * cpu, memory, ephemeral-storage, every extended resource the pod asks for (nvidia.com/gpu,
 * hugepages-*), and one more pod under status.allocatable.pods. The reasons are Kubernetes'
 * ("Insufficient cpu", "Insufficient nvidia.com/gpu", "Too many pods"); all failing resources
 * are reported. Unschedulable: removing pods (preemption) could make room.
 *
 * Score (the plugin's scoring strategy, LeastAllocated by default as upstream): per resource
 * (cpu and memory, weight 1 each) (allocatable - requested) * 100 / allocatable using the
 * non-zero requests (100m / 200Mi for containers without requests), averaged by weight.
 * MostAllocated packs instead: requested * 100 / allocatable.
 */
import { ClusterEvent, MAX_NODE_SCORE, Status, type CycleState, type EnqueueExtensions, type FilterPlugin, type ScorePlugin } from '../../framework.js';
import type { NodeInfo } from '../../node-info.js';
import type { PodInfo } from '../../pod-info.js';

export const NAME = 'NodeResourcesFit';
export const TOO_MANY_PODS = 'Too many pods';

export type ScoringStrategy = 'LeastAllocated' | 'MostAllocated';

export interface NodeResourcesFitArgs {
  scoringStrategy?: ScoringStrategy;
}

const insufficient = (r: string) => `Insufficient ${r}`;
const memo = new Map<string, Status>();
function rejection(reasons: string[]): Status {
  const k = reasons.join('\u0000');
  let s = memo.get(k);
  if (!s) {
    s = Status.unschedulable(NAME, ...reasons);
    if (memo.size < 10_000) memo.set(k, s);
  }
  return s;
}
const TOO_MANY = Status.unschedulable(NAME, TOO_MANY_PODS);
const NO_CPU = Status.unschedulable(NAME, insufficient('cpu'));
const NO_MEM = Status.unschedulable(NAME, insufficient('memory'));
const NO_CPU_MEM = Status.unschedulable(NAME, insufficient('cpu'), insufficient('memory'));

/** Reasons the pod does not fit the node (empty when it fits). Allocates only on failure. */
export function insufficientResources(pod: PodInfo, nodeInfo: NodeInfo): string[] | null {
  let reasons: string[] | null = null;
  const alloc = nodeInfo.allocatable;
  if (nodeInfo.pods.length + 1 > alloc.allowedPodNumber) (reasons ??= []).push(TOO_MANY_PODS);
  const req = pod.requests.requests;
  const used = nodeInfo.requested;
  if (req.milliCPU > 0 && alloc.milliCPU < req.milliCPU + used.milliCPU) (reasons ??= []).push(insufficient('cpu'));
  if (req.memory > 0 && alloc.memory < req.memory + used.memory) (reasons ??= []).push(insufficient('memory'));
  if (req.ephemeralStorage > 0 && alloc.ephemeralStorage < req.ephemeralStorage + used.ephemeralStorage) (reasons ??= []).push(insufficient('ephemeral-storage'));
  if (req.scalar) {
    for (const [name, q] of req.scalar) {
      if (q <= 0) continue;
      if (alloc.getScalar(name) < q + used.getScalar(name)) (reasons ??= []).push(insufficient(name));
    }
  }
  return reasons;
}

export class NodeResourcesFit implements FilterPlugin, ScorePlugin, EnqueueExtensions {
  readonly name = NAME;
  readonly events = ClusterEvent.NodeAdd | ClusterEvent.NodeAllocatableChange | ClusterEvent.PodDelete | ClusterEvent.PodUpdate;
  readonly strategy: ScoringStrategy;

  constructor(args: NodeResourcesFitArgs = {}) {
    this.strategy = args.scoringStrategy ?? 'LeastAllocated';
  }

  filter(_state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status | null {
    // The common cases without allocating: everything fits, or one well-known reason.
    const alloc = nodeInfo.allocatable;
    const req = pod.requests.requests;
    const used = nodeInfo.requested;
    const podsOk = nodeInfo.pods.length + 1 <= alloc.allowedPodNumber;
    const cpuOk = req.milliCPU <= 0 || alloc.milliCPU >= req.milliCPU + used.milliCPU;
    const memOk = req.memory <= 0 || alloc.memory >= req.memory + used.memory;
    const simple = req.ephemeralStorage <= 0 && req.scalar === null;
    if (simple) {
      if (podsOk && cpuOk && memOk) return null;
      if (podsOk) return !cpuOk && !memOk ? NO_CPU_MEM : !cpuOk ? NO_CPU : NO_MEM;
      if (cpuOk && memOk) return TOO_MANY;
    }
    const reasons = insufficientResources(pod, nodeInfo);
    return reasons ? rejection(reasons) : null;
  }

  score(_state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): number {
    const alloc = nodeInfo.allocatable;
    const most = this.strategy === 'MostAllocated';
    let sum = 0;
    let weights = 0;
    if (alloc.milliCPU > 0) {
      const r = nodeInfo.nonZeroMilliCPU + pod.requests.nonZeroMilliCPU;
      sum += most ? mostRequested(r, alloc.milliCPU) : leastRequested(r, alloc.milliCPU);
      weights++;
    }
    if (alloc.memory > 0) {
      const r = nodeInfo.nonZeroMemory + pod.requests.nonZeroMemory;
      sum += most ? mostRequested(r, alloc.memory) : leastRequested(r, alloc.memory);
      weights++;
    }
    return weights ? Math.trunc(sum / weights) : 0;
  }
}

export function leastRequested(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.trunc(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

export function mostRequested(requested: number, capacity: number): number {
  if (capacity === 0) return 0;
  if (requested > capacity) requested = capacity;
  return Math.trunc((requested * MAX_NODE_SCORE) / capacity);
}
