/**
 * CustomResourceDefinition (apiextensions.k8s.io/v1) defaulting, validation and status, with the
 * messages and field paths Kubernetes prints (apiextensions-apiserver's apis/apiextensions/
 * validation, apiserver/schema/validation.go and complete.go, defaulting/validation.go).
 *
 * Kubernetes validates the *internal* form of a CRD: when every version carries the same schema
 * (or subresources, or printer columns) the v1→internal conversion moves it to the top level, so
 * errors in a schema shared by all versions are reported under `spec.validation.openAPIV3Schema…`
 * (and `spec.subresources…`, `spec.additionalPrinterColumns[i]…`); otherwise under
 * `spec.versions[i].schema.openAPIV3Schema…`. This file reproduces that.
 *
 * Written from the documented behaviour; no code copied.
 */
import { fieldError, fieldErrorMessage, type FieldError } from '../apimachinery/errors.js';
import {
  isDNS1035Label, isDNS1123Subdomain, nameIsDNSSubdomain, validateImmutableField,
  validateObjectMeta, validateObjectMetaUpdate, type NameFn,
} from '../apimachinery/validation.js';
import {
  StructuralSchema, compileValidationRule, goRegExp, resolveRuleFieldPath, validateEmbeddedResources, type ValidationRule,
} from './schema.js';


const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => (v === undefined ? v : JSON.parse(JSON.stringify(v)));

/** apiequality.Semantic.DeepEqual on JSON: empty and missing slices/maps are equal. */
function semanticEqual(a: unknown, b: unknown): boolean {
  const norm = (v: unknown): unknown => {
    if (v === undefined || v === null) return undefined;
    if (Array.isArray(v)) return v.length ? v.map((x) => norm(x) ?? null) : undefined;
    if (isObj(v)) {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) {
        const n = norm(v[k]);
        if (n !== undefined) out[k] = n;
      }
      return Object.keys(out).length ? out : {};
    }
    return v;
  };
  return JSON.stringify(norm(a)) === JSON.stringify(norm(b));
}

// =============================================================================================
// defaulting, create/update preparation and status

/** SetDefaults for a v1 CRD: names.singular (lowercase kind), names.listKind (kind + "List"), conversion None, webhook service port 443, status.storedVersions. */
export function defaultCRD(crd: any): void {
  if (!isObj(crd)) return;
  crd.spec ??= {};
  const spec = crd.spec;
  spec.names ??= {};
  const names = spec.names;
  if (!names.singular && typeof names.kind === 'string') names.singular = names.kind.toLowerCase();
  if (!names.listKind && names.kind) names.listKind = `${names.kind}List`;
  if (!spec.conversion) spec.conversion = { strategy: 'None' };
  const svc = spec.conversion?.webhook?.clientConfig?.service;
  if (isObj(svc) && svc.port === undefined) svc.port = 443;
  if (!Array.isArray(crd.status?.storedVersions) || crd.status.storedVersions.length === 0) {
    const storage = (Array.isArray(spec.versions) ? spec.versions : []).find((v: any) => v?.storage);
    if (storage) crd.status = { ...(isObj(crd.status) ? crd.status : {}), storedVersions: [storage.name] };
  }
}

/** The registry's PrepareForCreate: status reset to the storage version, generation 1. */
export function prepareCRDForCreate(crd: any): void {
  const storage = (crd.spec?.versions ?? []).find((v: any) => v?.storage);
  crd.status = { acceptedNames: { plural: '', kind: '' }, storedVersions: storage ? [storage.name] : [] };
  crd.metadata ??= {};
  crd.metadata.generation = 1;
}

/** The registry's PrepareForUpdate: status kept, generation bumped on spec changes, a new storage version recorded. */
export function prepareCRDForUpdate(crd: any, old: any): void {
  crd.status = clone(old.status ?? {});
  crd.metadata ??= {};
  const gen = old.metadata?.generation ?? 1;
  crd.metadata.generation = semanticEqual(crd.spec, old.spec) ? gen : gen + 1;
  const storage = (crd.spec?.versions ?? []).find((v: any) => v?.storage);
  if (storage) {
    crd.status.storedVersions ??= [];
    if (!crd.status.storedVersions.includes(storage.name)) crd.status.storedVersions.push(storage.name);
  }
}

/** Whether the CRD has the Established=True condition. */
export function isCRDEstablished(crd: any): boolean {
  return (crd?.status?.conditions ?? []).some((c: any) => c?.type === 'Established' && c?.status === 'True');
}

/**
 * The status a CRD has once the naming and establishing controllers accepted it: acceptedNames
 * from spec.names, NamesAccepted=True (NoConflicts) and Established=True (InitialNamesAccepted),
 * storedVersions including the storage version. Existing transition times are kept.
 */
export function crdStatus(crd: any, now: Date = new Date()): any {
  const names = crd?.spec?.names ?? {};
  const accepted: Record<string, unknown> = { plural: names.plural ?? '' };
  if (names.singular) accepted.singular = names.singular;
  if (Array.isArray(names.shortNames) && names.shortNames.length) accepted.shortNames = [...names.shortNames];
  accepted.kind = names.kind ?? '';
  if (names.listKind) accepted.listKind = names.listKind;
  if (Array.isArray(names.categories) && names.categories.length) accepted.categories = [...names.categories];
  const ts = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const prev = (type: string) => (crd?.status?.conditions ?? []).find((c: any) => c?.type === type);
  const cond = (type: string, reason: string, message: string) => {
    const p = prev(type);
    return { type, status: 'True', lastTransitionTime: p?.status === 'True' && p.lastTransitionTime ? p.lastTransitionTime : ts, reason, message };
  };
  const stored: string[] = [...(crd?.status?.storedVersions ?? [])];
  const storage = (crd?.spec?.versions ?? []).find((v: any) => v?.storage);
  if (storage && !stored.includes(storage.name)) stored.push(storage.name);
  return {
    conditions: [
      cond('NamesAccepted', 'NoConflicts', 'no conflicts found'),
      cond('Established', 'InitialNamesAccepted', 'the initial names have been accepted'),
    ],
    acceptedNames: accepted,
    storedVersions: stored,
  };
}

// =============================================================================================
// the internal view of a v1 CRD spec

interface InternalVersion {
  name: string;
  served: boolean;
  storage: boolean;
  deprecated: boolean;
  deprecationWarning?: unknown;
  schema?: any;
  subresources?: any;
  additionalPrinterColumns?: any[];
  original: any;
}

interface InternalSpec {
  group: string;
  names: any;
  scope: string;
  version: string;
  versions: InternalVersion[];
  validation?: any;
  subresources?: any;
  additionalPrinterColumns?: any[];
  conversion?: any;
  preserveUnknownFields: boolean;
  originalVersions: unknown;
}

const nonEmpty = (a: unknown): any[] | undefined => (Array.isArray(a) && a.length ? a : undefined);

/** v1 → internal: identical per-version schemas/subresources/columns move to the top level. */
function internalSpec(spec: any): InternalSpec {
  const versions: InternalVersion[] = (Array.isArray(spec?.versions) ? spec.versions : []).map((v: any) => ({
    name: String(v?.name ?? ''),
    served: !!v?.served,
    storage: !!v?.storage,
    deprecated: !!v?.deprecated,
    deprecationWarning: v?.deprecationWarning,
    schema: v?.schema ?? undefined,
    subresources: v?.subresources ?? undefined,
    additionalPrinterColumns: nonEmpty(v?.additionalPrinterColumns),
    original: v,
  }));
  const out: InternalSpec = {
    group: String(spec?.group ?? ''),
    names: isObj(spec?.names) ? spec.names : {},
    scope: String(spec?.scope ?? ''),
    version: versions[0]?.name ?? '',
    versions,
    conversion: spec?.conversion,
    preserveUnknownFields: spec?.preserveUnknownFields === true,
    originalVersions: spec?.versions,
  };
  if (versions.length) {
    const same = (f: (v: InternalVersion) => unknown) => versions.every((v) => semanticEqual(f(v), f(versions[0])));
    if (same((v) => v.subresources)) {
      out.subresources = versions[0].subresources;
      for (const v of versions) v.subresources = undefined;
    }
    if (same((v) => v.schema)) {
      out.validation = versions[0].schema;
      for (const v of versions) v.schema = undefined;
    }
    if (same((v) => v.additionalPrinterColumns)) {
      out.additionalPrinterColumns = versions[0].additionalPrinterColumns;
      for (const v of versions) v.additionalPrinterColumns = undefined;
    }
  }
  return out;
}

