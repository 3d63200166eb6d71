/**
 * Scheduler: keelson's kube-scheduler. It watches pods, nodes, priority classes and
 * namespaces, and assigns every pending pod whose spec.schedulerName is one of its profiles
 * (default-scheduler) to a node by POSTing a Binding (pods/binding). Only through the API.
 *
 * One pod at a time (upstream's scheduleOne):
 *  - scheduling cycle (synchronous, on this thread): pop the highest-priority pod, run the
 *    framework (GenericScheduler), and on success *assume* the pod on the chosen node in the
 *    cache so the next cycle sees the node's resources as used;
 *  - binding cycle (asynchronous, off the critical path): POST the Binding with bounded
 *    concurrency; on success record a "Scheduled" event (`Successfully assigned ns/pod to node`),
 *    on failure forget the assumed pod and requeue it with back-off.
 *  - failure: no node fits → PostFilter (preemption: nominate + delete victims), a Warning
 *    "FailedScheduling" event with the FitError message, the PodScheduled=False condition
 *    (reason Unschedulable) and status.nominatedNodeName, and the pod waits in the
 *    unschedulable queue for a cluster event that may help.
 * The loop runs slices of at most ~20 ms, then yields so informer events and binding replies
 * are processed.
 *
 * Priority: spec.priority (set by the Priority admission plugin); when admission did not set
 * it, the pod's priorityClassName is resolved through a PriorityClass informer (or the
 * globalDefault class, else 0).
 *
 * Leader election (default on): informers run in every replica, but only the holder of the
 * Lease kube-system/keelson-scheduler schedules. Losing the lease stops the loop; the
 * scheduler then campaigns again (kube-scheduler exits instead; an embedding process should
 * keep running).
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import {
  ApiError, Informer, LeaderElector, isConflict, isNotFound,
  type ResourceDescriptor, type RestClient,
} from '../client/index.js';
import { logger } from '../util/log.js';
import { ClusterEvent, CycleState, type Plugin } from './framework.js';
import { SchedulerCache } from './cache.js';
import { SchedulingQueue, type QueuedPodInfo } from './queue.js';
import { PodInfo } from './pod-info.js';
import { DEFAULT_SCHEDULER_NAME, Profile, defaultPlugins } from './profile.js';
import { FitError, GenericScheduler } from './generic-scheduler.js';
import { Preemptor } from './preemption.js';
import { EventRecorder, type ObjectReference } from '../client/event-recorder.js';

const log = logger('scheduler');

export const PODS: ResourceDescriptor = { group: '', version: 'v1', plural: 'pods', namespaced: true };
export const NODES: ResourceDescriptor = { group: '', version: 'v1', plural: 'nodes', namespaced: false };
export const NAMESPACES: ResourceDescriptor = { group: '', version: 'v1', plural: 'namespaces', namespaced: false };
export const PRIORITY_CLASSES: ResourceDescriptor = { group: 'scheduling.k8s.io', version: 'v1', plural: 'priorityclasses', namespaced: false };

export const LEASE_NAMESPACE = 'kube-system';
export const LEASE_NAME = 'keelson-scheduler';

export interface SchedulerLeaderElection {
  leaseDurationSeconds?: number;
  renewDeadlineSeconds?: number;
  retryPeriodSeconds?: number;
}

export interface SchedulerOptions {
  /** Profile (scheduler) name; pods with another spec.schedulerName are ignored. */
  schedulerName?: string;
  /** Plugins and weights of the profile (default: upstream's default set). */
  plugins?: (totalNodes: () => number) => { plugins: Plugin[]; weights?: Record<string, number> };
  /** Leader election on Lease kube-system/keelson-scheduler (default true). */
  leaderElection?: boolean | SchedulerLeaderElection;
  /** Identity in the Lease (default hostname_uuid). */
  identity?: string;
  /** percentageOfNodesToScore; 0 (default) = adaptive. */
  percentageOfNodesToScore?: number;
  /** podInitialBackoffSeconds (default 1). */
  podInitialBackoffSeconds?: number;
  /** podMaxBackoffSeconds (default 10). */
  podMaxBackoffSeconds?: number;
  /** Bindings in flight at once (default 256). */
  bindConcurrency?: number;
  /** Preemption of lower-priority pods (default true). */
  preemption?: boolean;
  /** Events written at once (default 1: one writer, as client-go's event sink; excess events are dropped). */
  eventConcurrency?: number;
  /**
   * A separate client (connection) for the informers' lists and watches, so that a large
   * list or a slow watch reader never holds up bindings on the same HTTP/2 connection.
   */
  informerClient?: RestClient;
}

