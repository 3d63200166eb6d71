import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { builtinSchemas } from '../../api/schemas.js';
import { pathToString } from './fieldset.js';
import type { FieldSet } from './fieldset.js';
import { compareObjects, fieldSetOf, mergeTyped, removeItems, rootType, toFieldSet } from './typed.js';
import { FieldSet as FS, pathOf, pe } from './fieldset.js';

const schemas = builtinSchemas();
const DEPLOYMENT = 'io.k8s.api.apps.v1.Deployment';
const POD = 'io.k8s.api.core.v1.Pod';
const SERVICE = 'io.k8s.api.core.v1.Service';
const ctx = { schemas };
const lines = (s: FieldSet) => s.paths().map(pathToString);

const pod = (spec: Record<string, unknown>, metadata: Record<string, unknown> = { name: 'p' }) => ({ apiVersion: 'v1', kind: 'Pod', metadata, spec });

describe('fieldSetOf (ToFieldSet)', () => {
  it('gives the leaves, list items and map keys of an applied Deployment', () => {
    const cfg = {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        replicas: 2, selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.25', ports: [{ containerPort: 80 }] }] } },
      },
    };
    assert.deepEqual(lines(fieldSetOf(cfg, DEPLOYMENT, schemas)), [
      '.apiVersion', '.kind', '.metadata.name', '.metadata.labels.app', '.spec.replicas', '.spec.selector',
      '.spec.template.metadata.labels.app',
      '.spec.template.spec.containers[name="nginx"]',
      '.spec.template.spec.containers[name="nginx"].image',
      '.spec.template.spec.containers[name="nginx"].name',
      '.spec.template.spec.containers[name="nginx"].ports[containerPort=80,protocol="TCP"]',
      '.spec.template.spec.containers[name="nginx"].ports[containerPort=80,protocol="TCP"].containerPort',
    ]);
  });

  it('treats each list type as upstream: map (by keys), set (by value), atomic (whole)', () => {
    const s = fieldSetOf(pod({
      containers: [{ name: 'a', image: 'x', ports: [{ containerPort: 53, protocol: 'UDP' }, { containerPort: 53 }], args: ['--v=2'] }],
      tolerations: [{ key: 'k', operator: 'Exists' }],
      imagePullSecrets: [{ name: 'reg' }],
      topologySpreadConstraints: [{ topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', maxSkew: 1 }],
    }, { name: 'p', finalizers: ['example.com/a', 'example.com/b'] }), POD, schemas);
    const got = lines(s);
    for (const p of [
      '.metadata.finalizers[="example.com/a"]', '.metadata.finalizers[="example.com/b"]',
      '.spec.containers[name="a"].ports[containerPort=53,protocol="UDP"].containerPort',
      '.spec.containers[name="a"].ports[containerPort=53,protocol="TCP"]',
      '.spec.containers[name="a"].args', // atomic list: one leaf
      '.spec.tolerations', // atomic list
      '.spec.imagePullSecrets[name="reg"]', // an atomic struct as an item: the item only
      '.spec.topologySpreadConstraints[topologyKey="zone",whenUnsatisfiable="DoNotSchedule"].maxSkew',
    ]) assert.ok(got.includes(p), `${p} in\n${got.join('\n')}`);
    assert.ok(!got.some((p) => p.startsWith('.spec.tolerations[') || p.startsWith('.spec.containers[name="a"].args[')));
    assert.ok(!got.includes('.spec.imagePullSecrets[name="reg"].name'));
  });

  it('treats granular maps per key and atomic maps/structs as one leaf', () => {
    const s = lines(fieldSetOf({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's', annotations: { a: '1' } }, spec: { selector: { app: 'x' }, ports: [{ port: 80 }] } }, SERVICE, schemas));
    assert.ok(s.includes('.metadata.annotations.a'));
    assert.ok(s.includes('.spec.selector'), 'Service spec.selector is an atomic map');
    assert.ok(!s.includes('.spec.selector.app'));
    assert.ok(s.includes('.spec.ports[port=80,protocol="TCP"].port'));
    const p = lines(fieldSetOf(pod({ nodeSelector: { zone: 'a' }, containers: [] }), POD, schemas));
    assert.ok(p.includes('.spec.nodeSelector'));
  });

  it('owns a struct field given as {} or null, not one with contents', () => {
    const s = lines(fieldSetOf(pod({ securityContext: {}, dnsConfig: null, affinity: { nodeAffinity: {} } }), POD, schemas));
    assert.ok(s.includes('.spec.securityContext'));
    assert.ok(s.includes('.spec.dnsConfig'));
    assert.ok(s.includes('.spec.affinity.nodeAffinity'));
    assert.ok(!s.includes('.spec.affinity'));
  });

  it('deduces the type of schemaless objects (custom resources): maps granular, lists atomic', () => {
    const s = lines(fieldSetOf({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', labels: { a: 'b' } }, spec: { size: 3, tags: ['x'], nested: { deep: true } } }, 'com.example.v1.Widget', schemas));
    // undeclared keys are owned themselves too (as upstream's deduced maps)
    assert.deepEqual(s, ['.apiVersion', '.kind', '.spec', '.metadata.name', '.metadata.labels.a', '.spec.nested', '.spec.size', '.spec.tags', '.spec.nested.deep']);
  });

  it('records what upstream rejects in an applied configuration', () => {
    const errors: string[] = [];
    toFieldSet({ schemas, errors }, pod({ containers: [{ name: 'a' }, { name: 'a' }], topologySpreadConstraints: [{ topologyKey: 'zone' }] }), rootType(schemas, POD));
    assert.deepEqual(errors, [
      '.spec.containers: duplicate entries for key [name="a"]',
      '.spec.topologySpreadConstraints: element 0: associative list with keys has an element that omits key field "whenUnsatisfiable" (and doesn\'t have default value)',
    ]);
  });
});

describe('compareObjects', () => {
  it('reports added, modified and removed fields', () => {
    const old = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', labels: { a: '1', b: '2' } }, spec: { replicas: 1, template: { spec: { containers: [{ name: 'c', image: 'x' }, { name: 'old', image: 'y' }] } } } };
    const next = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', labels: { a: '1', c: '3' } }, spec: { replicas: 2, template: { spec: { containers: [{ name: 'c', image: 'z' }, { name: 'new', image: 'w' }] } } } };
    const c = compareObjects(old, next, DEPLOYMENT, schemas);
    assert.deepEqual(lines(c.modified), ['.spec.replicas', '.spec.template.spec.containers[name="c"].image']);
    assert.deepEqual(lines(c.added), ['.metadata.labels.c', '.spec.template.spec.containers[name="new"]', '.spec.template.spec.containers[name="new"].image', '.spec.template.spec.containers[name="new"].name']);
    assert.deepEqual(lines(c.removed), ['.metadata.labels.b', '.spec.template.spec.containers[name="old"]', '.spec.template.spec.containers[name="old"].image', '.spec.template.spec.containers[name="old"].name']);
  });

  it('compares atomic lists and sets as upstream does', () => {
    const c = compareObjects(
      pod({ tolerations: [{ key: 'a' }] }, { name: 'p', finalizers: ['x', 'y'] }),
      pod({ tolerations: [{ key: 'b' }] }, { name: 'p', finalizers: ['y', 'z'] }), POD, schemas);
    assert.deepEqual(lines(c.modified), ['.spec.tolerations']);
    assert.deepEqual(lines(c.added), ['.metadata.finalizers[="z"]']);
    assert.deepEqual(lines(c.removed), ['.metadata.finalizers[="x"]']);
  });

  it('a new map or pointer struct is added itself; a Go value struct or required field is not', () => {
    const c = compareObjects(undefined, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', labels: { a: '1' } }, spec: { strategy: { rollingUpdate: { maxSurge: 1 } }, template: { spec: { containers: [{ name: 'c', resources: {} }] } } } }, DEPLOYMENT, schemas);
    const added = lines(c.added);
    for (const p of ['.metadata.labels', '.spec.strategy.rollingUpdate', '.spec.template.spec.containers[name="c"].resources']) assert.ok(added.includes(p), p);
    for (const p of ['.spec', '.metadata', '.spec.strategy', '.spec.template', '.spec.template.spec', '.spec.template.spec.containers']) assert.ok(!added.includes(p), p);
  });
});

describe('merge and removal', () => {
  const root = rootType(schemas, POD);
  it('merges associative lists by key, unions sets, replaces atomic lists, merges maps', () => {
    const live = pod({
      containers: [{ name: 'a', image: 'x', env: [{ name: 'A', value: '1' }] }, { name: 'sidecar', image: 's' }],
      tolerations: [{ key: 'old' }],
    }, { name: 'p', labels: { keep: '1', change: 'old' }, finalizers: ['f1'] });
    const config = pod({
      containers: [{ name: 'a', image: 'y', env: [{ name: 'B', value: '2' }] }],
      tolerations: [{ key: 'new' }],
    }, { name: 'p', labels: { change: 'new' }, finalizers: ['f2'] });
    assert.deepEqual(mergeTyped(ctx, live, config, root), pod({
      containers: [{ name: 'a', image: 'y', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] }, { name: 'sidecar', image: 's' }],
      tolerations: [{ key: 'new' }],
    }, { name: 'p', labels: { keep: '1', change: 'new' }, finalizers: ['f1', 'f2'] }));
  });

  it('keeps the configuration order and places live-only items next to their neighbours', () => {
    const l = pod({}, { name: 'p', finalizers: ['a', 'b', 'x'] });
    const r = pod({}, { name: 'p', finalizers: ['b', 'a'] });
    assert.deepEqual((mergeTyped(ctx, l, r, root) as any).metadata.finalizers, ['b', 'x', 'a']);
    const l2 = pod({}, { name: 'p', finalizers: ['x', 'a', 'y'] });
    const r2 = pod({}, { name: 'p', finalizers: ['n', 'a', 'm'] });
    assert.deepEqual((mergeTyped(ctx, l2, r2, root) as any).metadata.finalizers, ['x', 'n', 'a', 'y', 'm']);
  });

  it('drops fields set to null in the configuration; does not change its inputs', () => {
    const live = pod({ hostname: 'h', subdomain: 's' });
    const config = pod({ hostname: null });
    assert.deepEqual(mergeTyped(ctx, live, config, root), pod({ subdomain: 's' }));
    assert.deepEqual(live, pod({ hostname: 'h', subdomain: 's' }));
  });

  it('removes items and fields, dropping containers left empty', () => {
    const obj = pod({ containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'y' }] }, { name: 'p', labels: { only: '1' }, finalizers: ['f', 'g'] });
    const toRemove = FS.of(
      [...pathOf('spec', 'containers'), pe.key({ name: 'b' })],
      [...pathOf('spec', 'containers'), pe.key({ name: 'a' }), pe.field('image')],
      [...pathOf('metadata', 'finalizers'), pe.value('g')],
      pathOf('metadata', 'labels', 'only'),
    );
    assert.deepEqual(removeItems(ctx, obj, toRemove, root), pod({ containers: [{ name: 'a' }] }, { name: 'p', finalizers: ['f'] }));
  });
});
