import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage, invalid } from '../apimachinery/errors.js';
import { applyDefaults, prepareJobSelector } from './defaults.js';
import { cronScheduleError, validateObject, validateObjectUpdate } from './validation.js';

const SUBDOMAIN = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035 = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const NAME_PART = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const PERCENT = "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')";
const PORT_RANGE = 'must be between 1 and 65535, inclusive';

const clone = <T>(v: T): T => structuredClone(v);

/** Defaults then validates a new object, as the registry does, and renders kubectl's lines. */
function create(group: string, kind: string, obj: any, version = 'v1'): string[] {
  const o = clone(obj);
  applyDefaults(group, version, kind, o);
  if (group === 'batch' && kind === 'Job') prepareJobSelector(o);
  return validateObject(group, version, kind, o).map(fieldErrorMessage);
}

/** Defaults both versions and validates the update. */
function update(group: string, kind: string, oldObj: any, newObj: any, version = 'v1'): string[] {
  const o = clone(oldObj);
  const n = clone(newObj);
  applyDefaults(group, version, kind, o);
  applyDefaults(group, version, kind, n);
  for (const x of [o, n]) x.metadata = { uid: 'uid-1', resourceVersion: '7', creationTimestamp: '2024-01-01T00:00:00Z', ...x.metadata };
  return validateObjectUpdate(group, version, kind, n, o).map(fieldErrorMessage);
}

type Case = [name: string, obj: any, want: string[]];
function table(group: string, kind: string, cases: Case[], version = 'v1') {
  for (const [name, obj, want] of cases) assert.deepEqual(create(group, kind, obj, version), want, `${kind}: ${name}`);
}

const meta = (name: string, extra: any = {}) => ({ name, namespace: 'default', ...extra });
const cmeta = (name: string, extra: any = {}) => ({ name, ...extra });
const podSpec = (extra: any = {}, c: any = {}) => ({ containers: [{ name: 'app', image: 'nginx:1.27', ...c }], ...extra });
const pod = (spec: any, m: any = meta('web')) => ({ metadata: m, spec });
const template = (labels: any, spec: any = podSpec()) => ({ metadata: { labels }, spec });

test('the API message wraps the field errors like errors.NewInvalid', () => {
  const errs = validateObject('', 'v1', 'ConfigMap', { metadata: { name: 'Bad_Name', namespace: 'default' } });
  const e = invalid('ConfigMap', '', 'Bad_Name', errs);
  assert.equal(e.code, 422);
  assert.equal(e.message, `ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": ${SUBDOMAIN}`);
  assert.deepEqual(e.details?.causes, [{ reason: 'FieldValueInvalid', message: `Invalid value: "Bad_Name": ${SUBDOMAIN}`, field: 'metadata.name' }]);
});

test('names: each kind uses its own rule', () => {
  const cases: [string, string, any, string[]][] = [
    ['', 'ConfigMap', { metadata: meta('Bad_Name') }, [`metadata.name: Invalid value: "Bad_Name": ${SUBDOMAIN}`]],
    ['', 'ConfigMap', { metadata: meta('a.b-c') }, []],
    ['', 'Namespace', { metadata: cmeta('team.a') }, [`metadata.name: Invalid value: "team.a": ${LABEL}`]],
    ['', 'Namespace', { metadata: cmeta('Team') }, [`metadata.name: Invalid value: "Team": ${LABEL}`]],
    // The kubernetes.io/metadata.name label is defaulted from the name, so its value fails too.
    ['', 'Namespace', { metadata: cmeta('a'.repeat(64)) }, [
      `metadata.name: Invalid value: "${'a'.repeat(64)}": must be no more than 63 characters`,
      `metadata.labels: Invalid value: "${'a'.repeat(64)}": must be no more than 63 characters`,
    ]],
    ['', 'Service', { metadata: meta('1web'), spec: { ports: [{ port: 80 }] } }, [`metadata.name: Invalid value: "1web": ${DNS1035}`]],
    ['', 'Service', { metadata: meta('web.svc'), spec: { ports: [{ port: 80 }] } }, [`metadata.name: Invalid value: "web.svc": ${DNS1035}`]],
    ['apps', 'StatefulSet', { metadata: meta('db.1'), spec: { serviceName: 'db', selector: { matchLabels: { a: 'b' } }, template: template({ a: 'b' }) } }, [`metadata.name: Invalid value: "db.1": ${LABEL}`]],
    ['rbac.authorization.k8s.io', 'ClusterRole', { metadata: cmeta('system:controller:x') }, []],
    ['rbac.authorization.k8s.io', 'Role', { metadata: meta('a/b') }, ["metadata.name: Invalid value: \"a/b\": may not contain '/'"]],
    ['', 'ConfigMap', { metadata: { generateName: 'cfg-', name: 'cfg-x7k2p', namespace: 'default' } }, []],
    ['', 'ConfigMap', { metadata: meta('c', { labels: { 'app.kubernetes.io/name': 'web', env: 'not ok' } }) }, [`metadata.labels: Invalid value: "not ok": ${LABEL_VALUE}`]],
    ['', 'ConfigMap', { metadata: meta('c', { annotations: { 'bad key': 'x' } }) }, [`metadata.annotations: Invalid value: "bad key": ${NAME_PART}`]],
    ['', 'ConfigMap', { metadata: { name: 'c' } }, ['metadata.namespace: Required value']],
    ['', 'Node', { metadata: { name: 'n', namespace: 'default' } }, ['metadata.namespace: Forbidden: not allowed on this type']],
  ];
  for (const [group, kind, obj, want] of cases) assert.deepEqual(create(group, kind, obj), want, `${kind} ${JSON.stringify(obj.metadata)}`);
});

