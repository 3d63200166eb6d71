/**
 * NodeLifecycleController: notices nodes whose kubelet went silent, taints them, and evicts
 * the pods that do not tolerate the NoExecute taints (the node lifecycle controller and the
 * taint eviction controller of kube-controller-manager, behaviour only).
 *
 * Node monitoring (one key per node; every node is looked at each monitorPeriodMs):
 * - The last heartbeat is the newer of the node Lease's spec.renewTime (kube-node-lease) and
 *   the Ready condition's lastHeartbeatTime.
 * - Older than nodeMonitorGracePeriodMs: Ready, MemoryPressure, DiskPressure and PIDPressure
 *   become Unknown (reason NodeStatusUnknown, "Kubelet stopped posting node status.",
 *   lastHeartbeatTime kept) through the status subresource; the node gets the
 *   `node.kubernetes.io/unreachable` taints (NoSchedule and NoExecute, with timeAdded); the
 *   Ready condition of the node's pods is set False (status subresource).
 * - Heartbeat fresh but Ready False (reported by the kubelet): the `node.kubernetes.io/not-ready`
 *   taints instead, and pods marked not ready.
 * - Heartbeat fresh and Ready True (or still the Unknown we wrote, since the Lease shows the
 *   kubelet is back): neither taint.
 * Taints other than these two keys are never touched.
 *
 * Taint eviction (one key per pod bound to a node): a pod that does not tolerate one of its
 * node's NoExecute taints is deleted at once; one that tolerates all of them is deleted when
 * the smallest tolerationSeconds of the tolerations matching a taint has passed since that
 * taint's timeAdded (requeued for that moment); tolerations without tolerationSeconds keep the
 * pod forever. An Event TaintManagerEviction is recorded on the pod (component
 * taint-eviction-controller, as upstream since the taint manager became its own controller).
 *
 * Events (component node-controller, as upstream): NodeNotReady "Node <name> status is now:
 * NodeNotReady" on a node whose Ready condition this controller turns Unknown, and a Warning
 * NodeNotReady "Node is not ready" on every pod it marks not ready.
 */
import { Controller, Informer, LEASES, isConflict, isNotFound, keyOf, splitKey, type Lease, type RestClient } from '../../client/index.js';
import { EventRecorder } from '../../client/event-recorder.js';
import { innerSignal, PODS, type Obj } from '../replicaset/controller-utils.js';
import { logger } from '../../util/log.js';
import {
  NO_EXECUTE, NO_SCHEDULE, TAINT_NOT_READY, TAINT_UNREACHABLE, evictionDecision, sameTaint,
  type Taint, type Toleration,
} from './taints.js';
import type { ResourceDescriptor } from '../../client/index.js';

const log = logger('node-lifecycle-controller');

export const NODES: ResourceDescriptor = { group: '', version: 'v1', plural: 'nodes', namespaced: false };
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
export const NODE_NAME_INDEX = 'spec.nodeName';

/** The conditions a silent kubelet can no longer vouch for. */
export const MONITORED_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];
export const NODE_STATUS_UNKNOWN_REASON = 'NodeStatusUnknown';
export const NODE_STATUS_UNKNOWN_MESSAGE = 'Kubelet stopped posting node status.';

export interface NodeLifecycleControllerOptions {
  /** How long a node may go without a heartbeat before it counts as unreachable (default 40 s). */
  nodeMonitorGracePeriodMs?: number;
  /** How often every node is checked (default 5 s). */
  monitorPeriodMs?: number;
  /** Current time in ms (default Date.now). */
  clock?: () => number;
  /** Concurrent pod eviction syncs (default 4). */
  evictionWorkers?: number;
}

interface NodeCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
}

const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
const parseTime = (s: unknown): number => (typeof s === 'string' ? Date.parse(s) : NaN);

/** The taints a node should carry for its state: unreachable, not ready, or none. */
export type NodeHealth = 'ready' | 'not-ready' | 'unreachable';

export class NodeLifecycleController {
  readonly nodeInformer: Informer<Obj>;
  readonly leaseInformer: Informer<Lease>;
  readonly podInformer: Informer<Obj>;
  /** Node monitoring, keyed by node name. */
  readonly nodeController: Controller;
  /** Taint eviction, keyed by pod "ns/name". */
  readonly evictionController: Controller;
  readonly events: EventRecorder;
  /** The taint eviction controller's own recorder. */
  readonly evictionEvents: EventRecorder;
  private readonly grace: number;
  private readonly period: number;
  private readonly now: () => number;
  /** When a NoExecute taint without timeAdded was first seen ("node\0key\0effect" → ms). */
  private readonly firstSeen = new Map<string, number>();
  private monitorTimer?: NodeJS.Timeout;

