import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  decodeProtobufMessage, decodeProtobufObject, formatTime, goDuration, isProtobufBody,
  ProtobufDecodeError, ProtobufUnsupportedKindError,
} from './decode.js';

// ---------------------------------------------------------------------------------------------
// Fixtures: request bodies captured from real kubectl 1.32 (scripts/capture-kubectl-protobuf.mjs),
// next to the JSON `--dry-run=client -o json` prints for the same command.
// ---------------------------------------------------------------------------------------------

/** Fixtures live in the source tree; find them from src/ or from any outDir. */
function fixturesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    for (const c of [join(dir, 'fixtures'), join(dir, 'src', 'apimachinery', 'protobuf', 'fixtures')]) {
      try {
        if (readdirSync(c).some((f) => f.endsWith('.bin'))) return c;
      } catch { /* next */ }
    }
    dir = dirname(dir);
  }
  throw new Error('protobuf fixtures not found');
}
const FIXTURES = fixturesDir();
const bin = (name: string) => readFileSync(join(FIXTURES, `${name}.bin`));

/** JSON as client-go writes it, minus nulls (`creationTimestamp: null` means absent). */
function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, withoutNulls(x)]));
  }
  return v;
}

const CREATE_FIXTURES = [
  'deployment', 'configmap', 'secret', 'namespace', 'quota', 'service', 'job', 'cronjob', 'role', 'rolebinding',
  'clusterrole', 'clusterrolebinding', 'serviceaccount', 'ingress', 'pdb', 'priorityclass',
];

for (const name of CREATE_FIXTURES) {
  test(`kubectl create ${name}: protobuf body decodes to the JSON kubectl would send`, () => {
    const body = bin(name);
    assert.ok(isProtobufBody(body));
    const want = withoutNulls(JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8'))) as Record<string, unknown>;
    const got = decodeProtobufObject(body);
    assert.equal(got.apiVersion, want.apiVersion);
    assert.equal(got.kind, want.kind);
    assert.deepEqual(got.object, want);
    assert.deepEqual(Object.keys(got.object).slice(0, 2), ['apiVersion', 'kind']);
  });
}

test('fixture details: pointer zero kept, non-pointer zeros dropped, bytes as base64', () => {
  const d = decodeProtobufObject(bin('deployment')).object;
  assert.equal(d.spec.replicas, 0); // *int32 set to 0 by --replicas=0
  assert.equal('paused' in d.spec, false); // bool false on the wire, omitempty in JSON
  assert.equal('minReadySeconds' in d.spec, false);
  assert.deepEqual(d.spec.strategy, {}); // non-pointer struct: present and empty
  assert.deepEqual(d.status, {});
  assert.equal('creationTimestamp' in d.metadata, false); // zero Time → JSON null → absent
  assert.deepEqual(d.spec.template.spec.containers, [{ name: 'nginx', image: 'nginx', resources: {} }]);

  assert.deepEqual(decodeProtobufObject(bin('secret')).object.data, { k: Buffer.from('v').toString('base64') });
  const svc = decodeProtobufObject(bin('service')).object;
  assert.equal(svc.spec.ports[0].targetPort, 8080); // IntOrString int
  assert.equal(svc.spec.ports[0].port, 80);
  const q = decodeProtobufObject(bin('quota')).object;
  assert.deepEqual(q.spec.hard, { cpu: '1', pods: '3' }); // map<string, Quantity>
});

test('kubectl auth can-i: SelfSubjectAccessReview', () => {
  const got = decodeProtobufObject(bin('can-i'));
  assert.deepEqual(got.object, {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    metadata: {},
    spec: { resourceAttributes: { namespace: 'default', verb: 'create', resource: 'pods' } },
    status: { allowed: false }, // `allowed` has no omitempty: client-go's JSON says false too
  });
});

test('kubectl auth can-i --list: SelfSubjectRulesReview', () => {
  assert.deepEqual(decodeProtobufObject(bin('can-i-list')).object, {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectRulesReview',
    metadata: {},
    spec: { namespace: 'default' },
    status: { incomplete: false },
  });
});

test('kubectl auth whoami: SelfSubjectReview', () => {
  assert.deepEqual(decodeProtobufObject(bin('whoami')).object, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'SelfSubjectReview',
    metadata: {},
    status: { userInfo: {} },
  });
});

test('kubectl create token: TokenRequest', () => {
  assert.deepEqual(decodeProtobufObject(bin('token')).object, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    metadata: {},
    spec: {},
    status: { token: '' }, // `token` has no omitempty; the zero expirationTimestamp is null
  });
});

