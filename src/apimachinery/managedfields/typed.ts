/**
 * Walking JSON objects with their OpenAPI schema the way server-side apply sees them:
 *
 *   - structs (`properties`): granular, each field tracked on its own, unless
 *     `x-kubernetes-map-type: atomic` (e.g. LabelSelector, OwnerReference).
 *   - maps (`additionalProperties`): granular per key, unless `x-kubernetes-map-type: atomic`
 *     (e.g. `spec.nodeSelector`, `spec.selector` of a Service).
 *   - lists: `x-kubernetes-list-type` `map` (associative, items identified by
 *     `x-kubernetes-list-map-keys`), `set` (scalar items identified by value) or `atomic`. Without a
 *     list type, a `x-kubernetes-patch-strategy` containing `merge` makes the list associative by its
 *     `x-kubernetes-patch-merge-key` (or a set without one); anything else is atomic (as upstream's
 *     schemaconv does for built-in types).
 *   - scalars, and anything atomic, are leaves replaced as a whole.
 *   - no schema / `x-kubernetes-preserve-unknown-fields` / untyped: "deduced" from the value
 *     (objects are granular maps, arrays atomic lists, others scalars).
 *
 * Exports `fieldSetOf` (upstream ToFieldSet), `compareObjects` (upstream Compare) and the merge,
 * removal and schema-aware set helpers apply.ts is built from.
 */
import type { OpenAPISchema, SchemaMap } from '../../api/schema-types.js';
import { REF_PREFIX, resolveSchema } from '../../api/schema-types.js';
import type { Path, PathElement } from './fieldset.js';
import { FieldSet, pathElementToString, pathToString, pe, serializePathElement } from './fieldset.js';

export const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

/** A node's type: a schema, or undefined for "deduce from the value". */
export type TypeRef = OpenAPISchema | undefined;

type Resolved =
  | { kind: 'scalar' }
  | { kind: 'deduced' }
  | { kind: 'struct'; atomic: boolean; fields: Record<string, OpenAPISchema>; rest: TypeRef; required: ReadonlySet<string> }
  | { kind: 'map'; atomic: boolean; elem: TypeRef }
  | { kind: 'list'; rel: 'atomic' | 'set' | 'map'; keys: string[]; keyDefaults: Record<string, unknown>; elem: TypeRef };

/** Key fields of associative lists whose default the API server applies but the schemas omit. */
const KNOWN_KEY_DEFAULTS: Record<string, Record<string, unknown>> = {
  'io.k8s.api.core.v1.ContainerPort': { protocol: 'TCP' },
  'io.k8s.api.core.v1.ServicePort': { protocol: 'TCP' },
};

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What walks need: the schemas, and errors collected for applied configurations. */
export interface TypeContext {
  schemas: SchemaMap;
  /** When set, malformed list items (missing keys, duplicates, non-scalar set items) are recorded here. */
  errors?: string[];
  /**
   * For built-in (Go-typed) kinds, struct fields that are never absent in the Go object (`spec`,
   * `template`, ...) are not recorded as added/removed themselves by `compareObjects`, only their
   * contents, as upstream does (it compares Go objects, where such structs always exist).
   */
  goStructs?: boolean;
}

const cache = new WeakMap<SchemaMap, WeakMap<object, Resolved>>();
const rootCache = new WeakMap<SchemaMap, Map<string, OpenAPISchema>>();

function refName(s: OpenAPISchema | undefined): string | undefined {
  const ref = s?.$ref ?? (s?.allOf?.length === 1 ? s.allOf[0].$ref : undefined);
  return ref?.startsWith(REF_PREFIX) ? ref.slice(REF_PREFIX.length) : undefined;
}

function listRelationship(s: OpenAPISchema): { rel: 'atomic' | 'set' | 'map'; keys: string[] } {
  const lt = s['x-kubernetes-list-type'];
  if (lt === 'atomic') return { rel: 'atomic', keys: [] };
  if (lt === 'set') return { rel: 'set', keys: [] };
  if (lt === 'map') return { rel: 'map', keys: [...(s['x-kubernetes-list-map-keys'] ?? [])] };
  const strategy = s['x-kubernetes-patch-strategy'];
  if (typeof strategy === 'string' && strategy.split(',').includes('merge')) {
    const key = s['x-kubernetes-patch-merge-key'];
    return typeof key === 'string' && key ? { rel: 'map', keys: [key] } : { rel: 'set', keys: [] };
  }
  return { rel: 'atomic', keys: [] };
}

