/**
 * Field validation of request bodies against the OpenAPI schemas (fieldValidation=Strict|Warn|Ignore).
 *
 * Kubernetes decodes built-in objects with sigs.k8s.io/json (a case-sensitive fork of Go's
 * encoding/json) into Go structs, so the messages here follow what that decoder reports:
 *
 *  - unknown / duplicate fields (strict decoding) are named by their path with list indices and map
 *    keys, without a leading dot: `unknown field "spec.containers[0].imagee"`,
 *    `duplicate field "metadata.name"`; several are joined with ", " after
 *    `strict decoding error: ` (see {@link strictDecodingError}).
 *  - wrong JSON types are Go's UnmarshalTypeError: `json: cannot unmarshal <string|number|number 1.5|bool|array|object>
 *    into Go struct field <InnermostStruct>.<json.field.path> of type <go type>`, where the path holds
 *    field names only (no indices, no map keys) and the type is the Go type at that position
 *    (`int32`, `string`, `[]v1.Container`, `v1.ContainerPort`, `map[string]string`).
 *    e.g. `json: cannot unmarshal string into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32`.
 *  - types with their own decoders keep their own messages: Quantity (`quantities must match the
 *    regular expression ...`), Time (`parsing time "x" as "2006-01-02T15:04:05Z07:00": cannot parse "x" as "2006"`),
 *    []byte (`illegal base64 data at input byte N`).
 *  - Kubernetes reports one decoding error, wrapped as
 *    `Pod in version "v1" cannot be handled as a Pod: <error>` (see {@link decodeErrorMessage}).
 *
 * Schemas with `x-kubernetes-preserve-unknown-fields` keep unknown fields; `x-kubernetes-int-or-string`
 * and IntOrString accept integers and strings; RawExtension, FieldsV1 and untyped schemas accept anything.
 */
import type { OpenAPISchema, SchemaMap } from './schema-types.js';
import { REF_PREFIX } from './schema-types.js';

export interface FieldTypeError {
  /** Strict-style path of the offending value, e.g. `spec.containers[0].ports[0].containerPort`. */
  path: string;
  /** The decoder message, e.g. `json: cannot unmarshal string into Go struct field ... of type int32`. */
  message: string;
  /** Errors of custom decoders (Quantity, IntOrString, Time) abort Go's decoding: they win over earlier plain type errors. */
  fatal?: boolean;
}

export interface CheckResult {
  /** Paths of fields the schema does not declare, in document order (`spec.containers[0].imagee`). */
  unknownFields: string[];
  /** Paths of keys given more than once in the raw JSON (only when `raw` was passed). */
  duplicateFields?: string[];
  typeErrors: FieldTypeError[];
}

export interface CheckOptions {
  /** The raw JSON text of the body, to find duplicate keys (JSON.parse keeps the last one silently). */
  raw?: string;
}

const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const TIME = 'io.k8s.apimachinery.pkg.apis.meta.v1.Time';
const MICRO_TIME = 'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime';
/** Built-in types that decode any JSON value (custom UnmarshalJSON keeping the raw bytes). */
const OPAQUE = new Set([
  'io.k8s.apimachinery.pkg.runtime.RawExtension',
  'io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1',
  'io.k8s.apimachinery.pkg.apis.meta.v1.Patch',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray',
]);
const QUANTITY_RE = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;
const QUANTITY_MSG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const RFC3339 = '2006-01-02T15:04:05Z07:00';
const RFC3339_MICRO = '2006-01-02T15:04:05.000000Z07:00';

interface Resolved {
  schema: OpenAPISchema;
  /** Schema name when reached through a reference. */
  name?: string;
}

interface Loc {
  /** Strict path: `spec.containers[0].name`. */
  path: string;
  /** Go error context: JSON field names only. */
  fields: string[];
  /** Innermost Go struct (short type name) whose field holds the value. */
  struct: string;
}

interface Walk {
  schemas: SchemaMap;
  prune: boolean;
  unknown: string[];
  typeErrors: FieldTypeError[];
  /** The path of the value being checked: keys and list indices (valid up to the current depth). */
  segs: Array<string | number>;
  /** The JSON field names of the path (struct fields only; valid up to the current count). */
  fields: string[];
}

