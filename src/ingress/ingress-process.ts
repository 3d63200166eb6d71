/**
 * IngressProcess: the node agent's handle on its ingress controller, which runs as a child
 * process (`keelson ingress`, forked with an IPC channel) so that proxying never competes with
 * the kubelet for one event loop. The child is child.js beside this file: the `keelson ingress`
 * command without the rest of the CLI, which would take a second longer to load.
 *
 * - start() forks the child and resolves when it reports `ready` (listeners bound, first table
 *   built), with the ports actually bound; it rejects when the child reports `failed` (e.g. a
 *   port is taken) or exits first.
 * - A child that dies after it was ready is started again, after 1 s doubling to 30 s (reset
 *   once it has run for a minute), like a restarted container.
 * - stop() ends the child with SIGTERM (it finishes requests in flight, up to 10 s) and
 *   SIGKILL after 15 s. If the agent itself dies, the IPC channel closes and the child stops on
 *   its own (command.ts).
 *
 * startIngress() is what the agent calls: it ensures the IngressClass `keelson`, starts the
 * process, and reports a failure as a warning instead of failing the node.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { logger } from '../util/log.js';
import type { RestClient } from '../client/index.js';
import type { IngressChildMessage } from './command.js';
import { ensureIngressClass, DEFAULT_CLASS_NAME } from './ingress-class.js';

const log = logger('ingress');

export interface IngressProcessOptions {
  /** The module to fork; default child.js beside this file (also possible: src/cli/main.js, whose first argument `ingress` is given). */
  entry?: string;
  kubeconfig: string;
  httpPort: number;
  httpsPort: number;
  bindAddress?: string;
  /** Address published in the Ingresses' status. */
  nodeIP?: string;
  nodeName?: string;
  /** Time for the child to report ready (default 60 s). */
  startTimeoutMs?: number;
}

const RESTART_MIN_MS = 1000;
const RESTART_MAX_MS = 30_000;
const HEALTHY_AFTER_MS = 60_000;

export class IngressProcess {
  private child?: ChildProcess;
  private stopping = false;
  private restartDelay = RESTART_MIN_MS;
  private restartTimer?: NodeJS.Timeout;
  /** Ports the running child has bound. */
  ports = { http: 0, https: 0 };
  /** How many times the child was started. */
  starts = 0;

  constructor(readonly opts: IngressProcessOptions) {}

  get pid(): number | undefined { return this.child?.pid; }

  async start(): Promise<{ httpPort: number; httpsPort: number }> {
    const o = this.opts;
    const entry = o.entry ?? fileURLToPath(new URL('./child.js', import.meta.url));
    const args = [...(entry.endsWith('child.js') ? [] : ['ingress']), '--kubeconfig', o.kubeconfig, '--http-port', String(o.httpPort), '--https-port', String(o.httpsPort),
      '--bind-address', o.bindAddress ?? '0.0.0.0', ...(o.nodeIP ? ['--node-ip', o.nodeIP] : []), ...(o.nodeName ? ['--node-name', o.nodeName] : [])];
    const child = fork(entry, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
    this.child = child;
    this.starts++;
    const startedAt = Date.now();
    const ready = await new Promise<{ httpPort: number; httpsPort: number }>((resolve, reject) => {
      const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('the ingress controller did not report ready in time')); }, o.startTimeoutMs ?? 60_000);
      const done = () => { clearTimeout(timer); child.removeListener('message', onMessage); child.removeListener('exit', onExit); };
      const onMessage = (m: IngressChildMessage) => {
        if (m?.type === 'ready') { done(); resolve({ httpPort: m.httpPort, httpsPort: m.httpsPort }); }
        else if (m?.type === 'failed') { done(); child.kill('SIGKILL'); reject(new Error(m.message)); }
      };
      const onExit = (code: number | null, sig: string | null) => { done(); reject(new Error(`the ingress controller exited (${sig ?? code}) before it was ready`)); };
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
    this.ports = { http: ready.httpPort, https: ready.httpsPort };
    child.once('exit', (code, sig) => {
      if (this.stopping || this.child !== child) return;
      if (Date.now() - startedAt > HEALTHY_AFTER_MS) this.restartDelay = RESTART_MIN_MS;
      log.warn('the ingress controller exited; restarting it', { code, signal: sig, inMs: this.restartDelay });
      this.respawn();
    });
    return ready;
  }

  private respawn(): void {
    this.restartTimer = setTimeout(() => {
      if (this.stopping) return;
      this.start().catch((err) => {
        log.error('the ingress controller could not be restarted', { err: (err as Error).message, retryInMs: this.restartDelay });
        if (!this.stopping) this.respawn();
      });
    }, this.restartDelay);
    this.restartDelay = Math.min(this.restartDelay * 2, RESTART_MAX_MS);
  }

  /** Stops the child (graceful: SIGTERM, SIGKILL after 15 s); no restart afterwards. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => c.kill('SIGKILL'), 15_000);
      c.once('exit', () => { clearTimeout(kill); resolve(); });
      c.kill('SIGTERM');
    });
  }
}

/**
 * For the agent: ensures the IngressClass `keelson`, then starts the controller process.
 * Returns undefined (after a warning) when it cannot start, e.g. because a port is taken: a
 * node without its ingress controller is still a node.
 */
export async function startIngress(client: RestClient, opts: IngressProcessOptions, warn: (msg: string) => void): Promise<IngressProcess | undefined> {
  try {
    if (await ensureIngressClass(client)) log.info('created the IngressClass', { name: DEFAULT_CLASS_NAME });
  } catch (err) {
    warn(`could not ensure the IngressClass ${DEFAULT_CLASS_NAME}: ${(err as Error).message}`);
  }
  const p = new IngressProcess(opts);
  try {
    await p.start();
    return p;
  } catch (err) {
    await p.stop();
    warn(`the ingress controller is not running: ${(err as Error).message}`);
    return undefined;
  }
}
