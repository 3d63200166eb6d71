/**
 * PodTopologySpread ("Pod Topology Spread Constraints").
 *
 * A constraint counts, per domain (value of topologyKey on a node), the pods in the pod's
 * namespace matching labelSelector (plus matchLabelKeys taken from the pod's own labels),
 * ignoring terminating pods. Only nodes that carry every constraint's key take part, and —
 * with nodeAffinityPolicy Honor (default) — only nodes matching the pod's nodeSelector/required
 * node affinity; with nodeTaintsPolicy Honor, only nodes whose taints the pod tolerates.
 *
 * Filter (whenUnsatisfiable DoNotSchedule): placing the pod on a node in domain d gives
 * skew = count(d) + (1 if the pod matches its own selector) - min over domains; the node is
 * rejected when skew > maxSkew ("node(s) didn't match pod topology spread constraints",
 * Unschedulable). When fewer domains than minDomains exist, the minimum counts as 0. Nodes
 * without the key are rejected as UnschedulableAndUnresolvable ("... (missing required label)").
 *
 * Score (ScheduleAnyway): for each constraint count(d) × log(domains + 2) + (maxSkew - 1),
 * summed and rounded; fewer is better: normalized as 100 × (max + min - s) / max; nodes
 * without the keys score 0.
 */
import type { Pod, TopologySpreadConstraint } from 'kubernetes-types/core/v1.js';
import { labelSelectorFromObject, type LabelSelector } from '../../../apimachinery/labels.js';
import {
  ClusterEvent, MAX_NODE_SCORE, Status,
  type CycleState, type EnqueueExtensions, type FilterPlugin, type PreFilterPlugin, type PreScorePlugin, type ScorePlugin, type Snapshot,
} from '../../framework.js';
import type { NodeInfo } from '../../node-info.js';
import type { PodInfo } from '../../pod-info.js';
import { requiredNodeSelectorOf } from '../helper/node-selector.js';
import { findUntoleratedTaint } from '../helper/taints.js';

export const NAME = 'PodTopologySpread';
export const ERR_CONSTRAINTS = "node(s) didn't match pod topology spread constraints";
export const ERR_MISSING_LABEL = "node(s) didn't match pod topology spread constraints (missing required label)";
const REJECT = Status.unschedulable(NAME, ERR_CONSTRAINTS);
const REJECT_LABEL = Status.unresolvable(NAME, ERR_MISSING_LABEL);
const HOSTNAME = 'kubernetes.io/hostname';
const PREFILTER_KEY = 'PreFilter' + NAME;
const PRESCORE_KEY = 'PreScore' + NAME;
const INVALID_SCORE = -1;

export interface Constraint {
  maxSkew: number;
  topologyKey: string;
  selector: LabelSelector;
  minDomains: number;
  honorAffinity: boolean;
  honorTaints: boolean;
}

function compile(pod: Pod, c: TopologySpreadConstraint): Constraint {
  let sel: LabelSelector;
  try {
    const base: any = c.labelSelector ? structuredClone(c.labelSelector) : null;
    // matchLabelKeys: the pod's own values for these keys are ANDed into the selector.
    if (base && c.matchLabelKeys?.length) {
      const labels = pod.metadata?.labels ?? {};
      base.matchExpressions = [...(base.matchExpressions ?? [])];
      for (const k of c.matchLabelKeys) if (k in labels) base.matchExpressions.push({ key: k, operator: 'In', values: [labels[k]] });
    }
    sel = labelSelectorFromObject(base);
  } catch {
    sel = labelSelectorFromObject(null);
  }
  return {
    maxSkew: c.maxSkew ?? 1,
    topologyKey: c.topologyKey,
    selector: sel,
    minDomains: c.minDomains ?? 1,
    honorAffinity: (c.nodeAffinityPolicy ?? 'Honor') === 'Honor',
    honorTaints: c.nodeTaintsPolicy === 'Honor',
  };
}

const compiled = new WeakMap<Pod, { hard: Constraint[]; soft: Constraint[] }>();

