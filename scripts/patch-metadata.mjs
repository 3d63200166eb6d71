// keelson's own tables applied on top of the schemas parsed from `kubernetes-types` by gen-schemas.mjs.
//
// kubernetes-types carries names, docs, required fields and TypeScript types only. What Kubernetes'
// OpenAPI v3 documents add on top is recorded here, as facts checked against the published
// Kubernetes v1.30–v1.32 API (openapi-spec/v3 documents, field tags of k8s.io/api):
//   - strategic-merge-patch metadata (x-kubernetes-patch-merge-key / -strategy), used by kubectl's
//     client-side apply and by keelson's SMP implementation;
//   - server-side-apply topology (x-kubernetes-list-type / -list-map-keys / -map-type);
//   - integer formats (kubernetes-types says `number` everywhere), byte strings, extra GVKs.
//
// Keys are full schema names; FIELD_EXTENSIONS entries that name a missing type or field make the
// generator fail, so typos and upstream renames are caught.

const CORE = 'io.k8s.api.core.v1';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const APPS = 'io.k8s.api.apps.v1';
const BATCH = 'io.k8s.api.batch.v1';
const AUTOSCALING2 = 'io.k8s.api.autoscaling.v2';
const POLICY = 'io.k8s.api.policy.v1';
const CERTS = 'io.k8s.api.certificates.v1';
const ADMREG = 'io.k8s.api.admissionregistration.v1';
const STORAGE = 'io.k8s.api.storage.v1';
const DISCOVERY = 'io.k8s.api.discovery.v1';
const APIEXT = 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1';

/** list-type map keyed by `keys`; with SMP merge on `mergeKey` (default: the first key) unless mergeKey === null. */
function mapList(keys, mergeKey = keys[0], strategy = 'merge') {
  const ext = { 'x-kubernetes-list-map-keys': keys, 'x-kubernetes-list-type': 'map' };
  if (mergeKey !== null) { ext['x-kubernetes-patch-merge-key'] = mergeKey; ext['x-kubernetes-patch-strategy'] = strategy; }
  return ext;
}
/** A set of scalars that strategic merge patch merges (union) instead of replacing. */
const mergedSet = { 'x-kubernetes-list-type': 'set', 'x-kubernetes-patch-strategy': 'merge' };
const set = { 'x-kubernetes-list-type': 'set' };
const atomic = { 'x-kubernetes-list-type': 'atomic' };
const atomicMap = { 'x-kubernetes-map-type': 'atomic' };
const conditions = { conditions: mapList(['type']) };

