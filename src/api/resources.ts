/**
 * The built-in resources keelson serves: one entry per (group, version, resource), with the names,
 * scope, short names, categories and subresources Kubernetes 1.32 advertises in discovery.
 * Everything keyed by kind (discovery, OpenAPI, tables, strategies, storage keys) starts here.
 */

export interface SubresourceInfo {
  name: string;
  /** The kind the subresource speaks (Scale for scale, the parent kind for status). */
  group: string;
  version: string;
  kind: string;
  verbs: string[];
}

export interface ResourceInfo {
  group: string;
  version: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: string[];
  subresources: SubresourceInfo[];
  /** Storage key segment: resources sharing storage across groups (events) share this. */
  storageResource: string;
  /** Storage group (events.k8s.io events are stored as core events). */
  storageGroup: string;
  /** Name of the OpenAPI schema of the kind, e.g. io.k8s.api.apps.v1.Deployment. */
  schemaName: string;
}

const CRUD = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const CREATE_ONLY = ['create'];
const GPU = ['get', 'patch', 'update'];

/** Go package path segment for a group, as used in OpenAPI schema names. */
export function schemaPackage(group: string, version: string): string {
  const pkg: Record<string, string> = {
    '': 'core', 'apps': 'apps', 'batch': 'batch', 'autoscaling': 'autoscaling', 'policy': 'policy',
    'networking.k8s.io': 'networking', 'rbac.authorization.k8s.io': 'rbac', 'storage.k8s.io': 'storage',
    'coordination.k8s.io': 'coordination', 'events.k8s.io': 'events', 'scheduling.k8s.io': 'scheduling',
    'discovery.k8s.io': 'discovery', 'node.k8s.io': 'node', 'certificates.k8s.io': 'certificates',
    'authorization.k8s.io': 'authorization', 'authentication.k8s.io': 'authentication',
    'admissionregistration.k8s.io': 'admissionregistration', 'flowcontrol.apiserver.k8s.io': 'flowcontrol',
  };
  if (group === 'apiextensions.k8s.io') return `io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.${version}`;
  if (group === 'apiregistration.k8s.io') return `io.k8s.kube-aggregator.pkg.apis.apiregistration.${version}`;
  return `io.k8s.api.${pkg[group] ?? group.split('.')[0]}.${version}`;
}

interface Spec {
  gv: string; kind: string; plural: string; namespaced?: boolean; short?: string[]; cats?: string[];
  sub?: string[]; verbs?: string[]; storage?: [string, string]; singular?: string;
}

const SCALE = 'scale';

function build(s: Spec): ResourceInfo {
  const [group, version] = s.gv.includes('/') ? s.gv.split('/') : ['', s.gv];
  const subresources: SubresourceInfo[] = (s.sub ?? []).map((name) => {
    if (name === SCALE) return { name, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: GPU };
    if (name === 'status') return { name, group, version, kind: s.kind, verbs: GPU };
    if (name === 'binding') return { name, group, version, kind: 'Binding', verbs: CREATE_ONLY };
    if (name === 'eviction') return { name, group: 'policy', version: 'v1', kind: 'Eviction', verbs: CREATE_ONLY };
    if (name === 'token') return { name, group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: CREATE_ONLY };
    if (name === 'ephemeralcontainers' || name === 'resize') return { name, group, version, kind: s.kind, verbs: GPU };
    if (name === 'finalize') return { name, group, version, kind: s.kind, verbs: ['update'] };
    if (name === 'log') return { name, group, version, kind: s.kind, verbs: ['get'] };
    if (name === 'exec' || name === 'attach' || name === 'portforward') return { name, group, version, kind: name === 'exec' ? 'PodExecOptions' : name === 'attach' ? 'PodAttachOptions' : 'PodPortForwardOptions', verbs: ['create', 'get'] };
    if (name === 'proxy') return { name, group, version, kind: `${s.kind === 'Pod' ? 'Pod' : s.kind === 'Service' ? 'Service' : 'Node'}ProxyOptions`, verbs: ['create', 'delete', 'get', 'patch', 'update'] };
    return { name, group, version, kind: s.kind, verbs: GPU };
  });
  return {
    group, version, kind: s.kind, listKind: `${s.kind}List`, plural: s.plural,
    singular: s.singular ?? s.kind.toLowerCase(), namespaced: s.namespaced ?? true,
    shortNames: s.short ?? [], categories: s.cats ?? [], verbs: s.verbs ?? CRUD, subresources,
    storageGroup: s.storage?.[0] ?? group, storageResource: s.storage?.[1] ?? s.plural,
    schemaName: `${schemaPackage(group, version)}.${s.kind}`,
  };
}