export function constraintsOf(pod: Pod): { hard: Constraint[]; soft: Constraint[] } {
  let c = compiled.get(pod);
  if (!c) {
    const all = pod.spec?.topologySpreadConstraints ?? [];
    c = {
      hard: all.filter((x) => x.whenUnsatisfiable === 'DoNotSchedule').map((x) => compile(pod, x)),
      soft: all.filter((x) => x.whenUnsatisfiable === 'ScheduleAnyway').map((x) => compile(pod, x)),
    };
    compiled.set(pod, c);
  }
  return c;
}

function hasAllKeys(node: NodeInfo, cs: Constraint[]): boolean {
  for (const c of cs) if (node.labels[c.topologyKey] === undefined) return false;
  return true;
}

function nodeIncluded(pod: PodInfo, c: Constraint, node: NodeInfo): boolean {
  if (c.honorAffinity && !requiredNodeSelectorOf(pod.pod).matches(node)) return false;
  if (c.honorTaints && findUntoleratedTaint(node.taints, pod.tolerations)) return false;
  return true;
}

/** Pods on the node counted by a constraint: same namespace, selected, not terminating. */
export function countMatching(node: NodeInfo, c: Constraint, namespace: string): number {
  let n = 0;
  for (const p of node.pods) {
    if (p.namespace !== namespace || p.terminating) continue;
    if (c.selector.matches(p.labels)) n++;
  }
  return n;
}

class PreFilterState {
  constructor(
    readonly constraints: Constraint[],
    /** Per constraint: domain value → matching pods. */
    readonly counts: Map<string, number>[],
    readonly mins: number[],
  ) {}

  recomputeMin(i: number): void {
    let m = Infinity;
    for (const v of this.counts[i].values()) if (v < m) m = v;
    this.mins[i] = m === Infinity ? 0 : m;
  }

  clone(): PreFilterState {
    return new PreFilterState(this.constraints, this.counts.map((m) => new Map(m)), [...this.mins]);
  }
}

class PreScoreState {
  constructor(
    readonly constraints: Constraint[],
    readonly counts: Map<string, number>[],
    readonly weights: number[],
    readonly ignored: Set<string>,
    readonly namespace: string,
  ) {}
}