/** Field-level extensions: { schemaName: { field: extensions } }. */
export const FIELD_EXTENSIONS = {
  // --- core/v1 -------------------------------------------------------------------------------
  [`${CORE}.PodSpec`]: {
    containers: mapList(['name']),
    initContainers: mapList(['name']),
    ephemeralContainers: mapList(['name']),
    volumes: mapList(['name'], 'name', 'merge,retainKeys'),
    imagePullSecrets: mapList(['name']),
    hostAliases: mapList(['ip']),
    resourceClaims: mapList(['name'], 'name', 'merge,retainKeys'),
    schedulingGates: mapList(['name']),
    topologySpreadConstraints: mapList(['topologyKey', 'whenUnsatisfiable'], 'topologyKey'),
    tolerations: atomic,
    nodeSelector: atomicMap,
  },
  [`${CORE}.Container`]: {
    env: mapList(['name']),
    ports: mapList(['containerPort', 'protocol'], 'containerPort'),
    volumeMounts: mapList(['mountPath']),
    volumeDevices: mapList(['devicePath']),
  },
  [`${CORE}.EphemeralContainer`]: {
    env: mapList(['name']),
    ports: mapList(['containerPort', 'protocol'], 'containerPort'),
    volumeMounts: mapList(['mountPath']),
    volumeDevices: mapList(['devicePath']),
  },
  [`${CORE}.ResourceRequirements`]: { claims: mapList(['name'], null) },
  [`${CORE}.PodStatus`]: {
    ...conditions,
    podIPs: mapList(['ip']),
    hostIPs: { 'x-kubernetes-list-type': 'atomic', 'x-kubernetes-patch-merge-key': 'ip', 'x-kubernetes-patch-strategy': 'merge' },
    resourceClaimStatuses: mapList(['name'], 'name', 'merge,retainKeys'),
  },
  [`${CORE}.ServiceSpec`]: { ports: mapList(['port', 'protocol'], 'port'), selector: atomicMap },
  [`${CORE}.ServiceStatus`]: conditions,
  [`${CORE}.ServiceAccount`]: { secrets: mapList(['name']) },
  [`${CORE}.NodeSpec`]: { podCIDRs: mergedSet, taints: atomic },
  [`${CORE}.NodeStatus`]: { addresses: mapList(['type']), ...conditions },
  [`${CORE}.NamespaceStatus`]: conditions,
  [`${CORE}.ComponentStatus`]: conditions,
  [`${CORE}.PersistentVolumeClaimStatus`]: { ...conditions, allocatedResourceStatuses: { 'x-kubernetes-map-type': 'granular' } },
  [`${CORE}.PersistentVolumeSpec`]: { claimRef: { 'x-kubernetes-map-type': 'granular' } },
  [`${CORE}.ReplicationControllerSpec`]: { selector: atomicMap },
  [`${CORE}.ReplicationControllerStatus`]: conditions,
  // --- meta/v1 -------------------------------------------------------------------------------
  [`${META}.ObjectMeta`]: { finalizers: mergedSet, ownerReferences: mapList(['uid']) },
  [`${META}.Status`]: { details: atomic },
  // --- apps/v1 -------------------------------------------------------------------------------
  [`${APPS}.DeploymentSpec`]: { strategy: { 'x-kubernetes-patch-strategy': 'retainKeys' } },
  [`${APPS}.DeploymentStatus`]: conditions,
  [`${APPS}.ReplicaSetStatus`]: conditions,
  [`${APPS}.StatefulSetStatus`]: conditions,
  [`${APPS}.DaemonSetStatus`]: conditions,
  // --- batch/v1 ------------------------------------------------------------------------------
  [`${BATCH}.JobStatus`]: { conditions: { 'x-kubernetes-list-type': 'atomic', 'x-kubernetes-patch-merge-key': 'type', 'x-kubernetes-patch-strategy': 'merge' } },
  [`${BATCH}.PodFailurePolicyOnExitCodesRequirement`]: { values: set },
  // --- autoscaling/v2 ------------------------------------------------------------------------
  [`${AUTOSCALING2}.HorizontalPodAutoscalerStatus`]: conditions,
  // --- policy/v1 -----------------------------------------------------------------------------
  [`${POLICY}.PodDisruptionBudgetSpec`]: { selector: { 'x-kubernetes-patch-strategy': 'replace' } },
  [`${POLICY}.PodDisruptionBudgetStatus`]: conditions,
  // --- certificates.k8s.io/v1 ----------------------------------------------------------------
  [`${CERTS}.CertificateSigningRequestSpec`]: { request: atomic },
  [`${CERTS}.CertificateSigningRequestStatus`]: { conditions: mapList(['type'], null), certificate: atomic },
  // --- admissionregistration.k8s.io/v1 -------------------------------------------------------
  [`${ADMREG}.MutatingWebhookConfiguration`]: { webhooks: mapList(['name']) },
  [`${ADMREG}.ValidatingWebhookConfiguration`]: { webhooks: mapList(['name']) },
  [`${ADMREG}.MutatingWebhook`]: { matchConditions: mapList(['name']) },
  [`${ADMREG}.ValidatingWebhook`]: { matchConditions: mapList(['name']) },
  [`${ADMREG}.ValidatingAdmissionPolicySpec`]: { matchConditions: mapList(['name']) },
  [`${ADMREG}.ValidatingAdmissionPolicyStatus`]: { conditions: mapList(['type'], null) },
  [`${ADMREG}.ValidatingAdmissionPolicyBindingSpec`]: { validationActions: set },
  // --- storage.k8s.io/v1 ---------------------------------------------------------------------
  [`${STORAGE}.CSINodeSpec`]: { drivers: mapList(['name']) },
  [`${STORAGE}.CSIDriverSpec`]: { volumeLifecycleModes: set },
  // --- discovery.k8s.io/v1 -------------------------------------------------------------------
  [`${DISCOVERY}.Endpoint`]: { addresses: set },
  // --- apiextensions.k8s.io/v1 ---------------------------------------------------------------
  [`${APIEXT}.CustomResourceDefinitionStatus`]: { conditions: mapList(['type'], null), storedVersions: atomic },
  [`${APIEXT}.CustomResourceDefinitionSpec`]: { versions: atomic },
  [`${APIEXT}.CustomResourceDefinitionNames`]: { shortNames: atomic, categories: atomic },
};

/** Type-level extensions (struct map-type). */
export const TYPE_EXTENSIONS = Object.fromEntries([
  ...['ConfigMapKeySelector', 'SecretKeySelector', 'LocalObjectReference', 'ObjectReference', 'ObjectFieldSelector',
    'ResourceFieldSelector', 'TypedLocalObjectReference', 'SecretReference', 'NodeSelector', 'NodeSelectorTerm',
    'EndpointAddress', 'EndpointPort', 'ScopeSelector'].map((t) => [`${CORE}.${t}`, atomicMap]),
  ...['LabelSelector', 'OwnerReference'].map((t) => [`${META}.${t}`, atomicMap]),
]);

/**
 * Groups whose lists Kubernetes (1.29+) annotates as `x-kubernetes-list-type: atomic` when they carry
 * no other list semantics; `<Kind>List.items` stays unannotated, as upstream. The generator applies
 * this to every array field of these packages that has no entry above.
 */
export const DEFAULT_ATOMIC_LIST_PACKAGES = ['io.k8s.api.'];
/** Array fields that stay unannotated even inside DEFAULT_ATOMIC_LIST_PACKAGES / meta. */
export const ATOMIC_EXCEPTIONS = new Set([`${META}.APIResource.verbs`]);
/** meta/v1 arrays that are atomic (meta is not covered by the package default). */
export const META_ATOMIC = [
  'APIResource.categories', 'APIResource.shortNames', 'APIResourceList.resources', 'DeleteOptions.dryRun',
  'LabelSelector.matchExpressions', 'LabelSelectorRequirement.values', 'ObjectMeta.managedFields', 'StatusDetails.causes',
].map((k) => `${META}.${k}`);

