/**
 * Node-local routes for the cluster's address ranges, so that traffic for them never leaves
 * the node by the default route ("fail closed"):
 *
 *  - the service CIDR is routed to a sink device (a `dummy`, as kube-proxy's IPVS mode does
 *    with kube-ipvs0; an `ifb` where the kernel has no dummy driver). Locally generated
 *    packets to a ClusterIP need *some* route for connect() to get as far as the iptables
 *    OUTPUT chain, where the proxy's DNAT rewrites them to a pod and the kernel re-routes
 *    them; a ClusterIP without a DNAT rule ends in the sink and is dropped locally instead of
 *    leaking to the default gateway. (A blackhole route would fail connect() before DNAT.)
 *  - the cluster (pod) CIDR is a `blackhole` route: this node's own podCIDR, on the CNI
 *    bridge, is more specific and wins; other nodes' pod ranges get their own more specific
 *    routes when there are other nodes; everything else in the range is refused at once.
 *  - net.ipv4.ip_forward = 1, needed by the bridge plugin's gateway and by DNAT to pods.
 *
 * Idempotent: each step checks the current state before changing it, so the agent runs it on
 * every start. Uses iproute2's `ip`.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export interface LocalRoutesOptions {
  /** e.g. 10.96.0.0/12 */
  serviceCIDR: string;
  /** e.g. 10.244.0.0/16 */
  clusterCIDR: string;
  /** Sink device for the service range (default "keelson-svc0"). */
  dummyDevice?: string;
}

export const DEFAULT_SERVICE_DEVICE = 'keelson-svc0';

async function ip(...args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileP('ip', args);
    return stdout;
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new Error(`ip ${args.join(' ')}: ${(err.stderr || err.message).trim()}`);
  }
}

/** Validates an IPv4 or IPv6 CIDR and returns it with its address family flag for `ip`. */
export function parseCIDR(cidr: string): { cidr: string; family: '-4' | '-6' } {
  const m = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(cidr.trim());
  if (!m) throw new Error(`not a CIDR: ${JSON.stringify(cidr)}`);
  const v6 = m[1]!.includes(':');
  const bits = Number(m[2]);
  if (v6 ? bits > 128 : bits > 32) throw new Error(`bad prefix length in ${cidr}`);
  if (!v6 && !/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(m[1]!)) throw new Error(`not an IPv4 address in ${cidr}`);
  if (!v6 && m[1]!.split('.').some((o) => Number(o) > 255)) throw new Error(`not an IPv4 address in ${cidr}`);
  return { cidr: cidr.trim(), family: v6 ? '-6' : '-4' };
}

async function linkExists(dev: string): Promise<boolean> {
  try {
    await execFileP('ip', ['link', 'show', 'dev', dev]);
    return true;
  } catch {
    return false;
  }
}

/** The main-table route for exactly this prefix, as `ip route show` prints it ('' if none). */
async function exactRoute(family: string, cidr: string): Promise<string> {
  return (await ip(family, 'route', 'show', 'exact', cidr)).trim();
}

async function ensureSinkDevice(dev: string): Promise<void> {
  if (dev.length > 15) throw new Error(`device name ${dev} is longer than 15 characters`);
  if (!(await linkExists(dev))) {
    try {
      await ip('link', 'add', dev, 'type', 'dummy');
    } catch (dummyErr) {
      // Kernels built without CONFIG_DUMMY (e.g. minimal VM kernels) answer "Unknown device
      // type". An ifb device is an equally good sink: NOARP, and it drops whatever is sent to
      // it directly.
      try {
        await ip('link', 'add', dev, 'type', 'ifb');
      } catch (ifbErr) {
        if (!(await linkExists(dev))) { // lost a race with a concurrent agent → fine
          throw new Error(`cannot create ${dev}: ${(dummyErr as Error).message}; ${(ifbErr as Error).message}`);
        }
      }
    }
  }
  const show = await ip('link', 'show', 'dev', dev);
  if (!/[<,]UP[,>]/.test(show)) await ip('link', 'set', 'dev', dev, 'up');
}

async function ensureForwarding(family: '-4' | '-6'): Promise<void> {
  const path = family === '-4' ? '/proc/sys/net/ipv4/ip_forward' : '/proc/sys/net/ipv6/conf/all/forwarding';
  if ((await readFile(path, 'utf8')).trim() !== '1') await writeFile(path, '1\n');
}

export async function ensureLocalRoutes(opts: LocalRoutesOptions): Promise<void> {
  const dev = opts.dummyDevice ?? DEFAULT_SERVICE_DEVICE;
  const svc = parseCIDR(opts.serviceCIDR);
  const cluster = parseCIDR(opts.clusterCIDR);

  await ensureSinkDevice(dev);

  const svcRoute = await exactRoute(svc.family, svc.cidr);
  if (!new RegExp(`(^|\\s)dev ${dev}(\\s|$)`).test(svcRoute) || svcRoute.startsWith('blackhole')) {
    await ip(svc.family, 'route', 'replace', svc.cidr, 'dev', dev);
  }

  const clusterRoute = await exactRoute(cluster.family, cluster.cidr);
  if (/proto kernel/.test(clusterRoute)) {
    // The cluster range is exactly a connected network here (e.g. clusterCIDR == podCIDR on a
    // one-node cluster): that route already keeps the traffic local; replacing it would cut
    // the bridge off.
  } else if (!clusterRoute.startsWith('blackhole')) {
    await ip(cluster.family, 'route', 'replace', 'blackhole', cluster.cidr);
  }

  await ensureForwarding('-4');
  if (svc.family === '-6' || cluster.family === '-6') await ensureForwarding('-6');
}

/** Undoes ensureLocalRoutes (routes and device); leaves ip_forward as it is. */
export async function removeLocalRoutes(opts: LocalRoutesOptions): Promise<void> {
  const dev = opts.dummyDevice ?? DEFAULT_SERVICE_DEVICE;
  const svc = parseCIDR(opts.serviceCIDR);
  const cluster = parseCIDR(opts.clusterCIDR);
  if (new RegExp(`(^|\\s)dev ${dev}(\\s|$)`).test(await exactRoute(svc.family, svc.cidr))) {
    await ip(svc.family, 'route', 'del', svc.cidr, 'dev', dev).catch(() => {});
  }
  if ((await exactRoute(cluster.family, cluster.cidr)).startsWith('blackhole')) {
    await ip(cluster.family, 'route', 'del', 'blackhole', cluster.cidr).catch(() => {});
  }
  if (await linkExists(dev)) await ip('link', 'del', 'dev', dev).catch(() => {});
}
