/**
 * Helpers for the client tests (and other components' tests that need a live API server).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APIServer, type APIServerOptions } from '../apiserver/apiserver.js';
import { RestClient, type RestClientOptions } from './rest-client.js';

/** Polls `cond` until it is truthy; fails after `timeoutMs`. Never a fixed sleep. */
export async function eventually<T>(cond: () => T | Promise<T>, what = 'condition', timeoutMs = 10_000, intervalMs = 10): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface TestCluster {
  server: APIServer;
  client: RestClient;
  /** A new client for the same server (own connection and rate limiter). */
  newClient(opts?: Partial<RestClientOptions>): RestClient;
  stop(): Promise<void>;
}

/** An in-process API server on memory storage in a temp dir, with an admin client. */
export async function startTestCluster(opts: Partial<APIServerOptions> = {}): Promise<TestCluster> {
  const dataDir = mkdtempSync(join(tmpdir(), 'keelson-client-'));
  const server = new APIServer({ dataDir, port: 0, bindAddress: '127.0.0.1', storage: 'memory', ...opts });
  await server.start();
  const clients: RestClient[] = [];
  const newClient = (o: Partial<RestClientOptions> = {}) => {
    const c = RestClient.fromKubeconfig(server.kubeconfigPath, undefined, { qps: Infinity, ...o });
    clients.push(c);
    return c;
  };
  const client = newClient();
  return {
    server, client, newClient,
    async stop() {
      for (const c of clients) c.close();
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
