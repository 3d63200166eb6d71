/**
 * A local image registry: the distribution registry (Debian's `docker-registry`, 2.8) serving
 * keelson's catalog images from a directory, on loopback, without authentication. containerd
 * uses it as the `docker.io` mirror, so `image: busybox` resolves here and nothing is downloaded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { buildCatalogImage, CATALOG } from './catalog.js';
import { pushImage } from './registry-push.js';

export interface LocalRegistryOptions {
  /** Directory for config.yml, the log and the blob storage (created if missing). */
  dir: string;
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Listen address; loopback by default. */
  host?: string;
  /** The registry binary; defaults to /usr/bin/docker-registry. */
  binary?: string;
  /** How long start() waits for GET /v2/ to answer 200. */
  startTimeoutMs?: number;
}

export const DOCKER_REGISTRY_BINARY = '/usr/bin/docker-registry';
const INSTANCE_HEADER = 'X-Keelson-Registry-Instance';

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('could not pick a free port'))));
    });
  });
}

function logTail(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

export class LocalRegistry {
  readonly dir: string;
  readonly host: string;
  private readonly requestedPort: number;
  private readonly binary: string;
  private readonly startTimeoutMs: number;
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private boundPort = 0;
  private readonly killOnExit = () => { if (this.child?.pid) try { process.kill(this.child.pid, 'SIGKILL'); } catch { /* gone */ } };

  constructor(opts: LocalRegistryOptions) {
    this.dir = opts.dir;
    this.host = opts.host ?? '127.0.0.1';
    this.requestedPort = opts.port ?? 0;
    this.binary = opts.binary ?? DOCKER_REGISTRY_BINARY;
    this.startTimeoutMs = opts.startTimeoutMs ?? 15_000;
  }

  /** `http://host:port`, once started. */
  get url(): string {
    if (!this.boundPort) throw new Error('LocalRegistry: not started');
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `http://${host}:${this.boundPort}`;
  }

  get port(): number { return this.boundPort; }

  /** `host:port`, the form containerd's hosts.toml and image references use. */
  get address(): string { return new URL(this.url).host; }

  get pid(): number | undefined { return this.child?.pid; }

  get logPath(): string { return join(this.dir, 'registry.log'); }

  /**
   * Writes config.yml, starts the registry and resolves when GET /v2/ answers 200. With port 0
   * a free port is picked; if another process takes it first, start retries on a new one.
   */
  async start(): Promise<void> {
    if (this.child) throw new Error('LocalRegistry: already started');
    if (!existsSync(this.binary)) {
      throw new Error(`the image registry ${this.binary} is missing: run \`apt-get install -y docker-registry\``);
    }
    await mkdir(join(this.dir, 'storage'), { recursive: true });
    const attempts = this.requestedPort === 0 ? 3 : 1;
    let lastError: unknown;
    for (let i = 0; i < attempts; i++) {
      const port = this.requestedPort || (await freePort(this.host));
      try {
        await this.startOn(port);
        return;
      } catch (err) {
        lastError = err;
        await this.stop();
      }
    }
    throw lastError;
  }

  private async startOn(port: number): Promise<void> {
    const configPath = join(this.dir, 'config.yml');
    // The registry echoes configured headers on every response; a per-start token proves that the
    // server answering on the port is this child and not something that held the port already.
    const token = randomBytes(12).toString('hex');
    // JSON is YAML, and it quotes paths safely.
    const config = {
      version: '0.1',
      log: { level: 'info', formatter: 'text', accesslog: { disabled: true } },
      storage: {
        filesystem: { rootdirectory: join(this.dir, 'storage') },
        delete: { enabled: true },
        maintenance: { uploadpurging: { enabled: false } },
      },
      http: {
        addr: `${this.host.includes(':') ? `[${this.host}]` : this.host}:${port}`,
        secret: 'keelson-local-registry',
        headers: { 'X-Content-Type-Options': ['nosniff'], [INSTANCE_HEADER]: [token] },
      },
    };
    await writeFile(configPath, JSON.stringify(config, null, 2) + '\n');

    const logFd = openSync(this.logPath, 'a');
    // REGISTRY_* variables would override the config file; keep the registry to ours.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REGISTRY_')));
    let child: ChildProcess;
    try {
      child = spawn(this.binary, ['serve', configPath], { stdio: ['ignore', logFd, logFd], env });
    } finally {
      closeSync(logFd);
    }
    this.child = child;
    let exitInfo: string | undefined;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => { exitInfo = `exited with ${signal ?? code}`; resolve(); });
      child.once('error', (err) => { exitInfo = `could not start: ${err.message}`; resolve(); });
    });
    process.on('exit', this.killOnExit);
    this.boundPort = port;

    const deadline = Date.now() + this.startTimeoutMs;
    while (Date.now() < deadline) {
      if (exitInfo) break;
      try {
        const res = await fetch(`${this.url}/v2/`, { signal: AbortSignal.timeout(1000) });
        await res.body?.cancel();
        if (res.status === 200 && res.headers.get(INSTANCE_HEADER) === token) return;
      } catch { /* not listening yet */ }
      await new Promise((r) => setTimeout(r, 50));
    }
    const why = exitInfo ?? `did not answer GET /v2/ within ${this.startTimeoutMs} ms`;
    throw new Error(`the image registry on port ${port} ${why}; log ${this.logPath}:\n${logTail(this.logPath)}`);
  }

  /** Stops the registry (SIGTERM to its PID, SIGKILL after 5 s). Safe to call twice. */
  async stop(): Promise<void> {
    const child = this.child;
    const exited = this.exited;
    this.child = undefined;
    this.exited = undefined;
    this.boundPort = 0;
    process.off('exit', this.killOnExit);
    if (!child || !exited || child.exitCode !== null || child.signalCode !== null || !child.pid) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  /** Pushes every catalog image that is served from a registry, under all its tags. */
  async seedCatalog(): Promise<void> {
    for (const entry of CATALOG) {
      if (!entry.registry) continue;
      const image = buildCatalogImage(entry.name);
      for (const tag of entry.registry.tags) await pushImage(this.url, entry.registry.repository, tag, image);
    }
  }
}
