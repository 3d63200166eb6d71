/**
 * SimNodes: thousands of simulated nodes in one process, for scale tests of the control
 * plane (what KWOK does for Kubernetes). They talk only to the API server, like kubelets:
 *
 *  - Registration: one Node per index (name `<namePrefix><i>`), labels kubernetes.io/hostname,
 *    kubernetes.io/os, kubernetes.io/arch plus `labels(i)` (zones, racks...), optional taints;
 *    status with capacity = allocatable, conditions (MemoryPressure/DiskPressure/PIDPressure
 *    False, Ready True with heartbeat times), addresses (InternalIP 10.x, Hostname), nodeInfo
 *    and daemonEndpoints. A node that already exists is taken over.
 *  - Heartbeats: one Lease per node in kube-node-lease (holderIdentity = node name, owned by
 *    the Node, renewTime MicroTime), renewed every heartbeatSeconds; node status (Ready's
 *    lastHeartbeatTime) refreshed every statusUpdateSeconds. One ticker walks the nodes in a
 *    ring — no timer per node — and hands due work to a bounded pool of API requests, so
 *    5,000 nodes cost a steady trickle of requests rather than bursts.
 *  - Playing the kubelet for pods bound to these nodes (one pod informer, field selector
 *    spec.nodeName!=, filtered to our nodes): after startupDelayMs a pod becomes Running with
 *    a podIP from the node's range, containerStatuses (running, ready, started) and conditions
 *    PodScheduled/Initialized/ContainersReady/Ready True. If podBehaviour(pod) gives an
 *    exitCode, the containers terminate after runForMs with it; then per restartPolicy the pod
 *    is Succeeded/Failed (Never; OnFailure with 0) or restarted (Always; OnFailure with non-zero):
 *    restartCount+1, lastState.terminated, state.waiting CrashLoopBackOff, Ready False, and
 *    started again after the kubelet's back-off (10 s doubling up to 5 min; configurable).
 *  - Pods being deleted (deletionTimestamp) are removed for good with DELETE
 *    gracePeriodSeconds=0 and a uid precondition — what a kubelet does once the containers
 *    have stopped.
 *  - Without a podBehaviour option (e.g. `keelson sim-nodes`), each pod says how it behaves in
 *    annotations (podBehaviourFromAnnotations): `sim.keelson.io/exit-code` (containers exit with
 *    it), `sim.keelson.io/run-for` (how long they run first), `sim.keelson.io/startup-delay`
 *    (bound → running) and `sim.keelson.io/ready: "false"` (running, never ready). Durations are
 *    Go-style ("500ms", "2s", "1m") or plain milliseconds.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Node, Pod, Taint, ContainerStatus, PodCondition } from 'kubernetes-types/core/v1.js';
import {
  Informer, LEASES, isAlreadyExists, isConflict, isNotFound, microTime,
  type Lease, type ResourceDescriptor, type RestClient,
} from '../client/index.js';
import { logger } from '../util/log.js';

const log = logger('sim-nodes');

export const NODES: ResourceDescriptor = { group: '', version: 'v1', plural: 'nodes', namespaced: false };
export const PODS: ResourceDescriptor = { group: '', version: 'v1', plural: 'pods', namespaced: true };
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
export const KUBELET_VERSION = 'v1.32.0-keelson';

export interface SimNodeCapacity {
  cpu: string | number;
  memory: string | number;
  pods: string | number;
  'nvidia.com/gpu'?: string | number;
  [resource: string]: string | number | undefined;
}

export interface PodBehaviour {
  /** Containers exit with this code (absent: they run until the pod is deleted). */
  exitCode?: number;
  /** How long the containers run before exiting (default 0). */
  runForMs?: number;
  /** Delay between being bound and running (default: the startupDelayMs option). */
  startupDelayMs?: number;
  /** false: the containers run but never pass readiness (default true). */
  ready?: boolean;
}

