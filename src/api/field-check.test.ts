import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkObject, decodeErrorMessage, fieldErrors, findDuplicateFields, firstTypeError, parseTimeError, pruneUnknown, strictDecodingError,
} from './field-check.js';
import { builtinSchemas } from './schemas.js';
import type { SchemaMap } from './schema-types.js';

const S = builtinSchemas();
const POD = 'io.k8s.api.core.v1.Pod';
const DEPLOY = 'io.k8s.api.apps.v1.Deployment';

const pod = (spec: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { app: 'x' } }, spec, ...extra });

test('a valid pod passes', () => {
  const r = checkObject(pod({
    containers: [{
      name: 'c', image: 'nginx', ports: [{ containerPort: 80, protocol: 'TCP' }], env: [{ name: 'A', value: 'b' }],
      resources: { limits: { cpu: '500m', memory: 128974848 }, requests: { cpu: 0.5 } },
      livenessProbe: { httpGet: { port: 'http', path: '/' }, initialDelaySeconds: 3 },
    }],
    terminationGracePeriodSeconds: 30, nodeSelector: { disk: 'ssd' }, securityContext: { runAsUser: 1000, supplementalGroups: [1, 2] },
  }, { status: { phase: 'Running', startTime: '2024-05-01T10:00:00Z', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: null }] } }), POD, S);
  assert.deepEqual(r, { unknownFields: [], typeErrors: [] });
});

test('unknown fields are reported with the strict-decoding path format', () => {
  const r = checkObject(pod({ containers: [{ name: 'c', imagee: 'nginx' }, { name: 'd', image: 'x', ports: [{ containerPort: 1, hostIp: 'x' }] }], restartpolicy: 'Never' }, { extra: 1 }), POD, S);
  assert.deepEqual(r.unknownFields, ['spec.containers[0].imagee', 'spec.containers[1].ports[0].hostIp', 'spec.restartpolicy', 'extra']);
  assert.equal(strictDecodingError(r),
    'strict decoding error: unknown field "spec.containers[0].imagee", unknown field "spec.containers[1].ports[0].hostIp", unknown field "spec.restartpolicy", unknown field "extra"');
  assert.equal(decodeErrorMessage('Pod', 'v1', 'strict decoding error: unknown field "spec.containers[0].imagee"'),
    'Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.containers[0].imagee"');
  assert.equal(strictDecodingError({ unknownFields: [], typeErrors: [] }), undefined);
});

test('field names are case-sensitive', () => {
  assert.deepEqual(checkObject(pod({ Containers: [] }), POD, S).unknownFields, ['spec.Containers']);
});

test('nested templates are checked (deployment)', () => {
  const d = {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' },
    spec: { replicas: 2, selector: { matchLabels: { app: 'x' } }, template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'x', restartPolicy: 'Always', foo: 1 }] } } },
  };
  const r = checkObject(d, DEPLOY, S);
  assert.deepEqual(r.unknownFields, ['spec.template.spec.containers[0].foo']);
  assert.deepEqual(r.typeErrors, []);
});

test('type errors use Go json messages', () => {
  const r = checkObject(pod({ containers: [{ name: 'c', image: 'x', ports: [{ containerPort: '80' }, 5], tty: 'yes' }], priority: 1.5 }), POD, S);
  assert.deepEqual(r.typeErrors.map((e) => [e.path, e.message]), [
    ['spec.containers[0].ports[0].containerPort', 'json: cannot unmarshal string into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32'],
    ['spec.containers[0].ports[1]', 'json: cannot unmarshal number into Go struct field Container.spec.containers.ports of type v1.ContainerPort'],
    ['spec.containers[0].tty', 'json: cannot unmarshal string into Go struct field Container.spec.containers.tty of type bool'],
    ['spec.priority', 'json: cannot unmarshal number 1.5 into Go struct field PodSpec.spec.priority of type int32'],
  ]);
  assert.equal(firstTypeError(r)?.path, 'spec.containers[0].ports[0].containerPort');
});

