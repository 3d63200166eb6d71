import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyStrategicMergePatch } from './strategic-merge-patch.js';
import { StatusError } from '../errors.js';
import type { OpenAPISchema, SchemaMap } from '../../api/schema-types.js';

const ref = (name: string): OpenAPISchema => ({ $ref: `#/components/schemas/test.${name}` });
const wrap = (name: string, ext: Partial<OpenAPISchema> = {}): OpenAPISchema => ({ allOf: [ref(name)], ...ext });
const str: OpenAPISchema = { type: 'string' };

/** A small Deployment/PodSpec-like schema set, written as Kubernetes publishes OpenAPI v3. */
const schemas: SchemaMap = {
  'test.Deployment': {
    type: 'object',
    properties: { apiVersion: str, kind: str, metadata: wrap('ObjectMeta'), spec: wrap('DeploymentSpec') },
  },
  'test.ObjectMeta': {
    type: 'object',
    properties: {
      name: str,
      labels: { type: 'object', additionalProperties: str },
      annotations: { type: 'object', additionalProperties: str },
      finalizers: { type: 'array', items: str, 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-list-type': 'set' },
    },
  },
  'test.DeploymentSpec': {
    type: 'object',
    properties: {
      replicas: { type: 'integer' },
      strategy: wrap('DeploymentStrategy', { 'x-kubernetes-patch-strategy': 'retainKeys' }),
      template: wrap('PodTemplateSpec'),
    },
  },
  'test.DeploymentStrategy': {
    type: 'object',
    properties: { type: str, rollingUpdate: { type: 'object', properties: { maxSurge: {}, maxUnavailable: {} } } },
  },
  'test.PodTemplateSpec': { type: 'object', properties: { metadata: wrap('ObjectMeta'), spec: wrap('PodSpec') } },
  'test.PodSpec': {
    type: 'object',
    properties: {
      containers: { type: 'array', items: wrap('Container'), 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
      volumes: { type: 'array', items: wrap('Volume'), 'x-kubernetes-patch-strategy': 'merge,retainKeys', 'x-kubernetes-patch-merge-key': 'name' },
      tolerations: { type: 'array', items: wrap('Toleration'), 'x-kubernetes-list-type': 'atomic' },
      nodeSelector: { type: 'object', additionalProperties: str },
      securityContext: { type: 'object', properties: { runAsUser: { type: 'integer' }, runAsGroup: { type: 'integer' } } },
    },
  },
  'test.Container': {
    type: 'object',
    properties: {
      name: str,
      image: str,
      args: { type: 'array', items: str },
      ports: { type: 'array', items: ref('ContainerPort'), 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-patch-merge-key': 'containerPort', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['containerPort', 'protocol'] },
      env: { type: 'array', items: wrap('EnvVar'), 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-patch-merge-key': 'name' },
      resources: { type: 'object', properties: { limits: { type: 'object', additionalProperties: str } } },
    },
  },
  'test.ContainerPort': { type: 'object', properties: { containerPort: { type: 'integer' }, protocol: str, name: str } },
  'test.EnvVar': { type: 'object', properties: { name: str, value: str } },
  'test.Volume': {
    type: 'object',
    properties: { name: str, configMap: { type: 'object', properties: { name: str } }, emptyDir: { type: 'object', properties: { medium: str } }, secret: { type: 'object', properties: { secretName: str } } },
  },
  'test.Toleration': { type: 'object', properties: { key: str, operator: str, effect: str } },
};
const deployment = schemas['test.Deployment'];

/** A Deployment with the given pod spec / metadata / spec extras. */
function deploy(podSpec: Record<string, unknown>, extra: { metadata?: Record<string, unknown>; spec?: Record<string, unknown> } = {}) {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: 'web', ...extra.metadata },
    spec: { replicas: 1, ...extra.spec, template: { metadata: { labels: { app: 'web' } }, spec: podSpec } },
  };
}
const podPatch = (spec: Record<string, unknown>) => ({ spec: { template: { spec } } });
const c = (name: string, more: Record<string, unknown> = {}) => ({ name, image: `${name}:1`, ...more });
const names = (list: unknown) => (list as { name: string }[]).map((x) => x.name);
const containersOf = (obj: unknown) => (obj as ReturnType<typeof deploy>).spec.template.spec.containers as Record<string, unknown>[];

interface Case { name: string; doc: unknown; patch: unknown; want: unknown }

const cases: Case[] = [
  {
    name: "kubectl's second-apply patch (annotation, replicas, image with $setElementOrder)",
    doc: deploy(
      { containers: [c('c', { image: 'nginx:1.25', ports: [{ containerPort: 80, protocol: 'TCP' }] })] },
      { metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"old":true}', other: 'x' } } },
    ),
    patch: JSON.parse('{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\\"new\\":true}"}},"spec":{"replicas":3,"template":{"spec":{"$setElementOrder/containers":[{"name":"c"}],"containers":[{"image":"nginx:1.26","name":"c"}]}}}}'),
    want: {
      ...deploy(
        { containers: [c('c', { image: 'nginx:1.26', ports: [{ containerPort: 80, protocol: 'TCP' }] })] },
        { metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"new":true}', other: 'x' } } },
      ),
      spec: { replicas: 3, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [c('c', { image: 'nginx:1.26', ports: [{ containerPort: 80, protocol: 'TCP' }] })] } } },
    },
  },
  {
    name: 'null removes fields (map member, list field inside a merged element)',
    doc: deploy({ containers: [c('c', { ports: [{ containerPort: 80 }], args: ['-v'] })], nodeSelector: { disk: 'ssd', zone: 'a' } }),
    patch: podPatch({ containers: [{ name: 'c', ports: null }], nodeSelector: { zone: null }, missing: null }),
    want: deploy({ containers: [c('c', { args: ['-v'] })], nodeSelector: { disk: 'ssd' } }),
  },
  {
    name: 'remove a container with $patch: delete (kubectl shape)',
    doc: deploy({ containers: [c('a'), c('b'), c('c')] }),
    patch: podPatch({ '$setElementOrder/containers': [{ name: 'a' }, { name: 'c' }], containers: [{ $patch: 'delete', name: 'b' }] }),
    want: deploy({ containers: [c('a'), c('c')] }),
  },
  {
    name: 'delete a missing element is a no-op',
    doc: deploy({ containers: [c('a')] }),
    patch: podPatch({ containers: [{ $patch: 'delete', name: 'zzz' }] }),
    want: deploy({ containers: [c('a')] }),
  },
  {
    name: 'delete and merge in the same list',
    doc: deploy({ containers: [c('a'), c('b')] }),
    patch: podPatch({ containers: [{ name: 'b', image: 'b:2' }, { $patch: 'delete', name: 'a' }] }),
    want: deploy({ containers: [c('b', { image: 'b:2' })] }),
  },
  {
    name: '$setElementOrder reorders and adds',
    doc: deploy({ containers: [c('a'), c('b'), c('c')] }),
    patch: podPatch({ '$setElementOrder/containers': [{ name: 'c' }, { name: 'd' }, { name: 'a' }, { name: 'b' }], containers: [c('d')] }),
    want: deploy({ containers: [c('c'), c('d'), c('a'), c('b')] }),
  },
  {
    name: '$setElementOrder inserts a new element between live ones',
    doc: deploy({ containers: [c('a'), c('b')] }),
    patch: podPatch({ '$setElementOrder/containers': [{ name: 'a' }, { name: 'new' }, { name: 'b' }], containers: [c('new')] }),
    want: deploy({ containers: [c('a'), c('new'), c('b')] }),
  },
  {
    name: '$setElementOrder: live-only elements keep their live position relative to listed ones',
    doc: deploy({ containers: [c('a'), c('b'), c('c')] }),
    patch: podPatch({ '$setElementOrder/containers': [{ name: 'c' }, { name: 'a' }] }),
    want: deploy({ containers: [c('b'), c('c'), c('a')] }),
  },
  {
    name: '$setElementOrder: interleaving of live-only elements (upstream mergeSortedSlice)',
    doc: deploy({ containers: [c('a'), c('b'), c('c'), c('d')] }),
    patch: podPatch({ '$setElementOrder/containers': [{ name: 'd' }, { name: 'b' }] }),
    want: deploy({ containers: [c('a'), c('c'), c('d'), c('b')] }),
  },
  {
    name: 'merge without $setElementOrder: patch order, new elements ahead of live-only ones (upstream)',
    doc: deploy({ containers: [c('a'), c('b')] }),
    patch: podPatch({ containers: [c('x'), { name: 'b', image: 'b:2' }] }),
    want: deploy({ containers: [c('x'), c('a'), c('b', { image: 'b:2' })] }),
  },
  {
    name: '$setElementOrder for a field the live object does not have',
    doc: deploy({}),
    patch: podPatch({ '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }], containers: [c('b'), c('a', { bad: null })] }),
    want: deploy({ containers: [c('b'), c('a')] }),
  },
  {
    name: '$retainKeys clears members not listed (Deployment strategy)',
    doc: deploy({ containers: [c('a')] }, { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } } }),
    patch: { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } },
    want: deploy({ containers: [c('a')] }, { spec: { strategy: { type: 'Recreate' } } }),
  },
  {
    name: '$retainKeys inside a merged list element (volume source switch)',
    doc: deploy({ containers: [c('a')], volumes: [{ name: 'v', configMap: { name: 'cm' } }, { name: 'w', emptyDir: {} }] }),
    patch: podPatch({ '$setElementOrder/volumes': [{ name: 'v' }, { name: 'w' }], volumes: [{ $retainKeys: ['emptyDir', 'name'], emptyDir: { medium: 'Memory' }, name: 'v', configMap: null }] }),
    want: deploy({ containers: [c('a')], volumes: [{ name: 'v', emptyDir: { medium: 'Memory' } }, { name: 'w', emptyDir: {} }] }),
  },
  {
    name: '$deleteFromPrimitiveList removes values',
    doc: deploy({}, { metadata: { finalizers: ['a', 'b', 'c'] } }),
    patch: { metadata: { '$deleteFromPrimitiveList/finalizers': ['b', 'zzz'] } },
    want: deploy({}, { metadata: { finalizers: ['a', 'c'] } }),
  },
  {
    name: 'primitive list: add, delete and order together (kubectl shape)',
    doc: deploy({}, { metadata: { finalizers: ['a', 'b', 'c'] } }),
    patch: { metadata: { '$setElementOrder/finalizers': ['c', 'd', 'a'], finalizers: ['d'], '$deleteFromPrimitiveList/finalizers': ['b'] } },
    want: deploy({}, { metadata: { finalizers: ['c', 'd', 'a'] } }),
  },
  {
    name: '$deleteFromPrimitiveList on a missing list is a no-op',
    doc: deploy({}),
    patch: { metadata: { '$deleteFromPrimitiveList/finalizers': ['x'] } },
    want: deploy({}),
  },
  {
    name: '$patch: replace on a map',
    doc: deploy({ containers: [c('a')], nodeSelector: { disk: 'ssd', zone: 'a' } }),
    patch: podPatch({ nodeSelector: { $patch: 'replace', zone: 'b' } }),
    want: deploy({ containers: [c('a')], nodeSelector: { zone: 'b' } }),
  },
  {
    name: '$patch: replace on a list',
    doc: deploy({ containers: [c('a'), c('b')] }),
    patch: podPatch({ containers: [c('x'), { $patch: 'replace' }] }),
    want: deploy({ containers: [c('x')] }),
  },
  {
    name: '$patch: replace alone empties a list',
    doc: deploy({ containers: [c('a'), c('b')] }),
    patch: podPatch({ containers: [{ $patch: 'replace' }] }),
    want: deploy({ containers: [] }),
  },
  {
    name: '$patch: delete on an existing map empties it',
    doc: deploy({ containers: [c('a')], securityContext: { runAsUser: 1 } }),
    patch: podPatch({ securityContext: { $patch: 'delete' } }),
    want: deploy({ containers: [c('a')], securityContext: {} }),
  },
  {
    name: '$patch: delete on a new map adds nothing',
    doc: deploy({ containers: [c('a')] }),
    patch: podPatch({ securityContext: { $patch: 'delete' } }),
    want: deploy({ containers: [c('a')] }),
  },
  {
    name: '$patch: merge on a map is an ordinary merge',
    doc: deploy({ containers: [c('a')], nodeSelector: { disk: 'ssd' } }),
    patch: podPatch({ nodeSelector: { $patch: 'merge', zone: 'b' } }),
    want: deploy({ containers: [c('a')], nodeSelector: { disk: 'ssd', zone: 'b' } }),
  },
  {
    name: '$patch: delete at the top level empties the object',
    doc: deploy({ containers: [c('a')] }),
    patch: { $patch: 'delete' },
    want: {},
  },
  {
    name: 'primitive list with merge strategy: union in patch order, no duplicates',
    doc: deploy({}, { metadata: { finalizers: ['a', 'b'] } }),
    patch: { metadata: { finalizers: ['c', 'a', 'c'] } },
    want: deploy({}, { metadata: { finalizers: ['c', 'a', 'b'] } }),
  },
  {
    name: 'primitive list with merge strategy: adding to the end',
    doc: deploy({}, { metadata: { finalizers: ['a', 'b'] } }),
    patch: { metadata: { finalizers: ['b', 'z'] } },
    want: deploy({}, { metadata: { finalizers: ['a', 'b', 'z'] } }),
  },
  {
    name: 'primitive list without strategy is replaced (container args)',
    doc: deploy({ containers: [c('a', { args: ['x', 'y'] })] }),
    patch: podPatch({ containers: [{ name: 'a', args: ['z'] }] }),
    want: deploy({ containers: [c('a', { args: ['z'] })] }),
  },
  {
    name: 'nested merge keys: container ports by containerPort',
    doc: deploy({ containers: [c('a', { ports: [{ containerPort: 80, protocol: 'TCP', name: 'http' }, { containerPort: 53, protocol: 'UDP' }] })] }),
    patch: podPatch({ containers: [{ name: 'a', ports: [{ containerPort: 80, name: 'web' }, { containerPort: 443, protocol: 'TCP' }] }] }),
    want: deploy({ containers: [c('a', { ports: [{ containerPort: 80, protocol: 'TCP', name: 'web' }, { containerPort: 443, protocol: 'TCP' }, { containerPort: 53, protocol: 'UDP' }] })] }),
  },
  {
    name: 'nested merge keys: the merge key is containerPort only, so protocol is overwritten (upstream behaviour)',
    doc: deploy({ containers: [c('a', { ports: [{ containerPort: 53, protocol: 'UDP' }] })] }),
    patch: podPatch({ containers: [{ name: 'a', ports: [{ containerPort: 53, protocol: 'TCP' }] }] }),
    want: deploy({ containers: [c('a', { ports: [{ containerPort: 53, protocol: 'TCP' }] })] }),
  },
  {
    name: 'nested merge keys: env by name, delete one, add one',
    doc: deploy({ containers: [c('a', { env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] })] }),
    patch: podPatch({ containers: [{ name: 'a', '$setElementOrder/env': [{ name: 'B' }, { name: 'C' }], env: [{ name: 'B', value: '3' }, { name: 'C', value: '4' }, { $patch: 'delete', name: 'A' }] }] }),
    want: deploy({ containers: [c('a', { env: [{ name: 'B', value: '3' }, { name: 'C', value: '4' }] })] }),
  },
  {
    name: 'atomic list of maps is replaced (tolerations)',
    doc: deploy({ tolerations: [{ key: 'a', operator: 'Exists' }, { key: 'b', operator: 'Exists' }] }),
    patch: podPatch({ tolerations: [{ key: 'c', operator: 'Exists', effect: null }] }),
    want: deploy({ tolerations: [{ key: 'c', operator: 'Exists' }] }),
  },
  {
    name: 'unknown fields behave like merge patch (maps merge, lists replace)',
    doc: { spec: { custom: { list: [{ name: 'a', x: 1 }], map: { x: 1 }, keep: true } } },
    patch: { spec: { custom: { list: [{ name: 'a', y: 2 }], map: { y: 2 } } } },
    want: { spec: { custom: { list: [{ name: 'a', y: 2 }], map: { x: 1, y: 2 }, keep: true } } },
  },
  {
    name: 'new subtrees are cleaned of nulls and directives',
    doc: deploy({ containers: [c('a')] }),
    patch: podPatch({ volumes: [{ name: 'v', emptyDir: {}, secret: null }, { $patch: 'delete', name: 'gone' }], '$setElementOrder/tolerations': [] }),
    want: deploy({ containers: [c('a')], volumes: [{ name: 'v', emptyDir: {} }] }),
  },
  {
    name: 'a new list element is added without nulls, ahead of live-only elements (upstream order)',
    doc: deploy({ containers: [c('a')] }),
    patch: podPatch({ containers: [{ name: 'b', image: 'b:1', args: null }] }),
    want: deploy({ containers: [c('b'), c('a')] }),
  },
  {
    name: 'merge into a map-valued field (labels) with additionalProperties',
    doc: deploy({}, { metadata: { labels: { a: '1', b: '2' } } }),
    patch: { metadata: { labels: { b: null, c: '3' } } },
    want: deploy({}, { metadata: { labels: { a: '1', c: '3' } } }),
  },
  {
    name: 'an empty patch list leaves a merging list alone but empties an atomic one',
    doc: deploy({ containers: [c('a')], tolerations: [{ key: 'a' }] }),
    patch: podPatch({ containers: [], tolerations: [] }),
    want: deploy({ containers: [c('a')], tolerations: [] }),
  },
  {
    name: 'a list replaces a scalar of the wrong type when the schema does not say otherwise',
    doc: { spec: { custom: 'x' } },
    patch: { spec: { custom: [1, { a: null }] } },
    want: { spec: { custom: [1, {}] } },
  },
  {
    name: 'a null patch changes nothing',
    doc: deploy({ containers: [c('a')] }),
    patch: null,
    want: deploy({ containers: [c('a')] }),
  },
  {
    name: 'an empty patch changes nothing',
    doc: deploy({ containers: [c('a')] }),
    patch: {},
    want: deploy({ containers: [c('a')] }),
  },
];

