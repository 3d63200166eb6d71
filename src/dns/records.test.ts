import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Answer } from 'dns-packet';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { fixtureView, slice, svc } from './testing.js';
import { resolve, resolverOptions, DNS_SCHEMA_VERSION, type ResolverOptions } from './records.js';
import { reverseName } from './ip.js';

/** "TYPE data" strings of a section, for compact expectations. */
function fmt(records: Answer[]): string[] {
  return records.map((r) => {
    const d = (r as { data: unknown }).data;
    if (r.type === 'SRV') {
      const s = d as { priority: number; weight: number; port: number; target: string };
      return `SRV ${s.port} ${s.target}`;
    }
    if (r.type === 'SOA') return `SOA ${(d as { mname: string }).mname}`;
    if (r.type === 'TXT') return `TXT ${Array.isArray(d) ? d.join('') : String(d)}`;
    return `${r.type} ${String(d)}`;
  });
}

interface Case {
  name: string;
  q: string;
  type?: string;
  opts?: Partial<ResolverOptions>;
  rcode?: string;
  answers?: string[];
  additionals?: string[];
  /** Whether the authority section carries the zone's SOA (negative answers). */
  soa?: boolean;
  forward?: boolean;
  chase?: string;
}

const Z = 'cluster.local';
const cases: Case[] = [
  { name: 'ClusterIP A', q: `fortune.default.svc.${Z}`, answers: ['A 10.96.0.20'] },
  { name: 'case-insensitive name', q: 'FORTUNE.Default.SVC.Cluster.Local', answers: ['A 10.96.0.20'] },
  { name: 'trailing dot', q: `fortune.default.svc.${Z}.`, answers: ['A 10.96.0.20'] },
  { name: 'ClusterIP AAAA is NODATA', q: `fortune.default.svc.${Z}`, type: 'AAAA', answers: [], soa: true },
  { name: 'ClusterIP TXT is NODATA', q: `fortune.default.svc.${Z}`, type: 'TXT', answers: [], soa: true },
  { name: 'ANY returns what exists', q: `fortune.default.svc.${Z}`, type: 'ANY', answers: ['A 10.96.0.20'] },
  { name: 'unknown service NXDOMAIN', q: `nope.default.svc.${Z}`, rcode: 'NXDOMAIN', answers: [], soa: true },
  { name: 'unknown namespace NXDOMAIN', q: `fortune.nope.svc.${Z}`, rcode: 'NXDOMAIN', soa: true },
  { name: 'namespace name NODATA', q: `default.svc.${Z}`, answers: [], soa: true },
  { name: 'empty namespace NXDOMAIN', q: `ghost.svc.${Z}`, rcode: 'NXDOMAIN', soa: true },
  { name: 'svc.<zone> NODATA', q: `svc.${Z}`, answers: [], soa: true },
  { name: 'unknown top label NXDOMAIN', q: `fortune.${Z}`, rcode: 'NXDOMAIN', soa: true },
  { name: 'search-path expansion NXDOMAIN', q: `fortune.default.svc.${Z}.default.svc.${Z}`, rcode: 'NXDOMAIN', soa: true },
  { name: 'search-path external name NXDOMAIN', q: `www.example.com.default.svc.${Z}`, rcode: 'NXDOMAIN', soa: true },
  { name: 'headless: every ready endpoint', q: `nginx.default.svc.${Z}`, answers: ['A 10.244.0.10', 'A 10.244.0.11'] },
  { name: 'headless without ready endpoints NXDOMAIN (spec 2.4.1)', q: `empty-headless.default.svc.${Z}`, rcode: 'NXDOMAIN', soa: true },
  { name: 'StatefulSet pod name', q: `web-0.nginx.default.svc.${Z}`, answers: ['A 10.244.0.10'] },
  { name: 'StatefulSet pod name, other case', q: `WEB-1.nginx.default.svc.${Z}`, answers: ['A 10.244.0.11'] },
  { name: 'not-ready pod has no name', q: `web-2.nginx.default.svc.${Z}`, rcode: 'NXDOMAIN', soa: true },
  { name: 'pod name AAAA NODATA', q: `web-0.nginx.default.svc.${Z}`, type: 'AAAA', answers: [], soa: true },
  { name: 'endpoint without hostname: dashed IP', q: `10-244-1-5.plain-headless.default.svc.${Z}`, answers: ['A 10.244.1.5'] },
  { name: 'endpoint pod name off by default', q: `api-7d9f-abc.plain-headless.default.svc.${Z}`, rcode: 'NXDOMAIN', soa: true },
  { name: 'endpoint pod name (endpointPodNames)', q: `api-7d9f-abc.plain-headless.default.svc.${Z}`, opts: { endpointPodNames: true }, answers: ['A 10.244.1.5'] },
  { name: 'hostname wins over pod name', q: `web-0.nginx.default.svc.${Z}`, opts: { endpointPodNames: true }, answers: ['A 10.244.0.10'] },
  {
    name: 'SRV ClusterIP', q: `_http._tcp.fortune.default.svc.${Z}`, type: 'SRV',
    answers: [`SRV 80 fortune.default.svc.${Z}`], additionals: [`A 10.96.0.20`],
  },
  { name: 'SRV case-insensitive', q: `_HTTP._TCP.fortune.default.svc.${Z}`, type: 'SRV', answers: [`SRV 80 fortune.default.svc.${Z}`] },
  { name: 'SRV wrong protocol NXDOMAIN', q: `_http._udp.fortune.default.svc.${Z}`, type: 'SRV', rcode: 'NXDOMAIN', soa: true },
  { name: 'SRV unknown port NXDOMAIN', q: `_grpc._tcp.fortune.default.svc.${Z}`, type: 'SRV', rcode: 'NXDOMAIN', soa: true },
  { name: 'SRV name asked for A is NODATA', q: `_http._tcp.fortune.default.svc.${Z}`, type: 'A', answers: [], soa: true },
  { name: 'protocol label is an interior name', q: `_tcp.fortune.default.svc.${Z}`, type: 'A', answers: [], soa: true },
  { name: 'protocol label without ports NXDOMAIN', q: `_sctp.fortune.default.svc.${Z}`, rcode: 'NXDOMAIN', soa: true },
  { name: 'SRV UDP port', q: `_dns._udp.kube-dns.kube-system.svc.${Z}`, type: 'SRV', answers: [`SRV 53 kube-dns.kube-system.svc.${Z}`] },
  {
    name: 'SRV headless: one per ready endpoint, pod port', q: `_web._tcp.nginx.default.svc.${Z}`, type: 'SRV',
    answers: [`SRV 8080 web-0.nginx.default.svc.${Z}`, `SRV 8080 web-1.nginx.default.svc.${Z}`],
    additionals: ['A 10.244.0.10', 'A 10.244.0.11'],
  },
  {
    name: 'SRV headless without hostname: dashed target', q: `_http._tcp.plain-headless.default.svc.${Z}`, type: 'SRV',
    answers: [`SRV 8000 10-244-1-5.plain-headless.default.svc.${Z}`], additionals: ['A 10.244.1.5'],
  },
  { name: 'ExternalName: CNAME, chased upstream', q: `ext.default.svc.${Z}`, answers: ['CNAME www.example.com'], chase: 'www.example.com' },
  { name: 'ExternalName CNAME query', q: `ext.default.svc.${Z}`, type: 'CNAME', answers: ['CNAME www.example.com'] },
  { name: 'ExternalName into the zone: followed', q: `ext-in.default.svc.${Z}`, answers: [`CNAME Fortune.default.svc.${Z}`, 'A 10.96.0.20'] },
  { name: 'ExternalName has no sub-names', q: `_http._tcp.ext.default.svc.${Z}`, type: 'SRV', rcode: 'NXDOMAIN', soa: true },
  { name: 'dual-stack AAAA', q: `dual.dual.svc.${Z}`, type: 'AAAA', answers: ['AAAA fd00:96::5'] },
  { name: 'dual-stack A', q: `dual.dual.svc.${Z}`, type: 'A', answers: ['A 10.96.5.5'] },
  { name: 'PTR ClusterIP', q: '20.0.96.10.in-addr.arpa', type: 'PTR', answers: [`PTR fortune.default.svc.${Z}`] },
  { name: 'PTR StatefulSet pod', q: '10.0.244.10.in-addr.arpa', type: 'PTR', answers: [`PTR web-0.nginx.default.svc.${Z}`] },
  { name: 'PTR endpoint of a ClusterIP service', q: '7.2.244.10.in-addr.arpa', type: 'PTR', answers: [`PTR 10-244-2-7.fortune.default.svc.${Z}`] },
  { name: 'PTR not-ready endpoint falls through', q: '12.0.244.10.in-addr.arpa', type: 'PTR', forward: true },
  { name: 'PTR unknown address falls through', q: '99.99.99.10.in-addr.arpa', type: 'PTR', forward: true },
  { name: 'PTR IPv6 ClusterIP', q: reverseName('fd00:96::5')!, type: 'PTR', answers: [`PTR dual.dual.svc.${Z}`] },
  { name: 'pod A (insecure)', q: `10-244-0-99.default.pod.${Z}`, answers: ['A 10.244.0.99'] },
  { name: 'pod AAAA of an IPv4 pod is NODATA', q: `10-244-0-99.default.pod.${Z}`, type: 'AAAA', answers: [], soa: true },
  { name: 'pod IPv6', q: `fd00--1.default.pod.${Z}`, type: 'AAAA', answers: ['AAAA fd00::1'] },
  { name: 'pod bad address NXDOMAIN', q: `10-244-0-999.default.pod.${Z}`, rcode: 'NXDOMAIN', soa: true },
  { name: 'pod records disabled', q: `10-244-0-99.default.pod.${Z}`, opts: { pods: 'disabled' }, rcode: 'NXDOMAIN', soa: true },
  { name: 'pod verified: unknown pod', q: `10-244-0-99.default.pod.${Z}`, opts: { pods: 'verified' }, rcode: 'NXDOMAIN', soa: true },
  { name: 'pod verified: known pod', q: `10-244-3-3.default.pod.${Z}`, opts: { pods: 'verified' }, answers: ['A 10.244.3.3'] },
  { name: 'pod verified: wrong namespace', q: `10-244-3-3.other.pod.${Z}`, opts: { pods: 'verified' }, rcode: 'NXDOMAIN', soa: true },
  { name: 'apex SOA', q: Z, type: 'SOA', answers: [`SOA ns.dns.${Z}`] },
  { name: 'apex NS with glue', q: Z, type: 'NS', answers: [`NS ns.dns.${Z}`], additionals: ['A 10.96.0.10'] },
  { name: 'apex A NODATA', q: Z, type: 'A', answers: [], soa: true },
  { name: 'name server address', q: `ns.dns.${Z}`, answers: ['A 10.96.0.10'] },
  { name: 'schema version TXT', q: `dns-version.${Z}`, type: 'TXT', answers: [`TXT ${DNS_SCHEMA_VERSION}`] },
  { name: 'outside the zone: forward', q: 'example.com', forward: true },
  { name: 'other zone configured', q: 'fortune.default.svc.kube.test', opts: { zone: 'Kube.Test.' }, answers: ['A 10.96.0.20'] },
  { name: 'cluster.local is not ours then', q: `fortune.default.svc.${Z}`, opts: { zone: 'kube.test' }, forward: true },
];

