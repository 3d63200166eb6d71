/**
 * Name, value and ObjectMeta validation with the exact messages Kubernetes 1.32 prints
 * (k8s.io/apimachinery/pkg/util/validation, .../api/validation, .../apis/meta/v1/validation).
 * Value validators return string[] of messages; field validators return FieldError[] and never
 * throw. Written from the documented behaviour; no code copied.
 */
import { fieldError, type FieldError } from './errors.js';

// ---------------------------------------------------------------------------------------------
// message helpers

export const maxLenError = (length: number) => `must be no more than ${length} characters`;
export const emptyError = () => 'must be non-empty';
export const inclusiveRangeError = (lo: number, hi: number) => `must be between ${lo} and ${hi}, inclusive`;
/** RegexError: `msg (e.g. 'a' or 'b', regex used for validation is 'fmt')`. */
export function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`;
  let out = `${msg} (e.g. `;
  examples.forEach((ex, i) => {
    if (i > 0) out += ' or ';
    out += `'${ex}', `;
  });
  return `${out}regex used for validation is '${fmt}')`;
}

export const IS_NEGATIVE_ERROR_MSG = 'must be greater than or equal to 0';
export const FIELD_IMMUTABLE_ERROR_MSG = 'field is immutable';
export const TOTAL_ANNOTATION_SIZE_LIMIT_B = 256 * 1024;

/**
 * field.TooLong as Kubernetes 1.32 words it: `Too long: may not be more than 63 bytes` (the value
 * is never printed; `byte` when the limit is 1).
 */
export const tooLong = (field: string, max: number): FieldError => ({ type: 'FieldValueTooLong', field, detail: `may not be more than ${max} ${max === 1 ? 'byte' : 'bytes'}` });
/** field.TooMany: `Too many: <n>: must have at most <max> items`. */
export const tooMany = (field: string, actual: number, max: number): FieldError => ({ type: 'FieldValueTooMany', field, value: actual, detail: `${actual}: must have at most ${max} items` });
/** field.NotFound: `Not found: "x"`. */
export const notFound = (field: string, value: unknown): FieldError => ({ type: 'FieldValueNotFound', field, value });

// ---------------------------------------------------------------------------------------------
// names and values

const qnameCharFmt = '[A-Za-z0-9]';
const qnameExtCharFmt = '[-A-Za-z0-9_.]';
const qualifiedNameFmt = `(${qnameCharFmt}${qnameExtCharFmt}*)?${qnameCharFmt}`;
const qualifiedNameErrMsg = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const qualifiedNameMaxLength = 63;
const qualifiedNameRe = new RegExp(`^${qualifiedNameFmt}$`);

/** IsQualifiedName: label keys, annotation keys (lowercased), finalizers, condition types. */
export function isQualifiedName(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split('/');
  let name: string;
  if (parts.length === 1) {
    name = parts[0];
  } else if (parts.length === 2) {
    const prefix = parts[0];
    name = parts[1];
    if (prefix.length === 0) errs.push(`prefix part ${emptyError()}`);
    else for (const m of isDNS1123Subdomain(prefix)) errs.push(`prefix part ${m}`);
  } else {
    return [`a qualified name ${regexError(qualifiedNameErrMsg, qualifiedNameFmt, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  }
  if (name.length === 0) errs.push(`name part ${emptyError()}`);
  else if (name.length > qualifiedNameMaxLength) errs.push(`name part ${maxLenError(qualifiedNameMaxLength)}`);
  if (!qualifiedNameRe.test(name)) errs.push(`name part ${regexError(qualifiedNameErrMsg, qualifiedNameFmt, 'MyName', 'my.name', '123-abc')}`);
  return errs;
}

const labelValueFmt = `(${qualifiedNameFmt})?`;
const labelValueErrMsg = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
export const LABEL_VALUE_MAX_LENGTH = 63;
const labelValueRe = new RegExp(`^${labelValueFmt}$`);

export function isValidLabelValue(value: string): string[] {
  const errs: string[] = [];
  if (value.length > LABEL_VALUE_MAX_LENGTH) errs.push(maxLenError(LABEL_VALUE_MAX_LENGTH));
  if (!labelValueRe.test(value)) errs.push(regexError(labelValueErrMsg, labelValueFmt, 'MyValue', 'my_value', '12345'));
  return errs;
}