test('Pod', () => {
  table('', 'Pod', [
    ['valid', pod(podSpec()), []],
    ['no containers', pod({ containers: [] }), ['spec.containers: Required value']],
    ['missing name and image', pod({ containers: [{}] }), ['spec.containers[0].name: Required value', 'spec.containers[0].image: Required value']],
    ['bad container name', pod(podSpec({}, { name: 'App_1' })), [`spec.containers[0].name: Invalid value: "App_1": ${LABEL}`]],
    ['duplicate container names', pod({ containers: [{ name: 'a', image: 'x' }, { name: 'a', image: 'y' }], initContainers: [{ name: 'a', image: 'z' }] }), [
      'spec.containers[1].name: Duplicate value: "a"', 'spec.initContainers[0].name: Duplicate value: "a"',
    ]],
    ['image whitespace', pod(podSpec({}, { image: ' nginx' })), ['spec.containers[0].image: Invalid value: " nginx": must not have leading or trailing whitespace']],
    ['ports', pod(podSpec({}, { ports: [{ containerPort: 70000 }, { name: 'HTTP', containerPort: 80, protocol: 'HTTP' }, { name: 'web', containerPort: 0 }, { name: 'web', containerPort: 81, hostPort: 70000 }] })), [
      `spec.containers[0].ports[0].containerPort: Invalid value: 70000: ${PORT_RANGE}`,
      'spec.containers[0].ports[1].name: Invalid value: "HTTP": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
      'spec.containers[0].ports[1].name: Invalid value: "HTTP": must contain at least one letter (a-z)',
      'spec.containers[0].ports[1].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
      'spec.containers[0].ports[2].containerPort: Required value',
      'spec.containers[0].ports[3].name: Duplicate value: "web"',
      `spec.containers[0].ports[3].hostPort: Invalid value: 70000: ${PORT_RANGE}`,
    ]],
    ['host port conflict', pod({ containers: [{ name: 'a', image: 'x', ports: [{ containerPort: 80, hostPort: 8080 }] }, { name: 'b', image: 'x', ports: [{ containerPort: 81, hostPort: 8080 }] }] }), [
      'spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//8080"',
    ]],
    ['env', pod(podSpec({}, { env: [{ name: '' }, { name: 'A=B' }, { name: 'X', valueFrom: {} }, { name: 'Y', value: 'v', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }, { name: 'Z', valueFrom: { fieldRef: { fieldPath: 'spec.bogus' } } }, { name: 'K', valueFrom: { configMapKeyRef: { name: 'cm', key: 'a b' } } }] })), [
      'spec.containers[0].env[0].name: Required value',
      "spec.containers[0].env[1].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='",
      'spec.containers[0].env[2].valueFrom: Invalid value: "": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`',
      'spec.containers[0].env[3].valueFrom: Invalid value: "": may not be specified when `value` is not empty',
      'spec.containers[0].env[4].valueFrom.fieldRef.fieldPath: Unsupported value: "spec.bogus": supported values: "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"',
      "spec.containers[0].env[5].valueFrom.configMapKeyRef.key: Invalid value: \"a b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
    ]],
    ['envFrom', pod(podSpec({}, { envFrom: [{}, { configMapRef: { name: '' } }] })), [
      'spec.containers[0].envFrom: Invalid value: "": must specify one of: `configMapRef` or `secretRef`',
      'spec.containers[0].envFrom[1].configMapRef.name: Required value',
    ]],
    ['volume mounts', pod(podSpec({ volumes: [{ name: 'data', emptyDir: {} }] }, { volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'missing', mountPath: '/data' }, { name: '', mountPath: '' }, { name: 'data', mountPath: '/x', subPath: '../up' }] })), [
      'spec.containers[0].volumeMounts[1].name: Not found: "missing"',
      'spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/data": must be unique',
      'spec.containers[0].volumeMounts[2].name: Required value',
      'spec.containers[0].volumeMounts[2].name: Not found: ""',
      'spec.containers[0].volumeMounts[2].mountPath: Required value',
      "spec.containers[0].volumeMounts.subPath: Invalid value: \"../up\": must not contain '..'",
    ]],
    ['volumes', pod(podSpec({ volumes: [
      { name: 'Data', emptyDir: {} }, { name: 'data', emptyDir: {} }, { name: 'data', emptyDir: {} }, { name: 'two', emptyDir: {}, hostPath: { path: '/x' } },
      { name: 'cm', configMap: { name: '', defaultMode: 1000 } }, { name: 's', secret: { secretName: 'x', items: [{ key: '', path: '/abs' }] } },
      { name: 'pvc', persistentVolumeClaim: {} }, { name: 'h', hostPath: { path: '/x', type: 'Dir' } }, { name: 'n', nfs: { server: 'nfs', path: 'rel' } },
    ] }, { volumeMounts: [{ name: 'Data', mountPath: '/d' }] })), [
      `spec.volumes[0].name: Invalid value: "Data": ${LABEL}`,
      'spec.volumes[2].name: Duplicate value: "data"',
      'spec.volumes[3].hostPath: Forbidden: may not specify more than 1 volume type',
      'spec.volumes[4].configMap.name: Required value',
      'spec.volumes[4].configMap.defaultMode: Invalid value: 1000: must be a number between 0 and 0777 (octal), both inclusive',
      'spec.volumes[5].secret.items[0].key: Required value',
      'spec.volumes[5].secret.items[0].path: Invalid value: "/abs": must be a relative path',
      'spec.volumes[6].persistentVolumeClaim.claimName: Required value',
      'spec.volumes[7].hostPath.type: Unsupported value: "Dir": supported values: "", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"',
      'spec.volumes[8].nfs.path: Invalid value: "rel": must be an absolute path',
      'spec.containers[0].volumeMounts[0].name: Not found: "Data"',
    ]],
    ['resources', pod(podSpec({}, { resources: { limits: { cpu: '500m', memory: '1Gi', 'example.com/gpu': '1' }, requests: { cpu: '1', memory: '-1', 'example.com/gpu': '2', bogus: '1', 'nvidia.com/gpu': '1' } } })), [
      'spec.containers[0].resources.requests: Invalid value: "1": must be less than or equal to cpu limit of 500m',
      'spec.containers[0].resources.requests[memory]: Invalid value: "-1": must be greater than or equal to 0',
      'spec.containers[0].resources.requests: Invalid value: "2": must be equal to example.com/gpu limit of 1',
      'spec.containers[0].resources.requests[bogus]: Invalid value: "bogus": must be a standard resource type or fully qualified',
      'spec.containers[0].resources.requests[bogus]: Invalid value: "bogus": must be a standard resource for containers',
      'spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources',
    ]],
    ['extended resources must be whole', pod(podSpec({}, { resources: { limits: { 'example.com/fpga': '500m' } } })), [
      'spec.containers[0].resources.limits[example.com/fpga]: Invalid value: "500m": must be an integer',
      'spec.containers[0].resources.requests[example.com/fpga]: Invalid value: "500m": must be an integer',
    ]],
    ['probes', pod(podSpec({}, {
      livenessProbe: { exec: { command: [] }, httpGet: { port: 80 }, successThreshold: 2 },
      readinessProbe: { initialDelaySeconds: -1 },
      startupProbe: { httpGet: { port: 'Web', path: '/' }, successThreshold: 3 },
    })), [
      'spec.containers[0].livenessProbe.exec.command: Required value',
      'spec.containers[0].livenessProbe.httpGet: Forbidden: may not specify more than 1 handler type',
      'spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1',
      'spec.containers[0].readinessProbe: Required value: must specify a handler type',
      'spec.containers[0].readinessProbe.initialDelaySeconds: Invalid value: -1: must be greater than or equal to 0',
      'spec.containers[0].startupProbe.httpGet.port: Invalid value: "Web": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
      'spec.containers[0].startupProbe.successThreshold: Invalid value: 3: must be 1',
    ]],
    ['init containers cannot have probes unless sidecars', pod(podSpec({ initContainers: [
      { name: 'init', image: 'x', readinessProbe: { tcpSocket: { port: 1 } } }, { name: 'side', image: 'x', restartPolicy: 'Always', readinessProbe: { tcpSocket: { port: 1 } } },
      { name: 'bad', image: 'x', restartPolicy: 'OnFailure' },
    ] })), [
      'spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always',
      'spec.initContainers[2].restartPolicy: Unsupported value: "OnFailure": supported values: "Always"',
    ]],
    ['pull and restart policies', pod(podSpec({ restartPolicy: 'Sometimes', dnsPolicy: 'Cluster' }, { imagePullPolicy: 'Maybe' })), [
      'spec.containers[0].imagePullPolicy: Unsupported value: "Maybe": supported values: "Always", "IfNotPresent", "Never"',
      'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
      'spec.dnsPolicy: Unsupported value: "Cluster": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"',
    ]],
    ['dnsPolicy None needs a config', pod(podSpec({ dnsPolicy: 'None' })), ['spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None']],
    ['node selector, names and deadline', pod(podSpec({ nodeSelector: { 'kubernetes.io/os': 'linux os' }, serviceAccountName: 'Bad', nodeName: 'node_1', activeDeadlineSeconds: 0, hostname: 'web.1', priorityClassName: 'High' })), [
      `spec.nodeSelector: Invalid value: "linux os": ${LABEL_VALUE}`,
      `spec.serviceAccountName: Invalid value: "Bad": ${SUBDOMAIN}`,
      `spec.nodeName: Invalid value: "node_1": ${SUBDOMAIN}`,
      'spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive',
      `spec.hostname: Invalid value: "web.1": ${LABEL}`,
      `spec.priorityClassName: Invalid value: "High": ${SUBDOMAIN}`,
    ]],
    ['tolerations', pod(podSpec({ tolerations: [
      { key: 'k', operator: 'Exists', value: 'v' }, { operator: 'Equal', value: 'x' }, { key: 'k', operator: 'Maybe' },
      { key: 'k', effect: 'NoSchedule', tolerationSeconds: 5 }, { key: 'k', effect: 'Sometimes' },
    ] })), [
      "spec.tolerations[0].operator: Invalid value: \"v\": value must be empty when `operator` is 'Exists'",
      'spec.tolerations[1].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, which means "match all values and all keys"',
      'spec.tolerations[2].operator: Unsupported value: "Maybe": supported values: "Equal", "Exists"',
      "spec.tolerations[3].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set",
      'spec.tolerations[4].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
    ]],
    ['security context', pod(podSpec({ securityContext: { runAsUser: -1, fsGroup: 2147483648 } }, { securityContext: { runAsUser: 4294967296 } })), [
      'spec.containers[0].securityContext.runAsUser: Invalid value: 4294967296: must be between 0 and 2147483647, inclusive',
      'spec.securityContext.fsGroup: Invalid value: 2147483648: must be between 0 and 2147483647, inclusive',
      'spec.securityContext.runAsUser: Invalid value: -1: must be between 0 and 2147483647, inclusive',
    ]],
    ['affinity and topology spread', pod(podSpec({
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In' }] }] } } },
      topologySpreadConstraints: [{ maxSkew: 0, topologyKey: '', whenUnsatisfiable: 'Maybe' }],
    })), [
      "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
      'spec.topologySpreadConstraints[0].maxSkew: Invalid value: 0: must be greater than zero',
      'spec.topologySpreadConstraints[0].topologyKey: Required value: can not be empty',
      'spec.topologySpreadConstraints[0].whenUnsatisfiable: Unsupported value: "Maybe": supported values: "DoNotSchedule", "ScheduleAnyway"',
    ]],
    ['hostNetwork pods need hostPort = containerPort', pod(podSpec({ hostNetwork: true }, { ports: [{ containerPort: 80, hostPort: 81 }] })), [
      'spec.containers[0].ports[0].hostPort: Invalid value: 81: must match `containerPort` when `hostNetwork` is true',
    ]],
    ['ephemeral containers only via the subresource', pod(podSpec({ ephemeralContainers: [{ name: 'debug', image: 'busybox' }] })), ['spec.ephemeralContainers: Forbidden: cannot be set on create']],
    ['deletion cost annotation', pod(podSpec(), meta('web', { annotations: { 'controller.kubernetes.io/pod-deletion-cost': '+10' } })), [
      'metadata.annotations[controller.kubernetes.io/pod-deletion-cost]: Invalid value: "+10": must be a 32bit integer',
    ]],
  ]);
});

