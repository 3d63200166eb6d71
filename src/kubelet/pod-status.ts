/**
 * The pod status the kubelet reports, computed from what the runtime holds (kubelet's
 * generateAPIPodStatus + getPhase): container statuses with state / lastState / restartCount /
 * ready / started, the phase, the conditions (PodReadyToStartContainers, Initialized,
 * ContainersReady, Ready, PodScheduled kept), pod and host IPs, start time and QoS class.
 * Transition times are kept from the previous status while a condition does not change.
 */
import type { Container, ContainerState, ContainerStatus as ApiContainerStatus, Pod, PodCondition, PodStatus } from 'kubernetes-types/core/v1.js';
import { podQOSClass } from './resources.js';
import { RuntimeManager, isSidecar, shouldRestart, type PodRecord, type RuntimeContainer, type RuntimePodState } from './runtime-manager.js';

export interface ProbeView {
  ready(containerId: string, c: Container): boolean;
  started(containerId: string, c: Container): boolean;
}

const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
const nsTime = (ns: number) => rfc3339(Math.floor(ns / 1e6));

export function containerID(id: string): string { return `containerd://${id}`; }

function terminatedOf(c: RuntimeContainer, message: string): ContainerState {
  const st = c.status;
  const reason = st.reason || (st.exitCode === 0 ? 'Completed' : 'Error');
  return {
    terminated: {
      exitCode: st.exitCode, reason, ...(message ? { message } : {}),
      startedAt: st.startedAt ? nsTime(st.startedAt) : undefined as unknown as string,
      finishedAt: st.finishedAt ? nsTime(st.finishedAt) : undefined as unknown as string,
      containerID: containerID(c.id),
    },
  };
}

export interface StatusInputs {
  pod: Pod;
  state: RuntimePodState;
  rec: PodRecord;
  probes: ProbeView;
  hostIP: string;
  termination: (c: RuntimeContainer) => string;
  /** The pod is being terminated by the kubelet (deletion): containers are reported as they stop. */
  terminating?: boolean;
}