test('type errors for maps, lists, objects and overflow', () => {
  const cm = checkObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { port: 8080 } }, 'io.k8s.api.core.v1.ConfigMap', S);
  assert.deepEqual(cm.typeErrors.map((e) => e.message), ['json: cannot unmarshal number into Go struct field ConfigMap.data of type string']);
  const r = checkObject(pod({ containers: { name: 'c' }, activeDeadlineSeconds: 2 ** 40, hostNetwork: 1 }, { metadata: 'x' }), POD, S);
  assert.deepEqual(r.typeErrors.map((e) => e.message), [
    'json: cannot unmarshal string into Go struct field Pod.metadata of type v1.ObjectMeta',
    'json: cannot unmarshal object into Go struct field PodSpec.spec.containers of type []v1.Container',
    'json: cannot unmarshal number into Go struct field PodSpec.spec.hostNetwork of type bool',
  ]);
  const big = checkObject(pod({ containers: [], priority: 2 ** 31 }), POD, S);
  assert.deepEqual(big.typeErrors.map((e) => e.message), ['json: cannot unmarshal number 2147483648 into Go struct field PodSpec.spec.priority of type int32']);
  const labels = checkObject({ metadata: { labels: { a: true } } }, POD, S);
  assert.deepEqual(labels.typeErrors.map((e) => e.message), ['json: cannot unmarshal bool into Go struct field ObjectMeta.metadata.labels of type string']);
  assert.deepEqual(checkObject([], POD, S).typeErrors.map((e) => e.message), ['json: cannot unmarshal array into Go value of type v1.Pod']);
});

test('int-or-string, quantities, times and bytes', () => {
  const ok = checkObject({
    apiVersion: 'apps/v1', kind: 'Deployment',
    spec: { strategy: { rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } }, selector: {}, template: { spec: { containers: [] } } },
  }, DEPLOY, S);
  assert.deepEqual(ok.typeErrors, []);
  const r = checkObject(pod({
    containers: [{ name: 'c', resources: { limits: { memory: '1Gb!' } }, readinessProbe: { tcpSocket: { port: true } } }],
  }, { metadata: { creationTimestamp: 'yesterday' } }), POD, S);
  assert.deepEqual(r.typeErrors.map((e) => [e.path, e.message]), [
    ['metadata.creationTimestamp', 'parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"'],
    ['spec.containers[0].resources.limits.memory', "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"],
    ['spec.containers[0].readinessProbe.tcpSocket.port', 'json: cannot unmarshal bool into Go struct field TCPSocketAction.spec.containers.readinessProbe.tcpSocket.port of type int32'],
  ]);
  assert.ok(r.typeErrors.every((e) => e.fatal));
  const secret = checkObject({ data: { a: 'aGVsbG8=', b: 'not base64!' } }, 'io.k8s.api.core.v1.Secret', S);
  assert.deepEqual(secret.typeErrors.map((e) => e.message), ['illegal base64 data at input byte 3']);
});

test('custom-decoder errors win over earlier plain type errors', () => {
  const r = checkObject(pod({ containers: [{ name: 1, resources: { limits: { cpu: 'lots' } } }] }), POD, S);
  assert.equal(r.typeErrors.length, 2);
  assert.match(firstTypeError(r)!.message, /^quantities must match/);
});

test('Go time parsing messages', () => {
  assert.equal(parseTimeError('2024-05-01T10:00:00Z'), undefined);
  assert.equal(parseTimeError('2024-05-01T10:00:00.123+02:00'), undefined);
  assert.equal(parseTimeError('2024-05-01 10:00:00'), 'parsing time "2024-05-01 10:00:00" as "2006-01-02T15:04:05Z07:00": cannot parse " 10:00:00" as "T"');
  assert.equal(parseTimeError('2024-13-01T00:00:00Z'), 'parsing time "2024-13-01T00:00:00Z": month out of range');
  assert.equal(parseTimeError('2024-05-01T10:00:00Zjunk'), 'parsing time "2024-05-01T10:00:00Zjunk": extra text: "junk"');
  assert.equal(parseTimeError('2019-07-11T12:54:39Z', true), 'parsing time "2019-07-11T12:54:39Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse "Z" as ".000000"');
  assert.equal(parseTimeError('2019-07-11T12:54:39.123456Z', true), undefined);
});

