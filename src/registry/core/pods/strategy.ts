/**
 * Pod rules (Kubernetes pkg/registry/core/pod/strategy.go): status starts Pending with a QoS
 * class; deletion is graceful for pods bound to a node and not yet terminal.
 */
import { GenericStrategy } from '../../strategy.js';
import type { ResourceInfo } from '../../../api/resources.js';

/** QoS class as the kubelet and API server compute it (pkg/apis/core/helper/qos). */
export function qosClass(spec: any): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const containers = [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])];
  let anySet = false;
  let guaranteed = true;
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const r of ['cpu', 'memory']) {
      if (req[r] !== undefined || lim[r] !== undefined) anySet = true;
      if (lim[r] === undefined || (req[r] !== undefined && String(req[r]) !== String(lim[r]))) guaranteed = false;
    }
  }
  if (!anySet) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

export class PodStrategy extends GenericStrategy {
  override returnDeletedObject = true;
  constructor(info: ResourceInfo) { super(info); this.statusSplit = true; }

  protected override initialStatus(obj: any): any {
    return { phase: 'Pending', qosClass: qosClass(obj.spec) };
  }

  override prepareForCreate(obj: any): void {
    obj.status = this.initialStatus(obj);
  }

  override gracePeriod(obj: any, requested: number | undefined): number {
    // Unscheduled and terminal pods go at once (pod strategy CheckGracefulDelete).
    const phase = obj.status?.phase;
    if (!obj.spec?.nodeName || phase === 'Succeeded' || phase === 'Failed') return 0;
    const g = requested ?? obj.spec?.terminationGracePeriodSeconds ?? 30;
    return Math.max(0, g);
  }
}