export const EXIT_CODE_ANNOTATION = 'sim.keelson.io/exit-code';
export const RUN_FOR_ANNOTATION = 'sim.keelson.io/run-for';
export const STARTUP_DELAY_ANNOTATION = 'sim.keelson.io/startup-delay';
export const READY_ANNOTATION = 'sim.keelson.io/ready';

/** "1500", "1500ms", "1.5s", "2m", "1h" → milliseconds; undefined when not a duration. */
export function parseDurationMs(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? 'ms';
  return Math.round(n * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000));
}

/** The behaviour a pod asks for with the sim.keelson.io/* annotations (see the file comment). */
export function podBehaviourFromAnnotations(pod: Pod): PodBehaviour | undefined {
  const a = pod.metadata?.annotations;
  if (!a) return undefined;
  const b: PodBehaviour = {};
  const code = a[EXIT_CODE_ANNOTATION];
  if (code !== undefined && /^\s*-?\d+\s*$/.test(code)) b.exitCode = Number(code);
  const runFor = parseDurationMs(a[RUN_FOR_ANNOTATION]);
  if (runFor !== undefined) b.runForMs = runFor;
  const delay = parseDurationMs(a[STARTUP_DELAY_ANNOTATION]);
  if (delay !== undefined) b.startupDelayMs = delay;
  if (a[READY_ANNOTATION] === 'false') b.ready = false;
  return Object.keys(b).length ? b : undefined;
}

export interface SimNodesOptions {
  count: number;
  namePrefix?: string;
  capacity: SimNodeCapacity;
  /** Extra labels of node i (zones, racks, ...). */
  labels?: (i: number) => Record<string, string>;
  /** Taints of every node, or of node i. */
  taints?: Taint[] | ((i: number) => Taint[] | undefined);
  /** Lease renewal period (default 10, the kubelet's nodeLeaseDurationSeconds/4). */
  heartbeatSeconds?: number;
  /** Node status refresh period (default 60). */
  statusUpdateSeconds?: number;
  /** Delay between a pod being bound and it running (default 0). */
  startupDelayMs?: number;
  /** How each pod behaves (default: podBehaviourFromAnnotations). */
  podBehaviour?: (pod: Pod) => PodBehaviour | undefined | void;
  /** API requests in flight at once (default 64). */
  concurrency?: number;
  /** Crash-loop back-off: first delay and cap (default 10 s and 300 s, as the kubelet). */
  restartBackoffMs?: { initial?: number; max?: number };
  /** Ticker period in ms (default 1000). */
  tickMs?: number;
  /** Play the kubelet for bound pods (default true); false = nodes and heartbeats only. */
  runPods?: boolean;
}

interface SimNode {
  index: number;
  name: string;
  ip: string;
  uid?: string;
  lease?: Lease;
  nextLease: number;
  nextStatus: number;
  busy: boolean;
  ipCounter: number;
  /** When the conditions took their values (lastTransitionTime). */
  since: string;
  bootID: string;
}

type Stage = 'starting' | 'running' | 'backoff' | 'done' | 'deleting';

interface SimPod {
  key: string;
  namespace: string;
  name: string;
  uid: string;
  node: SimNode;
  stage: Stage;
  restarts: number;
  ip: string;
  startTime: string;
  startedAt: string;
  /** Bumped whenever the pod's plan changes; stale timer entries are ignored. */
  gen: number;
  /** Exit code of the current run, when podBehaviour asked for one. */
  exitCode?: number;
  /** The containers run but are not ready (podBehaviour ready: false). */
  unready?: boolean;
  lastTerminated?: { exitCode: number; reason: string; startedAt: string; finishedAt: string };
}

interface TimerEntry {
  due: number;
  key: string;
  gen: number;
  action: 'start' | 'exit';
}