// ---------------------------------------------------------------------------------------------
// Synthetic bodies for what the captured commands do not exercise. A tiny encoder, written the
// way gogo-protobuf lays messages out (every non-pointer field present).
// ---------------------------------------------------------------------------------------------

type Bytes = number[];
function varint(n: number | bigint): Bytes {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: Bytes = [];
  do {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v ? b | 0x80 : b);
  } while (v);
  return out;
}
const key = (f: number, wt: number) => varint(f * 8 + wt);
const vi = (f: number, n: number | bigint | boolean) => [...key(f, 0), ...varint(typeof n === 'boolean' ? (n ? 1 : 0) : n)];
const ld = (f: number, b: Bytes | Uint8Array) => [...key(f, 2), ...varint(b.length), ...b];
const s = (f: number, text: string) => ld(f, [...Buffer.from(text, 'utf8')]);
const m = (f: number, ...parts: Bytes[]) => ld(f, parts.flat());
const entry = (f: number, k: string, v: Bytes) => m(f, s(1, k), v);
const dbl = (f: number, x: number) => { const b = Buffer.alloc(8); b.writeDoubleLE(x); return [...key(f, 1), ...b]; };
const body = (apiVersion: string, kind: string, ...raw: Bytes[]) =>
  Buffer.from([0x6b, 0x38, 0x73, 0x00, ...m(1, s(1, apiVersion), s(2, kind)), ...ld(2, raw.flat()), ...s(3, ''), ...s(4, '')]);
/** An ObjectMeta as gogo writes it for {name}: every non-pointer field, zero Time included. */
const meta = (name: string, ...extra: Bytes[]) => m(1, s(1, name), s(2, ''), s(3, ''), s(4, ''), s(5, ''), s(6, ''), vi(7, 0), m(8), ...extra);

