import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSettings, parseUpstream, resolvConfNameservers, resolveUpstreams } from './config.js';
import { canonicalIP, dashedIP, parseDashedIP, reverseLabelsToIP, reverseName } from './ip.js';

test('config: ConfigMap settings, bad values reported and skipped', () => {
  const cases: Array<{ data: Record<string, string>; settings: object; errors: number }> = [
    { data: {}, settings: {}, errors: 0 },
    { data: { zone: 'Cluster.Local.', ttl: '30', upstreams: '1.1.1.1, 9.9.9.9:5353 [2001:db8::1]:53', pods: 'Verified', endpointPodNames: 'true' },
      settings: { zone: 'cluster.local', ttl: 30, upstreams: ['1.1.1.1', '9.9.9.9:5353', '[2001:db8::1]:53'], pods: 'verified', endpointPodNames: true }, errors: 0 },
    { data: { upstreams: '/etc/resolv.conf' }, settings: { upstreams: ['/etc/resolv.conf'] }, errors: 0 },
    { data: { ttl: '0' }, settings: { ttl: 0 }, errors: 0 },
    { data: { ttl: '3601' }, settings: {}, errors: 1 },
    { data: { ttl: '' }, settings: {}, errors: 1 },
    { data: { ttl: '1.5', zone: 'bad_zone!' }, settings: {}, errors: 2 },
    { data: { upstreams: '1.1.1.1, dns.google' }, settings: {}, errors: 1 },
    { data: { pods: 'maybe', endpointPodNames: 'yes', zone: 'ok.example' }, settings: { zone: 'ok.example' }, errors: 2 },
  ];
  for (const c of cases) {
    const r = parseSettings(c.data);
    assert.deepEqual(r.settings, c.settings, JSON.stringify(c.data));
    assert.equal(r.errors.length, c.errors, `${JSON.stringify(c.data)}: ${r.errors.join('; ')}`);
  }
});

test('config: upstream addresses', () => {
  assert.deepEqual(parseUpstream('1.2.3.4'), { host: '1.2.3.4', port: 53 });
  assert.deepEqual(parseUpstream('1.2.3.4:5353'), { host: '1.2.3.4', port: 5353 });
  assert.deepEqual(parseUpstream('::1'), { host: '::1', port: 53 });
  assert.deepEqual(parseUpstream('[::1]:5353'), { host: '::1', port: 5353 });
  for (const bad of ['1.2.3.4:0', '1.2.3.4:70000', 'host', '[1.2.3.4]:53', '300.1.1.1']) assert.equal(parseUpstream(bad), undefined, bad);
});

