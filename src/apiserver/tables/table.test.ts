import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUILTIN_RESOURCES } from '../../api/resources.js';
import { DEFAULT_CRD_PRINTER_COLUMNS, tableColumns, toTable, toTableWithColumns, type PrinterColumn } from './table.js';

const NOW = new Date('2024-06-01T12:00:00Z');
const cmInfo = BUILTIN_RESOURCES.find((r) => r.group === '' && r.kind === 'ConfigMap')!;
const roleInfo = BUILTIN_RESOURCES.find((r) => r.group === 'rbac.authorization.k8s.io' && r.kind === 'Role')!;

const cm = (name: string, rv: string) => ({
  metadata: { name, namespace: 'default', uid: `uid-${name}`, resourceVersion: rv, creationTimestamp: '2024-06-01T11:59:00Z', labels: { a: 'b' }, managedFields: [{ manager: 'kubectl' }] },
  data: { k: 'v' },
});

test('a list prints as a Table with list metadata and PartialObjectMetadata rows', () => {
  const t = toTable(cmInfo, [cm('a', '5'), cm('b', '7')], { now: NOW, listMeta: { resourceVersion: '1004', continue: 'tok', remainingItemCount: 3 } });
  assert.equal(t.kind, 'Table');
  assert.equal(t.apiVersion, 'meta.k8s.io/v1');
  assert.deepEqual(t.metadata, { resourceVersion: '1004', continue: 'tok', remainingItemCount: 3 });
  assert.deepEqual(t.columnDefinitions!.map((c) => c.name), ['Name', 'Data', 'Age']);
  for (const c of t.columnDefinitions!) {
    assert.deepEqual(Object.keys(c), ['name', 'type', 'format', 'description', 'priority']);
    assert.ok(c.description.length > 0);
  }
  assert.deepEqual(t.rows.map((r) => r.cells), [['a', 1, '60s'], ['b', 1, '60s']]);
  assert.deepEqual(t.rows[0].object, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: cm('a', '5').metadata });
  // Empty list metadata fields are left out, as Go's omitempty does.
  assert.deepEqual(toTable(cmInfo, [], { listMeta: { resourceVersion: '9', continue: '' } }).metadata, { resourceVersion: '9' });
  assert.deepEqual(toTable(cmInfo, []).rows, []);
});

test('a single object carries its own resourceVersion', () => {
  const t = toTable(cmInfo, [cm('a', '42')], { now: NOW });
  assert.deepEqual(t.metadata, { resourceVersion: '42' });
  assert.equal(t.rows.length, 1);
});

test('includeObject: Object embeds the full object with its type, None leaves it out', () => {
  const obj = cm('a', '5');
  const full = toTable(cmInfo, [obj], { now: NOW, includeObject: 'Object' }).rows[0].object!;
  assert.equal(full.apiVersion, 'v1');
  assert.equal(full.kind, 'ConfigMap');
  assert.deepEqual(full.data, { k: 'v' });
  assert.deepEqual(full.metadata, obj.metadata);
  const typed = { apiVersion: 'v1', kind: 'ConfigMap', ...obj };
  assert.equal(toTable(cmInfo, [typed], { includeObject: 'Object' }).rows[0].object, typed);
  const none = toTable(cmInfo, [obj], { now: NOW, includeObject: 'None' }).rows[0];
  assert.equal('object' in none, false);
  assert.deepEqual(none.cells, ['a', 1, '60s']);
});

test('noHeaders (watch events after the first) nulls the column definitions', () => {
  const first = toTable(cmInfo, [cm('a', '5')], { now: NOW });
  const later = toTable(cmInfo, [cm('a', '6')], { now: NOW, noHeaders: true });
  assert.ok(Array.isArray(first.columnDefinitions));
  assert.equal(later.columnDefinitions, null);
  assert.equal(JSON.parse(JSON.stringify(later)).columnDefinitions, null);
  assert.deepEqual(later.rows[0].cells, ['a', 1, '60s']);
  assert.deepEqual(later.metadata, { resourceVersion: '6' });
});

test('the JSON form matches the wire shape kubectl reads', () => {
  const json = JSON.parse(JSON.stringify(toTable(cmInfo, [cm('a', '5')], { now: NOW, listMeta: { resourceVersion: '10' } })));
  assert.deepEqual(Object.keys(json), ['kind', 'apiVersion', 'metadata', 'columnDefinitions', 'rows']);
  assert.deepEqual(Object.keys(json.rows[0]), ['cells', 'object']);
});