describe('applyStrategicMergePatch', () => {
  for (const tc of cases) {
    it(tc.name, () => {
      const docBefore = structuredClone(tc.doc);
      const patchBefore = structuredClone(tc.patch);
      const got = applyStrategicMergePatch(tc.doc, tc.patch, deployment, schemas);
      assert.deepStrictEqual(got, tc.want);
      assert.deepStrictEqual(tc.doc, docBefore, 'document must not be mutated');
      assert.deepStrictEqual(tc.patch, patchBefore, 'patch must not be mutated');
    });
  }

  it('works without any schema (everything behaves like merge patch)', () => {
    const got = applyStrategicMergePatch({ a: { l: [1, 2], m: { x: 1 } } }, { a: { l: [3], m: { y: 2, x: null } } }, undefined, {});
    assert.deepStrictEqual(got, { a: { l: [3], m: { y: 2 } } });
  });

  it('keeps the result independent of the inputs', () => {
    const patch = podPatch({ containers: [c('b', { args: ['x'] })] });
    const got = applyStrategicMergePatch(deploy({ containers: [c('a')] }), patch, deployment, schemas);
    assert.deepStrictEqual(names(containersOf(got)), ['b', 'a']);
    (containersOf(got)[0].args as string[]).push('y');
    assert.deepStrictEqual(patch, podPatch({ containers: [c('b', { args: ['x'] })] }));
  });

  it('does not pollute Object.prototype', () => {
    applyStrategicMergePatch({}, JSON.parse('{"__proto__":{"polluted":1},"a":{"__proto__":{"polluted":2}}}'), undefined, {});
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  const withStrategy = deploy({}, { spec: { strategy: { type: 'RollingUpdate' } } });
  interface FailCase { name: string; doc?: unknown; patch: unknown; code?: number; reason?: string; message: RegExp }
  const failCases: FailCase[] = [
    { name: 'patch is not an object', patch: [1], message: /cannot unmarshal array into Go value of type map\[string\]interface \{\}/ },
    { name: 'unknown $patch value on a map', doc: deploy({ nodeSelector: { a: 'b' } }), patch: podPatch({ nodeSelector: { $patch: 'explode' } }), message: /unknown patch type: explode in map/ },
    { name: 'unknown $patch value in a list element', doc: deploy({ containers: [c('a')] }), patch: podPatch({ containers: [{ name: 'a', $patch: 'explode' }] }), message: /unknown patch type: explode/ },
    { name: '$patch: merge inside a list', doc: deploy({ containers: [c('a')] }), patch: podPatch({ containers: [{ $patch: 'merge' }] }), message: /merging lists cannot yet be specified in the patch/ },
    { name: 'list element without the merge key', doc: deploy({ containers: [c('a')] }), patch: podPatch({ containers: [{ image: 'x' }] }), message: /does not contain declared merge key: name/ },
    { name: '$patch: delete without the merge key', doc: deploy({ containers: [c('a')] }), patch: podPatch({ containers: [{ $patch: 'delete' }] }), message: /does not contain declared merge key: name/ },
    { name: 'non-list patch for a list field', doc: deploy({ containers: [c('a')] }), patch: podPatch({ containers: { name: 'a' } }), message: /spec\.template\.spec\.containers must be a list, but the patch has an object/ },
    { name: 'non-object patch for an object field', doc: deploy({}), patch: { spec: { template: 'x' } }, message: /spec\.template must be an object/ },
    { name: '$retainKeys is not a list', doc: withStrategy, patch: { spec: { strategy: { $retainKeys: 'type' } } }, message: /invalid patch format of retainKeys/ },
    { name: 'patch member missing from $retainKeys', doc: withStrategy, patch: { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: {} } } }, message: /invalid patch format of retainKeys/ },
    { name: '$deleteFromPrimitiveList is not a list', doc: deploy({}, { metadata: { finalizers: ['a'] } }), patch: { metadata: { '$deleteFromPrimitiveList/finalizers': 'a' } }, message: /invalid patch format of primitive list/ },
    { name: 'malformed $deleteFromPrimitiveList key', doc: deploy({}), patch: { metadata: { $deleteFromPrimitiveListFinalizers: ['a'] } }, message: /invalid patch format of primitive list/ },
    { name: '$setElementOrder is not a list', doc: deploy({ containers: [c('a')] }), patch: podPatch({ '$setElementOrder/containers': { name: 'a' } }), message: /invalid patch format of setElementOrder list/ },
    { name: 'malformed $setElementOrder key', doc: deploy({ containers: [c('a')] }), patch: podPatch({ $setElementOrder: [] }), message: /invalid patch format of setElementOrder list/ },
    { name: '$setElementOrder entry without the merge key', doc: deploy({ containers: [c('a')] }), patch: podPatch({ '$setElementOrder/containers': [{ image: 'a' }] }), message: /does not contain declared merge key: name/ },
    { name: 'patch list order contradicts $setElementOrder', doc: deploy({ containers: [c('a'), c('b')] }), patch: podPatch({ '$setElementOrder/containers': [{ name: 'a' }, { name: 'b' }], containers: [c('b'), c('a')] }), message: /doesn't match \$setElementOrder list/ },
    { name: 'patch list element missing from $setElementOrder', doc: deploy({ containers: [c('a')] }), patch: podPatch({ '$setElementOrder/containers': [{ name: 'a' }], containers: [c('z')] }), message: /doesn't match \$setElementOrder list/ },
    { name: 'mixed element types in a merging list', doc: deploy({ containers: [c('a')] }), patch: podPatch({ containers: ['a'] }), message: /list element types are not identical/ },
    { name: 'mixed scalar types in a set', doc: deploy({}, { metadata: { finalizers: ['a'] } }), patch: { metadata: { finalizers: [1] } }, message: /list element types are not identical/ },
    { name: 'list of lists in a merging list', doc: deploy({}, { metadata: { finalizers: ['a'] } }), patch: { metadata: { finalizers: [['b']] } }, code: 422, reason: 'Invalid', message: /^the server rejected our request due to an error in our request$/ },
  ];

  for (const fc of failCases) {
    it(`fails: ${fc.name}`, () => {
      const doc = fc.doc ?? deploy({});
      const before = structuredClone(doc);
      assert.throws(() => applyStrategicMergePatch(doc, fc.patch, deployment, schemas), (e: unknown) => {
        assert.ok(e instanceof StatusError, `expected a StatusError, got ${String(e)}`);
        assert.equal(e.code, fc.code ?? 400);
        assert.equal(e.reason, fc.reason ?? 'BadRequest');
        assert.match(e.message, fc.message);
        return true;
      });
      assert.deepStrictEqual(doc, before, 'document must not be mutated');
    });
  }
});
