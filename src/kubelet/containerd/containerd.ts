/**
 * Containerd: keelson's own containerd, supervised by the node agent.
 *
 * Everything lives under one keelson-owned directory (`dir`), so an agent never touches the
 * host's /var/lib/containerd, /run/containerd or /etc/cni and several nodes can share a machine:
 *
 *   dir/config.toml             containerd config (version 2)
 *   dir/containerd.sock         CRI + containerd API (ttrpc next to it); when `dir` is too deep
 *                               for a unix socket path: /run/keelson/containerd-<hash>.sock
 *   dir/containerd.pid          pid of the running daemon (for restarts of the agent)
 *   dir/containerd.log          daemon stdout/stderr
 *   dir/root, dir/state         containerd root and state (images, snapshots, tasks, netns)
 *   dir/runc                    runc state root
 *   dir/cni/net.d               the CNI conflist containerd loads
 *   dir/cni/ipam                host-local IP allocations
 *   dir/certs.d/<host>/hosts.toml  registry mirrors
 *
 * Lifecycle contract (as on a real node):
 *  - `start()` writes the configuration and starts containerd, or adopts one already running for
 *    this dir (pid file, else a /proc scan for `containerd --config <ours>`) when its config is
 *    unchanged; when the config changed it restarts it. Containers keep running across either,
 *    because they belong to their shims. It resolves once the CRI answers Version and Status
 *    reports RuntimeReady and NetworkReady.
 *  - `stop()` ends only the containerd process: pods keep running and a later `start()` finds
 *    them again, which is how an agent restart keeps its pods.
 *  - `destroy()` (tests, `keelson reset`): removes every pod via the CRI, stops containerd, kills
 *    whatever is left in our runc root, unmounts everything under `dir`, deletes the CNI bridge
 *    and removes `dir`.
 *
 * Not under `dir`, because containerd 1.6 and the CNI library hard-code them: shim sockets in
 * /run/containerd/s (named by a hash that includes our socket path, so they never collide) and
 * the CNI result cache in /var/lib/cni/results (removed entry by entry on CNI DEL).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile, unlink, readdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { GrpcRuntime } from '../cri/grpc-client.js';
import { logger } from '../../util/log.js';

const execFileP = promisify(execFile);

export interface ContainerdOptions {
  /** keelson-owned directory for root, state, socket, config and logs. */
  dir: string;
  /** This node's pod CIDR (e.g. 10.244.3.0/24); host-local hands out IPs from it. */
  podCIDR: string;
  /** Linux bridge the CNI bridge plugin creates (default "keelson0"; tests use unique names). */
  bridgeName?: string;
  /** Registry host → mirror URL, e.g. { 'docker.io': 'http://127.0.0.1:5000' }. */
  registryMirrors?: Record<string, string>;
  /** The pause image (must be present, e.g. imported with importImage, or pullable). */
  sandboxImage: string;
  /** Directory of the CNI plugin binaries (default: /usr/lib/cni or /opt/cni/bin, whichever exists). */
  cniBinDir?: string;
  /** containerd binary (default "containerd" from PATH). */
  containerdBin?: string;
  /** ctr binary (default "ctr" from PATH). */
  ctrBin?: string;
  /** How long start() waits for the CRI to become ready (default 30 s). */
  startTimeoutMs?: number;
  log?: (msg: string) => void;
}

/** The CRI namespace: images and containers kubelet sees live here. */
export const CRI_NAMESPACE = 'k8s.io';

export function detectCniBinDir(): string {
  for (const d of ['/usr/lib/cni', '/opt/cni/bin', '/usr/libexec/cni']) {
    if (existsSync(join(d, 'bridge')) && existsSync(join(d, 'host-local'))) return d;
  }
  throw new Error('no CNI plugins found in /usr/lib/cni or /opt/cni/bin (apt-get install containernetworking-plugins)');
}

