import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { startTestCluster } from '../client/testing.js';
import { dnsService, ensureDNSAddress, ensureDNSConfigMap, ensureDNSService, removeDNSAddress, LABEL_SERVICE_PROXY_NAME } from './bootstrap.js';
import { CONFIGMAPS } from './config.js';
import { SERVICES } from './server.js';

test('bootstrap: kube-dns Service and settings ConfigMap are created once and kept', async (t) => {
  const cluster = await startTestCluster();
  t.after(() => cluster.stop());
  const c = cluster.client;
  const svc = await ensureDNSService(c, '10.96.0.10');
  assert.equal(svc.spec?.clusterIP, '10.96.0.10');
  assert.equal(svc.metadata?.labels?.[LABEL_SERVICE_PROXY_NAME], 'keelson-dns');
  assert.deepEqual(svc.spec?.ports?.map((p) => `${p.name}/${p.protocol}/${p.port}`), ['dns/UDP/53', 'dns-tcp/TCP/53']);
  assert.equal(svc.spec?.selector, undefined);
  // Again: no error, same object.
  assert.equal((await ensureDNSService(c, '10.96.0.10')).metadata?.uid, svc.metadata?.uid);
  // An older kube-dns without the label gets it.
  await c.patch(SERVICES, 'kube-system', 'kube-dns', { metadata: { labels: { [LABEL_SERVICE_PROXY_NAME]: null } } }, 'merge');
  assert.equal((await ensureDNSService(c, '10.96.0.10')).metadata?.labels?.[LABEL_SERVICE_PROXY_NAME], 'keelson-dns');
  // A kube-dns on another address is reported, not silently used.
  await assert.rejects(ensureDNSService(c, '10.96.0.53'), /has ClusterIP 10\.96\.0\.10/);

  await ensureDNSConfigMap(c, { ttl: 5 });
  const cm = await c.get(CONFIGMAPS, 'kube-system', 'keelson-dns');
  assert.deepEqual(cm.data, { zone: 'cluster.local', ttl: '5', upstreams: '/etc/resolv.conf' });
  await c.patch(CONFIGMAPS, 'kube-system', 'keelson-dns', { data: { ttl: '30' } }, 'merge');
  await ensureDNSConfigMap(c, { ttl: 5 });
  assert.equal((await c.get(CONFIGMAPS, 'kube-system', 'keelson-dns')).data.ttl, '30', 'user edits survive');
  assert.equal(dnsService().spec?.clusterIP, '10.96.0.10');
});

