/**
 * Defaulting for built-in kinds: the values Kubernetes 1.32 fills in when an object is decoded
 * (SetDefaults_* and the declarative `+default` markers), plus a few deterministic values the
 * registry strategies add and every client sees (Service IP families, Namespace finalizer,
 * Secret stringData folding). Objects are plain JSON and are mutated in place.
 *
 * Not here: ClusterIP/NodePort allocation, admission (ServiceAccount, Priority, LimitRanger),
 * status resets and generation bumps (registry strategies).
 *
 * Written from the documented behaviour of pkg/apis/{core,apps,batch,...}/v1/defaults.go; no code
 * copied.
 */
import { canonicalQuantity, canonicalResourceQuantity } from '../apimachinery/quantity.js';
import { ipFamilyOf } from '../apimachinery/validation.js';

type Obj = Record<string, any>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const ensureObj = (o: Obj, k: string): Obj => (isObj(o[k]) ? o[k] : (o[k] = {}));
const arr = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const unset = (v: unknown): boolean => v === undefined || v === null;
const isSet = (v: unknown): boolean => !unset(v);
const setIfUnset = (o: Obj, k: string, v: unknown) => { if (unset(o[k])) o[k] = v; };
const setIfEmpty = (o: Obj, k: string, v: unknown) => { if (unset(o[k]) || o[k] === '') o[k] = v; };
const setIfZero = (o: Obj, k: string, v: unknown) => { if (unset(o[k]) || o[k] === 0) o[k] = v; };

export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';
export const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS = 30;
export const DEFAULT_TOLERATION_SECONDS = 300;
const DEFAULT_FILE_MODE = 0o644; // 420
const RBAC_GROUP = 'rbac.authorization.k8s.io';

// ---------------------------------------------------------------------------------------------
// quantities

/** Canonicalizes every parseable quantity in a ResourceList, rounding up to milli precision. */
function defaultResourceList(list: unknown): void {
  if (!isObj(list)) return;
  for (const [k, v] of Object.entries(list)) {
    if (typeof v !== 'string' && typeof v !== 'number') continue;
    const c = canonicalResourceQuantity(v);
    if (c !== undefined) list[k] = c;
  }
}

/** Canonicalizes a single Quantity-typed field. */
function defaultQuantityField(o: unknown, key: string): void {
  if (!isObj(o)) return;
  const v = o[key];
  if (typeof v !== 'string' && typeof v !== 'number') return;
  const c = canonicalQuantity(v);
  if (c !== undefined) o[key] = c;
}

// ---------------------------------------------------------------------------------------------
// images