export interface SchedulerStats {
  /** Pods bound. */
  scheduled: number;
  /** Scheduling attempts that found no node. */
  unschedulable: number;
  /** Attempts that failed with an error (plugin or binding). */
  errors: number;
  /** Scheduling attempts. */
  attempts: number;
  /** Preemptions carried out. */
  preemptions: number;
  /** Time spent in scheduling cycles (the synchronous part), ms. */
  cycleMs: number;
  bindingsInFlight: number;
}

interface PriorityClass {
  metadata?: { name?: string };
  value?: number;
  globalDefault?: boolean;
  preemptionPolicy?: string;
}

const TERMINAL = new Set(['Succeeded', 'Failed']);
const SLICE_MS = 20;
const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));

export class Scheduler {
  readonly cache: SchedulerCache;
  readonly queue: SchedulingQueue;
  readonly profile: Profile;
  readonly identity: string;
  readonly recorder: EventRecorder;
  readonly pods: Informer<Pod>;
  readonly nodes: Informer<Node>;
  readonly priorityClasses: Informer<PriorityClass & { metadata: any }>;
  readonly namespaces: Informer<any>;
  private readonly algorithm: GenericScheduler;
  private readonly preemptor: Preemptor;
  private readonly bindConcurrency: number;
  private readonly preemptionEnabled: boolean;
  private bindQueue: Array<() => Promise<void>> = [];
  private bindingsInFlight = 0;
  private bindIdleWaiters: Array<() => void> = [];
  private elector?: LeaderElector;
  private leading = false;
  private running?: Promise<void>;
  private counters = { scheduled: 0, unschedulable: 0, errors: 0, attempts: 0, preemptions: 0, cycleMs: 0 };

