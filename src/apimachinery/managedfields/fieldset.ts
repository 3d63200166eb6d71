/**
 * Field sets: the sets of paths that server-side apply tracks per manager, and their wire format
 * (`FieldsV1`, the `fieldsV1` of a `metadata.managedFields[]` entry).
 *
 * A path is a list of path elements:
 *   - `field`  a field name of a struct or a key of a map            serialized `f:<name>`
 *   - `key`    an item of an associative list, by its key fields      serialized `k:{"name":"c"}`
 *              (key fields sorted by name; values as JSON)
 *   - `value`  a member of a set (list-type set)                      serialized `v:"x"`
 *   - `index`  an item of a list by position (never produced by
 *              apply for Kubernetes types; accepted on decode)        serialized `i:0`
 *
 * A set stores, per node, the path elements that are members ("this path is owned") and the
 * children (paths continuing below an element). In FieldsV1 an element that is a member and also
 * has children carries a `".": {}` marker before its children; a member without children is `{}`.
 *
 * Value JSON inside `k:`/`v:` elements is written the way Go's encoding/json does (sorted object
 * keys, `<`, `>`, `&`, U+2028, U+2029 escaped), so the keys match what a Kubernetes API server emits.
 */

export type KeyField = [name: string, value: unknown];

export type PathElement =
  | { kind: 'field'; name: string }
  | { kind: 'key'; fields: KeyField[] }
  | { kind: 'value'; value: unknown }
  | { kind: 'index'; index: number };

export type Path = PathElement[];

// ---------------------------------------------------------------------------------------------
// Go-compatible JSON and quoting

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Compares two strings by Unicode code point (the order of their UTF-8 bytes, as Go compares strings). */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogate units (D800-DFFF) stand for code points above FFFF, which UTF-8 orders after E000-FFFF.
    const fx = x >= 0xd800 && x <= 0xdfff ? x + 0x2000 : x >= 0xe000 ? x - 0x800 : x;
    const fy = y >= 0xd800 && y <= 0xdfff ? y + 0x2000 : y >= 0xe000 ? y - 0x800 : y;
    return fx < fy ? -1 : 1;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

const HTML_CHARS = /[<>&\u2028\u2029]/;

/** A string as Go's encoding/json writes it (HTML characters escaped). */
export function goJSONString(s: string): string {
  // Fast path: printable ASCII without characters JSON or Go escape is written as is.
  let plain = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c || c === 0x3c || c === 0x3e || c === 0x26) {
      plain = false;
      break;
    }
  }
  if (plain) return `"${s}"`;
  const j = JSON.stringify(s);
  return HTML_CHARS.test(j) ? j.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : j;
}

/** JSON as Go's encoding/json writes it: object keys sorted, HTML characters escaped. */
export function goJSON(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return goJSONString(v);
  if (typeof v === 'number') return Number.isFinite(v) ? JSON.stringify(v) : 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return `[${v.map(goJSON).join(',')}]`;
  if (isPlainObject(v)) {
    const keys = Object.keys(v).filter((k) => v[k] !== undefined).sort(compareStrings);
    return `{${keys.map((k) => `${goJSONString(k)}:${goJSON(v[k])}`).join(',')}}`;
  }
  return 'null';
}

/** A string quoted as Go's `%q` (strconv.Quote) does. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    switch (ch) {
      case '"': out += '\\"'; continue;
      case '\\': out += '\\\\'; continue;
      case '\x07': out += '\\a'; continue;
      case '\b': out += '\\b'; continue;
      case '\f': out += '\\f'; continue;
      case '\n': out += '\\n'; continue;
      case '\r': out += '\\r'; continue;
      case '\t': out += '\\t'; continue;
      case '\v': out += '\\v'; continue;
    }
    if (isPrintable(ch)) out += ch;
    else if (cp < 0x80) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp <= 0xffff) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return out + '"';
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;
/** Go's unicode.IsPrint for one character. */
export const isPrintable = (ch: string): boolean => PRINTABLE.test(ch);