test('default table for kinds without a printer', () => {
  const t = toTable(roleInfo, [{ metadata: { name: 'r', namespace: 'default', creationTimestamp: '2024-01-02T03:04:05Z' } }, { metadata: { name: 'no-time' } }], { now: NOW });
  assert.deepEqual(t.columnDefinitions!.map((c) => [c.name, c.type, c.format, c.priority]), [['Name', 'string', 'name', 0], ['Created At', 'date', '', 0]]);
  assert.deepEqual(t.rows.map((r) => r.cells), [['r', '2024-01-02T03:04:05Z'], ['no-time', '0001-01-01T00:00:00Z']]);
  assert.deepEqual(tableColumns(roleInfo).map((c) => c.name), ['Name', 'Created At']);
});

test('tableColumns returns copies', () => {
  const a = tableColumns(cmInfo);
  a[0].name = 'mutated';
  assert.equal(tableColumns(cmInfo)[0].name, 'Name');
});

test('CRD printer columns: JSONPath cells, types, date columns as ages', () => {
  const columns: PrinterColumn[] = [
    { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' },
    { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: 'Readiness' },
    { name: 'First', type: 'string', jsonPath: '.spec.items[0].name', priority: 1 },
    { name: 'App', type: 'string', jsonPath: '.metadata.labels.app' },
    { name: 'Ratio', type: 'number', jsonPath: '.status.ratio' },
    { name: 'Paused', type: 'boolean', jsonPath: '.spec.paused' },
    { name: 'Selector', type: 'string', jsonPath: '.spec.selector' },
    { name: 'Count', type: 'string', jsonPath: '.status.count' },
    { name: 'Missing', type: 'string', jsonPath: '.status.nope' },
    { name: 'Null', type: 'string', jsonPath: '.status.nothing' },
    { name: 'Wrong Type', type: 'integer', jsonPath: '.metadata.name' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    { name: 'Bad Date', type: 'date', jsonPath: '.status.when' },
  ];
  const cr = {
    apiVersion: 'example.com/v1', kind: 'Widget',
    metadata: { name: 'w1', namespace: 'default', resourceVersion: '77', creationTimestamp: '2024-06-01T09:00:00Z', labels: { app: 'shop' } },
    spec: { replicas: 3.7, items: [{ name: 'x' }, { name: 'y' }], paused: false, selector: { matchLabels: { b: '2', a: '<1>' } } },
    status: { conditions: [{ type: 'Synced', status: 'True' }, { type: 'Ready', status: 'False' }], ratio: 0.5, count: 12, nothing: null, when: 'yesterday' },
  };
  const t = toTableWithColumns(columns, [cr], { now: NOW });
  assert.deepEqual(t.columnDefinitions!.map((c) => [c.name, c.type, c.format, c.priority]), [
    ['Name', 'string', 'name', 0], ['Replicas', 'integer', '', 0], ['Ready', 'string', '', 0], ['First', 'string', '', 1],
    ['App', 'string', '', 0], ['Ratio', 'number', '', 0], ['Paused', 'boolean', '', 0], ['Selector', 'string', '', 0],
    ['Count', 'string', '', 0], ['Missing', 'string', '', 0], ['Null', 'string', '', 0], ['Wrong Type', 'integer', '', 0],
    ['Age', 'date', '', 0], ['Bad Date', 'date', '', 0],
  ]);
  assert.equal(t.columnDefinitions![1].description, 'Custom resource definition column (in JSONPath format): .spec.replicas');
  assert.equal(t.columnDefinitions![2].description, 'Readiness');
  assert.deepEqual(t.rows[0].cells, [
    'w1', 3, 'False', 'x', 'shop', 0.5, false, '{"matchLabels":{"a":"\\u003c1\\u003e","b":"2"}}', '12', null, '<no value>', null, '3h', '<invalid>',
  ]);
  assert.deepEqual(t.metadata, { resourceVersion: '77' });
  assert.deepEqual(t.rows[0].object, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: cr.metadata });
  assert.equal(toTableWithColumns(columns, [cr], { includeObject: 'Object' }).rows[0].object, cr);
  assert.equal(toTableWithColumns(columns, [cr], { noHeaders: true }).columnDefinitions, null);
});

test('CRDs without printer columns get Name and Age', () => {
  const t = toTableWithColumns(DEFAULT_CRD_PRINTER_COLUMNS, [{ metadata: { name: 'a', creationTimestamp: '2024-06-01T11:00:00Z' } }, { metadata: { name: 'b' } }], { now: NOW, listMeta: { resourceVersion: '3' } });
  assert.deepEqual(t.columnDefinitions!.map((c) => [c.name, c.type]), [['Name', 'string'], ['Age', 'date']]);
  assert.deepEqual(t.rows.map((r) => r.cells), [['a', '60m'], ['b', null]]);
});

test('an unparseable printer column path yields empty cells, not an error', () => {
  const t = toTableWithColumns([{ name: 'X', type: 'string', jsonPath: '.spec[' }], [{ metadata: { name: 'a' }, spec: {} }]);
  assert.deepEqual(t.rows[0].cells, ['a', null]);
});
