import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import {
  cidrContains, fixedChains, hashName, isOwnChain, jumpRules, probability, renderRestoreText, renderRules,
  toRestoreText, type RenderOptions, type RenderedRules,
} from './rules.js';

// ---- fixtures --------------------------------------------------------------------------------

const NODE = 'node-a';
const OPTS: RenderOptions = { chainPrefix: 'KUBE', nodeName: NODE, nodeIPs: ['192.168.1.10'], clusterCIDR: '10.244.0.0/16' };

function svc(name: string, spec: Service['spec'], extra: Partial<Service> = {}): Service {
  return { metadata: { namespace: 'ns1', name, ...(extra.metadata ?? {}) }, spec: { type: 'ClusterIP', ...spec }, status: extra.status };
}

interface EP { ip: string; node?: string; ready?: boolean; serving?: boolean; terminating?: boolean }
function slice(svcName: string, ports: Array<{ name?: string; port: number; protocol?: string }>, eps: EP[], name = `${svcName}-abcde`): EndpointSlice {
  return {
    metadata: { namespace: 'ns1', name, labels: { 'kubernetes.io/service-name': svcName } },
    addressType: 'IPv4',
    ports: ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol ?? 'TCP' })),
    endpoints: eps.map((e) => ({
      addresses: [e.ip], nodeName: e.node ?? 'node-b',
      conditions: { ready: e.ready ?? true, serving: e.serving ?? e.ready ?? true, terminating: e.terminating ?? false },
    })),
  };
}

const chain = (r: RenderedRules, table: 'nat' | 'filter', name: string) => r[table].get(name);
const svcChain = (spn: string, proto = 'tcp') => `KUBE-SVC-${hashName(spn + proto)}`;
const svlChain = (spn: string, proto = 'tcp') => `KUBE-SVL-${hashName(spn + proto)}`;
const extChain = (spn: string, proto = 'tcp') => `KUBE-EXT-${hashName(spn + proto)}`;
const sepChain = (spn: string, ep: string, proto = 'tcp') => `KUBE-SEP-${hashName(spn + proto + ep)}`;
/** Target chains of a chain's rules, in order. */
const targets = (lines: string[] | undefined) => (lines ?? []).map((l) => / -j (\S+)/.exec(l)?.[1]);

// ---- pure helpers ----------------------------------------------------------------------------

test('probability prints what iptables-save prints back (11 decimals of round(p·2³¹)/2³¹)', () => {
  const cases: Array<[number, string]> = [[2, '0.50000000000'], [3, '0.33333333349'], [4, '0.25000000000'], [10, '0.10000000009']];
  for (const [n, want] of cases) assert.equal(probability(n), want, `1/${n}`);
});

test('chain names hash like kube-proxy (sha256, base32, 16 characters)', () => {
  // Names from kube-proxy's own tests for ns1/svc1:p80 and its endpoint 10.180.0.1:80.
  assert.equal(`KUBE-SVC-${hashName('ns1/svc1:p80tcp')}`, 'KUBE-SVC-XPGD46QRK7WJZT7O');
  assert.equal(`KUBE-SEP-${hashName('ns1/svc1:p80tcp10.180.0.1:80')}`, 'KUBE-SEP-SXIVWICOYRO3J4NJ');
});

test('chain prefixes: validated, and every chain name fits in 28 characters', () => {
  for (const bad of ['', 'kube', 'KUBE-X', 'ABCDEFGHIJK', '1ABC']) assert.throws(() => fixedChains(bad), /chain prefix/, bad);
  const prefix = 'ABCDEFGHIJ'; // the longest allowed
  const r = renderRules([svc('svc1', { clusterIP: '10.96.0.10', type: 'LoadBalancer', loadBalancerSourceRanges: ['1.2.3.0/24'], externalTrafficPolicy: 'Local', ports: [{ name: 'p80', port: 80, nodePort: 30001 }] },
    { status: { loadBalancer: { ingress: [{ ip: '5.6.7.8' }] } } })],
  [slice('svc1', [{ name: 'p80', port: 80 }], [{ ip: '10.244.0.5', node: NODE }])], { ...OPTS, chainPrefix: prefix });
  const names = [...r.nat.keys(), ...r.filter.keys()];
  for (const kind of ['SVC', 'SVL', 'EXT', 'FW', 'SEP', 'EXTERNAL-SERVICES']) assert.ok(names.some((n) => n.startsWith(`${prefix}-${kind}`)), kind);
  for (const n of names) {
    assert.ok(n.length <= 28, `${n} is ${n.length} characters`);
    assert.ok(isOwnChain(prefix, n), n);
  }
  assert.equal(isOwnChain('KUBE', 'KUBE-SVC-XPGD46QRK7WJZT7O'), true);
  assert.equal(isOwnChain('KUBE', 'KUBEX-SERVICES'), false);
  assert.equal(isOwnChain('KUBE', 'KUBE-HOSTPORTS'), false);
});