export class PodTopologySpread implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = NAME;
  readonly events = ClusterEvent.PodAdd | ClusterEvent.PodUpdate | ClusterEvent.PodDelete | ClusterEvent.NodeAdd |
    ClusterEvent.NodeLabelChange | ClusterEvent.NodeTaintChange | ClusterEvent.NodeDelete;

  preFilter(state: CycleState, pod: PodInfo, snapshot: Snapshot): Status | null {
    const { hard } = constraintsOf(pod.pod);
    if (hard.length === 0) return Status.skip(NAME);
    const counts = hard.map(() => new Map<string, number>());
    for (const node of snapshot.nodeInfos()) {
      if (!hasAllKeys(node, hard)) continue;
      for (let i = 0; i < hard.length; i++) {
        const c = hard[i];
        if (!nodeIncluded(pod, c, node)) continue;
        const v = node.labels[c.topologyKey];
        counts[i].set(v, (counts[i].get(v) ?? 0) + countMatching(node, c, pod.namespace));
      }
    }
    const st = new PreFilterState(hard, counts, hard.map(() => 0));
    for (let i = 0; i < hard.length; i++) st.recomputeMin(i);
    state.write(PREFILTER_KEY, st);
    return null;
  }

  private adjust(state: CycleState, pod: PodInfo, other: PodInfo, node: NodeInfo, d: number): void {
    const st = state.read<PreFilterState>(PREFILTER_KEY);
    if (!st || other.namespace !== pod.namespace || other.terminating || !hasAllKeys(node, st.constraints)) return;
    for (let i = 0; i < st.constraints.length; i++) {
      const c = st.constraints[i];
      if (!nodeIncluded(pod, c, node) || !c.selector.matches(other.labels)) continue;
      const v = node.labels[c.topologyKey];
      st.counts[i].set(v, (st.counts[i].get(v) ?? 0) + d);
      st.recomputeMin(i);
    }
  }

  addPod(state: CycleState, pod: PodInfo, toAdd: PodInfo, nodeInfo: NodeInfo): void {
    this.adjust(state, pod, toAdd, nodeInfo, 1);
  }

  removePod(state: CycleState, pod: PodInfo, toRemove: PodInfo, nodeInfo: NodeInfo): void {
    this.adjust(state, pod, toRemove, nodeInfo, -1);
  }

  filter(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status | null {
    const st = state.read<PreFilterState>(PREFILTER_KEY);
    if (!st) return null;
    const labels = nodeInfo.labels;
    for (let i = 0; i < st.constraints.length; i++) {
      const c = st.constraints[i];
      const v = labels[c.topologyKey];
      if (v === undefined) return REJECT_LABEL;
      const selfMatch = c.selector.matches(pod.labels) ? 1 : 0;
      const matchNum = st.counts[i].get(v) ?? 0;
      const min = st.counts[i].size < c.minDomains ? 0 : st.mins[i];
      if (matchNum + selfMatch - min > c.maxSkew) return REJECT;
    }
    return null;
  }

  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], snapshot: Snapshot): Status | null {
    const { soft } = constraintsOf(pod.pod);
    if (soft.length === 0) return Status.skip(NAME);
    const ignored = new Set<string>();
    const domains = soft.map(() => new Set<string>());
    for (const node of nodes) {
      if (!hasAllKeys(node, soft)) { ignored.add(node.name); continue; }
      for (let i = 0; i < soft.length; i++) domains[i].add(node.labels[soft[i].topologyKey]);
    }
    const counts = soft.map(() => new Map<string, number>());
    const needCluster = soft.some((c) => c.topologyKey !== HOSTNAME);
    if (needCluster) {
      for (const node of snapshot.nodeInfos()) {
        if (!hasAllKeys(node, soft)) continue;
        for (let i = 0; i < soft.length; i++) {
          const c = soft[i];
          if (c.topologyKey === HOSTNAME || !nodeIncluded(pod, c, node)) continue;
          const v = node.labels[c.topologyKey];
          if (!domains[i].has(v)) continue;
          counts[i].set(v, (counts[i].get(v) ?? 0) + countMatching(node, c, pod.namespace));
        }
      }
    }
    const weights = soft.map((c, i) => Math.log((c.topologyKey === HOSTNAME ? nodes.length - ignored.size : domains[i].size) + 2));
    state.write(PRESCORE_KEY, new PreScoreState(soft, counts, weights, ignored, pod.namespace));
    return null;
  }

  score(state: CycleState, _pod: PodInfo, nodeInfo: NodeInfo): number {
    const st = state.read<PreScoreState>(PRESCORE_KEY);
    if (!st) return 0;
    if (st.ignored.has(nodeInfo.name)) return INVALID_SCORE;
    let s = 0;
    for (let i = 0; i < st.constraints.length; i++) {
      const c = st.constraints[i];
      const cnt = c.topologyKey === HOSTNAME ? countMatching(nodeInfo, c, st.namespace) : st.counts[i].get(nodeInfo.labels[c.topologyKey]) ?? 0;
      s += cnt * st.weights[i] + (c.maxSkew - 1);
    }
    return Math.round(s);
  }

  normalizeScore(state: CycleState, _pod: PodInfo, scores: Float64Array, n: number): void {
    if (!state.read(PRESCORE_KEY)) return;
    let min = Infinity;
    let max = 0;
    for (let i = 0; i < n; i++) {
      const s = scores[i];
      if (s === INVALID_SCORE) continue;
      if (s < min) min = s;
      if (s > max) max = s;
    }
    for (let i = 0; i < n; i++) {
      const s = scores[i];
      if (s === INVALID_SCORE) scores[i] = 0;
      else if (max === 0) scores[i] = MAX_NODE_SCORE;
      else scores[i] = Math.trunc((MAX_NODE_SCORE * (max + min - s)) / max);
    }
  }
}
