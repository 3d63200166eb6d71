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
 * removal and schema-aware set helpers apply.ts is built from, plus `createdFieldsV1`: the FieldsV1
 * a create records, built in one walk (the hot path of every POST).
 *
 * These run on every write, so they are built for speed: schemas are prepared once per schema node
 * (TypeInfo), paths are chains of frames (no path arrays copied), FieldsV1 keys and list
 * item elements are cached, and sets are written node by node instead of path by path.
 */
import type { OpenAPISchema, SchemaMap } from '../../api/schema-types.js';
import { REF_PREFIX, resolveSchema } from '../../api/schema-types.js';
import type { Path, PathElement } from './fieldset.js';
import { FieldSet, compareStrings, fieldsV1Level, goJSON, goJSONString, pathElementToString, pathToString, pe, serializePathElement } from './fieldset.js';

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
// Types prepared for walking
//
// Every walk below goes through TypeInfo: one per (schemas, schema node), holding the resolved kind
// and, filled in on first use, the TypeInfo of each declared field / the items / the map values
// together with the field's path element and FieldsV1 key. A walk thus resolves a schema node once
// per process, not once per value.

const K_SCALAR = 0;
const K_DEDUCED = 1;
const K_STRUCT = 2;
const K_MAP = 3;
const K_LIST = 4;

/** How a value is walked: as a leaf, a granular object (struct or map), or a granular (associative) list. */
const LEAF = 0;
const OBJECT = 1;
const LIST = 2;

/** A field of an object type: its type, path element and key, and what compare needs to know of it. */
interface FieldSlot {
  readonly ti: TypeInfo;
  readonly pe: PathElement;
  readonly key: string;
  /** A declared field of a struct. */
  readonly declared: boolean;
  /** Required by the struct, or a non-pointer Go struct: a Go object of the parent always has it. */
  readonly goAlways: boolean;
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

/**
 * A string with the same text that V8 keeps in its string table (as property names are), so using
 * it as a Map key or property name needs no hashing or lookup of a fresh string.
 */
function internalized(s: string): string {
  const o: Record<string, number> = {};
  o[s] = 0;
  return Object.keys(o)[0];
}

const fieldKeys = new Map<string, string>();
const ITEM_CACHE_MAX = 2048;
const SLOTS_MAX = 1024;
const FIELD_KEYS_MAX = 16384;

/** The FieldsV1 key `f:<name>` of a field (cached). */
function fieldKeyOf(name: string): string {
  let k = fieldKeys.get(name);
  if (k === undefined) {
    k = internalized(`f:${name}`);
    if (fieldKeys.size >= FIELD_KEYS_MAX) fieldKeys.clear();
    fieldKeys.set(name, k);
  }
  return k;
}

class TypeInfo {
  readonly kind: number;
  /** Struct, map or list that is atomic: a leaf whatever its value. */
  readonly atomic: boolean;
  /** A granular struct (declared fields) rather than a map or a deduced object. */
  readonly struct: boolean;
  /** Lists: 'set' (items by value) or 'map' (items by key fields). */
  readonly rel: 'set' | 'map';
  readonly keys: readonly string[];
  readonly keyDefaults: Record<string, unknown>;
  private readonly fields: Record<string, OpenAPISchema> | undefined;
  private readonly required: ReadonlySet<string> | undefined;
  /** Struct: the type of undeclared fields; map: of values; list: of items. */
  private readonly subRef: TypeRef;
  private subInfo: TypeInfo | undefined;
  private slots: Map<string, FieldSlot> | undefined;
  /** Number of slots kept for names that are not declared fields. */
  private slotCount = 0;
  /** Lists: path elements of items by their key values (nested maps, one level per key field). */
  private items: Map<unknown, unknown> | undefined;
  private itemCount = 0;

  constructor(private readonly schemas: SchemaMap | undefined, r: Resolved) {
    this.atomic = false;
    this.struct = false;
    this.rel = 'set';
    this.keys = [];
    this.keyDefaults = {};
    switch (r.kind) {
      case 'scalar': this.kind = K_SCALAR; break;
      case 'deduced': this.kind = K_DEDUCED; break;
      case 'struct':
        this.kind = K_STRUCT;
        this.atomic = r.atomic;
        this.struct = true;
        this.fields = r.fields;
        this.required = r.required;
        this.subRef = r.rest;
        break;
      case 'map':
        this.kind = K_MAP;
        this.atomic = r.atomic;
        this.subRef = r.elem;
        break;
      case 'list':
        this.kind = K_LIST;
        this.atomic = r.rel === 'atomic';
        this.rel = r.rel === 'atomic' ? 'set' : r.rel;
        this.keys = r.keys;
        this.keyDefaults = r.keyDefaults;
        this.subRef = r.elem;
        break;
    }
  }

