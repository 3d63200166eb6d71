import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUILTIN_RESOURCES, type ResourceInfo } from '../../api/resources.js';
import { toTable } from './table.js';
import { formatLabelSelector, labelSelectorString } from './format.js';

const NOW = new Date('2024-06-01T12:00:00Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const MIN = 60_000;
const HOUR = 60 * MIN;

function info(group: string, kind: string): ResourceInfo {
  const r = BUILTIN_RESOURCES.find((x) => x.group === group && x.kind === kind);
  assert.ok(r, `${group}/${kind} is a built-in resource`);
  return r;
}

const md = (name: string, extra: any = {}) => ({ name, namespace: 'default', creationTimestamp: ago(5 * HOUR), ...extra });
const cells = (i: ResourceInfo, obj: any) => toTable(i, [obj], { now: NOW }).rows[0].cells;
const columns = (i: ResourceInfo) => toTable(i, [], { now: NOW }).columnDefinitions!.map((c) => (c.priority ? `${c.name}*` : c.name));

test('services: type, cluster IP, external IP and ports per service type', () => {
  const svc = info('', 'Service');
  assert.deepEqual(columns(svc), ['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age', 'Selector*']);
  const cases: [string, any, any[]][] = [
    ['ClusterIP', { type: 'ClusterIP', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }], selector: { 'k8s-app': 'dns', a: 'b' } },
      ['s', 'ClusterIP', '10.96.0.10', '<none>', '53/UDP,53/TCP', '5h', 'a=b,k8s-app=dns']],
    ['ClusterIP with external IPs, protocol defaulted', { type: 'ClusterIP', clusterIPs: ['10.96.0.11'], externalIPs: ['1.1.1.1', '2.2.2.2'], ports: [{ port: 80 }] },
      ['s', 'ClusterIP', '10.96.0.11', '1.1.1.1,2.2.2.2', '80/TCP', '5h', '<none>']],
    ['headless', { type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'], ports: [] },
      ['s', 'ClusterIP', 'None', '<none>', '<none>', '5h', '<none>']],
    ['NodePort', { type: 'NodePort', clusterIP: '10.96.0.12', ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }, { port: 443, nodePort: 30443, protocol: 'TCP' }] },
      ['s', 'NodePort', '10.96.0.12', '<none>', '80:30080/TCP,443:30443/TCP', '5h', '<none>']],
    ['LoadBalancer pending', { type: 'LoadBalancer', clusterIPs: ['10.96.0.13'], ports: [{ port: 80, nodePort: 31000, protocol: 'TCP' }] },
      ['s', 'LoadBalancer', '10.96.0.13', '<pending>', '80:31000/TCP', '5h', '<none>']],
    ['LoadBalancer with ingress', { type: 'LoadBalancer', clusterIPs: ['10.96.0.13'], ports: [{ port: 80, nodePort: 31000, protocol: 'TCP' }] },
      ['s', 'LoadBalancer', '10.96.0.13', '172.18.0.5,lb.example.com', '80:31000/TCP', '5h', '<none>']],
    ['LoadBalancer with ingress and external IPs', { type: 'LoadBalancer', clusterIPs: ['10.96.0.13'], externalIPs: ['9.9.9.9'], ports: [{ port: 80, nodePort: 31000, protocol: 'TCP' }] },
      ['s', 'LoadBalancer', '10.96.0.13', '172.18.0.5,lb.example.com,9.9.9.9', '80:31000/TCP', '5h', '<none>']],
    ['ExternalName', { type: 'ExternalName', externalName: 'db.example.com' },
      ['s', 'ExternalName', '<none>', 'db.example.com', '<none>', '5h', '<none>']],
  ];
  for (const [what, spec, want] of cases) {
    const status = what.startsWith('LoadBalancer with ingress')
      ? { loadBalancer: { ingress: [{ hostname: 'lb.example.com' }, { ip: '172.18.0.5' }, { ip: '172.18.0.5' }] } }
      : {};
    assert.deepEqual(cells(svc, { metadata: md('s'), spec, status }), want, what);
  }
});

