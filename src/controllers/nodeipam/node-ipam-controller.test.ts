import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setMaxListeners } from 'node:events';
import { startTestCluster, eventually, type TestCluster } from '../../client/testing.js';
import { EVENTS } from '../../client/event-recorder.js';
import { SimNodes } from '../../simnodes/sim-nodes.js';
import { CIDRRangeFullError, CidrSet, formatIP, parseCIDRValue } from './cidr-set.js';
import { NODES, NodeIpamController, cidrSetsFor, podCIDRsOf } from './node-ipam-controller.js';

test('CidrSet: allocates blocks in order, round robin, and says when the range is full', () => {
  const s = new CidrSet('10.244.0.0/22', 24);
  assert.equal(s.maxCIDRs, 4);
  assert.deepEqual([s.allocateNext(), s.allocateNext(), s.allocateNext(), s.allocateNext()], ['10.244.0.0/24', '10.244.1.0/24', '10.244.2.0/24', '10.244.3.0/24']);
  assert.throws(() => s.allocateNext(), CIDRRangeFullError);
  assert.throws(() => s.allocateNext(), /no remaining CIDRs left to allocate in the accepted range/);
  s.release('10.244.1.0/24');
  s.release('10.244.3.0/24');
  assert.equal(s.allocated, 2);
  // Round robin: the search goes on after the last block handed out (10.244.3.0), wrapping.
  assert.equal(s.allocateNext(), '10.244.1.0/24');
  assert.equal(s.allocateNext(), '10.244.3.0/24');
});

test('CidrSet: occupy marks the blocks a CIDR overlaps; outside the cluster CIDR is an error', () => {
  const s = new CidrSet('10.244.0.0/16', 24);
  assert.equal(s.maxCIDRs, 256);
  s.occupy('10.244.0.0/23'); // two blocks
  s.occupy('10.244.5.128/25'); // part of one block
  assert.equal(s.allocated, 3);
  assert.equal(s.allocateNext(), '10.244.2.0/24');
  s.occupy('10.244.5.0/24'); // again: idempotent
  assert.equal(s.allocated, 4);
  assert.throws(() => s.occupy('10.245.0.0/24'), /out the range of cluster cidr 10.244.0.0\/16/);
  assert.throws(() => s.occupy('fd00::/64'), /out the range/);
  assert.ok(!s.contains('192.168.0.0/24'));
  assert.ok(s.contains('10.244.200.0/24'));
  s.occupy('10.0.0.0/8'); // a range containing the whole cluster CIDR takes everything
  assert.equal(s.allocated, 256);
  assert.throws(() => s.allocateNext(), CIDRRangeFullError);
  s.release('10.244.0.0/16');
  assert.equal(s.allocated, 0);
});

test('CidrSet: IPv6, formatting, and bad settings', () => {
  const s = new CidrSet('fd00:10:244::/56', 64);
  assert.equal(s.maxCIDRs, 256);
  assert.equal(s.allocateNext(), 'fd00:10:244::/64');
  assert.equal(s.allocateNext(), 'fd00:10:244:1::/64');
  assert.equal(formatIP(parseCIDRValue('2001:db8:0:0:1:0:0:1/128')!.ip, 'IPv6'), '2001:db8::1:0:0:1');
  assert.equal(formatIP(parseCIDRValue('::/0')!.ip, 'IPv6'), '::');
  assert.equal(parseCIDRValue('10.1.2.3/16')!.ip, parseCIDRValue('10.1.0.0/16')!.ip, 'host bits are masked');
  assert.throws(() => new CidrSet('10.244.0.0/16', 8), /does not fit/);
  assert.throws(() => new CidrSet('fd00::/48', 80), /too big/);
  assert.throws(() => new CidrSet('10.244.0.0', 24), /invalid cluster CIDR/);
});

test('cidrSetsFor: defaults, dual stack, errors', () => {
  const [v4] = cidrSetsFor();
  assert.deepEqual([v4.clusterCIDR, v4.nodeMaskSize], ['10.244.0.0/16', 24]);
  const dual = cidrSetsFor({ clusterCIDR: '10.1.0.0/16, fd00:1::/48', nodeCIDRMaskSize: 26 });
  assert.deepEqual(dual.map((s) => [s.family, s.nodeMaskSize]), [['IPv4', 26], ['IPv6', 64]]);
  assert.equal(cidrSetsFor({ clusterCIDR: 'fd00:1::/48', nodeCIDRMaskSize: 56 })[0].nodeMaskSize, 56);
  assert.throws(() => cidrSetsFor({ clusterCIDR: '10.1.0.0/16,10.2.0.0/16' }), /one IPv4 and one IPv6/);
  assert.throws(() => cidrSetsFor({ clusterCIDR: 'nonsense' }), /invalid CIDR/);
  assert.deepEqual(podCIDRsOf({ spec: { podCIDR: '10.0.0.0/24' } }), ['10.0.0.0/24']);
});

const node = (name: string, podCIDR?: string) => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name },
  spec: podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {},
});

