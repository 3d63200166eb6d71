/**
 * Validation of built-in kinds (pkg/apis/<group>/validation): a list of FieldErrors with
 * Kubernetes' field paths and messages; never throws. validateObject runs on create,
 * validateObjectUpdate on update (it includes the create rules for the new object).
 */
import { fieldError, type FieldError } from '../apimachinery/errors.js';
import {
  validateObjectMeta, validateObjectMetaUpdate, nameIsDNSSubdomain, nameIsDNSLabel, nameIsDNS1035Label, nameIsPathSegment,
  isDNS1123Label, isValidPortNum, isValidPortName, isConfigMapKey, isRelaxedEnvVarName, validateLabels, validateLabelSelector,
  labelSelectorMatches, validateNonnegativeField, validateImmutableField, isIPString, isDNS1123Subdomain, type NameFn,
} from '../apimachinery/validation.js';
import { parseQuantityOrError, compareQuantities, type Quantity } from '../apimachinery/quantity.js';

type Validator = (obj: any) => FieldError[];
type UpdateValidator = (obj: any, old: any) => FieldError[];

const NAMESPACED_CLUSTER: Record<string, boolean> = {};

/** The name rule each kind uses (upstream ValidateXName functions). */
function nameRule(group: string, kind: string): NameFn {
  if (!group && kind === 'Namespace') return nameIsDNSLabel;
  if (!group && kind === 'Service') return nameIsDNS1035Label;
  if (group === 'rbac.authorization.k8s.io') return nameIsPathSegment;
  return nameIsDNSSubdomain;
}

const SUPPORTED_PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];

function validateResources(res: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const parsed = (m: any, p: string) => {
    const out = new Map<string, Quantity>();
    for (const [k, v] of Object.entries(m ?? {})) {
      const q = parseQuantityOrError(v as string);
      if (typeof q === 'string') errs.push(fieldError.invalid(`${p}[${k}]`, v, q));
      else {
        if (q.sign < 0 && q.mantissa !== 0n) errs.push(fieldError.invalid(`${p}[${k}]`, v, 'must be greater than or equal to 0'));
        out.set(k, q);
      }
    }
    return out;
  };
  const limits = parsed(res?.limits, `${path}.limits`);
  const requests = parsed(res?.requests, `${path}.requests`);
  for (const [k, req] of requests) {
    const lim = limits.get(k);
    if (lim && compareQuantities(req, lim) > 0) {
      errs.push(fieldError.invalid(`${path}.requests`, res.requests[k], `must be less than or equal to ${k} limit of ${res.limits[k]}`));
    }
  }
  return errs;
}

function validateProbe(probe: any, path: string): FieldError[] {
  if (!probe) return [];
  const handlers = ['exec', 'httpGet', 'tcpSocket', 'grpc'].filter((h) => probe[h] !== undefined && probe[h] !== null);
  const errs: FieldError[] = [];
  if (handlers.length === 0) errs.push(fieldError.required(path, 'must specify a handler type'));
  if (handlers.length > 1) errs.push(fieldError.forbidden(`${path}.${handlers[1]}`, 'may not specify more than 1 handler type'));
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) {
    if (typeof probe[f] === 'number') errs.push(...validateNonnegativeField(probe[f], `${path}.${f}`));
  }
  return errs;
}