function refName(s: OpenAPISchema | undefined): string | undefined {
  const ref = s?.$ref ?? (s?.allOf?.length === 1 ? s.allOf[0].$ref : undefined);
  return ref?.startsWith(REF_PREFIX) ? ref.slice(REF_PREFIX.length) : undefined;
}

function resolve(schemas: SchemaMap, s: OpenAPISchema | undefined): Resolved | undefined {
  let cur = s;
  let name: string | undefined;
  for (let i = 0; cur && i < 8; i++) {
    const n = refName(cur);
    if (!n) break;
    const target: OpenAPISchema | undefined = schemas[n];
    if (!target) return undefined;
    // Field-level extensions beside the reference apply to the referenced type at this position.
    const ext: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(cur)) if (k.startsWith('x-')) ext[k] = v;
    cur = Object.keys(ext).length ? { ...target, ...ext } : target;
    name = n;
  }
  return cur ? { schema: cur, name } : undefined;
}

const shortName = (name: string) => name.slice(name.lastIndexOf('.') + 1);

/** Go type name of a named schema: `v1.ContainerPort`, `resource.Quantity`, `intstr.IntOrString`. */
function goNamed(name: string): string {
  const parts = name.split('.');
  return parts.length >= 2 ? `${parts[parts.length - 2]}.${parts[parts.length - 1]}` : name;
}

function oneOfTypes(s: OpenAPISchema): string[] | undefined {
  const o = (s as { oneOf?: OpenAPISchema[] }).oneOf ?? (s as { anyOf?: OpenAPISchema[] }).anyOf;
  return Array.isArray(o) ? o.map((x) => x.type ?? '') : undefined;
}

function isIntOrString(r: Resolved): boolean {
  const s = r.schema;
  if (r.name === INT_OR_STRING || s['x-kubernetes-int-or-string'] === true || s.format === 'int-or-string') return true;
  const t = oneOfTypes(s);
  return !!t && t.length === 2 && t.includes('integer') && t.includes('string');
}

function isQuantity(r: Resolved): boolean {
  if (r.name === QUANTITY) return true;
  const t = oneOfTypes(r.schema);
  return !!t && t.length === 2 && t.includes('number') && t.includes('string');
}

/** Accepts any JSON value: RawExtension & co, and schemas that constrain nothing. */
function isOpaque(r: Resolved): boolean {
  if (r.name && OPAQUE.has(r.name)) return true;
  const s = r.schema;
  return !s.type && !s.properties && !s.items && s.additionalProperties === undefined && !oneOfTypes(s);
}

/** Go type of the value at a schema position, for UnmarshalTypeError messages. */
function goType(schemas: SchemaMap, s: OpenAPISchema | undefined, depth = 0): string {
  const r = resolve(schemas, s);
  if (!r || depth > 6) return 'interface {}';
  if (isIntOrString(r)) return 'intstr.IntOrString';
  if (isQuantity(r)) return 'resource.Quantity';
  if (r.name && (r.name === TIME || r.name === MICRO_TIME || OPAQUE.has(r.name))) return goNamed(r.name);
  const t = r.schema;
  switch (t.type) {
    case 'string': return t.format === 'byte' ? '[]uint8' : 'string';
    case 'boolean': return 'bool';
    case 'integer': return t.format === 'int64' ? 'int64' : 'int32';
    case 'number': return 'float64';
    case 'array': return `[]${goType(schemas, t.items, depth + 1)}`;
    case 'object':
      if (t.properties) return r.name ? goNamed(r.name) : 'map[string]interface {}';
      if (t.additionalProperties && typeof t.additionalProperties === 'object') return `map[string]${goType(schemas, t.additionalProperties, depth + 1)}`;
      return r.name ? goNamed(r.name) : 'map[string]interface {}';
    default: return r.name ? goNamed(r.name) : 'interface {}';
  }
}

/** How Go's decoder names a JSON value in "cannot unmarshal X". */
function jsonKind(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'array';
  return 'object';
}