test('Pod security context conflicts and updates', () => {
  const errs = create('', 'Pod', pod(podSpec({}, { securityContext: { allowPrivilegeEscalation: false, privileged: true } })));
  assert.equal(errs.length, 1);
  assert.match(errs[0], /^spec\.containers\[0\]\.securityContext: Invalid value: .*: cannot set `allowPrivilegeEscalation` to false and `privileged` to true$/);

  const base = pod(podSpec({ tolerations: [{ key: 'a', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 10 }], activeDeadlineSeconds: 100 }));
  const changed = (f: (p: any) => void) => { const p = clone(base); f(p); return p; };
  const forbidden = 'spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';
  const cases: [string, any, string[]][] = [
    ['image change', changed((p) => { p.spec.containers[0].image = 'nginx:1.28'; }), []],
    ['deadline shortened and toleration seconds changed', changed((p) => { p.spec.activeDeadlineSeconds = 50; p.spec.tolerations[0].tolerationSeconds = 5; }), []],
    ['toleration added', changed((p) => { p.spec.tolerations.push({ key: 'b', operator: 'Exists' }); }), []],
    ['deadline raised', changed((p) => { p.spec.activeDeadlineSeconds = 200; }), ['spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to previous value']],
    ['deadline removed', changed((p) => { delete p.spec.activeDeadlineSeconds; }), ['spec.activeDeadlineSeconds: Invalid value: null: must not update from a positive integer to nil value']],
    ['toleration removed', changed((p) => { p.spec.tolerations = []; }), ['spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds']],
    ['other field', changed((p) => { p.spec.containers[0].env = [{ name: 'A', value: 'b' }]; }), [forbidden]],
    ['container added', changed((p) => { p.spec.containers.push({ name: 'b', image: 'x' }); }), ['spec.containers: Forbidden: pod updates may not add or remove containers']],
    ['image cleared', changed((p) => { p.spec.containers[0].image = ''; }), ['spec.containers[0].image: Required value', 'spec.containers[0].image: Required value']],
    ['labels may change, name may not', changed((p) => { p.metadata.labels = { a: 'b' }; p.metadata.name = 'other'; }), ['metadata.name: Invalid value: "other": field is immutable']],
  ];
  for (const [name, next, want] of cases) assert.deepEqual(update('', 'Pod', base, next), want, name);
});

test('PodTemplate and ReplicationController', () => {
  assert.deepEqual(create('', 'PodTemplate', { metadata: meta('t'), template: { metadata: { labels: { 'a b': 'c' } }, spec: podSpec({}, { image: '' }) } }), [
    `template.labels: Invalid value: "a b": ${NAME_PART}`,
    'template.spec.containers[0].image: Required value',
  ]);
  table('', 'ReplicationController', [
    ['valid (selector defaulted from the template)', { metadata: meta('rc'), spec: { replicas: 2, template: template({ app: 'web' }) } }, []],
    ['selector must match', { metadata: meta('rc'), spec: { selector: { app: 'db' }, template: template({ app: 'web' }) } }, [
      'spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`',
    ]],
    ['no labels at all', { metadata: meta('rc'), spec: { template: { spec: podSpec() } } }, ['spec.selector: Required value']],
    ['restart policy and negatives', { metadata: meta('rc'), spec: { replicas: -1, minReadySeconds: -1, template: template({ a: 'b' }, podSpec({ restartPolicy: 'Never', activeDeadlineSeconds: 5 })) } }, [
      'spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0',
      'spec.replicas: Invalid value: -1: must be greater than or equal to 0',
      'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
      'spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicationController is not Supported',
    ]],
  ]);
});

test('Deployment and ReplicaSet', () => {
  const deploy = (spec: any) => ({ metadata: meta('web'), spec: { selector: { matchLabels: { app: 'web' } }, template: template({ app: 'web' }), ...spec } });
  table('apps', 'Deployment', [
    ['valid', deploy({}), []],
    ['no selector', { metadata: meta('web'), spec: { template: template({ app: 'web' }) } }, [
      'spec.selector: Required value',
      'spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`',
    ]],
    ['selector mismatch', deploy({ selector: { matchLabels: { app: 'api' } } }), ['spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`']],
    ['invalid selector skips the template', deploy({ selector: { matchExpressions: [{ key: 'app', operator: 'In', values: [] }] }, template: template({}, { containers: [] }) }), [
      "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
      'spec.selector: Invalid value: {"matchExpressions":[{"key":"app","operator":"In","values":[]}]}: invalid label selector',
    ]],
    ['template errors', deploy({ template: template({ app: 'web' }, { containers: [{ name: 'web' }] }) }), ['spec.template.spec.containers[0].image: Required value']],
    ['template restart policy', deploy({ template: template({ app: 'web' }, podSpec({ restartPolicy: 'OnFailure' })) }), [
      'spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: "Always"',
    ]],
    ['strategy', deploy({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: '0%' } } }), [
      'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "0%": may not be 0 when `maxSurge` is 0',
    ]],
    ['bad percents', deploy({ strategy: { rollingUpdate: { maxSurge: '5', maxUnavailable: '150%' } } }), [
      `spec.strategy.rollingUpdate.maxSurge: Invalid value: "5": ${PERCENT}`,
      'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "150%": must not be greater than 100%',
    ]],
    ['recreate with rollingUpdate', deploy({ strategy: { type: 'Recreate', rollingUpdate: {} } }), ["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"]],
    ['negatives and deadline', deploy({ replicas: -1, revisionHistoryLimit: -1, minReadySeconds: 10, progressDeadlineSeconds: 10 }), [
      'spec.replicas: Invalid value: -1: must be greater than or equal to 0',
      'spec.revisionHistoryLimit: Invalid value: -1: must be greater than or equal to 0',
      'spec.progressDeadlineSeconds: Invalid value: 10: must be greater than minReadySeconds',
    ]],
  ]);
  table('apps', 'ReplicaSet', [
    ['valid', { metadata: meta('rs'), spec: { selector: { matchLabels: { a: 'b' } }, template: template({ a: 'b' }) } }, []],
    ['missing selector', { metadata: meta('rs'), spec: { template: template({ a: 'b' }) } }, [
      'spec.selector: Required value', 'spec.template.metadata.labels: Invalid value: {"a":"b"}: `selector` does not match template `labels`',
    ]],
  ]);
  const d = deploy({});
  assert.deepEqual(update('apps', 'Deployment', d, { ...d, spec: { ...d.spec, replicas: 5 } }), []);
  const moved = update('apps', 'Deployment', d, { ...d, spec: { ...d.spec, selector: { matchLabels: { app: 'web', tier: 'fe' } }, template: template({ app: 'web', tier: 'fe' }) } });
  assert.deepEqual(moved, ['spec.selector: Invalid value: {"matchLabels":{"app":"web","tier":"fe"}}: field is immutable']);
});