test('deployments: ready/desired, up-to-date, available, wide containers, images, selector', () => {
  const dep = info('apps', 'Deployment');
  assert.deepEqual(columns(dep), ['Name', 'Ready', 'Up-to-date', 'Available', 'Age', 'Containers*', 'Images*', 'Selector*']);
  const d = {
    metadata: md('web'),
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['b', 'a'] }, { key: 'canary', operator: 'DoesNotExist' }] },
      template: { spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }, { name: 'sidecar', image: 'busybox' }] } },
    },
    status: { replicas: 3, readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
  };
  assert.deepEqual(cells(dep, d), ['web', '2/3', 3, 2, '5h', 'nginx,sidecar', 'nginx:1.27,busybox', 'app=web,!canary,tier in (a,b)']);
  // A fresh deployment: no status yet, replicas defaulted to 1, an empty selector prints "".
  assert.deepEqual(cells(dep, { metadata: md('new'), spec: { selector: {}, template: { spec: { containers: [] } } } }), ['new', '0/1', 0, 0, '5h', '', '', '']);
  assert.equal(cells(dep, { metadata: md('bad'), spec: { selector: { matchExpressions: [{ key: 'a', operator: 'Near' }] } } })[7], '<invalid>');
});

test('replicasets, replication controllers, statefulsets, daemonsets', () => {
  const rs = info('apps', 'ReplicaSet');
  assert.deepEqual(columns(rs), ['Name', 'Desired', 'Current', 'Ready', 'Age', 'Containers*', 'Images*', 'Selector*']);
  assert.deepEqual(
    cells(rs, { metadata: md('web-5d9c'), spec: { replicas: 2, selector: { matchLabels: { app: 'web', 'pod-template-hash': '5d9c' } }, template: { spec: { containers: [{ name: 'c', image: 'nginx' }] } } }, status: { replicas: 2, readyReplicas: 1 } }),
    ['web-5d9c', 2, 2, 1, '5h', 'c', 'nginx', 'app=web,pod-template-hash=5d9c'],
  );
  assert.equal(cells(rs, { metadata: md('x'), spec: { replicas: 0 } })[7], '<none>');

  const rc = info('', 'ReplicationController');
  assert.deepEqual(cells(rc, { metadata: md('rc'), spec: { replicas: 2, selector: { app: 'x' }, template: { spec: { containers: [{ name: 'c', image: 'i' }] } } }, status: { replicas: 1 } }), ['rc', 2, 1, 0, '5h', 'c', 'i', 'app=x']);

  const sts = info('apps', 'StatefulSet');
  assert.deepEqual(columns(sts), ['Name', 'Ready', 'Age', 'Containers*', 'Images*']);
  assert.deepEqual(cells(sts, { metadata: md('db'), spec: { replicas: 3, template: { spec: { containers: [{ name: 'pg', image: 'postgres' }] } } }, status: { readyReplicas: 1 } }), ['db', '1/3', '5h', 'pg', 'postgres']);

  const ds = info('apps', 'DaemonSet');
  assert.deepEqual(columns(ds), ['Name', 'Desired', 'Current', 'Ready', 'Up-to-date', 'Available', 'Node Selector', 'Age', 'Containers*', 'Images*', 'Selector*']);
  assert.deepEqual(
    cells(ds, { metadata: md('proxy'), spec: { selector: { matchLabels: { k: 'v' } }, template: { spec: { nodeSelector: { 'kubernetes.io/os': 'linux' }, containers: [{ name: 'p', image: 'proxy' }] } } }, status: { desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, updatedNumberScheduled: 3, numberAvailable: 2 } }),
    ['proxy', 3, 3, 2, 3, 2, 'kubernetes.io/os=linux', '5h', 'p', 'proxy', 'k=v'],
  );
});