function typeMessage(value: string, loc: Loc, type: string): string {
  if (!loc.fields.length) return `json: cannot unmarshal ${value} into Go value of type ${type}`;
  return `json: cannot unmarshal ${value} into Go struct field ${loc.struct}.${loc.fields.join('.')} of type ${type}`;
}

function addTypeError(w: Walk, loc: Loc, message: string, fatal = false): void {
  const e: FieldTypeError = { path: loc.path, message };
  if (fatal) e.fatal = true;
  w.typeErrors.push(e);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkInteger(w: Walk, v: unknown, depth: number, nf: number, struct: string, format: string | undefined, fatal = false): void {
  if (typeof v !== 'number') {
    const loc = locAt(w, depth, nf, struct);
    addTypeError(w, loc, typeMessage(jsonKind(v), loc, format === 'int64' ? 'int64' : 'int32'), fatal);
    return;
  }
  const max = format === 'int64' ? 2 ** 63 : 2 ** 31;
  if (!Number.isInteger(v) || v >= max || v < -max) {
    const loc = locAt(w, depth, nf, struct);
    addTypeError(w, loc, typeMessage(`number ${numberText(v)}`, loc, format === 'int64' ? 'int64' : 'int32'), fatal);
  }
}

/** The JSON literal Go would quote in "number X" (best effort from the parsed value). */
function numberText(v: number): string {
  return Number.isInteger(v) && Math.abs(v) >= 1e21 ? BigInt(v).toString() : String(v);
}

/** Go's time.Parse for the RFC 3339 layouts metav1.Time / MicroTime use; returns the error text or undefined. */
export function parseTimeError(value: string, micro = false): string | undefined {
  const layout = micro ? RFC3339_MICRO : RFC3339;
  const elems: [string, RegExp][] = [
    ['2006', /^\d{4}/], ['-', /^-/], ['01', /^\d{2}/], ['-', /^-/], ['02', /^\d{2}/], ['T', /^T/],
    ['15', /^\d{2}/], [':', /^:/], ['04', /^\d{2}/], [':', /^:/], ['05', /^\d{2}/],
  ];
  // RFC3339 accepts optional fractional seconds after "05"; RFC3339Micro requires exactly six digits.
  if (micro) elems.push(['.000000', /^\.\d{6}/]);
  else elems.push(['', /^(\.\d+)?/]);
  elems.push(['Z07:00', /^(Z|[+-]\d{2}:\d{2})/]);
  let rest = value;
  const got: string[] = [];
  for (const [el, re] of elems) {
    const m = re.exec(rest);
    if (!m) return `parsing time ${JSON.stringify(value)} as ${JSON.stringify(layout)}: cannot parse ${JSON.stringify(rest)} as ${JSON.stringify(el)}`;
    got.push(m[0]);
    rest = rest.slice(m[0].length);
  }
  if (rest) return `parsing time ${JSON.stringify(value)}: extra text: ${JSON.stringify(rest)}`;
  const [year, , month, , day, , hour, , min, , sec] = got.map((g) => Number(g));
  const range = (what: string) => `parsing time ${JSON.stringify(value)}: ${what} out of range`;
  if (month < 1 || month > 12) return range('month');
  const dim = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > dim) return range('day');
  if (hour > 23) return range('hour');
  if (min > 59) return range('minute');
  if (sec > 59) return range('second');
  return undefined;
}

/** Index of the first byte Go's base64.StdEncoding rejects (approximately), or -1 when the text decodes. */
function base64ErrorIndex(s: string): number {
  const body = /^[A-Za-z0-9+/]*/.exec(s)![0].length;
  const pad = s.slice(body);
  if (pad === '' || pad === '=' || pad === '==') return s.length % 4 === 0 ? -1 : Math.min(body, s.length - 1);
  return body;
}

// ---------------------------------------------------------------------------------------------
// The walk
//
// A schema position is prepared once per (schemas, schema node) as a Checker: the resolved schema,
// what kind of check it needs, and (filled in on first use) the checkers of its properties, items
// and map values. The path of the value being checked is kept on a stack in the Walk and turned
// into a Loc only when something is reported.