test('resolver: Kubernetes DNS records (table)', () => {
  const view = fixtureView();
  view.upsertPod({ metadata: { namespace: 'default', name: 'p' }, status: { podIP: '10.244.3.3', podIPs: [{ ip: '10.244.3.3' }] } } as Pod);
  for (const c of cases) {
    const o = resolverOptions(c.opts);
    const r = resolve({ name: c.q, type: (c.type ?? 'A') as 'A' }, view, o);
    const what = `${c.name} (${c.q} ${c.type ?? 'A'})`;
    if (c.forward) {
      assert.equal(r.forward, true, `${what}: forwarded`);
      continue;
    }
    assert.ok(!r.forward, `${what}: not forwarded`);
    assert.equal(r.rcode, c.rcode ?? 'NOERROR', `${what}: rcode`);
    assert.equal(r.authoritative, true, `${what}: authoritative`);
    if (c.answers) assert.deepEqual(fmt(r.answers), c.answers, `${what}: answers`);
    if (c.additionals) assert.deepEqual(fmt(r.additionals), c.additionals, `${what}: additionals`);
    assert.equal(r.authorities.some((a) => a.type === 'SOA'), !!c.soa, `${what}: SOA in authority`);
    assert.equal(r.chase?.name, c.chase, `${what}: chase`);
    // Owner names keep the question's spelling (clients match them to the question).
    if (r.answers[0] && c.type !== 'ANY') assert.equal(r.answers[0].name, c.q.replace(/\.$/, ''), `${what}: owner`);
    for (const a of r.answers) assert.equal((a as { ttl: number }).ttl, o.ttl, `${what}: ttl`);
  }
});

