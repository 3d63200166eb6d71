/**
 * NodeInfo: a node and the pods on it as the scheduler sees them (bound + assumed), with the
 * sums the filters need kept up to date incrementally — requested resources, used host ports,
 * pods with (anti-)affinity — as the scheduler framework's NodeInfo does.
 */
import type { Node, Taint } from 'kubernetes-types/core/v1.js';
import { Resource } from './resources.js';
import type { HostPort, PodInfo } from './pod-info.js';

const NO_TAINTS: readonly Taint[] = Object.freeze([]);
const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

export interface ImageState {
  /** Size in bytes as this node reports it. */
  size: number;
  /** How many nodes have the image: one object per image, shared by all NodeInfos (the cache keeps it). */
  spread: { numNodes: number };
}

export class NodeInfo {
  node: Node | undefined;
  readonly name: string;
  labels: Readonly<Record<string, string>> = NO_LABELS;
  taints: readonly Taint[] = NO_TAINTS;
  unschedulable = false;
  allocatable = new Resource();
  /** Sum of the exact requests of the pods here. */
  requested = new Resource();
  /** Sum of the requests with defaults for unset cpu/memory (for scoring). */
  nonZeroMilliCPU = 0;
  nonZeroMemory = 0;
  pods: PodInfo[] = [];
  /** Pods with any pod affinity or anti-affinity. */
  podsWithAffinity: PodInfo[] = [];
  /** Pods with required anti-affinity. */
  podsWithRequiredAntiAffinity: PodInfo[] = [];
  usedPorts: HostPort[] = [];
  /** Normalized image name → state, from node.status.images. */
  images: Map<string, ImageState> = new Map();
  /** Bumped on every change (cheap change detection for snapshots and tests). */
  generation = 0;

  constructor(name: string, node?: Node) {
    this.name = name;
    if (node) this.setNode(node);
  }

  setNode(node: Node): void {
    this.node = node;
    this.labels = node.metadata?.labels ?? NO_LABELS;
    this.taints = node.spec?.taints?.length ? node.spec.taints : NO_TAINTS;
    this.unschedulable = node.spec?.unschedulable === true;
    this.allocatable = Resource.fromList((node.status?.allocatable ?? node.status?.capacity) as Record<string, string> | undefined);
    this.generation++;
  }

  addPod(p: PodInfo): void {
    this.pods.push(p);
    this.requested.add(p.requests.requests);
    this.nonZeroMilliCPU += p.requests.nonZeroMilliCPU;
    this.nonZeroMemory += p.requests.nonZeroMemory;
    if (p.hasAffinity) this.podsWithAffinity.push(p);
    if (p.requiredAntiAffinityTerms.length) this.podsWithRequiredAntiAffinity.push(p);
    for (const hp of p.hostPorts) this.usedPorts.push(hp);
    this.generation++;
  }

  /** Removes a pod (matched by key); returns false if it was not here. */
  removePod(p: PodInfo): boolean {
    const i = indexOfKey(this.pods, p.key);
    if (i < 0) return false;
    const old = this.pods[i];
    this.pods[i] = this.pods[this.pods.length - 1];
    this.pods.pop();
    this.requested.sub(old.requests.requests);
    this.nonZeroMilliCPU -= old.requests.nonZeroMilliCPU;
    this.nonZeroMemory -= old.requests.nonZeroMemory;
    removeKey(this.podsWithAffinity, old.key);
    removeKey(this.podsWithRequiredAntiAffinity, old.key);
    if (old.hostPorts.length) {
      for (const hp of old.hostPorts) {
        const j = this.usedPorts.indexOf(hp);
        if (j >= 0) this.usedPorts.splice(j, 1);
      }
    }
    this.generation++;
    return true;
  }

  /** A copy whose pod list and sums can be changed without touching this one (preemption). */
  clone(): NodeInfo {
    const c = new NodeInfo(this.name);
    c.node = this.node;
    c.labels = this.labels;
    c.taints = this.taints;
    c.unschedulable = this.unschedulable;
    c.allocatable = this.allocatable;
    c.requested = this.requested.clone();
    c.nonZeroMilliCPU = this.nonZeroMilliCPU;
    c.nonZeroMemory = this.nonZeroMemory;
    c.pods = [...this.pods];
    c.podsWithAffinity = [...this.podsWithAffinity];
    c.podsWithRequiredAntiAffinity = [...this.podsWithRequiredAntiAffinity];
    c.usedPorts = [...this.usedPorts];
    c.images = this.images;
    c.generation = this.generation;
    return c;
  }
}

function indexOfKey(list: PodInfo[], key: string): number {
  for (let i = 0; i < list.length; i++) if (list[i].key === key) return i;
  return -1;
}

function removeKey(list: PodInfo[], key: string): void {
  const i = indexOfKey(list, key);
  if (i >= 0) list.splice(i, 1);
}