// =============================================================================================
// options

interface Options {
  allowDefaults: boolean;
  requireOpenAPISchema: boolean;
  requireValidPropertyType: boolean;
  requireStructuralSchema: boolean;
  requirePrunedDefaults: boolean;
  requireAtomicSetType: boolean;
  requireMapListKeysMapSetValidation: boolean;
  requireRecognizedConversionReviewVersion: boolean;
}

const CREATE_OPTIONS: Options = {
  allowDefaults: true, requireOpenAPISchema: true, requireValidPropertyType: true, requireStructuralSchema: true,
  requirePrunedDefaults: true, requireAtomicSetType: true, requireMapListKeysMapSetValidation: true,
  requireRecognizedConversionReviewVersion: true,
};

const OPENAPI_V3_TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string'];
const PRINTER_COLUMN_TYPES = ['boolean', 'date', 'integer', 'number', 'string'];
const PRINTER_COLUMN_FORMATS = ['byte', 'date', 'date-time', 'double', 'float', 'int32', 'int64', 'password'];
const SUPPORTED_REASONS = ['FieldValueDuplicate', 'FieldValueForbidden', 'FieldValueInvalid', 'FieldValueRequired'];
const META_FIELDS = new Set(['metadata', 'kind', 'apiVersion']);
const API_APPROVAL_ANNOTATION = 'api-approved.kubernetes.io';

/** Go field names of the schema keys allowed at the root when the status subresource is enabled. */
const ALLOWED_AT_ROOT_WITH_STATUS: Record<string, string> = {
  description: 'Description', type: 'Type', format: 'Format', title: 'Title', maximum: 'Maximum',
  exclusiveMaximum: 'ExclusiveMaximum', minimum: 'Minimum', exclusiveMinimum: 'ExclusiveMinimum', maxLength: 'MaxLength',
  minLength: 'MinLength', pattern: 'Pattern', maxItems: 'MaxItems', minItems: 'MinItems', uniqueItems: 'UniqueItems',
  multipleOf: 'MultipleOf', required: 'Required', items: 'Items', properties: 'Properties', externalDocs: 'ExternalDocs',
  example: 'Example', 'x-kubernetes-preserve-unknown-fields': 'XPreserveUnknownFields', 'x-kubernetes-validations': 'XValidations',
};
const ALLOWED_AT_ROOT_LIST = '[Description Type Format Title Maximum ExclusiveMaximum Minimum ExclusiveMinimum MaxLength MinLength Pattern MaxItems MinItems UniqueItems MultipleOf Required Items Properties ExternalDocs Example XPreserveUnknownFields XValidations]';

// =============================================================================================
// entry points

function crdNameFn(spec: InternalSpec): NameFn {
  return (name, prefix) => {
    const errs = nameIsDNSSubdomain(name, prefix);
    if (name !== `${spec.names.plural ?? ''}.${spec.group}`) errs.push('must be spec.names.plural+"."+spec.group');
    return errs;
  };
}

/** ValidateCustomResourceDefinition (create). Never throws. */
export function validateCRD(crd: any): FieldError[] {
  const c = isObj(crd) ? crd : {};
  const spec = internalSpec(c.spec);
  const errs = validateObjectMeta(c.metadata, { namespaced: false, nameFn: crdNameFn(spec), kubeFinalizers: false });
  errs.push(...validateSpec(spec, CREATE_OPTIONS, 'spec'));
  errs.push(...validateStatus(c.status));
  const stored = Array.isArray(c.status?.storedVersions) ? c.status.storedVersions : spec.versions.filter((v) => v.storage).slice(0, 1).map((v) => v.name);
  errs.push(...validateStoredVersions(stored, spec.versions));
  errs.push(...validateAPIApproval(c, undefined));
  errs.push(...validatePreserveUnknownFields(c, undefined));
  return errs;
}

/** ValidateCustomResourceDefinitionUpdate. Never throws. */
export function validateCRDUpdate(crd: any, old: any): FieldError[] {
  const c = isObj(crd) ? crd : {};
  const o = isObj(old) ? old : {};
  const spec = internalSpec(c.spec);
  const oldSpec = internalSpec(o.spec);
  const opts: Options = {
    ...CREATE_OPTIONS,
    requireOpenAPISchema: allVersionsSpecifySchema(oldSpec),
    requireValidPropertyType: !specHas(oldSpec, (s) => typeof s.type === 'string' && s.type !== '' && !OPENAPI_V3_TYPES.includes(s.type)),
    requireAtomicSetType: !specHas(oldSpec, hasNonAtomicSetType),
    requireMapListKeysMapSetValidation: !specHas(oldSpec, (s) => validateMapListKeysMapSet(s, '').length > 0),
    requirePrunedDefaults: !specHasUnprunedDefaults(oldSpec),
    requireRecognizedConversionReviewVersion: !isObj(oldSpec.conversion) || hasValidConversionReviewVersionOrEmpty(oldSpec.conversion?.webhook?.conversionReviewVersions),
  };
  const errs = validateObjectMetaUpdate(c.metadata, o.metadata, 'metadata', { kubeFinalizers: false });
  errs.push(...validateSpec(spec, opts, 'spec'));
  if (isCRDEstablished(o)) {
    errs.push(...validateImmutableField(spec.scope, oldSpec.scope, 'spec.scope'));
    errs.push(...validateImmutableField(spec.names.kind, oldSpec.names.kind, 'spec.names.kind'));
  }
  errs.push(...validateImmutableField(spec.group, oldSpec.group, 'spec.group'));
  errs.push(...validateImmutableField(spec.names.plural, oldSpec.names.plural, 'spec.names.plural'));
  errs.push(...validateStatus(c.status));
  errs.push(...validateStoredVersions(Array.isArray(c.status?.storedVersions) ? c.status.storedVersions : [], spec.versions));
  errs.push(...validateAPIApproval(c, o));
  errs.push(...validatePreserveUnknownFields(c, o));
  return errs;
}

/** ValidateUpdateCustomResourceDefinitionStatus (the status subresource). */
export function validateCRDStatusUpdate(crd: any, old: any): FieldError[] {
  const errs = validateObjectMetaUpdate(crd?.metadata, old?.metadata, 'metadata', { kubeFinalizers: false });
  errs.push(...validateStatus(crd?.status));
  return errs;
}

// =============================================================================================
// spec

function validateEnumStrings(path: string, value: unknown, accepted: string[], required: boolean): FieldError[] {
  if (value === undefined || value === null || value === '') return required ? [fieldError.required(path, '')] : [];
  return accepted.includes(String(value)) ? [] : [fieldError.notSupported(path, value, accepted)];
}