test('resolver: TTL is configurable and capped; negative answers carry the SOA with minimum = TTL', () => {
  const view = fixtureView();
  const r = resolve({ name: `fortune.default.svc.${Z}`, type: 'A' }, view, resolverOptions({ ttl: 30 }));
  assert.equal((r.answers[0] as { ttl: number }).ttl, 30);
  assert.equal(resolverOptions({ ttl: 99999 }).ttl, 3600);
  assert.equal(resolverOptions().ttl, 5);
  const n = resolve({ name: `nope.default.svc.${Z}`, type: 'A' }, view, resolverOptions({ ttl: 7 }));
  const soa = n.authorities[0] as { name: string; ttl: number; data: { minimum: number; rname: string } };
  assert.equal(soa.name, Z);
  assert.equal(soa.ttl, 7);
  assert.equal(soa.data.minimum, 7);
  assert.equal(soa.data.rname, `hostmaster.${Z}`);
});

test('resolver: non-IN class in the zone is REFUSED; outside it is forwarded; no zone transfers', () => {
  const view = fixtureView();
  assert.equal(resolve({ name: Z, type: 'AXFR' }, view, resolverOptions()).rcode, 'REFUSED');
  assert.equal(resolve({ name: `fortune.default.svc.${Z}`, type: 'A', class: 'CH' }, view, resolverOptions()).rcode, 'REFUSED');
  assert.equal(resolve({ name: 'version.bind', type: 'TXT', class: 'CH' }, view, resolverOptions()).forward, true);
});

