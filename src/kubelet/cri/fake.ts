/**
 * FakeRuntime: an in-memory CRI runtime for kubelet unit tests. It passes the same contract
 * suite as containerd (cri/testing/contract.ts) and copies containerd 1.6's observable
 * behaviour where kubelet depends on it:
 *  - ids are 64 hex characters; errors are CriError with containerd's codes: 5 NOT_FOUND for
 *    unknown ids (status, start, stop, exec, create in a missing sandbox, stopPodSandbox),
 *    2 UNKNOWN for wrong states (start twice, exec in a container that is not running),
 *    4 DEADLINE_EXCEEDED for an exec that outlives its timeout;
 *  - RemoveContainer and RemovePodSandbox of unknown ids succeed (idempotent), StopContainer
 *    of an exited container succeeds;
 *  - sandboxes get 10.244.0.x (none with network namespace NODE) and lose it when stopped;
 *    stopping a sandbox stops its containers; removing it removes them;
 *  - containers go CONTAINER_CREATED → CONTAINER_RUNNING → CONTAINER_EXITED, reason
 *    "Completed" for exit 0, "Error" otherwise (or what exitContainer() says, e.g. OOMKilled);
 *  - container output is written to logDirectory/logPath in the CRI log format.
 *
 * What a container "does" comes from a tiny model of its command (see `modelProcess`):
 * `sh -c` scripts of echo / exit / true / false / trap … TERM / sleep / while run as a shell
 * would; anything else is a long-running server. Tests override it with setProcess() and
 * setExecResult(), and end containers with exitContainer(). Stop never waits for real time:
 * a container that handles SIGTERM exits with its trap's code (0 by default), any other is
 * killed with 137.
 */
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  CriError, GRPC_NOT_FOUND,
  type AuthConfig, type Container, type ContainerConfig, type ContainerFilter, type ContainerState,
  type ContainerStats, type ContainerStatus, type ExecSyncResponse, type Image, type ImageService,
  type ImageSpec, type LinuxContainerResources, type PodSandbox, type PodSandboxConfig,
  type PodSandboxFilter, type PodSandboxState, type PodSandboxStatus, type RuntimeCondition,
  type RuntimeService, type StreamingRequestBase, type VersionResponse,
} from './api.js';

const GRPC_UNKNOWN = 2;
const GRPC_DEADLINE_EXCEEDED = 4;

/** What a container's main process does, as the fake models it. */
export interface FakeProcess {
  /** Lines written at start. */
  stdout?: string[];
  stderr?: string[];
  /** Exit code right after start; undefined = keeps running until stopped or exitContainer(). */
  exitCode?: number;
  /** Exit code when it receives SIGTERM; undefined = ignores SIGTERM and is killed (137). */
  sigtermExitCode?: number;
}

export type ExecHook = (containerId: string, cmd: string[], timeoutSeconds: number) =>
  ExecSyncResponse | undefined | Promise<ExecSyncResponse | undefined>;

interface SandboxRec {
  id: string;
  config: PodSandboxConfig;
  state: PodSandboxState;
  createdAt: number;
  ip: string;
  runtimeHandler: string;
}

interface ContainerRec {
  id: string;
  sandboxId: string;
  config: ContainerConfig;
  logPath: string;
  state: ContainerState;
  imageRef: string;
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  reason: string;
  message: string;
  process: FakeProcess;
  resources?: LinuxContainerResources;
}

const nowNs = () => Date.now() * 1e6;
const newId = () => randomBytes(32).toString('hex');

/** docker.io normalisation as containerd applies it ("busybox" → "docker.io/library/busybox:latest"). */
export function normalizeImageRef(ref: string): string {
  if (ref.startsWith('sha256:')) return ref;
  let name = ref;
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  if (slash < 0) name = `docker.io/library/${name}`;
  else if (!first.includes('.') && !first.includes(':') && first !== 'localhost') name = `docker.io/${name}`;
  const lastPart = name.slice(name.lastIndexOf('/') + 1);
  if (!lastPart.includes(':') && !name.includes('@')) name += ':latest';
  return name;
}

