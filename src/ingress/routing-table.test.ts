/**
 * The routing decision without any network: host and wildcard matching, the path types and
 * their precedence (the table of the Kubernetes Ingress documentation), default backends,
 * merging and conflicts between Ingresses, backend resolution through Services and
 * EndpointSlices, TLS certificates by SNI, and which Ingresses are served.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import type { IngressClass } from 'kubernetes-types/networking/v1.js';
import { normalizeHost, type RoutingTable } from './routing-table.js';
import { resolveBackend } from './backends.js';
import { ClassSelector, CONTROLLER_NAME, DEFAULT_CLASS_ANNOTATION, LEGACY_CLASS_ANNOTATION } from './ingress-class.js';
import { endpointSlice, ingress, lookupFrom, path, rule, service, tableFor, testCA, tlsSecret, type TestCA } from './testing.js';

/** The service a request is routed to ('404' when nothing answers it). */
const where = (t: RoutingTable, host: string, p: string) => t.route(host, p).backend?.key.replace(/^default\//, '').replace(/:.*$/, '') ?? '404';

test('normalizeHost: case, port, IPv6 literal, trailing dot', () => {
  for (const [raw, want] of [
    ['Foo.Example.COM', 'foo.example.com'], ['foo.example.com:8080', 'foo.example.com'], ['foo.example.com.', 'foo.example.com'],
    ['[::1]:443', '[::1]'], ['10.0.0.1:80', '10.0.0.1'], ['', ''], [undefined, ''],
  ] as const) assert.equal(normalizeHost(raw), want, String(raw));
});

test('hosts: exact (any case, with a port), one-label wildcard, catch-all, most specific wins', () => {
  const t = tableFor([ingress('i', {
    rules: [rule('foo.example.com', path('/', 'exact', 80)), rule('*.example.com', path('/', 'wild', 80)), rule(undefined, path('/', 'any', 80))],
  })]);
  const cases: Array<[string, string]> = [
    ['foo.example.com', 'exact'], ['FOO.Example.com:8443', 'exact'], ['foo.example.com.', 'exact'],
    ['bar.example.com', 'wild'], ['example.com', 'any'], ['a.bar.example.com', 'any'], ['.example.com', 'any'],
    ['other.org', 'any'], ['10.1.2.3', 'any'], ['', 'any'],
  ];
  for (const [host, want] of cases) assert.equal(where(t, host, '/x'), want, host);
});

test('hosts: a matched host does not fall through to catch-all rules (default backend instead)', () => {
  const t = tableFor([ingress('i', { rules: [rule('foo.com', path('/api', 'api', 80)), rule(undefined, path('/', 'any', 80))] })]);
  assert.equal(where(t, 'foo.com', '/api/v1'), 'api');
  assert.equal(where(t, 'foo.com', '/'), '404');
  assert.equal(where(t, 'bar.com', '/'), 'any');
  // A rule with a host and no paths claims the host too.
  const t2 = tableFor([ingress('i', { rules: [{ host: 'empty.com' }, rule(undefined, path('/', 'any', 80))] })]);
  assert.equal(where(t2, 'empty.com', '/'), '404');
});

test('paths: the match table of the Kubernetes Ingress documentation', () => {
  // [kind, rule paths, request path, matched rule path or null]
  const cases: Array<[string, string[], string, string | null]> = [
    ['Prefix', ['/'], '/anything/at/all', '/'],
    ['Exact', ['/foo'], '/foo', '/foo'],
    ['Exact', ['/foo'], '/bar', null],
    ['Exact', ['/foo'], '/foo/', null],
    ['Exact', ['/foo/'], '/foo', null],
    ['Prefix', ['/foo'], '/foo', '/foo'],
    ['Prefix', ['/foo'], '/foo/', '/foo'],
    ['Prefix', ['/foo/'], '/foo', '/foo/'],
    ['Prefix', ['/foo/'], '/foo/', '/foo/'],
    ['Prefix', ['/aaa/bb'], '/aaa/bbb', null],
    ['Prefix', ['/aaa/bbb'], '/aaa/bbb', '/aaa/bbb'],
    ['Prefix', ['/aaa/bbb/'], '/aaa/bbb', '/aaa/bbb/'],
    ['Prefix', ['/aaa/bbb'], '/aaa/bbb/', '/aaa/bbb'],
    ['Prefix', ['/aaa/bbb'], '/aaa/bbb/ccc', '/aaa/bbb'],
    ['Prefix', ['/aaa/bbb'], '/aaa/bbbxyz', null],
    ['Prefix', ['/', '/aaa'], '/aaa/ccc', '/aaa'],
    ['Prefix', ['/', '/aaa', '/aaa/bbb'], '/aaa/bbb', '/aaa/bbb'],
    ['Prefix', ['/', '/aaa', '/aaa/bbb'], '/ccc', '/'],
    ['Prefix', ['/aaa'], '/ccc', null],
    ['ImplementationSpecific', ['/foo'], '/foo/bar', '/foo'],
    ['ImplementationSpecific', ['/foo'], '/foobar', null],
    ['Exact', ['/Foo'], '/foo', null],
  ];
  for (const [kind, paths, req, want] of cases) {
    const t = tableFor([ingress('i', { rules: [rule('h', ...paths.map((p, i) => path(p, `s${i}`, 80, kind)))] })]);
    const r = t.route('h', req);
    assert.equal(r.route?.path ?? null, want, `${kind} ${paths.join(',')} ← ${req}`);
  }
});

test('precedence: longest path wins; Exact before Prefix on equal length; order in the Ingress does not matter', () => {
  const t = tableFor([ingress('i', {
    rules: [rule('h', path('/', 'root', 80), path('/foo', 'foo-prefix', 80), path('/foo', 'foo-exact', 80, 'Exact'), path('/foo/bar', 'foobar', 80), path('/foo/', 'dup', 80))],
  })]);
  assert.equal(where(t, 'h', '/foo'), 'foo-exact');
  assert.equal(where(t, 'h', '/foo/'), 'foo-prefix');
  assert.equal(where(t, 'h', '/foo/baz'), 'foo-prefix');
  assert.equal(where(t, 'h', '/foo/bar/baz'), 'foobar');
  assert.equal(where(t, 'h', '/fo'), 'root');
  // `/foo/` is the same Prefix as `/foo`: the first one listed keeps it.
  assert.deepEqual(t.conflicts, []);
  assert.equal(t.dump()[0].routes.filter((r) => r.backend.startsWith('default/dup')).length, 0);
});

test('merging: rules of several Ingresses per host; the oldest wins a conflict whatever the order given', () => {
  const young = ingress('young', { rules: [rule('h', path('/a', 'young-a', 80), path('/y', 'young-only', 80))] }, { age: 20 });
  const old = ingress('old', { rules: [rule('h', path('/a', 'old-a', 80)), rule('h', path('/o', 'old-only', 80))] }, { age: 10 });
  for (const order of [[young, old], [old, young]]) {
    const t = tableFor(order);
    assert.equal(where(t, 'h', '/a'), 'old-a');
    assert.equal(where(t, 'h', '/y'), 'young-only');
    assert.equal(where(t, 'h', '/o'), 'old-only');
    assert.deepEqual(t.conflicts.map((c) => [c.ingress, c.winner]), [['default/young', 'default/old']]);
    assert.deepEqual(t.ingresses, ['default/old', 'default/young']);
  }
  // Same creation time: namespace/name decides.
  const a = ingress('a', { rules: [rule('h', path('/', 'from-a', 80))] }, { age: 5 });
  const b = ingress('b', { rules: [rule('h', path('/', 'from-b', 80))] }, { age: 5 });
  assert.equal(where(tableFor([b, a]), 'h', '/'), 'from-a');
});

test('default backend: from the oldest served Ingress that has one; otherwise none (404)', () => {
  const withDefault = (name: string, svc: string, age: number) => ingress(name, { defaultBackend: { service: { name: svc, port: { number: 80 } } } }, { age });
  const t = tableFor([withDefault('b', 'def-b', 2), withDefault('a', 'def-a', 1), ingress('c', { rules: [rule('h', path('/x', 'x', 80))] })]);
  assert.equal(where(t, 'nowhere', '/'), 'def-a');
  assert.equal(where(t, 'h', '/y'), 'def-a');
  assert.equal(where(t, 'h', '/x'), 'x');
  assert.equal(t.conflicts.length, 1);
  assert.equal(where(tableFor([ingress('c', { rules: [rule('h', path('/x', 'x', 80))] })]), 'nowhere', '/'), '404');
});

test('backends: Service port by number or name → ready endpoints, slice port matched by name', () => {
  const services = [
    service('web', [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'admin', port: 9000, targetPort: 'admin' }]),
    service('plain', [{ port: 81, targetPort: 8081 }]),
    service('dns', [{ name: 'dns', port: 53, protocol: 'UDP' }]),
    { ...service('ext', []), spec: { type: 'ExternalName', externalName: 'example.com' } },
  ];
  const slices = [
    endpointSlice('web-1', 'web', [{ name: 'http', port: 8080 }, { name: 'admin', port: 9090 }], ['10.0.0.2', { ip: '10.0.0.3', ready: false }, '10.0.0.1']),
    endpointSlice('web-2', 'web', [{ name: 'http', port: 8080 }], ['10.0.0.1', '10.0.0.4']),
    endpointSlice('plain-1', 'plain', [{ port: 8081 }], ['10.0.1.1']),
    endpointSlice('other-ns', 'web', [{ name: 'http', port: 8080 }], ['10.9.9.9'], 'elsewhere'),
  ];
  // An endpoint without a ready condition counts as ready.
  slices[2].endpoints!.push({ addresses: ['10.0.1.2'] });
  const lookup = lookupFrom(services, slices);
  const eps = (ns: string, svc: string, port: number | string) => {
    const b = resolveBackend(lookup, ns, { service: { name: svc, port: typeof port === 'number' ? { number: port } : { name: port } } });
    return b.endpoints.length ? b.endpoints.map((e) => `${e.ip}:${e.port}`).join(' ') : `problem: ${b.problem}`;
  };
  assert.equal(eps('default', 'web', 80), '10.0.0.1:8080 10.0.0.2:8080 10.0.0.4:8080');
  assert.equal(eps('default', 'web', 'http'), '10.0.0.1:8080 10.0.0.2:8080 10.0.0.4:8080');
  assert.equal(eps('default', 'web', 'admin'), '10.0.0.1:9090 10.0.0.2:9090');
  assert.equal(eps('default', 'plain', 81), '10.0.1.1:8081 10.0.1.2:8081');
  assert.match(eps('default', 'web', 8080), /has no port 8080/);
  assert.match(eps('default', 'web', 'metrics'), /has no port metrics/);
  assert.match(eps('default', 'missing', 80), /service default\/missing not found/);
  assert.match(eps('elsewhere', 'web', 80), /not found/);
  assert.match(eps('default', 'dns', 53), /UDP, not TCP/);
  assert.match(eps('default', 'ext', 80), /ExternalName/);
  const empty = resolveBackend(lookupFrom([service('idle', [{ port: 80 }])], []), 'default', { service: { name: 'idle', port: { number: 80 } } });
  assert.deepEqual(empty.endpoints, []);
  assert.match(empty.problem!, /no ready endpoints/);
  const res = resolveBackend(lookup, 'default', { resource: { apiGroup: 'k8s.example.com', kind: 'StorageBucket', name: 'b' } });
  assert.match(res.problem!, /resource backends/);
});