const pathComponentRe = /^[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*$/;
const domainRe = /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$/;
const tagRe = /^[\w][\w.-]{0,127}$/;
const digestRe = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;

/** The tag kubelet would pull (parsers.ParseImageName): `latest` when neither tag nor digest; '' when unparseable. */
export function imageTag(image: string): string {
  if (!image) return '';
  let ref = image;
  let digest = '';
  const at = ref.indexOf('@');
  if (at >= 0) { digest = ref.slice(at + 1); ref = ref.slice(0, at); if (!digestRe.test(digest)) return ''; }
  let tag = '';
  const lastColon = ref.lastIndexOf(':');
  if (lastColon > ref.lastIndexOf('/')) { tag = ref.slice(lastColon + 1); ref = ref.slice(0, lastColon); if (!tagRe.test(tag)) return ''; }
  if (ref.length === 0 || ref.length > 255) return '';
  const parts = ref.split('/');
  if (parts.length > 1 && (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost' || parts[0] !== parts[0].toLowerCase())) {
    if (!domainRe.test(parts[0])) return '';
    parts.shift();
  }
  if (!parts.every((p) => pathComponentRe.test(p))) return '';
  if (!tag && !digest) return 'latest';
  return tag;
}

// ---------------------------------------------------------------------------------------------
// pod spec pieces

function defaultHTTPGet(h: unknown): void {
  if (!isObj(h)) return;
  setIfEmpty(h, 'path', '/');
  setIfEmpty(h, 'scheme', 'HTTP');
}

function defaultProbe(p: unknown): void {
  if (!isObj(p)) return;
  setIfZero(p, 'timeoutSeconds', 1);
  setIfZero(p, 'periodSeconds', 10);
  setIfZero(p, 'successThreshold', 1);
  setIfZero(p, 'failureThreshold', 3);
  defaultHTTPGet(p.httpGet);
  // GRPCAction.service is `+default=""`.
  if (isObj(p.grpc)) setIfUnset(p.grpc, 'service', '');
}

/** The pull policy kubelet would use for an image reference: Always for `:latest` (or no tag), else IfNotPresent. */
const pullPolicyFor = (image: unknown) => (imageTag(String(image ?? '')) === 'latest' ? 'Always' : 'IfNotPresent');

function defaultObjectFieldSelector(fs: unknown): void {
  if (isObj(fs)) setIfEmpty(fs, 'apiVersion', 'v1');
}

function defaultContainer(c: unknown): void {
  if (!isObj(c)) return;
  if (unset(c.imagePullPolicy) || c.imagePullPolicy === '') c.imagePullPolicy = pullPolicyFor(c.image);
  setIfEmpty(c, 'terminationMessagePath', '/dev/termination-log');
  setIfEmpty(c, 'terminationMessagePolicy', 'File');
  for (const port of arr(c.ports)) if (isObj(port)) setIfEmpty(port, 'protocol', 'TCP');
  for (const ev of arr(c.env)) if (isObj(ev) && isObj(ev.valueFrom)) {
    defaultObjectFieldSelector(ev.valueFrom.fieldRef);
    if (isObj(ev.valueFrom.resourceFieldRef)) defaultQuantityField(ev.valueFrom.resourceFieldRef, 'divisor');
  }
  const res = ensureObj(c, 'resources');
  defaultResourceList(res.limits);
  defaultResourceList(res.requests);
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  if (isObj(c.lifecycle)) {
    if (isObj(c.lifecycle.postStart)) defaultHTTPGet(c.lifecycle.postStart.httpGet);
    if (isObj(c.lifecycle.preStop)) defaultHTTPGet(c.lifecycle.preStop.httpGet);
  }
}

/** Every volume source key, in the order Kubernetes checks them. */
export const VOLUME_SOURCE_KEYS = [
  'emptyDir', 'hostPath', 'gitRepo', 'gcePersistentDisk', 'awsElasticBlockStore', 'secret', 'nfs', 'iscsi', 'glusterfs',
  'flocker', 'persistentVolumeClaim', 'rbd', 'cinder', 'cephfs', 'quobyte', 'downwardAPI', 'fc', 'flexVolume', 'configMap',
  'azureFile', 'vsphereVolume', 'photonPersistentDisk', 'portworxVolume', 'azureDisk', 'storageos', 'projected', 'scaleIO',
  'csi', 'ephemeral', 'image',
];

function defaultDownwardAPIItems(items: unknown): void {
  for (const it of arr(items)) if (isObj(it)) {
    defaultObjectFieldSelector(it.fieldRef);
    if (isObj(it.resourceFieldRef)) defaultQuantityField(it.resourceFieldRef, 'divisor');
  }
}

function defaultVolume(v: unknown): void {
  if (!isObj(v)) return;
  if (VOLUME_SOURCE_KEYS.every((k) => unset(v[k]))) v.emptyDir = {};
  if (isObj(v.emptyDir)) defaultQuantityField(v.emptyDir, 'sizeLimit');
  if (isObj(v.secret)) setIfUnset(v.secret, 'defaultMode', DEFAULT_FILE_MODE);
  if (isObj(v.configMap)) setIfUnset(v.configMap, 'defaultMode', DEFAULT_FILE_MODE);
  if (isObj(v.downwardAPI)) {
    setIfUnset(v.downwardAPI, 'defaultMode', DEFAULT_FILE_MODE);
    defaultDownwardAPIItems(v.downwardAPI.items);
  }
  if (isObj(v.projected)) {
    setIfUnset(v.projected, 'defaultMode', DEFAULT_FILE_MODE);
    for (const src of arr(v.projected.sources)) if (isObj(src)) {
      if (isObj(src.serviceAccountToken)) setIfUnset(src.serviceAccountToken, 'expirationSeconds', 3600);
      if (isObj(src.downwardAPI)) defaultDownwardAPIItems(src.downwardAPI.items);
    }
  }
  if (isObj(v.hostPath)) setIfUnset(v.hostPath, 'type', '');
  if (isObj(v.iscsi)) setIfEmpty(v.iscsi, 'iscsiInterface', 'default');
  if (isObj(v.rbd)) {
    setIfEmpty(v.rbd, 'pool', 'rbd');
    setIfEmpty(v.rbd, 'user', 'admin');
    setIfEmpty(v.rbd, 'keyring', '/etc/ceph/keyring');
  }
  if (isObj(v.azureDisk)) {
    setIfUnset(v.azureDisk, 'cachingMode', 'ReadWrite');
    setIfUnset(v.azureDisk, 'fsType', 'ext4');
    setIfUnset(v.azureDisk, 'readOnly', false);
    setIfUnset(v.azureDisk, 'kind', 'Shared');
  }
  if (isObj(v.scaleIO)) {
    setIfEmpty(v.scaleIO, 'storageMode', 'ThinProvisioned');
    setIfEmpty(v.scaleIO, 'fsType', 'xfs');
  }
  if (isObj(v.ephemeral) && isObj(v.ephemeral.volumeClaimTemplate)) {
    defaultPVCSpec(ensureObj(v.ephemeral.volumeClaimTemplate, 'spec'));
  }
  // SetDefaults_ImageVolumeSource: the same rule as containers' imagePullPolicy.
  if (isObj(v.image) && (unset(v.image.pullPolicy) || v.image.pullPolicy === '')) v.image.pullPolicy = pullPolicyFor(v.image.reference);
}

/** SetDefaults_PodSpec and everything nested in a PodSpec (applies to pods and templates). */
export function defaultPodSpec(spec: unknown): void {
  if (!isObj(spec)) return;
  setIfEmpty(spec, 'dnsPolicy', 'ClusterFirst');
  setIfEmpty(spec, 'restartPolicy', 'Always');
  if (!isObj(spec.securityContext)) spec.securityContext = {};
  setIfUnset(spec, 'terminationGracePeriodSeconds', DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS);
  setIfEmpty(spec, 'schedulerName', DEFAULT_SCHEDULER_NAME);
  for (const c of arr(spec.initContainers)) defaultContainer(c);
  for (const c of arr(spec.containers)) defaultContainer(c);
  for (const c of arr(spec.ephemeralContainers)) defaultContainer(c);
  for (const v of arr(spec.volumes)) defaultVolume(v);
  defaultResourceList(spec.overhead);
  if (isObj(spec.resources)) {
    defaultResourceList(spec.resources.limits);
    defaultResourceList(spec.resources.requests);
  }
}

/** SetDefaults_Pod: what only real pods get (not templates). */
function defaultPodOnly(pod: Obj): void {
  const spec = pod.spec;
  if (!isObj(spec)) return;
  for (const c of [...arr(spec.containers), ...arr(spec.initContainers)]) {
    if (!isObj(c) || !isObj(c.resources) || !isObj(c.resources.limits)) continue;
    const req = isObj(c.resources.requests) ? c.resources.requests : (c.resources.requests = {});
    for (const [k, v] of Object.entries(c.resources.limits)) if (!(k in req)) req[k] = v;
  }
  setIfUnset(spec, 'enableServiceLinks', true);
  if (spec.hostNetwork === true) {
    for (const c of [...arr(spec.containers), ...arr(spec.initContainers)]) {
      for (const port of arr(c?.ports)) if (isObj(port) && (unset(port.hostPort) || port.hostPort === 0)) port.hostPort = port.containerPort;
    }
  }
}

function defaultPodTemplateSpec(tpl: unknown): void {
  if (isObj(tpl)) defaultPodSpec(tpl.spec);
}

// ---------------------------------------------------------------------------------------------
// per kind

function defaultPVCSpec(spec: Obj): void {
  setIfUnset(spec, 'volumeMode', 'Filesystem');
  if (isObj(spec.resources)) {
    defaultResourceList(spec.resources.requests);
    defaultResourceList(spec.resources.limits);
  }
}

function defaultPVC(pvc: Obj): void {
  defaultPVCSpec(ensureObj(pvc, 'spec'));
  const status = ensureObj(pvc, 'status');
  setIfEmpty(status, 'phase', 'Pending');
  defaultResourceList(status.capacity);
  defaultResourceList(status.allocatedResources);
}

function defaultPV(pv: Obj): void {
  const spec = ensureObj(pv, 'spec');
  setIfEmpty(spec, 'persistentVolumeReclaimPolicy', 'Retain');
  setIfUnset(spec, 'volumeMode', 'Filesystem');
  defaultResourceList(spec.capacity);
  if (isObj(spec.hostPath)) setIfUnset(spec.hostPath, 'type', '');
  if (isObj(spec.iscsi)) setIfEmpty(spec.iscsi, 'iscsiInterface', 'default');
  if (isObj(spec.rbd)) {
    setIfEmpty(spec.rbd, 'pool', 'rbd');
    setIfEmpty(spec.rbd, 'user', 'admin');
    setIfEmpty(spec.rbd, 'keyring', '/etc/ceph/keyring');
  }
  if (isObj(spec.azureDisk)) {
    setIfUnset(spec.azureDisk, 'cachingMode', 'ReadWrite');
    setIfUnset(spec.azureDisk, 'fsType', 'ext4');
    setIfUnset(spec.azureDisk, 'readOnly', false);
    setIfUnset(spec.azureDisk, 'kind', 'Shared');
  }
  if (isObj(spec.scaleIO)) {
    setIfEmpty(spec.scaleIO, 'storageMode', 'ThinProvisioned');
    setIfEmpty(spec.scaleIO, 'fsType', 'xfs');
  }
  setIfEmpty(ensureObj(pv, 'status'), 'phase', 'Pending');
}

function isExternallyAccessible(spec: Obj): boolean {
  return spec.type === 'LoadBalancer' || spec.type === 'NodePort' || (spec.type === 'ClusterIP' && arr(spec.externalIPs).length > 0);
}

function defaultService(svc: Obj): void {
  const spec = ensureObj(svc, 'spec');
  setIfEmpty(spec, 'sessionAffinity', 'None');
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP') {
    const cfg = spec.sessionAffinityConfig;
    if (!isObj(cfg) || !isObj(cfg.clientIP) || unset(cfg.clientIP.timeoutSeconds)) spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10800 } };
  }
  setIfEmpty(spec, 'type', 'ClusterIP');
  for (const p of arr(spec.ports)) {
    if (!isObj(p)) continue;
    setIfEmpty(p, 'protocol', 'TCP');
    if (unset(p.targetPort) || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  if (isExternallyAccessible(spec)) setIfEmpty(spec, 'externalTrafficPolicy', 'Cluster');
  if (unset(spec.internalTrafficPolicy) && ['NodePort', 'LoadBalancer', 'ClusterIP'].includes(spec.type)) spec.internalTrafficPolicy = 'Cluster';
  if (spec.type === 'LoadBalancer') {
    setIfUnset(spec, 'allocateLoadBalancerNodePorts', true);
    for (const ing of arr(svc.status?.loadBalancer?.ingress)) if (isObj(ing) && ing.ip && unset(ing.ipMode)) ing.ipMode = 'VIP';
  }
  // What the registry does before allocation (strategy normalizeClusterIPs + initIPFamilyFields
  // on a single-stack IPv4 cluster); allocation itself is not done here.
  if (spec.type !== 'ExternalName') {
    if (spec.clusterIP && arr(spec.clusterIPs).length === 0) spec.clusterIPs = [spec.clusterIP];
    else if (!spec.clusterIP && arr(spec.clusterIPs).length) spec.clusterIP = spec.clusterIPs[0];
    const headlessSelectorless = spec.clusterIP === 'None' && Object.keys(isObj(spec.selector) ? spec.selector : {}).length === 0;
    if (unset(spec.ipFamilyPolicy)) spec.ipFamilyPolicy = headlessSelectorless ? 'RequireDualStack' : 'SingleStack';
    const families: string[] = arr(spec.ipFamilies).slice();
    arr(spec.clusterIPs).forEach((ip: string, i: number) => {
      if (ip === 'None' || i < families.length) return;
      const fam = typeof ip === 'string' ? ipFamilyOf(ip) : undefined;
      if (fam) families.push(fam);
    });
    if (families.length === 0) families.push('IPv4');
    if (headlessSelectorless && families.length < 2 && spec.ipFamilyPolicy !== 'SingleStack') families.push(families[0] === 'IPv4' ? 'IPv6' : 'IPv4');
    spec.ipFamilies = families;
  }
  const status = ensureObj(svc, 'status');
  if (!isObj(status.loadBalancer)) status.loadBalancer = {};
}

function defaultNamespace(ns: Obj): void {
  const meta = ensureObj(ns, 'metadata');
  if (meta.name) {
    const labels = ensureObj(meta, 'labels');
    labels['kubernetes.io/metadata.name'] = meta.name;
  }
  const spec = ensureObj(ns, 'spec');
  if (unset(spec.finalizers)) spec.finalizers = ['kubernetes'];
  setIfEmpty(ensureObj(ns, 'status'), 'phase', 'Active');
}

/** stringData is write-only: it is folded into data (base64) on the way in, as conversion does. */
function defaultSecret(secret: Obj): void {
  setIfEmpty(secret, 'type', 'Opaque');
  if (isObj(secret.stringData)) {
    const data = ensureObj(secret, 'data');
    for (const [k, v] of Object.entries(secret.stringData)) data[k] = Buffer.from(String(v ?? ''), 'utf8').toString('base64');
    delete secret.stringData;
    if (Object.keys(data).length === 0) delete secret.data;
  } else if (secret.stringData === null) delete secret.stringData;
}

function defaultLimitRange(lr: Obj): void {
  for (const item of arr(lr.spec?.limits)) {
    if (!isObj(item)) continue;
    for (const k of ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio']) defaultResourceList(item[k]);
    if (item.type !== 'Container') continue;
    const def: Obj = isObj(item.default) ? item.default : {};
    const defReq: Obj = isObj(item.defaultRequest) ? item.defaultRequest : {};
    for (const [k, v] of Object.entries(isObj(item.max) ? item.max : {})) if (!(k in def)) def[k] = v;
    for (const [k, v] of Object.entries(def)) if (!(k in defReq)) defReq[k] = v;
    for (const [k, v] of Object.entries(isObj(item.min) ? item.min : {})) if (!(k in defReq)) defReq[k] = v;
    if (Object.keys(def).length) item.default = def;
    if (Object.keys(defReq).length) item.defaultRequest = defReq;
  }
}

function defaultNode(node: Obj): void {
  // v1 carries the first pod range twice (podCIDR and podCIDRs[0]); one given fills the other,
  // as the internal/v1 conversion does upstream.
  const spec = node.spec;
  if (isObj(spec)) {
    const cidrs = Array.isArray(spec.podCIDRs) ? spec.podCIDRs : [];
    if (typeof spec.podCIDR === 'string' && spec.podCIDR && !cidrs.length) spec.podCIDRs = [spec.podCIDR];
    else if (cidrs.length && typeof cidrs[0] === 'string' && !spec.podCIDR) spec.podCIDR = cidrs[0];
  }
  const status = node.status;
  if (!isObj(status)) return;
  defaultResourceList(status.capacity);
  defaultResourceList(status.allocatable);
  if (unset(status.allocatable) && isObj(status.capacity)) status.allocatable = { ...status.capacity };
}

function defaultDeployment(d: Obj): void {
  const spec = ensureObj(d, 'spec');
  setIfUnset(spec, 'replicas', 1);
  const strategy = ensureObj(spec, 'strategy');
  setIfEmpty(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') {
    const ru = ensureObj(strategy, 'rollingUpdate');
    setIfUnset(ru, 'maxUnavailable', '25%');
    setIfUnset(ru, 'maxSurge', '25%');
  }
  setIfUnset(spec, 'revisionHistoryLimit', 10);
  setIfUnset(spec, 'progressDeadlineSeconds', 600);
  defaultPodTemplateSpec(spec.template);
}

function defaultDaemonSet(ds: Obj): void {
  const spec = ensureObj(ds, 'spec');
  const us = ensureObj(spec, 'updateStrategy');
  setIfEmpty(us, 'type', 'RollingUpdate');
  if (us.type === 'RollingUpdate') {
    const ru = ensureObj(us, 'rollingUpdate');
    setIfUnset(ru, 'maxUnavailable', 1);
    setIfUnset(ru, 'maxSurge', 0);
  }
  setIfUnset(spec, 'revisionHistoryLimit', 10);
  defaultPodTemplateSpec(spec.template);
}

function defaultStatefulSet(ss: Obj): void {
  const spec = ensureObj(ss, 'spec');
  setIfEmpty(spec, 'podManagementPolicy', 'OrderedReady');
  const us = ensureObj(spec, 'updateStrategy');
  if (unset(us.type) || us.type === '') {
    us.type = 'RollingUpdate';
    if (!isObj(us.rollingUpdate)) us.rollingUpdate = {};
  }
  if (us.type === 'RollingUpdate' && isObj(us.rollingUpdate)) setIfUnset(us.rollingUpdate, 'partition', 0);
  const retention = ensureObj(spec, 'persistentVolumeClaimRetentionPolicy');
  setIfEmpty(retention, 'whenDeleted', 'Retain');
  setIfEmpty(retention, 'whenScaled', 'Retain');
  setIfUnset(spec, 'replicas', 1);
  setIfUnset(spec, 'revisionHistoryLimit', 10);
  defaultPodTemplateSpec(spec.template);
  for (const pvc of arr(spec.volumeClaimTemplates)) {
    if (!isObj(pvc)) continue;
    // apps/v1 conversion stamps the embedded claims' type meta.
    setIfEmpty(pvc, 'apiVersion', 'v1');
    setIfEmpty(pvc, 'kind', 'PersistentVolumeClaim');
    defaultPVC(pvc);
  }
}

function defaultJob(job: Obj): void {
  const spec = ensureObj(job, 'spec');
  if (unset(spec.completions) && unset(spec.parallelism)) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  setIfUnset(spec, 'parallelism', 1);
  if (unset(spec.backoffLimit)) spec.backoffLimit = unset(spec.backoffLimitPerIndex) ? 6 : 2147483647;
  const meta = ensureObj(job, 'metadata');
  const tplLabels = spec.template?.metadata?.labels;
  if (isObj(tplLabels) && (!isObj(meta.labels) || Object.keys(meta.labels).length === 0)) meta.labels = { ...tplLabels };
  setIfUnset(spec, 'completionMode', 'NonIndexed');
  setIfUnset(spec, 'suspend', false);
  for (const rule of arr(spec.podFailurePolicy?.rules)) {
    for (const pattern of arr(rule?.onPodConditions)) if (isObj(pattern)) setIfEmpty(pattern, 'status', 'True');
  }
  if (unset(spec.podReplacementPolicy)) spec.podReplacementPolicy = isObj(spec.podFailurePolicy) ? 'Failed' : 'TerminatingOrFailed';
  setIfUnset(spec, 'manualSelector', false);
  defaultPodTemplateSpec(spec.template);
}

function defaultCronJob(cj: Obj): void {
  const spec = ensureObj(cj, 'spec');
  setIfEmpty(spec, 'concurrencyPolicy', 'Allow');
  setIfUnset(spec, 'suspend', false);
  setIfUnset(spec, 'successfulJobsHistoryLimit', 3);
  setIfUnset(spec, 'failedJobsHistoryLimit', 1);
  if (isObj(spec.jobTemplate) && isObj(spec.jobTemplate.spec)) defaultPodTemplateSpec(spec.jobTemplate.spec.template);
}

function defaultReplicationController(rc: Obj): void {
  const spec = ensureObj(rc, 'spec');
  const labels = spec.template?.metadata?.labels;
  if (isObj(labels)) {
    if (!isObj(spec.selector) || Object.keys(spec.selector).length === 0) spec.selector = { ...labels };
    const meta = ensureObj(rc, 'metadata');
    if (!isObj(meta.labels) || Object.keys(meta.labels).length === 0) meta.labels = { ...labels };
  }
  setIfUnset(spec, 'replicas', 1);
  defaultPodTemplateSpec(spec.template);
}

const HPA_SCALE_UP = { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] };
const HPA_SCALE_DOWN = { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] };