/** Longest socket path we use: sockaddr_un holds 108 bytes and containerd also binds "<socket>.ttrpc". */
const MAX_SOCKET_PATH = 107 - '.ttrpc'.length;

/**
 * Paths of one containerd instance, all under `dir` — except the socket when `dir` is too deep
 * for a unix socket path; it then goes to /run/keelson/containerd-<hash of dir>.sock.
 */
export function containerdPaths(dir: string) {
  const d = resolve(dir);
  let socket = join(d, 'containerd.sock');
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
    socket = join('/run/keelson', `containerd-${createHash('sha256').update(d).digest('hex').slice(0, 16)}.sock`);
  }
  return {
    dir: d,
    config: join(d, 'config.toml'),
    socket,
    pidFile: join(d, 'containerd.pid'),
    logFile: join(d, 'containerd.log'),
    root: join(d, 'root'),
    state: join(d, 'state'),
    runcRoot: join(d, 'runc'),
    cniConfDir: join(d, 'cni', 'net.d'),
    cniDataDir: join(d, 'cni', 'ipam'),
    certsDir: join(d, 'certs.d'),
  };
}

const tomlString = (s: string) => JSON.stringify(s); // TOML basic strings share JSON's escapes

/** The containerd config.toml (version 2) for one keelson node. */
export function renderContainerdConfig(opts: { dir: string; sandboxImage: string; cniBinDir: string; canLowerOomScore?: boolean }): string {
  const p = containerdPaths(opts.dir);
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `# Written by keelson; regenerated on every agent start.
version = 2
root = ${tomlString(p.root)}
state = ${tomlString(p.state)}
# Snapshotters keelson never uses, and the /opt plugin dir, stay off: faster start, no host paths.
disabled_plugins = [
  "io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
]

[grpc]
  address = ${tomlString(p.socket)}
  tcp_address = ""

[debug]
  address = ""

[metrics]
  address = ""

[${cri}]
  sandbox_image = ${tomlString(opts.sandboxImage)}
  # The CRI is served on the unix socket only.
  disable_tcp_service = true
  # exec/attach/port-forward URLs point here; port 0 lets the kernel pick a free port.
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  # Pods may bind ports below 1024 and ping without extra capabilities, as with Kubernetes'
  # recommended containerd settings.
  enable_unprivileged_ports = true
  enable_unprivileged_icmp = true
  max_container_log_line_size = 16384
  # Network namespaces of pods under our state dir, so destroy() finds and unmounts them.
  netns_mounts_under_state_dir = true
  # Without CAP_SYS_RESOURCE (some VMs and nested containers drop it) runc cannot set the
  # negative oom_score_adj kubelet asks for (pause: -998) and every sandbox fails to start;
  # containerd then clamps requests to its own score instead.
  restrict_oom_score_adj = ${opts.canLowerOomScore === false ? 'true' : 'false'}

  [${cri}.containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"

    [${cri}.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [${cri}.containerd.runtimes.runc.options]
        # No systemd on keelson nodes: runc manages cgroups through cgroupfs.
        SystemdCgroup = false
        Root = ${tomlString(p.runcRoot)}

  [${cri}.cni]
    bin_dir = ${tomlString(opts.cniBinDir)}
    conf_dir = ${tomlString(p.cniConfDir)}
    max_conf_num = 1

  [${cri}.registry]
    # One hosts.toml per mirrored registry (containerd's registry host configuration).
    config_path = ${tomlString(p.certsDir)}
`;
}

/** The CNI network: bridge (gateway, masquerade, hairpin) + host-local IPAM + portmap. */
export function renderCniConflist(opts: { dir: string; podCIDR: string; bridgeName: string }): string {
  const p = containerdPaths(opts.dir);
  const conf = {
    // The Debian plugins (1.1.x) and containerd 1.6's libcni both speak CNI spec 1.0.0.
    cniVersion: '1.0.0',
    name: opts.bridgeName,
    plugins: [
      {
        type: 'bridge',
        bridge: opts.bridgeName,
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: opts.podCIDR }]],
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir: p.cniDataDir,
        },
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ],
  };
  return JSON.stringify(conf, null, 2) + '\n';
}

