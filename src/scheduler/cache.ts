/**
 * SchedulerCache: the scheduler's picture of the cluster — every node and the pods on it —
 * fed by the node and pod informers, plus *assumed* pods: a pod is placed in the cache on its
 * chosen node the moment the scheduling cycle decides (assumePod), before the binding is
 * written, so the next cycle already sees the node's resources as taken. When the informer
 * later reports the pod bound, the assumption is confirmed; if the binding fails the pod is
 * forgotten (forgetPod). An assumed pod whose binding finished but that the informer never
 * confirms is dropped after a TTL (the cache's expiry of assumed pods).
 *
 * JavaScript runs one scheduling cycle at a time with no informer event in between, so the
 * cache itself serves as the cycle's snapshot (no copy per cycle, unlike upstream's
 * UpdateSnapshot). The node list is kept zone-interleaved (upstream's nodeTree: one node from
 * each zone in turn) so that sampling a fraction of nodes still spreads across zones.
 */
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { NodeInfo } from './node-info.js';
import type { NamespaceLabels, PodInfo } from './pod-info.js';
import type { Snapshot } from './framework.js';
import { normalizeImageName } from './plugins/image-locality/image-locality.js';

const ZONE = 'topology.kubernetes.io/zone';
const REGION = 'topology.kubernetes.io/region';
const DEFAULT_ASSUMED_TTL_MS = 30_000;

interface PodState {
  info: PodInfo;
  nodeName: string;
  assumed: boolean;
  /** When an assumed pod whose binding finished expires (0 = binding still in flight). */
  deadline: number;
}

export class SchedulerCache implements Snapshot {
  private nodes = new Map<string, NodeInfo>();
  private podStates = new Map<string, PodState>();
  private list: NodeInfo[] = [];
  private listDirty = true;
  private withAffinity = new Set<NodeInfo>();
  private withAntiAffinity = new Set<NodeInfo>();
  private imageSpread = new Map<string, { numNodes: number }>();
  private nodeCount = 0;
  namespaceLabels: NamespaceLabels = () => undefined;

  constructor(private readonly assumedTTLMs = DEFAULT_ASSUMED_TTL_MS, private readonly now: () => number = Date.now) {}

  // ---- Snapshot --------------------------------------------------------------------------------

  nodeInfos(): readonly NodeInfo[] {
    if (this.listDirty) this.rebuildList();
    return this.list;
  }

  get(nodeName: string): NodeInfo | undefined {
    const n = this.nodes.get(nodeName);
    return n?.node ? n : undefined;
  }

  havePodsWithAffinity(): Iterable<NodeInfo> {
    return this.withAffinity;
  }

  havePodsWithRequiredAntiAffinity(): Iterable<NodeInfo> {
    return this.withAntiAffinity;
  }

  /** Number of nodes (with a Node object). */
  get numNodes(): number {
    return this.nodeCount;
  }

  private rebuildList(): void {
    const zones = new Map<string, NodeInfo[]>();
    for (const n of this.nodes.values()) {
      if (!n.node) continue;
      const z = `${n.labels[REGION] ?? ''}:${n.labels[ZONE] ?? ''}`;
      let l = zones.get(z);
      if (!l) zones.set(z, (l = []));
      l.push(n);
    }
    const groups = [...zones.values()];
    const out: NodeInfo[] = [];
    for (let i = 0; out.length < this.nodeCount; i++) {
      for (const g of groups) if (i < g.length) out.push(g[i]);
    }
    this.list = out;
    this.listDirty = false;
  }

  // ---- nodes -----------------------------------------------------------------------------------

  addNode(node: Node): NodeInfo {
    const name = node.metadata?.name ?? '';
    let n = this.nodes.get(name);
    if (!n) this.nodes.set(name, (n = new NodeInfo(name)));
    if (!n.node) this.nodeCount++;
    else this.untrackImages(n);
    n.setNode(node);
    this.trackImages(n, node);
    this.listDirty = true;
    return n;
  }

  updateNode(node: Node): NodeInfo {
    const n = this.nodes.get(node.metadata?.name ?? '');
    if (!n || !n.node) return this.addNode(node);
    const zoneBefore = `${n.labels[REGION]}:${n.labels[ZONE]}`;
    const imagesBefore = n.node.status?.images;
    n.setNode(node);
    if (imagesBefore !== node.status?.images && !sameImages(imagesBefore, node.status?.images)) {
      this.untrackImages(n);
      this.trackImages(n, node);
    }
    if (`${n.labels[REGION]}:${n.labels[ZONE]}` !== zoneBefore) this.listDirty = true;
    return n;
  }

  removeNode(name: string): void {
    const n = this.nodes.get(name);
    if (!n) return;
    if (n.node) this.nodeCount--;
    this.untrackImages(n);
    // Pods still bound to the node keep a placeholder until they are deleted (as upstream).
    if (n.pods.length === 0) this.nodes.delete(name);
    else n.node = undefined;
    this.withAffinity.delete(n);
    this.withAntiAffinity.delete(n);
    this.listDirty = true;
  }