/**
 * 64-bit integer fields, as `Type.field` (short type name) or `*.field` (any type). Every other
 * TypeScript `number` becomes `{type: integer, format: int32}` (all integer API fields not listed
 * here are int32 in Kubernetes).
 */
export const INT64_FIELDS = new Set([
  '*.observedGeneration', 'ObjectMeta.generation', 'ObjectMeta.deletionGracePeriodSeconds', 'ListMeta.remainingItemCount',
  'DeleteOptions.gracePeriodSeconds', 'ControllerRevision.revision',
  'PodSpec.activeDeadlineSeconds', 'PodSpec.terminationGracePeriodSeconds', 'Probe.terminationGracePeriodSeconds',
  'PodSecurityContext.fsGroup', 'PodSecurityContext.runAsGroup', 'PodSecurityContext.runAsUser', 'PodSecurityContext.supplementalGroups',
  'SecurityContext.runAsGroup', 'SecurityContext.runAsUser', 'Toleration.tolerationSeconds', 'SleepAction.seconds',
  'ContainerImage.sizeBytes', 'ServiceAccountTokenProjection.expirationSeconds', 'TokenRequestSpec.expirationSeconds',
  'TokenRequest.expirationSeconds', 'JobSpec.activeDeadlineSeconds', 'CronJobSpec.startingDeadlineSeconds',
  'JSONSchemaProps.maxItems', 'JSONSchemaProps.maxLength', 'JSONSchemaProps.maxProperties',
  'JSONSchemaProps.minItems', 'JSONSchemaProps.minLength', 'JSONSchemaProps.minProperties',
]);

/** The few true floating-point fields of the API (`{type: number, format: double}`). */
export const FLOAT_FIELDS = new Set(['JSONSchemaProps.maximum', 'JSONSchemaProps.minimum', 'JSONSchemaProps.multipleOf']);

/** []byte fields, serialized as base64 strings (`format: byte`). Map fields: the values are bytes. */
export const BYTE_FIELDS = new Set([
  'Secret.data', 'ConfigMap.binaryData', 'CertificateSigningRequestSpec.request', 'CertificateSigningRequestStatus.certificate',
  'WebhookClientConfig.caBundle',
]);

/** GVKs of meta kinds whose apiVersion is not a literal in kubernetes-types. */
export const EXTRA_GVKS = {
  [`${META}.Status`]: [{ group: '', kind: 'Status', version: 'v1' }],
  [`${META}.APIResourceList`]: [{ group: '', kind: 'APIResourceList', version: 'v1' }],
  [`${META}.APIGroup`]: [{ group: '', kind: 'APIGroup', version: 'v1' }],
  [`${META}.APIGroupList`]: [{ group: '', kind: 'APIGroupList', version: 'v1' }],
  [`${META}.APIVersions`]: [{ group: '', kind: 'APIVersions', version: 'v1' }],
};
/** Kinds registered in every group version (their GVK lists are computed from the packages parsed). */
export const EVERY_GROUP_KINDS = [`${META}.DeleteOptions`, `${META}.WatchEvent`];

/** Properties kubernetes-types lacks (quoted `x-` names of JSONSchemaProps). Descriptions are keelson's own. */
export const EXTRA_PROPERTIES = {
  [`${APIEXT}.JSONSchemaProps`]: {
    'x-kubernetes-embedded-resource': { description: 'Marks an object as an embedded Kubernetes object: apiVersion, kind and metadata are validated and allowed.', type: 'boolean' },
    'x-kubernetes-int-or-string': { description: 'Accepts either an integer or a string at this position.', type: 'boolean' },
    'x-kubernetes-list-map-keys': { description: 'For lists of list-type map: the item fields that together identify an item.', items: { type: 'string' }, type: 'array', 'x-kubernetes-list-type': 'atomic' },
    'x-kubernetes-list-type': { description: 'How server-side apply merges this list: atomic, set or map.', type: 'string' },
    'x-kubernetes-map-type': { description: 'How server-side apply merges this map: granular or atomic.', type: 'string' },
    'x-kubernetes-preserve-unknown-fields': { description: 'Keeps fields not declared in the schema instead of pruning them.', type: 'boolean' },
    'x-kubernetes-validations': {
      description: 'CEL validation rules for this schema position.',
      items: { $ref: `#/components/schemas/${APIEXT}.ValidationRule` }, type: 'array',
      'x-kubernetes-list-map-keys': ['rule'], 'x-kubernetes-list-type': 'map', 'x-kubernetes-patch-merge-key': 'rule', 'x-kubernetes-patch-strategy': 'merge',
    },
  },
};

export const INT_OR_STRING_DESCRIPTION =
  'IntOrString holds either an int32 or a string. JSON and YAML carry the inner value as it is (a number or a string), so a field of this type accepts a number or a name, e.g. a port.';