test('StatefulSet and DaemonSet', () => {
  const sts = (spec: any) => ({ metadata: meta('db'), spec: { serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: template({ app: 'db' }), ...spec } });
  table('apps', 'StatefulSet', [
    ['valid', sts({}), []],
    ['only template labels are checked, not the pod spec', sts({ template: template({ app: 'db' }, { containers: [{ name: 'x' }] }) }), []],
    ['policies', sts({ podManagementPolicy: 'Random', updateStrategy: { type: 'OnDelete', rollingUpdate: { partition: 1 } }, persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Keep', whenScaled: 'Retain' } }), [
      "spec.podManagementPolicy: Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'",
      "spec.updateStrategy.rollingUpdate: Invalid value: {\"partition\":1}: only allowed for updateStrategy 'RollingUpdate'",
      'spec.persistentVolumeClaimRetentionPolicy.whenDeleted: Unsupported value: "Keep": supported values: "Retain", "Delete"',
    ]],
    ['selector', sts({ selector: { matchLabels: { app: 'x' } } }), ['spec.template.metadata.labels: Invalid value: {"app":"db"}: `selector` does not match template `labels`']],
    ['empty selector', sts({ selector: {} }), ['spec.selector: Invalid value: {}: empty selector is invalid for statefulset']],
  ]);
  const s = sts({});
  assert.deepEqual(update('apps', 'StatefulSet', s, { ...s, spec: { ...s.spec, replicas: 3, template: template({ app: 'db' }, podSpec({}, { image: 'nginx:2' })) } }), []);
  assert.deepEqual(update('apps', 'StatefulSet', s, { ...s, spec: { ...s.spec, serviceName: 'other' } }), [
    "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
  ]);
  table('apps', 'DaemonSet', [
    ['valid', { metadata: meta('ds'), spec: { selector: { matchLabels: { a: 'b' } }, template: template({ a: 'b' }) } }, []],
    ['no selector selects nothing', { metadata: meta('ds'), spec: { template: template({ a: 'b' }) } }, ['spec.template.metadata.labels: Invalid value: {"a":"b"}: `selector` does not match template `labels`']],
    ['rolling update', { metadata: meta('ds'), spec: { selector: { matchLabels: { a: 'b' } }, template: template({ a: 'b' }), updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 1 } } } }, [
      'spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: 1: may not be set when maxUnavailable is non-zero',
    ]],
  ]);
});

test('Job and CronJob', () => {
  const job = (spec: any, m: any = meta('pi', { uid: 'uid-1' })) => ({ metadata: m, spec: { template: template({}, podSpec({ restartPolicy: 'Never' })), ...spec } });
  table('batch', 'Job', [
    ['valid', job({}), []],
    ['restart policy left to default', job({ template: { spec: podSpec() } }), ['spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"']],
    ['restart policy unknown', job({ template: { spec: podSpec({ restartPolicy: 'Sometimes' }) } }), [
      'spec.template.spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
      'spec.template.spec.restartPolicy: Unsupported value: "Sometimes": supported values: "OnFailure", "Never"',
    ]],
    ['negatives', job({ parallelism: -1, completions: -1, backoffLimit: -1, activeDeadlineSeconds: -1 }), [
      'spec.parallelism: Invalid value: -1: must be greater than or equal to 0',
      'spec.completions: Invalid value: -1: must be greater than or equal to 0',
      'spec.activeDeadlineSeconds: Invalid value: -1: must be greater than or equal to 0',
      'spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0',
    ]],
    ['indexed needs completions', job({ completionMode: 'Indexed', parallelism: 2 }), ['spec.completions: Required value: when completion mode is Indexed']],
    ['per-index backoff needs indexed', job({ backoffLimitPerIndex: 1 }), ['spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode']],
    ['conflicting user labels', job({ template: template({ 'job-name': 'other' }, podSpec({ restartPolicy: 'Never' })) }), [
      'spec.template.metadata.labels[job-name]: Invalid value: {"job-name":"other","batch.kubernetes.io/job-name":"pi","controller-uid":"uid-1","batch.kubernetes.io/controller-uid":"uid-1"}: must be \'pi\'',
    ]],
  ]);
  const j = job({});
  const jj = clone(j);
  applyDefaults('batch', 'v1', 'Job', jj);
  prepareJobSelector(jj);
  const next = clone(jj);
  next.spec.completions = 3;
  next.spec.template.spec.containers[0].image = 'nginx:2';
  const errs = update('batch', 'Job', jj, next);
  assert.equal(errs[0], 'spec.completions: Invalid value: 3: field is immutable');
  assert.match(errs[1], /^spec\.template: Invalid value: .*: field is immutable$/);
  assert.equal(errs.length, 2);

  const cron = (spec: any, name = 'nightly') => ({ metadata: meta(name), spec: { schedule: '0 3 * * *', jobTemplate: { spec: { template: template({}, podSpec({ restartPolicy: 'OnFailure' })) } }, ...spec } });
  table('batch', 'CronJob', [
    ['valid', cron({}), []],
    ['descriptor', cron({ schedule: '@hourly' }), []],
    ['every', cron({ schedule: '@every 1h30m' }), []],
    ['missing schedule', cron({ schedule: '' }), ['spec.schedule: Required value']],
    ['field count', cron({ schedule: '* * *' }), ['spec.schedule: Invalid value: "* * *": expected exactly 5 fields, found 3: [* * *]']],
    ['range', cron({ schedule: '61 * * * *' }), ['spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61']],
    ['timezone in schedule', cron({ schedule: 'TZ=UTC 0 3 * * *' }), ['spec.schedule: Invalid value: "TZ=UTC 0 3 * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead']],
    ['bad time zone', cron({ timeZone: 'Mars/Olympus' }), ['spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus']],
    ['concurrency and history', cron({ concurrencyPolicy: 'Never', successfulJobsHistoryLimit: -1 }), [
      'spec.concurrencyPolicy: Unsupported value: "Never": supported values: "Allow", "Forbid", "Replace"',
      'spec.successfulJobsHistoryLimit: Invalid value: -1: must be greater than or equal to 0',
    ]],
    ['job template restart policy', cron({ jobTemplate: { spec: { template: { spec: podSpec() } } } }), ['spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"']],
    ['name length', cron({}, 'n'.repeat(53)), [`metadata.name: Invalid value: "${'n'.repeat(53)}": must be no more than 52 characters`]],
  ]);
  const cronCases: [string, string | undefined][] = [
    ['*/15 0-6 1,15 jan-mar MON-FRI', undefined], ['0 0 * * 7', 'end of range (7) above maximum (6): 7'], ['0 0 0 * *', 'beginning of range (0) below minimum (1): 0'],
    ['5-1 * * * *', 'beginning of range (5) beyond end of range (1): 5-1'], ['*/0 * * * *', 'step of range should be a positive number: */0'],
    ['a * * * *', 'failed to parse int from a: strconv.Atoi: parsing "a": invalid syntax'], ['1-2-3 * * * *', 'too many hyphens: 1-2-3'],
    ['@daily', undefined], ['@often', 'unrecognized descriptor: @often'], ['@every 5x', 'failed to parse duration @every 5x: time: unknown unit "x" in duration "5x"'],
    ['@every 5', 'failed to parse duration @every 5: time: missing unit in duration "5"'],
  ];
  for (const [spec, want] of cronCases) assert.equal(cronScheduleError(spec), want, spec);
});

