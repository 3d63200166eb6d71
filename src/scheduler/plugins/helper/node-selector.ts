/**
 * Node selection by nodeSelector and node affinity, compiled once per pod.
 *
 * Semantics (Kubernetes "Assigning Pods to Nodes"):
 *  - spec.nodeSelector: every key must equal the node's label;
 *  - requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: ORed terms; within a
 *    term all matchExpressions and matchFields are ANDed; a term with neither matches nothing;
 *  - operators In, NotIn, Exists, DoesNotExist, Gt, Lt (integer compare); NotIn and
 *    DoesNotExist match nodes without the label;
 *  - matchFields supports metadata.name (In / NotIn).
 * Both nodeSelector and required affinity must match.
 */
import type { NodeSelectorRequirement, NodeSelectorTerm, Pod } from 'kubernetes-types/core/v1.js';
import type { NodeInfo } from '../../node-info.js';

type Matcher = (labels: Readonly<Record<string, string>>, name: string) => boolean;

function compileRequirement(r: NodeSelectorRequirement, field: boolean): Matcher | null {
  const key = r.key;
  const values = r.values ?? [];
  const get = field
    ? (key === 'metadata.name' ? (_l: Readonly<Record<string, string>>, name: string): string | undefined => name : null)
    : (l: Readonly<Record<string, string>>): string | undefined => l[key];
  if (!get) return null; // unsupported field: never matches
  switch (r.operator) {
    case 'In': {
      if (values.length === 1) {
        const v0 = values[0];
        return (l, n) => get(l, n) === v0;
      }
      const set = new Set(values);
      return (l, n) => {
        const v = get(l, n);
        return v !== undefined && set.has(v);
      };
    }
    case 'NotIn': {
      if (field && values.length === 0) return null;
      const set = new Set(values);
      return (l, n) => {
        const v = get(l, n);
        return v === undefined || !set.has(v);
      };
    }
    case 'Exists':
      return field ? null : (l) => Object.prototype.hasOwnProperty.call(l, key);
    case 'DoesNotExist':
      return field ? null : (l) => !Object.prototype.hasOwnProperty.call(l, key);
    case 'Gt':
    case 'Lt': {
      if (field || values.length !== 1 || !/^-?\d+$/.test(values[0])) return null;
      const bound = Number(values[0]);
      const gt = r.operator === 'Gt';
      return (l, n) => {
        const v = get(l, n);
        if (v === undefined || !/^-?\d+$/.test(v)) return false;
        const x = Number(v);
        return gt ? x > bound : x < bound;
      };
    }
    default:
      return null;
  }
}

const NEVER: Matcher = () => false;

/** One NodeSelectorTerm as a predicate; an empty or invalid term matches nothing. */
export function compileTerm(term: NodeSelectorTerm | undefined): Matcher {
  const exprs = term?.matchExpressions ?? [];
  const fields = term?.matchFields ?? [];
  if (exprs.length + fields.length === 0) return NEVER;
  const ms: Matcher[] = [];
  for (const e of exprs) {
    const m = compileRequirement(e, false);
    if (!m) return NEVER;
    ms.push(m);
  }
  for (const f of fields) {
    const m = compileRequirement(f, true);
    if (!m) return NEVER;
    ms.push(m);
  }
  if (ms.length === 1) return ms[0];
  return (l, n) => {
    for (let i = 0; i < ms.length; i++) if (!ms[i](l, n)) return false;
    return true;
  };
}

export class RequiredNodeSelector {
  /** null = no constraint at all. */
  private readonly selector: Array<[string, string]> | null;
  private readonly terms: Matcher[] | null;
  /** Node names the required terms allow, when every term pins metadata.name with In. */
  readonly nodeNames: Set<string> | null;
  readonly empty: boolean;

  constructor(pod: Pod) {
    const sel = pod.spec?.nodeSelector;
    this.selector = sel && Object.keys(sel).length ? Object.entries(sel) : null;
    const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    this.terms = required ? (required.nodeSelectorTerms ?? []).map(compileTerm) : null;
    this.empty = !this.selector && !this.terms;
    this.nodeNames = required ? namesPinnedByTerms(required.nodeSelectorTerms ?? []) : null;
  }

  matches(node: NodeInfo): boolean {
    const labels = node.labels;
    if (this.selector) {
      for (let i = 0; i < this.selector.length; i++) {
        const [k, v] = this.selector[i];
        if (labels[k] !== v) return false;
      }
    }
    if (this.terms) {
      for (let i = 0; i < this.terms.length; i++) if (this.terms[i](labels, node.name)) return true;
      return false;
    }
    return true;
  }
}

/** If every term has a matchFields metadata.name In requirement, the union of those names. */
function namesPinnedByTerms(terms: NodeSelectorTerm[]): Set<string> | null {
  if (terms.length === 0) return null;
  const out = new Set<string>();
  for (const t of terms) {
    const pin = (t.matchFields ?? []).find((f) => f.key === 'metadata.name' && f.operator === 'In');
    if (!pin) return null;
    for (const v of pin.values ?? []) out.add(v);
  }
  return out;
}

const cache = new WeakMap<Pod, RequiredNodeSelector>();

/** The pod's compiled nodeSelector + required node affinity (memoized per pod object). */
export function requiredNodeSelectorOf(pod: Pod): RequiredNodeSelector {
  let r = cache.get(pod);
  if (!r) {
    r = new RequiredNodeSelector(pod);
    cache.set(pod, r);
  }
  return r;
}

/** Preferred node affinity: sum of weights of the terms a node matches. */
export class PreferredNodeSelector {
  private readonly terms: Array<{ weight: number; match: Matcher }>;
  constructor(pod: Pod) {
    const pref = pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    this.terms = pref.filter((p) => p.weight).map((p) => ({ weight: p.weight, match: compileTerm(p.preference) }));
  }
  get empty(): boolean {
    return this.terms.length === 0;
  }
  score(node: NodeInfo): number {
    let s = 0;
    for (let i = 0; i < this.terms.length; i++) if (this.terms[i].match(node.labels, node.name)) s += this.terms[i].weight;
    return s;
  }
}
