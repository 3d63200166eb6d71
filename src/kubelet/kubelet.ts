/**
 * Kubelet: keelson's node agent. An ordinary API client (as DESIGN.md says) that
 *  - registers its Node (capacity read from the machine, podCIDR), renews its Lease in
 *    kube-node-lease every 10 s and refreshes the Node status;
 *  - watches the pods bound to it and hands each to its PodWorkers worker, which runs the
 *    RuntimeManager (CRI: sandboxes, containers, hooks, back-off), the ProbeManager, and
 *    writes the pod status when it changed;
 *  - notices runtime changes itself (the PLEG: relisting containers every second and
 *    waking the pod whose containers changed state), resyncs every pod periodically (which is
 *    also when configMap/secret volumes are refreshed in place);
 *  - terminates pods gracefully when they are deleted (preStop, SIGTERM, grace period,
 *    SIGKILL), then deletes them for good with grace 0, as the kubelet's status manager does.
 * State that must survive an agent restart lives in containerd (labels/annotations), so a
 * restarted agent adopts the pods it finds.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfigMap, Container, Node, Pod, Secret, Service } from 'kubernetes-types/core/v1.js';
import {
  Informer, LEASES, isAlreadyExists, isConflict, isNotFound, microTime,
  type Lease, type ResourceDescriptor, type RestClient,
} from '../client/index.js';
import { EventRecorder, type ObjectReference } from '../client/event-recorder.js';
import { deepEqual } from '../util/objects.js';
import { logger } from '../util/log.js';
import type { ImageService, RuntimeService } from './cri/api.js';
import { RuntimeManager, podKey, LABEL_POD_UID, type PodRecord, type RuntimeContainer } from './runtime-manager.js';
import { PodWorkers, type WorkResult } from './pod-workers.js';
import { ProbeManager } from './prober.js';
import { generatePodStatus } from './pod-status.js';
import { machineInfo, nodeLabels, nodeStatus, type MachineInfo } from './node-status.js';
import { VolumeManager } from './volumes/volume-manager.js';
import { makeEnvironment, expandCommand } from './env.js';
import { makeHostsFile, makeResolvConf } from './pod-files.js';
import { readManifests, syncStaticPods } from './static-pods.js';

const log = logger('kubelet');

export const PODS: ResourceDescriptor = { group: '', version: 'v1', plural: 'pods', namespaced: true };
export const NODES: ResourceDescriptor = { group: '', version: 'v1', plural: 'nodes', namespaced: false };
export const SERVICES: ResourceDescriptor = { group: '', version: 'v1', plural: 'services', namespaced: true };
export const CONFIGMAPS: ResourceDescriptor = { group: '', version: 'v1', plural: 'configmaps', namespaced: true };
export const SECRETS: ResourceDescriptor = { group: '', version: 'v1', plural: 'secrets', namespaced: true };
const NODE_LEASE_NS = 'kube-node-lease';

export interface KubeletOptions {
  client: RestClient;
  runtime: RuntimeService & ImageService;
  nodeName: string;
  /** The kubelet's state dir (pods/<uid>/volumes, etc.). */
  rootDir: string;
  /** Where container logs go (<ns>_<pod>_<uid>/<container>/<n>.log). */
  logDir: string;
  hostIP: string;
  kubeletPort: number;
  podCIDR?: string;
  clusterDNS?: string[];
  clusterDomain?: string;
  /** The cluster CA (written into kube-api-access projected volumes). */
  caCertPem?: string;
  runtimeVersion?: string;
  /** Crash-loop back-off (default 10 s doubling to 300 s). */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Periodic resync of every pod (default 10 s). */
  resyncMs?: number;
  /** PLEG relist period (default 1 s). */
  plegMs?: number;
  /** Lease renew period (default 10 s) and node status period (default 10 s). */
  leaseSeconds?: number;
  nodeStatusSeconds?: number;
  labels?: Record<string, string>;
  /** Directory of static pod manifests (checked every 5 s). */
  staticPodPath?: string;
}