const dns1123LabelFmt = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const dns1123LabelErrMsg = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
export const DNS1123_LABEL_MAX_LENGTH = 63;
const dns1123LabelRe = new RegExp(`^${dns1123LabelFmt}$`);

/** IsDNS1123Label (1.32 wording: no separate "must not contain dots" message yet). */
export function isDNS1123Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > DNS1123_LABEL_MAX_LENGTH) errs.push(maxLenError(DNS1123_LABEL_MAX_LENGTH));
  if (!dns1123LabelRe.test(value)) errs.push(regexError(dns1123LabelErrMsg, dns1123LabelFmt, 'my-name', '123-abc'));
  return errs;
}

const dns1123SubdomainFmt = `${dns1123LabelFmt}(\\.${dns1123LabelFmt})*`;
const dns1123SubdomainErrMsg = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
export const DNS1123_SUBDOMAIN_MAX_LENGTH = 253;
const dns1123SubdomainRe = new RegExp(`^${dns1123SubdomainFmt}$`);

export function isDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (value.length > DNS1123_SUBDOMAIN_MAX_LENGTH) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX_LENGTH));
  if (!dns1123SubdomainRe.test(value)) errs.push(regexError(dns1123SubdomainErrMsg, dns1123SubdomainFmt, 'example.com'));
  return errs;
}

const dns1035LabelFmt = '[a-z]([-a-z0-9]*[a-z0-9])?';
const dns1035LabelErrMsg = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
export const DNS1035_LABEL_MAX_LENGTH = 63;
const dns1035LabelRe = new RegExp(`^${dns1035LabelFmt}$`);

export function isDNS1035Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > DNS1035_LABEL_MAX_LENGTH) errs.push(maxLenError(DNS1035_LABEL_MAX_LENGTH));
  if (!dns1035LabelRe.test(value)) errs.push(regexError(dns1035LabelErrMsg, dns1035LabelFmt, 'my-name', 'abc-123'));
  return errs;
}

const wildcardFmt = `\\*\\.${dns1123SubdomainFmt}`;
const wildcardErrMsg = "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character";
const wildcardRe = new RegExp(`^${wildcardFmt}$`);

export function isWildcardDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (value.length > DNS1123_SUBDOMAIN_MAX_LENGTH) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX_LENGTH));
  if (!wildcardRe.test(value)) errs.push(regexError(wildcardErrMsg, wildcardFmt, '*.example.com'));
  return errs;
}

const cIdentifierFmt = '[A-Za-z_][A-Za-z0-9_]*';
const cIdentifierRe = new RegExp(`^${cIdentifierFmt}$`);
export function isCIdentifier(value: string): string[] {
  if (cIdentifierRe.test(value)) return [];
  return [regexError("a valid C identifier must start with alphabetic character or '_', followed by a string of alphanumeric characters or '_'", cIdentifierFmt, 'my_name', 'MY_NAME', 'MyName')];
}

export function isValidPortNum(port: number): string[] {
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? [] : [inclusiveRangeError(1, 65535)];
}

export function isInRange(value: number, min: number, max: number): string[] {
  return value >= min && value <= max ? [] : [inclusiveRangeError(min, max)];
}

/** IsValidGroupID / IsValidUserID: 0 … math.MaxInt32 (libcontainer's limit). */
export const isValidGroupID = (gid: number) => isInRange(gid, 0, 2147483647);
export const isValidUserID = (uid: number) => isInRange(uid, 0, 2147483647);

/** IsValidPortName (IANA_SVC_NAME). */
export function isValidPortName(port: string): string[] {
  const errs: string[] = [];
  if (port.length > 15) errs.push(maxLenError(15));
  if (!/^[-a-z0-9]+$/.test(port)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(port)) errs.push('must contain at least one letter (a-z)');
  if (port.includes('--')) errs.push('must not contain consecutive hyphens');
  if (port.length > 0 && (port.startsWith('-') || port.endsWith('-'))) errs.push('must not begin or end with a hyphen');
  return errs;
}