function validateSpec(spec: InternalSpec, opts: Options, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const p = (s: string) => `${path}.${s}`;
  if (!spec.group) errs.push(fieldError.required(p('group'), ''));
  else {
    const e = isDNS1123Subdomain(spec.group);
    if (e.length) errs.push(fieldError.invalid(p('group'), spec.group, e.join(',')));
    else if (spec.group.split('.').length < 2) errs.push(fieldError.invalid(p('group'), spec.group, 'should be a domain with at least one dot'));
  }
  errs.push(...validateEnumStrings(p('scope'), spec.scope, ['Cluster', 'Namespaced'], true));

  const o: Options = { ...opts };
  if (!spec.preserveUnknownFields) o.requireStructuralSchema = true;
  const topSchema = spec.validation?.openAPIV3Schema;
  if (o.requireOpenAPISchema) {
    if (!isObj(topSchema)) {
      spec.versions.forEach((v, i) => {
        if (!isObj(v.schema?.openAPIV3Schema)) errs.push(fieldError.required(`${path}.versions[${i}].schema.openAPIV3Schema`, 'schemas are required'));
      });
    }
  } else if (!spec.preserveUnknownFields && !isObj(topSchema)) {
    spec.versions.forEach((v, i) => {
      if (v.served && !isObj(v.schema?.openAPIV3Schema)) errs.push(fieldError.required(`${path}.versions[${i}].schema.openAPIV3Schema`, 'because otherwise all fields are pruned'));
    });
  }
  if (o.allowDefaults && specHas(spec, (s) => s.default !== undefined)) {
    o.requireStructuralSchema = true;
    if (spec.preserveUnknownFields) errs.push(fieldError.invalid(p('preserveUnknownFields'), true, 'must be false in order to use defaults in the schema'));
  }

  let storageCount = 0;
  const seen = new Set<string>();
  let unique = true;
  spec.versions.forEach((v, i) => {
    if (v.storage) storageCount++;
    if (seen.has(v.name)) unique = false;
    seen.add(v.name);
    const vp = `${path}.versions[${i}]`;
    const e = isDNS1035Label(v.name);
    if (e.length) errs.push(fieldError.invalid(`${vp}.name`, v.name, e.join(',')));
    const subresources = spec.versions.some((x) => x.subresources !== undefined) ? v.subresources : spec.subresources;
    errs.push(...validateVersion(v, vp, isObj(subresources) && subresources.status !== undefined && subresources.status !== null, o));
  });
  if (!unique) errs.push(fieldError.invalid(p('versions'), spec.originalVersions ?? [], 'must contain unique version names'));
  if (storageCount !== 1) errs.push(fieldError.invalid(p('versions'), spec.originalVersions ?? [], 'must have exactly one version marked as storage version'));
  if (spec.version) {
    const e = isDNS1035Label(spec.version);
    if (e.length) errs.push(fieldError.invalid(p('version'), spec.version, e.join(',')));
  }

  const names = spec.names;
  if (!names.plural) errs.push(fieldError.required(p('names.plural'), ''));
  if (!names.singular) errs.push(fieldError.required(p('names.singular'), ''));
  if (!names.kind) errs.push(fieldError.required(p('names.kind'), ''));
  if (!names.listKind) errs.push(fieldError.required(p('names.listKind'), ''));
  errs.push(...validateNames(names, p('names')));

  const anyStatus = [spec.subresources, ...spec.versions.map((v) => v.subresources)].some((s) => isObj(s) && s.status !== undefined && s.status !== null);
  errs.push(...validateValidation(spec.validation, anyStatus, o, p('validation')));
  errs.push(...validateSubresources(spec.subresources, p('subresources')));
  (spec.additionalPrinterColumns ?? []).forEach((col, i) => errs.push(...validateColumn(col, `${path}.additionalPrinterColumns[${i}]`)));

  const conv = spec.conversion;
  if (isObj(conv) && conv.strategy !== 'None' && spec.preserveUnknownFields) {
    errs.push(fieldError.invalid(p('conversion.strategy'), conv.strategy, 'must be None if spec.preserveUnknownFields is true'));
  }
  errs.push(...validateConversion(conv, o.requireRecognizedConversionReviewVersion, p('conversion')));
  return errs;
}

function validateVersion(v: InternalVersion, path: string, statusEnabled: boolean, opts: Options): FieldError[] {
  const errs: FieldError[] = [];
  for (const msg of validateDeprecationWarning(v.deprecated, v.deprecationWarning)) {
    errs.push(fieldError.invalid(`${path}.deprecationWarning`, v.deprecationWarning, msg));
  }
  errs.push(...validateValidation(v.schema, statusEnabled, opts, `${path}.schema`));
  errs.push(...validateSubresources(v.subresources, `${path}.subresources`));
  (v.additionalPrinterColumns ?? []).forEach((col, i) => errs.push(...validateColumn(col, `${path}.additionalPrinterColumns[${i}]`)));
  return errs;
}

function validateDeprecationWarning(deprecated: boolean, warning: unknown): string[] {
  if (!deprecated && warning !== undefined && warning !== null) return ['can only be set for deprecated versions'];
  if (warning === undefined || warning === null) return [];
  const w = String(warning);
  const out: string[] = [];
  if (Buffer.byteLength(w) > 256) out.push('must be <= 256 characters long');
  if (w.length === 0) out.push('must not be an empty string');
  let i = 0;
  for (const ch of w) {
    const cp = ch.codePointAt(0) as number;
    if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) {
      out.push(`must only contain printable UTF-8 characters; non-printable character found at index ${i}`);
      break;
    }
    i += Buffer.byteLength(ch);
  }
  return out;
}

function validateNames(names: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!isObj(names)) return errs;
  const label = (field: string, v: unknown) => {
    if (typeof v !== 'string' || !v) return;
    const e = isDNS1035Label(v);
    if (e.length) errs.push(fieldError.invalid(`${path}.${field}`, v, e.join(',')));
  };
  const mixed = (field: string, v: unknown) => {
    if (typeof v !== 'string' || !v) return;
    const e = isDNS1035Label(v.toLowerCase());
    if (e.length) errs.push(fieldError.invalid(`${path}.${field}`, v, `may have mixed case, but should otherwise match: ${e.join(',')}`));
  };
  label('plural', names.plural);
  label('singular', names.singular);
  mixed('kind', names.kind);
  mixed('listKind', names.listKind);
  (Array.isArray(names.shortNames) ? names.shortNames : []).forEach((s: string, i: number) => {
    const e = isDNS1035Label(String(s));
    if (e.length) errs.push(fieldError.invalid(`${path}.shortNames[${i}]`, s, e.join(',')));
  });
  if (names.kind && names.kind === names.listKind) errs.push(fieldError.invalid(`${path}.listKind`, names.listKind, 'kind and listKind may not be the same'));
  (Array.isArray(names.categories) ? names.categories : []).forEach((s: string, i: number) => {
    const e = isDNS1035Label(String(s));
    if (e.length) errs.push(fieldError.invalid(`${path}.categories[${i}]`, s, e.join(',')));
  });
  return errs;
}

function validateStatus(status: any): FieldError[] {
  return validateNames(isObj(status?.acceptedNames) ? status.acceptedNames : {}, 'status.acceptedNames');
}

function validateStoredVersions(stored: unknown[], versions: InternalVersion[]): FieldError[] {
  const path = 'status.storedVersions';
  if (!stored.length) return [fieldError.invalid(path, stored, 'must have at least one stored version')];
  const errs: FieldError[] = [];
  const remaining = new Map<string, number>();
  stored.forEach((v, i) => remaining.set(String(v), i));
  for (const v of versions) {
    if (v.storage && !remaining.has(v.name)) errs.push(fieldError.invalid(path, stored, `must have the storage version ${v.name}`));
    remaining.delete(v.name);
  }
  for (const [v, i] of remaining) {
    errs.push(fieldError.invalid(`${path}[${i}]`, v, `missing from spec.versions; ${v} was previously a storage version, and must remain in spec.versions until a storage migration ensures no data remains persisted in ${v} and removes ${v} from status.storedVersions`));
  }
  return errs;
}

function isProtectedCommunityGroup(group: string): boolean {
  return group === 'k8s.io' || group.endsWith('.k8s.io') || group === 'kubernetes.io' || group.endsWith('.kubernetes.io');
}

function apiApprovalState(annotations: any): { state: 'missing' | 'bypassed' | 'approved' | 'invalid'; reason: string } {
  const v = isObj(annotations) ? annotations[API_APPROVAL_ANNOTATION] : undefined;
  if (v === undefined) return { state: 'missing', reason: `protected groups must have approval annotation "${API_APPROVAL_ANNOTATION}", see https://github.com/kubernetes/enhancements/pull/1111` };
  const s = String(v);
  if (s.startsWith('unapproved')) return { state: 'bypassed', reason: '' };
  try {
    const u = new URL(s);
    if (u.host && u.protocol) return { state: 'approved', reason: '' };
  } catch {
    // invalid
  }
  return { state: 'invalid', reason: `protected groups must have approval annotation "${API_APPROVAL_ANNOTATION}" with either a URL or a reason starting with "unapproved", see https://github.com/kubernetes/enhancements/pull/1111` };
}