function defaultHPA(hpa: Obj, version: string): void {
  const spec = ensureObj(hpa, 'spec');
  setIfUnset(spec, 'minReplicas', 1);
  if (version === 'v1') return;
  if (arr(spec.metrics).length === 0) {
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
  }
  for (const m of arr(spec.metrics)) {
    for (const src of [m?.resource, m?.containerResource, m?.pods, m?.object, m?.external]) {
      if (isObj(src) && isObj(src.target)) { defaultQuantityField(src.target, 'value'); defaultQuantityField(src.target, 'averageValue'); }
    }
  }
  if (isObj(spec.behavior)) {
    const fill = (rules: unknown, defaults: Obj): Obj => {
      const r: Obj = isObj(rules) ? rules : {};
      if (unset(r.stabilizationWindowSeconds) && defaults.stabilizationWindowSeconds !== undefined) r.stabilizationWindowSeconds = defaults.stabilizationWindowSeconds;
      setIfUnset(r, 'selectPolicy', defaults.selectPolicy);
      if (unset(r.policies)) r.policies = defaults.policies.map((p: Obj) => ({ ...p }));
      return r;
    };
    spec.behavior.scaleUp = fill(spec.behavior.scaleUp, HPA_SCALE_UP);
    spec.behavior.scaleDown = fill(spec.behavior.scaleDown, HPA_SCALE_DOWN);
  }
}