test('Pod: inline volume source, empty emptyDir, pointer "" kept, Time, Quantity, IntOrString string', () => {
  const container = m(2, s(1, 'c'), s(2, 'img'),
    m(8, entry(1, 'memory', m(2, s(1, '64Mi')))), // resources.limits
    m(6, s(1, 'http'), vi(2, 0), vi(3, 8080), s(4, 'TCP'), s(5, '')), // ports (hostPort 0 dropped)
    m(10, m(1, m(2, s(1, '/healthz'), m(2, vi(1, 1), vi(2, 0), s(3, 'http')), s(3, ''), s(4, ''))), vi(2, 0)), // livenessProbe.httpGet (inline handler)
    vi(16, false), vi(17, false)); // stdin/stdinOnce false
  const volume = m(1, s(1, 'scratch'), m(2, m(2, s(1, ''))));
  const pod = body('v1', 'Pod',
    meta('p', m(9, vi(1, 1_700_000_000))), // deletionTimestamp (pointer Time)
    m(2, volume, container, s(3, 'Always'), s(19, 'default-scheduler'), vi(25, 0)),
  );
  const o = decodeProtobufObject(pod).object;
  assert.equal(o.metadata.deletionTimestamp, '2023-11-14T22:13:20Z');
  assert.equal('generation' in o.metadata, false);
  assert.deepEqual(o.spec.volumes, [{ name: 'scratch', emptyDir: {} }]);
  assert.deepEqual(o.spec.containers[0].resources, { limits: { memory: '64Mi' } });
  assert.deepEqual(o.spec.containers[0].ports, [{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
  assert.deepEqual(o.spec.containers[0].livenessProbe.httpGet, { path: '/healthz', port: 'http' });
  assert.equal('stdin' in o.spec.containers[0], false);
  assert.equal(o.spec.restartPolicy, 'Always');
  assert.equal(o.spec.schedulerName, 'default-scheduler');
  assert.equal(o.spec.priority, 0); // *int32: kept

  const pvc = body('v1', 'PersistentVolumeClaim', meta('c'), m(2, s(5, ''), s(3, ''))); // storageClassName (*string) "", volumeName ""
  assert.deepEqual(decodeProtobufObject(pvc).object.spec, { storageClassName: '' });
});

test('ConfigMap binaryData and data maps; unknown fields are skipped', () => {
  const cm = body('v1', 'ConfigMap', meta('cm'),
    entry(2, 'a', s(2, 'b')),
    entry(3, 'bin', ld(2, [0, 1, 2, 255])),
    vi(99, 7), // not in the table
    ld(100, [1, 2, 3]));
  const o = decodeProtobufObject(cm).object;
  assert.deepEqual(o.data, { a: 'b' });
  assert.deepEqual(o.binaryData, { bin: Buffer.from([0, 1, 2, 255]).toString('base64') });
  assert.deepEqual(Object.keys(o), ['apiVersion', 'kind', 'metadata', 'data', 'binaryData']);
});

test('managedFields FieldsV1 and MicroTime; events.k8s.io Event', () => {
  const mf = m(17, s(1, 'kubectl'), s(2, 'Update'), s(3, 'v1'), m(4, vi(1, 1_700_000_000)), s(6, 'FieldsV1'),
    m(7, ld(1, [...Buffer.from('{"f:data":{".":{}}}')])), s(8, ''));
  const ev = body('events.k8s.io/v1', 'Event', meta('e', mf),
    m(2, vi(1, 1_700_000_000), vi(2, 123_456_789)), // eventTime MicroTime
    s(4, 'kubelet'), s(7, 'Started'), s(11, 'Normal'), vi(15, 0), // deprecatedCount 0 (non-pointer): dropped
  );
  const o = decodeProtobufObject(ev).object;
  assert.equal(o.eventTime, '2023-11-14T22:13:20.123456Z');
  assert.equal('deprecatedCount' in o, false);
  assert.equal(o.reportingController, 'kubelet');
  assert.equal(o.type, 'Normal');
  assert.deepEqual(o.metadata.managedFields, [{
    manager: 'kubectl', operation: 'Update', apiVersion: 'v1', time: '2023-11-14T22:13:20Z',
    fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { '.': {} } },
  }]);
});

test('ControllerRevision RawExtension: JSON raw, empty raw omitted', () => {
  const cr = body('apps/v1', 'ControllerRevision', meta('r'), m(2, ld(1, [...Buffer.from('{"spec":{"x":1}}')])), vi(3, 2));
  const o = decodeProtobufObject(cr).object;
  assert.deepEqual(o.data, { spec: { x: 1 } });
  assert.equal(o.revision, 2);
  const empty = decodeProtobufObject(body('apps/v1', 'ControllerRevision', meta('r'), m(2), vi(3, 0))).object;
  assert.equal('data' in empty, false);
  assert.equal(empty.revision, 0); // required: stays
});

test('SubjectAccessReview: ExtraValue arrays and repeated strings', () => {
  const sar = body('authorization.k8s.io/v1', 'SubjectAccessReview', meta(''),
    m(2, s(3, 'alice'), s(4, 'g1'), s(4, 'g2'), entry(5, 'scopes', m(2, s(1, 'a'), s(1, 'b'))), s(6, ''),
      m(2, s(1, '/healthz'), s(2, 'get'))),
    m(3, vi(1, false), vi(4, false), s(2, ''), s(3, '')));
  const o = decodeProtobufObject(sar).object;
  assert.deepEqual(o.spec, { user: 'alice', groups: ['g1', 'g2'], extra: { scopes: ['a', 'b'] }, nonResourceAttributes: { path: '/healthz', verb: 'get' } });
  assert.deepEqual(o.status, { allowed: false });
});

test('CustomResourceDefinition: JSONSchemaProps names, OrBool/OrArray, JSON default, pointers', () => {
  const str = m(2, s(1, ''), s(2, ''), s(4, ''), s(5, 'string'), s(6, ''), s(7, ''), m(8, ld(1, [...Buffer.from('"x"')])),
    vi(10, false), vi(12, false), vi(13, 0), s(15, ''), vi(18, false), vi(37, false), vi(39, false), vi(40, false));
  const root = m(1, s(1, ''), s(2, ''), s(3, '#/defs/x'), s(4, ''), s(5, 'object'), s(6, ''), s(7, ''),
    dbl(9, 1.5), vi(10, false), vi(12, false), s(15, ''), vi(18, false), vi(37, false),
    entry(29, 'name', str),
    m(30, vi(1, true)), // additionalProperties: true
    m(24, m(1, s(5, 'integer'), vi(10, false), vi(12, false), s(15, ''), vi(18, false), vi(37, false))), // items: schema
    vi(38, true), vi(39, false), vi(40, false), s(42, 'atomic'),
    m(44, s(1, 'self.a > 0'), s(2, ''), s(3, ''), s(5, '')));
  const crd = body('apiextensions.k8s.io/v1', 'CustomResourceDefinition', meta('foos.example.com'),
    m(2, s(1, 'example.com'), m(3, s(1, 'foos'), s(2, ''), s(4, 'Foo'), s(5, '')), s(4, 'Namespaced'),
      m(7, s(1, 'v1'), vi(2, true), vi(3, true), vi(7, false), m(4, root), m(5, m(1)), m(9, s(1, '.spec.x'))), vi(10, false)),
    m(3, m(2, s(1, ''), s(2, ''), s(4, ''), s(5, ''))));
  const o = decodeProtobufObject(crd).object;
  assert.deepEqual(o.spec, {
    group: 'example.com',
    names: { plural: 'foos', kind: 'Foo' },
    scope: 'Namespaced',
    versions: [{
      name: 'v1', served: true, storage: true,
      schema: {
        openAPIV3Schema: {
          $ref: '#/defs/x', type: 'object', maximum: 1.5,
          properties: { name: { type: 'string', default: 'x', maxLength: 0 } },
          additionalProperties: true,
          items: { type: 'integer' },
          'x-kubernetes-preserve-unknown-fields': true,
          'x-kubernetes-list-type': 'atomic',
          'x-kubernetes-validations': [{ rule: 'self.a > 0' }],
        },
      },
      subresources: { status: {} },
      selectableFields: [{ jsonPath: '.spec.x' }],
    }],
  });
  assert.deepEqual(o.status, { acceptedNames: { plural: '', kind: '' } }); // plural and kind are required
});

test('Eviction with DeleteOptions; DeleteOptions under any group version', () => {
  const ev = body('policy/v1', 'Eviction', meta('p'), m(2, vi(1, 0), m(2, s(1, 'uid-1')), s(4, 'Foreground'), s(5, 'All')));
  assert.deepEqual(decodeProtobufObject(ev).object.deleteOptions, {
    gracePeriodSeconds: 0, preconditions: { uid: 'uid-1' }, propagationPolicy: 'Foreground', dryRun: ['All'],
  });
  for (const apiVersion of ['apps/v1', 'v1', 'meta.k8s.io/v1']) {
    const d = decodeProtobufObject(body(apiVersion, 'DeleteOptions', vi(3, true)));
    assert.deepEqual(d.object, { apiVersion, kind: 'DeleteOptions', orphanDependents: true });
  }
});

test('Scale (autoscaling/v1), TokenRequest with audiences, packed and repeated merges', () => {
  assert.deepEqual(decodeProtobufObject(body('autoscaling/v1', 'Scale', meta('d'), m(2, vi(1, 3)), m(3, vi(1, 0), s(2, '')))).object,
    { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'd' }, spec: { replicas: 3 }, status: { replicas: 0 } });
  const tr = body('authentication.k8s.io/v1', 'TokenRequest', meta(''),
    m(2, s(1, 'api'), s(1, 'vault'), vi(4, 3600)), m(2, m(3, s(1, 'Pod'), s(2, 'v1'), s(3, 'p'), s(4, 'u'))), m(3, s(1, ''), m(2)));
  const o = decodeProtobufObject(tr).object;
  // The two spec occurrences merge, as protobuf requires.
  assert.deepEqual(o.spec, { audiences: ['api', 'vault'], expirationSeconds: 3600, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p', uid: 'u' } });
  // Packed repeated int32 (PodSecurityContext.supplementalGroups is int64): both encodings.
  const packed = body('v1', 'Pod', meta('p'), m(2, m(14, ld(4, [...varint(1000), ...varint(2000)]), vi(4, 3000))));
  assert.deepEqual(decodeProtobufObject(packed).object.spec.securityContext.supplementalGroups, [1000, 2000, 3000]);
});

test('Secret type and immutable; required empty strings stay', () => {
  const sec = body('v1', 'Secret', meta('s'), s(3, 'Opaque'), vi(5, false));
  assert.deepEqual(decodeProtobufObject(sec).object, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, type: 'Opaque', immutable: false });
  // RoleRef fields are required (no omitempty): "" stays, as in client-go's JSON.
  const rb = body('rbac.authorization.k8s.io/v1', 'RoleBinding', meta('rb'), m(3, s(1, ''), s(2, 'Role'), s(3, 'r')));
  assert.deepEqual(decodeProtobufObject(rb).object.roleRef, { apiGroup: '', kind: 'Role', name: 'r' });
});

test('unknown kinds → ProtobufUnsupportedKindError (415)', () => {
  for (const [apiVersion, kind] of [['v1', 'Frobnicator'], ['example.com/v1', 'Foo'], ['apps/v2', 'Deployment']]) {
    assert.throws(() => decodeProtobufObject(body(apiVersion!, kind!, meta('x'))), (e: unknown) => {
      assert.ok(e instanceof ProtobufUnsupportedKindError);
      assert.equal(e.code, 415);
      assert.equal(e.reason, 'UnsupportedMediaType');
      assert.match(e.message, new RegExp(kind!));
      return true;
    });
  }
});

test('malformed bodies → ProtobufDecodeError (400)', () => {
  const good = bin('deployment');
  const cases: Buffer[] = [
    Buffer.from('{"kind":"Pod"}'), // no magic
    Buffer.from([0x6b, 0x38, 0x73, 0x00]), // empty envelope: no kind
    good.subarray(0, good.length - 20), // truncated
    Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x7f, 0x01]), // length past the end
    body('v1', 'Secret', vi(1, 5)), // metadata with a varint wire type
    body('v1', 'Secret', meta('s'), vi(3, 1)), // type (string) as a varint
    body('apps/v1', 'ControllerRevision', meta('r'), m(2, ld(1, [...Buffer.from('{not json')]))),
    Buffer.from([0x6b, 0x38, 0x73, 0x00, ...m(1, s(1, 'v1'), s(2, 'Secret')), ...ld(2, []), ...s(3, 'gzip')]),
  ];
  for (const c of cases) {
    assert.throws(() => decodeProtobufObject(c), (e: unknown) => {
      assert.ok(e instanceof ProtobufDecodeError, `${String(e)} for ${c.toString('hex')}`);
      assert.equal(e.code, 400);
      assert.equal(e.reason, 'BadRequest');
      return true;
    });
  }
  assert.equal(isProtobufBody(Buffer.from('{}')), false);
  assert.equal(isProtobufBody(Buffer.from([0x6b, 0x38, 0x73])), false);
});