function validateAPIApproval(crd: any, old: any): FieldError[] {
  const group = String(crd?.spec?.group ?? '');
  if (!isProtectedCommunityGroup(group)) return [];
  const next = apiApprovalState(crd?.metadata?.annotations);
  if (old) {
    const prev = apiApprovalState(old?.metadata?.annotations);
    if (prev.state === next.state) return [];
  }
  const path = `metadata.annotations[${API_APPROVAL_ANNOTATION}]`;
  switch (next.state) {
    case 'missing': return [fieldError.required(path, next.reason)];
    case 'invalid': return [fieldError.invalid(path, crd.metadata.annotations[API_APPROVAL_ANNOTATION], next.reason)];
    default: return [];
  }
}

function validatePreserveUnknownFields(crd: any, old: any): FieldError[] {
  if (old?.spec?.preserveUnknownFields === true) return [];
  if (crd?.spec?.preserveUnknownFields === true) {
    return [fieldError.invalid('spec.preserveUnknownFields', true, 'cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead')];
  }
  return [];
}

// --- conversion

const ACCEPTED_REVIEW_VERSIONS = ['v1', 'v1beta1'];
function hasValidConversionReviewVersionOrEmpty(versions: unknown): boolean {
  if (!Array.isArray(versions) || versions.length === 0) return true;
  return versions.some((v) => ACCEPTED_REVIEW_VERSIONS.includes(String(v)));
}

function validateConversion(conv: any, requireRecognized: boolean, path: string): FieldError[] {
  if (!isObj(conv)) return [];
  const errs = validateEnumStrings(`${path}.strategy`, conv.strategy, ['None', 'Webhook'], true);
  const webhook = isObj(conv.webhook) ? conv.webhook : undefined;
  const cc = webhook?.clientConfig;
  const versions = webhook?.conversionReviewVersions;
  if (conv.strategy === 'Webhook') {
    if (!isObj(cc)) errs.push(fieldError.required(`${path}.webhookClientConfig`, 'required when strategy is set to Webhook'));
    else {
      const hasURL = cc.url !== undefined && cc.url !== null;
      const hasSvc = isObj(cc.service);
      if (hasURL === hasSvc) errs.push(fieldError.required(`${path}.webhookClientConfig`, 'exactly one of url or service is required'));
      else if (hasURL) errs.push(...validateWebhookURL(`${path}.webhookClientConfig.url`, String(cc.url)));
      else errs.push(...validateWebhookService(`${path}.webhookClientConfig.service`, cc.service));
    }
    if (!Array.isArray(versions) || versions.length === 0) errs.push(fieldError.required(`${path}.conversionReviewVersions`, ''));
    else {
      const seenV = new Set<string>();
      let accepted = false;
      versions.forEach((v: unknown, i: number) => {
        const s = String(v);
        if (seenV.has(s)) {
          errs.push(fieldError.invalid(`${path}.conversionReviewVersions[${i}]`, s, 'duplicate version'));
          return;
        }
        seenV.add(s);
        for (const m of isDNS1035Label(s)) errs.push(fieldError.invalid(`${path}.conversionReviewVersions[${i}]`, s, m));
        if (ACCEPTED_REVIEW_VERSIONS.includes(s)) accepted = true;
      });
      if (requireRecognized && !accepted) errs.push(fieldError.invalid(`${path}.conversionReviewVersions`, versions, `must include at least one of ${ACCEPTED_REVIEW_VERSIONS.join(', ')}`));
    }
  } else {
    if (cc !== undefined && cc !== null) errs.push(fieldError.forbidden(`${path}.webhookClientConfig`, 'should not be set when strategy is not set to Webhook'));
    if (Array.isArray(versions) && versions.length) errs.push(fieldError.forbidden(`${path}.conversionReviewVersions`, 'should not be set when strategy is not set to Webhook'));
  }
  return errs;
}

function validateWebhookURL(path: string, raw: string): FieldError[] {
  let u: URL;
  try {
    u = new URL(raw);
  } catch (e) {
    return [fieldError.invalid(path, raw, `url must be a valid URL: ${(e as Error).message}`)];
  }
  const errs: FieldError[] = [];
  if (u.protocol !== 'https:') errs.push(fieldError.invalid(path, raw, "'https' is the only allowed URL scheme"));
  if (!u.host) errs.push(fieldError.invalid(path, raw, 'host must be specified'));
  if (u.username || u.password) errs.push(fieldError.invalid(path, raw, 'user information is not permitted in the URL'));
  if (u.hash || raw.includes('#')) errs.push(fieldError.invalid(path, raw, 'fragments are not permitted in the URL'));
  if (u.search || raw.includes('?')) errs.push(fieldError.invalid(path, raw, 'query parameters are not permitted in the URL'));
  return errs;
}

function validateWebhookService(path: string, svc: any): FieldError[] {
  const errs: FieldError[] = [];
  if (!svc.name) errs.push(fieldError.required(`${path}.name`, 'service name is required'));
  if (!svc.namespace) errs.push(fieldError.required(`${path}.namespace`, 'service namespace is required'));
  if (svc.path !== undefined && svc.path !== null) {
    const sp = String(svc.path);
    if (!sp.startsWith('/')) errs.push(fieldError.invalid(`${path}.path`, sp, "must start with a '/'"));
  }
  if (svc.port !== undefined && (!Number.isInteger(svc.port) || svc.port < 1 || svc.port > 65535)) {
    errs.push(fieldError.invalid(`${path}.port`, svc.port, 'port is not valid: must be between 1 and 65535, inclusive'));
  }
  return errs;
}

// --- subresources and printer columns

function validateSimpleJSONPath(s: string, path: string): FieldError[] {
  if (s.length === 0) return [fieldError.invalid(path, s, 'must not be empty')];
  if (s[0] !== '.') return [fieldError.invalid(path, s, 'must be a simple json path starting with .')];
  return [];
}

function validateSubresources(sub: any, path: string): FieldError[] {
  if (!isObj(sub) || !isObj(sub.scale)) return [];
  const errs: FieldError[] = [];
  const scale = sub.scale;
  const spec = scale.specReplicasPath;
  if (!spec) errs.push(fieldError.required(`${path}.scale.specReplicasPath`, ''));
  else {
    const e = validateSimpleJSONPath(String(spec), `${path}.scale.specReplicasPath`);
    if (e.length) errs.push(...e);
    else if (!String(spec).startsWith('.spec.')) errs.push(fieldError.invalid(`${path}.scale.specReplicasPath`, spec, 'should be a json path under .spec'));
  }
  const status = scale.statusReplicasPath;
  if (!status) errs.push(fieldError.required(`${path}.scale.statusReplicasPath`, ''));
  else {
    const e = validateSimpleJSONPath(String(status), `${path}.scale.statusReplicasPath`);
    if (e.length) errs.push(...e);
    else if (!String(status).startsWith('.status.')) errs.push(fieldError.invalid(`${path}.scale.statusReplicasPath`, status, 'should be a json path under .status'));
  }
  const sel = scale.labelSelectorPath;
  if (typeof sel === 'string' && sel.length) {
    const e = validateSimpleJSONPath(sel, `${path}.scale.labelSelectorPath`);
    if (e.length) errs.push(...e);
    else if (!sel.startsWith('.spec.') && !sel.startsWith('.status.')) errs.push(fieldError.invalid(`${path}.scale.labelSelectorPath`, sel, 'should be a json path under either .spec or .status'));
  }
  return errs;
}