/** Min-heap of timer entries by due time: one timer for all pods. */
class TimerHeap {
  private a: TimerEntry[] = [];
  get size(): number { return this.a.length; }
  peek(): TimerEntry | undefined { return this.a[0]; }
  push(e: TimerEntry): void {
    const a = this.a;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p].due <= a[i].due) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }
  pop(): TimerEntry | undefined {
    const a = this.a;
    if (!a.length) return undefined;
    const top = a[0];
    const last = a.pop()!;
    if (a.length) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const m = r < a.length && a[r].due < a[l].due ? r : l;
        if (a[i].due <= a[m].due) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}

const rfc3339 = (d = new Date()) => d.toISOString().replace(/\.\d+Z$/, 'Z');

export class SimNodes {
  readonly namePrefix: string;
  readonly heartbeatMs: number;
  readonly statusMs: number;
  private readonly nodes: SimNode[] = [];
  private readonly byName = new Map<string, SimNode>();
  private readonly pods = new Map<string, SimPod>();
  private readonly timers = new TimerHeap();
  private timer?: NodeJS.Timeout;
  private timerDue = Infinity;
  private readonly concurrency: number;
  private inFlight = 0;
  private waiting: Array<() => void> = [];
  private signal?: AbortSignal;
  private running?: Promise<void>;
  private registeredResolve!: () => void;
  private readonly registeredPromise: Promise<void>;
  readonly podInformer: Informer<Pod>;
  private readonly backoffInitial: number;
  private readonly backoffMax: number;
  private readonly behaviour: (pod: Pod) => PodBehaviour | undefined | void;
  private ringCursor = 0;
  /** Counters for tests and benchmarks. */
  readonly counters = { leaseRenewals: 0, statusUpdates: 0, podsStarted: 0, podsExited: 0, podsDeleted: 0, errors: 0 };

  constructor(readonly client: RestClient, readonly opts: SimNodesOptions) {
    if (!Number.isInteger(opts.count) || opts.count < 0) throw new Error('sim-nodes: count must be a whole number >= 0');
    this.namePrefix = opts.namePrefix ?? 'sim-node-';
    this.heartbeatMs = (opts.heartbeatSeconds ?? 10) * 1000;
    this.statusMs = (opts.statusUpdateSeconds ?? 60) * 1000;
    this.concurrency = opts.concurrency ?? 64;
    this.backoffInitial = opts.restartBackoffMs?.initial ?? 10_000;
    this.backoffMax = opts.restartBackoffMs?.max ?? 300_000;
    this.behaviour = opts.podBehaviour ?? podBehaviourFromAnnotations;
    this.registeredPromise = new Promise((r) => { this.registeredResolve = r; });
    for (let i = 0; i < opts.count; i++) {
      const n: SimNode = { index: i, name: `${this.namePrefix}${i}`, ip: nodeIP(i), nextLease: 0, nextStatus: 0, busy: false, ipCounter: 0, since: '', bootID: randomUUID() };
      this.nodes.push(n);
      this.byName.set(n.name, n);
    }
    this.podInformer = new Informer<Pod>(client, PODS, { fieldSelector: 'spec.nodeName!=' });
  }

  nodeNames(): string[] {
    return this.nodes.map((n) => n.name);
  }

  /** Resolves once every node, its status and its Lease have been written. */
  registered(): Promise<void> {
    return this.registeredPromise;
  }

  /** Runs until `signal` aborts; resolves once stopped. */
  start(signal: AbortSignal): Promise<void> {
    if (this.running) throw new Error('sim-nodes already started');
    this.signal = signal;
    this.running = this.run(signal);
    return this.running;
  }

  async stopped(): Promise<void> {
    await this.running;
  }

