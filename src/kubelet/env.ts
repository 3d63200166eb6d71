/**
 * A container's environment, built the way the kubelet builds it (makeEnvironmentVariables in
 * pkg/kubelet/kubelet_pods.go), plus the helpers the downward API shares with volumes:
 *
 * 1. `envFrom` sources in order (configMapRef / secretRef, with prefix; optional ones may be
 *    missing; keys that are not environment variable names are skipped and reported).
 * 2. `env` in order. A literal `value` has `$(VAR)` references expanded against what is defined
 *    so far and the service variables (`$$` is a literal `$`, unknown references stay as
 *    written); `valueFrom` resolves fieldRef, resourceFieldRef (unset limits fall back to node
 *    allocatable), configMapKeyRef and secretKeyRef. Values from a source are never expanded.
 * 3. Service link variables (`<NAME>_SERVICE_HOST`, Docker-style `<NAME>_PORT_...`) for every
 *    service of the pod's namespace with a cluster IP when `enableServiceLinks` is not false,
 *    and always for the `kubernetes` service of namespace `default`. An explicit variable wins.
 *
 * Upstream appends from Go maps, so its order is unspecified; keelson keeps a stable order:
 * envFrom variables, then env variables in declaration order, then service variables sorted by
 * service name. A missing non-optional object or key gives `{ error }` with the kubelet's text;
 * the caller reports it as CreateContainerConfigError.
 *
 * Written from the documented behaviour of the kubelet; no code copied.
 */
import type {
  ConfigMap, Container, EnvVar, ObjectFieldSelector, Pod, ResourceFieldSelector, Secret, Service,
} from 'kubernetes-types/core/v1.js';
import { parseQuantityExact, quantityIntValue, quantityMilliValue, type Quantity } from '../apimachinery/quantity.js';
import type { ObjectSource } from './volumes/volume-manager.js';

/** What the node can give a pod, used where a container sets no limit (downward API). */
export interface NodeAllocatable {
  /** cores, may be fractional */
  cpu: number;
  /** bytes */
  memory: number;
  /** bytes; when unset an unset ephemeral-storage limit stays unset */
  ephemeralStorage?: number;
}

export interface EnvContext {
  source: ObjectSource;
  /** All services of the cluster (the lister's view); filtered here by namespace. */
  services: Service[];
  hostIP: string;
  /** All host IPs for `status.hostIPs`; defaults to `[hostIP]`. */
  hostIPs?: string[];
  podIPs: string[];
  nodeAllocatable: NodeAllocatable;
}

export interface EnvEntry {
  key: string;
  value: string;
}

/** A successful result; `warnings` are event texts (reason InvalidEnvironmentVariableNames). */
export interface EnvResult {
  envs: EnvEntry[];
  warnings: string[];
}

/** The `kubernetes` service of namespace `default` is always linked (upstream masterServices). */
const MASTER_SERVICES = new Set(['kubernetes']);

/** The classic C-identifier-like rule the kubelet applies to envFrom keys (IsEnvVarName). */
const ENV_VAR_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

export function isEnvVarName(name: string): boolean {
  return ENV_VAR_NAME.test(name);
}

