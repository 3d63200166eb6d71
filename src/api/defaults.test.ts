import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDefaults, defaultTolerationSeconds, dropServiceTypeDependentFields, imageTag, prepareJobSelector } from './defaults.js';

const defaulted = (group: string, version: string, kind: string, obj: any) => {
  applyDefaults(group, version, kind, obj);
  return obj;
};
const pod = (spec: any) => defaulted('', 'v1', 'Pod', { metadata: { name: 'p', namespace: 'default' }, spec });

/** What every container gets (SetDefaults_Container). */
const container = (name: string, image: string, pullPolicy: string, extra: any = {}) => ({
  name, image, imagePullPolicy: pullPolicy, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', resources: {}, ...extra,
});

test('a minimal pod gets the SetDefaults_PodSpec / SetDefaults_Pod / SetDefaults_Container values', () => {
  const p = pod({ containers: [{ name: 'web', image: 'nginx' }] });
  assert.deepEqual(p.spec, {
    containers: [container('web', 'nginx', 'Always')],
    dnsPolicy: 'ClusterFirst',
    restartPolicy: 'Always',
    securityContext: {},
    terminationGracePeriodSeconds: 30,
    schedulerName: 'default-scheduler',
    enableServiceLinks: true,
  });
});

test('explicit values are kept', () => {
  const p = pod({
    containers: [{ name: 'web', image: 'nginx', imagePullPolicy: 'Never', terminationMessagePolicy: 'FallbackToLogsOnError' }],
    restartPolicy: 'Never', dnsPolicy: 'Default', terminationGracePeriodSeconds: 0, schedulerName: 'mine', enableServiceLinks: false,
    securityContext: { runAsUser: 1000 },
  });
  assert.equal(p.spec.restartPolicy, 'Never');
  assert.equal(p.spec.dnsPolicy, 'Default');
  assert.equal(p.spec.terminationGracePeriodSeconds, 0);
  assert.equal(p.spec.schedulerName, 'mine');
  assert.equal(p.spec.enableServiceLinks, false);
  assert.deepEqual(p.spec.securityContext, { runAsUser: 1000 });
  assert.equal(p.spec.containers[0].imagePullPolicy, 'Never');
  assert.equal(p.spec.containers[0].terminationMessagePolicy, 'FallbackToLogsOnError');
});

test('imagePullPolicy follows the tag the kubelet would pull', () => {
  const digest = `sha256:${'a'.repeat(64)}`;
  const cases: [string, string][] = [
    ['nginx', 'Always'], ['nginx:latest', 'Always'], ['nginx:1.27', 'IfNotPresent'], [`nginx@${digest}`, 'IfNotPresent'],
    [`nginx:latest@${digest}`, 'Always'], ['registry.example.com:5000/team/app', 'Always'], ['registry.example.com:5000/team/app:v2', 'IfNotPresent'],
    ['localhost/app:dev', 'IfNotPresent'], ['docker.io/library/busybox', 'Always'], ['', 'IfNotPresent'], ['Nginx', 'IfNotPresent'],
  ];
  for (const [image, want] of cases) {
    const p = pod({ containers: [{ name: 'c', image }], initContainers: [{ name: 'i', image }] });
    assert.equal(p.spec.containers[0].imagePullPolicy, want, image);
    assert.equal(p.spec.initContainers[0].imagePullPolicy, want, `init ${image}`);
  }
  assert.equal(imageTag('nginx'), 'latest');
  assert.equal(imageTag('nginx:1.27'), '1.27');
  assert.equal(imageTag('localhost:5000/nginx'), 'latest');
});