/** hosts.toml for one registry: try the mirror first (plain http when its URL says http). */
export function renderHostsToml(registry: string, mirror: string): string {
  const upstream = registry === 'docker.io' ? 'https://registry-1.docker.io' : `https://${registry}`;
  return `# Written by keelson.
server = ${tomlString(upstream)}

[host.${tomlString(mirror.replace(/\/+$/, ''))}]
  capabilities = ["pull", "resolve"]
`;
}

/** Whether this process may lower oom_score_adj (CAP_SYS_RESOURCE in its effective set). */
export function canLowerOomScore(): boolean {
  try {
    const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('CapEff:'));
    if (!line) return true;
    const CAP_SYS_RESOURCE = 24n;
    return ((BigInt('0x' + line.split(/\s+/)[1]) >> CAP_SYS_RESOURCE) & 1n) === 1n;
  } catch {
    return true;
  }
}

/** Is `pid` a live (not zombie) process? */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3 (after the parenthesised comm) is the state; Z = zombie, X = dead.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

async function writeFileAtomic(path: string, content: string): Promise<void> {
  // The temporary name must not end in .conflist/.conf/.json, or containerd may load it.
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, content);
  await rename(tmp, path);
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean> | boolean, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(intervalMs);
  }
}

export class Containerd {
  readonly dir: string;
  readonly socketPath: string;
  /** CRI endpoint for GrpcRuntime (`unix://…`). */
  readonly endpoint: string;
  readonly configPath: string;
  readonly logPath: string;
  readonly bridgeName: string;
  private readonly paths: ReturnType<typeof containerdPaths>;
  private readonly log: (msg: string) => void;
  private pidValue: number | undefined;

  constructor(private readonly opts: ContainerdOptions) {
    this.paths = containerdPaths(opts.dir);
    this.dir = this.paths.dir;
    this.socketPath = this.paths.socket;
    this.endpoint = `unix://${this.paths.socket}`;
    this.configPath = this.paths.config;
    this.logPath = this.paths.logFile;
    this.bridgeName = opts.bridgeName ?? 'keelson0';
    if (this.bridgeName.length > 15) throw new Error(`bridge name ${this.bridgeName} is longer than 15 characters`);
    const l = logger('containerd');
    this.log = opts.log ?? ((msg) => l.info(msg, { dir: this.dir }));
  }

  /** pid of the running containerd, if any. */
  get pid(): number | undefined {
    return this.pidValue !== undefined && alive(this.pidValue) ? this.pidValue : undefined;
  }

  /** A CRI client for this containerd (the caller closes it). */
  runtime(opts?: { timeoutMs?: number; pullTimeoutMs?: number }): GrpcRuntime {
    return new GrpcRuntime(this.endpoint, opts);
  }