test('Service', () => {
  const svc = (spec: any, name = 'web') => ({ metadata: meta(name), spec: { selector: { app: 'web' }, ports: [{ port: 80 }], ...spec } });
  table('', 'Service', [
    ['valid', svc({}), []],
    ['no ports', svc({ ports: [] }), ['spec.ports: Required value']],
    ['headless needs no ports', svc({ ports: [], clusterIP: 'None' }), []],
    ['ports', svc({ ports: [{ port: 0 }, { name: 'http', port: 80, protocol: 'ICMP', targetPort: 'Http' }, { name: 'http', port: 80, targetPort: 70000 }] }), [
      'spec.ports[0].name: Required value',
      `spec.ports[0].port: Invalid value: 0: ${PORT_RANGE}`,
      `spec.ports[0].targetPort: Invalid value: 0: ${PORT_RANGE}`,
      'spec.ports[1].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
      'spec.ports[1].targetPort: Invalid value: "Http": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
      'spec.ports[2].name: Duplicate value: "http"',
      `spec.ports[2].targetPort: Invalid value: 70000: ${PORT_RANGE}`,
    ]],
    ['type', svc({ type: 'Internal' }), ['spec.type: Unsupported value: "Internal": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"']],
    ['nodePort on ClusterIP', svc({ ports: [{ port: 80, nodePort: 30080 }] }), ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]],
    ['bad cluster IP', svc({ clusterIP: '10.0.0.300' }), ['spec.clusterIPs[0]: Invalid value: "10.0.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)']],
    ['headless NodePort', svc({ type: 'NodePort', clusterIP: 'None' }), ["spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for NodePort services"]],
    ['external name', { metadata: meta('ext'), spec: { type: 'ExternalName', externalName: 'Not_A_Host' } }, [`spec.externalName: Invalid value: "Not_A_Host": ${SUBDOMAIN}`]],
    ['external name required', { metadata: meta('ext'), spec: { type: 'ExternalName' } }, ['spec.externalName: Required value']],
    ['external name trailing dot', { metadata: meta('ext'), spec: { type: 'ExternalName', externalName: 'db.example.com.' } }, []],
    ['session affinity', svc({ sessionAffinity: 'Cookie' }), ['spec.sessionAffinity: Unsupported value: "Cookie": supported values: "ClientIP", "None"']],
    ['client IP timeout', svc({ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } } }), [
      'spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 0: must be greater than 0 and less than 86400',
    ]],
    ['external IPs', svc({ externalIPs: ['1.2.3', '127.0.0.1'] }), [
      'spec.externalIPs[0]: Invalid value: "1.2.3": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
      'spec.externalIPs[1]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
    ]],
    ['traffic policy only when external', svc({ externalTrafficPolicy: 'Local' }), ['spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services']],
    ['traffic policy values', svc({ type: 'NodePort', externalTrafficPolicy: 'Global', internalTrafficPolicy: 'Node' }), [
      'spec.externalTrafficPolicy: Unsupported value: "Global": supported values: "Cluster", "Local"',
      'spec.internalTrafficPolicy: Unsupported value: "Node": supported values: "Cluster", "Local"',
    ]],
    ['source ranges only for LB', svc({ loadBalancerSourceRanges: ['10.0.0.0/8'] }), ["spec.LoadBalancerSourceRanges: Forbidden: may only be used when `type` is 'LoadBalancer'"]],
    ['LB source range', svc({ type: 'LoadBalancer', loadBalancerSourceRanges: ['10.0.0.0/33'] }), ['spec.LoadBalancerSourceRanges[0]: Invalid value: "10.0.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)']],
    ['selector labels', svc({ selector: { app: 'a b' } }), [`spec.selector: Invalid value: "a b": ${LABEL_VALUE}`]],
  ]);
  const s = svc({ type: 'LoadBalancer', loadBalancerClass: 'a.io/x' });
  assert.deepEqual(update('', 'Service', s, { ...s, spec: { ...s.spec, ports: [{ port: 8080 }] } }), []);
  assert.deepEqual(update('', 'Service', s, { ...s, spec: { ...s.spec, loadBalancerClass: 'b.io/y' } }), ['spec.loadBalancerClass: Invalid value: "b.io/y": may not change once set']);
  assert.deepEqual(update('', 'Service', s, { ...s, spec: { ...s.spec, type: 'ClusterIP', loadBalancerClass: undefined } }), [], 'type transitions are allowed');
  // NodePort -> ClusterIP: the allocated nodePort and externalTrafficPolicy the client echoes back are
  // dropped as upstream's dropTypeDependentFields does; a new nodePort is still rejected.
  const np = svc({ type: 'NodePort', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ port: 80, nodePort: 30080 }] });
  np.spec.externalTrafficPolicy = 'Cluster';
  assert.deepEqual(update('', 'Service', np, { ...np, spec: { ...np.spec, type: 'ClusterIP' } }), []);
  assert.deepEqual(update('', 'Service', np, { ...np, spec: { ...np.spec, type: 'ClusterIP', ports: [{ port: 80, nodePort: 30081 }] } }), [
    "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
  ]);
  // ClusterIP -> ExternalName keeps working when the old clusterIP is echoed back.
  const ci = svc({ clusterIP: '10.96.0.11', clusterIPs: ['10.96.0.11'] });
  assert.deepEqual(update('', 'Service', ci, { ...ci, spec: { ...ci.spec, type: 'ExternalName', externalName: 'db.example.com' } }), []);
});

test('ConfigMap and Secret', () => {
  table('', 'ConfigMap', [
    ['valid', { metadata: meta('c'), data: { 'app.properties': 'x' }, binaryData: { blob: 'AAE=' } }, []],
    ['keys', { metadata: meta('c'), data: { 'a/b': 'x', dup: 'y' }, binaryData: { dup: 'AA==' } }, [
      "data[a/b]: Invalid value: \"a/b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
      'data[dup]: Invalid value: "dup": duplicate of key present in binaryData',
    ]],
    ['size', { metadata: meta('c'), data: { a: 'x'.repeat(1024 * 1024), b: 'y' } }, [': Too long: may not be more than 1048576 bytes']],
  ]);
  table('', 'Secret', [
    ['valid', { metadata: meta('s'), stringData: { password: 'x' } }, []],
    ['key', { metadata: meta('s'), stringData: { '..data': 'x' } }, ["data[..data]: Invalid value: \"..data\": must not start with '..'"]],
    ['tls', { metadata: meta('s'), type: 'kubernetes.io/tls', data: { 'tls.crt': 'AA==' } }, ['data[tls.key]: Required value']],
    ['dockerconfigjson', { metadata: meta('s'), type: 'kubernetes.io/dockerconfigjson', stringData: { '.dockerconfigjson': 'nope' } }, [
      "data[.dockerconfigjson]: Invalid value: \"<secret contents redacted>\": invalid character 'o' in literal null (expecting 'u')",
    ]],
    ['dockerconfigjson not an object', { metadata: meta('s'), type: 'kubernetes.io/dockerconfigjson', stringData: { '.dockerconfigjson': '[1]' } }, [
      'data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": json: cannot unmarshal array into Go value of type map[string]interface {}',
    ]],
    ['basic auth', { metadata: meta('s'), type: 'kubernetes.io/basic-auth' }, ['data[username]: Required value', 'data[password]: Required value']],
    ['service account token', { metadata: meta('s'), type: 'kubernetes.io/service-account-token' }, ['metadata.annotations[kubernetes.io/service-account.name]: Required value']],
  ]);
  const cm = { metadata: meta('c'), immutable: true, data: { a: 'b' } };
  assert.deepEqual(update('', 'ConfigMap', cm, { ...cm, metadata: { ...cm.metadata, labels: { x: 'y' } } }), []);
  assert.deepEqual(update('', 'ConfigMap', cm, { ...cm, immutable: false, data: { a: 'c' } }), [
    'immutable: Forbidden: field is immutable when `immutable` is set',
    'data: Forbidden: field is immutable when `immutable` is set',
  ]);
  const sec = { metadata: meta('s'), type: 'Opaque', data: { a: 'Yg==' } };
  assert.deepEqual(update('', 'Secret', sec, { ...sec, type: 'kubernetes.io/tls', data: { 'tls.crt': '', 'tls.key': '' } }), ['type: Invalid value: "kubernetes.io/tls": field is immutable']);
});

test('Namespace, ServiceAccount, Node', () => {
  table('', 'Namespace', [
    ['valid', { metadata: cmeta('team-a') }, []],
    ['finalizer', { metadata: cmeta('team-a'), spec: { finalizers: ['custom'] } }, ['spec.finalizers: Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified']],
  ]);
  table('', 'ServiceAccount', [
    ['valid', { metadata: meta('builder') }, []],
    ['name', { metadata: meta('Builder') }, [`metadata.name: Invalid value: "Builder": ${SUBDOMAIN}`]],
  ]);
  table('', 'Node', [
    ['valid', { metadata: cmeta('node-1'), spec: { podCIDRs: ['10.244.0.0/24'], unschedulable: true, taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] } }, []],
    ['pod CIDR', { metadata: cmeta('n'), spec: { podCIDRs: ['10.244.0.0'] } }, ['spec.podCIDRs[0]: Invalid value: "10.244.0.0": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)']],
    ['two CIDRs of one family', { metadata: cmeta('n'), spec: { podCIDRs: ['10.1.0.0/24', '10.2.0.0/24'] } }, ['spec.podCIDRs: Invalid value: ["10.1.0.0/24","10.2.0.0/24"]: may specify no more than one CIDR for each IP family']],
    ['podCIDR and podCIDRs differ', { metadata: cmeta('n'), spec: { podCIDR: '10.1.0.0/24', podCIDRs: ['10.2.0.0/24'] } }, ['spec.podCIDRs[0]: Invalid value: "10.2.0.0/24": must match spec.podCIDR']],
    ['taints', { metadata: cmeta('n'), spec: { taints: [{ key: 'a', effect: 'Sometimes' }, { key: 'b' }, { key: 'bad key', effect: 'NoSchedule' }] } }, [
      'metadata.taints[0].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
      'metadata.taints[1].effect: Required value',
      `metadata.taints[2].key: Invalid value: "bad key": ${NAME_PART}`,
    ]],
  ]);
  const n = { metadata: cmeta('n'), spec: { podCIDRs: ['10.244.0.0/24'], providerID: 'kind://a' } };
  assert.deepEqual(update('', 'Node', n, { ...n, spec: { ...n.spec, unschedulable: true } }), []);
  assert.deepEqual(update('', 'Node', n, { ...n, spec: { podCIDRs: ['10.244.1.0/24'], providerID: 'kind://b' } }), [
    'spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid',
    'spec.providerID: Forbidden: node updates may not change providerID except from "" to valid',
  ]);
});

