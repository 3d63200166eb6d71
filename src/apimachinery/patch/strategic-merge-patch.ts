/**
 * Kubernetes strategic merge patch (`application/strategic-merge-patch+json`), server side: apply a
 * patch (as kubectl sends it) to an object, using patch metadata from the OpenAPI schema.
 *
 * Patch metadata. For a field, the schema found by walking `properties` / `additionalProperties` /
 * `items` (following `$ref` and single-element `allOf` with resolveSchema) may carry
 * `x-kubernetes-patch-strategy` (comma-separated: `merge`, `replace`, `retainKeys`) and
 * `x-kubernetes-patch-merge-key`:
 * - list + strategy `merge` + merge key: list of maps merged element-wise by the merge key;
 * - list + strategy `merge`, primitive elements: merged as a set (union, no duplicates);
 * - any other list: replaced by the patch list;
 * - map + strategy `replace`: replaced; any other map: merged recursively.
 * Fields without a schema behave like JSON merge patch (maps merge, lists replace).
 *
 * Directives:
 * - `$patch: replace` in a map: the map becomes the patch map (minus directives).
 *   `$patch: delete` in a map: the map becomes `{}` (dropped entirely when the field is new).
 *   `$patch: merge` in a map: an explicit normal merge (upstream rejects it; we accept it).
 * - In a merging list of maps: `{"<key>": v, "$patch": "delete"}` removes the elements with that
 *   merge key value; `{"$patch": "replace"}` makes the list exactly the other patch elements;
 *   `$patch: merge` inside a list is rejected, as upstream does.
 * - `$retainKeys: [...]`: members of the original map not listed are cleared; every non-null
 *   member of the patch map must be listed.
 * - `$deleteFromPrimitiveList/<field>: [...]`: removes those values from the list `<field>`.
 * - `$setElementOrder/<field>: [...]`: final order of the list `<field>` after merging. Elements
 *   listed come in that order; elements of the live list not listed keep their relative live
 *   order and are interleaved with the listed ones by live position (upstream
 *   normalizeElementOrder/mergeSortedSlice). The elements in the patch list must appear in the
 *   same relative order as in `$setElementOrder`.
 * - a `null` member deletes the member.
 * Ordering of a merged list without `$setElementOrder`: patch elements in patch order, with
 * live-only elements interleaved by their live position (same algorithm, the patch list being the
 * order list); elements new to the list therefore come before live-only elements that follow them.
 *
 * Values copied from the patch where the live object has nothing to merge with (new fields, new
 * list elements, replaced lists/maps) are cleaned as upstream does: `null` members dropped, maps
 * carrying `$patch` dropped, and (beyond upstream, which leaves them for the typed decoder to
 * discard) the other directive keys removed.
 *
 * Errors. Kubernetes (interpretStrategicMergePatchError in handlers/patch.go) answers
 * ErrBadJSONDoc, ErrBadPatchFormatForPrimitiveList, ErrBadPatchFormatForRetainKeys,
 * ErrBadPatchFormatForSetElementOrderList and ErrUnsupportedStrategicMergePatchFormat with
 * 400 BadRequest, and ErrNoListOfLists / ErrPatchContentNotMatchRetainKeys with a 422 Invalid
 * generic response ("the server rejected our request due to an error in our request"). Every
 * other strategic merge failure (missing merge key, unknown `$patch` value, order mismatch,
 * mixed element types) reaches the client upstream as a plain error, i.e. a 500 with an empty
 * reason; we answer those with 400 BadRequest and the upstream message text instead. A patch
 * value whose JSON type contradicts the schema (e.g. an object for a list field) is rejected
 * here with 400 BadRequest (upstream fails later, decoding into the Go type, with 422 Invalid).
 *
 * Inputs are never mutated.
 */
import { resolveSchema, type OpenAPISchema, type SchemaMap } from '../../api/schema-types.js';
import { StatusError, badRequest } from '../errors.js';
import { clone, deepEqual, isObject } from '../../util/objects.js';
import { ownValue, setOwn } from './merge-patch.js';

type JsonObject = Record<string, unknown>;

const DIRECTIVE_MARKER = '$patch';
const RETAIN_KEYS_DIRECTIVE = '$retainKeys';
const DELETE_FROM_PRIMITIVE_LIST_PREFIX = '$deleteFromPrimitiveList';
const SET_ELEMENT_ORDER_PREFIX = '$setElementOrder';

