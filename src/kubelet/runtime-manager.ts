/**
 * RuntimeManager: what kubelet's kuberuntime manager does for one pod, on CRI.
 *
 * All state that must survive a restart of the agent lives in the runtime, as labels and
 * annotations on sandboxes and containers (pod uid, container name, attempt = restart count,
 * spec hash, termination-message file); the in-memory `PodRecord` only holds what is
 * transient (why a container is waiting, back-off, probe results).
 *
 * `syncPod` is level-based and idempotent (kuberuntime's SyncPod): make sure a ready sandbox
 * exists (re-created with attempt+1 if it died, which re-runs the init containers), run the
 * init containers one at a time, then start every app container that is not running and whose
 * restartPolicy allows it, honouring the crash-loop back-off; kill containers whose liveness
 * or startup probe failed or whose spec changed. `killPod` is the graceful termination:
 * preStop hooks and SIGTERM within one grace period, SIGKILL when it is over, then the sandbox.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Container, Pod, Secret } from 'kubernetes-types/core/v1.js';
import type {
  AuthConfig, ContainerConfig, ContainerStatus, ImageService, Mount, PodSandboxConfig, PodSandboxStatus, RuntimeService,
} from './cri/api.js';
import { runLifecycleHandler, type ActionTarget } from './lifecycle.js';
import { containerResources, podCgroupParent } from './resources.js';
import { Backoff } from './backoff.js';
import type { ObjectReference } from '../client/event-recorder.js';
import { logger } from '../util/log.js';

const log = logger('kubelet');

export const LABEL_POD_NAME = 'io.kubernetes.pod.name';
export const LABEL_POD_NAMESPACE = 'io.kubernetes.pod.namespace';
export const LABEL_POD_UID = 'io.kubernetes.pod.uid';
export const LABEL_CONTAINER_NAME = 'io.kubernetes.container.name';
export const ANN_HASH = 'io.kubernetes.container.hash';
export const ANN_RESTART_COUNT = 'io.kubernetes.container.restartCount';
export const ANN_TERMINATION_PATH = 'io.kubernetes.container.terminationMessagePath';
export const ANN_TERMINATION_POLICY = 'io.kubernetes.container.terminationMessagePolicy';
export const ANN_GRACE = 'io.kubernetes.pod.terminationGracePeriod';
export const ANN_CONTAINER_TYPE = 'keelson.io/container-type';
export const ANN_TERMINATION_HOST_FILE = 'keelson.io/termination-message-file';

/** Smallest grace period the kubelet gives a container (upstream's minimumGracePeriodInSeconds). */
const MIN_GRACE_SECONDS = 2;

export interface RuntimeContainer {
  id: string;
  name: string;
  attempt: number;
  type: 'init' | 'app';
  sandboxId: string;
  status: ContainerStatus;
  hash: string;
}

export interface RuntimePodState {
  /** Newest first. */
  sandboxes: PodSandboxStatus[];
  /** Newest first. */
  containers: RuntimeContainer[];
}

export interface WaitingReason { reason: string; message: string }

/** Per-pod memory of the kubelet (lost on restart, rebuilt from the runtime). */
export interface PodRecord {
  waiting: Map<string, WaitingReason>;
  /** Wake the pod worker at this time (back-off expiry), ms since the epoch. */
  wakeAt?: number;
}

export interface PodEnvironment {
  /** Resolved environment for a container, or the error that stops it (CreateContainerConfigError). */
  env(pod: Pod, c: Container, podIP: string): Promise<{ envs: { key: string; value: string }[] } | { error: string }>;
  expand(args: string[] | undefined, envs: { key: string; value: string }[]): string[] | undefined;
  /** Volume name → host path for the pod (set up before containers start). */
  volumes(pod: Pod): Promise<Map<string, { hostPath: string; readOnly: boolean }>>;
  podDir(uid: string): string;
  hostsFile(pod: Pod, podIPs: string[]): string;
  dnsConfig(pod: Pod): { servers: string[]; searches: string[]; options: string[] } | undefined;
  pullSecret(namespace: string, name: string): Promise<Secret | null>;
  event(ref: ObjectReference, type: 'Normal' | 'Warning', reason: string, message: string): void;
  /** Probe results: has the container's liveness/startup probe declared it failed? */
  probeFailed(containerId: string): 'liveness' | 'startup' | undefined;
}

