/**
 * ControllerManager: keelson's kube-controller-manager. It runs the controllers (each an
 * ordinary API client) while it holds the Lease `kube-system/keelson-controller-manager`, so
 * several copies can run for availability and only one acts at a time.
 *
 * - Leader election (LeaderElector from src/client): when leadership is won, every enabled
 *   controller is started with a signal that aborts when leadership ends. When leadership is
 *   lost (the lease could not be renewed in time), the controllers are stopped and — unlike
 *   kube-controller-manager, which exits — the manager waits for them to finish and campaigns
 *   again, so an embedding process (`keelson server`) keeps working.
 * - `leaderElection: false` runs the controllers at once, without a Lease (single-process use).
 * - Controllers are registered by name in CONTROLLERS; later controllers add an entry there.
 *   A controller is anything with `start(signal)` and `stopped()`.
 * - Clients: built from a kubeconfig, every controller gets a client of its own (own connection
 *   and rate limiter, user agent `keelson-controller-manager/<name>`), and leader election has
 *   its own too, as kube-controller-manager's ClientBuilder does — so a busy controller cannot
 *   starve another or delay lease renewals. Given a `client`, everything shares it.
 *
 * `start(signal)` resolves once `signal` has aborted and every controller has stopped (and the
 * lease has been released).
 */
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import os from 'node:os';
import { LeaderElector, RestClient, type RestClientOptions } from '../client/index.js';
import { NamespaceController, type NamespaceControllerOptions } from './namespace/namespace-controller.js';
import { GarbageCollector, type GarbageCollectorOptions } from './garbage-collector/garbage-collector.js';
import { ReplicaSetController } from './replicaset/replicaset-controller.js';
import { DeploymentController } from './deployment/deployment-controller.js';
import { JobController } from './job/job-controller.js';
import { CronJobController } from './cronjob/cronjob-controller.js';
import { EndpointsController } from './endpoints/endpoints-controller.js';
import { EndpointSliceController } from './endpointslice/endpointslice-controller.js';
import { ServiceAccountsController } from './serviceaccount/serviceaccount-controller.js';
import { ServiceLBController } from './servicelb/servicelb-controller.js';
import { NodeLifecycleController, type NodeLifecycleControllerOptions } from './nodelifecycle/node-lifecycle-controller.js';
import { DaemonSetController } from './daemonset/daemonset-controller.js';
import { StatefulSetController } from './statefulset/statefulset-controller.js';
import { DisruptionController } from './disruption/disruption-controller.js';
import { NodeIpamController, cidrSetsFor } from './nodeipam/node-ipam-controller.js';
import { logger } from '../util/log.js';

const log = logger('controller-manager');

export const LEASE_NAMESPACE = 'kube-system';
export const LEASE_NAME = 'keelson-controller-manager';

/** A running controller: started with a signal, done when stopped() resolves. */
export interface RunnableController {
  start(signal: AbortSignal): void;
  stopped(): Promise<void>;
}

export interface ControllerContext {
  /** The client this controller should use. */
  client: RestClient;
  options: ControllerManagerOptions;
}

/** Every controller the manager knows, by name (kube-controller-manager's --controllers names). */
export const CONTROLLERS: Record<string, (ctx: ControllerContext) => RunnableController> = {
  namespace: (ctx) => new NamespaceController(ctx.client, ctx.options.namespace),
  garbagecollector: (ctx) => new GarbageCollector(ctx.client, ctx.options.garbageCollector),
  replicaset: (ctx) => new ReplicaSetController(ctx.client),
  deployment: (ctx) => new DeploymentController(ctx.client),
  job: (ctx) => new JobController(ctx.client),
  cronjob: (ctx) => new CronJobController(ctx.client),
  endpoint: (ctx) => new EndpointsController(ctx.client),
  endpointslice: (ctx) => new EndpointSliceController(ctx.client),
  serviceaccount: (ctx) => new ServiceAccountsController(ctx.client),
  nodelifecycle: (ctx) => new NodeLifecycleController(ctx.client, ctx.options.nodeLifecycle),
  daemonset: (ctx) => new DaemonSetController(ctx.client),
  statefulset: (ctx) => new StatefulSetController(ctx.client),
  servicelb: (ctx) => new ServiceLBController(ctx.client),
  disruption: (ctx) => new DisruptionController(ctx.client),
  nodeipam: (ctx) => new NodeIpamController(ctx.client, { clusterCIDR: ctx.options.clusterCIDR, nodeCIDRMaskSize: ctx.options.nodeCIDRMaskSize }),
};

export interface LeaderElectionSettings {
  leaseDurationSeconds?: number;
  renewDeadlineSeconds?: number;
  retryPeriodSeconds?: number;
}

