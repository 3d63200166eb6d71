/**
 * Small formatting helpers shared by the table printers: label maps, label selectors, container
 * lists, access modes, host:port pairs, and Go-style value printing.
 */

type Obj = Record<string, any>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Byte-wise string order, as Go's sort.Strings. */
export function goSort(values: Iterable<string>): string[] {
  return [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** labels.Set(m).String(): sorted "k=v" pairs joined by ",". */
export function labelsString(m: unknown): string {
  if (!isObj(m)) return '';
  return goSort(Object.keys(m)).map((k) => `${k}=${m[k] ?? ''}`).join(',');
}

/** labels.FormatLabels: like labelsString, "<none>" when empty. */
export function formatLabels(m: unknown): string {
  return labelsString(m) || '<none>';
}

interface Requirement { key: string; op: string; values: string[] }

/**
 * metav1.LabelSelectorAsSelector(sel).String(). Returns null when the selector is invalid.
 * A missing selector selects nothing and an empty one everything; both print as "".
 */
export function labelSelectorString(sel: unknown): string | null {
  if (!isObj(sel)) return '';
  const matchLabels = isObj(sel.matchLabels) ? sel.matchLabels : {};
  const exprs: unknown[] = Array.isArray(sel.matchExpressions) ? sel.matchExpressions : [];
  const reqs: Requirement[] = [];
  for (const k of Object.keys(matchLabels)) reqs.push({ key: k, op: '=', values: [String(matchLabels[k] ?? '')] });
  for (const e of exprs) {
    if (!isObj(e)) return null;
    const values: string[] = Array.isArray(e.values) ? e.values.map(String) : [];
    const key = String(e.key ?? '');
    switch (e.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) return null;
        reqs.push({ key, op: e.operator === 'In' ? ' in ' : ' notin ', values });
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length !== 0) return null;
        reqs.push({ key, op: e.operator === 'Exists' ? '' : '!', values });
        break;
      default:
        return null;
    }
  }
  // The selector keeps its requirements sorted by key.
  reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return reqs.map(requirementString).join(',');
}

function requirementString(r: Requirement): string {
  if (r.op === '') return r.key;
  if (r.op === '!') return `!${r.key}`;
  const vals = r.values.length === 1 ? r.values[0] : goSort(r.values).join(',');
  if (r.op === '=') return `${r.key}=${vals}`;
  return `${r.key}${r.op}(${vals})`;
}

/** metav1.FormatLabelSelector: "<error>" when invalid, "<none>" when it prints empty. */
export function formatLabelSelector(sel: unknown): string {
  const s = labelSelectorString(sel);
  if (s === null) return '<error>';
  return s || '<none>';
}

/** The Go (gogo-protobuf) String() of a *metav1.LabelSelector, used by a few printers. */
export function labelSelectorGoString(sel: Obj): string {
  const ml = isObj(sel.matchLabels) ? sel.matchLabels : {};
  const labels = goSort(Object.keys(ml)).map((k) => `${k}: ${ml[k]},`).join('');
  const exprs = (Array.isArray(sel.matchExpressions) ? sel.matchExpressions : []).map((e: Obj) => {
    const values = Array.isArray(e?.values) ? e.values.join(' ') : '';
    return `LabelSelectorRequirement{Key:${e?.key ?? ''},Operator:${e?.operator ?? ''},Values:[${values}],},`;
  }).join('');
  return `&LabelSelector{MatchLabels:map[string]string{${labels}},MatchExpressions:[]LabelSelectorRequirement{${exprs}},}`;
}

/** layoutContainerCells: container names and images, each joined by ",". */
export function layoutContainers(containers: unknown): [string, string] {
  const list: Obj[] = Array.isArray(containers) ? containers.filter(isObj) : [];
  return [list.map((c) => c.name ?? '').join(','), list.map((c) => c.image ?? '').join(',')];
}

/** GetAccessModesAsString: always in the order RWO,ROX,RWX,RWOP. */
export function accessModesString(modes: unknown): string {
  const set = new Set(Array.isArray(modes) ? modes : []);
  const out: string[] = [];
  if (set.has('ReadWriteOnce')) out.push('RWO');
  if (set.has('ReadOnlyMany')) out.push('ROX');
  if (set.has('ReadWriteMany')) out.push('RWX');
  if (set.has('ReadWriteOncePod')) out.push('RWOP');
  return out.join(',');
}

/** net.JoinHostPort: IPv6 literals are bracketed. */
export function joinHostPort(host: string, port: unknown): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** "True"/"False" for a *bool, "<unset>" when missing. */
export function boolPtr(v: unknown): string {
  if (typeof v !== 'boolean') return '<unset>';
  return v ? 'True' : 'False';
}

/** Items with list "+ N more..." suffix, "<unset>" when empty (listWithMoreString). */
export function listWithMore(list: string[], more: boolean, count: number, max: number): string {
  const ret = list.join(',');
  if (more) return `${ret} + ${count - max} more...`;
  return ret === '' ? '<unset>' : ret;
}

/** A resource.Quantity as stored (keelson does not canonicalize quantities here). */
export function quantityString(q: unknown): string {
  if (q === undefined || q === null || q === '') return '0';
  return String(q);
}

/** fmt.Sprint of a float64 (%v, i.e. %g shortest): exponent form below 1e-4 or from 1e6. */
export function goFloatString(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const [mant, e] = v.toExponential().split('e');
  const exp = Number(e);
  if (exp < -4 || exp >= 6) {
    const sign = exp < 0 ? '-' : '+';
    return `${mant}e${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return String(v);
}

/**
 * How client-go's JSONPath PrintResults prints one value: maps and arrays as compact JSON
 * (keys sorted, as encoding/json does), other values with fmt.Sprint.
 */
export function goPrintValue(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : goFloatString(v);
  return goJSON(v);
}

/** encoding/json.Marshal: map keys sorted, <, > and & escaped. */
export function goJSON(v: unknown): string {
  const sortKeys = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(sortKeys);
    if (isObj(x)) {
      const out: Obj = {};
      for (const k of goSort(Object.keys(x))) if (x[k] !== undefined) out[k] = sortKeys(x[k]);
      return out;
    }
    return x;
  };
  return (JSON.stringify(sortKeys(v)) ?? 'null')
    .replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}
