/**
 * The scheduling framework's contracts (Kubernetes' "Scheduling Framework": PreFilter →
 * Filter → PostFilter → PreScore → Score → NormalizeScore → Reserve → Bind).
 *
 * Plugins are pure functions over a snapshot:
 *  - `preFilter(state, pod, snapshot)` computes per-pod data once per scheduling cycle and
 *    stores it in the CycleState; it may return a Status with code Skip (the plugin's Filter
 *    is not run for this pod), a failure (no node can fit), or a PreFilterResult narrowing the
 *    candidate nodes.
 *  - `filter(state, pod, nodeInfo)` returns null when the node fits and a Status otherwise.
 *    Returning null (not a fresh object) keeps the hot loop allocation-free; failure statuses
 *    with a fixed message are module constants for the same reason.
 *  - `score(state, pod, nodeInfo)` returns a number; `normalizeScore` rescales all the scores
 *    of one plugin to 0..MAX_NODE_SCORE; the framework multiplies by the plugin's weight.
 *  - Unschedulable means "might fit if other pods went away" (preemption may help);
 *    UnschedulableAndUnresolvable means preemption cannot help on that node.
 */
import type { NodeInfo } from './node-info.js';
import type { NamespaceLabels, PodInfo } from './pod-info.js';

export const MAX_NODE_SCORE = 100;
export const MIN_NODE_SCORE = 0;

export const Code = {
  Success: 0,
  Error: 1,
  Unschedulable: 2,
  UnschedulableAndUnresolvable: 3,
  Wait: 4,
  Skip: 5,
} as const;
export type Code = (typeof Code)[keyof typeof Code];

export class Status {
  constructor(readonly code: Code, readonly reasons: readonly string[], public plugin = '') {}

  static unschedulable(plugin: string, ...reasons: string[]): Status {
    return new Status(Code.Unschedulable, reasons, plugin);
  }
  static unresolvable(plugin: string, ...reasons: string[]): Status {
    return new Status(Code.UnschedulableAndUnresolvable, reasons, plugin);
  }
  static error(plugin: string, message: string): Status {
    return new Status(Code.Error, [message], plugin);
  }
  static skip(plugin = ''): Status {
    return new Status(Code.Skip, [], plugin);
  }

  get message(): string {
    return this.reasons.join(', ');
  }
  isRejected(): boolean {
    return this.code === Code.Unschedulable || this.code === Code.UnschedulableAndUnresolvable;
  }
}

/** Per-pod, per-cycle plugin data (the framework's CycleState). */
export class CycleState {
  private data = new Map<string, unknown>();
  /** Plugins whose PreFilter returned Skip (their Filter is not called). */
  skipFilter = new Set<string>();
  /** Plugins whose PreScore returned Skip. */
  skipScore = new Set<string>();

  read<T>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }
  write(key: string, value: unknown): void {
    this.data.set(key, value);
  }
  /** A copy for what-if runs (preemption); values are shared, plugins copy what they mutate. */
  clone(): CycleState {
    const c = new CycleState();
    for (const [k, v] of this.data) c.data.set(k, typeof (v as any)?.clone === 'function' ? (v as any).clone() : v);
    c.skipFilter = new Set(this.skipFilter);
    c.skipScore = new Set(this.skipScore);
    return c;
  }
}

/** The cluster as one scheduling cycle sees it. */
export interface Snapshot {
  /** All nodes, zone-interleaved (the order nodes are tried in). */
  nodeInfos(): readonly NodeInfo[];
  get(nodeName: string): NodeInfo | undefined;
  /** Nodes with at least one pod that has any pod (anti-)affinity. */
  havePodsWithAffinity(): Iterable<NodeInfo>;
  /** Nodes with at least one pod that has required anti-affinity. */
  havePodsWithRequiredAntiAffinity(): Iterable<NodeInfo>;
  namespaceLabels: NamespaceLabels;
}

/** PreFilter may restrict the nodes worth checking (e.g. matchFields on metadata.name). */
export interface PreFilterResult {
  nodeNames: Set<string>;
}

export interface Plugin {
  readonly name: string;
}

export interface PreFilterPlugin extends Plugin {
  preFilter(state: CycleState, pod: PodInfo, snapshot: Snapshot): Status | PreFilterResult | null;
  /** Preemption what-ifs: keep PreFilter state in step when a pod is added/removed on a node. */
  addPod?(state: CycleState, pod: PodInfo, toAdd: PodInfo, nodeInfo: NodeInfo, snapshot: Snapshot): void;
  removePod?(state: CycleState, pod: PodInfo, toRemove: PodInfo, nodeInfo: NodeInfo, snapshot: Snapshot): void;
}

export interface FilterPlugin extends Plugin {
  filter(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status | null;
}

export interface PreScorePlugin extends Plugin {
  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], snapshot: Snapshot): Status | null;
}

export interface ScorePlugin extends Plugin {
  score(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): number;
  /** Rescales scores[0..n) in place to 0..MAX_NODE_SCORE. */
  normalizeScore?(state: CycleState, pod: PodInfo, scores: Float64Array, n: number): void;
}

/** Cluster events a rejected pod may be waiting for (the plugins' EventsToRegister). */
export const ClusterEvent = {
  NodeAdd: 1,
  NodeLabelChange: 2,
  NodeTaintChange: 4,
  NodeAllocatableChange: 8,
  NodeSchedulableChange: 16,
  NodeImagesChange: 32,
  PodAdd: 64,
  PodUpdate: 128,
  PodDelete: 256,
  NodeDelete: 512,
  Any: 0x7fffffff,
} as const;

export interface EnqueueExtensions {
  /** Events (ClusterEvent bits) that may make a pod this plugin rejected schedulable. */
  readonly events: number;
}

export function isPreFilter(p: Plugin): p is PreFilterPlugin {
  return typeof (p as any).preFilter === 'function';
}
export function isFilter(p: Plugin): p is FilterPlugin {
  return typeof (p as any).filter === 'function';
}
export function isPreScore(p: Plugin): p is PreScorePlugin {
  return typeof (p as any).preScore === 'function';
}
export function isScore(p: Plugin): p is ScorePlugin {
  return typeof (p as any).score === 'function';
}

/**
 * helper.DefaultNormalizeScore: scales to 0..maxPriority by the largest score; `reverse`
 * turns "more is worse" counts into "more is better" scores. All zero → all max when reversed.
 */
export function defaultNormalizeScore(maxPriority: number, reverse: boolean, scores: Float64Array, n: number): void {
  let max = 0;
  for (let i = 0; i < n; i++) if (scores[i] > max) max = scores[i];
  if (max === 0) {
    if (reverse) for (let i = 0; i < n; i++) scores[i] = maxPriority;
    return;
  }
  for (let i = 0; i < n; i++) {
    let s = Math.trunc((maxPriority * scores[i]) / max);
    if (reverse) s = maxPriority - s;
    scores[i] = s;
  }
}
