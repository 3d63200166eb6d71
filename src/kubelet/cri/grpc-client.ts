/**
 * GrpcRuntime: the CRI client kubelet uses to talk to a real runtime (containerd) over its unix
 * socket. It speaks runtime.v1 as declared in runtime-v1.proto and maps between the wire
 * messages and the shapes in api.ts:
 *  - request messages are built from the method arguments, responses are unwrapped
 *    (RunPodSandboxResponse → the id, ImageStatusResponse without image → null, …);
 *  - unset sub-messages (which proto-loader's `defaults: true` reports as null) become absent;
 *  - every gRPC failure becomes a CriError carrying the status code (5 NOT_FOUND, …), which is
 *    how kubelet tells "gone" from "broken", as upstream's remote runtime does with status.Code.
 * Each call carries a deadline (30 s by default; image pulls 5 min), like kubelet's
 * --runtime-request-timeout; calls that themselves wait (stop with a grace period, exec with a
 * timeout) get that wait added on top.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import {
  CriError,
  type AuthConfig, type Container, type ContainerConfig, type ContainerFilter, type ContainerStats,
  type ContainerStatus, type ExecSyncResponse, type Image, type ImageService, type ImageSpec,
  type LinuxContainerResources, type PodSandbox, type PodSandboxConfig, type PodSandboxFilter,
  type PodSandboxStatus, type RuntimeCondition, type RuntimeService, type StreamingRequestBase,
  type VersionResponse,
} from './api.js';

export interface GrpcRuntimeOptions {
  /** Deadline for ordinary calls, in ms (default 30 000). */
  timeoutMs?: number;
  /** Deadline for PullImage, in ms (default 300 000). */
  pullTimeoutMs?: number;
}

const PROTO_RELATIVE = join('src', 'kubelet', 'cri', 'runtime-v1.proto');

/**
 * tsc does not copy the .proto, so find it from the package root: walk up from this module
 * (src/…, dist/src/… or .build-*\/src/…) to the directory holding package.json.
 */
export function protoPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, PROTO_RELATIVE);
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`runtime-v1.proto not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

type ServiceCtor = new (address: string, creds: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => grpc.Client;
let services: { runtime: ServiceCtor; image: ServiceCtor } | undefined;

function loadServices(): { runtime: ServiceCtor; image: ServiceCtor } {
  if (services) return services;
  const def = protoLoader.loadSync(protoPath(), {
    keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    runtime: { v1: { RuntimeService: ServiceCtor; ImageService: ServiceCtor } };
  };
  services = { runtime: pkg.runtime.v1.RuntimeService, image: pkg.runtime.v1.ImageService };
  return services;
}

/** `unix:///run/x.sock`, `unix:/run/x.sock` or a bare `/run/x.sock` → a grpc-js target. */
export function grpcTarget(endpoint: string): string {
  if (endpoint.startsWith('unix:')) return endpoint;
  if (endpoint.startsWith('/')) return `unix://${endpoint}`;
  return endpoint;
}

// proto-loader with `defaults: true` reports unset message fields as null; api.ts models them
// as absent. Buffers (bytes) are kept as they are.
function clean<T>(v: unknown): T {
  if (v === null || v === undefined) return undefined as T;
  if (Array.isArray(v)) return v.map((x) => clean(x)) as T;
  if (Buffer.isBuffer(v) || typeof v !== 'object') return v as T;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (x === null || x === undefined) continue;
    out[k] = clean(x);
  }
  return out as T;
}

const MAX_MESSAGE = 32 * 1024 * 1024; // ExecSync output alone may reach 16 MiB per stream.

export class GrpcRuntime implements RuntimeService, ImageService {
  private readonly runtime: grpc.Client;
  private readonly image: grpc.Client;
  private readonly timeoutMs: number;
  private readonly pullTimeoutMs: number;

  constructor(readonly endpoint: string, opts: GrpcRuntimeOptions = {}) {
    const { runtime, image } = loadServices();
    const target = grpcTarget(endpoint);
    const channelOpts: grpc.ChannelOptions = {
      'grpc.max_receive_message_length': MAX_MESSAGE,
      'grpc.max_send_message_length': MAX_MESSAGE,
    };
    this.runtime = new runtime(target, grpc.credentials.createInsecure(), channelOpts);
    // Both services share one HTTP/2 connection when they share the channel.
    this.image = new image(target, grpc.credentials.createInsecure(), {
      ...channelOpts, channelOverride: this.runtime.getChannel(),
    } as grpc.ChannelOptions);
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.pullTimeoutMs = opts.pullTimeoutMs ?? 300_000;
  }

