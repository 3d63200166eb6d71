/**
 * PodInfo: a pod with everything the plugins need precomputed once (requests as numbers,
 * parsed affinity terms, host ports, priority), as the scheduler framework's PodInfo does, so
 * Filter/Score never parse selectors or quantities per node.
 */
import type { Pod, Toleration, PodAffinityTerm, WeightedPodAffinityTerm } from 'kubernetes-types/core/v1.js';
import { labelSelectorFromObject, everythingSelector, type LabelSelector, type Labels } from '../apimachinery/labels.js';
import { computePodRequests, type PodRequests } from './resources.js';

/** Looks up a namespace's labels (for namespaceSelector in affinity terms). */
export type NamespaceLabels = (namespace: string) => Labels;

/** A parsed (anti-)affinity term. */
export class AffinityTerm {
  readonly selector: LabelSelector;
  /** Namespaces named in the term (or the pod's own when none and no namespaceSelector). */
  readonly namespaces: ReadonlySet<string>;
  /** null: only `namespaces` count; everything: all namespaces. */
  readonly namespaceSelector: LabelSelector | null;
  readonly topologyKey: string;
  readonly weight: number;

  constructor(term: PodAffinityTerm, podNamespace: string, weight = 0) {
    this.selector = term.labelSelector ? safeSelector(term.labelSelector) : labelSelectorFromObject(null);
    this.topologyKey = term.topologyKey ?? '';
    this.weight = weight;
    const ns = new Set(term.namespaces ?? []);
    if (term.namespaceSelector) {
      this.namespaceSelector = safeSelector(term.namespaceSelector);
    } else {
      this.namespaceSelector = null;
      if (ns.size === 0) ns.add(podNamespace);
    }
    this.namespaces = ns;
  }

  /** Whether `pod` (its namespace and labels) is selected by this term. */
  matches(pod: PodInfo, nsLabels: NamespaceLabels): boolean {
    if (!this.namespaces.has(pod.namespace)) {
      if (!this.namespaceSelector) return false;
      if (this.namespaceSelector !== everythingSelector && !this.namespaceSelector.matches(nsLabels(pod.namespace))) return false;
    }
    return this.selector.matches(pod.labels);
  }
}

function safeSelector(sel: any): LabelSelector {
  try {
    return labelSelectorFromObject(sel);
  } catch {
    return labelSelectorFromObject(null); // an invalid selector selects nothing
  }
}

export interface HostPort {
  protocol: string;
  ip: string;
  port: number;
}

const NO_TERMS: readonly AffinityTerm[] = Object.freeze([]);
const NO_PORTS: readonly HostPort[] = Object.freeze([]);
const NO_TOLERATIONS: readonly Toleration[] = Object.freeze([]);
const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

export class PodInfo {
  pod: Pod;
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  labels: Record<string, string>;
  priority: number;
  requests: PodRequests;
  tolerations: readonly Toleration[];
  hostPorts: readonly HostPort[];
  requiredAffinityTerms: readonly AffinityTerm[];
  requiredAntiAffinityTerms: readonly AffinityTerm[];
  preferredAffinityTerms: readonly AffinityTerm[];
  preferredAntiAffinityTerms: readonly AffinityTerm[];
  /** Terminating (deletionTimestamp set). */
  terminating: boolean;

  constructor(pod: Pod, priority: number) {
    const meta = pod.metadata ?? {};
    this.pod = pod;
    this.namespace = meta.namespace ?? '';
    this.name = meta.name ?? '';
    this.key = `${this.namespace}/${this.name}`;
    this.uid = meta.uid ?? '';
    this.priority = priority;
    this.labels = NO_LABELS as Record<string, string>;
    this.requests = computePodRequests(pod.spec);
    this.tolerations = NO_TOLERATIONS;
    this.hostPorts = NO_PORTS;
    this.requiredAffinityTerms = NO_TERMS;
    this.requiredAntiAffinityTerms = NO_TERMS;
    this.preferredAffinityTerms = NO_TERMS;
    this.preferredAntiAffinityTerms = NO_TERMS;
    this.terminating = false;
    this.update(pod, priority);
  }

  /** Refreshes from a newer version of the same pod. */
  update(pod: Pod, priority: number): void {
    const spec: any = pod.spec ?? {};
    const old = this.pod;
    this.pod = pod;
    this.priority = priority;
    this.labels = pod.metadata?.labels ?? (NO_LABELS as Record<string, string>);
    this.terminating = !!pod.metadata?.deletionTimestamp;
    // Resources may change (in-place resize); recompute only when the spec object changed.
    if (old !== pod) this.requests = computePodRequests(spec);
    this.tolerations = spec.tolerations?.length ? spec.tolerations : NO_TOLERATIONS;
    this.hostPorts = hostPortsOf(spec);
    const aff = spec.affinity;
    const ns = this.namespace;
    const req = (terms: PodAffinityTerm[] | undefined) => (terms?.length ? terms.map((t) => new AffinityTerm(t, ns)) : NO_TERMS);
    const pref = (terms: WeightedPodAffinityTerm[] | undefined) =>
      terms?.length ? terms.filter((t) => t.podAffinityTerm).map((t) => new AffinityTerm(t.podAffinityTerm, ns, t.weight ?? 0)) : NO_TERMS;
    this.requiredAffinityTerms = req(aff?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution);
    this.requiredAntiAffinityTerms = req(aff?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution);
    this.preferredAffinityTerms = pref(aff?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution);
    this.preferredAntiAffinityTerms = pref(aff?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution);
  }

  get nodeName(): string {
    return this.pod.spec?.nodeName ?? '';
  }

  /** Has any pod (anti-)affinity (InterPodAffinity has work to do for it). */
  get hasAffinity(): boolean {
    return this.requiredAffinityTerms.length + this.requiredAntiAffinityTerms.length +
      this.preferredAffinityTerms.length + this.preferredAntiAffinityTerms.length > 0;
  }
}

function hostPortsOf(spec: any): readonly HostPort[] {
  let out: HostPort[] | undefined;
  const scan = (containers: any[] | undefined) => {
    if (!containers) return;
    for (const c of containers) {
      if (!c.ports) continue;
      for (const p of c.ports) {
        if (!p.hostPort || p.hostPort <= 0) continue;
        (out ??= []).push({ protocol: p.protocol || 'TCP', ip: p.hostIP || '0.0.0.0', port: p.hostPort });
      }
    }
  };
  scan(spec.containers);
  // Restartable init containers keep running, so their host ports stay taken.
  if (spec.initContainers) scan(spec.initContainers.filter((c: any) => c.restartPolicy === 'Always'));
  return out ?? NO_PORTS;
}

/** Priority of a pod: spec.priority, as set by the Priority admission plugin (0 when unset). */
export function podPriority(pod: Pod): number {
  return pod.spec?.priority ?? 0;
}
