/**
 * NodeName: a pod that names its node (spec.nodeName) fits only that node.
 */
import { ClusterEvent, Status, type CycleState, type FilterPlugin, type EnqueueExtensions } from '../../framework.js';
import type { NodeInfo } from '../../node-info.js';
import type { PodInfo } from '../../pod-info.js';

export const NAME = 'NodeName';
export const ERR_REASON = "node(s) didn't match the requested node name";
const REJECT = Status.unresolvable(NAME, ERR_REASON);

export class NodeName implements FilterPlugin, EnqueueExtensions {
  readonly name = NAME;
  readonly events = ClusterEvent.NodeAdd;

  filter(_state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status | null {
    const want = pod.pod.spec?.nodeName;
    return !want || want === nodeInfo.name ? null : REJECT;
  }
}