test('PersistentVolumeClaim and PersistentVolume', () => {
  const pvc = (spec: any) => ({ metadata: meta('data'), spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...spec } });
  table('', 'PersistentVolumeClaim', [
    ['valid', pvc({}), []],
    ['access modes required', pvc({ accessModes: [] }), ['spec.accessModes: Required value: at least 1 access mode is required']],
    ['access mode values', pvc({ accessModes: ['ReadWriteSometimes', 'ReadWriteOncePod', 'ReadOnlyMany'] }), [
      'spec.accessModes: Unsupported value: "ReadWriteSometimes": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"',
      'spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes',
    ]],
    ['storage required', pvc({ resources: { requests: {} } }), ['spec.resources[storage]: Required value']],
    ['storage positive', pvc({ resources: { requests: { storage: '0' } } }), ['spec.resources[storage]: Invalid value: "0": must be greater than zero']],
    ['volume mode', pvc({ volumeMode: 'Raw' }), ['spec.volumeMode: Unsupported value: "Raw": supported values: "Block", "Filesystem"']],
    ['storage class', pvc({ storageClassName: 'Fast' }), [`spec.storageClassName: Invalid value: "Fast": ${SUBDOMAIN}`]],
    ['data source', pvc({ dataSource: { kind: 'VolumeSnapshot', name: 'snap' } }), ["spec.dataSource: Invalid value: \"VolumeSnapshot\": must be 'PersistentVolumeClaim' when referencing the default apiGroup"]],
  ]);
  const p = pvc({});
  const bound = { ...p, status: { phase: 'Bound', capacity: { storage: '1Gi' } } };
  assert.deepEqual(update('', 'PersistentVolumeClaim', bound, { ...bound, spec: { ...bound.spec, resources: { requests: { storage: '2Gi' } } } }), [], 'bound claims may grow');
  assert.deepEqual(update('', 'PersistentVolumeClaim', p, { ...p, spec: { ...p.spec, volumeName: 'pv-1' } }), [], 'the volume may be bound once');
  assert.deepEqual(update('', 'PersistentVolumeClaim', p, { ...p, spec: { ...p.spec, accessModes: ['ReadWriteMany'] } }), [
    'spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims',
  ]);
  assert.deepEqual(update('', 'PersistentVolumeClaim', bound, { ...bound, spec: { ...bound.spec, resources: { requests: { storage: '512Mi' } } } }), [
    'spec.resources.requests.storage: Forbidden: field can not be less than status.capacity',
  ]);

  const pv = (spec: any) => ({ metadata: cmeta('pv-1'), spec: { capacity: { storage: '10Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/data' }, ...spec } });
  table('', 'PersistentVolume', [
    ['valid', pv({}), []],
    ['no source', pv({ hostPath: undefined }), ['spec: Required value: must specify a volume type']],
    ['two sources', pv({ nfs: { server: 'nfs', path: '/x' } }), ['spec.nfs: Forbidden: may not specify more than 1 volume type']],
    ['capacity', pv({ capacity: { cpu: '1' } }), ['spec.capacity: Unsupported value: {"cpu":"1"}: supported values: "storage"']],
    ['capacity required', pv({ capacity: {} }), ['spec.capacity: Required value', 'spec.capacity: Unsupported value: {}: supported values: "storage"']],
    ['reclaim policy', pv({ persistentVolumeReclaimPolicy: 'Keep' }), ['spec.persistentVolumeReclaimPolicy: Unsupported value: "Keep": supported values: "Delete", "Recycle", "Retain"']],
    ['access modes', pv({ accessModes: [] }), ['spec.accessModes: Required value']],
    ['local needs node affinity', pv({ hostPath: undefined, local: { path: '/mnt/disk' } }), ['spec.nodeAffinity: Required value: Local volume requires node affinity']],
  ]);
  const v = pv({});
  assert.deepEqual(update('', 'PersistentVolume', v, { ...v, spec: { ...v.spec, hostPath: { path: '/other' } } }), ['spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable after creation']);
});

test('Event, Endpoints and EndpointSlice', () => {
  table('', 'Event', [
    ['legacy event', { metadata: meta('e.1'), involvedObject: { kind: 'Pod', name: 'web', namespace: 'default' }, reason: 'Started', message: 'hi', source: { component: 'kubelet' } }, []],
    ['namespace mismatch', { metadata: meta('e.2'), involvedObject: { kind: 'Pod', name: 'web', namespace: 'other' } }, ['involvedObject.namespace: Invalid value: "other": does not match event.namespace']],
    ['new-style event', { metadata: meta('e.3'), eventTime: '2024-01-01T00:00:00.000000Z', involvedObject: { kind: 'Pod', namespace: 'default' }, reportingComponent: 'my ctl', reason: '' }, [
      `reportingComponent: Invalid value: "my ctl": ${NAME_PART}`,
      'reportingInstance: Required value', 'action: Required value', 'reason: Required value',
    ]],
  ]);
  table('events.k8s.io', 'Event', [
    ['valid', { metadata: meta('e.1'), eventTime: '2024-01-01T00:00:00.000000Z', regarding: { kind: 'Pod', namespace: 'default', name: 'web' }, reportingController: 'example.com/ctl', reportingInstance: 'ctl-1', action: 'Sync', reason: 'Synced', type: 'Normal' }, []],
    ['strict rules', { metadata: meta('e.1'), regarding: { kind: 'Pod', namespace: 'default', name: 'web' }, type: 'Info', deprecatedCount: 2 }, [
      'eventTime: Required value', 'type: Invalid value: "": has invalid value: Info', 'count: Invalid value: "": needs to be unset',
    ]],
  ]);
  table('', 'Endpoints', [
    ['valid', { metadata: meta('web'), subsets: [{ addresses: [{ ip: '10.1.2.3' }], ports: [{ port: 80 }] }] }, []],
    ['addresses', { metadata: meta('web'), subsets: [{ ports: [{ port: 80 }] }, { addresses: [{ ip: 'x' }, { ip: '169.254.1.1' }], ports: [{ port: 70000, name: 'a' }, { port: 1 }] }] }, [
      'subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`',
      'subsets[1].addresses[0].ip: Invalid value: "x": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
      'subsets[1].addresses[0].ip: Invalid value: "x": must be a valid IP address',
      'subsets[1].addresses[1].ip: Invalid value: "169.254.1.1": may not be in the link-local range (169.254.0.0/16, fe80::/10)',
      `subsets[1].ports[0].port: Invalid value: 70000: ${PORT_RANGE}`,
      'subsets[1].ports[1].name: Required value',
    ]],
  ]);
  table('discovery.k8s.io', 'EndpointSlice', [
    ['valid', { metadata: meta('web-abc'), addressType: 'IPv4', endpoints: [{ addresses: ['10.1.2.3'] }], ports: [{ name: 'http', port: 80 }] }, []],
    ['address type', { metadata: meta('web-abc'), addressType: 'IPv5', endpoints: [] }, ['addressType: Unsupported value: "IPv5": supported values: "FQDN", "IPv4", "IPv6"']],
    ['addresses', { metadata: meta('web-abc'), addressType: 'IPv4', endpoints: [{ addresses: [] }, { addresses: ['::1'] }, { addresses: ['0.0.0.0'] }], ports: [{ name: 'Http' }] }, [
      'endpoints[0].addresses: Required value: must contain at least 1 address',
      'endpoints[1].addresses[0]: Invalid value: "::1": must be a valid IPv4 address',
      'endpoints[2].addresses[0]: Invalid value: "0.0.0.0": may not be unspecified (0.0.0.0)',
      `ports[0].name: Invalid value: "Http": ${LABEL}`,
    ]],
  ]);
});