/** Upstream error texts (k8s.io/apimachinery/pkg/util/mergepatch). */
export const SMP_ERRORS = {
  badJSONDoc: 'invalid JSON document',
  noListOfLists: 'lists of lists are not supported',
  badPatchFormatForPrimitiveList: 'invalid patch format of primitive list',
  badPatchFormatForRetainKeys: 'invalid patch format of retainKeys',
  badPatchFormatForSetElementOrderList: 'invalid patch format of setElementOrder list',
} as const;

const GENERIC_422_MESSAGE = 'the server rejected our request due to an error in our request';

/** Marker returned by `cleanValue` for a value that must not be kept at all. */
const DROP = Symbol('drop');

const fmt = (v: unknown) => JSON.stringify(v);
const at = (path: string) => (path ? ` at ${path}` : '');
const childPath = (path: string, key: string) => (path ? `${path}.${key}` : key);

function noMergeKey(el: unknown, mergeKey: string, path: string): StatusError {
  return badRequest(`map: ${fmt(el)} does not contain declared merge key: ${mergeKey}${at(path)}`);
}

function listOfLists(path: string): StatusError {
  const err = new StatusError(422, 'Invalid', GENERIC_422_MESSAGE, {});
  err.cause = new Error(`${SMP_ERRORS.noListOfLists}${at(path)}`);
  return err;
}

interface FieldMeta {
  /** The field's own schema, references resolved (undefined when unknown). */
  schema?: OpenAPISchema;
  /** `merge`, `replace` or '' (retainKeys is only meaningful to patch generation). */
  strategy: '' | 'merge' | 'replace';
  mergeKey?: string;
}

/** Walks `$ref`/`allOf` wrappers and the schema of one field. */
class SchemaWalker {
  constructor(private readonly schemas: SchemaMap) {}

  resolve(s: OpenAPISchema | undefined): OpenAPISchema | undefined {
    return resolveSchema(this.schemas, s);
  }

  field(parent: OpenAPISchema | undefined, key: string): FieldMeta {
    const p = this.resolve(parent);
    if (!p) return { strategy: '' };
    let raw: OpenAPISchema | undefined;
    if (p.properties && Object.hasOwn(p.properties, key)) raw = p.properties[key];
    else if (isObject(p.additionalProperties)) raw = p.additionalProperties as OpenAPISchema;
    const schema = this.resolve(raw);
    if (!schema) return { strategy: '' };
    const strategies = String(schema['x-kubernetes-patch-strategy'] ?? '').split(',').map((s) => s.trim());
    const strategy = strategies.includes('replace') ? 'replace' : strategies.includes('merge') ? 'merge' : '';
    const mergeKey = schema['x-kubernetes-patch-merge-key'];
    return { schema, strategy, mergeKey: typeof mergeKey === 'string' && mergeKey ? mergeKey : undefined };
  }

  items(list: OpenAPISchema | undefined): OpenAPISchema | undefined {
    return this.resolve(this.resolve(list)?.items);
  }
}

/**
 * Applies a strategic merge patch to a copy of `doc`. `schema` is the schema of the object
 * (e.g. the Deployment schema); `schemas` resolves its references.
 */
export function applyStrategicMergePatch(doc: unknown, patch: unknown, schema: OpenAPISchema | undefined, schemas: SchemaMap): unknown {
  // A JSON null decodes into an empty map upstream: nothing to do.
  if (patch === null || patch === undefined) return isObject(doc) ? clone(doc) : {};
  if (!isObject(patch)) {
    const kind = Array.isArray(patch) ? 'array' : typeof patch === 'boolean' ? 'bool' : typeof patch;
    throw badRequest(`json: cannot unmarshal ${kind} into Go value of type map[string]interface {}`);
  }
  const merger = new Merger(new SchemaWalker(schemas));
  return merger.mergeMap(isObject(doc) ? clone(doc) : {}, clone(patch), schema, '');
}

// ---------------------------------------------------------------------------------------------

const isDirectiveKey = (k: string) =>
  k === DIRECTIVE_MARKER || k === RETAIN_KEYS_DIRECTIVE || k.startsWith(SET_ELEMENT_ORDER_PREFIX) || k.startsWith(DELETE_FROM_PRIMITIVE_LIST_PREFIX);

/**
 * A patch value taken as is (nothing to merge with): null members dropped, maps carrying `$patch`
 * dropped, other directive keys removed (upstream discardNullValuesFromPatch + removeDirectives).
 */
function cleanValue(v: unknown): unknown {
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (const e of v) {
      const c = cleanValue(e);
      if (c !== DROP) out.push(c);
    }
    return out;
  }
  if (isObject(v)) {
    if (Object.hasOwn(v, DIRECTIVE_MARKER)) return DROP;
    return cleanMembers(v);
  }
  return v;
}

