/**
 * `keelson sim-nodes`: runs SimNodes against the API server named by a kubeconfig.
 *
 * Flags map onto RunSimNodesOptions: --count, --name-prefix, --cpu, --memory, --pods, --gpus,
 * --zones (labels nodes topology.kubernetes.io/zone=zone-<i mod zones> and region=sim),
 * --racks-per-zone. Pods choose how they run (exit code, run time, startup delay, readiness)
 * with sim.keelson.io/* annotations (see podBehaviourFromAnnotations). Several processes with
 * different --name-prefix make separate groups of nodes: stopping one stops only its nodes'
 * heartbeats (a node failure), starting one later adds nodes.
 */
import { RestClient, type RestClientOptions } from '../client/index.js';
import { logger } from '../util/log.js';
import { SimNodes, type SimNodeCapacity, type SimNodesOptions } from './sim-nodes.js';

const log = logger('sim-nodes');

export interface RunSimNodesOptions extends Partial<Omit<SimNodesOptions, 'capacity' | 'count'>> {
  count: number;
  /** Full capacity; or use cpu/memory/pods/gpus. */
  capacity?: SimNodeCapacity;
  cpu?: string;
  memory?: string;
  pods?: string | number;
  gpus?: number;
  /** Spread nodes over this many zones (topology.kubernetes.io/zone), plus racks per zone. */
  zones?: number;
  racksPerZone?: number;
  /** Client settings (default 2000 qps / 4000 burst: thousands of kubelets' worth of traffic). */
  clientOptions?: Partial<RestClientOptions>;
}

/** The labels that place node i in zone i mod zones and a rack within it. */
export function zoneLabels(zones: number, racksPerZone = 0): (i: number) => Record<string, string> {
  return (i) => {
    const l: Record<string, string> = {};
    if (zones > 0) {
      const z = i % zones;
      l['topology.kubernetes.io/region'] = 'sim';
      l['topology.kubernetes.io/zone'] = `zone-${z}`;
      if (racksPerZone > 0) l['topology.keelson.io/rack'] = `zone-${z}-rack-${Math.floor(i / zones) % racksPerZone}`;
    }
    return l;
  };
}

/**
 * Registers the nodes and runs them until `signal` aborts. Returns the running SimNodes at
 * once (`await sim.registered()` for the nodes to exist, `await sim.stopped()` for the end).
 */
export function runSimNodes(kubeconfigPath: string, options: RunSimNodesOptions, signal: AbortSignal): SimNodes {
  const { clientOptions, capacity, cpu, memory, pods, gpus, zones, racksPerZone, ...rest } = options;
  const cap: SimNodeCapacity = capacity ?? { cpu: cpu ?? '32', memory: memory ?? '256Gi', pods: pods ?? '110' };
  if (!capacity && gpus) cap['nvidia.com/gpu'] = String(gpus);
  const client = RestClient.fromKubeconfig(kubeconfigPath, undefined, { userAgent: 'keelson-sim-nodes', qps: 2000, burst: 4000, ...clientOptions });
  const labels = rest.labels ?? (zones ? zoneLabels(zones, racksPerZone) : undefined);
  const sim = new SimNodes(client, { ...rest, capacity: cap, labels });
  sim.start(signal)
    .catch((err) => log.error('sim-nodes stopped on an unexpected error', { err }))
    .finally(() => client.close());
  return sim;
}