const C_INT_OR_STRING = 0;
const C_QUANTITY = 1;
const C_OPAQUE = 2;
const C_TIME = 3;
const C_STRING = 4;
const C_BOOLEAN = 5;
const C_INTEGER = 6;
const C_NUMBER = 7;
const C_ARRAY = 8;
const C_OBJECT = 9;

class Checker {
  readonly mode: number;
  readonly schema: OpenAPISchema;
  /** Short Go type name of the struct when reached through a reference (`Container`). */
  readonly structName: string | undefined;
  readonly props: Record<string, OpenAPISchema> | undefined;
  readonly addl: OpenAPISchema | boolean | undefined;
  readonly preserve: boolean;
  readonly embedded: boolean;
  private propCheckers: Map<string, Checker | null> | undefined;
  private addlChecker: Checker | null | undefined;
  private itemsChecker: Checker | null | undefined;

  constructor(private readonly schemas: SchemaMap, readonly r: Resolved, readonly orig: OpenAPISchema | undefined) {
    const s = r.schema;
    this.schema = s;
    this.structName = r.name ? shortName(r.name) : undefined;
    this.props = s.properties;
    this.addl = s.additionalProperties;
    this.preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
    this.embedded = s['x-kubernetes-embedded-resource'] === true;
    if (isIntOrString(r)) this.mode = C_INT_OR_STRING;
    else if (isQuantity(r)) this.mode = C_QUANTITY;
    else if (isOpaque(r)) this.mode = C_OPAQUE;
    else if (s.type === 'string' && s.format === 'date-time' && (r.name === TIME || r.name === MICRO_TIME)) this.mode = C_TIME;
    else {
      switch (s.type) {
        case 'string': this.mode = C_STRING; break;
        case 'boolean': this.mode = C_BOOLEAN; break;
        case 'integer': this.mode = C_INTEGER; break;
        case 'number': this.mode = C_NUMBER; break;
        case 'array': this.mode = C_ARRAY; break;
        default: this.mode = C_OBJECT;
      }
    }
  }

  /** The checker of property `key`, whose schema is `prop`. */
  prop(key: string, prop: OpenAPISchema): Checker | undefined {
    let m = this.propCheckers;
    if (m === undefined) m = this.propCheckers = new Map();
    let c = m.get(key);
    if (c === undefined) {
      c = checkerOf(this.schemas, prop) ?? null;
      m.set(key, c);
    }
    return c ?? undefined;
  }

  addlItem(): Checker | undefined {
    if (this.addlChecker === undefined) this.addlChecker = checkerOf(this.schemas, this.addl as OpenAPISchema) ?? null;
    return this.addlChecker ?? undefined;
  }

  items(): Checker | undefined {
    if (this.itemsChecker === undefined) this.itemsChecker = checkerOf(this.schemas, this.schema.items) ?? null;
    return this.itemsChecker ?? undefined;
  }
}

const checkers = new WeakMap<SchemaMap, WeakMap<object, Checker | null>>();
const rootCheckers = new WeakMap<SchemaMap, Map<string, Checker | null>>();

/** The checker of a schema position (undefined: nothing to check, as when the schema does not resolve). */
function checkerOf(schemas: SchemaMap, s: OpenAPISchema | undefined): Checker | undefined {
  if (typeof s !== 'object' && typeof s !== 'function') return s ? compile(schemas, s) : undefined;
  if (s === null) return undefined;
  let m = checkers.get(schemas);
  if (m === undefined) checkers.set(schemas, (m = new WeakMap()));
  let c = m.get(s);
  if (c === undefined) {
    c = compile(schemas, s) ?? null;
    m.set(s, c);
  }
  return c ?? undefined;
}

function compile(schemas: SchemaMap, s: OpenAPISchema | undefined): Checker | undefined {
  const r = resolve(schemas, s);
  return r ? new Checker(schemas, r, s) : undefined;
}

function rootChecker(schemas: SchemaMap, schemaName: string): Checker | undefined {
  let m = rootCheckers.get(schemas);
  if (m === undefined) rootCheckers.set(schemas, (m = new Map()));
  let c = m.get(schemaName);
  if (c === undefined) {
    c = compile(schemas, { $ref: REF_PREFIX + schemaName }) ?? null;
    m.set(schemaName, c);
  }
  return c ?? undefined;
}

