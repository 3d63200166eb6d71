/**
 * Resource usage of the node and its containers (D16), for metrics-server and `kubectl top`:
 * `/metrics/resource` in the Prometheus text format with the kubelet's metric names, and the
 * `/stats/summary` JSON. Node figures come from /proc (CPU time from /proc/stat, working set =
 * MemTotal − MemAvailable); container figures from CRI ListContainerStats.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { ContainerStats, RuntimeService } from './cri/api.js';
import { LABEL_CONTAINER_NAME, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID } from './runtime-manager.js';

function nodeCpuSeconds(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith('cpu '));
    const f = line!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
    const busy = f[0] + f[1] + f[2] + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
    return busy / 100; // USER_HZ
  } catch { return 0; }
}

function nodeMemory(): { total: number; available: number } {
  try {
    const text = readFileSync('/proc/meminfo', 'utf8');
    const kb = (k: string) => Number(text.match(new RegExp(`^${k}:\\s+(\\d+)`, 'm'))?.[1] ?? 0) * 1024;
    return { total: kb('MemTotal'), available: kb('MemAvailable') };
  } catch { return { total: os.totalmem(), available: os.freemem() }; }
}

interface Row { ns: string; pod: string; uid: string; container: string; cpuSeconds?: number; cpuNanoCores?: number; memory?: number; ts: number; startedAt?: number }

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export class StatsProvider {
  constructor(private readonly runtime: RuntimeService, private readonly nodeName: string) {}

  private async rows(): Promise<Row[]> {
    const [stats, ctrs] = await Promise.all([
      this.runtime.listContainerStats().catch(() => [] as ContainerStats[]),
      this.runtime.listContainers({ state: { state: 'CONTAINER_RUNNING' } }).catch(() => []),
    ]);
    const running = new Map(ctrs.map((c) => [c.id, c]));
    const out: Row[] = [];
    for (const s of stats) {
      const c = running.get(s.attributes.id);
      if (!c) continue;
      const l = c.labels ?? {};
      if (!l[LABEL_POD_UID]) continue;
      out.push({
        ns: l[LABEL_POD_NAMESPACE], pod: l[LABEL_POD_NAME], uid: l[LABEL_POD_UID], container: l[LABEL_CONTAINER_NAME] ?? c.metadata.name,
        cpuSeconds: s.cpu?.usageCoreNanoSeconds ? s.cpu.usageCoreNanoSeconds.value / 1e9 : undefined,
        cpuNanoCores: s.cpu?.usageNanoCores?.value,
        memory: s.memory?.workingSetBytes?.value,
        ts: Math.floor((s.cpu?.timestamp || s.memory?.timestamp || Date.now() * 1e6) / 1e6),
        startedAt: c.createdAt ? c.createdAt / 1e9 : undefined,
      });
    }
    return out;
  }

  async metricsResource(): Promise<string> {
    const now = Date.now();
    const rows = await this.rows();
    const mem = nodeMemory();
    const lines: string[] = [];
    const metric = (name: string, help: string, type: string) => { lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`); };
    metric('container_cpu_usage_seconds_total', '[STABLE] Cumulative cpu time consumed by the container in core-seconds', 'counter');
    for (const r of rows) if (r.cpuSeconds !== undefined) lines.push(`container_cpu_usage_seconds_total{container="${esc(r.container)}",namespace="${esc(r.ns)}",pod="${esc(r.pod)}"} ${r.cpuSeconds} ${r.ts}`);
    metric('container_memory_working_set_bytes', '[STABLE] Current working set of the container in bytes', 'gauge');
    for (const r of rows) if (r.memory !== undefined) lines.push(`container_memory_working_set_bytes{container="${esc(r.container)}",namespace="${esc(r.ns)}",pod="${esc(r.pod)}"} ${r.memory} ${r.ts}`);
    metric('container_start_time_seconds', '[STABLE] Start time of the container since unix epoch in seconds', 'gauge');
    for (const r of rows) if (r.startedAt) lines.push(`container_start_time_seconds{container="${esc(r.container)}",namespace="${esc(r.ns)}",pod="${esc(r.pod)}"} ${r.startedAt} ${r.ts}`);
    metric('node_cpu_usage_seconds_total', '[STABLE] Cumulative cpu time consumed by the node in core-seconds', 'counter');
    lines.push(`node_cpu_usage_seconds_total ${nodeCpuSeconds()} ${now}`);
    metric('node_memory_working_set_bytes', '[STABLE] Current working set of the node in bytes', 'gauge');
    lines.push(`node_memory_working_set_bytes ${mem.total - mem.available} ${now}`);
    const pods = new Map<string, { ns: string; pod: string; cpu: number; mem: number; ts: number }>();
    for (const r of rows) {
      const p = pods.get(r.uid) ?? { ns: r.ns, pod: r.pod, cpu: 0, mem: 0, ts: r.ts };
      p.cpu += r.cpuSeconds ?? 0; p.mem += r.memory ?? 0;
      pods.set(r.uid, p);
    }
    metric('pod_cpu_usage_seconds_total', '[STABLE] Cumulative cpu time consumed by the pod in core-seconds', 'counter');
    for (const p of pods.values()) lines.push(`pod_cpu_usage_seconds_total{namespace="${esc(p.ns)}",pod="${esc(p.pod)}"} ${p.cpu} ${p.ts}`);
    metric('pod_memory_working_set_bytes', '[STABLE] Current working set of the pod in bytes', 'gauge');
    for (const p of pods.values()) lines.push(`pod_memory_working_set_bytes{namespace="${esc(p.ns)}",pod="${esc(p.pod)}"} ${p.mem} ${p.ts}`);
    metric('scrape_error', '[ALPHA] 1 if there was an error while getting container metrics, 0 otherwise', 'gauge');
    lines.push('scrape_error 0');
    return `${lines.join('\n')}\n`;
  }

  async summary(): Promise<unknown> {
    const rows = await this.rows();
    const mem = nodeMemory();
    const time = new Date().toISOString();
    const byPod = new Map<string, Row[]>();
    for (const r of rows) (byPod.get(r.uid) ?? byPod.set(r.uid, []).get(r.uid)!).push(r);
    const cpuOf = (r: Row) => ({ time, usageCoreNanoSeconds: Math.round((r.cpuSeconds ?? 0) * 1e9), ...(r.cpuNanoCores !== undefined ? { usageNanoCores: r.cpuNanoCores } : {}) });
    return {
      node: {
        nodeName: this.nodeName,
        cpu: { time, usageCoreNanoSeconds: Math.round(nodeCpuSeconds() * 1e9) },
        memory: { time, workingSetBytes: mem.total - mem.available, availableBytes: mem.available, usageBytes: mem.total - mem.available },
      },
      pods: [...byPod.values()].map((rs) => ({
        podRef: { name: rs[0].pod, namespace: rs[0].ns, uid: rs[0].uid },
        containers: rs.map((r) => ({ name: r.container, cpu: cpuOf(r), memory: { time, workingSetBytes: r.memory ?? 0 } })),
        cpu: { time, usageCoreNanoSeconds: Math.round(rs.reduce((a, r) => a + (r.cpuSeconds ?? 0), 0) * 1e9) },
        memory: { time, workingSetBytes: rs.reduce((a, r) => a + (r.memory ?? 0), 0) },
      })),
    };
  }
}