test('jump rules from the built-in chains', () => {
  const j = jumpRules('KT');
  const has = (table: string, chain: string, target: string) => j.some((r) => r.table === table && r.chain === chain && r.args.at(-1) === target);
  assert.ok(has('nat', 'PREROUTING', 'KT-SERVICES'));
  assert.ok(has('nat', 'OUTPUT', 'KT-SERVICES'));
  assert.ok(has('nat', 'POSTROUTING', 'KT-POSTROUTING'));
  for (const c of ['INPUT', 'OUTPUT', 'FORWARD']) assert.ok(has('filter', c, 'KT-SERVICES'), c);
  for (const c of ['INPUT', 'FORWARD']) assert.ok(has('filter', c, 'KT-EXTERNAL-SERVICES'), c);
  assert.ok(has('filter', 'FORWARD', 'KT-FORWARD'));
});

test('cidrContains', () => {
  assert.equal(cidrContains('10.244.0.0/16', '10.244.3.4'), true);
  assert.equal(cidrContains('10.244.0.0/16', '10.245.0.1'), false);
  assert.equal(cidrContains('0.0.0.0/0', '8.8.8.8'), true);
  assert.equal(cidrContains('bogus', '8.8.8.8'), false);
});

// ---- table-driven rule cases -----------------------------------------------------------------

interface Case {
  name: string;
  services: Service[];
  slices: EndpointSlice[];
  opts?: Partial<RenderOptions>;
  check(r: RenderedRules): void;
}

const SPN = 'ns1/svc1:p80';