test('jobs: status, completions, duration', () => {
  const job = info('batch', 'Job');
  assert.deepEqual(columns(job), ['Name', 'Status', 'Completions', 'Duration', 'Age', 'Containers*', 'Images*', 'Selector*']);
  const base = (spec: any, status: any, extra: any = {}) => ({
    metadata: md('j', extra),
    spec: { selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u' } }, template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } }, ...spec },
    status,
  });
  const cases: [string, any, any[]][] = [
    ['complete', base({ completions: 1, parallelism: 1 }, { succeeded: 1, startTime: ago(10 * MIN), completionTime: ago(10 * MIN - 42_000), conditions: [{ type: 'SuccessCriteriaMet', status: 'True' }, { type: 'Complete', status: 'True' }] }),
      ['Complete', '1/1', '42s']],
    ['running, duration so far', base({ completions: 3, parallelism: 1 }, { succeeded: 1, active: 1, startTime: ago(5 * MIN) }), ['Running', '1/3', '5m']],
    ['work queue with parallelism', base({ parallelism: 4 }, { succeeded: 2, startTime: ago(30_000) }), ['Running', '2/1 of 4', '30s']],
    ['no completions, parallelism 1', base({ parallelism: 1 }, {}), ['Running', '0/1', '']],
    ['failed', base({ completions: 1 }, { failed: 6, startTime: ago(HOUR), conditions: [{ type: 'FailureTarget', status: 'True' }, { type: 'Failed', status: 'True' }] }), ['Failed', '0/1', '60m']],
    ['failure target only', base({ completions: 1 }, { conditions: [{ type: 'FailureTarget', status: 'True' }] }), ['FailureTarget', '0/1', '']],
    ['suspended', base({ completions: 1, suspend: true }, { conditions: [{ type: 'Suspended', status: 'True' }] }), ['Suspended', '0/1', '']],
    ['terminating', base({ completions: 1 }, {}, { deletionTimestamp: ago(0) }), ['Terminating', '0/1', '']],
    ['complete condition False is not complete', base({ completions: 1 }, { conditions: [{ type: 'Complete', status: 'False' }] }), ['Running', '0/1', '']],
  ];
  for (const [what, j, want] of cases) {
    const c = cells(job, j);
    assert.deepEqual(c.slice(1, 4), want, what);
    assert.deepEqual(c.slice(5), ['c', 'busybox', 'batch.kubernetes.io/controller-uid=u'], what);
  }
});

test('cronjobs: schedule, timezone, suspend, active, last schedule', () => {
  const cj = info('batch', 'CronJob');
  assert.deepEqual(columns(cj), ['Name', 'Schedule', 'Timezone', 'Suspend', 'Active', 'Last Schedule', 'Age', 'Containers*', 'Images*', 'Selector*']);
  const spec = { schedule: '*/5 * * * *', suspend: false, jobTemplate: { spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } } } } };
  assert.deepEqual(cells(cj, { metadata: md('cj'), spec, status: {} }), ['cj', '*/5 * * * *', '<none>', 'False', 0, '<none>', '5h', 'c', 'busybox', '<none>']);
  assert.deepEqual(
    cells(cj, { metadata: md('cj'), spec: { ...spec, timeZone: 'Etc/UTC', suspend: true }, status: { active: [{ name: 'a' }], lastScheduleTime: ago(3 * MIN) } }).slice(1, 6),
    ['*/5 * * * *', 'Etc/UTC', 'True', 1, '3m'],
  );
});