/** Builds a container's environment, or the error the kubelet would report. */
export async function makeEnvironment(pod: Pod, container: Container, ctx: EnvContext): Promise<EnvResult | { error: string }> {
  try {
    return await buildEnvironment(pod, container, ctx);
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

async function buildEnvironment(pod: Pod, container: Container, ctx: EnvContext): Promise<EnvResult> {
  const ns = pod.metadata?.namespace ?? 'default';
  const warnings: string[] = [];
  const serviceEnv = serviceEnvVars(ctx.services, ns, pod.spec?.enableServiceLinks !== false);

  const configMaps = new Map<string, ConfigMap | null>();
  const secrets = new Map<string, Secret | null>();
  const getConfigMap = async (name: string) => {
    if (!configMaps.has(name)) configMaps.set(name, await ctx.source.getConfigMap(ns, name));
    return configMaps.get(name)!;
  };
  const getSecret = async (name: string) => {
    if (!secrets.has(name)) secrets.set(name, await ctx.source.getSecret(ns, name));
    return secrets.get(name)!;
  };

  const env = new Map<string, string>();

  // 1. envFrom: later sources replace earlier ones; env (below) replaces both.
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    let kind: 'configMap' | 'secret';
    let name: string;
    let data: Record<string, string>;
    if (from.configMapRef) {
      kind = 'configMap';
      name = from.configMapRef.name ?? '';
      const cm = await getConfigMap(name);
      if (!cm) {
        if (from.configMapRef.optional) continue;
        throw new Error(`configmap "${name}" not found`);
      }
      data = cm.data ?? {};
    } else if (from.secretRef) {
      kind = 'secret';
      name = from.secretRef.name ?? '';
      const s = await getSecret(name);
      if (!s) {
        if (from.secretRef.optional) continue;
        throw new Error(`secret "${name}" not found`);
      }
      data = secretStrings(s);
    } else {
      continue;
    }
    const invalid: string[] = [];
    for (const [k0, v] of Object.entries(data)) {
      const k = prefix + k0;
      if (!isEnvVarName(k)) {
        invalid.push(k);
        continue;
      }
      env.delete(k);
      env.set(k, v);
    }
    if (invalid.length) {
      invalid.sort();
      warnings.push(`Keys [${invalid.join(', ')}] from the EnvFrom ${kind} ${ns}/${name} were skipped since they are considered invalid environment variable names.`);
    }
  }

  // 2. env in declaration order; a literal value sees what is defined so far, then service vars.
  const lookup = (name: string) => env.get(name) ?? serviceEnv.get(name);
  for (const v of container.env ?? []) {
    let value: string;
    if (v.value) {
      value = expandVars(v.value, lookup);
    } else if (v.valueFrom) {
      const resolved = await valueFrom(pod, container, v, ctx, getConfigMap, getSecret);
      if (resolved === undefined) continue; // optional source that is missing
      value = resolved;
    } else {
      value = '';
    }
    env.delete(v.name);
    env.set(v.name, value);
  }

  const envs: EnvEntry[] = [];
  for (const [key, value] of env) envs.push({ key, value });
  // 3. Service variables the container did not define itself.
  for (const [key, value] of serviceEnv) if (!env.has(key)) envs.push({ key, value });
  return { envs, warnings };
}

async function valueFrom(
  pod: Pod, container: Container, v: EnvVar, ctx: EnvContext,
  getConfigMap: (name: string) => Promise<ConfigMap | null>, getSecret: (name: string) => Promise<Secret | null>,
): Promise<string | undefined> {
  const src = v.valueFrom!;
  const ns = pod.metadata?.namespace ?? 'default';
  if (src.fieldRef) return podFieldValue(pod, src.fieldRef, { hostIP: ctx.hostIP, hostIPs: ctx.hostIPs, podIPs: ctx.podIPs });
  if (src.resourceFieldRef) {
    const fs = src.resourceFieldRef;
    const target = fs.containerName ? findContainer(pod, fs.containerName) : container;
    return extractResourceValue(fs, withDefaultLimits(target, ctx.nodeAllocatable));
  }
  if (src.configMapKeyRef) {
    const ref = src.configMapKeyRef;
    const name = ref.name ?? '';
    const cm = await getConfigMap(name);
    if (!cm) {
      if (ref.optional) return undefined;
      throw new Error(`configmap "${name}" not found`);
    }
    const value = cm.data?.[ref.key];
    if (value === undefined) {
      if (ref.optional) return undefined;
      throw new Error(`couldn't find key ${ref.key} in ConfigMap ${ns}/${name}`);
    }
    return value;
  }
  if (src.secretKeyRef) {
    const ref = src.secretKeyRef;
    const name = ref.name ?? '';
    const s = await getSecret(name);
    if (!s) {
      if (ref.optional) return undefined;
      throw new Error(`secret "${name}" not found`);
    }
    const value = secretStrings(s)[ref.key];
    if (value === undefined) {
      if (ref.optional) return undefined;
      throw new Error(`couldn't find key ${ref.key} in Secret ${ns}/${name}`);
    }
    return value;
  }
  return '';
}

/** A secret's values as strings (data is base64 on the wire; stringData, if present, wins). */
function secretStrings(s: Secret): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
  for (const [k, v] of Object.entries((s as { stringData?: Record<string, string> }).stringData ?? {})) out[k] = v;
  return out;
}