  async start(signal?: AbortSignal): Promise<void> {
    const p = this.paths;
    const cniBinDir = this.opts.cniBinDir ?? detectCniBinDir();
    await mkdir(p.dir, { recursive: true, mode: 0o700 });
    await mkdir(dirname(p.socket), { recursive: true, mode: 0o700 });
    for (const d of [p.root, p.state, p.runcRoot, p.cniConfDir, p.cniDataDir, p.certsDir]) await mkdir(d, { recursive: true });

    const config = renderContainerdConfig({ dir: p.dir, sandboxImage: this.opts.sandboxImage, cniBinDir, canLowerOomScore: canLowerOomScore() });
    // containerd watches the CNI conf dir and reloads on every write, so replace the file
    // atomically; hosts.toml is read per pull. Neither needs a restart.
    await writeFileAtomic(join(p.cniConfDir, '10-keelson.conflist'), renderCniConflist({ dir: p.dir, podCIDR: this.opts.podCIDR, bridgeName: this.bridgeName }));
    await this.writeMirrors();

    const running = this.runningPid();
    if (running !== undefined) {
      const old = existsSync(p.config) ? await readFile(p.config, 'utf8') : '';
      if (old === config) {
        this.pidValue = running;
        await writeFile(p.pidFile, `${running}\n`);
        this.log(`adopting running containerd (pid ${running})`);
        await this.waitReady(signal);
        return;
      }
      this.log(`containerd config changed: restarting containerd (pid ${running}); pods keep running`);
      await this.terminate(running);
    }

    await writeFile(p.config, config);
    await unlink(p.socket).catch(() => {});
    await unlink(`${p.socket}.ttrpc`).catch(() => {});
    const out = openSync(p.logFile, 'a');
    let child: ChildProcess;
    try {
      // Own session (detached): a Ctrl-C to the agent's terminal must not take containerd down
      // mid-operation, and an agent that dies leaves it running for the next start() to adopt.
      // stop() ends it explicitly.
      child = spawn(this.opts.containerdBin ?? 'containerd', ['--config', p.config], {
        stdio: ['ignore', out, out], detached: true,
      });
    } finally {
      closeSync(out);
    }
    await new Promise<void>((res, rej) => {
      child.once('spawn', () => res());
      child.once('error', (e) => rej(new Error(`cannot start containerd: ${e.message}`)));
    });
    child.unref();
    this.pidValue = child.pid!;
    await writeFile(p.pidFile, `${child.pid}\n`);
    this.log(`containerd started (pid ${child.pid})`);
    try {
      await this.waitReady(signal);
    } catch (e) {
      const tail = await this.logTail();
      await this.terminate(child.pid!).catch(() => {});
      throw new Error(`${(e as Error).message}\n--- ${p.logFile} (tail) ---\n${tail}`);
    }
  }