export function generatePodStatus(inp: StatusInputs): PodStatus {
  const { pod, state, rec, probes } = inp;
  const old = pod.status ?? {};
  const sandbox = state.sandboxes[0];
  const sandboxReady = sandbox?.state === 'SANDBOX_READY';
  const podIP = pod.spec?.hostNetwork ? inp.hostIP : sandbox?.network?.ip ?? old.podIP;

  const statusFor = (c: Container, type: 'init' | 'app', initDone: boolean): ApiContainerStatus => {
    const instances = state.containers.filter((x) => x.name === c.name && x.type === type);
    const cur = instances[0];
    const prev = instances[1];
    const waiting = rec.waiting.get(c.name);
    const oldStatus = [...(old.containerStatuses ?? []), ...(old.initContainerStatuses ?? [])].find((s) => s.name === c.name);
    const out: ApiContainerStatus = {
      name: c.name, image: c.image ?? '', imageID: cur?.status.imageRef ?? '', ready: false,
      restartCount: cur ? cur.attempt : oldStatus?.restartCount ?? 0, started: false, state: {}, lastState: {},
    };
    if (cur) out.containerID = containerID(cur.id);
    if (!cur) {
      const reason = waiting?.reason ?? (rec.waiting.get('*')?.reason) ?? (type === 'app' && !initDone ? 'PodInitializing' : 'ContainerCreating');
      out.state = { waiting: { reason, ...(waiting?.message ? { message: waiting.message } : {}) } };
      return out;
    }
    if (prev && prev.status.state === 'CONTAINER_EXITED') out.lastState = terminatedOf(prev, inp.termination(prev));
    switch (cur.status.state) {
      case 'CONTAINER_RUNNING':
        out.state = { running: { startedAt: nsTime(cur.status.startedAt || cur.status.createdAt) } };
        out.started = probes.started(cur.id, c);
        out.ready = out.started && probes.ready(cur.id, c);
        break;
      case 'CONTAINER_EXITED': {
        const term = terminatedOf(cur, inp.termination(cur));
        const restarting = !inp.terminating && waiting && (waiting.reason === 'CrashLoopBackOff' || waiting.reason === 'ErrImagePull' || waiting.reason === 'ImagePullBackOff' || waiting.reason === 'CreateContainerConfigError' || waiting.reason === 'CreateContainerError');
        if (restarting) {
          out.state = { waiting: { reason: waiting!.reason, message: waiting!.message } };
          out.lastState = term;
        } else {
          out.state = term;
        }
        break;
      }
      default:
        out.state = { waiting: { reason: waiting?.reason ?? 'ContainerCreating', ...(waiting?.message ? { message: waiting.message } : {}) } };
    }
    return out;
  };

  // Init containers are done when each ran to exit 0 (sidecars: started) in the current sandbox.
  const inits = pod.spec?.initContainers ?? [];
  const initStatuses: ApiContainerStatus[] = [];
  let initDone = true;
  const incomplete: string[] = [];
  for (const ic of inits) {
    const s = statusFor(ic, 'init', true);
    initStatuses.push(s);
    const cur = state.containers.find((x) => x.name === ic.name && x.type === 'init' && (!sandbox || x.sandboxId === sandbox.id));
    const ok = isSidecar(ic) ? cur?.status.state === 'CONTAINER_RUNNING' || !!s.started
      : cur?.status.state === 'CONTAINER_EXITED' && cur.status.exitCode === 0;
    if (!ok) { initDone = false; incomplete.push(ic.name); }
    if (isSidecar(ic) && s.state?.running) s.ready = s.ready || false;
  }
  // Once the app containers have started, init containers are done even if their records are gone.
  if (!initDone && state.containers.some((x) => x.type === 'app' && (!sandbox || x.sandboxId === sandbox.id))) { initDone = true; incomplete.length = 0; }

  const appStatuses = (pod.spec?.containers ?? []).map((c) => statusFor(c, 'app', initDone));

  // Phase (kubelet getPhase).
  const policy = pod.spec?.restartPolicy ?? 'Always';
  let phase: PodStatus['phase'];
  const initFailed = RuntimeManager.initFailed(pod, state);
  if (initFailed) phase = 'Failed';
  else if (!initDone) phase = 'Pending';
  else {
    let running = 0, waiting = 0, stopped = 0, succeeded = 0;
    for (const s of appStatuses) {
      if (s.state?.running) running++;
      else if (s.state?.terminated) { stopped++; if (s.state.terminated.exitCode === 0) succeeded++; }
      else if (s.state?.waiting) {
        if (s.lastState?.terminated) stopped++;
        else waiting++;
      }
    }
    if (waiting > 0) phase = 'Pending';
    else if (running > 0) phase = 'Running';
    else if (stopped > 0) {
      if (policy === 'Always') phase = 'Running';
      else if (stopped === succeeded) phase = 'Succeeded';
      else if (policy === 'Never') phase = 'Failed';
      else phase = 'Running';
    } else phase = 'Pending';
  }
  // A phase never goes back from terminal.
  if (old.phase === 'Succeeded' || old.phase === 'Failed') phase = old.phase;
  if (inp.terminating && phase !== 'Succeeded' && phase !== 'Failed' && state.containers.every((c) => c.status.state !== 'CONTAINER_RUNNING')) {
    // Deleted pods whose containers stopped: Succeeded only if all of them exited 0 and would not restart.
    const all0 = appStatuses.every((s) => s.state?.terminated?.exitCode === 0);
    phase = all0 && policy !== 'Always' ? 'Succeeded' : 'Failed';
  }

  const terminal = phase === 'Succeeded' || phase === 'Failed';
  if (terminal) for (const s of appStatuses) s.ready = false;
  const notReady = appStatuses.filter((s) => !s.ready).map((s) => s.name);
  const now = rfc3339(Date.now());
  const cond = (type: string, ok: boolean, reason?: string, message?: string): PodCondition => {
    const prev = old.conditions?.find((c) => c.type === type);
    const status = ok ? 'True' : 'False';
    return {
      type, status, lastProbeTime: null as unknown as string,
      lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : now,
      ...(reason ? { reason } : {}), ...(message ? { message } : {}),
    };
  };
  const conditions: PodCondition[] = [
    cond('PodReadyToStartContainers', sandboxReady),
    terminal && !initDone ? cond('Initialized', false, 'PodCompleted')
      : initDone ? cond('Initialized', true, terminal && inits.length ? 'PodCompleted' : undefined)
        : cond('Initialized', false, 'ContainersNotInitialized', `containers with incomplete status: [${incomplete.join(' ')}]`),
    terminal ? cond('Ready', false, 'PodCompleted') : notReady.length ? cond('Ready', false, 'ContainersNotReady', `containers with unready status: [${notReady.join(' ')}]`) : cond('Ready', true),
    terminal ? cond('ContainersReady', false, 'PodCompleted') : notReady.length ? cond('ContainersReady', false, 'ContainersNotReady', `containers with unready status: [${notReady.join(' ')}]`) : cond('ContainersReady', true),
  ];
  const scheduled = old.conditions?.find((c) => c.type === 'PodScheduled');
  conditions.push(scheduled ?? cond('PodScheduled', true));

  const status: PodStatus = {
    phase, conditions,
    hostIP: inp.hostIP, hostIPs: [{ ip: inp.hostIP }],
    ...(podIP ? { podIP, podIPs: [{ ip: podIP }] } : {}),
    startTime: old.startTime ?? now,
    ...(inits.length ? { initContainerStatuses: initStatuses } : {}),
    containerStatuses: appStatuses,
    qosClass: podQOSClass(pod),
  };
  // Drop undefined values so that comparing with the stored status is stable.
  return JSON.parse(JSON.stringify(status));
}

export { shouldRestart };