function validateContainer(c: any, path: string, volumes: Set<string>, names: Set<string>, requireImage: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (!c?.name) errs.push(fieldError.required(`${path}.name`));
  else {
    for (const m of isDNS1123Label(c.name)) errs.push(fieldError.invalid(`${path}.name`, c.name, m));
    if (names.has(c.name)) errs.push(fieldError.duplicate(`${path}.name`, c.name));
    names.add(c.name);
  }
  if (requireImage && !c?.image) errs.push(fieldError.required(`${path}.image`));
  if (c?.imagePullPolicy && !PULL_POLICIES.includes(c.imagePullPolicy)) errs.push(fieldError.notSupported(`${path}.imagePullPolicy`, c.imagePullPolicy, PULL_POLICIES));
  const portNames = new Set<string>();
  (c?.ports ?? []).forEach((p: any, i: number) => {
    const pp = `${path}.ports[${i}]`;
    if (p?.name) {
      for (const m of isValidPortName(p.name)) errs.push(fieldError.invalid(`${pp}.name`, p.name, m));
      if (portNames.has(p.name)) errs.push(fieldError.duplicate(`${pp}.name`, p.name));
      portNames.add(p.name);
    }
    if (p?.containerPort === undefined || p?.containerPort === 0) errs.push(fieldError.required(`${pp}.containerPort`));
    else for (const m of isValidPortNum(p.containerPort)) errs.push(fieldError.invalid(`${pp}.containerPort`, p.containerPort, m));
    if (p?.hostPort) for (const m of isValidPortNum(p.hostPort)) errs.push(fieldError.invalid(`${pp}.hostPort`, p.hostPort, m));
    if (p?.protocol && !SUPPORTED_PROTOCOLS.includes(p.protocol)) errs.push(fieldError.notSupported(`${pp}.protocol`, p.protocol, SUPPORTED_PROTOCOLS));
  });
  (c?.env ?? []).forEach((e: any, i: number) => {
    if (!e?.name) errs.push(fieldError.required(`${path}.env[${i}].name`));
    else for (const m of isRelaxedEnvVarName(e.name)) errs.push(fieldError.invalid(`${path}.env[${i}].name`, e.name, m));
  });
  (c?.volumeMounts ?? []).forEach((m: any, i: number) => {
    if (!m?.name) errs.push(fieldError.required(`${path}.volumeMounts[${i}].name`));
    else if (!volumes.has(m.name)) errs.push({ type: 'FieldValueNotFound' as FieldError['type'], field: `${path}.volumeMounts[${i}].name`, value: m.name });
    if (!m?.mountPath) errs.push(fieldError.required(`${path}.volumeMounts[${i}].mountPath`));
  });
  errs.push(...validateResources(c?.resources, `${path}.resources`));
  errs.push(...validateProbe(c?.livenessProbe, `${path}.livenessProbe`));
  errs.push(...validateProbe(c?.readinessProbe, `${path}.readinessProbe`));
  errs.push(...validateProbe(c?.startupProbe, `${path}.startupProbe`));
  return errs;
}

const VOLUME_SOURCES = ['hostPath', 'emptyDir', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'secret', 'nfs', 'iscsi', 'glusterfs',
  'persistentVolumeClaim', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'downwardAPI', 'fc', 'azureFile', 'configMap', 'vsphereVolume',
  'quobyte', 'azureDisk', 'photonPersistentDisk', 'projected', 'portworxVolume', 'scaleIO', 'storageos', 'csi', 'ephemeral', 'image'];

/** ValidatePodSpec (the parts keelson checks today). */
export function validatePodSpec(spec: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!spec || typeof spec !== 'object') return [fieldError.required(path)];
  const volumes = new Set<string>();
  (spec.volumes ?? []).forEach((v: any, i: number) => {
    const vp = `${path}.volumes[${i}]`;
    if (!v?.name) errs.push(fieldError.required(`${vp}.name`));
    else {
      for (const m of isDNS1123Label(v.name)) errs.push(fieldError.invalid(`${vp}.name`, v.name, m));
      if (volumes.has(v.name)) errs.push(fieldError.duplicate(`${vp}.name`, v.name));
      volumes.add(v.name);
    }
    const sources = VOLUME_SOURCES.filter((s) => v?.[s] !== undefined && v?.[s] !== null);
    if (sources.length === 0) errs.push(fieldError.required(vp, 'must specify a volume type'));
    else if (sources.length > 1) errs.push(fieldError.forbidden(`${vp}.${sources[1]}`, 'may not specify more than 1 volume type'));
  });
  const names = new Set<string>();
  if (!Array.isArray(spec.containers) || spec.containers.length === 0) errs.push(fieldError.required(`${path}.containers`));
  (spec.initContainers ?? []).forEach((c: any, i: number) => errs.push(...validateContainer(c, `${path}.initContainers[${i}]`, volumes, names, true)));
  (spec.containers ?? []).forEach((c: any, i: number) => errs.push(...validateContainer(c, `${path}.containers[${i}]`, volumes, names, true)));
  if (spec.restartPolicy && !RESTART_POLICIES.includes(spec.restartPolicy)) errs.push(fieldError.notSupported(`${path}.restartPolicy`, spec.restartPolicy, RESTART_POLICIES));
  if (spec.dnsPolicy && !DNS_POLICIES.includes(spec.dnsPolicy)) errs.push(fieldError.notSupported(`${path}.dnsPolicy`, spec.dnsPolicy, DNS_POLICIES));
  if (spec.dnsPolicy === 'None' && !spec.dnsConfig) errs.push(fieldError.required(`${path}.dnsConfig`, "must provide `dnsConfig` when `dnsPolicy` is None"));
  if (typeof spec.terminationGracePeriodSeconds === 'number') errs.push(...validateNonnegativeField(spec.terminationGracePeriodSeconds, `${path}.terminationGracePeriodSeconds`));
  if (typeof spec.activeDeadlineSeconds === 'number' && spec.activeDeadlineSeconds <= 0) errs.push(fieldError.invalid(`${path}.activeDeadlineSeconds`, spec.activeDeadlineSeconds, 'must be between 1 and 2147483647, inclusive'));
  if (spec.hostname) for (const m of isDNS1123Label(spec.hostname)) errs.push(fieldError.invalid(`${path}.hostname`, spec.hostname, m));
  if (spec.subdomain) for (const m of isDNS1123Label(spec.subdomain)) errs.push(fieldError.invalid(`${path}.subdomain`, spec.subdomain, m));
  errs.push(...validateLabels(spec.nodeSelector, `${path}.nodeSelector`));
  (spec.tolerations ?? []).forEach((t: any, i: number) => {
    const ops = ['Equal', 'Exists'];
    if (t?.operator && !ops.includes(t.operator)) errs.push(fieldError.notSupported(`${path}.tolerations[${i}].operator`, t.operator, ops));
    if (t?.operator === 'Exists' && t?.value) errs.push(fieldError.invalid(`${path}.tolerations[${i}].operator`, t.value, 'value must be empty when `operator` is \'Exists\''));
  });
  return errs;
}

