/**
 * keelson's table of Kubernetes protobuf messages: for each message reachable from the kinds it
 * decodes, field number → JSON name, type and shaping flags. Generated once by
 * `node scripts/gen-proto-tables.mjs` into proto-tables.json next to this file (see the script's
 * header for its inputs); field numbers are facts of the Kubernetes wire format.
 *
 * The JSON lives in the source tree only (tsc does not copy it), so the loader looks next to this
 * module (running from src/) and in `src/apimachinery/protobuf/` of every ancestor directory
 * (running from dist/ or another outDir), as src/api/schemas.ts does.
 */
import { dataFileCandidates } from '../../util/data-file.js';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type ScalarType =
  | 'double' | 'float' | 'int64' | 'uint64' | 'int32' | 'uint32' | 'fixed64' | 'fixed32' | 'bool'
  | 'string' | 'bytes' | 'sfixed32' | 'sfixed64' | 'sint32' | 'sint64';

/** Messages rendered as something other than a JSON object with one property per field. */
export type SpecialKind =
  | 'time' // meta/v1 Time {1 seconds, 2 nanos} → RFC 3339 string, whole seconds; zero → omitted
  | 'microTime' // meta/v1 MicroTime → RFC 3339 with 6 fractional digits; zero → omitted
  | 'duration' // meta/v1 Duration {1 nanoseconds} → Go duration string ("1h2m3s")
  | 'fieldsV1' // meta/v1 FieldsV1 {1 raw JSON} → the parsed JSON
  | 'quantity' // resource.Quantity {1 string} → the string
  | 'intOrString' // intstr.IntOrString {1 type, 2 intVal, 3 strVal} → number or string
  | 'rawExtension' // runtime.RawExtension {1 raw} → the parsed JSON object
  | 'json' // apiextensions/v1 JSON {1 raw} → the parsed JSON value
  | 'schemaOrArray' // JSONSchemaPropsOrArray → a schema or an array of schemas
  | 'schemaOrBool' // JSONSchemaPropsOrBool → a schema or a boolean
  | 'schemaOrStringArray' // JSONSchemaPropsOrStringArray → a schema or an array of strings
  | 'items'; // a Go named slice (`type ExtraValue []string`) → a JSON array

export interface ProtoField {
  /** JSON property name. */
  name: string;
  /** A ScalarType, a message name (e.g. k8s.io.api.core.v1.PodSpec), or 'map'. */
  type: string;
  repeated?: true;
  /** For type 'map': key and value types (the key is always a scalar). */
  map?: { key: string; value: string };
  /**
   * Go pointer field (`*int32`, `*bool`, `*LabelSelector`…): on the wire only when set, so its
   * value is kept even when zero. Absent = non-pointer: zero values are always on the wire.
   */
  pointer?: true;
  /** Listed in the schema's `required` (no `omitempty`): zero values stay in the JSON. */
  required?: true;
  /** Go embedded struct with `json:",inline"`: its fields belong to the enclosing object. */
  inline?: true;
}

export interface ProtoMessage {
  /** OpenAPI schema name, when keelson has one. */
  schema?: string;
  special?: SpecialKind;
  /** Keyed by field number (as a decimal string). */
  fields: Record<string, ProtoField>;
}

export interface ProtoTables {
  /** `apiVersion/kind` (e.g. apps/v1/Deployment, v1/Pod) → message name. */
  kinds: Record<string, string>;
  messages: Record<string, ProtoMessage>;
}

const FILE = 'proto-tables.json';

let cache: ProtoTables | undefined;

/** Candidate locations of the table, nearest first. */
export function protoTableCandidates(from: string = fileURLToPath(import.meta.url)): string[] {
  return dataFileCandidates(from, FILE, join('src', 'apimachinery', 'protobuf', FILE));
}

function load(): ProtoTables {
  const tried: string[] = [];
  for (const file of protoTableCandidates()) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      tried.push(file);
      continue;
    }
    const t = JSON.parse(text) as ProtoTables;
    if (!t.kinds || !t.messages) throw new Error(`keelson: ${file} is not a protobuf table`);
    return t;
  }
  throw new Error(`keelson: protobuf tables not found (run node scripts/gen-proto-tables.mjs); looked in ${tried.join(', ')}`);
}

/** The whole table (loaded once, shared: do not modify). */
export function protoTables(): ProtoTables {
  cache ??= load();
  return cache;
}

/** The message a kind is encoded as, e.g. ('apps/v1', 'Deployment') → k8s.io.api.apps.v1.Deployment. */
export function messageForKind(apiVersion: string, kind: string): string | undefined {
  const t = protoTables();
  // DeleteOptions is registered in every group version (and meta.k8s.io/v1) with one layout.
  if (kind === 'DeleteOptions' && apiVersion) return t.kinds['meta.k8s.io/v1/DeleteOptions'];
  return Object.prototype.hasOwnProperty.call(t.kinds, `${apiVersion}/${kind}`) ? t.kinds[`${apiVersion}/${kind}`] : undefined;
}

export function protoMessage(name: string): ProtoMessage | undefined {
  const t = protoTables();
  return Object.prototype.hasOwnProperty.call(t.messages, name) ? t.messages[name] : undefined;
}
