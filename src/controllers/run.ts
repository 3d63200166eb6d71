/**
 * Entry point for processes that run the controller manager: `keelson server` (next to the API
 * server, in the same process) and `keelson controller-manager` (on its own).
 */
import { ControllerManager, type ControllerManagerCommonOptions } from './manager.js';
import { logger } from '../util/log.js';

const log = logger('controller-manager');

/**
 * Starts a ControllerManager talking to the API server named by `kubeconfigPath` and returns
 * it at once; it runs (with leader election) until `signal` aborts. `await manager.stopped()`
 * waits for the end. Bad settings (an unreadable kubeconfig, an unknown controller name) throw
 * at once; errors while running are logged, never thrown into the caller's process.
 */
export function startControllerManager(kubeconfigPath: string, signal: AbortSignal, options: ControllerManagerCommonOptions = {}): ControllerManager {
  const manager = new ControllerManager({ ...options, kubeconfigPath });
  manager.start(signal).catch((err) => log.error('controller manager stopped on an unexpected error', { err }));
  return manager;
}