const ALL = ['all'];

const SPECS: Spec[] = [
  // core/v1
  { gv: 'v1', kind: 'Binding', plural: 'bindings', verbs: CREATE_ONLY },
  { gv: 'v1', kind: 'ComponentStatus', plural: 'componentstatuses', namespaced: false, short: ['cs'], verbs: ['get', 'list'] },
  { gv: 'v1', kind: 'ConfigMap', plural: 'configmaps', short: ['cm'] },
  { gv: 'v1', kind: 'Endpoints', plural: 'endpoints', short: ['ep'], singular: 'endpoints' },
  { gv: 'v1', kind: 'Event', plural: 'events', short: ['ev'] },
  { gv: 'v1', kind: 'LimitRange', plural: 'limitranges', short: ['limits'] },
  { gv: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false, short: ['ns'], sub: ['finalize', 'status'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] },
  { gv: 'v1', kind: 'Node', plural: 'nodes', namespaced: false, short: ['no'], sub: ['proxy', 'status'] },
  { gv: 'v1', kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', short: ['pvc'], sub: ['status'] },
  { gv: 'v1', kind: 'PersistentVolume', plural: 'persistentvolumes', namespaced: false, short: ['pv'], sub: ['status'] },
  { gv: 'v1', kind: 'Pod', plural: 'pods', short: ['po'], cats: ALL, sub: ['attach', 'binding', 'ephemeralcontainers', 'eviction', 'exec', 'log', 'portforward', 'proxy', 'resize', 'status'] },
  { gv: 'v1', kind: 'PodTemplate', plural: 'podtemplates' },
  { gv: 'v1', kind: 'ReplicationController', plural: 'replicationcontrollers', short: ['rc'], cats: ALL, sub: ['scale', 'status'] },
  { gv: 'v1', kind: 'ResourceQuota', plural: 'resourcequotas', short: ['quota'], sub: ['status'] },
  { gv: 'v1', kind: 'Secret', plural: 'secrets' },
  { gv: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', short: ['sa'], sub: ['token'] },
  { gv: 'v1', kind: 'Service', plural: 'services', short: ['svc'], cats: ALL, sub: ['proxy', 'status'] },
  // apps/v1
  { gv: 'apps/v1', kind: 'ControllerRevision', plural: 'controllerrevisions' },
  { gv: 'apps/v1', kind: 'DaemonSet', plural: 'daemonsets', short: ['ds'], cats: ALL, sub: ['status'] },
  { gv: 'apps/v1', kind: 'Deployment', plural: 'deployments', short: ['deploy'], cats: ALL, sub: ['scale', 'status'] },
  { gv: 'apps/v1', kind: 'ReplicaSet', plural: 'replicasets', short: ['rs'], cats: ALL, sub: ['scale', 'status'] },
  { gv: 'apps/v1', kind: 'StatefulSet', plural: 'statefulsets', short: ['sts'], cats: ALL, sub: ['scale', 'status'] },
  // batch/v1
  { gv: 'batch/v1', kind: 'CronJob', plural: 'cronjobs', short: ['cj'], cats: ALL, sub: ['status'] },
  { gv: 'batch/v1', kind: 'Job', plural: 'jobs', cats: ALL, sub: ['status'] },
  // autoscaling/v2 (v1 HPA is not served yet: it needs conversion)
  { gv: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', plural: 'horizontalpodautoscalers', short: ['hpa'], cats: ALL, sub: ['status'] },
  // networking.k8s.io/v1
  { gv: 'networking.k8s.io/v1', kind: 'IngressClass', plural: 'ingressclasses', namespaced: false },
  { gv: 'networking.k8s.io/v1', kind: 'Ingress', plural: 'ingresses', short: ['ing'], sub: ['status'] },
  { gv: 'networking.k8s.io/v1', kind: 'NetworkPolicy', plural: 'networkpolicies', short: ['netpol'] },
  // policy/v1
  { gv: 'policy/v1', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets', short: ['pdb'], sub: ['status'] },
  // rbac.authorization.k8s.io/v1
  { gv: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', plural: 'clusterrolebindings', namespaced: false },
  { gv: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', plural: 'clusterroles', namespaced: false },
  { gv: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', plural: 'rolebindings' },
  { gv: 'rbac.authorization.k8s.io/v1', kind: 'Role', plural: 'roles' },
  // storage.k8s.io/v1
  { gv: 'storage.k8s.io/v1', kind: 'CSIDriver', plural: 'csidrivers', namespaced: false },
  { gv: 'storage.k8s.io/v1', kind: 'CSINode', plural: 'csinodes', namespaced: false },
  { gv: 'storage.k8s.io/v1', kind: 'CSIStorageCapacity', plural: 'csistoragecapacities' },
  { gv: 'storage.k8s.io/v1', kind: 'StorageClass', plural: 'storageclasses', namespaced: false, short: ['sc'] },
  { gv: 'storage.k8s.io/v1', kind: 'VolumeAttachment', plural: 'volumeattachments', namespaced: false, sub: ['status'] },
  // coordination.k8s.io/v1
  { gv: 'coordination.k8s.io/v1', kind: 'Lease', plural: 'leases' },
  // events.k8s.io/v1 (stored with core events, converted on the way in and out)
  { gv: 'events.k8s.io/v1', kind: 'Event', plural: 'events', short: ['ev'], storage: ['', 'events'] },
  // scheduling.k8s.io/v1
  { gv: 'scheduling.k8s.io/v1', kind: 'PriorityClass', plural: 'priorityclasses', namespaced: false, short: ['pc'] },
  // discovery.k8s.io/v1
  { gv: 'discovery.k8s.io/v1', kind: 'EndpointSlice', plural: 'endpointslices' },
  // node.k8s.io/v1
  { gv: 'node.k8s.io/v1', kind: 'RuntimeClass', plural: 'runtimeclasses', namespaced: false },
  // certificates.k8s.io/v1
  { gv: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', plural: 'certificatesigningrequests', namespaced: false, short: ['csr'], sub: ['approval', 'status'] },
  // admissionregistration.k8s.io/v1
  { gv: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', plural: 'mutatingwebhookconfigurations', namespaced: false },
  { gv: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', plural: 'validatingwebhookconfigurations', namespaced: false },
  { gv: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy', plural: 'validatingadmissionpolicies', namespaced: false, sub: ['status'] },
  { gv: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding', plural: 'validatingadmissionpolicybindings', namespaced: false },
  // Reviews: create-only, answered by the authentication and authorization chains (never stored).
  { gv: 'authorization.k8s.io/v1', kind: 'LocalSubjectAccessReview', plural: 'localsubjectaccessreviews', verbs: CREATE_ONLY },
  { gv: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', plural: 'selfsubjectaccessreviews', namespaced: false, verbs: CREATE_ONLY },
  { gv: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', plural: 'selfsubjectrulesreviews', namespaced: false, verbs: CREATE_ONLY },
  { gv: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', plural: 'subjectaccessreviews', namespaced: false, verbs: CREATE_ONLY },
  { gv: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', plural: 'selfsubjectreviews', namespaced: false, verbs: CREATE_ONLY },
  { gv: 'authentication.k8s.io/v1', kind: 'TokenReview', plural: 'tokenreviews', namespaced: false, verbs: CREATE_ONLY },
  // apiregistration.k8s.io/v1: aggregated APIs, proxied to their service.
  { gv: 'apiregistration.k8s.io/v1', kind: 'APIService', plural: 'apiservices', namespaced: false, sub: ['status'] },
  // apiextensions.k8s.io/v1 (stored and served as plain objects until CRD serving lands)
  { gv: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', plural: 'customresourcedefinitions', namespaced: false, short: ['crd', 'crds'], cats: ['api-extensions'], sub: ['status'] },
];

export const BUILTIN_RESOURCES: ResourceInfo[] = SPECS.map(build);

/** Group versions in the order discovery lists them (core first, as Kubernetes does). */
export const GROUP_ORDER = [
  '', 'apiregistration.k8s.io', 'apps', 'events.k8s.io', 'authentication.k8s.io', 'authorization.k8s.io',
  'autoscaling', 'batch', 'certificates.k8s.io', 'networking.k8s.io', 'policy', 'rbac.authorization.k8s.io',
  'storage.k8s.io', 'admissionregistration.k8s.io', 'apiextensions.k8s.io', 'scheduling.k8s.io',
  'coordination.k8s.io', 'node.k8s.io', 'discovery.k8s.io', 'flowcontrol.apiserver.k8s.io',
];

export const gvString = (group: string, version: string) => (group ? `${group}/${version}` : version);