/** The strict path of a position from its segments: keys joined by ".", indices as `[i]`. */
function pathFrom(segs: ReadonlyArray<string | number>, depth: number): string {
  let p = '';
  for (let i = 0; i < depth; i++) {
    const s = segs[i];
    if (typeof s === 'number') p = `${p}[${s}]`;
    else p = p ? `${p}.${s}` : s;
  }
  return p;
}

function locAt(w: Walk, depth: number, nf: number, struct: string): Loc {
  return { path: pathFrom(w.segs, depth), fields: w.fields.slice(0, nf), struct };
}

/**
 * Checks `value` at the position `w.segs[0..depth)` (with the JSON field names `w.fields[0..nf)`
 * and innermost Go struct `struct`) against its checker.
 */
function walk(w: Walk, value: unknown, c: Checker | undefined, depth: number, nf: number, struct: string): void {
  if (value === null || value === undefined) return;
  if (c === undefined) return;
  switch (c.mode) {
    case C_INT_OR_STRING:
      if (typeof value !== 'string') checkInteger(w, value, depth, nf, struct, 'int32', true);
      return;
    case C_QUANTITY:
      if (typeof value === 'number' ? !Number.isFinite(value) : typeof value !== 'string' || !QUANTITY_RE.test(value.trim())) {
        addTypeError(w, locAt(w, depth, nf, struct), QUANTITY_MSG, true);
      }
      return;
    case C_OPAQUE:
      return;
    case C_TIME:
      if (typeof value !== 'string') {
        const loc = locAt(w, depth, nf, struct);
        addTypeError(w, loc, typeMessage(jsonKind(value), loc, 'string'), true);
      } else if (value !== '') {
        const err = parseTimeError(value, c.r.name === MICRO_TIME);
        if (err) addTypeError(w, locAt(w, depth, nf, struct), err, true);
      }
      return;
    case C_STRING:
      if (typeof value !== 'string') {
        const loc = locAt(w, depth, nf, struct);
        addTypeError(w, loc, typeMessage(jsonKind(value), loc, c.schema.format === 'byte' ? '[]uint8' : 'string'));
      } else if (c.schema.format === 'byte') {
        const at = base64ErrorIndex(value);
        if (at >= 0) addTypeError(w, locAt(w, depth, nf, struct), `illegal base64 data at input byte ${at}`);
      }
      return;
    case C_BOOLEAN:
      if (typeof value !== 'boolean') {
        const loc = locAt(w, depth, nf, struct);
        addTypeError(w, loc, typeMessage(jsonKind(value), loc, 'bool'));
      }
      return;
    case C_INTEGER:
      checkInteger(w, value, depth, nf, struct, c.schema.format);
      return;
    case C_NUMBER:
      if (typeof value !== 'number') {
        const loc = locAt(w, depth, nf, struct);
        addTypeError(w, loc, typeMessage(jsonKind(value), loc, 'float64'));
      }
      return;
    case C_ARRAY: {
      if (!Array.isArray(value)) {
        const loc = locAt(w, depth, nf, struct);
        addTypeError(w, loc, typeMessage(jsonKind(value), loc, goType(w.schemas, c.schema)));
        return;
      }
      // An array element of the wrong type is reported with the element's Go type.
      const items = c.items();
      if (items === undefined) return;
      const segs = w.segs;
      for (let i = 0; i < value.length; i++) {
        segs[depth] = i;
        walk(w, value[i], items, depth + 1, nf, struct);
      }
      return;
    }
    default:
      break;
  }

  // Objects (type "object" or untyped with properties / additionalProperties).
  if (!isPlainObject(value)) {
    const loc = locAt(w, depth, nf, struct);
    addTypeError(w, loc, typeMessage(jsonKind(value), loc, goType(w.schemas, c.orig)));
    return;
  }
  const props = c.props;
  const addl = c.addl;
  const inner = c.structName ?? struct;
  const segs = w.segs;
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const prop = props?.[key];
    if (prop) {
      segs[depth] = key;
      w.fields[nf] = key;
      walk(w, value[key], c.prop(key, prop), depth + 1, nf + 1, inner);
      continue;
    }
    if (addl !== undefined && addl !== false) {
      // Map values: Go keeps the enclosing struct and field in its error context (no key).
      if (typeof addl === 'object') {
        segs[depth] = key;
        walk(w, value[key], c.addlItem(), depth + 1, nf, struct);
      }
      continue;
    }
    if (c.preserve) continue;
    if (c.embedded && (key === 'apiVersion' || key === 'kind' || key === 'metadata')) continue;
    segs[depth] = key;
    w.unknown.push(pathFrom(segs, depth + 1));
    if (w.prune) delete value[key];
  }
}