/** Splits a shell script into statements of words (quotes honoured; ; && || newline separate). */
export function parseScript(script: string): string[][] {
  const statements: string[][] = [];
  let words: string[] = [];
  let word = '';
  let inWord = false;
  const endWord = () => { if (inWord) words.push(word); word = ''; inWord = false; };
  const endStatement = () => { endWord(); if (words.length) statements.push(words); words = []; };
  for (let i = 0; i < script.length; i++) {
    const ch = script[i]!;
    if (ch === "'") {
      const end = script.indexOf("'", i + 1);
      word += script.slice(i + 1, end < 0 ? undefined : end); inWord = true;
      i = end < 0 ? script.length : end;
    } else if (ch === '"') {
      let j = i + 1;
      for (; j < script.length && script[j] !== '"'; j++) {
        if (script[j] === '\\' && j + 1 < script.length) j++;
        word += script[j];
      }
      inWord = true; i = j;
    } else if (ch === '\\' && i + 1 < script.length) {
      word += script[++i]; inWord = true;
    } else if (ch === ';' || ch === '\n') {
      endStatement();
    } else if ((ch === '&' || ch === '|') && script[i + 1] === ch) {
      endStatement(); i++;
    } else if (ch === ' ' || ch === '\t') {
      endWord();
    } else {
      word += ch; inWord = true;
    }
  }
  endStatement();
  return statements;
}

/** Result of running a modelled command to completion (or to the point where it blocks). */
interface ScriptRun { stdout: string[]; stderr: string[]; exitCode?: number; sigtermExitCode?: number }

const BLOCKING = new Set(['sleep', 'while', 'until', 'wait', 'tail', 'read', 'cat', 'nc', 'httpd']);

/**
 * Runs statements of the model shell: echo (with >&2), exit N, true, false, trap ACTION TERM.
 * sleep/while/wait/… block (the process keeps running). Other commands count as success
 * when `unknownBlocks` is false (exec probes), or as a long-running server when true (main
 * processes such as `nginx`).
 */