function cleanMembers(v: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [k, e] of Object.entries(v)) {
    if (e === null || isDirectiveKey(k)) continue;
    const c = cleanValue(e);
    if (c !== DROP) setOwn(out, k, c);
  }
  return out;
}

/** Equality of merge key values / primitive list elements (Go `==` on decoded JSON values). */
function sameValue(a: unknown, b: unknown): boolean {
  return a === b || (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null && deepEqual(a, b));
}

function extractKey(key: string, prefix: string, formatError: string): string {
  const slash = key.indexOf('/');
  if (slash < 0 || key.slice(0, slash) !== prefix) throw badRequest(formatError);
  return key.slice(slash + 1);
}

type ElementKind = 'map' | 'scalar' | 'empty';

/** The common element kind of the lists (all maps or all scalars of one JSON type). */
function elementKind(path: string, ...lists: unknown[][]): ElementKind {
  let kind: string | undefined;
  for (const list of lists) {
    for (const e of list) {
      if (Array.isArray(e)) throw listOfLists(path);
      const k = isObject(e) ? 'map' : e === null ? 'null' : typeof e;
      if (kind === undefined) kind = k;
      else if (kind !== k) throw badRequest(`list element types are not identical${at(path)}: ${fmt(lists)}`);
    }
  }
  return kind === undefined ? 'empty' : kind === 'map' ? 'map' : 'scalar';
}

/** Identity of a list element for ordering: its merge key value, or the element itself. */
function identity(el: unknown, mergeKey: string | undefined): unknown {
  return mergeKey ? (el as JsonObject)[mergeKey] : el;
}

function indexIn(list: unknown[], el: unknown, mergeKey: string | undefined): number {
  const id = identity(el, mergeKey);
  return list.findIndex((o) => sameValue(identity(o, mergeKey), id));
}

/** Stable sort of `items` by their position in `order` (items not found keep their place at the end). */
function sortByOrder(items: unknown[], order: unknown[], mergeKey: string | undefined): unknown[] {
  const pos = (el: unknown) => {
    const i = indexIn(order, el, mergeKey);
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  return items.map((el, i) => ({ el, i, p: pos(el) })).sort((a, b) => a.p - b.p || a.i - b.i).map((x) => x.el);
}

/**
 * Final order of a merged list: elements identified in `order` come in that order; the others
 * ("server only") keep their order in `serverOrder`; the two sequences are interleaved so that a
 * server-only element is placed before an ordered element when both are in `serverOrder` and it
 * comes first there (upstream normalizeElementOrder + mergeSortedSlice).
 */
function normalizeOrder(merged: unknown[], order: unknown[], serverOrder: unknown[], mergeKey: string | undefined, path: string): unknown[] {
  if (mergeKey) {
    for (const list of [merged, order, serverOrder]) {
      for (const el of list) if (!isObject(el) || !Object.hasOwn(el, mergeKey)) throw noMergeKey(el, mergeKey, path);
    }
  }
  const ordered: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const el of merged) (indexIn(order, el, mergeKey) >= 0 ? ordered : serverOnly).push(el);
  const right = sortByOrder(ordered, order, mergeKey);
  const left = sortByOrder(serverOnly, serverOrder, mergeKey);
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexIn(serverOrder, left[i], mergeKey);
      const ri = indexIn(serverOrder, right[j], mergeKey);
      out.push(li >= 0 && ri >= 0 && li < ri ? left[i++] : right[j++]);
    }
  }
  return out;
}

class Merger {
  constructor(private readonly walker: SchemaWalker) {}

