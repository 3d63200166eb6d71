/**
 * GenericScheduler: the scheduling cycle's algorithm for one pod (upstream schedule_one.go
 * schedulePod / findNodesThatFitPod / prioritizeNodes / selectHost).
 *
 *  1. PreFilter. A rejection there fails the pod on every node at once.
 *  2. If the pod carries status.nominatedNodeName (it preempted before), that node is tried
 *     first; if it fits it is chosen without looking further.
 *  3. Filter nodes starting where the previous cycle stopped (round robin over the
 *     zone-interleaved list) until numFeasibleNodesToFind nodes fit: all nodes below 100; above,
 *     an adaptive percentage — 50% minus 1% per 125 nodes, at least 5% — but never fewer than
 *     100 nodes (percentageOfNodesToScore). Pods nominated to a node with priority ≥ the pod's
 *     count as if already there (the room preemption freed is theirs).
 *  4. No node fits: FitError with a histogram of reasons (the FailedScheduling message).
 *     One node fits: chosen without scoring. Otherwise PreScore, Score per plugin,
 *     NormalizeScore, × weight, summed; the highest total wins, ties broken at random
 *     (reservoir sampling, as upstream selectHost).
 */
import { CycleState, Status, Code, type FilterPlugin, type ScorePlugin } from './framework.js';
import type { NodeInfo } from './node-info.js';
import type { PodInfo } from './pod-info.js';
import { runFilters, type Profile } from './profile.js';
import type { SchedulerCache } from './cache.js';
import type { SchedulingQueue } from './queue.js';

const MIN_FEASIBLE_NODES_TO_FIND = 100;
const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;

/**
 * How many feasible nodes to look for. `percentage` 0 (default) is adaptive:
 * 50 - numAllNodes/125, at least 5.
 */
export function numFeasibleNodesToFind(numAllNodes: number, percentage = 0): number {
  if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND) return numAllNodes;
  let pct = percentage;
  if (pct <= 0) {
    pct = 50 - Math.trunc(numAllNodes / 125);
    if (pct < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND) pct = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND;
  }
  if (pct >= 100) return numAllNodes;
  const n = Math.trunc((numAllNodes * pct) / 100);
  return n < MIN_FEASIBLE_NODES_TO_FIND ? MIN_FEASIBLE_NODES_TO_FIND : n;
}

/** Why a pod fits nowhere. */
export class Diagnosis {
  /** Failing status per node name (nodes never checked are absent). */
  nodeToStatus = new Map<string, Status>();
  unschedulablePlugins = new Set<string>();
  /** A PreFilter rejection: the reason for all nodes at once. */
  preFilterMsg = '';
  /** Appended by PostFilter (preemption). */
  postFilterMsg = '';
}

export const NO_NODES_AVAILABLE = 'no nodes available to schedule pods';

/** The reasons no node fits, formatted as Kubernetes prints them in FailedScheduling events. */
export class FitError extends Error {
  constructor(readonly pod: PodInfo, readonly numAllNodes: number, readonly diagnosis: Diagnosis) {
    super(fitErrorMessage(numAllNodes, diagnosis));
    this.name = 'FitError';
  }

  /** The message again, after PostFilter added to the diagnosis. */
  describe(): string {
    this.message = fitErrorMessage(this.numAllNodes, this.diagnosis);
    return this.message;
  }
}

/**
 * `0/N nodes are available: <count> <reason>, ... .` — the reasons histogram sorted as strings
 * (upstream sortReasonsHistogram), then the PostFilter (preemption) message.
 */
export function fitErrorMessage(numAllNodes: number, d: Diagnosis): string {
  if (numAllNodes === 0 && !d.preFilterMsg) return NO_NODES_AVAILABLE;
  let msg = `0/${numAllNodes} nodes are available:`;
  if (d.preFilterMsg) {
    msg += ` ${d.preFilterMsg}.`;
  } else {
    const hist = reasonsHistogram(d.nodeToStatus.values());
    if (hist.length) msg += ` ${hist.join(', ')}.`;
  }
  if (d.postFilterMsg) msg += ` ${d.postFilterMsg}`;
  return msg;
}