function runStatements(statements: string[][], unknownBlocks: boolean): ScriptRun {
  const out: ScriptRun = { stdout: [], stderr: [] };
  let status = 0;
  for (const raw of statements) {
    let words = raw[0] === 'exec' ? raw.slice(1) : raw;
    const toStderr = words.includes('>&2') || words.includes('1>&2');
    words = words.filter((w) => w !== '>&2' && w !== '1>&2');
    const cmd = (words[0] ?? '').replace(/^.*\//, '');
    if (cmd === '') continue;
    if (cmd === 'echo') {
      const noNewline = words[1] === '-n';
      const text = words.slice(noNewline ? 2 : 1).join(' ');
      (toStderr ? out.stderr : out.stdout).push(text);
      status = 0;
    } else if (cmd === 'exit') {
      out.exitCode = Number.parseInt(words[1] ?? String(status), 10) || 0;
      return out;
    } else if (cmd === 'true' || cmd === ':') {
      status = 0;
    } else if (cmd === 'false') {
      status = 1;
    } else if (cmd === 'trap') {
      const action = words[1] ?? '';
      if (words.slice(2).some((s) => s === 'TERM' || s === 'SIGTERM' || s === '15')) {
        if (action === '') out.sigtermExitCode = undefined;
        else {
          const m = /exit\s+(\d+)/.exec(action);
          out.sigtermExitCode = m ? Number(m[1]) : 0;
        }
      }
      status = 0;
    } else if (BLOCKING.has(cmd) || unknownBlocks) {
      return out; // still running
    } else {
      status = 0;
    }
  }
  out.exitCode = status;
  return out;
}

/** The command line's script: `sh -c SCRIPT …` → SCRIPT's statements; otherwise one statement. */
function statementsOf(argv: string[]): string[][] {
  const sh = (argv[0] ?? '').replace(/^.*\//, '');
  if ((sh === 'sh' || sh === 'bash' || sh === 'ash') && argv[1] === '-c') return parseScript(argv[2] ?? '');
  return argv.length ? [argv] : [];
}

/** The default model of a container's main process, from its command and args. */
export function modelProcess(config: ContainerConfig): FakeProcess {
  const argv = [...(config.command ?? []), ...(config.args ?? [])];
  if (argv.length === 0) return {}; // the image's default command: a server
  const run = runStatements(statementsOf(argv), true);
  // A shell without a TERM trap, or a program run directly as pid 1, does not die of SIGTERM.
  return { stdout: run.stdout, stderr: run.stderr, exitCode: run.exitCode, sigtermExitCode: run.sigtermExitCode };
}

export class FakeRuntime implements RuntimeService, ImageService {
  /** Every RPC invoked, by its CRI name ("RunPodSandbox", "ExecSync", …), in order. */
  readonly calls: string[] = [];
  private readonly sandboxes = new Map<string, SandboxRec>();
  private readonly containers = new Map<string, ContainerRec>();
  private readonly images = new Map<string, Image>(); // by normalised tag and by id
  private readonly usedIps = new Set<number>();
  private nextIp = 2;
  private execHook: ExecHook | undefined;
  private processHook: ((config: ContainerConfig) => FakeProcess | undefined) | undefined;
  private readonly injected = new Map<string, CriError[]>();
  private readonly conditions: RuntimeCondition[] = [
    { type: 'RuntimeReady', status: true, reason: '', message: '' },
    { type: 'NetworkReady', status: true, reason: '', message: '' },
  ];

  constructor(opts: { images?: string[] } = {}) {
    for (const ref of opts.images ?? []) this.addImage(ref);
  }

  // ---- test hooks ----

  /** Makes an image present, as if pulled. Returns its id. */
  addImage(ref: string): string {
    const tag = normalizeImageRef(ref);
    const existing = this.images.get(tag);
    if (existing) return existing.id;
    const id = 'sha256:' + createHash('sha256').update(tag).digest('hex');
    const repo = tag.slice(0, tag.lastIndexOf(':'));
    const image: Image = { id, repoTags: [tag], repoDigests: [`${repo}@${id}`], size: 1_000_000 };
    this.images.set(tag, image);
    this.images.set(id, image);
    return id;
  }

  /** Ends a running container's main process with `exitCode` (reason defaults to Completed/Error). */
  exitContainer(id: string, exitCode: number, reason?: string): void {
    const c = this.containers.get(id);
    if (!c) throw new Error(`FakeRuntime.exitContainer: no container ${id}`);
    if (c.state !== 'CONTAINER_RUNNING') throw new Error(`FakeRuntime.exitContainer: container ${id} is ${c.state}`);
    this.finish(c, exitCode, reason);
  }

  /** Answers ExecSync; return undefined to fall back to the model shell. */
  setExecResult(fn: ExecHook | undefined): void {
    this.execHook = fn;
  }

  /** Decides what a container's main process does; return undefined for the default model. */
  setProcess(fn: ((config: ContainerConfig) => FakeProcess | undefined) | undefined): void {
    this.processHook = fn;
  }

  /** The next call of `method` (CRI name, e.g. "PullImage") fails with this error (queued). */
  injectError(method: string, code: number, message: string): void {
    const q = this.injected.get(method) ?? [];
    q.push(new CriError(method, code, message));
    this.injected.set(method, q);
  }

  /** Sets a runtime condition (e.g. NetworkReady false) reported by status(). */
  setCondition(type: string, status: boolean, reason = '', message = ''): void {
    const c = this.conditions.find((x) => x.type === type);
    if (c) Object.assign(c, { status, reason, message });
    else this.conditions.push({ type, status, reason, message });
  }

  // ---- helpers ----

  private enter(method: string): void {
    this.calls.push(method);
    const q = this.injected.get(method);
    const err = q?.shift();
    if (q && q.length === 0) this.injected.delete(method);
    if (err) throw err;
  }

  private sandbox(method: string, id: string): SandboxRec {
    const s = this.sandboxes.get(id);
    if (!s) throw new CriError(method, GRPC_NOT_FOUND, `an error occurred when try to find sandbox "${id}": not found`);
    return s;
  }

  private container(method: string, id: string): ContainerRec {
    const c = this.containers.get(id);
    if (!c) throw new CriError(method, GRPC_NOT_FOUND, `an error occurred when try to find container "${id}": not found`);
    return c;
  }

  private allocateIp(): string {
    for (let i = 0; i < 253; i++) {
      const n = ((this.nextIp - 2 + i) % 253) + 2;
      if (!this.usedIps.has(n)) {
        this.usedIps.add(n);
        this.nextIp = n + 1;
        return `10.244.0.${n}`;
      }
    }
    throw new CriError('RunPodSandbox', GRPC_UNKNOWN, 'failed to setup network for sandbox: no IP addresses available in range 10.244.0.0/24');
  }

  private releaseIp(s: SandboxRec): void {
    if (s.ip) this.usedIps.delete(Number(s.ip.split('.')[3]));
    s.ip = '';
  }

  private writeLog(c: ContainerRec, stream: 'stdout' | 'stderr', lines: string[]): void {
    if (!c.logPath || lines.length === 0) return;
    try {
      mkdirSync(dirname(c.logPath), { recursive: true });
      // CRI log format: RFC3339Nano timestamp, stream, P(artial)/F(ull) tag, content.
      const ts = new Date().toISOString().replace('Z', '000000Z');
      appendFileSync(c.logPath, lines.map((l) => `${ts} ${stream} F ${l}\n`).join(''));
    } catch {
      // A log directory the test did not create is not the runtime's problem.
    }
  }

  private finish(c: ContainerRec, exitCode: number, reason?: string): void {
    c.state = 'CONTAINER_EXITED';
    c.exitCode = exitCode;
    c.finishedAt = nowNs();
    c.reason = reason ?? (exitCode === 0 ? 'Completed' : 'Error');
  }

  private image(ref: string): Image | undefined {
    return this.images.get(ref) ?? this.images.get(normalizeImageRef(ref));
  }

  // ---- RuntimeService ----

  async version(): Promise<VersionResponse> {
    this.enter('Version');
    return { version: '0.1.0', runtimeName: 'fake', runtimeVersion: '0.1.0', runtimeApiVersion: 'v1' };
  }

  async status(): Promise<{ conditions: RuntimeCondition[] }> {
    this.enter('Status');
    return { conditions: this.conditions.map((c) => ({ ...c })) };
  }

  async runPodSandbox(config: PodSandboxConfig, runtimeHandler = ''): Promise<string> {
    this.enter('RunPodSandbox');
    const hostNetwork = config.linux?.securityContext?.namespaceOptions?.network === 'NODE';
    const id = newId();
    this.sandboxes.set(id, {
      id, config: structuredClone(config), state: 'SANDBOX_READY', createdAt: nowNs(),
      ip: hostNetwork ? '' : this.allocateIp(), runtimeHandler,
    });
    return id;
  }

  async stopPodSandbox(podSandboxId: string): Promise<void> {
    this.enter('StopPodSandbox');
    const s = this.sandbox('StopPodSandbox', podSandboxId);
    for (const c of this.containers.values()) {
      if (c.sandboxId !== s.id) continue;
      if (c.state === 'CONTAINER_RUNNING') this.finish(c, 137);
    }
    s.state = 'SANDBOX_NOTREADY';
    this.releaseIp(s);
  }

  async removePodSandbox(podSandboxId: string): Promise<void> {
    this.enter('RemovePodSandbox');
    const s = this.sandboxes.get(podSandboxId);
    if (!s) return;
    for (const [id, c] of this.containers) if (c.sandboxId === s.id) this.containers.delete(id);
    this.releaseIp(s);
    this.sandboxes.delete(s.id);
  }

  async podSandboxStatus(podSandboxId: string): Promise<PodSandboxStatus> {
    this.enter('PodSandboxStatus');
    const s = this.sandbox('PodSandboxStatus', podSandboxId);
    return {
      id: s.id, metadata: { ...s.config.metadata }, state: s.state, createdAt: s.createdAt,
      network: { ip: s.ip, additionalIps: [] },
      labels: { ...(s.config.labels ?? {}) }, annotations: { ...(s.config.annotations ?? {}) },
    };
  }

  async listPodSandbox(filter?: PodSandboxFilter): Promise<PodSandbox[]> {
    this.enter('ListPodSandbox');
    return [...this.sandboxes.values()]
      .filter((s) => !filter?.id || s.id.startsWith(filter.id))
      .filter((s) => !filter?.state || s.state === filter.state.state)
      .filter((s) => matchLabels(s.config.labels, filter?.labelSelector))
      .map((s) => ({
        id: s.id, metadata: { ...s.config.metadata }, state: s.state, createdAt: s.createdAt,
        labels: { ...(s.config.labels ?? {}) }, annotations: { ...(s.config.annotations ?? {}) },
      }));
  }

  async createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    this.enter('CreateContainer');
    const s = this.sandboxes.get(podSandboxId);
    if (!s) throw new CriError('CreateContainer', GRPC_NOT_FOUND, `failed to find sandbox id "${podSandboxId}": not found`);
    const image = this.image(config.image.image);
    if (!image) throw new CriError('CreateContainer', GRPC_NOT_FOUND, `failed to resolve image "${config.image.image}": not found`);
    for (const c of this.containers.values()) {
      if (c.sandboxId === s.id && c.config.metadata.name === config.metadata.name && c.config.metadata.attempt === config.metadata.attempt) {
        throw new CriError('CreateContainer', GRPC_UNKNOWN,
          `failed to reserve container name "${config.metadata.name}_${config.metadata.attempt}": name is reserved for "${c.id}"`);
      }
    }
    const id = newId();
    const logDir = sandboxConfig.logDirectory ?? s.config.logDirectory ?? '';
    this.containers.set(id, {
      id, sandboxId: s.id, config: structuredClone(config),
      logPath: logDir && config.logPath ? join(logDir, config.logPath) : '',
      state: 'CONTAINER_CREATED', imageRef: image.id, createdAt: nowNs(), startedAt: 0, finishedAt: 0,
      exitCode: 0, reason: '', message: '', process: this.processHook?.(config) ?? modelProcess(config),
    });
    return id;
  }

  async startContainer(containerId: string): Promise<void> {
    this.enter('StartContainer');
    const c = this.container('StartContainer', containerId);
    if (c.state !== 'CONTAINER_CREATED') {
      throw new CriError('StartContainer', GRPC_UNKNOWN, `failed to set starting state for container "${c.id}": container is in ${c.state} state`);
    }
    const s = this.sandboxes.get(c.sandboxId);
    if (!s || s.state !== 'SANDBOX_READY') {
      throw new CriError('StartContainer', GRPC_UNKNOWN, `sandbox container "${c.sandboxId}" is not running`);
    }
    c.state = 'CONTAINER_RUNNING';
    c.startedAt = nowNs();
    this.writeLog(c, 'stdout', c.process.stdout ?? []);
    this.writeLog(c, 'stderr', c.process.stderr ?? []);
    const exitCode = c.process.exitCode;
    if (exitCode !== undefined) {
      // Observable as RUNNING for the rest of this turn, as a real process would be briefly.
      setImmediate(() => { if (c.state === 'CONTAINER_RUNNING') this.finish(c, exitCode); });
    }
  }

  async stopContainer(containerId: string, _timeoutSeconds: number): Promise<void> {
    this.enter('StopContainer');
    const c = this.container('StopContainer', containerId);
    if (c.state === 'CONTAINER_RUNNING') {
      const code = c.process.sigtermExitCode;
      this.finish(c, code ?? 137, code === undefined ? 'Error' : undefined);
    } else if (c.state === 'CONTAINER_CREATED') {
      // containerd leaves a never-started container as it is; kubelet then removes it.
    }
  }

  async removeContainer(containerId: string): Promise<void> {
    this.enter('RemoveContainer');
    this.containers.delete(containerId);
  }

  async listContainers(filter?: ContainerFilter): Promise<Container[]> {
    this.enter('ListContainers');
    return [...this.containers.values()]
      .filter((c) => !filter?.id || c.id.startsWith(filter.id))
      .filter((c) => !filter?.state || c.state === filter.state.state)
      .filter((c) => !filter?.podSandboxId || c.sandboxId.startsWith(filter.podSandboxId))
      .filter((c) => matchLabels(c.config.labels, filter?.labelSelector))
      .map((c) => ({
        id: c.id, podSandboxId: c.sandboxId, metadata: { ...c.config.metadata },
        image: { image: c.config.image.image, annotations: { ...(c.config.image.annotations ?? {}) } },
        imageRef: c.imageRef, state: c.state, createdAt: c.createdAt,
        labels: { ...(c.config.labels ?? {}) }, annotations: { ...(c.config.annotations ?? {}) },
      }));
  }

  async containerStatus(containerId: string): Promise<ContainerStatus> {
    this.enter('ContainerStatus');
    const c = this.container('ContainerStatus', containerId);
    return {
      id: c.id, metadata: { ...c.config.metadata }, state: c.state,
      createdAt: c.createdAt, startedAt: c.startedAt, finishedAt: c.finishedAt, exitCode: c.exitCode,
      image: { image: c.config.image.image, annotations: { ...(c.config.image.annotations ?? {}) } },
      imageRef: c.imageRef, reason: c.reason, message: c.message,
      labels: { ...(c.config.labels ?? {}) }, annotations: { ...(c.config.annotations ?? {}) },
      mounts: (c.config.mounts ?? []).map((m) => ({ ...m })), logPath: c.logPath,
    };
  }

  async updateContainerResources(containerId: string, linux: LinuxContainerResources): Promise<void> {
    this.enter('UpdateContainerResources');
    const c = this.container('UpdateContainerResources', containerId);
    c.resources = { ...linux };
  }

  async reopenContainerLog(containerId: string): Promise<void> {
    this.enter('ReopenContainerLog');
    const c = this.container('ReopenContainerLog', containerId);
    if (c.state !== 'CONTAINER_RUNNING') throw new CriError('ReopenContainerLog', GRPC_UNKNOWN, 'container is not running');
  }

  async execSync(containerId: string, cmd: string[], timeoutSeconds: number): Promise<ExecSyncResponse> {
    this.enter('ExecSync');
    const c = this.containers.get(containerId);
    if (!c) throw new CriError('ExecSync', GRPC_NOT_FOUND, `failed to exec in container: failed to find container "${containerId}" in store: not found`);
    if (c.state !== 'CONTAINER_RUNNING') {
      throw new CriError('ExecSync', GRPC_UNKNOWN, `failed to exec in container: container is in ${c.state} state`);
    }
    const hooked = await this.execHook?.(containerId, cmd, timeoutSeconds);
    if (hooked) return { stdout: Buffer.from(hooked.stdout), stderr: Buffer.from(hooked.stderr), exitCode: hooked.exitCode };
    const run = runStatements(statementsOf(cmd), false);
    if (run.exitCode === undefined) {
      throw new CriError('ExecSync', GRPC_DEADLINE_EXCEEDED, `failed to exec in container: timeout ${timeoutSeconds}s exceeded: context deadline exceeded`);
    }
    const text = (lines: string[]) => Buffer.from(lines.map((l) => l + '\n').join(''));
    return { stdout: text(run.stdout), stderr: text(run.stderr), exitCode: run.exitCode };
  }

  async exec(containerId: string, _cmd: string[], _opts: StreamingRequestBase): Promise<string> {
    this.enter('Exec');
    const c = this.container('Exec', containerId);
    if (c.state !== 'CONTAINER_RUNNING') throw new CriError('Exec', GRPC_UNKNOWN, `container is in ${c.state} state`);
    return `http://127.0.0.1:0/exec/${randomBytes(6).toString('base64url')}`;
  }

  async attach(containerId: string, _opts: StreamingRequestBase): Promise<string> {
    this.enter('Attach');
    this.container('Attach', containerId);
    return `http://127.0.0.1:0/attach/${randomBytes(6).toString('base64url')}`;
  }

  async portForward(podSandboxId: string, _ports: number[]): Promise<string> {
    this.enter('PortForward');
    this.sandbox('PortForward', podSandboxId);
    return `http://127.0.0.1:0/portforward/${randomBytes(6).toString('base64url')}`;
  }

  private stats(c: ContainerRec): ContainerStats {
    const ts = nowNs();
    return {
      attributes: { id: c.id, metadata: { ...c.config.metadata }, labels: { ...(c.config.labels ?? {}) }, annotations: { ...(c.config.annotations ?? {}) } },
      cpu: { timestamp: ts, usageCoreNanoSeconds: { value: 0 }, usageNanoCores: { value: 0 } },
      memory: { timestamp: ts, workingSetBytes: { value: 0 }, usageBytes: { value: 0 }, rssBytes: { value: 0 } },
      writableLayer: { timestamp: ts, usedBytes: { value: 0 } },
    };
  }

  async containerStats(containerId: string): Promise<ContainerStats> {
    this.enter('ContainerStats');
    return this.stats(this.container('ContainerStats', containerId));
  }

  async listContainerStats(filter?: { id?: string; podSandboxId?: string; labelSelector?: Record<string, string> }): Promise<ContainerStats[]> {
    this.enter('ListContainerStats');
    return [...this.containers.values()]
      .filter((c) => !filter?.id || c.id.startsWith(filter.id))
      .filter((c) => !filter?.podSandboxId || c.sandboxId.startsWith(filter.podSandboxId))
      .filter((c) => matchLabels(c.config.labels, filter?.labelSelector))
      .map((c) => this.stats(c));
  }

  // ---- ImageService ----

  async listImages(filter?: { image?: ImageSpec }): Promise<Image[]> {
    this.enter('ListImages');
    const all = [...new Set(this.images.values())];
    const want = filter?.image?.image;
    return (want ? all.filter((i) => i === this.image(want)) : all).map((i) => structuredClone(i));
  }

  async imageStatus(image: ImageSpec): Promise<Image | null> {
    this.enter('ImageStatus');
    const i = this.image(image.image);
    return i ? structuredClone(i) : null;
  }

  async pullImage(image: ImageSpec, _auth?: AuthConfig, _sandboxConfig?: PodSandboxConfig): Promise<string> {
    this.enter('PullImage');
    return this.addImage(image.image);
  }

  async removeImage(image: ImageSpec): Promise<void> {
    this.enter('RemoveImage');
    const i = this.image(image.image);
    if (!i) return;
    for (const [k, v] of this.images) if (v === i) this.images.delete(k);
  }

  async imageFsInfo(): Promise<{ mountpoint: string; usedBytes: number; inodesUsed: number }[]> {
    this.enter('ImageFsInfo');
    const used = [...new Set(this.images.values())].reduce((n, i) => n + i.size, 0);
    return [{ mountpoint: '/var/lib/keelson/fake/snapshots', usedBytes: used, inodesUsed: this.images.size }];
  }
}

function matchLabels(labels: Record<string, string> | undefined, selector: Record<string, string> | undefined): boolean {
  if (!selector) return true;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}