  /** Struct: undeclared fields; map: values; list: items; others: deduced. */
  sub(): TypeInfo {
    return (this.subInfo ??= this.schemas && this.subRef ? infoOf(this.schemas, this.subRef) : DEDUCED_INFO);
  }

  /** The field `name` of an object of this type (struct, map or deduced). */
  field(name: string): FieldSlot {
    const slots = this.slots;
    if (slots !== undefined) {
      const hit = slots.get(name);
      if (hit !== undefined) return hit;
    }
    let slot: FieldSlot;
    if (this.kind === K_STRUCT) {
      const declared = Object.hasOwn(this.fields!, name);
      const ti = declared ? infoOf(this.schemas!, this.fields![name]) : this.sub();
      slot = {
        ti, pe: { kind: 'field', name }, key: fieldKeyOf(name), declared,
        goAlways: this.required!.has(name) || (GO_VALUE_STRUCTS.has(name) && ti.kind === K_STRUCT && !ti.atomic),
      };
      // Declared fields are always kept; other names (map keys, unknown fields) up to a bound.
      if (!declared && this.slotCount >= SLOTS_MAX) return slot;
    } else {
      slot = { ti: this.kind === K_MAP ? this.sub() : DEDUCED_INFO, pe: { kind: 'field', name }, key: fieldKeyOf(name), declared: false, goAlways: false };
      if (this.slotCount >= SLOTS_MAX) return slot;
    }
    if (!slot.declared) this.slotCount++;
    (this.slots ??= new Map()).set(name, slot);
    return slot;
  }

  /** The root of the item cache of a list type. */
  itemCache(): Map<unknown, unknown> {
    return (this.items ??= new Map());
  }