  constructor(readonly client: RestClient, readonly opts: SchedulerOptions = {}) {
    this.identity = opts.identity ?? `${os.hostname()}_${randomUUID()}`;
    this.cache = new SchedulerCache();
    const totalNodes = () => this.cache.numNodes;
    const cfg = opts.plugins ? opts.plugins(totalNodes) : defaultPlugins({ totalNodes });
    this.profile = new Profile({ schedulerName: opts.schedulerName ?? DEFAULT_SCHEDULER_NAME, plugins: cfg.plugins, weights: cfg.weights });
    const pluginEvents = new Map<string, number>();
    for (const p of cfg.plugins) {
      const ev = (p as any).events;
      if (typeof ev === 'number') pluginEvents.set(p.name, ev);
    }
    this.queue = new SchedulingQueue({
      initialBackoffMs: (opts.podInitialBackoffSeconds ?? 1) * 1000,
      maxBackoffMs: (opts.podMaxBackoffSeconds ?? 10) * 1000,
      pluginEvents,
    });
    this.algorithm = new GenericScheduler(this.cache, this.queue, { percentageOfNodesToScore: opts.percentageOfNodesToScore });
    this.preemptor = new Preemptor(this.cache, this.queue);
    this.bindConcurrency = opts.bindConcurrency ?? 256;
    this.preemptionEnabled = opts.preemption ?? true;
    this.recorder = new EventRecorder(client, { component: this.profile.schedulerName, instance: this.identity, concurrency: opts.eventConcurrency ?? 1 });

    // Terminal pods hold no resources: the informer does not even see them (as upstream).
    const ic = opts.informerClient ?? client;
    this.pods = new Informer<Pod>(ic, PODS, { fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed' });
    this.nodes = new Informer<Node>(ic, NODES);
    this.priorityClasses = new Informer(ic, PRIORITY_CLASSES);
    this.namespaces = new Informer(ic, NAMESPACES);
    this.cache.namespaceLabels = (ns) => this.namespaces.get(undefined, ns)?.metadata?.labels;
    this.wireInformers();
  }

  stats(): SchedulerStats {
    return { ...this.counters, bindingsInFlight: this.bindingsInFlight + this.bindQueue.length };
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Runs until `signal` aborts; resolves once stopped (bindings in flight finished). */
  start(signal: AbortSignal): Promise<void> {
    if (this.running) throw new Error('scheduler already started');
    this.running = this.run(signal);
    return this.running;
  }

  async stopped(): Promise<void> {
    await this.running;
  }

  /** Resolves when every informer has synced (false if the signal aborted first). */
  async waitForSync(signal?: AbortSignal): Promise<boolean> {
    const r = await Promise.all([this.pods, this.nodes, this.priorityClasses, this.namespaces].map((i) => i.waitForSync(signal)));
    return r.every(Boolean);
  }

  private async run(signal: AbortSignal): Promise<void> {
    for (const inf of [this.priorityClasses, this.namespaces, this.nodes, this.pods]) inf.start(signal);
    const housekeeping = setInterval(() => {
      this.queue.flush();
      const expired = this.cache.cleanupAssumedPods();
      if (expired.length) {
        log.warn('assumed pods expired without confirmation', { pods: expired.length });
        this.queue.moveAllToActiveOrBackoffQueue(ClusterEvent.PodDelete);
      }
    }, 1000);
    housekeeping.unref();
    try {
      const le = this.opts.leaderElection ?? true;
      if (le === false) {
        this.leading = true;
        await this.lead(signal);
        this.leading = false;
      } else {
        const settings = le === true ? {} : le;
        this.elector = new LeaderElector({
          client: this.client, namespace: LEASE_NAMESPACE, name: LEASE_NAME, identity: this.identity,
          leaseDurationSeconds: settings.leaseDurationSeconds, renewDeadlineSeconds: settings.renewDeadlineSeconds,
          retryPeriodSeconds: settings.retryPeriodSeconds,
        });
        while (!signal.aborted) {
          let term: Promise<void> | undefined;
          await this.elector.run(signal, {
            onStartedLeading: (leaderSignal) => {
              this.leading = true;
              term = this.lead(leaderSignal).finally(() => { this.leading = false; });
            },
            onStoppedLeading: () => { this.leading = false; },
          });
          await term;
          if (!signal.aborted) log.warn('leadership lost; campaigning again', { identity: this.identity });
        }
      }
    } finally {
      clearInterval(housekeeping);
      this.queue.close();
      await this.bindingsIdle();
      this.recorder.stop();
      await this.recorder.idle();
      await Promise.all([this.pods, this.nodes, this.priorityClasses, this.namespaces].map((i) => i.stopped()));
    }
  }

  /** The scheduling loop of one leadership term. */
  private async lead(signal: AbortSignal): Promise<void> {
    if (!(await this.waitForSync(signal))) return;
    log.info('scheduling', { identity: this.identity, nodes: this.cache.numNodes, pending: this.queue.stats().active });
    while (!signal.aborted) {
      await this.queue.waitForPod(signal);
      if (signal.aborted) break;
      const sliceEnd = performance.now() + SLICE_MS;
      for (;;) {
        const q = this.queue.pop();
        if (!q) break;
        const t0 = performance.now();
        try {
          this.scheduleOne(q);
        } catch (err) {
          log.error('scheduling cycle failed', { pod: q.podInfo.key, err });
          this.queue.addUnschedulableIfNotPresent(q, this.queue.schedulingCycle, true);
        }
        const t1 = performance.now();
        this.counters.cycleMs += t1 - t0;
        if (t1 > sliceEnd || signal.aborted) break;
      }
      await yieldToLoop();
    }
  }

  // ---- one pod ---------------------------------------------------------------------------------

  private scheduleOne(q: QueuedPodInfo): void {
    const pod = q.podInfo;
    const cycle = this.queue.schedulingCycle;
    // A pod deleted or bound since it was queued is not scheduled again.
    const current = this.pods.get(pod.namespace, pod.name);
    if (!current || current.metadata?.uid !== pod.uid || current.spec?.nodeName || current.metadata?.deletionTimestamp || this.cache.isAssumed(pod.key)) {
      this.queue.done(pod.key);
      return;
    }
    this.counters.attempts++;
    pod.priority = this.priorityOf(current);
    const state = new CycleState();
    let nodeName: string;
    try {
      nodeName = this.algorithm.schedule(this.profile, state, pod).node.name;
    } catch (err) {
      if (err instanceof FitError) this.handleFitError(q, cycle, state, err);
      else this.handleFailure(q, cycle, 'SchedulerError', (err as Error).message, true);
      return;
    }
    // Assume, then bind off the critical path.
    this.cache.assumePod(pod, nodeName);
    this.queue.done(pod.key);
    this.queue.deleteNomination(pod.key);
    this.enqueueBinding(() => this.bind(q, cycle, nodeName));
  }

  private handleFitError(q: QueuedPodInfo, cycle: number, state: CycleState, err: FitError): void {
    const pod = q.podInfo;
    this.counters.unschedulable++;
    let nominatedNode: string | undefined;
    if (this.preemptionEnabled) {
      try {
        const r = this.preemptor.preempt(this.profile, state, pod, err.diagnosis, err.numAllNodes, this.preemptionPolicyOf(pod.pod));
        err.diagnosis.postFilterMsg = r.message;
        if (r.candidate) {
          nominatedNode = r.candidate.node.name;
          this.counters.preemptions++;
          this.queue.addNominatedPod(pod, nominatedNode);
          for (const p of r.clearNominations) {
            this.queue.deleteNomination(p.key);
            void this.patchPodStatus(p.pod, { nominatedNodeName: null }).catch(() => {});
          }
          for (const v of r.candidate.victims) void this.evict(v, pod, nominatedNode);
        }
      } catch (e) {
        log.error('preemption failed', { pod: pod.key, err: e });
      }
    }
    err.diagnosis.unschedulablePlugins.delete('');
    q.unschedulablePlugins = err.diagnosis.unschedulablePlugins;
    this.handleFailure(q, cycle, 'Unschedulable', err.describe(), false, nominatedNode);
  }

  /** Requeues, records FailedScheduling, and sets PodScheduled=False (+ nominatedNodeName). */
  private handleFailure(q: QueuedPodInfo, cycle: number, reason: 'Unschedulable' | 'SchedulerError', message: string, error: boolean, nominatedNode?: string): void {
    const pod = q.podInfo;
    if (error) this.counters.errors++;
    const current = this.pods.get(pod.namespace, pod.name);
    if (!current || current.metadata?.uid !== pod.uid || current.spec?.nodeName) {
      this.queue.done(pod.key); // gone or bound meanwhile
      return;
    }
    if (current !== pod.pod) pod.update(current, this.priorityOf(current));
    this.queue.addUnschedulableIfNotPresent(q, cycle, error);
    log.debug('unable to schedule pod', { pod: pod.key, reason, message });
    this.recorder.event(podRef(current), 'Warning', 'FailedScheduling', 'Scheduling', message);
    const cond = (current.status?.conditions ?? []).find((c) => c.type === 'PodScheduled');
    const nominatedChanged = nominatedNode !== undefined && current.status?.nominatedNodeName !== nominatedNode;
    if (!cond || cond.status !== 'False' || cond.reason !== reason || cond.message !== message || nominatedChanged) {
      const conditions = (current.status?.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
      conditions.push({ type: 'PodScheduled', status: 'False', reason, message, lastProbeTime: null as any, lastTransitionTime: cond?.status === 'False' ? cond.lastTransitionTime : rfc3339() });
      const patch: Record<string, unknown> = { conditions };
      if (nominatedChanged) patch.nominatedNodeName = nominatedNode;
      void this.patchPodStatus(current, patch).catch((err) => {
        if (!isNotFound(err)) log.warn('failed to update pod status', { pod: pod.key, err: (err as Error).message });
      });
    }
  }

  private patchPodStatus(pod: Pod, status: Record<string, unknown>): Promise<unknown> {
    return this.client.patch(PODS, pod.metadata?.namespace, pod.metadata?.name ?? '', { status }, 'merge', { subresource: 'status' });
  }

  /** Deletes a preemption victim (with its pod UID as precondition) and records Preempted. */
  private async evict(victim: PodInfo, preemptor: PodInfo, nodeName: string): Promise<void> {
    try {
      await this.client.delete(PODS, victim.namespace, victim.name, { preconditions: { uid: victim.uid } });
      this.recorder.event(podRef(victim.pod), 'Normal', 'Preempted', 'Preempting', `Preempted by pod ${preemptor.uid} on node ${nodeName}`);
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) log.warn('failed to delete preemption victim', { pod: victim.key, err: (err as Error).message });
    }
  }

  // ---- binding ---------------------------------------------------------------------------------

  private enqueueBinding(task: () => Promise<void>): void {
    this.bindQueue.push(task);
    this.pumpBindings();
  }

  private pumpBindings(): void {
    while (this.bindingsInFlight < this.bindConcurrency && this.bindQueue.length) {
      const task = this.bindQueue.shift()!;
      this.bindingsInFlight++;
      task().catch((err) => log.error('binding task failed', { err })).finally(() => {
        this.bindingsInFlight--;
        this.pumpBindings();
        if (this.bindingsInFlight === 0 && this.bindQueue.length === 0) {
          const w = this.bindIdleWaiters;
          this.bindIdleWaiters = [];
          for (const f of w) f();
        }
      });
    }
  }

  private bindingsIdle(): Promise<void> {
    if (this.bindingsInFlight === 0 && this.bindQueue.length === 0) return Promise.resolve();
    return new Promise((r) => this.bindIdleWaiters.push(r));
  }

  private async bind(q: QueuedPodInfo, cycle: number, nodeName: string): Promise<void> {
    const pod = q.podInfo;
    const binding = { apiVersion: 'v1', kind: 'Binding', metadata: { name: pod.name, namespace: pod.namespace, uid: pod.uid }, target: { apiVersion: 'v1', kind: 'Node', name: nodeName } };
    try {
      await this.client.requestJSON('POST', `/api/v1/namespaces/${encodeURIComponent(pod.namespace)}/pods/${encodeURIComponent(pod.name)}/binding`, binding);
    } catch (err) {
      this.cache.forgetPod(pod.key);
      this.queue.moveAllToActiveOrBackoffQueue(ClusterEvent.PodDelete);
      if (isNotFound(err)) return; // deleted meanwhile
      const msg = err instanceof ApiError ? err.message : String((err as Error)?.message ?? err);
      log.warn('binding failed', { pod: pod.key, node: nodeName, err: msg });
      this.handleFailure(q, cycle, 'SchedulerError', `running Bind plugin "DefaultBinder": ${msg}`, true);
      return;
    }
    this.cache.finishBinding(pod.key);
    this.counters.scheduled++;
    this.recorder.event(podRef(pod.pod), 'Normal', 'Scheduled', 'Binding', `Successfully assigned ${pod.namespace}/${pod.name} to ${nodeName}`);
  }

  // ---- informers -------------------------------------------------------------------------------

  /** spec.priority, else the PriorityClass named (or the global default), else 0. */
  priorityOf(pod: Pod): number {
    if (typeof pod.spec?.priority === 'number') return pod.spec.priority;
    const name = pod.spec?.priorityClassName;
    if (name) return this.priorityClasses.get(undefined, name)?.value ?? 0;
    for (const pc of this.priorityClasses.list()) if (pc.globalDefault) return pc.value ?? 0;
    return 0;
  }

  /** spec.preemptionPolicy, else the PriorityClass's (admission normally copies it). */
  preemptionPolicyOf(pod: Pod): string {
    if (pod.spec?.preemptionPolicy) return pod.spec.preemptionPolicy;
    const name = pod.spec?.priorityClassName;
    return (name ? this.priorityClasses.get(undefined, name)?.preemptionPolicy : undefined) ?? 'PreemptLowerPriority';
  }

  private makePodInfo = (pod: Pod, existing?: PodInfo): PodInfo => {
    const prio = this.priorityOf(pod);
    if (existing) {
      existing.update(pod, prio);
      return existing;
    }
    return new PodInfo(pod, prio);
  };

  private responsibleFor(pod: Pod): boolean {
    return (pod.spec?.schedulerName ?? DEFAULT_SCHEDULER_NAME) === this.profile.schedulerName;
  }

  private wireInformers(): void {
    const assigned = (p: Pod) => !!p.spec?.nodeName;
    const keyOf = (p: Pod) => `${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`;

    this.pods.on('add', (pod) => {
      if (TERMINAL.has(pod.status?.phase ?? '')) return;
      if (assigned(pod)) {
        this.queue.delete(keyOf(pod));
        this.cache.addPod(pod, this.makePodInfo);
        this.queue.moveAllToActiveOrBackoffQueue(ClusterEvent.PodAdd);
      } else if (this.responsibleFor(pod)) {
        this.queue.add(this.makePodInfo(pod));
      }
    });
    this.pods.on('update', (oldPod, pod) => {
      const key = keyOf(pod);
      if (assigned(pod)) {
        if (!assigned(oldPod)) this.queue.delete(key);
        if (TERMINAL.has(pod.status?.phase ?? '')) {
          if (this.cache.removePod(key)) this.queue.moveAllToActiveOrBackoffQueue(ClusterEvent.PodDelete);
          return;
        }
        this.cache.updatePod(pod, this.makePodInfo);
        if (assigned(oldPod) && (labelsChanged(oldPod, pod) || (!oldPod.metadata?.deletionTimestamp && pod.metadata?.deletionTimestamp))) {
          this.queue.moveAllToActiveOrBackoffQueue(ClusterEvent.PodUpdate);
        } else if (!assigned(oldPod)) {
          this.queue.moveAllToActiveOrBackoffQueue(ClusterEvent.PodAdd);
        }
        return;
      }
      if (!this.responsibleFor(pod) || TERMINAL.has(pod.status?.phase ?? '')) {
        this.queue.delete(key);
        return;
      }
      // An assumed pod's own status updates (our condition patch) do not matter.
      if (this.cache.isAssumed(key)) return;
      this.queue.update(this.makePodInfo(pod));
    });
    this.pods.on('delete', (pod) => {
      const key = keyOf(pod);
      this.queue.delete(key);
      if (this.cache.removePod(key)) this.queue.moveAllToActiveOrBackoffQueue(ClusterEvent.PodDelete);
    });

    this.nodes.on('add', (node) => {
      this.cache.addNode(node);
      this.queue.moveAllToActiveOrBackoffQueue(ClusterEvent.NodeAdd);
    });
    this.nodes.on('update', (oldNode, node) => {
      this.cache.updateNode(node);
      const ev = nodeChange(oldNode, node);
      if (ev) this.queue.moveAllToActiveOrBackoffQueue(ev);
    });
    this.nodes.on('delete', (node) => {
      this.cache.removeNode(node.metadata?.name ?? '');
      this.queue.moveAllToActiveOrBackoffQueue(ClusterEvent.NodeDelete);
    });
    // A PriorityClass seen after pods naming it (informers sync in any order; admission may
    // not have set spec.priority): refresh those pods' priorities.
    const refresh = (pc: PriorityClass) => {
      const name = pc.metadata?.name;
      if (!name) return;
      this.cache.forEachPod((info) => {
        if (info.pod.spec?.priorityClassName === name && typeof info.pod.spec?.priority !== 'number') info.priority = pc.value ?? 0;
      });
      this.queue.moveAllToActiveOrBackoffQueue(ClusterEvent.Any);
    };
    this.priorityClasses.on('add', refresh);
    this.priorityClasses.on('update', (_old, pc) => refresh(pc));
  }
}

function labelsChanged(a: Pod, b: Pod): boolean {
  const la = a.metadata?.labels ?? {};
  const lb = b.metadata?.labels ?? {};
  const ka = Object.keys(la);
  if (ka.length !== Object.keys(lb).length) return true;
  for (const k of ka) if (la[k] !== lb[k]) return true;
  return false;
}

/** Which scheduling-relevant parts of a node changed (ClusterEvent bits; 0 = only heartbeats). */
export function nodeChange(a: Node, b: Node): number {
  let ev = 0;
  const j = (v: unknown) => JSON.stringify(v ?? null);
  if (j(a.metadata?.labels) !== j(b.metadata?.labels)) ev |= ClusterEvent.NodeLabelChange;
  if (j(a.spec?.taints) !== j(b.spec?.taints)) ev |= ClusterEvent.NodeTaintChange;
  if (!!a.spec?.unschedulable !== !!b.spec?.unschedulable) ev |= ClusterEvent.NodeSchedulableChange;
  if (j(a.status?.allocatable) !== j(b.status?.allocatable)) ev |= ClusterEvent.NodeAllocatableChange;
  if (j(a.status?.images) !== j(b.status?.images)) ev |= ClusterEvent.NodeImagesChange;
  return ev;
}

export function podRef(pod: Pod): ObjectReference {
  return {
    kind: 'Pod', apiVersion: 'v1', namespace: pod.metadata?.namespace, name: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid, resourceVersion: pod.metadata?.resourceVersion,
  };
}

function rfc3339(d = new Date()): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}