function validateColumn(col: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const c = isObj(col) ? col : {};
  if (!c.name) errs.push(fieldError.required(`${path}.name`, ''));
  if (!c.type) errs.push(fieldError.required(`${path}.type`, `must be one of ${PRINTER_COLUMN_TYPES.join(',')}`));
  else if (!PRINTER_COLUMN_TYPES.includes(c.type)) errs.push(fieldError.invalid(`${path}.type`, c.type, `must be one of ${PRINTER_COLUMN_TYPES.join(',')}`));
  if (c.format && !PRINTER_COLUMN_FORMATS.includes(c.format)) errs.push(fieldError.invalid(`${path}.format`, c.format, `must be one of ${PRINTER_COLUMN_FORMATS.join(',')}`));
  if (!c.jsonPath) errs.push(fieldError.required(`${path}.JSONPath`, ''));
  else errs.push(...validateSimpleJSONPath(String(c.jsonPath), `${path}.JSONPath`));
  return errs;
}

// =============================================================================================
// schemas

/** Calls pred on every schema node (items, properties, additionalProperties, allOf/anyOf/oneOf/not, …). */
function schemaHas(s: any, pred: (s: any) => boolean): boolean {
  if (!isObj(s)) return false;
  if (pred(s)) return true;
  const subs: any[] = [];
  if (isObj(s.items)) subs.push(s.items);
  if (Array.isArray(s.items)) subs.push(...s.items);
  for (const k of ['allOf', 'anyOf', 'oneOf']) if (Array.isArray(s[k])) subs.push(...s[k]);
  if (isObj(s.not)) subs.push(s.not);
  for (const k of ['properties', 'patternProperties', 'definitions']) if (isObj(s[k])) subs.push(...Object.values(s[k]));
  if (isObj(s.additionalProperties)) subs.push(s.additionalProperties);
  if (isObj(s.additionalItems)) subs.push(s.additionalItems);
  if (isObj(s.dependencies)) for (const d of Object.values(s.dependencies)) if (isObj(d)) subs.push(d);
  return subs.some((x) => schemaHas(x, pred));
}

function specSchemas(spec: InternalSpec): any[] {
  const out: any[] = [];
  if (isObj(spec.validation?.openAPIV3Schema)) out.push(spec.validation.openAPIV3Schema);
  for (const v of spec.versions) if (isObj(v.schema?.openAPIV3Schema)) out.push(v.schema.openAPIV3Schema);
  return out;
}

const specHas = (spec: InternalSpec, pred: (s: any) => boolean) => specSchemas(spec).some((s) => schemaHas(s, pred));

function allVersionsSpecifySchema(spec: InternalSpec): boolean {
  if (isObj(spec.validation?.openAPIV3Schema)) return true;
  return spec.versions.every((v) => isObj(v.schema?.openAPIV3Schema));
}

function hasNonAtomicSetType(s: any): boolean {
  if (s['x-kubernetes-list-type'] !== 'set' || !isObj(s.items)) return false;
  const is = s.items;
  if (is.type === 'array') return is['x-kubernetes-list-type'] !== undefined && is['x-kubernetes-list-type'] !== 'atomic';
  if (is.type === 'object') return is['x-kubernetes-map-type'] !== 'atomic';
  return false;
}

function specHasUnprunedDefaults(spec: InternalSpec): boolean {
  return specSchemas(spec).some((root) => {
    if (!schemaHas(root, (s) => s.default !== undefined)) return false;
    if (validateStructural(root, '').length) return false;
    let unpruned = false;
    walkDefaults(root, '', true, false, (s, _p, embedded) => {
      const copy = clone(s.default);
      if (new StructuralSchema(s, { resourceRoot: embedded }).prune(copy).length) unpruned = true;
    });
    return unpruned;
  });
}

/** The int-or-string pattern `anyOf: [{type: integer}, {type: string}]`. */
function isIntOrStringAnyOf(xs: unknown): boolean {
  return Array.isArray(xs) && xs.length === 2 && isObj(xs[0]) && isObj(xs[1]) && xs[0].type === 'integer' && xs[1].type === 'string'
    && Object.keys(xs[0]).length === 1 && Object.keys(xs[1]).length === 1;
}

interface SSV {
  allowDefaults: boolean;
  disallowDefaultsReason?: string;
  insideResourceMeta: boolean;
  requireValidPropertyType: boolean;
  uncorrelatablePath?: string;
}

interface SchemaErrors { schema: FieldError[]; cel: FieldError[] }

function validateValidation(validation: any, statusEnabled: boolean, opts: Options, path: string): FieldError[] {
  if (!isObj(validation)) return [];
  const errs: FieldError[] = [];
  const schema = validation.openAPIV3Schema;
  const sp = `${path}.openAPIV3Schema`;
  if (isObj(schema)) {
    if (statusEnabled) {
      for (const k of Object.keys(schema)) {
        if (schema[k] === undefined || schema[k] === null || schema[k] === false || schema[k] === '' || schema[k] === 0) continue;
        if (k === 'type') {
          if (schema.type !== 'object') {
            errs.push(fieldError.invalid(`${sp}.type`, schema.type, 'only "object" is allowed as the type at the root of the schema if the status subresource is enabled'));
            break;
          }
          continue;
        }
        if (!ALLOWED_AT_ROOT_WITH_STATUS[k]) {
          errs.push(fieldError.invalid(sp, schema, `only ${ALLOWED_AT_ROOT_LIST} fields are allowed at the root of the schema if the status subresource is enabled`));
          break;
        }
      }
    }
    if (schema.nullable === true) errs.push(fieldError.forbidden(`${sp}.nullable`, 'nullable cannot be true at the root'));

    let celEnabled = false;
    if (opts.requireStructuralSchema) {
      const structural = validateStructural(schema, sp);
      if (structural.length) errs.push(...structural);
      else {
        const defaults = validateDefaults(schema, sp, opts.requirePrunedDefaults);
        if (defaults.length) errs.push(...defaults);
        else celEnabled = true;
      }
    }
    const ssv: SSV = { allowDefaults: opts.allowDefaults, insideResourceMeta: false, requireValidPropertyType: opts.requireValidPropertyType };
    const r = validateOpenAPISchema(schema, sp, ssv, true, opts, celEnabled);
    errs.push(...r.schema, ...r.cel);
    if (!errs.length) {
      try {
        goRegExpAll(schema);
      } catch (e) {
        errs.push(fieldError.invalid(path, '', `error building validator: ${(e as Error).message}`));
      }
    }
  }
  return errs;
}

/** Throws when a pattern cannot be compiled (the validator could not be built). */
function goRegExpAll(schema: any): void {
  schemaHas(schema, (s) => {
    if (typeof s.pattern === 'string') goRegExp(s.pattern);
    return false;
  });
}

function ssvValidate(s: any, path: string, ssv: SSV): FieldError[] {
  const errs: FieldError[] = [];
  if (ssv.requireValidPropertyType && typeof s.type === 'string' && s.type && !OPENAPI_V3_TYPES.includes(s.type)) {
    errs.push(fieldError.notSupported(`${path}.type`, s.type, OPENAPI_V3_TYPES));
  }
  if (s.default !== undefined && !ssv.allowDefaults) {
    errs.push(fieldError.forbidden(`${path}.default`, `must not be set${ssv.disallowDefaultsReason ? ` ${ssv.disallowDefaultsReason}` : ''}`));
  }
  if (s.id) errs.push(fieldError.forbidden(`${path}.id`, 'id is not supported'));
  if (s.additionalItems !== undefined) errs.push(fieldError.forbidden(`${path}.additionalItems`, 'additionalItems is not supported'));
  if (isObj(s.patternProperties) && Object.keys(s.patternProperties).length) errs.push(fieldError.forbidden(`${path}.patternProperties`, 'patternProperties is not supported'));
  if (isObj(s.definitions) && Object.keys(s.definitions).length) errs.push(fieldError.forbidden(`${path}.definitions`, 'definitions is not supported'));
  if (s.dependencies !== undefined) errs.push(fieldError.forbidden(`${path}.dependencies`, 'dependencies is not supported'));
  if (s.$ref !== undefined) errs.push(fieldError.forbidden(`${path}.$ref`, '$ref is not supported'));
  if (s.type === 'null') errs.push(fieldError.forbidden(`${path}.type`, 'type cannot be set to null, use nullable as an alternative'));
  if (Array.isArray(s.items) && s.items.length) errs.push(fieldError.forbidden(`${path}.items`, 'items must be a schema object and not an array'));
  if (ssv.insideResourceMeta && s['x-kubernetes-embedded-resource']) errs.push(fieldError.forbidden(`${path}.x-kubernetes-embedded-resource`, 'must not be used inside of resource meta'));
  return errs;
}