  /** Adds an entry to (a level of) the item cache, starting over when it has grown large. */
  cacheItem(m: Map<unknown, unknown>, k: unknown, v: unknown): void {
    if (++this.itemCount > ITEM_CACHE_MAX) {
      this.items = undefined;
      this.itemCount = 0;
      return;
    }
    m.set(k, v);
  }
}

const DEDUCED_INFO = new TypeInfo(undefined, { kind: 'deduced' });
const infoCache = new WeakMap<SchemaMap, WeakMap<object, TypeInfo>>();
let lastSchemas: SchemaMap | undefined;
let lastInfos: WeakMap<object, TypeInfo> | undefined;

function infoOf(schemas: SchemaMap, t: TypeRef): TypeInfo {
  if (!t) return DEDUCED_INFO;
  let m: WeakMap<object, TypeInfo> | undefined;
  if (schemas === lastSchemas) m = lastInfos!;
  else {
    m = infoCache.get(schemas);
    if (!m) infoCache.set(schemas, (m = new WeakMap()));
    lastSchemas = schemas;
    lastInfos = m;
  }
  let ti = m.get(t);
  if (ti === undefined) {
    ti = new TypeInfo(schemas, resolveType({ schemas }, t));
    m.set(t, ti);
  }
  return ti;
}

/** How a value is walked under a type (upstream: atomic, or a granular map / list). */
function nodeKind(ti: TypeInfo, v: unknown): number {
  switch (ti.kind) {
    case K_SCALAR: return LEAF;
    case K_DEDUCED: return isPlainObject(v) ? OBJECT : LEAF;
    case K_STRUCT:
    case K_MAP:
      return ti.atomic || (v !== undefined && v !== null && !isPlainObject(v)) ? LEAF : OBJECT;
    default:
      return ti.atomic || (v !== undefined && v !== null && !Array.isArray(v)) ? LEAF : LIST;
  }
}

/** The node kind of a type without a value (for walking sets): deduced types are objects. */
function nodeKindOfType(ti: TypeInfo): number {
  return ti.kind === K_DEDUCED ? OBJECT : nodeKind(ti, undefined);
}

// ---------------------------------------------------------------------------------------------
// Paths while walking

/**
 * A position below the root while walking: the path is the chain of frames. The nodes of the
 * output sets at this position are created on first use (`a`, `m`, `r`: the nodes in the first,
 * second and third set written to).
 */
class Frame {
  a: FieldSet | undefined = undefined;
  m: FieldSet | undefined = undefined;
  r: FieldSet | undefined = undefined;
  constructor(readonly parent: Frame | undefined, readonly pe: PathElement, readonly key: string) {}
}

function framePath(f: Frame | undefined): Path {
  const out: Path = [];
  for (let x = f; x; x = x.parent) out.push(x.pe);
  return out.reverse();
}

function framesOf(path: Path): Frame | undefined {
  let f: Frame | undefined;
  for (const p of path) f = new Frame(f, p, serializePathElement(p));
  return f;
}

/** The node of `root` (one of the sets: slot 0, 1, 2) at frame `f`, created when missing. */
function nodeAt(root: FieldSet, slot: number, f: Frame | undefined): FieldSet {
  if (f === undefined) return root;
  let n = slot === 0 ? f.a : slot === 1 ? f.m : f.r;
  if (n === undefined) {
    n = nodeAt(root, slot, f.parent).childNode(f.key, f.pe);
    if (slot === 0) f.a = n;
    else if (slot === 1) f.m = n;
    else f.r = n;
  }
  return n;
}

/** Adds the path `parent` + `pe` to `root`. */
function addPath(root: FieldSet, slot: number, parent: Frame | undefined, key: string, p: PathElement): void {
  nodeAt(root, slot, parent).addMember(key, p);
}

// ---------------------------------------------------------------------------------------------
// List items

interface IndexedItem { pe: PathElement; key: string; value: unknown }
interface ItemKey { pe: PathElement; key: string }
/** A key field an item leaves out (and that has no default). */
const ABSENT = Symbol('absent');

/**
 * The path element of a list item: `k:{...}` for associative lists, `v:...` for sets. Returns
 * undefined (recording an error when collecting) when the item cannot be identified.
 */
function itemElement(ctx: TypeContext, ti: TypeInfo, item: unknown, index: number, f: Frame | undefined, collect: boolean): IndexedItem | undefined {
  const errors = collect ? ctx.errors : undefined;
  const fail = (msg: string) => {
    errors?.push(`${pathToString(framePath(f))}: element ${index}: ${msg}`);
    return undefined;
  };
  if (ti.rel === 'set') {
    if (item === null || item === undefined) return fail("associative list without keys has an element that's an explicit null");
    if (Array.isArray(item)) return fail('not supported: associative list with lists as elements');
    if (isPlainObject(item)) return fail("associative list without keys has an element that's a map type");
    const t = typeof item;
    if (t === 'string' || t === 'number' || t === 'boolean') {
      const cache = ti.itemCache();
      let e = cache.get(item) as ItemKey | undefined;
      if (e === undefined) {
        e = { pe: { kind: 'value', value: item }, key: internalized(`v:${goJSON(item)}`) };
        ti.cacheItem(cache, item, e);
      }
      return { pe: e.pe, key: e.key, value: item };
    }
    return { pe: { kind: 'value', value: item }, key: `v:${goJSON(item)}`, value: item };
  }
  if (item === null || item === undefined) return fail('associative list with keys may not have a null element');
  if (!isPlainObject(item)) return fail('associative list with keys may not have non-map elements');
  const keys = ti.keys;
  // The key values (defaults applied, ABSENT for a key left out), and whether all are scalars.
  let cacheable = keys.length > 0;
  let vals: unknown[] | undefined;
  let v0: unknown = ABSENT;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    let v = item[k];
    if (v === undefined || v === null) {
      if (ti.keyDefaults[k] !== undefined) v = ti.keyDefaults[k];
      else if (errors) return fail(`associative list with keys has an element that omits key field ${JSON.stringify(k)} (and doesn't have default value)`);
      else v = ABSENT;
    }
    if (cacheable && v !== ABSENT) {
      const t = typeof v;
      if (t !== 'string' && t !== 'number' && t !== 'boolean') cacheable = false;
    }
    if (i === 0) v0 = v;
    else (vals ??= [v0]).push(v);
  }
  // Items of a list repeat their keys across objects and requests: keep their elements per type.
  let cache: Map<unknown, unknown> | undefined;
  if (cacheable) {
    cache = ti.itemCache();
    for (let i = 0; i < keys.length - 1; i++) {
      let next = cache.get(vals ? vals[i] : v0) as Map<unknown, unknown> | undefined;
      if (next === undefined) ti.cacheItem(cache, vals ? vals[i] : v0, (next = new Map()));
      cache = next;
    }
    const hit = cache.get(vals ? vals[keys.length - 1] : v0) as ItemKey | undefined;
    if (hit !== undefined) return { pe: hit.pe, key: hit.key, value: item };
  }
  let fields: Array<[string, unknown]> = [];
  for (let i = 0; i < keys.length; i++) {
    const v = vals ? vals[i] : v0;
    if (v !== ABSENT) fields.push([keys[i], v]);
  }
  if (fields.length > 1) fields = fields.sort((x, y) => compareStrings(x[0], y[0]));
  let key = 'k:{';
  for (let i = 0; i < fields.length; i++) key += `${i ? ',' : ''}${goJSONString(fields[i][0])}:${goJSON(fields[i][1])}`;
  key += '}';
  const p: PathElement = { kind: 'key', fields };
  if (cache !== undefined) {
    const e: ItemKey = { pe: p, key: internalized(key) };
    ti.cacheItem(cache, vals ? vals[keys.length - 1] : v0, e);
    return { pe: e.pe, key: e.key, value: item };
  }
  return { pe: p, key, value: item };
}

