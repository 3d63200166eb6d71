/**
 * Profile: one configured framework — a scheduler name and its plugins in order, with score
 * weights (upstream's KubeSchedulerProfile + frameworkImpl). It runs the extension points:
 * PreFilter (collecting Skip and PreFilterResult), Filter (first rejection wins, in plugin
 * order), PreScore and Score + NormalizeScore × weight.
 *
 * The default plugin set and weights are upstream's defaults: filters NodeUnschedulable,
 * NodeName, TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit, PodTopologySpread,
 * InterPodAffinity; scores TaintToleration ×3, NodeAffinity ×2, PodTopologySpread ×2,
 * InterPodAffinity ×2, NodeResourcesFit ×1 (LeastAllocated), NodeResourcesBalancedAllocation ×1,
 * ImageLocality ×1.
 */
import {
  Code, CycleState, Status, isFilter, isPreFilter, isPreScore, isScore,
  type FilterPlugin, type Plugin, type PreFilterPlugin, type PreFilterResult, type PreScorePlugin, type ScorePlugin, type Snapshot,
} from './framework.js';
import type { NodeInfo } from './node-info.js';
import type { PodInfo } from './pod-info.js';
import { NodeUnschedulable } from './plugins/node-unschedulable/node-unschedulable.js';
import { NodeName } from './plugins/node-name/node-name.js';
import { TaintToleration } from './plugins/taint-toleration/taint-toleration.js';
import { NodeAffinity } from './plugins/node-affinity/node-affinity.js';
import { NodePorts } from './plugins/node-ports/node-ports.js';
import { NodeResourcesFit, type NodeResourcesFitArgs } from './plugins/node-resources-fit/node-resources-fit.js';
import { PodTopologySpread } from './plugins/pod-topology-spread/pod-topology-spread.js';
import { InterPodAffinity } from './plugins/inter-pod-affinity/inter-pod-affinity.js';
import { NodeResourcesBalancedAllocation } from './plugins/node-resources-balanced-allocation/node-resources-balanced-allocation.js';
import { ImageLocality } from './plugins/image-locality/image-locality.js';

export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

export interface ProfileConfig {
  schedulerName?: string;
  /** Plugins in filter order; each may implement any extension points. */
  plugins: Plugin[];
  /** Score weight per plugin name (default 1). */
  weights?: Record<string, number>;
}

export interface DefaultPluginOptions {
  /** Number of nodes in the cluster (ImageLocality scales by it). */
  totalNodes: () => number;
  nodeResourcesFit?: NodeResourcesFitArgs;
}

export function defaultPlugins(opts: DefaultPluginOptions): { plugins: Plugin[]; weights: Record<string, number> } {
  return {
    plugins: [
      new NodeUnschedulable(), new NodeName(), new TaintToleration(), new NodeAffinity(), new NodePorts(),
      new NodeResourcesFit(opts.nodeResourcesFit), new PodTopologySpread(), new InterPodAffinity(),
      new NodeResourcesBalancedAllocation(), new ImageLocality(opts.totalNodes),
    ],
    weights: {
      TaintToleration: 3, NodeAffinity: 2, PodTopologySpread: 2, InterPodAffinity: 2,
      NodeResourcesFit: 1, NodeResourcesBalancedAllocation: 1, ImageLocality: 1,
    },
  };
}

/** The plugins that take part for one pod (after PreFilter/PreScore skips). */
export interface ActivePlugins {
  filters: FilterPlugin[];
  /** Set by PreFilter when a plugin narrows the candidates. */
  nodeNames: Set<string> | null;
}

export class Profile {
  readonly schedulerName: string;
  readonly plugins: Plugin[];
  readonly preFilters: PreFilterPlugin[];
  readonly filters: FilterPlugin[];
  readonly preScores: PreScorePlugin[];
  readonly scores: ScorePlugin[];
  readonly weights: number[];

  constructor(cfg: ProfileConfig) {
    this.schedulerName = cfg.schedulerName ?? DEFAULT_SCHEDULER_NAME;
    this.plugins = cfg.plugins;
    this.preFilters = cfg.plugins.filter(isPreFilter);
    this.filters = cfg.plugins.filter(isFilter);
    this.preScores = cfg.plugins.filter(isPreScore);
    this.scores = cfg.plugins.filter(isScore);
    this.weights = this.scores.map((p) => cfg.weights?.[p.name] ?? 1);
  }

  /**
   * Runs PreFilter. Returns the filters to run, or a Status when some plugin says no node can
   * fit (or errs).
   */
  runPreFilter(state: CycleState, pod: PodInfo, snapshot: Snapshot): ActivePlugins | Status {
    let nodeNames: Set<string> | null = null;
    for (const p of this.preFilters) {
      let r: Status | PreFilterResult | null;
      try {
        r = p.preFilter(state, pod, snapshot);
      } catch (err) {
        return Status.error(p.name, `running PreFilter plugin "${p.name}": ${(err as Error).message}`);
      }
      if (r === null) continue;
      if (r instanceof Status) {
        if (r.code === Code.Skip) { state.skipFilter.add(p.name); continue; }
        r.plugin ||= p.name;
        return r;
      }
      if (nodeNames === null) nodeNames = new Set(r.nodeNames);
      else for (const n of nodeNames) if (!r.nodeNames.has(n)) nodeNames.delete(n);
    }
    const filters = state.skipFilter.size ? this.filters.filter((f) => !state.skipFilter.has(f.name)) : this.filters;
    return { filters, nodeNames };
  }

  /** Runs PreScore; returns the score plugins to run and their weights. */
  runPreScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], snapshot: Snapshot): { plugins: ScorePlugin[]; weights: number[] } {
    for (const p of this.preScores) {
      const r = p.preScore(state, pod, nodes, snapshot);
      if (r && r.code === Code.Skip) state.skipScore.add(p.name);
    }
    if (state.skipScore.size === 0) return { plugins: this.scores, weights: this.weights };
    const plugins: ScorePlugin[] = [];
    const weights: number[] = [];
    for (let i = 0; i < this.scores.length; i++) {
      if (state.skipScore.has(this.scores[i].name)) continue;
      plugins.push(this.scores[i]);
      weights.push(this.weights[i]);
    }
    return { plugins, weights };
  }

  /** Runs the pre-filters' AddPod/RemovePod hooks (preemption and nominated-pod what-ifs). */
  addPodToState(state: CycleState, pod: PodInfo, toAdd: PodInfo, nodeInfo: NodeInfo, snapshot: Snapshot): void {
    for (const p of this.preFilters) if (!state.skipFilter.has(p.name)) p.addPod?.(state, pod, toAdd, nodeInfo, snapshot);
  }

  removePodFromState(state: CycleState, pod: PodInfo, toRemove: PodInfo, nodeInfo: NodeInfo, snapshot: Snapshot): void {
    for (const p of this.preFilters) if (!state.skipFilter.has(p.name)) p.removePod?.(state, pod, toRemove, nodeInfo, snapshot);
  }
}

/** Runs filters in order; the first rejection is the node's status (null = fits). */
export function runFilters(filters: readonly FilterPlugin[], state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
  for (let j = 0; j < filters.length; j++) {
    const s = filters[j].filter(state, pod, node);
    if (s !== null) return s;
  }
  return null;
}