function defaultNetworkPolicy(np: Obj): void {
  const spec = ensureObj(np, 'spec');
  for (const rule of [...arr(spec.ingress), ...arr(spec.egress)]) {
    for (const port of arr(rule?.ports)) if (isObj(port)) setIfEmpty(port, 'protocol', 'TCP');
  }
  if (arr(spec.policyTypes).length === 0) {
    spec.policyTypes = ['Ingress'];
    if (arr(spec.egress).length) spec.policyTypes.push('Egress');
  }
}

function defaultSubjects(subjects: unknown): void {
  for (const s of arr(subjects)) {
    if (!isObj(s)) continue;
    if ((s.kind === 'User' || s.kind === 'Group') && !s.apiGroup) s.apiGroup = RBAC_GROUP;
  }
}

function defaultRoleBinding(rb: Obj): void {
  const ref = ensureObj(rb, 'roleRef');
  setIfEmpty(ref, 'apiGroup', RBAC_GROUP);
  defaultSubjects(rb.subjects);
}

function defaultWebhooks(cfg: Obj, mutating: boolean): void {
  for (const wh of arr(cfg.webhooks)) {
    if (!isObj(wh)) continue;
    setIfUnset(wh, 'failurePolicy', 'Fail');
    setIfUnset(wh, 'matchPolicy', 'Equivalent');
    setIfUnset(wh, 'namespaceSelector', {});
    setIfUnset(wh, 'objectSelector', {});
    setIfUnset(wh, 'timeoutSeconds', 10);
    if (mutating) setIfUnset(wh, 'reinvocationPolicy', 'Never');
    for (const r of arr(wh.rules)) if (isObj(r)) setIfUnset(r, 'scope', '*');
    if (isObj(wh.clientConfig) && isObj(wh.clientConfig.service)) setIfUnset(wh.clientConfig.service, 'port', 443);
  }
}