  private async run(signal: AbortSignal): Promise<void> {
    this.wirePods();
    try {
      await this.registerAll(signal);
      if (signal.aborted) return;
      this.registeredResolve();
      log.info('nodes registered', { count: this.nodes.length, prefix: this.namePrefix });
      if (this.opts.runPods !== false) this.podInformer.start(signal);
      const tick = setInterval(() => this.tick(), this.opts.tickMs ?? 1000);
      await new Promise<void>((resolve) => {
        if (signal.aborted) return resolve();
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
      clearInterval(tick);
    } finally {
      if (this.timer) clearTimeout(this.timer);
      if (this.opts.runPods !== false) await this.podInformer.stopped().catch(() => {});
      await this.drain();
    }
  }

  // ---- request pool ----------------------------------------------------------------------------

  /** Runs `fn` when fewer than `concurrency` requests are in flight. */
  private async limited<T>(fn: () => Promise<T>): Promise<T> {
    while (this.inFlight >= this.concurrency) await new Promise<void>((r) => this.waiting.push(r));
    this.inFlight++;
    try {
      return await fn();
    } finally {
      this.inFlight--;
      const w = this.waiting.shift();
      if (w) w();
    }
  }

  private async drain(): Promise<void> {
    while (this.inFlight > 0) await new Promise<void>((r) => this.waiting.push(r));
  }

  // ---- nodes -----------------------------------------------------------------------------------

  private async registerAll(signal: AbortSignal): Promise<void> {
    const now = Date.now();
    await Promise.all(this.nodes.map((n) => this.limited(async () => {
      if (signal.aborted) return;
      for (let attempt = 0; ; attempt++) {
        try {
          await this.registerOne(n);
          break;
        } catch (err) {
          if (signal.aborted) return;
          this.counters.errors++;
          if (attempt >= 5) { log.error('failed to register node', { node: n.name, err: (err as Error).message }); return; }
          await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
        }
      }
      // Spread heartbeats over the period so renewals arrive evenly.
      n.nextLease = now + Math.floor((n.index / Math.max(1, this.nodes.length)) * this.heartbeatMs) + this.heartbeatMs;
      n.nextStatus = now + Math.floor((n.index / Math.max(1, this.nodes.length)) * this.statusMs) + this.statusMs;
    })));
    // The ring is walked in due order.
    this.nodes.sort((a, b) => a.nextLease - b.nextLease);
  }

  private nodeObject(n: SimNode): Node {
    const taints = typeof this.opts.taints === 'function' ? this.opts.taints(n.index) : this.opts.taints;
    return {
      apiVersion: 'v1', kind: 'Node',
      metadata: {
        name: n.name,
        labels: {
          'kubernetes.io/hostname': n.name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64',
          'beta.kubernetes.io/os': 'linux', 'beta.kubernetes.io/arch': 'amd64', 'type': 'sim',
          ...(this.opts.labels?.(n.index) ?? {}),
        },
        annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'keelson.io/sim-node': 'true' },
      },
      spec: taints?.length ? { taints } : {},
    };
  }

  private nodeStatus(n: SimNode, now = new Date()): any {
    const capacity: Record<string, string> = { 'ephemeral-storage': '100Gi' };
    for (const [k, v] of Object.entries(this.opts.capacity)) if (v !== undefined) capacity[k] = String(v);
    const ts = rfc3339(now);
    if (!n.since) n.since = ts;
    const cond = (type: string, status: string, reason: string, message: string) => ({ type, status, reason, message, lastHeartbeatTime: ts, lastTransitionTime: n.since });
    const id = createHash('md5').update(n.name).digest('hex');
    return {
      capacity, allocatable: { ...capacity },
      conditions: [
        cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      addresses: [{ type: 'InternalIP', address: n.ip }, { type: 'Hostname', address: n.name }],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: id, systemUUID: `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20, 32)}`,
        bootID: n.bootID, kernelVersion: '6.1.0-sim', osImage: 'keelson sim-node', containerRuntimeVersion: 'sim://1.0.0',
        kubeletVersion: KUBELET_VERSION, kubeProxyVersion: KUBELET_VERSION, operatingSystem: 'linux', architecture: 'amd64',
      },
    };
  }

  private async registerOne(n: SimNode): Promise<void> {
    let node: Node;
    try {
      node = await this.client.create<Node>(NODES, undefined, this.nodeObject(n));
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      node = await this.client.get<Node>(NODES, undefined, n.name);
    }
    n.uid = node.metadata?.uid;
    await this.client.patch(NODES, undefined, n.name, { status: this.nodeStatus(n) }, 'merge', { subresource: 'status' });
    await this.renewLease(n);
  }

  private async renewLease(n: SimNode): Promise<void> {
    const now = microTime();
    if (n.lease) {
      const next: Lease = { ...n.lease, spec: { ...n.lease.spec, holderIdentity: n.name, leaseDurationSeconds: 40, renewTime: now } };
      try {
        const updated = await this.client.update<Lease>(LEASES, NODE_LEASE_NAMESPACE, next);
        if (!updated?.spec) throw new Error('lease update answered without a Lease');
        n.lease = updated;
        this.counters.leaseRenewals++;
        return;
      } catch (err) {
        if (!isConflict(err) && !isNotFound(err)) throw err;
        n.lease = undefined; // re-read below
      }
    }
    try {
      const cur = await this.client.get<Lease>(LEASES, NODE_LEASE_NAMESPACE, n.name);
      n.lease = await this.client.update<Lease>(LEASES, NODE_LEASE_NAMESPACE, {
        ...cur, spec: { ...cur.spec, holderIdentity: n.name, leaseDurationSeconds: 40, renewTime: now },
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      n.lease = await this.client.create<Lease>(LEASES, NODE_LEASE_NAMESPACE, {
        apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
        metadata: {
          name: n.name, namespace: NODE_LEASE_NAMESPACE,
          ownerReferences: n.uid ? [{ apiVersion: 'v1', kind: 'Node', name: n.name, uid: n.uid }] as any : undefined,
        },
        spec: { holderIdentity: n.name, leaseDurationSeconds: 40, renewTime: now },
      });
    }
    this.counters.leaseRenewals++;
  }

  /** One walk over the ring: hand due heartbeats and status updates to the request pool. */
  private tick(): void {
    const now = Date.now();
    const nodes = this.nodes;
    if (!nodes.length) return;
    // Nodes are due in ring order; stop at the first one that is not due yet.
    for (let visited = 0; visited < nodes.length; visited++) {
      const n = nodes[this.ringCursor];
      if (n.nextLease > now) break;
      this.ringCursor = (this.ringCursor + 1) % nodes.length;
      n.nextLease += this.heartbeatMs;
      if (n.nextLease <= now) n.nextLease = now + this.heartbeatMs; // fell behind: do not catch up in a burst
      if (n.busy) continue;
      const withStatus = n.nextStatus <= now;
      if (withStatus) n.nextStatus = now + this.statusMs;
      n.busy = true;
      void this.limited(async () => {
        if (this.signal?.aborted) return;
        try {
          await this.renewLease(n);
          if (withStatus) {
            await this.client.patch(NODES, undefined, n.name, { status: { conditions: this.nodeStatus(n).conditions } }, 'merge', { subresource: 'status' });
            this.counters.statusUpdates++;
          }
        } catch (err) {
          this.counters.errors++;
          n.lease = undefined; // re-read next time
          if (!this.signal?.aborted) log.warn('heartbeat failed', { node: n.name, err: (err as Error).message });
        } finally {
          n.busy = false;
        }
      });
    }
  }

  // ---- pods ------------------------------------------------------------------------------------

  private wirePods(): void {
    const onPod = (pod: Pod) => {
      const node = this.byName.get(pod.spec?.nodeName ?? '');
      if (!node) return;
      this.sync(pod, node);
    };
    this.podInformer.on('add', onPod);
    this.podInformer.on('update', (_old, pod) => onPod(pod));
    this.podInformer.on('delete', (pod) => {
      const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
      const sp = this.pods.get(key);
      if (sp && sp.uid === pod.metadata?.uid) this.pods.delete(key);
    });
  }

  private sync(pod: Pod, node: SimNode): void {
    const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    const uid = pod.metadata?.uid ?? '';
    let sp = this.pods.get(key);
    if (sp && sp.uid !== uid) sp = undefined; // a new pod with the same name
    if (pod.metadata?.deletionTimestamp) {
      if (sp?.stage === 'deleting') return;
      if (!sp) {
        sp = this.newSimPod(key, pod, node);
        this.pods.set(key, sp);
      }
      sp.stage = 'deleting';
      sp.gen++;
      this.deletePod(sp);
      return;
    }
    if (sp) return; // already handled; our own status writes come back here
    sp = this.newSimPod(key, pod, node);
    this.pods.set(key, sp);
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') { sp.stage = 'done'; return; }
    if (phase === 'Running') {
      // Taken over from an earlier run: keep it running as it is.
      sp.stage = 'running';
      sp.ip = pod.status?.podIP ?? sp.ip;
      sp.restarts = pod.status?.containerStatuses?.[0]?.restartCount ?? 0;
      return;
    }
    this.schedule(sp, this.behaviour(pod)?.startupDelayMs ?? this.opts.startupDelayMs ?? 0, 'start');
  }

  private newSimPod(key: string, pod: Pod, node: SimNode): SimPod {
    const hostNetwork = pod.spec?.hostNetwork === true;
    return {
      key, namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '',
      node, stage: 'starting', restarts: 0, ip: hostNetwork ? node.ip : podIP(node), startTime: '', startedAt: '', gen: 0,
    };
  }

  private schedule(sp: SimPod, delayMs: number, action: 'start' | 'exit'): void {
    const due = Date.now() + Math.max(0, delayMs);
    this.timers.push({ due, key: sp.key, gen: sp.gen, action });
    this.armTimer();
  }

  /** One timer for all pods, armed for the earliest due action. */
  private armTimer(): void {
    const next = this.timers.peek();
    if (!next || this.signal?.aborted) return;
    if (this.timer && this.timerDue <= next.due) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDue = next.due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerDue = Infinity;
      this.runDue();
    }, Math.max(0, next.due - Date.now()));
  }

  private runDue(): void {
    const now = Date.now();
    for (;;) {
      const e = this.timers.peek();
      if (!e || e.due > now) break;
      this.timers.pop();
      const sp = this.pods.get(e.key);
      if (!sp || sp.gen !== e.gen || sp.stage === 'deleting' || sp.stage === 'done') continue;
      if (e.action === 'start') this.startContainers(sp);
      else this.exitContainers(sp);
    }
    this.armTimer();
  }

  private currentPod(sp: SimPod): Pod | undefined {
    const p = this.podInformer.get(sp.namespace, sp.name);
    return p && p.metadata?.uid === sp.uid ? p : undefined;
  }

  private startContainers(sp: SimPod): void {
    const pod = this.currentPod(sp);
    if (!pod) return;
    const now = rfc3339();
    if (!sp.startTime) sp.startTime = now;
    sp.startedAt = now;
    sp.stage = 'running';
    const gen = ++sp.gen;
    const behaviour = this.behaviour(pod) || undefined;
    sp.unready = behaviour?.ready === false;
    const status = this.runningStatus(pod, sp);
    void this.writeStatus(sp, status).then(() => {
      this.counters.podsStarted++;
      if (behaviour?.exitCode !== undefined && sp.gen === gen && sp.stage === 'running') {
        sp.exitCode = behaviour.exitCode;
        this.schedule(sp, behaviour.runForMs ?? 0, 'exit');
      }
    });
  }

  private exitContainers(sp: SimPod): void {
    const pod = this.currentPod(sp);
    if (!pod) return;
    const code = sp.exitCode ?? 0;
    const now = rfc3339();
    const reason = code === 0 ? 'Completed' : 'Error';
    const terminated = { exitCode: code, reason, startedAt: sp.startedAt, finishedAt: now };
    const policy = pod.spec?.restartPolicy ?? 'Always';
    const restart = policy === 'Always' || (policy === 'OnFailure' && code !== 0);
    sp.gen++;
    this.counters.podsExited++;
    if (!restart) {
      sp.stage = 'done';
      const phase = code === 0 ? 'Succeeded' : 'Failed';
      void this.writeStatus(sp, this.terminalStatus(pod, sp, phase, terminated));
      return;
    }
    sp.restarts++;
    sp.lastTerminated = terminated;
    sp.stage = 'backoff';
    const delay = Math.min(this.backoffMax, this.backoffInitial * 2 ** (sp.restarts - 1));
    void this.writeStatus(sp, this.crashLoopStatus(pod, sp, delay)).then(() => {
      if (sp.stage === 'backoff') this.schedule(sp, delay, 'start');
    });
  }

  private async deletePod(sp: SimPod): Promise<void> {
    try {
      await this.limited(() => this.client.delete(PODS, sp.namespace, sp.name, { gracePeriodSeconds: 0, preconditions: { uid: sp.uid } }));
      this.counters.podsDeleted++;
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) return; // gone already, or another pod by now
      this.counters.errors++;
      log.warn('failed to delete pod', { pod: sp.key, err: (err as Error).message });
      sp.stage = 'starting'; // let the next update retry
    }
  }