test('events: core/v1 and events.k8s.io/v1 print the same columns', () => {
  const core = info('', 'Event');
  const want = ['Last Seen', 'Type', 'Reason', 'Object', 'Subobject*', 'Source*', 'Message', 'First Seen*', 'Count*', 'Name*'];
  assert.deepEqual(columns(core), want);
  assert.deepEqual(columns(info('events.k8s.io', 'Event')), want);
  const nameCol = toTable(core, []).columnDefinitions!.at(-1)!;
  assert.equal(nameCol.format, 'name');

  const ev = {
    metadata: md('web.17d'),
    involvedObject: { kind: 'Pod', name: 'web', namespace: 'default', fieldPath: 'spec.containers{nginx}' },
    reason: 'Pulled', message: ' Successfully pulled image "nginx"\n', type: 'Normal',
    source: { component: 'kubelet', host: 'node-1' }, count: 3,
    firstTimestamp: ago(10 * MIN), lastTimestamp: ago(MIN),
  };
  assert.deepEqual(cells(core, ev), ['60s', 'Normal', 'Pulled', 'pod/web', 'spec.containers{nginx}', 'kubelet, node-1', 'Successfully pulled image "nginx"', '10m', 3, 'web.17d']);

  // New-style event (only eventTime, reporting controller, no count): first = last = eventTime, count 1.
  const micro = {
    metadata: md('x.1'), involvedObject: { kind: 'Node', name: 'node-1' }, reason: 'Starting', message: 'm', type: 'Normal',
    eventTime: new Date(NOW.getTime() - 30_000).toISOString().replace('Z', '000Z'), reportingComponent: 'kube-proxy', reportingInstance: 'node-1',
  };
  assert.deepEqual(cells(core, micro), ['30s', 'Normal', 'Starting', 'node/node-1', '', 'kube-proxy, node-1', 'm', '30s', 1, 'x.1']);

  // A series: last seen and count come from it.
  const series = { ...micro, series: { count: 7, lastObservedTime: ago(5_000) } };
  assert.deepEqual(cells(core, series).slice(0, 1).concat(cells(core, series).slice(8, 9)), ['5s', 7]);

  // events.k8s.io/v1 field names.
  const v1 = {
    metadata: md('web.18a'), regarding: { kind: 'Deployment', name: 'web' }, reason: 'ScalingReplicaSet', note: 'Scaled up', type: 'Normal',
    reportingController: 'deployment-controller', deprecatedFirstTimestamp: ago(2 * MIN), deprecatedLastTimestamp: ago(MIN), deprecatedCount: 2,
  };
  assert.deepEqual(cells(info('events.k8s.io', 'Event'), v1), ['60s', 'Normal', 'ScalingReplicaSet', 'deployment/web', '', 'deployment-controller', 'Scaled up', '2m', 2, 'web.18a']);

  // No timestamps at all.
  assert.deepEqual(cells(core, { metadata: md('e'), involvedObject: { kind: 'Pod' } }).slice(0, 4), ['<unknown>', '', '', 'pod']);
});

test('nodes: status with SchedulingDisabled, roles, version, wide addresses and system info', () => {
  const node = info('', 'Node');
  assert.deepEqual(columns(node), ['Name', 'Status', 'Roles', 'Age', 'Version', 'Internal-IP*', 'External-IP*', 'OS-Image*', 'Kernel-Version*', 'Container-Runtime*']);
  const n = {
    metadata: md('node-1', { labels: { 'node-role.kubernetes.io/control-plane': '', 'node-role.kubernetes.io/': 'x', 'kubernetes.io/role': 'master' } }),
    spec: { unschedulable: true },
    status: {
      conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: 'True' }],
      addresses: [{ type: 'Hostname', address: 'node-1' }, { type: 'InternalIP', address: '172.18.0.2' }],
      nodeInfo: { kubeletVersion: 'v1.32.0', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.1.0', containerRuntimeVersion: 'containerd://1.7.0' },
    },
  };
  assert.deepEqual(cells(node, n), ['node-1', 'Ready,SchedulingDisabled', 'control-plane,master', '5h', 'v1.32.0', '172.18.0.2', '<none>', 'Debian GNU/Linux 12 (bookworm)', '6.1.0', 'containerd://1.7.0']);
  assert.deepEqual(cells(node, { metadata: md('n2'), status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } }).slice(1, 3), ['NotReady', '<none>']);
  assert.deepEqual(cells(node, { metadata: md('n3') }).slice(1), ['Unknown', '<none>', '5h', '', '<none>', '<none>', '<unknown>', '<unknown>', '<unknown>']);
});