/** SetDefaults_MatchResources (admission policies) and the rules' scope. */
function defaultMatchResources(m: Obj): void {
  setIfUnset(m, 'matchPolicy', 'Equivalent');
  setIfUnset(m, 'namespaceSelector', {});
  setIfUnset(m, 'objectSelector', {});
  for (const r of [...arr(m.resourceRules), ...arr(m.excludeResourceRules)]) if (isObj(r)) setIfUnset(r, 'scope', '*');
}

function defaultEndpoints(ep: Obj): void {
  for (const ss of arr(ep.subsets)) for (const p of arr(ss?.ports)) if (isObj(p)) setIfEmpty(p, 'protocol', 'TCP');
}

function defaultEndpointSlice(es: Obj): void {
  for (const p of arr(es.ports)) {
    if (!isObj(p)) continue;
    setIfUnset(p, 'name', '');
    setIfUnset(p, 'protocol', 'TCP');
  }
}

function defaultResourceQuota(rq: Obj): void {
  defaultResourceList(rq.spec?.hard);
  defaultResourceList(rq.status?.hard);
  defaultResourceList(rq.status?.used);
}

/**
 * Applies the defaults Kubernetes 1.32 applies to a built-in object of the given kind
 * (mutates `obj`). Unknown kinds are left alone.
 */