function newWalk(schemas: SchemaMap, prune: boolean): Walk {
  return { schemas, prune, unknown: [], typeErrors: [], segs: [], fields: [] };
}

/**
 * Checks a decoded request body against a named schema. Nothing is changed. Unknown-field paths and
 * type errors are in document order; pass `opts.raw` (the JSON text) to also find duplicate keys.
 */
export function checkObject(obj: unknown, schemaName: string, schemas: SchemaMap, opts: CheckOptions = {}): CheckResult {
  const w = newWalk(schemas, false);
  const root = schemas[schemaName];
  if (root) {
    if (!isPlainObject(obj)) {
      w.typeErrors.push({ path: '', message: `json: cannot unmarshal ${jsonKind(obj)} into Go value of type ${goNamed(schemaName)}` });
    } else {
      walk(w, obj, rootChecker(schemas, schemaName), 0, 0, shortName(schemaName));
    }
  }
  const result: CheckResult = { unknownFields: w.unknown, typeErrors: w.typeErrors };
  if (opts.raw !== undefined) result.duplicateFields = findDuplicateFields(opts.raw);
  return result;
}

/**
 * Drops the fields the schema does not declare, in place (what Kubernetes does for built-in types
 * with fieldValidation=Ignore or Warn: the Go structs cannot hold them). Returns the dropped paths.
 */
export function pruneUnknown(obj: unknown, schemaName: string, schemas: SchemaMap): string[] {
  const w = newWalk(schemas, true);
  if (schemas[schemaName] && isPlainObject(obj)) walk(w, obj, rootChecker(schemas, schemaName), 0, 0, shortName(schemaName));
  return w.unknown;
}

/** `unknown field "a.b"` / `duplicate field "c"` entries, as Kubernetes words them (also used for Warning headers). */
export function fieldErrors(result: CheckResult): string[] {
  return [
    ...result.unknownFields.map((f) => `unknown field ${JSON.stringify(f)}`),
    ...(result.duplicateFields ?? []).map((f) => `duplicate field ${JSON.stringify(f)}`),
  ];
}

/** `strict decoding error: unknown field "spec.foo", duplicate field "x"`, or undefined when there is nothing to report. */
export function strictDecodingError(result: CheckResult): string | undefined {
  const errs = fieldErrors(result);
  return errs.length ? `strict decoding error: ${errs.join(', ')}` : undefined;
}

/**
 * The one decoding error Kubernetes reports: the first error of a custom decoder (it aborts Go's
 * decoding), otherwise the first plain type error.
 */
export function firstTypeError(result: CheckResult): FieldTypeError | undefined {
  return result.typeErrors.find((e) => e.fatal) ?? result.typeErrors[0];
}

/** `Pod in version "v1" cannot be handled as a Pod: <detail>` — the BadRequest message of a body that does not decode. */
export function decodeErrorMessage(kind: string, version: string, detail: string): string {
  return `${kind} in version ${JSON.stringify(version)} cannot be handled as a ${kind}: ${detail}`;
}

/**
 * Paths of keys that appear twice in the same JSON object of `raw` (strict-path format, e.g.
 * `metadata.name`, `spec.containers[0].image`). Returns [] for text that is not valid JSON.
 */

export function findDuplicateFields(raw: string): string[] {
  const scan = new DuplicateScan(raw);
  try {
    scan.value(0);
  } catch {
    return [];
  }
  return scan.out;
}

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

/** The scanner of findDuplicateFields; any malformed input throws. */
class DuplicateScan {
  readonly out: string[] = [];
  private i = 0;
  private readonly n: number;
  /** The path of the current value: keys and list indices, made into text only for a duplicate. */
  private readonly segs: Array<string | number> = [];

