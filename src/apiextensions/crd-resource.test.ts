import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_CRD_PRINTER_COLUMNS } from '../apiserver/tables/table.js';
import {
  CRD_VERBS, compareVersionPriority, crdOpenAPISchemas, crdPrinterColumns, crdResourceInfos, crdSchemaName,
  scaleReplicasPaths, servedVersions, storageVersion, validateScaleReplicas,
} from './crd-resource.js';
import { fieldErrorMessage } from '../apimachinery/errors.js';


const namespaced: any = {
  metadata: { name: 'crontabs.stable.example.com' },
  spec: {
    group: 'stable.example.com',
    scope: 'Namespaced',
    names: { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', listKind: 'CronTabList', shortNames: ['ct'], categories: ['all'] },
    versions: [
      {
        name: 'v1beta1', served: true, storage: false,
        schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { cronSpec: { type: 'string' } } } } } },
      },
      {
        name: 'v1', served: true, storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                properties: {
                  cronSpec: { type: 'string' },
                  replicas: { type: 'integer' },
                  template: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true },
                },
              },
              status: { type: 'object', properties: { replicas: { type: 'integer' }, selector: { type: 'string' } } },
            },
          },
        },
        subresources: { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' } },
        additionalPrinterColumns: [
          { name: 'Spec', type: 'string', jsonPath: '.spec.cronSpec', description: 'the schedule' },
          { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas', priority: 1 },
          { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
        ],
      },
      { name: 'v0', served: false, storage: false, schema: { openAPIV3Schema: { type: 'object' } } },
    ],
  },
};

