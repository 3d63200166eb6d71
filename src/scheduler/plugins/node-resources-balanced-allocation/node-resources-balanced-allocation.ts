/**
 * NodeResourcesBalancedAllocation: prefers nodes whose cpu and memory would be used in equal
 * proportion after placing the pod. With f = requested/allocatable per resource (capped at 1),
 * score = (1 - standard deviation of the fractions) * 100. Uses exact requests, and is skipped
 * for pods requesting neither cpu nor memory (as upstream).
 */
import { MAX_NODE_SCORE, Status, type CycleState, type PreScorePlugin, type ScorePlugin } from '../../framework.js';
import type { NodeInfo } from '../../node-info.js';
import type { PodInfo } from '../../pod-info.js';

export const NAME = 'NodeResourcesBalancedAllocation';

export class NodeResourcesBalancedAllocation implements PreScorePlugin, ScorePlugin {
  readonly name = NAME;

  preScore(_state: CycleState, pod: PodInfo): Status | null {
    const r = pod.requests.requests;
    return r.milliCPU === 0 && r.memory === 0 ? Status.skip(NAME) : null;
  }

  score(_state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): number {
    const alloc = nodeInfo.allocatable;
    const req = pod.requests.requests;
    let f1 = -1;
    let f2 = -1;
    if (alloc.milliCPU > 0) f1 = Math.min(1, (nodeInfo.requested.milliCPU + req.milliCPU) / alloc.milliCPU);
    if (alloc.memory > 0) f2 = Math.min(1, (nodeInfo.requested.memory + req.memory) / alloc.memory);
    let std = 0;
    if (f1 >= 0 && f2 >= 0) std = Math.abs(f1 - f2) / 2;
    return Math.trunc((1 - std) * MAX_NODE_SCORE);
  }
}