/** Resolves a schema to the kind of node it describes (cached). */
export function resolveType(ctx: TypeContext, t: TypeRef): Resolved {
  if (!t) return { kind: 'deduced' };
  let byMap = cache.get(ctx.schemas);
  if (!byMap) cache.set(ctx.schemas, (byMap = new WeakMap()));
  const hit = byMap.get(t);
  if (hit) return hit;
  const r = computeType(ctx, t);
  byMap.set(t, r);
  return r;
}

function computeType(ctx: TypeContext, t: OpenAPISchema): Resolved {
  const s = resolveSchema(ctx.schemas, t);
  if (!s) return { kind: 'deduced' };
  if (s['x-kubernetes-int-or-string']) return { kind: 'scalar' };
  const atomicMap = s['x-kubernetes-map-type'] === 'atomic';
  if (s.type === 'array' || s.items) {
    const { rel, keys } = listRelationship(s);
    const keyDefaults: Record<string, unknown> = {};
    if (rel === 'map' && keys.length) {
      const item = resolveSchema(ctx.schemas, s.items);
      const known = KNOWN_KEY_DEFAULTS[refName(s.items) ?? ''] ?? {};
      for (const k of keys) {
        const d = resolveSchema(ctx.schemas, item?.properties?.[k])?.default ?? known[k];
        if (d !== undefined) keyDefaults[k] = d;
      }
    }
    return { kind: 'list', rel, keys, keyDefaults, elem: s.items };
  }
  const props = s.properties && Object.keys(s.properties).length ? s.properties : undefined;
  const ap = s.additionalProperties;
  const apType: TypeRef = typeof ap === 'object' ? ap : undefined;
  if (props) return { kind: 'struct', atomic: atomicMap, fields: props, rest: apType, required: new Set(s.required ?? []) };
  if (ap) return { kind: 'map', atomic: atomicMap, elem: apType };
  if (s.type === 'object') return atomicMap ? { kind: 'map', atomic: true, elem: undefined } : { kind: 'deduced' };
  if (s.type === 'string' || s.type === 'integer' || s.type === 'number' || s.type === 'boolean') return { kind: 'scalar' };
  return { kind: 'deduced' };
}

/**
 * The schema of a top-level object. `metadata` is always ObjectMeta (as for custom resources,
 * whose schemas leave it open); an unknown schema name gives an object with ObjectMeta metadata and
 * deduced everything else.
 */
export function rootType(schemas: SchemaMap, schemaName: string): OpenAPISchema {
  let m = rootCache.get(schemas);
  if (!m) rootCache.set(schemas, (m = new Map()));
  const hit = m.get(schemaName);
  if (hit) return hit;
  const meta: OpenAPISchema = { $ref: REF_PREFIX + OBJECT_META };
  const base = resolveSchema(schemas, schemas[schemaName]);
  let out: OpenAPISchema;
  if (!base || !base.properties) {
    out = { type: 'object', properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: meta } };
  } else {
    const md = resolveSchema(schemas, base.properties.metadata);
    out = md?.properties ? base : { ...base, properties: { ...base.properties, metadata: meta } };
  }
  if (!schemas[OBJECT_META]) out = { ...out, properties: { ...out.properties, metadata: { type: 'object' } } };
  m.set(schemaName, out);
  return out;
}

/** Whether a schema name is of a built-in (Go-typed) kind. */
export const isBuiltinSchema = (schemaName: string): boolean => schemaName.startsWith('io.k8s.');

// ---------------------------------------------------------------------------------------------
// The node kind of a value under a type

type Node =
  | { kind: 'leaf' }
  | { kind: 'object'; struct: boolean; fieldType: (name: string) => TypeRef; declared: (name: string) => boolean; required: (name: string) => boolean }
  | { kind: 'list'; rel: 'set' | 'map'; keys: string[]; keyDefaults: Record<string, unknown>; elem: TypeRef };

const DEDUCED_OBJECT: Node = { kind: 'object', struct: false, fieldType: () => undefined, declared: () => false, required: () => false };

const LEAF: Node = { kind: 'leaf' };
const granularNodes = new WeakMap<Resolved, Node>();