const cluster: any = {
  metadata: { name: 'widgets.example.io' },
  spec: {
    group: 'example.io',
    scope: 'Cluster',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: [{ name: 'v1alpha1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
  },
};

test('crdResourceInfos: one per served version, highest priority first', () => {
  const infos = crdResourceInfos(namespaced);
  assert.deepEqual(infos.map((i) => i.version), ['v1', 'v1beta1']);
  assert.deepEqual(infos[0], {
    group: 'stable.example.com',
    version: 'v1',
    kind: 'CronTab',
    listKind: 'CronTabList',
    plural: 'crontabs',
    singular: 'crontab',
    namespaced: true,
    shortNames: ['ct'],
    categories: ['all'],
    verbs: CRD_VERBS,
    subresources: [
      { name: 'status', group: 'stable.example.com', version: 'v1', kind: 'CronTab', verbs: ['get', 'patch', 'update'] },
      { name: 'scale', group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] },
    ],
    storageResource: 'crontabs',
    storageGroup: 'stable.example.com',
    schemaName: 'com.example.stable.v1.CronTab',
  });
  assert.deepEqual(infos[1].subresources, []);
  assert.equal(infos[1].schemaName, 'com.example.stable.v1beta1.CronTab');

  const [w] = crdResourceInfos(cluster);
  assert.equal(w.namespaced, false);
  assert.deepEqual(w.shortNames, []);
  assert.deepEqual(w.categories, []);
  assert.deepEqual(w.subresources, []);
  assert.equal(w.schemaName, 'io.example.v1alpha1.Widget');
});

test('accepted names win over spec names once the CRD is established', () => {
  const c = { ...namespaced, status: { acceptedNames: { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', listKind: 'CronTabList', shortNames: ['cts'] } } };
  assert.deepEqual(crdResourceInfos(c)[0].shortNames, ['cts']);
  assert.deepEqual(crdResourceInfos(c)[0].categories, []);
});

test('storage version, served versions and version priority', () => {
  assert.equal(storageVersion(namespaced), 'v1');
  assert.throws(() => storageVersion({ spec: { versions: [] } }), /no storage version/);
  assert.deepEqual(servedVersions(namespaced), ['v1', 'v1beta1']);
  assert.deepEqual(['v1alpha1', 'foo', 'v2beta1', 'v1', 'v10', 'v2', 'bar', 'v1beta2', 'v1beta1'].sort(compareVersionPriority),
    ['v10', 'v2', 'v1', 'v2beta1', 'v1beta2', 'v1beta1', 'v1alpha1', 'bar', 'foo']);
  assert.equal(crdSchemaName('k8s.io', 'v1', 'X'), 'io.k8s.v1.X');
});

test('OpenAPI schemas of the kind and its list', () => {
  const schemas = crdOpenAPISchemas(namespaced, 'v1');
  assert.deepEqual(Object.keys(schemas), ['com.example.stable.v1.CronTab', 'com.example.stable.v1.CronTabList']);
  const kind: any = schemas['com.example.stable.v1.CronTab'];
  assert.deepEqual(kind['x-kubernetes-group-version-kind'], [{ group: 'stable.example.com', kind: 'CronTab', version: 'v1' }]);
  assert.equal(kind.type, 'object');
  assert.deepEqual(kind.properties.metadata.allOf, [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }]);
  assert.equal(kind.properties.apiVersion.type, 'string');
  assert.equal(kind.properties.kind.type, 'string');
  assert.ok(kind.properties.spec.properties.cronSpec);
  // embedded resources get TypeMeta/ObjectMeta properties and require apiVersion and kind
  const tpl = kind.properties.spec.properties.template;
  assert.deepEqual(Object.keys(tpl.properties), ['apiVersion', 'kind', 'metadata']);
  assert.deepEqual(tpl.required, ['kind', 'apiVersion']);
  // the CRD itself is not modified
  assert.equal(namespaced.spec.versions[1].schema.openAPIV3Schema.properties.metadata, undefined);
  const list: any = schemas['com.example.stable.v1.CronTabList'];
  assert.deepEqual(list['x-kubernetes-group-version-kind'], [{ group: 'stable.example.com', kind: 'CronTabList', version: 'v1' }]);
  assert.deepEqual(list.required, ['items']);
  assert.deepEqual(list.properties.items.items, { $ref: '#/components/schemas/com.example.stable.v1.CronTab' });
  assert.equal(list.properties.items.description, 'List of crontabs. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md');
  assert.deepEqual(list.properties.metadata.allOf, [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta' }]);
  assert.equal(list.description, 'CronTabList is a list of CronTab');
});

test('printer columns: declared ones, or the default Age column', () => {
  assert.deepEqual(crdPrinterColumns(namespaced, 'v1'), [
    { name: 'Spec', type: 'string', jsonPath: '.spec.cronSpec', description: 'the schedule' },
    { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas', priority: 1 },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ]);
  assert.deepEqual(crdPrinterColumns(namespaced, 'v1beta1'), DEFAULT_CRD_PRINTER_COLUMNS);
});

test('scale subresource paths', () => {
  assert.deepEqual(scaleReplicasPaths(namespaced, 'v1'), { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' });
  assert.equal(scaleReplicasPaths(namespaced, 'v1beta1'), undefined);
  assert.equal(scaleReplicasPaths(cluster, 'v1alpha1'), undefined);
});

test('scale replicas must be non-negative int32 and the selector a string', () => {
  const paths = scaleReplicasPaths(namespaced, 'v1');
  assert.deepEqual(validateScaleReplicas({ spec: { replicas: 2 }, status: { replicas: 1, selector: 'a=b' } }, paths), []);
  assert.deepEqual(validateScaleReplicas({ spec: {} }, paths), []);
  assert.deepEqual(validateScaleReplicas({ spec: { replicas: -1 }, status: { replicas: 'x', selector: 5 } }, paths).map(fieldErrorMessage), [
    '.spec.replicas: Invalid value: -1: should be a non-negative integer',
    '.status.replicas: Invalid value: 0: .status.replicas accessor error: x is of the type string, expected int64',
    '.status.selector: Invalid value: "": .status.selector accessor error: 5 is of the type int64, expected string',
  ]);
  assert.deepEqual(validateScaleReplicas({ spec: { replicas: 1 } }, undefined), []);
});