async function start(cluster: TestCluster, opts: ConstructorParameters<typeof NodeIpamController>[1]) {
  const ac = new AbortController();
  setMaxListeners(50, ac.signal);
  const ctl = new NodeIpamController(cluster.newClient(), opts);
  ctl.start(ac.signal);
  assert.ok(await ctl.waitForSync(AbortSignal.timeout(10_000)));
  return { ctl, stop: async () => { ac.abort(); await ctl.stopped(); } };
}

const cidrsOf = async (cluster: TestCluster, name: string) => podCIDRsOf(await cluster.client.get(NODES, undefined, name));

test('NodeIpamController: keeps existing ranges, allocates the rest, releases on delete, reports a full range', async (t) => {
  const cluster = await startTestCluster();
  const { client } = cluster;
  // Nodes from before the controller started: one inside the cluster CIDR, one outside.
  await client.create(NODES, undefined, node('old-in', '10.100.0.0/24'));
  await client.create(NODES, undefined, node('old-out', '192.168.7.0/24'));
  await client.create(NODES, undefined, node('waiting'));
  const { ctl, stop } = await start(cluster, { clusterCIDR: '10.100.0.0/22', nodeCIDRMaskSize: 24 });
  t.after(async () => { await stop(); await cluster.stop(); });

  // The node without a range gets one that is not 10.100.0.0/24 (taken at startup).
  const waiting = await eventually(async () => { const c = await cidrsOf(cluster, 'waiting'); return c.length ? c : undefined; }, 'waiting gets a range');
  assert.deepEqual(waiting, ['10.100.1.0/24']);
  const w: any = await client.get(NODES, undefined, 'waiting');
  assert.equal(w.spec.podCIDR, '10.100.1.0/24');
  assert.deepEqual(await cidrsOf(cluster, 'old-out'), ['192.168.7.0/24'], 'a range outside the cluster CIDR is left alone');

  await client.create(NODES, undefined, node('n2'));
  await client.create(NODES, undefined, node('n3'));
  const got = await eventually(async () => {
    const a = await cidrsOf(cluster, 'n2');
    const b = await cidrsOf(cluster, 'n3');
    return a.length && b.length ? [...a, ...b].sort() : undefined;
  }, 'n2 and n3 get ranges');
  assert.deepEqual(got, ['10.100.2.0/24', '10.100.3.0/24']);

  // The range is full now: the next node waits, with a CIDRNotAvailable event.
  await client.create(NODES, undefined, node('n4'));
  const ev = await eventually(async () => (await client.list<any>(EVENTS, 'default')).items.find((e) => e.reason === 'CIDRNotAvailable' && e.involvedObject?.name === 'n4'), 'CIDRNotAvailable event');
  assert.equal(ev.message, 'Node n4 status is now: CIDRNotAvailable');
  assert.equal(ev.type, 'Normal');
  assert.equal(ev.source.component, 'cidrAllocator');
  assert.deepEqual(await cidrsOf(cluster, 'n4'), []);

  // Deleting a node frees its range for the one waiting (retried with back-off, or on its next update).
  const freed = await cidrsOf(cluster, 'n2');
  await client.delete(NODES, undefined, 'n2');
  await client.patch(NODES, undefined, 'n4', { metadata: { labels: { poke: '1' } } }, 'merge');
  const n4 = await eventually(async () => { const c = await cidrsOf(cluster, 'n4'); return c.length ? c : undefined; }, 'n4 gets the freed range', 15_000);
  assert.deepEqual(n4, freed, 'n4 got the range n2 had');
  assert.equal(ctl.cidrSets[0].allocated, 4);

  // spec.podCIDR(s) cannot be changed once set (upstream validation).
  await assert.rejects(client.patch(NODES, undefined, 'n3', { spec: { podCIDR: '10.100.9.0/24', podCIDRs: ['10.100.9.0/24'] } }, 'merge'), (err: any) => err.code === 422);
});

test('NodeIpamController with sim-nodes: every simulated node gets a range', async (t) => {
  const cluster = await startTestCluster();
  const { stop } = await start(cluster, {});
  const ac = new AbortController();
  setMaxListeners(50, ac.signal);
  const sim = new SimNodes(cluster.newClient(), { count: 5, namePrefix: 'sim-', capacity: { cpu: '4', memory: '8Gi', pods: '110' }, heartbeatSeconds: 1, tickMs: 100 });
  t.after(async () => { ac.abort(); await sim.stopped(); await stop(); await cluster.stop(); });
  void sim.start(ac.signal);
  await sim.registered();
  const ranges: string[] = await eventually(async () => {
    const nodes = (await cluster.client.list<any>(NODES)).items;
    const r = nodes.map((n) => podCIDRsOf(n)[0]).filter(Boolean);
    return r.length === 5 ? r : undefined;
  }, '5 nodes with ranges') as string[];
  assert.equal(new Set(ranges).size, 5);
  for (const r of ranges) assert.match(r, /^10\.244\.\d+\.0\/24$/);
  // The simulated kubelets keep working on IPAM'd nodes: heartbeats still land.
  await eventually(async () => {
    const nodes = (await cluster.client.list<any>(NODES)).items;
    return nodes.every((n) => n.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'));
  }, 'sim nodes Ready');
});