// ---------------------------------------------------------------------------------------------
// $(VAR) expansion (third_party/forked/golang/expansion semantics)

/**
 * Expands `$(NAME)` references. `lookup` returns undefined for an unknown name, which leaves the
 * reference as written. `$$` is an escaped `$`; a `$` followed by anything else (or by an
 * unterminated `$(`) is copied as is.
 */
export function expandVars(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const next = input[cursor + 1];
    if (next === '$') {
      out += '$';
      cursor += 1;
    } else if (next === '(') {
      const close = input.indexOf(')', cursor + 2);
      if (close === -1) {
        // unterminated reference: keep "$(" and go on after it
        out += '$(';
        cursor += 1;
      } else {
        const name = input.slice(cursor + 2, close);
        const value = lookup(name);
        out += value ?? `$(${name})`;
        cursor = close;
      }
    } else {
      out += '$' + next;
      cursor += 1;
    }
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

/** Expands `$(VAR)` in a container's command or args against its final environment (last definition wins). */
export function expandCommand(args: string[] | undefined, envs: EnvEntry[]): string[] | undefined {
  if (!args) return args;
  const m = new Map<string, string>();
  for (const e of envs) m.set(e.key, e.value);
  return args.map((a) => expandVars(a, (n) => m.get(n)));
}

// ---------------------------------------------------------------------------------------------
// Service links (pkg/kubelet/envvars)

const envName = (s: string) => s.replace(/-/g, '_').toUpperCase();
const serviceIPSet = (s: Service) => !!s.spec?.clusterIP && s.spec.clusterIP !== 'None';

/** The service variables a pod in `namespace` sees, in a stable order (services sorted by name). */
export function serviceEnvVars(services: Service[], namespace: string, enableServiceLinks: boolean): Map<string, string> {
  const byName = new Map<string, Service>();
  for (const s of services) {
    if (!serviceIPSet(s)) continue;
    const name = s.metadata?.name ?? '';
    const sns = s.metadata?.namespace ?? 'default';
    if (sns === 'default' && MASTER_SERVICES.has(name)) {
      // A same-namespace service of the same name takes precedence.
      if (!byName.has(name)) byName.set(name, s);
    } else if (sns === namespace && enableServiceLinks) {
      byName.set(name, s);
    }
  }
  const out = new Map<string, string>();
  for (const name of [...byName.keys()].sort()) {
    for (const [k, v] of varsForService(byName.get(name)!)) out.set(k, v);
  }
  return out;
}

function varsForService(s: Service): [string, string][] {
  const ip = s.spec!.clusterIP!;
  const ports = s.spec?.ports ?? [];
  const prefix = envName(s.metadata?.name ?? '');
  const out: [string, string][] = [[`${prefix}_SERVICE_HOST`, ip]];
  if (ports.length === 0) return out;
  out.push([`${prefix}_SERVICE_PORT`, String(ports[0].port)]);
  for (const p of ports) if (p.name) out.push([`${prefix}_SERVICE_PORT_${envName(p.name)}`, String(p.port)]);
  // Docker link variables.
  const hostPort = (port: number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);
  ports.forEach((p, i) => {
    const proto = p.protocol || 'TCP';
    const url = `${proto.toLowerCase()}://${hostPort(p.port)}`;
    if (i === 0) out.push([`${prefix}_PORT`, url]);
    const pp = `${prefix}_PORT_${p.port}_${proto.toUpperCase()}`;
    out.push([pp, url], [`${pp}_PROTO`, proto.toLowerCase()], [`${pp}_PORT`, String(p.port)], [`${pp}_ADDR`, ip]);
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Downward API (shared with downwardAPI and projected volumes)

/** Field paths the downward API accepts for pods, v1 (ConvertDownwardAPIFieldLabel). */
const POD_FIELD_LABELS = new Set([
  'metadata.annotations', 'metadata.labels', 'metadata.name', 'metadata.namespace', 'metadata.uid',
  'spec.nodeName', 'spec.restartPolicy', 'spec.serviceAccountName', 'spec.schedulerName',
  'status.phase', 'status.hostIP', 'status.hostIPs', 'status.podIP', 'status.podIPs',
]);

/** `metadata.labels['k']` → [`metadata.labels`, `k`]. */
function splitSubscript(fieldPath: string): [string, string | undefined] {
  if (!fieldPath.endsWith("']")) return [fieldPath, undefined];
  const s = fieldPath.slice(0, -2);
  const i = s.indexOf("['");
  if (i <= 0) return [fieldPath, undefined];
  return [s.slice(0, i), s.slice(i + 2)];
}

/**
 * The value of a pod fieldRef for an environment variable, or throws the kubelet's error.
 * Runtime fields come from `runtime`; the rest from the pod object.
 */
export function podFieldValue(pod: Pod, ref: ObjectFieldSelector, runtime: { hostIP?: string; hostIPs?: string[]; podIPs?: string[] } = {}): string {
  const version = ref.apiVersion || 'v1';
  if (version !== 'v1') throw new Error(`unsupported pod version: ${version}`);
  const [base, sub] = splitSubscript(ref.fieldPath);
  if (sub !== undefined ? base !== 'metadata.labels' && base !== 'metadata.annotations' : !POD_FIELD_LABELS.has(base)) {
    throw new Error(`field label not supported: ${ref.fieldPath}`);
  }
  const podIPs = runtime.podIPs ?? [];
  const hostIPs = runtime.hostIPs?.length ? runtime.hostIPs : runtime.hostIP ? [runtime.hostIP] : [];
  switch (ref.fieldPath) {
    case 'spec.nodeName': return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName': return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP': return hostIPs[0] ?? '';
    case 'status.hostIPs': return hostIPs.join(',');
    case 'status.podIP': return podIPs[0] ?? '';
    case 'status.podIPs': return podIPs.join(',');
  }
  return extractFieldPath(pod, ref.fieldPath);
}

/** fieldpath.ExtractFieldPathAsString for a pod: the metadata fields, whole maps or one key. */
export function extractFieldPath(pod: Pod, fieldPath: string): string {
  const md = pod.metadata ?? {};
  const [base, sub] = splitSubscript(fieldPath);
  if (sub !== undefined) {
    if (base === 'metadata.annotations') return md.annotations?.[sub] ?? '';
    if (base === 'metadata.labels') return md.labels?.[sub] ?? '';
    throw new Error(`fieldPath ${JSON.stringify(fieldPath)} does not support subscript`);
  }
  switch (fieldPath) {
    case 'metadata.annotations': return formatMap(md.annotations ?? {});
    case 'metadata.labels': return formatMap(md.labels ?? {});
    case 'metadata.name': return md.name ?? '';
    case 'metadata.namespace': return md.namespace ?? '';
    case 'metadata.uid': return md.uid ?? '';
  }
  throw new Error(`unsupported fieldPath: ${fieldPath}`);
}

/** `key="value"` lines sorted by key, values quoted like Go's %q, no trailing newline (fieldpath.FormatMap). */
export function formatMap(m: Record<string, string>): string {
  return Object.keys(m)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((k) => `${k}=${goQuote(m[k])}`)
    .join('\n');
}

const PRINTABLE = /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u;

/** strconv.Quote: a double-quoted Go string literal, escaping `"`, `\\`, control and non-printable characters. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (ch === ' ' || (cp >= 0x21 && cp < 0x7f)) out += ch;
    else if (cp >= 0x80 && PRINTABLE.test(ch) && !(cp >= 0xd800 && cp <= 0xdfff)) out += ch;
    else if (ch === '\x07') out += '\\a';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\v') out += '\\v';
    else if (cp < 0x20 || cp === 0x7f) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\ufffd'; // a lone surrogate reaches Go as U+FFFD, which is printable
    else if (cp < 0x10000) out += '\\u' + cp.toString(16).padStart(4, '0');
    else out += '\\U' + cp.toString(16).padStart(8, '0');
  }
  return out + '"';
}

/** The pod's container (regular, then init) by name, or throws `container <name> not found`. */
export function findContainer(pod: Pod, name: string): Container {
  for (const list of [pod.spec?.containers, pod.spec?.initContainers]) {
    const c = list?.find((x) => x.name === name);
    if (c) return c;
  }
  throw new Error(`container ${name} not found`);
}

/**
 * A copy of the container whose unset (or zero) cpu, memory and ephemeral-storage limits are
 * the node's allocatable (MergeContainerResourceLimits / defaultPodLimitsForDownwardAPI).
 */
export function withDefaultLimits(container: Container, alloc: NodeAllocatable): Container {
  const limits: Record<string, string> = { ...(container.resources?.limits ?? {}) } as Record<string, string>;
  const fill = (name: string, value: string | undefined) => {
    if (value === undefined) return;
    const cur = limits[name] !== undefined ? parseQuantityExact(limits[name]) : undefined;
    if (!cur || cur.mantissa === 0n) limits[name] = value;
  };
  fill('cpu', `${Math.round(alloc.cpu * 1000)}m`);
  fill('memory', String(Math.floor(alloc.memory)));
  fill('ephemeral-storage', alloc.ephemeralStorage !== undefined ? String(Math.floor(alloc.ephemeralStorage)) : undefined);
  return { ...container, resources: { ...(container.resources ?? {}), limits } };
}

/**
 * ExtractContainerResourceValue: `limits.*` / `requests.*` of cpu (in divisor units of
 * millicores), memory, ephemeral-storage and hugepages-* (in divisor units of bytes), rounded up.
 * The divisor defaults to 1. An unset value reads as 0.
 */
export function extractResourceValue(fs: ResourceFieldSelector, container: Container): string {
  const m = /^(limits|requests)\.(.+)$/.exec(fs.resource);
  const kind = m?.[1];
  const res = m?.[2] ?? '';
  const supported = res === 'cpu' || res === 'memory' || res === 'ephemeral-storage' || res.startsWith('hugepages-');
  if (!kind || !supported) throw new Error(`Unsupported container resource : ${fs.resource}`);
  let divisor: Quantity | undefined = fs.divisor !== undefined ? parseQuantityExact(fs.divisor as string | number) : undefined;
  if (fs.divisor !== undefined && !divisor) throw new Error(`invalid divisor ${JSON.stringify(fs.divisor)} for ${fs.resource}`);
  if (!divisor || divisor.mantissa === 0n) divisor = parseQuantityExact('1')!;
  const list = (kind === 'limits' ? container.resources?.limits : container.resources?.requests) as Record<string, string | number> | undefined;
  const raw = list?.[res];
  const q = raw !== undefined ? parseQuantityExact(raw) : undefined;
  if (raw !== undefined && !q) throw new Error(`invalid quantity ${JSON.stringify(raw)} for ${fs.resource}`);
  let num: bigint;
  let den: bigint;
  if (res === 'cpu') {
    num = q ? quantityMilliValue(q) : 0n;
    den = quantityMilliValue(divisor);
  } else {
    num = q ? quantityIntValue(q) : 0n;
    den = quantityIntValue(divisor);
  }
  if (den <= 0n) throw new Error(`invalid divisor ${JSON.stringify(fs.divisor)} for ${fs.resource}`);
  return ceilDiv(num, den).toString();
}

function ceilDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a > 0n ? q + 1n : q;
}
