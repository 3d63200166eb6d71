/**
 * Service proxy benchmark (issue 6 figures), measured in one run on the real kernel (root):
 *
 *  1. Rule sync for --services services × --endpoints endpoints (default 1,000 × 10; ClusterIP
 *     services, as kube-proxy's own scale tests): time to render and apply a full sync (cold:
 *     creating every chain; warm: rewriting them all), one endpoint change (the incremental
 *     path: render, diff, restore only the changed chains) and a sync with nothing changed.
 *     Uses the same renderRules + Iptables the ServiceProxy runs, with its own chain prefix and
 *     addresses nobody routes (10.99/16 services, 10.98/16 endpoints), removed at the end.
 *  2. Throughput through a ClusterIP vs straight to the pod IP: two network-namespace pods on a
 *     test bridge (hairpin on, br_netfilter as on a node), a node TCP server streaming zeros in
 *     one, a node client reading for --seconds in the other (and on the host); rounds alternate
 *     direct and ClusterIP; ratio = ClusterIP bytes/s ÷ direct bytes/s (goal ≥ 0.9), given as
 *     the median of the per-round ratios (robust on a shared, noisy machine) and as the ratio of
 *     the totals.
 *
 *   node .build-proxy/bench/proxy-bench.js [--services 1000] [--endpoints 10] [--rounds 10] [--seconds 1]
 */
import { randomBytes } from 'node:crypto';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { renderRules } from '../src/proxy/rules.js';
import { Iptables, cleanup, run } from '../src/proxy/iptables.js';
import { setProxySysctls } from '../src/proxy/service-proxy.js';
import { TestNet, netSkipReason } from '../src/proxy/testing.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? Number(process.argv[i + 1]) : def;
};
const SERVICES = arg('services', 1000);
const ENDPOINTS = arg('endpoints', 10);
const ROUNDS = arg('rounds', 10);
const SECONDS = arg('seconds', 1);

const ip = (a: number, n: number) => `${a}.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(1)} ms`;

function objects(services: number, endpoints: number): { svcs: Service[]; slices: EndpointSlice[] } {
  const svcs: Service[] = [];
  const slices: EndpointSlice[] = [];
  for (let i = 0; i < services; i++) {
    const name = `svc-${i}`;
    svcs.push({ metadata: { namespace: 'bench', name }, spec: { type: 'ClusterIP', clusterIP: ip(10, (99 << 16) + i + 1), ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] } });
    slices.push({
      metadata: { namespace: 'bench', name: `${name}-abc`, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: Array.from({ length: endpoints }, (_, j) => ({
        addresses: [ip(10, (98 << 16) + i * endpoints + j + 1)], conditions: { ready: true }, nodeName: 'node-1',
      })),
    });
  }
  return { svcs, slices };
}

async function syncBench(): Promise<Record<string, number>> {
  const prefix = `KB${randomBytes(2).toString('hex').toUpperCase()}`;
  const opts = { chainPrefix: prefix, nodeName: 'node-1', clusterCIDR: '10.98.0.0/16' };
  const { svcs, slices } = objects(SERVICES, ENDPOINTS);
  const ipt = new Iptables({ chainPrefix: prefix });
  const out: Record<string, number> = {};
  try {
    const sync = async (full: boolean, mode: 'partial' | 'verify' = 'partial') => {
      const t0 = performance.now();
      const r = renderRules(svcs, slices, opts);
      const t1 = performance.now();
      const a = await ipt.apply(r, { mode: full ? 'full' : mode });
      const t2 = performance.now();
      return { render: t1 - t0, apply: t2 - t1, total: t2 - t0, r, a };
    };

    const cold = await sync(true);
    out.rules = cold.r.ruleCount;
    out.chains = cold.r.chainCount;
    out.restoreBytes = cold.a.bytes;
    out.fullColdMs = cold.total;
    out.fullColdRenderMs = cold.render;
    const warm: Array<Awaited<ReturnType<typeof sync>>> = [];
    for (let i = 0; i < 3; i++) warm.push(await sync(true));
    out.fullWarmMs = median(warm.map((w) => w.total));
    out.fullWarmRenderMs = median(warm.map((w) => w.render));

    // One endpoint change: a different pod IP behind one service.
    const inc: Array<Awaited<ReturnType<typeof sync>>> = [];
    for (let k = 0; k < 7; k++) {
      const s = slices[(k * 137) % slices.length]!;
      s.endpoints[0]!.addresses = [ip(10, (97 << 16) + k + 1)];
      inc.push(await sync(false));
    }
    out.oneEndpointChangeMs = median(inc.map((w) => w.total));
    out.oneEndpointRenderMs = median(inc.map((w) => w.render));
    out.oneEndpointApplyMs = median(inc.map((w) => w.apply));
    out.oneEndpointChainsWritten = median(inc.map((w) => w.a.chainsWritten));
    out.oneEndpointRulesWritten = median(inc.map((w) => w.a.rulesWritten));

    const noop: number[] = [];
    for (let k = 0; k < 3; k++) noop.push((await sync(false)).total);
    out.noChangeMs = median(noop);

    // The periodic verifying sync: iptables-save, compare, rewrite nothing (no drift).
    const verify: number[] = [];
    for (let k = 0; k < 3; k++) verify.push((await sync(false, 'verify')).total);
    out.verifyMs = median(verify);

    const t0 = performance.now();
    await ipt.cleanup();
    out.cleanupMs = performance.now() - t0;
  } finally {
    await cleanup(prefix).catch(() => {});
  }
  return out;
}