/** The items of a granular list with their path elements; items that cannot be keyed are dropped. */
function indexItems(ctx: TypeContext, ti: TypeInfo, list: unknown[], f: Frame | undefined, reportDuplicates: boolean): IndexedItem[] {
  const out: IndexedItem[] = [];
  if (list.length === 0) return out;
  const seen = new Set<string>();
  for (let i = 0; i < list.length; i++) {
    const it = itemElement(ctx, ti, list[i], i, f, true);
    if (!it) {
      if (ctx.errors) return out; // upstream stops validating the list at the first bad item
      continue;
    }
    if (reportDuplicates && seen.has(it.key)) ctx.errors?.push(`${pathToString(framePath(f))}: duplicate entries for key ${pathElementToString(it.pe)}`);
    seen.add(it.key);
    out.push(it);
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
  const f = framesOf(path);
  if (f === undefined) toFS(ctx, v, infoOf(ctx.schemas, t), undefined, undefined, '', out);
  else toFS(ctx, v, infoOf(ctx.schemas, t), f.parent, f.pe, f.key, out);
  return out;
}

/** `pe` undefined: the root. */
function toFS(ctx: TypeContext, v: unknown, ti: TypeInfo, parent: Frame | undefined, p: PathElement | undefined, key: string, out: FieldSet): void {
  const kind = nodeKind(ti, v);
  if (kind === LEAF) {
    if (p !== undefined) addPath(out, 0, parent, key, p);
    return;
  }
  const f = p === undefined ? undefined : new Frame(parent, p, key);
  if (kind === LIST) {
    if (!Array.isArray(v)) return;
    const items = indexItems(ctx, ti, v, f, true);
    const elem = ti.sub();
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      toFS(ctx, it.value, elem, f, it.pe, it.key, out);
      addPath(out, 0, f, it.key, it.pe);
    }
    return;
  }
  if (!isPlainObject(v)) return;
  const keys = Object.keys(v);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    const val = v[k];
    if (val === undefined) continue;
    const slot = ti.field(k);
    toFS(ctx, val, slot.ti, f, slot.pe, slot.key, out);
    if (val === null || (isPlainObject(val) && isEmptyObject(val)) || !slot.declared) addPath(out, 0, f, slot.key, slot.pe);
  }
}

