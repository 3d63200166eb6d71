/**
 * The OpenAPI v3 schema shape keelson uses everywhere (schemas of built-in kinds, CRD schemas,
 * strategic merge patch metadata). Definitions live in one map keyed by the Kubernetes schema
 * name (e.g. `io.k8s.api.core.v1.PodSpec`); references are `#/components/schemas/<name>`,
 * either directly as `$ref` or wrapped as `allOf: [{$ref}]` (as Kubernetes publishes v3).
 */
export interface OpenAPISchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  description?: string;
  properties?: Record<string, OpenAPISchema>;
  additionalProperties?: OpenAPISchema | boolean;
  items?: OpenAPISchema;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  $ref?: string;
  allOf?: OpenAPISchema[];
  nullable?: boolean;
  'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string }[];
  'x-kubernetes-patch-merge-key'?: string;
  'x-kubernetes-patch-strategy'?: string;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-unions'?: unknown[];
  [ext: `x-${string}`]: unknown;
}

/** All named schemas, keyed by schema name. */
export type SchemaMap = Record<string, OpenAPISchema>;

export const REF_PREFIX = '#/components/schemas/';

/** Follows `$ref` / single-element `allOf` wrappers to the named schema; returns the input otherwise. */
export function resolveSchema(schemas: SchemaMap, s: OpenAPISchema | undefined): OpenAPISchema | undefined {
  let cur = s;
  for (let i = 0; cur && i < 8; i++) {
    const ref = cur.$ref ?? (cur.allOf?.length === 1 ? cur.allOf[0].$ref : undefined);
    if (!ref) return cur;
    const target: OpenAPISchema | undefined = schemas[ref.slice(REF_PREFIX.length)];
    if (!target) return undefined;
    // Keep the field-level extensions (patch strategy, list type) of the referencing schema.
    const ext: OpenAPISchema = {};
    for (const [k, v] of Object.entries(cur)) if (k.startsWith('x-') || k === 'description' || k === 'default') (ext as Record<string, unknown>)[k] = v;
    cur = Object.keys(ext).length ? { ...target, ...ext } : target;
  }
  return cur;
}