test('opaque and preserve-unknown-fields schemas', () => {
  const rev = checkObject({ apiVersion: 'apps/v1', kind: 'ControllerRevision', revision: 1, data: { anything: [1, { b: 2 }] } }, 'io.k8s.api.apps.v1.ControllerRevision', S);
  assert.deepEqual(rev, { unknownFields: [], typeErrors: [] });
  const managed = checkObject({ metadata: { managedFields: [{ manager: 'm', fieldsV1: { 'f:spec': { 'f:x': {} } } }] } }, POD, S);
  assert.deepEqual(managed, { unknownFields: [], typeErrors: [] });

  const crds: SchemaMap = {
    ...S,
    'com.example.v1.Widget': {
      type: 'object',
      properties: {
        apiVersion: { type: 'string' }, kind: { type: 'string' },
        metadata: { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' },
        spec: {
          type: 'object',
          properties: {
            size: { type: 'integer', format: 'int64' },
            port: { 'x-kubernetes-int-or-string': true },
            free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { known: { type: 'string' } } },
            embedded: { type: 'object', 'x-kubernetes-embedded-resource': true, properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } },
          },
        },
      },
    },
  };
  const w = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { size: 3, port: 'http', free: { anything: 1, known: 'k' }, embedded: { apiVersion: 'v1', kind: 'X', metadata: {}, spec: { a: 1 } }, nope: 1 } };
  const r = checkObject(w, 'com.example.v1.Widget', crds);
  assert.deepEqual(r.unknownFields, ['spec.nope']);
  assert.deepEqual(r.typeErrors, []);
  const bad = checkObject({ spec: { port: 1.5, free: { known: 2 } } }, 'com.example.v1.Widget', crds);
  assert.equal(bad.typeErrors.length, 2);
});

test('CRD manifests: JSONSchemaProps fields and x-kubernetes extensions are known', () => {
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com', scope: 'Namespaced', names: { plural: 'widgets', kind: 'Widget' },
      versions: [{
        name: 'v1', served: true, storage: true,
        schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { spec: { type: 'object', properties: { n: { type: 'integer', minimum: 0.5, default: 3, enum: [1, 'a'] } }, requried: ['n'] } } } },
      }],
    },
  };
  const r = checkObject(crd, 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition', S);
  assert.deepEqual(r.unknownFields, ['spec.versions[0].schema.openAPIV3Schema.properties.spec.requried']);
  assert.deepEqual(r.typeErrors, []);
});

test('duplicate fields from the raw JSON', () => {
  const raw = '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","name":"b","labels":{"x":"1","x":"2"}},"spec":{"containers":[{"name":"c","image":"i","image":"j"}]}}';
  const r = checkObject(JSON.parse(raw), POD, S, { raw });
  assert.deepEqual(r.duplicateFields, ['metadata.name', 'metadata.labels.x', 'spec.containers[0].image']);
  assert.deepEqual(fieldErrors(r), ['duplicate field "metadata.name"', 'duplicate field "metadata.labels.x"', 'duplicate field "spec.containers[0].image"']);
  assert.equal(strictDecodingError(r), 'strict decoding error: duplicate field "metadata.name", duplicate field "metadata.labels.x", duplicate field "spec.containers[0].image"');
  assert.deepEqual(findDuplicateFields('{"a": [1, 2.5e3, true, null, "s\\"x"], "b": {}, "a": 1}'), ['a']);
  assert.deepEqual(findDuplicateFields('not json'), []);
  assert.equal(checkObject({}, POD, S).duplicateFields, undefined);
});