test('LimitRange and ResourceQuota', () => {
  table('', 'LimitRange', [
    ['valid', { metadata: meta('l'), spec: { limits: [{ type: 'Container', max: { cpu: '2' }, min: { cpu: '100m' }, default: { cpu: '500m' } }] } }, []],
    ['min over max', { metadata: meta('l'), spec: { limits: [{ type: 'Container', max: { cpu: '1' }, min: { cpu: '2' } }] } }, [
      'spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1',
      'spec.limits[0].defaultRequest[cpu]: Invalid value: "1": min value 2 is greater than default request value 1',
      'spec.limits[0].default[cpu]: Invalid value: "2": min value 2 is greater than default value 1',
    ]],
    ['type and resources', { metadata: meta('l'), spec: { limits: [{ type: 'Cluster', max: { 'foo bar': '1' } }, { type: 'Pod', default: { cpu: '1' } }, { type: 'PersistentVolumeClaim' }] } }, [
      "spec.limits[0].type: Invalid value: \"Cluster\": must be a standard limit type or fully qualified",
      `spec.limits[0].max[foo bar]: Invalid value: "foo bar": ${NAME_PART}`,
      "spec.limits[1].default: Forbidden: may not be specified when `type` is 'Pod'",
      'spec.limits[2].limits: Required value: either minimum or maximum storage value is required, but neither was provided',
    ]],
  ]);
  table('', 'ResourceQuota', [
    ['valid', { metadata: meta('q'), spec: { hard: { pods: '10', 'requests.cpu': '4', 'count/deployments.apps': '5', 'requests.nvidia.com/gpu': '2' } } }, []],
    ['names and values', { metadata: meta('q'), spec: { hard: { pods: '1.5', widgets: '1', cpu: '-1' } } }, [
      'spec.hard[pods]: Invalid value: "1500m": must be an integer',
      'spec.hard[widgets]: Invalid value: "widgets": must be a standard resource type or fully qualified',
      'spec.hard[widgets]: Invalid value: "widgets": must be a standard resource for quota',
      'spec.hard[cpu]: Invalid value: "-1": must be greater than or equal to 0',
    ]],
    ['scopes', { metadata: meta('q'), spec: { hard: { pods: '1' }, scopes: ['BestEffort', 'NotBestEffort'] } }, ['spec.scopes: Invalid value: ["BestEffort","NotBestEffort"]: conflicting scopes']],
  ]);
});

