/**
 * What a CustomResourceDefinition serves: one ResourceInfo per served version (for discovery,
 * routes and storage), the OpenAPI v3 schemas of the kind and its list, the printer columns, and
 * the scale subresource's paths. Mirrors apiextensions-apiserver's discovery controller, OpenAPI
 * builder and table convertor; written from their documented behaviour, no code copied.
 */
import { fieldError, type FieldError } from '../apimachinery/errors.js';
import type { ResourceInfo, SubresourceInfo } from '../api/resources.js';
import { REF_PREFIX, type OpenAPISchema, type SchemaMap } from '../api/schema-types.js';
import { DEFAULT_CRD_PRINTER_COLUMNS, type PrinterColumn } from '../apiserver/tables/table.js';


const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => (v === undefined ? v : JSON.parse(JSON.stringify(v)));

/** The verbs discovery lists for custom resources, in the order Kubernetes lists them. */
export const CRD_VERBS = ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'];
const SUBRESOURCE_VERBS = ['get', 'patch', 'update'];

export const OBJECT_META_REF = `${REF_PREFIX}io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`;
export const LIST_META_REF = `${REF_PREFIX}io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta`;
const API_VERSION_DESCRIPTION = 'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources';
const KIND_DESCRIPTION = 'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds';
const METADATA_DESCRIPTION = "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
const LIST_METADATA_DESCRIPTION = 'Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds';

/** A version of the CRD by name. */
export function crdVersion(crd: any, version: string): any | undefined {
  return (Array.isArray(crd?.spec?.versions) ? crd.spec.versions : []).find((v: any) => v?.name === version);
}

/** The storage version's name (a valid CRD has exactly one). Throws when there is none. */
export function storageVersion(crd: any): string {
  const v = (Array.isArray(crd?.spec?.versions) ? crd.spec.versions : []).find((x: any) => x?.storage);
  if (!v) throw new Error(`invalid CustomResourceDefinition ${crd?.metadata?.name ?? ''}: no storage version`);
  return String(v.name);
}

/**
 * Kubernetes' version priority (discovery order): GA before beta before alpha, higher major and
 * minor first, and versions that do not look like Kubernetes versions last, alphabetically.
 */
export function compareVersionPriority(a: string, b: string): number {
  const parse = (v: string) => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return undefined;
    return { major: Number(m[1]), stage: m[2] === 'alpha' ? 0 : m[2] === 'beta' ? 1 : 2, minor: Number(m[3] ?? 0) };
  };
  const pa = parse(a);
  const pb = parse(b);
  if (pa && pb) {
    if (pa.stage !== pb.stage) return pb.stage - pa.stage;
    if (pa.major !== pb.major) return pb.major - pa.major;
    return pb.minor - pa.minor;
  }
  if (pa) return -1;
  if (pb) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Served version names, highest priority first. */
export function servedVersions(crd: any): string[] {
  return (Array.isArray(crd?.spec?.versions) ? crd.spec.versions : [])
    .filter((v: any) => v?.served)
    .map((v: any) => String(v.name))
    .sort(compareVersionPriority);
}

/** The names a CRD serves with: status.acceptedNames once accepted, else spec.names. */
function servingNames(crd: any): any {
  const accepted = crd?.status?.acceptedNames;
  return isObj(accepted) && accepted.plural && accepted.kind ? accepted : (crd?.spec?.names ?? {});
}

/** OpenAPI definition name of a CRD kind, as Kubernetes names it: reversed group, version, kind (`com.example.stable.v1.CronTab`). */
export function crdSchemaName(group: string, version: string, kind: string): string {
  const reversed = group.includes('.') ? group.split('.').reverse().join('.') : group;
  return `${reversed}.${version}.${kind}`;
}

/** The subresources declared for a version. */
export function crdSubresources(crd: any, version: string): { status?: Record<string, never>; scale?: any } {
  const v = crdVersion(crd, version);
  return isObj(v?.subresources) ? v.subresources : {};
}

