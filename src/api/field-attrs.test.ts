import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../apimachinery/errors.js';
import { parseFieldSelector } from '../apimachinery/fields.js';
import { convertFieldLabel, convertFieldSelector, isSupportedField, selectableFields, unsupportedFieldMessage } from './field-attrs.js';

const POD = { group: '', kind: 'Pod', namespaced: true };
const NODE = { group: '', kind: 'Node', namespaced: false };
const EVENT = { group: '', kind: 'Event', namespaced: true };
const EVENTS_V1 = { group: 'events.k8s.io', kind: 'Event', namespaced: true };
const RS = { group: 'apps', kind: 'ReplicaSet', namespaced: true };
const JOB = { group: 'batch', kind: 'Job', namespaced: true };
const CM = { group: '', kind: 'ConfigMap', namespaced: true };

test('pod fields', () => {
  const pod = {
    metadata: { name: 'p', namespace: 'ns' },
    spec: { nodeName: 'n1', restartPolicy: 'Always', schedulerName: 'default-scheduler', serviceAccountName: 'default', hostNetwork: true },
    status: { phase: 'Running', podIP: '10.0.0.9', podIPs: [{ ip: '10.0.0.9' }, { ip: 'fd00::9' }], nominatedNodeName: '' },
  };
  assert.deepEqual(selectableFields(POD, pod), {
    'metadata.name': 'p', 'metadata.namespace': 'ns', 'spec.nodeName': 'n1', 'spec.restartPolicy': 'Always',
    'spec.schedulerName': 'default-scheduler', 'spec.serviceAccountName': 'default', 'spec.hostNetwork': 'true',
    'status.phase': 'Running', 'status.podIP': '10.0.0.9', 'status.nominatedNodeName': '',
  });
  const bare = selectableFields(POD, { metadata: { name: 'q', namespace: 'ns' } });
  assert.equal(bare['spec.hostNetwork'], 'false');
  assert.equal(bare['spec.nodeName'], '');
  // Accepted but never computed upstream: only "" matches.
  assert.equal(isSupportedField(POD, 'status.podIPs'), true);
  assert.equal(convertFieldSelector(POD, parseFieldSelector('status.podIPs=')).matches(selectableFields(POD, pod)), true);
  assert.equal(convertFieldSelector(POD, parseFieldSelector('status.podIPs=10.0.0.9')).matches(selectableFields(POD, pod)), false);
  // Old clients' spec.host means spec.nodeName.
  assert.equal(convertFieldLabel(POD, 'spec.host'), 'spec.nodeName');
  assert.equal(convertFieldSelector(POD, parseFieldSelector('spec.host=n1')).matches(selectableFields(POD, pod)), true);
  assert.equal(isSupportedField(POD, 'spec.containers'), false);
  assert.equal(unsupportedFieldMessage(POD, 'spec.containers'), 'field label not supported: spec.containers');
});

test('cluster-scoped kinds have no metadata.namespace field', () => {
  const f = selectableFields(NODE, { metadata: { name: 'n1' }, spec: { unschedulable: true } });
  assert.deepEqual(f, { 'metadata.name': 'n1', 'spec.unschedulable': 'true' });
  assert.equal(isSupportedField(NODE, 'metadata.namespace'), false);
  assert.equal(unsupportedFieldMessage(NODE, 'metadata.namespace'), 'field label not supported: metadata.namespace');
  assert.equal(selectableFields(NODE, { metadata: { name: 'n2' } })['spec.unschedulable'], 'false');
  const ns = { group: '', kind: 'Namespace', namespaced: false };
  assert.equal(selectableFields(ns, { metadata: { name: 'kube-system' }, status: { phase: 'Active' } })['status.phase'], 'Active');
  assert.equal(isSupportedField(ns, 'status.phase'), true);
  // Kinds without a conversion accept metadata.namespace; a cluster-scoped object has "" there.
  const pv = { group: '', kind: 'PersistentVolume', namespaced: false };
  assert.equal(isSupportedField(pv, 'metadata.namespace'), true);
  assert.equal(convertFieldSelector(pv, parseFieldSelector('metadata.namespace=')).matches(selectableFields(pv, { metadata: { name: 'v' } })), true);
});

test('core events', () => {
  const ev = {
    metadata: { name: 'e', namespace: 'ns' },
    involvedObject: { kind: 'Pod', namespace: 'ns', name: 'p', uid: 'u1', apiVersion: 'v1', resourceVersion: '7', fieldPath: 'spec.containers{c}' },
    reason: 'Pulled', type: 'Normal', source: { component: 'kubelet' }, reportingComponent: 'kubelet',
  };
  const f = selectableFields(EVENT, ev);
  assert.equal(f['involvedObject.name'], 'p');
  assert.equal(f['involvedObject.fieldPath'], 'spec.containers{c}');
  assert.equal(f.source, 'kubelet');
  assert.equal(f.reportingComponent, 'kubelet');
  assert.equal(f.reason, 'Pulled');
  // source falls back to reportingController when source.component is empty.
  assert.equal(selectableFields(EVENT, { ...ev, source: {}, reportingComponent: 'ctrl' }).source, 'ctrl');
  assert.equal(isSupportedField(EVENT, 'regarding.name'), false);
  assert.equal(isSupportedField(EVENT, 'involvedObject.uid'), true);
});