test('configmaps, secrets, service accounts, namespaces, leases', () => {
  assert.deepEqual(cells(info('', 'ConfigMap'), { metadata: md('cm'), data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } }), ['cm', 3, '5h']);
  assert.deepEqual(cells(info('', 'Secret'), { metadata: md('s'), type: 'kubernetes.io/tls', data: { 'tls.crt': 'x', 'tls.key': 'y' } }), ['s', 'kubernetes.io/tls', 2, '5h']);
  assert.deepEqual(cells(info('', 'ServiceAccount'), { metadata: md('default') }), ['default', 0, '5h']);
  assert.deepEqual(cells(info('', 'Namespace'), { metadata: md('kube-system'), status: { phase: 'Active' } }), ['kube-system', 'Active', '5h']);
  assert.deepEqual(cells(info('coordination.k8s.io', 'Lease'), { metadata: md('node-1'), spec: { holderIdentity: 'node-1' } }), ['node-1', 'node-1', '5h']);
  assert.deepEqual(columns(info('', 'Secret')), ['Name', 'Type', 'Data', 'Age']);
});

test('persistent volumes and claims', () => {
  const pvc = info('', 'PersistentVolumeClaim');
  assert.deepEqual(columns(pvc), ['Name', 'Status', 'Volume', 'Capacity', 'Access Modes', 'StorageClass', 'VolumeAttributesClass', 'Age', 'VolumeMode*']);
  assert.deepEqual(
    cells(pvc, { metadata: md('data'), spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'standard', volumeName: 'pv-1', volumeMode: 'Filesystem' }, status: { phase: 'Bound', accessModes: ['ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOnce'], capacity: { storage: '2Gi' } } }),
    ['data', 'Bound', 'pv-1', '2Gi', 'RWO,RWX', 'standard', '<unset>', '5h', 'Filesystem'],
  );
  assert.deepEqual(
    cells(pvc, { metadata: md('pending', { annotations: { 'volume.beta.kubernetes.io/storage-class': 'beta' } }), spec: { resources: { requests: { storage: '1Gi' } }, storageClassName: 'ignored' }, status: { phase: 'Pending' } }),
    ['pending', 'Pending', '', '', '', 'beta', '<unset>', '5h', '<unset>'],
  );

  const pv = info('', 'PersistentVolume');
  assert.deepEqual(columns(pv), ['Name', 'Capacity', 'Access Modes', 'Reclaim Policy', 'Status', 'Claim', 'StorageClass', 'VolumeAttributesClass', 'Reason', 'Age', 'VolumeMode*']);
  assert.deepEqual(
    cells(pv, { metadata: md('pv-1', { deletionTimestamp: ago(0) }), spec: { capacity: { storage: '2Gi' }, accessModes: ['ReadWriteOncePod', 'ReadOnlyMany'], persistentVolumeReclaimPolicy: 'Retain', claimRef: { namespace: 'default', name: 'data' }, storageClassName: 'standard', volumeAttributesClassName: 'fast' }, status: { phase: 'Bound' } }),
    ['pv-1', '2Gi', 'ROX,RWOP', 'Retain', 'Terminating', 'default/data', 'standard', 'fast', '', '5h', '<unset>'],
  );
});