export interface RuntimeManagerOptions {
  runtime: RuntimeService;
  images: ImageService;
  logRoot: string;
  nodeMemoryBytes: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
}

export const podKey = (pod: Pod) => `${pod.metadata?.namespace}/${pod.metadata?.name}`;

export function containerRef(pod: Pod, name?: string, init = false): ObjectReference {
  return {
    kind: 'Pod', apiVersion: 'v1', namespace: pod.metadata?.namespace, name: pod.metadata?.name ?? '', uid: pod.metadata?.uid,
    ...(name ? { fieldPath: `spec.${init ? 'initContainers' : 'containers'}{${name}}` } : {}),
  };
}

/** Hash of the parts of a container spec that, when changed, mean a restart (the kubelet's container hash). */
export function containerHash(c: Container): string {
  return createHash('sha256').update(JSON.stringify({ ...c, resources: undefined })).digest('hex').slice(0, 8);
}

/** Whether a container that exited with `exitCode` is restarted under the pod's restartPolicy. */
export function shouldRestart(pod: Pod, exitCode: number): boolean {
  const policy = pod.spec?.restartPolicy ?? 'Always';
  return policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
}

export const isSidecar = (c: Container) => (c as { restartPolicy?: string }).restartPolicy === 'Always';

const nsToMs = (ns: number) => Math.floor(ns / 1e6);

export class RuntimeManager {
  readonly backoff: Backoff;
  private readonly runtime: RuntimeService;
  private readonly images: ImageService;

  constructor(private readonly opts: RuntimeManagerOptions, private readonly envs: PodEnvironment) {
    this.runtime = opts.runtime;
    this.images = opts.images;
    this.backoff = new Backoff(opts.backoffInitialMs ?? 10_000, opts.backoffMaxMs ?? 300_000);
  }

  podLogDir(pod: Pod): string {
    return join(this.opts.logRoot, `${pod.metadata?.namespace}_${pod.metadata?.name}_${pod.metadata?.uid}`);
  }

  /** The pod as the runtime has it: sandboxes and containers labelled with its uid. */
  async podState(uid: string): Promise<RuntimePodState> {
    const [sbs, ctrs] = await Promise.all([
      this.runtime.listPodSandbox({ labelSelector: { [LABEL_POD_UID]: uid } }),
      this.runtime.listContainers({ labelSelector: { [LABEL_POD_UID]: uid } }),
    ]);
    const sandboxes = (await Promise.all(sbs.map((s) => this.runtime.podSandboxStatus(s.id).catch(() => undefined))))
      .filter((s): s is PodSandboxStatus => !!s)
      .sort((a, b) => b.createdAt - a.createdAt || b.metadata.attempt - a.metadata.attempt);
    const containers: RuntimeContainer[] = [];
    await Promise.all(ctrs.map(async (c) => {
      const status = await this.runtime.containerStatus(c.id).catch(() => undefined);
      if (!status) return;
      containers.push({
        id: c.id, name: c.metadata.name, attempt: c.metadata.attempt, sandboxId: c.podSandboxId, status,
        type: status.annotations?.[ANN_CONTAINER_TYPE] === 'init' ? 'init' : 'app', hash: status.annotations?.[ANN_HASH] ?? '',
      });
    }));
    containers.sort((a, b) => b.status.createdAt - a.status.createdAt || b.attempt - a.attempt);
    return { sandboxes, containers };
  }

  /** Whether every app container has exited and none will be restarted (the pod is done). */
  static podFinished(pod: Pod, state: RuntimePodState): boolean {
    const specs = pod.spec?.containers ?? [];
    if (!specs.length) return false;
    return specs.every((c) => {
      const latest = state.containers.find((x) => x.name === c.name && x.type === 'app');
      return latest && latest.status.state === 'CONTAINER_EXITED' && !shouldRestart(pod, latest.status.exitCode);
    });
  }

  static initFailed(pod: Pod, state: RuntimePodState): boolean {
    if ((pod.spec?.restartPolicy ?? 'Always') !== 'Never') return false;
    return (pod.spec?.initContainers ?? []).some((c) => {
      if (isSidecar(c)) return false;
      const latest = state.containers.find((x) => x.name === c.name && x.type === 'init');
      return latest?.status.state === 'CONTAINER_EXITED' && latest.status.exitCode !== 0;
    });
  }