test('resolver: publishNotReadyAddresses publishes not-ready endpoints', () => {
  const view = fixtureView();
  view.upsertService(svc('default', 'nginx', { clusterIP: 'None', publishNotReadyAddresses: true, ports: [{ name: 'web', port: 80 }] }));
  const r = resolve({ name: `web-2.nginx.default.svc.${Z}`, type: 'A' }, view, resolverOptions());
  assert.deepEqual(fmt(r.answers), ['A 10.244.0.12']);
});

test('resolver: endpoints spread over several slices and families are merged', () => {
  const view = fixtureView();
  view.upsertEndpointSlice(slice('default', 'nginx-v6', 'nginx', [{ name: 'web', port: 8080, protocol: 'TCP' }], [
    { addresses: ['fd00:244::a'], hostname: 'web-0', conditions: { ready: true } },
  ], 'IPv6'));
  view.upsertEndpointSlice(slice('default', 'nginx-more', 'nginx', [{ name: 'web', port: 8080, protocol: 'TCP' }], [
    { addresses: ['10.244.0.13'], hostname: 'web-3', conditions: { ready: true } },
    { addresses: ['10.244.0.10'], hostname: 'web-0', conditions: { ready: true } }, // duplicate during a move
  ]));
  const o = resolverOptions();
  assert.deepEqual(fmt(resolve({ name: `nginx.default.svc.${Z}`, type: 'A' }, view, o).answers), ['A 10.244.0.10', 'A 10.244.0.11', 'A 10.244.0.13']);
  assert.deepEqual(fmt(resolve({ name: `web-0.nginx.default.svc.${Z}`, type: 'AAAA' }, view, o).answers), ['AAAA fd00:244::a']);
  const srv = resolve({ name: `_web._tcp.nginx.default.svc.${Z}`, type: 'SRV' }, view, o);
  assert.deepEqual(fmt(srv.answers), [
    `SRV 8080 web-0.nginx.default.svc.${Z}`, `SRV 8080 web-1.nginx.default.svc.${Z}`, `SRV 8080 web-3.nginx.default.svc.${Z}`,
  ]);
  assert.deepEqual(fmt(srv.additionals), ['A 10.244.0.10', 'AAAA fd00:244::a', 'A 10.244.0.11', 'A 10.244.0.13']);
  const weights = srv.answers.map((a) => (a as { data: { weight: number; priority: number } }).data);
  assert.ok(weights.every((w) => w.priority === 0 && w.weight === 33));
});

