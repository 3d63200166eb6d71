/**
 * Entry point for processes that run the scheduler: `keelson scheduler` on its own, or next to
 * the API server in `keelson server` / `keelson up`.
 */
import { RestClient, type RestClientOptions } from '../client/index.js';
import { logger } from '../util/log.js';
import { Scheduler, type SchedulerOptions } from './scheduler.js';

const log = logger('scheduler');

export interface StartSchedulerOptions extends SchedulerOptions {
  /**
   * Client settings. Default: 1000 qps / burst 2000 — kube-scheduler's 50/100 would cap
   * binding at 50 pods/s; the number of bindings in flight (bindConcurrency) bounds the load.
   */
  clientOptions?: Partial<RestClientOptions>;
}

/**
 * Starts a Scheduler talking to the API server named by `kubeconfigPath` and returns it at
 * once; it runs (with leader election on kube-system/keelson-scheduler) until `signal` aborts.
 * `await scheduler.stopped()` waits for the end. A bad kubeconfig throws at once; errors while
 * running are logged, never thrown into the caller's process.
 */
export function startScheduler(kubeconfigPath: string, signal: AbortSignal, options: StartSchedulerOptions = {}): Scheduler {
  const { clientOptions, ...opts } = options;
  const client = RestClient.fromKubeconfig(kubeconfigPath, undefined, { userAgent: 'keelson-scheduler', qps: 1000, burst: 2000, ...clientOptions });
  // Lists and watches on a connection of their own (see SchedulerOptions.informerClient).
  const informerClient = RestClient.fromKubeconfig(kubeconfigPath, undefined, { userAgent: 'keelson-scheduler/informers', qps: 1000, burst: 2000, ...clientOptions });
  const scheduler = new Scheduler(client, { informerClient, ...opts });
  scheduler.start(signal)
    .catch((err) => log.error('scheduler stopped on an unexpected error', { err }))
    .finally(() => { client.close(); informerClient.close(); });
  return scheduler;
}