  close(): void {
    this.image.close();
    this.runtime.close();
  }

  /** One unary call; `method` is the RPC name (e.g. "RunPodSandbox"). */
  private call<Res>(client: grpc.Client, method: string, request: object, timeoutMs = this.timeoutMs): Promise<Res> {
    const rpc = method.charAt(0).toLowerCase() + method.slice(1);
    const fn = (client as unknown as Record<string, Function>)[rpc];
    return new Promise<Res>((resolve, reject) => {
      fn.call(client, request, new grpc.Metadata(), { deadline: Date.now() + timeoutMs },
        (err: grpc.ServiceError | null, res: Res) => {
          if (err) reject(new CriError(method, err.code ?? grpc.status.UNKNOWN, err.details || err.message));
          else resolve(res);
        });
    });
  }

  private rt<Res>(method: string, request: object, timeoutMs?: number): Promise<Res> {
    return this.call<Res>(this.runtime, method, request, timeoutMs);
  }

  private img<Res>(method: string, request: object, timeoutMs?: number): Promise<Res> {
    return this.call<Res>(this.image, method, request, timeoutMs);
  }

  // ---- RuntimeService ----

  async version(): Promise<VersionResponse> {
    return clean(await this.rt('Version', { version: 'v1' }));
  }

  async status(): Promise<{ conditions: RuntimeCondition[] }> {
    const res = await this.rt<{ status: { conditions: RuntimeCondition[] } | null }>('Status', { verbose: false });
    return { conditions: clean<RuntimeCondition[]>(res.status?.conditions ?? []) };
  }

  async runPodSandbox(config: PodSandboxConfig, runtimeHandler = ''): Promise<string> {
    // containerd pulls the sandbox (pause) image inside this call when it is missing, so it
    // gets the pull deadline.
    const res = await this.rt<{ podSandboxId: string }>('RunPodSandbox', { config, runtimeHandler }, this.pullTimeoutMs);
    return res.podSandboxId;
  }

  async stopPodSandbox(podSandboxId: string): Promise<void> {
    await this.rt('StopPodSandbox', { podSandboxId });
  }

  async removePodSandbox(podSandboxId: string): Promise<void> {
    await this.rt('RemovePodSandbox', { podSandboxId });
  }

  async podSandboxStatus(podSandboxId: string): Promise<PodSandboxStatus> {
    const res = await this.rt<{ status: unknown }>('PodSandboxStatus', { podSandboxId, verbose: false });
    if (!res.status) throw new CriError('PodSandboxStatus', grpc.status.NOT_FOUND, `sandbox ${podSandboxId} has no status`);
    return clean(res.status);
  }

  async listPodSandbox(filter?: PodSandboxFilter): Promise<PodSandbox[]> {
    const res = await this.rt<{ items: unknown[] }>('ListPodSandbox', filter ? { filter } : {});
    return clean(res.items ?? []);
  }