async function throughputBench(): Promise<Record<string, number>> {
  const prefix = `KB${randomBytes(2).toString('hex').toUpperCase()}`;
  const tn = await TestNet.create(2);
  const ipt = new Iptables({ chainPrefix: prefix });
  const out: Record<string, number> = {};
  try {
    await setProxySysctls();
    const [server, client] = [tn.pods[0]!, tn.pods[1]!];
    await tn.startServer(server, 5001, 'source');
    const saved = (await run('iptables-save', [])).stdout;
    let clusterIP: string;
    do clusterIP = `10.96.253.${2 + Math.floor(Math.random() * 250)}`; while (saved.includes(`-d ${clusterIP}/32`));
    await tn.routeToBridge(clusterIP);
    const svc: Service = { metadata: { namespace: 'bench', name: 'bulk' }, spec: { clusterIP, ports: [{ name: 'p', port: 80, protocol: 'TCP' }] } };
    const slice: EndpointSlice = {
      metadata: { namespace: 'bench', name: 'bulk-1', labels: { 'kubernetes.io/service-name': 'bulk' } },
      addressType: 'IPv4', ports: [{ name: 'p', port: 5001, protocol: 'TCP' }],
      endpoints: [{ addresses: [server.ip], conditions: { ready: true }, nodeName: 'node-1' }],
    };
    await ipt.apply(renderRules([svc], [slice], { chainPrefix: prefix, nodeName: 'node-1', clusterCIDR: tn.subnet }), { full: true });

    for (const from of ['pod', 'host'] as const) {
      const sums = { direct: { bytes: 0, seconds: 0 }, clusterIP: { bytes: 0, seconds: 0 } };
      const ratios: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const round: Record<string, number> = {};
        for (const mode of (i % 2 ? ['clusterIP', 'direct'] : ['direct', 'clusterIP']) as Array<'direct' | 'clusterIP'>) {
          const r = await tn.runClient(from === 'pod' ? client : undefined, 'bulk', mode === 'direct' ? server.ip : clusterIP, mode === 'direct' ? 5001 : 80, SECONDS * 1000);
          if (r.error) throw new Error(`${mode} transfer failed: ${r.error}`);
          sums[mode].bytes += r.bytes;
          sums[mode].seconds += r.seconds;
          round[mode] = r.bytes / r.seconds;
        }
        ratios.push(round.clusterIP! / round.direct!);
      }
      const direct = sums.direct.bytes / sums.direct.seconds;
      const viaSvc = sums.clusterIP.bytes / sums.clusterIP.seconds;
      out[`${from}DirectMBps`] = direct / 1e6;
      out[`${from}ClusterIPMBps`] = viaSvc / 1e6;
      out[`${from}Ratio`] = median(ratios);
      out[`${from}RatioOfTotals`] = viaSvc / direct;
      out[`${from}RatioMin`] = Math.min(...ratios);
      out[`${from}RatioMax`] = Math.max(...ratios);
    }
  } finally {
    await ipt.cleanup().catch(() => {});
    await tn.destroy();
  }
  return out;
}

async function main(): Promise<void> {
  const skip = await netSkipReason();
  if (skip) {
    console.log(`proxy-bench: skipped (${skip})`);
    return;
  }
  console.log(`proxy-bench: rule sync, ${SERVICES} services × ${ENDPOINTS} endpoints (iptables-restore --noflush, nf_tables backend)`);
  const s = await syncBench();
  console.log(`  rules ${s.rules}, chains ${s.chains}, restore input ${(s.restoreBytes! / 1e6).toFixed(1)} MB`);
  console.log(`  full sync, cold (creates every chain):  ${ms(s.fullColdMs!)}  (render ${ms(s.fullColdRenderMs!)})`);
  console.log(`  full sync, warm (rewrites every chain): ${ms(s.fullWarmMs!)}  (render ${ms(s.fullWarmRenderMs!)})`);
  console.log(`  one endpoint change (incremental):      ${ms(s.oneEndpointChangeMs!)}  (render+diff ${ms(s.oneEndpointRenderMs!)}, restore ${ms(s.oneEndpointApplyMs!)}; ${s.oneEndpointChainsWritten} chains / ${s.oneEndpointRulesWritten} rules written)`);
  console.log(`  sync with nothing changed:              ${ms(s.noChangeMs!)}`);
  console.log(`  periodic verifying sync (no drift):     ${ms(s.verifyMs!)}`);
  console.log(`  cleanup of every rule and chain:        ${ms(s.cleanupMs!)}`);
  console.log(`  ratio full(warm) / one-endpoint change: ${(s.fullWarmMs! / s.oneEndpointChangeMs!).toFixed(1)}×`);

  console.log(`proxy-bench: TCP bulk throughput through a ClusterIP vs straight to the pod IP (${ROUNDS} alternating rounds × ${SECONDS} s, node client and server)`);
  const t = await throughputBench();
  for (const from of ['pod', 'host']) {
    console.log(`  from a ${from.padEnd(4)}: direct ${t[`${from}DirectMBps`]!.toFixed(0)} MB/s, ClusterIP ${t[`${from}ClusterIPMBps`]!.toFixed(0)} MB/s; ratio ${t[`${from}Ratio`]!.toFixed(3)} median of rounds (${t[`${from}RatioMin`]!.toFixed(2)}–${t[`${from}RatioMax`]!.toFixed(2)}), ${t[`${from}RatioOfTotals`]!.toFixed(3)} of totals; goal ≥ 0.9`);
  }
  console.log(JSON.stringify({ bench: 'proxy', services: SERVICES, endpoints: ENDPOINTS, sync: s, throughput: t }));
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
