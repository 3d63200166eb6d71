/**
 * Preemption (the DefaultPreemption PostFilter plugin): when no node fits a pod, find a node
 * where evicting lower-priority pods would make it fit, nominate the pod to that node and
 * delete those pods (the victims).
 *
 *  - Not eligible: preemptionPolicy Never; or the pod already preempted for a node where a
 *    lower-priority pod is still terminating (wait for it instead of evicting more).
 *  - Candidate nodes: those the filters rejected as Unschedulable; UnschedulableAndUnresolvable
 *    nodes ("Preemption is not helpful for scheduling") are skipped.
 *  - Victims on a node: remove every pod of lower priority; if the pod still does not fit the
 *    node is no candidate. Otherwise put them back one by one, most important first (higher
 *    priority, then earlier start), keeping each that does not stop the pod from fitting;
 *    the rest are the victims.
 *  - Choice among candidates: lowest highest-victim priority, then lowest sum of victim
 *    priorities, then fewest victims, then the first found (PodDisruptionBudgets are not
 *    considered).
 *  - Pods nominated to the chosen node with lower priority lose their nomination.
 */
import { Code, CycleState, Status } from './framework.js';
import type { NodeInfo } from './node-info.js';
import type { PodInfo } from './pod-info.js';
import { runFilters, type Profile } from './profile.js';
import type { SchedulerCache } from './cache.js';
import type { SchedulingQueue } from './queue.js';
import { reasonsHistogram, type Diagnosis } from './generic-scheduler.js';

export const NOT_HELPFUL = 'Preemption is not helpful for scheduling';
export const NO_VICTIMS = 'No preemption victims found for incoming pod';
const NOT_HELPFUL_STATUS = Status.unresolvable('DefaultPreemption', NOT_HELPFUL);
const NO_VICTIMS_STATUS = Status.unschedulable('DefaultPreemption', NO_VICTIMS);

export interface Candidate {
  node: NodeInfo;
  victims: PodInfo[];
}

export interface PreemptionResult {
  /** The node the pod is nominated to (victims are to be deleted). */
  candidate?: Candidate;
  /** Lower-priority pods nominated to that node that lose their nomination. */
  clearNominations: PodInfo[];
  /** The PostFilter message ('' on success), e.g. "preemption: 0/3 nodes are available: ...". */
  message: string;
}

function startTime(p: PodInfo): number {
  const t = p.pod.status?.startTime;
  return t ? Date.parse(t) : Number.MAX_SAFE_INTEGER;
}

/** More important first: higher priority, then the one that started earlier (util.MoreImportantPod). */
function moreImportant(a: PodInfo, b: PodInfo): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  return startTime(a) - startTime(b);
}

export class Preemptor {
  constructor(private readonly cache: SchedulerCache, private readonly queue: SchedulingQueue) {}

  preempt(profile: Profile, state: CycleState, pod: PodInfo, diagnosis: Diagnosis, numAllNodes: number, policy = pod.pod.spec?.preemptionPolicy): PreemptionResult {
    const none = (message: string): PreemptionResult => ({ clearNominations: [], message });
    if (policy === 'Never') return none('preemption: not eligible due to preemptionPolicy=Never.');

    const nominated = pod.pod.status?.nominatedNodeName;
    if (nominated) {
      const n = this.cache.get(nominated);
      if (n && n.pods.some((p) => p.terminating && p.priority < pod.priority)) {
        return none('preemption: not eligible due to a terminating pod on the nominated node.');
      }
    }

    const filters = profile.filters.filter((f) => !state.skipFilter.has(f.name));
    const statuses: Status[] = [];
    const candidates: Candidate[] = [];
    // Like upstream, stop after enough candidates: 10% of the nodes, at least 100, starting
    // at a random node so that repeated preemptions do not always hit the same nodes.
    const all = this.cache.nodeInfos();
    const enough = Math.max(100, Math.trunc(all.length / 10));
    const offset = all.length ? Math.floor(Math.random() * all.length) : 0;
    for (let i = 0; i < all.length && candidates.length < enough; i++) {
      const node = all[(offset + i) % all.length];
      const s = diagnosis.nodeToStatus.get(node.name);
      if (!s || s.code !== Code.Unschedulable) {
        statuses.push(NOT_HELPFUL_STATUS);
        continue;
      }
      const r = this.selectVictimsOnNode(profile, filters, state, pod, node);
      if (r instanceof Status) statuses.push(r);
      else candidates.push({ node, victims: r });
    }
    if (candidates.length === 0) {
      const hist = reasonsHistogram(statuses);
      return none(`preemption: 0/${numAllNodes} nodes are available: ${hist.join(', ')}.`);
    }
    const best = pickOne(candidates);
    const clearNominations: PodInfo[] = [];
    const nominatedHere = this.queue.nominatedPodsForNode(best.node.name);
    if (nominatedHere) for (const p of nominatedHere) if (p.priority < pod.priority && p.key !== pod.key) clearNominations.push(p);
    return { candidate: best, clearNominations, message: '' };
  }

  /** The victims that make the pod fit this node, or the reason it cannot. */
  selectVictimsOnNode(profile: Profile, filters: Profile['filters'], state: CycleState, pod: PodInfo, node: NodeInfo): PodInfo[] | Status {
    const clone = node.clone();
    const st = state.clone();
    const potential: PodInfo[] = [];
    for (const p of node.pods) {
      if (p.priority < pod.priority) {
        potential.push(p);
        clone.removePod(p);
        profile.removePodFromState(st, pod, p, clone, this.cache);
      }
    }
    if (potential.length === 0) return NO_VICTIMS_STATUS;
    const fits = runFilters(filters, st, pod, clone);
    if (fits !== null) return fits;
    potential.sort(moreImportant);
    const victims: PodInfo[] = [];
    for (const p of potential) {
      clone.addPod(p);
      profile.addPodToState(st, pod, p, clone, this.cache);
      if (runFilters(filters, st, pod, clone) !== null) {
        clone.removePod(p);
        profile.removePodFromState(st, pod, p, clone, this.cache);
        victims.push(p);
      }
    }
    if (victims.length === 0) return NO_VICTIMS_STATUS;
    return victims;
  }
}

/** Lowest highest-victim priority, then lowest priority sum, then fewest victims, then first. */
export function pickOne(candidates: Candidate[]): Candidate {
  let best = candidates[0];
  const key = (c: Candidate) => {
    let max = -Infinity;
    let sum = 0;
    for (const v of c.victims) {
      if (v.priority > max) max = v.priority;
      // Offset as upstream does, so that negative priorities still add up sensibly.
      sum += v.priority + 2147483648 + 1;
    }
    return [max, sum, c.victims.length];
  };
  let bestKey = key(best);
  for (let i = 1; i < candidates.length; i++) {
    const k = key(candidates[i]);
    if (k[0] < bestKey[0] || (k[0] === bestKey[0] && (k[1] < bestKey[1] || (k[1] === bestKey[1] && k[2] < bestKey[2])))) {
      best = candidates[i];
      bestKey = k;
    }
  }
  return best;
}