test('pruneUnknown drops unknown fields in place and keeps the rest', () => {
  const obj = pod({ containers: [{ name: 'c', imagee: 'x', image: 'y' }], foo: { bar: 1 } }, { status: { phase: 'Pending', bogus: true } });
  const removed = pruneUnknown(obj, POD, S);
  assert.deepEqual(removed, ['spec.containers[0].imagee', 'spec.foo', 'status.bogus']);
  assert.deepEqual(obj, pod({ containers: [{ name: 'c', image: 'y' }] }, { status: { phase: 'Pending' } }));
  assert.deepEqual(checkObject(obj, POD, S), { unknownFields: [], typeErrors: [] });
  assert.deepEqual(pruneUnknown({ a: 1 }, 'no.such.Schema', S), []);
});

test('checkObject does not modify its input and unknown schemas check nothing', () => {
  const obj = pod({ containers: [{ name: 'c', x: 1 }] });
  const copy = structuredClone(obj);
  checkObject(obj, POD, S);
  assert.deepEqual(obj, copy);
  assert.deepEqual(checkObject(obj, 'no.such.Schema', S), { unknownFields: [], typeErrors: [] });
});

test('checking a large object is fast', () => {
  const containers = Array.from({ length: 50 }, (_, i) => ({
    name: `c${i}`, image: 'x', env: Array.from({ length: 20 }, (_, j) => ({ name: `E${j}`, value: 'v' })),
    ports: [{ containerPort: 80 + i }], resources: { limits: { cpu: '1', memory: '1Gi' } },
  }));
  const t0 = performance.now();
  for (let i = 0; i < 20; i++) checkObject(pod({ containers }), POD, S);
  assert.ok((performance.now() - t0) / 20 < 50, 'under 50 ms per check');
});

test('checks against each schema map separately (prepared schemas are per map)', () => {
  const widget = (size: SchemaMap[string]): SchemaMap => ({
    ...S,
    'com.example.v1.Widget': { type: 'object', properties: { spec: { type: 'object', properties: { size } } } },
  });
  const a = widget({ type: 'integer' });
  const b = widget({ type: 'string' });
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(checkObject({ spec: { size: 1 } }, 'com.example.v1.Widget', a).typeErrors, []);
    assert.deepEqual(checkObject({ spec: { size: 1 } }, 'com.example.v1.Widget', b).typeErrors.map((e) => e.message),
      ['json: cannot unmarshal number into Go struct field Widget.spec.size of type string']);
  }
});

test('paths of nested lists, map values and empty keys', () => {
  const r = checkObject({ metadata: { annotations: { '': 1 } }, spec: { containers: [{ name: 'c', ports: [{}, { containerPort: 'x', '': 1 }] }] } }, POD, S);
  assert.deepEqual(r.unknownFields, ['spec.containers[0].ports[1].']);
  assert.deepEqual(r.typeErrors.map((e) => e.path), ['metadata.annotations.', 'spec.containers[0].ports[1].containerPort']);
  assert.deepEqual(findDuplicateFields('{"":{"":1,"":[{"a\\"b":1,"a\\"b":2}]},"x":[[{"y":1e5,"y":-0.5E-3}]]}'), ['', '[0].a"b', 'x[0][0].y']);
  assert.deepEqual(findDuplicateFields('{"a":"\\u00e9","a":"x","b":"tab\there"}'), []);
  for (const bad of ['{"a":1.}', '{"a":-}', '{"a":truex}', '{"a":"x', '{"a" 1}', '[1,]', '{"a":1e}']) assert.deepEqual(findDuplicateFields(`${bad.slice(0, -1)},"a":1}`), [], bad);
  assert.deepEqual(findDuplicateFields('{"a":01,"a":1E+2}'), ['a']);
});