test('rbac bindings, roles, ingresses, endpoints, endpoint slices', () => {
  const rb = info('rbac.authorization.k8s.io', 'RoleBinding');
  assert.deepEqual(columns(rb), ['Name', 'Role', 'Age', 'Users*', 'Groups*', 'ServiceAccounts*']);
  assert.deepEqual(
    cells(rb, { metadata: md('rb'), roleRef: { kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'User', name: 'alice' }, { kind: 'User', name: 'bob' }, { kind: 'Group', name: 'devs' }, { kind: 'ServiceAccount', name: 'sa', namespace: 'ns' }] }),
    ['rb', 'ClusterRole/view', '5h', 'alice, bob', 'devs', 'ns/sa'],
  );
  assert.deepEqual(columns(info('rbac.authorization.k8s.io', 'ClusterRoleBinding')), ['Name', 'Role', 'Age', 'Users*', 'Groups*', 'ServiceAccounts*']);
  // Roles have no printer: the default table.
  assert.deepEqual(columns(info('rbac.authorization.k8s.io', 'Role')), ['Name', 'Created At']);

  const ing = info('networking.k8s.io', 'Ingress');
  assert.deepEqual(columns(ing), ['Name', 'Class', 'Hosts', 'Address', 'Ports', 'Age']);
  assert.deepEqual(
    cells(ing, { metadata: md('ing'), spec: { ingressClassName: 'nginx', rules: [{ host: 'a.com' }, { host: 'b.com' }, {}, { host: 'c.com' }, { host: 'd.com' }], tls: [{ hosts: ['a.com'] }] }, status: { loadBalancer: { ingress: [{ ip: '10.0.0.2' }, { ip: '10.0.0.1' }] } } }),
    ['ing', 'nginx', 'a.com,b.com,c.com + 2 more...', '10.0.0.1,10.0.0.2', '80, 443', '5h'],
  );
  assert.deepEqual(cells(ing, { metadata: md('ing'), spec: { rules: [{}] } }), ['ing', '<none>', '*', '', '80', '5h']);

  const ep = info('', 'Endpoints');
  assert.deepEqual(cells(ep, { metadata: md('web') }), ['web', '<none>', '5h']);
  assert.deepEqual(
    cells(ep, { metadata: md('web'), subsets: [{ addresses: [{ ip: '10.0.0.1' }, { ip: 'fd00::1' }], ports: [{ port: 80 }, { port: 443 }] }] }),
    ['web', '10.0.0.1:80,[fd00::1]:80,10.0.0.1:443 + 1 more...', '5h'],
  );
  assert.deepEqual(cells(ep, { metadata: md('h'), subsets: [{ addresses: [{ ip: '10.0.0.1' }] }] }), ['h', '10.0.0.1', '5h']);

  const eps = info('discovery.k8s.io', 'EndpointSlice');
  assert.deepEqual(columns(eps), ['Name', 'AddressType', 'Ports', 'Endpoints', 'Age']);
  assert.deepEqual(
    cells(eps, { metadata: md('web-abc'), addressType: 'IPv4', ports: [{ port: 80, name: 'http' }, { name: 'x' }, {}, { port: 9 }], endpoints: [{ addresses: ['10.0.0.1'] }, { addresses: ['10.0.0.2'] }] }),
    ['web-abc', 'IPv4', '80,x,* + 1 more...', '10.0.0.1,10.0.0.2', '5h'],
  );
  assert.deepEqual(cells(eps, { metadata: md('e'), addressType: 'IPv4' }).slice(2, 4), ['<unset>', '<unset>']);
});

