/**
 * InterPodAffinity ("Assigning Pods to Nodes" — inter-pod affinity and anti-affinity).
 *
 * Topology domains are (topologyKey, node label value) pairs. PreFilter counts, once per pod:
 *  - existing pods' required anti-affinity terms that select the incoming pod, per domain of
 *    the node they run on (the node must carry the key);
 *  - for the incoming pod's required affinity: existing pods matching ALL its terms, per domain
 *    of each term;
 *  - for the incoming pod's required anti-affinity: existing pods matching each term, per domain.
 * Filter then rejects a node (checked in this order, as upstream) when
 *  - for some affinity term the node lacks the key or its domain has no matching pod —
 *    unless no pod anywhere matches and the pod matches its own terms (the first pod of a
 *    group may go anywhere) ("node(s) didn't match pod affinity rules", UnschedulableAndUnresolvable);
 *  - for some anti-affinity term its domain already has a matching pod
 *    ("node(s) didn't match pod anti-affinity rules", Unschedulable);
 *  - one of its label pairs is a domain an existing pod's anti-affinity forbids
 *    ("node(s) didn't satisfy existing pods anti-affinity rules", Unschedulable).
 * Score sums, per domain, the weights of preferred terms (both directions: the incoming pod's
 * preferences and existing pods' preferences about it, with required affinity of existing pods
 * counting weight 1, the default hardPodAffinityWeight) and min-max normalizes to 0..100.
 */
import {
  ClusterEvent, MAX_NODE_SCORE, Status,
  type CycleState, type EnqueueExtensions, type FilterPlugin, type PreFilterPlugin, type PreScorePlugin, type ScorePlugin, type Snapshot,
} from '../../framework.js';
import type { NodeInfo } from '../../node-info.js';
import type { AffinityTerm, NamespaceLabels, PodInfo } from '../../pod-info.js';

export const NAME = 'InterPodAffinity';
export const ERR_AFFINITY = "node(s) didn't match pod affinity rules";
export const ERR_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
export const ERR_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";
const REJECT_AFFINITY = Status.unresolvable(NAME, ERR_AFFINITY);
const REJECT_ANTI = Status.unschedulable(NAME, ERR_ANTI_AFFINITY);
const REJECT_EXISTING = Status.unschedulable(NAME, ERR_EXISTING_ANTI_AFFINITY);
const HARD_POD_AFFINITY_WEIGHT = 1;

const PREFILTER_KEY = 'PreFilter' + NAME;
const PRESCORE_KEY = 'PreScore' + NAME;

/** topologyKey → value → count (empty inner maps are removed, so size 0 means "none"). */
type Counts = Map<string, Map<string, number>>;

function bump(m: Counts, key: string, value: string, d: number): void {
  let inner = m.get(key);
  if (!inner) m.set(key, (inner = new Map()));
  const v = (inner.get(value) ?? 0) + d;
  if (v === 0) {
    inner.delete(value);
    if (inner.size === 0) m.delete(key);
  } else inner.set(value, v);
}

function countOf(m: Counts, key: string, value: string): number {
  return m.get(key)?.get(value) ?? 0;
}

const cloneCounts = (m: Counts): Counts => new Map([...m].map(([k, v]) => [k, new Map(v)]));

class PreFilterState {
  constructor(
    public existingAnti: Counts,
    public affinity: Counts,
    public antiAffinity: Counts,
  ) {}
  /** existingAnti as an array, so Filter walks it without allocating iterators per node. */
  private antiEntries: Array<[string, Map<string, number>]> | null = null;
  existingAntiEntries(): Array<[string, Map<string, number>]> {
    return (this.antiEntries ??= [...this.existingAnti]);
  }
  invalidate(): void {
    this.antiEntries = null;
  }
  clone(): PreFilterState {
    return new PreFilterState(cloneCounts(this.existingAnti), cloneCounts(this.affinity), cloneCounts(this.antiAffinity));
  }
}

function matchesAll(terms: readonly AffinityTerm[], p: PodInfo, ns: NamespaceLabels): boolean {
  if (terms.length === 0) return false;
  for (const t of terms) if (!t.matches(p, ns)) return false;
  return true;
}

