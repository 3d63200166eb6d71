/**
 * ServiceProxy against a real (in-process) API server, with fake iptables-restore / iptables /
 * iptables-save / conntrack binaries that record what they are given: informers → rendering →
 * full then partial restores, coalescing and the rate limit, conntrack cleanup for UDP, and
 * cleanup on stop. No root needed; the real kernel path is test/e2e/proxy.test.ts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, startTestCluster, type TestCluster } from '../client/testing.js';
import { ServiceProxy, SERVICES, ENDPOINTSLICES } from './service-proxy.js';
import { conntrackDeletions } from './iptables.js';
import type { ServicePortInfo } from './rules.js';

let cluster: TestCluster;
let dir: string;
const P = 'KTEST';

function fake(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** The restore inputs so far, oldest first. */
function restores(): string[] {
  const log = join(dir, 'restore.log');
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8').split('=====\n').filter((s) => s.length > 0);
}
const lines = (file: string) => (existsSync(join(dir, file)) ? readFileSync(join(dir, file), 'utf8').split('\n').filter(Boolean) : []);

let bins: { iptablesRestore: string; iptables: string; iptablesSave: string; conntrack: string };

before(async () => {
  cluster = await startTestCluster();
  dir = mkdtempSync(join(tmpdir(), 'keelson-proxy-'));
  bins = {
    iptablesRestore: fake('iptables-restore', `cat >> "${dir}/restore.log"; echo '=====' >> "${dir}/restore.log"`),
    // -C fails (rule missing) so that -I is exercised; everything is logged.
    iptables: fake('iptables', `echo "$@" >> "${dir}/iptables.log"; case "$*" in *" -C "*) exit 1;; esac; exit 0`),
    iptablesSave: fake('iptables-save', `t="$2"; [ -f "${dir}/save-$t.txt" ] && cat "${dir}/save-$t.txt"; exit 0`),
    conntrack: fake('conntrack', `echo "$@" >> "${dir}/conntrack.log"; exit 0`),
  };
});

after(async () => {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
});

const ns = 'default';

async function createService(name: string, clusterIP: string, port: number, protocol = 'TCP'): Promise<void> {
  await cluster.client.create(SERVICES, ns, {
    apiVersion: 'v1', kind: 'Service', metadata: { name },
    spec: { clusterIP, ports: [{ name: 'p', port, protocol, targetPort: port }] },
  });
}

async function putSlice(name: string, svc: string, ips: string[], port: number, protocol = 'TCP'): Promise<void> {
  const body = {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4', ports: [{ name: 'p', port, protocol }],
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true }, nodeName: 'n1' })),
  };
  try {
    const cur = await cluster.client.get<any>(ENDPOINTSLICES, ns, name);
    await cluster.client.update(ENDPOINTSLICES, ns, { ...body, metadata: { ...cur.metadata, labels: body.metadata.labels } });
  } catch {
    await cluster.client.create(ENDPOINTSLICES, ns, body);
  }
}