test('special messages on their own: Time, IntOrString, Quantity, Duration', () => {
  assert.equal(decodeProtobufMessage(Uint8Array.from([]), 'k8s.io.apimachinery.pkg.apis.meta.v1.Time'), undefined);
  assert.equal(decodeProtobufMessage(Uint8Array.from(vi(1, 0)), 'k8s.io.apimachinery.pkg.util.intstr.IntOrString'), 0);
  assert.equal(decodeProtobufMessage(Uint8Array.from([...vi(1, 1), ...s(3, '50%')]), 'k8s.io.apimachinery.pkg.util.intstr.IntOrString'), '50%');
  assert.equal(decodeProtobufMessage(Uint8Array.from(vi(1, -5)), 'k8s.io.apimachinery.pkg.util.intstr.IntOrString'), 0);
  assert.equal(decodeProtobufMessage(Uint8Array.from([...vi(1, 0), ...vi(2, -5)]), 'k8s.io.apimachinery.pkg.util.intstr.IntOrString'), -5);
  assert.equal(decodeProtobufMessage(Uint8Array.from(s(1, '500m')), 'k8s.io.apimachinery.pkg.api.resource.Quantity'), '500m');
  assert.equal(decodeProtobufMessage(Uint8Array.from(vi(1, 90_000_000_000)), 'k8s.io.apimachinery.pkg.apis.meta.v1.Duration'), '1m30s');
  assert.equal(formatTime(0, 0), '1970-01-01T00:00:00.000000Z');
  assert.equal(formatTime(-1), '1969-12-31T23:59:59Z');
  for (const [ns, want] of [
    [0n, '0s'], [1n, '1ns'], [1500n, '1.5µs'], [2_000_000n, '2ms'], [1_500_000_000n, '1.5s'], [3_600_000_000_000n, '1h0m0s'],
    [5_400_000_000_000n, '1h30m0s'], [-61_000_000_000n, '-1m1s'], [100_000_000_001n, '1m40.000000001s'],
  ] as const) assert.equal(goDuration(ns), want);
});

test('corrupted fixtures only ever fail with the two typed errors', () => {
  let seed = 20240601;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (const f of readdirSync(FIXTURES).filter((x) => x.endsWith('.bin'))) {
    const good = readFileSync(join(FIXTURES, f));
    for (let i = 0; i < 300; i++) {
      const c = Buffer.from(good);
      for (let j = 0; j < 1 + Math.floor(rnd() * 3); j++) c[4 + Math.floor(rnd() * (c.length - 4))] = Math.floor(rnd() * 256);
      const input = rnd() < 0.25 ? c.subarray(0, Math.floor(rnd() * c.length)) : c;
      try {
        decodeProtobufObject(input);
      } catch (e) {
        assert.ok(e instanceof ProtobufDecodeError || e instanceof ProtobufUnsupportedKindError, `${f}: ${String(e)}`);
      }
    }
  }
});