  private trackImages(n: NodeInfo, node: Node): void {
    const images = node.status?.images;
    n.images = new Map();
    if (!images) return;
    for (const img of images) {
      for (const raw of img.names ?? []) {
        const name = normalizeImageName(raw);
        if (n.images.has(name)) continue;
        let spread = this.imageSpread.get(name);
        if (!spread) this.imageSpread.set(name, (spread = { numNodes: 0 }));
        spread.numNodes++;
        n.images.set(name, { size: img.sizeBytes ?? 0, spread });
      }
    }
  }

  private untrackImages(n: NodeInfo): void {
    for (const [name, st] of n.images) {
      st.spread.numNodes--;
      if (st.spread.numNodes <= 0) this.imageSpread.delete(name);
    }
    n.images = new Map();
  }

  // ---- pods ------------------------------------------------------------------------------------

  private nodeFor(name: string): NodeInfo {
    let n = this.nodes.get(name);
    if (!n) this.nodes.set(name, (n = new NodeInfo(name)));
    return n;
  }

  private place(info: PodInfo, nodeName: string): void {
    const n = this.nodeFor(nodeName);
    n.addPod(info);
    if (n.node) {
      if (n.podsWithAffinity.length) this.withAffinity.add(n);
      if (n.podsWithRequiredAntiAffinity.length) this.withAntiAffinity.add(n);
    }
  }

  private unplace(info: PodInfo, nodeName: string): void {
    const n = this.nodes.get(nodeName);
    if (!n) return;
    n.removePod(info);
    if (!n.podsWithAffinity.length) this.withAffinity.delete(n);
    if (!n.podsWithRequiredAntiAffinity.length) this.withAntiAffinity.delete(n);
    if (!n.node && n.pods.length === 0) this.nodes.delete(nodeName);
  }

  /** Places a pod on the node the scheduler chose, before its binding is written. */
  assumePod(info: PodInfo, nodeName: string): void {
    if (this.podStates.has(info.key)) throw new Error(`pod ${info.key} is already in the cache`);
    this.place(info, nodeName);
    this.podStates.set(info.key, { info, nodeName, assumed: true, deadline: 0 });
  }

  /** The binding was written: start the clock for the informer to confirm it. */
  finishBinding(key: string): void {
    const st = this.podStates.get(key);
    if (st?.assumed) st.deadline = this.now() + this.assumedTTLMs;
  }

  /** The binding failed: take the assumed pod out again. */
  forgetPod(key: string): void {
    const st = this.podStates.get(key);
    if (!st || !st.assumed) return;
    this.unplace(st.info, st.nodeName);
    this.podStates.delete(key);
  }

  isAssumed(key: string): boolean {
    return this.podStates.get(key)?.assumed === true;
  }

  /** The node a pod is on (bound or assumed). */
  nodeOf(key: string): string | undefined {
    return this.podStates.get(key)?.nodeName;
  }

  podInfo(key: string): PodInfo | undefined {
    return this.podStates.get(key)?.info;
  }

  /** An assigned pod reported by the informer (confirms an assumed one). */
  addPod(pod: Pod, makeInfo: (pod: Pod, existing?: PodInfo) => PodInfo): void {
    const key = `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
    const nodeName = pod.spec?.nodeName ?? '';
    const st = this.podStates.get(key);
    if (st) {
      // Confirmation of an assumption (or a re-add): refresh the PodInfo and move if needed.
      this.unplace(st.info, st.nodeName);
      const info = makeInfo(pod, st.info.uid === (pod.metadata?.uid ?? '') ? st.info : undefined);
      this.place(info, nodeName);
      this.podStates.set(key, { info, nodeName, assumed: false, deadline: 0 });
      return;
    }
    const info = makeInfo(pod);
    this.place(info, nodeName);
    this.podStates.set(key, { info, nodeName, assumed: false, deadline: 0 });
  }

  updatePod(pod: Pod, makeInfo: (pod: Pod, existing?: PodInfo) => PodInfo): void {
    this.addPod(pod, makeInfo);
  }

  removePod(key: string): PodInfo | undefined {
    const st = this.podStates.get(key);
    if (!st) return undefined;
    this.unplace(st.info, st.nodeName);
    this.podStates.delete(key);
    return st.info;
  }

  /** Drops assumed pods whose binding finished long ago without the informer confirming. */
  cleanupAssumedPods(): string[] {
    const now = this.now();
    const expired: string[] = [];
    for (const [key, st] of this.podStates) {
      if (st.assumed && st.deadline > 0 && st.deadline < now) expired.push(key);
    }
    for (const key of expired) {
      const st = this.podStates.get(key)!;
      this.unplace(st.info, st.nodeName);
      this.podStates.delete(key);
    }
    return expired;
  }

  /** Visits every pod in the cache (bound and assumed). */
  forEachPod(fn: (info: PodInfo, nodeName: string) => void): void {
    for (const st of this.podStates.values()) fn(st.info, st.nodeName);
  }

  /** Counts for tests and debugging. */
  stats(): { nodes: number; pods: number; assumed: number } {
    let assumed = 0;
    for (const st of this.podStates.values()) if (st.assumed) assumed++;
    return { nodes: this.nodeCount, pods: this.podStates.size, assumed };
  }
}

function sameImages(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? []) === JSON.stringify(b ?? []);
}
