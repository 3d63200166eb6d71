/**
 * NodePorts: a pod asking for host ports fits only nodes where those (protocol, hostIP, port)
 * triples are free. 0.0.0.0 (any address) conflicts with every address for the same protocol
 * and port. Unschedulable (not unresolvable): evicting the pod holding the port would help.
 */
import { ClusterEvent, Status, type CycleState, type EnqueueExtensions, type FilterPlugin, type PreFilterPlugin } from '../../framework.js';
import type { NodeInfo } from '../../node-info.js';
import type { HostPort, PodInfo } from '../../pod-info.js';

export const NAME = 'NodePorts';
export const ERR_REASON = "node(s) didn't have free ports for the requested pod ports";
const REJECT = Status.unschedulable(NAME, ERR_REASON);

export function portsConflict(a: HostPort, b: HostPort): boolean {
  if (a.port !== b.port || a.protocol !== b.protocol) return false;
  return a.ip === b.ip || a.ip === '0.0.0.0' || b.ip === '0.0.0.0';
}

export class NodePorts implements PreFilterPlugin, FilterPlugin, EnqueueExtensions {
  readonly name = NAME;
  readonly events = ClusterEvent.NodeAdd | ClusterEvent.PodDelete;

  preFilter(_state: CycleState, pod: PodInfo): Status | null {
    return pod.hostPorts.length === 0 ? Status.skip(NAME) : null;
  }

  filter(_state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status | null {
    const used = nodeInfo.usedPorts;
    if (used.length === 0) return null;
    for (const want of pod.hostPorts) {
      for (let i = 0; i < used.length; i++) if (portsConflict(want, used[i])) return REJECT;
    }
    return null;
  }
}