function validatePodTemplate(tpl: any, path: string, selector?: any): FieldError[] {
  const errs: FieldError[] = [];
  if (!tpl) return [fieldError.required(path)];
  errs.push(...validateLabels(tpl.metadata?.labels, `${path}.metadata.labels`));
  if (selector && Object.keys(selector).length && !labelSelectorMatches(selector, tpl.metadata?.labels ?? {})) {
    errs.push(fieldError.invalid(`${path}.metadata.labels`, tpl.metadata?.labels ?? {}, '`selector` does not match template `labels`'));
  }
  errs.push(...validatePodSpec(tpl.spec, `${path}.spec`));
  return errs;
}

function validateWorkload(obj: any, opts: { selectorRequired: boolean }): FieldError[] {
  const s = obj.spec ?? {};
  const errs: FieldError[] = [];
  if (typeof s.replicas === 'number') errs.push(...validateNonnegativeField(s.replicas, 'spec.replicas'));
  if (opts.selectorRequired && !s.selector) errs.push(fieldError.required('spec.selector'));
  if (s.selector) {
    errs.push(...validateLabelSelector(s.selector, 'spec.selector'));
    if (!s.selector.matchLabels && !(s.selector.matchExpressions?.length)) errs.push(fieldError.invalid('spec.selector', s.selector, 'empty selector is invalid for deployment'));
  }
  errs.push(...validatePodTemplate(s.template, 'spec.template', s.selector));
  return errs;
}

