import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  FieldSet, comparePathElements, goJSON, goQuote, parsePathElement, pathOf, pathToString, pe, serializePathElement,
} from './fieldset.js';

// The fieldsV1 a Kubernetes API server records for `kubectl create deployment nginx --image=nginx`.
const KUBECTL_CREATE_DEPLOYMENT = '{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:progressDeadlineSeconds":{},"f:replicas":{},"f:revisionHistoryLimit":{},"f:selector":{},"f:strategy":{"f:rollingUpdate":{".":{},"f:maxSurge":{},"f:maxUnavailable":{}},"f:type":{}},"f:template":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{"k:{\\"name\\":\\"nginx\\"}":{".":{},"f:image":{},"f:imagePullPolicy":{},"f:name":{},"f:resources":{},"f:terminationMessagePath":{},"f:terminationMessagePolicy":{}}},"f:dnsPolicy":{},"f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{},"f:terminationGracePeriodSeconds":{}}}}}';

const containers = [...pathOf('spec', 'template', 'spec', 'containers')];
const nginx = [...containers, pe.key({ name: 'nginx' })];

describe('FieldsV1', () => {
  it('round-trips an API server fieldsV1 byte for byte', () => {
    const s = FieldSet.fromFieldsV1(JSON.parse(KUBECTL_CREATE_DEPLOYMENT));
    assert.equal(JSON.stringify(s.toFieldsV1()), KUBECTL_CREATE_DEPLOYMENT);
    assert.equal(JSON.stringify(FieldSet.fromFieldsV1(KUBECTL_CREATE_DEPLOYMENT).toFieldsV1()), KUBECTL_CREATE_DEPLOYMENT);
  });

  it('reads "." as the element itself being owned, {} as a leaf', () => {
    const s = FieldSet.fromFieldsV1(JSON.parse(KUBECTL_CREATE_DEPLOYMENT));
    assert.ok(s.has(pathOf('metadata', 'labels')));
    assert.ok(s.has(pathOf('metadata', 'labels', 'app')));
    assert.ok(!s.has(pathOf('metadata')), 'f:metadata has no "." so it is not owned itself');
    assert.ok(s.has(nginx));
    assert.ok(s.has([...nginx, pe.field('image')]));
    assert.ok(!s.has(containers));
    assert.ok(s.has(pathOf('spec', 'template', 'spec', 'securityContext')));
    assert.equal(s.size(), 24);
  });

  it('writes "." first for an owned element that has children, and sorts keys as upstream', () => {
    const s = FieldSet.of(
      [...nginx, pe.field('ports'), pe.key({ protocol: 'TCP', containerPort: 80 }), pe.field('containerPort')],
      [...nginx, pe.field('ports'), pe.key({ protocol: 'TCP', containerPort: 80 })],
      [...nginx, pe.field('image')],
      nginx,
      pathOf('metadata', 'finalizers').concat(pe.value('b')),
      pathOf('metadata', 'finalizers').concat(pe.value('a')),
    );
    assert.deepEqual(s.toFieldsV1(), {
      'f:metadata': { 'f:finalizers': { 'v:"a"': {}, 'v:"b"': {} } },
      'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': {
        '.': {}, 'f:image': {}, 'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
      } } } } },
    });
    const json = JSON.stringify(s.toFieldsV1());
    assert.ok(json.includes('"k:{\\"name\\":\\"nginx\\"}":{".":{},"f:image":{},"f:ports"'));
  });

  it('rejects malformed input', () => {
    assert.throws(() => FieldSet.fromFieldsV1({ 'x:y': {} }), /unknown path element type/);
    assert.throws(() => FieldSet.fromFieldsV1({ 'f:a': 1 }), /must be an object/);
    assert.throws(() => FieldSet.fromFieldsV1({ 'k:[1]': {} }), /invalid key/);
    assert.throws(() => FieldSet.fromFieldsV1([]), /must be a JSON object/);
    assert.ok(FieldSet.fromFieldsV1(undefined).isEmpty());
  });
});