  /** One level-based pass over the pod. Returns the runtime state afterwards. */
  async syncPod(pod: Pod, rec: PodRecord): Promise<RuntimePodState> {
    const uid = pod.metadata!.uid!;
    let state = await this.podState(uid);
    rec.wakeAt = undefined;
    if (RuntimeManager.podFinished(pod, state) || RuntimeManager.initFailed(pod, state)) {
      // A finished pod keeps its containers (for logs) but releases its sandbox (network, pause).
      for (const sb of state.sandboxes) if (sb.state === 'SANDBOX_READY') await this.runtime.stopPodSandbox(sb.id).catch(() => undefined);
      return this.podState(uid);
    }
    let sandbox = state.sandboxes.find((s) => s.state === 'SANDBOX_READY');
    if (!sandbox) {
      for (const c of state.containers) {
        if (c.status.state === 'CONTAINER_RUNNING') await this.runtime.stopContainer(c.id, 0).catch(() => undefined);
      }
      if (state.sandboxes.length) {
        this.envs.event(containerRef(pod), 'Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
        for (const sb of state.sandboxes) await this.runtime.stopPodSandbox(sb.id).catch(() => undefined);
      }
      const attempt = state.sandboxes.length ? Math.max(...state.sandboxes.map((s) => s.metadata.attempt)) + 1 : 0;
      try {
        const cfg = this.sandboxConfig(pod, attempt);
        mkdirSync(cfg.logDirectory!, { recursive: true });
        const id = await this.runtime.runPodSandbox(cfg);
        sandbox = await this.runtime.podSandboxStatus(id);
      } catch (err) {
        const msg = (err as Error).message;
        rec.waiting.set('*', { reason: 'ContainerCreating', message: msg });
        this.envs.event(containerRef(pod), 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${msg}`);
        log.warn('sandbox failed', { pod: podKey(pod), err: msg });
        rec.wakeAt = Date.now() + 5000;
        return state;
      }
      rec.waiting.delete('*');
      state = await this.podState(uid);
    }
    const podIP = pod.spec?.hostNetwork ? '' : sandbox.network?.ip ?? '';
    const inSandbox = (name: string, type: 'init' | 'app') =>
      state.containers.find((x) => x.name === name && x.type === type && x.sandboxId === sandbox!.id);
    const latestAny = (name: string, type: 'init' | 'app') => state.containers.find((x) => x.name === name && x.type === type);
    const nextAttempt = (name: string, type: 'init' | 'app') => {
      const l = latestAny(name, type);
      return l ? l.attempt + 1 : 0;
    };

    // Init containers, one at a time, in order.
    for (const ic of pod.spec?.initContainers ?? []) {
      const cur = inSandbox(ic.name, 'init');
      if (!cur) {
        await this.startContainer(pod, ic, 'init', nextAttempt(ic.name, 'init'), sandbox, podIP, rec);
        return this.podState(uid);
      }
      const st = cur.status.state;
      if (isSidecar(ic)) {
        if (st === 'CONTAINER_RUNNING') continue;
        if (st === 'CONTAINER_EXITED') {
          if (!(await this.restartIfAllowed(pod, ic, cur, 'init', sandbox, podIP, rec, true))) return state;
          return this.podState(uid);
        }
        return state;
      }
      if (st === 'CONTAINER_RUNNING' || st === 'CONTAINER_CREATED') return state;
      if (st === 'CONTAINER_EXITED') {
        if (cur.status.exitCode === 0) continue;
        await this.restartIfAllowed(pod, ic, cur, 'init', sandbox, podIP, rec, (pod.spec?.restartPolicy ?? 'Always') !== 'Never');
        return this.podState(uid);
      }
      return state;
    }

    // App containers.
    let changed = false;
    for (const c of pod.spec?.containers ?? []) {
      const cur = inSandbox(c.name, 'app');
      if (!cur) {
        await this.startContainer(pod, c, 'app', nextAttempt(c.name, 'app'), sandbox, podIP, rec);
        changed = true;
        continue;
      }
      if (cur.status.state === 'CONTAINER_RUNNING') {
        const failed = this.envs.probeFailed(cur.id);
        if (failed) {
          await this.killContainer(pod, c, cur.id, podIP, undefined,
            `Container ${c.name} failed ${failed} probe, will be restarted`);
          changed = true;
        } else if (cur.hash && cur.hash !== containerHash(c)) {
          await this.killContainer(pod, c, cur.id, podIP, undefined, `Container ${c.name} definition changed, will be restarted`);
          changed = true;
        }
        continue;
      }
      if (cur.status.state === 'CONTAINER_EXITED') {
        if (await this.restartIfAllowed(pod, c, cur, 'app', sandbox, podIP, rec, shouldRestart(pod, cur.status.exitCode))) changed = true;
        continue;
      }
      if (cur.status.state === 'CONTAINER_CREATED') {
        // Created but never started (the agent died in between): start it now.
        await this.runtime.startContainer(cur.id).catch(() => undefined);
        changed = true;
      }
    }
    return changed ? this.podState(uid) : state;
  }

  /** Restarts an exited container unless the back-off holds it; true if it was started. */
  private async restartIfAllowed(
    pod: Pod, c: Container, cur: RuntimeContainer, type: 'init' | 'app', sandbox: PodSandboxStatus, podIP: string, rec: PodRecord, allowed: boolean,
  ): Promise<boolean> {
    if (!allowed) return false;
    const key = `${pod.metadata!.uid}/${type}/${c.name}`;
    const finished = nsToMs(cur.status.finishedAt) || Date.now();
    if (this.backoff.inBackoffSince(key, finished)) {
      const delay = this.backoff.delayOf(key);
      const msg = `back-off ${formatDelay(delay)} restarting failed container=${c.name} pod=${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})`;
      if (rec.waiting.get(c.name)?.reason !== 'CrashLoopBackOff') {
        this.envs.event(containerRef(pod, c.name, type === 'init'), 'Warning', 'BackOff', `Back-off restarting failed container ${c.name} in pod ${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})`);
      }
      rec.waiting.set(c.name, { reason: 'CrashLoopBackOff', message: msg });
      const at = this.backoff.releaseAt(key, finished);
      rec.wakeAt = rec.wakeAt ? Math.min(rec.wakeAt, at) : at;
      return false;
    }
    this.backoff.next(key);
    return this.startContainer(pod, c, type, cur.attempt + 1, sandbox, podIP, rec);
  }

  sandboxConfig(pod: Pod, attempt: number): PodSandboxConfig {
    const m = pod.metadata!;
    const spec = pod.spec!;
    const hostNetwork = !!spec.hostNetwork;
    const portMappings = [];
    for (const c of spec.containers ?? []) {
      for (const p of c.ports ?? []) {
        if (!p.hostPort) continue;
        portMappings.push({ protocol: (p.protocol ?? 'TCP') as 'TCP', containerPort: p.containerPort, hostPort: p.hostPort, hostIp: p.hostIP ?? '' });
      }
    }
    const hostname = (spec.hostname || m.name || '').slice(0, 63);
    const sc = spec.securityContext;
    return {
      metadata: { name: m.name!, uid: m.uid!, namespace: m.namespace!, attempt },
      hostname: hostNetwork ? undefined : hostname,
      logDirectory: this.podLogDir(pod),
      dnsConfig: this.envs.dnsConfig(pod),
      portMappings,
      labels: { [LABEL_POD_NAME]: m.name!, [LABEL_POD_NAMESPACE]: m.namespace!, [LABEL_POD_UID]: m.uid! },
      annotations: { ...(m.annotations ?? {}) },
      linux: {
        cgroupParent: podCgroupParent(pod),
        securityContext: {
          namespaceOptions: {
            network: hostNetwork ? 'NODE' : 'POD',
            pid: spec.hostPID ? 'NODE' : spec.shareProcessNamespace ? 'POD' : 'CONTAINER',
            ipc: spec.hostIPC ? 'NODE' : 'POD',
          },
          ...(sc?.runAsUser !== undefined ? { runAsUser: { value: sc.runAsUser } } : {}),
          ...(sc?.runAsGroup !== undefined ? { runAsGroup: { value: sc.runAsGroup } } : {}),
          supplementalGroups: sc?.supplementalGroups ?? [],
        },
        sysctls: Object.fromEntries((sc?.sysctls ?? []).map((s) => [s.name, s.value])),
      },
    };
  }

  private async ensureImage(pod: Pod, c: Container, type: 'init' | 'app', sandboxCfg: PodSandboxConfig, rec: PodRecord): Promise<boolean> {
    const image = c.image ?? '';
    const ref = containerRef(pod, c.name, type === 'init');
    const policy = c.imagePullPolicy ?? (/:[^/]+$/.test(image) && !image.endsWith(':latest') ? 'IfNotPresent' : 'Always');
    const present = await this.images.imageStatus({ image }).catch(() => null);
    if (policy === 'Never' || (policy === 'IfNotPresent' && present)) {
      if (!present) {
        const msg = `Container image "${image}" is not present with pull policy of Never`;
        rec.waiting.set(c.name, { reason: 'ErrImageNeverPull', message: msg });
        this.envs.event(ref, 'Warning', 'ErrImageNeverPull', msg);
        return false;
      }
      this.envs.event(ref, 'Normal', 'Pulled', `Container image "${image}" already present on machine`);
      return true;
    }
    const key = `${pod.metadata!.uid}/pull/${c.name}`;
    const prev = rec.waiting.get(c.name);
    if (prev && (prev.reason === 'ErrImagePull' || prev.reason === 'ImagePullBackOff') && this.backoff.inBackoffSince(key, Date.now() - 0)) {
      rec.waiting.set(c.name, { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` });
      this.envs.event(ref, 'Normal', 'BackOff', `Back-off pulling image "${image}"`);
      const at = this.backoff.releaseAt(key, Date.now());
      rec.wakeAt = rec.wakeAt ? Math.min(rec.wakeAt, at) : at;
      return false;
    }
    this.envs.event(ref, 'Normal', 'Pulling', `Pulling image "${image}"`);
    const t0 = Date.now();
    try {
      await this.images.pullImage({ image }, await this.pullAuth(pod, image), sandboxCfg);
      const secs = ((Date.now() - t0) / 1000).toFixed(3);
      const st = await this.images.imageStatus({ image }).catch(() => null);
      this.envs.event(ref, 'Normal', 'Pulled', `Successfully pulled image "${image}" in ${secs}s (${secs}s including waiting).${st ? ` Image size: ${st.size} bytes.` : ''}`);
      return true;
    } catch (err) {
      const msg = `Failed to pull image "${image}": ${(err as Error).message}`;
      this.backoff.next(key);
      rec.waiting.set(c.name, { reason: 'ErrImagePull', message: msg });
      this.envs.event(ref, 'Warning', 'Failed', msg);
      this.envs.event(ref, 'Warning', 'Failed', 'Error: ErrImagePull');
      rec.wakeAt = Date.now() + this.backoff.delayOf(key);
      return false;
    }
  }

  /** Credentials for an image from the pod's imagePullSecrets (kubernetes.io/dockerconfigjson or dockercfg). */
  private async pullAuth(pod: Pod, image: string): Promise<AuthConfig | undefined> {
    const host = imageRegistryHost(image);
    for (const ref of pod.spec?.imagePullSecrets ?? []) {
      if (!ref.name) continue;
      const secret = await this.envs.pullSecret(pod.metadata!.namespace!, ref.name).catch(() => null);
      if (!secret?.data) continue;
      const raw = secret.data['.dockerconfigjson'] ?? secret.data['.dockercfg'];
      if (!raw) continue;
      try {
        const parsed = JSON.parse(Buffer.from(raw, 'base64').toString('utf8'));
        const auths: Record<string, { username?: string; password?: string; auth?: string }> = parsed.auths ?? parsed;
        for (const [server, a] of Object.entries(auths)) {
          if (imageRegistryHost(server.replace(/^https?:\/\//, '').replace(/\/.*$/, '') + '/x') !== host) continue;
          let { username, password } = a;
          if ((!username || !password) && a.auth) [username, password] = Buffer.from(a.auth, 'base64').toString('utf8').split(/:(.*)/s);
          return { username, password, serverAddress: server };
        }
      } catch { /* a malformed secret gives no credentials */ }
    }
    return undefined;
  }

  private async startContainer(
    pod: Pod, c: Container, type: 'init' | 'app', attempt: number, sandbox: PodSandboxStatus, podIP: string, rec: PodRecord,
  ): Promise<boolean> {
    const ref = containerRef(pod, c.name, type === 'init');
    const sandboxCfg = this.sandboxConfig(pod, sandbox.metadata.attempt);
    if (!(await this.ensureImage(pod, c, type, sandboxCfg, rec))) return false;
    const env = await this.envs.env(pod, c, podIP);
    if ('error' in env) {
      rec.waiting.set(c.name, { reason: 'CreateContainerConfigError', message: env.error });
      this.envs.event(ref, 'Warning', 'Failed', `Error: ${env.error}`);
      rec.wakeAt = Date.now() + 5000;
      return false;
    }
    let config: ContainerConfig;
    try {
      config = await this.containerConfig(pod, c, type, attempt, env.envs, podIP);
    } catch (err) {
      const msg = (err as Error).message;
      rec.waiting.set(c.name, { reason: 'CreateContainerConfigError', message: msg });
      this.envs.event(ref, 'Warning', 'FailedMount', msg);
      rec.wakeAt = Date.now() + 5000;
      return false;
    }
    let id: string;
    try {
      id = await this.runtime.createContainer(sandbox.id, config, sandboxCfg);
    } catch (err) {
      const msg = (err as Error).message;
      rec.waiting.set(c.name, { reason: 'CreateContainerError', message: msg });
      this.envs.event(ref, 'Warning', 'Failed', `Error: ${msg}`);
      rec.wakeAt = Date.now() + 5000;
      return false;
    }
    this.envs.event(ref, 'Normal', 'Created', `Created container ${c.name}`);
    try {
      await this.runtime.startContainer(id);
    } catch (err) {
      const msg = (err as Error).message;
      this.envs.event(ref, 'Warning', 'Failed', `Error: ${msg}`);
      rec.waiting.delete(c.name);
      return false;
    }
    rec.waiting.delete(c.name);
    this.envs.event(ref, 'Normal', 'Started', `Started container ${c.name}`);
    const postStart = c.lifecycle?.postStart;
    if (postStart) {
      const target: ActionTarget = { runtime: this.runtime, containerId: id, pod, container: c, podIP: podIP || '127.0.0.1' };
      const r = await runLifecycleHandler(target, postStart, 3600);
      if (!r.ok) {
        const kind = postStart.exec ? `Exec lifecycle hook (${JSON.stringify(postStart.exec.command ?? [])})` : postStart.httpGet ? `HTTP lifecycle hook (${postStart.httpGet.path ?? ''})` : 'lifecycle hook';
        const detail = postStart.exec ? `command '${(postStart.exec.command ?? []).join(' ')}' exited with ${r.exitCode ?? 126}: ${r.output ?? r.message}` : r.message;
        const msg = `${kind} for Container "${c.name}" in Pod "${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})" failed - error: ${detail}, message: "${(r.output ?? '').replace(/"/g, '\\"')}"`;
        this.envs.event(ref, 'Warning', 'FailedPostStartHook', msg);
        await this.killContainer(pod, c, id, podIP, undefined, `FailedPostStartHook`);
        return true;
      }
    }
    return true;
  }

  private async containerConfig(pod: Pod, c: Container, type: 'init' | 'app', attempt: number, envs: { key: string; value: string }[], podIP: string): Promise<ContainerConfig> {
    const uid = pod.metadata!.uid!;
    const volumes = await this.envs.volumes(pod);
    const mounts: Mount[] = [];
    for (const vm of c.volumeMounts ?? []) {
      const v = volumes.get(vm.name);
      if (!v) throw new Error(`Unable to attach or mount volumes: unmounted volumes=[${vm.name}]: volume "${vm.name}" is not set up`);
      let hostPath = v.hostPath;
      if (vm.subPath) {
        hostPath = join(hostPath, vm.subPath);
        if (!existsSync(hostPath)) mkdirSync(hostPath, { recursive: true });
      }
      mounts.push({
        containerPath: vm.mountPath, hostPath, readonly: !!vm.readOnly || v.readOnly,
        propagation: vm.mountPropagation === 'Bidirectional' ? 'PROPAGATION_BIDIRECTIONAL' : vm.mountPropagation === 'HostToContainer' ? 'PROPAGATION_HOST_TO_CONTAINER' : 'PROPAGATION_PRIVATE',
      });
    }
    const podDir = this.envs.podDir(uid);
    if (!pod.spec?.hostNetwork && !mounts.some((m) => m.containerPath === '/etc/hosts')) {
      const hostsPath = join(podDir, 'etc-hosts');
      mkdirSync(podDir, { recursive: true });
      writeFileSync(hostsPath, this.envs.hostsFile(pod, podIP ? [podIP] : []));
      mounts.push({ containerPath: '/etc/hosts', hostPath: hostsPath });
    }
    const terminationPath = c.terminationMessagePath ?? '/dev/termination-log';
    const termDir = join(podDir, 'containers', c.name);
    mkdirSync(termDir, { recursive: true });
    const termFile = join(termDir, randomBytes(4).toString('hex'));
    writeFileSync(termFile, '', { mode: 0o666 });
    if (terminationPath && !mounts.some((m) => m.containerPath === terminationPath)) mounts.push({ containerPath: terminationPath, hostPath: termFile });

    mkdirSync(join(this.podLogDir(pod), c.name), { recursive: true });
    const sc = c.securityContext;
    const podSc = pod.spec?.securityContext;
    const runAsUser = sc?.runAsUser ?? podSc?.runAsUser;
    const runAsGroup = sc?.runAsGroup ?? podSc?.runAsGroup;
    const privileged = !!sc?.privileged;
    return {
      metadata: { name: c.name, attempt },
      image: { image: c.image ?? '' },
      command: this.envs.expand(c.command, envs),
      args: this.envs.expand(c.args, envs),
      workingDir: c.workingDir,
      envs,
      mounts,
      labels: {
        [LABEL_POD_NAME]: pod.metadata!.name!, [LABEL_POD_NAMESPACE]: pod.metadata!.namespace!, [LABEL_POD_UID]: uid, [LABEL_CONTAINER_NAME]: c.name,
      },
      annotations: {
        [ANN_HASH]: containerHash(c), [ANN_RESTART_COUNT]: String(attempt), [ANN_TERMINATION_PATH]: terminationPath,
        [ANN_TERMINATION_POLICY]: c.terminationMessagePolicy ?? 'File', [ANN_GRACE]: String(pod.spec?.terminationGracePeriodSeconds ?? 30),
        [ANN_CONTAINER_TYPE]: type, [ANN_TERMINATION_HOST_FILE]: termFile,
      },
      logPath: `${c.name}/${attempt}.log`,
      stdin: !!c.stdin, stdinOnce: !!c.stdinOnce, tty: !!c.tty,
      linux: {
        resources: containerResources(pod, c, this.opts.nodeMemoryBytes),
        securityContext: {
          privileged,
          capabilities: { addCapabilities: sc?.capabilities?.add ?? [], dropCapabilities: sc?.capabilities?.drop ?? [] },
          namespaceOptions: {
            network: pod.spec?.hostNetwork ? 'NODE' : 'POD',
            pid: pod.spec?.hostPID ? 'NODE' : pod.spec?.shareProcessNamespace ? 'POD' : 'CONTAINER',
            ipc: pod.spec?.hostIPC ? 'NODE' : 'POD',
          },
          ...(runAsUser !== undefined ? { runAsUser: { value: runAsUser } } : {}),
          ...(runAsGroup !== undefined ? { runAsGroup: { value: runAsGroup } } : {}),
          readonlyRootfs: !!sc?.readOnlyRootFilesystem,
          supplementalGroups: podSc?.supplementalGroups ?? [],
          noNewPrivs: sc?.allowPrivilegeEscalation === false,
        },
      },
    };
  }

  /**
   * Stops one container: its preStop hook, then the stop signal with what is left of the grace
   * period, then SIGKILL (CRI StopContainer does both). `graceSeconds` defaults to the pod's.
   */
  async killContainer(pod: Pod, c: Container | undefined, id: string, podIP: string, graceSeconds: number | undefined, message?: string): Promise<void> {
    const grace = Math.max(MIN_GRACE_SECONDS, graceSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30);
    const name = c?.name ?? id;
    const isInit = !!pod.spec?.initContainers?.some((x) => x.name === name);
    this.envs.event(containerRef(pod, c?.name, isInit), 'Normal', 'Killing', message && message !== 'FailedPostStartHook' ? message : `Stopping container ${name}`);
    const started = Date.now();
    const preStop = c?.lifecycle?.preStop;
    if (preStop) {
      const ac = new AbortController();
      const target: ActionTarget = { runtime: this.runtime, containerId: id, pod, container: c!, podIP: podIP || '127.0.0.1', signal: ac.signal };
      const timer = setTimeout(() => ac.abort(), grace * 1000);
      const r = await Promise.race([
        runLifecycleHandler(target, preStop, grace),
        new Promise<{ ok: boolean; message: string }>((res) => ac.signal.addEventListener('abort', () => res({ ok: false, message: 'timeout' }), { once: true })),
      ]);
      clearTimeout(timer);
      if (!r.ok) {
        const kind = preStop.httpGet ? `HTTP lifecycle hook (${preStop.httpGet.path ?? ''})` : preStop.exec ? `Exec lifecycle hook (${JSON.stringify(preStop.exec.command ?? [])})` : 'lifecycle hook';
        this.envs.event(containerRef(pod, c?.name, isInit), 'Warning', 'FailedPreStopHook',
          `PreStopHook failed: ${kind} for Container "${name}" in Pod "${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})" failed - error: ${r.message}`);
      }
    }
    const left = Math.max(MIN_GRACE_SECONDS, Math.ceil(grace - (Date.now() - started) / 1000));
    await this.runtime.stopContainer(id, left).catch((err) => log.warn('stop container failed', { pod: podKey(pod), container: name, err: (err as Error).message }));
  }

  /** Graceful termination of the whole pod: every running container at once, then the sandbox. */
  async killPod(pod: Pod, graceSeconds?: number): Promise<RuntimePodState> {
    const uid = pod.metadata!.uid!;
    const state = await this.podState(uid);
    const podIP = state.sandboxes[0]?.network?.ip ?? '';
    const byName = new Map<string, Container>();
    for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) byName.set(c.name, c);
    await Promise.all(state.containers.filter((x) => x.status.state === 'CONTAINER_RUNNING' || x.status.state === 'CONTAINER_CREATED')
      .map((x) => this.killContainer(pod, byName.get(x.name), x.id, podIP, graceSeconds)));
    for (const sb of state.sandboxes) if (sb.state === 'SANDBOX_READY') await this.runtime.stopPodSandbox(sb.id).catch(() => undefined);
    return this.podState(uid);
  }

  /** Removes everything the runtime holds for a pod (after it is gone from the API). */
  async removePod(uid: string): Promise<void> {
    const state = await this.podState(uid);
    for (const c of state.containers) {
      if (c.status.state === 'CONTAINER_RUNNING') await this.runtime.stopContainer(c.id, 0).catch(() => undefined);
      await this.runtime.removeContainer(c.id).catch(() => undefined);
    }
    for (const sb of state.sandboxes) {
      await this.runtime.stopPodSandbox(sb.id).catch(() => undefined);
      await this.runtime.removePodSandbox(sb.id).catch(() => undefined);
    }
    this.backoff.forgetPrefix(`${uid}/`);
  }

  /** Drops exited instances beyond the newest two per container (the kubelet's container GC). */
  async pruneDeadContainers(state: RuntimePodState): Promise<void> {
    const seen = new Map<string, number>();
    for (const c of state.containers) {
      const k = `${c.type}/${c.name}`;
      const n = (seen.get(k) ?? 0) + 1;
      seen.set(k, n);
      if (n > 2 && c.status.state === 'CONTAINER_EXITED') await this.runtime.removeContainer(c.id).catch(() => undefined);
    }
  }

  /** The termination message of an exited container (file, or log tail with FallbackToLogsOnError). */
  terminationMessage(c: RuntimeContainer): string {
    const file = c.status.annotations?.[ANN_TERMINATION_HOST_FILE];
    let msg = '';
    if (file) { try { msg = readFileSync(file).subarray(0, 4096).toString('utf8'); } catch { /* gone */ } }
    if (!msg && c.status.annotations?.[ANN_TERMINATION_POLICY] === 'FallbackToLogsOnError' && c.status.exitCode !== 0 && c.status.logPath) {
      try {
        const lines = readFileSync(c.status.logPath, 'utf8').split('\n').filter(Boolean).slice(-80)
          .map((l) => l.replace(/^\S+ \S+ [FP] /, '')).join('\n');
        msg = lines.slice(-2048);
      } catch { /* no log */ }
    }
    return msg;
  }

  /** Log dirs of pods that are no longer known (for cleanup). */
  listLogDirs(): string[] {
    try { return readdirSync(this.opts.logRoot); } catch { return []; }
  }
}

function formatDelay(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`;
}

/** The registry host of an image reference, with docker.io as Docker's default. */
export function imageRegistryHost(image: string): string {
  const first = image.split('/')[0];
  if (!image.includes('/') || !(first.includes('.') || first.includes(':') || first === 'localhost')) return 'docker.io';
  if (first === 'index.docker.io' || first === 'registry-1.docker.io') return 'docker.io';
  return first;
}