  private async writeStatus(sp: SimPod, status: Record<string, unknown>): Promise<void> {
    try {
      await this.limited(() => this.client.patch(PODS, sp.namespace, sp.name, { status }, 'merge', { subresource: 'status' }));
    } catch (err) {
      if (isNotFound(err)) return;
      this.counters.errors++;
      if (!this.signal?.aborted) log.warn('failed to update pod status', { pod: sp.key, err: (err as Error).message });
    }
  }

  // ---- pod status ------------------------------------------------------------------------------

  private conditions(pod: Pod, ready: boolean, now: string, reason?: string, message?: string): PodCondition[] {
    const prev = new Map((pod.status?.conditions ?? []).map((c) => [c.type, c]));
    const c = (type: string, ok: boolean, r?: string, m?: string): PodCondition => {
      const status = ok ? 'True' : 'False';
      const old = prev.get(type);
      return {
        type, status, lastProbeTime: null as any,
        lastTransitionTime: old && old.status === status && old.lastTransitionTime ? old.lastTransitionTime : now,
        ...(r ? { reason: r } : {}), ...(m ? { message: m } : {}),
      };
    };
    return [
      c('PodReadyToStartContainers', true),
      c('Initialized', true),
      c('Ready', ready, ready ? undefined : reason, ready ? undefined : message),
      c('ContainersReady', ready, ready ? undefined : reason, ready ? undefined : message),
      c('PodScheduled', true),
    ];
  }

