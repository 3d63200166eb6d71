import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BUILTIN_RESOURCES, schemaPackage } from './resources.js';
import { builtinSchemas, schemaFileCandidates, schemaFor, schemaForGVK } from './schemas.js';
import { REF_PREFIX, resolveSchema, type OpenAPISchema } from './schema-types.js';

const S = builtinSchemas();
const CORE = 'io.k8s.api.core.v1';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const prop = (type: string, field: string): OpenAPISchema => {
  const p = S[type]?.properties?.[field];
  assert.ok(p, `${type}.${field} exists`);
  return p;
};

test('loads once and is frozen', () => {
  assert.equal(builtinSchemas(), S);
  assert.ok(Object.isFrozen(S[`${CORE}.Pod`]));
  assert.ok(Object.keys(S).length > 500);
});

test('Pod schema carries the GVK extension and descriptions', () => {
  const pod = S[`${CORE}.Pod`];
  assert.deepEqual(pod['x-kubernetes-group-version-kind'], [{ group: '', kind: 'Pod', version: 'v1' }]);
  assert.equal(pod.type, 'object');
  assert.match(pod.description ?? '', /collection of containers/);
  assert.deepEqual(prop(`${CORE}.Pod`, 'spec').allOf, [{ $ref: `${REF_PREFIX}${CORE}.PodSpec` }]);
  assert.match(prop(`${CORE}.Pod`, 'spec').description ?? '', /desired behavior/);
  assert.deepEqual(S[`${CORE}.PodList`]['x-kubernetes-group-version-kind'], [{ group: '', kind: 'PodList', version: 'v1' }]);
  assert.deepEqual(S['io.k8s.api.apps.v1.Deployment']['x-kubernetes-group-version-kind'], [{ group: 'apps', kind: 'Deployment', version: 'v1' }]);
  assert.deepEqual(S[`${META}.Status`]['x-kubernetes-group-version-kind'], [{ group: '', kind: 'Status', version: 'v1' }]);
  const delGVKs = S[`${META}.DeleteOptions`]['x-kubernetes-group-version-kind']!;
  assert.ok(delGVKs.some((g) => g.group === 'apps' && g.version === 'v1'));
  assert.ok(delGVKs.some((g) => g.group === '' && g.version === 'v1'));
});

test('references: allOf beside a description, plain $ref in items and additionalProperties', () => {
  assert.deepEqual(prop(`${CORE}.PodSpec`, 'containers').items, { $ref: `${REF_PREFIX}${CORE}.Container` });
  assert.deepEqual((prop(`${CORE}.ResourceRequirements`, 'limits').additionalProperties as OpenAPISchema), { $ref: `${REF_PREFIX}io.k8s.apimachinery.pkg.api.resource.Quantity` });
  const lt = prop(`${CORE}.NamespaceCondition`, 'lastTransitionTime');
  assert.deepEqual(lt, { $ref: `${REF_PREFIX}${META}.Time` }); // no description upstream: plain $ref
});