test('ports, probes, lifecycle handlers and env field refs', () => {
  const p = pod({
    containers: [{
      name: 'web', image: 'nginx:1',
      ports: [{ containerPort: 80 }, { containerPort: 53, protocol: 'UDP' }],
      livenessProbe: { httpGet: { port: 80 } },
      readinessProbe: { tcpSocket: { port: 80 }, periodSeconds: 5 },
      startupProbe: { grpc: { port: 9090 } },
      lifecycle: { preStop: { httpGet: { port: 'http', path: '/stop' } } },
      env: [{ name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }, { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1000m' } } }],
    }],
  });
  const c = p.spec.containers[0];
  assert.deepEqual(c.ports, [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 53, protocol: 'UDP' }]);
  assert.deepEqual(c.livenessProbe, { httpGet: { port: 80, path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
  assert.deepEqual(c.readinessProbe, { tcpSocket: { port: 80 }, periodSeconds: 5, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 });
  assert.deepEqual(c.startupProbe, { grpc: { port: 9090, service: '' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
  assert.deepEqual(c.lifecycle.preStop.httpGet, { port: 'http', path: '/stop', scheme: 'HTTP' });
  assert.deepEqual(c.env[0].valueFrom.fieldRef, { fieldPath: 'metadata.name', apiVersion: 'v1' });
  assert.equal(c.env[1].valueFrom.resourceFieldRef.divisor, '1');
});

test('volumes: emptyDir when no source, defaultMode 420, hostPath type, projected token expiry', () => {
  const p = pod({
    containers: [{ name: 'c', image: 'busybox:1' }],
    volumes: [
      { name: 'scratch' },
      { name: 's', secret: { secretName: 'x' } },
      { name: 'cm', configMap: { name: 'x', defaultMode: 0o400 } },
      { name: 'd', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
      { name: 'proj', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } },
      { name: 'h', hostPath: { path: '/var/log' } },
      { name: 'e', emptyDir: { sizeLimit: '1024Mi' } },
      { name: 'img', image: { reference: 'registry.example.com/data:v1' } },
    ],
  });
  const v = Object.fromEntries(p.spec.volumes.map((x: any) => [x.name, x]));
  assert.deepEqual(v.scratch, { name: 'scratch', emptyDir: {} });
  assert.equal(v.s.secret.defaultMode, 420);
  assert.equal(v.cm.configMap.defaultMode, 256, 'explicit mode kept');
  assert.equal(v.d.downwardAPI.defaultMode, 420);
  assert.equal(v.d.downwardAPI.items[0].fieldRef.apiVersion, 'v1');
  assert.deepEqual(v.proj.projected, { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3600 } }], defaultMode: 420 });
  assert.deepEqual(v.h.hostPath, { path: '/var/log', type: '' });
  assert.equal(v.e.emptyDir.sizeLimit, '1Gi');
  assert.equal(v.img.image.pullPolicy, 'IfNotPresent');
});

test('resources: requests default from limits (pods only), quantities canonical and rounded to milli', () => {
  const p = pod({
    containers: [{ name: 'c', image: 'x:1', resources: { limits: { cpu: '0.5', memory: '1024Mi' }, requests: { cpu: '100u' } } }],
    initContainers: [{ name: 'i', image: 'x:1', resources: { limits: { memory: '64Mi' } } }],
  });
  assert.deepEqual(p.spec.containers[0].resources, { limits: { cpu: '500m', memory: '1Gi' }, requests: { cpu: '1m', memory: '1Gi' } });
  assert.deepEqual(p.spec.initContainers[0].resources, { limits: { memory: '64Mi' }, requests: { memory: '64Mi' } });
  const hostNet = pod({ hostNetwork: true, containers: [{ name: 'c', image: 'x:1', ports: [{ containerPort: 8080 }] }] });
  assert.equal(hostNet.spec.containers[0].ports[0].hostPort, 8080, 'hostNetwork pods default hostPort to containerPort');
});

test("a Deployment's pod template gets the pod spec defaults but not the pod-only ones", () => {
  const d = defaulted('apps', 'v1', 'Deployment', {
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { hostNetwork: true, containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80 }], resources: { limits: { cpu: '1' } } }] },
      },
    },
  });
  assert.deepEqual(d.spec, {
    replicas: 1,
    selector: { matchLabels: { app: 'web' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
    revisionHistoryLimit: 10,
    progressDeadlineSeconds: 600,
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        hostNetwork: true,
        containers: [container('web', 'nginx:1.27', 'IfNotPresent', { ports: [{ containerPort: 80, protocol: 'TCP' }], resources: { limits: { cpu: '1' } } })],
        dnsPolicy: 'ClusterFirst', restartPolicy: 'Always', securityContext: {}, terminationGracePeriodSeconds: 30, schedulerName: 'default-scheduler',
      },
    },
  });
  const recreate = defaulted('apps', 'v1', 'Deployment', { metadata: { name: 'r' }, spec: { strategy: { type: 'Recreate' }, replicas: 0 } });
  assert.deepEqual(recreate.spec.strategy, { type: 'Recreate' });
  assert.equal(recreate.spec.replicas, 0);
});