export function applyDefaults(group: string, version: string, kind: string, obj: any): void {
  if (!isObj(obj)) return;
  switch (`${group}/${kind}`) {
    case '/Pod':
      defaultPodSpec(ensureObj(obj, 'spec'));
      defaultPodOnly(obj);
      return;
    case '/PodTemplate':
      defaultPodTemplateSpec(obj.template);
      return;
    case '/ReplicationController': return defaultReplicationController(obj);
    case '/Service': return defaultService(obj);
    case '/Namespace': return defaultNamespace(obj);
    case '/Secret': return defaultSecret(obj);
    case '/PersistentVolumeClaim': return defaultPVC(obj);
    case '/PersistentVolume': return defaultPV(obj);
    case '/LimitRange': return defaultLimitRange(obj);
    case '/ResourceQuota': return defaultResourceQuota(obj);
    case '/Node': return defaultNode(obj);
    case '/Endpoints': return defaultEndpoints(obj);
    case 'apps/Deployment': return defaultDeployment(obj);
    case 'apps/ReplicaSet': {
      const spec = ensureObj(obj, 'spec');
      setIfUnset(spec, 'replicas', 1);
      defaultPodTemplateSpec(spec.template);
      return;
    }
    case 'apps/StatefulSet': return defaultStatefulSet(obj);
    case 'apps/DaemonSet': return defaultDaemonSet(obj);
    case 'batch/Job': return defaultJob(obj);
    case 'batch/CronJob': return defaultCronJob(obj);
    case 'autoscaling/HorizontalPodAutoscaler': return defaultHPA(obj, version);
    case 'networking.k8s.io/NetworkPolicy': return defaultNetworkPolicy(obj);
    case 'networking.k8s.io/IngressClass':
      if (isObj(obj.spec) && isObj(obj.spec.parameters)) setIfUnset(obj.spec.parameters, 'scope', 'Cluster');
      return;
    case 'discovery.k8s.io/EndpointSlice': return defaultEndpointSlice(obj);
    case 'scheduling.k8s.io/PriorityClass':
      setIfUnset(obj, 'preemptionPolicy', 'PreemptLowerPriority');
      return;
    case 'rbac.authorization.k8s.io/RoleBinding':
    case 'rbac.authorization.k8s.io/ClusterRoleBinding':
      return defaultRoleBinding(obj);
    case 'storage.k8s.io/StorageClass':
      setIfUnset(obj, 'reclaimPolicy', 'Delete');
      setIfUnset(obj, 'volumeBindingMode', 'Immediate');
      return;
    case 'storage.k8s.io/CSIDriver': {
      const spec = ensureObj(obj, 'spec');
      setIfUnset(spec, 'attachRequired', true);
      setIfUnset(spec, 'podInfoOnMount', false);
      setIfUnset(spec, 'storageCapacity', false);
      setIfUnset(spec, 'fsGroupPolicy', 'ReadWriteOnceWithFSType');
      setIfUnset(spec, 'requiresRepublish', false);
      setIfUnset(spec, 'seLinuxMount', false);
      if (unset(spec.volumeLifecycleModes)) spec.volumeLifecycleModes = ['Persistent'];
      return;
    }
    case 'storage.k8s.io/CSIStorageCapacity':
      defaultQuantityField(obj, 'capacity');
      defaultQuantityField(obj, 'maximumVolumeSize');
      return;
    case 'admissionregistration.k8s.io/ValidatingAdmissionPolicy': {
      const spec = ensureObj(obj, 'spec');
      setIfUnset(spec, 'failurePolicy', 'Fail');
      if (isObj(spec.matchConstraints)) defaultMatchResources(spec.matchConstraints);
      return;
    }
    case 'admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding':
      if (isObj(obj.spec) && isObj(obj.spec.matchResources)) defaultMatchResources(obj.spec.matchResources);
      return;
    case 'admissionregistration.k8s.io/MutatingWebhookConfiguration': return defaultWebhooks(obj, true);
    case 'admissionregistration.k8s.io/ValidatingWebhookConfiguration': return defaultWebhooks(obj, false);
    default:
      return;
  }
}