  constructor(readonly client: RestClient, opts: NodeLifecycleControllerOptions = {}) {
    this.grace = opts.nodeMonitorGracePeriodMs ?? 40_000;
    this.period = opts.monitorPeriodMs ?? 5_000;
    this.now = opts.clock ?? Date.now;
    this.nodeInformer = new Informer<Obj>(client, NODES);
    this.leaseInformer = new Informer<Lease>(client, LEASES, { namespace: NODE_LEASE_NAMESPACE });
    this.podInformer = new Informer<Obj>(client, PODS);
    this.podInformer.addIndex(NODE_NAME_INDEX, (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []));
    this.events = new EventRecorder(client, { component: 'node-controller' });
    this.evictionEvents = new EventRecorder(client, { component: 'taint-eviction-controller' });
    this.nodeController = new Controller('node-lifecycle', { reconcile: (k) => this.syncNode(k) });
    this.evictionController = new Controller('taint-eviction', { reconcile: (k) => this.syncPod(k) }, { workers: opts.evictionWorkers ?? 4 });

    this.nodeInformer.on('add', (n) => {
      this.nodeController.enqueue(n.metadata!.name!);
      this.enqueuePodsOf(n.metadata!.name!);
    });
    this.nodeInformer.on('update', (oldNode, n) => {
      this.nodeController.enqueue(n.metadata!.name!);
      if (!sameNoExecute(oldNode, n)) this.enqueuePodsOf(n.metadata!.name!);
    });
    this.nodeInformer.on('delete', (n) => {
      const name = n.metadata!.name!;
      for (const k of [...this.firstSeen.keys()]) if (k.startsWith(`${name}\0`)) this.firstSeen.delete(k);
    });
    this.leaseInformer.on('add', (l) => this.nodeController.enqueue(l.metadata.name));
    this.leaseInformer.on('update', (_o, l) => this.nodeController.enqueue(l.metadata.name));
    this.podInformer.on('add', (p) => { if (p.spec?.nodeName) this.evictionController.enqueue(keyOf(p)); });
    this.podInformer.on('update', (o, p) => {
      if (!p.spec?.nodeName) return;
      if (o.spec?.nodeName !== p.spec.nodeName || o.metadata?.resourceVersion !== p.metadata?.resourceVersion) this.evictionController.enqueue(keyOf(p));
    });
  }

  start(outer: AbortSignal): void {
    const signal = innerSignal(outer);
    this.nodeInformer.start(signal);
    this.leaseInformer.start(signal);
    this.podInformer.start(signal);
    signal.addEventListener('abort', () => {
      if (this.monitorTimer) clearInterval(this.monitorTimer);
      this.events.stop();
      this.evictionEvents.stop();
    }, { once: true });
    this.nodeController.watch(this.nodeInformer, () => undefined).watch(this.leaseInformer, () => undefined).watch(this.podInformer, () => undefined);
    this.evictionController.watch(this.nodeInformer, () => undefined).watch(this.podInformer, () => undefined);
    this.nodeController.start(signal);
    this.evictionController.start(signal);
    void (async () => {
      if (!(await this.waitForSync(signal))) return;
      this.monitorTimer = setInterval(() => {
        for (const n of this.nodeInformer.list()) this.nodeController.enqueue(n.metadata!.name!);
      }, this.period);
    })();
  }

  async stopped(): Promise<void> {
    await Promise.all([this.nodeInformer.stopped(), this.leaseInformer.stopped(), this.podInformer.stopped()]);
    await Promise.all([this.nodeController.stopped(), this.evictionController.stopped()]);
  }

  async waitForSync(signal?: AbortSignal): Promise<boolean> {
    return (await this.nodeInformer.waitForSync(signal)) && (await this.leaseInformer.waitForSync(signal)) && (await this.podInformer.waitForSync(signal));
  }

  private enqueuePodsOf(nodeName: string): void {
    for (const p of this.podInformer.byIndex(NODE_NAME_INDEX, nodeName)) this.evictionController.enqueue(keyOf(p));
  }