  /** Merges `patch` into `original` (both owned by us; `original` is mutated and returned). */
  mergeMap(original: JsonObject, patch: JsonObject, schema: OpenAPISchema | undefined, path: string): JsonObject {
    if (Object.hasOwn(patch, DIRECTIVE_MARKER)) {
      const directive = patch[DIRECTIVE_MARKER];
      if (directive === 'replace') return cleanMembers(patch);
      if (directive === 'delete') return {};
      if (directive !== 'merge') throw badRequest(`unknown patch type: ${String(directive)} in map: ${fmt(patch)}${at(path)}`);
      delete patch[DIRECTIVE_MARKER];
    }
    this.applyRetainKeys(original, patch, path);
    this.applySetElementOrder(original, patch, schema, path);

    const deletions: [string, unknown][] = [];
    for (const [key, pv] of Object.entries(patch)) {
      if (key.startsWith(DELETE_FROM_PRIMITIVE_LIST_PREFIX)) {
        deletions.push([extractKey(key, DELETE_FROM_PRIMITIVE_LIST_PREFIX, SMP_ERRORS.badPatchFormatForPrimitiveList), pv]);
        continue;
      }
      if (pv === null) {
        delete original[key];
        continue;
      }
      const meta = this.walker.field(schema, key);
      const p = childPath(path, key);
      this.checkType(meta, pv, p);
      const ov = ownValue(original, key);
      let merged: unknown;
      if (isObject(pv) && isObject(ov)) {
        merged = meta.strategy === 'replace' ? cleanValue(pv) : this.mergeMap(ov, pv, meta.schema, p);
      } else if (Array.isArray(pv) && Array.isArray(ov)) {
        merged = this.mergeListField(ov, pv, meta, p);
      } else {
        // New member, or a different JSON type: the patch value replaces.
        merged = cleanValue(pv);
      }
      if (merged === DROP) delete original[key];
      else setOwn(original, key, merged);
    }

    for (const [key, pv] of deletions) {
      if (!Array.isArray(pv)) throw badRequest(`${SMP_ERRORS.badPatchFormatForPrimitiveList}${at(childPath(path, key))}`);
      const ov = ownValue(original, key);
      if (!Array.isArray(ov)) continue;
      setOwn(original, key, ov.filter((v) => !pv.some((d) => sameValue(d, v))));
    }
    return original;
  }

  /** A list field present on both sides: merged per its strategy, otherwise replaced. */
  private mergeListField(original: unknown[], patch: unknown[], meta: FieldMeta, path: string): unknown[] {
    if (meta.strategy !== 'merge') return cleanValue(patch) as unknown[];
    return this.mergeList(original, patch, meta, path);
  }

  private mergeList(original: unknown[], patch: unknown[], meta: FieldMeta, path: string): unknown[] {
    if (original.length === 0 && patch.length === 0) return original;
    const kind = elementKind(path, original, patch);

    if (kind !== 'map') {
      // A set of primitives: union without duplicates, in patch order with live-only values interleaved.
      const merged: unknown[] = [];
      for (const v of [...original, ...patch]) if (!merged.some((m) => sameValue(m, v))) merged.push(v);
      return normalizeOrder(merged, patch, original, undefined, path);
    }

    const mergeKey = meta.mergeKey;
    if (!mergeKey) throw badRequest(`cannot merge lists without merge key${at(path)}`);
    const itemSchema = this.walker.items(meta.schema);

    // Special elements first: deletions by merge key, and a replace marker.
    let live = original;
    let replace = false;
    const plain: JsonObject[] = [];
    for (const el of patch as JsonObject[]) {
      if (!Object.hasOwn(el, DIRECTIVE_MARKER)) {
        plain.push(el);
        continue;
      }
      const directive = el[DIRECTIVE_MARKER];
      if (directive === 'delete') {
        if (!Object.hasOwn(el, mergeKey)) throw noMergeKey(el, mergeKey, path);
        live = live.filter((o) => !(isObject(o) && Object.hasOwn(o, mergeKey) && sameValue(o[mergeKey], el[mergeKey])));
      } else if (directive === 'replace') {
        replace = true;
      } else if (directive === 'merge') {
        throw badRequest(`merging lists cannot yet be specified in the patch${at(path)}`);
      } else {
        throw badRequest(`unknown patch type: ${String(directive)} in map: ${fmt(el)}${at(path)}`);
      }
    }
    if (replace) return plain.map((el) => cleanMembers(el));

    const serverOrder = live.slice();
    const merged = live.slice();
    plain.forEach((el, i) => {
      if (!Object.hasOwn(el, mergeKey)) throw noMergeKey(el, mergeKey, path);
      const idx = merged.findIndex((o) => isObject(o) && Object.hasOwn(o, mergeKey) && sameValue(o[mergeKey], el[mergeKey]));
      if (idx >= 0) merged[idx] = this.mergeMap(merged[idx] as JsonObject, el, itemSchema, `${path}[${i}]`);
      else merged.push(cleanMembers(el));
    });
    return normalizeOrder(merged, plain, serverOrder, mergeKey, path);
  }

