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

function checkInteger(w: Walk, v: unknown, loc: Loc, format: string | undefined, fatal = false): void {
  if (typeof v !== 'number') {
    addTypeError(w, loc, typeMessage(jsonKind(v), loc, format === 'int64' ? 'int64' : 'int32'), fatal);
    return;
  }
  const bits = format === 'int64' ? 63 : 31;
  const max = 2 ** bits;
  if (!Number.isInteger(v) || v >= max || v < -max) {
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

function walk(w: Walk, value: unknown, schema: OpenAPISchema | undefined, loc: Loc): void {
  if (value === null || value === undefined) return;
  const r = resolve(w.schemas, schema);
  if (!r) return;
  const s = r.schema;

  if (isIntOrString(r)) {
    if (typeof value !== 'string') checkInteger(w, value, loc, 'int32', true);
    return;
  }
  if (isQuantity(r)) {
    if (typeof value === 'number' ? !Number.isFinite(value) : typeof value !== 'string' || !QUANTITY_RE.test(value.trim())) {
      addTypeError(w, loc, QUANTITY_MSG, true);
    }
    return;
  }
  if (isOpaque(r)) return;
  if (s.type === 'string' && s.format === 'date-time' && (r.name === TIME || r.name === MICRO_TIME)) {
    if (typeof value !== 'string') addTypeError(w, loc, typeMessage(jsonKind(value), loc, 'string'), true);
    else if (value !== '') {
      const err = parseTimeError(value, r.name === MICRO_TIME);
      if (err) addTypeError(w, loc, err, true);
    }
    return;
  }

  switch (s.type) {
    case 'string':
      if (typeof value !== 'string') addTypeError(w, loc, typeMessage(jsonKind(value), loc, s.format === 'byte' ? '[]uint8' : 'string'));
      else if (s.format === 'byte') {
        const at = base64ErrorIndex(value);
        if (at >= 0) addTypeError(w, loc, `illegal base64 data at input byte ${at}`);
      }
      return;
    case 'boolean':
      if (typeof value !== 'boolean') addTypeError(w, loc, typeMessage(jsonKind(value), loc, 'bool'));
      return;
    case 'integer':
      checkInteger(w, value, loc, s.format);
      return;
    case 'number':
      if (typeof value !== 'number') addTypeError(w, loc, typeMessage(jsonKind(value), loc, 'float64'));
      return;
    case 'array': {
      if (!Array.isArray(value)) {
        addTypeError(w, loc, typeMessage(jsonKind(value), loc, goType(w.schemas, s)));
        return;
      }
      const elemLoc = (i: number): Loc => ({ path: `${loc.path}[${i}]`, fields: loc.fields, struct: loc.struct });
      // An array element of the wrong type is reported with the element's Go type.
      for (let i = 0; i < value.length; i++) walk(w, value[i], s.items, elemLoc(i));
      return;
    }
    default:
      break;
  }

  // Objects (type "object" or untyped with properties / additionalProperties).
  if (!isPlainObject(value)) {
    addTypeError(w, loc, typeMessage(jsonKind(value), loc, goType(w.schemas, schema)));
    return;
  }
  const props = s.properties;
  const addl = s.additionalProperties;
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  const embedded = s['x-kubernetes-embedded-resource'] === true;
  const struct = r.name ? shortName(r.name) : loc.struct;
  for (const key of Object.keys(value)) {
    const childPath = loc.path ? `${loc.path}.${key}` : key;
    const prop = props?.[key];
    if (prop) {
      walk(w, value[key], prop, { path: childPath, fields: [...loc.fields, key], struct });
      continue;
    }
    if (addl !== undefined && addl !== false) {
      // Map values: Go keeps the enclosing struct and field in its error context (no key).
      if (typeof addl === 'object') walk(w, value[key], addl, { path: childPath, fields: loc.fields, struct: loc.struct });
      continue;
    }
    if (preserve) continue;
    if (embedded && (key === 'apiVersion' || key === 'kind' || key === 'metadata')) continue;
    w.unknown.push(childPath);
    if (w.prune) delete value[key];
  }
  return;
}

function rootLoc(schemaName: string): Loc {
  return { path: '', fields: [], struct: shortName(schemaName) };
}

/**
 * Checks a decoded request body against a named schema. Nothing is changed. Unknown-field paths and
 * type errors are in document order; pass `opts.raw` (the JSON text) to also find duplicate keys.
 */
export function checkObject(obj: unknown, schemaName: string, schemas: SchemaMap, opts: CheckOptions = {}): CheckResult {
  const w: Walk = { schemas, prune: false, unknown: [], typeErrors: [] };
  const root = schemas[schemaName];
  if (root) {
    if (!isPlainObject(obj)) {
      w.typeErrors.push({ path: '', message: `json: cannot unmarshal ${jsonKind(obj)} into Go value of type ${goNamed(schemaName)}` });
    } else {
      walk(w, obj, { $ref: REF_PREFIX + schemaName }, rootLoc(schemaName));
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
  const w: Walk = { schemas, prune: true, unknown: [], typeErrors: [] };
  if (schemas[schemaName] && isPlainObject(obj)) walk(w, obj, { $ref: REF_PREFIX + schemaName }, rootLoc(schemaName));
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
const LITERAL = /true|false|null|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

export function findDuplicateFields(raw: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = raw.length;
  const ws = () => { while (i < n && (raw[i] === ' ' || raw[i] === '\n' || raw[i] === '\r' || raw[i] === '\t')) i++; };
  const str = (): string => {
    const start = i;
    i++; // opening quote
    while (i < n && raw[i] !== '"') i += raw[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(raw.slice(start, i)) as string;
  };
  const value = (path: string): void => {
    ws();
    const c = raw[i];
    if (c === '{') {
      i++;
      const seen = new Set<string>();
      ws();
      if (raw[i] === '}') { i++; return; }
      for (;;) {
        ws();
        if (raw[i] !== '"') throw new Error('bad json');
        const key = str();
        const p = path ? `${path}.${key}` : key;
        if (seen.has(key)) out.push(p);
        seen.add(key);
        ws();
        if (raw[i] !== ':') throw new Error('bad json');
        i++;
        value(p);
        ws();
        if (raw[i] === ',') { i++; continue; }
        if (raw[i] === '}') { i++; return; }
        throw new Error('bad json');
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (raw[i] === ']') { i++; return; }
      for (let idx = 0; ; idx++) {
        value(`${path}[${idx}]`);
        ws();
        if (raw[i] === ',') { i++; continue; }
        if (raw[i] === ']') { i++; return; }
        throw new Error('bad json');
      }
    }
    if (c === '"') { str(); return; }
    LITERAL.lastIndex = i;
    const m = LITERAL.exec(raw);
    if (!m) throw new Error('bad json');
    i += m[0].length;
  };
  try {
    value('');
  } catch {
    return [];
  }
  return out;
}