/** The node of a granular (non-atomic) struct, map or list type. */
function granular(r: Resolved): Node {
  let n = granularNodes.get(r);
  if (n) return n;
  switch (r.kind) {
    case 'struct':
      n = {
        kind: 'object', struct: true, fieldType: (f) => (Object.hasOwn(r.fields, f) ? r.fields[f] : r.rest),
        declared: (f) => Object.hasOwn(r.fields, f), required: (f) => r.required.has(f),
      };
      break;
    case 'map':
      n = { kind: 'object', struct: false, fieldType: () => r.elem, declared: () => false, required: () => false };
      break;
    case 'list':
      n = { kind: 'list', rel: r.rel === 'atomic' ? 'set' : r.rel, keys: r.keys, keyDefaults: r.keyDefaults, elem: r.elem };
      break;
    default:
      n = LEAF;
  }
  granularNodes.set(r, n);
  return n;
}

/** How a value is walked: as a leaf, a granular object, or a granular (associative) list. */
function nodeOf(ctx: TypeContext, t: TypeRef, v: unknown): Node {
  const r = resolveType(ctx, t);
  switch (r.kind) {
    case 'scalar': return LEAF;
    case 'deduced': return isPlainObject(v) ? DEDUCED_OBJECT : LEAF;
    case 'struct':
    case 'map':
      return r.atomic || (v !== undefined && v !== null && !isPlainObject(v)) ? LEAF : granular(r);
    case 'list':
      return r.rel === 'atomic' || (v !== undefined && v !== null && !Array.isArray(v)) ? LEAF : granular(r);
  }
}

/** The node kind of a type without a value (for walking sets). */
function nodeOfType(ctx: TypeContext, t: TypeRef): Node {
  const r = resolveType(ctx, t);
  if (r.kind === 'deduced') return DEDUCED_OBJECT;
  return nodeOf(ctx, t, undefined);
}

/** The type below a path element of a node. */
function childType(n: Node, p: PathElement): TypeRef {
  if (n.kind === 'object') return p.kind === 'field' ? n.fieldType(p.name) : undefined;
  if (n.kind === 'list') return n.elem;
  return undefined;
}

/**
 * The path element of a list item: `k:{...}` for associative lists, `v:...` for sets. Returns
 * undefined (recording an error when collecting) when the item cannot be identified.
 */
function itemElement(ctx: TypeContext, n: Extract<Node, { kind: 'list' }>, item: unknown, index: number, path: Path): PathElement | undefined {
  const fail = (msg: string) => {
    ctx.errors?.push(`${pathToString(path)}: element ${index}: ${msg}`);
    return undefined;
  };
  if (n.rel === 'set') {
    if (item === null || item === undefined) return fail("associative list without keys has an element that's an explicit null");
    if (Array.isArray(item)) return fail('not supported: associative list with lists as elements');
    if (isPlainObject(item)) return fail("associative list without keys has an element that's a map type");
    return pe.value(item);
  }
  if (item === null || item === undefined) return fail('associative list with keys may not have a null element');
  if (!isPlainObject(item)) return fail('associative list with keys may not have non-map elements');
  const fields: Array<[string, unknown]> = [];
  for (const k of n.keys) {
    if (item[k] !== undefined && item[k] !== null) fields.push([k, item[k]]);
    else if (n.keyDefaults[k] !== undefined) fields.push([k, n.keyDefaults[k]]);
    else if (ctx.errors) return fail(`associative list with keys has an element that omits key field ${JSON.stringify(k)} (and doesn't have default value)`);
  }
  return pe.key(fields);
}

interface IndexedItem { pe: PathElement; key: string; value: unknown }