test('backends are resolved in the Ingress\'s own namespace', () => {
  const t = tableFor(
    [ingress('i', { rules: [rule('h', path('/', 'web', 80))] }, { ns: 'team-a' })],
    [service('web', [{ port: 80 }], 'team-a'), service('web', [{ port: 80 }], 'default')],
    [endpointSlice('w', 'web', [{ port: 8080 }], ['10.1.0.1'], 'team-a'), endpointSlice('w', 'web', [{ port: 8080 }], ['10.2.0.1'], 'default')],
  );
  assert.deepEqual(t.route('h', '/').backend?.endpoints, [{ ip: '10.1.0.1', port: 8080 }]);
  assert.equal(t.route('h', '/').backend?.key, 'team-a/web:80');
});

let ca: TestCA;
before(async () => { ca = await testCA(); });

test('TLS: certificates by SNI (exact, one-label wildcard), hostless entries cover the rule hosts, redirects only where a certificate loads', async () => {
  const foo = await ca.issue('foo.example.com');
  const wild = await ca.issue('*.example.com');
  const app = await ca.issue('app.test');
  const secrets = [tlsSecret('foo-tls', foo.certPem, foo.keyPem), tlsSecret('wild-tls', wild.certPem, wild.keyPem), tlsSecret('app-tls', app.certPem, app.keyPem),
    { ...tlsSecret('broken', 'not a certificate', 'nor a key') }, tlsSecret('mismatch', foo.certPem, wild.keyPem)];
  const t = tableFor([
    ingress('a', {
      tls: [{ hosts: ['foo.example.com'], secretName: 'foo-tls' }, { hosts: ['*.example.com'], secretName: 'wild-tls' },
        { hosts: ['broken.test'], secretName: 'broken' }, { hosts: ['mismatch.test'], secretName: 'mismatch' }, { hosts: ['missing.test'], secretName: 'nope' }],
      rules: [rule('foo.example.com', path('/', 'foo', 80))],
    }, { age: 1 }),
    ingress('b', { tls: [{ secretName: 'app-tls' }], rules: [rule('app.test', path('/', 'app', 80)), rule('other.test', path('/', 'other', 80))] }, { age: 2 }),
  ], [], [], secrets);
  assert.equal(t.certificate('foo.example.com')?.secret, 'default/foo-tls');
  assert.equal(t.certificate('FOO.example.com')?.secret, 'default/foo-tls');
  assert.equal(t.certificate('bar.example.com')?.secret, 'default/wild-tls');
  assert.equal(t.certificate('a.bar.example.com'), undefined);
  assert.equal(t.certificate('example.com'), undefined);
  assert.equal(t.certificate('app.test')?.secret, 'default/app-tls');
  assert.equal(t.certificate('other.test')?.secret, 'default/app-tls');
  for (const h of ['broken.test', 'mismatch.test', 'missing.test', 'unknown.test']) {
    assert.equal(t.certificate(h), undefined, h);
    assert.equal(t.redirectsToHTTPS(h), false, h);
  }
  assert.equal(t.redirectsToHTTPS('foo.example.com:80'), true);
  assert.equal(t.redirectsToHTTPS('x.example.com'), true);

  // The oldest Ingress keeps a TLS host; a Secret that cannot load leaves it to the next one.
  const t2 = tableFor([
    ingress('young', { tls: [{ hosts: ['foo.example.com'], secretName: 'wild-tls' }, { hosts: ['b.test'], secretName: 'app-tls' }] }, { age: 9 }),
    ingress('old', { tls: [{ hosts: ['foo.example.com'], secretName: 'foo-tls' }, { hosts: ['b.test'], secretName: 'broken' }] }, { age: 1 }),
  ], [], [], secrets);
  assert.equal(t2.certificate('foo.example.com')?.secret, 'default/foo-tls');
  assert.equal(t2.certificate('b.test')?.secret, 'default/app-tls');
  assert.deepEqual(t2.conflicts.map((c) => c.what), ['the TLS certificate of foo.example.com']);
});

