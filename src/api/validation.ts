/**
 * Validation of built-in kinds (pkg/apis/<group>/validation in Kubernetes 1.32): a list of
 * FieldErrors with Kubernetes' field paths and messages, in Kubernetes' order; never throws.
 * validateObject runs on create, validateObjectUpdate on update (ObjectMeta update rules, then the
 * kind's spec rules on the new object, then the kind's update-only rules).
 *
 * Objects arrive defaulted (src/api/defaults.ts), as in Kubernetes where validation sees the
 * decoded and defaulted object. Field paths use Kubernetes' internal field names (events.k8s.io
 * Events are checked with core Event names, as upstream does after conversion).
 *
 * Written from the documented behaviour of the upstream validators; no code copied.
 */
import { fieldError, type FieldError } from '../apimachinery/errors.js';
import {
  validateObjectMeta, validateObjectMetaUpdate, validateTemplateObjectMeta, nameIsDNSSubdomain, nameIsDNSLabel,
  nameIsDNS1035Label, nameIsPathSegment, isDNS1123Label, isDNS1123Subdomain, isDNS1035Label, isWildcardDNS1123Subdomain,
  isQualifiedName, isValidLabelValue, isValidPortNum, isValidPortName, isConfigMapKey, isRelaxedEnvVarName, isValidPercent,
  isHTTPHeaderName, isValidUserID, isValidGroupID, isValidPathSegmentName, isDomainPrefixedPath, isFullyQualifiedDomainName,
  isValidIP, isValidIPv4Address, isValidIPv6Address, isValidCIDR, isIPString, parseIPBytes, parseCIDR, ipFamilyOf,
  validateLabels, validateLabelName, validateAnnotations, validateLabelSelector, isConvertibleLabelSelector,
  labelSelectorMatches, mapSelectorMatches, validateNonnegativeField, validateImmutableField, validateFinalizerName,
  validateKubeFinalizerName, semanticEqual, inclusiveRangeError, maxLenError, tooLong, tooMany, notFound,
  IS_NEGATIVE_ERROR_MSG, FIELD_IMMUTABLE_ERROR_MSG, type NameFn,
} from '../apimachinery/validation.js';
import { parseQuantityOrError, formatQuantity, compareQuantities, quantityMilliValue, quantityIntValue, quantitySign, type Quantity } from '../apimachinery/quantity.js';
import { BUILTIN_RESOURCES } from './resources.js';
import { dropServiceTypeDependentFields } from './defaults.js';

type Obj = Record<string, any>;
type Errs = FieldError[];
type Validator = (obj: any, ctx: Ctx) => Errs;
type UpdateValidator = (obj: any, old: any, ctx: Ctx) => Errs;
interface Ctx { group: string; version: string; kind: string; create: boolean }

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const arr = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));
const entries = (m: unknown): [string, any][] => (isObj(m) ? Object.entries(m) : []);
const isSet = (v: unknown): boolean => v !== undefined && v !== null;
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const bytes = (s: string) => Buffer.byteLength(s);

const required = (field: string, detail = ''): FieldError => fieldError.required(field, detail || undefined);
const invalid = fieldError.invalid;
const forbidden = fieldError.forbidden;
const duplicate = fieldError.duplicate;
const notSupported = (field: string, value: unknown, allowed: string[]): FieldError => fieldError.notSupported(field, value, allowed);
const each = (field: string, value: unknown, messages: string[]): Errs => messages.map((m) => invalid(field, value, m));
const sorted = (xs: string[]) => [...xs].sort();

const MAX_INT32 = 2147483647;
const IS_NOT_POSITIVE = 'must be greater than zero';
const FILE_MODE_ERROR = 'must be a number between 0 and 0777 (octal), both inclusive';
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

// ---------------------------------------------------------------------------------------------
// names

/** The name rule of each kind (upstream ValidateXName), default DNS-1123 subdomain. */
function nameRule(group: string, kind: string): NameFn {
  const key = `${group}/${kind}`;
  switch (key) {
    case '/Namespace': return nameIsDNSLabel;
    case '/Service': return nameIsDNS1035Label;
    case 'apps/StatefulSet': return nameIsDNSLabel;
    case 'rbac.authorization.k8s.io/Role': case 'rbac.authorization.k8s.io/ClusterRole':
    case 'rbac.authorization.k8s.io/RoleBinding': case 'rbac.authorization.k8s.io/ClusterRoleBinding':
      return nameIsPathSegment;
    case 'certificates.k8s.io/CertificateSigningRequest': return nameIsPathSegment;
    default: return nameIsDNSSubdomain;
  }
}

const SCOPE = new Map(BUILTIN_RESOURCES.map((r) => [`${r.group}/${r.kind}`, r.namespaced]));

// ---------------------------------------------------------------------------------------------
// resource names and quantities (pkg/apis/core/helper)

const STANDARD_CONTAINER_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage']);
const STANDARD_RESOURCES = new Set([
  'cpu', 'memory', 'ephemeral-storage', 'requests.cpu', 'requests.memory', 'requests.ephemeral-storage', 'limits.cpu',
  'limits.memory', 'limits.ephemeral-storage', 'pods', 'quotas', 'services', 'replicationcontrollers', 'secrets',
  'persistentvolumeclaims', 'configmaps', 'services.nodeports', 'services.loadbalancers', 'storage', 'requests.storage',
]);
const STANDARD_QUOTA_RESOURCES = new Set([
  'cpu', 'memory', 'ephemeral-storage', 'requests.cpu', 'requests.memory', 'requests.storage', 'requests.ephemeral-storage',
  'limits.cpu', 'limits.memory', 'limits.ephemeral-storage', 'pods', 'quotas', 'services', 'replicationcontrollers',
  'secrets', 'persistentvolumeclaims', 'configmaps', 'services.nodeports', 'services.loadbalancers',
]);
const INTEGER_RESOURCES = new Set([
  'pods', 'quotas', 'services', 'replicationcontrollers', 'secrets', 'configmaps', 'persistentvolumeclaims',
  'services.nodeports', 'services.loadbalancers',
]);

const isHugePageResourceName = (n: string) => n.startsWith('hugepages-');
const isQuotaHugePageResourceName = (n: string) => n.startsWith('hugepages-') || n.startsWith('requests.hugepages-');
const isNativeResource = (n: string) => !n.includes('/') || n.includes('kubernetes.io/');
function isExtendedResourceName(n: string): boolean {
  if (isNativeResource(n) || n.startsWith('requests.')) return false;
  return isQualifiedName(`requests.${n}`).length === 0;
}
const isIntegerResourceName = (n: string) => INTEGER_RESOURCES.has(n) || isExtendedResourceName(n);
const isOvercommitAllowed = (n: string) => isNativeResource(n) && !isHugePageResourceName(n);
const isStandardResourceName = (n: string) => STANDARD_RESOURCES.has(n) || isQuotaHugePageResourceName(n);

/** validateResourceName: a qualified name; unprefixed names must be standard. */
function validateResourceName(name: string, path: string): Errs {
  const errs = each(path, name, isQualifiedName(name));
  if (errs.length) return errs;
  if (!name.includes('/') && !isStandardResourceName(name)) errs.push(invalid(path, name, 'must be a standard resource type or fully qualified'));
  return errs;
}

function validateContainerResourceName(name: string, path: string): Errs {
  const errs = validateResourceName(name, path);
  if (!name.includes('/')) {
    if (!STANDARD_CONTAINER_RESOURCES.has(name) && !isHugePageResourceName(name)) errs.push(invalid(path, name, 'must be a standard resource for containers'));
  } else if (!isNativeResource(name) && !isExtendedResourceName(name)) {
    errs.push(invalid(path, name, "doesn't follow extended resource name standard"));
  }
  return errs;
}

function validateResourceQuotaResourceName(name: string, path: string): Errs {
  const errs = validateResourceName(name, path);
  if (!name.includes('/') && !(STANDARD_QUOTA_RESOURCES.has(name) || isQuotaHugePageResourceName(name))) {
    errs.push(invalid(path, name, 'must be a standard resource for quota'));
  }
  return errs;
}

/**
 * Parses a quantity-typed value. Unparseable values are decode errors (400) upstream and are
 * normally caught before validation; here they become an Invalid error with the decoder's text.
 */
function quantity(v: unknown, path: string, errs: Errs): Quantity | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') {
    errs.push(invalid(path, v ?? null, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
    return undefined;
  }
  const q = parseQuantityOrError(v);
  if (typeof q === 'string') { errs.push(invalid(path, v, q)); return undefined; }
  return q;
}

/** ValidateResourceQuantityValue: non-negative, and whole for integer resources. */
function validateResourceQuantityValue(name: string, q: Quantity, path: string): Errs {
  const errs: Errs = [];
  if (quantitySign(q) < 0) errs.push(invalid(path, formatQuantity(q), IS_NEGATIVE_ERROR_MSG));
  if (isIntegerResourceName(name) && quantityMilliValue(q) % 1000n !== 0n) errs.push(invalid(path, formatQuantity(q), 'must be an integer'));
  return errs;
}

function validatePositiveQuantityValue(q: Quantity, path: string): Errs {
  return quantitySign(q) <= 0 ? [invalid(path, formatQuantity(q), IS_NOT_POSITIVE)] : [];
}

/** validateBasicResource: Value() (rounded away from zero) may not be negative. */
function validateBasicResource(q: Quantity, path: string): Errs {
  const v = quantityIntValue(q);
  return v < 0n ? [invalid(path, Number(v), 'must be a valid resource quantity')] : [];
}

/** ValidateResourceRequirements for containers and pod overhead. */
function validateResourceRequirements(res: any, path: string, nameFn = validateContainerResourceName): Errs {
  const errs: Errs = [];
  const limPath = `${path}.limits`;
  const reqPath = `${path}.requests`;
  const limits = new Map<string, Quantity>();
  let limCPUOrMem = false;
  let reqCPUOrMem = false;
  let hugePages = false;
  for (const [name, v] of entries(res?.limits)) {
    const p = `${limPath}[${name}]`;
    errs.push(...nameFn(name, p));
    const q = quantity(v, p, errs);
    if (!q) continue;
    limits.set(name, q);
    errs.push(...validateResourceQuantityValue(name, q, p));
    if (isHugePageResourceName(name)) hugePages = true;
    if (name === 'cpu' || name === 'memory') limCPUOrMem = true;
  }
  for (const [name, v] of entries(res?.requests)) {
    const p = `${reqPath}[${name}]`;
    errs.push(...nameFn(name, p));
    const q = quantity(v, p, errs);
    if (!q) continue;
    errs.push(...validateResourceQuantityValue(name, q, p));
    const lim = limits.get(name);
    if (lim) {
      const cmp = compareQuantities(q, lim);
      if (cmp !== 0 && !isOvercommitAllowed(name)) {
        errs.push(invalid(reqPath, formatQuantity(q), `must be equal to ${name} limit of ${formatQuantity(lim)}`));
      } else if (cmp > 0) {
        errs.push(invalid(reqPath, formatQuantity(q), `must be less than or equal to ${name} limit of ${formatQuantity(lim)}`));
      }
    } else if (!isOvercommitAllowed(name) && !(isObj(res?.limits) && name in res.limits)) {
      errs.push(required(limPath, 'Limit must be set for non overcommitable resources'));
    }
    if (isHugePageResourceName(name)) hugePages = true;
    if (name === 'cpu' || name === 'memory') reqCPUOrMem = true;
  }
  if (!limCPUOrMem && !reqCPUOrMem && hugePages) errs.push(forbidden(path, 'HugePages require cpu or memory'));
  return errs;
}

// ---------------------------------------------------------------------------------------------
// small shared validators

function validateDNS1123Label(value: string, path: string): Errs { return each(path, value, isDNS1123Label(value)); }
function validateDNS1123Subdomain(value: string, path: string): Errs { return each(path, value, isDNS1123Subdomain(value)); }
function validateQualifiedName(value: string, path: string): Errs { return each(path, value, isQualifiedName(value)); }

/** ValidatePortNumOrName for an IntOrString port. */
function validatePortNumOrName(port: unknown, path: string): Errs {
  if (typeof port === 'number') return each(path, port, isValidPortNum(port));
  if (typeof port === 'string') return each(path, port, isValidPortName(port));
  return each(path, 0, isValidPortNum(0));
}

/** ValidatePositiveIntOrPercent (apps). */
function validatePositiveIntOrPercent(v: unknown, path: string): Errs {
  if (typeof v === 'string') return each(path, v, isValidPercent(v));
  if (typeof v === 'number') return validateNonnegativeField(v, path);
  return [];
}

function percentValue(v: unknown): number | undefined {
  if (typeof v !== 'string' || isValidPercent(v).length) return undefined;
  return Number(v.slice(0, -1));
}

const intOrPercentValue = (v: unknown): number => percentValue(v) ?? (typeof v === 'number' ? v : 0);

/** IsNotMoreThan100Percent (apps). */
function isNotMoreThan100Percent(v: unknown, path: string): Errs {
  const p = percentValue(v);
  return p !== undefined && p > 100 ? [invalid(path, v, 'must not be greater than 100%')] : [];
}