function isEmptyObject(o: Record<string, unknown>): boolean {
  for (const k in o) if (Object.hasOwn(o, k)) return false;
  return true;
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

const deepEqual = (a: unknown, b: unknown): boolean => {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    let na = 0;
    const ka = Object.keys(a);
    for (let i = 0; i < ka.length; i++) {
      const k = ka[i];
      const av = a[k];
      if (av === undefined) continue;
      na++;
      if (!Object.hasOwn(b, k) || !deepEqual(av, b[k])) return false;
    }
    let nb = 0;
    const kb = Object.keys(b);
    for (let i = 0; i < kb.length; i++) if (b[kb[i]] !== undefined) nb++;
    return na === nb;
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
  cmp(ctx, old, next, infoOf(ctx.schemas, t), undefined, undefined, '', out, false, false);
  return out;
}

/** The index of the first of `items[0..end)` with key `k`, or -1. */
function indexOfKey(items: IndexedItem[], k: string, end: number): number {
  for (let i = 0; i < end; i++) if (items[i].key === k) return i;
  return -1;
}

const ADDED = 0;
const MODIFIED = 1;
const REMOVED = 2;
const NO_FIELDS: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

function record(out: Comparison, which: number, parent: Frame | undefined, key: string, p: PathElement): void {
  addPath(which === ADDED ? out.added : which === MODIFIED ? out.modified : out.removed, which, parent, key, p);
}

/**
 * Compares the values at `parent` + `p` (`p` undefined: the root). `lImplied` / `rImplied`: the
 * node is absent from that side's JSON but a Go object would have it (a value struct of a present
 * parent), so it is neither added nor removed itself.
 */
function cmp(
  ctx: TypeContext, l: unknown, r: unknown, ti: TypeInfo, parent: Frame | undefined, p: PathElement | undefined, key: string,
  out: Comparison, lImplied: boolean, rImplied: boolean,
): void {
  if (l === undefined && r === undefined) return;
  const kl = nodeKind(ti, l === null ? undefined : l);
  const kr = nodeKind(ti, r === null ? undefined : r);
  if (kl === LEAF || kr === LEAF || kl !== kr) {
    if (p === undefined) return;
    if (l === undefined) record(out, ADDED, parent, key, p);
    else if (r === undefined) record(out, REMOVED, parent, key, p);
    else if (!deepEqual(l, r)) record(out, MODIFIED, parent, key, p);
    return;
  }
  const f = p === undefined ? undefined : new Frame(parent, p, key);
  if (kr === LIST) {
    const elem = ti.sub();
    const li = Array.isArray(l) ? indexItems(ctx, ti, l, f, false) : [];
    const ri = Array.isArray(r) ? indexItems(ctx, ti, r, f, false) : [];
    if (li.length === 0) {
      let done: Set<string> | undefined;
      for (let i = 0; i < ri.length; i++) {
        const it = ri[i];
        if (ri.length > 1) {
          done ??= new Set();
          if (done.has(it.key)) continue;
          done.add(it.key);
        }
        cmp(ctx, undefined, it.value, elem, f, it.pe, it.key, out, false, false);
      }
    } else if (li.length + ri.length <= 16) {
      // Short lists: the same matching by scanning.
      for (let i = 0; i < li.length; i++) {
        const k = li[i].key;
        if (indexOfKey(li, k, i) >= 0) continue;
        const j = indexOfKey(ri, k, ri.length);
        cmp(ctx, li[i].value, j >= 0 ? ri[j].value : undefined, elem, f, li[i].pe, k, out, false, false);
      }
      for (let j = 0; j < ri.length; j++) {
        const k = ri[j].key;
        if (indexOfKey(li, k, li.length) >= 0 || indexOfKey(ri, k, j) >= 0) continue;
        cmp(ctx, undefined, ri[j].value, elem, f, ri[j].pe, k, out, false, false);
      }
    } else {
      const rByKey = new Map<string, IndexedItem>();
      for (const it of ri) if (!rByKey.has(it.key)) rByKey.set(it.key, it);
      const lKeys = new Set<string>();
      for (const it of li) {
        if (lKeys.has(it.key)) continue;
        lKeys.add(it.key);
        cmp(ctx, it.value, rByKey.get(it.key)?.value, elem, f, it.pe, it.key, out, false, false);
      }
      const done = new Set<string>();
      for (const it of ri) {
        if (lKeys.has(it.key) || done.has(it.key)) continue;
        done.add(it.key);
        cmp(ctx, undefined, it.value, elem, f, it.pe, it.key, out, false, false);
      }
    }
  } else {
    const lo = isPlainObject(l) ? l : NO_FIELDS;
    const ro = isPlainObject(r) ? r : NO_FIELDS;
    const lHere = l !== undefined || lImplied;
    const rHere = r !== undefined || rImplied;
    const goStructs = !!ctx.goStructs;
    // Go structs: fields a Go object of a present parent always has are never added/removed themselves.
    const goImplied = ti.struct && goStructs;
    // A Go object cannot tell a null field from an absent one.
    if (lo !== NO_FIELDS) {
      const keys = Object.keys(lo);
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i];
        let lv = lo[k];
        if (lv === null && goStructs) lv = undefined;
        if (lv === undefined) continue;
        let rv = ro[k];
        const rRaw = rv;
        if (rv === null && goStructs) rv = undefined;
        const slot = ti.field(k);
        const rImp = rHere && (rRaw === undefined || rRaw === null) && goImplied && slot.goAlways;
        cmp(ctx, lv, rv, slot.ti, f, slot.pe, slot.key, out, false, rImp);
      }
    }
    if (ro !== NO_FIELDS) {
      const keys = Object.keys(ro);
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i];
        let rv = ro[k];
        if (rv === null && goStructs) rv = undefined;
        if (rv === undefined) continue;
        const lRaw = lo[k];
        if (lRaw !== undefined && !(lRaw === null && goStructs)) continue;
        const slot = ti.field(k);
        const lImp = lHere && (lRaw === undefined || lRaw === null) && goImplied && slot.goAlways;
        cmp(ctx, undefined, rv, slot.ti, f, slot.pe, slot.key, out, lImp, false);
      }
    }
  }
  if (p === undefined) return;
  if (l === undefined && !lImplied) record(out, ADDED, parent, key, p);
  else if (r === undefined && !rImplied) record(out, REMOVED, parent, key, p);
}