  /** The newer of the Lease renewTime and Ready's lastHeartbeatTime (NaN when neither). */
  lastHeartbeat(node: Obj): number {
    const lease = this.leaseInformer.get(NODE_LEASE_NAMESPACE, node.metadata!.name!);
    const renew = parseTime(lease?.spec?.renewTime);
    const ready = (node.status?.conditions ?? []).find((c: NodeCondition) => c.type === 'Ready');
    const hb = parseTime(ready?.lastHeartbeatTime);
    if (Number.isNaN(renew)) return hb;
    if (Number.isNaN(hb)) return renew;
    return Math.max(renew, hb);
  }

  // ---- node monitoring -----------------------------------------------------------------------

  async syncNode(name: string): Promise<{ requeueAfter?: number } | void> {
    let node = this.nodeInformer.get(undefined, name);
    if (!node) return;
    const now = this.now();
    let last = this.lastHeartbeat(node);
    // A node never heard from counts from its creation.
    if (Number.isNaN(last)) last = parseTime(node.metadata?.creationTimestamp);
    if (Number.isNaN(last)) last = now;
    const stale = now - last > this.grace;
    const ready = (node.status?.conditions ?? []).find((c: NodeCondition) => c.type === 'Ready') as NodeCondition | undefined;

    let health: NodeHealth;
    if (stale) health = 'unreachable';
    else if (ready?.status === 'False') health = 'not-ready';
    else health = 'ready';

    if (health === 'unreachable') node = await this.markUnknown(node, now);
    node = await this.ensureTaints(node, health, now);
    if (health !== 'ready') await this.markPodsNotReady(name, now);
    // Come back when this node would turn stale, if that is before the next periodic check.
    if (!stale) return { requeueAfter: Math.max(1, last + this.grace - now + 1) };
  }

  /** Sets the monitored conditions Unknown (status subresource); returns the node written. */
  private async markUnknown(node: Obj, now: number): Promise<Obj> {
    const ts = rfc3339(now);
    const conditions: NodeCondition[] = (node.status?.conditions ?? []).map((c: NodeCondition) => ({ ...c }));
    let changed = false;
    const wasReady = conditions.find((x) => x.type === 'Ready')?.status !== 'Unknown';
    for (const type of MONITORED_CONDITIONS) {
      const c = conditions.find((x) => x.type === type);
      if (!c) {
        conditions.push({ type, status: 'Unknown', reason: NODE_STATUS_UNKNOWN_REASON, message: NODE_STATUS_UNKNOWN_MESSAGE, lastTransitionTime: ts });
        changed = true;
      } else if (c.status !== 'Unknown') {
        // lastHeartbeatTime is the kubelet's: kept, so a later heartbeat is still recognised.
        Object.assign(c, { status: 'Unknown', reason: NODE_STATUS_UNKNOWN_REASON, message: NODE_STATUS_UNKNOWN_MESSAGE, lastTransitionTime: ts });
        changed = true;
      }
    }
    if (!changed) return node;
    log.info('node stopped posting status; conditions set Unknown', { node: node.metadata!.name });
    // A conflict (the kubelet wrote meanwhile) throws: retried with back-off on a fresh cache.
    const updated = await this.client.update<Obj>(NODES, undefined, { ...node, status: { ...node.status, conditions } }, { subresource: 'status' });
    if (wasReady) {
      this.events.event({ kind: 'Node', apiVersion: 'v1', name: node.metadata!.name!, uid: node.metadata?.uid }, 'Normal', 'NodeNotReady', '', `Node ${node.metadata!.name} status is now: NodeNotReady`);
    }
    return updated;
  }

  /** Makes the node carry exactly the lifecycle taints `health` calls for. */
  private async ensureTaints(node: Obj, health: NodeHealth, now: number): Promise<Obj> {
    const current: Taint[] = node.spec?.taints ?? [];
    const wantKey = health === 'unreachable' ? TAINT_UNREACHABLE : health === 'not-ready' ? TAINT_NOT_READY : undefined;
    const wanted: Taint[] = wantKey ? [NO_SCHEDULE, NO_EXECUTE].map((effect) => ({ key: wantKey, effect })) : [];
    const isLifecycle = (t: Taint) => t.key === TAINT_UNREACHABLE || t.key === TAINT_NOT_READY;
    const kept = current.filter((t) => !isLifecycle(t) || wanted.some((w) => sameTaint(w, t)));
    const missing = wanted.filter((w) => !current.some((t) => sameTaint(w, t)));
    if (kept.length === current.length && !missing.length) return node;
    const ts = rfc3339(now);
    const taints = [...kept, ...missing.map((t) => ({ ...t, timeAdded: ts }))];
    const spec = { ...node.spec };
    if (taints.length) spec.taints = taints;
    else delete spec.taints;
    log.info('updating node lifecycle taints', { node: node.metadata!.name, health, taints: taints.filter(isLifecycle).map((t) => `${t.key}:${t.effect}`) });
    return this.client.update<Obj>(NODES, undefined, { ...node, spec });
  }