  constructor(private readonly raw: string) {
    this.n = raw.length;
  }

  private ws(): void {
    const raw = this.raw;
    let i = this.i;
    for (;;) {
      const c = raw.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
    this.i = i;
  }

  /** A string at the opening quote; returns its value. */
  private str(): string {
    const raw = this.raw;
    const n = this.n;
    const start = this.i;
    let i = start + 1;
    let plain = true;
    while (i < n) {
      const c = raw.charCodeAt(i);
      if (c === 0x22) break;
      if (c === 0x5c) {
        plain = false;
        i += 2;
        continue;
      }
      if (c < 0x20) plain = false;
      i++;
    }
    i++;
    this.i = i;
    // Without escapes or control characters the text is the string itself; otherwise JSON decides.
    if (plain && i <= n) return raw.slice(start + 1, i - 1);
    return JSON.parse(raw.slice(start, i)) as string;
  }

  /** `true`, `false`, `null` or a number, as `/true|false|null|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y` matches them. */
  private literal(): void {
    const raw = this.raw;
    let i = this.i;
    if (raw.startsWith('true', i) || raw.startsWith('null', i)) {
      this.i = i + 4;
      return;
    }
    if (raw.startsWith('false', i)) {
      this.i = i + 5;
      return;
    }
    if (raw.charCodeAt(i) === 0x2d) i++; // -
    if (!isDigit(raw.charCodeAt(i))) throw new Error('bad json');
    while (isDigit(raw.charCodeAt(i))) i++;
    if (raw.charCodeAt(i) === 0x2e && isDigit(raw.charCodeAt(i + 1))) { // .\d+
      i += 2;
      while (isDigit(raw.charCodeAt(i))) i++;
    }
    const e = raw.charCodeAt(i);
    if (e === 0x65 || e === 0x45) { // [eE][+-]?\d+
      let j = i + 1;
      const sign = raw.charCodeAt(j);
      if (sign === 0x2b || sign === 0x2d) j++;
      if (isDigit(raw.charCodeAt(j))) {
        while (isDigit(raw.charCodeAt(j))) j++;
        i = j;
      }
    }
    this.i = i;
  }

  value(depth: number): void {
    const raw = this.raw;
    this.ws();
    const c = raw.charCodeAt(this.i);
    if (c === 0x7b) { // {
      this.i++;
      // The keys seen: a list while short, a set beyond.
      const keys: string[] = [];
      let seen: Set<string> | undefined;
      this.ws();
      if (raw.charCodeAt(this.i) === 0x7d) { this.i++; return; }
      for (;;) {
        this.ws();
        if (raw.charCodeAt(this.i) !== 0x22) throw new Error('bad json');
        const key = this.str();
        this.segs[depth] = key;
        let dup: boolean;
        if (seen !== undefined) {
          dup = seen.has(key);
          seen.add(key);
        } else {
          dup = keys.includes(key);
          if (!dup) {
            keys.push(key);
            if (keys.length > 16) seen = new Set(keys);
          }
        }
        if (dup) this.out.push(pathFrom(this.segs, depth + 1));
        this.ws();
        if (raw.charCodeAt(this.i) !== 0x3a) throw new Error('bad json');
        this.i++;
        this.value(depth + 1);
        this.ws();
        const d = raw.charCodeAt(this.i);
        if (d === 0x2c) { this.i++; continue; }
        if (d === 0x7d) { this.i++; return; }
        throw new Error('bad json');
      }
    }
    if (c === 0x5b) { // [
      this.i++;
      this.ws();
      if (raw.charCodeAt(this.i) === 0x5d) { this.i++; return; }
      for (let idx = 0; ; idx++) {
        this.segs[depth] = idx;
        this.value(depth + 1);
        this.ws();
        const d = raw.charCodeAt(this.i);
        if (d === 0x2c) { this.i++; continue; }
        if (d === 0x5d) { this.i++; return; }
        throw new Error('bad json');
      }
    }
    if (c === 0x22) { this.str(); return; }
    this.literal();
  }
}