/** ValidateNonSpecialIP (Endpoints, EndpointSlices, externalIPs). */
function validateNonSpecialIP(ip: string, path: string): Errs {
  const b = parseIPBytes(ip);
  if (!b) return [invalid(path, ip, 'must be a valid IP address')];
  const errs: Errs = [];
  const v4 = b.length === 4;
  if (b.every((x) => x === 0)) errs.push(invalid(path, ip, `may not be unspecified (${ip})`));
  const loopback = v4 ? b[0] === 127 : b.slice(0, 15).every((x) => x === 0) && b[15] === 1;
  if (loopback) errs.push(invalid(path, ip, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
  const linkLocal = v4 ? b[0] === 169 && b[1] === 254 : b[0] === 0xfe && (b[1] & 0xc0) === 0x80;
  if (linkLocal) errs.push(invalid(path, ip, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
  const llMulticast = v4 ? b[0] === 224 && b[1] === 0 && b[2] === 0 : b[0] === 0xff && (b[1] & 0x0f) === 0x02;
  if (llMulticast) errs.push(invalid(path, ip, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'));
  return errs;
}

/** validatePathNoBacksteps / validateLocalDescendingPath / ValidateLocalNonReservedPath. */
function validatePathNoBacksteps(target: string, path: string): Errs {
  return target.replace(/\\/g, '/').split('/').includes('..') ? [invalid(path, target, "must not contain '..'")] : [];
}
function validateLocalDescendingPath(target: string, path: string): Errs {
  const errs: Errs = target.startsWith('/') ? [invalid(path, target, 'must be a relative path')] : [];
  return errs.concat(validatePathNoBacksteps(target, path));
}
function validateLocalNonReservedPath(target: string, path: string): Errs {
  const errs = validateLocalDescendingPath(target, path);
  if (target.startsWith('..') && !target.startsWith('../')) errs.push(invalid(path, target, "must not start with '..'"));
  return errs;
}

function validateFileMode(mode: unknown, path: string): Errs {
  return typeof mode === 'number' && (mode > 0o777 || mode < 0) ? [invalid(path, mode, FILE_MODE_ERROR)] : [];
}

/** ValidateTolerations. */
function validateTolerations(tolerations: any[], path: string): Errs {
  const errs: Errs = [];
  tolerations.forEach((t: any, i: number) => {
    const p = `${path}[${i}]`;
    const key = str(t?.key);
    const op = str(t?.operator);
    const effect = str(t?.effect);
    if (key) errs.push(...validateLabelName(key, `${p}.key`));
    if (!key && op !== 'Exists') {
      errs.push(invalid(`${p}.operator`, op, 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    }
    if (isSet(t?.tolerationSeconds) && effect !== 'NoExecute') {
      errs.push(invalid(`${p}.effect`, effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    switch (op) {
      case 'Equal': case '': {
        const m = isValidLabelValue(str(t?.value));
        if (m.length) errs.push(invalid(`${p}.operator`, str(t?.value), m.join(';')));
        break;
      }
      case 'Exists':
        if (str(t?.value)) errs.push(invalid(`${p}.operator`, str(t?.value), "value must be empty when `operator` is 'Exists'"));
        break;
      default:
        errs.push(notSupported(`${p}.operator`, op, ['Equal', 'Exists']));
    }
    if (effect) errs.push(...validateTaintEffect(effect, true, `${p}.effect`));
  });
  return errs;
}

function validateTaintEffect(effect: string, allowEmpty: boolean, path: string): Errs {
  if (!allowEmpty && !effect) return [required(path)];
  return ['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(effect) ? [] : [notSupported(path, effect, ['NoSchedule', 'PreferNoSchedule', 'NoExecute'])];
}

/** ValidateNodeSelectorRequirement / Term / NodeSelector. */
function validateNodeSelectorRequirement(rq: any, path: string, allowInvalidValues = false): Errs {
  const errs: Errs = [];
  const values = arr(rq?.values);
  switch (rq?.operator) {
    case 'In': case 'NotIn':
      if (values.length === 0) errs.push(required(`${path}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case 'Exists': case 'DoesNotExist':
      if (values.length > 0) errs.push(forbidden(`${path}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      break;
    case 'Gt': case 'Lt':
      if (values.length !== 1) errs.push(required(`${path}.values`, "must be specified single value when `operator` is 'Lt' or 'Gt'"));
      break;
    default:
      errs.push(invalid(`${path}.operator`, str(rq?.operator), 'not a valid selector operator'));
  }
  errs.push(...validateLabelName(str(rq?.key), `${path}.key`));
  if (!allowInvalidValues) values.forEach((v, j) => errs.push(...each(`${path}.values[${j}]`, v, isValidLabelValue(str(v)))));
  return errs;
}

function validateNodeFieldSelectorRequirement(rq: any, path: string): Errs {
  const errs: Errs = [];
  const values = arr(rq?.values);
  if (rq?.operator === 'In' || rq?.operator === 'NotIn') {
    if (values.length !== 1) errs.push(required(`${path}.values`, "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"));
  } else {
    errs.push(invalid(`${path}.operator`, str(rq?.operator), 'not a valid selector operator'));
  }
  if (rq?.key !== 'metadata.name') errs.push(invalid(`${path}.key`, str(rq?.key), 'not a valid field selector key'));
  else values.forEach((v, i) => errs.push(...each(`${path}.values[${i}]`, v, nameIsDNSSubdomain(str(v), false))));
  return errs;
}

function validateNodeSelectorTerm(term: any, path: string, allowInvalidValues = false): Errs {
  const errs: Errs = [];
  arr(term?.matchExpressions).forEach((r, j) => errs.push(...validateNodeSelectorRequirement(r, `${path}.matchExpressions[${j}]`, allowInvalidValues)));
  arr(term?.matchFields).forEach((r, j) => errs.push(...validateNodeFieldSelectorRequirement(r, `${path}.matchFields[${j}]`)));
  return errs;
}

function validateNodeSelector(sel: any, path: string): Errs {
  const terms = arr(sel?.nodeSelectorTerms);
  if (terms.length === 0) return [required(`${path}.nodeSelectorTerms`, 'must have at least one node selector term')];
  return terms.flatMap((t, i) => validateNodeSelectorTerm(t, `${path}.nodeSelectorTerms[${i}]`));
}

function sessionTimeoutErrs(cfg: any, path: string): Errs {
  if (!isObj(cfg)) return [required(path, 'when session affinity type is ClientIP')];
  if (!isObj(cfg.clientIP)) return [required(`${path}.clientIP`, 'when session affinity type is ClientIP')];
  const t = cfg.clientIP.timeoutSeconds;
  if (!isSet(t)) return [required(`${path}.clientIP.timeoutSeconds`, 'when session affinity type is ClientIP')];
  return t <= 0 || t > 86400 ? [invalid(`${path}.clientIP.timeoutSeconds`, t, 'must be greater than 0 and less than 86400')] : [];
}

// ---------------------------------------------------------------------------------------------
// volumes (ValidateVolumes)

const HOST_PATH_TYPES = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'];

function validateKeyToPath(kp: any, path: string): Errs {
  const errs: Errs = [];
  if (!str(kp?.key)) errs.push(required(`${path}.key`));
  if (!str(kp?.path)) errs.push(required(`${path}.path`));
  errs.push(...validateLocalNonReservedPath(str(kp?.path), `${path}.path`));
  errs.push(...validateFileMode(kp?.mode, `${path}.mode`));
  return errs;
}

const VOLUME_FIELD_PATHS = ['metadata.annotations', 'metadata.labels', 'metadata.name', 'metadata.namespace', 'metadata.uid'];
const ENV_FIELD_PATHS = ['metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName', 'spec.serviceAccountName', 'status.hostIP', 'status.hostIPs', 'status.podIP', 'status.podIPs'];
const RESOURCE_FIELD_PATHS = ['limits.cpu', 'limits.ephemeral-storage', 'limits.memory', 'requests.cpu', 'requests.ephemeral-storage', 'requests.memory'];

/** validateObjectFieldSelector: apiVersion and a supported fieldPath (labels/annotations may be subscripted). */
function validateObjectFieldSelector(fs: any, expressions: string[], path: string): Errs {
  if (!str(fs?.apiVersion)) return [required(`${path}.apiVersion`)];
  const fp = str(fs?.fieldPath);
  if (!fp) return [required(`${path}.fieldPath`)];
  const m = /^(metadata\.(?:labels|annotations))\['(.*)'\]$/.exec(fp) ?? /^([^[]+)\[(.*)\]$/.exec(fp);
  if (m) {
    if (m[1] === 'metadata.annotations') return validateQualifiedName(m[2].toLowerCase(), path);
    if (m[1] === 'metadata.labels') return validateQualifiedName(m[2], path);
    return [invalid(path, m[1], 'does not support subscript')];
  }
  if (!expressions.includes(fp)) return [notSupported(`${path}.fieldPath`, fp, sorted(expressions))];
  return [];
}

function validateResourceFieldSelector(fs: any, path: string, volume: boolean): Errs {
  const errs: Errs = [];
  const resource = str(fs?.resource);
  if (volume && !str(fs?.containerName)) errs.push(required(`${path}.containerName`));
  else if (!resource) errs.push(required(`${path}.resource`));
  else if (!RESOURCE_FIELD_PATHS.includes(resource) && !resource.startsWith('limits.hugepages-') && !resource.startsWith('requests.hugepages-')) {
    errs.push(notSupported(`${path}.resource`, resource, RESOURCE_FIELD_PATHS));
  }
  if (isSet(fs?.divisor)) {
    const q = parseQuantityOrError(fs.divisor);
    if (typeof q !== 'string' && quantitySign(q) !== 0) {
      const d = formatQuantity(q);
      const bin = ['1', '1k', '1M', '1G', '1T', '1P', '1E', '1Ki', '1Mi', '1Gi', '1Ti', '1Pi', '1Ei'];
      if ((resource === 'limits.cpu' || resource === 'requests.cpu') && d !== '1m' && d !== '1') {
        errs.push(invalid(`${path}.divisor`, resource, "only divisor's values 1m and 1 are supported with the cpu resource"));
      } else if ((resource === 'limits.memory' || resource === 'requests.memory') && !bin.includes(d)) {
        errs.push(invalid(`${path}.divisor`, resource, `only divisor's values ${bin.join(', ')} are supported with the memory resource`));
      } else if ((resource === 'limits.ephemeral-storage' || resource === 'requests.ephemeral-storage') && !bin.includes(d)) {
        errs.push(invalid(`${path}.divisor`, resource, `only divisor's values ${bin.join(', ')} are supported with the local ephemeral storage resource`));
      }
    }
  }
  return errs;
}

function validateDownwardAPIFile(file: any, path: string): Errs {
  const errs: Errs = [];
  if (!str(file?.path)) errs.push(required(`${path}.path`));
  errs.push(...validateLocalNonReservedPath(str(file?.path), `${path}.path`));
  if (isObj(file?.fieldRef)) {
    errs.push(...validateObjectFieldSelector(file.fieldRef, VOLUME_FIELD_PATHS, `${path}.fieldRef`));
    if (isObj(file?.resourceFieldRef)) errs.push(invalid(path, 'resource', 'fieldRef and resourceFieldRef can not be specified simultaneously'));
  } else if (isObj(file?.resourceFieldRef)) {
    errs.push(...validateResourceFieldSelector(file.resourceFieldRef, `${path}.resourceFieldRef`, true));
  } else {
    errs.push(required(path, 'one of fieldRef and resourceFieldRef is required'));
  }
  errs.push(...validateFileMode(file?.mode, `${path}.mode`));
  return errs;
}

function validateProjected(src: any, path: string): Errs {
  const errs = validateFileMode(src?.defaultMode, `${path}.defaultMode`);
  const paths = new Set<string>();
  arr(src?.sources).forEach((s: any, i: number) => {
    const sp = `${path}.sources[${i}]`;
    let n = 0;
    for (const kind of ['secret', 'configMap'] as const) {
      if (!isObj(s?.[kind])) continue;
      n++;
      if (!str(s[kind].name)) errs.push(required(`${sp}.${kind}.name`));
      arr(s[kind].items).forEach((kp: any, j: number) => {
        errs.push(...validateKeyToPath(kp, `${sp}.${kind}.items[${j}]`));
        const p = str(kp?.path);
        if (p) { if (paths.has(p)) errs.push(invalid(path, str(s[kind].name), 'conflicting duplicate paths')); else paths.add(p); }
      });
    }
    if (isObj(s?.downwardAPI)) {
      n++;
      for (const f of arr(s.downwardAPI.items)) {
        errs.push(...validateDownwardAPIFile(f, `${sp}.downwardAPI`));
        const p = str(f?.path);
        if (p) { if (paths.has(p)) errs.push(invalid(path, p, 'conflicting duplicate paths')); else paths.add(p); }
      }
    }
    if (isObj(s?.serviceAccountToken)) {
      n++;
      const t = s.serviceAccountToken;
      const exp = num(t.expirationSeconds);
      if (exp < 600) errs.push(invalid(`${sp}.serviceAccountToken.expirationSeconds`, exp, 'may not specify a duration less than 10 minutes'));
      if (exp > 2 ** 32) errs.push(invalid(`${sp}.serviceAccountToken.expirationSeconds`, exp, 'may not specify a duration larger than 2^32 seconds'));
      if (!str(t.path)) errs.push(required(`${path}.path`));
      else errs.push(...validateLocalNonReservedPath(str(t.path), `${path}.path`));
    }
    if (isObj(s?.clusterTrustBundle)) n++;
    if (n > 1) errs.push(forbidden(sp, 'may not specify more than 1 volume type per source'));
  });
  return errs;
}

/** The volume sources in the order upstream checks them, with the path each source reports on. */
const VOLUME_SOURCES: [string, string, (src: any, path: string) => Errs][] = [
  ['emptyDir', 'emptyDir', (s, p) => {
    if (!isSet(s.sizeLimit)) return [];
    const q = parseQuantityOrError(s.sizeLimit);
    return typeof q !== 'string' && quantitySign(q) < 0 ? [forbidden(`${p}.sizeLimit`, 'SizeLimit field must be a valid resource quantity')] : [];
  }],
  ['hostPath', 'hostPath', (s, p) => {
    if (!str(s.path)) return [required(`${p}.path`)];
    const errs = validatePathNoBacksteps(str(s.path), `${p}.path`);
    if (isSet(s.type) && !HOST_PATH_TYPES.includes(str(s.type))) errs.push(notSupported(`${p}.type`, s.type, HOST_PATH_TYPES));
    return errs;
  }],
  ['gitRepo', 'gitRepo', (s, p) => [...(str(s.repository) ? [] : [required(`${p}.repository`)]), ...validateLocalDescendingPath(str(s.directory), `${p}.directory`)]],
  ['gcePersistentDisk', 'persistentDisk', (s, p) => [
    ...(str(s.pdName) ? [] : [required(`${p}.pdName`)]),
    ...(num(s.partition) < 0 || num(s.partition) > 255 ? [invalid(`${p}.partition`, num(s.partition), inclusiveRangeError(1, 255))] : []),
  ]],
  ['awsElasticBlockStore', 'awsElasticBlockStore', (s, p) => [
    ...(str(s.volumeID) ? [] : [required(`${p}.volumeID`)]),
    ...(num(s.partition) < 0 || num(s.partition) > 255 ? [invalid(`${p}.partition`, num(s.partition), inclusiveRangeError(1, 255))] : []),
  ]],
  ['secret', 'secret', (s, p) => [
    ...(str(s.secretName) ? [] : [required(`${p}.secretName`)]),
    ...validateFileMode(s.defaultMode, `${p}.defaultMode`),
    ...arr(s.items).flatMap((kp, i) => validateKeyToPath(kp, `${p}.items[${i}]`)),
  ]],
  ['nfs', 'nfs', (s, p) => [
    ...(str(s.server) ? [] : [required(`${p}.server`)]),
    ...(str(s.path) ? [] : [required(`${p}.path`)]),
    ...(str(s.path).startsWith('/') ? [] : [invalid(`${p}.path`, str(s.path), 'must be an absolute path')]),
  ]],
  ['iscsi', 'iscsi', (s, p) => [
    ...(str(s.targetPortal) ? [] : [required(`${p}.targetPortal`)]),
    ...(str(s.iqn) ? [] : [required(`${p}.iqn`)]),
    ...(num(s.lun) < 0 || num(s.lun) > 255 ? [invalid(`${p}.lun`, num(s.lun), inclusiveRangeError(0, 255))] : []),
  ]],
  ['glusterfs', 'glusterfs', (s, p) => [...(str(s.endpoints) ? [] : [required(`${p}.endpoints`)]), ...(str(s.path) ? [] : [required(`${p}.path`)])]],
  ['flocker', 'flocker', (s, p) => (!str(s.datasetName) && !str(s.datasetUUID) ? [required(p, 'one of datasetName and datasetUUID is required')] : [])],
  ['persistentVolumeClaim', 'persistentVolumeClaim', (s, p) => (str(s.claimName) ? [] : [required(`${p}.claimName`)])],
  ['rbd', 'rbd', (s, p) => [...(arr(s.monitors).length ? [] : [required(`${p}.monitors`)]), ...(str(s.image) ? [] : [required(`${p}.image`)])]],
  ['cinder', 'cinder', (s, p) => (str(s.volumeID) ? [] : [required(`${p}.volumeID`)])],
  ['cephfs', 'cephfs', (s, p) => (arr(s.monitors).length ? [] : [required(`${p}.monitors`)])],
  ['quobyte', 'quobyte', (s, p) => [...(str(s.registry) ? [] : [required(`${p}.registry`, 'must be a host:port pair or multiple pairs separated by commas')]), ...(str(s.volume) ? [] : [required(`${p}.volume`)])]],
  ['downwardAPI', 'downwardAPI', (s, p) => [...validateFileMode(s.defaultMode, `${p}.defaultMode`), ...arr(s.items).flatMap((f) => validateDownwardAPIFile(f, p))]],
  ['fc', 'fc', (s, p) => (arr(s.targetWWNs).length < 1 && arr(s.wwids).length < 1 ? [required(`${p}.targetWWNs`, 'must specify either targetWWNs or wwids, but not both')] : [])],
  ['flexVolume', 'flexVolume', (s, p) => (str(s.driver) ? [] : [required(`${p}.driver`)])],
  ['configMap', 'configMap', (s, p) => [
    ...(str(s.name) ? [] : [required(`${p}.name`)]),
    ...validateFileMode(s.defaultMode, `${p}.defaultMode`),
    ...arr(s.items).flatMap((kp, i) => validateKeyToPath(kp, `${p}.items[${i}]`)),
  ]],
  ['azureFile', 'azureFile', (s, p) => [...(str(s.secretName) ? [] : [required(`${p}.secretName`)]), ...(str(s.shareName) ? [] : [required(`${p}.shareName`)])]],
  ['vsphereVolume', 'vsphereVolume', (s, p) => (str(s.volumePath) ? [] : [required(`${p}.volumePath`)])],
  ['photonPersistentDisk', 'photonPersistentDisk', (s, p) => (str(s.pdID) ? [] : [required(`${p}.pdID`)])],
  ['portworxVolume', 'portworxVolume', (s, p) => (str(s.volumeID) ? [] : [required(`${p}.volumeID`)])],
  ['azureDisk', 'azureDisk', (s, p) => [...(str(s.diskName) ? [] : [required(`${p}.diskName`)]), ...(str(s.diskURI) ? [] : [required(`${p}.diskURI`)])]],
  ['storageos', 'storageos', (s, p) => (str(s.volumeName) ? validateDNS1123Label(str(s.volumeName), `${p}.volumeName`) : [required(`${p}.volumeName`)])],
  ['projected', 'projected', validateProjected],
  ['scaleIO', 'scaleIO', (s, p) => [
    ...(str(s.gateway) ? [] : [required(`${p}.gateway`)]), ...(str(s.system) ? [] : [required(`${p}.system`)]),
    ...(str(s.volumeName) ? [] : [required(`${p}.volumeName`)]),
  ]],
  ['csi', 'csi', (s, p) => validateCSIDriverName(str(s.driver), `${p}.driver`)],
  ['ephemeral', 'ephemeral', (s, p) => {
    if (!isObj(s.volumeClaimTemplate)) return [required(`${p}.volumeClaimTemplate`)];
    return [
      ...validateTemplateObjectMeta(s.volumeClaimTemplate.metadata, `${p}.volumeClaimTemplate.metadata`),
      ...validatePVCSpec(s.volumeClaimTemplate.spec ?? {}, `${p}.volumeClaimTemplate.spec`),
    ];
  }],
  ['image', 'image', (s, p) => validatePullPolicy(str(s.pullPolicy), `${p}.pullPolicy`)],
];
const FORBIDDEN_PATH: Record<string, string> = { cephfs: 'cephFS', downwardAPI: 'downwarAPI' };

function validateCSIDriverName(driver: string, path: string): Errs {
  const errs: Errs = [];
  if (!driver) errs.push(required(path));
  if (driver.length > 63) errs.push(tooLong(path, 63));
  errs.push(...each(path, driver, isDNS1123Subdomain(driver.toLowerCase())));
  return errs;
}

function validateVolumeSource(v: any, path: string): Errs {
  const errs: Errs = [];
  let n = 0;
  for (const [key, sub, fn] of VOLUME_SOURCES) {
    if (!isSet(v?.[key])) continue;
    if (n > 0) { errs.push(forbidden(`${path}.${FORBIDDEN_PATH[key] ?? key}`, 'may not specify more than 1 volume type')); continue; }
    n++;
    errs.push(...fn(isObj(v[key]) ? v[key] : {}, `${path}.${sub}`));
  }
  if (n === 0) errs.push(required(path, 'must specify a volume type'));
  return errs;
}

/** ValidateVolumes: returns the names of the valid volumes (invalid ones are not mountable). */
function validateVolumes(volumes: any[], path: string, podName: string | undefined, errs: Errs): Map<string, Obj> {
  const vols = new Map<string, Obj>();
  const created = new Set<string>();
  if (podName) for (const v of volumes) if (isSet(v?.ephemeral)) created.add(`${podName}-${str(v?.name)}`);
  volumes.forEach((v: any, i: number) => {
    const p = `${path}[${i}]`;
    const name = str(v?.name);
    const el = validateVolumeSource(v, p);
    if (isSet(v?.ephemeral) && podName && name) {
      for (const m of nameIsDNSSubdomain(`${podName}-${name}`, false)) el.push(invalid(`${p}.name`, name, `PVC name "${podName}-${name}": ${m}`));
    }
    if (!name) el.push(required(`${p}.name`));
    else el.push(...validateDNS1123Label(name, `${p}.name`));
    if (vols.has(name)) el.push(duplicate(`${p}.name`, name));
    if (el.length === 0) vols.set(name, v);
    else errs.push(...el);
    if (isObj(v?.persistentVolumeClaim) && created.has(str(v.persistentVolumeClaim.claimName))) {
      errs.push(invalid(`${p}.persistentVolumeClaim.claimName`, str(v.persistentVolumeClaim.claimName), 'must not reference a PVC that gets created for an ephemeral volume'));
    }
  });
  return vols;
}

// ---------------------------------------------------------------------------------------------
// containers

function validatePullPolicy(policy: string, path: string): Errs {
  if (policy === 'Always' || policy === 'IfNotPresent' || policy === 'Never') return [];
  if (!policy) return [required(path)];
  return [notSupported(path, policy, ['Always', 'IfNotPresent', 'Never'])];
}

function validateContainerPorts(ports: any[], path: string): Errs {
  const errs: Errs = [];
  const names = new Set<string>();
  ports.forEach((p: any, i: number) => {
    const pp = `${path}[${i}]`;
    const name = str(p?.name);
    if (name) {
      const m = isValidPortName(name);
      if (m.length) errs.push(...each(`${pp}.name`, name, m));
      else if (names.has(name)) errs.push(duplicate(`${pp}.name`, name));
      else names.add(name);
    }
    if (!p?.containerPort) errs.push(required(`${pp}.containerPort`));
    else errs.push(...each(`${pp}.containerPort`, p.containerPort, isValidPortNum(p.containerPort)));
    if (p?.hostPort) errs.push(...each(`${pp}.hostPort`, p.hostPort, isValidPortNum(p.hostPort)));
    const proto = str(p?.protocol);
    if (!proto) errs.push(required(`${pp}.protocol`));
    else if (!PROTOCOLS.includes(proto)) errs.push(notSupported(`${pp}.protocol`, proto, PROTOCOLS));
  });
  return errs;
}

function validateKeySelector(s: any, path: string): Errs {
  const errs = each(`${path}.name`, str(s?.name), nameIsDNSSubdomain(str(s?.name), false));
  if (!str(s?.key)) errs.push(required(`${path}.key`));
  else errs.push(...each(`${path}.key`, s.key, isConfigMapKey(s.key)));
  return errs;
}

function validateEnv(env: any[], path: string): Errs {
  const errs: Errs = [];
  env.forEach((e: any, i: number) => {
    const p = `${path}[${i}]`;
    const name = str(e?.name);
    if (!name) errs.push(required(`${p}.name`));
    else errs.push(...each(`${p}.name`, name, isRelaxedEnvVarName(name)));
    const vf = e?.valueFrom;
    if (!isObj(vf)) return;
    const vp = `${p}.valueFrom`;
    let n = 0;
    if (isObj(vf.fieldRef)) { n++; errs.push(...validateObjectFieldSelector(vf.fieldRef, ENV_FIELD_PATHS, `${vp}.fieldRef`)); }
    if (isObj(vf.resourceFieldRef)) { n++; errs.push(...validateResourceFieldSelector(vf.resourceFieldRef, `${vp}.resourceFieldRef`, false)); }
    if (isObj(vf.configMapKeyRef)) { n++; errs.push(...validateKeySelector(vf.configMapKeyRef, `${vp}.configMapKeyRef`)); }
    if (isObj(vf.secretKeyRef)) { n++; errs.push(...validateKeySelector(vf.secretKeyRef, `${vp}.secretKeyRef`)); }
    if (n === 0) errs.push(invalid(vp, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
    else if (str(e?.value)) errs.push(invalid(vp, '', 'may not be specified when `value` is not empty'));
    else if (n > 1) errs.push(invalid(vp, '', 'may not have more than one field specified at a time'));
  });
  return errs;
}

function validateEnvFrom(envFrom: any[], path: string): Errs {
  const errs: Errs = [];
  envFrom.forEach((e: any, i: number) => {
    const p = `${path}[${i}]`;
    if (str(e?.prefix)) errs.push(...each(`${p}.prefix`, e.prefix, isRelaxedEnvVarName(e.prefix)));
    let n = 0;
    for (const kind of ['configMapRef', 'secretRef']) {
      if (!isObj(e?.[kind])) continue;
      n++;
      const name = str(e[kind].name);
      if (!name) errs.push(required(`${p}.${kind}.name`));
      else errs.push(...each(`${p}.${kind}.name`, name, nameIsDNSSubdomain(name, true)));
    }
    if (n === 0) errs.push(invalid(path, '', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (n > 1) errs.push(invalid(path, '', 'may not have more than one field specified at a time'));
  });
  return errs;
}

function validateVolumeMounts(mounts: any[], devices: any[], volumes: Map<string, Obj>, c: any, path: string): Errs {
  const errs: Errs = [];
  const points = new Set<string>();
  const devNames = new Set(devices.map((d) => str(d?.name)));
  const devPaths = new Set(devices.map((d) => str(d?.devicePath)));
  mounts.forEach((m: any, i: number) => {
    const p = `${path}[${i}]`;
    const name = str(m?.name);
    const mountPath = str(m?.mountPath);
    if (!name) errs.push(required(`${p}.name`));
    if (!volumes.has(name)) errs.push(notFound(`${p}.name`, name));
    if (!mountPath) errs.push(required(`${p}.mountPath`));
    if (points.has(mountPath)) errs.push(invalid(`${p}.mountPath`, mountPath, 'must be unique'));
    points.add(mountPath);
    if (devNames.has(name)) errs.push(invalid(`${p}.name`, name, 'must not already exist in volumeDevices'));
    if (devPaths.has(mountPath)) errs.push(invalid(`${p}.mountPath`, mountPath, 'must not already exist as a path in volumeDevices'));
    if (isSet(volumes.get(name)?.image)) {
      if (str(m?.subPath)) errs.push(invalid(`${p}.subPath`, m.subPath, 'not allowed in image volume sources'));
      if (str(m?.subPathExpr)) errs.push(invalid(`${p}.subPathExpr`, m.subPathExpr, 'not allowed in image volume sources'));
    }
    if (str(m?.subPath)) errs.push(...validateLocalDescendingPath(m.subPath, `${path}.subPath`));
    if (str(m?.subPathExpr)) {
      if (str(m?.subPath)) errs.push(invalid(`${p}.subPathExpr`, m.subPathExpr, 'subPathExpr and subPath are mutually exclusive'));
      errs.push(...validateLocalDescendingPath(m.subPathExpr, `${path}.subPathExpr`));
    }
    if (isSet(m?.mountPropagation)) {
      const mp = str(m.mountPropagation);
      if (!['Bidirectional', 'HostToContainer', 'None'].includes(mp)) errs.push(notSupported(`${path}.mountPropagation`, mp, ['Bidirectional', 'HostToContainer', 'None']));
      if (mp === 'Bidirectional' && c?.securityContext?.privileged !== true) {
        errs.push(forbidden(`${path}.mountPropagation`, 'Bidirectional mount propagation is available only to privileged containers'));
      }
    }
    if (isSet(m?.recursiveReadOnly)) {
      const rro = str(m.recursiveReadOnly);
      if (rro === 'Enabled' || rro === 'IfPossible') {
        if (m.readOnly !== true) errs.push(forbidden(`${path}.recursiveReadOnly`, 'may only be specified when readOnly is true'));
        if (isSet(m.mountPropagation) && m.mountPropagation !== 'None') errs.push(forbidden(`${path}.recursiveReadOnly`, 'may only be specified when mountPropagation is None or not specified'));
      } else if (rro !== 'Disabled') {
        errs.push(notSupported(`${path}.recursiveReadOnly`, rro, ['Disabled', 'Enabled', 'IfPossible']));
      }
    }
  });
  return errs;
}

function validateVolumeDevices(devices: any[], mounts: any[], volumes: Map<string, Obj>, path: string): Errs {
  const errs: Errs = [];
  const paths = new Set<string>();
  const names = new Set<string>();
  const mountNames = new Set(mounts.map((m) => str(m?.name)));
  const mountPaths = new Set(mounts.map((m) => str(m?.mountPath)));
  devices.forEach((d: any, i: number) => {
    const p = `${path}[${i}]`;
    const name = str(d?.name);
    const devPath = str(d?.devicePath);
    const vol = volumes.get(name);
    if (!name) errs.push(required(`${p}.name`));
    if (names.has(name)) errs.push(invalid(`${p}.name`, name, 'must be unique'));
    if (vol && !isSet(vol.persistentVolumeClaim) && !isSet(vol.ephemeral)) errs.push(invalid(`${p}.name`, name, 'can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode'));
    if (!vol) errs.push(notFound(`${p}.name`, name));
    if (!devPath) errs.push(required(`${p}.devicePath`));
    if (paths.has(devPath)) errs.push(invalid(`${p}.devicePath`, devPath, 'must be unique'));
    if (devPath && validatePathNoBacksteps(devPath, '').length) errs.push(invalid(`${p}.devicePath`, devPath, "can not contain backsteps ('..')"));
    else paths.add(devPath);
    if (mountNames.has(name)) errs.push(invalid(`${p}.name`, name, 'must not already exist in volumeMounts'));
    if (mountPaths.has(devPath)) errs.push(invalid(`${p}.devicePath`, devPath, 'must not already exist as a path in volumeMounts'));
    if (name) names.add(name);
  });
  return errs;
}

function validateHandler(h: any, kinds: string[], path: string, grace: number | undefined): Errs {
  const errs: Errs = [];
  let n = 0;
  for (const k of kinds) {
    if (!isObj(h?.[k])) continue;
    if (n > 0) { errs.push(forbidden(`${path}.${k}`, 'may not specify more than 1 handler type')); continue; }
    n++;
    const a = h[k];
    const p = `${path}.${k}`;
    switch (k) {
      case 'exec':
        if (arr(a.command).length === 0) errs.push(required(`${p}.command`));
        break;
      case 'httpGet': {
        if (!str(a.path)) errs.push(required(`${p}.path`));
        errs.push(...validatePortNumOrName(a.port, `${p}.port`));
        if (a.scheme !== 'HTTP' && a.scheme !== 'HTTPS') errs.push(notSupported(`${p}.scheme`, str(a.scheme), ['HTTP', 'HTTPS']));
        for (const hdr of arr(a.httpHeaders)) errs.push(...each(`${p}.httpHeaders`, str(hdr?.name), isHTTPHeaderName(str(hdr?.name))));
        break;
      }
      case 'tcpSocket':
        errs.push(...validatePortNumOrName(a.port, `${p}.port`));
        break;
      case 'grpc':
        errs.push(...each(`${p}.port`, num(a.port), isValidPortNum(num(a.port))));
        break;
      case 'sleep': {
        const s = num(a.seconds);
        if (grace !== undefined && (s <= 0 || s > grace)) {
          errs.push(invalid(p, s, `must be greater than 0 and less than terminationGracePeriodSeconds (${grace}). Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep.`));
        }
        break;
      }
    }
  }
  if (n === 0) errs.push(required(path, 'must specify a handler type'));
  return errs;
}

const PROBE_HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'grpc'];
const LIFECYCLE_HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'sleep'];

function validateProbe(probe: any, path: string, grace: number | undefined, kind: 'liveness' | 'readiness' | 'startup'): Errs {
  if (!isObj(probe)) return [];
  const errs = validateHandler(probe, PROBE_HANDLERS, path, grace);
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) {
    errs.push(...validateNonnegativeField(num(probe[f]), `${path}.${f}`));
  }
  if (isSet(probe.terminationGracePeriodSeconds) && probe.terminationGracePeriodSeconds <= 0) {
    errs.push(invalid(`${path}.terminationGracePeriodSeconds`, probe.terminationGracePeriodSeconds, 'must be greater than 0'));
  }
  if (kind !== 'readiness' && num(probe.successThreshold) !== 1) errs.push(invalid(`${path}.successThreshold`, num(probe.successThreshold), 'must be 1'));
  if (kind === 'readiness' && isSet(probe.terminationGracePeriodSeconds)) {
    errs.push(invalid(`${path}.terminationGracePeriodSeconds`, probe.terminationGracePeriodSeconds, 'must not be set for readinessProbes'));
  }
  return errs;
}

function validateLifecycle(lc: any, path: string, grace: number | undefined): Errs {
  const errs: Errs = [];
  if (isObj(lc?.postStart)) errs.push(...validateHandler(lc.postStart, LIFECYCLE_HANDLERS, `${path}.postStart`, grace));
  if (isObj(lc?.preStop)) errs.push(...validateHandler(lc.preStop, LIFECYCLE_HANDLERS, `${path}.preStop`, grace));
  return errs;
}

function validateSeccompProfile(sp: any, path: string): Errs {
  if (!isObj(sp)) return [];
  const errs: Errs = [];
  const t = str(sp.type);
  if (!t) errs.push(required(`${path}.type`, 'type is required when seccompProfile is set'));
  else if (!['Localhost', 'RuntimeDefault', 'Unconfined'].includes(t)) errs.push(notSupported(`${path}.type`, t, ['Localhost', 'RuntimeDefault', 'Unconfined']));
  if (t === 'Localhost') {
    if (!isSet(sp.localhostProfile)) errs.push(required(`${path}.localhostProfile`, 'must be set when seccomp type is Localhost'));
    else errs.push(...validateLocalDescendingPath(str(sp.localhostProfile), `${path}.localhostProfile`));
  } else if (isSet(sp.localhostProfile)) {
    errs.push(invalid(`${path}.localhostProfile`, sp, 'can only be set when seccomp type is Localhost'));
  }
  return errs;
}

function validateAppArmorProfile(ap: any, path: string): Errs {
  if (!isObj(ap)) return [];
  const t = str(ap.type);
  switch (t) {
    case 'Localhost': {
      const lp = ap.localhostProfile;
      if (!isSet(lp)) return [required(`${path}.localhostProfile`, 'must be set when AppArmor type is Localhost')];
      const errs: Errs = [];
      if (str(lp).trim() !== str(lp)) errs.push(invalid(`${path}.localhostProfile`, lp, 'must not be padded with whitespace'));
      else if (!str(lp)) errs.push(required(`${path}.localhostProfile`, 'must be set when AppArmor type is Localhost'));
      if (bytes(str(lp)) > 4095) errs.push(tooLong(`${path}.localhostProfile`, 4095));
      return errs;
    }
    case 'RuntimeDefault': case 'Unconfined':
      return isSet(ap.localhostProfile) ? [invalid(`${path}.localhostProfile`, ap.localhostProfile, 'can only be set when AppArmor type is Localhost')] : [];
    case '': return [required(`${path}.type`, 'type is required when appArmorProfile is set')];
    default: return [notSupported(`${path}.type`, t, ['Localhost', 'RuntimeDefault', 'Unconfined'])];
  }
}

/** ValidateSecurityContext (container). */
function validateSecurityContext(sc: any, path: string, hostUsers: boolean): Errs {
  if (!isObj(sc)) return [];
  const errs: Errs = [];
  if (isSet(sc.runAsUser)) errs.push(...each(`${path}.runAsUser`, sc.runAsUser, isValidUserID(sc.runAsUser)));
  if (isSet(sc.runAsGroup)) errs.push(...each(`${path}.runAsGroup`, sc.runAsGroup, isValidGroupID(sc.runAsGroup)));
  if (isSet(sc.procMount)) {
    if (sc.procMount !== 'Default' && sc.procMount !== 'Unmasked') errs.push(notSupported(`${path}.procMount`, sc.procMount, ['Default', 'Unmasked']));
    if (hostUsers && sc.procMount === 'Unmasked') errs.push(invalid(`${path}.procMount`, sc.procMount, '`hostUsers` must be false to use `Unmasked`'));
  }
  errs.push(...validateSeccompProfile(sc.seccompProfile, `${path}.seccompProfile`));
  if (sc.allowPrivilegeEscalation === false) {
    if (sc.privileged === true) errs.push(invalid(path, sc, 'cannot set `allowPrivilegeEscalation` to false and `privileged` to true'));
    if (arr(sc.capabilities?.add).includes('CAP_SYS_ADMIN')) errs.push(invalid(path, sc, 'cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN'));
  }
  errs.push(...validateAppArmorProfile(sc.appArmorProfile, `${path}.appArmorProfile`));
  return errs;
}

function validateResizePolicy(list: any[], path: string, restartPolicy: string): Errs {
  const errs: Errs = [];
  const seen = new Set<string>();
  list.forEach((p: any, i: number) => {
    const name = str(p?.resourceName);
    if (seen.has(name)) errs.push(duplicate(`${path}[${i}]`, name));
    seen.add(name);
    if (!name) errs.push(required(path));
    else if (name !== 'cpu' && name !== 'memory') errs.push(notSupported(path, name, ['cpu', 'memory']));
    const rp = str(p?.restartPolicy);
    if (!rp) errs.push(required(path));
    else if (rp !== 'NotRequired' && rp !== 'RestartContainer') errs.push(notSupported(path, rp, ['NotRequired', 'RestartContainer']));
    if (restartPolicy === 'Never' && rp !== 'NotRequired') errs.push(invalid(path, rp, "must be 'NotRequired' when `restartPolicy` is 'Never'"));
  });
  return errs;
}

/** validateContainerCommon: what regular, init and ephemeral containers share. */
function validateContainerCommon(c: any, volumes: Map<string, Obj>, path: string, spec: any, hostUsers: boolean): Errs {
  const errs: Errs = [];
  const name = str(c?.name);
  if (!name) errs.push(required(`${path}.name`));
  else errs.push(...validateDNS1123Label(name, `${path}.name`));
  if (!str(c?.image)) errs.push(required(`${path}.image`));
  const tmp = str(c?.terminationMessagePolicy);
  if (!tmp) errs.push(required(`${path}.terminationMessagePolicy`));
  else if (tmp !== 'File' && tmp !== 'FallbackToLogsOnError') errs.push(notSupported(`${path}.terminationMessagePolicy`, tmp, ['File', 'FallbackToLogsOnError']));
  errs.push(...validateContainerPorts(arr(c?.ports), `${path}.ports`));
  errs.push(...validateEnv(arr(c?.env), `${path}.env`));
  errs.push(...validateEnvFrom(arr(c?.envFrom), `${path}.envFrom`));
  errs.push(...validateVolumeMounts(arr(c?.volumeMounts), arr(c?.volumeDevices), volumes, c, `${path}.volumeMounts`));
  errs.push(...validateVolumeDevices(arr(c?.volumeDevices), arr(c?.volumeMounts), volumes, `${path}.volumeDevices`));
  errs.push(...validatePullPolicy(str(c?.imagePullPolicy), `${path}.imagePullPolicy`));
  errs.push(...validateResourceRequirements(c?.resources, `${path}.resources`));
  errs.push(...validateResizePolicy(arr(c?.resizePolicy), `${path}.resizePolicy`, str(spec?.restartPolicy)));
  errs.push(...validateSecurityContext(c?.securityContext, `${path}.securityContext`, hostUsers));
  return errs;
}

function hostPortConflicts(containers: any[], path: string, seen = new Set<string>()): Errs {
  const errs: Errs = [];
  containers.forEach((c: any, ci: number) => {
    arr(c?.ports).forEach((p: any, pi: number) => {
      if (!p?.hostPort) return;
      const key = `${str(p.protocol)}/${str(p.hostIP)}/${p.hostPort}`;
      if (seen.has(key)) errs.push(duplicate(`${path}[${ci}].ports[${pi}].hostPort`, key));
      else seen.add(key);
    });
  });
  return errs;
}

// ---------------------------------------------------------------------------------------------
// pod spec (ValidatePodSpec)

interface PodOpts { podName?: string; resourceIsPod?: boolean }

function validateContainers(containers: any[], volumes: Map<string, Obj>, path: string, spec: any, grace: number | undefined, hostUsers: boolean): Errs {
  if (containers.length === 0) return [required(path)];
  const errs: Errs = [];
  const names = new Set<string>();
  containers.forEach((c: any, i: number) => {
    const p = `${path}[${i}]`;
    errs.push(...validateContainerCommon(c, volumes, p, spec, hostUsers));
    const name = str(c?.name);
    if (names.has(name)) errs.push(duplicate(`${p}.name`, name));
    else names.add(name);
    if (isObj(c?.lifecycle)) errs.push(...validateLifecycle(c.lifecycle, `${p}.lifecycle`, grace));
    errs.push(...validateProbe(c?.livenessProbe, `${p}.livenessProbe`, grace, 'liveness'));
    errs.push(...validateProbe(c?.readinessProbe, `${p}.readinessProbe`, grace, 'readiness'));
    errs.push(...validateProbe(c?.startupProbe, `${p}.startupProbe`, grace, 'startup'));
    if (isSet(c?.restartPolicy)) errs.push(forbidden(`${p}.restartPolicy`, 'may not be set for non-init containers'));
  });
  errs.push(...hostPortConflicts(containers, path));
  return errs;
}

function validateInitContainers(inits: any[], regular: any[], volumes: Map<string, Obj>, path: string, spec: any, grace: number | undefined, hostUsers: boolean): Errs {
  const errs: Errs = [];
  const names = new Set<string>(regular.map((c) => str(c?.name)));
  inits.forEach((c: any, i: number) => {
    const p = `${path}[${i}]`;
    errs.push(...validateContainerCommon(c, volumes, p, spec, hostUsers));
    let always = false;
    if (isSet(c?.restartPolicy)) {
      if (c.restartPolicy !== 'Always') errs.push(notSupported(`${p}.restartPolicy`, c.restartPolicy, ['Always']));
      always = c.restartPolicy === 'Always';
    }
    const name = str(c?.name);
    if (names.has(name)) errs.push(duplicate(`${p}.name`, name));
    else if (name) names.add(name);
    errs.push(...hostPortConflicts([c], path));
    if (always) {
      if (isObj(c?.lifecycle)) errs.push(...validateLifecycle(c.lifecycle, `${p}.lifecycle`, grace));
      errs.push(...validateProbe(c?.livenessProbe, `${p}.livenessProbe`, grace, 'liveness'));
      errs.push(...validateProbe(c?.readinessProbe, `${p}.readinessProbe`, grace, 'readiness'));
      errs.push(...validateProbe(c?.startupProbe, `${p}.startupProbe`, grace, 'startup'));
    } else {
      for (const f of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe']) {
        if (isSet(c?.[f])) errs.push(forbidden(`${p}.${f}`, 'may not be set for init containers without restartPolicy=Always'));
      }
    }
  });
  return errs;
}

const EPHEMERAL_FORBIDDEN = ['ports', 'resources', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle', 'resizePolicy', 'restartPolicy'];

function validateEphemeralContainers(ecs: any[], spec: any, volumes: Map<string, Obj>, path: string, hostUsers: boolean): Errs {
  const errs: Errs = [];
  const others = new Set<string>([...arr(spec.containers), ...arr(spec.initContainers)].map((c) => str(c?.name)));
  const all = new Set(others);
  ecs.forEach((c: any, i: number) => {
    const p = `${path}[${i}]`;
    errs.push(...validateContainerCommon(c, volumes, p, spec, hostUsers));
    errs.push(...validateImageWhitespace(c, p));
    const name = str(c?.name);
    if (all.has(name)) errs.push(duplicate(`${p}.name`, name));
    else all.add(name);
    if (str(c?.targetContainerName) && !others.has(c.targetContainerName)) errs.push(notFound(`${p}.targetContainerName`, c.targetContainerName));
    for (const f of EPHEMERAL_FORBIDDEN) {
      const v = c?.[f];
      if (isSet(v) && !semanticEqual(v, undefined)) errs.push(forbidden(`${p}.${f}`, 'cannot be set for an Ephemeral Container'));
    }
    arr(c?.volumeMounts).forEach((m: any, j: number) => {
      if (str(m?.subPath)) errs.push(forbidden(`${p}.volumeMounts[${j}].subPath`, 'cannot be set for an Ephemeral Container'));
      if (str(m?.subPathExpr)) errs.push(forbidden(`${p}.volumeMounts[${j}].subPathExpr`, 'cannot be set for an Ephemeral Container'));
    });
  });
  return errs;
}

function validateImageWhitespace(c: any, path: string): Errs {
  const image = str(c?.image);
  return image.trim().length !== image.length ? [invalid(`${path}.image`, image, 'must not have leading or trailing whitespace')] : [];
}

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];

function validatePodAffinityTerm(term: any, path: string): Errs {
  const errs = validateLabelSelector(term?.labelSelector, `${path}.labelSelector`);
  errs.push(...validateLabelSelector(term?.namespaceSelector, `${path}.namespaceSelector`));
  for (const ns of arr(term?.namespaces)) errs.push(...each(`${path}.namespace`, ns, nameIsDNSLabel(str(ns), false)));
  for (const f of ['matchLabelKeys', 'mismatchLabelKeys']) {
    const keys = arr(term?.[f]);
    if (keys.length === 0) continue;
    if (!isObj(term?.labelSelector)) { errs.push(forbidden(`${path}.${f}`, 'must not be specified when labelSelector is not set')); continue; }
    keys.forEach((k, i) => errs.push(...validateLabelName(str(k), `${path}.${f}[${i}]`)));
  }
  const mismatch = new Set(arr(term?.mismatchLabelKeys).map(str));
  arr(term?.matchLabelKeys).forEach((k, i) => {
    if (mismatch.has(str(k))) errs.push(invalid(`${path}.matchLabelKeys[${i}]`, k, 'exists in both matchLabelKeys and mismatchLabelKeys'));
  });
  if (!str(term?.topologyKey)) errs.push(required(`${path}.topologyKey`, 'can not be empty'));
  errs.push(...validateLabelName(str(term?.topologyKey), `${path}.topologyKey`));
  return errs;
}

function validateAffinity(aff: any, path: string): Errs {
  if (!isObj(aff)) return [];
  const errs: Errs = [];
  const na = aff.nodeAffinity;
  if (isObj(na)) {
    if (isObj(na.requiredDuringSchedulingIgnoredDuringExecution)) {
      errs.push(...validateNodeSelector(na.requiredDuringSchedulingIgnoredDuringExecution, `${path}.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution`));
    }
    arr(na.preferredDuringSchedulingIgnoredDuringExecution).forEach((t: any, i: number) => {
      const p = `${path}.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[${i}]`;
      if (num(t?.weight) <= 0 || num(t?.weight) > 100) errs.push(invalid(`${p}.weight`, num(t?.weight), 'must be in the range 1-100'));
      errs.push(...validateNodeSelectorTerm(t?.preference, `${p}.preference`, true));
    });
  }
  for (const kind of ['podAffinity', 'podAntiAffinity']) {
    const pa = aff[kind];
    if (!isObj(pa)) continue;
    arr(pa.requiredDuringSchedulingIgnoredDuringExecution).forEach((t: any, i: number) => {
      errs.push(...validatePodAffinityTerm(t, `${path}.${kind}.requiredDuringSchedulingIgnoredDuringExecution[${i}]`));
    });
    arr(pa.preferredDuringSchedulingIgnoredDuringExecution).forEach((t: any, i: number) => {
      const p = `${path}.${kind}.preferredDuringSchedulingIgnoredDuringExecution[${i}]`;
      if (num(t?.weight) <= 0 || num(t?.weight) > 100) errs.push(invalid(`${p}.weight`, num(t?.weight), 'must be in the range 1-100'));
      errs.push(...validatePodAffinityTerm(t?.podAffinityTerm, `${p}.podAffinityTerm`));
    });
  }
  return errs;
}

function validateTopologySpreadConstraints(list: any[], path: string): Errs {
  const errs: Errs = [];
  list.forEach((c: any, i: number) => {
    const p = `${path}[${i}]`;
    if (num(c?.maxSkew) <= 0) errs.push(invalid(`${p}.maxSkew`, num(c?.maxSkew), IS_NOT_POSITIVE));
    if (!str(c?.topologyKey)) errs.push(required(`${p}.topologyKey`, 'can not be empty'));
    const wu = str(c?.whenUnsatisfiable);
    if (wu !== 'DoNotSchedule' && wu !== 'ScheduleAnyway') errs.push(notSupported(`${p}.whenUnsatisfiable`, wu, ['DoNotSchedule', 'ScheduleAnyway']));
    const dup = list.slice(i + 1).some((o: any) => str(o?.topologyKey) === str(c?.topologyKey) && str(o?.whenUnsatisfiable) === wu);
    if (dup) errs.push(duplicate(`${p}.{topologyKey, whenUnsatisfiable}`, `{${str(c?.topologyKey)}, ${wu}}`));
    if (isSet(c?.minDomains)) {
      if (c.minDomains <= 0) errs.push(invalid(`${p}.minDomains`, c.minDomains, IS_NOT_POSITIVE));
      if (wu !== 'DoNotSchedule') errs.push(invalid(`${p}.minDomains`, c.minDomains, `can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ${wu}`));
    }
    for (const f of ['nodeAffinityPolicy', 'nodeTaintsPolicy']) {
      if (isSet(c?.[f]) && c[f] !== 'Honor' && c[f] !== 'Ignore') errs.push(notSupported(`${p}.${f}`, c[f], ['Honor', 'Ignore']));
    }
    const keys = arr(c?.matchLabelKeys);
    if (keys.length) {
      if (!isObj(c?.labelSelector)) errs.push(forbidden(`${p}.matchLabelKeys`, 'must not be specified when labelSelector is not set'));
      const sel = new Set<string>([...Object.keys(isObj(c?.labelSelector?.matchLabels) ? c.labelSelector.matchLabels : {}), ...arr(c?.labelSelector?.matchExpressions).map((e) => str(e?.key))]);
      keys.forEach((k, j) => {
        errs.push(...validateLabelName(str(k), `${p}.matchLabelKeys[${j}]`));
        if (sel.has(str(k))) errs.push(invalid(`${p}.matchLabelKeys[${j}]`, k, 'exists in both matchLabelKeys and labelSelector'));
      });
    }
    errs.push(...validateLabelSelector(c?.labelSelector, `${p}.labelSelector`));
  });
  return errs;
}

function validatePodSecurityContext(sc: any, spec: any, path: string): Errs {
  if (!isObj(sc)) return [];
  const errs: Errs = [];
  if (isSet(sc.fsGroup)) errs.push(...each(`${path}.fsGroup`, sc.fsGroup, isValidGroupID(sc.fsGroup)));
  if (isSet(sc.runAsUser)) errs.push(...each(`${path}.runAsUser`, sc.runAsUser, isValidUserID(sc.runAsUser)));
  if (isSet(sc.runAsGroup)) errs.push(...each(`${path}.runAsGroup`, sc.runAsGroup, isValidGroupID(sc.runAsGroup)));
  arr(sc.supplementalGroups).forEach((g, i) => errs.push(...each(`${path}.supplementalGroups[${i}]`, g, isValidGroupID(num(g)))));
  if (spec.shareProcessNamespace === true && spec.hostPID === true) {
    errs.push(invalid(`${path}.shareProcessNamespace`, true, 'ShareProcessNamespace and HostPID cannot both be enabled'));
  }
  const names = new Set<string>();
  arr(sc.sysctls).forEach((s: any, i: number) => {
    const p = `${path}.sysctls[${i}].name`;
    const name = str(s?.name);
    if (!name) errs.push(required(p));
    else if (name.length > 253 || !/^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$/.test(name)) {
      errs.push(invalid(p, name, 'must have at most 253 characters and match regex ^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$'));
    } else if (names.has(name)) errs.push(duplicate(p, name));
    names.add(name);
  });
  if (isSet(sc.fsGroupChangePolicy) && sc.fsGroupChangePolicy !== 'Always' && sc.fsGroupChangePolicy !== 'OnRootMismatch') {
    errs.push(notSupported(`${path}.fsGroupChangePolicy`, sc.fsGroupChangePolicy, ['Always', 'OnRootMismatch']));
  }
  errs.push(...validateSeccompProfile(sc.seccompProfile, `${path}.seccompProfile`));
  errs.push(...validateAppArmorProfile(sc.appArmorProfile, `${path}.appArmorProfile`));
  if (isSet(sc.supplementalGroupsPolicy) && sc.supplementalGroupsPolicy !== 'Merge' && sc.supplementalGroupsPolicy !== 'Strict') {
    errs.push(notSupported(`${path}.supplementalGroupsPolicy`, sc.supplementalGroupsPolicy, ['Merge', 'Strict']));
  }
  return errs;
}

function validateDNSConfig(cfg: any, policy: string, path: string): Errs {
  if (policy === 'None') {
    if (!isObj(cfg)) return [required(path, 'must provide `dnsConfig` when `dnsPolicy` is None')];
    if (arr(cfg.nameservers).length === 0) return [required(`${path}.nameservers`, 'must provide at least one DNS nameserver when `dnsPolicy` is None')];
  }
  if (!isObj(cfg)) return [];
  const errs: Errs = [];
  const ns = arr(cfg.nameservers);
  if (ns.length > 3) errs.push(invalid(`${path}.nameservers`, ns, 'must not have more than 3 nameservers'));
  ns.forEach((n, i) => errs.push(...isValidIP(`${path}.nameservers[${i}]`, str(n))));
  const searches = arr(cfg.searches).map(str);
  if (searches.length > 32) errs.push(invalid(`${path}.searches`, searches, 'must not have more than 32 search paths'));
  if (searches.join(' ').length > 2048) errs.push(invalid(`${path}.searches`, searches, 'must not have more than 2048 characters (including spaces) in the search list'));
  searches.forEach((s, i) => errs.push(...validateDNS1123Subdomain(s.replace(/\.$/, ''), `${path}.searches[${i}]`)));
  arr(cfg.options).forEach((o, i) => { if (!str(o?.name)) errs.push(required(`${path}.options[${i}]`, 'must not be empty')); });
  return errs;
}

/** ValidatePodSpec. `podName` is set for real pods (generic ephemeral volume names). */
export function validatePodSpec(spec: any, path: string, opts: PodOpts = {}): FieldError[] {
  if (!isObj(spec)) return [required(path)];
  const errs: Errs = [];
  if (!isSet(spec.terminationGracePeriodSeconds)) errs.push(required(`${path}.terminationGracePeriodSeconds`));
  const grace: number | undefined = typeof spec.terminationGracePeriodSeconds === 'number' ? spec.terminationGracePeriodSeconds : undefined;
  const hostUsers = spec.hostUsers !== false;
  const volumes = validateVolumes(arr(spec.volumes), `${path}.volumes`, opts.podName, errs);
  const claimNames = new Set<string>();
  arr(spec.resourceClaims).forEach((c: any, i: number) => {
    const p = `${path}.resourceClaims[${i}]`;
    const name = str(c?.name);
    if (!name) errs.push(required(`${p}.name`));
    else if (claimNames.has(name)) errs.push(duplicate(`${p}.name`, name));
    else { errs.push(...validateDNS1123Label(name, `${p}.name`)); claimNames.add(name); }
  });
  errs.push(...validateContainers(arr(spec.containers), volumes, `${path}.containers`, spec, grace, hostUsers));
  errs.push(...validateInitContainers(arr(spec.initContainers), arr(spec.containers), volumes, `${path}.initContainers`, spec, grace, hostUsers));
  errs.push(...validateEphemeralContainers(arr(spec.ephemeralContainers), spec, volumes, `${path}.ephemeralContainers`, hostUsers));
  if (spec.hostNetwork === true) {
    arr(spec.containers).forEach((c: any, i: number) => arr(c?.ports).forEach((p: any, j: number) => {
      const hp = num(p?.hostPort);
      if ((opts.resourceIsPod || hp !== 0) && hp !== num(p?.containerPort)) {
        errs.push(invalid(`${path}.containers[${i}].ports[${j}].hostPort`, hp, 'must match `containerPort` when `hostNetwork` is true'));
      }
    }));
  }
  const rp = str(spec.restartPolicy);
  if (!rp) errs.push(required(`${path}.restartPolicy`));
  else if (!RESTART_POLICIES.includes(rp)) errs.push(notSupported(`${path}.restartPolicy`, rp, RESTART_POLICIES));
  const dp = str(spec.dnsPolicy);
  if (!dp) errs.push(required(`${path}.dnsPolicy`));
  else if (!DNS_POLICIES.includes(dp)) errs.push(notSupported(`${path}.dnsPolicy`, dp, DNS_POLICIES));
  errs.push(...validateLabels(spec.nodeSelector, `${path}.nodeSelector`));
  errs.push(...validatePodSecurityContext(spec.securityContext, spec, `${path}.securityContext`));
  arr(spec.imagePullSecrets).forEach((s: any, i: number) => {
    if (isObj(s) && Object.keys(s).some((k) => k !== 'name' && isSet(s[k]))) errs.push(invalid(`${path}.imagePullSecrets[${i}]`, s, 'only name may be set'));
  });
  errs.push(...validateAffinity(spec.affinity, `${path}.affinity`));
  errs.push(...validateDNSConfig(spec.dnsConfig, dp, `${path}.dnsConfig`));
  arr(spec.readinessGates).forEach((g: any, i: number) => errs.push(...validateQualifiedName(str(g?.conditionType), `${path}.readinessGates[${i}].conditionType`)));
  const gates = new Set<string>();
  arr(spec.schedulingGates).forEach((g: any, i: number) => {
    const name = str(g?.name);
    errs.push(...validateQualifiedName(name, `${path}.schedulingGates[${i}]`));
    if (gates.has(name)) errs.push(duplicate(`${path}.schedulingGates[${i}]`, name));
    gates.add(name);
  });
  errs.push(...validateTopologySpreadConstraints(arr(spec.topologySpreadConstraints), `${path}.topologySpreadConstraints`));
  if (!hostUsers) {
    if (spec.hostNetwork === true) errs.push(forbidden(`${path}.hostNetwork`, 'when `pod.Spec.HostUsers` is false'));
    if (spec.hostPID === true) errs.push(forbidden(`${path}.HostPID`, 'when `pod.Spec.HostUsers` is false'));
    if (spec.hostIPC === true) errs.push(forbidden(`${path}.HostIPC`, 'when `pod.Spec.HostUsers` is false'));
  }
  if (str(spec.serviceAccountName)) errs.push(...each(`${path}.serviceAccountName`, spec.serviceAccountName, nameIsDNSSubdomain(spec.serviceAccountName, false)));
  if (str(spec.nodeName)) errs.push(...each(`${path}.nodeName`, spec.nodeName, nameIsDNSSubdomain(spec.nodeName, false)));
  if (isSet(spec.activeDeadlineSeconds) && (spec.activeDeadlineSeconds < 1 || spec.activeDeadlineSeconds > MAX_INT32)) {
    errs.push(invalid(`${path}.activeDeadlineSeconds`, spec.activeDeadlineSeconds, inclusiveRangeError(1, MAX_INT32)));
  }
  if (str(spec.hostname)) errs.push(...validateDNS1123Label(spec.hostname, `${path}.hostname`));
  if (str(spec.subdomain)) errs.push(...validateDNS1123Label(spec.subdomain, `${path}.subdomain`));
  if (arr(spec.tolerations).length) errs.push(...validateTolerations(arr(spec.tolerations), `${path}.tolerations`));
  arr(spec.hostAliases).forEach((h: any, i: number) => {
    errs.push(...isValidIP(`${path}.hostAliases[${i}].ip`, str(h?.ip)));
    arr(h?.hostnames).forEach((n, j) => errs.push(...validateDNS1123Subdomain(str(n), `${path}.hostAliases[${i}].hostnames[${j}]`)));
  });
  if (str(spec.priorityClassName)) errs.push(...each(`${path}.priorityClassName`, spec.priorityClassName, nameIsDNSSubdomain(spec.priorityClassName, false)));
  if (isSet(spec.runtimeClassName)) errs.push(...each(`${path}.runtimeClassName`, spec.runtimeClassName, nameIsDNSSubdomain(str(spec.runtimeClassName), false)));
  if (isSet(spec.preemptionPolicy)) errs.push(...validatePreemptionPolicy(str(spec.preemptionPolicy), `${path}.preemptionPolicy`));
  if (isObj(spec.overhead)) errs.push(...validateResourceRequirements({ limits: spec.overhead }, `${path}.overhead`));
  if (isObj(spec.os)) {
    const os = str(spec.os.name);
    if (!os) errs.push(required(`${path}.os.name`, 'cannot be empty'));
    else if (os !== 'linux' && os !== 'windows') errs.push(notSupported(`${path}.os`, os, ['linux', 'windows']));
  }
  return errs;
}

function validatePreemptionPolicy(p: string, path: string): Errs {
  if (p === 'PreemptLowerPriority' || p === 'Never') return [];
  if (!p) return [required(path)];
  return [notSupported(path, p, ['PreemptLowerPriority', 'Never'])];
}

/** ValidatePodSpecificAnnotations (mirror pods, deletion cost, seccomp annotations). */
function validatePodSpecificAnnotations(annotations: any, spec: any, path: string): Errs {
  const errs: Errs = [];
  const a: Obj = isObj(annotations) ? annotations : {};
  if ('kubernetes.io/config.mirror' in a && !str(spec?.nodeName)) {
    errs.push(invalid(`${path}[kubernetes.io/config.mirror]`, a['kubernetes.io/config.mirror'], 'must set spec.nodeName if mirror pod annotation is set'));
  }
  if ('controller.kubernetes.io/pod-deletion-cost' in a) {
    const v = str(a['controller.kubernetes.io/pod-deletion-cost']);
    const n = Number(v);
    const ok = /^(-?[1-9][0-9]*|-?0|0)$/.test(v) && Number.isSafeInteger(n) && n >= -2147483648 && n <= MAX_INT32 && (v[0] === '-' || v === '0' || (v[0] >= '1' && v[0] <= '9'));
    if (!ok) errs.push(invalid(`${path}[controller.kubernetes.io/pod-deletion-cost]`, v, 'must be a 32bit integer'));
  }
  for (const [k, v] of Object.entries(a)) {
    if (k !== 'seccomp.security.alpha.kubernetes.io/pod' && !k.startsWith('container.seccomp.security.alpha.kubernetes.io/')) continue;
    const p = str(v);
    if (p === 'runtime/default' || p === 'docker/default' || p === 'unconfined') continue;
    if (p.startsWith('localhost/')) errs.push(...validateLocalDescendingPath(p.slice('localhost/'.length), `${path}.${k}`));
    else errs.push(invalid(`${path}.${k}`, p, 'must be a valid seccomp profile'));
  }
  return errs;
}

/** ValidatePodTemplateSpec: labels and annotations at `<path>.labels`, the spec at `<path>.spec`. */
function validatePodTemplateSpec(tpl: any, path: string): Errs {
  const meta = tpl?.metadata ?? {};
  const errs = validateLabels(meta.labels, `${path}.labels`);
  errs.push(...validateAnnotations(meta.annotations, `${path}.annotations`));
  errs.push(...validatePodSpecificAnnotations(meta.annotations, tpl?.spec, `${path}.annotations`));
  errs.push(...validatePodSpec(tpl?.spec, `${path}.spec`));
  if (arr(tpl?.spec?.ephemeralContainers).length) errs.push(forbidden(`${path}.spec.ephemeralContainers`, 'ephemeral containers not allowed in pod template'));
  return errs;
}

function validatePod(pod: any): Errs {
  const errs = validatePodSpecificAnnotations(pod?.metadata?.annotations, pod?.spec, 'metadata.annotations');
  errs.push(...validatePodSpec(pod?.spec, 'spec', { podName: str(pod?.metadata?.name) || undefined, resourceIsPod: true }));
  if (!str(pod?.spec?.serviceAccountName)) {
    arr(pod?.spec?.volumes).forEach((v: any, i: number) => arr(v?.projected?.sources).forEach((s: any, j: number) => {
      if (isSet(s?.serviceAccountToken)) errs.push(forbidden(`spec.volumes[${i}].projected.sources[${j}].serviceAccountToken`, 'must not be specified when serviceAccountName is not set'));
    }));
  }
  arr(pod?.spec?.containers).forEach((c, i) => errs.push(...validateImageWhitespace(c, `spec.containers[${i}]`)));
  arr(pod?.spec?.initContainers).forEach((c, i) => errs.push(...validateImageWhitespace(c, `spec.initContainers[${i}]`)));
  return errs;
}

function validatePodCreate(pod: any): Errs {
  const errs = validatePod(pod);
  if (arr(pod?.spec?.ephemeralContainers).length) errs.push(forbidden('spec.ephemeralContainers', 'cannot be set on create'));
  if (str(pod?.spec?.nodeName) && arr(pod?.spec?.schedulingGates).length) errs.push(forbidden('spec.nodeName', 'cannot be set until all schedulingGates have been cleared'));
  return errs;
}

const UPDATABLE_POD_SPEC_FIELDS = [
  '`spec.containers[*].image`', '`spec.initContainers[*].image`', '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
];

/** ValidatePodUpdate: only images, activeDeadlineSeconds, added tolerations and removed scheduling gates may change. */
function validatePodUpdate(pod: any, old: any): Errs {
  const errs: Errs = [];
  const spec: Obj = isObj(pod?.spec) ? pod.spec : {};
  const oldSpec: Obj = isObj(old?.spec) ? old.spec : {};
  for (const kind of ['containers', 'initContainers']) {
    const cs = arr(spec[kind]);
    if (cs.length !== arr(oldSpec[kind]).length) {
      errs.push(forbidden(`spec.${kind}`, 'pod updates may not add or remove containers'));
      return errs;
    }
    cs.forEach((c, i) => {
      if (!str(c?.image)) errs.push(required(`spec.${kind}[${i}].image`));
      errs.push(...validateImageWhitespace(c, `spec.${kind}[${i}]`));
    });
  }
  if (isSet(spec.activeDeadlineSeconds)) {
    const v = spec.activeDeadlineSeconds;
    if (v < 0 || v > MAX_INT32) { errs.push(invalid('spec.activeDeadlineSeconds', v, inclusiveRangeError(0, MAX_INT32))); return errs; }
    if (isSet(oldSpec.activeDeadlineSeconds) && oldSpec.activeDeadlineSeconds < v) {
      errs.push(invalid('spec.activeDeadlineSeconds', v, 'must be less than or equal to previous value'));
      return errs;
    }
  } else if (isSet(oldSpec.activeDeadlineSeconds)) {
    errs.push(invalid('spec.activeDeadlineSeconds', null, 'must not update from a positive integer to nil value'));
  }
  const newTol = arr(spec.tolerations);
  for (const ot of arr(oldSpec.tolerations)) {
    const { tolerationSeconds: _ts, ...rest } = ot ?? {};
    if (!newTol.some((nt: any) => { const { tolerationSeconds: _n, ...r } = nt ?? {}; return semanticEqual(r, rest); })) {
      errs.push(forbidden('spec.tolerations', 'existing toleration can not be modified except its tolerationSeconds'));
      break;
    }
  }
  const oldGates = new Set(arr(oldSpec.schedulingGates).map((g) => str(g?.name)));
  arr(spec.schedulingGates).forEach((g: any, i: number) => {
    if (!oldGates.has(str(g?.name))) errs.push(forbidden(`spec.schedulingGates[${i}].name`, `only deletion is allowed, but found new scheduling gate '${str(g?.name)}'`));
  });
  const munged: Obj = structuredClone(spec);
  for (const kind of ['containers', 'initContainers']) {
    arr(munged[kind]).forEach((c: any, i: number) => { if (isObj(c)) c.image = arr(oldSpec[kind])[i]?.image; });
  }
  munged.activeDeadlineSeconds = oldSpec.activeDeadlineSeconds;
  munged.schedulingGates = oldSpec.schedulingGates;
  munged.tolerations = oldSpec.tolerations;
  if (typeof oldSpec.terminationGracePeriodSeconds === 'number' && oldSpec.terminationGracePeriodSeconds < 0 && munged.terminationGracePeriodSeconds === 1) {
    munged.terminationGracePeriodSeconds = oldSpec.terminationGracePeriodSeconds;
  }
  if (oldGates.size > 0) {
    // Gated pods may gain node selectors and node affinity.
    munged.nodeSelector = oldSpec.nodeSelector;
    if (isObj(munged.affinity)) munged.affinity = { ...munged.affinity, nodeAffinity: oldSpec.affinity?.nodeAffinity };
  }
  if (!semanticEqual(munged, oldSpec)) {
    errs.push(forbidden('spec', `pod updates may not change fields other than ${UPDATABLE_POD_SPEC_FIELDS.join(',')}`));
  }
  return errs;
}

// ---------------------------------------------------------------------------------------------
// workloads (pkg/apis/core ReplicationController, pkg/apis/apps)

/** ValidatePodTemplateSpecForReplicaSet (ReplicaSet, Deployment, DaemonSet-style templates). */
function validateTemplateForController(tpl: any, sel: any, path: string, kindWord: string, selectorIsMap = false): Errs {
  if (!isObj(tpl)) return [required(path)];
  const errs: Errs = [];
  const labels = tpl.metadata?.labels ?? {};
  if (selectorIsMap) {
    if (Object.keys(isObj(sel) ? sel : {}).length && !mapSelectorMatches(sel, labels)) {
      errs.push(invalid(`${path}.metadata.labels`, labels, '`selector` does not match template `labels`'));
    }
  } else if (!isObj(sel) || Object.keys(sel.matchLabels ?? {}).length + arr(sel.matchExpressions).length > 0) {
    // A nil selector selects nothing; an empty one everything.
    if (!labelSelectorMatches(sel, labels)) errs.push(invalid(`${path}.metadata.labels`, labels, '`selector` does not match template `labels`'));
  }
  errs.push(...validatePodTemplateSpec(tpl, path));
  const rp = str(tpl.spec?.restartPolicy);
  if (rp !== 'Always') errs.push(notSupported(`${path}.spec.restartPolicy`, rp, ['Always']));
  if (isSet(tpl.spec?.activeDeadlineSeconds)) errs.push(forbidden(`${path}.spec.activeDeadlineSeconds`, `activeDeadlineSeconds in ${kindWord} is not Supported`));
  return errs;
}

function validateReplicationController(o: any): Errs {
  const s = o?.spec ?? {};
  const errs = validateNonnegativeField(num(s.minReadySeconds), 'spec.minReadySeconds');
  if (Object.keys(isObj(s.selector) ? s.selector : {}).length === 0) errs.push(required('spec.selector'));
  errs.push(...validateNonnegativeField(num(s.replicas), 'spec.replicas'));
  errs.push(...validateTemplateForController(s.template, s.selector, 'spec.template', 'ReplicationController', true));
  return errs;
}

/** The common part of Deployment and ReplicaSet specs. */
function validateSelectorAndTemplate(s: any, kindWord: string, emptyWord: string): Errs {
  const errs: Errs = [];
  if (!isObj(s.selector)) errs.push(required('spec.selector'));
  else {
    errs.push(...validateLabelSelector(s.selector, 'spec.selector'));
    if (Object.keys(s.selector.matchLabels ?? {}).length + arr(s.selector.matchExpressions).length === 0) {
      errs.push(invalid('spec.selector', s.selector, `empty selector is invalid for ${emptyWord}`));
    }
  }
  if (!isConvertibleLabelSelector(s.selector)) errs.push(invalid('spec.selector', s.selector, 'invalid label selector'));
  else errs.push(...validateTemplateForController(s.template, s.selector, 'spec.template', kindWord));
  return errs;
}

function validateDeployment(o: any): Errs {
  const s = o?.spec ?? {};
  const errs = validateNonnegativeField(num(s.replicas), 'spec.replicas');
  errs.push(...validateSelectorAndTemplate(s, 'ReplicaSet', 'deployment'));
  const st = s.strategy ?? {};
  switch (st.type) {
    case 'Recreate':
      if (isSet(st.rollingUpdate)) errs.push(forbidden('spec.strategy.rollingUpdate', "may not be specified when strategy `type` is 'Recreate'"));
      break;
    case 'RollingUpdate': {
      const ru = st.rollingUpdate;
      if (!isObj(ru)) { errs.push(required('spec.strategy.rollingUpdate', 'this should be defaulted and never be nil')); break; }
      errs.push(...validatePositiveIntOrPercent(ru.maxUnavailable, 'spec.strategy.rollingUpdate.maxUnavailable'));
      errs.push(...validatePositiveIntOrPercent(ru.maxSurge, 'spec.strategy.rollingUpdate.maxSurge'));
      if (intOrPercentValue(ru.maxUnavailable) === 0 && intOrPercentValue(ru.maxSurge) === 0) {
        errs.push(invalid('spec.strategy.rollingUpdate.maxUnavailable', ru.maxUnavailable ?? 0, 'may not be 0 when `maxSurge` is 0'));
      }
      errs.push(...isNotMoreThan100Percent(ru.maxUnavailable, 'spec.strategy.rollingUpdate.maxUnavailable'));
      break;
    }
    default:
      errs.push(notSupported('spec.strategy', st.type ?? '', ['Recreate', 'RollingUpdate']));
  }
  errs.push(...validateNonnegativeField(num(s.minReadySeconds), 'spec.minReadySeconds'));
  if (isSet(s.revisionHistoryLimit)) errs.push(...validateNonnegativeField(s.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  if (isSet(s.progressDeadlineSeconds)) {
    errs.push(...validateNonnegativeField(s.progressDeadlineSeconds, 'spec.progressDeadlineSeconds'));
    if (s.progressDeadlineSeconds <= num(s.minReadySeconds)) errs.push(invalid('spec.progressDeadlineSeconds', s.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
  }
  return errs;
}

function validateReplicaSet(o: any): Errs {
  const s = o?.spec ?? {};
  const errs = validateNonnegativeField(num(s.replicas), 'spec.replicas');
  errs.push(...validateNonnegativeField(num(s.minReadySeconds), 'spec.minReadySeconds'));
  errs.push(...validateSelectorAndTemplate(s, 'ReplicaSet', 'deployment'));
  return errs;
}

function validateStatefulSet(o: any): Errs {
  const s = o?.spec ?? {};
  const errs: Errs = [];
  const pmp = str(s.podManagementPolicy);
  if (!pmp) errs.push(required('spec.podManagementPolicy'));
  else if (pmp !== 'OrderedReady' && pmp !== 'Parallel') errs.push(invalid('spec.podManagementPolicy', pmp, "must be 'OrderedReady' or 'Parallel'"));
  const us = s.updateStrategy ?? {};
  switch (str(us.type)) {
    case '': errs.push(required('spec.updateStrategy')); break;
    case 'OnDelete':
      if (isSet(us.rollingUpdate)) errs.push(invalid('spec.updateStrategy.rollingUpdate', us.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'"));
      break;
    case 'RollingUpdate':
      if (isObj(us.rollingUpdate)) {
        const ru = us.rollingUpdate;
        errs.push(...validateNonnegativeField(num(ru.partition), 'spec.updateStrategy.rollingUpdate.partition'));
        if (isSet(ru.maxUnavailable)) {
          errs.push(...validatePositiveIntOrPercent(ru.maxUnavailable, 'spec.updateStrategy.rollingUpdate.maxUnavailable'));
          if (intOrPercentValue(ru.maxUnavailable) === 0) errs.push(invalid('spec.updateStrategy.rollingUpdate.maxUnavailable', ru.maxUnavailable, 'cannot be 0'));
          errs.push(...isNotMoreThan100Percent(ru.maxUnavailable, 'spec.updateStrategy.rollingUpdate.maxUnavailable'));
        }
      }
      break;
    default:
      errs.push(invalid('spec.updateStrategy', us, "must be 'RollingUpdate' or 'OnDelete'"));
  }
  const rp = s.persistentVolumeClaimRetentionPolicy;
  if (isObj(rp)) {
    for (const f of ['whenDeleted', 'whenScaled']) {
      if (rp[f] !== 'Retain' && rp[f] !== 'Delete') errs.push(notSupported(`spec.persistentVolumeClaimRetentionPolicy.${f}`, str(rp[f]), ['Retain', 'Delete']));
    }
  }
  errs.push(...validateNonnegativeField(num(s.replicas), 'spec.replicas'));
  errs.push(...validateNonnegativeField(num(s.minReadySeconds), 'spec.minReadySeconds'));
  if (isObj(s.ordinals)) errs.push(...validateNonnegativeField(num(s.ordinals.start), 'spec.ordinals.start'));
  if (!isObj(s.selector)) errs.push(required('spec.selector'));
  else {
    errs.push(...validateLabelSelector(s.selector, 'spec.selector'));
    if (Object.keys(s.selector.matchLabels ?? {}).length + arr(s.selector.matchExpressions).length === 0) {
      errs.push(invalid('spec.selector', s.selector, 'empty selector is invalid for statefulset'));
    }
  }
  if (!isConvertibleLabelSelector(s.selector)) errs.push(invalid('spec.selector', s.selector, ''));
  else if (!isObj(s.template)) errs.push(required('spec.template'));
  else {
    // Upstream checks only the template's labels and annotations, not its pod spec.
    const labels = s.template.metadata?.labels ?? {};
    const nothing = !isObj(s.selector);
    const everything = !nothing && Object.keys(s.selector.matchLabels ?? {}).length + arr(s.selector.matchExpressions).length === 0;
    if (!everything && !labelSelectorMatches(s.selector, labels)) errs.push(invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'));
    errs.push(...validateLabels(s.template.metadata?.labels, 'spec.template.labels'));
    errs.push(...validateAnnotations(s.template.metadata?.annotations, 'spec.template.annotations'));
    errs.push(...validatePodSpecificAnnotations(s.template.metadata?.annotations, s.template.spec, 'spec.template.annotations'));
  }
  if (str(s.template?.spec?.restartPolicy) !== 'Always') errs.push(notSupported('spec.template.spec.restartPolicy', str(s.template?.spec?.restartPolicy), ['Always']));
  if (isSet(s.template?.spec?.activeDeadlineSeconds)) errs.push(forbidden('spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in StatefulSet is not Supported'));
  return errs;
}

function validateDaemonSet(o: any): Errs {
  const s = o?.spec ?? {};
  const errs = validateLabelSelector(s.selector, 'spec.selector');
  if (isConvertibleLabelSelector(s.selector)) {
    const labels = s.template?.metadata?.labels ?? {};
    const everything = isObj(s.selector) && Object.keys(s.selector.matchLabels ?? {}).length + arr(s.selector.matchExpressions).length === 0;
    if (!everything && !labelSelectorMatches(s.selector, labels)) errs.push(invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'));
  }
  if (isObj(s.selector) && Object.keys(s.selector.matchLabels ?? {}).length + arr(s.selector.matchExpressions).length === 0) {
    errs.push(invalid('spec.selector', s.selector, 'empty selector is invalid for daemonset'));
  }
  errs.push(...validatePodTemplateSpec(s.template ?? {}, 'spec.template'));
  if (str(s.template?.spec?.restartPolicy) !== 'Always') errs.push(notSupported('spec.template.spec.restartPolicy', str(s.template?.spec?.restartPolicy), ['Always']));
  if (isSet(s.template?.spec?.activeDeadlineSeconds)) errs.push(forbidden('spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in DaemonSet is not Supported'));
  errs.push(...validateNonnegativeField(num(s.minReadySeconds), 'spec.minReadySeconds'));
  errs.push(...validateNonnegativeField(num(s.templateGeneration), 'spec.templateGeneration'));
  const us = s.updateStrategy ?? {};
  switch (us.type) {
    case 'OnDelete': break;
    case 'RollingUpdate': {
      const ru = us.rollingUpdate;
      if (!isObj(ru)) { errs.push(required('spec.updateStrategy.rollingUpdate')); break; }
      const p = 'spec.updateStrategy.rollingUpdate';
      errs.push(...validatePositiveIntOrPercent(ru.maxUnavailable, `${p}.maxUnavailable`));
      errs.push(...validatePositiveIntOrPercent(ru.maxSurge, `${p}.maxSurge`));
      errs.push(...isNotMoreThan100Percent(ru.maxUnavailable, `${p}.maxUnavailable`));
      errs.push(...isNotMoreThan100Percent(ru.maxSurge, `${p}.maxSurge`));
      const hasU = intOrPercentValue(ru.maxUnavailable) !== 0;
      const hasS = intOrPercentValue(ru.maxSurge) !== 0;
      if (hasU && hasS) errs.push(invalid(`${p}.maxSurge`, ru.maxSurge, 'may not be set when maxUnavailable is non-zero'));
      else if (!hasU && !hasS) errs.push(required(`${p}.maxUnavailable`, 'cannot be 0 when maxSurge is 0'));
      break;
    }
    default:
      errs.push(notSupported('spec.updateStrategy', us.type ?? '', ['RollingUpdate', 'OnDelete']));
  }
  if (isSet(s.revisionHistoryLimit)) errs.push(...validateNonnegativeField(s.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  return errs;
}

function validateControllerRevision(o: any): Errs {
  const errs: Errs = [];
  if (!isSet(o?.data)) errs.push(required('data', 'data is mandatory'));
  errs.push(...validateNonnegativeField(num(o?.revision), 'revision'));
  return errs;
}

function validateStatefulSetUpdate(o: any, old: any): Errs {
  const strip = (s: any) => {
    const c: Obj = structuredClone(isObj(s) ? s : {});
    for (const f of ['replicas', 'template', 'updateStrategy', 'minReadySeconds', 'ordinals', 'persistentVolumeClaimRetentionPolicy']) delete c[f];
    return c;
  };
  return semanticEqual(strip(o?.spec), strip(old?.spec)) ? [] : [forbidden('spec', "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")];
}

const selectorImmutable = (o: any, old: any): Errs => validateImmutableField(o?.spec?.selector, old?.spec?.selector, 'spec.selector');

// ---------------------------------------------------------------------------------------------
// batch

/** The cron parser's errors (robfig/cron v3 ParseStandard, as the API server uses). */
const CRON_FIELDS: { min: number; max: number; names?: Record<string, number> }[] = [
  { min: 0, max: 59 }, { min: 0, max: 23 }, { min: 1, max: 31 },
  { min: 1, max: 12, names: { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 } },
  { min: 0, max: 6, names: { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 } },
];

function goAtoi(s: string): number | string {
  if (!/^[+-]?[0-9]+$/.test(s)) return `failed to parse int from ${s}: strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`;
  const n = Number(s);
  if (!Number.isSafeInteger(n) || Math.abs(n) > 9223372036854775807) return `failed to parse int from ${s}: strconv.Atoi: parsing ${JSON.stringify(s)}: value out of range`;
  if (n < 0) return `negative number (${n}) not allowed: ${s}`;
  return n;
}

function cronRange(expr: string, f: (typeof CRON_FIELDS)[number]): string | undefined {
  const rangeAndStep = expr.split('/');
  const lowAndHigh = rangeAndStep[0].split('-');
  let start: number;
  let end: number;
  const parse = (s: string): number | string => (f.names && s.toLowerCase() in f.names ? f.names[s.toLowerCase()] : goAtoi(s));
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') { start = f.min; end = f.max; }
  else {
    const a = parse(lowAndHigh[0]);
    if (typeof a === 'string') return a;
    start = a;
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) {
      const b = parse(lowAndHigh[1]);
      if (typeof b === 'string') return b;
      end = b;
    } else return `too many hyphens: ${expr}`;
  }
  let step = 1;
  if (rangeAndStep.length === 2) {
    const s = goAtoi(rangeAndStep[1]);
    if (typeof s === 'string') return s;
    step = s;
    if (lowAndHigh.length === 1) end = f.max;
  } else if (rangeAndStep.length > 2) return `too many slashes: ${expr}`;
  if (start < f.min) return `beginning of range (${start}) below minimum (${f.min}): ${expr}`;
  if (end > f.max) return `end of range (${end}) above maximum (${f.max}): ${expr}`;
  if (start > end) return `beginning of range (${start}) beyond end of range (${end}): ${expr}`;
  if (step === 0) return `step of range should be a positive number: ${expr}`;
  return undefined;
}

/** Go's time.ParseDuration errors, for `@every <duration>`. */
function goDurationError(s: string): string | undefined {
  const q = JSON.stringify(s);
  let rest = s.replace(/^[+-]/, '');
  if (rest === '0') return undefined;
  if (rest === '') return `time: invalid duration ${q}`;
  while (rest) {
    const m = /^([0-9]*(?:\.[0-9]*)?)/.exec(rest)!;
    if (m[1] === '' || m[1] === '.') return `time: invalid duration ${q}`;
    rest = rest.slice(m[1].length);
    const u = /^[^0-9.]*/.exec(rest)![0];
    if (!u) return `time: missing unit in duration ${q}`;
    if (!['ns', 'us', 'µs', 'μs', 'ms', 's', 'm', 'h'].includes(u)) return `time: unknown unit ${JSON.stringify(u)} in duration ${q}`;
    rest = rest.slice(u.length);
  }
  return undefined;
}

export function cronScheduleError(spec: string): string | undefined {
  if (!spec) return 'empty spec string';
  let s = spec;
  if (s.startsWith('TZ=') || s.startsWith('CRON_TZ=')) {
    const i = s.indexOf(' ');
    const loc = s.slice(s.indexOf('=') + 1, i < 0 ? undefined : i);
    if (!isKnownTimeZone(loc)) return `provided bad location ${loc}: unknown time zone ${loc}`;
    s = i < 0 ? '' : s.slice(i).trim();
  }
  if (s.startsWith('@')) {
    if (['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'].includes(s)) return undefined;
    if (s.startsWith('@every ')) {
      const e = goDurationError(s.slice('@every '.length));
      return e ? `failed to parse duration ${s}: ${e}` : undefined;
    }
    return `unrecognized descriptor: ${s}`;
  }
  const fields = s.split(/\s+/).filter(Boolean);
  if (fields.length !== 5) return `expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`;
  for (let i = 0; i < 5; i++) {
    for (const expr of fields[i].split(',').filter(Boolean)) {
      const e = cronRange(expr, CRON_FIELDS[i]);
      if (e) return e;
    }
  }
  return undefined;
}

function isKnownTimeZone(tz: string): boolean {
  if (tz === 'UTC' || tz === 'Local') return true;
  try { new Intl.DateTimeFormat('en-US', { timeZone: tz }); return true; } catch { return false; }
}

function validateJobSpec(s: any, path: string): Errs {
  const errs: Errs = [];
  for (const f of ['parallelism', 'completions', 'activeDeadlineSeconds', 'backoffLimit', 'ttlSecondsAfterFinished', 'backoffLimitPerIndex']) {
    if (isSet(s[f])) errs.push(...validateNonnegativeField(s[f], `${path}.${f}`));
  }
  if (isSet(s.maxFailedIndexes)) {
    errs.push(...validateNonnegativeField(s.maxFailedIndexes, `${path}.maxFailedIndexes`));
    if (!isSet(s.backoffLimitPerIndex)) errs.push(required(`${path}.backoffLimitPerIndex`, 'when maxFailedIndexes is specified'));
  }
  if (isSet(s.managedBy)) {
    errs.push(...isDomainPrefixedPath(`${path}.managedBy`, str(s.managedBy)));
    if (str(s.managedBy).length > 63) errs.push(tooLong(`${path}.managedBy`, 63));
  }
  const mode = s.completionMode;
  if (isSet(mode)) {
    if (mode !== 'NonIndexed' && mode !== 'Indexed') errs.push(notSupported(`${path}.completionMode`, mode, ['NonIndexed', 'Indexed']));
    if (mode === 'Indexed') {
      if (!isSet(s.completions)) errs.push(required(`${path}.completions`, 'when completion mode is Indexed'));
      if (isSet(s.parallelism) && s.parallelism > 100000) errs.push(invalid(`${path}.parallelism`, s.parallelism, 'must be less than or equal to 100000 when completion mode is Indexed'));
      if (isSet(s.completions) && isSet(s.maxFailedIndexes) && s.maxFailedIndexes > s.completions) errs.push(invalid(`${path}.maxFailedIndexes`, s.maxFailedIndexes, 'must be less than or equal to completions'));
    }
  }
  if (!isSet(mode) || mode === 'NonIndexed') {
    if (isSet(s.backoffLimitPerIndex)) errs.push(invalid(`${path}.backoffLimitPerIndex`, s.backoffLimitPerIndex, 'requires indexed completion mode'));
    if (isSet(s.maxFailedIndexes)) errs.push(invalid(`${path}.maxFailedIndexes`, s.maxFailedIndexes, 'requires indexed completion mode'));
  }
  if (isObj(s.podFailurePolicy)) {
    const rules = arr(s.podFailurePolicy.rules);
    const rp = `${path}.podFailurePolicy.rules`;
    if (rules.length > 20) errs.push(tooMany(rp, rules.length, 20));
    const actions = ['Count', 'FailIndex', 'FailJob', 'Ignore'];
    rules.forEach((r: any, i: number) => {
      const p = `${rp}[${i}]`;
      const a = str(r?.action);
      if (!a) errs.push(required(`${p}.action`, `valid values: ["Count" "FailIndex" "FailJob" "Ignore"]`));
      else if (a === 'FailIndex') { if (!isSet(s.backoffLimitPerIndex)) errs.push(invalid(`${p}.action`, a, 'requires the backoffLimitPerIndex to be set')); }
      else if (!actions.includes(a)) errs.push(notSupported(`${p}.action`, a, actions));
      if (isSet(r?.onExitCodes) && arr(r?.onPodConditions).length) errs.push(fieldError.invalid(p, undefined, 'specifying both OnExitCodes and OnPodConditions is not supported'));
      if (!isSet(r?.onExitCodes) && arr(r?.onPodConditions).length === 0) errs.push(fieldError.invalid(p, undefined, 'specifying one of OnExitCodes and OnPodConditions is required'));
    });
  }
  if (isSet(s.podReplacementPolicy)) {
    const v = str(s.podReplacementPolicy);
    if (isObj(s.podFailurePolicy)) { if (v !== 'Failed') errs.push(notSupported(`${path}.podReplacementPolicy`, v, ['Failed'])); }
    else if (v !== 'Failed' && v !== 'TerminatingOrFailed') errs.push(notSupported(`${path}.podReplacementPolicy`, v, ['Failed', 'TerminatingOrFailed']));
  }
  errs.push(...validatePodTemplateSpec(s.template ?? {}, `${path}.template`));
  const rp = str(s.template?.spec?.restartPolicy);
  if (rp === 'Always' || rp === '') errs.push(required(`${path}.template.spec.restartPolicy`, 'valid values: "OnFailure", "Never"'));
  else if (rp !== 'OnFailure' && rp !== 'Never') errs.push(notSupported(`${path}.template.spec.restartPolicy`, rp, ['OnFailure', 'Never']));
  else if (isObj(s.podFailurePolicy) && rp !== 'Never') errs.push(invalid(`${path}.template.spec.restartPolicy`, rp, 'only "Never" is supported when podFailurePolicy is specified'));
  return errs;
}

function validateHasLabel(meta: any, path: string, key: string, expected: string): Errs {
  const labels = isObj(meta?.labels) ? meta.labels : {};
  if (!(key in labels)) return [required(`${path}.labels[${key}]`, `must be '${expected}'`)];
  if (labels[key] !== expected) return [invalid(`${path}.labels[${key}]`, labels, `must be '${expected}'`)];
  return [];
}

function validateJob(o: any, ctx: Ctx): Errs {
  const s = o?.spec ?? {};
  const meta = o?.metadata ?? {};
  const errs: Errs = [];
  // validateGeneratedSelector runs on create only (ValidateJob, not ValidateJobUpdate).
  if (ctx.create && s.manualSelector !== true && isObj(s.selector)) {
    if (!str(meta.uid)) errs.push(required('metadata.uid'));
    const tm = s.template?.metadata;
    const uid = str(meta.uid);
    const name = str(meta.name);
    errs.push(...validateHasLabel(tm, 'spec.template.metadata', 'controller-uid', uid));
    errs.push(...validateHasLabel(tm, 'spec.template.metadata', 'job-name', name));
    errs.push(...validateHasLabel(tm, 'spec.template.metadata', 'batch.kubernetes.io/controller-uid', uid));
    errs.push(...validateHasLabel(tm, 'spec.template.metadata', 'batch.kubernetes.io/job-name', name));
    const expected: Obj = { 'controller-uid': uid, 'job-name': name, 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': name };
    if (isConvertibleLabelSelector(s.selector) && !labelSelectorMatches(s.selector, expected)) errs.push(invalid('spec.selector', s.selector, '`selector` not auto-generated'));
  }
  errs.push(...validateJobSpec(s, 'spec'));
  if (!isObj(s.selector)) errs.push(required('spec.selector'));
  else errs.push(...validateLabelSelector(s.selector, 'spec.selector'));
  if (isObj(s.selector) && isConvertibleLabelSelector(s.selector)) {
    const labels = s.template?.metadata?.labels ?? {};
    const empty = Object.keys(s.selector.matchLabels ?? {}).length + arr(s.selector.matchExpressions).length === 0;
    if (!empty && !labelSelectorMatches(s.selector, labels)) errs.push(invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'));
  }
  if (s.completionMode === 'Indexed' && typeof s.completions === 'number' && s.completions > 0) {
    const host = `${str(meta.name)}-${s.completions - 1}`;
    if (isDNS1123Label(host).length) errs.push(invalid('metadata.name', str(meta.name), `will not able to create pod with invalid DNS label: ${host}`));
  }
  return errs;
}

function validateJobUpdate(o: any, old: any): Errs {
  const s = o?.spec ?? {};
  const os = old?.spec ?? {};
  const errs: Errs = [];
  const indexed = s.completionMode === 'Indexed';
  if (!indexed) errs.push(...validateImmutableField(s.completions, os.completions, 'spec.completions'));
  else if (!semanticEqual(s.completions, os.completions) && isSet(s.completions) && s.completions !== s.parallelism) {
    errs.push(invalid('spec.completions', s.completions, 'can only be modified in tandem with spec.parallelism'));
  }
  errs.push(...selectorImmutable(o, old));
  // Jobs that were suspended and never started may change their scheduling directives.
  const mutableScheduling = os.suspend === true && !isSet(old?.status?.startTime);
  const strip = (t: any) => {
    const c: Obj = structuredClone(isObj(t) ? t : {});
    if (mutableScheduling) {
      if (isObj(c.spec)) { delete c.spec.nodeSelector; delete c.spec.tolerations; delete c.spec.schedulingGates; if (isObj(c.spec.affinity)) delete c.spec.affinity.nodeAffinity; }
      if (isObj(c.metadata)) { delete c.metadata.labels; delete c.metadata.annotations; }
    }
    return c;
  };
  if (!semanticEqual(strip(s.template), strip(os.template))) errs.push(invalid('spec.template', s.template ?? null, FIELD_IMMUTABLE_ERROR_MSG));
  for (const f of ['completionMode', 'podFailurePolicy', 'backoffLimitPerIndex', 'managedBy', 'successPolicy']) {
    errs.push(...validateImmutableField(s[f], os[f], `spec.${f}`));
  }
  return errs;
}

function validateCronJob(o: any, ctx: Ctx): Errs {
  const s = o?.spec ?? {};
  const errs: Errs = [];
  const schedule = str(s.schedule);
  if (!schedule) errs.push(required('spec.schedule'));
  else {
    const e = cronScheduleError(schedule);
    if (e) errs.push(invalid('spec.schedule', schedule, e));
    if (schedule.includes('TZ')) errs.push(invalid('spec.schedule', schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
  }
  if (isSet(s.startingDeadlineSeconds)) errs.push(...validateNonnegativeField(s.startingDeadlineSeconds, 'spec.startingDeadlineSeconds'));
  if (isSet(s.timeZone)) {
    const tz = str(s.timeZone);
    if (!tz) errs.push(invalid('spec.timeZone', tz, 'timeZone must be nil or non-empty string'));
    else if (tz.split('/').some((p) => p === '.' || p === '..' || p.startsWith('-') || !/^[A-Za-z.\-_0-9+]{1,14}$/.test(p))) errs.push(invalid('spec.timeZone', tz, `unknown time zone ${tz}`));
    else if (tz.toLowerCase() === 'local') errs.push(invalid('spec.timeZone', tz, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones'));
    else if (!isKnownTimeZone(tz)) errs.push(invalid('spec.timeZone', tz, `unknown time zone ${tz}`));
  }
  const cp = str(s.concurrencyPolicy);
  if (!cp) errs.push(required('spec.concurrencyPolicy'));
  else if (!['Allow', 'Forbid', 'Replace'].includes(cp)) errs.push(notSupported('spec.concurrencyPolicy', cp, ['Allow', 'Forbid', 'Replace']));
  const js = s.jobTemplate?.spec ?? {};
  errs.push(...validateJobSpec(js, 'spec.jobTemplate.spec'));
  if (isSet(js.selector)) errs.push(invalid('spec.jobTemplate.spec.selector', js.selector, '`selector` will be auto-generated'));
  if (js.manualSelector === true) errs.push(notSupported('spec.jobTemplate.spec.manualSelector', true, ['nil', 'false']));
  if (isSet(s.successfulJobsHistoryLimit)) errs.push(...validateNonnegativeField(s.successfulJobsHistoryLimit, 'spec.successfulJobsHistoryLimit'));
  if (isSet(s.failedJobsHistoryLimit)) errs.push(...validateNonnegativeField(s.failedJobsHistoryLimit, 'spec.failedJobsHistoryLimit'));
  if (ctx.create && str(o?.metadata?.name).length > 52) errs.push(invalid('metadata.name', str(o?.metadata?.name), 'must be no more than 52 characters'));
  return errs;
}

// ---------------------------------------------------------------------------------------------
// core: Service

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];

const clusterIPsOf = (s: any): string[] => (arr(s?.clusterIPs).length ? arr(s.clusterIPs).map(str) : str(s?.clusterIP) ? [str(s.clusterIP)] : []);
const isHeadless = (s: any) => { const ips = clusterIPsOf(s); return ips.length === 1 && ips[0] === 'None'; };
const externallyAccessible = (s: any) => s?.type === 'LoadBalancer' || s?.type === 'NodePort' || (s?.type === 'ClusterIP' && arr(s?.externalIPs).length > 0);
const needsHealthCheck = (s: any) => s?.type === 'LoadBalancer' && s?.externalTrafficPolicy === 'Local';

function validateServiceClusterIPs(s: any): Errs {
  if (s.type === 'ExternalName') return [];
  const errs: Errs = [];
  const ips = clusterIPsOf(s);
  const explicit = arr(s.clusterIPs).map(str);
  if (str(s.clusterIP) && explicit.length && explicit[0] !== s.clusterIP) errs.push(invalid('spec.clusterIPs', explicit, 'first value must match `clusterIP`'));
  if (!str(s.clusterIP) && explicit.length) errs.push(invalid('spec.clusterIPs', explicit, 'must be empty when `clusterIP` is not specified'));
  const seen = new Set<string>();
  arr(s.ipFamilies).forEach((f, i) => {
    if (f !== 'IPv4' && f !== 'IPv6') errs.push(notSupported(`spec.ipFamilies[${i}]`, f, ['IPv4', 'IPv6']));
    if (seen.has(f)) errs.push(duplicate(`spec.ipFamilies[${i}]`, f));
    seen.add(f);
  });
  if (isSet(s.ipFamilyPolicy) && !['PreferDualStack', 'RequireDualStack', 'SingleStack'].includes(s.ipFamilyPolicy)) {
    errs.push(notSupported('spec.ipFamilyPolicy', s.ipFamilyPolicy, ['PreferDualStack', 'RequireDualStack', 'SingleStack']));
  }
  let bad = false;
  ips.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (ips.length > 1) { bad = true; errs.push(invalid('spec.clusterIPs', ips, "'None' must be the first and only value")); }
      return;
    }
    const e = isValidIP(`spec.clusterIPs[${i}]`, ip);
    if (e.length) bad = true;
    errs.push(...e);
  });
  if (ips.length > 2) errs.push(invalid('spec.clusterIPs', ips, 'may only hold up to 2 values'));
  if (bad) return errs;
  if (ips.length > 1 && ipFamilyOf(ips[0]) === ipFamilyOf(ips[1])) errs.push(invalid('spec.clusterIPs', ips, 'may specify no more than one IP for each IP family'));
  if (!isHeadless(s)) {
    ips.forEach((ip, i) => {
      const fam = arr(s.ipFamilies)[i];
      if (fam === 'IPv4' && ipFamilyOf(ip) === 'IPv6') errs.push(invalid(`spec.clusterIPs[${i}]`, ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``));
      if (fam === 'IPv6' && ipFamilyOf(ip) !== 'IPv6') errs.push(invalid(`spec.clusterIPs[${i}]`, ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``));
    });
  }
  return errs;
}

function validateService(o: any): Errs {
  const s: Obj = isObj(o?.spec) ? o.spec : {};
  const errs: Errs = [];
  const ann: Obj = isObj(o?.metadata?.annotations) ? o.metadata.annotations : {};
  const hints = ann['service.kubernetes.io/topology-aware-hints'];
  const mode = ann['service.kubernetes.io/topology-mode'];
  if (isSet(hints) && isSet(mode) && hints !== mode) {
    errs.push(invalid('metadata.annotations[service.kubernetes.io/topology-mode]', mode, 'must match annotations[service.kubernetes.io/topology-aware-hints] when both are specified'));
  }
  const ports = arr(s.ports);
  if (ports.length === 0 && !isHeadless(s) && s.type !== 'ExternalName') errs.push(required('spec.ports'));
  const ips = clusterIPsOf(s);
  if ((s.type === 'LoadBalancer' || s.type === 'NodePort') && isHeadless(s)) errs.push(invalid('spec.clusterIPs[0]', ips[0], `may not be set to 'None' for ${s.type} services`));
  if (s.type === 'ExternalName') {
    if (ips.length) errs.push(forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
    if (arr(s.ipFamilies).length) errs.push(forbidden('spec.ipFamilies', 'may not be set for ExternalName services'));
    if (isSet(s.ipFamilyPolicy)) errs.push(forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services'));
    const cname = str(s.externalName).replace(/\.$/, '');
    if (cname) errs.push(...validateDNS1123Subdomain(cname, 'spec.externalName'));
    else errs.push(required('spec.externalName'));
  }
  const names = new Set<string>();
  ports.forEach((p: any, i: number) => {
    const pp = `spec.ports[${i}]`;
    const name = str(p?.name);
    if (ports.length > 1 && !name) errs.push(required(`${pp}.name`));
    else if (name) {
      errs.push(...validateDNS1123Label(name, `${pp}.name`));
      if (names.has(name)) errs.push(duplicate(`${pp}.name`, name));
      else names.add(name);
    }
    errs.push(...each(`${pp}.port`, num(p?.port), isValidPortNum(num(p?.port))));
    const proto = str(p?.protocol);
    if (!proto) errs.push(required(`${pp}.protocol`));
    else if (!PROTOCOLS.includes(proto)) errs.push(notSupported(`${pp}.protocol`, proto, PROTOCOLS));
    errs.push(...validatePortNumOrName(p?.targetPort, `${pp}.targetPort`));
    if (isSet(p?.appProtocol)) errs.push(...validateQualifiedName(str(p.appProtocol), `${pp}.appProtocol`));
  });
  if (isSet(s.selector)) errs.push(...validateLabels(s.selector, 'spec.selector'));
  const sa = str(s.sessionAffinity);
  if (!sa) errs.push(required('spec.sessionAffinity'));
  else if (sa !== 'ClientIP' && sa !== 'None') errs.push(notSupported('spec.sessionAffinity', sa, ['ClientIP', 'None']));
  if (sa === 'ClientIP') errs.push(...sessionTimeoutErrs(s.sessionAffinityConfig, 'spec.sessionAffinityConfig'));
  else if (sa === 'None' && isSet(s.sessionAffinityConfig)) errs.push(forbidden('spec.sessionAffinityConfig', 'must not be set when session affinity is None'));
  errs.push(...validateServiceClusterIPs(s));
  arr(s.externalIPs).forEach((ip, i) => {
    const e = isValidIP(`spec.externalIPs[${i}]`, str(ip));
    errs.push(...(e.length ? e : validateNonSpecialIP(str(ip), `spec.externalIPs[${i}]`)));
  });
  const type = str(s.type);
  if (!type) errs.push(required('spec.type'));
  else if (!SERVICE_TYPES.includes(type)) errs.push(notSupported('spec.type', type, SERVICE_TYPES));
  if (type === 'ClusterIP') ports.forEach((p, i) => { if (p?.nodePort) errs.push(forbidden(`spec.ports[${i}].nodePort`, "may not be used when `type` is 'ClusterIP'")); });
  const nodePorts = new Set<string>();
  ports.forEach((p, i) => {
    if (!p?.nodePort) return;
    const key = `${str(p.protocol)}/${p.nodePort}`;
    if (nodePorts.has(key)) errs.push(duplicate(`spec.ports[${i}].nodePort`, p.nodePort));
    nodePorts.add(key);
  });
  const portKeys = new Set<string>();
  ports.forEach((p, i) => {
    const key = `${str(p?.protocol)}/${num(p?.port)}`;
    if (portKeys.has(key)) errs.push(duplicate(`spec.ports[${i}]`, { protocol: str(p?.protocol), port: num(p?.port) }));
    portKeys.add(key);
  });
  const ranges = arr(s.loadBalancerSourceRanges);
  if (ranges.length) {
    if (type !== 'LoadBalancer') errs.push(forbidden('spec.LoadBalancerSourceRanges', "may only be used when `type` is 'LoadBalancer'"));
    ranges.forEach((r, i) => errs.push(...isValidCIDR(`spec.LoadBalancerSourceRanges[${i}]`, str(r).trim())));
  } else if ('service.beta.kubernetes.io/load-balancer-source-ranges' in ann) {
    const p = 'metadata.annotations[service.beta.kubernetes.io/load-balancer-source-ranges]';
    if (type !== 'LoadBalancer') errs.push(forbidden(p, "may only be used when `type` is 'LoadBalancer'"));
    const v = str(ann['service.beta.kubernetes.io/load-balancer-source-ranges']).trim();
    if (v) for (const c of v.split(',')) errs.push(...isValidCIDR(p, c.trim()));
  }
  if (isSet(s.allocateLoadBalancerNodePorts) && type !== 'LoadBalancer') errs.push(forbidden('spec.allocateLoadBalancerNodePorts', "may only be used when `type` is 'LoadBalancer'"));
  if (type === 'LoadBalancer' && !isSet(s.allocateLoadBalancerNodePorts)) errs.push(required('allocateLoadBalancerNodePorts'));
  if (type === 'LoadBalancer') { if (isSet(s.loadBalancerClass)) errs.push(...validateQualifiedName(str(s.loadBalancerClass), 'spec.loadBalancerClass')); }
  else if (isSet(s.loadBalancerClass)) errs.push(forbidden('spec.loadBalancerClass', "may only be used when `type` is 'LoadBalancer'"));
  const etp = str(s.externalTrafficPolicy);
  if (!externallyAccessible(s)) {
    if (etp) errs.push(invalid('spec.externalTrafficPolicy', etp, 'may only be set for externally-accessible services'));
  } else if (!etp) errs.push(required('spec.externalTrafficPolicy'));
  else if (etp !== 'Cluster' && etp !== 'Local') errs.push(notSupported('spec.externalTrafficPolicy', etp, ['Cluster', 'Local']));
  // healthCheckNodePort is allocated after validation here, so only its range is checked.
  if (!needsHealthCheck(s)) {
    if (s.healthCheckNodePort) errs.push(invalid('spec.healthCheckNodePort', s.healthCheckNodePort, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
  } else if (s.healthCheckNodePort) errs.push(...each('spec.healthCheckNodePort', s.healthCheckNodePort, isValidPortNum(s.healthCheckNodePort)));
  if (!isSet(s.internalTrafficPolicy)) {
    if (['NodePort', 'LoadBalancer', 'ClusterIP'].includes(type)) errs.push(required('spec.internalTrafficPolicy'));
  } else if (s.internalTrafficPolicy !== 'Cluster' && s.internalTrafficPolicy !== 'Local') {
    errs.push(notSupported('spec.internalTrafficPolicy', s.internalTrafficPolicy, ['Cluster', 'Local']));
  }
  if (isSet(s.trafficDistribution) && s.trafficDistribution !== 'PreferClose') errs.push(notSupported('spec.trafficDistribution', s.trafficDistribution, ['PreferClose']));
  return errs;
}

/** ValidateServiceUpdate's own rules (clusterIP immutability is the service strategy's). */
function validateServiceUpdate(o: any, old: any): Errs {
  const s = o?.spec ?? {};
  const os = old?.spec ?? {};
  const errs: Errs = [];
  if (s.type !== 'ExternalName' && os.type !== 'ExternalName' && isHeadless(s) === isHeadless(os) && !isHeadless(s)) {
    const nf = arr(s.ipFamilies);
    const of = arr(os.ipFamilies);
    if (nf.length === of.length) {
      if (of.some((f, i) => f !== nf[i])) errs.push(invalid('spec.ipFamilies[0]', nf, 'may not change once set'));
    } else if (nf.length > 0 && of.length > 0 && nf[0] !== of[0]) {
      errs.push(invalid('spec.ipFamilies[0]', clusterIPsOf(s), 'may not change once set'));
    }
  }
  if (os.type === 'LoadBalancer' && s.type === 'LoadBalancer' && (s.loadBalancerClass ?? null) !== (os.loadBalancerClass ?? null)) {
    errs.push(invalid('spec.loadBalancerClass', s.loadBalancerClass ?? null, 'may not change once set'));
  }
  if (needsHealthCheck(os) && needsHealthCheck(s) && s.healthCheckNodePort && os.healthCheckNodePort && s.healthCheckNodePort !== os.healthCheckNodePort) {
    errs.push(forbidden('spec.healthCheckNodePort', FIELD_IMMUTABLE_ERROR_MSG));
  }
  return errs;
}

// ---------------------------------------------------------------------------------------------
// core: ConfigMap, Secret, Namespace, ServiceAccount

const MAX_SECRET_SIZE = 1024 * 1024;

function validateConfigMap(o: any): Errs {
  const errs: Errs = [];
  let size = 0;
  const binary: Obj = isObj(o?.binaryData) ? o.binaryData : {};
  for (const [k, v] of entries(o?.data)) {
    errs.push(...each(`data[${k}]`, k, isConfigMapKey(k)));
    if (k in binary) errs.push(invalid(`data[${k}]`, k, 'duplicate of key present in binaryData'));
    size += bytes(str(v));
  }
  for (const [k, v] of Object.entries(binary)) {
    errs.push(...each(`binaryData[${k}]`, k, isConfigMapKey(k)));
    size += Buffer.from(str(v), 'base64').length;
  }
  if (size > MAX_SECRET_SIZE) errs.push(tooLong('', MAX_SECRET_SIZE));
  return errs;
}

/** Go's encoding/json error for a value that must decode into a map (the common cases). */
function jsonObjectError(text: string): string | undefined {
  const t = text.trim();
  if (!t) return 'unexpected end of JSON input';
  let v: unknown;
  try { v = JSON.parse(t); } catch {
    const lit = ({ t: 'true', f: 'false', n: 'null' } as Record<string, string>)[t[0]];
    if (lit) {
      for (let i = 1; i < lit.length; i++) {
        if (i >= t.length) return 'unexpected end of JSON input';
        if (t[i] !== lit[i]) return `invalid character '${t[i]}' in literal ${lit} (expecting '${lit[i]}')`;
      }
    }
    if (!'{["-0123456789tfn'.includes(t[0])) return `invalid character '${t[0]}' looking for beginning of value`;
    const at = /position (\d+)/.exec(String((() => { try { JSON.parse(t); } catch (e) { return (e as Error).message; } return ''; })()));
    if (!at || Number(at[1]) >= t.length) return 'unexpected end of JSON input';
    return `invalid character '${t[Number(at[1])]}' looking for beginning of value`;
  }
  if (isObj(v) || v === null) return undefined;
  const kind = Array.isArray(v) ? 'array' : typeof v === 'string' ? 'string' : typeof v === 'number' ? 'number' : 'bool';
  return `json: cannot unmarshal ${kind} into Go value of type map[string]interface {}`;
}

function validateSecret(o: any): Errs {
  const errs: Errs = [];
  const data: Obj = isObj(o?.data) ? o.data : {};
  let size = 0;
  for (const [k, v] of Object.entries(data)) {
    errs.push(...each(`data[${k}]`, k, isConfigMapKey(k)));
    size += Buffer.from(str(v), 'base64').length;
  }
  if (size > MAX_SECRET_SIZE) errs.push(tooLong('data', MAX_SECRET_SIZE));
  const decoded = (k: string) => Buffer.from(str(data[k]), 'base64').toString('utf8');
  switch (str(o?.type)) {
    case 'kubernetes.io/service-account-token':
      if (!str(o?.metadata?.annotations?.['kubernetes.io/service-account.name'])) errs.push(required('metadata.annotations[kubernetes.io/service-account.name]'));
      break;
    case 'kubernetes.io/dockercfg': case 'kubernetes.io/dockerconfigjson': {
      const key = o.type === 'kubernetes.io/dockercfg' ? '.dockercfg' : '.dockerconfigjson';
      if (!(key in data)) { errs.push(required(`data[${key}]`)); break; }
      const e = jsonObjectError(decoded(key));
      if (e) errs.push(invalid(`data[${key}]`, '<secret contents redacted>', e));
      break;
    }
    case 'kubernetes.io/basic-auth':
      if (!('username' in data) && !('password' in data)) { errs.push(required('data[username]'), required('data[password]')); }
      break;
    case 'kubernetes.io/ssh-auth':
      if (!str(data['ssh-privatekey'])) errs.push(required('data[ssh-privatekey]'));
      break;
    case 'kubernetes.io/tls':
      if (!('tls.crt' in data)) errs.push(required('data[tls.crt]'));
      if (!('tls.key' in data)) errs.push(required('data[tls.key]'));
      break;
  }
  return errs;
}

function validateImmutableData(o: any, old: any, fields: string[]): Errs {
  if (old?.immutable !== true) return [];
  const errs: Errs = [];
  if (o?.immutable !== true) errs.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
  for (const f of fields) if (JSON.stringify(o?.[f] ?? null) !== JSON.stringify(old?.[f] ?? null) && !semanticEqual(o?.[f], old?.[f])) errs.push(forbidden(f, 'field is immutable when `immutable` is set'));
  return errs;
}

function validateNamespace(o: any): Errs {
  return arr(o?.spec?.finalizers).flatMap((f) => [...validateFinalizerName(str(f), 'spec.finalizers'), ...validateKubeFinalizerName(str(f), 'spec.finalizers')]);
}

// ---------------------------------------------------------------------------------------------
// core: Node

function validateNode(o: any): Errs {
  const errs: Errs = [];
  const s = o?.spec ?? {};
  const taints = arr(s.taints);
  const unique = new Map<string, Set<string>>();
  taints.forEach((t: any, i: number) => {
    // Upstream reports node taints under metadata.taints.
    const p = `metadata.taints[${i}]`;
    errs.push(...validateLabelName(str(t?.key), `${p}.key`));
    const m = isValidLabelValue(str(t?.value));
    if (m.length) errs.push(invalid(`${p}.value`, str(t?.value), m.join(';')));
    const effect = str(t?.effect);
    errs.push(...validateTaintEffect(effect, false, `${p}.effect`));
    const keys = unique.get(effect) ?? new Set<string>();
    if (keys.has(str(t?.key))) { errs.push({ ...duplicate(p, t), detail: 'taints must be unique by key and effect pair' }); return; }
    keys.add(str(t?.key));
    unique.set(effect, keys);
  });
  for (const [section, list] of [['capacity', o?.status?.capacity], ['allocatable', o?.status?.allocatable]] as const) {
    for (const [k, v] of entries(list)) {
      const p = `status.${section}.${k}`;
      const q = quantity(v, p, errs);
      if (q) errs.push(...validateResourceQuantityValue(k, q, p));
    }
  }
  const cidrs = arr(s.podCIDRs).map(str);
  cidrs.forEach((c, i) => errs.push(...isValidCIDR(`spec.podCIDRs[${i}]`, c)));
  if (cidrs.length > 1) {
    const fams = cidrs.map((c) => parseCIDR(c)?.family);
    if (fams.every(Boolean) && (cidrs.length > 2 || fams[0] === fams[1])) errs.push(invalid('spec.podCIDRs', cidrs, 'may specify no more than one CIDR for each IP family'));
    const seen = new Set<string>();
    cidrs.forEach((c, i) => { if (seen.has(c)) errs.push(duplicate(`spec.podCIDRs[${i}]`, c)); seen.add(c); });
  }
  if (str(s.podCIDR) && !cidrs.length) errs.push(...isValidCIDR('spec.podCIDRs[0]', str(s.podCIDR)));
  if (str(s.podCIDR) && cidrs.length && cidrs[0] !== str(s.podCIDR)) errs.push(invalid('spec.podCIDRs[0]', cidrs[0], 'must match spec.podCIDR'));
  return errs;
}

function validateNodeUpdate(o: any, old: any): Errs {
  const errs: Errs = [];
  const s = o?.spec ?? {};
  const os = old?.spec ?? {};
  const oldCIDRs = arr(os.podCIDRs).map(str);
  const newCIDRs = arr(s.podCIDRs).map(str);
  if (!oldCIDRs.length && str(os.podCIDR) && str(os.podCIDR) !== str(s.podCIDR)) errs.push(forbidden('spec.podCIDR', 'node updates may not change podCIDR except from "" to valid'));
  if (oldCIDRs.length) {
    if (oldCIDRs.length !== newCIDRs.length) errs.push(forbidden('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid'));
    else oldCIDRs.forEach((c, i) => { if (c !== newCIDRs[i]) errs.push(forbidden('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid')); });
  }
  if (str(os.providerID) && os.providerID !== s.providerID) errs.push(forbidden('spec.providerID', 'node updates may not change providerID except from "" to valid'));
  if (str(s.externalID) !== str(os.externalID)) errs.push(forbidden('spec.externalID', 'may not be updated'));
  const seen = new Set<string>();
  arr(o?.status?.addresses).forEach((a: any, i: number) => {
    const key = `${str(a?.type)}/${str(a?.address)}`;
    if (seen.has(key)) errs.push(duplicate(`status.addresses[${i}]`, a));
    seen.add(key);
  });
  return errs;
}

// ---------------------------------------------------------------------------------------------
// core: PersistentVolumeClaim, PersistentVolume

const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
const VOLUME_MODES = ['Block', 'Filesystem'];

function validateAccessModes(modes: any[], path: string): Errs {
  const errs: Errs = [];
  let rwop = false;
  let other = false;
  for (const m of modes) {
    if (!ACCESS_MODES.includes(m)) errs.push(notSupported(path, m, ACCESS_MODES));
    if (m === 'ReadWriteOncePod') rwop = true;
    else if (ACCESS_MODES.includes(m)) other = true;
  }
  if (rwop && other) errs.push(forbidden(path, 'may not use ReadWriteOncePod with other access modes'));
  return errs;
}

function validateDataSource(ds: any, path: string, withNamespace: boolean): Errs {
  const errs: Errs = [];
  if (!str(ds?.name)) errs.push(required(`${path}.name`));
  if (!str(ds?.kind)) errs.push(required(`${path}.kind`));
  const group = str(ds?.apiGroup);
  if (!group && ds?.kind !== 'PersistentVolumeClaim') errs.push(invalid(path, str(ds?.kind), "must be 'PersistentVolumeClaim' when referencing the default apiGroup"));
  if (group) errs.push(...each(`${path}.apiGroup`, group, isDNS1123Subdomain(group)));
  if (withNamespace && str(ds?.namespace)) errs.push(...each(`${path}.namespace`, ds.namespace, nameIsDNSLabel(ds.namespace, false)));
  return errs;
}

function validatePVCSpec(s: any, path: string): Errs {
  const errs: Errs = [];
  const modes = arr(s?.accessModes);
  if (modes.length === 0) errs.push(required(`${path}.accessModes`, 'at least 1 access mode is required'));
  if (isObj(s?.selector)) errs.push(...validateLabelSelector(s.selector, `${path}.selector`));
  errs.push(...validateAccessModes(modes, `${path}.accessModes`));
  const storagePath = `${path}.resources[storage]`;
  const requests: Obj = isObj(s?.resources?.requests) ? s.resources.requests : {};
  if (!('storage' in requests)) errs.push(required(storagePath));
  else {
    const q = quantity(requests.storage, storagePath, errs);
    if (q) {
      const pos = validatePositiveQuantityValue(q, storagePath);
      errs.push(...(pos.length ? pos : validateResourceQuantityValue('storage', q, storagePath)));
    }
  }
  if (str(s?.storageClassName)) errs.push(...each(`${path}.storageClassName`, s.storageClassName, nameIsDNSSubdomain(s.storageClassName, false)));
  if (isSet(s?.volumeMode) && !VOLUME_MODES.includes(s.volumeMode)) errs.push(notSupported(`${path}.volumeMode`, s.volumeMode, VOLUME_MODES));
  if (isObj(s?.dataSource)) errs.push(...validateDataSource(s.dataSource, `${path}.dataSource`, false));
  if (isObj(s?.dataSourceRef)) errs.push(...validateDataSource(s.dataSourceRef, `${path}.dataSourceRef`, true));
  if (isObj(s?.dataSourceRef) && str(s.dataSourceRef.namespace)) {
    if (isObj(s?.dataSource)) errs.push(invalid(path, `${path}.dataSource`, 'may not be specified when dataSourceRef.namespace is specified'));
  } else if (isObj(s?.dataSource) && isObj(s?.dataSourceRef)) {
    const a = s.dataSource;
    const b = s.dataSourceRef;
    if ((a.apiGroup ?? null) !== (b.apiGroup ?? null) || a.kind !== b.kind || a.name !== b.name) errs.push(invalid(path, `${path}.dataSource`, 'must match dataSourceRef'));
  }
  if (str(s?.volumeAttributesClassName)) errs.push(...each(`${path}.volumeAttributesClassName`, s.volumeAttributesClassName, nameIsDNSSubdomain(s.volumeAttributesClassName, false)));
  return errs;
}

function validatePVCUpdate(o: any, old: any): Errs {
  const errs: Errs = [];
  const spec: Obj = structuredClone(isObj(o?.spec) ? o.spec : {});
  const oldSpec: Obj = structuredClone(isObj(old?.spec) ? old.spec : {});
  // The PV controller may bind the claim once; storage requests may change (expansion).
  if (!str(oldSpec.volumeName)) oldSpec.volumeName = spec.volumeName;
  const oldSC = old?.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'];
  const newSC = o?.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'];
  if (!isSet(oldSpec.storageClassName) && isSet(spec.storageClassName) && (oldSC === undefined || oldSC === spec.storageClassName) && (newSC === undefined || newSC === oldSC)) {
    oldSpec.storageClassName = spec.storageClassName;
  } else if ((oldSC ?? '') !== (newSC ?? '')) {
    errs.push(invalid('metadata.annotations.volume.beta.kubernetes.io/storage-class', newSC ?? '', FIELD_IMMUTABLE_ERROR_MSG));
  }
  if (o?.status?.phase === 'Bound') {
    if (isObj(spec.resources?.requests)) spec.resources.requests.storage = oldSpec.resources?.requests?.storage;
    if (isSet(spec.volumeAttributesClassName)) spec.volumeAttributesClassName = oldSpec.volumeAttributesClassName;
  }
  if (!semanticEqual(spec, oldSpec)) {
    errs.push(forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims'));
  }
  const ns = parseQuantityOrError(o?.spec?.resources?.requests?.storage ?? 0);
  const os = parseQuantityOrError(old?.spec?.resources?.requests?.storage ?? 0);
  if (typeof ns !== 'string' && typeof os !== 'string' && compareQuantities(ns, os) < 0) {
    const cap = parseQuantityOrError(old?.status?.capacity?.storage ?? 0);
    if (typeof cap !== 'string' && compareQuantities(ns, cap) <= 0) errs.push(forbidden('spec.resources.requests.storage', 'field can not be less than status.capacity'));
  }
  errs.push(...validateImmutableField(o?.spec?.volumeMode, old?.spec?.volumeMode, 'volumeMode'));
  return errs;
}

const PV_SOURCES: [string, string, (s: any, p: string, name: string) => Errs][] = [
  ['hostPath', 'hostPath', (s, p) => (str(s.path) ? [...validatePathNoBacksteps(str(s.path), `${p}.path`), ...(isSet(s.type) && !HOST_PATH_TYPES.includes(str(s.type)) ? [notSupported(`${p}.type`, s.type, HOST_PATH_TYPES)] : [])] : [required(`${p}.path`)])],
  ['gcePersistentDisk', 'persistentDisk', (s, p) => (str(s.pdName) ? [] : [required(`${p}.pdName`)])],
  ['awsElasticBlockStore', 'awsElasticBlockStore', (s, p) => (str(s.volumeID) ? [] : [required(`${p}.volumeID`)])],
  ['glusterfs', 'glusterfs', (s, p) => [...(str(s.endpoints) ? [] : [required(`${p}.endpoints`)]), ...(str(s.path) ? [] : [required(`${p}.path`)])]],
  ['flocker', 'flocker', (s, p) => (!str(s.datasetName) && !str(s.datasetUUID) ? [required(p, 'one of datasetName and datasetUUID is required')] : [])],
  ['nfs', 'nfs', (s, p) => [
    ...(str(s.server) ? [] : [required(`${p}.server`)]), ...(str(s.path) ? [] : [required(`${p}.path`)]),
    ...(str(s.path).startsWith('/') ? [] : [invalid(`${p}.path`, str(s.path), 'must be an absolute path')]),
  ]],
  ['rbd', 'rbd', (s, p) => [...(arr(s.monitors).length ? [] : [required(`${p}.monitors`)]), ...(str(s.image) ? [] : [required(`${p}.image`)])]],
  ['quobyte', 'quobyte', (s, p) => (str(s.volume) ? [] : [required(`${p}.volume`)])],
  ['cephfs', 'cephfs', (s, p) => (arr(s.monitors).length ? [] : [required(`${p}.monitors`)])],
  ['iscsi', 'iscsi', (s, p) => [...(str(s.targetPortal) ? [] : [required(`${p}.targetPortal`)]), ...(str(s.iqn) ? [] : [required(`${p}.iqn`)])]],
  ['cinder', 'cinder', (s, p) => (str(s.volumeID) ? [] : [required(`${p}.volumeID`)])],
  ['fc', 'fc', (s, p) => (arr(s.targetWWNs).length < 1 && arr(s.wwids).length < 1 ? [required(`${p}.targetWWNs`, 'must specify either targetWWNs or wwids, but not both')] : [])],
  ['flexVolume', 'flexVolume', (s, p) => (str(s.driver) ? [] : [required(`${p}.driver`)])],
  ['azureFile', 'azureFile', (s, p) => [...(str(s.secretName) ? [] : [required(`${p}.secretName`)]), ...(str(s.shareName) ? [] : [required(`${p}.shareName`)])]],
  ['vsphereVolume', 'vsphereVolume', (s, p) => (str(s.volumePath) ? [] : [required(`${p}.volumePath`)])],
  ['photonPersistentDisk', 'photonPersistentDisk', (s, p) => (str(s.pdID) ? [] : [required(`${p}.pdID`)])],
  ['portworxVolume', 'portworxVolume', (s, p) => (str(s.volumeID) ? [] : [required(`${p}.volumeID`)])],
  ['azureDisk', 'azureDisk', (s, p) => [...(str(s.diskName) ? [] : [required(`${p}.diskName`)]), ...(str(s.diskURI) ? [] : [required(`${p}.diskURI`)])]],
  ['scaleIO', 'scaleIO', (s, p) => [...(str(s.gateway) ? [] : [required(`${p}.gateway`)]), ...(str(s.system) ? [] : [required(`${p}.system`)]), ...(str(s.volumeName) ? [] : [required(`${p}.volumeName`)])]],
  ['local', 'local', (s, p) => (str(s.path) ? validatePathNoBacksteps(str(s.path), `${p}.path`) : [required(`${p}.path`)])],
  ['storageos', 'storageos', (s, p) => (str(s.volumeName) ? validateDNS1123Label(str(s.volumeName), `${p}.volumeName`) : [required(`${p}.volumeName`)])],
  ['csi', 'csi', (s, p) => [...validateCSIDriverName(str(s.driver), `${p}.driver`), ...(str(s.volumeHandle) ? [] : [required(`${p}.volumeHandle`)])]],
];

function validatePV(o: any): Errs {
  const s: Obj = isObj(o?.spec) ? o.spec : {};
  const errs: Errs = [];
  const modes = arr(s.accessModes);
  if (modes.length === 0) errs.push(required('spec.accessModes'));
  errs.push(...validateAccessModes(modes, 'spec.accessModes'));
  const capacity: Obj = isObj(s.capacity) ? s.capacity : {};
  if (Object.keys(capacity).length === 0) errs.push(required('spec.capacity'));
  if (!('storage' in capacity) || Object.keys(capacity).length > 1) errs.push(notSupported('spec.capacity', capacity, ['storage']));
  for (const [k, v] of Object.entries(capacity)) {
    const p = `spec.capacity[${k}]`;
    const q = quantity(v, p, errs);
    if (q) errs.push(...validateBasicResource(q, p), ...validatePositiveQuantityValue(q, p));
  }
  const rp = str(s.persistentVolumeReclaimPolicy);
  if (rp && !['Delete', 'Recycle', 'Retain'].includes(rp)) errs.push(notSupported('spec.persistentVolumeReclaimPolicy', rp, ['Delete', 'Recycle', 'Retain']));
  let affinity = false;
  if (isObj(s.nodeAffinity)) {
    affinity = true;
    if (isObj(s.nodeAffinity.required)) errs.push(...validateNodeSelector(s.nodeAffinity.required, 'spec.nodeAffinity.required'));
    else errs.push(required('spec.nodeAffinity.required', 'must specify required node constraints'));
  }
  let n = 0;
  for (const [key, sub, fn] of PV_SOURCES) {
    if (!isSet(s[key])) continue;
    if (n > 0 && key !== 'flexVolume') { errs.push(forbidden(`spec.${key === 'cephfs' ? 'cephFS' : key}`, 'may not specify more than 1 volume type')); continue; }
    n++;
    errs.push(...fn(isObj(s[key]) ? s[key] : {}, `spec.${sub}`, str(o?.metadata?.name)));
    if (key === 'local' && !affinity) errs.push(required('spec.nodeAffinity', 'Local volume requires node affinity'));
  }
  if (n === 0) errs.push(required('spec', 'must specify a volume type'));
  if (isObj(s.hostPath) && str(s.hostPath.path).replace(/\/+$/, '') === '' && str(s.hostPath.path).startsWith('/') && rp === 'Recycle') {
    errs.push(forbidden('spec.persistentVolumeReclaimPolicy', "may not be 'recycle' for a hostPath mount of '/'"));
  }
  if (str(s.storageClassName)) errs.push(...each('spec.storageClassName', s.storageClassName, nameIsDNSSubdomain(s.storageClassName, false)));
  if (isSet(s.volumeMode) && !VOLUME_MODES.includes(s.volumeMode)) errs.push(notSupported('spec.volumeMode', s.volumeMode, VOLUME_MODES));
  return errs;
}

function validatePVUpdate(o: any, old: any): Errs {
  const src = (spec: any) => {
    const c: Obj = {};
    for (const [key] of PV_SOURCES) if (isSet(spec?.[key])) c[key] = spec[key];
    if (isObj(c.csi) && !isSet(old?.spec?.csi?.controllerExpandSecretRef)) c.csi = { ...c.csi, controllerExpandSecretRef: undefined };
    return c;
  };
  const errs: Errs = [];
  if (!semanticEqual(src(o?.spec), src(old?.spec))) errs.push(forbidden('spec.persistentvolumesource', 'spec.persistentvolumesource is immutable after creation'));
  errs.push(...validateImmutableField(o?.spec?.volumeMode, old?.spec?.volumeMode, 'volumeMode'));
  if (isSet(old?.spec?.nodeAffinity) && !semanticEqual(o?.spec?.nodeAffinity, old?.spec?.nodeAffinity)) {
    errs.push(invalid('nodeAffinity', o?.spec?.nodeAffinity ?? null, `${FIELD_IMMUTABLE_ERROR_MSG}, except for updating from beta label to GA`));
  }
  return errs;
}

// ---------------------------------------------------------------------------------------------
// core: Event, Endpoints, LimitRange, ResourceQuota

/** events.k8s.io/v1 Events in core field names (upstream validates the converted internal object). */
function eventAsCore(o: any): Obj {
  return {
    metadata: o?.metadata ?? {}, involvedObject: o?.regarding ?? {}, reason: o?.reason, message: o?.note, source: o?.deprecatedSource ?? {},
    firstTimestamp: o?.deprecatedFirstTimestamp, lastTimestamp: o?.deprecatedLastTimestamp, count: o?.deprecatedCount, type: o?.type,
    eventTime: o?.eventTime, series: o?.series, action: o?.action, related: o?.related, reportingComponent: o?.reportingController,
    reportingInstance: o?.reportingInstance,
  };
}

/** ValidateEventCreate: the legacy rules for every Event, the strict ones for events.k8s.io. */
function validateEvent(o: any, ctx: Ctx): Errs {
  const strict = ctx.group === 'events.k8s.io';
  const ev = strict ? eventAsCore(o) : o ?? {};
  const errs: Errs = [];
  const ns = str(ev.metadata?.namespace);
  const involvedNS = str(ev.involvedObject?.namespace);
  const rcField = strict ? 'reportingController' : 'reportingComponent';
  if (!str(ev.eventTime)) {
    if (!involvedNS) {
      if (ns !== '' && ns !== 'default') errs.push(invalid('involvedObject.namespace', involvedNS, 'does not match event.namespace'));
    } else if (ns !== involvedNS) errs.push(invalid('involvedObject.namespace', involvedNS, 'does not match event.namespace'));
  } else {
    if (!involvedNS && ns !== 'default' && ns !== 'kube-system') errs.push(invalid('involvedObject.namespace', involvedNS, 'does not match event.namespace'));
    const rc = str(ev.reportingComponent);
    if (!rc) errs.push(required(rcField));
    errs.push(...validateQualifiedName(rc, rcField));
    const ri = str(ev.reportingInstance);
    if (!ri) errs.push(required('reportingInstance'));
    if (ri.length > 128) errs.push(invalid('reportingInstance', '', 'can have at most 128 characters'));
    const action = str(ev.action);
    if (!action) errs.push(required('action'));
    if (action.length > 128) errs.push(invalid('action', '', 'can have at most 128 characters'));
    const reason = str(ev.reason);
    if (!reason) errs.push(required('reason'));
    if (reason.length > 128) errs.push(invalid('reason', '', 'can have at most 128 characters'));
    if (str(ev.message).length > 1024) errs.push(invalid('message', '', 'can have at most 1024 characters'));
  }
  errs.push(...each('namespace', ns, isDNS1123Subdomain(ns)));
  if (!strict) return errs;
  errs.push(...validateObjectMeta(o?.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain }));
  if (isObj(ev.series)) {
    if (num(ev.series.count) < 2) errs.push(invalid('series.count', '', 'should be at least 2'));
    if (!str(ev.series.lastObservedTime)) errs.push(required('series.lastObservedTime'));
  }
  if (!str(ev.eventTime)) errs.push(required('eventTime'));
  if (ev.type !== 'Normal' && ev.type !== 'Warning') errs.push(invalid('type', '', `has invalid value: ${str(ev.type)}`));
  if (str(ev.firstTimestamp)) errs.push(invalid('firstTimestamp', '', 'needs to be unset'));
  if (str(ev.lastTimestamp)) errs.push(invalid('lastTimestamp', '', 'needs to be unset'));
  if (num(ev.count) !== 0) errs.push(invalid('count', '', 'needs to be unset'));
  if (str(ev.source?.component) || str(ev.source?.host)) errs.push(invalid('source', '', 'needs to be unset'));
  return errs;
}

function validateEndpoints(o: any): Errs {
  const errs: Errs = [];
  arr(o?.subsets).forEach((ss: any, i: number) => {
    const p = `subsets[${i}]`;
    if (arr(ss?.addresses).length === 0 && arr(ss?.notReadyAddresses).length === 0) errs.push(required(p, 'must specify `addresses` or `notReadyAddresses`'));
    for (const kind of ['addresses', 'notReadyAddresses']) {
      arr(ss?.[kind]).forEach((a: any, j: number) => {
        const ap = `${p}.${kind}[${j}]`;
        errs.push(...isValidIP(`${ap}.ip`, str(a?.ip)));
        if (str(a?.hostname)) errs.push(...validateDNS1123Label(a.hostname, `${ap}.hostname`));
        if (isSet(a?.nodeName)) errs.push(...each(`${ap}.nodeName`, a.nodeName, nameIsDNSSubdomain(str(a.nodeName), false)));
        errs.push(...validateNonSpecialIP(str(a?.ip), `${ap}.ip`));
      });
    }
    const ports = arr(ss?.ports);
    ports.forEach((port: any, j: number) => {
      const pp = `${p}.ports[${j}]`;
      const name = str(port?.name);
      if (ports.length > 1 && !name) errs.push(required(`${pp}.name`));
      else if (name) errs.push(...validateDNS1123Label(name, `${pp}.name`));
      errs.push(...each(`${pp}.port`, num(port?.port), isValidPortNum(num(port?.port))));
      const proto = str(port?.protocol);
      if (!proto) errs.push(required(`${pp}.protocol`));
      else if (!PROTOCOLS.includes(proto)) errs.push(notSupported(`${pp}.protocol`, proto, PROTOCOLS));
      if (isSet(port?.appProtocol)) errs.push(...validateQualifiedName(str(port.appProtocol), `${pp}.appProtocol`));
    });
  });
  return errs;
}

function validateLimitRange(o: any): Errs {
  const errs: Errs = [];
  const types = new Set<string>();
  arr(o?.spec?.limits).forEach((l: any, i: number) => {
    const p = `spec.limits[${i}]`;
    const type = str(l?.type);
    const te = each(`${p}.type`, type, isQualifiedName(type));
    if (!te.length && !type.includes('/') && !['Pod', 'Container', 'PersistentVolumeClaim'].includes(type)) te.push(invalid(`${p}.type`, type, 'must be a standard limit type or fully qualified'));
    errs.push(...te);
    if (types.has(type)) errs.push(duplicate(`${p}.type`, type));
    types.add(type);
    const nameFn = type === 'Pod' || type === 'Container' ? validateContainerResourceName : validateResourceName;
    const maps: Record<string, Map<string, Quantity>> = { max: new Map(), min: new Map(), default: new Map(), defaultRequest: new Map(), maxLimitRequestRatio: new Map() };
    const keys: string[] = [];
    const collect = (f: string) => {
      for (const [k, v] of entries(l?.[f])) {
        errs.push(...nameFn(k, `${p}.${f}[${k}]`));
        if (!keys.includes(k)) keys.push(k);
        const q = quantity(v, `${p}.${f}[${k}]`, errs);
        if (q) maps[f].set(k, q);
      }
    };
    collect('max');
    collect('min');
    if (type === 'Pod') {
      if (Object.keys(l?.default ?? {}).length) errs.push(forbidden(`${p}.default`, "may not be specified when `type` is 'Pod'"));
      if (Object.keys(l?.defaultRequest ?? {}).length) errs.push(forbidden(`${p}.defaultRequest`, "may not be specified when `type` is 'Pod'"));
    } else {
      collect('default');
      collect('defaultRequest');
    }
    if (type === 'PersistentVolumeClaim' && !maps.min.has('storage') && !maps.max.has('storage')) {
      errs.push(required(`${p}.limits`, 'either minimum or maximum storage value is required, but neither was provided'));
    }
    collect('maxLimitRequestRatio');
    const f = formatQuantity;
    for (const k of keys) {
      const min = maps.min.get(k);
      const max = maps.max.get(k);
      const def = maps.default.get(k);
      const defReq = maps.defaultRequest.get(k);
      const ratio = maps.maxLimitRequestRatio.get(k);
      if (min && max && compareQuantities(min, max) > 0) errs.push(invalid(`${p}.min[${k}]`, f(min), `min value ${f(min)} is greater than max value ${f(max)}`));
      if (defReq && min && compareQuantities(min, defReq) > 0) errs.push(invalid(`${p}.defaultRequest[${k}]`, f(defReq), `min value ${f(min)} is greater than default request value ${f(defReq)}`));
      if (defReq && max && compareQuantities(defReq, max) > 0) errs.push(invalid(`${p}.defaultRequest[${k}]`, f(defReq), `default request value ${f(defReq)} is greater than max value ${f(max)}`));
      if (defReq && def && compareQuantities(defReq, def) > 0) errs.push(invalid(`${p}.defaultRequest[${k}]`, f(defReq), `default request value ${f(defReq)} is greater than default limit value ${f(def)}`));
      if (def && min && compareQuantities(min, def) > 0) errs.push(invalid(`${p}.default[${k}]`, f(min), `min value ${f(min)} is greater than default value ${f(def)}`));
      if (def && max && compareQuantities(def, max) > 0) errs.push(invalid(`${p}.default[${k}]`, f(max), `default value ${f(def)} is greater than max value ${f(max)}`));
      if (ratio) {
        const one = parseQuantityOrError('1') as Quantity;
        if (compareQuantities(ratio, one) < 0) errs.push(invalid(`${p}.maxLimitRequestRatio[${k}]`, f(ratio), `ratio ${f(ratio)} is less than 1`));
        if (min && max) {
          const limit = Number(quantityMilliValue(max)) / Number(quantityMilliValue(min));
          const r = Number(quantityMilliValue(ratio)) / 1000;
          if (r > limit) errs.push(invalid(`${p}.maxLimitRequestRatio[${k}]`, f(ratio), `ratio ${f(ratio)} is greater than max/min = ${limit.toFixed(6)}`));
        }
      }
      if (!isOvercommitAllowed(k) && def && defReq && compareQuantities(def, defReq) !== 0) {
        errs.push(invalid(`${p}.defaultRequest[${k}]`, f(defReq), `default value ${f(def)} must equal to defaultRequest value ${f(defReq)} in ${k}`));
      }
    }
  });
  return errs;
}

const QUOTA_SCOPES = ['Terminating', 'NotTerminating', 'BestEffort', 'NotBestEffort', 'PriorityClass', 'CrossNamespacePodAffinity', 'VolumeAttributesClass'];

function validateQuotaResources(list: unknown, path: string): Errs {
  const errs: Errs = [];
  for (const [k, v] of entries(list)) {
    const p = `${path}[${k}]`;
    errs.push(...validateResourceQuotaResourceName(k, p));
    const q = quantity(v, p, errs);
    if (q) errs.push(...validateResourceQuantityValue(k, q, p));
  }
  return errs;
}

function validateResourceQuota(o: any): Errs {
  const s = o?.spec ?? {};
  const errs = validateQuotaResources(s.hard, 'spec.hard');
  const scopes = arr(s.scopes);
  if (scopes.length) {
    for (const sc of scopes) if (!QUOTA_SCOPES.includes(sc)) errs.push(invalid('spec.scopes', scopes, 'unsupported scope'));
    const has = (x: string) => scopes.includes(x);
    if ((has('BestEffort') && has('NotBestEffort')) || (has('Terminating') && has('NotTerminating'))) errs.push(invalid('spec.scopes', scopes, 'conflicting scopes'));
  }
  arr(s.scopeSelector?.matchExpressions).forEach((req: any) => {
    const p = 'spec.scopeSelector.matchExpressions';
    if (!QUOTA_SCOPES.includes(req?.scopeName)) errs.push(invalid(`${p}.scopeName`, str(req?.scopeName), 'unsupported scope'));
    if (['BestEffort', 'NotBestEffort', 'Terminating', 'NotTerminating', 'CrossNamespacePodAffinity'].includes(req?.scopeName) && req?.operator !== 'Exists') {
      errs.push(invalid(`${p}.operator`, str(req?.operator), 'must be \'Exists\' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity'));
    }
    switch (req?.operator) {
      case 'In': case 'NotIn':
        if (arr(req.values).length === 0) errs.push(required(`${p}.values`, "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"));
        break;
      case 'Exists': case 'DoesNotExist':
        if (arr(req.values).length) errs.push(invalid(`${p}.values`, req.values, "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"));
        break;
      default:
        errs.push(invalid(`${p}.operator`, str(req?.operator), 'not a valid selector operator'));
    }
  });
  errs.push(...validateQuotaResources(o?.status?.hard, 'status.hard'));
  errs.push(...validateQuotaResources(o?.status?.used, 'status.used'));
  return errs;
}

function validateResourceQuotaUpdate(o: any, old: any): Errs {
  const a = new Set(arr(o?.spec?.scopes).map(str));
  const b = new Set(arr(old?.spec?.scopes).map(str));
  const same = a.size === b.size && [...a].every((x) => b.has(x));
  return same ? [] : [invalid('spec.scopes', arr(o?.spec?.scopes), FIELD_IMMUTABLE_ERROR_MSG)];
}

// ---------------------------------------------------------------------------------------------
// discovery.k8s.io, networking.k8s.io, autoscaling, policy

function validateEndpointSlice(o: any): Errs {
  const errs: Errs = [];
  const at = str(o?.addressType);
  if (!at) errs.push(required('addressType'));
  else if (!['FQDN', 'IPv4', 'IPv6'].includes(at)) errs.push(notSupported('addressType', at, ['FQDN', 'IPv4', 'IPv6']));
  const eps = arr(o?.endpoints);
  if (eps.length > 1000) errs.push(tooMany('endpoints', eps.length, 1000));
  else eps.forEach((ep: any, i: number) => {
    const p = `endpoints[${i}]`;
    const addrs = arr(ep?.addresses);
    if (addrs.length === 0) errs.push(required(`${p}.addresses`, 'must contain at least 1 address'));
    else if (addrs.length > 100) errs.push(tooMany(`${p}.addresses`, addrs.length, 100));
    addrs.forEach((a, j) => {
      const ap = `${p}.addresses[${j}]`;
      if (at === 'IPv4') { const e = isValidIPv4Address(ap, str(a)); errs.push(...(e.length ? e : validateNonSpecialIP(str(a), ap))); }
      else if (at === 'IPv6') { const e = isValidIPv6Address(ap, str(a)); errs.push(...(e.length ? e : validateNonSpecialIP(str(a), ap))); }
      else if (at === 'FQDN') errs.push(...isFullyQualifiedDomainName(ap, str(a)));
    });
    if (isSet(ep?.nodeName)) errs.push(...each(`${p}.nodeName`, ep.nodeName, nameIsDNSSubdomain(str(ep.nodeName), false)));
    const topo = ep?.deprecatedTopology;
    if (Object.keys(isObj(topo) ? topo : {}).length > 16) errs.push(tooMany(`${p}.deprecatedTopology`, Object.keys(topo).length, 16));
    errs.push(...validateLabels(topo, `${p}.deprecatedTopology`));
    if (isSet(ep?.hostname)) errs.push(...validateDNS1123Label(str(ep.hostname), `${p}.hostname`));
    const zones = arr(ep?.hints?.forZones);
    if (zones.length > 8) errs.push(tooMany(`${p}.hints.forZones`, zones.length, 8));
    const seen = new Set<string>();
    zones.forEach((z: any, j: number) => {
      const name = str(z?.name);
      if (seen.has(name)) errs.push(duplicate(`${p}.hints.forZones[${j}].name`, name));
      else seen.add(name);
      errs.push(...validateLabels({ [name]: '' }, `${p}.hints.forZones[${j}].name`).filter((e) => e.value === name));
    });
  });
  const ports = arr(o?.ports);
  if (ports.length > 20000) errs.push(tooMany('ports', ports.length, 20000));
  else {
    const names = new Set<string>();
    ports.forEach((port: any, i: number) => {
      const p = `ports[${i}]`;
      const name = str(port?.name);
      if (name) errs.push(...validateDNS1123Label(name, `${p}.name`));
      if (names.has(name)) errs.push(duplicate(`${p}.name`, name));
      else names.add(name);
      if (!isSet(port?.protocol)) errs.push(required(`${p}.protocol`));
      else if (!PROTOCOLS.includes(port.protocol)) errs.push(notSupported(`${p}.protocol`, port.protocol, PROTOCOLS));
      if (isSet(port?.appProtocol)) errs.push(...validateQualifiedName(str(port.appProtocol), `${p}.appProtocol`));
    });
  }
  return errs;
}

function validateNetworkPolicyPort(port: any, path: string): Errs {
  const errs: Errs = [];
  if (isSet(port?.protocol) && !PROTOCOLS.includes(port.protocol)) errs.push(notSupported(`${path}.protocol`, port.protocol, ['TCP', 'UDP', 'SCTP']));
  if (isSet(port?.port)) {
    if (typeof port.port === 'number') {
      errs.push(...each(`${path}.port`, port.port, isValidPortNum(port.port)));
      if (isSet(port.endPort)) {
        if (port.endPort < port.port) errs.push(invalid(`${path}.endPort`, port.endPort, 'must be greater than or equal to `port`'));
        errs.push(...each(`${path}.endPort`, port.endPort, isValidPortNum(port.endPort)));
      }
    } else {
      if (isSet(port.endPort)) errs.push(invalid(`${path}.endPort`, port.endPort, 'may not be specified when `port` is non-numeric'));
      errs.push(...each(`${path}.port`, str(port.port), isValidPortName(str(port.port))));
    }
  } else if (isSet(port?.endPort)) errs.push(invalid(`${path}.endPort`, port.endPort, 'may not be specified when `port` is not specified'));
  return errs;
}

function validateNetworkPolicyPeer(peer: any, path: string): Errs {
  const errs: Errs = [];
  let n = 0;
  if (isSet(peer?.podSelector)) { n++; errs.push(...validateLabelSelector(peer.podSelector, `${path}.podSelector`)); }
  if (isSet(peer?.namespaceSelector)) { n++; errs.push(...validateLabelSelector(peer.namespaceSelector, `${path}.namespaceSelector`)); }
  if (isObj(peer?.ipBlock)) {
    n++;
    const ib = peer.ipBlock;
    const bp = `${path}.ipBlock`;
    if (!str(ib.cidr)) errs.push(required(`${bp}.cidr`));
    else {
      errs.push(...isValidCIDR(`${bp}.cidr`, str(ib.cidr)));
      const outer = parseCIDR(str(ib.cidr));
      if (outer) arr(ib.except).forEach((e, i) => {
        const ep = `${bp}.except[${i}]`;
        const ce = isValidCIDR(ep, str(e));
        errs.push(...ce);
        const inner = parseCIDR(str(e));
        if (!inner) return;
        if (inner.family !== outer.family || inner.prefix <= outer.prefix || !cidrContains(outer, inner.bytes)) errs.push(invalid(ep, str(e), 'must be a strict subset of `cidr`'));
      });
    }
  }
  if (n === 0) errs.push(required(path, 'must specify a peer'));
  else if (n > 1 && isObj(peer?.ipBlock)) errs.push(forbidden(path, 'may not specify both ipBlock and another peer'));
  return errs;
}

function cidrContains(c: { bytes: number[]; prefix: number }, ip: number[]): boolean {
  for (let bit = 0; bit < c.prefix; bit++) {
    const i = bit >> 3;
    const m = 0x80 >> (bit & 7);
    if ((c.bytes[i] & m) !== (ip[i] & m)) return false;
  }
  return true;
}

function validateNetworkPolicy(o: any): Errs {
  const s = o?.spec ?? {};
  const errs = validateLabelSelector(s.podSelector ?? {}, 'spec.podSelector');
  arr(s.ingress).forEach((r: any, i: number) => {
    arr(r?.ports).forEach((p, j) => errs.push(...validateNetworkPolicyPort(p, `spec.ingress[${i}].ports[${j}]`)));
    arr(r?.from).forEach((p, j) => errs.push(...validateNetworkPolicyPeer(p, `spec.ingress[${i}].from[${j}]`)));
  });
  arr(s.egress).forEach((r: any, i: number) => {
    arr(r?.ports).forEach((p, j) => errs.push(...validateNetworkPolicyPort(p, `spec.egress[${i}].ports[${j}]`)));
    arr(r?.to).forEach((p, j) => errs.push(...validateNetworkPolicyPeer(p, `spec.egress[${i}].to[${j}]`)));
  });
  const types = arr(s.policyTypes);
  if (types.length > 2) { errs.push(invalid('spec.policyTypes', types, 'may not specify more than two policyTypes')); return errs; }
  types.forEach((t, i) => { if (t !== 'Ingress' && t !== 'Egress') errs.push(notSupported(`spec.policyTypes[${i}]`, t, ['Ingress', 'Egress'])); });
  return errs;
}

function validateIngressBackend(b: any, path: string): Errs {
  const errs: Errs = [];
  const hasRes = isObj(b?.resource);
  const hasSvc = isObj(b?.service);
  if (hasRes && hasSvc) return [invalid(path, '', 'cannot set both resource and service backends')];
  if (hasRes) {
    const r = b.resource;
    if (isSet(r.apiGroup)) errs.push(...each(`${path}.resource.apiGroup`, r.apiGroup, isDNS1123Subdomain(str(r.apiGroup))));
    if (!str(r.kind)) errs.push(required(`${path}.resource.kind`));
    else errs.push(...each(`${path}.resource.kind`, r.kind, isValidPathSegmentName(r.kind)));
    if (!str(r.name)) errs.push(required(`${path}.resource.name`));
    else errs.push(...each(`${path}.resource.name`, r.name, isValidPathSegmentName(r.name)));
    return errs;
  }
  if (!hasSvc) return [invalid(path, '', 'resource or service backend is required')];
  const svc = b.service;
  if (!str(svc.name)) errs.push(required(`${path}.service.name`));
  else errs.push(...each(`${path}.service.name`, svc.name, nameIsDNS1035Label(svc.name, false)));
  const pn = str(svc.port?.name);
  const pnum = num(svc.port?.number);
  if (pn && pnum) errs.push(invalid(path, '', 'cannot set both port name & port number'));
  else if (pn) errs.push(...each(`${path}.service.port.name`, pn, isValidPortName(pn)));
  else if (pnum) errs.push(...each(`${path}.service.port.number`, pnum, isValidPortNum(pnum)));
  else errs.push(required(path, 'port name or number is required'));
  return errs;
}

function validateIngress(o: any, ctx: Ctx): Errs {
  const s = o?.spec ?? {};
  const errs: Errs = [];
  const rules = arr(s.rules);
  if (rules.length === 0 && !isSet(s.defaultBackend)) errs.push(invalid('spec', rules, 'either `defaultBackend` or `rules` must be specified'));
  if (isObj(s.defaultBackend)) errs.push(...validateIngressBackend(s.defaultBackend, 'spec.defaultBackend'));
  rules.forEach((r: any, i: number) => {
    const p = `spec.rules[${i}]`;
    const host = str(r?.host);
    if (host) {
      if (isIPString(host)) errs.push(invalid(`${p}.host`, host, 'must be a DNS name, not an IP address'));
      if (host.includes('*')) errs.push(...each(`${p}.host`, host, isWildcardDNS1123Subdomain(host)));
      else errs.push(...each(`${p}.host`, host, isDNS1123Subdomain(host)));
    }
    if (!isObj(r?.http)) return;
    const paths = arr(r.http.paths);
    if (paths.length === 0) errs.push(required(`${p}.http.paths`));
    paths.forEach((hp: any, j: number) => {
      const pp = `${p}.http.paths[${j}]`;
      const pt = hp?.pathType;
      if (!isSet(pt)) { errs.push(required(`${pp}.pathType`, 'pathType must be specified')); return; }
      const path = str(hp.path);
      if (pt === 'Exact' || pt === 'Prefix') {
        if (!path.startsWith('/')) errs.push(invalid(`${pp}.path`, path, 'must be an absolute path'));
        if (path) {
          for (const seq of ['//', '/./', '/../', '%2f', '%2F']) if (path.includes(seq)) errs.push(invalid(`${pp}.path`, path, `must not contain '${seq}'`));
          for (const suf of ['/..', '/.']) if (path.endsWith(suf)) errs.push(invalid(`${pp}.path`, path, `cannot end with '${suf}'`));
        }
      } else if (pt === 'ImplementationSpecific') {
        if (path && !path.startsWith('/')) errs.push(invalid(`${pp}.path`, path, 'must be an absolute path'));
      } else {
        errs.push(notSupported(`${pp}.pathType`, pt, ['Exact', 'ImplementationSpecific', 'Prefix']));
      }
      errs.push(...validateIngressBackend(hp.backend, `${pp}.backend`));
    });
  });
  arr(s.tls).forEach((t: any, i: number) => {
    arr(t?.hosts).forEach((h, j) => {
      const p = `spec.tls[${i}].hosts[${j}]`;
      errs.push(...each(p, h, str(h).includes('*') ? isWildcardDNS1123Subdomain(str(h)) : isDNS1123Subdomain(str(h))));
    });
    if (str(t?.secretName)) errs.push(...each(`spec.tls[${i}].secretName`, t.secretName, nameIsDNSSubdomain(t.secretName, false)));
  });
  if (isSet(s.ingressClassName)) errs.push(...each('spec.ingressClassName', s.ingressClassName, nameIsDNSSubdomain(str(s.ingressClassName), false)));
  const ann = o?.metadata?.annotations?.['kubernetes.io/ingress.class'];
  if (ctx.create && isSet(ann) && isSet(s.ingressClassName) && ann !== s.ingressClassName) {
    errs.push(invalid('annotations.kubernetes.io/ingress.class', ann, 'must match `ingressClassName` when both are specified'));
  }
  return errs;
}

function validateIngressClass(o: any): Errs {
  const s = o?.spec ?? {};
  const errs: Errs = [];
  const c = str(s.controller);
  if (!c) errs.push(required('spec.controller'));
  else {
    if (c.length > 250) errs.push(tooLong('spec.controller', 250));
    errs.push(...isDomainPrefixedPath('spec.controller', c));
  }
  const prm = s.parameters;
  if (isObj(prm)) {
    const p = 'spec.parameters';
    if (isSet(prm.apiGroup)) errs.push(...each(`${p}.apiGroup`, prm.apiGroup, isDNS1123Subdomain(str(prm.apiGroup))));
    if (!str(prm.kind)) errs.push(required(`${p}.kind`));
    else errs.push(...each(`${p}.kind`, prm.kind, isValidPathSegmentName(prm.kind)));
    if (!str(prm.name)) errs.push(required(`${p}.name`));
    else errs.push(...each(`${p}.name`, prm.name, isValidPathSegmentName(prm.name)));
    if (!isSet(prm.scope)) errs.push(required(`${p}.scope`));
    else if (prm.scope !== 'Cluster' && prm.scope !== 'Namespace') errs.push(notSupported(`${p}.scope`, prm.scope, ['Cluster', 'Namespace']));
    else if (prm.scope === 'Namespace') {
      if (!isSet(prm.namespace)) errs.push(required(`${p}.namespace`, "`parameters.scope` is set to 'Namespace'"));
      else errs.push(...each(`${p}.namespace`, prm.namespace, nameIsDNSLabel(str(prm.namespace), false)));
    } else if (isSet(prm.namespace)) errs.push(forbidden(`${p}.namespace`, "`parameters.scope` is set to 'Cluster'"));
  }
  return errs;
}

function validateCrossVersionObjectReference(ref: any, path: string): Errs {
  const errs: Errs = [];
  if (!str(ref?.kind)) errs.push(required(`${path}.kind`));
  else errs.push(...each(`${path}.kind`, ref.kind, isValidPathSegmentName(ref.kind)));
  if (!str(ref?.name)) errs.push(required(`${path}.name`));
  else errs.push(...each(`${path}.name`, ref.name, isValidPathSegmentName(ref.name)));
  return errs;
}

function validateMetricTarget(t: any, path: string): Errs {
  const errs: Errs = [];
  const type = str(t?.type);
  if (!type) errs.push(required(`${path}.type`, 'must specify a metric target type'));
  if (!['Utilization', 'Value', 'AverageValue'].includes(type)) errs.push(invalid(`${path}.type`, type, 'must be either Utilization, Value, or AverageValue'));
  for (const f of ['value', 'averageValue']) {
    if (!isSet(t?.[f])) continue;
    const q = parseQuantityOrError(t[f]);
    if (typeof q === 'string' || quantitySign(q) !== 1) errs.push(invalid(`${path}.${f}`, typeof q === 'string' ? t[f] : formatQuantity(q), 'must be positive'));
  }
  if (isSet(t?.averageUtilization) && t.averageUtilization < 1) errs.push(invalid(`${path}.averageUtilization`, t.averageUtilization, 'must be greater than 0'));
  return errs;
}

function validateMetricIdentifier(m: any, path: string): Errs {
  if (!str(m?.name)) return [required(`${path}.name`, 'must specify a metric name')];
  const errs = each(`${path}.name`, m.name, isValidPathSegmentName(m.name));
  if (isSet(m?.selector)) errs.push(...validateLabelSelector(m.selector, `${path}.selector`));
  return errs;
}

const METRIC_SOURCES: Record<string, string> = { Object: 'object', Pods: 'pods', Resource: 'resource', External: 'external', ContainerResource: 'containerResource' };

function validateMetricSpec(m: any, path: string): Errs {
  const errs: Errs = [];
  const type = str(m?.type);
  const valid = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'];
  if (!type) errs.push(required(`${path}.type`, 'must specify a metric source type'));
  if (!valid.includes(type)) errs.push(notSupported(`${path}.type`, type, valid));
  const present: string[] = [];
  for (const f of ['object', 'external', 'pods', 'resource', 'containerResource']) {
    if (!isObj(m?.[f])) continue;
    present.push(f);
    if (present.length !== 1) continue;
    const src = m[f];
    const sp = `${path}.${f}`;
    const tp = `${sp}.target`;
    switch (f) {
      case 'object':
        errs.push(...validateCrossVersionObjectReference(src.describedObject, `${sp}.describedObject`));
        errs.push(...validateMetricIdentifier(src.metric, `${sp}.metric`));
        errs.push(...validateMetricTarget(src.target, tp));
        if (!isSet(src.target?.value) && !isSet(src.target?.averageValue)) errs.push(required(`${tp}.averageValue`, 'must set either a target value or averageValue'));
        break;
      case 'external':
        errs.push(...validateMetricIdentifier(src.metric, `${sp}.metric`));
        errs.push(...validateMetricTarget(src.target, tp));
        if (!isSet(src.target?.value) && !isSet(src.target?.averageValue)) errs.push(required(`${tp}.averageValue`, 'must set either a target value for metric or a per-pod target'));
        if (isSet(src.target?.value) && isSet(src.target?.averageValue)) errs.push(forbidden(`${tp}.value`, 'may not set both a target value for metric and a per-pod target'));
        break;
      case 'pods':
        errs.push(...validateMetricIdentifier(src.metric, `${sp}.metric`));
        errs.push(...validateMetricTarget(src.target, tp));
        if (!isSet(src.target?.averageValue)) errs.push(required(`${tp}.averageValue`, 'must specify a positive target averageValue'));
        break;
      case 'resource': case 'containerResource':
        if (!str(src.name)) errs.push(required(`${sp}.name`, 'must specify a resource name'));
        if (f === 'containerResource') {
          if (!str(src.container)) errs.push(required(`${sp}.container`, 'must specify a container'));
          else errs.push(...validateDNS1123Label(src.container, `${sp}.container`));
        }
        errs.push(...validateMetricTarget(src.target, tp));
        if (!isSet(src.target?.averageUtilization) && !isSet(src.target?.averageValue)) errs.push(required(`${tp}.averageUtilization`, 'must set either a target raw value or a target utilization'));
        if (isSet(src.target?.averageUtilization) && isSet(src.target?.averageValue)) errs.push(forbidden(`${tp}.averageValue`, 'may not set both a target raw value and a target utilization'));
        break;
    }
  }
  const expected = METRIC_SOURCES[type];
  if (expected) { if (!isObj(m?.[expected])) errs.push(required(`${path}.${expected}`, 'must populate information for the given metric source')); }
  else errs.push(notSupported(`${path}.type`, type, valid));
  if (present.length !== 1) for (const f of present) if (f !== expected) errs.push(forbidden(`${path}.${f}`, 'must populate the given metric source only'));
  return errs;
}

function validateScalingRules(r: any, path: string): Errs {
  if (!isObj(r)) return [];
  const errs: Errs = [];
  const w = r.stabilizationWindowSeconds;
  if (isSet(w) && w < 0) errs.push(invalid(`${path}.stabilizationWindowSeconds`, w, 'must be greater than or equal to zero'));
  if (isSet(w) && w > 3600) errs.push(invalid(`${path}.stabilizationWindowSeconds`, w, 'must be less than or equal to 3600'));
  if (isSet(r.selectPolicy) && !['Disabled', 'Max', 'Min'].includes(r.selectPolicy)) errs.push(notSupported(`${path}.selectPolicy`, r.selectPolicy, ['Disabled', 'Max', 'Min']));
  const policies = arr(r.policies);
  if (policies.length === 0) errs.push(required(`${path}.policies`, 'must specify at least one Policy'));
  policies.forEach((p: any, i: number) => {
    const pp = `${path}.policies[${i}]`;
    if (p?.type !== 'Pods' && p?.type !== 'Percent') errs.push(notSupported(`${pp}.type`, str(p?.type), ['Percent', 'Pods']));
    if (num(p?.value) <= 0) errs.push(invalid(`${pp}.value`, num(p?.value), 'must be greater than zero'));
    if (num(p?.periodSeconds) <= 0) errs.push(invalid(`${pp}.periodSeconds`, num(p?.periodSeconds), 'must be greater than zero'));
    if (num(p?.periodSeconds) > 1800) errs.push(invalid(`${pp}.periodSeconds`, num(p?.periodSeconds), 'must be less than or equal to 1800'));
  });
  return errs;
}

function validateHPA(o: any, ctx: Ctx): Errs {
  const s = o?.spec ?? {};
  const errs: Errs = [];
  if (isSet(s.minReplicas) && s.minReplicas < 1) errs.push(invalid('spec.minReplicas', s.minReplicas, 'must be greater than or equal to 1'));
  if (num(s.maxReplicas) < 1) errs.push(invalid('spec.maxReplicas', num(s.maxReplicas), 'must be greater than 0'));
  if (isSet(s.minReplicas) && num(s.maxReplicas) < s.minReplicas) errs.push(invalid('spec.maxReplicas', num(s.maxReplicas), 'must be greater than or equal to `minReplicas`'));
  errs.push(...validateCrossVersionObjectReference(s.scaleTargetRef, 'spec.scaleTargetRef'));
  if (ctx.version === 'v1') {
    if (isSet(s.targetCPUUtilizationPercentage) && s.targetCPUUtilizationPercentage < 1) {
      errs.push(invalid('spec.targetCPUUtilizationPercentage', s.targetCPUUtilizationPercentage, 'must be greater than 0'));
    }
    return errs;
  }
  arr(s.metrics).forEach((m, i) => errs.push(...validateMetricSpec(m, `spec.metrics[${i}]`)));
  if (isObj(s.behavior)) {
    errs.push(...validateScalingRules(s.behavior.scaleUp, 'spec.behavior.scaleUp'));
    errs.push(...validateScalingRules(s.behavior.scaleDown, 'spec.behavior.scaleDown'));
  }
  return errs;
}

function validatePDB(o: any): Errs {
  const s = o?.spec ?? {};
  const errs: Errs = [];
  if (isSet(s.minAvailable) && isSet(s.maxUnavailable)) errs.push(invalid('spec', s, 'minAvailable and maxUnavailable cannot be both set'));
  for (const f of ['minAvailable', 'maxUnavailable']) {
    if (!isSet(s[f])) continue;
    errs.push(...validatePositiveIntOrPercent(s[f], `spec.${f}`));
    errs.push(...isNotMoreThan100Percent(s[f], `spec.${f}`));
  }
  errs.push(...validateLabelSelector(s.selector, 'spec.selector'));
  if (isSet(s.unhealthyPodEvictionPolicy) && !['AlwaysAllow', 'IfHealthyBudget'].includes(s.unhealthyPodEvictionPolicy)) {
    errs.push(notSupported('spec.unhealthyPodEvictionPolicy', s.unhealthyPodEvictionPolicy, ['AlwaysAllow', 'IfHealthyBudget']));
  }
  return errs;
}

// ---------------------------------------------------------------------------------------------
// rbac.authorization.k8s.io

const RBAC_GROUP = 'rbac.authorization.k8s.io';

function validatePolicyRule(rule: any, namespaced: boolean, path: string): Errs {
  const errs: Errs = [];
  if (arr(rule?.verbs).length === 0) errs.push(required(`${path}.verbs`, 'verbs must contain at least one value'));
  const urls = arr(rule?.nonResourceURLs);
  if (urls.length) {
    if (namespaced) errs.push(invalid(`${path}.nonResourceURLs`, urls, 'namespaced rules cannot apply to non-resource URLs'));
    if (arr(rule?.apiGroups).length || arr(rule?.resources).length || arr(rule?.resourceNames).length) {
      errs.push(invalid(`${path}.nonResourceURLs`, urls, 'rules cannot apply to both regular resources and non-resource URLs'));
    }
    return errs;
  }
  if (arr(rule?.apiGroups).length === 0) errs.push(required(`${path}.apiGroups`, 'resource rules must supply at least one api group'));
  if (arr(rule?.resources).length === 0) errs.push(required(`${path}.resources`, 'resource rules must supply at least one resource'));
  return errs;
}

function validateRole(o: any, ctx: Ctx): Errs {
  const namespaced = ctx.kind === 'Role';
  const errs = arr(o?.rules).flatMap((r, i) => validatePolicyRule(r, namespaced, `rules[${i}]`));
  if (!namespaced && isObj(o?.aggregationRule)) {
    const sels = arr(o.aggregationRule.clusterRoleSelectors);
    if (sels.length === 0) errs.push(required('aggregationRule.clusterRoleSelectors', 'at least one clusterRoleSelector required if aggregationRule is non-nil'));
    sels.forEach((sel, i) => {
      const p = `aggregationRule.clusterRoleSelectors[${i}]`;
      errs.push(...validateLabelSelector(sel, p));
      if (!isConvertibleLabelSelector(sel)) errs.push(invalid(p, sel, 'invalid label selector.'));
    });
  }
  return errs;
}

function validateRoleBindingSubject(s: any, namespaced: boolean, path: string): Errs {
  const errs: Errs = [];
  const name = str(s?.name);
  if (!name) errs.push(required(`${path}.name`));
  switch (s?.kind) {
    case 'ServiceAccount':
      if (name) errs.push(...each(`${path}.name`, name, nameIsDNSSubdomain(name, false)));
      if (str(s.apiGroup)) errs.push(notSupported(`${path}.apiGroup`, s.apiGroup, ['']));
      if (!namespaced && !str(s.namespace)) errs.push(required(`${path}.namespace`));
      break;
    case 'User': case 'Group':
      if (s.apiGroup !== RBAC_GROUP) errs.push(notSupported(`${path}.apiGroup`, str(s.apiGroup), [RBAC_GROUP]));
      break;
    default:
      errs.push(notSupported(`${path}.kind`, str(s?.kind), ['ServiceAccount', 'User', 'Group']));
  }
  return errs;
}

function validateRoleBinding(o: any, ctx: Ctx): Errs {
  const namespaced = ctx.kind === 'RoleBinding';
  const ref = o?.roleRef ?? {};
  const errs: Errs = [];
  if (ref.apiGroup !== RBAC_GROUP) errs.push(notSupported('roleRef.apiGroup', str(ref.apiGroup), [RBAC_GROUP]));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(ref.kind)) errs.push(notSupported('roleRef.kind', str(ref.kind), kinds));
  if (!str(ref.name)) errs.push(required('roleRef.name'));
  else errs.push(...each('roleRef.name', ref.name, isValidPathSegmentName(ref.name)));
  arr(o?.subjects).forEach((s, i) => errs.push(...validateRoleBindingSubject(s, namespaced, `subjects[${i}]`)));
  return errs;
}

function validateRoleBindingUpdate(o: any, old: any): Errs {
  const a = o?.roleRef ?? {};
  const b = old?.roleRef ?? {};
  return a.apiGroup !== b.apiGroup || a.kind !== b.kind || a.name !== b.name ? [invalid('roleRef', a, 'cannot change roleRef')] : [];
}

// ---------------------------------------------------------------------------------------------
// storage.k8s.io, scheduling.k8s.io, coordination.k8s.io, node.k8s.io, certificates.k8s.io

function validateStorageClass(o: any): Errs {
  const errs: Errs = [];
  const prov = str(o?.provisioner);
  if (!prov) errs.push(required('provisioner'));
  else errs.push(...validateQualifiedName(prov.toLowerCase(), 'provisioner'));
  const params = entries(o?.parameters);
  if (params.length > 512) errs.push(tooLong('parameters', 512));
  else {
    let size = 0;
    for (const [k, v] of params) {
      if (!k) errs.push(invalid('parameters', k, 'field can not be empty.'));
      size += bytes(k) + bytes(str(v));
    }
    if (size > 256 * 1024) errs.push(tooLong('parameters', 256 * 1024));
  }
  if (str(o?.reclaimPolicy) && !['Delete', 'Retain'].includes(o.reclaimPolicy)) errs.push(notSupported('reclaimPolicy', o.reclaimPolicy, ['Delete', 'Retain']));
  if (!isSet(o?.volumeBindingMode)) errs.push(required('volumeBindingMode'));
  else if (!['Immediate', 'WaitForFirstConsumer'].includes(o.volumeBindingMode)) errs.push(notSupported('volumeBindingMode', o.volumeBindingMode, ['Immediate', 'WaitForFirstConsumer']));
  arr(o?.allowedTopologies).forEach((term: any, i: number) => {
    const p = `allowedTopologies[${i}]`;
    const exprs = arr(term?.matchLabelExpressions);
    if (exprs.length === 0) errs.push(required(p, 'must have at least one label expression'));
    const keys = new Set<string>();
    exprs.forEach((e: any, j: number) => {
      const ep = `${p}.matchLabelExpressions[${j}]`;
      const values = arr(e?.values);
      if (values.length === 0) errs.push(required(`${ep}.values`));
      const seen = new Set<string>();
      values.forEach((v, k) => { if (seen.has(v)) errs.push(duplicate(`${ep}.values[${k}]`, v)); seen.add(v); });
      errs.push(...validateLabelName(str(e?.key), `${ep}.key`));
      if (keys.has(str(e?.key))) errs.push(duplicate(`${ep}.key`, str(e?.key)));
      keys.add(str(e?.key));
    });
  });
  return errs;
}

function validateStorageClassUpdate(o: any, old: any): Errs {
  const errs: Errs = [];
  const canon = (m: unknown) => JSON.stringify(entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  if (canon(o?.parameters) !== canon(old?.parameters)) errs.push(forbidden('parameters', 'updates to parameters are forbidden.'));
  if (str(o?.provisioner) !== str(old?.provisioner)) errs.push(forbidden('provisioner', 'updates to provisioner are forbidden.'));
  if (str(o?.reclaimPolicy) !== str(old?.reclaimPolicy)) errs.push(forbidden('reclaimPolicy', 'updates to reclaimPolicy are forbidden.'));
  errs.push(...validateImmutableField(o?.volumeBindingMode, old?.volumeBindingMode, 'volumeBindingMode'));
  return errs;
}

function validateCSIDriver(o: any): Errs {
  const errs = validateCSIDriverName(str(o?.metadata?.name), 'name');
  const s = o?.spec ?? {};
  if (!isSet(s.attachRequired)) errs.push(required('spec.attachRequired'));
  if (!isSet(s.podInfoOnMount)) errs.push(required('spec.podInfoOnMount'));
  if (!isSet(s.storageCapacity)) errs.push(required('spec.storageCapacity'));
  if (!isSet(s.requiresRepublish)) errs.push(required('spec.requiresRepublish'));
  if (isSet(s.fsGroupPolicy) && !['File', 'None', 'ReadWriteOnceWithFSType'].includes(s.fsGroupPolicy)) {
    errs.push(notSupported('spec.fsGroupPolicy', s.fsGroupPolicy, ['File', 'None', 'ReadWriteOnceWithFSType']));
  }
  arr(s.volumeLifecycleModes).forEach((m) => { if (m !== 'Persistent' && m !== 'Ephemeral') errs.push(notSupported('spec.volumeLifecycleModes', m, ['Ephemeral', 'Persistent'])); });
  return errs;
}

const SYSTEM_PRIORITY_CLASSES: Record<string, number> = { 'system-node-critical': 2000001000, 'system-cluster-critical': 2000000000 };

function validatePriorityClass(o: any): Errs {
  const errs: Errs = [];
  const name = str(o?.metadata?.name);
  const value = num(o?.value);
  if (name.startsWith('system-')) {
    let why: string | undefined;
    if (!(name in SYSTEM_PRIORITY_CLASSES)) why = `${name} is not a known system priority class`;
    else if (SYSTEM_PRIORITY_CLASSES[name] !== value) why = `value of ${name} PriorityClass must be ${SYSTEM_PRIORITY_CLASSES[name]}`;
    else if (o?.globalDefault === true) why = `globalDefault of ${name} PriorityClass must be false`;
    if (why) errs.push(forbidden('metadata.name', `priority class names with 'system-' prefix are reserved for system use only. error: ${why}`));
  } else if (value > 1000000000) {
    errs.push(forbidden('value', 'maximum allowed value of a user defined priority is 1000000000'));
  }
  if (isSet(o?.preemptionPolicy)) errs.push(...validatePreemptionPolicy(str(o.preemptionPolicy), 'preemptionPolicy'));
  return errs;
}

function validatePriorityClassUpdate(o: any, old: any): Errs {
  const errs: Errs = [];
  if (num(o?.value) !== num(old?.value)) errs.push(forbidden('value', 'may not be changed in an update.'));
  errs.push(...validateImmutableField(o?.preemptionPolicy, old?.preemptionPolicy, 'preemptionPolicy'));
  return errs;
}

function validateLease(o: any): Errs {
  const s = o?.spec ?? {};
  const errs: Errs = [];
  if (isSet(s.leaseDurationSeconds) && s.leaseDurationSeconds <= 0) errs.push(invalid('spec.leaseDurationSeconds', s.leaseDurationSeconds, 'must be greater than 0'));
  if (isSet(s.leaseTransitions) && s.leaseTransitions < 0) errs.push(invalid('spec.leaseTransitions', s.leaseTransitions, 'must be greater than or equal to 0'));
  if (isSet(s.strategy)) {
    const st = str(s.strategy);
    if (st !== 'OldestEmulationVersion') {
      const parts = st.split('/');
      if (parts.length !== 2 || !parts[0] || !parts[1]) errs.push(invalid('spec.strategy', st, 'must be a valid strategy name'));
    }
  }
  if (str(s.preferredHolder) && !str(s.strategy)) errs.push(forbidden('spec.preferredHolder', 'may only be specified if `strategy` is defined'));
  return errs;
}

function validateRuntimeClass(o: any): Errs {
  const errs = each('handler', str(o?.handler), nameIsDNSLabel(str(o?.handler), false));
  if (isObj(o?.overhead?.podFixed)) errs.push(...validateResourceRequirements({ limits: o.overhead.podFixed }, 'overhead.podFixed'));
  if (isObj(o?.scheduling)) {
    errs.push(...validateLabels(o.scheduling.nodeSelector, 'scheduling.nodeSelector'));
    errs.push(...validateTolerations(arr(o.scheduling.tolerations), 'scheduling.tolerations'));
  }
  return errs;
}

/** ValidateSignerName (certificates, ClusterTrustBundles). */
function validateSignerName(name: string, path: string): Errs {
  if (!name) return [required(path)];
  const segs = name.split('/');
  if (segs.length !== 2) return [invalid(path, name, "must be a fully qualified domain and path of the form 'example.com/signer-name'")];
  const errs: Errs = [];
  if (segs[0].length > 253) errs.push(tooLong(path, 253));
  const labels = segs[0].split('.');
  for (const l of labels) {
    const e = isDNS1123Label(l);
    if (e.length) { for (const m of e) errs.push(invalid(path, segs[0], `validating label ${JSON.stringify(l)}: ${m}`)); break; }
  }
  if (labels.length < 2) errs.push(invalid(path, segs[0], 'should be a domain with at least two segments separated by dots'));
  for (const l of segs[1].split('.')) {
    const e = isDNS1123Subdomain(l);
    if (e.length) { for (const m of e) errs.push(invalid(path, segs[1], `validating component ${JSON.stringify(l)}: ${m}`)); break; }
  }
  if (name.length > 253 + 253 + 63 + 1 + 1) errs.push(tooLong(path, 571));
  return errs;
}

const CSR_USAGES = [
  'signing', 'digital signature', 'content commitment', 'key encipherment', 'key agreement', 'data encipherment', 'cert sign',
  'crl sign', 'encipher only', 'decipher only', 'any', 'server auth', 'client auth', 'code signing', 'email protection', 's/mime',
  'ipsec end system', 'ipsec tunnel', 'ipsec user', 'timestamping', 'ocsp signing', 'microsoft sgc', 'netscape sgc',
];

function validateCSR(o: any): Errs {
  const s = o?.spec ?? {};
  const errs: Errs = [];
  const pem = Buffer.from(str(s.request), 'base64').toString('latin1');
  const m = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(pem);
  if (!m || m[1] !== 'CERTIFICATE REQUEST' || !pem.includes('-----END CERTIFICATE REQUEST-----')) {
    errs.push(invalid('spec.request', str(s.request), 'PEM block type must be CERTIFICATE REQUEST'));
  }
  const usages = arr(s.usages);
  if (usages.length === 0) errs.push(required('spec.usages'));
  const seen = new Set<string>();
  usages.forEach((u, i) => {
    if (!CSR_USAGES.includes(u)) errs.push(notSupported(`spec.usages[${i}]`, u, CSR_USAGES));
    if (seen.has(u)) errs.push(duplicate(`spec.usages[${i}]`, u));
    seen.add(u);
  });
  const signer = str(s.signerName);
  if (signer === 'kubernetes.io/legacy-unknown') errs.push(invalid('spec.signerName', signer, 'the legacy signerName is not allowed via this API version'));
  else errs.push(...validateSignerName(signer, 'spec.signerName'));
  if (isSet(s.expirationSeconds) && s.expirationSeconds < 600) errs.push(invalid('spec.expirationSeconds', s.expirationSeconds, 'may not specify a duration less than 600 seconds (10 minutes)'));
  return errs;
}

// ---------------------------------------------------------------------------------------------
// dispatch

/** Spec rules per kind (run on create, and on the new object of an update). */
const KIND_VALIDATORS: Record<string, Validator> = {
  '/Pod': (o, ctx) => (ctx.create ? validatePodCreate(o) : validatePod(o)),
  '/PodTemplate': (o) => validatePodTemplateSpec(o?.template ?? {}, 'template'),
  '/ReplicationController': validateReplicationController,
  '/Service': validateService,
  '/ConfigMap': validateConfigMap,
  '/Secret': validateSecret,
  '/Namespace': validateNamespace,
  '/Node': validateNode,
  '/PersistentVolumeClaim': (o) => validatePVCSpec(o?.spec ?? {}, 'spec'),
  '/PersistentVolume': validatePV,
  '/Event': validateEvent,
  '/Endpoints': validateEndpoints,
  '/LimitRange': validateLimitRange,
  '/ResourceQuota': validateResourceQuota,
  'apps/Deployment': validateDeployment,
  'apps/ReplicaSet': validateReplicaSet,
  'apps/StatefulSet': validateStatefulSet,
  'apps/DaemonSet': validateDaemonSet,
  'apps/ControllerRevision': validateControllerRevision,
  'batch/Job': validateJob,
  'batch/CronJob': validateCronJob,
  'autoscaling/HorizontalPodAutoscaler': validateHPA,
  'networking.k8s.io/Ingress': validateIngress,
  'networking.k8s.io/IngressClass': validateIngressClass,
  'networking.k8s.io/NetworkPolicy': validateNetworkPolicy,
  'discovery.k8s.io/EndpointSlice': validateEndpointSlice,
  'policy/PodDisruptionBudget': validatePDB,
  'rbac.authorization.k8s.io/Role': validateRole,
  'rbac.authorization.k8s.io/ClusterRole': validateRole,
  'rbac.authorization.k8s.io/RoleBinding': validateRoleBinding,
  'rbac.authorization.k8s.io/ClusterRoleBinding': validateRoleBinding,
  'storage.k8s.io/StorageClass': validateStorageClass,
  'storage.k8s.io/CSIDriver': validateCSIDriver,
  'scheduling.k8s.io/PriorityClass': validatePriorityClass,
  'coordination.k8s.io/Lease': validateLease,
  'node.k8s.io/RuntimeClass': validateRuntimeClass,
  'certificates.k8s.io/CertificateSigningRequest': validateCSR,
  'events.k8s.io/Event': validateEvent,
};

/** Update-only rules per kind (immutability and allowed transitions). */
const UPDATE_VALIDATORS: Record<string, UpdateValidator> = {
  '/Pod': validatePodUpdate,
  '/Service': validateServiceUpdate,
  '/Secret': (o, old) => [...validateImmutableField(o?.type, old?.type, 'type'), ...validateImmutableData(o, old, ['data'])],
  '/ConfigMap': (o, old) => validateImmutableData(o, old, ['data', 'binaryData']),
  '/Node': validateNodeUpdate,
  '/PersistentVolumeClaim': validatePVCUpdate,
  '/PersistentVolume': validatePVUpdate,
  '/ResourceQuota': validateResourceQuotaUpdate,
  'apps/Deployment': selectorImmutable,
  'apps/ReplicaSet': selectorImmutable,
  'apps/DaemonSet': selectorImmutable,
  'apps/StatefulSet': validateStatefulSetUpdate,
  'apps/ControllerRevision': (o, old) => validateImmutableField(o?.data, old?.data, 'data'),
  'batch/Job': validateJobUpdate,
  'networking.k8s.io/IngressClass': (o, old) => validateImmutableField(o?.spec?.controller, old?.spec?.controller, 'spec.controller'),
  'discovery.k8s.io/EndpointSlice': (o, old) => validateImmutableField(o?.addressType, old?.addressType, 'addressType'),
  'rbac.authorization.k8s.io/RoleBinding': validateRoleBindingUpdate,
  'rbac.authorization.k8s.io/ClusterRoleBinding': validateRoleBindingUpdate,
  'storage.k8s.io/StorageClass': validateStorageClassUpdate,
  'storage.k8s.io/CSIDriver': (o, old) => [
    ...validateImmutableField(o?.spec?.attachRequired, old?.spec?.attachRequired, 'spec.attachRequired'),
    ...validateImmutableField(o?.spec?.fsGroupPolicy, old?.spec?.fsGroupPolicy, 'spec.fsGroupPolicy'),
    ...validateImmutableField(o?.spec?.volumeLifecycleModes, old?.spec?.volumeLifecycleModes, 'spec.volumeLifecycleModes'),
  ],
  'scheduling.k8s.io/PriorityClass': validatePriorityClassUpdate,
  'node.k8s.io/RuntimeClass': (o, old) => validateImmutableField(o?.handler, old?.handler, 'handler'),
};

/** Kinds whose metadata upstream does not validate on create (core/v1 Events: legacy rules only). */
const NO_META = new Set(['/Event', 'events.k8s.io/Event']);
/** Kinds validated with the generic (not core) finalizer rule. */
const GENERIC_FINALIZERS = new Set(['apiextensions.k8s.io/CustomResourceDefinition']);

/** Validation on create: ObjectMeta with the kind's name rule and scope, then the kind's rules. */
export function validateObject(group: string, version: string, kind: string, obj: any): FieldError[] {
  const key = `${group}/${kind}`;
  const ctx: Ctx = { group, version, kind, create: true };
  const errs: Errs = NO_META.has(key) ? [] : validateObjectMeta(obj?.metadata, {
    nameFn: nameRule(group, kind), namespaced: SCOPE.get(key), kubeFinalizers: !GENERIC_FINALIZERS.has(key),
  });
  const v = KIND_VALIDATORS[key];
  if (v) errs.push(...v(obj, ctx));
  return errs;
}

/** Validation on update: ObjectMeta update rules, the kind's rules on the new object, then its update rules. */
export function validateObjectUpdate(group: string, version: string, kind: string, obj: any, old: any): FieldError[] {
  const key = `${group}/${kind}`;
  const ctx: Ctx = { group, version, kind, create: false };
  const errs: Errs = NO_META.has(key) ? [] : validateObjectMetaUpdate(obj?.metadata, old?.metadata, 'metadata', { kubeFinalizers: !GENERIC_FINALIZERS.has(key) });
  if (key === '/Pod') {
    // ValidatePodUpdate: metadata, the pod rules, then the update restrictions.
    errs.push(...validatePod(obj));
  } else if (key === '/Service') {
    // Judge the Service as the registry would store it: fields that no longer apply after a type
    // change (and that the user did not touch) are dropped before upstream validates.
    const view = structuredClone(obj ?? {});
    dropServiceTypeDependentFields(view, old);
    errs.push(...validateService(view), ...validateServiceUpdate(view, old));
    return errs;
  } else {
    const v = KIND_VALIDATORS[key];
    if (v) errs.push(...v(obj, ctx));
  }
  const u = UPDATE_VALIDATORS[key];
  if (u) errs.push(...u(obj, old, ctx));
  return errs;
}

// Helpers exported for tests and other validators.
export { validatePodTemplateSpec, validateResourceRequirements, validateTolerations, validateSignerName, maxLenError, isDNS1035Label };