function validateIntOrPercent(v: unknown, path: string): FieldError[] {
  if (v === undefined || typeof v === 'number') return typeof v === 'number' ? validateNonnegativeField(v, path) : [];
  if (typeof v === 'string' && /^\d+%$/.test(v)) return [];
  return [fieldError.invalid(path, v, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")];
}

const KIND_VALIDATORS: Record<string, Validator> = {
  '/Pod': (o) => validatePodSpec(o.spec, 'spec'),
  '/PodTemplate': (o) => validatePodTemplate(o.template, 'template'),
  '/ReplicationController': (o) => {
    const errs: FieldError[] = [];
    if (typeof o.spec?.replicas === 'number') errs.push(...validateNonnegativeField(o.spec.replicas, 'spec.replicas'));
    errs.push(...validatePodTemplate(o.spec?.template, 'spec.template'));
    return errs;
  },
  'apps/Deployment': (o) => {
    const errs = validateWorkload(o, { selectorRequired: true });
    const st = o.spec?.strategy;
    if (st?.type && !['Recreate', 'RollingUpdate'].includes(st.type)) errs.push(fieldError.notSupported('spec.strategy.type', st.type, ['Recreate', 'RollingUpdate']));
    if (st?.type === 'Recreate' && st.rollingUpdate) errs.push(fieldError.forbidden('spec.strategy.rollingUpdate', 'may not be specified when strategy `type` is \'Recreate\''));
    if (st?.rollingUpdate) {
      errs.push(...validateIntOrPercent(st.rollingUpdate.maxSurge, 'spec.strategy.rollingUpdate.maxSurge'));
      errs.push(...validateIntOrPercent(st.rollingUpdate.maxUnavailable, 'spec.strategy.rollingUpdate.maxUnavailable'));
      const zero = (v: unknown) => v === 0 || v === '0%';
      if (zero(st.rollingUpdate.maxSurge) && zero(st.rollingUpdate.maxUnavailable)) {
        errs.push(fieldError.invalid('spec.strategy.rollingUpdate.maxUnavailable', st.rollingUpdate.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
      }
    }
    return errs;
  },
  'apps/ReplicaSet': (o) => validateWorkload(o, { selectorRequired: true }),
  'apps/StatefulSet': (o) => {
    const errs = validateWorkload(o, { selectorRequired: true });
    const pmp = o.spec?.podManagementPolicy;
    if (pmp && !['OrderedReady', 'Parallel'].includes(pmp)) errs.push(fieldError.notSupported('spec.podManagementPolicy', pmp, ['OrderedReady', 'Parallel']));
    return errs;
  },
  'apps/DaemonSet': (o) => validateWorkload(o, { selectorRequired: true }),
  'batch/Job': (o) => {
    const s = o.spec ?? {};
    const errs: FieldError[] = [];
    for (const f of ['parallelism', 'completions', 'backoffLimit']) if (typeof s[f] === 'number') errs.push(...validateNonnegativeField(s[f], `spec.${f}`));
    if (typeof s.activeDeadlineSeconds === 'number' && s.activeDeadlineSeconds <= 0) errs.push(fieldError.invalid('spec.activeDeadlineSeconds', s.activeDeadlineSeconds, 'must be greater than 0'));
    const rp = s.template?.spec?.restartPolicy;
    if (rp && !['OnFailure', 'Never'].includes(rp)) errs.push(fieldError.notSupported('spec.template.spec.restartPolicy', rp, ['OnFailure', 'Never']));
    errs.push(...validatePodTemplate(s.template, 'spec.template', s.selector));
    return errs;
  },
  'batch/CronJob': (o) => {
    const s = o.spec ?? {};
    const errs: FieldError[] = [];
    if (!s.schedule) errs.push(fieldError.required('spec.schedule'));
    else if (!/^@(yearly|annually|monthly|weekly|daily|midnight|hourly|every .+)$/.test(s.schedule) && s.schedule.trim().split(/\s+/).length !== 5) {
      errs.push(fieldError.invalid('spec.schedule', s.schedule, `expected exactly 5 fields, found ${s.schedule.trim().split(/\s+/).length}: ${s.schedule}`));
    }
    if (s.concurrencyPolicy && !['Allow', 'Forbid', 'Replace'].includes(s.concurrencyPolicy)) errs.push(fieldError.notSupported('spec.concurrencyPolicy', s.concurrencyPolicy, ['Allow', 'Forbid', 'Replace']));
    errs.push(...validatePodTemplate(s.jobTemplate?.spec?.template, 'spec.jobTemplate.spec.template'));
    return errs;
  },
  '/Service': (o) => {
    const s = o.spec ?? {};
    const errs: FieldError[] = [];
    const types = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
    if (s.type && !types.includes(s.type)) errs.push(fieldError.notSupported('spec.type', s.type, types));
    if (s.type === 'ExternalName') {
      if (!s.externalName) errs.push(fieldError.required('spec.externalName'));
      else for (const m of isDNS1123Subdomain(String(s.externalName).replace(/\.$/, ''))) errs.push(fieldError.invalid('spec.externalName', s.externalName, m));
    } else if (!(s.ports?.length) && s.clusterIP !== 'None') {
      errs.push(fieldError.required('spec.ports'));
    }
    const names = new Set<string>();
    (s.ports ?? []).forEach((p: any, i: number) => {
      const pp = `spec.ports[${i}]`;
      if ((s.ports.length > 1 || p?.name) && !p?.name) errs.push(fieldError.required(`${pp}.name`));
      if (p?.name) {
        for (const m of isDNS1123Label(p.name)) errs.push(fieldError.invalid(`${pp}.name`, p.name, m));
        if (names.has(p.name)) errs.push(fieldError.duplicate(`${pp}.name`, p.name));
        names.add(p.name);
      }
      for (const m of isValidPortNum(p?.port ?? 0)) errs.push(fieldError.invalid(`${pp}.port`, p?.port ?? 0, m));
      if (p?.protocol && !SUPPORTED_PROTOCOLS.includes(p.protocol)) errs.push(fieldError.notSupported(`${pp}.protocol`, p.protocol, SUPPORTED_PROTOCOLS));
      if (typeof p?.targetPort === 'number') for (const m of isValidPortNum(p.targetPort)) errs.push(fieldError.invalid(`${pp}.targetPort`, p.targetPort, m));
      if (typeof p?.targetPort === 'string') for (const m of isValidPortName(p.targetPort)) errs.push(fieldError.invalid(`${pp}.targetPort`, p.targetPort, m));
      if (p?.nodePort && s.type !== 'NodePort' && s.type !== 'LoadBalancer') errs.push(fieldError.forbidden(`${pp}.nodePort`, 'may not be used when `type` is \'ClusterIP\''));
    });
    if (s.clusterIP && s.clusterIP !== 'None' && !isIPString(s.clusterIP)) errs.push(fieldError.invalid('spec.clusterIPs[0]', s.clusterIP, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
    if (s.sessionAffinity && !['ClientIP', 'None'].includes(s.sessionAffinity)) errs.push(fieldError.notSupported('spec.sessionAffinity', s.sessionAffinity, ['ClientIP', 'None']));
    errs.push(...validateLabels(s.selector, 'spec.selector'));
    return errs;
  },
  '/ConfigMap': (o) => {
    const errs: FieldError[] = [];
    let size = 0;
    for (const field of ['data', 'binaryData']) {
      for (const [k, v] of Object.entries(o[field] ?? {})) {
        for (const m of isConfigMapKey(k)) errs.push(fieldError.invalid(`${field}[${k}]`, k, m));
        if (field === 'data' && o.binaryData && k in o.binaryData) errs.push(fieldError.invalid(`data[${k}]`, k, 'duplicate of key present in binaryData'));
        size += k.length + String(v).length;
      }
    }
    if (size > 1024 * 1024) errs.push(fieldError.tooLong('', '', 1024 * 1024));
    return errs;
  },
  '/Secret': (o) => {
    const errs: FieldError[] = [];
    let size = 0;
    for (const [k, v] of Object.entries(o.data ?? {})) {
      for (const m of isConfigMapKey(k)) errs.push(fieldError.invalid(`data[${k}]`, k, m));
      size += Buffer.from(String(v), 'base64').length;
    }
    for (const k of Object.keys(o.stringData ?? {})) for (const m of isConfigMapKey(k)) errs.push(fieldError.invalid(`stringData[${k}]`, k, m));
    if (size > 1024 * 1024) errs.push(fieldError.tooLong('data', '', 1024 * 1024));
    return errs;
  },
  'networking.k8s.io/Ingress': (o) => {
    const errs: FieldError[] = [];
    (o.spec?.rules ?? []).forEach((r: any, i: number) => {
      if (r?.host) for (const m of isDNS1123Subdomain(String(r.host).replace(/^\*\./, 'x.'))) errs.push(fieldError.invalid(`spec.rules[${i}].host`, r.host, m));
      (r?.http?.paths ?? []).forEach((p: any, j: number) => {
        const pp = `spec.rules[${i}].http.paths[${j}]`;
        if (!p?.pathType) errs.push(fieldError.required(`${pp}.pathType`, 'pathType must be specified'));
        else if (!['Exact', 'Prefix', 'ImplementationSpecific'].includes(p.pathType)) errs.push(fieldError.notSupported(`${pp}.pathType`, p.pathType, ['Exact', 'ImplementationSpecific', 'Prefix']));
        if (p?.path && !String(p.path).startsWith('/')) errs.push(fieldError.invalid(`${pp}.path`, p.path, "must be an absolute path"));
      });
    });
    return errs;
  },
  'scheduling.k8s.io/PriorityClass': (o) => {
    if (typeof o.value !== 'number') return [fieldError.required('value')];
    if (o.value > 1000000000 && !String(o.metadata?.name).startsWith('system-')) return [fieldError.forbidden('value', 'maximum allowed value of a user defined priority is 1000000000')];
    return [];
  },
  'policy/PodDisruptionBudget': (o) => {
    const s = o.spec ?? {};
    if (s.minAvailable !== undefined && s.maxUnavailable !== undefined) return [fieldError.invalid('spec', s, 'minAvailable and maxUnavailable cannot be both set')];
    return [...validateIntOrPercent(s.minAvailable, 'spec.minAvailable'), ...validateIntOrPercent(s.maxUnavailable, 'spec.maxUnavailable')];
  },
  'rbac.authorization.k8s.io/RoleBinding': (o) => (o.roleRef?.name ? [] : [fieldError.required('roleRef.name')]),
  'rbac.authorization.k8s.io/ClusterRoleBinding': (o) => (o.roleRef?.name ? [] : [fieldError.required('roleRef.name')]),
  'coordination.k8s.io/Lease': (o) => (typeof o.spec?.leaseDurationSeconds === 'number' && o.spec.leaseDurationSeconds <= 0 ? [fieldError.invalid('spec.leaseDurationSeconds', o.spec.leaseDurationSeconds, 'must be greater than 0')] : []),
};

/** Fields of a pod that may change on update (ValidatePodUpdate). */
function validatePodUpdate(obj: any, old: any): FieldError[] {
  const strip = (spec: any) => {
    const s = structuredClone(spec ?? {});
    for (const c of [...(s.containers ?? []), ...(s.initContainers ?? [])]) delete c.image;
    delete s.activeDeadlineSeconds;
    delete s.tolerations;
    delete s.terminationGracePeriodSeconds;
    delete s.schedulingGates;
    return s;
  };
  const errs: FieldError[] = [];
  if (JSON.stringify(strip(obj.spec)) !== JSON.stringify(strip(old.spec))) {
    errs.push(fieldError.forbidden('spec', 'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)'));
  }
  return errs;
}

const UPDATE_VALIDATORS: Record<string, UpdateValidator> = {
  '/Pod': validatePodUpdate,
  'apps/Deployment': (o, old) => validateImmutableField(o.spec?.selector, old.spec?.selector, 'spec.selector'),
  'apps/ReplicaSet': (o, old) => validateImmutableField(o.spec?.selector, old.spec?.selector, 'spec.selector'),
  'apps/DaemonSet': (o, old) => validateImmutableField(o.spec?.selector, old.spec?.selector, 'spec.selector'),
  'apps/StatefulSet': (o, old) => {
    const strip = (s: any) => { const c = structuredClone(s ?? {}); for (const f of ['replicas', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds', 'ordinals', 'revisionHistoryLimit']) delete c[f]; return c; };
    return JSON.stringify(strip(o.spec)) === JSON.stringify(strip(old.spec)) ? [] : [fieldError.forbidden('spec', "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")];
  },
  'batch/Job': (o, old) => [
    ...validateImmutableField(o.spec?.selector, old.spec?.selector, 'spec.selector'),
    ...validateImmutableField(o.spec?.completions, old.spec?.completions, 'spec.completions').filter(() => o.spec?.completionMode !== 'Indexed'),
  ],
  'rbac.authorization.k8s.io/RoleBinding': (o, old) => validateImmutableField(o.roleRef, old.roleRef, 'roleRef').map((e) => ({ ...e, detail: 'cannot change roleRef' })),
  'rbac.authorization.k8s.io/ClusterRoleBinding': (o, old) => validateImmutableField(o.roleRef, old.roleRef, 'roleRef').map((e) => ({ ...e, detail: 'cannot change roleRef' })),
  '/Secret': (o, old) => (old.immutable ? validateImmutableField(o.data, old.data, 'data') : []),
  '/ConfigMap': (o, old) => (old.immutable ? validateImmutableField(o.data, old.data, 'data') : []),
};

export function validateObject(group: string, _version: string, kind: string, obj: any): FieldError[] {
  const key = `${group}/${kind}`;
  void NAMESPACED_CLUSTER;
  const errs = validateObjectMeta(obj?.metadata, { nameFn: nameRule(group, kind) });
  const v = KIND_VALIDATORS[key];
  if (v) errs.push(...v(obj));
  return errs;
}

export function validateObjectUpdate(group: string, version: string, kind: string, obj: any, old: any): FieldError[] {
  const errs = validateObjectMetaUpdate(obj?.metadata, old?.metadata);
  const v = KIND_VALIDATORS[`${group}/${kind}`];
  if (v) errs.push(...v(obj));
  const u = UPDATE_VALIDATORS[`${group}/${kind}`];
  if (u) errs.push(...u(obj, old));
  void version;
  return errs;
}
