import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUILTIN_RESOURCES, gvString } from '../../api/resources.js';
import { builtinSchemas } from '../../api/schemas.js';
import { messageForKind, protoMessage, protoTableCandidates, protoTables, type ScalarType } from './tables.js';

const SCALARS = new Set<ScalarType>([
  'double', 'float', 'int64', 'uint64', 'int32', 'uint32', 'fixed64', 'fixed32', 'bool', 'string', 'bytes',
  'sfixed32', 'sfixed64', 'sint32', 'sint64',
]);

test('every built-in kind and every review/subresource kind has a message', () => {
  // apiregistration.k8s.io (the aggregator's APIService) has no descriptor in kubectl's binary:
  // kubectl never sends it as protobuf.
  for (const r of BUILTIN_RESOURCES.filter((x) => x.group !== 'apiregistration.k8s.io')) {
    const name = messageForKind(gvString(r.group, r.version), r.kind);
    assert.ok(name && protoMessage(name), `${r.group}/${r.version} ${r.kind}`);
  }
  const extra: Array<[string, string, string]> = [
    ['autoscaling/v1', 'Scale', 'k8s.io.api.autoscaling.v1.Scale'],
    ['policy/v1', 'Eviction', 'k8s.io.api.policy.v1.Eviction'],
    ['v1', 'Binding', 'k8s.io.api.core.v1.Binding'],
    ['authentication.k8s.io/v1', 'TokenRequest', 'k8s.io.api.authentication.v1.TokenRequest'],
    ['authentication.k8s.io/v1', 'TokenReview', 'k8s.io.api.authentication.v1.TokenReview'],
    ['authentication.k8s.io/v1beta1', 'TokenReview', 'k8s.io.api.authentication.v1beta1.TokenReview'],
    ['authentication.k8s.io/v1', 'SelfSubjectReview', 'k8s.io.api.authentication.v1.SelfSubjectReview'],
    ['authentication.k8s.io/v1beta1', 'SelfSubjectReview', 'k8s.io.api.authentication.v1beta1.SelfSubjectReview'],
    ['authentication.k8s.io/v1alpha1', 'SelfSubjectReview', 'k8s.io.api.authentication.v1alpha1.SelfSubjectReview'],
    ['authorization.k8s.io/v1', 'SelfSubjectAccessReview', 'k8s.io.api.authorization.v1.SelfSubjectAccessReview'],
    ['authorization.k8s.io/v1', 'SelfSubjectRulesReview', 'k8s.io.api.authorization.v1.SelfSubjectRulesReview'],
    ['authorization.k8s.io/v1', 'SubjectAccessReview', 'k8s.io.api.authorization.v1.SubjectAccessReview'],
    ['authorization.k8s.io/v1', 'LocalSubjectAccessReview', 'k8s.io.api.authorization.v1.LocalSubjectAccessReview'],
    ['meta.k8s.io/v1', 'DeleteOptions', 'k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions'],
    ['batch/v1', 'DeleteOptions', 'k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions'],
  ];
  for (const [gv, kind, want] of extra) assert.equal(messageForKind(gv, kind), want, `${gv} ${kind}`);
  assert.equal(messageForKind('v1', 'Nope'), undefined);
  assert.equal(messageForKind('v1', 'toString'), undefined);
});

test('table integrity: every referenced type exists, field numbers are valid', () => {
  const { messages } = protoTables();
  const known = (t: string) => SCALARS.has(t as ScalarType) || t in messages;
  for (const [name, msg] of Object.entries(messages)) {
    for (const [num, f] of Object.entries(msg.fields)) {
      assert.ok(Number.isInteger(Number(num)) && Number(num) > 0, `${name} #${num}`);
      assert.ok(f.name, `${name} #${num} has a name`);
      if (f.type === 'map') {
        assert.ok(f.map && SCALARS.has(f.map.key as ScalarType) && known(f.map.value), `${name}.${f.name} map`);
      } else {
        assert.ok(known(f.type), `${name}.${f.name}: ${f.type}`);
      }
      if (f.inline) assert.ok(f.type in messages && !f.repeated, `${name}.${f.name} inline`);
    }
    if (msg.schema) assert.ok(builtinSchemas()[msg.schema], `${name}: schema ${msg.schema}`);
  }
});

test('spot checks against the wire format', () => {
  const f = (msg: string, n: number) => protoMessage(msg)?.fields[String(n)];
  const meta = 'k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta';
  assert.deepEqual(f(meta, 11), { name: 'labels', type: 'map', map: { key: 'string', value: 'string' } });
  assert.equal(f(meta, 8)?.type, 'k8s.io.apimachinery.pkg.apis.meta.v1.Time');
  assert.deepEqual(f('k8s.io.api.apps.v1.DeploymentSpec', 1), { name: 'replicas', type: 'int32', pointer: true });
  assert.equal(f('k8s.io.api.apps.v1.DeploymentSpec', 3)?.name, 'template');
  assert.deepEqual(f('k8s.io.api.core.v1.Container', 2), { name: 'image', type: 'string' });
  assert.deepEqual(f('k8s.io.api.core.v1.Secret', 2), { name: 'data', type: 'map', map: { key: 'string', value: 'bytes' } });
  assert.deepEqual(f('k8s.io.api.core.v1.Volume', 2)?.inline, true);
  assert.equal(protoMessage('k8s.io.apimachinery.pkg.util.intstr.IntOrString')?.special, 'intOrString');
  assert.equal(protoMessage('k8s.io.api.authentication.v1.ExtraValue')?.special, 'items');
  // go-to-protobuf names that differ from the JSON name are mapped to the JSON name.
  assert.equal(f('k8s.io.api.networking.v1.IngressClassParametersReference', 1)?.name, 'apiGroup');
  assert.equal(f('k8s.io.api.admissionregistration.v1.MutatingWebhookConfiguration', 2)?.name, 'webhooks');
  assert.equal(f('k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps', 3)?.name, '$ref');
});

test('the table is found from src/ and from any outDir', () => {
  const fromDist = protoTableCandidates('/repo/.build-x/src/apimachinery/protobuf/tables.js');
  assert.ok(fromDist.includes('/repo/src/apimachinery/protobuf/proto-tables.json'));
  assert.equal(protoTableCandidates('/repo/src/apimachinery/protobuf/tables.ts')[0], '/repo/src/apimachinery/protobuf/proto-tables.json');
});