describe('path elements', () => {
  it('serializes field, key, value and index elements', () => {
    assert.equal(serializePathElement(pe.field('image')), 'f:image');
    assert.equal(serializePathElement(pe.key({ protocol: 'TCP', containerPort: 80 })), 'k:{"containerPort":80,"protocol":"TCP"}');
    assert.equal(serializePathElement(pe.value('x')), 'v:"x"');
    assert.equal(serializePathElement(pe.value(5)), 'v:5');
    assert.equal(serializePathElement(pe.index(0)), 'i:0');
    // Go's encoding/json escapes HTML characters
    assert.equal(serializePathElement(pe.value('a<b&c')), 'v:"a\\u003cb\\u0026c"');
  });

  it('parses keys into sorted key fields', () => {
    const p = parsePathElement('k:{"protocol":"UDP","containerPort":53}');
    assert.equal(serializePathElement(p), 'k:{"containerPort":53,"protocol":"UDP"}');
    assert.deepEqual(parsePathElement('i:3'), pe.index(3));
    assert.deepEqual(parsePathElement('v:{"a":1}'), pe.value({ a: 1 }));
    assert.deepEqual(parsePathElement('f:a:b'), pe.field('a:b'));
  });

  it('orders fields before keys before values before indexes', () => {
    const sorted = [pe.index(1), pe.value('a'), pe.key({ name: 'b' }), pe.field('z'), pe.key({ name: 'a' }), pe.field('a'), pe.value(2)]
      .sort(comparePathElements).map(serializePathElement);
    assert.deepEqual(sorted, ['f:a', 'f:z', 'k:{"name":"a"}', 'k:{"name":"b"}', 'v:2', 'v:"a"', 'i:1']);
    // numbers by value, not text
    assert.equal(comparePathElements(pe.key({ port: 80 }), pe.key({ port: 8080 })), -1);
    assert.equal(comparePathElements(pe.key({ port: 9 }), pe.key({ port: 10 })), -1);
  });

  it('renders paths as conflict messages do', () => {
    assert.equal(pathToString([...nginx, pe.field('image')]), '.spec.template.spec.containers[name="nginx"].image');
    assert.equal(pathToString([pe.field('ports'), pe.key({ protocol: 'TCP', containerPort: 80 })]), '.ports[containerPort=80,protocol="TCP"]');
    assert.equal(pathToString([...pathOf('metadata', 'finalizers'), pe.value('x')]), '.metadata.finalizers[="x"]');
    assert.equal(pathToString([pe.field('args'), pe.index(2)]), '.args[2]');
  });

  it('writes JSON and quotes strings as Go does', () => {
    assert.equal(goJSON({ b: 1, a: ['<', null], c: { z: true, y: 'é' } }), '{"a":["\\u003c",null],"b":1,"c":{"y":"é","z":true}}');
    assert.equal(goQuote('a"b\\c\n\x01é'), '"a\\"b\\\\c\\n\\x01é"');
  });
});

describe('FieldSet operations', () => {
  const a = FieldSet.of(pathOf('spec', 'replicas'), pathOf('spec', 'paused'), pathOf('metadata', 'labels', 'app'));
  const b = FieldSet.of(pathOf('spec', 'replicas'), pathOf('metadata', 'labels', 'tier'));

  it('union, intersection, difference', () => {
    assert.deepEqual(a.union(b).paths().map(pathToString), ['.metadata.labels.app', '.metadata.labels.tier', '.spec.paused', '.spec.replicas']);
    assert.deepEqual(a.intersection(b).paths().map(pathToString), ['.spec.replicas']);
    assert.deepEqual(a.difference(b).paths().map(pathToString), ['.metadata.labels.app', '.spec.paused']);
    assert.ok(a.difference(a).isEmpty());
    assert.ok(a.union(b).difference(b).equals(a.difference(b)));
    // operations do not change their inputs
    assert.equal(a.size(), 3);
    assert.equal(b.size(), 2);
  });

  it('difference keeps paths below a removed member; recursiveDifference drops them', () => {
    const s = FieldSet.of(pathOf('status'), pathOf('status', 'replicas'), pathOf('spec', 'replicas'));
    const status = FieldSet.of(pathOf('status'));
    assert.deepEqual(s.difference(status).paths().map(pathToString), ['.spec.replicas', '.status.replicas']);
    assert.deepEqual(s.recursiveDifference(status).paths().map(pathToString), ['.spec.replicas']);
  });

  it('has, isEmpty and iteration order (members of a level, then its children)', () => {
    const s = FieldSet.of(pathOf('spec', 'template', 'spec', 'containers'), pathOf('spec', 'replicas'), pathOf('spec'));
    assert.ok(s.has(pathOf('spec')));
    assert.ok(!s.has(pathOf('spec', 'template')));
    assert.ok(!s.has([]));
    assert.ok(new FieldSet().isEmpty());
    assert.deepEqual(s.paths().map(pathToString), ['.spec', '.spec.replicas', '.spec.template.spec.containers']);
  });
});