/** A value as structured-merge-diff's value.ToString renders it in paths: strings Go-quoted. */
function valueToString(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return goQuote(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(valueToString).join(',')}]`;
  if (isPlainObject(v)) return Object.keys(v).sort(compareStrings).map((k) => `${k}=${valueToString(v[k])}`).join('');
  return 'null';
}

// ---------------------------------------------------------------------------------------------
// Value ordering (structured-merge-diff value.Compare): numbers, strings, bools, lists, maps, null.

function typeRank(v: unknown): number {
  if (typeof v === 'number') return 0;
  if (typeof v === 'string') return 1;
  if (typeof v === 'boolean') return 2;
  if (Array.isArray(v)) return 3;
  if (isPlainObject(v)) return 4;
  return 5;
}

export function compareValues(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 0: return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
    case 1: return compareStrings(a as string, b as string);
    case 2: return a === b ? 0 : a ? 1 : -1;
    case 3: {
      const x = a as unknown[];
      const y = b as unknown[];
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const c = compareValues(x[i], y[i]);
        if (c) return c;
      }
      return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
    }
    case 4: {
      const x = a as Record<string, unknown>;
      const y = b as Record<string, unknown>;
      const kx = Object.keys(x).sort(compareStrings);
      const ky = Object.keys(y).sort(compareStrings);
      for (let i = 0; i < Math.min(kx.length, ky.length); i++) {
        const c = compareStrings(kx[i], ky[i]) || compareValues(x[kx[i]], y[ky[i]]);
        if (c) return c;
      }
      return kx.length === ky.length ? 0 : kx.length < ky.length ? -1 : 1;
    }
    default: return 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Path elements

export const pe = {
  field: (name: string): PathElement => ({ kind: 'field', name }),
  key: (fields: Record<string, unknown> | KeyField[]): PathElement => ({
    kind: 'key',
    fields: (Array.isArray(fields) ? [...fields] : Object.entries(fields)).sort((x, y) => compareStrings(x[0], y[0])),
  }),
  value: (value: unknown): PathElement => ({ kind: 'value', value }),
  index: (index: number): PathElement => ({ kind: 'index', index }),
};

/** Path from field names, e.g. `pathOf('spec', 'replicas')`. */
export const pathOf = (...names: string[]): Path => names.map(pe.field);

const RANK = { field: 0, key: 1, value: 2, index: 3 } as const;

/** The order structured-merge-diff sorts path elements in: fields, keys, values, indexes. */
export function comparePathElements(a: PathElement, b: PathElement): number {
  if (a.kind !== b.kind) return RANK[a.kind] < RANK[b.kind] ? -1 : 1;
  switch (a.kind) {
    case 'field': return compareStrings(a.name, (b as typeof a).name);
    case 'key': {
      const x = a.fields;
      const y = (b as typeof a).fields;
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const c = compareStrings(x[i][0], y[i][0]) || compareValues(x[i][1], y[i][1]);
        if (c) return c;
      }
      return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
    }
    case 'value': return compareValues(a.value, (b as typeof a).value);
    case 'index': return a.index === (b as typeof a).index ? 0 : a.index < (b as typeof a).index ? -1 : 1;
  }
}

const serialized = new WeakMap<PathElement, string>();

/** The FieldsV1 key of a path element: `f:name`, `k:{"name":"c"}`, `v:"x"`, `i:0`. */
export function serializePathElement(p: PathElement): string {
  if (p.kind === 'field') return `f:${p.name}`;
  let s = serialized.get(p);
  if (s === undefined) serialized.set(p, (s = serialize(p)));
  return s;
}

function serialize(p: PathElement): string {
  switch (p.kind) {
    case 'field': return `f:${p.name}`;
    case 'key': {
      let out = 'k:{';
      const f = p.fields;
      for (let i = 0; i < f.length; i++) out += `${i ? ',' : ''}${goJSONString(f[i][0])}:${goJSON(f[i][1])}`;
      return `${out}}`;
    }
    case 'value': return `v:${goJSON(p.value)}`;
    case 'index': return `i:${p.index}`;
  }
}

/** Parses a FieldsV1 key; throws on anything malformed. */
export function parsePathElement(s: string): PathElement {
  if (s.length < 2 || s[1] !== ':') throw new Error(`invalid path element ${JSON.stringify(s)}: missing colon`);
  const body = s.slice(2);
  switch (s[0]) {
    case 'f': return pe.field(body);
    case 'v': return pe.value(JSON.parse(body));
    case 'k': {
      const o: unknown = JSON.parse(body);
      if (!isPlainObject(o)) throw new Error(`invalid key path element ${JSON.stringify(s)}`);
      return pe.key(Object.entries(o));
    }
    case 'i': {
      if (!/^-?\d+$/.test(body)) throw new Error(`invalid index path element ${JSON.stringify(s)}`);
      return pe.index(Number(body));
    }
    default: throw new Error(`unknown path element type in ${JSON.stringify(s)}`);
  }
}

/** A path element as upstream prints it in messages: `.name`, `[name="c"]`, `[="x"]`, `[0]`. */
export function pathElementToString(p: PathElement): string {
  switch (p.kind) {
    case 'field': return `.${p.name}`;
    case 'key': return `[${p.fields.map(([n, v]) => `${n}=${valueToString(v)}`).join(',')}]`;
    case 'value': return `[=${valueToString(p.value)}]`;
    case 'index': return `[${p.index}]`;
  }
}

/** A path as upstream prints it: `.spec.template.spec.containers[name="nginx"].image`. */
export const pathToString = (path: Path): string => path.map(pathElementToString).join('');

// ---------------------------------------------------------------------------------------------
// The set

/** A sub-set below a path element. Never changed once stored (replaced instead). */
export interface FieldSetChild { readonly pe: PathElement; readonly set: FieldSet }
type Child = FieldSetChild;

/** Shared empty maps of nodes that have no members / children yet; never written to. */
const NO_MEMBERS: ReadonlyMap<string, PathElement> = new Map();
const NO_CHILDREN: ReadonlyMap<string, Child> = new Map();

/** Parsed FieldsV1 keys other than fields (`k:`, `v:`, `i:`), which repeat across objects and requests. */
const parsedKeys = new Map<string, { pe: PathElement; key: string }>();
const PARSED_KEYS_MAX = 8192;

function parseKey(k: string): { pe: PathElement; key: string } {
  let hit = parsedKeys.get(k);
  if (hit === undefined) {
    const p = parsePathElement(k);
    hit = { pe: p, key: serializePathElement(p) };
    if (parsedKeys.size >= PARSED_KEYS_MAX) parsedKeys.clear();
    parsedKeys.set(k, hit);
  }
  return hit;
}

const byElement = (a: [string, PathElement], b: [string, PathElement]): number => {
  const x = a[1];
  const y = b[1];
  return x.kind === 'field' && y.kind === 'field' ? compareStrings(x.name, y.name) : comparePathElements(x, y);
};

const isOrderedScalar = (v: unknown): boolean => typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && v === v);

/** Whether comparePathElements orders the element totally against others like it (no NaN, no nested values). */
function totallyOrdered(p: PathElement): boolean {
  switch (p.kind) {
    case 'field':
    case 'index':
      return true;
    case 'value':
      return isOrderedScalar(p.value);
    case 'key':
      for (let i = 0; i < p.fields.length; i++) if (!isOrderedScalar(p.fields[i][1])) return false;
      return true;
  }
}

const compareNative = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Sorts [start, end) of the three arrays together: by key with `byKey`, else by path element. */
function sortLevel(keys: string[], vals: unknown[], pes: PathElement[], start: number, end: number, byKey: ((a: string, b: string) => number) | undefined): void {
  const idx: number[] = [];
  for (let i = start; i < end; i++) idx.push(i);
  idx.sort(byKey ? (a, b) => byKey(keys[a], keys[b]) : (a, b) => comparePathElements(pes[a], pes[b]));
  const k = idx.map((i) => keys[i]);
  const v = idx.map((i) => vals[i]);
  const p = idx.map((i) => pes[i]);
  for (let i = 0; i < idx.length; i++) {
    keys[start + i] = k[i];
    vals[start + i] = v[i];
    pes[start + i] = p[i];
  }
}

/** UTF-16 units from U+D800 up: where UTF-16 order and code point order may differ. */
const HIGH_UNITS = /[\ud800-\uffff]/;

/**
 * The FieldsV1 object of one level of a set: the keys (distinct serialized path elements) at
 * [start, end) of `keys`, with their values and path elements at the same places of `vals` and
 * `pes`, in upstream's order (`".": {}` first when `self`). Reorders that range of the arrays.
 * Undefined when the elements are not totally ordered (NaN values), which the caller then sorts as
 * upstream's code does.
 */
export function fieldsV1Level(keys: string[], vals: unknown[], pes: PathElement[], start: number, end: number, self: boolean): Record<string, unknown> | undefined {
  if (end - start > 1) {
    let fields = true;
    let high = false;
    for (let i = start; i < end; i++) {
      const k = keys[i];
      if (k.charCodeAt(0) !== 0x66) { // not "f:"
        fields = false;
        break;
      }
      if (!high && HIGH_UNITS.test(k)) high = true;
    }
    if (!fields) for (let i = start; i < end; i++) if (!totallyOrdered(pes[i])) return undefined;
    // Distinct keys in a total order: any sort gives the same result.
    if (end - start > 32) sortLevel(keys, vals, pes, start, end, fields ? (high ? compareStrings : compareNative) : undefined);
    // Insertion sort: levels are mostly small, and there it is much cheaper than Array.prototype.sort.
    else if (fields && !high) {
      // Fields sort by name, by code point: as by UTF-16 unit without characters from U+D800 up.
      for (let i = start + 1; i < end; i++) {
        const k = keys[i];
        if (keys[i - 1] < k) continue;
        const v = vals[i];
        const p = pes[i];
        let j = i - 1;
        while (j >= start && keys[j] > k) {
          keys[j + 1] = keys[j];
          vals[j + 1] = vals[j];
          pes[j + 1] = pes[j];
          j--;
        }
        keys[j + 1] = k;
        vals[j + 1] = v;
        pes[j + 1] = p;
      }
    } else {
      for (let i = start + 1; i < end; i++) {
        const k = keys[i];
        const v = vals[i];
        const p = pes[i];
        let j = i - 1;
        while (j >= start && (fields ? compareStrings(keys[j], k) : comparePathElements(pes[j], p)) > 0) {
          keys[j + 1] = keys[j];
          vals[j + 1] = vals[j];
          pes[j + 1] = pes[j];
          j--;
        }
        keys[j + 1] = k;
        vals[j + 1] = v;
        pes[j + 1] = p;
      }
    }
  }
  const out: Record<string, unknown> = {};
  if (self) out['.'] = {};
  // keys start with "f:", "k:", "v:" or "i:": never __proto__
  for (let i = start; i < end; i++) out[keys[i]] = vals[i];
  return out;
}

/**
 * A set of paths: a tree of nodes, each with its member path elements and its non-empty sub-sets,
 * both keyed by serialized path element.
 *
 * Sets share unchanged sub-trees: the operations (clone, union, difference, ...) return fresh
 * top-level sets whose untouched children are the nodes of their inputs, marked shared; `insert`
 * copies a shared node before changing it (copy on write), so every set behaves as an independent
 * value. Sets returned by `child()` are views into the set and must not be changed.
 */
export class FieldSet {
  /** Members at this level, by serialized path element. */
  private members: Map<string, PathElement> = NO_MEMBERS as Map<string, PathElement>;
  /** Sub-sets below path elements, by serialized path element; never empty. */
  private children: Map<string, Child> = NO_CHILDREN as Map<string, Child>;
  /** The node may be reachable from several sets: never changed in place. */
  private shared = false;

  static of(...paths: Path[]): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  /** Adds a path (mutates; sets returned by the operations are fresh, so this is safe on them). */
  insert(path: Path): this {
    if (path.length === 0) return this;
    let node: FieldSet = this;
    for (let i = 0; i < path.length - 1; i++) node = node.childNode(serializePathElement(path[i]), path[i]);
    const last = path[path.length - 1];
    node.addMember(serializePathElement(last), last);
    return this;
  }

  /**
   * The child below the element with serialized key `k` (`p` its element), created when missing,
   * copied first when shared. For building sets: only on sets the caller owns.
   */
  childNode(k: string, p: PathElement): FieldSet {
    let c = this.children.get(k);
    if (c === undefined) {
      c = { pe: p, set: new FieldSet() };
      if (this.children === NO_CHILDREN) this.children = new Map();
      this.children.set(k, c);
    } else if (c.set.shared) {
      c = { pe: c.pe, set: c.set.clone() };
      this.children.set(k, c);
    }
    return c.set;
  }

  /** Adds the member with serialized key `k` (`p` its element). For building sets: only on sets the caller owns. */
  addMember(k: string, p: PathElement): void {
    if (this.members === NO_MEMBERS) this.members = new Map();
    this.members.set(k, p);
  }

  private putChild(k: string, c: Child): void {
    if (this.children === NO_CHILDREN) this.children = new Map();
    this.children.set(k, c);
  }

  private markShared(): FieldSet {
    this.shared = true;
    return this;
  }

  /** The members at this level by serialized path element (read only). */
  memberMap(): ReadonlyMap<string, PathElement> {
    return this.members;
  }

  /** The children at this level by serialized path element (read only). */
  childMap(): ReadonlyMap<string, FieldSetChild> {
    return this.children;
  }

  has(path: Path): boolean {
    if (path.length === 0) return false;
    let node: FieldSet | undefined = this;
    for (let i = 0; i < path.length - 1 && node; i++) node = node.children.get(serializePathElement(path[i]))?.set;
    return !!node && node.members.has(serializePathElement(path[path.length - 1]));
  }

  isEmpty(): boolean {
    if (this.members.size) return false;
    for (const c of this.children.values()) if (!c.set.isEmpty()) return false;
    return true;
  }

  /** Number of paths in the set. */
  size(): number {
    let n = this.members.size;
    for (const c of this.children.values()) n += c.set.size();
    return n;
  }

  /** The sub-set of paths below `p` (relative), if any. */
  child(p: PathElement): FieldSet | undefined {
    return this.children.get(serializePathElement(p))?.set;
  }

  /** The sub-set below the element with serialized key `k`, if any. */
  childByKey(k: string): FieldSet | undefined {
    return this.children.get(k)?.set;
  }

  /** Whether `p` is a member at this level. */
  hasMember(p: PathElement): boolean {
    return this.members.has(serializePathElement(p));
  }

  /** Whether the element with serialized key `k` is a member at this level. */
  hasMemberKey(k: string): boolean {
    return this.members.has(k);
  }

  /** The member path elements at this level, sorted. */
  memberElements(): PathElement[] {
    return [...this.members.values()].sort(comparePathElements);
  }

  /** The children at this level, sorted by path element. */
  childEntries(): Array<[PathElement, FieldSet]> {
    return [...this.children.values()].sort((a, b) => comparePathElements(a.pe, b.pe)).map((c) => [c.pe, c.set]);
  }

  clone(): FieldSet {
    const s = new FieldSet();
    if (this.members.size) s.members = new Map(this.members);
    if (this.children.size) {
      s.children = new Map(this.children);
      for (const c of this.children.values()) c.set.shared = true;
    }
    return s;
  }

  union(o: FieldSet): FieldSet {
    const s = this.clone();
    if (o.members.size) {
      if (s.members === NO_MEMBERS) s.members = new Map();
      for (const [k, v] of o.members) s.members.set(k, v);
    }
    for (const [k, c] of o.children) {
      const mine = s.children.get(k);
      s.putChild(k, { pe: c.pe, set: mine === undefined || mine.set === c.set ? c.set.markShared() : mine.set.union(c.set) });
    }
    return s;
  }

  intersection(o: FieldSet): FieldSet {
    const s = new FieldSet();
    if (o.members.size) for (const [k, v] of this.members) if (o.members.has(k)) s.addMember(k, v);
    if (o.children.size) {
      for (const [k, c] of this.children) {
        const theirs = o.children.get(k);
        if (!theirs) continue;
        const i = theirs.set === c.set ? c.set.markShared() : c.set.intersection(theirs.set);
        if (!i.isEmpty()) s.putChild(k, { pe: c.pe, set: i });
      }
    }
    return s;
  }

  /** Paths of this set not in `o`. Removing a path does not remove the paths below it (upstream `Difference`). */
  difference(o: FieldSet): FieldSet {
    if (o.members.size === 0 && o.children.size === 0) return this.clone();
    const s = new FieldSet();
    for (const [k, v] of this.members) if (!o.members.has(k)) s.addMember(k, v);
    for (const [k, c] of this.children) {
      const theirs = o.children.get(k);
      if (theirs === undefined) s.putChild(k, { pe: c.pe, set: c.set.markShared() });
      else if (theirs.set !== c.set) {
        const d = c.set.difference(theirs.set);
        if (!d.isEmpty()) s.putChild(k, { pe: c.pe, set: d });
      }
    }
    return s;
  }

  /** Paths of this set neither in `o` nor below a member of `o` (upstream `RecursiveDifference`). */
  recursiveDifference(o: FieldSet): FieldSet {
    if (o.members.size === 0 && o.children.size === 0) return this.clone();
    const s = new FieldSet();
    for (const [k, v] of this.members) if (!o.members.has(k)) s.addMember(k, v);
    for (const [k, c] of this.children) {
      if (o.members.has(k)) continue;
      const theirs = o.children.get(k);
      if (theirs === undefined) s.putChild(k, { pe: c.pe, set: c.set.markShared() });
      else if (theirs.set !== c.set) {
        const d = c.set.recursiveDifference(theirs.set);
        if (!d.isEmpty()) s.putChild(k, { pe: c.pe, set: d });
      }
    }
    return s;
  }

  equals(o: FieldSet): boolean {
    return this.difference(o).isEmpty() && o.difference(this).isEmpty();
  }

  /** Every path, in upstream's iteration order: a level's members (sorted), then its children (sorted). */
  paths(): Path[] {
    const out: Path[] = [];
    const walk = (s: FieldSet, prefix: Path) => {
      for (const m of s.memberElements()) out.push([...prefix, m]);
      for (const [p, c] of s.childEntries()) walk(c, [...prefix, p]);
    };
    walk(this, []);
    return out;
  }

  /** Paths rendered as upstream prints them, one per line. */
  toString(): string {
    return this.paths().map(pathToString).join('\n');
  }

  /** The FieldsV1 JSON object of this set. */
  toFieldsV1(): Record<string, unknown> {
    return this.emit(false);
  }

  private emit(includeSelf: boolean): Record<string, unknown> {
    const members = this.members;
    const children = this.children;
    // The keys of the level (members, then children that are not members) with their values and
    // the elements to sort by (a member that has children: the child's element, as emitSorted).
    const keys: string[] = [];
    const vals: unknown[] = [];
    const pes: PathElement[] = [];
    for (const [k, p] of members) {
      const c = children.size ? children.get(k) : undefined;
      keys.push(k);
      if (c !== undefined && !c.set.isEmpty()) {
        vals.push(c.set.emit(true));
        pes.push(c.pe);
      } else {
        vals.push({});
        pes.push(p);
      }
    }
    if (children.size) {
      for (const [k, c] of children) {
        if (members.has(k) || c.set.isEmpty()) continue;
        keys.push(k);
        vals.push(c.set.emit(false));
        pes.push(c.pe);
      }
    }
    return fieldsV1Level(keys, vals, pes, 0, keys.length, includeSelf) ?? this.emitSorted(includeSelf);
  }

  /** emit for any level, sorting as upstream (Array.prototype.sort with its comparison). */
  private emitSorted(includeSelf: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (includeSelf) out['.'] = {};
    const members = this.members;
    const children = this.children;
    // The keys of the level (members, then children that are not members), with the element to sort by.
    const keys: Array<[string, PathElement]> = [];
    let memberAt: Map<string, number> | undefined;
    for (const [k, v] of members) keys.push([k, v]);
    if (children.size) {
      for (const [k, c] of children) {
        if (c.set.isEmpty()) continue;
        if (members.has(k)) {
          // As a Map of keys would: the member keeps its place, the child's element is the one kept.
          if (!memberAt) {
            memberAt = new Map();
            for (let i = 0; i < keys.length; i++) memberAt.set(keys[i][0], i);
          }
          keys[memberAt.get(k)!][1] = c.pe;
        } else keys.push([k, c.pe]);
      }
    }
    if (keys.length > 1) keys.sort(byElement);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i][0];
      const c = children.size ? children.get(k) : undefined;
      // keys start with "f:", "k:", "v:" or "i:": never __proto__
      out[k] = c !== undefined && !c.set.isEmpty() ? c.set.emit(members.has(k)) : {};
    }
    return out;
  }

  /** Parses a FieldsV1 JSON object (or its JSON text). Throws an Error when it is malformed. */
  static fromFieldsV1(fields: unknown): FieldSet {
    const v = typeof fields === 'string' ? JSON.parse(fields) : fields;
    if (v === undefined || v === null) return new FieldSet();
    if (!isPlainObject(v)) throw new Error('FieldsV1 must be a JSON object');
    const s = new FieldSet();
    s.read(v);
    return s;
  }

  /** Reads the FieldsV1 object `obj` (whose keys are `keys`) into this (fresh) set. */
  private read(obj: Record<string, unknown>, keys: string[] = Object.keys(obj)): void {
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (k === '.') continue;
      const v = obj[k];
      if (!isPlainObject(v)) throw new Error(`FieldsV1: value of ${JSON.stringify(k)} must be an object`);
      let p: PathElement;
      let key: string;
      if (k.length >= 2 && k.charCodeAt(1) === 0x3a && k.charCodeAt(0) === 0x66) {
        // `f:<name>`: serializes back to itself
        p = { kind: 'field', name: k.slice(2) };
        key = k;
      } else {
        const hit = parseKey(k);
        p = hit.pe;
        key = hit.key;
      }
      const sub = Object.keys(v);
      if (sub.length === 0 || '.' in v) this.addMember(key, p);
      if (sub.length > 1 || (sub.length === 1 && sub[0] !== '.')) {
        const child = this.childNode(key, p);
        child.read(v, sub);
        if (child.isEmpty()) this.children.delete(key);
      }
    }
  }
}
