/**
 * TaintToleration: Filter rejects nodes with a NoSchedule or NoExecute taint the pod does not
 * tolerate (UnschedulableAndUnresolvable: evicting pods cannot remove a taint). Score counts
 * the PreferNoSchedule taints not tolerated; fewer is better (normalized in reverse).
 */
import type { Toleration } from 'kubernetes-types/core/v1.js';
import {
  ClusterEvent, MAX_NODE_SCORE, Status, defaultNormalizeScore,
  type CycleState, type EnqueueExtensions, type FilterPlugin, type PreScorePlugin, type ScorePlugin,
} from '../../framework.js';
import type { NodeInfo } from '../../node-info.js';
import type { PodInfo } from '../../pod-info.js';
import { findUntoleratedTaint, tolerationsTolerateTaint } from '../helper/taints.js';

export const NAME = 'TaintToleration';
const STATE_KEY = 'PreScore' + NAME;

/** Memoized rejections: one Status per distinct taint text (and per taint object, allocation-free). */
const rejections = new Map<string, Status>();
const byTaint = new WeakMap<object, Status>();

export function untoleratedTaintReason(key: string, value: string | undefined): string {
  return `node(s) had untolerated taint {${key}: ${value ?? ''}}`;
}

export class TaintToleration implements FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = NAME;
  readonly events = ClusterEvent.NodeAdd | ClusterEvent.NodeTaintChange;

  filter(_state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status | null {
    if (nodeInfo.taints.length === 0) return null;
    const taint = findUntoleratedTaint(nodeInfo.taints, pod.tolerations);
    if (!taint) return null;
    let s = byTaint.get(taint);
    if (s) return s;
    const k = `${taint.key}\u0000${taint.value ?? ''}`;
    s = rejections.get(k);
    if (!s) {
      s = Status.unresolvable(NAME, untoleratedTaintReason(taint.key, taint.value));
      if (rejections.size < 10_000) rejections.set(k, s);
    }
    byTaint.set(taint, s);
    return s;
  }

  preScore(state: CycleState, pod: PodInfo): Status | null {
    // Tolerations with an empty effect match every effect, PreferNoSchedule included.
    const prefer = pod.tolerations.filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
    state.write(STATE_KEY, prefer);
    return null;
  }

  score(state: CycleState, _pod: PodInfo, nodeInfo: NodeInfo): number {
    const taints = nodeInfo.taints;
    if (taints.length === 0) return 0;
    const tolerations = state.read<Toleration[]>(STATE_KEY) ?? [];
    let n = 0;
    for (let i = 0; i < taints.length; i++) {
      if (taints[i].effect !== 'PreferNoSchedule') continue;
      if (!tolerationsTolerateTaint(tolerations, taints[i])) n++;
    }
    return n;
  }

  normalizeScore(_state: CycleState, _pod: PodInfo, scores: Float64Array, n: number): void {
    defaultNormalizeScore(MAX_NODE_SCORE, true, scores, n);
  }
}