const percentFmt = '[0-9]+%';
export function isValidPercent(percent: string): string[] {
  if (/^[0-9]+%$/.test(percent)) return [];
  return [regexError("a valid percent string must be a numeric string followed by an ending '%'", percentFmt, '1%', '93%')];
}

const httpHeaderNameFmt = '[-A-Za-z0-9]+';
export function isHTTPHeaderName(value: string): string[] {
  if (/^[-A-Za-z0-9]+$/.test(value)) return [];
  return [regexError("a valid HTTP header must consist of alphanumeric characters or '-'", httpHeaderNameFmt, 'X-Header-Name')];
}

function hasChDirPrefix(value: string): string[] {
  if (value === '.') return ["must not be '.'"];
  if (value === '..') return ["must not be '..'"];
  if (value.startsWith('..')) return ["must not start with '..'"];
  return [];
}

const envVarNameFmt = '[-._a-zA-Z][-._a-zA-Z0-9]*';
/** IsEnvVarName: the strict rule (used when RelaxedEnvironmentVariableValidation is off). */
export function isEnvVarName(value: string): string[] {
  const errs: string[] = [];
  if (!/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(value)) {
    errs.push(regexError("a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit", envVarNameFmt, 'my.env-name', 'MY_ENV.NAME', 'MyEnvName1'));
  }
  return errs.concat(hasChDirPrefix(value));
}

/**
 * IsRelaxedEnvVarName: any printable ASCII except '='. RelaxedEnvironmentVariableValidation is
 * beta and on by default in 1.32, so this is what pods and templates are checked against.
 */
export function isRelaxedEnvVarName(value: string): string[] {
  const errs: string[] = [];
  if (value.length === 0) errs.push(`environment variable name ${emptyError()}`);
  for (const ch of value) {
    const c = ch.codePointAt(0)!;
    if (c > 0x7e || c < 0x20 || ch === '=') {
      errs.push("a valid environment variable name must consist only of printable ASCII characters other than '='");
      break;
    }
  }
  return errs;
}

const configMapKeyFmt = '[-._a-zA-Z0-9]+';
export function isConfigMapKey(value: string): string[] {
  const errs: string[] = [];
  if (value.length > DNS1123_SUBDOMAIN_MAX_LENGTH) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX_LENGTH));
  if (!/^[-._a-zA-Z0-9]+$/.test(value)) errs.push(regexError("a valid config key must consist of alphanumeric characters, '-', '_' or '.'", configMapKeyFmt, 'key.name', 'KEY_NAME', 'key-name'));
  return errs.concat(hasChDirPrefix(value));
}

/** path.IsValidPathSegmentName (RBAC names, object reference kinds/names). */
export function isValidPathSegmentName(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  return isValidPathSegmentPrefix(name);
}

export function isValidPathSegmentPrefix(name: string): string[] {
  const errs: string[] = [];
  for (const bad of ['/', '%']) if (name.includes(bad)) errs.push(`may not contain '${bad}'`);
  return errs;
}

const httpPathFmt = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";
const httpPathRe = new RegExp(`^${httpPathFmt}$`);

/** IsDomainPrefixedPath (`acme.io/foo`), e.g. IngressClass controller, Job managedBy. */
export function isDomainPrefixedPath(path: string, value: string): FieldError[] {
  if (value.length === 0) return [fieldError.required(path, '')];
  const idx = value.indexOf('/');
  if (idx <= 0 || idx === value.length - 1) return [fieldError.invalid(path, value, 'must be a domain-prefixed path (such as "acme.io/foo")')];
  const host = value.slice(0, idx);
  const rest = value.slice(idx + 1);
  const errs: FieldError[] = isDNS1123Subdomain(host).map((m) => fieldError.invalid(path, host, m));
  if (!httpPathRe.test(rest)) errs.push(fieldError.invalid(path, rest, regexError('Invalid path', httpPathFmt)));
  return errs;
}