test('IngressClass selection: class name, legacy annotation, default class (newest default wins)', () => {
  const cls = (name: string, controller: string, isDefault = false, age = 0): IngressClass => ({
    metadata: { name, creationTimestamp: new Date(Date.UTC(2024, 0, 1) + age * 1000).toISOString(), ...(isDefault ? { annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' } } : {}) },
    spec: { controller },
  });
  const named = (c?: string) => ingress('i', { ...(c ? { ingressClassName: c } : {}) });
  const legacy = (c: string) => ingress('i', {}, { annotations: { [LEGACY_CLASS_ANNOTATION]: c } });
  const s = new ClassSelector([cls('keelson', CONTROLLER_NAME, true, 1), cls('mine-too', CONTROLLER_NAME), cls('nginx', 'k8s.io/ingress-nginx')]);
  assert.deepEqual(s.classNames, ['keelson', 'mine-too']);
  assert.equal(s.serves(named('keelson')), true);
  assert.equal(s.serves(named('mine-too')), true);
  assert.equal(s.serves(named('nginx')), false);
  assert.equal(s.serves(named('absent')), false);
  assert.equal(s.serves(named()), true);
  assert.equal(s.serves(legacy('keelson')), true);
  assert.equal(s.serves(legacy('nginx')), false);
  // Not the default: classless Ingresses are someone else's (or nobody's).
  assert.equal(new ClassSelector([cls('keelson', CONTROLLER_NAME)]).serves(named()), false);
  assert.equal(new ClassSelector([]).serves(named()), false);
  // Two defaults: the newest is the default (DefaultIngressClass admission since 1.30).
  assert.equal(new ClassSelector([cls('keelson', CONTROLLER_NAME, true, 1), cls('nginx', 'k8s.io/ingress-nginx', true, 2)]).serves(named()), false);
  assert.equal(new ClassSelector([cls('keelson', CONTROLLER_NAME, true, 3), cls('nginx', 'k8s.io/ingress-nginx', true, 2)]).serves(named()), true);
  // Annotation value other than "true" does not make a default.
  const notDefault = cls('keelson', CONTROLLER_NAME);
  notDefault.metadata!.annotations = { [DEFAULT_CLASS_ANNOTATION]: 'false' };
  assert.equal(new ClassSelector([notDefault]).serves(named()), false);
});