/** One ResourceInfo per served version, highest priority version first. */
export function crdResourceInfos(crd: any): ResourceInfo[] {
  const spec = crd?.spec ?? {};
  const group = String(spec.group ?? '');
  const names = servingNames(crd);
  const kind = String(names.kind ?? '');
  const plural = String(names.plural ?? '');
  return servedVersions(crd).map((version) => {
    const sub = crdSubresources(crd, version);
    const subresources: SubresourceInfo[] = [];
    if (sub.status !== undefined && sub.status !== null) subresources.push({ name: 'status', group, version, kind, verbs: [...SUBRESOURCE_VERBS] });
    if (isObj(sub.scale)) subresources.push({ name: 'scale', group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: [...SUBRESOURCE_VERBS] });
    return {
      group,
      version,
      kind,
      listKind: String(names.listKind || `${kind}List`),
      plural,
      singular: String(names.singular || kind.toLowerCase()),
      namespaced: spec.scope === 'Namespaced',
      shortNames: Array.isArray(names.shortNames) ? [...names.shortNames] : [],
      categories: Array.isArray(names.categories) ? [...names.categories] : [],
      verbs: [...CRD_VERBS],
      subresources,
      storageResource: plural,
      storageGroup: group,
      schemaName: crdSchemaName(group, version, kind),
    };
  });
}

/** The openAPIV3Schema of a version (v1 CRDs carry one per version). */
export function crdVersionSchema(crd: any, version: string): any | undefined {
  const v = crdVersion(crd, version);
  const s = v?.schema?.openAPIV3Schema ?? crd?.spec?.validation?.openAPIV3Schema;
  return isObj(s) ? s : undefined;
}

const META_PROPS = new Set(['apiVersion', 'kind', 'metadata']);
const refWithDescription = (ref: string, description: string): OpenAPISchema => ({ allOf: [{ $ref: ref }], description });
const typeMetaProperty = (description: string): OpenAPISchema => ({ type: 'string', description });

/** addEmbeddedProperties: embedded resources get apiVersion/kind/metadata properties and require apiVersion and kind. */
function addEmbeddedProperties(s: any): void {
  if (!isObj(s)) return;
  if (isObj(s.properties)) for (const v of Object.values(s.properties)) addEmbeddedProperties(v);
  if (isObj(s.items)) addEmbeddedProperties(s.items);
  if (isObj(s.additionalProperties)) addEmbeddedProperties(s.additionalProperties);
  if (s['x-kubernetes-embedded-resource'] === true) {
    s.properties = {
      ...(isObj(s.properties) ? s.properties : {}),
      apiVersion: typeMetaProperty(API_VERSION_DESCRIPTION),
      kind: typeMetaProperty(KIND_DESCRIPTION),
      metadata: refWithDescription(OBJECT_META_REF, METADATA_DESCRIPTION),
    };
    const req: string[] = Array.isArray(s.required) ? [...s.required] : [];
    if (!req.includes('kind')) req.push('kind');
    if (!req.includes('apiVersion')) req.push('apiVersion');
    s.required = req;
  }
}

/**
 * The OpenAPI v3 definitions a served version publishes: the kind (its schema with apiVersion,
 * kind and an ObjectMeta-referencing metadata, x-kubernetes-group-version-kind) and its list.
 */
export function crdOpenAPISchemas(crd: any, version: string): SchemaMap {
  const group = String(crd?.spec?.group ?? '');
  const names = servingNames(crd);
  const kind = String(names.kind ?? '');
  const listKind = String(names.listKind || `${kind}List`);
  const plural = String(names.plural ?? '');
  const name = crdSchemaName(group, version, kind);
  const source = crdVersionSchema(crd, version);
  let schema: any;
  if (!source) {
    schema = { type: 'object' };
  } else {
    schema = clone(source);
    schema.properties = {
      ...(isObj(schema.properties) ? schema.properties : {}),
      metadata: refWithDescription(OBJECT_META_REF, METADATA_DESCRIPTION),
      apiVersion: typeMetaProperty(API_VERSION_DESCRIPTION),
      kind: typeMetaProperty(KIND_DESCRIPTION),
    };
    for (const [k, v] of Object.entries(schema.properties)) if (!META_PROPS.has(k)) addEmbeddedProperties(v);
    if (isObj(schema.items)) addEmbeddedProperties(schema.items);
  }
  schema['x-kubernetes-group-version-kind'] = [{ group, kind, version }];
  const list: OpenAPISchema = {
    description: `${listKind} is a list of ${kind}`,
    type: 'object',
    required: ['items'],
    properties: {
      apiVersion: typeMetaProperty(API_VERSION_DESCRIPTION),
      items: {
        description: `List of ${plural}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md`,
        type: 'array',
        items: { $ref: `${REF_PREFIX}${name}` },
      },
      kind: typeMetaProperty(KIND_DESCRIPTION),
      metadata: refWithDescription(LIST_META_REF, LIST_METADATA_DESCRIPTION),
    },
    'x-kubernetes-group-version-kind': [{ group, kind: listKind, version }],
  };
  return { [name]: schema as OpenAPISchema, [`${name}List`]: list };
}

