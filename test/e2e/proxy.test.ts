/**
 * The service proxy on the real kernel: a test bridge with two network-namespace "pods" running
 * TCP servers, an in-process API server holding a NodePort Service and its EndpointSlice, and
 * a ServiceProxy (own chain prefix, own service-proxy-name so it programs only this test's
 * service) writing real iptables rules. Checks, from the host and from the pods: ClusterIP
 * balancing over both backends, NodePort on 127.0.0.1 and on the node's address, pod → service
 * across pods (bridged replies un-NATed), hairpin, session affinity, REJECT without endpoints,
 * and that stop() leaves no rule of the prefix in iptables-save. Skipped unless root with
 * iptables and iproute2. Everything created is removed at the end.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { eventually, startTestCluster, type TestCluster } from '../../src/client/testing.js';
import { ServiceProxy, SERVICES, ENDPOINTSLICES } from '../../src/proxy/service-proxy.js';
import { TestNet, freePort, netSkipReason } from '../../src/proxy/testing.js';
import { hasConntrack, run } from '../../src/proxy/iptables.js';

const skip = (await netSkipReason()) || false;
const noConntrack = (await hasConntrack()) ? false : 'needs conntrack (Debian package conntrack)';

const iptablesSave = async () => (await run('iptables-save', [])).stdout;

describe('service proxy on the real kernel', { skip }, () => {
  const prefix = `KE2E${randomBytes(2).toString('hex').toUpperCase()}`;
  const proxyName = `keelson-e2e-${prefix.toLowerCase()}`;
  const ns = 'default';
  let tn: TestNet;
  let cluster: TestCluster;
  let proxy: ServiceProxy;
  let clusterIP: string;
  let udpIP: string;
  let nodePort: number;
  let stopped = false;
  const ac = new AbortController();

  const slice = (ips: string[]) => ({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: 'web-1', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true }, nodeName: 'node-1' })),
  });
  const setEndpoints = async (ips: string[]) => {
    const cur = await cluster.client.get<any>(ENDPOINTSLICES, ns, 'web-1').catch(() => undefined);
    if (cur) await cluster.client.update(ENDPOINTSLICES, ns, { ...slice(ips), metadata: { ...cur.metadata } });
    else await cluster.client.create(ENDPOINTSLICES, ns, slice(ips));
    const want = ips.map((ip) => `${ip}:8080`).sort().join(',');
    await eventually(() => proxy.rendered?.servicePorts[0]?.endpoints.join(',') === want, `endpoints ${want} programmed`, 10_000);
  };

  before(async () => {
    tn = await TestNet.create(2);
    for (const pod of tn.pods) {
      await tn.startServer(pod, 8080, 'name');
      await tn.startServer(pod, 5353, 'udp');
    }
    const saved = await iptablesSave();
    // A service IP and a NodePort nobody else on this machine uses.
    for (;;) {
      clusterIP = `10.96.254.${2 + Math.floor(Math.random() * 250)}`;
      udpIP = `10.96.254.${2 + Math.floor(Math.random() * 250)}`;
      if (udpIP !== clusterIP && !saved.includes(`-d ${clusterIP}/32`) && !saved.includes(`-d ${udpIP}/32`)) break;
    }
    nodePort = await freePort(40000, 44999, (p) => saved.includes(`--dport ${p} `));
    await tn.routeToBridge(clusterIP);
    await tn.routeToBridge(udpIP);
    cluster = await startTestCluster({ nodePortRange: [40000, 44999] });
    await cluster.client.create(SERVICES, ns, {
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: 'web', labels: { 'service.kubernetes.io/service-proxy-name': proxyName } },
      spec: { type: 'NodePort', clusterIP, ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort, protocol: 'TCP' }] },
    });
    proxy = new ServiceProxy({
      client: cluster.newClient(), nodeName: 'node-1', nodeIPs: [], clusterCIDR: tn.subnet,
      chainPrefix: prefix, serviceProxyName: proxyName, minSyncIntervalMs: 100,
    });
    await proxy.start(ac.signal);
    await setEndpoints(tn.pods.map((p) => p.ip));
  });

  after(async () => {
    ac.abort();
    if (proxy && !stopped) await proxy.stop().catch(() => {});
    await tn?.destroy();
    await cluster?.stop();
  });

  test('ClusterIP from the host reaches both backends', async () => {
    const seen = await tn.runClient(undefined, 'names', clusterIP, 80, 60);
    assert.deepEqual(Object.keys(seen).sort(), ['pod0', 'pod1'], JSON.stringify(seen));
  });

  test('NodePort answers on 127.0.0.1 and on the node\'s address', async () => {
    const local = await tn.runClient(undefined, 'names', '127.0.0.1', nodePort, 40);
    assert.deepEqual(Object.keys(local).sort(), ['pod0', 'pod1'], `127.0.0.1: ${JSON.stringify(local)}`);
    const nodeIP = Object.values(os.networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal && !a.address.startsWith('10.201.'))?.address;
    if (nodeIP) {
      const seen = await tn.runClient(undefined, 'names', nodeIP, nodePort, 40);
      assert.deepEqual(Object.keys(seen).sort(), ['pod0', 'pod1'], `${nodeIP}: ${JSON.stringify(seen)}`);
    }
  });

  test('a pod reaches the service (replies across the bridge un-NATed)', async () => {
    const seen = await tn.runClient(tn.pods[1], 'names', clusterIP, 80, 40);
    assert.deepEqual(Object.keys(seen).sort(), ['pod0', 'pod1'], JSON.stringify(seen));
  });

  test('hairpin: a pod reaches itself through its service', async () => {
    await setEndpoints([tn.pods[0]!.ip]);
    const seen = await tn.runClient(tn.pods[0], 'names', clusterIP, 80, 5);
    assert.deepEqual(seen, { pod0: 5 });
    await setEndpoints(tn.pods.map((p) => p.ip));
  });

  test('sessionAffinity ClientIP keeps a client on one backend', async () => {
    const cur = await cluster.client.get<any>(SERVICES, ns, 'web');
    cur.spec.sessionAffinity = 'ClientIP';
    cur.spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 60 } };
    await cluster.client.update(SERVICES, ns, cur);
    await eventually(() => proxy.rendered?.nat && [...proxy.rendered.nat.values()].flat().some((l) => l.includes('--rcheck --seconds 60')), 'affinity rules programmed', 10_000);
    const seen = await tn.runClient(undefined, 'names', clusterIP, 80, 30);
    assert.equal(Object.keys(seen).length, 1, JSON.stringify(seen));
    assert.ok(seen.pod0 === 30 || seen.pod1 === 30, JSON.stringify(seen));
  });

  test('without endpoints the service REJECTs at once', async () => {
    await setEndpoints([]);
    const t0 = Date.now();
    const seen = await tn.runClient(undefined, 'names', clusterIP, 80, 3);
    assert.deepEqual(seen, { ECONNREFUSED: 3 });
    assert.ok(Date.now() - t0 < 2500, 'refused, not timed out');
  });

  test('a verifying sync repairs rules changed behind the proxy\'s back', async () => {
    await setEndpoints(tn.pods.map((p) => p.ip));
    const svcChain = [...proxy.rendered!.nat.keys()].find((c) => c.startsWith(`${prefix}-SVC-`))!;
    // Someone deletes a balancing rule and the PREROUTING/OUTPUT jumps.
    assert.equal((await run('iptables', ['-t', 'nat', '-D', svcChain, '2'])).code, 0);
    for (const chain of ['OUTPUT', 'PREROUTING']) {
      const r = await run('iptables', ['-t', 'nat', '-D', chain, '-m', 'comment', '--comment', 'kubernetes service portals', '-j', `${prefix}-SERVICES`]);
      assert.equal(r.code, 0, r.stderr);
    }
    const broken = await tn.runClient(undefined, 'names', clusterIP, 80, 2);
    assert.ok(!broken.pod0 && !broken.pod1, `service broken before the repair: ${JSON.stringify(broken)}`);
    const partial = await proxy.syncNow();
    assert.equal(partial.wrote, false, 'a partial sync does not look at the kernel');
    const s = await proxy.syncNow({ mode: 'verify' });
    assert.equal(s.mode, 'verify');
    assert.equal(s.drifted, 1);
    // (Session affinity is still on from the test above: one client, one pod.)
    const seen = await tn.runClient(undefined, 'names', clusterIP, 80, 20);
    assert.equal((seen.pod0 ?? 0) + (seen.pod1 ?? 0), 20, JSON.stringify(seen));
    const rules = (await run('iptables', ['-t', 'nat', '-S', svcChain])).stdout.split('\n').filter((l) => l.startsWith('-A'));
    assert.equal(rules.length, proxy.rendered!.nat.get(svcChain)!.length);
    const again = await proxy.syncNow({ mode: 'verify' });
    assert.equal(again.drifted, 0);
    assert.equal(again.wrote, false);
  });

  test('UDP: a flow to a removed endpoint is cleared from conntrack and moves on', { skip: noConntrack }, async () => {
    await cluster.client.create(SERVICES, ns, {
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: 'dns', labels: { 'service.kubernetes.io/service-proxy-name': proxyName } },
      spec: { type: 'ClusterIP', clusterIP: udpIP, ports: [{ name: 'dns', port: 53, targetPort: 5353, protocol: 'UDP' }] },
    });
    const udpSlice = (ips: string[]) => ({
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { name: 'dns-1', labels: { 'kubernetes.io/service-name': 'dns' } },
      addressType: 'IPv4', ports: [{ name: 'dns', port: 5353, protocol: 'UDP' }],
      endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true }, nodeName: 'node-1' })),
    });
    const programmed = (n: number) => eventually(() => proxy.rendered?.servicePorts.find((p) => p.name === 'default/dns:dns')?.endpoints.length === n, `${n} UDP endpoints programmed`, 10_000);
    await cluster.client.create(ENDPOINTSLICES, ns, udpSlice(tn.pods.map((p) => p.ip)));
    await programmed(2);
    // One source port = one conntrack flow = one backend for every datagram.
    const srcPort = await freePort(45000, 49999);
    const first = await tn.runClient(undefined, 'udp', udpIP, 53, 5, srcPort);
    const stuck = Object.keys(first).filter((k) => k.startsWith('pod'));
    assert.equal(stuck.length, 1, JSON.stringify(first));
    assert.equal(first[stuck[0]!], 5);
    // Remove that endpoint (its server keeps running, as a pod that is terminating would):
    // only the conntrack cleanup moves the flow to the other one.
    const keep = tn.pods.find((p) => p.name !== stuck[0])!;
    const cur = await cluster.client.get<any>(ENDPOINTSLICES, ns, 'dns-1');
    await cluster.client.update(ENDPOINTSLICES, ns, { ...udpSlice([keep.ip]), metadata: cur.metadata });
    await programmed(1);
    const after = await tn.runClient(undefined, 'udp', udpIP, 53, 5, srcPort);
    assert.deepEqual(after, { [keep.name]: 5 });
    assert.ok(proxy.counters.lastSync!.conntrackDeletes > 0);
  });

  test('stop() removes every rule and chain of the prefix', async () => {
    assert.ok((await iptablesSave()).includes(`${prefix}-SERVICES`));
    stopped = true;
    await proxy.stop();
    const saved = await iptablesSave();
    assert.ok(!saved.includes(prefix), saved.split('\n').filter((l) => l.includes(prefix)).join('\n'));
  });
});