const HAS_NEWLINE = /[\n\r]+/;

function validateOpenAPISchema(s: any, path: string, ssv: SSV, isRoot: boolean, opts: Options, celEnabled: boolean): SchemaErrors {
  const out: SchemaErrors = { schema: [], cel: [] };
  if (!isObj(s)) return out;
  const add = (r: SchemaErrors) => {
    out.schema.push(...r.schema);
    out.cel.push(...r.cel);
  };
  out.schema.push(...ssvValidate(s, path, ssv));
  if (s.uniqueItems === true) out.schema.push(fieldError.forbidden(`${path}.uniqueItems`, 'uniqueItems cannot be set to true since the runtime complexity becomes quadratic'));

  if (s.additionalProperties !== undefined && s.additionalProperties !== null) {
    if (isObj(s.properties) && Object.keys(s.properties).length && (s.additionalProperties === false || isObj(s.additionalProperties))) {
      out.schema.push(fieldError.forbidden(`${path}.additionalProperties`, 'additionalProperties and properties are mutual exclusive'));
    }
    const sub = ssv.insideResourceMeta ? { ...ssv, allowDefaults: false, disallowDefaultsReason: 'inside additionalProperties applying to object metadata' } : ssv;
    add(validateOpenAPISchema(isObj(s.additionalProperties) ? s.additionalProperties : undefined, `${path}.additionalProperties`, sub, false, opts, celEnabled));
  }
  if (isObj(s.properties)) {
    for (const [k, prop] of Object.entries(s.properties)) {
      let sub: SSV = ssv;
      if (s['x-kubernetes-map-type'] === 'atomic' && !sub.uncorrelatablePath) sub = { ...sub, uncorrelatablePath: path };
      if ((isRoot || s['x-kubernetes-embedded-resource']) && META_FIELDS.has(k)) {
        sub = { ...sub, insideResourceMeta: true };
        if (isRoot) sub = { ...sub, allowDefaults: false, disallowDefaultsReason: `in top-level ${k}` };
      }
      add(validateOpenAPISchema(prop, `${path}.properties[${k}]`, sub, false, opts, celEnabled));
    }
  }
  const noCel = (x: any, p: string) => add(validateOpenAPISchema(x, p, ssv, false, opts, false));
  if (isObj(s.not)) noCel(s.not, `${path}.not`);
  for (const k of ['allOf', 'oneOf', 'anyOf']) if (Array.isArray(s[k])) s[k].forEach((x: any, i: number) => noCel(x, `${path}.${k}[${i}]`));
  if (isObj(s.items) || Array.isArray(s.items)) {
    let sub = ssv;
    if (s['x-kubernetes-list-type'] !== 'map' && !sub.uncorrelatablePath) sub = { ...sub, uncorrelatablePath: path };
    if (isObj(s.items)) add(validateOpenAPISchema(s.items, `${path}.items`, sub, false, opts, celEnabled));
    else (s.items as any[]).forEach((x: any, i: number) => add(validateOpenAPISchema(x, `${path}.items[${i}]`, sub, false, opts, false)));
  }

  if (s['x-kubernetes-preserve-unknown-fields'] === false) {
    out.schema.push(fieldError.invalid(`${path}.x-kubernetes-preserve-unknown-fields`, false, 'must be true or undefined'));
  }
  const mapType = s['x-kubernetes-map-type'];
  if (mapType !== undefined && s.type !== 'object') {
    if (!s.type) out.schema.push(fieldError.required(`${path}.type`, 'must be object if x-kubernetes-map-type is specified'));
    else out.schema.push(fieldError.invalid(`${path}.type`, s.type, 'must be object if x-kubernetes-map-type is specified'));
  }
  if (mapType !== undefined && mapType !== 'atomic' && mapType !== 'granular') {
    out.schema.push(fieldError.notSupported(`${path}.x-kubernetes-map-type`, mapType, ['atomic', 'granular']));
  }
  const listType = s['x-kubernetes-list-type'];
  if (listType !== undefined && s.type !== 'array') {
    if (!s.type) out.schema.push(fieldError.required(`${path}.type`, 'must be array if x-kubernetes-list-type is specified'));
    else out.schema.push(fieldError.invalid(`${path}.type`, s.type, 'must be array if x-kubernetes-list-type is specified'));
  } else if (opts.requireAtomicSetType && listType === 'set' && isObj(s.items)) {
    const is = s.items;
    if (is.type === 'array' && is['x-kubernetes-list-type'] !== undefined && is['x-kubernetes-list-type'] !== 'atomic') {
      out.schema.push(fieldError.invalid(`${path}.items.x-kubernetes-list-type`, is['x-kubernetes-list-type'], 'must be atomic as item of a list with x-kubernetes-list-type=set'));
    } else if (is.type === 'object' && is['x-kubernetes-map-type'] !== 'atomic') {
      out.schema.push(fieldError.invalid(`${path}.items.x-kubernetes-map-type`, is['x-kubernetes-list-type'] ?? null, 'must be atomic as item of a list with x-kubernetes-list-type=set'));
    }
  }
  if (listType !== undefined && !['atomic', 'set', 'map'].includes(listType)) {
    out.schema.push(fieldError.notSupported(`${path}.x-kubernetes-list-type`, listType, ['atomic', 'set', 'map']));
  }
  const mapKeys = s['x-kubernetes-list-map-keys'];
  if (Array.isArray(mapKeys) && mapKeys.length) {
    if (listType === undefined) out.schema.push(fieldError.required(`${path}.x-kubernetes-list-type`, 'must be map if x-kubernetes-list-map-keys is non-empty'));
    else if (listType !== 'map') out.schema.push(fieldError.invalid(`${path}.x-kubernetes-list-type`, listType, 'must be map if x-kubernetes-list-map-keys is non-empty'));
  }
  if (listType === 'map') {
    if (!Array.isArray(mapKeys) || !mapKeys.length) out.schema.push(fieldError.required(`${path}.x-kubernetes-list-map-keys`, 'must not be empty if x-kubernetes-list-type is map'));
    if (s.items === undefined) out.schema.push(fieldError.required(`${path}.items`, 'must have a schema if x-kubernetes-list-type is map'));
    if (Array.isArray(s.items)) out.schema.push(fieldError.invalid(`${path}.items`, s.items, 'must only have a single schema if x-kubernetes-list-type is map'));
    if (isObj(s.items) && s.items.type !== 'object') out.schema.push(fieldError.invalid(`${path}.items.type`, s.items.type ?? '', "must be object if parent array's x-kubernetes-list-type is map"));
    if (isObj(s.items) && s.items.type === 'object' && Array.isArray(mapKeys)) {
      const seenKeys = new Set<string>();
      for (const k of mapKeys) {
        const prop = s.items.properties?.[k];
        if (prop !== undefined) {
          if (prop?.type === 'array' || prop?.type === 'object') out.schema.push(fieldError.invalid(`${path}.items.properties[${k}].type`, s.items.type, "must be a scalar type if parent array's x-kubernetes-list-type is map"));
        } else {
          out.schema.push(fieldError.invalid(`${path}.x-kubernetes-list-map-keys`, mapKeys, 'entries must all be names of item properties'));
        }
        if (seenKeys.has(k)) out.schema.push(fieldError.invalid(`${path}.x-kubernetes-list-map-keys`, mapKeys, 'must not contain duplicate entries'));
        seenKeys.add(k);
      }
    }
  }
  if (opts.requireMapListKeysMapSetValidation) out.schema.push(...validateMapListKeysMapSet(s, path));

  const rules = s['x-kubernetes-validations'];
  if (Array.isArray(rules) && rules.length) {
    const vp = (i: number, f: string) => `${path}.x-kubernetes-validations[${i}].${f}`;
    rules.forEach((rule: ValidationRule, i: number) => {
      const r = isObj(rule) ? rule : ({} as ValidationRule);
      const trimmedRule = String(r.rule ?? '').trim();
      const msg = r.message === undefined || r.message === null ? '' : String(r.message);
      const trimmedMsg = msg.trim();
      if (!trimmedRule) out.schema.push(fieldError.required(vp(i, 'rule'), 'rule is not specified'));
      else if (msg.length > 0 && !trimmedMsg) out.schema.push(fieldError.invalid(vp(i, 'message'), msg, 'message must be non-empty if specified'));
      else if (HAS_NEWLINE.test(trimmedMsg)) out.schema.push(fieldError.invalid(vp(i, 'message'), msg, 'message must not contain line breaks'));
      else if (HAS_NEWLINE.test(trimmedRule) && !trimmedMsg) out.schema.push(fieldError.required(vp(i, 'message'), 'message must be specified if rule contains line breaks'));
      if (typeof r.messageExpression === 'string' && r.messageExpression.length > 0 && !r.messageExpression.trim()) {
        out.schema.push(fieldError.required(vp(i, 'messageExpression'), 'messageExpression must be non-empty if specified'));
      }
      if (r.reason !== undefined && r.reason !== null && !SUPPORTED_REASONS.includes(String(r.reason))) {
        out.schema.push(fieldError.notSupported(vp(i, 'reason'), r.reason, SUPPORTED_REASONS));
      }
      if (typeof r.fieldPath === 'string') {
        if (r.fieldPath.length > 0 && !r.fieldPath.trim()) out.schema.push(fieldError.invalid(vp(i, 'fieldPath'), r.fieldPath, 'fieldPath must be non-empty if specified'));
        if (HAS_NEWLINE.test(r.fieldPath)) out.schema.push(fieldError.invalid(vp(i, 'fieldPath'), r.fieldPath, 'fieldPath must not contain line breaks'));
        if (r.fieldPath.length > 0 && r.fieldPath.trim() && resolveRuleFieldPath(r.fieldPath.trim(), s).error) {
          out.schema.push(fieldError.invalid(vp(i, 'fieldPath'), r.fieldPath, 'fieldPath must be a valid path'));
        }
      }
    });
    if (!out.schema.length && celEnabled) {
      const isResourceRoot = isRoot || !!s['x-kubernetes-embedded-resource'];
      rules.forEach((rule: ValidationRule, i: number) => {
        if (!isObj(rule)) return;
        const cr = compileValidationRule(rule, s, isResourceRoot);
        if (cr.error) out.cel.push(fieldError.invalid(vp(i, 'rule'), rule, cr.error));
        if (cr.messageError) out.cel.push(fieldError.invalid(vp(i, 'messageExpression'), rule, cr.messageError));
        if (cr.usesOldSelf) {
          if (ssv.uncorrelatablePath !== undefined) out.cel.push(fieldError.invalid(vp(i, 'rule'), rule.rule, `oldSelf cannot be used on the uncorrelatable portion of the schema within ${ssv.uncorrelatablePath}`));
        } else if (rule.optionalOldSelf !== undefined && rule.optionalOldSelf !== null && !cr.error) {
          out.cel.push(fieldError.invalid(vp(i, 'optionalOldSelf'), rule.optionalOldSelf, 'may not be set if oldSelf is not used in rule'));
        }
      });
    }
  }
  return out;
}

