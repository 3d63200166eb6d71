/**
 * e2e harness: starts a real `keelson server` process on a temporary dir and a free port, and
 * runs the real kubectl against it with an isolated HOME and discovery cache. Waits poll with a
 * deadline; nothing sleeps for a fixed time to wait for a state.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
export const BIN = join(ROOT, 'bin', 'keelson.js');
// The keelson processes tests start run the build these tests come from (dist/ or another outDir).
process.env.KEELSON_DIST ??= resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

export function haveKubectl(): boolean {
  return spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
}

export async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as T;
    } catch (err) { lastErr = err; }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastErr ? `: ${(lastErr as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface KubectlResult { code: number; stdout: string; stderr: string }

export class Cluster {
  proc?: ChildProcess;
  url = '';
  kubeconfig = '';
  home: string;
  logs = '';

  constructor(public dataDir: string, public extraArgs: string[] = []) {
    this.home = join(dataDir, 'home');
  }

  static async start(extraArgs: string[] = []): Promise<Cluster> {
    const c = new Cluster(mkdtempSync(join(tmpdir(), 'keelson-e2e-')), extraArgs);
    await c.startProcess();
    return c;
  }

  async startProcess(): Promise<void> {
    const ready = join(this.dataDir, 'ready.json');
    rmSync(ready, { force: true });
    this.proc = spawn(process.execPath, [BIN, 'server', '--data-dir', this.dataDir, '--port', '0', '--bind-address', '127.0.0.1', '--ready-file', ready, ...this.extraArgs], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KEELSON_LOG: process.env.KEELSON_LOG ?? 'warn' },
    });
    this.proc.stdout!.on('data', (d) => { this.logs += d; });
    this.proc.stderr!.on('data', (d) => { this.logs += d; });
    const proc = this.proc;
    await waitFor('keelson server to be ready', () => {
      if (proc.exitCode !== null) throw new Error(`keelson server exited with ${proc.exitCode}: ${this.logs}`);
      return existsSync(ready) && JSON.parse(readFileSync(ready, 'utf8'));
    }, 30000).then((r: any) => { this.url = r.url; this.kubeconfig = r.kubeconfig; });
  }

  /** Runs the real kubectl; resolves with its exit code and output (never throws on failure). */
  kubectl(args: string[], opts: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<KubectlResult> {
    return new Promise((resolveP) => {
      const p = spawn('kubectl', ['--kubeconfig', this.kubeconfig, '--cache-dir', join(this.home, 'cache'), ...args], {
        env: { ...process.env, HOME: this.home, KUBECONFIG: this.kubeconfig, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '', stderr = '';
      p.stdout.on('data', (d) => { stdout += d; });
      p.stderr.on('data', (d) => { stderr += d; });
      const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 60000);
      p.on('close', (code) => { clearTimeout(timer); resolveP({ code: code ?? -1, stdout, stderr }); });
      p.stdin.end(opts.input ?? '');
    });
  }

  /** kubectl that must succeed; returns stdout. */
  async k(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<string> {
    const r = await this.kubectl(args, opts);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  /** kubectl that must succeed, parsed as JSON. */
  async kjson(args: string[]): Promise<any> {
    return JSON.parse(await this.k([...args, '-o', 'json']));
  }

  writeFile(name: string, content: string): string {
    const p = join(this.dataDir, name);
    writeFileSync(p, content);
    return p;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return Promise.resolve();
    return new Promise((r) => { p.once('exit', () => r()); p.kill(signal); });
  }

  async stop(): Promise<void> {
    await this.kill('SIGTERM');
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

import { request as httpsRequest, Agent } from 'node:https';
import { parse as parseYAMLDoc } from 'yaml';

export interface RawResponse { status: number; headers: Record<string, string | string[] | undefined>; body: string; json?: any }

/** Credentials from a kubeconfig written by keelson (admin client certificate). */
export function credentials(kubeconfig: string): { ca: string; cert: string; key: string; server: string } {
  const kc = parseYAMLDoc(readFileSync(kubeconfig, 'utf8'));
  const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');
  return {
    server: kc.clusters[0].cluster.server,
    ca: b64(kc.clusters[0].cluster['certificate-authority-data']),
    cert: b64(kc.users[0].user['client-certificate-data']),
    key: b64(kc.users[0].user['client-key-data']),
  };
}

/** A raw HTTPS request as the admin (or anonymous with auth: false). */
export function raw(c: { kubeconfig: string }, method: string, path: string, body?: string | Buffer,
  headers: Record<string, string> = {}, opts: { auth?: boolean; agent?: Agent } = {}): Promise<RawResponse> {
  const cr = credentials(c.kubeconfig);
  const u = new URL(path, cr.server);
  return new Promise((resolveP, reject) => {
    const req = httpsRequest({
      method, hostname: u.hostname, port: u.port, path: u.pathname + u.search, ca: cr.ca, agent: opts.agent,
      ...(opts.auth === false ? {} : { cert: cr.cert, key: cr.key }),
      headers: { Accept: 'application/json', ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: any;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        resolveP({ status: res.statusCode ?? 0, headers: res.headers, body: text, json });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// ---- long-running helper processes (control-plane e2e) -------------------------------------------

/** A child process the test started (sim-nodes, `kubectl get -w`), its output kept for failures. */
export class Proc {
  logs = '';
  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (d) => { this.logs += d; });
    child.stderr?.on('data', (d) => { this.logs += d; });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Stops it (SIGTERM by default; SIGKILL to stop without any goodbye) and waits for the exit. */
  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const p = this.child;
    if (!this.running) return Promise.resolve();
    return new Promise((r) => { p.once('exit', () => r()); p.kill(signal); });
  }
}

/** Starts `keelson sim-nodes` against the cluster with these flags (e.g. --count 3 --zones 3). */
export function startSimNodes(c: Cluster, args: string[]): Proc {
  return new Proc(spawn(process.execPath, [BIN, 'sim-nodes', '--kubeconfig', c.kubeconfig, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KEELSON_LOG: process.env.KEELSON_LOG ?? 'warn' },
  }));
}

export interface WatchEvent { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'; object: any }

/**
 * The real kubectl watching: `kubectl get <args> -w --output-watch-events -o json`, each event
 * handed to `onEvent` in the order kubectl prints them (the initial list comes as ADDED).
 */
export class KubectlWatch extends Proc {
  events: WatchEvent[] = [];
  private buf = '';

  constructor(c: Cluster, args: string[], private readonly onEvent: (e: WatchEvent) => void = () => {}) {
    super(spawn('kubectl', ['--kubeconfig', c.kubeconfig, '--cache-dir', join(c.home, 'cache'), 'get', ...args, '-w', '--output-watch-events', '-o', 'json'], {
      env: { ...process.env, HOME: c.home, KUBECONFIG: c.kubeconfig }, stdio: ['ignore', 'pipe', 'pipe'],
    }));
    this.child.stdout!.on('data', (d) => this.feed(String(d)));
  }

  /** Splits kubectl's stream of pretty-printed JSON documents. */
  private feed(chunk: string): void {
    this.buf += chunk;
    for (;;) {
      const end = jsonDocumentEnd(this.buf);
      if (end < 0) return;
      const doc = this.buf.slice(0, end);
      this.buf = this.buf.slice(end);
      const e = JSON.parse(doc) as WatchEvent;
      this.events.push(e);
      this.onEvent(e);
    }
  }
}

/** The end (exclusive) of the first complete JSON object in `s`, or -1. */
function jsonDocumentEnd(s: string): number {
  let depth = 0;
  let inString = false;
  let started = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{') { depth++; started = true; }
    else if (ch === '}') {
      depth--;
      if (started && depth === 0) return i + 1;
    }
  }
  return -1;
}

/**
 * `kubectl apply -f -` of objects written as JSON (in `namespace` if given); returns kubectl's
 * output. A stream of JSON documents rather than a v1 List: kubectl validates a List against the
 * OpenAPI v2 document, which keelson does not serve.
 */
export function applyObjects(c: Cluster, objs: object[], namespace?: string): Promise<string> {
  const input = objs.map((o) => JSON.stringify(o)).join('\n');
  return c.k([...(namespace ? ['-n', namespace] : []), 'apply', '-f', '-'], { input });
}

/** The pod's Ready condition is True. */
export function isPodReady(p: any): boolean {
  return (p?.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
}

/** Waits until these nodes exist and are Ready. */
export async function waitNodesReady(c: Cluster, names: string[], timeoutMs = 30000, what = ''): Promise<void> {
  await waitFor(`nodes ${names.join(', ')} Ready${what}`, async () => {
    const nodes = (await c.kjson(['get', 'nodes'])).items as any[];
    return names.every((n) => nodes.some((x) => x.metadata.name === n &&
      (x.status?.conditions ?? []).some((cd: any) => cd.type === 'Ready' && cd.status === 'True')));
  }, timeoutMs, 200);
}