/** IsFullyQualifiedDomainName (at least two labels, trailing dot allowed). */
export function isFullyQualifiedDomainName(path: string, name: string): FieldError[] {
  if (name.length === 0) return [fieldError.required(path, '')];
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  const errs = isDNS1123Subdomain(n);
  if (errs.length) return [fieldError.invalid(path, n, errs.join(','))];
  const labels = n.split('.');
  if (labels.length < 2) return [fieldError.invalid(path, n, 'should be a domain with at least two segments separated by dots')];
  for (const l of labels) {
    const le = isDNS1123Label(l);
    if (le.length) return [fieldError.invalid(path, l, le.join(','))];
  }
  return [];
}

// ---------------------------------------------------------------------------------------------
// IP addresses (netutils.ParseIPSloppy: IPv4 octets may have leading zeros)

/** Parses an IPv4 address sloppily; returns the four octets or undefined. */
function parseIPv4(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^[0-9]{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

/** Parses an IPv6 address into 8 groups, or undefined. Zones are rejected (as Go's ParseIP does). */
function parseIPv6(s: string): number[] | undefined {
  if (!s.includes(':') || s.includes('%')) return undefined;
  let tail4: number[] | undefined;
  let str = s;
  const lastColon = str.lastIndexOf(':');
  if (str.slice(lastColon + 1).includes('.')) {
    tail4 = parseIPv4(str.slice(lastColon + 1));
    if (!tail4) return undefined;
    str = str.slice(0, lastColon + 1) + '0:0';
  }
  const dbl = str.indexOf('::');
  if (dbl !== str.lastIndexOf('::')) return undefined;
  const parseGroups = (g: string): number[] | undefined => {
    if (g === '') return [];
    const out: number[] = [];
    for (const part of g.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return undefined;
      out.push(parseInt(part, 16));
    }
    return out;
  };
  let groups: number[] | undefined;
  if (dbl >= 0) {
    const head = parseGroups(str.slice(0, dbl));
    const tail = parseGroups(str.slice(dbl + 2));
    if (!head || !tail || head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    groups = parseGroups(str);
    if (!groups || groups.length !== 8) return undefined;
  }
  if (tail4) {
    groups[6] = (tail4[0] << 8) | tail4[1];
    groups[7] = (tail4[2] << 8) | tail4[3];
  }
  return groups;
}

export type IPFamily = 'IPv4' | 'IPv6';

/** The family of an IP string (IPv4-mapped IPv6 counts as IPv4, as in Go), or undefined if invalid. */
export function ipFamilyOf(ip: string): IPFamily | undefined {
  if (parseIPv4(ip)) return 'IPv4';
  const g = parseIPv6(ip);
  if (!g) return undefined;
  const mapped = g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff;
  return mapped ? 'IPv4' : 'IPv6';
}

export const isIPString = (ip: string) => ipFamilyOf(ip) !== undefined;

/** Parsed form used by the special-address checks. */
export function parseIPBytes(ip: string): number[] | undefined {
  const v4 = parseIPv4(ip);
  if (v4) return v4;
  const g = parseIPv6(ip);
  if (!g) return undefined;
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return [g[6] >> 8, g[6] & 255, g[7] >> 8, g[7] & 255];
  return g.flatMap((x) => [x >> 8, x & 255]);
}

/** IsValidIP as of 1.32. */
export function isValidIP(path: string, value: string): FieldError[] {
  return isIPString(value) ? [] : [fieldError.invalid(path, value, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)')];
}

export function isValidIPv4Address(path: string, value: string): FieldError[] {
  return ipFamilyOf(value) === 'IPv4' ? [] : [fieldError.invalid(path, value, 'must be a valid IPv4 address')];
}

export function isValidIPv6Address(path: string, value: string): FieldError[] {
  return parseIPv6(value) && ipFamilyOf(value) === 'IPv6' ? [] : [fieldError.invalid(path, value, 'must be a valid IPv6 address')];
}

/** Parses `ip/prefix` sloppily; returns the family, address bytes and prefix length. */
export function parseCIDR(value: string): { family: IPFamily; bytes: number[]; prefix: number } | undefined {
  const i = value.indexOf('/');
  if (i < 0) return undefined;
  const ip = value.slice(0, i);
  const bits = value.slice(i + 1);
  if (!/^[0-9]+$/.test(bits)) return undefined;
  const v4 = parseIPv4(ip);
  const prefix = Number(bits);
  if (v4) return prefix <= 32 ? { family: 'IPv4', bytes: v4, prefix } : undefined;
  const g = parseIPv6(ip);
  if (!g || prefix > 128) return undefined;
  return { family: 'IPv6', bytes: g.flatMap((x) => [x >> 8, x & 255]), prefix };
}

export function isValidCIDR(path: string, value: string): FieldError[] {
  return parseCIDR(value) ? [] : [fieldError.invalid(path, value, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)')];
}

// ---------------------------------------------------------------------------------------------
// name functions (ValidateNameFunc)

export type NameFn = (name: string, prefix: boolean) => string[];

/** Upstream's maskTrailingDash: a generateName may end in '-'. */
function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith('-') ? `${name.slice(0, -2)}a` : name;
}

export const nameIsDNSSubdomain: NameFn = (name, prefix) => isDNS1123Subdomain(prefix ? maskTrailingDash(name) : name);
export const nameIsDNSLabel: NameFn = (name, prefix) => isDNS1123Label(prefix ? maskTrailingDash(name) : name);
export const nameIsDNS1035Label: NameFn = (name, prefix) => isDNS1035Label(prefix ? maskTrailingDash(name) : name);
export const validateNamespaceName: NameFn = nameIsDNSLabel;
export const nameIsPathSegment: NameFn = (name, prefix) => (prefix ? isValidPathSegmentPrefix(name) : isValidPathSegmentName(name));

// ---------------------------------------------------------------------------------------------
// small shared field validators

export function validateNonnegativeField(value: number, path: string): FieldError[] {
  return value < 0 ? [fieldError.invalid(path, value, IS_NEGATIVE_ERROR_MSG)] : [];
}

/**
 * Deep equality in the sense of apiequality.Semantic: absent, null, empty strings, empty lists
 * and empty maps are the same thing (Go zero values), quantities compare after canonicalization
 * by the caller.
 */
export function semanticEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(normalize(a)) === JSON.stringify(normalize(b));
}

function normalize(v: unknown): unknown {
  if (v === null || v === undefined || v === '' || v === false || v === 0) return undefined;
  if (Array.isArray(v)) {
    if (v.length === 0) return undefined;
    return v.map((x) => normalize(x) ?? null);
  }
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) {
      const n = normalize((v as Record<string, unknown>)[k]);
      if (n !== undefined) out[k] = n;
    }
    return Object.keys(out).length ? out : undefined;
  }
  return v;
}

export function validateImmutableField(newVal: unknown, oldVal: unknown, path: string): FieldError[] {
  return semanticEqual(newVal, oldVal) ? [] : [fieldError.invalid(path, newVal === undefined ? null : newVal, FIELD_IMMUTABLE_ERROR_MSG)];
}

type StrMap = Record<string, string> | undefined | null;

/** ValidateLabelName. */
export function validateLabelName(key: string, path: string): FieldError[] {
  return isQualifiedName(key).map((m) => fieldError.invalid(path, key, m));
}

/** ValidateLabels: errors are reported on the map path with the bad key or value. */
export function validateLabels(labels: StrMap, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    errs.push(...validateLabelName(k, path));
    for (const m of isValidLabelValue(String(v ?? ''))) errs.push(fieldError.invalid(path, v, m));
  }
  return errs;
}