/**
 * The job registry's selector generation (done at create time, after the uid is assigned):
 * unless `spec.manualSelector` is true, the template gets `batch.kubernetes.io/controller-uid`,
 * `batch.kubernetes.io/job-name` and the legacy `controller-uid`/`job-name` labels, and the
 * selector matches `batch.kubernetes.io/controller-uid`. Labels the user set are kept (and then
 * rejected by validation if they conflict).
 */
export function prepareJobSelector(job: any): void {
  if (!isObj(job)) return;
  const spec = ensureObj(job, 'spec');
  if (spec.manualSelector === true) return;
  const meta = isObj(job.metadata) ? job.metadata : {};
  const tpl = ensureObj(spec, 'template');
  const tplMeta = ensureObj(tpl, 'metadata');
  const labels = ensureObj(tplMeta, 'labels');
  for (const k of ['job-name', 'batch.kubernetes.io/job-name']) if (!(k in labels)) labels[k] = String(meta.name ?? '');
  for (const k of ['controller-uid', 'batch.kubernetes.io/controller-uid']) if (!(k in labels)) labels[k] = String(meta.uid ?? '');
  const selector = ensureObj(spec, 'selector');
  const matchLabels = ensureObj(selector, 'matchLabels');
  if (!('batch.kubernetes.io/controller-uid' in matchLabels)) matchLabels['batch.kubernetes.io/controller-uid'] = String(meta.uid ?? '');
  // Kubernetes defaults the job's labels from the template's again whenever it decodes the stored
  // job, so a job created without labels shows the generated ones; do it once here.
  if (isObj(job.metadata) && (!isObj(job.metadata.labels) || Object.keys(job.metadata.labels).length === 0)) job.metadata.labels = { ...labels };
}

/**
 * The DefaultTolerationSeconds admission plugin: pods that do not already tolerate the
 * not-ready/unreachable NoExecute taints get tolerations for them with tolerationSeconds 300.
 */
export function defaultTolerationSeconds(pod: any, notReadySeconds = DEFAULT_TOLERATION_SECONDS, unreachableSeconds = DEFAULT_TOLERATION_SECONDS): void {
  if (!isObj(pod)) return;
  const spec = ensureObj(pod, 'spec');
  const tolerations = arr(spec.tolerations);
  const tolerates = (key: string) => tolerations.some((t: any) => isObj(t) && (t.key === key || !t.key) && (t.effect === 'NoExecute' || !t.effect));
  const add: Obj[] = [];
  if (!tolerates('node.kubernetes.io/not-ready')) add.push({ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: notReadySeconds });
  if (!tolerates('node.kubernetes.io/unreachable')) add.push({ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: unreachableSeconds });
  if (add.length) spec.tolerations = [...tolerations, ...add];
}

const SYSTEM_PRIORITY_CLASSES: Record<string, number> = { 'system-node-critical': 2000001000, 'system-cluster-critical': 2000000000 };

/**
 * What the Priority admission plugin does to a pod: resolves `priorityClassName` to `priority`
 * (0 when there is no class and no global default) and fills `preemptionPolicy`
 * (PreemptLowerPriority unless the class says otherwise). Not part of defaulting upstream; pods
 * only show `priority: 0` because this plugin ran. `lookup` resolves user-defined classes;
 * returns false if the named class does not exist (upstream rejects the pod).
 */
export function admitPodPriority(pod: any, lookup?: (name: string) => { value: number; preemptionPolicy?: string } | undefined, globalDefault?: { name: string; value: number; preemptionPolicy?: string }): boolean {
  if (!isObj(pod)) return true;
  const spec = ensureObj(pod, 'spec');
  let value = 0;
  let policy = 'PreemptLowerPriority';
  const name: string = spec.priorityClassName ?? '';
  if (!name) {
    if (globalDefault) {
      spec.priorityClassName = globalDefault.name;
      value = globalDefault.value;
      policy = globalDefault.preemptionPolicy ?? policy;
    }
  } else if (name in SYSTEM_PRIORITY_CLASSES) {
    value = SYSTEM_PRIORITY_CLASSES[name];
  } else {
    const pc = lookup?.(name);
    if (!pc) return false;
    value = pc.value;
    policy = pc.preemptionPolicy ?? policy;
  }
  spec.priority = value;
  setIfUnset(spec, 'preemptionPolicy', policy);
  return true;
}