test('events.k8s.io events map regarding.* onto the core field set', () => {
  assert.equal(convertFieldLabel(EVENTS_V1, 'regarding.name'), 'involvedObject.name');
  assert.equal(convertFieldLabel(EVENTS_V1, 'reportingController'), 'reportingComponent');
  assert.equal(isSupportedField(EVENTS_V1, 'involvedObject.name'), false);
  assert.equal(unsupportedFieldMessage(EVENTS_V1, 'involvedObject.name'), 'field label not supported: involvedObject.name');
  const v1 = {
    metadata: { name: 'e', namespace: 'ns' },
    regarding: { kind: 'Pod', name: 'p', namespace: 'ns' },
    reason: 'Started', type: 'Normal', reportingController: 'kubelet', note: 'hi',
  };
  const f = selectableFields(EVENTS_V1, v1);
  assert.equal(f['involvedObject.name'], 'p');
  assert.equal(f['regarding.name'], 'p');
  assert.equal(f.reportingComponent, 'kubelet');
  assert.equal(f.source, 'kubelet');
  const sel = convertFieldSelector(EVENTS_V1, parseFieldSelector('regarding.kind=Pod,regarding.name=p,reportingController=kubelet'));
  assert.equal(sel.matches(f), true);
  // The same selector matches the stored core form too.
  const core = { metadata: v1.metadata, involvedObject: v1.regarding, reason: 'Started', type: 'Normal', reportingComponent: 'kubelet', source: {} };
  assert.equal(sel.matches(selectableFields(EVENTS_V1, core)), true);
});

test('workload fields and upstream rejection messages', () => {
  // apps/v1 registers no field label conversion, so status.replicas is rejected in requests.
  assert.equal(isSupportedField(RS, 'status.replicas'), false);
  assert.equal(unsupportedFieldMessage(RS, 'status.replicas'), '"status.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"');
  assert.equal(selectableFields(RS, { metadata: { name: 'r', namespace: 'n' }, status: { replicas: 3 } })['status.replicas'], '3');
  const rc = { group: '', kind: 'ReplicationController', namespaced: true };
  assert.equal(isSupportedField(rc, 'status.replicas'), true);
  assert.equal(selectableFields(rc, { metadata: { name: 'r' }, status: {} })['status.replicas'], '0');
  assert.equal(isSupportedField(JOB, 'status.successful'), true);
  assert.equal(selectableFields(JOB, { metadata: { name: 'j' }, status: { succeeded: 2 } })['status.successful'], '2');
  assert.equal(unsupportedFieldMessage(JOB, 'spec.x'), 'field label "spec.x" not supported for Job');
});

test('secrets, services and CSRs', () => {
  const secret = { group: '', kind: 'Secret', namespaced: true };
  assert.equal(selectableFields(secret, { metadata: { name: 's' }, type: 'kubernetes.io/tls' }).type, 'kubernetes.io/tls');
  const svc = { group: '', kind: 'Service', namespaced: true };
  const f = selectableFields(svc, { metadata: { name: 's', namespace: 'n' }, spec: { clusterIP: 'None', type: 'ClusterIP' } });
  assert.equal(f['spec.clusterIP'], 'None');
  assert.equal(f['spec.type'], 'ClusterIP');
  assert.equal(isSupportedField(svc, 'spec.clusterIP'), true);
  const csr = { group: 'certificates.k8s.io', kind: 'CertificateSigningRequest', namespaced: false };
  assert.equal(selectableFields(csr, { metadata: { name: 'c' }, spec: { signerName: 'kubernetes.io/kubelet-serving' } })['spec.signerName'], 'kubernetes.io/kubelet-serving');
  assert.equal(isSupportedField(csr, 'metadata.namespace'), false);
});

test('convertFieldSelector answers 400 for the first unsupported field', () => {
  assert.throws(() => convertFieldSelector(CM, parseFieldSelector('metadata.name=a,data.x=1')), (e: unknown) =>
    e instanceof StatusError && e.code === 400 && e.reason === 'BadRequest'
    && e.message === '"data.x" is not a known field selector: only "metadata.name", "metadata.namespace"');
  assert.throws(() => convertFieldSelector(POD, parseFieldSelector('status.hostIP=1.2.3.4')), (e: unknown) =>
    e instanceof StatusError && e.message === 'field label not supported: status.hostIP');
  const ok = convertFieldSelector(CM, parseFieldSelector('metadata.name=a'));
  assert.equal(ok.matches(selectableFields(CM, { metadata: { name: 'a', namespace: 'n' } })), true);
  assert.equal(ok.exactName(), 'a');
});