/** ValidateAnnotations: keys are qualified names (case-insensitive), total size ≤ 256 KiB. */
export function validateAnnotations(annotations: StrMap, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let total = 0;
  for (const [k, v] of Object.entries(annotations ?? {})) {
    for (const m of isQualifiedName(k.toLowerCase())) errs.push(fieldError.invalid(path, k, m));
    total += Buffer.byteLength(k) + Buffer.byteLength(String(v ?? ''));
  }
  if (total > TOTAL_ANNOTATION_SIZE_LIMIT_B) errs.push(tooLong(path, TOTAL_ANNOTATION_SIZE_LIMIT_B));
  return errs;
}

export interface LabelSelectorValidationOptions { allowInvalidLabelValueInSelector?: boolean }

/** ValidateLabelSelector. */
export function validateLabelSelector(sel: any, path: string, opts: LabelSelectorValidationOptions = {}): FieldError[] {
  if (sel === null || sel === undefined) return [];
  const errs: FieldError[] = validateLabels(sel.matchLabels, `${path}.matchLabels`);
  (sel.matchExpressions ?? []).forEach((expr: any, i: number) => {
    const p = `${path}.matchExpressions[${i}]`;
    const values: string[] = expr?.values ?? [];
    switch (expr?.operator) {
      case 'In': case 'NotIn':
        if (values.length === 0) errs.push(fieldError.required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists': case 'DoesNotExist':
        if (values.length > 0) errs.push(fieldError.forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        errs.push(fieldError.invalid(`${p}.operator`, expr?.operator ?? '', 'not a valid selector operator'));
    }
    errs.push(...validateLabelName(expr?.key ?? '', `${p}.key`));
    if (!opts.allowInvalidLabelValueInSelector) {
      values.forEach((v, j) => { for (const m of isValidLabelValue(v)) errs.push(fieldError.invalid(`${p}.values[${j}]`, v, m)); });
    }
  });
  return errs;
}

/** True if LabelSelectorAsSelector would succeed (operators and values make sense). */
export function isConvertibleLabelSelector(sel: any): boolean {
  if (!sel) return true;
  for (const expr of sel.matchExpressions ?? []) {
    const values: string[] = expr?.values ?? [];
    switch (expr?.operator) {
      case 'In': case 'NotIn': if (values.length === 0) return false; break;
      case 'Exists': case 'DoesNotExist': if (values.length > 0) return false; break;
      default: return false;
    }
    if (isQualifiedName(expr?.key ?? '').length) return false;
  }
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) {
    if (isQualifiedName(k).length || isValidLabelValue(String(v)).length) return false;
  }
  return true;
}

/** True if the selector has no requirements (labels.Selector.Empty()); nil is handled by callers. */
export const isEmptyLabelSelector = (sel: any) => !sel || (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0);

/** Whether a metav1.LabelSelector matches a label set. */
export function labelSelectorMatches(sel: any, labels: StrMap): boolean {
  if (!sel) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const expr of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(l, expr.key);
    const values: string[] = expr.values ?? [];
    switch (expr.operator) {
      case 'In': if (!has || !values.includes(l[expr.key])) return false; break;
      case 'NotIn': if (has && values.includes(l[expr.key])) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: return false;
    }
  }
  return true;
}

