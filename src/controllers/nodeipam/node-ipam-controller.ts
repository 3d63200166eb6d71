/**
 * NodeIpamController: gives every node a pod range (spec.podCIDR and spec.podCIDRs) cut from
 * the cluster CIDR — kube-controller-manager's node IPAM controller with the RangeAllocator
 * (--allocate-node-cidrs, --cluster-cidr, --node-cidr-mask-size), behaviour only.
 *
 * - One CidrSet per cluster CIDR (`clusterCIDR` may list an IPv4 and an IPv6 CIDR, comma
 *   separated, for dual stack); blocks are /nodeCIDRMaskSize (default 24 for IPv4, 64 for IPv6).
 * - CIDRs nodes already have are marked as taken as soon as the node informer sees them — the
 *   initial list is delivered before the workers start, so nothing already in use is handed out
 *   (a node's own range outside the cluster CIDR is logged and ignored: upstream would refuse
 *   to start). A node that has podCIDR but no podCIDRs counts as podCIDRs = [podCIDR], as the
 *   v1 conversion does.
 * - A node without podCIDRs gets the next free block of each set, written with one merge patch
 *   of spec.podCIDR and spec.podCIDRs (as upstream's PatchNodeCIDRs). If the write fails (the
 *   node is gone, or got a range from elsewhere meanwhile — podCIDRs are immutable once set) the
 *   blocks are released again; other failures release them and retry with back-off.
 * - When a set has no free block: a Normal event `CIDRNotAvailable` ("Node <n> status is now:
 *   CIDRNotAvailable", from component cidrAllocator) on the node, and the node is retried with
 *   back-off (and on its next update).
 * - A deleted node's ranges are released.
 * The service CIDR is not carved out of the cluster CIDR (upstream does when they overlap; the
 * controller manager is not told the service range here).
 */
import { Controller, Informer, isNotFound, type ResourceDescriptor, type RestClient } from '../../client/index.js';
import { EventRecorder } from '../../client/event-recorder.js';
import { innerSignal, type Obj } from '../replicaset/controller-utils.js';
import { logger } from '../../util/log.js';
import { CIDRRangeFullError, CidrSet, parseCIDRValue } from './cidr-set.js';

const log = logger('node-ipam-controller');

export const NODES: ResourceDescriptor = { group: '', version: 'v1', plural: 'nodes', namespaced: false };
export const DEFAULT_CLUSTER_CIDR = '10.244.0.0/16';
export const DEFAULT_NODE_CIDR_MASK_SIZE_IPV4 = 24;
export const DEFAULT_NODE_CIDR_MASK_SIZE_IPV6 = 64;
export const CIDR_NOT_AVAILABLE = 'CIDRNotAvailable';
export const CIDR_ASSIGNMENT_FAILED = 'CIDRAssignmentFailed';

export interface NodeIpamControllerOptions {
  /** The cluster's pod range(s), comma separated for dual stack (default 10.244.0.0/16). */
  clusterCIDR?: string;
  /** Prefix length of a node's range (single stack; for dual stack, the IPv4 one). Default 24 (IPv4) / 64 (IPv6). */
  nodeCIDRMaskSize?: number;
  /** Prefix length of a node's IPv6 range in a dual-stack cluster (default 64). */
  nodeCIDRMaskSizeIPv6?: number;
}

/** Builds the CIDR sets for the options; throws a clear error for bad settings. */
export function cidrSetsFor(opts: NodeIpamControllerOptions = {}): CidrSet[] {
  const cidrs = (opts.clusterCIDR ?? DEFAULT_CLUSTER_CIDR).split(',').map((s) => s.trim()).filter(Boolean);
  if (!cidrs.length || cidrs.length > 2) throw new Error(`cluster CIDR: one CIDR, or one IPv4 and one IPv6 CIDR, expected (got ${JSON.stringify(opts.clusterCIDR)})`);
  const parsed = cidrs.map((c) => {
    const p = parseCIDRValue(c);
    if (!p) throw new Error(`cluster CIDR: invalid CIDR ${JSON.stringify(c)}`);
    return p;
  });
  if (parsed.length === 2 && parsed[0].family === parsed[1].family) throw new Error('cluster CIDR: a dual-stack cluster needs one IPv4 and one IPv6 CIDR');
  const dual = parsed.length === 2;
  return cidrs.map((c, i) => {
    const v4 = parsed[i].family === 'IPv4';
    const size = v4
      ? opts.nodeCIDRMaskSize ?? DEFAULT_NODE_CIDR_MASK_SIZE_IPV4
      : (dual ? opts.nodeCIDRMaskSizeIPv6 : opts.nodeCIDRMaskSize ?? opts.nodeCIDRMaskSizeIPv6) ?? DEFAULT_NODE_CIDR_MASK_SIZE_IPV6;
    return new CidrSet(c, size);
  });
}

/** A node's pod ranges: podCIDRs, or [podCIDR] when only that is set. */
export function podCIDRsOf(node: Obj | undefined): string[] {
  const list = node?.spec?.podCIDRs;
  if (Array.isArray(list) && list.length) return list.filter((c: unknown): c is string => typeof c === 'string' && c !== '');
  return typeof node?.spec?.podCIDR === 'string' && node.spec.podCIDR ? [node.spec.podCIDR] : [];
}