test('config: resolv.conf nameservers, own addresses excluded', () => {
  const text = '# comment\nsearch example.com\nnameserver 10.0.0.2\nnameserver   fe80::1%eth0 ; zone\nnameserver 10.96.0.10\nnameserver bogus\noptions ndots:2\n';
  assert.deepEqual(resolvConfNameservers(text), [{ host: '10.0.0.2', port: 53 }, { host: 'fe80::1%eth0', port: 53 }, { host: '10.96.0.10', port: 53 }]);
  const dir = mkdtempSync(join(tmpdir(), 'keelson-dns-'));
  try {
    const path = join(dir, 'resolv.conf');
    writeFileSync(path, text);
    const ups = resolveUpstreams([path, '10.0.0.2', '1.1.1.1'], [{ host: '10.96.0.10', port: 53 }]);
    assert.deepEqual(ups.map((u) => u.host), ['10.0.0.2', 'fe80::1%eth0', '1.1.1.1']);
    // Listening on 0.0.0.0:53 excludes loopback servers on 53 (a loop through ourselves).
    assert.deepEqual(resolveUpstreams(['127.0.0.1', '127.0.0.53:53', '8.8.8.8'], [{ host: '0.0.0.0', port: 53 }]).map((u) => u.host), ['8.8.8.8']);
    assert.deepEqual(resolveUpstreams([join(dir, 'missing')]), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ip: canonical forms, reverse names, dashed names', () => {
  assert.equal(canonicalIP('fd00::1'), 'fd00:0000:0000:0000:0000:0000:0000:0001');
  assert.equal(canonicalIP('FD00:0:0::1'), canonicalIP('fd00::1'));
  assert.equal(canonicalIP('::ffff:10.1.2.3'), '0000:0000:0000:0000:0000:ffff:0a01:0203');
  assert.equal(canonicalIP('nope'), undefined);
  assert.equal(reverseName('10.96.0.1'), '1.0.96.10.in-addr.arpa');
  const v6 = reverseName('2001:db8::567:89ab')!;
  assert.equal(v6, 'b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa');
  assert.equal(canonicalIP(reverseLabelsToIP(v6.split('.').slice(0, 32), 'ip6.arpa')!), canonicalIP('2001:db8::567:89ab'));
  assert.equal(reverseLabelsToIP(['1', '0', '96'], 'in-addr.arpa'), undefined);
  assert.equal(reverseLabelsToIP(['1', '0', '96', '300'], 'in-addr.arpa'), undefined);
  assert.equal(reverseLabelsToIP(['01', '0', '96', '10'], 'in-addr.arpa'), undefined);
  assert.equal(dashedIP('10.244.0.5'), '10-244-0-5');
  assert.equal(dashedIP('FD00::1'), 'fd00--1');
  assert.equal(parseDashedIP('10-244-0-5'), '10.244.0.5');
  assert.equal(parseDashedIP('fd00--1'), 'fd00::1');
  assert.equal(parseDashedIP('10-244-0-256'), undefined);
  assert.equal(parseDashedIP('web-0'), undefined);
});

test('forward cache: TTLs count down, entries expire, negative answers use the SOA minimum', async () => {
  const { ForwardCache } = await import('./forward-cache.js');
  const dnsPacket = (await import('dns-packet')).default;
  let now = 1_000_000;
  const cache = new ForwardCache(2, 30, () => now);
  const reply = (name: string, flags: number, answers: any[], authorities: any[] = []) => dnsPacket.encode({
    type: 'response', id: 9, flags, questions: [{ name, type: 'A', class: 'IN' }], answers, authorities,
  });
  cache.put('a', reply('a.example', 0x8180, [{ name: 'a.example', type: 'A', ttl: 60, data: '192.0.2.1' }, { name: 'a.example', type: 'A', ttl: 20, data: '192.0.2.2' }]));
  let got = dnsPacket.decode(cache.get('a', 77)!);
  assert.equal(got.id, 77);
  assert.deepEqual(got.answers!.map((a: any) => a.ttl), [20, 20]);
  now += 5_500;
  got = dnsPacket.decode(cache.get('a', 78)!);
  assert.deepEqual(got.answers!.map((a: any) => a.ttl), [15, 15]);
  now += 15_000;
  assert.equal(cache.get('a', 79), undefined, 'expired');

  const soa = { name: 'example', type: 'SOA', ttl: 300, data: { mname: 'ns.example', rname: 'h.example', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 10 } };
  cache.put('nx', reply('nx.example', 0x8183, [], [soa]));
  assert.equal((dnsPacket.decode(cache.get('nx', 1)!) as any).rcode, 'NXDOMAIN');
  now += 10_000;
  assert.equal(cache.get('nx', 1), undefined, 'negative entry lives min(SOA ttl, minimum)');
  cache.put('nosoa', reply('x.example', 0x8183, []));
  assert.equal(cache.get('nosoa', 1), undefined, 'no SOA: not cached');
  cache.put('servfail', reply('x.example', 0x8182, [{ name: 'x.example', type: 'A', ttl: 60, data: '192.0.2.9' }]));
  assert.equal(cache.get('servfail', 1), undefined);
  cache.put('tc', reply('x.example', 0x8380, [{ name: 'x.example', type: 'A', ttl: 60, data: '192.0.2.9' }]));
  assert.equal(cache.get('tc', 1), undefined, 'truncated: not cached');
  // Bounded: the oldest goes.
  cache.put('b', reply('b.example', 0x8180, [{ name: 'b.example', type: 'A', ttl: 60, data: '192.0.2.3' }]));
  cache.put('c', reply('c.example', 0x8180, [{ name: 'c.example', type: 'A', ttl: 60, data: '192.0.2.4' }]));
  cache.put('d', reply('d.example', 0x8180, [{ name: 'd.example', type: 'A', ttl: 60, data: '192.0.2.5' }]));
  assert.equal(cache.size, 2);
  assert.equal(cache.get('b', 1), undefined);
});
