/**
 * NodeAffinity: Filter keeps nodes matching spec.nodeSelector and the required node affinity
 * (UnschedulableAndUnresolvable otherwise); Score adds the weights of the preferred terms a
 * node matches, normalized so the best node gets MAX_NODE_SCORE.
 * PreFilter skips the filter for pods without constraints and, when every required term pins
 * metadata.name, narrows the candidate nodes to those names (as upstream does for DaemonSet pods).
 */
import {
  ClusterEvent, MAX_NODE_SCORE, Status, defaultNormalizeScore,
  type CycleState, type EnqueueExtensions, type FilterPlugin, type PreFilterPlugin, type PreFilterResult,
  type PreScorePlugin, type ScorePlugin,
} from '../../framework.js';
import type { NodeInfo } from '../../node-info.js';
import type { PodInfo } from '../../pod-info.js';
import { PreferredNodeSelector, requiredNodeSelectorOf } from '../helper/node-selector.js';

export const NAME = 'NodeAffinity';
export const ERR_REASON = "node(s) didn't match Pod's node affinity/selector";
const REJECT = Status.unresolvable(NAME, ERR_REASON);
const PRESCORE_KEY = 'PreScore' + NAME;

export class NodeAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = NAME;
  readonly events = ClusterEvent.NodeAdd | ClusterEvent.NodeLabelChange;

  preFilter(_state: CycleState, pod: PodInfo): Status | PreFilterResult | null {
    const sel = requiredNodeSelectorOf(pod.pod);
    if (sel.empty) return Status.skip(NAME);
    if (sel.nodeNames) return { nodeNames: sel.nodeNames };
    return null;
  }

  filter(_state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status | null {
    return requiredNodeSelectorOf(pod.pod).matches(nodeInfo) ? null : REJECT;
  }

  preScore(state: CycleState, pod: PodInfo): Status | null {
    const pref = new PreferredNodeSelector(pod.pod);
    if (pref.empty) return Status.skip(NAME);
    state.write(PRESCORE_KEY, pref);
    return null;
  }

  score(state: CycleState, _pod: PodInfo, nodeInfo: NodeInfo): number {
    const pref = state.read<PreferredNodeSelector>(PRESCORE_KEY);
    return pref ? pref.score(nodeInfo) : 0;
  }

  normalizeScore(_state: CycleState, _pod: PodInfo, scores: Float64Array, n: number): void {
    defaultNormalizeScore(MAX_NODE_SCORE, false, scores, n);
  }
}