const cases: Case[] = [
  {
    name: 'ClusterIP with 3 endpoints: 1/3, 1/2, last unconditional; off-cluster clients masqueraded',
    services: [svc('svc1', { clusterIP: '10.96.0.10', ports: [{ name: 'p80', port: 80, targetPort: 8080 }] })],
    slices: [slice('svc1', [{ name: 'p80', port: 8080 }], [{ ip: '10.244.1.3' }, { ip: '10.244.1.1' }, { ip: '10.244.1.2' }])],
    check(r) {
      const svc = svcChain(SPN);
      assert.deepEqual(chain(r, 'nat', 'KUBE-SERVICES'), [
        `-A KUBE-SERVICES -m comment --comment "${SPN} cluster IP" -m tcp -p tcp -d 10.96.0.10/32 --dport 80 -j ${svc}`,
        '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
      ]);
      const [a, b, c] = ['10.244.1.1:8080', '10.244.1.2:8080', '10.244.1.3:8080'];
      assert.deepEqual(chain(r, 'nat', svc), [
        `-A ${svc} -m comment --comment "${SPN} cluster IP" -m tcp -p tcp -d 10.96.0.10/32 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ`,
        `-A ${svc} -m comment --comment "${SPN} -> ${a}" -m statistic --mode random --probability 0.33333333349 -j ${sepChain(SPN, a)}`,
        `-A ${svc} -m comment --comment "${SPN} -> ${b}" -m statistic --mode random --probability 0.50000000000 -j ${sepChain(SPN, b)}`,
        `-A ${svc} -m comment --comment "${SPN} -> ${c}" -j ${sepChain(SPN, c)}`,
      ]);
      assert.deepEqual(chain(r, 'nat', sepChain(SPN, a)), [
        `-A ${sepChain(SPN, a)} -m comment --comment "${SPN}" -s 10.244.1.1/32 -j KUBE-MARK-MASQ`,
        `-A ${sepChain(SPN, a)} -m comment --comment "${SPN}" -m tcp -p tcp -j DNAT --to-destination ${a}`,
      ]);
      assert.equal(chain(r, 'nat', extChain(SPN)), undefined, 'no external destinations');
      assert.deepEqual(chain(r, 'filter', 'KUBE-SERVICES'), []);
      assert.deepEqual(r.servicePorts.map((s) => [s.key, s.endpoints]), [[`${SPN}/tcp`, [a, b, c]]]);
    },
  },
  {
    name: 'NodePort: <P>-NODEPORTS → EXT (masquerade) → SVC',
    services: [svc('svc1', { type: 'NodePort', clusterIP: '10.96.0.10', ports: [{ name: 'p80', port: 80, nodePort: 30080 }] })],
    slices: [slice('svc1', [{ name: 'p80', port: 80 }], [{ ip: '10.244.1.1' }])],
    check(r) {
      const ext = extChain(SPN);
      assert.deepEqual(chain(r, 'nat', 'KUBE-NODEPORTS'), [`-A KUBE-NODEPORTS -m comment --comment "${SPN}" -m tcp -p tcp --dport 30080 -j ${ext}`]);
      assert.deepEqual(chain(r, 'nat', ext), [
        `-A ${ext} -m comment --comment "masquerade traffic for ${SPN} external destinations" -j KUBE-MARK-MASQ`,
        `-A ${ext} -j ${svcChain(SPN)}`,
      ]);
      assert.match(chain(r, 'nat', 'KUBE-SERVICES')!.at(-1)!, /-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS$/);
      assert.equal(r.servicePorts[0]!.nodePort, 30080);
    },
  },
  {
    name: 'NodePort on chosen addresses only (nodePortAddresses)',
    services: [svc('svc1', { type: 'NodePort', clusterIP: '10.96.0.10', ports: [{ name: 'p80', port: 80, nodePort: 30080 }] })],
    slices: [slice('svc1', [{ name: 'p80', port: 80 }], [{ ip: '10.244.1.1' }])],
    opts: { nodePortAddresses: ['192.168.1.0/24', '127.0.0.1'] },
    check(r) {
      assert.deepEqual(targets(chain(r, 'nat', 'KUBE-SERVICES')).slice(-2), ['KUBE-NODEPORTS', 'KUBE-NODEPORTS']);
      assert.match(chain(r, 'nat', 'KUBE-SERVICES')!.at(-2)!, /-d 192\.168\.1\.0\/24 -j KUBE-NODEPORTS$/);
      assert.match(chain(r, 'nat', 'KUBE-SERVICES')!.at(-1)!, /-d 127\.0\.0\.1\/32 -j KUBE-NODEPORTS$/);
    },
  },
  {
    name: 'sessionAffinity ClientIP: recent --rcheck per endpoint before balancing, --set on DNAT',
    services: [svc('svc1', { clusterIP: '10.96.0.10', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } }, ports: [{ name: 'p80', port: 80 }] })],
    slices: [slice('svc1', [{ name: 'p80', port: 80 }], [{ ip: '10.244.1.1' }, { ip: '10.244.1.2' }])],
    check(r) {
      const svc = svcChain(SPN);
      const [a, b] = ['10.244.1.1:80', '10.244.1.2:80'];
      const lines = chain(r, 'nat', svc)!;
      assert.equal(lines.length, 5);
      assert.equal(lines[1], `-A ${svc} -m comment --comment "${SPN} -> ${a}" -m recent --name ${sepChain(SPN, a)} --rcheck --seconds 600 --reap -j ${sepChain(SPN, a)}`);
      assert.equal(lines[2], `-A ${svc} -m comment --comment "${SPN} -> ${b}" -m recent --name ${sepChain(SPN, b)} --rcheck --seconds 600 --reap -j ${sepChain(SPN, b)}`);
      assert.match(lines[3]!, /--probability 0\.50000000000/);
      assert.equal(chain(r, 'nat', sepChain(SPN, a))![1],
        `-A ${sepChain(SPN, a)} -m comment --comment "${SPN}" -m recent --name ${sepChain(SPN, a)} --set -m tcp -p tcp -j DNAT --to-destination ${a}`);
    },
  },
  {
    name: 'sessionAffinity default timeout is 10800 s',
    services: [svc('svc1', { clusterIP: '10.96.0.10', sessionAffinity: 'ClientIP', ports: [{ name: 'p80', port: 80 }] })],
    slices: [slice('svc1', [{ name: 'p80', port: 80 }], [{ ip: '10.244.1.1' }])],
    check(r) {
      assert.match(chain(r, 'nat', svcChain(SPN))![1]!, /--rcheck --seconds 10800 --reap/);
    },
  },
  {
    name: 'externalTrafficPolicy Local: SVL with local endpoints only; pods and the node short-circuit to SVC',
    services: [svc('svc1', { type: 'NodePort', externalTrafficPolicy: 'Local', clusterIP: '10.96.0.10', ports: [{ name: 'p80', port: 80, nodePort: 30080 }] })],
    slices: [slice('svc1', [{ name: 'p80', port: 80 }], [{ ip: '10.244.1.1', node: NODE }, { ip: '10.244.2.1', node: 'node-b' }])],
    check(r) {
      const ext = extChain(SPN);
      const svl = svlChain(SPN);
      assert.deepEqual(chain(r, 'nat', ext), [
        `-A ${ext} -m comment --comment "pod traffic for ${SPN} external destinations" -s 10.244.0.0/16 -j ${svcChain(SPN)}`,
        `-A ${ext} -m comment --comment "masquerade LOCAL traffic for ${SPN} external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`,
        `-A ${ext} -m comment --comment "route LOCAL traffic for ${SPN} external destinations" -m addrtype --src-type LOCAL -j ${svcChain(SPN)}`,
        `-A ${ext} -j ${svl}`,
      ]);
      assert.deepEqual(chain(r, 'nat', svl), [`-A ${svl} -m comment --comment "${SPN} -> 10.244.1.1:80" -j ${sepChain(SPN, '10.244.1.1:80')}`]);
      // The cluster IP still balances over both (internal policy Cluster).
      assert.equal(targets(chain(r, 'nat', svcChain(SPN))).filter((t) => t?.startsWith('KUBE-SEP-')).length, 2);
      assert.deepEqual(chain(r, 'filter', 'KUBE-EXTERNAL-SERVICES'), []);
    },
  },
  {
    name: 'externalTrafficPolicy Local without a local endpoint: DROP external traffic, no policy jump',
    services: [svc('svc1', { type: 'NodePort', externalTrafficPolicy: 'Local', clusterIP: '10.96.0.10', ports: [{ name: 'p80', port: 80, nodePort: 30080 }] })],
    slices: [slice('svc1', [{ name: 'p80', port: 80 }], [{ ip: '10.244.2.1', node: 'node-b' }])],
    check(r) {
      assert.deepEqual(chain(r, 'filter', 'KUBE-EXTERNAL-SERVICES'), [
        `-A KUBE-EXTERNAL-SERVICES -m comment --comment "${SPN} has no local endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30080 -j DROP`,
      ]);
      assert.deepEqual(targets(chain(r, 'nat', extChain(SPN))), [svcChain(SPN), 'KUBE-MARK-MASQ', svcChain(SPN)]);
      assert.equal(chain(r, 'nat', svlChain(SPN)), undefined);
      assert.match(chain(r, 'nat', 'KUBE-SERVICES')![0]!, new RegExp(`-j ${svcChain(SPN)}$`), 'cluster IP still served');
    },
  },
  {
    name: 'internalTrafficPolicy Local: cluster IP → SVL with local endpoints',
    services: [svc('svc1', { internalTrafficPolicy: 'Local', clusterIP: '10.96.0.10', ports: [{ name: 'p80', port: 80 }] })],
    slices: [slice('svc1', [{ name: 'p80', port: 80 }], [{ ip: '10.244.1.1', node: NODE }, { ip: '10.244.1.2', node: NODE }, { ip: '10.244.2.1' }])],
    check(r) {
      const svl = svlChain(SPN);
      assert.match(chain(r, 'nat', 'KUBE-SERVICES')![0]!, new RegExp(`cluster IP.*-j ${svl}$`));
      assert.deepEqual(targets(chain(r, 'nat', svl)), ['KUBE-MARK-MASQ', sepChain(SPN, '10.244.1.1:80'), sepChain(SPN, '10.244.1.2:80')]);
      assert.equal(chain(r, 'nat', svcChain(SPN)), undefined, 'no Cluster chain needed');
      assert.equal(chain(r, 'nat', sepChain(SPN, '10.244.2.1:80')), undefined, 'remote endpoint unreachable from here');
    },
  },
  {
    name: 'internalTrafficPolicy Local without a local endpoint: DROP in filter',
    services: [svc('svc1', { internalTrafficPolicy: 'Local', clusterIP: '10.96.0.10', ports: [{ name: 'p80', port: 80 }] })],
    slices: [slice('svc1', [{ name: 'p80', port: 80 }], [{ ip: '10.244.2.1' }])],
    check(r) {
      assert.deepEqual(chain(r, 'filter', 'KUBE-SERVICES'), [
        `-A KUBE-SERVICES -m comment --comment "${SPN} has no local endpoints" -m tcp -p tcp -d 10.96.0.10/32 --dport 80 -j DROP`,
      ]);
      assert.equal(chain(r, 'nat', 'KUBE-SERVICES')!.length, 1, 'only the nodeports rule');
    },
  },
  {
    name: 'no endpoints: REJECT cluster IP, external IP, LB IP and NodePort in filter; no nat chains',
    services: [svc('svc1', { type: 'LoadBalancer', clusterIP: '10.96.0.10', externalIPs: ['192.168.99.1'], ports: [{ name: 'p80', port: 80, nodePort: 30080 }] },
      { status: { loadBalancer: { ingress: [{ ip: '5.6.7.8' }] } } })],
    slices: [slice('svc1', [{ name: 'p80', port: 80 }], [{ ip: '10.244.1.1', ready: false, serving: false }])],
    check(r) {
      assert.deepEqual(chain(r, 'filter', 'KUBE-SERVICES'), [
        `-A KUBE-SERVICES -m comment --comment "${SPN} has no endpoints" -m tcp -p tcp -d 10.96.0.10/32 --dport 80 -j REJECT`,
      ]);
      assert.deepEqual(chain(r, 'filter', 'KUBE-EXTERNAL-SERVICES'), [
        `-A KUBE-EXTERNAL-SERVICES -m comment --comment "${SPN} has no endpoints" -m tcp -p tcp -d 192.168.99.1/32 --dport 80 -j REJECT`,
        `-A KUBE-EXTERNAL-SERVICES -m comment --comment "${SPN} has no endpoints" -m tcp -p tcp -d 5.6.7.8/32 --dport 80 -j REJECT`,
        `-A KUBE-EXTERNAL-SERVICES -m comment --comment "${SPN} has no endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30080 -j REJECT`,
      ]);
      assert.deepEqual([...r.nat.keys()], ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ']);
      assert.deepEqual(chain(r, 'nat', 'KUBE-NODEPORTS'), []);
    },
  },
  {
    name: 'service without any slice: REJECT',
    services: [svc('svc1', { clusterIP: '10.96.0.10', ports: [{ name: 'p80', port: 80, protocol: 'UDP' }] })],
    slices: [],
    check(r) {
      assert.match(chain(r, 'filter', 'KUBE-SERVICES')![0]!, /-m udp -p udp -d 10\.96\.0\.10\/32 --dport 80 -j REJECT$/);
    },
  },
  {
    name: 'terminating endpoints: ignored while a ready one exists',
    services: [svc('svc1', { clusterIP: '10.96.0.10', ports: [{ name: 'p80', port: 80 }] })],
    slices: [slice('svc1', [{ name: 'p80', port: 80 }], [{ ip: '10.244.1.1', ready: false, serving: true, terminating: true }, { ip: '10.244.1.2' }])],
    check(r) {
      assert.deepEqual(targets(chain(r, 'nat', svcChain(SPN))).slice(1), [sepChain(SPN, '10.244.1.2:80')]);
    },
  },
  {
    name: 'terminating endpoints: serving ones used when nothing is ready; non-serving never',
    services: [svc('svc1', { clusterIP: '10.96.0.10', ports: [{ name: 'p80', port: 80 }] })],
    slices: [slice('svc1', [{ name: 'p80', port: 80 }], [
      { ip: '10.244.1.1', ready: false, serving: true, terminating: true },
      { ip: '10.244.1.2', ready: false, serving: false, terminating: true },
      { ip: '10.244.1.3', ready: false, serving: true, terminating: true },
    ])],
    check(r) {
      assert.deepEqual(targets(chain(r, 'nat', svcChain(SPN))).slice(1), [sepChain(SPN, '10.244.1.1:80'), sepChain(SPN, '10.244.1.3:80')]);
      assert.deepEqual(chain(r, 'filter', 'KUBE-SERVICES'), []);
    },
  },
  {
    name: 'hairpin: every endpoint chain masquerades packets whose source is the endpoint',
    services: [svc('svc1', { clusterIP: '10.96.0.10', ports: [{ name: 'p80', port: 80 }] })],
    slices: [slice('svc1', [{ name: 'p80', port: 80 }], [{ ip: '10.244.1.1' }, { ip: '10.244.1.2' }])],
    check(r) {
      for (const ip of ['10.244.1.1', '10.244.1.2']) {
        const sep = sepChain(SPN, `${ip}:80`);
        assert.equal(chain(r, 'nat', sep)![0], `-A ${sep} -m comment --comment "${SPN}" -s ${ip}/32 -j KUBE-MARK-MASQ`);
      }
      assert.deepEqual(chain(r, 'nat', 'KUBE-MARK-MASQ'), ['-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000']);
      assert.deepEqual(chain(r, 'nat', 'KUBE-POSTROUTING'), [
        '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
        '-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000',
        '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
      ]);
    },
  },
  {
    name: 'named target ports: each slice carries its own port number',
    services: [svc('svc1', { clusterIP: '10.96.0.10', ports: [{ name: 'p80', port: 80, targetPort: 'http' }] })],
    slices: [
      slice('svc1', [{ name: 'p80', port: 8080 }], [{ ip: '10.244.1.1' }], 'svc1-aaaaa'),
      slice('svc1', [{ name: 'p80', port: 9090 }], [{ ip: '10.244.1.2' }], 'svc1-bbbbb'),
    ],
    check(r) {
      assert.deepEqual(r.servicePorts[0]!.endpoints, ['10.244.1.1:8080', '10.244.1.2:9090']);
      assert.match(chain(r, 'nat', sepChain(SPN, '10.244.1.2:9090'))![1]!, /--to-destination 10\.244\.1\.2:9090$/);
    },
  },
  {
    name: 'multi-port and multi-protocol service: one chain set per port, matched by name and protocol',
    services: [svc('dns', { clusterIP: '10.96.0.53', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }, { name: 'sctp', port: 99, protocol: 'SCTP' }] })],
    slices: [slice('dns', [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }, { name: 'sctp', port: 99, protocol: 'SCTP' }], [{ ip: '10.244.1.9' }])],
    check(r) {
      assert.deepEqual(r.servicePorts.map((s) => s.key), ['ns1/dns:dns-tcp/tcp', 'ns1/dns:dns/udp', 'ns1/dns:sctp/sctp']);
      const udpSep = sepChain('ns1/dns:dns', '10.244.1.9:53', 'udp');
      assert.match(chain(r, 'nat', udpSep)![1]!, /-m udp -p udp -j DNAT --to-destination 10\.244\.1\.9:53$/);
      assert.match(chain(r, 'nat', sepChain('ns1/dns:sctp', '10.244.1.9:99', 'sctp'))![1]!, /-m sctp -p sctp -j DNAT/);
    },
  },
  {
    name: 'externalIPs and LoadBalancer ingress go through EXT; ipMode Proxy and IPv6 ignored',
    services: [svc('svc1', { type: 'LoadBalancer', clusterIP: '10.96.0.10', externalIPs: ['192.168.99.1', 'fd00::1'], ports: [{ name: 'p80', port: 80, nodePort: 30080 }] },
      { status: { loadBalancer: { ingress: [{ ip: '5.6.7.8' }, { ip: '5.6.7.9', ipMode: 'Proxy' } as any, { hostname: 'lb.example' }] } } })],
    slices: [slice('svc1', [{ name: 'p80', port: 80 }], [{ ip: '10.244.1.1' }])],
    check(r) {
      const ext = extChain(SPN);
      assert.deepEqual(chain(r, 'nat', 'KUBE-SERVICES')!.slice(1, 3), [
        `-A KUBE-SERVICES -m comment --comment "${SPN} external IP" -m tcp -p tcp -d 192.168.99.1/32 --dport 80 -j ${ext}`,
        `-A KUBE-SERVICES -m comment --comment "${SPN} loadbalancer IP" -m tcp -p tcp -d 5.6.7.8/32 --dport 80 -j ${ext}`,
      ]);
      assert.equal(chain(r, 'nat', 'KUBE-SERVICES')!.length, 4);
      assert.deepEqual(r.servicePorts[0]!.loadBalancerIPs, ['5.6.7.8']);
    },
  },
  {
    name: 'loadBalancerSourceRanges: FW chain accepts the ranges, filter drops the rest',
    services: [svc('svc1', { type: 'LoadBalancer', clusterIP: '10.96.0.10', loadBalancerSourceRanges: ['203.0.113.0/25', '192.168.1.0/24'], ports: [{ name: 'p80', port: 80, nodePort: 30080 }] },
      { status: { loadBalancer: { ingress: [{ ip: '5.6.7.8' }] } } })],
    slices: [slice('svc1', [{ name: 'p80', port: 80 }], [{ ip: '10.244.1.1' }])],
    check(r) {
      const fw = `KUBE-FW-${hashName(SPN + 'tcp')}`;
      assert.match(chain(r, 'nat', 'KUBE-SERVICES')![1]!, new RegExp(`loadbalancer IP.*-d 5\\.6\\.7\\.8/32 --dport 80 -j ${fw}$`));
      assert.deepEqual(chain(r, 'nat', fw), [
        `-A ${fw} -m comment --comment "${SPN} loadbalancer IP" -s 203.0.113.0/25 -j ${extChain(SPN)}`,
        `-A ${fw} -m comment --comment "${SPN} loadbalancer IP" -s 192.168.1.0/24 -j ${extChain(SPN)}`,
        // The node (192.168.1.10) is inside an allowed range: its traffic may come from the LB IP.
        `-A ${fw} -m comment --comment "${SPN} loadbalancer IP" -s 5.6.7.8/32 -j ${extChain(SPN)}`,
      ]);
      assert.deepEqual(chain(r, 'filter', 'KUBE-PROXY-FIREWALL'), [
        `-A KUBE-PROXY-FIREWALL -m comment --comment "${SPN} traffic not accepted by ${fw}" -m tcp -p tcp -d 5.6.7.8/32 --dport 80 -j DROP`,
      ]);
    },
  },
  {
    name: 'skipped: headless, ExternalName, IPv6-only, other proxies\' services, slices of other namespaces',
    services: [
      svc('headless', { clusterIP: 'None', ports: [{ port: 80 }] }),
      svc('ext', { type: 'ExternalName', externalName: 'example.com', ports: [{ port: 80 }] }),
      svc('v6', { clusterIP: 'fd00::10', clusterIPs: ['fd00::10'], ports: [{ port: 80 }] }),
      svc('other', { clusterIP: '10.96.0.11', ports: [{ port: 80 }] }, { metadata: { namespace: 'ns1', name: 'other', labels: { 'service.kubernetes.io/service-proxy-name': 'x' } } }),
      svc('svc1', { clusterIP: '10.96.0.10', ports: [{ port: 80 }] }),
    ],
    slices: [{ ...slice('svc1', [{ port: 80 }], [{ ip: '10.244.9.9' }]), metadata: { namespace: 'ns2', name: 'x', labels: { 'kubernetes.io/service-name': 'svc1' } } }],
    check(r) {
      assert.deepEqual(r.servicePorts.map((s) => [s.key, s.endpoints.length]), [['ns1/svc1/tcp', 0]]);
    },
  },
  {
    name: 'serviceProxyName: only the services labelled for this proxy',
    services: [
      svc('mine', { clusterIP: '10.96.0.11', ports: [{ port: 80 }] }, { metadata: { namespace: 'ns1', name: 'mine', labels: { 'service.kubernetes.io/service-proxy-name': 'e2e' } } }),
      svc('theirs', { clusterIP: '10.96.0.12', ports: [{ port: 80 }] }, { metadata: { namespace: 'ns1', name: 'theirs', labels: { 'service.kubernetes.io/service-proxy-name': 'x' } } }),
      svc('plain', { clusterIP: '10.96.0.10', ports: [{ port: 80 }] }),
    ],
    slices: [],
    opts: { serviceProxyName: 'e2e' },
    check(r) {
      assert.deepEqual(r.servicePorts.map((s) => s.key), ['ns1/mine/tcp']);
    },
  },
  {
    name: 'masqueradeAll masquerades every client; another mark bit',
    services: [svc('svc1', { clusterIP: '10.96.0.10', ports: [{ name: 'p80', port: 80 }] })],
    slices: [slice('svc1', [{ name: 'p80', port: 80 }], [{ ip: '10.244.1.1' }])],
    opts: { masqueradeAll: true, masqueradeBit: 12 },
    check(r) {
      assert.match(chain(r, 'nat', svcChain(SPN))![0]!, /--dport 80 -j KUBE-MARK-MASQ$/);
      assert.deepEqual(chain(r, 'nat', 'KUBE-MARK-MASQ'), ['-A KUBE-MARK-MASQ -j MARK --or-mark 0x1000']);
      assert.match(chain(r, 'nat', 'KUBE-POSTROUTING')![0]!, /--mark 0x1000\/0x1000 -j RETURN$/);
    },
  },
  {
    name: 'unknown cluster CIDR: no off-cluster masquerade rule (as kube-proxy without a local detector)',
    services: [svc('svc1', { clusterIP: '10.96.0.10', ports: [{ name: 'p80', port: 80 }] })],
    slices: [slice('svc1', [{ name: 'p80', port: 80 }], [{ ip: '10.244.1.1' }])],
    opts: { clusterCIDR: '' },
    check(r) {
      assert.deepEqual(targets(chain(r, 'nat', svcChain(SPN))), [sepChain(SPN, '10.244.1.1:80')]);
    },
  },
  {
    name: 'duplicate endpoints across slices count once; unready (not terminating) never used',
    services: [svc('svc1', { clusterIP: '10.96.0.10', ports: [{ name: 'p80', port: 80 }] })],
    slices: [
      slice('svc1', [{ name: 'p80', port: 80 }], [{ ip: '10.244.1.1' }, { ip: '10.244.1.5', ready: false, serving: false }], 'svc1-aaaaa'),
      slice('svc1', [{ name: 'p80', port: 80 }], [{ ip: '10.244.1.1' }], 'svc1-bbbbb'),
    ],
    check(r) {
      assert.deepEqual(r.servicePorts[0]!.endpoints, ['10.244.1.1:80']);
    },
  },
];