// ---------------------------------------------------------------------------------------------
// The fields of a create, straight to FieldsV1

/**
 * The levels of a FieldsV1 object being built, as a stack: each level's entries (key, value, path
 * element) are a range at the end of the arrays, replaced by the level's entry in its parent when
 * the level is done.
 */
interface Levels { keys: string[]; vals: unknown[]; pes: PathElement[]; n: number }

function pushEntry(lv: Levels, key: string, val: unknown, p: PathElement): void {
  const n = lv.n++;
  lv.keys[n] = key;
  lv.vals[n] = val;
  lv.pes[n] = p;
}

/**
 * The FieldsV1 of `added.recursiveDifference(ignored).difference(stripped)` where `added` is what
 * compareTyped(ctx, {}, next, t) reports added (and nothing is modified or removed): the fields a
 * create sets. Built while walking, without the sets. Undefined when that set is empty; null when
 * this cannot build it (a root that is not an object, keys that do not order totally): then use
 * compareTyped and the set operations.
 */
export function createdFieldsV1(ctx: TypeContext, next: unknown, t: TypeRef, ignored: FieldSet | undefined, stripped: FieldSet | undefined): Record<string, unknown> | undefined | null {
  const ti = infoOf(ctx.schemas, t);
  if (!isPlainObject(next) || nodeKind(ti, {}) !== OBJECT || nodeKind(ti, next) !== OBJECT) return null;
  const lv: Levels = { keys: [], vals: [], pes: [], n: 0 };
  // As cmp at the root: the old object is {} (present), whose inherited properties hide keys.
  const goStructs = !!ctx.goStructs;
  const goImplied = ti.struct && goStructs;
  const keys = Object.keys(next);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    let rv = next[k];
    if (rv === null && goStructs) rv = undefined;
    if (rv === undefined) continue;
    const lRaw = NO_FIELDS[k];
    if (lRaw !== undefined && !(lRaw === null && goStructs)) continue;
    const slot = ti.field(k);
    if (!addCreated(ctx, lv, rv, slot.ti, slot.key, slot.pe, goImplied && slot.goAlways, ignored, stripped)) return null;
  }
  if (lv.n === 0) return undefined;
  return fieldsV1Level(lv.keys, lv.vals, lv.pes, 0, lv.n, false) ?? null;
}

/**
 * cmp(ctx, undefined, r, ti, ..., lImplied, false) for the path `key` (element `p`) below the
 * current level of `lv`, adding to that level what it would record (less ignored and stripped
 * paths; `ign` and `strip` are the nodes of those sets at that level). False when the result
 * cannot be built here.
 */