/** The version's additionalPrinterColumns, or the default Age column when it has none. */
export function crdPrinterColumns(crd: any, version: string): PrinterColumn[] {
  const cols = crdVersion(crd, version)?.additionalPrinterColumns;
  if (!Array.isArray(cols) || cols.length === 0) return DEFAULT_CRD_PRINTER_COLUMNS.map((c) => ({ ...c }));
  return cols.filter(isObj).map((c: any) => {
    const out: PrinterColumn = { name: String(c.name ?? ''), type: String(c.type ?? ''), jsonPath: String(c.jsonPath ?? '') };
    if (c.format) out.format = String(c.format);
    if (c.description) out.description = String(c.description);
    if (c.priority !== undefined) out.priority = Number(c.priority);
    return out;
  });
}

export interface ScaleReplicasPaths {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

/** The scale subresource's JSON paths for a version, or undefined when it has no scale subresource. */
export function scaleReplicasPaths(crd: any, version: string): ScaleReplicasPaths | undefined {
  const scale = crdSubresources(crd, version).scale;
  if (!isObj(scale)) return undefined;
  const out: ScaleReplicasPaths = { specReplicasPath: String(scale.specReplicasPath ?? ''), statusReplicasPath: String(scale.statusReplicasPath ?? '') };
  if (typeof scale.labelSelectorPath === 'string' && scale.labelSelectorPath) out.labelSelectorPath = scale.labelSelectorPath;
  return out;
}

/** Go's %T of a JSON value as unstructured content holds it. */
function goTypeName(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int64' : 'float64';
  if (Array.isArray(v)) return '[]interface {}';
  if (isObj(v)) return 'map[string]interface {}';
  return '<nil>';
}

function nestedValue(obj: any, jsonPath: string): unknown {
  let cur = obj;
  for (const f of jsonPath.replace(/^\./, '').split('.')) {
    if (!isObj(cur)) return undefined;
    cur = cur[f];
  }
  return cur;
}

const MAX_INT32 = 2147483647;

/**
 * The scale subresource checks custom resources get on create and update: the replicas at
 * specReplicasPath and statusReplicasPath must be non-negative int32s and the labelSelectorPath
 * value a string. Fields are the JSON paths themselves (`.spec.replicas`), as Kubernetes reports.
 */
export function validateScaleReplicas(obj: any, paths: ScaleReplicasPaths | undefined): FieldError[] {
  if (!paths) return [];
  const errs: FieldError[] = [];
  const replicas = (p: string) => {
    if (!p) return;
    const v = nestedValue(obj, p);
    if (v === undefined || v === null) return;
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      errs.push(fieldError.invalid(p, 0, `${p} accessor error: ${typeof v === 'object' ? JSON.stringify(v) : String(v)} is of the type ${goTypeName(v)}, expected int64`));
    } else if (v < 0) errs.push(fieldError.invalid(p, v, 'should be a non-negative integer'));
    else if (v > MAX_INT32) errs.push(fieldError.invalid(p, v, `should be less than or equal to ${MAX_INT32}`));
  };
  replicas(paths.specReplicasPath);
  replicas(paths.statusReplicasPath);
  if (paths.labelSelectorPath) {
    const v = nestedValue(obj, paths.labelSelectorPath);
    if (v !== undefined && v !== null && typeof v !== 'string') {
      errs.push(fieldError.invalid(paths.labelSelectorPath, '', `${paths.labelSelectorPath} accessor error: ${typeof v === 'object' ? JSON.stringify(v) : String(v)} is of the type ${goTypeName(v)}, expected string`));
    }
  }
  return errs;
}