test('ServiceProxy: full first sync, partial syncs, coalescing, conntrack, cleanup', async () => {
  await createService('web', '10.96.7.1', 80);
  await putSlice('web-1', 'web', ['10.244.0.5', '10.244.0.6'], 8080);
  await createService('dns', '10.96.7.2', 53, 'UDP');
  await putSlice('dns-1', 'dns', ['10.244.0.7', '10.244.0.8'], 53, 'UDP');

  const proxy = new ServiceProxy({
    client: cluster.newClient(), nodeName: 'n1', nodeIPs: ['192.168.1.10'], clusterCIDR: '10.244.0.0/16',
    chainPrefix: P, minSyncIntervalMs: 300, setSysctls: false, ...bins,
  });
  const ac = new AbortController();
  await proxy.start(ac.signal);

  // First sync: full, every chain, jump rules checked (-C) and inserted (-I).
  let rs = restores();
  assert.equal(rs.length, 1);
  assert.match(rs[0]!, /-A KTEST-SERVICES -m comment --comment "default\/web:p cluster IP" -m tcp -p tcp -d 10\.96\.7\.1\/32 --dport 80 -j KTEST-SVC-/);
  assert.match(rs[0]!, /:KTEST-POSTROUTING - \[0:0\]/);
  assert.match(rs[0]!, /--probability 0\.50000000000/);
  const ipt = lines('iptables.log');
  assert.ok(ipt.some((l) => /-t nat -C PREROUTING .* -j KTEST-SERVICES/.test(l)));
  assert.ok(ipt.some((l) => /-t nat -I PREROUTING .* -j KTEST-SERVICES/.test(l)));
  let c = proxy.counters;
  assert.equal(c.syncs, 1);
  assert.equal(c.fullSyncs, 1);
  assert.ok(c.rules > 10 && c.chains > 10, JSON.stringify(c));

  // Nothing changed: no restore.
  const stats = await proxy.syncNow();
  assert.equal(stats.wrote, false);
  assert.equal(restores().length, 1);

  // One endpoint change: a partial restore with only the changed chains.
  await putSlice('web-1', 'web', ['10.244.0.5', '10.244.0.6', '10.244.0.9'], 8080);
  await eventually(() => restores().length === 2, 'a partial sync', 5000);
  rs = restores();
  assert.match(rs[1]!, /--probability 0\.33333333349/);
  assert.doesNotMatch(rs[1]!, /KTEST-POSTROUTING/, 'unchanged chains are not rewritten');
  assert.doesNotMatch(rs[1]!, /default\/dns/, 'other services are not rewritten');
  assert.doesNotMatch(rs[1]!, /^\*filter/m, 'filter table unchanged');
  assert.ok(proxy.counters.lastSync!.chainsWritten <= 3, JSON.stringify(proxy.counters.lastSync));

  // A burst of changes is coalesced, and syncs are at least minSyncIntervalMs apart.
  const before = restores().length;
  const t0 = Date.now();
  for (let i = 10; i < 16; i++) await putSlice('web-1', 'web', ['10.244.0.5', `10.244.0.${i}`], 8080);
  await eventually(() => /-A KTEST-SEP-\S+ .*--to-destination 10\.244\.0\.15:8080/.test(restores().at(-1) ?? ''), 'the last state applied', 5000);
  const burst = restores().length - before;
  const elapsed = Date.now() - t0;
  assert.ok(burst >= 1 && burst <= Math.ceil(elapsed / 300) + 1, `${burst} restores in ${elapsed} ms`);

  // UDP endpoint removed: its conntrack flows are deleted.
  await putSlice('dns-1', 'dns', ['10.244.0.7'], 53, 'UDP');
  await eventually(() => lines('conntrack.log').some((l) => l === '-D -p udp --orig-dst 10.96.7.2 --dst-nat 10.244.0.8'), 'conntrack -D for the removed UDP endpoint', 5000);
  assert.ok(!lines('conntrack.log').some((l) => l.includes('10.244.0.7')), 'the remaining endpoint is left alone');

  c = proxy.counters;
  assert.equal(c.failedSyncs, 0);
  assert.ok(c.lastSyncDurationMs > 0);

  // stop(): one transaction deleting the jumps and the chains iptables-save reports.
  writeFileSync(join(dir, 'save-nat.txt'), [
    '*nat', ':PREROUTING ACCEPT [0:0]', ':KTEST-SERVICES - [0:0]', ':KTEST-SVC-ABCDEFGHIJKLMNO - [0:0]', ':OTHER-CHAIN - [0:0]',
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KTEST-SERVICES',
    '-A PREROUTING -j OTHER-CHAIN',
    '-A KTEST-SERVICES -j KTEST-SVC-ABCDEFGHIJKLMNO', 'COMMIT', '',
  ].join('\n'));
  ac.abort();
  await proxy.stop();
  const last = restores().at(-1)!;
  assert.match(last, /^-D PREROUTING -m comment --comment "kubernetes service portals" -j KTEST-SERVICES$/m);
  assert.match(last, /^-X KTEST-SERVICES$/m);
  assert.match(last, /^-X KTEST-SVC-ABCDEFGHIJKLMNO$/m);
  assert.doesNotMatch(last, /OTHER-CHAIN/);
});

test('ServiceProxy: a failed restore is counted, and the next sync is full', async () => {
  let fail = true;
  const flag = join(dir, 'fail');
  writeFileSync(flag, '');
  const restore = fake('iptables-restore-flaky', `cat > /dev/null; if [ -f "${flag}" ]; then echo "iptables-restore: line 3 failed" >&2; exit 1; fi; exit 0`);
  const proxy = new ServiceProxy({
    client: cluster.newClient(), nodeName: 'n1', nodeIPs: [], clusterCIDR: '10.244.0.0/16',
    chainPrefix: 'KTEST2', minSyncIntervalMs: 100, setSysctls: false, ...bins, iptablesRestore: restore,
  });
  const ac = new AbortController();
  await assert.rejects(proxy.start(ac.signal), /iptables-restore failed: iptables-restore: line 3 failed \(input line: /);
  assert.equal(proxy.counters.failedSyncs, 1);
  if (fail) { rmSync(flag); fail = false; }
  const s = await proxy.syncNow();
  assert.equal(s.full, true);
  assert.equal(s.wrote, true);
  await proxy.stop({ keepRules: true });
});

test('conntrackDeletions: removed UDP endpoints, and UDP services that just got endpoints', () => {
  const info = (key: string, protocol: 'udp' | 'tcp', endpoints: string[], extra: Partial<ServicePortInfo> = {}): ServicePortInfo => ({
    key, name: key, protocol, clusterIP: '10.96.0.10', port: 53, externalIPs: [], loadBalancerIPs: [], endpoints, ...extra,
  });
  assert.deepEqual(conntrackDeletions(
    [info('a', 'udp', ['10.244.0.1:53', '10.244.0.2:53'], { nodePort: 30053, externalIPs: ['1.2.3.4'] }), info('t', 'tcp', ['10.244.0.3:80'])],
    [info('a', 'udp', ['10.244.0.1:53'], { nodePort: 30053, externalIPs: ['1.2.3.4'] })],
  ), [
    ['-D', '-p', 'udp', '--orig-dst', '10.96.0.10', '--dst-nat', '10.244.0.2'],
    ['-D', '-p', 'udp', '--orig-dst', '1.2.3.4', '--dst-nat', '10.244.0.2'],
    ['-D', '-p', 'udp', '--orig-port-dst', '30053', '--dst-nat', '10.244.0.2'],
  ]);
  assert.deepEqual(conntrackDeletions([info('a', 'udp', [])], [info('a', 'udp', ['10.244.0.1:53'])]), [
    ['-D', '-p', 'udp', '--orig-dst', '10.96.0.10', '--orig-port-dst', '53'],
  ]);
  assert.deepEqual(conntrackDeletions([info('a', 'udp', ['10.244.0.1:53'])], [info('a', 'udp', ['10.244.0.1:53'])]), []);
});