function validateMapListKeysMapSet(s: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!isObj(s) || !isObj(s.items)) return errs;
  const lt = s['x-kubernetes-list-type'];
  if (lt !== 'set' && lt !== 'map') return errs;
  if (s.items.nullable === true) errs.push(fieldError.forbidden(`${path}.items.nullable`, `cannot be nullable when x-kubernetes-list-type is ${lt}`));
  if (lt === 'map') {
    const required = new Set<string>(Array.isArray(s.items.required) ? s.items.required : []);
    for (const k of Array.isArray(s['x-kubernetes-list-map-keys']) ? s['x-kubernetes-list-map-keys'] : []) {
      const prop = s.items.properties?.[k];
      if (!isObj(prop)) continue;
      if (!required.has(k) && prop.default === undefined) {
        errs.push(fieldError.required(`${path}.items.properties[${k}].default`, 'this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property'));
      }
      if (prop.nullable === true) errs.push(fieldError.forbidden(`${path}.items.properties[${k}].nullable`, 'this property is in x-kubernetes-list-map-keys, so it cannot be nullable'));
    }
  }
  return errs;
}

// --- structural schema rules (ValidateStructural)

type Level = 'root' | 'item' | 'field';

/** ValidateStructural: the invariants and completeness rules of structural schemas; errors sorted by message. */
export function validateStructural(s: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  structuralInvariants(s, 'root', path, errs);
  if (isObj(s)) valueValidationCompleteness(s, s, path, path, errs);
  const key = (e: FieldError) => fieldErrorMessage(e);
  return errs.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

function structuralInvariants(s: any, lvl: Level, path: string, errs: FieldError[]): void {
  if (!isObj(s)) return;
  if (s.type === 'array' && s.items === undefined) errs.push(fieldError.required(`${path}.items`, 'must be specified'));
  if (isObj(s.items)) structuralInvariants(s.items, 'item', `${path}.items`, errs);
  if (isObj(s.properties)) for (const [k, v] of Object.entries(s.properties)) structuralInvariants(v, 'field', `${path}.properties[${k}]`, errs);
  if (s.additionalProperties !== undefined && s.additionalProperties !== null) {
    if (lvl === 'root') errs.push(fieldError.forbidden(`${path}.additionalProperties`, 'must not be used at the root'));
    if (isObj(s.additionalProperties)) structuralInvariants(s.additionalProperties, 'field', `${path}.additionalProperties`, errs);
  }
  const intOrString = !!s['x-kubernetes-int-or-string'];
  const preserve = !!s['x-kubernetes-preserve-unknown-fields'];
  const embedded = !!s['x-kubernetes-embedded-resource'];
  if (intOrString && preserve) errs.push(fieldError.invalid(`${path}.x-kubernetes-preserve-unknown-fields`, true, 'must be false if x-kubernetes-int-or-string is true'));
  if (intOrString && embedded) errs.push(fieldError.invalid(`${path}.x-kubernetes-embedded-resource`, true, 'must be false if x-kubernetes-int-or-string is true'));

  const skipAnyOf = isIntOrStringAnyOf(s.anyOf);
  const skipFirstAllOfAnyOf = Array.isArray(s.allOf) && s.allOf.length >= 1 && isIntOrStringAnyOf(s.allOf[0]?.anyOf);
  valueValidation(s, skipAnyOf, skipFirstAllOfAnyOf, lvl, path, errs);

  const checkMetadata = lvl === 'root' || embedded;
  if (embedded && s.type !== 'object') {
    if (!s.type) errs.push(fieldError.required(`${path}.type`, 'must be object if x-kubernetes-embedded-resource is true'));
    else errs.push(fieldError.invalid(`${path}.type`, s.type, 'must be object if x-kubernetes-embedded-resource is true'));
  } else if (!s.type && !intOrString && !preserve) {
    const detail = lvl === 'root' ? 'must not be empty at the root' : lvl === 'item' ? 'must not be empty for specified array items' : 'must not be empty for specified object fields';
    errs.push(fieldError.required(`${path}.type`, detail));
  }
  if (embedded && s.additionalProperties !== undefined && s.additionalProperties !== null) {
    errs.push(fieldError.forbidden(`${path}.additionalProperties`, 'must not be used if x-kubernetes-embedded-resource is set'));
  }
  if (lvl === 'root' && s.type && s.type !== 'object') errs.push(fieldError.invalid(`${path}.type`, s.type, 'must be object at the root'));
  const props = isObj(s.properties) ? s.properties : {};
  if (checkMetadata && props.kind !== undefined && props.kind?.type !== 'string') errs.push(fieldError.invalid(`${path}.properties[kind].type`, props.kind?.type ?? '', 'must be string'));
  if (checkMetadata && props.apiVersion !== undefined && props.apiVersion?.type !== 'string') errs.push(fieldError.invalid(`${path}.properties[apiVersion].type`, props.apiVersion?.type ?? '', 'must be string'));
  if (props.metadata !== undefined) {
    const meta = isObj(props.metadata) ? props.metadata : {};
    const mp = `${path}.properties[metadata]`;
    if (checkMetadata && meta.type !== 'object') errs.push(fieldError.invalid(`${mp}.type`, meta.type ?? '', 'must be object'));
    if (lvl === 'root') {
      let bad = false;
      for (const k of Object.keys(meta)) {
        if (k === 'type' || k === 'default' || meta[k] === undefined) continue;
        if (k === 'properties' && isObj(meta.properties)) {
          const pk = Object.keys(meta.properties);
          if (!pk.length || pk.some((x) => x !== 'name' && x !== 'generateName')) bad = true;
          continue;
        }
        bad = true;
      }
      if (bad) errs.push(fieldError.forbidden(mp, 'must not specify anything other than name and generateName, but metadata is implicitly specified'));
    }
  }
  if (embedded && !preserve && !Object.keys(props).length) {
    errs.push(fieldError.required(`${path}.properties`, 'must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields'));
  }
}

function valueValidation(v: any, skipAnyOf: boolean, skipFirstAllOfAnyOf: boolean, lvl: Level, path: string, errs: FieldError[]): void {
  if (!skipAnyOf && Array.isArray(v.anyOf)) v.anyOf.forEach((x: any, i: number) => nestedValueValidation(x, false, lvl, `${path}.anyOf[${i}]`, errs));
  if (Array.isArray(v.allOf)) v.allOf.forEach((x: any, i: number) => nestedValueValidation(x, skipFirstAllOfAnyOf && i === 0, lvl, `${path}.allOf[${i}]`, errs));
  if (Array.isArray(v.oneOf)) v.oneOf.forEach((x: any, i: number) => nestedValueValidation(x, false, lvl, `${path}.oneOf[${i}]`, errs));
  if (isObj(v.not)) nestedValueValidation(v.not, false, lvl, `${path}.not`, errs);
  if (typeof v.pattern === 'string' && v.pattern) {
    try {
      goRegExp(v.pattern);
    } catch (e) {
      errs.push(fieldError.invalid(`${path}.pattern`, v.pattern, `must be a valid regular expression, but isn't: ${(e as Error).message}`));
    }
  }
}

function nestedValueValidation(v: any, skipAnyOf: boolean, lvl: Level, path: string, errs: FieldError[]): void {
  if (!isObj(v)) return;
  valueValidation(v, skipAnyOf, false, lvl, path, errs);
  if (isObj(v.items)) nestedValueValidation(v.items, false, lvl, `${path}.items`, errs);
  if (isObj(v.properties)) for (const [k, f] of Object.entries(v.properties)) nestedValueValidation(f, false, 'field', `${path}.properties[${k}]`, errs);
  const forbid = (key: string, detail: string) => errs.push(fieldError.forbidden(`${path}.${key}`, detail));
  if (v.type) forbid('type', 'must be empty to be structural');
  if (v.additionalProperties !== undefined && v.additionalProperties !== null) forbid('additionalProperties', 'must be undefined to be structural');
  if (v.default !== undefined) forbid('default', 'must be undefined to be structural');
  if (v.title) forbid('title', 'must be empty to be structural');
  if (v.description) forbid('description', 'must be empty to be structural');
  if (v.nullable) forbid('nullable', 'must be false to be structural');
  if (v.externalDocs !== undefined) forbid('externalDocs', 'must be undefined to be structural');
  if (v['x-kubernetes-preserve-unknown-fields']) forbid('x-kubernetes-preserve-unknown-fields', 'must be false to be structural');
  if (v['x-kubernetes-embedded-resource']) forbid('x-kubernetes-embedded-resource', 'must be false to be structural');
  if (v['x-kubernetes-int-or-string']) forbid('x-kubernetes-int-or-string', 'must be false to be structural');
  if (Array.isArray(v['x-kubernetes-list-map-keys']) && v['x-kubernetes-list-map-keys'].length) forbid('x-kubernetes-list-map-keys', 'must be empty to be structural');
  if (v['x-kubernetes-list-type'] !== undefined) forbid('x-kubernetes-list-type', 'must be undefined to be structural');
  if (v['x-kubernetes-map-type'] !== undefined) forbid('x-kubernetes-map-type', 'must be undefined to be structural');
  if (Array.isArray(v['x-kubernetes-validations']) && v['x-kubernetes-validations'].length) forbid('x-kubernetes-validations', 'must be empty to be structural');
  if (isObj(v.properties) && v.properties.metadata !== undefined) errs.push(fieldError.forbidden(`${path}.properties[metadata]`, 'must not be specified in a nested context'));
}

function valueValidationCompleteness(v: any, s: any, sPath: string, vPath: string, errs: FieldError[]): void {
  if (!isObj(v)) return;
  if (!isObj(s)) {
    errs.push(fieldError.required(sPath, `because it is defined in ${vPath}`));
    return;
  }
  if (isObj(v.not)) nestedCompleteness(v.not, s, sPath, `${vPath}.not`, errs);
  for (const k of ['allOf', 'anyOf', 'oneOf']) {
    if (Array.isArray(v[k])) v[k].forEach((x: any, i: number) => nestedCompleteness(x, s, sPath, `${vPath}.${k}[${i}]`, errs));
  }
}

function nestedCompleteness(v: any, s: any, sPath: string, vPath: string, errs: FieldError[]): void {
  if (!isObj(v)) return;
  if (!isObj(s)) {
    errs.push(fieldError.required(sPath, `because it is defined in ${vPath}`));
    return;
  }
  valueValidationCompleteness(v, s, sPath, vPath, errs);
  if (isObj(v.items)) nestedCompleteness(v.items, isObj(s.items) ? s.items : undefined, `${sPath}.items`, `${vPath}.items`, errs);
  if (isObj(v.properties)) {
    for (const [k, f] of Object.entries(v.properties)) {
      const sf = isObj(s.properties) ? s.properties[k] : undefined;
      if (sf === undefined) errs.push(fieldError.required(`${sPath}.properties[${k}]`, `because it is defined in ${vPath}.properties[${k}]`));
      else nestedCompleteness(f, sf, `${sPath}.properties[${k}]`, `${vPath}.properties[${k}]`, errs);
    }
  }
}

// --- defaults (ValidateDefaults)

/** Visits schema nodes with a default (properties and items, not additionalProperties). */
function walkDefaults(s: any, path: string, isResourceRoot: boolean, insideMeta: boolean, fn: (s: any, path: string, embedded: boolean, insideMeta: boolean) => void): void {
  if (!isObj(s)) return;
  const embedded = isResourceRoot || !!s['x-kubernetes-embedded-resource'];
  const meta = embedded ? false : insideMeta;
  if (s.default !== undefined) fn(s, path, !!s['x-kubernetes-embedded-resource'], meta);
  if (isObj(s.items)) walkDefaults(s.items, `${path}.items`, false, meta, fn);
  if (isObj(s.properties)) {
    for (const [k, v] of Object.entries(s.properties)) {
      walkDefaults(v, `${path}.properties[${k}]`, false, meta || (embedded && META_FIELDS.has(k)), fn);
    }
  }
}

function validateDefaults(root: any, path: string, requirePruned: boolean): FieldError[] {
  const errs: FieldError[] = [];
  walkDefaults(root, path, true, false, (s, p, embedded, insideMeta) => {
    const dp = `${p}.default`;
    const node = new StructuralSchema(s, { resourceRoot: false });
    if (!insideMeta && requirePruned) {
      const copy = clone(s.default);
      const pruner = new StructuralSchema(s, { resourceRoot: embedded });
      if (pruner.prune(copy).length) {
        errs.push(fieldError.invalid(dp, s.default, 'must not have unknown fields'));
      }
    }
    const metaErrs = validateEmbeddedResources(s, s.default, dp, embedded);
    if (metaErrs.length) {
      errs.push(...metaErrs);
      return;
    }
    errs.push(...node.validateSchema(s.default, dp));
  });
  return errs;
}

