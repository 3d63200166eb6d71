/**
 * The API client machinery every keelson component uses to talk to the API server:
 * RestClient (HTTP/2 REST + watch), Informer (reflector + indexer + lister), WorkQueue,
 * Controller (workers over a Reconciler) and LeaderElector (Lease-based).
 */
export * from './rest-client.js';
export * from './informer.js';
export * from './workqueue.js';
export * from './controller.js';
export * from './leader-election.js';
export * from './rate-limit.js';
export type { KubeObject, ObjectMetaLike } from './keys.js';
