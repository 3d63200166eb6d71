/**
 * The Node object a real kubelet registers and keeps current: capacity and allocatable read
 * from the machine (CPUs, memory minus the 100Mi hard-eviction threshold, pods 110, ephemeral
 * storage of the kubelet's root), addresses, nodeInfo, daemon endpoint, images, conditions.
 */
import os from 'node:os';
import { readFileSync, statfsSync } from 'node:fs';
import type { Node, NodeCondition } from 'kubernetes-types/core/v1.js';
import type { Image } from './cri/api.js';

export const KUBELET_VERSION = 'v1.32.0-keelson';
const EVICTION_MEMORY = 100 * 1024 * 1024;

function readTrim(path: string): string {
  try { return readFileSync(path, 'utf8').trim(); } catch { return ''; }
}

export function osImage(): string {
  const m = readTrim('/etc/os-release').match(/^PRETTY_NAME="?([^"\n]*)"?/m);
  return m?.[1] ?? 'Linux';
}

export function goArch(): string {
  return process.arch === 'x64' ? 'amd64' : process.arch === 'ia32' ? '386' : process.arch;
}

/** The first non-internal IPv4 address of the machine (the node's InternalIP). */
export function defaultHostIP(): string {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

export interface MachineInfo {
  cpus: number;
  memoryBytes: number;
  storageBytes: number;
}

export function machineInfo(rootDir: string): MachineInfo {
  let storageBytes = 0;
  try { const s = statfsSync(rootDir); storageBytes = s.blocks * s.bsize; } catch { /* unknown */ }
  return { cpus: os.cpus().length, memoryBytes: os.totalmem(), storageBytes };
}

export interface NodeStatusInputs {
  nodeName: string;
  hostIP: string;
  kubeletPort: number;
  machine: MachineInfo;
  runtimeVersion: string;
  runtimeReady: { ok: boolean; message: string };
  images: Image[];
  previous?: Node;
  maxPods?: number;
}

export function nodeLabels(nodeName: string): Record<string, string> {
  return {
    'kubernetes.io/hostname': nodeName, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': goArch(),
    'beta.kubernetes.io/os': 'linux', 'beta.kubernetes.io/arch': goArch(),
  };
}

const rfc3339 = (d = new Date()) => d.toISOString().replace(/\.\d+Z$/, 'Z');

export function nodeStatus(inp: NodeStatusInputs): Node['status'] {
  const m = inp.machine;
  const ki = (b: number) => `${Math.floor(b / 1024)}Ki`;
  const capacity: Record<string, string> = {
    cpu: String(m.cpus), memory: ki(m.memoryBytes), pods: String(inp.maxPods ?? 110),
    'ephemeral-storage': ki(m.storageBytes), 'hugepages-2Mi': '0', 'hugepages-1Gi': '0',
  };
  const allocatable = { ...capacity, memory: ki(Math.max(0, m.memoryBytes - EVICTION_MEMORY)), 'ephemeral-storage': String(Math.floor(m.storageBytes * 0.9)) };
  const now = rfc3339();
  const prevConds = inp.previous?.status?.conditions ?? [];
  const cond = (type: string, status: boolean, reason: string, message: string): NodeCondition => {
    const prev = prevConds.find((c) => c.type === type);
    const s = status ? 'True' : 'False';
    return { type, status: s, lastHeartbeatTime: now, lastTransitionTime: prev?.status === s ? prev.lastTransitionTime : now, reason, message };
  };
  return {
    capacity, allocatable,
    conditions: [
      cond('MemoryPressure', false, 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
      cond('DiskPressure', false, 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
      cond('PIDPressure', false, 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
      inp.runtimeReady.ok
        ? cond('Ready', true, 'KubeletReady', 'kubelet is posting ready status')
        : cond('Ready', false, 'KubeletNotReady', inp.runtimeReady.message),
    ],
    addresses: [{ type: 'InternalIP', address: inp.hostIP }, { type: 'Hostname', address: inp.nodeName }],
    daemonEndpoints: { kubeletEndpoint: { Port: inp.kubeletPort } },
    nodeInfo: {
      machineID: readTrim('/etc/machine-id'), systemUUID: readTrim('/sys/class/dmi/id/product_uuid') || readTrim('/etc/machine-id'),
      bootID: readTrim('/proc/sys/kernel/random/boot_id'), kernelVersion: os.release(), osImage: osImage(),
      containerRuntimeVersion: inp.runtimeVersion, kubeletVersion: KUBELET_VERSION, kubeProxyVersion: KUBELET_VERSION,
      operatingSystem: 'linux', architecture: goArch(),
    },
    images: inp.images.slice(0, 50).map((i) => ({ names: [...i.repoDigests, ...i.repoTags], sizeBytes: i.size })),
  };
}