test('strategic merge patch metadata', () => {
  const containers = prop(`${CORE}.PodSpec`, 'containers');
  assert.equal(containers['x-kubernetes-patch-merge-key'], 'name');
  assert.equal(containers['x-kubernetes-patch-strategy'], 'merge');
  assert.equal(containers['x-kubernetes-list-type'], 'map');
  assert.deepEqual(containers['x-kubernetes-list-map-keys'], ['name']);
  assert.equal(prop(`${CORE}.PodSpec`, 'volumes')['x-kubernetes-patch-strategy'], 'merge,retainKeys');
  assert.equal(prop(`${CORE}.PodSpec`, 'initContainers')['x-kubernetes-patch-merge-key'], 'name');
  assert.equal(prop(`${CORE}.PodSpec`, 'imagePullSecrets')['x-kubernetes-patch-merge-key'], 'name');
  assert.equal(prop(`${CORE}.PodSpec`, 'hostAliases')['x-kubernetes-patch-merge-key'], 'ip');
  assert.equal(prop(`${CORE}.PodSpec`, 'tolerations')['x-kubernetes-list-type'], 'atomic');
  assert.equal(prop(`${CORE}.PodSpec`, 'tolerations')['x-kubernetes-patch-merge-key'], undefined);
  const ports = prop(`${CORE}.Container`, 'ports');
  assert.equal(ports['x-kubernetes-patch-merge-key'], 'containerPort');
  assert.deepEqual(ports['x-kubernetes-list-map-keys'], ['containerPort', 'protocol']);
  assert.equal(prop(`${CORE}.Container`, 'env')['x-kubernetes-patch-merge-key'], 'name');
  assert.equal(prop(`${CORE}.Container`, 'volumeMounts')['x-kubernetes-patch-merge-key'], 'mountPath');
  const svcPorts = prop(`${CORE}.ServiceSpec`, 'ports');
  assert.equal(svcPorts['x-kubernetes-patch-merge-key'], 'port');
  assert.deepEqual(svcPorts['x-kubernetes-list-map-keys'], ['port', 'protocol']);
  assert.equal(prop(`${CORE}.NodeSpec`, 'taints')['x-kubernetes-list-type'], 'atomic');
  const finalizers = prop(`${META}.ObjectMeta`, 'finalizers');
  assert.equal(finalizers['x-kubernetes-patch-strategy'], 'merge');
  assert.equal(finalizers['x-kubernetes-list-type'], 'set');
  assert.equal(prop(`${META}.ObjectMeta`, 'ownerReferences')['x-kubernetes-patch-merge-key'], 'uid');
  assert.equal(prop('io.k8s.api.apps.v1.DeploymentStatus', 'conditions')['x-kubernetes-patch-merge-key'], 'type');
  assert.equal(prop('io.k8s.api.apps.v1.DeploymentSpec', 'strategy')['x-kubernetes-patch-strategy'], 'retainKeys');
  assert.equal(prop('io.k8s.api.policy.v1.PodDisruptionBudgetSpec', 'selector')['x-kubernetes-patch-strategy'], 'replace');
  assert.equal(S[`${META}.LabelSelector`]['x-kubernetes-map-type'], 'atomic');
  // List items stay unannotated, other lists default to atomic.
  assert.equal(prop(`${CORE}.PodList`, 'items')['x-kubernetes-list-type'], undefined);
  assert.equal(prop(`${CORE}.Container`, 'args')['x-kubernetes-list-type'], 'atomic');
  // resolveSchema keeps the field-level extensions of a reference.
  const tmpl = resolveSchema(S, prop('io.k8s.api.apps.v1.DeploymentSpec', 'strategy'));
  assert.equal(tmpl?.['x-kubernetes-patch-strategy'], 'retainKeys');
  assert.ok(tmpl?.properties?.rollingUpdate);
});