  /** (Re)write dir/certs.d/<registry>/hosts.toml for every mirror; drop stale ones. */
  private async writeMirrors(): Promise<void> {
    const mirrors = this.opts.registryMirrors ?? {};
    for (const entry of await readdir(this.paths.certsDir)) {
      if (!(entry in mirrors)) await rm(join(this.paths.certsDir, entry), { recursive: true, force: true });
    }
    for (const [registry, mirror] of Object.entries(mirrors)) {
      if (!/^https?:\/\//.test(mirror)) throw new Error(`registry mirror for ${registry} must be an http(s) URL: ${mirror}`);
      await mkdir(join(this.paths.certsDir, registry), { recursive: true });
      await writeFileAtomic(join(this.paths.certsDir, registry, 'hosts.toml'), renderHostsToml(registry, mirror));
    }
  }

  /**
   * The live containerd using our config: the pid file's process when it is one, otherwise
   * (pid file lost) a scan of /proc, so that we never start a second daemon on the same root.
   */
  private runningPid(): number | undefined {
    const isOurs = (pid: number) => {
      if (!alive(pid)) return false;
      const args = cmdline(pid);
      return (args[0] ?? '').endsWith('containerd') && args.includes(this.paths.config);
    };
    try {
      const pid = Number.parseInt(readFileSync(this.paths.pidFile, 'utf8').trim(), 10);
      if (Number.isInteger(pid) && pid > 0 && isOurs(pid)) return pid;
    } catch {
      /* no pid file */
    }
    for (const entry of readdirSync('/proc')) {
      const pid = Number(entry);
      if (Number.isInteger(pid) && pid !== process.pid && isOurs(pid)) return pid;
    }
    return undefined;
  }

  private async waitReady(signal?: AbortSignal): Promise<void> {
    const timeoutMs = this.opts.startTimeoutMs ?? 30_000;
    const rt = new GrpcRuntime(this.endpoint, { timeoutMs: 2_000 });
    let last = 'no answer yet';
    try {
      await waitFor('containerd CRI to be ready', timeoutMs, async () => {
        if (signal?.aborted) throw new Error('containerd start aborted');
        if (this.pidValue !== undefined && !alive(this.pidValue)) throw new Error('containerd exited during start');
        if (!existsSync(this.paths.socket)) return false;
        try {
          await rt.version();
          const { conditions } = await rt.status();
          const notReady = conditions.filter((c) => !c.status);
          if (notReady.length === 0 && conditions.length > 0) return true;
          last = notReady.map((c) => `${c.type}: ${c.reason} ${c.message}`).join('; ');
          return false;
        } catch (e) {
          last = (e as Error).message;
          return false;
        }
      }).catch((e: Error) => {
        throw new Error(`${e.message} (last: ${last})`);
      });
    } finally {
      rt.close();
    }
  }

  private async logTail(lines = 30): Promise<string> {
    try {
      return (await readFile(this.paths.logFile, 'utf8')).split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /** SIGTERM, wait up to `graceMs`, then SIGKILL. Pods keep running. */
  private async terminate(pid: number, graceMs = 10_000): Promise<void> {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      return;
    }
    try {
      await waitFor(`containerd pid ${pid} to exit`, graceMs, () => !alive(pid));
    } catch {
      this.log(`containerd (pid ${pid}) ignored SIGTERM for ${graceMs} ms: killing it`);
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      await waitFor(`containerd pid ${pid} to die`, 5_000, () => !alive(pid));
    }
  }

  /**
   * Ends the containerd process only (SIGTERM, then SIGKILL after `graceMs`). Containers keep
   * running under their shims, as when containerd restarts on a real node.
   */
  async stop(graceMs = 10_000): Promise<void> {
    const pid = this.pid ?? this.runningPid();
    if (pid !== undefined) {
      await this.terminate(pid, graceMs);
      this.log(`containerd stopped (pid ${pid})`);
    }
    this.pidValue = undefined;
    await unlink(this.paths.pidFile).catch(() => {});
  }

  /**
   * Imports an OCI image-layout (or docker-archive) tar into the CRI namespace and unpacks it
   * for the overlayfs snapshotter. Returns the image names the archive carried.
   */
  async importImage(archivePath: string, opts: { baseName?: string } = {}): Promise<string[]> {
    const args = ['--address', this.socketPath, '-n', CRI_NAMESPACE, 'images', 'import', '--snapshotter', 'overlayfs'];
    if (opts.baseName) args.push('--base-name', opts.baseName);
    args.push(archivePath);
    let stdout: string;
    try {
      ({ stdout } = await execFileP(this.opts.ctrBin ?? 'ctr', args, { maxBuffer: 16 * 1024 * 1024 }));
    } catch (e) {
      const err = e as Error & { stderr?: string };
      throw new Error(`ctr images import ${archivePath} failed: ${(err.stderr || err.message).trim()}`);
    }
    // ctr prints "unpacking <name> (<digest>)...done" per image.
    const names = [...stdout.matchAll(/^unpacking (\S+) \(/gm)].map((m) => m[1]!);
    this.log(`imported ${archivePath}: ${names.join(', ') || '(no names)'}`);
    return names;
  }

  /**
   * Tears the node's runtime down completely (tests, reset): every pod sandbox is stopped and
   * removed through the CRI (which also runs CNI DEL, releasing IPs and iptables rules),
   * containerd is stopped, anything still registered with runc under our root is killed,
   * every mount under `dir` is unmounted (deepest first), the CNI bridge is deleted and `dir` is
   * removed. Best effort: it keeps going past individual failures, logs them, and throws at the
   * end only when something is left on disk (a mount or the dir itself).
   */
  async destroy(): Promise<void> {
    const problems: string[] = [];
    const note = (what: string, e: unknown) => problems.push(`${what}: ${(e as Error)?.message ?? e}`);

    if (this.pid === undefined && this.runningPid() !== undefined) this.pidValue = this.runningPid();
    if (this.pid === undefined && existsSync(this.paths.config)) {
      // Pods are torn down through the CRI so that CNI DEL releases their IPs and rules.
      await this.start().catch((e) => note('start containerd for teardown', e));
    }
    if (this.pid !== undefined) {
      const rt = new GrpcRuntime(this.endpoint, { timeoutMs: 15_000 });
      try {
        for (const c of await rt.listContainers()) {
          await rt.stopContainer(c.id, 0).catch((e) => note(`stop container ${c.id}`, e));
          await rt.removeContainer(c.id).catch((e) => note(`remove container ${c.id}`, e));
        }
        for (const s of await rt.listPodSandbox()) {
          await rt.stopPodSandbox(s.id).catch((e) => note(`stop sandbox ${s.id}`, e));
          await rt.removePodSandbox(s.id).catch((e) => note(`remove sandbox ${s.id}`, e));
        }
      } catch (e) {
        note('list pods', e);
      } finally {
        rt.close();
      }
    }
    await this.stop(5_000).catch((e) => note('stop containerd', e));
    await this.killLeftovers().catch((e) => note('kill leftover containers', e));
    const left: string[] = [];
    await unmountUnder(this.dir).catch((e) => { note('unmount', e); left.push((e as Error).message); });
    await execFileP('ip', ['link', 'del', this.bridgeName]).catch(() => { /* absent */ });
    await rm(this.dir, { recursive: true, force: true }).catch((e) => { note(`remove ${this.dir}`, e); left.push((e as Error).message); });
    for (const f of [this.socketPath, `${this.socketPath}.ttrpc`]) await unlink(f).catch(() => {});
    if (problems.length) this.log(`destroy finished with problems: ${problems.join('; ')}`);
    if (left.length) throw new Error(`containerd destroy left ${this.dir} behind: ${left.join('; ')}`);
  }

  /** Containers runc still knows under our root (CRI removal failed or containerd was gone). */
  private async killLeftovers(): Promise<void> {
    const nsRoot = join(this.paths.runcRoot, CRI_NAMESPACE);
    let ids: string[] = [];
    try {
      ids = readdirSync(nsRoot);
    } catch {
      /* nothing ever ran */
    }
    for (const id of ids) {
      await execFileP('runc', ['--root', nsRoot, 'delete', '--force', id]).catch(() => {});
    }
    // Shims serving our socket outlive containerd by design; end the ones left over.
    for (const entry of readdirSync('/proc')) {
      const pid = Number(entry);
      if (!Number.isInteger(pid)) continue;
      const args = cmdline(pid);
      if (args[0]?.endsWith('containerd-shim-runc-v2') && args.includes(this.socketPath)) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      }
    }
  }
}

/** Unmounts every mount point at or below `dir`, deepest first; lazily when busy. */
export async function unmountUnder(dir: string): Promise<void> {
  const root = resolve(dir);
  // Several passes: a path can carry stacked mounts, and a lazy unmount may detach children.
  for (let pass = 0; pass < 5; pass++) {
    const points = mountPointsUnder(root);
    if (points.length === 0) return;
    for (const mp of points) {
      try {
        await execFileP('umount', [mp]);
      } catch {
        await execFileP('umount', ['-l', mp]).catch(() => {});
      }
    }
  }
  const left = mountPointsUnder(root);
  if (left.length) throw new Error(`still mounted: ${left.join(', ')}`);
}

/** Mount points at or below `root` (from /proc/self/mountinfo), deepest first. */
export function mountPointsUnder(root: string): string[] {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((mp): mp is string => !!mp)
    // mountinfo escapes space, tab, newline and backslash as octal.
    .map((mp) => mp.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((mp) => mp === root || mp.startsWith(root + '/'));
  return [...new Set(points)].sort((a, b) => b.split('/').length - a.split('/').length || b.length - a.length);
}