  private applyRetainKeys(original: JsonObject, patch: JsonObject, path: string): void {
    if (!Object.hasOwn(patch, RETAIN_KEYS_DIRECTIVE)) return;
    const list = patch[RETAIN_KEYS_DIRECTIVE];
    delete patch[RETAIN_KEYS_DIRECTIVE];
    if (!Array.isArray(list)) throw badRequest(`${SMP_ERRORS.badPatchFormatForRetainKeys}${at(path)}`);
    const keep = new Set(list.filter((k): k is string => typeof k === 'string'));
    for (const [k, v] of Object.entries(patch)) {
      if (v === null || k.startsWith(DELETE_FROM_PRIMITIVE_LIST_PREFIX) || k.startsWith(SET_ELEMENT_ORDER_PREFIX)) continue;
      if (!keep.has(k)) throw badRequest(`${SMP_ERRORS.badPatchFormatForRetainKeys}${at(path)}: "${k}" is not in $retainKeys`);
    }
    for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
  }

  /**
   * Handles every `$setElementOrder/<field>` of this map together with the patch list for
   * `<field>`: merges the list and enforces the order; the field is then removed from the patch.
   */
  private applySetElementOrder(original: JsonObject, patch: JsonObject, schema: OpenAPISchema | undefined, path: string): void {
    for (const key of Object.keys(patch)) {
      if (!key.startsWith(SET_ELEMENT_ORDER_PREFIX)) continue;
      const order = patch[key];
      delete patch[key];
      const field = extractKey(key, SET_ELEMENT_ORDER_PREFIX, SMP_ERRORS.badPatchFormatForSetElementOrderList);
      const p = childPath(path, field);
      if (!Array.isArray(order)) throw badRequest(`${SMP_ERRORS.badPatchFormatForSetElementOrderList}${at(p)}`);
      const pv = ownValue(patch, field);
      if (pv === null) continue; // the field is deleted; nothing to order
      const meta = this.walker.field(schema, field);
      const ov = ownValue(original, field);
      if (ov !== undefined && ov !== null && !Array.isArray(ov)) throw badRequest(`expected a list${at(p)} to apply $setElementOrder, but the object has ${fmt(ov)}`);
      if (pv !== undefined) {
        this.checkType(meta, pv, p);
        if (!Array.isArray(pv)) throw badRequest(`${SMP_ERRORS.badPatchFormatForSetElementOrderList}${at(p)}`);
      }
      const live = Array.isArray(ov) ? ov : undefined;
      const patchList = pv as unknown[] | undefined;
      if (!live && !patchList) continue;

      const kind = elementKind(p, live ?? [], patchList ?? []);
      const mergeKey = kind === 'map' ? meta.mergeKey : undefined;
      if (patchList) this.validateOrder(patchList, order, mergeKey, kind, p);

      let merged: unknown[];
      if (!patchList) merged = live!;
      else if (meta.strategy === 'merge') merged = this.mergeList(live ?? [], patchList, meta, p);
      else merged = cleanValue(patchList) as unknown[];

      // A list of maps without a merge key cannot be ordered by identity: keep the merged order.
      if (!(kind === 'map' && !mergeKey)) merged = normalizeOrder(merged, order, live ?? [], mergeKey, p);
      setOwn(original, field, merged);
      delete patch[field];
    }
  }

  /** The patch list (deletions aside) must follow the relative order of `$setElementOrder`. */
  private validateOrder(patchList: unknown[], order: unknown[], mergeKey: string | undefined, kind: ElementKind, path: string): void {
    if (order.length === 0 || patchList.length === 0) return;
    const listed = patchList.filter((el) => !(isObject(el) && Object.hasOwn(el, DIRECTIVE_MARKER)));
    if (kind === 'map' && !mergeKey) return;
    if (mergeKey) for (const el of [...listed, ...order]) if (!isObject(el) || !Object.hasOwn(el, mergeKey)) throw noMergeKey(el, mergeKey, path);
    let pi = 0;
    let si = 0;
    while (pi < listed.length && si < order.length) {
      if (sameValue(identity(listed[pi], mergeKey), identity(order[si], mergeKey))) pi++;
      si++;
    }
    if (pi < listed.length) {
      throw badRequest(`The order in patch list:\n${fmt(patchList)}\n doesn't match ${SET_ELEMENT_ORDER_PREFIX} list:\n${fmt(order)}\n${at(path)}`);
    }
  }

  /** A patch value whose JSON type contradicts the field's declared type is rejected. */
  private checkType(meta: FieldMeta, pv: unknown, path: string): void {
    const t = meta.schema?.type;
    if (pv === null || !t) return;
    if (t === 'array' && !Array.isArray(pv)) throw badRequest(`unable to apply strategic merge patch: ${path} must be a list, but the patch has ${describe(pv)}`);
    if (t === 'object' && !isObject(pv)) throw badRequest(`unable to apply strategic merge patch: ${path} must be an object, but the patch has ${describe(pv)}`);
  }
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (isObject(v)) return 'an object';
  return `${typeof v} ${fmt(v)}`;
}