test('formats: int32 / int64 / double / byte / date-time / int-or-string / quantity', () => {
  assert.deepEqual({ ...prop('io.k8s.api.apps.v1.DeploymentSpec', 'replicas'), description: undefined }, { description: undefined, format: 'int32', type: 'integer' });
  assert.equal(prop('io.k8s.api.apps.v1.DeploymentStatus', 'observedGeneration').format, 'int64');
  assert.equal(prop(`${META}.ObjectMeta`, 'generation').format, 'int64');
  assert.equal(prop(`${CORE}.PodSpec`, 'terminationGracePeriodSeconds').format, 'int64');
  assert.equal(prop(`${CORE}.ContainerPort`, 'containerPort').format, 'int32');
  assert.equal(prop(`${CORE}.PodSecurityContext`, 'supplementalGroups').items?.format, 'int64');
  assert.equal(prop('io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps', 'maximum').format, 'double');
  assert.equal((prop(`${CORE}.Secret`, 'data').additionalProperties as OpenAPISchema).format, 'byte');
  assert.deepEqual(S[`${META}.Time`].format, 'date-time');
  const ios = S['io.k8s.apimachinery.pkg.util.intstr.IntOrString'] as OpenAPISchema & { oneOf?: unknown };
  assert.equal(ios.format, 'int-or-string');
  assert.deepEqual(ios.oneOf, [{ type: 'integer' }, { type: 'string' }]);
  assert.deepEqual((S['io.k8s.apimachinery.pkg.api.resource.Quantity'] as { oneOf?: unknown }).oneOf, [{ type: 'string' }, { type: 'number' }]);
  assert.deepEqual(prop(`${CORE}.ServicePort`, 'targetPort').allOf, [{ $ref: `${REF_PREFIX}io.k8s.apimachinery.pkg.util.intstr.IntOrString` }]);
  assert.equal(S['io.k8s.apimachinery.pkg.runtime.RawExtension'].type, 'object');
  // JSONSchemaProps gets the x-kubernetes-* properties kubernetes-types lacks.
  assert.equal(prop('io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps', 'x-kubernetes-preserve-unknown-fields').type, 'boolean');
});

/** Kinds kubernetes-types (and Kubernetes' OpenAPI) do not define: the option kinds of connect subresources. */
const KNOWN_MISSING = new Set([
  `${CORE}.PodExecOptions`, `${CORE}.PodAttachOptions`, `${CORE}.PodPortForwardOptions`,
  `${CORE}.PodProxyOptions`, `${CORE}.ServiceProxyOptions`, `${CORE}.NodeProxyOptions`,
]);

test('every built-in resource resolves to a schema with its GVK', () => {
  for (const r of BUILTIN_RESOURCES) {
    const s = schemaFor(r);
    assert.ok(s, `schema for ${r.schemaName}`);
    assert.ok(s['x-kubernetes-group-version-kind']?.some((g) => g.group === r.group && g.version === r.version && g.kind === r.kind), `GVK of ${r.schemaName}`);
    if (r.verbs.includes('list')) assert.ok(S[`${r.schemaName}List`], `list schema ${r.schemaName}List`);
    for (const sr of r.subresources) {
      const name = `${schemaPackage(sr.group, sr.version)}.${sr.kind}`;
      if (!KNOWN_MISSING.has(name)) assert.ok(S[name], `subresource kind ${r.plural}/${sr.name}: ${name}`);
    }
  }
  assert.ok(schemaForGVK('autoscaling', 'v1', 'Scale'));
  assert.equal(schemaForGVK('autoscaling', 'v1', 'Nope'), undefined);
});

test('no dangling references', () => {
  const missing: string[] = [];
  const walk = (v: unknown, where: string) => {
    if (Array.isArray(v)) { v.forEach((x) => walk(x, where)); return; }
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (typeof o.$ref === 'string' && !S[o.$ref.slice(REF_PREFIX.length)]) missing.push(`${where}: ${o.$ref}`);
    Object.values(o).forEach((x) => walk(x, where));
  };
  for (const [n, s] of Object.entries(S)) walk(s, n);
  assert.deepEqual(missing, []);
});

test('loader candidates cover the src and outDir layouts', () => {
  const c = schemaFileCandidates('/p/dist/src/api/schemas.js');
  assert.ok(c.includes('/p/src/api/generated/schemas.json'));
  assert.ok(schemaFileCandidates('/p/src/api/schemas.js').includes('/p/src/api/generated/schemas.json'));
});

test('the checked-in schemas.json is what the generator produces', () => {
  // Find the project root (the directory holding scripts/gen-schemas.mjs) from the file that was loaded.
  const file = schemaFileCandidates().find((f) => existsSync(f))!;
  const root = dirname(dirname(dirname(dirname(file))));
  const script = join(root, 'scripts', 'gen-schemas.mjs');
  if (!existsSync(script)) return;
  const out = execFileSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
  assert.match(out, /up to date/);
});