test('cluster view: updates, deletions and the reverse index', () => {
  const view = fixtureView();
  const o = resolverOptions();
  const gen = view.generation;
  // An update that changes nothing DNS shows keeps the generation (caches stay warm).
  view.upsertService({ ...svc('default', 'fortune', { type: 'ClusterIP', clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { port: 8080, protocol: 'TCP' }] }), status: { loadBalancer: {} } });
  assert.equal(view.generation, gen);

  // Endpoint becomes not ready: gone from the answers and from PTR.
  view.upsertEndpointSlice(slice('default', 'nginx-abcde', 'nginx', [{ name: 'web', port: 8080, protocol: 'TCP' }], [
    { addresses: ['10.244.0.10'], hostname: 'web-0', conditions: { ready: false } },
  ]));
  assert.ok(view.generation > gen);
  assert.equal(resolve({ name: `nginx.default.svc.${Z}`, type: 'A' }, view, o).rcode, 'NXDOMAIN');
  assert.equal(resolve({ name: '10.0.244.10.in-addr.arpa', type: 'PTR' }, view, o).forward, true);

  // Deleting the Service removes its names, PTRs and (when last) the namespace.
  view.deleteService(svc('dual', 'dual', {}));
  assert.equal(resolve({ name: `dual.dual.svc.${Z}`, type: 'A' }, view, o).rcode, 'NXDOMAIN');
  assert.equal(resolve({ name: `dual.svc.${Z}`, type: 'A' }, view, o).rcode, 'NXDOMAIN');
  assert.equal(resolve({ name: '5.5.96.10.in-addr.arpa', type: 'PTR' }, view, o).forward, true);

  // A slice relabelled to another Service moves with it.
  view.upsertEndpointSlice(slice('default', 'plain-headless-x1', 'nginx', [{ name: 'web', port: 8080, protocol: 'TCP' }], [
    { addresses: ['10.244.1.5'], hostname: 'web-5', conditions: { ready: true } },
  ]));
  assert.equal(resolve({ name: `plain-headless.default.svc.${Z}`, type: 'A' }, view, o).rcode, 'NXDOMAIN');
  assert.deepEqual(fmt(resolve({ name: `web-5.nginx.default.svc.${Z}`, type: 'A' }, view, o).answers), ['A 10.244.1.5']);
  view.deleteEndpointSlice(slice('default', 'plain-headless-x1', 'nginx', [], []));
  assert.equal(resolve({ name: `web-5.nginx.default.svc.${Z}`, type: 'A' }, view, o).rcode, 'NXDOMAIN');

  // A slice that arrives before its Service is used once the Service exists.
  view.upsertEndpointSlice(slice('late', 'late-1', 'late', [], [{ addresses: ['10.244.9.9'], conditions: { ready: true } }]));
  assert.equal(resolve({ name: `late.late.svc.${Z}`, type: 'A' }, view, o).rcode, 'NXDOMAIN');
  view.upsertService(svc('late', 'late', { clusterIP: 'None' }));
  assert.deepEqual(fmt(resolve({ name: `late.late.svc.${Z}`, type: 'A' }, view, o).answers), ['A 10.244.9.9']);
});
