/**
 * `keelson ingress`: the ingress controller as a process of its own, so that its data path never
 * shares an event loop with the kubelet. `keelson agent` (and `keelson up`) fork it with an IPC
 * channel (ingress-process.ts); it also runs standalone against any kubeconfig.
 *
 * With an IPC channel it reports `{type: 'ready', httpPort, httpsPort}` once both listeners are
 * bound and the first routing table is in place, or `{type: 'failed', message}` before exiting
 * when it cannot start; and it stops when the channel disconnects, which is also what happens
 * when the parent dies, even by SIGKILL: the controller never outlives its agent.
 * SIGTERM/SIGINT (and a disconnect) stop it gracefully: no new connections, requests in flight
 * finish (up to 10 s), then exit.
 */
import os from 'node:os';
import { RestClient } from '../client/index.js';
import { logger } from '../util/log.js';
import { createDefaultCertificate } from './certificates.js';
import { IngressController } from './ingress-controller.js';
import { IngressProxy } from './ingress-proxy.js';

const log = logger('ingress');

export interface IngressCommandOptions {
  kubeconfig: string;
  httpPort?: string | number;
  httpsPort?: string | number;
  bindAddress?: string;
  nodeIp?: string;
  nodeName?: string;
}

/** Messages from the `keelson ingress` child to its parent. */
export type IngressChildMessage =
  | { type: 'ready'; httpPort: number; httpsPort: number }
  | { type: 'failed'; message: string };

/** The first non-loopback IPv4 address of the machine (what the kubelet reports by default). */
export function firstHostIP(): string {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

const port = (v: string | number | undefined, def: number, what: string) => {
  const n = v === undefined ? def : Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${what} must be a port number (0-65535), got ${JSON.stringify(v)}`);
  return n;
};

export async function runIngressCommand(o: IngressCommandOptions, onSignals: (stop: () => Promise<void>) => void): Promise<void> {
  const send = (m: IngressChildMessage) => { if (process.connected) process.send?.(m); };
  let proxy: IngressProxy;
  let client: RestClient;
  try {
    const httpPort = port(o.httpPort, 80, '--http-port');
    const httpsPort = port(o.httpsPort, 443, '--https-port');
    client = RestClient.fromKubeconfig(o.kubeconfig);
    proxy = new IngressProxy({ httpPort, httpsPort, bindAddress: o.bindAddress, defaultCertificate: await createDefaultCertificate() });
    await proxy.start();
  } catch (err) {
    send({ type: 'failed', message: (err as Error).message });
    throw err;
  }
  const ac = new AbortController();
  const controller = new IngressController({ client, proxy, nodeIP: o.nodeIp || firstHostIP(), instance: o.nodeName || os.hostname() });
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= (async () => {
    ac.abort();
    await proxy.stop();
    client.close();
  })());
  onSignals(stop);
  // The parent went away (stopped us, or died): stop too.
  process.on('disconnect', () => { void stop().finally(() => process.exit(0)); });
  if (process.send && !process.connected) { void stop().finally(() => process.exit(0)); return; }
  await controller.start(ac.signal);
  log.info('ingress controller serving', { http: proxy.httpPort, https: proxy.httpsPort, bindAddress: o.bindAddress ?? '0.0.0.0' });
  send({ type: 'ready', httpPort: proxy.httpPort, httpsPort: proxy.httpsPort });
}