export class Kubelet {
  readonly runtimeManager: RuntimeManager;
  readonly probes: ProbeManager;
  readonly workers: PodWorkers;
  readonly volumes: VolumeManager;
  readonly events: EventRecorder;
  readonly podInformer: Informer<Pod>;
  readonly serviceInformer: Informer<Service>;
  private records = new Map<string, PodRecord>();
  private lastStatus = new Map<string, unknown>();
  private lastState = new Map<string, Awaited<ReturnType<RuntimeManager['podState']>>>();
  private machine: MachineInfo;
  private node?: Node;
  private lease?: Lease;
  private signal?: AbortSignal;
  private timers: NodeJS.Timeout[] = [];
  private plegSnapshot = new Map<string, string>();
  private hostResolvConf: string;
  readonly client: RestClient;

  constructor(readonly opts: KubeletOptions) {
    this.client = opts.client;
    this.machine = machineInfo(opts.rootDir);
    mkdirSync(opts.rootDir, { recursive: true });
    mkdirSync(opts.logDir, { recursive: true });
    try { this.hostResolvConf = readFileSync('/etc/resolv.conf', 'utf8'); } catch { this.hostResolvConf = ''; }
    this.events = new EventRecorder(opts.client, { component: 'kubelet', instance: opts.nodeName, concurrency: 2 });
    const source = {
      getConfigMap: (ns: string, name: string) => this.getOrNull<ConfigMap>(CONFIGMAPS, ns, name),
      getSecret: (ns: string, name: string) => this.getOrNull<Secret>(SECRETS, ns, name),
    };
    this.volumes = new VolumeManager({ rootDir: opts.rootDir, source, nodeName: opts.nodeName, caCertPem: opts.caCertPem } as ConstructorParameters<typeof VolumeManager>[0]);
    this.podInformer = new Informer<Pod>(opts.client, PODS, { fieldSelector: `spec.nodeName=${opts.nodeName}` });
    this.serviceInformer = new Informer<Service>(opts.client, SERVICES);
    this.probes = new ProbeManager({
      runtime: opts.runtime,
      onChange: (uid, kind) => {
        // Readiness goes straight to the status (as the kubelet's status manager does), even
        // while the pod worker is busy, e.g. waiting out another container's grace period.
        if (kind === 'readiness') void this.pushReadiness(uid);
        this.workers.enqueue(uid);
      },
      event: (ref, type, reason, message) => this.event(ref, type, reason, message),
    });
    this.runtimeManager = new RuntimeManager({
      runtime: opts.runtime, images: opts.runtime, logRoot: opts.logDir, nodeMemoryBytes: this.machine.memoryBytes,
      backoffInitialMs: opts.backoffInitialMs, backoffMaxMs: opts.backoffMaxMs,
    }, {
      env: (pod, c, podIP) => makeEnvironment(pod, c, {
        source, services: this.serviceInformer.list(), hostIP: opts.hostIP, podIPs: podIP ? [podIP] : [],
        nodeAllocatable: { cpu: this.machine.cpus, memory: this.machine.memoryBytes },
      }),
      expand: (args, envs) => expandCommand(args, envs),
      volumes: (pod) => this.volumes.setUp(pod),
      podDir: (uid) => this.volumes.podDir(uid),
      hostsFile: (pod, ips) => makeHostsFile(pod, ips),
      dnsConfig: (pod) => this.dnsConfig(pod),
      pullSecret: (ns, name) => this.getOrNull<Secret>(SECRETS, ns, name),
      event: (ref, type, reason, message) => this.event(ref, type, reason, message),
      probeFailed: (id) => this.probes.failed(id),
    });
    this.workers = new PodWorkers((pod, deleted) => this.syncPodWork(pod, deleted));
  }

  private event(ref: ObjectReference, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.events.event(ref, type, reason, reason, message);
  }