  async createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    const res = await this.rt<{ containerId: string }>('CreateContainer', { podSandboxId, config, sandboxConfig });
    return res.containerId;
  }

  async startContainer(containerId: string): Promise<void> {
    await this.rt('StartContainer', { containerId });
  }

  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    await this.rt('StopContainer', { containerId, timeout: timeoutSeconds }, this.timeoutMs + timeoutSeconds * 1000);
  }

  async removeContainer(containerId: string): Promise<void> {
    await this.rt('RemoveContainer', { containerId });
  }

  async listContainers(filter?: ContainerFilter): Promise<Container[]> {
    const res = await this.rt<{ containers: unknown[] }>('ListContainers', filter ? { filter } : {});
    return clean(res.containers ?? []);
  }

  async containerStatus(containerId: string): Promise<ContainerStatus> {
    const res = await this.rt<{ status: unknown }>('ContainerStatus', { containerId, verbose: false });
    if (!res.status) throw new CriError('ContainerStatus', grpc.status.NOT_FOUND, `container ${containerId} has no status`);
    const status = clean<ContainerStatus>(res.status);
    // Keep the declared arrays/maps present even when the runtime sent none.
    status.mounts ??= [];
    status.labels ??= {};
    status.annotations ??= {};
    return status;
  }

  async updateContainerResources(containerId: string, linux: LinuxContainerResources): Promise<void> {
    await this.rt('UpdateContainerResources', { containerId, linux });
  }

  async reopenContainerLog(containerId: string): Promise<void> {
    await this.rt('ReopenContainerLog', { containerId });
  }

  async execSync(containerId: string, cmd: string[], timeoutSeconds: number): Promise<ExecSyncResponse> {
    const deadline = this.timeoutMs + Math.max(0, timeoutSeconds) * 1000;
    const res = await this.rt<{ stdout: Buffer; stderr: Buffer; exitCode: number }>(
      'ExecSync', { containerId, cmd, timeout: timeoutSeconds }, deadline);
    return {
      stdout: Buffer.from(res.stdout ?? Buffer.alloc(0)),
      stderr: Buffer.from(res.stderr ?? Buffer.alloc(0)),
      exitCode: res.exitCode ?? 0,
    };
  }

  async exec(containerId: string, cmd: string[], opts: StreamingRequestBase): Promise<string> {
    const res = await this.rt<{ url: string }>('Exec', { containerId, cmd, ...streamFlags(opts) });
    return res.url;
  }

  async attach(containerId: string, opts: StreamingRequestBase): Promise<string> {
    const res = await this.rt<{ url: string }>('Attach', { containerId, ...streamFlags(opts) });
    return res.url;
  }

  async portForward(podSandboxId: string, ports: number[]): Promise<string> {
    const res = await this.rt<{ url: string }>('PortForward', { podSandboxId, port: ports });
    return res.url;
  }

  async containerStats(containerId: string): Promise<ContainerStats> {
    const res = await this.rt<{ stats: unknown }>('ContainerStats', { containerId });
    if (!res.stats) throw new CriError('ContainerStats', grpc.status.NOT_FOUND, `container ${containerId} has no stats`);
    return clean(res.stats);
  }

  async listContainerStats(filter?: { id?: string; podSandboxId?: string; labelSelector?: Record<string, string> }): Promise<ContainerStats[]> {
    const res = await this.rt<{ stats: unknown[] }>('ListContainerStats', filter ? { filter } : {});
    return clean(res.stats ?? []);
  }

  // ---- ImageService ----

  async listImages(filter?: { image?: ImageSpec }): Promise<Image[]> {
    const res = await this.img<{ images: unknown[] }>('ListImages', filter ? { filter } : {});
    return (res.images ?? []).map(toImage);
  }

  async imageStatus(image: ImageSpec): Promise<Image | null> {
    const res = await this.img<{ image: unknown }>('ImageStatus', { image, verbose: false });
    // CRI: an absent image is a response without `image`, not an error. Some runtimes send an
    // empty Image instead; treat an empty id the same way.
    if (!res.image) return null;
    const img = toImage(res.image);
    return img.id ? img : null;
  }

  async pullImage(image: ImageSpec, auth?: AuthConfig, sandboxConfig?: PodSandboxConfig): Promise<string> {
    const res = await this.img<{ imageRef: string }>('PullImage', { image, auth, sandboxConfig }, this.pullTimeoutMs);
    return res.imageRef;
  }

  async removeImage(image: ImageSpec): Promise<void> {
    await this.img('RemoveImage', { image });
  }

  async imageFsInfo(): Promise<{ mountpoint: string; usedBytes: number; inodesUsed: number }[]> {
    const res = await this.img<{ imageFilesystems: { fsId?: { mountpoint: string } | null; usedBytes?: { value: number } | null; inodesUsed?: { value: number } | null }[] }>('ImageFsInfo', {});
    return (res.imageFilesystems ?? []).map((fs) => ({
      mountpoint: fs.fsId?.mountpoint ?? '',
      usedBytes: fs.usedBytes?.value ?? 0,
      inodesUsed: fs.inodesUsed?.value ?? 0,
    }));
  }
}

function streamFlags(opts: StreamingRequestBase): { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean } {
  return { stdin: !!opts.stdin, stdout: !!opts.stdout, stderr: !!opts.stderr, tty: !!opts.tty };
}

function toImage(raw: unknown): Image {
  const i = clean<Partial<Image>>(raw) ?? {};
  return { id: i.id ?? '', repoTags: i.repoTags ?? [], repoDigests: i.repoDigests ?? [], size: i.size ?? 0 };
}