/** Whether a map selector (Service, ReplicationController) matches a label set. */
export function mapSelectorMatches(sel: StrMap, labels: StrMap): boolean {
  const l = labels ?? {};
  return Object.entries(sel ?? {}).every(([k, v]) => l[k] === v);
}

/** Splits an apiVersion into group and version (schema.ParseGroupVersion, lenient). */
function splitAPIVersion(apiVersion: string): { group: string; version: string } {
  const parts = apiVersion.split('/');
  if (parts.length === 1) return { group: '', version: parts[0] };
  if (parts.length === 2) return { group: parts[0], version: parts[1] };
  return { group: '', version: '' };
}

/** ValidateOwnerReferences. */
export function validateOwnerReferences(refs: any[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let firstController = '';
  for (const ref of refs ?? []) {
    const gv = splitAPIVersion(String(ref?.apiVersion ?? ''));
    if (!gv.version) errs.push(fieldError.invalid(`${path}.apiVersion`, ref?.apiVersion ?? '', 'version must not be empty'));
    if (!ref?.kind) errs.push(fieldError.invalid(`${path}.kind`, ref?.kind ?? '', 'must not be empty'));
    if (!ref?.name) errs.push(fieldError.invalid(`${path}.name`, ref?.name ?? '', 'must not be empty'));
    if (!ref?.uid) errs.push(fieldError.invalid(`${path}.uid`, ref?.uid ?? '', 'must not be empty'));
    if (gv.group === '' && gv.version === 'v1' && ref?.kind === 'Event') {
      errs.push(fieldError.invalid(path, ref, `/v1, Kind=Event is disallowed from being an owner`));
    }
    if (ref?.controller === true) {
      const cur = `${ref.kind}/${ref.name}`;
      if (firstController) errs.push(fieldError.invalid(path, refs, `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${cur}`));
      else firstController = cur;
    }
  }
  return errs;
}

const STANDARD_FINALIZERS = new Set(['kubernetes', 'orphan', 'foregroundDeletion']);

/** ValidateFinalizers (qualified names; orphan and foregroundDeletion are mutually exclusive). */
export function validateFinalizers(finalizers: string[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let orphan = false;
  let foreground = false;
  for (const f of finalizers ?? []) {
    errs.push(...validateFinalizerName(f, path));
    if (f === 'orphan') orphan = true;
    if (f === 'foregroundDeletion') foreground = true;
  }
  if (orphan && foreground) errs.push(fieldError.invalid(path, finalizers, 'finalizer orphan and foregroundDeletion cannot be both set'));
  return errs;
}

export function validateFinalizerName(name: string, path: string): FieldError[] {
  return isQualifiedName(name).map((m) => fieldError.invalid(path, name, m));
}

/** Core's extra finalizer rule: unqualified finalizers must be one of the standard names. */
export function validateKubeFinalizerName(name: string, path: string): FieldError[] {
  if (name.split('/').length === 1 && !STANDARD_FINALIZERS.has(name)) {
    return [fieldError.invalid(path, name, 'name is neither a standard finalizer name nor is it fully qualified')];
  }
  return [];
}

function validateFieldManager(manager: string, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (Buffer.byteLength(manager) > 128) errs.push(tooLong(path, 128));
  let i = 0;
  for (const ch of manager) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || (c >= 0x7f && c < 0xa0)) {
      errs.push(fieldError.invalid(path, manager, `invalid character U+${c.toString(16).toUpperCase().padStart(4, '0')} (at position ${i})`));
    }
    i += Buffer.byteLength(ch);
  }
  return errs;
}