function addCreated(
  ctx: TypeContext, lv: Levels, r: unknown, ti: TypeInfo, key: string, p: PathElement, lImplied: boolean,
  ign: FieldSet | undefined, strip: FieldSet | undefined,
): boolean {
  if (r === undefined) return true;
  if (ign !== undefined && ign.hasMemberKey(key)) return true; // the path and everything below
  const memberOK = strip === undefined || !strip.hasMemberKey(key);
  const kl = nodeKind(ti, undefined);
  const kr = nodeKind(ti, r === null ? undefined : r);
  if (kl === LEAF || kr === LEAF || kl !== kr) {
    if (memberOK) pushEntry(lv, key, {}, p);
    return true;
  }
  const subIgn = ign?.childByKey(key);
  const subStrip = strip?.childByKey(key);
  const start = lv.n;
  if (kr === LIST) {
    if (Array.isArray(r) && r.length) {
      const items = indexItems(ctx, ti, r, undefined, false);
      const elem = ti.sub();
      let done: Set<string> | undefined;
      for (let i = 0; i < items.length; i++) {
        const it = items[i];
        if (items.length > 1) {
          done ??= new Set();
          if (done.has(it.key)) continue;
          done.add(it.key);
        }
        if (!addCreated(ctx, lv, it.value, elem, it.key, it.pe, false, subIgn, subStrip)) return false;
      }
    }
  } else if (isPlainObject(r)) {
    const goStructs = !!ctx.goStructs;
    const goImplied = lImplied && ti.struct && goStructs;
    const keys = Object.keys(r);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      let rv = r[k];
      if (rv === null && goStructs) rv = undefined;
      if (rv === undefined) continue;
      const lRaw = NO_FIELDS[k];
      if (lRaw !== undefined && !(lRaw === null && goStructs)) continue;
      const slot = ti.field(k);
      if (!addCreated(ctx, lv, rv, slot.ti, slot.key, slot.pe, goImplied && slot.goAlways, subIgn, subStrip)) return false;
    }
  }
  const member = !lImplied && memberOK;
  const end = lv.n;
  if (end === start) {
    if (member) pushEntry(lv, key, {}, p);
    return true;
  }
  const o = fieldsV1Level(lv.keys, lv.vals, lv.pes, start, end, member);
  if (o === undefined) return false;
  lv.n = start;
  pushEntry(lv, key, o, p);
  return true;
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

/**
 * A deep copy of a JSON value, as structuredClone makes it (plain objects and arrays copied
 * directly; anything else handed to structuredClone).
 */
export function cloneJSON<T>(v: T): T {
  if (typeof v !== 'object' || v === null) return typeof v === 'function' || typeof v === 'symbol' ? structuredClone(v) : v;
  if (Array.isArray(v)) {
    if (Object.getPrototypeOf(v) !== Array.prototype) return structuredClone(v);
    const n = v.length;
    const out = new Array(n);
    for (let i = 0; i < n; i++) if (i in v) out[i] = cloneJSON(v[i]);
    return out as T;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return structuredClone(v);
  const src = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const keys = Object.keys(src);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    setOwn(out, k, cloneJSON(src[k]));
  }
  return out as T;
}

const clone = <T>(v: T): T => (v === undefined ? v : cloneJSON(v));

/**
 * Merges an applied configuration into a live object (upstream's Merge): associative lists merge
 * item by item (by key), sets union, maps and structs merge per field, atomic values and scalars
 * are replaced. Fields set to null in the configuration are dropped from the result. Neither input
 * is changed.
 */
export function mergeTyped(ctx: TypeContext, l: unknown, r: unknown, t: TypeRef, path: Path = []): unknown {
  return merge(ctx, l, r, infoOf(ctx.schemas, t), framesOf(path));
}