  private async getOrNull<T>(res: ResourceDescriptor, ns: string, name: string): Promise<T | null> {
    try { return await this.client.get<T>(res, ns, name); } catch (err) { if (isNotFound(err)) return null; throw err; }
  }

  private dnsConfig(pod: Pod) {
    const text = makeResolvConf(pod, { clusterDNS: this.opts.clusterDNS ?? [], clusterDomain: this.opts.clusterDomain ?? 'cluster.local', hostResolvConf: this.hostResolvConf });
    const servers: string[] = [], searches: string[] = [], options: string[] = [];
    for (const line of text.split('\n')) {
      const [k, ...rest] = line.trim().split(/\s+/);
      if (k === 'nameserver') servers.push(...rest);
      else if (k === 'search') searches.push(...rest);
      else if (k === 'options') options.push(...rest);
    }
    return { servers, searches, options };
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  async start(signal: AbortSignal): Promise<void> {
    this.signal = signal;
    await this.registerNode();
    this.serviceInformer.start(signal);
    this.podInformer.on('add', (p) => this.workers.update(p));
    // As the kubelet's pod config: an update that changes only the status (most often the echo of
    // this kubelet's own status write) does not trigger a sync.
    this.podInformer.on('update', (o, p) => this.workers.update(p, false, podsDifferSemantically(o, p)));
    this.podInformer.on('delete', (p) => this.workers.update(p, true));
    this.podInformer.start(signal);
    await Promise.all([this.podInformer.waitForSync(signal), this.serviceInformer.waitForSync(signal)]);
    await this.adoptOrphans();
    const every = (ms: number, fn: () => Promise<void>) => {
      let busy = false;
      const t = setInterval(() => { if (busy) return; busy = true; fn().catch((err) => log.warn('periodic task failed', { err: (err as Error).message })).finally(() => { busy = false; }); }, ms);
      this.timers.push(t);
    };
    every((this.opts.leaseSeconds ?? 10) * 1000, () => this.renewLease());
    every((this.opts.nodeStatusSeconds ?? 10) * 1000, () => this.updateNodeStatus());
    every(this.opts.plegMs ?? 1000, () => this.relist());
    every(this.opts.resyncMs ?? 10_000, async () => { for (const uid of this.workers.uids()) this.workers.enqueue(uid); });
    if (this.opts.staticPodPath) {
      const dir = this.opts.staticPodPath;
      mkdirSync(dir, { recursive: true });
      const syncStatic = async () => {
        await syncStaticPods(this.client, readManifests(dir, this.opts.nodeName, this.node?.metadata?.uid), this.podInformer.list());
      };
      await syncStatic().catch((err) => log.warn('static pods sync failed', { err: (err as Error).message }));
      every(5000, syncStatic);
    }
    signal.addEventListener('abort', () => this.stop(), { once: true });
    log.info('kubelet started', { node: this.opts.nodeName });
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.workers.stop();
    this.probes.stopAll();
    this.events.stop?.();
  }

  // ---- node ------------------------------------------------------------------------------------

  private async runtimeReady(): Promise<{ ok: boolean; message: string }> {
    try {
      const st = await this.opts.runtime.status();
      const bad = st.conditions.filter((c) => !c.status);
      if (bad.length) return { ok: false, message: `container runtime not ready: ${bad.map((c) => `${c.type}=${c.status}: ${c.reason} ${c.message}`).join('; ')}` };
      return { ok: true, message: '' };
    } catch (err) {
      return { ok: false, message: `container runtime is down: ${(err as Error).message}` };
    }
  }

  private async currentNodeStatus(previous?: Node): Promise<Node['status']> {
    const [ready, images] = await Promise.all([this.runtimeReady(), this.opts.runtime.listImages().catch(() => [])]);
    return nodeStatus({
      nodeName: this.opts.nodeName, hostIP: this.opts.hostIP, kubeletPort: this.opts.kubeletPort, machine: this.machine,
      runtimeVersion: this.opts.runtimeVersion ?? 'containerd://unknown', runtimeReady: ready, images, previous,
    });
  }

  private async registerNode(): Promise<void> {
    const name = this.opts.nodeName;
    const desired: Node = {
      apiVersion: 'v1', kind: 'Node',
      metadata: { name, labels: { ...nodeLabels(name), ...(this.opts.labels ?? {}) }, annotations: { 'node.alpha.kubernetes.io/ttl': '0' } },
      spec: this.opts.podCIDR ? { podCIDR: this.opts.podCIDR, podCIDRs: [this.opts.podCIDR] } : {},
    };
    for (let attempt = 0; ; attempt++) {
      try {
        let node: Node;
        try {
          node = await this.client.create<Node>(NODES, undefined, desired);
          log.info('node registered', { node: name });
        } catch (err) {
          if (!isAlreadyExists(err)) throw err;
          node = await this.client.get<Node>(NODES, undefined, name);
          const labels = { ...(node.metadata?.labels ?? {}), ...desired.metadata!.labels };
          if (!deepEqual(labels, node.metadata?.labels)) {
            node = await this.client.patch<Node>(NODES, undefined, name, { metadata: { labels } }, 'merge');
          }
        }
        node = await this.client.patch<Node>(NODES, undefined, name, { status: await this.currentNodeStatus(node) }, 'merge', { subresource: 'status' });
        this.node = node;
        await this.renewLease();
        return;
      } catch (err) {
        if (this.signal?.aborted) return;
        log.warn('node registration failed, retrying', { node: name, err: (err as Error).message });
        await new Promise((r) => setTimeout(r, Math.min(5000, 200 * 2 ** attempt)));
      }
    }
  }

  private async updateNodeStatus(): Promise<void> {
    try {
      this.node = await this.client.patch<Node>(NODES, undefined, this.opts.nodeName, { status: await this.currentNodeStatus(this.node) }, 'merge', { subresource: 'status' });
    } catch (err) {
      if (isNotFound(err)) await this.registerNode();
      else throw err;
    }
  }

  private async renewLease(): Promise<void> {
    const name = this.opts.nodeName;
    const spec = { holderIdentity: name, leaseDurationSeconds: 40, renewTime: microTime() };
    try {
      if (this.lease) {
        this.lease = await this.client.update<Lease>(LEASES, NODE_LEASE_NS, { ...this.lease, spec: { ...this.lease.spec, ...spec } });
        return;
      }
    } catch (err) {
      if (!isConflict(err) && !isNotFound(err)) throw err;
      this.lease = undefined;
    }
    try {
      this.lease = await this.client.get<Lease>(LEASES, NODE_LEASE_NS, name);
      this.lease = await this.client.update<Lease>(LEASES, NODE_LEASE_NS, { ...this.lease, spec: { ...this.lease.spec, ...spec } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      const owner = this.node?.metadata?.uid ? [{ apiVersion: 'v1', kind: 'Node', name, uid: this.node.metadata.uid }] : undefined;
      this.lease = await this.client.create<Lease>(LEASES, NODE_LEASE_NS, {
        apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: NODE_LEASE_NS, ownerReferences: owner }, spec,
      } as Lease);
    }
  }

  // ---- pods ------------------------------------------------------------------------------------

  private record(uid: string): PodRecord {
    let r = this.records.get(uid);
    if (!r) { r = { waiting: new Map() }; this.records.set(uid, r); }
    return r;
  }

  /** The pod worker's body: sync, terminate, or clean up after deletion. */
  private async syncPodWork(pod: Pod, deleted: boolean): Promise<WorkResult> {
    const uid = pod.metadata!.uid!;
    const rec = this.record(uid);
    if (deleted) {
      // Gone from the API (deleted after termination, or force-deleted): stop what is left and clean up.
      await this.runtimeManager.killPod(pod, 0).catch(() => undefined);
      this.probes.removePod(uid);
      await this.runtimeManager.removePod(uid);
      await this.volumes.tearDown(uid).catch((err) => log.warn('volume teardown failed', { pod: podKey(pod), err: (err as Error).message }));
      this.records.delete(uid);
      this.lastStatus.delete(uid);
      this.lastState.delete(uid);
      return { done: true };
    }
    if (pod.metadata?.deletionTimestamp) {
      const grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
      const state = await this.runtimeManager.killPod(pod, grace);
      this.probes.removePod(uid);
      await this.pushStatus(pod, state, rec, true);
      await this.volumes.tearDown(uid).catch(() => undefined);
      try {
        await this.client.delete(PODS, pod.metadata.namespace, pod.metadata.name!, { gracePeriodSeconds: 0, preconditions: { uid } });
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) return { requeueAt: Date.now() + 1000 };
      }
      return {};
    }
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') {
      // Terminal: make sure nothing runs any more; nothing else to do until deletion.
      const state = await this.runtimeManager.syncPod(pod, rec);
      this.probes.removePod(uid);
      await this.pushStatus(pod, state, rec, false);
      return {};
    }
    try { await this.volumes.refresh(pod); } catch { /* first setUp happens in syncPod */ }
    const state = await this.runtimeManager.syncPod(pod, rec);
    const sandbox = state.sandboxes[0];
    const podIP = pod.spec?.hostNetwork ? this.opts.hostIP : sandbox?.network?.ip ?? '';
    const byName = new Map<string, Container>();
    for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) byName.set(c.name, c);
    const running = state.containers.filter((c) => c.status.state === 'CONTAINER_RUNNING' && byName.has(c.name) && (!sandbox || c.sandboxId === sandbox.id))
      .map((c) => ({ id: c.id, container: byName.get(c.name)! }));
    this.probes.ensure(pod, running, podIP);
    await this.pushStatus(pod, state, rec, false);
    await this.runtimeManager.pruneDeadContainers(state);
    const resync = Date.now() + (this.opts.resyncMs ?? 10_000);
    return { requeueAt: rec.wakeAt ? Math.min(rec.wakeAt, resync) : resync };
  }

  private async pushReadiness(uid: string): Promise<void> {
    const pod = this.workers.pod(uid);
    const state = this.lastState.get(uid);
    if (!pod || !state || pod.metadata?.deletionTimestamp) return;
    await this.pushStatus(pod, state, this.record(uid), false);
  }

  private async pushStatus(pod: Pod, state: Awaited<ReturnType<RuntimeManager['podState']>>, rec: PodRecord, terminating: boolean): Promise<void> {
    const uid = pod.metadata!.uid!;
    this.lastState.set(uid, state);
    const current = this.podInformer.get(pod.metadata!.namespace, pod.metadata!.name!) ?? pod;
    const status = generatePodStatus({
      pod: current, state, rec, hostIP: this.opts.hostIP, terminating,
      probes: { ready: (id, c) => this.probes.ready(id, c), started: (id, c) => this.probes.started(id, c) },
      termination: (c: RuntimeContainer) => this.runtimeManager.terminationMessage(c),
    });
    if (deepEqual(status, current.status) || deepEqual(status, this.lastStatus.get(uid))) return;
    try {
      await this.client.patch<Pod>(PODS, pod.metadata!.namespace, pod.metadata!.name!, { metadata: { uid }, status }, 'merge', { subresource: 'status' });
      this.lastStatus.set(uid, status);
    } catch (err) {
      if (!isNotFound(err)) log.warn('status update failed', { pod: podKey(pod), err: (err as Error).message });
    }
  }

  /** PLEG: wake the pods whose containers or sandboxes changed state since the last relist. */
  private async relist(): Promise<void> {
    const [ctrs, sbs] = await Promise.all([this.opts.runtime.listContainers(), this.opts.runtime.listPodSandbox()]);
    const fp = new Map<string, string[]>();
    for (const c of ctrs) {
      const uid = c.labels?.[LABEL_POD_UID];
      if (!uid) continue;
      (fp.get(uid) ?? fp.set(uid, []).get(uid)!).push(`${c.id}:${c.state}`);
    }
    for (const s of sbs) {
      const uid = s.labels?.[LABEL_POD_UID];
      if (!uid) continue;
      (fp.get(uid) ?? fp.set(uid, []).get(uid)!).push(`${s.id}:${s.state}`);
    }
    const next = new Map<string, string>();
    for (const [uid, parts] of fp) next.set(uid, parts.sort().join(','));
    for (const [uid, f] of next) if (this.plegSnapshot.get(uid) !== f) this.workers.enqueue(uid);
    for (const uid of this.plegSnapshot.keys()) if (!next.has(uid)) this.workers.enqueue(uid);
    this.plegSnapshot = next;
  }

  /** After a restart: pods in the runtime that the API no longer has are cleaned up. */
  private async adoptOrphans(): Promise<void> {
    const known = new Set(this.podInformer.list().map((p) => p.metadata?.uid));
    const sbs = await this.opts.runtime.listPodSandbox().catch(() => []);
    for (const s of sbs) {
      const uid = s.labels?.[LABEL_POD_UID];
      if (!uid || known.has(uid)) continue;
      log.info('removing orphaned pod', { uid, pod: `${s.metadata.namespace}/${s.metadata.name}` });
      await this.runtimeManager.removePod(uid).catch(() => undefined);
      await this.volumes.tearDown(uid).catch(() => undefined);
    }
  }

  // ---- for the kubelet server (logs, exec, attach, port-forward) -------------------------------

  async findContainer(namespace: string, podName: string, container: string | undefined, previous: boolean) {
    const pod = this.podInformer.get(namespace, podName);
    if (!pod) return { error: `pod "${podName}" not found on node ${this.opts.nodeName}`, code: 404 };
    const names = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => c.name);
    const name = container ?? (pod.spec?.containers?.length === 1 ? pod.spec.containers[0].name : undefined);
    if (!name) return { error: `a container name must be specified for pod ${podName}, choose one of: [${names.join(' ')}]`, code: 400 };
    if (!names.includes(name)) return { error: `container ${name} is not valid for pod ${podName}`, code: 400 };
    const state = await this.runtimeManager.podState(pod.metadata!.uid!);
    const instances = state.containers.filter((c) => c.name === name);
    const inst = previous ? instances[1] : instances[0];
    if (!inst) {
      if (previous) return { error: `previous terminated container "${name}" in pod "${podName}" not found`, code: 400 };
      return { error: `container "${name}" in pod "${podName}" is waiting to start: ContainerCreating`, code: 400 };
    }
    return { containerId: inst.id, logPath: inst.status.logPath, podSandboxId: inst.sandboxId, running: inst.status.state === 'CONTAINER_RUNNING' };
  }

  async findSandbox(namespace: string, podName: string) {
    const pod = this.podInformer.get(namespace, podName);
    if (!pod) return { error: `pod "${podName}" not found on node ${this.opts.nodeName}`, code: 404 };
    const state = await this.runtimeManager.podState(pod.metadata!.uid!);
    const sb = state.sandboxes.find((s) => s.state === 'SANDBOX_READY');
    if (!sb) return { error: `pod ${podName} has no running sandbox`, code: 400 };
    return { podSandboxId: sb.id };
  }
}

/** Whether two versions of a pod differ in what the kubelet acts on (not only in status). */
export function podsDifferSemantically(a: Pod, b: Pod): boolean {
  const ma = a.metadata ?? {};
  const mb = b.metadata ?? {};
  return ma.deletionTimestamp !== mb.deletionTimestamp || ma.deletionGracePeriodSeconds !== mb.deletionGracePeriodSeconds
    || JSON.stringify(a.spec) !== JSON.stringify(b.spec) || JSON.stringify(ma.labels ?? {}) !== JSON.stringify(mb.labels ?? {})
    || JSON.stringify(ma.annotations ?? {}) !== JSON.stringify(mb.annotations ?? {});
}
