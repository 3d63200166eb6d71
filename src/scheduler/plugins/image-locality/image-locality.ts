/**
 * ImageLocality: prefers nodes that already have the pod's images (node.status.images). Each
 * image counts its size scaled by how widely it is spread (size × nodesWithImage / allNodes, so
 * an image present everywhere does not pull every pod to one node); the sum is clamped between
 * 23 MB and 1000 MB per container and mapped to 0..100.
 */
import { MAX_NODE_SCORE, type CycleState, type ScorePlugin } from '../../framework.js';
import type { NodeInfo } from '../../node-info.js';
import type { PodInfo } from '../../pod-info.js';

export const NAME = 'ImageLocality';
const MB = 1024 * 1024;
const MIN_THRESHOLD = 23 * MB;
const MAX_CONTAINER_THRESHOLD = 1000 * MB;

/**
 * The name an image is compared under: default registry prefixes dropped and ":latest" added
 * when there is neither tag nor digest ("nginx" = "docker.io/library/nginx:latest").
 */
export function normalizeImageName(image: string): string {
  let s = image;
  if (s.startsWith('docker.io/library/')) s = s.slice('docker.io/library/'.length);
  else if (s.startsWith('docker.io/')) s = s.slice('docker.io/'.length);
  else if (s.startsWith('index.docker.io/library/')) s = s.slice('index.docker.io/library/'.length);
  if (s.includes('@')) return s;
  const slash = s.lastIndexOf('/');
  if (s.indexOf(':', slash + 1) < 0) s += ':latest';
  return s;
}

const imagesCache = new WeakMap<object, string[]>();

function podImages(pod: PodInfo): string[] {
  const spec: any = pod.pod.spec ?? {};
  let imgs = imagesCache.get(spec);
  if (!imgs) {
    imgs = [];
    for (const c of spec.initContainers ?? []) if (c.image) imgs.push(normalizeImageName(c.image));
    for (const c of spec.containers ?? []) if (c.image) imgs.push(normalizeImageName(c.image));
    imagesCache.set(spec, imgs);
  }
  return imgs;
}

export class ImageLocality implements ScorePlugin {
  readonly name = NAME;
  /** Number of nodes in the cluster (the cache sets it before scoring). */
  constructor(private readonly totalNodes: () => number) {}

  score(_state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): number {
    if (nodeInfo.images.size === 0) return 0;
    const imgs = podImages(pod);
    if (imgs.length === 0) return 0;
    const total = Math.max(1, this.totalNodes());
    let sum = 0;
    for (const name of imgs) {
      const st = nodeInfo.images.get(name);
      if (st) sum += st.size * (st.spread.numNodes / total);
    }
    const max = MAX_CONTAINER_THRESHOLD * imgs.length;
    if (sum < MIN_THRESHOLD) sum = MIN_THRESHOLD;
    if (sum > max) sum = max;
    return Math.trunc((MAX_NODE_SCORE * (sum - MIN_THRESHOLD)) / (max - MIN_THRESHOLD));
  }
}