export interface ControllerManagerCommonOptions {
  /** Names from CONTROLLERS to run (default: all). */
  controllers?: string[];
  /** Leader election on the Lease (default true); false runs at once. */
  leaderElection?: boolean | LeaderElectionSettings;
  /** Identity in the Lease (default: hostname + "_" + a random uuid, as upstream). */
  identity?: string;
  namespace?: NamespaceControllerOptions;
  garbageCollector?: GarbageCollectorOptions;
  /** Node monitoring timings (--node-monitor-grace-period, --node-monitor-period). */
  nodeLifecycle?: NodeLifecycleControllerOptions;
  /** Pod range(s) node IPAM cuts node ranges from (--cluster-cidr; default 10.244.0.0/16, comma separated for dual stack). */
  clusterCIDR?: string;
  /** Prefix length of a node's pod range (--node-cidr-mask-size; default 24 for IPv4, 64 for IPv6). */
  nodeCIDRMaskSize?: number;
  /** Client settings when built from a kubeconfig (default: the RestClient defaults). */
  clientOptions?: Partial<RestClientOptions>;
}

export type ControllerManagerOptions = ControllerManagerCommonOptions & ({ kubeconfigPath: string } | { client: RestClient });

export class ControllerManager {
  readonly client: RestClient;
  readonly identity: string;
  private readonly ownsClient: boolean;
  private readonly kubeconfigPath?: string;
  private readonly names: string[];
  private elector?: LeaderElector;
  private running?: Promise<void>;
  private active: RunnableController[] = [];
  private inTerm = false;

  constructor(readonly options: ControllerManagerOptions) {
    if ('client' in options && options.client) {
      this.client = options.client;
      this.ownsClient = false;
    } else if ('kubeconfigPath' in options && options.kubeconfigPath) {
      this.kubeconfigPath = options.kubeconfigPath;
      this.client = this.newClient('leader-election');
      this.ownsClient = true;
    } else {
      throw new Error('controller manager: a kubeconfigPath or a client is required');
    }
    this.identity = options.identity ?? `${os.hostname()}_${randomUUID()}`;
    this.names = options.controllers ?? Object.keys(CONTROLLERS);
    for (const n of this.names) if (!CONTROLLERS[n]) throw new Error(`controller manager: unknown controller ${JSON.stringify(n)} (known: ${Object.keys(CONTROLLERS).join(', ')})`);
    // Bad IPAM settings fail here, at once, rather than as a controller that never starts.
    if (this.names.includes('nodeipam')) cidrSetsFor({ clusterCIDR: options.clusterCIDR, nodeCIDRMaskSize: options.nodeCIDRMaskSize });
  }

  /** A client of its own for one user (kubeconfig mode only). */
  private newClient(user: string): RestClient {
    return RestClient.fromKubeconfig(this.kubeconfigPath!, undefined, { userAgent: `keelson-controller-manager/${user}`, ...this.options.clientOptions });
  }

  /** Whether this instance currently runs the controllers. */
  isLeader(): boolean {
    return this.options.leaderElection === false ? this.inTerm : this.elector?.isLeader() ?? false;
  }

  /** The controllers of the current term (empty while not leading). */
  get controllers(): readonly RunnableController[] {
    return this.active;
  }

  /** Runs until `signal` aborts; resolves once everything has stopped. */
  start(signal: AbortSignal): Promise<void> {
    if (this.running) throw new Error('controller manager already started');
    this.running = this.run(signal).finally(() => { if (this.ownsClient) this.client.close(); });
    return this.running;
  }

  /** Resolves once a started manager has stopped. */
  async stopped(): Promise<void> {
    await this.running;
  }

  private async run(signal: AbortSignal): Promise<void> {
    const le = this.options.leaderElection;
    if (le === false) {
      await this.runControllers(signal);
      return;
    }
    const settings: LeaderElectionSettings = typeof le === 'object' ? le : {};
    while (!signal.aborted) {
      let term: Promise<void> | undefined;
      this.elector = new LeaderElector({
        client: this.client, namespace: LEASE_NAMESPACE, name: LEASE_NAME, identity: this.identity, ...settings,
      });
      await this.elector.run(signal, {
        onStartedLeading: (leading) => { term = this.runControllers(leading); },
        onStoppedLeading: () => {},
        onNewLeader: (id) => { if (id !== this.identity) log.info('new leader elected', { leader: id }); },
      });
      // Never two terms at once: wait for this term's controllers before campaigning again.
      await term;
      if (!signal.aborted) log.warn('leadership lost; controllers stopped, campaigning again', { identity: this.identity });
    }
  }

  /** Starts every enabled controller and waits until `signal` aborts and they have stopped. */
  private async runControllers(signal: AbortSignal): Promise<void> {
    const started: RunnableController[] = [];
    const clients: RestClient[] = [];
    this.inTerm = true;
    // Every controller (and its informers) listens for the end of the term on this one signal.
    setMaxListeners(0, signal);
    for (const name of this.names) {
      try {
        const client = this.kubeconfigPath ? this.newClient(name) : this.client;
        if (client !== this.client) clients.push(client);
        const c = CONTROLLERS[name]({ client, options: this.options });
        c.start(signal);
        started.push(c);
        log.info('started controller', { controller: name });
      } catch (err) {
        log.error('failed to start controller', { controller: name, err });
      }
    }
    this.active = started;
    if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    await Promise.all(started.map((c) => c.stopped().catch((err) => log.error('controller failed while stopping', { err }))));
    for (const c of clients) c.close();
    if (this.active === started) this.active = [];
    this.inTerm = false;
  }
}