/**
 * What the Service registry does on update before validation (patchAllocatedValues): a PUT
 * that omits already-allocated clusterIP(s), nodePorts or healthCheckNodePort keeps the old
 * ones instead of looking like a change; then dropTypeDependentFields. Mutates `svc`.
 */
export function prepareServiceForUpdate(svc: any, old: any): void {
  if (!isObj(svc) || !isObj(old)) return;
  const spec = ensureObj(svc, 'spec');
  const oldSpec: Obj = isObj(old.spec) ? old.spec : {};
  const needsClusterIP = (s: Obj) => s.type !== 'ExternalName';
  if (needsClusterIP(spec) && needsClusterIP(oldSpec)) {
    if (!spec.clusterIP && oldSpec.clusterIP) spec.clusterIP = oldSpec.clusterIP;
    if (arr(spec.clusterIPs).length === 0 && arr(oldSpec.clusterIPs).length) {
      if (!spec.clusterIP || spec.clusterIP === oldSpec.clusterIP) spec.clusterIPs = [...oldSpec.clusterIPs];
    }
  }
  const needsNodePort = (s: Obj) => s.type === 'NodePort' || s.type === 'LoadBalancer';
  if (needsNodePort(spec) && needsNodePort(oldSpec)) {
    for (const p of arr(spec.ports)) {
      if (!isObj(p) || p.nodePort) continue;
      const match = arr(oldSpec.ports).find((o: any) => o?.port === p.port && (o?.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
      if (match?.nodePort) p.nodePort = match.nodePort;
    }
  }
  if (spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local' && !spec.healthCheckNodePort && oldSpec.healthCheckNodePort) {
    spec.healthCheckNodePort = oldSpec.healthCheckNodePort;
  }
  dropServiceTypeDependentFields(svc, old);
}

/**
 * dropTypeDependentFields (Service registry, on update): when the type changes so that a field
 * no longer applies, and the user did not also change that field, the field is cleared — so that
 * e.g. `kubectl apply` of NodePort → ClusterIP does not trip over the old nodePorts. Mutates `svc`.
 */
export function dropServiceTypeDependentFields(svc: any, old: any): void {
  if (!isObj(svc) || !isObj(old)) return;
  const spec = ensureObj(svc, 'spec');
  const o: Obj = isObj(old.spec) ? old.spec : {};
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  const needsClusterIP = (s: Obj) => s.type !== 'ExternalName';
  const needsNodePort = (s: Obj) => s.type === 'NodePort' || s.type === 'LoadBalancer';
  const needsHC = (s: Obj) => s.type === 'LoadBalancer' && s.externalTrafficPolicy === 'Local';
  const accessible = (s: Obj) => s.type === 'LoadBalancer' || s.type === 'NodePort' || (s.type === 'ClusterIP' && arr(s.externalIPs).length > 0);
  if (needsClusterIP(o) && !needsClusterIP(spec)) {
    const ips = (s: Obj) => (arr(s.clusterIPs).length ? arr(s.clusterIPs) : s.clusterIP ? [s.clusterIP] : []);
    if (same(ips(o), ips(spec)) && (spec.clusterIP ?? '') === (o.clusterIP ?? '')) { delete spec.clusterIP; delete spec.clusterIPs; }
    if (same(o.ipFamilies, spec.ipFamilies)) delete spec.ipFamilies;
    if (same(o.ipFamilyPolicy, spec.ipFamilyPolicy)) delete spec.ipFamilyPolicy;
  }
  if (needsNodePort(o) && !needsNodePort(spec)) {
    const nps = (s: Obj) => arr(s.ports).map((p: any) => p?.nodePort ?? 0);
    const oldPorts = nps(o);
    const newPorts = nps(spec);
    // sameNodePorts: every nodePort the user still has was allocated before.
    if (newPorts.every((np: number) => np === 0 || oldPorts.includes(np))) for (const p of arr(spec.ports)) if (isObj(p)) delete p.nodePort;
  }
  if (needsHC(o) && !needsHC(spec) && (o.healthCheckNodePort ?? 0) === (spec.healthCheckNodePort ?? 0)) delete spec.healthCheckNodePort;
  if (o.type === 'LoadBalancer' && spec.type !== 'LoadBalancer' && isSet(spec.allocateLoadBalancerNodePorts) && isSet(o.allocateLoadBalancerNodePorts) && spec.allocateLoadBalancerNodePorts === o.allocateLoadBalancerNodePorts) {
    delete spec.allocateLoadBalancerNodePorts;
  }
  if (o.type === 'LoadBalancer' && spec.type !== 'LoadBalancer' && same(o.loadBalancerClass, spec.loadBalancerClass)) delete spec.loadBalancerClass;
  if (accessible(o) && !accessible(spec) && (o.externalTrafficPolicy ?? '') === (spec.externalTrafficPolicy ?? '')) delete spec.externalTrafficPolicy;
  if (spec.type !== 'LoadBalancer' && isObj(svc.status)) svc.status.loadBalancer = {};
}