/** Adds (d=+1) or removes (d=-1) one existing pod's contribution to the counts. */
function account(st: PreFilterState, pod: PodInfo, existing: PodInfo, node: NodeInfo, ns: NamespaceLabels, d: number): void {
  st.invalidate();
  const labels = node.labels;
  for (const t of existing.requiredAntiAffinityTerms) {
    const v = labels[t.topologyKey];
    if (v !== undefined && t.matches(pod, ns)) bump(st.existingAnti, t.topologyKey, v, d);
  }
  if (pod.requiredAffinityTerms.length && matchesAll(pod.requiredAffinityTerms, existing, ns)) {
    for (const t of pod.requiredAffinityTerms) {
      const v = labels[t.topologyKey];
      if (v !== undefined) bump(st.affinity, t.topologyKey, v, d);
    }
  }
  for (const t of pod.requiredAntiAffinityTerms) {
    const v = labels[t.topologyKey];
    if (v !== undefined && t.matches(existing, ns)) bump(st.antiAffinity, t.topologyKey, v, d);
  }
}

export class InterPodAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = NAME;
  readonly events = ClusterEvent.PodAdd | ClusterEvent.PodUpdate | ClusterEvent.PodDelete | ClusterEvent.NodeAdd | ClusterEvent.NodeLabelChange;
  private nsLabels: NamespaceLabels = () => undefined;

  preFilter(state: CycleState, pod: PodInfo, snapshot: Snapshot): Status | null {
    this.nsLabels = snapshot.namespaceLabels;
    const ns = snapshot.namespaceLabels;
    const st = new PreFilterState(new Map(), new Map(), new Map());
    const hasOwn = pod.requiredAffinityTerms.length + pod.requiredAntiAffinityTerms.length > 0;
    // Existing pods' required anti-affinity against the incoming pod.
    for (const node of snapshot.havePodsWithRequiredAntiAffinity()) {
      const labels = node.labels;
      for (const existing of node.podsWithRequiredAntiAffinity) {
        for (const t of existing.requiredAntiAffinityTerms) {
          const v = labels[t.topologyKey];
          if (v !== undefined && t.matches(pod, ns)) bump(st.existingAnti, t.topologyKey, v, 1);
        }
      }
    }
    if (hasOwn) {
      for (const node of snapshot.nodeInfos()) {
        if (node.pods.length === 0) continue;
        const labels = node.labels;
        for (const existing of node.pods) {
          if (pod.requiredAffinityTerms.length && matchesAll(pod.requiredAffinityTerms, existing, ns)) {
            for (const t of pod.requiredAffinityTerms) {
              const v = labels[t.topologyKey];
              if (v !== undefined) bump(st.affinity, t.topologyKey, v, 1);
            }
          }
          for (const t of pod.requiredAntiAffinityTerms) {
            const v = labels[t.topologyKey];
            if (v !== undefined && t.matches(existing, ns)) bump(st.antiAffinity, t.topologyKey, v, 1);
          }
        }
      }
    }
    if (!hasOwn && st.existingAnti.size === 0) return Status.skip(NAME);
    state.write(PREFILTER_KEY, st);
    return null;
  }

  addPod(state: CycleState, pod: PodInfo, toAdd: PodInfo, nodeInfo: NodeInfo, snapshot: Snapshot): void {
    const st = state.read<PreFilterState>(PREFILTER_KEY);
    if (st) account(st, pod, toAdd, nodeInfo, snapshot.namespaceLabels, 1);
  }

  removePod(state: CycleState, pod: PodInfo, toRemove: PodInfo, nodeInfo: NodeInfo, snapshot: Snapshot): void {
    const st = state.read<PreFilterState>(PREFILTER_KEY);
    if (st) account(st, pod, toRemove, nodeInfo, snapshot.namespaceLabels, -1);
  }

  filter(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status | null {
    const st = state.read<PreFilterState>(PREFILTER_KEY);
    if (!st) return null;
    const labels = nodeInfo.labels;
    if (pod.requiredAffinityTerms.length) {
      let ok = true;
      for (const t of pod.requiredAffinityTerms) {
        const v = labels[t.topologyKey];
        if (v === undefined) return REJECT_AFFINITY; // the key must exist even for the first pod
        if (!(countOf(st.affinity, t.topologyKey, v) > 0)) { ok = false; break; }
      }
      if (!ok && !(st.affinity.size === 0 && matchesAll(pod.requiredAffinityTerms, pod, this.nsLabels))) return REJECT_AFFINITY;
    }
    for (const t of pod.requiredAntiAffinityTerms) {
      const v = labels[t.topologyKey];
      if (v !== undefined && countOf(st.antiAffinity, t.topologyKey, v) > 0) return REJECT_ANTI;
    }
    if (st.existingAnti.size) {
      const entries = st.existingAntiEntries();
      for (let i = 0; i < entries.length; i++) {
        const v = labels[entries[i][0]];
        if (v !== undefined && entries[i][1].has(v)) return REJECT_EXISTING;
      }
    }
    return null;
  }

  preScore(state: CycleState, pod: PodInfo, _nodes: readonly NodeInfo[], snapshot: Snapshot): Status | null {
    const ns = snapshot.namespaceLabels;
    const hasPreferred = pod.preferredAffinityTerms.length + pod.preferredAntiAffinityTerms.length > 0;
    const scores = new Map<string, Map<string, number>>();
    const add = (key: string, value: string | undefined, w: number) => {
      if (value === undefined || w === 0) return;
      let m = scores.get(key);
      if (!m) scores.set(key, (m = new Map()));
      m.set(value, (m.get(value) ?? 0) + w);
    };
    const visit = (node: NodeInfo, existing: PodInfo) => {
      const labels = node.labels;
      for (const t of pod.preferredAffinityTerms) if (t.matches(existing, ns)) add(t.topologyKey, labels[t.topologyKey], t.weight);
      for (const t of pod.preferredAntiAffinityTerms) if (t.matches(existing, ns)) add(t.topologyKey, labels[t.topologyKey], -t.weight);
      for (const t of existing.requiredAffinityTerms) if (t.matches(pod, ns)) add(t.topologyKey, labels[t.topologyKey], HARD_POD_AFFINITY_WEIGHT);
      for (const t of existing.preferredAffinityTerms) if (t.matches(pod, ns)) add(t.topologyKey, labels[t.topologyKey], t.weight);
      for (const t of existing.preferredAntiAffinityTerms) if (t.matches(pod, ns)) add(t.topologyKey, labels[t.topologyKey], -t.weight);
    };
    if (hasPreferred) {
      for (const node of snapshot.nodeInfos()) for (const p of node.pods) visit(node, p);
    } else {
      let any = false;
      for (const node of snapshot.havePodsWithAffinity()) {
        any = true;
        for (const p of node.podsWithAffinity) visit(node, p);
      }
      if (!any) return Status.skip(NAME);
    }
    if (scores.size === 0) return Status.skip(NAME);
    state.write(PRESCORE_KEY, [...scores]);
    return null;
  }

  score(state: CycleState, _pod: PodInfo, nodeInfo: NodeInfo): number {
    const scores = state.read<Array<[string, Map<string, number>]>>(PRESCORE_KEY);
    if (!scores) return 0;
    let s = 0;
    const labels = nodeInfo.labels;
    for (let i = 0; i < scores.length; i++) {
      const v = labels[scores[i][0]];
      if (v !== undefined) s += scores[i][1].get(v) ?? 0;
    }
    return s;
  }

  normalizeScore(state: CycleState, _pod: PodInfo, scores: Float64Array, n: number): void {
    if (!state.read(PRESCORE_KEY)) return;
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < n; i++) {
      if (scores[i] < min) min = scores[i];
      if (scores[i] > max) max = scores[i];
    }
    const diff = max - min;
    for (let i = 0; i < n; i++) scores[i] = diff > 0 ? Math.trunc((MAX_NODE_SCORE * (scores[i] - min)) / diff) : 0;
  }
}