  private baseStatus(pod: Pod, sp: SimPod): Record<string, unknown> {
    return {
      hostIP: sp.node.ip, hostIPs: [{ ip: sp.node.ip }],
      podIP: sp.ip, podIPs: [{ ip: sp.ip }],
      startTime: sp.startTime || rfc3339(),
      initContainerStatuses: (pod.spec?.initContainers ?? []).length
        ? (pod.spec?.initContainers ?? []).map((c) => ({
          name: c.name, image: c.image, imageID: imageID(c.image), containerID: containerID(sp, c.name),
          ready: true, started: false, restartCount: 0,
          state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: sp.startTime, finishedAt: sp.startTime } },
        }))
        : undefined,
    };
  }

  private runningStatus(pod: Pod, sp: SimPod): Record<string, unknown> {
    const now = rfc3339();
    const ready = !sp.unready;
    const containerStatuses: ContainerStatus[] = (pod.spec?.containers ?? []).map((c) => ({
      name: c.name, image: c.image ?? '', imageID: imageID(c.image), containerID: containerID(sp, c.name),
      ready, started: true, restartCount: sp.restarts,
      state: { running: { startedAt: sp.startedAt } },
      ...(sp.lastTerminated ? { lastState: { terminated: { ...sp.lastTerminated, containerID: containerID(sp, c.name) } } } : {}),
    }));
    const unreadyMsg = `containers with unready status: [${(pod.spec?.containers ?? []).map((c) => c.name).join(' ')}]`;
    const conditions = ready ? this.conditions(pod, true, now) : this.conditions(pod, false, now, 'ContainersNotReady', unreadyMsg);
    return { ...this.baseStatus(pod, sp), phase: 'Running', conditions, containerStatuses };
  }

  private crashLoopStatus(pod: Pod, sp: SimPod, delayMs: number): Record<string, unknown> {
    const now = rfc3339();
    const names = (pod.spec?.containers ?? []).map((c) => c.name);
    const containerStatuses: ContainerStatus[] = (pod.spec?.containers ?? []).map((c) => ({
      name: c.name, image: c.image ?? '', imageID: imageID(c.image), containerID: containerID(sp, c.name),
      ready: false, started: false, restartCount: sp.restarts,
      state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${formatDuration(delayMs)} restarting failed container=${c.name} pod=${sp.name}_${sp.namespace}(${sp.uid})` } },
      lastState: { terminated: { ...sp.lastTerminated!, containerID: containerID(sp, c.name) } },
    }));
    const msg = `containers with unready status: [${names.join(' ')}]`;
    return { ...this.baseStatus(pod, sp), phase: 'Running', conditions: this.conditions(pod, false, now, 'ContainersNotReady', msg), containerStatuses };
  }

  private terminalStatus(pod: Pod, sp: SimPod, phase: 'Succeeded' | 'Failed', terminated: SimPod['lastTerminated'] & {}): Record<string, unknown> {
    const now = rfc3339();
    const containerStatuses: ContainerStatus[] = (pod.spec?.containers ?? []).map((c) => ({
      name: c.name, image: c.image ?? '', imageID: imageID(c.image), containerID: containerID(sp, c.name),
      ready: false, started: false, restartCount: sp.restarts,
      state: { terminated: { ...terminated, containerID: containerID(sp, c.name) } },
      ...(sp.lastTerminated ? { lastState: { terminated: { ...sp.lastTerminated, containerID: containerID(sp, c.name) } } } : {}),
    }));
    const reason = phase === 'Succeeded' ? 'PodCompleted' : 'PodFailed';
    const conds = this.conditions(pod, false, now, reason, undefined).map((c) =>
      c.type === 'Ready' || c.type === 'ContainersReady' ? { ...c, reason } : c.type === 'PodReadyToStartContainers' ? { ...c, status: 'False', lastTransitionTime: now } : c);
    return { ...this.baseStatus(pod, sp), phase, conditions: conds, containerStatuses };
  }
}

/** 10.128.0.1, 10.128.0.2, ... (254 hosts per /24). */
export function nodeIP(i: number): string {
  const host = (i % 254) + 1;
  const c = Math.floor(i / 254);
  return `10.${128 + Math.floor(c / 256)}.${c % 256}.${host}`;
}

/** Pod addresses come from the node's /24 in 10.0.0.0/9: node i owns 10.(i/256).(i%256).0/24. */
function podIP(n: SimNode): string {
  const host = (n.ipCounter++ % 253) + 2;
  return `10.${Math.floor(n.index / 256) % 128}.${n.index % 256}.${host}`;
}

function containerID(sp: SimPod, name: string): string {
  return `sim://${createHash('sha256').update(`${sp.uid}/${name}/${sp.restarts}`).digest('hex')}`;
}

function imageID(image: string | undefined): string {
  return `sim://sha256:${createHash('sha256').update(image ?? '').digest('hex')}`;
}

/** Go's time.Duration formatting for whole seconds/minutes: 10s, 1m20s, 5m0s. */
function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  return `${Math.floor(s / 60)}m${s % 60}s`;
}