test('ReplicaSet, StatefulSet and DaemonSet', () => {
  const rs = defaulted('apps', 'v1', 'ReplicaSet', { metadata: { name: 'rs' }, spec: { template: { spec: { containers: [{ name: 'c', image: 'x' }] } } } });
  assert.equal(rs.spec.replicas, 1);
  assert.equal(rs.spec.template.spec.restartPolicy, 'Always');

  const sts = defaulted('apps', 'v1', 'StatefulSet', {
    metadata: { name: 'db' },
    spec: { serviceName: 'db', template: { spec: { containers: [{ name: 'c', image: 'x' }] } }, volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1024Mi' } } } }] },
  });
  assert.equal(sts.spec.replicas, 1);
  assert.equal(sts.spec.podManagementPolicy, 'OrderedReady');
  assert.deepEqual(sts.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
  assert.deepEqual(sts.spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' });
  assert.equal(sts.spec.revisionHistoryLimit, 10);
  assert.deepEqual(sts.spec.volumeClaimTemplates[0], {
    apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data' },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeMode: 'Filesystem' }, status: { phase: 'Pending' },
  });
  const onDelete = defaulted('apps', 'v1', 'StatefulSet', { metadata: { name: 'x' }, spec: { updateStrategy: { type: 'OnDelete' } } });
  assert.deepEqual(onDelete.spec.updateStrategy, { type: 'OnDelete' });

  const ds = defaulted('apps', 'v1', 'DaemonSet', { metadata: { name: 'ds' }, spec: { template: { spec: { containers: [{ name: 'c', image: 'x' }] } } } });
  assert.deepEqual(ds.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
  assert.equal(ds.spec.revisionHistoryLimit, 10);
  assert.equal(ds.spec.template.spec.schedulerName, 'default-scheduler');
});

test('Job and CronJob', () => {
  const job = defaulted('batch', 'v1', 'Job', { metadata: { name: 'pi' }, spec: { template: { metadata: { labels: { app: 'pi' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'perl:5' }] } } } });
  const { template, ...rest } = job.spec;
  assert.deepEqual(rest, {
    completions: 1, parallelism: 1, backoffLimit: 6, completionMode: 'NonIndexed', suspend: false,
    podReplacementPolicy: 'TerminatingOrFailed', manualSelector: false,
  });
  assert.equal(template.spec.restartPolicy, 'Never');
  assert.deepEqual(job.metadata.labels, { app: 'pi' }, 'job labels default from the template');

  const parallel = defaulted('batch', 'v1', 'Job', { metadata: { name: 'p' }, spec: { parallelism: 3, backoffLimitPerIndex: 1, completionMode: 'Indexed', completions: 5, podFailurePolicy: { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] }] } } });
  assert.equal(parallel.spec.completions, 5);
  assert.equal(parallel.spec.parallelism, 3);
  assert.equal(parallel.spec.backoffLimit, 2147483647, 'backoffLimitPerIndex makes backoffLimit MaxInt32');
  assert.equal(parallel.spec.podReplacementPolicy, 'Failed', 'podFailurePolicy implies Failed');
  assert.equal(parallel.spec.podFailurePolicy.rules[0].onPodConditions[0].status, 'True');
  const onlyCompletions = defaulted('batch', 'v1', 'Job', { metadata: { name: 'c' }, spec: { completions: 4 } });
  assert.equal(onlyCompletions.spec.parallelism, 1);
  assert.equal(onlyCompletions.spec.completions, 4);

  const cj = defaulted('batch', 'v1', 'CronJob', { metadata: { name: 'cj' }, spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: { spec: { containers: [{ name: 'c', image: 'x' }] } } } } } });
  assert.equal(cj.spec.concurrencyPolicy, 'Allow');
  assert.equal(cj.spec.suspend, false);
  assert.equal(cj.spec.successfulJobsHistoryLimit, 3);
  assert.equal(cj.spec.failedJobsHistoryLimit, 1);
  assert.equal(cj.spec.jobTemplate.spec.template.spec.dnsPolicy, 'ClusterFirst');
  assert.equal(cj.spec.jobTemplate.spec.backoffLimit, undefined, 'the job template is not defaulted as a Job');
});