function merge(ctx: TypeContext, l: unknown, r: unknown, ti: TypeInfo, f: Frame | undefined): unknown {
  if (r === undefined) return clone(l);
  if (l === undefined || l === null || r === null) return clone(r);
  const kl = nodeKind(ti, l);
  const kr = nodeKind(ti, r);
  if (kr === LEAF || kl !== kr) return clone(r);
  if (kr === OBJECT) {
    if (!isPlainObject(l) || !isPlainObject(r)) return clone(r);
    const out: Record<string, unknown> = {};
    const lkeys = Object.keys(l);
    for (let i = 0; i < lkeys.length; i++) {
      const k = lkeys[i];
      // A field the configuration sets is merged below (and keeps this place); one it nulls is dropped.
      if (Object.hasOwn(r, k) && r[k] !== undefined) {
        if (r[k] === null) continue;
        const slot = ti.field(k);
        setOwn(out, k, merge(ctx, l[k], r[k], slot.ti, ctx.errors ? new Frame(f, slot.pe, slot.key) : undefined));
      } else setOwn(out, k, clone(l[k]));
    }
    const rkeys = Object.keys(r);
    for (let i = 0; i < rkeys.length; i++) {
      const k = rkeys[i];
      const rv = r[k];
      if (rv === undefined || rv === null || Object.hasOwn(l, k)) continue;
      const slot = ti.field(k);
      setOwn(out, k, merge(ctx, l[k], rv, slot.ti, ctx.errors ? new Frame(f, slot.pe, slot.key) : undefined));
    }
    return out;
  }
  if (!Array.isArray(l) || !Array.isArray(r)) return clone(r);
  return mergeLists(ctx, ti, l, r, f);
}

/**
 * Merges two granular lists. Items of the configuration keep their order; items only in the live
 * list keep their place relative to the items around them; an item in both is merged.
 */
function mergeLists(ctx: TypeContext, ti: TypeInfo, l: unknown[], r: unknown[], f: Frame | undefined): unknown[] {
  const li = indexItems(ctx, ti, l, f, false);
  const ri = indexItems(ctx, ti, r, f, false);
  const elem = ti.sub();
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
    out.push(merge(ctx, lMap.get(key)?.value, rv.value, elem, ctx.errors ? new Frame(f, rv.pe, rv.key) : undefined));
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
  void path; // items are keyed without recording errors: the path is not needed
  return remove(ctx, v, toRemove, infoOf(ctx.schemas, t));
}

function remove(ctx: TypeContext, v: unknown, toRemove: FieldSet, ti: TypeInfo): unknown {
  if (toRemove.isEmpty()) return v;
  const kind = nodeKind(ti, v);
  if (kind === OBJECT && isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    const keys = Object.keys(v);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      const val = v[k];
      const key = fieldKeyOf(k);
      if (toRemove.hasMemberKey(key)) continue;
      const sub = toRemove.childByKey(key);
      if (sub && val !== null && typeof val === 'object') {
        const slot = ti.field(k);
        const nv = remove(ctx, val, sub, slot.ti);
        if (isEmptyContainer(nv) && !isEmptyContainer(val)) continue;
        setOwn(out, k, nv);
      } else setOwn(out, k, val);
    }
    return out;
  }
  if (kind === LIST && Array.isArray(v)) {
    const out: unknown[] = [];
    const elem = ti.sub();
    for (let i = 0; i < v.length; i++) {
      const it = itemElement(ctx, ti, v[i], i, undefined, false);
      if (!it) { out.push(v[i]); continue; }
      if (toRemove.hasMemberKey(it.key)) continue;
      const sub = toRemove.childByKey(it.key);
      if (sub && v[i] !== null && typeof v[i] === 'object') {
        const nv = remove(ctx, v[i], sub, elem);
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
  ensureNamed(s, infoOf(ctx.schemas, t), out);
  return out;
}

function ensureNamed(src: FieldSet, ti: TypeInfo, out: FieldSet): void {
  for (const [k, p] of src.memberMap()) out.addMember(k, p);
  const children = src.childMap();
  if (children.size === 0) return;
  const kind = nodeKindOfType(ti);
  for (const [k, c] of children) {
    const p = c.pe;
    let type: TypeInfo = DEDUCED_INFO;
    if (kind === OBJECT) {
      if (p.kind === 'field') {
        const slot = ti.field(p.name);
        if (slot.declared) out.addMember(k, p);
        type = slot.ti;
      }
    } else if (kind === LIST) type = ti.sub();
    if (c.set.isEmpty()) continue;
    ensureNamed(c.set, type, out.childNode(k, p));
  }
}

/** A set of paths given as field-name lists (e.g. `[['status']]`), or already a FieldSet. */
export function toPathSet(paths: FieldSet | ReadonlyArray<ReadonlyArray<string> | Path> | undefined): FieldSet | undefined {
  if (!paths) return undefined;
  if (paths instanceof FieldSet) return paths;
  const s = new FieldSet();
  for (const p of paths) s.insert(p.map((x) => (typeof x === 'string' ? pe.field(x) : x)));
  return s;
}