for (const c of cases) {
  test(`rules: ${c.name}`, () => {
    c.check(renderRules(c.services, c.slices, { ...OPTS, ...c.opts }));
  });
}

test('rendering is deterministic whatever the input order', () => {
  const services: Service[] = [];
  const slices: EndpointSlice[] = [];
  for (let i = 0; i < 20; i++) {
    services.push(svc(`s${i}`, { clusterIP: `10.96.1.${i}`, type: i % 2 ? 'NodePort' : 'ClusterIP', ports: [{ name: 'http', port: 80, nodePort: 30000 + i }] }));
    slices.push(slice(`s${i}`, [{ name: 'http', port: 8080 }], [1, 2, 3].map((j) => ({ ip: `10.244.${i}.${j}` }))));
  }
  const a = renderRestoreText(services, slices, OPTS);
  const shuffle = <T>(xs: T[]) => xs.map((x) => [Math.random(), x] as const).sort((p, q) => p[0] - q[0]).map((p) => p[1]);
  const b = renderRestoreText(shuffle(services), shuffle(slices.map((s) => ({ ...s, endpoints: shuffle(s.endpoints) }))), OPTS);
  assert.equal(a, b);
});

test('toRestoreText: chain lines, rules, then deletions; tables with nothing to do are left out', () => {
  const r = renderRules([svc('svc1', { clusterIP: '10.96.0.10', ports: [{ name: 'p80', port: 80 }] })],
    [slice('svc1', [{ name: 'p80', port: 80 }], [{ ip: '10.244.1.1' }])], OPTS);
  const svc1 = svcChain(SPN);
  const text = toRestoreText(r, { write: { nat: ['KUBE-SERVICES', svc1], filter: [] }, remove: { nat: ['KUBE-SVC-OLD'], filter: [] } });
  const lines = text.trimEnd().split('\n');
  assert.equal(lines[0], '*nat');
  assert.deepEqual(lines.slice(1, 4), [':KUBE-SERVICES - [0:0]', `:${svc1} - [0:0]`, ':KUBE-SVC-OLD - [0:0]']);
  assert.equal(lines.at(-2), '-X KUBE-SVC-OLD');
  assert.equal(lines.at(-1), 'COMMIT');
  assert.ok(!text.includes('*filter'));
  const full = toRestoreText(r);
  assert.ok(full.startsWith('*filter\n') && full.includes('\n*nat\n') && full.endsWith('COMMIT\n'));
  assert.equal(full.split('\n').filter((l) => l.startsWith('-A ')).length, r.ruleCount);
});