test('prepareJobSelector generates the selector and labels from the uid', () => {
  const job: any = { metadata: { name: 'pi', uid: 'abc-123' }, spec: { template: { spec: {} } } };
  prepareJobSelector(job);
  const labels = { 'job-name': 'pi', 'batch.kubernetes.io/job-name': 'pi', 'controller-uid': 'abc-123', 'batch.kubernetes.io/controller-uid': 'abc-123' };
  assert.deepEqual(job.spec.template.metadata.labels, labels);
  assert.deepEqual(job.spec.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': 'abc-123' } });
  assert.deepEqual(job.metadata.labels, labels, 'a job without labels shows the generated ones');

  const labelled: any = { metadata: { name: 'pi', uid: 'u', labels: { team: 'a' } }, spec: { template: { metadata: { labels: { app: 'pi' } } } } };
  prepareJobSelector(labelled);
  assert.deepEqual(labelled.metadata.labels, { team: 'a' });
  assert.equal(labelled.spec.template.metadata.labels.app, 'pi');

  const manual: any = { metadata: { name: 'm', uid: 'u' }, spec: { manualSelector: true, selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } } } } };
  prepareJobSelector(manual);
  assert.deepEqual(manual.spec.selector, { matchLabels: { a: 'b' } });
  assert.deepEqual(manual.spec.template.metadata.labels, { a: 'b' });
});

test('Service', () => {
  const svc = defaulted('', 'v1', 'Service', { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }, { port: 443, targetPort: 'https', protocol: 'TCP' }] } });
  assert.deepEqual(svc.spec, {
    selector: { app: 'web' },
    ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }, { port: 443, targetPort: 'https', protocol: 'TCP' }],
    sessionAffinity: 'None', type: 'ClusterIP', internalTrafficPolicy: 'Cluster', ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv4'],
  });
  assert.deepEqual(svc.status, { loadBalancer: {} });

  const np = defaulted('', 'v1', 'Service', { metadata: { name: 'np' }, spec: { type: 'NodePort', ports: [{ port: 80, targetPort: 0 }] } });
  assert.equal(np.spec.externalTrafficPolicy, 'Cluster');
  assert.equal(np.spec.ports[0].targetPort, 80);
  const lb = defaulted('', 'v1', 'Service', { metadata: { name: 'lb' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } });
  assert.equal(lb.spec.allocateLoadBalancerNodePorts, true);
  assert.equal(lb.spec.externalTrafficPolicy, 'Cluster');
  const sticky = defaulted('', 'v1', 'Service', { metadata: { name: 's' }, spec: { sessionAffinity: 'ClientIP', ports: [{ port: 80 }] } });
  assert.deepEqual(sticky.spec.sessionAffinityConfig, { clientIP: { timeoutSeconds: 10800 } });
  const ext = defaulted('', 'v1', 'Service', { metadata: { name: 'e' }, spec: { type: 'ExternalName', externalName: 'example.com' } });
  assert.equal(ext.spec.internalTrafficPolicy, undefined);
  assert.equal(ext.spec.ipFamilies, undefined);
  assert.equal(ext.spec.externalTrafficPolicy, undefined);
  const only = defaulted('', 'v1', 'Service', { metadata: { name: 'c' }, spec: { clusterIPs: ['10.96.0.20'], ports: [{ port: 80 }] } });
  assert.equal(only.spec.clusterIP, '10.96.0.20');
});