const canNetns = (() => {
  if (process.getuid?.() !== 0) return false;
  try { execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' }); return true; } catch { return false; }
})();

/**
 * The node-local plan end to end, in two network namespaces of the test's own: a "node" with
 * the service-range sink device and route, the DNS IP on that device and ClusterDNS bound to
 * 10.96.0.10:53; and a "pod" behind a veth pair whose queries to 10.96.0.10 reach it.
 */
test('bootstrap: pods reach ClusterDNS on the DNS IP bound to the sink device', { skip: canNetns ? false : 'needs root and ip netns' }, async (t) => {
  const id = randomBytes(3).toString('hex');
  const node = `kdns-n-${id}`;
  const pod = `kdns-p-${id}`;
  const ip = (...a: string[]) => execFileSync('ip', a, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    for (const ns of [node, pod]) { try { ip('netns', 'del', ns); } catch { /* gone */ } }
  });
  ip('netns', 'add', node);
  ip('netns', 'add', pod);
  ip('-n', node, 'link', 'set', 'lo', 'up');
  ip('-n', pod, 'link', 'set', 'lo', 'up');
  try { ip('-n', node, 'link', 'add', 'keelson-svc0', 'type', 'dummy'); } catch { ip('-n', node, 'link', 'add', 'keelson-svc0', 'type', 'ifb'); }
  ip('-n', node, 'link', 'set', 'keelson-svc0', 'up');
  ip('-n', node, 'route', 'add', '10.96.0.0/16', 'dev', 'keelson-svc0');
  ip('-n', node, 'link', 'add', 'vh', 'type', 'veth', 'peer', 'name', 'vp', 'netns', pod);
  ip('-n', node, 'addr', 'add', '10.244.0.1/24', 'dev', 'vh');
  ip('-n', node, 'link', 'set', 'vh', 'up');
  ip('-n', pod, 'addr', 'add', '10.244.0.5/24', 'dev', 'vp');
  ip('-n', pod, 'link', 'set', 'vp', 'up');
  ip('-n', pod, 'route', 'add', 'default', 'via', '10.244.0.1');

  await ensureDNSAddress('10.96.0.10', { netns: node });
  await ensureDNSAddress('10.96.0.10', { netns: node }); // idempotent
  assert.match(ip('-n', node, '-4', '-o', 'addr', 'show', 'dev', 'keelson-svc0'), /inet 10\.96\.0\.10\/32/);
  assert.match(ip('-n', node, 'route', 'get', '10.96.0.10'), /^local 10\.96\.0\.10 /);
  assert.match(ip('-n', node, 'route', 'get', '10.96.0.20'), /dev keelson-svc0/, 'other ClusterIPs still go to the sink');

  const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
  const serverCode = `
    import { ClusterDNS } from ${JSON.stringify(here('./server.js'))};
    import { fixtureView } from ${JSON.stringify(here('./testing.js'))};
    const dns = new ClusterDNS({ view: fixtureView(), listen: [{ address: '10.96.0.10', port: 53 }], upstreams: [] });
    await dns.start(new AbortController().signal);
    process.stdout.write('ready\\n');
    process.stdin.on('end', () => dns.stop().then(() => process.exit(0)));
    process.stdin.resume();`;
  const server = spawn('ip', ['netns', 'exec', node, process.execPath, '--input-type=module', '-e', serverCode], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => { server.stdin!.end(); server.kill(); });
  await new Promise<void>((resolve, reject) => {
    server.stdout!.on('data', (d) => { if (String(d).includes('ready')) resolve(); });
    server.on('exit', (code) => reject(new Error(`DNS server exited with ${code}`)));
  });

  const clientCode = (transport: string) => `
    import dgram from 'node:dgram';
    import net from 'node:net';
    import { createRequire } from 'node:module';
    const dnsPacket = createRequire(${JSON.stringify(here('./server.js'))})('dns-packet');
    const pkt = { type: 'query', id: 5, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: 'fortune.default.svc.cluster.local', type: 'A' }] };
    const done = (m) => { const p = dnsPacket.decode(m); console.log(JSON.stringify(p.answers.map((a) => a.data))); process.exit(0); };
    setTimeout(() => { console.log('timeout'); process.exit(1); }, 3000);
    if (${JSON.stringify(transport)} === 'udp') {
      const s = dgram.createSocket('udp4');
      s.on('message', done);
      s.send(dnsPacket.encode(pkt), 53, '10.96.0.10');
    } else {
      const c = net.connect(53, '10.96.0.10', () => c.write(dnsPacket.streamEncode(pkt)));
      let b = Buffer.alloc(0);
      c.on('data', (d) => { b = Buffer.concat([b, d]); if (b.length >= 2 && b.length >= 2 + b.readUInt16BE(0)) done(b.subarray(2)); });
    }`;
  const ask = (ns: string, transport: string) => execFileSync('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', clientCode(transport)], { encoding: 'utf8' }).trim();
  assert.equal(ask(pod, 'udp'), '["10.96.0.20"]', 'pod over UDP');
  assert.equal(ask(pod, 'tcp'), '["10.96.0.20"]', 'pod over TCP');
  assert.equal(ask(node, 'udp'), '["10.96.0.20"]', 'the node itself (hostNetwork pods)');

  await removeDNSAddress('10.96.0.10', { netns: node });
  assert.doesNotMatch(ip('-n', node, '-4', '-o', 'addr', 'show', 'dev', 'keelson-svc0'), /10\.96\.0\.10/);
});