test('autoscaling, networking, policy', () => {
  const hpa = (spec: any) => ({ metadata: meta('web'), spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 5, ...spec } });
  table('autoscaling', 'HorizontalPodAutoscaler', [
    ['valid', hpa({}), []],
    ['replicas', hpa({ minReplicas: 0, maxReplicas: 0 }), [
      'spec.minReplicas: Invalid value: 0: must be greater than or equal to 1',
      'spec.maxReplicas: Invalid value: 0: must be greater than 0',
    ]],
    ['max below min', hpa({ minReplicas: 5, maxReplicas: 2 }), ['spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`']],
    ['target ref', hpa({ scaleTargetRef: { name: 'a/b' } }), ['spec.scaleTargetRef.kind: Required value', "spec.scaleTargetRef.name: Invalid value: \"a/b\": may not contain '/'"]],
    ['metrics', hpa({ metrics: [
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization' } } },
      { type: 'Pods' },
      { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '0' } } },
    ] }), [
      'spec.metrics[0].resource.target.averageUtilization: Required value: must set either a target raw value or a target utilization',
      'spec.metrics[1].pods: Required value: must populate information for the given metric source',
      'spec.metrics[2].resource.target.averageValue: Invalid value: "0": must be positive',
    ]],
    ['behavior', hpa({ behavior: { scaleUp: { selectPolicy: 'Sum', policies: [{ type: 'Pods', value: 0, periodSeconds: 2000 }] } } }), [
      'spec.behavior.scaleUp.selectPolicy: Unsupported value: "Sum": supported values: "Disabled", "Max", "Min"',
      'spec.behavior.scaleUp.policies[0].value: Invalid value: 0: must be greater than zero',
      'spec.behavior.scaleUp.policies[0].periodSeconds: Invalid value: 2000: must be less than or equal to 1800',
    ]],
  ], 'v2');

  table('networking.k8s.io', 'NetworkPolicy', [
    ['valid', { metadata: meta('np'), spec: { podSelector: { matchLabels: { app: 'db' } }, ingress: [{ from: [{ podSelector: {} }], ports: [{ port: 5432 }] }] } }, []],
    ['policy types and ports', { metadata: meta('np'), spec: { podSelector: {}, policyTypes: ['Inbound'], ingress: [{ ports: [{ protocol: 'ICMP', port: 80, endPort: 70 }, { port: 'Web' }], from: [{}, { ipBlock: { cidr: '10.0.0.0/16', except: ['10.1.0.0/24'] }, podSelector: {} }] }] } }, [
      'spec.ingress[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"',
      'spec.ingress[0].ports[0].endPort: Invalid value: 70: must be greater than or equal to `port`',
      'spec.ingress[0].ports[1].port: Invalid value: "Web": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
      'spec.ingress[0].from[0]: Required value: must specify a peer',
      'spec.ingress[0].from[1].ipBlock.except[0]: Invalid value: "10.1.0.0/24": must be a strict subset of `cidr`',
      'spec.ingress[0].from[1]: Forbidden: may not specify both ipBlock and another peer',
      'spec.policyTypes[0]: Unsupported value: "Inbound": supported values: "Ingress", "Egress"',
    ]],
  ]);

  const ing = (spec: any) => ({ metadata: meta('web'), spec });
  const backend = { service: { name: 'web', port: { number: 80 } } };
  table('networking.k8s.io', 'Ingress', [
    ['valid', ing({ rules: [{ host: 'example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend }] } }], tls: [{ hosts: ['*.example.com'], secretName: 'tls' }] }), []],
    ['nothing', ing({}), ['spec: Invalid value: []: either `defaultBackend` or `rules` must be specified']],
    ['paths', ing({ rules: [{ host: '10.0.0.1', http: { paths: [{ path: 'api', pathType: 'Exact', backend }, { path: '/a', backend }, { path: '/b', pathType: 'Regex', backend }, { path: '/c//d', pathType: 'Prefix', backend: { service: { name: 'Web' } } }] } }] }), [
      'spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address',
      'spec.rules[0].http.paths[0].path: Invalid value: "api": must be an absolute path',
      'spec.rules[0].http.paths[1].pathType: Required value: pathType must be specified',
      'spec.rules[0].http.paths[2].pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"',
      "spec.rules[0].http.paths[3].path: Invalid value: \"/c//d\": must not contain '//'",
      `spec.rules[0].http.paths[3].backend.service.name: Invalid value: "Web": ${DNS1035}`,
      'spec.rules[0].http.paths[3].backend: Required value: port name or number is required',
    ]],
    ['wildcard host', ing({ rules: [{ host: 'foo.*.com' }] }), [
      "spec.rules[0].host: Invalid value: \"foo.*.com\": a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    ]],
  ]);
  table('networking.k8s.io', 'IngressClass', [
    ['valid', { metadata: cmeta('nginx'), spec: { controller: 'k8s.io/ingress-nginx' } }, []],
    ['controller required', { metadata: cmeta('nginx'), spec: {} }, ['spec.controller: Required value']],
    ['controller format', { metadata: cmeta('nginx'), spec: { controller: 'nginx' } }, ['spec.controller: Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")']],
  ]);
  assert.deepEqual(update('networking.k8s.io', 'IngressClass', { metadata: cmeta('x'), spec: { controller: 'a.io/x' } }, { metadata: cmeta('x'), spec: { controller: 'b.io/x' } }), [
    'spec.controller: Invalid value: "b.io/x": field is immutable',
  ]);

  table('policy', 'PodDisruptionBudget', [
    ['valid', { metadata: meta('pdb'), spec: { minAvailable: '50%', selector: { matchLabels: { app: 'web' } } } }, []],
    ['values', { metadata: meta('pdb'), spec: { maxUnavailable: '150%' } }, ['spec.maxUnavailable: Invalid value: "150%": must not be greater than 100%']],
    ['percent format', { metadata: meta('pdb'), spec: { minAvailable: '50' } }, [`spec.minAvailable: Invalid value: "50": ${PERCENT}`]],
    ['negative', { metadata: meta('pdb'), spec: { minAvailable: -1 } }, ['spec.minAvailable: Invalid value: -1: must be greater than or equal to 0']],
  ]);
  const both = create('policy', 'PodDisruptionBudget', { metadata: meta('pdb'), spec: { minAvailable: 1, maxUnavailable: 1 } });
  assert.equal(both.length, 1);
  assert.match(both[0], /^spec: Invalid value: .*: minAvailable and maxUnavailable cannot be both set$/);
});

test('RBAC', () => {
  const RBAC = 'rbac.authorization.k8s.io';
  table(RBAC, 'Role', [
    ['valid', { metadata: meta('reader'), rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] }, []],
    ['rules', { metadata: meta('reader'), rules: [{ resources: ['pods'] }, { verbs: ['get'], nonResourceURLs: ['/healthz'] }] }, [
      'rules[0].verbs: Required value: verbs must contain at least one value',
      'rules[0].apiGroups: Required value: resource rules must supply at least one api group',
      'rules[1].nonResourceURLs: Invalid value: ["/healthz"]: namespaced rules cannot apply to non-resource URLs',
    ]],
  ]);
  table(RBAC, 'ClusterRole', [
    ['non-resource URLs', { metadata: cmeta('health'), rules: [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }] }, []],
    ['mixed', { metadata: cmeta('mixed'), rules: [{ verbs: ['get'], nonResourceURLs: ['/healthz'], resources: ['pods'] }] }, [
      'rules[0].nonResourceURLs: Invalid value: ["/healthz"]: rules cannot apply to both regular resources and non-resource URLs',
    ]],
    ['aggregation', { metadata: cmeta('agg'), aggregationRule: { clusterRoleSelectors: [] } }, ['aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil']],
  ]);
  table(RBAC, 'RoleBinding', [
    ['valid', { metadata: meta('rb'), roleRef: { kind: 'Role', name: 'reader' }, subjects: [{ kind: 'User', name: 'jane' }, { kind: 'ServiceAccount', name: 'builder' }] }, []],
    ['bad refs', { metadata: meta('rb'), roleRef: { apiGroup: 'rbac', kind: 'Group', name: '' }, subjects: [{ kind: 'Robot', name: 'r2' }, { kind: 'ServiceAccount', name: '', apiGroup: 'x' }] }, [
      'roleRef.apiGroup: Unsupported value: "rbac": supported values: "rbac.authorization.k8s.io"',
      'roleRef.kind: Unsupported value: "Group": supported values: "Role", "ClusterRole"',
      'roleRef.name: Required value',
      'subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"',
      'subjects[1].name: Required value',
      'subjects[1].apiGroup: Unsupported value: "x": supported values: ""',
    ]],
  ]);
  table(RBAC, 'ClusterRoleBinding', [
    ['service accounts need a namespace', { metadata: cmeta('crb'), roleRef: { kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'ServiceAccount', name: 'builder' }] }, ['subjects[0].namespace: Required value']],
    ['only cluster roles', { metadata: cmeta('crb'), roleRef: { kind: 'Role', name: 'view' } }, ['roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"']],
  ]);
  const rb = { metadata: meta('rb'), roleRef: { kind: 'Role', name: 'reader' } };
  const changed = update(RBAC, 'RoleBinding', rb, { ...rb, roleRef: { kind: 'Role', name: 'writer' } });
  assert.equal(changed.length, 1);
  assert.match(changed[0], /^roleRef: Invalid value: .*: cannot change roleRef$/);
});

test('storage, scheduling, coordination, node, certificates', () => {
  table('storage.k8s.io', 'StorageClass', [
    ['valid', { metadata: cmeta('fast'), provisioner: 'ebs.csi.aws.com', volumeBindingMode: 'WaitForFirstConsumer' }, []],
    ['provisioner required', { metadata: cmeta('fast') }, ['provisioner: Required value']],
    ['policies', { metadata: cmeta('fast'), provisioner: 'x.io/p', reclaimPolicy: 'Recycle', volumeBindingMode: 'Later' }, [
      'reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"',
      'volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"',
    ]],
  ]);
  const sc = { metadata: cmeta('fast'), provisioner: 'x.io/p', parameters: { type: 'gp3' } };
  assert.deepEqual(update('storage.k8s.io', 'StorageClass', sc, { ...sc, parameters: { type: 'io2' }, provisioner: 'y.io/p' }), [
    'parameters: Forbidden: updates to parameters are forbidden.',
    'provisioner: Forbidden: updates to provisioner are forbidden.',
  ]);

  table('scheduling.k8s.io', 'PriorityClass', [
    ['valid', { metadata: cmeta('high'), value: 1000000 }, []],
    ['value 0 when omitted', { metadata: cmeta('zero') }, []],
    ['user max', { metadata: cmeta('huge'), value: 1000000001 }, ['value: Forbidden: maximum allowed value of a user defined priority is 1000000000']],
    ['system prefix', { metadata: cmeta('system-mine'), value: 1 }, ["metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class"]],
    ['system class value', { metadata: cmeta('system-node-critical'), value: 1 }, ["metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: value of system-node-critical PriorityClass must be 2000001000"]],
    ['preemption', { metadata: cmeta('p'), value: 1, preemptionPolicy: 'Always' }, ['preemptionPolicy: Unsupported value: "Always": supported values: "PreemptLowerPriority", "Never"']],
  ]);
  assert.deepEqual(update('scheduling.k8s.io', 'PriorityClass', { metadata: cmeta('p'), value: 1 }, { metadata: cmeta('p'), value: 2 }), ['value: Forbidden: may not be changed in an update.']);

  table('coordination.k8s.io', 'Lease', [
    ['valid', { metadata: meta('l'), spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40 } }, []],
    ['durations', { metadata: meta('l'), spec: { leaseDurationSeconds: 0, leaseTransitions: -1 } }, [
      'spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0',
      'spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0',
    ]],
    ['preferred holder needs a strategy', { metadata: meta('l'), spec: { preferredHolder: 'b' } }, ['spec.preferredHolder: Forbidden: may only be specified if `strategy` is defined']],
  ]);
  table('node.k8s.io', 'RuntimeClass', [
    ['valid', { metadata: cmeta('gvisor'), handler: 'runsc' }, []],
    ['handler', { metadata: cmeta('gvisor'), handler: 'Run.SC' }, [`handler: Invalid value: "Run.SC": ${LABEL}`]],
    ['handler empty', { metadata: cmeta('gvisor') }, [`handler: Invalid value: "": ${LABEL}`]],
  ]);
  const pem = Buffer.from('-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n').toString('base64');
  table('certificates.k8s.io', 'CertificateSigningRequest', [
    ['valid', { metadata: cmeta('csr'), spec: { request: pem, signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'] } }, []],
    ['required fields', { metadata: cmeta('csr'), spec: { request: Buffer.from('junk').toString('base64') } }, [
      'spec.request: Invalid value: "anVuaw==": PEM block type must be CERTIFICATE REQUEST',
      'spec.usages: Required value',
      'spec.signerName: Required value',
    ]],
    ['signer name', { metadata: cmeta('csr'), spec: { request: pem, signerName: 'example/signer', usages: ['client auth', 'client auth'] } }, [
      'spec.usages[1]: Duplicate value: "client auth"',
      'spec.signerName: Invalid value: "example": should be a domain with at least two segments separated by dots',
    ]],
  ]);
});

test('update: ObjectMeta rules apply to every kind', () => {
  const cm = { metadata: meta('c'), data: { a: 'b' } };
  const next = clone(cm);
  next.metadata.namespace = 'other';
  assert.deepEqual(update('', 'ConfigMap', cm, next), ['metadata.namespace: Invalid value: "other": field is immutable']);
  const withLabel = clone(cm);
  (withLabel.metadata as any).labels = { 'bad label': 'x' };
  assert.deepEqual(update('', 'ConfigMap', cm, withLabel), [`metadata.labels: Invalid value: "bad label": ${NAME_PART}`]);
  assert.deepEqual(validateObject('example.com', 'v1', 'Widget', { metadata: meta('w') }), [], 'unknown kinds get ObjectMeta rules only');
});