test('dropServiceTypeDependentFields clears what the old type allocated', () => {
  const old = {
    spec: {
      type: 'LoadBalancer', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack',
      ports: [{ port: 80, nodePort: 30080 }], externalTrafficPolicy: 'Local', healthCheckNodePort: 31000,
      allocateLoadBalancerNodePorts: true, loadBalancerClass: 'a.io/x',
    },
    status: { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } },
  };
  const toClusterIP: any = structuredClone(old);
  toClusterIP.spec.type = 'ClusterIP';
  dropServiceTypeDependentFields(toClusterIP, old);
  assert.deepEqual(toClusterIP, {
    spec: { type: 'ClusterIP', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', ports: [{ port: 80 }] },
    status: { loadBalancer: {} },
  });
  const toExternal: any = structuredClone(old);
  toExternal.spec.type = 'ExternalName';
  toExternal.spec.externalName = 'db.example.com';
  toExternal.spec.ports[0].nodePort = 30099; // a port the old service never had is kept (and then rejected by validation)
  dropServiceTypeDependentFields(toExternal, old);
  assert.deepEqual(toExternal.spec, { type: 'ExternalName', externalName: 'db.example.com', ports: [{ port: 80, nodePort: 30099 }] });
});

test('Namespace, Secret, ConfigMap, PVC, PV', () => {
  const ns = defaulted('', 'v1', 'Namespace', { metadata: { name: 'team-a' } });
  assert.deepEqual(ns, { metadata: { name: 'team-a', labels: { 'kubernetes.io/metadata.name': 'team-a' } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });

  const secret = defaulted('', 'v1', 'Secret', { metadata: { name: 's' }, stringData: { user: 'admin' }, data: { pw: 'c2VjcmV0' } });
  assert.deepEqual(secret, { metadata: { name: 's' }, type: 'Opaque', data: { pw: 'c2VjcmV0', user: 'YWRtaW4=' } });
  const tls = defaulted('', 'v1', 'Secret', { metadata: { name: 't' }, type: 'kubernetes.io/tls' });
  assert.equal(tls.type, 'kubernetes.io/tls');

  const pvc = defaulted('', 'v1', 'PersistentVolumeClaim', { metadata: { name: 'c' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1.5Gi' } } } });
  assert.deepEqual(pvc.spec, { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1536Mi' } }, volumeMode: 'Filesystem' });
  assert.deepEqual(pvc.status, { phase: 'Pending' });

  const pv = defaulted('', 'v1', 'PersistentVolume', { metadata: { name: 'v' }, spec: { capacity: { storage: '10Gi' }, hostPath: { path: '/data' } } });
  assert.equal(pv.spec.persistentVolumeReclaimPolicy, 'Retain');
  assert.equal(pv.spec.volumeMode, 'Filesystem');
  assert.deepEqual(pv.spec.hostPath, { path: '/data', type: '' });
  assert.deepEqual(pv.status, { phase: 'Pending' });
});

test('other kinds', () => {
  const rc = defaulted('', 'v1', 'ReplicationController', { metadata: { name: 'rc' }, spec: { template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } } });
  assert.deepEqual(rc.spec.selector, { app: 'x' });
  assert.deepEqual(rc.metadata.labels, { app: 'x' });
  assert.equal(rc.spec.replicas, 1);

  const lr = defaulted('', 'v1', 'LimitRange', { metadata: { name: 'l' }, spec: { limits: [{ type: 'Container', max: { cpu: '2' }, min: { memory: '64Mi' } }] } });
  assert.deepEqual(lr.spec.limits[0], { type: 'Container', max: { cpu: '2' }, min: { memory: '64Mi' }, default: { cpu: '2' }, defaultRequest: { cpu: '2', memory: '64Mi' } });

  const hpa = defaulted('autoscaling', 'v2', 'HorizontalPodAutoscaler', { metadata: { name: 'h' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, maxReplicas: 5, behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } } });
  assert.equal(hpa.spec.minReplicas, 1);
  assert.deepEqual(hpa.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
  assert.deepEqual(hpa.spec.behavior.scaleDown, { stabilizationWindowSeconds: 60, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] });
  assert.deepEqual(hpa.spec.behavior.scaleUp, { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] });

  const np = defaulted('networking.k8s.io', 'v1', 'NetworkPolicy', { metadata: { name: 'n' }, spec: { podSelector: {}, egress: [{ ports: [{ port: 53 }] }] } });
  assert.deepEqual(np.spec.policyTypes, ['Ingress', 'Egress']);
  assert.equal(np.spec.egress[0].ports[0].protocol, 'TCP');

  const rb = defaulted('rbac.authorization.k8s.io', 'v1', 'RoleBinding', { metadata: { name: 'rb' }, roleRef: { kind: 'Role', name: 'r' }, subjects: [{ kind: 'User', name: 'jane' }, { kind: 'ServiceAccount', name: 'sa', namespace: 'd' }] });
  assert.equal(rb.roleRef.apiGroup, 'rbac.authorization.k8s.io');
  assert.equal(rb.subjects[0].apiGroup, 'rbac.authorization.k8s.io');
  assert.equal(rb.subjects[1].apiGroup, undefined);

  const sc = defaulted('storage.k8s.io', 'v1', 'StorageClass', { metadata: { name: 'fast' }, provisioner: 'example.com/disk' });
  assert.equal(sc.reclaimPolicy, 'Delete');
  assert.equal(sc.volumeBindingMode, 'Immediate');
  const pc = defaulted('scheduling.k8s.io', 'v1', 'PriorityClass', { metadata: { name: 'high' }, value: 1000 });
  assert.equal(pc.preemptionPolicy, 'PreemptLowerPriority');
  const es = defaulted('discovery.k8s.io', 'v1', 'EndpointSlice', { metadata: { name: 'e' }, addressType: 'IPv4', endpoints: [], ports: [{ port: 80 }] });
  assert.deepEqual(es.ports, [{ port: 80, name: '', protocol: 'TCP' }]);
  const ep = defaulted('', 'v1', 'Endpoints', { metadata: { name: 'e' }, subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }] }] });
  assert.equal(ep.subsets[0].ports[0].protocol, 'TCP');
  const node = defaulted('', 'v1', 'Node', { metadata: { name: 'n' }, status: { capacity: { cpu: '4', memory: '8192Mi' } } });
  assert.deepEqual(node.status.allocatable, { cpu: '4', memory: '8Gi' });
  const unknown = { metadata: { name: 'x' }, spec: {} };
  applyDefaults('example.com', 'v1', 'Widget', unknown);
  assert.deepEqual(unknown, { metadata: { name: 'x' }, spec: {} });
});

test('DefaultTolerationSeconds admission adds the not-ready/unreachable tolerations', () => {
  const p: any = { spec: { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] } };
  defaultTolerationSeconds(p);
  assert.deepEqual(p.spec.tolerations, [
    { key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  ]);
  const tolerant: any = { spec: { tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 10 }] } };
  defaultTolerationSeconds(tolerant, 60, 60);
  assert.deepEqual(tolerant.spec.tolerations.map((t: any) => [t.key, t.tolerationSeconds]), [['node.kubernetes.io/unreachable', 10], ['node.kubernetes.io/not-ready', 60]]);
  const all: any = { spec: { tolerations: [{ operator: 'Exists' }] } };
  defaultTolerationSeconds(all);
  assert.equal(all.spec.tolerations.length, 1, 'a toleration of everything already covers both');
});
