/**
 * Builders for scheduler unit tests: nodes, pods and a cache-backed snapshot.
 */
import type { Node, Pod, Taint } from 'kubernetes-types/core/v1.js';
import { SchedulerCache } from './cache.js';
import { PodInfo } from './pod-info.js';
import type { NodeInfo } from './node-info.js';

export interface NodeSpec {
  cpu?: string;
  memory?: string;
  pods?: string;
  extra?: Record<string, string>;
  labels?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
  images?: Array<{ names: string[]; sizeBytes: number }>;
}

export function makeNode(name: string, s: NodeSpec = {}): Node {
  const alloc: Record<string, string> = { cpu: s.cpu ?? '4', memory: s.memory ?? '8Gi', pods: s.pods ?? '110', ...(s.extra ?? {}) };
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name, uid: `uid-${name}`, labels: { 'kubernetes.io/hostname': name, ...(s.labels ?? {}) } },
    spec: { ...(s.taints ? { taints: s.taints } : {}), ...(s.unschedulable ? { unschedulable: true } : {}) },
    status: { capacity: alloc, allocatable: alloc, ...(s.images ? { images: s.images } : {}) },
  };
}

export interface PodSpecLite {
  namespace?: string;
  cpu?: string;
  memory?: string;
  extra?: Record<string, string>;
  labels?: Record<string, string>;
  nodeName?: string;
  priority?: number;
  spec?: Record<string, unknown>;
  image?: string;
}

let uidCounter = 0;

export function makePod(name: string, s: PodSpecLite = {}): Pod {
  const requests: Record<string, string> = {};
  if (s.cpu) requests.cpu = s.cpu;
  if (s.memory) requests.memory = s.memory;
  Object.assign(requests, s.extra ?? {});
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: s.namespace ?? 'default', uid: `pod-uid-${++uidCounter}`, labels: s.labels ?? {} },
    spec: {
      containers: [{ name: 'c', image: s.image ?? 'busybox', resources: Object.keys(requests).length ? { requests } : {} }],
      ...(s.nodeName ? { nodeName: s.nodeName } : {}),
      ...(s.priority !== undefined ? { priority: s.priority } : {}),
      ...(s.spec ?? {}),
    } as any,
    status: { phase: 'Pending' },
  };
}

export function podInfo(name: string, s: PodSpecLite = {}): PodInfo {
  const p = makePod(name, s);
  return new PodInfo(p, s.priority ?? 0);
}

/** A cache with the given nodes and assigned pods (pods need spec.nodeName). */
export function makeCache(nodes: Node[], pods: Pod[] = []): SchedulerCache {
  const c = new SchedulerCache();
  for (const n of nodes) c.addNode(n);
  for (const p of pods) c.addPod(p, (pod) => new PodInfo(pod, pod.spec?.priority ?? 0));
  return c;
}

export function nodeInfoOf(cache: SchedulerCache, name: string): NodeInfo {
  const n = cache.get(name);
  if (!n) throw new Error(`no node ${name}`);
  return n;
}