  /** Sets the Ready condition of every pod on the node False (status subresource). */
  private async markPodsNotReady(nodeName: string, now: number): Promise<void> {
    const ts = rfc3339(now);
    let firstError: unknown;
    for (const pod of this.podInformer.byIndex(NODE_NAME_INDEX, nodeName)) {
      if (pod.metadata?.deletionTimestamp && pod.status?.phase !== 'Running') continue;
      if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
      const conditions: NodeCondition[] = (pod.status?.conditions ?? []).map((c: NodeCondition) => ({ ...c }));
      const ready = conditions.find((c) => c.type === 'Ready');
      if (!ready || ready.status === 'False') continue;
      Object.assign(ready, { status: 'False', lastTransitionTime: ts });
      try {
        await this.client.update(PODS, pod.metadata!.namespace, { ...pod, status: { ...pod.status, conditions } }, { subresource: 'status' });
        this.events.event({ kind: 'Pod', apiVersion: 'v1', namespace: pod.metadata!.namespace, name: pod.metadata!.name!, uid: pod.metadata?.uid }, 'Warning', 'NodeNotReady', '', 'Node is not ready');
      } catch (err) {
        if (isNotFound(err)) continue;
        firstError ??= err;
      }
    }
    if (firstError) throw firstError;
  }

  // ---- taint eviction ------------------------------------------------------------------------

  /** When a NoExecute taint started counting: its timeAdded, else when first seen here. */
  private taintSince(nodeName: string, taint: Taint): number {
    const added = parseTime(taint.timeAdded);
    if (!Number.isNaN(added)) return added;
    const k = `${nodeName}\0${taint.key}\0${taint.effect}`;
    let seen = this.firstSeen.get(k);
    if (seen === undefined) {
      seen = this.now();
      this.firstSeen.set(k, seen);
    }
    return seen;
  }

  async syncPod(key: string): Promise<{ requeueAfter?: number } | void> {
    const { namespace, name } = splitKey(key);
    const pod = this.podInformer.get(namespace, name);
    if (!pod || pod.metadata?.deletionTimestamp) return;
    const nodeName: string | undefined = pod.spec?.nodeName;
    if (!nodeName) return;
    const node = this.nodeInformer.get(undefined, nodeName);
    if (!node) return;
    const taints: Taint[] = (node.spec?.taints ?? []).filter((t: Taint) => t.effect === NO_EXECUTE);
    if (!taints.length) return;
    const tolerations: Toleration[] = pod.spec?.tolerations ?? [];
    const decision = evictionDecision(taints, tolerations, (t) => this.taintSince(nodeName, t));
    if (decision.kind === 'none') return;
    const now = this.now();
    if (decision.kind === 'at' && decision.at > now) return { requeueAfter: decision.at - now };
    await this.evict(pod);
  }

  private async evict(pod: Obj): Promise<void> {
    const ns = pod.metadata!.namespace!;
    const name = pod.metadata!.name!;
    log.info('evicting pod from tainted node', { pod: `${ns}/${name}`, node: pod.spec?.nodeName });
    this.evictionEvents.event({ kind: 'Pod', apiVersion: 'v1', namespace: ns, name, uid: pod.metadata?.uid }, 'Normal', 'TaintManagerEviction', 'Delete', `Marking for deletion Pod ${ns}/${name}`);
    try {
      await this.client.delete(PODS, ns, name, { preconditions: { uid: pod.metadata?.uid } });
    } catch (err) {
      // Gone, or replaced by a namesake (the uid precondition fails with a conflict): done.
      if (isNotFound(err) || isConflict(err)) return;
      throw err;
    }
  }
}

/** Whether two versions of a node carry the same NoExecute taints (with the same timeAdded). */
function sameNoExecute(a: Obj, b: Obj): boolean {
  const f = (n: Obj) => JSON.stringify((n.spec?.taints ?? []).filter((t: Taint) => t.effect === NO_EXECUTE));
  return f(a) === f(b);
}