export function validateManagedFields(entries: any[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  (entries ?? []).forEach((e: any, i: number) => {
    const p = `${path}[${i}]`;
    if (e?.operation !== 'Apply' && e?.operation !== 'Update') errs.push(fieldError.invalid(`${p}.operation`, e?.operation ?? '', 'must be `Apply` or `Update`'));
    if (e?.fieldsType && e.fieldsType !== 'FieldsV1') errs.push(fieldError.invalid(`${p}.fieldsType`, e.fieldsType, 'must be `FieldsV1`'));
    errs.push(...validateFieldManager(String(e?.manager ?? ''), `${p}.manager`));
    if (String(e?.subresource ?? '').length > 256) errs.push(tooLong(`${p}.subresource`, 256));
  });
  return errs;
}

// ---------------------------------------------------------------------------------------------
// ObjectMeta

export interface ObjectMetaOptions {
  /** true: namespace required; false: namespace forbidden; undefined: not checked. */
  namespaced?: boolean;
  /** Name rule for the kind (default: DNS-1123 subdomain). */
  nameFn?: NameFn;
  /** Apply core's "standard finalizer or fully qualified" rule (default true). */
  kubeFinalizers?: boolean;
}

/**
 * ValidateObjectMeta for create: generateName/name per the kind's rule, namespace, generation,
 * labels, annotations, ownerReferences, finalizers and managedFields. Expects name generation to
 * have happened already (both generateName and the generated name are checked).
 */
export function validateObjectMeta(meta: any, opts: ObjectMetaOptions = {}, path = 'metadata'): FieldError[] {
  const m = meta ?? {};
  const nameFn = opts.nameFn ?? nameIsDNSSubdomain;
  const errs: FieldError[] = [];
  if (m.generateName) for (const msg of nameFn(m.generateName, true)) errs.push(fieldError.invalid(`${path}.generateName`, m.generateName, msg));
  if (!m.name) errs.push(fieldError.required(`${path}.name`, 'name or generateName is required'));
  else for (const msg of nameFn(String(m.name), false)) errs.push(fieldError.invalid(`${path}.name`, m.name, msg));
  if (opts.namespaced === true) {
    if (!m.namespace) errs.push(fieldError.required(`${path}.namespace`, ''));
    else for (const msg of validateNamespaceName(m.namespace, false)) errs.push(fieldError.invalid(`${path}.namespace`, m.namespace, msg));
  } else if (opts.namespaced === false && m.namespace) {
    errs.push(fieldError.forbidden(`${path}.namespace`, 'not allowed on this type'));
  }
  errs.push(...validateNonnegativeField(Number(m.generation ?? 0), `${path}.generation`));
  errs.push(...validateLabels(m.labels, `${path}.labels`));
  errs.push(...validateAnnotations(m.annotations, `${path}.annotations`));
  errs.push(...validateOwnerReferences(m.ownerReferences, `${path}.ownerReferences`));
  errs.push(...validateFinalizers(m.finalizers, `${path}.finalizers`));
  errs.push(...validateManagedFields(m.managedFields, `${path}.managedFields`));
  if (opts.kubeFinalizers !== false) {
    (m.finalizers ?? []).forEach((f: string, i: number) => errs.push(...validateKubeFinalizerName(f, `${path}.finalizers[${i}]`)));
  }
  return errs;
}

/** Go's %#v of a []string, used in the "no new finalizers" message. */
const goStringSlice = (xs: string[]) => `[]string{${xs.map((x) => JSON.stringify(x)).join(', ')}}`;

/**
 * ValidateObjectMetaUpdate: name, namespace, uid, creationTimestamp, deletionTimestamp and
 * deletionGracePeriodSeconds are immutable; resourceVersion must be set; generation may not go
 * down; no finalizers may be added once deletion started; labels/annotations/owners re-checked.
 */
export function validateObjectMetaUpdate(newMeta: any, oldMeta: any, path = 'metadata', opts: { kubeFinalizers?: boolean } = {}): FieldError[] {
  const n = newMeta ?? {};
  const o = oldMeta ?? {};
  const errs: FieldError[] = [];
  if (o.deletionTimestamp) {
    const oldSet = new Set<string>(o.finalizers ?? []);
    const extra = [...new Set<string>(n.finalizers ?? [])].filter((f) => !oldSet.has(f)).sort();
    if (extra.length) errs.push(fieldError.forbidden(`${path}.finalizers`, `no new finalizers can be added if the object is being deleted, found new finalizers ${goStringSlice(extra)}`));
  }
  if (!n.resourceVersion) errs.push(fieldError.invalid(`${path}.resourceVersion`, n.resourceVersion ?? '', 'must be specified for an update'));
  if (Number(n.generation ?? 0) < Number(o.generation ?? 0)) errs.push(fieldError.invalid(`${path}.generation`, Number(n.generation ?? 0), 'must not be decremented'));
  const imm = (key: string, zero: unknown) => {
    const nv = n[key] ?? zero;
    const ov = o[key] ?? zero;
    if (nv !== ov) errs.push(fieldError.invalid(`${path}.${key}`, nv, FIELD_IMMUTABLE_ERROR_MSG));
  };
  imm('name', '');
  imm('namespace', '');
  imm('uid', '');
  imm('creationTimestamp', null);
  imm('deletionTimestamp', null);
  imm('deletionGracePeriodSeconds', null);
  errs.push(...validateLabels(n.labels, `${path}.labels`));
  errs.push(...validateAnnotations(n.annotations, `${path}.annotations`));
  errs.push(...validateOwnerReferences(n.ownerReferences, `${path}.ownerReferences`));
  errs.push(...validateManagedFields(n.managedFields, `${path}.managedFields`));
  if (opts.kubeFinalizers !== false) {
    (n.finalizers ?? []).forEach((f: string, i: number) => errs.push(...validateKubeFinalizerName(f, `${path}.finalizers[${i}]`)));
  }
  return errs;
}

/** ValidateTemplateObjectMeta (PVC templates): only labels and annotations may be set. */
export function validateTemplateObjectMeta(meta: any, path: string): FieldError[] {
  const m = meta ?? {};
  const errs = validateAnnotations(m.annotations, `${path}.annotations`);
  errs.push(...validateLabels(m.labels, `${path}.labels`));
  for (const [k, v] of Object.entries(m)) {
    if (k === 'labels' || k === 'annotations' || k === 'creationTimestamp') continue;
    if (!semanticEqual(v, undefined)) errs.push(fieldError.forbidden(`${path}.${k}`, 'cannot be set'));
  }
  return errs;
}