/** `${count} ${reason}` for every reason, sorted as strings (as upstream). */
export function reasonsHistogram(statuses: Iterable<Status>): string[] {
  const counts = new Map<string, number>();
  for (const s of statuses) for (const r of s.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  const out = [...counts].map(([r, c]) => `${c} ${r}`);
  out.sort();
  return out;
}

export interface ScheduleResult {
  node: NodeInfo;
  /** Nodes checked by Filter. */
  evaluatedNodes: number;
  feasibleNodes: number;
}

export interface GenericSchedulerOptions {
  /** 0 = adaptive (upstream default). */
  percentageOfNodesToScore?: number;
}

export class GenericScheduler {
  private nextStartNodeIndex = 0;
  private scoreBufs: Float64Array[] = [];
  private totals = new Float64Array(0);
  readonly percentageOfNodesToScore: number;

  constructor(
    private readonly cache: SchedulerCache,
    private readonly queue: SchedulingQueue | undefined,
    opts: GenericSchedulerOptions = {},
  ) {
    this.percentageOfNodesToScore = opts.percentageOfNodesToScore ?? 0;
  }

  /** Picks a node for the pod or throws FitError (no node fits) / Error (a plugin failed). */
  schedule(profile: Profile, state: CycleState, pod: PodInfo): ScheduleResult {
    const snapshot = this.cache;
    const all = snapshot.nodeInfos();
    if (all.length === 0) throw new FitError(pod, 0, new Diagnosis());

    const pre = profile.runPreFilter(state, pod, snapshot);
    if (pre instanceof Status) {
      if (pre.code === Code.Error) throw new Error(pre.message);
      const d = new Diagnosis();
      d.preFilterMsg = pre.message;
      if (pre.plugin) d.unschedulablePlugins.add(pre.plugin);
      for (const n of all) d.nodeToStatus.set(n.name, pre);
      throw new FitError(pod, all.length, d);
    }
    const filters = pre.filters;

    // The node this pod preempted for, first.
    const nominated = pod.pod.status?.nominatedNodeName;
    if (nominated) {
      const n = snapshot.get(nominated);
      if (n && (!pre.nodeNames || pre.nodeNames.has(nominated)) && this.filterWithNominated(profile, filters, state, pod, n) === null) {
        return { node: n, evaluatedNodes: 1, feasibleNodes: 1 };
      }
    }

    const diagnosis = new Diagnosis();
    const feasible: NodeInfo[] = [];
    let evaluated = 0;
    if (pre.nodeNames) {
      for (const name of pre.nodeNames) {
        const n = snapshot.get(name);
        if (!n) continue;
        evaluated++;
        const s = this.filterWithNominated(profile, filters, state, pod, n);
        if (s === null) feasible.push(n);
        else this.record(diagnosis, n, s);
      }
      // Nodes outside the PreFilter result are rejected by the plugin that narrowed them.
    } else {
      const total = all.length;
      const want = numFeasibleNodesToFind(total, this.percentageOfNodesToScore);
      const start = this.nextStartNodeIndex % total;
      const useNominated = this.queue?.hasNominatedPods === true;
      for (let i = 0; i < total && feasible.length < want; i++) {
        const n = all[(start + i) % total];
        evaluated++;
        const s = useNominated ? this.filterWithNominated(profile, filters, state, pod, n) : runFilters(filters, state, pod, n);
        if (s === null) feasible.push(n);
        else this.record(diagnosis, n, s);
      }
      this.nextStartNodeIndex = (start + evaluated) % total;
    }

    if (feasible.length === 0) {
      if (pre.nodeNames) {
        for (const n of all) {
          if (!diagnosis.nodeToStatus.has(n.name)) diagnosis.nodeToStatus.set(n.name, NOT_IN_PREFILTER_RESULT);
        }
        diagnosis.unschedulablePlugins.add('NodeAffinity');
      }
      throw new FitError(pod, all.length, diagnosis);
    }
    if (feasible.length === 1) return { node: feasible[0], evaluatedNodes: evaluated, feasibleNodes: 1 };
    const node = this.prioritize(profile, state, pod, feasible);
    return { node, evaluatedNodes: evaluated, feasibleNodes: feasible.length };
  }

  private record(d: Diagnosis, n: NodeInfo, s: Status): void {
    d.nodeToStatus.set(n.name, s);
    if (s.plugin) d.unschedulablePlugins.add(s.plugin);
  }

  /**
   * Filters with the pods nominated to this node (priority ≥ the pod's) counted as present,
   * then — if any were added — without them too (both must pass, as upstream: the nominated
   * pods may not land there after all, and some filters such as anti-affinity could pass only
   * with them).
   */
  filterWithNominated(profile: Profile, filters: readonly FilterPlugin[], state: CycleState, pod: PodInfo, n: NodeInfo): Status | null {
    const nominated = this.queue?.nominatedPodsForNode(n.name);
    if (!nominated) return runFilters(filters, state, pod, n);
    let clone: NodeInfo | undefined;
    let st: CycleState | undefined;
    for (const np of nominated) {
      if (np.key === pod.key || np.priority < pod.priority) continue;
      if (!clone) { clone = n.clone(); st = state.clone(); }
      clone.addPod(np);
      profile.addPodToState(st!, pod, np, clone, this.cache);
    }
    if (!clone) return runFilters(filters, state, pod, n);
    const s = runFilters(filters, st!, pod, clone);
    if (s !== null) return s;
    return runFilters(filters, state, pod, n);
  }

  private prioritize(profile: Profile, state: CycleState, pod: PodInfo, feasible: NodeInfo[]): NodeInfo {
    const n = feasible.length;
    const { plugins, weights } = profile.runPreScore(state, pod, feasible, this.cache);
    if (this.totals.length < n) this.totals = new Float64Array(Math.max(n, this.totals.length * 2));
    const totals = this.totals;
    totals.fill(0, 0, n);
    for (let j = 0; j < plugins.length; j++) {
      const p: ScorePlugin = plugins[j];
      let buf = this.scoreBufs[j];
      if (!buf || buf.length < n) this.scoreBufs[j] = buf = new Float64Array(Math.max(n, (buf?.length ?? 0) * 2));
      for (let i = 0; i < n; i++) buf[i] = p.score(state, pod, feasible[i]);
      p.normalizeScore?.(state, pod, buf, n);
      const w = weights[j];
      for (let i = 0; i < n; i++) totals[i] += buf[i] * w;
    }
    // selectHost: the best score, ties broken uniformly at random.
    let best = 0;
    let bestScore = totals[0];
    let ties = 1;
    for (let i = 1; i < n; i++) {
      const s = totals[i];
      if (s > bestScore) {
        bestScore = s;
        best = i;
        ties = 1;
      } else if (s === bestScore) {
        ties++;
        if (Math.random() * ties < 1) best = i;
      }
    }
    return feasible[best];
  }
}

const NOT_IN_PREFILTER_RESULT = Status.unresolvable('NodeAffinity', 'node is filtered out by the prefilter result');