/** The items of a granular list with their path elements; items that cannot be keyed are dropped. */
function indexItems(ctx: TypeContext, n: Extract<Node, { kind: 'list' }>, list: unknown[], path: Path, reportDuplicates: boolean): IndexedItem[] {
  const out: IndexedItem[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < list.length; i++) {
    const p = itemElement(ctx, n, list[i], i, path);
    if (!p) {
      if (ctx.errors) return out; // upstream stops validating the list at the first bad item
      continue;
    }
    const key = serializePathElement(p);
    if (seen.has(key) && reportDuplicates) ctx.errors?.push(`${pathToString(path)}: duplicate entries for key ${pathElementToString(p)}`);
    seen.add(key);
    out.push({ pe: p, key, value: list[i] });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// ToFieldSet

/**
 * The set of fields an object (an applied configuration) sets, as upstream's ToFieldSet: every
 * leaf (scalar, atomic list/map/struct), every list item (keyed or set member) and every map key;
 * struct fields themselves only when their value is null or an empty object.
 */
export function fieldSetOf(obj: unknown, schemaName: string, schemas: SchemaMap, ctx?: Partial<TypeContext>): FieldSet {
  const c: TypeContext = { schemas, ...ctx };
  return toFieldSet(c, obj, rootType(schemas, schemaName));
}

/** ToFieldSet from a given type. */
export function toFieldSet(ctx: TypeContext, v: unknown, t: TypeRef, path: Path = [], out: FieldSet = new FieldSet()): FieldSet {
  const n = nodeOf(ctx, t, v);
  if (n.kind === 'leaf') {
    if (path.length) out.insert(path);
    return out;
  }
  if (n.kind === 'list') {
    if (!Array.isArray(v)) return out;
    for (const item of indexItems(ctx, n, v, path, true)) {
      const p = [...path, item.pe];
      toFieldSet(ctx, item.value, n.elem, p, out);
      out.insert(p);
    }
    return out;
  }
  if (!isPlainObject(v)) return out;
  for (const [k, val] of Object.entries(v)) {
    if (val === undefined) continue;
    const p = [...path, pe.field(k)];
    toFieldSet(ctx, val, n.fieldType(k), p, out);
    if (val === null || (isPlainObject(val) && Object.keys(val).length === 0) || !n.declared(k)) out.insert(p);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Compare

export interface Comparison {
  /** Fields present only in the new object (leaves, list items, map keys, new containers). */
  added: FieldSet;
  /** Leaves whose value changed. */
  modified: FieldSet;
  /** Fields present only in the old object. */
  removed: FieldSet;
}

/**
 * Upstream compares Go objects. For built-in kinds a Go object always has, when their parent
 * exists, its required (non-omitempty) fields (`containers: null`, ...) and its non-pointer struct
 * fields (`spec: {}`, ...), so those never appear or disappear on their own, only their contents.
 * Required fields come from the schema; non-pointer structs are not in OpenAPI, so these are the
 * usual ones by field name.
 */
const GO_VALUE_STRUCTS = new Set([
  'metadata', 'spec', 'status', 'template', 'jobTemplate', 'strategy', 'updateStrategy', 'resources', 'scaleTargetRef',
  'backend', 'roleRef', 'involvedObject', 'source', 'names', 'acceptedNames', 'clientConfig', 'daemonEndpoints', 'nodeInfo',
  'state', 'lastState',
]);

const deepEqual = (a: unknown, b: unknown): boolean => {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
};
export { deepEqual as jsonEqual };

/**
 * The fields added, changed and removed between two objects (upstream's Compare). `old` undefined
 * is an empty object (a create).
 */
export function compareObjects(old: unknown, next: unknown, schemaName: string, schemas: SchemaMap, ctx?: Partial<TypeContext>): Comparison {
  const c: TypeContext = { schemas, goStructs: isBuiltinSchema(schemaName), ...ctx };
  return compareTyped(c, old ?? {}, next ?? {}, rootType(schemas, schemaName));
}

/** Compare from a given type. */
export function compareTyped(ctx: TypeContext, old: unknown, next: unknown, t: TypeRef): Comparison {
  const out: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  compareValues(ctx, old, next, t, [], out, false, false);
  return out;
}

/**
 * `lImplied` / `rImplied`: the node is absent from that side's JSON but a Go object would have it
 * (a value struct of a present parent), so it is neither added nor removed itself.
 */
function compareValues(ctx: TypeContext, l: unknown, r: unknown, t: TypeRef, path: Path, out: Comparison, lImplied: boolean, rImplied: boolean): void {
  if (l === undefined && r === undefined) return;
  const nl = nodeOf(ctx, t, l === null ? undefined : l);
  const nr = nodeOf(ctx, t, r === null ? undefined : r);
  const leaf = nl.kind === 'leaf' || nr.kind === 'leaf' || nl.kind !== nr.kind;
  if (leaf) {
    if (!path.length) return;
    if (l === undefined) out.added.insert(path);
    else if (r === undefined) out.removed.insert(path);
    else if (!deepEqual(l, r)) out.modified.insert(path);
    return;
  }
  const n = nr;
  if (n.kind === 'list') {
    const li = indexItems(ctx, n, Array.isArray(l) ? l : [], path, false);
    const ri = indexItems(ctx, n, Array.isArray(r) ? r : [], path, false);
    const rByKey = new Map<string, IndexedItem>();
    for (const it of ri) if (!rByKey.has(it.key)) rByKey.set(it.key, it);
    const lKeys = new Set<string>();
    for (const it of li) {
      if (lKeys.has(it.key)) continue;
      lKeys.add(it.key);
      compareValues(ctx, it.value, rByKey.get(it.key)?.value, n.elem, [...path, it.pe], out, false, false);
    }
    const done = new Set<string>();
    for (const it of ri) {
      if (lKeys.has(it.key) || done.has(it.key)) continue;
      done.add(it.key);
      compareValues(ctx, undefined, it.value, n.elem, [...path, it.pe], out, false, false);
    }
  } else if (n.kind === 'object') {
    const lo = isPlainObject(l) ? l : {};
    const ro = isPlainObject(r) ? r : {};
    const lHere = l !== undefined || lImplied;
    const rHere = r !== undefined || rImplied;
    const implied = (k: string, side: Record<string, unknown>, here: boolean) =>
      here && (side[k] === undefined || side[k] === null) && n.struct && !!ctx.goStructs && (n.required(k) || (GO_VALUE_STRUCTS.has(k) && isStructType(ctx, n.fieldType(k))));
    // A Go object cannot tell a null field from an absent one.
    const get = (o: Record<string, unknown>, k: string) => (o[k] === null && ctx.goStructs ? undefined : o[k]);
    for (const k of Object.keys(lo)) {
      const lv = get(lo, k);
      if (lv === undefined) continue;
      compareValues(ctx, lv, get(ro, k), n.fieldType(k), [...path, pe.field(k)], out, false, implied(k, ro, rHere));
    }
    for (const k of Object.keys(ro)) {
      const rv = get(ro, k);
      if (rv === undefined || get(lo, k) !== undefined) continue;
      compareValues(ctx, undefined, rv, n.fieldType(k), [...path, pe.field(k)], out, implied(k, lo, lHere), false);
    }
  }
  if (!path.length) return;
  if (l === undefined && !lImplied) out.added.insert(path);
  else if (r === undefined && !rImplied) out.removed.insert(path);
}

function isStructType(ctx: TypeContext, t: TypeRef): boolean {
  const r = resolveType(ctx, t);
  return r.kind === 'struct' && !r.atomic;
}

/** Removes the paths below `ignored` members (and those members) from each part of a comparison. */
export function excludeFromComparison(c: Comparison, ignored: FieldSet | undefined): Comparison {
  if (!ignored || ignored.isEmpty()) return c;
  return { added: c.added.recursiveDifference(ignored), modified: c.modified.recursiveDifference(ignored), removed: c.removed.recursiveDifference(ignored) };
}

// ---------------------------------------------------------------------------------------------
// Merge

function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

const clone = <T>(v: T): T => (v === undefined ? v : structuredClone(v));

/**
 * Merges an applied configuration into a live object (upstream's Merge): associative lists merge
 * item by item (by key), sets union, maps and structs merge per field, atomic values and scalars
 * are replaced. Fields set to null in the configuration are dropped from the result. Neither input
 * is changed.
 */
export function mergeTyped(ctx: TypeContext, l: unknown, r: unknown, t: TypeRef, path: Path = []): unknown {
  if (r === undefined) return clone(l);
  if (l === undefined || l === null || r === null) return clone(r);
  const nl = nodeOf(ctx, t, l);
  const nr = nodeOf(ctx, t, r);
  if (nr.kind === 'leaf' || nl.kind !== nr.kind) return clone(r);
  if (nr.kind === 'object') {
    if (!isPlainObject(l) || !isPlainObject(r)) return clone(r);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(l)) setOwn(out, k, clone(v));
    for (const [k, rv] of Object.entries(r)) {
      if (rv === undefined) continue;
      if (rv === null) {
        delete out[k];
        continue;
      }
      setOwn(out, k, mergeTyped(ctx, l[k], rv, nr.fieldType(k), [...path, pe.field(k)]));
    }
    return out;
  }
  if (!Array.isArray(l) || !Array.isArray(r)) return clone(r);
  return mergeLists(ctx, nr, l, r, path);
}

/**
 * Merges two granular lists. Items of the configuration keep their order; items only in the live
 * list keep their place relative to the items around them; an item in both is merged.
 */
function mergeLists(ctx: TypeContext, n: Extract<Node, { kind: 'list' }>, l: unknown[], r: unknown[], path: Path): unknown[] {
  const li = indexItems(ctx, n, l, path, false);
  const ri = indexItems(ctx, n, r, path, false);
  const rMap = new Map<string, IndexedItem>();
  for (const it of ri) if (!rMap.has(it.key)) rMap.set(it.key, it);
  const lMap = new Map<string, IndexedItem>();
  for (const it of li) if (!lMap.has(it.key)) lMap.set(it.key, it);
  // Items in both lists, in the configuration's order; shared[next] is the next one expected.
  const shared: string[] = [];
  for (const key of rMap.keys()) if (lMap.has(key)) shared.push(key);
  let next = 0;
  const emitted = new Set<string>();
  const out: unknown[] = [];
  const emitMerged = (key: string) => {
    emitted.add(key);
    const rv = rMap.get(key)!;
    out.push(mergeTyped(ctx, lMap.get(key)?.value, rv.value, n.elem, [...path, rv.pe]));
    while (next < shared.length && emitted.has(shared[next])) next++;
  };
  let a = 0;
  let b = 0;
  while (a < li.length || b < ri.length) {
    if (a < li.length) {
      const lk = li[a].key;
      if (!rMap.has(lk)) {
        out.push(clone(li[a].value)); // only live: stays where it is
        a++;
        continue;
      }
      if (emitted.has(lk)) { a++; continue; }
      if (b < ri.length && ri[b].key === lk) {
        emitMerged(lk);
        a++;
        b++;
        continue;
      }
      if (shared[next] !== lk) { a++; continue; } // comes later, in the configuration's order
    }
    if (b < ri.length) {
      const rk = ri[b++].key;
      if (!emitted.has(rk)) emitMerged(rk);
      continue;
    }
    a++;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Remove items

const isEmptyContainer = (v: unknown) => (Array.isArray(v) ? v.length === 0 : isPlainObject(v) && Object.keys(v).length === 0);

/**
 * Removes from a value the paths that are members of `toRemove` (with everything below them),
 * descending into children of `toRemove`. Maps and lists emptied by the removal are dropped.
 */
export function removeItems(ctx: TypeContext, v: unknown, toRemove: FieldSet, t: TypeRef, path: Path = []): unknown {
  if (toRemove.isEmpty()) return v;
  const n = nodeOf(ctx, t, v);
  if (n.kind === 'object' && isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v)) {
      const p = pe.field(k);
      if (toRemove.hasMember(p)) continue;
      const sub = toRemove.child(p);
      if (sub && val !== null && typeof val === 'object') {
        const nv = removeItems(ctx, val, sub, n.fieldType(k), [...path, p]);
        if (isEmptyContainer(nv) && !isEmptyContainer(val)) continue;
        setOwn(out, k, nv);
      } else setOwn(out, k, val);
    }
    return out;
  }
  if (n.kind === 'list' && Array.isArray(v)) {
    const out: unknown[] = [];
    for (let i = 0; i < v.length; i++) {
      const p = itemElement({ ...ctx, errors: undefined }, n, v[i], i, path);
      if (!p) { out.push(v[i]); continue; }
      if (toRemove.hasMember(p)) continue;
      const sub = toRemove.child(p);
      if (sub && v[i] !== null && typeof v[i] === 'object') {
        const nv = removeItems(ctx, v[i], sub, n.elem, [...path, p]);
        if (isEmptyContainer(nv) && !isEmptyContainer(v[i])) continue;
        out.push(nv);
      } else out.push(v[i]);
    }
    return out;
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// Sets with the schema

/**
 * The set plus, as members, every struct field that has children in the set (upstream's
 * EnsureNamedFieldsAreMembers): "a.b.c" also owns "a" and "a.b" where those are struct fields, not
 * map keys.
 */
export function ensureNamedFieldsAreMembers(ctx: TypeContext, s: FieldSet, t: TypeRef): FieldSet {
  const out = new FieldSet();
  const walk = (src: FieldSet, type: TypeRef, prefix: Path) => {
    for (const m of src.memberElements()) out.insert([...prefix, m]);
    const n = nodeOfType(ctx, type);
    for (const [p, c] of src.childEntries()) {
      const cp = [...prefix, p];
      if (p.kind === 'field' && n.kind === 'object' && n.struct && n.declared(p.name)) out.insert(cp);
      walk(c, childType(n, p), cp);
    }
  };
  walk(s, t, []);
  return out;
}

/** A set of paths given as field-name lists (e.g. `[['status']]`), or already a FieldSet. */
export function toPathSet(paths: FieldSet | ReadonlyArray<ReadonlyArray<string> | Path> | undefined): FieldSet | undefined {
  if (!paths) return undefined;
  if (paths instanceof FieldSet) return paths;
  const s = new FieldSet();
  for (const p of paths) s.insert(p.map((x) => (typeof x === 'string' ? pe.field(x) : x)));
  return s;
}