test('storage classes, priority classes, hpa, pdb, csr, controller revisions, quotas', () => {
  assert.deepEqual(
    cells(info('storage.k8s.io', 'StorageClass'), { metadata: md('standard', { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }), provisioner: 'rancher.io/local-path', volumeBindingMode: 'WaitForFirstConsumer' }),
    ['standard (default)', 'rancher.io/local-path', 'Delete', 'WaitForFirstConsumer', false, '5h'],
  );
  assert.deepEqual(
    cells(info('scheduling.k8s.io', 'PriorityClass'), { metadata: md('system-node-critical'), value: 2000001000, preemptionPolicy: 'PreemptLowerPriority' }),
    ['system-node-critical', 2000001000, false, '5h', 'PreemptLowerPriority'],
  );
  const hpa = info('autoscaling', 'HorizontalPodAutoscaler');
  assert.deepEqual(columns(hpa), ['Name', 'Reference', 'Targets', 'MinPods', 'MaxPods', 'Replicas', 'Age']);
  assert.deepEqual(
    cells(hpa, {
      metadata: md('web'),
      spec: {
        scaleTargetRef: { kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 10,
        metrics: [
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } },
          { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } },
          { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '1k' } } },
        ],
      },
      status: { currentReplicas: 2, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 12 } } }] },
    }),
    ['web', 'Deployment/web', 'cpu: 12%/80%, memory: <unknown>/100Mi + 1 more...', '1', 10, 2, '5h'],
  );
  assert.equal(cells(hpa, { metadata: md('x'), spec: { scaleTargetRef: { kind: 'Deployment', name: 'x' }, maxReplicas: 3 } })[2], '<none>');

  assert.deepEqual(
    cells(info('policy', 'PodDisruptionBudget'), { metadata: md('pdb'), spec: { minAvailable: '50%' }, status: { disruptionsAllowed: 1 } }),
    ['pdb', '50%', 'N/A', 1, '5h'],
  );
  assert.deepEqual(
    cells(info('certificates.k8s.io', 'CertificateSigningRequest'), { metadata: md('csr-1'), spec: { signerName: 'kubernetes.io/kube-apiserver-client', username: 'alice', expirationSeconds: 86400 }, status: { conditions: [{ type: 'Approved', status: 'True' }], certificate: 'LS0t' } }),
    ['csr-1', '5h', 'kubernetes.io/kube-apiserver-client', 'alice', '24h', 'Approved,Issued'],
  );
  assert.deepEqual(
    cells(info('apps', 'ControllerRevision'), { metadata: md('ds-7b', { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'ds', controller: true }] }), revision: 2 }),
    ['ds-7b', 'daemonset.apps/ds', 2, '5h'],
  );
  assert.deepEqual(
    cells(info('', 'ResourceQuota'), { metadata: md('q'), status: { hard: { 'requests.cpu': '2', pods: '10', 'limits.memory': '4Gi', 'limits.cpu': '4' }, used: { pods: '3', 'limits.cpu': '500m' } } }),
    ['q', 'pods: 3/10, requests.cpu: 0/2', 'limits.cpu: 500m/4, limits.memory: 0/4Gi', '5h'],
  );
});

test('kinds without a printer get Name and Created At', () => {
  for (const [g, k] of [['', 'LimitRange'], ['rbac.authorization.k8s.io', 'ClusterRole'], ['apiextensions.k8s.io', 'CustomResourceDefinition']]) {
    const i = info(g, k);
    const t = toTable(i, [{ metadata: { name: 'x', creationTimestamp: '2024-05-01T10:00:00Z' } }], { now: NOW });
    assert.deepEqual(t.columnDefinitions!.map((c) => [c.name, c.type, c.format]), [['Name', 'string', 'name'], ['Created At', 'date', '']], k);
    assert.deepEqual(t.rows[0].cells, ['x', '2024-05-01T10:00:00Z'], k);
  }
});

test('label selector formatting', () => {
  assert.equal(labelSelectorString(undefined), '');
  assert.equal(labelSelectorString({}), '');
  assert.equal(labelSelectorString({ matchLabels: { b: '2', a: '1' } }), 'a=1,b=2');
  assert.equal(labelSelectorString({ matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }, { key: 'app', operator: 'Exists' }] }), 'app,env notin (prod)');
  assert.equal(labelSelectorString({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }), null);
  assert.equal(formatLabelSelector({}), '<none>');
  assert.equal(formatLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Bogus' }] }), '<error>');
});