export class NodeIpamController {
  readonly nodeInformer: Informer<Obj>;
  readonly controller: Controller;
  readonly events: EventRecorder;
  readonly cidrSets: CidrSet[];
  /** What this controller has marked as taken, per node (occupied or allocated). */
  private readonly held = new Map<string, string[]>();

  constructor(readonly client: RestClient, opts: NodeIpamControllerOptions = {}) {
    this.cidrSets = cidrSetsFor(opts);
    this.nodeInformer = new Informer<Obj>(client, NODES);
    this.events = new EventRecorder(client, { component: 'cidrAllocator' });
    this.controller = new Controller('node-ipam', { reconcile: (k) => this.syncNode(k) });
    this.nodeInformer.on('add', (n) => this.observe(n));
    this.nodeInformer.on('update', (_o, n) => this.observe(n));
    this.nodeInformer.on('delete', (n) => this.release(n.metadata!.name!, podCIDRsOf(n)));
    // Nothing is allocated before the informer has delivered every existing node.
    this.controller.watch(this.nodeInformer, () => undefined);
  }

  start(outer: AbortSignal): void {
    const signal = innerSignal(outer);
    this.nodeInformer.start(signal);
    signal.addEventListener('abort', () => this.events.stop(), { once: true });
    this.controller.start(signal);
  }

  async stopped(): Promise<void> {
    await this.nodeInformer.stopped();
    await this.controller.stopped();
  }

  waitForSync(signal?: AbortSignal): Promise<boolean> {
    return this.nodeInformer.waitForSync(signal);
  }

  /** Informer handler: takes note of a node's ranges, or queues it for one. */
  private observe(node: Obj): void {
    const name = node.metadata!.name!;
    const cidrs = podCIDRsOf(node);
    if (cidrs.length) this.occupy(name, cidrs);
    else this.controller.enqueue(name);
  }

  private setFor(cidr: string): CidrSet | undefined {
    const family = parseCIDRValue(cidr)?.family;
    return this.cidrSets.find((s) => s.family === family);
  }

  /** Marks a node's existing ranges as taken (once per node). */
  private occupy(name: string, cidrs: string[]): void {
    const prev = this.held.get(name);
    if (prev && prev.length === cidrs.length && prev.every((c, i) => c === cidrs[i])) return;
    // Blocks we reserved for it but it got others (written by someone else): give ours back.
    if (prev) this.release(name, prev);
    const taken: string[] = [];
    for (const cidr of cidrs) {
      const set = this.setFor(cidr);
      if (!set || !set.contains(cidr)) {
        log.warn('node pod CIDR is outside the cluster CIDR; not tracked', { node: name, cidr, clusterCIDRs: this.cidrSets.map((s) => s.clusterCIDR) });
        continue;
      }
      set.occupy(cidr);
      taken.push(cidr);
    }
    this.held.set(name, cidrs);
    if (taken.length) log.debug('node pod CIDRs marked as taken', { node: name, cidrs: taken });
  }

  /** Frees what is held for a node (and `extra`, its ranges as last seen). */
  private release(name: string, extra: string[] = []): void {
    const cidrs = new Set([...(this.held.get(name) ?? []), ...extra]);
    this.held.delete(name);
    for (const cidr of cidrs) {
      const set = this.setFor(cidr);
      if (set?.contains(cidr)) set.release(cidr);
    }
    if (cidrs.size) log.debug('node pod CIDRs released', { node: name, cidrs: [...cidrs] });
  }

  async syncNode(name: string): Promise<void> {
    const node = this.nodeInformer.get(undefined, name);
    if (!node) return;
    const existing = podCIDRsOf(node);
    if (existing.length) {
      this.occupy(name, existing);
      return;
    }
    // A reservation from an earlier attempt whose write failed is reused.
    let cidrs = this.held.get(name);
    if (!cidrs) {
      const got: string[] = [];
      try {
        for (const set of this.cidrSets) got.push(set.allocateNext());
      } catch (err) {
        for (const c of got) this.setFor(c)?.release(c);
        if (err instanceof CIDRRangeFullError) {
          this.nodeEvent(name, CIDR_NOT_AVAILABLE);
          log.warn('no pod CIDR left for node', { node: name, clusterCIDRs: this.cidrSets.map((s) => s.clusterCIDR) });
        }
        throw err;
      }
      cidrs = got;
      this.held.set(name, cidrs);
    }
    try {
      await this.client.patch(NODES, undefined, name, { spec: { podCIDR: cidrs[0], podCIDRs: cidrs } }, 'merge');
      log.info('set node pod CIDRs', { node: name, cidrs });
    } catch (err) {
      this.release(name);
      if (isNotFound(err)) return;
      const code = (err as { code?: number }).code;
      // 422: the node got a range from elsewhere meanwhile (podCIDRs are immutable); its update
      // brings it here again and it is occupied then.
      if (code === 422) {
        log.info('node pod CIDRs were set elsewhere; reserved ones released', { node: name, err: (err as Error).message });
        return;
      }
      this.nodeEvent(name, CIDR_ASSIGNMENT_FAILED);
      throw err;
    }
  }

  /** nodeutil.RecordNodeStatusChange: "Node <n> status is now: <status>". */
  private nodeEvent(name: string, status: string): void {
    this.events.event({ kind: 'Node', apiVersion: 'v1', name, uid: name }, 'Normal', status, status, `Node ${name} status is now: ${status}`);
  }
}
