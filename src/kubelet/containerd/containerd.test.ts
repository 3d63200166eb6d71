/**
 * Containerd supervision and the CRI contract against a real containerd 1.6.
 * The rendering tests always run; the rest needs root and `containerd`, `ctr`, `runc` and the
 * CNI plugins on the machine, and is skipped otherwise. It starts its own containerd on a
 * temporary dir with a unique bridge and pod range, so it can run beside other nodes.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomInt } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { PodSandboxConfig } from '../cri/api.js';
import { GrpcRuntime } from '../cri/grpc-client.js';
import { runtimeContract } from '../cri/testing/contract.js';
import { ensureLocalRoutes, parseCIDR, removeLocalRoutes } from '../network/local-routes.js';
import {
  Containerd, containerdPaths, mountPointsUnder, renderCniConflist, renderContainerdConfig, renderHostsToml,
} from './containerd.js';

const execFileP = promisify(execFile);

const onPath = (bin: string) => (process.env.PATH ?? '').split(delimiter).some((d) => d && existsSync(join(d, bin)));
const cniDir = ['/usr/lib/cni', '/opt/cni/bin'].find((d) => existsSync(join(d, 'bridge')));
const skip = process.getuid?.() !== 0 ? 'needs root'
  : !onPath('containerd') || !onPath('ctr') || !(onPath('runc')) ? 'needs containerd, ctr and runc on PATH'
    : !cniDir ? 'needs the CNI plugins (containernetworking-plugins)'
      : !existsSync('/bin/busybox') ? 'needs /bin/busybox (busybox-static)'
        : false;

const PAUSE = 'docker.io/keelson-test/pause:contract';
const BUSYBOX = 'docker.io/library/busybox:latest';

/**
 * A one-layer OCI image-layout tar of Debian's static busybox, named through the
 * io.containerd.image.name annotation (what `ctr images import` uses).
 */
function buildBusyboxImage(out: string, name: string, config: { Entrypoint?: string[]; Cmd?: string[] }): void {
  const work = mkdtempSync(join(out + '.d-'));
  try {
    const rootfs = join(work, 'rootfs');
    for (const d of ['bin', 'etc', 'tmp', 'proc', 'sys', 'dev']) mkdirSync(join(rootfs, d), { recursive: true });
    copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
    for (const applet of ['sh', 'sleep', 'echo', 'cat', 'true', 'false', 'nc', 'ls', 'kill', 'ps']) {
      symlinkSync('busybox', join(rootfs, 'bin', applet));
    }
    writeFileSync(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    const layout = join(work, 'layout');
    mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
    const blob = (buf: Buffer) => {
      const hex = createHash('sha256').update(buf).digest('hex');
      writeFileSync(join(layout, 'blobs', 'sha256', hex), buf);
      return { digest: `sha256:${hex}`, size: buf.length };
    };
    const layerTar = join(work, 'layer.tar');
    execFileSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', rootfs, '-cf', layerTar, '.']);
    const layer = blob(readFileSync(layerTar));
    const cfg = blob(Buffer.from(JSON.stringify({
      architecture: 'amd64', os: 'linux',
      config: { Env: ['PATH=/bin'], ...config },
      rootfs: { type: 'layers', diff_ids: [layer.digest] },
    })));
    const manifest = blob(Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...cfg },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
    })));
    writeFileSync(join(layout, 'index.json'), JSON.stringify({
      schemaVersion: 2,
      manifests: [{
        mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest,
        annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': name.slice(name.lastIndexOf(':') + 1) },
      }],
    }));
    writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    execFileSync('tar', ['-C', layout, '-cf', out, '.']);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Processes (not zombies) whose command line mentions `needle`. */
function processesMentioning(needle: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmd.includes(needle)) found.push(`${entry}: ${cmd}`);
    } catch { /* exited */ }
  }
  return found;
}

const freePort = () => new Promise<number>((resolve, reject) => {
  const srv = createServer();
  srv.listen(0, '127.0.0.1', () => {
    const { port } = srv.address() as { port: number };
    srv.close(() => resolve(port));
  });
  srv.on('error', reject);
});

/** Debian's docker-registry on a free loopback port, storing under `dir`. */
async function startRegistry(dir: string): Promise<{ url: string; host: string; proc: ChildProcess }> {
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  writeFileSync(join(dir, 'config.yml'),
    `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\nhttp:\n  addr: ${host}\n`);
  const proc = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ok = await fetch(`http://${host}/v2/`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline || proc.exitCode !== null) { proc.kill(); throw new Error('docker-registry did not come up'); }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `http://${host}`, host, proc };
}

const linkExists = async (dev: string) => execFileP('ip', ['link', 'show', 'dev', dev]).then(() => true, () => false);

describe('containerd config rendering', () => {
  it('puts everything under dir and configures the CRI plugin', () => {
    const toml = renderContainerdConfig({ dir: '/var/lib/keelson/node/containerd', sandboxImage: 'keelson.local/pause:3.10', cniBinDir: '/usr/lib/cni', canLowerOomScore: false });
    for (const want of [
      'version = 2',
      'root = "/var/lib/keelson/node/containerd/root"',
      'state = "/var/lib/keelson/node/containerd/state"',
      'address = "/var/lib/keelson/node/containerd/containerd.sock"',
      'sandbox_image = "keelson.local/pause:3.10"',
      'disable_tcp_service = true',
      'stream_server_address = "127.0.0.1"',
      'stream_server_port = "0"',
      'snapshotter = "overlayfs"',
      'runtime_type = "io.containerd.runc.v2"',
      'SystemdCgroup = false',
      'bin_dir = "/usr/lib/cni"',
      'conf_dir = "/var/lib/keelson/node/containerd/cni/net.d"',
      'config_path = "/var/lib/keelson/node/containerd/certs.d"',
      'restrict_oom_score_adj = true',
      'max_container_log_line_size = 16384',
    ]) assert.ok(toml.includes(want), `config.toml should contain ${want}`);
    assert.ok(!toml.includes('/var/lib/containerd') && !toml.includes('/etc/cni'), 'no host-global paths');
  });

  it('writes a bridge + host-local + portmap conflist with IPAM data in dir', () => {
    const conf = JSON.parse(renderCniConflist({ dir: '/d', podCIDR: '10.244.7.0/24', bridgeName: 'kt0' }));
    assert.equal(conf.cniVersion, '1.0.0');
    const [bridge, portmap] = conf.plugins;
    assert.equal(bridge.type, 'bridge');
    assert.equal(bridge.bridge, 'kt0');
    assert.equal(bridge.isGateway && bridge.ipMasq && bridge.hairpinMode, true);
    assert.deepEqual(bridge.ipam.ranges, [[{ subnet: '10.244.7.0/24' }]]);
    assert.equal(bridge.ipam.dataDir, '/d/cni/ipam');
    assert.equal(portmap.type, 'portmap');
    assert.equal(portmap.snat, true);
    assert.deepEqual(portmap.capabilities, { portMappings: true });
  });

  it('mirrors a registry over plain http through hosts.toml', () => {
    const toml = renderHostsToml('docker.io', 'http://127.0.0.1:5000/');
    assert.match(toml, /^server = "https:\/\/registry-1\.docker\.io"$/m);
    assert.match(toml, /^\[host\."http:\/\/127\.0\.0\.1:5000"\]$/m);
    assert.match(toml, /capabilities = \["pull", "resolve"\]/);
  });

  it('moves the socket out of a dir too deep for a unix socket path', () => {
    assert.equal(containerdPaths('/tmp/x').socket, '/tmp/x/containerd.sock');
    const deep = containerdPaths('/tmp/' + 'd'.repeat(100)).socket;
    assert.match(deep, /^\/run\/keelson\/containerd-[0-9a-f]{16}\.sock$/);
  });

  it('validates CIDRs for local routes', () => {
    assert.deepEqual(parseCIDR('10.96.0.0/12'), { cidr: '10.96.0.0/12', family: '-4' });
    assert.equal(parseCIDR('fd00:10::/108').family, '-6');
    for (const bad of ['10.96.0.0', '10.96.0.0/33', '300.1.1.1/8', 'x/8']) assert.throws(() => parseCIDR(bad), bad);
  });
});

describe('keelson containerd (real containerd 1.6)', { skip }, () => {
  const octet = randomInt(100, 251);
  const podCIDR = `10.244.${octet}.0/24`;
  const bridgeName = `kt${process.pid.toString(36)}${randomInt(1296).toString(36)}`.slice(0, 15);
  let dir: string;
  let ctd: Containerd;
  let rt: GrpcRuntime;
  let destroyed = false;
  let registry: { url: string; host: string; proc: ChildProcess } | undefined;
  let registryDir: string | undefined;
  const options = () => ({
    dir, podCIDR, bridgeName, sandboxImage: PAUSE, cniBinDir: cniDir, log: () => {},
    registryMirrors: registry ? { 'docker.io': registry.url } : undefined,
  });

  before(async () => {
    dir = mkdtempSync('/tmp/keelson-ctd-');
    if (onPath('docker-registry')) {
      registryDir = mkdtempSync('/tmp/keelson-reg-');
      registry = await startRegistry(registryDir);
    }
    const images = mkdtempSync('/tmp/keelson-img-');
    try {
      buildBusyboxImage(join(images, 'pause.tar'), PAUSE, { Entrypoint: ['/bin/sleep', '2147483647'] });
      buildBusyboxImage(join(images, 'busybox.tar'), BUSYBOX, { Cmd: ['sh'] });
      ctd = new Containerd(options());
      await ctd.start();
      assert.deepEqual(await ctd.importImage(join(images, 'pause.tar')), [PAUSE]);
      assert.deepEqual(await ctd.importImage(join(images, 'busybox.tar')), [BUSYBOX]);
    } finally {
      rmSync(images, { recursive: true, force: true });
    }
    rt = new GrpcRuntime(ctd.endpoint);
  });

  after(async () => {
    rt?.close();
    if (!destroyed) await ctd?.destroy();
    registry?.proc.kill();
    if (registryDir) rmSync(registryDir, { recursive: true, force: true });
  });

  runtimeContract('containerd via GrpcRuntime', async () => ({ rt, image: 'busybox', cleanup: async () => {} }));

  const podConfig = async (name: string): Promise<PodSandboxConfig> => {
    const logDirectory = join(dir, 'pods', name);
    await mkdir(logDirectory, { recursive: true });
    return { metadata: { name, uid: `uid-${name}`, namespace: 'node', attempt: 0 }, hostname: name, logDirectory, linux: {} };
  };

  it('gives sandboxes an IP from the node pod CIDR on its bridge, and streaming URLs on loopback', async () => {
    const cfg = await podConfig('ip');
    const id = await rt.runPodSandbox(cfg);
    try {
      const ip = (await rt.podSandboxStatus(id)).network?.ip ?? '';
      assert.ok(ip.startsWith(`10.244.${octet}.`), `${ip} in ${podCIDR}`);
      assert.ok(await linkExists(bridgeName), `bridge ${bridgeName} exists`);
      assert.match(await rt.portForward(id, [80]), /^http:\/\/127\.0\.0\.1:[1-9]\d*\/portforward\//);
    } finally {
      await rt.stopPodSandbox(id);
      await rt.removePodSandbox(id);
    }
  });

  it('pulls docker.io images through the configured mirror over plain http', { skip: !onPath('docker-registry') && 'needs docker-registry' }, async () => {
    // Publish an image (distinct from busybox, so removing it leaves busybox alone) in the
    // local registry under a name only the mirror has; docker.io itself is unreachable here.
    const work = mkdtempSync('/tmp/keelson-mirror-');
    const pushed = `${registry!.host}/library/mirrored:1`;
    try {
      buildBusyboxImage(join(work, 'mirrored.tar'), pushed, { Cmd: ['echo', 'mirrored'] });
      await ctd.importImage(join(work, 'mirrored.tar'));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    const ctr = (...args: string[]) => execFileP('ctr', ['--address', ctd.socketPath, '-n', 'k8s.io', 'images', ...args]);
    await ctr('push', '--plain-http', pushed);
    await ctr('rm', pushed);
    assert.equal(await rt.imageStatus({ image: 'mirrored:1' }), null);

    const ref = await rt.pullImage({ image: 'mirrored:1' });
    assert.match(ref, /^sha256:[0-9a-f]{64}$/);
    const img = await rt.imageStatus({ image: 'docker.io/library/mirrored:1' });
    assert.equal(img?.id, ref);
    assert.ok(img!.repoTags.includes('docker.io/library/mirrored:1'));
    assert.ok(img!.repoDigests.some((d) => d.startsWith('docker.io/library/mirrored@sha256:')));
    await rt.removeImage({ image: 'mirrored:1' });
    assert.equal(await rt.imageStatus({ image: 'mirrored:1' }), null);
    await rt.removeImage({ image: 'mirrored:1' }); // idempotent
    assert.ok(await rt.imageStatus({ image: 'busybox' }), 'busybox is still there');
  });

  it('honours the grace period before killing a container that ignores SIGTERM', async () => {
    const cfg = await podConfig('grace');
    const sb = await rt.runPodSandbox(cfg);
    try {
      const id = await rt.createContainer(sb, {
        metadata: { name: 'stubborn', attempt: 0 }, image: { image: 'busybox' },
        command: ['sh', '-c', "trap '' TERM; echo ready; sleep 3600"], logPath: 'stubborn.log',
      }, cfg);
      await rt.startContainer(id);
      const t0 = Date.now();
      await rt.stopContainer(id, 2);
      const took = Date.now() - t0;
      const st = await rt.containerStatus(id);
      assert.equal(st.exitCode, 137);
      assert.ok(took >= 1900, `stop returned after ${took} ms, before the 2 s grace period`);
    } finally {
      await rt.stopPodSandbox(sb);
      await rt.removePodSandbox(sb);
    }
  });

  it('keeps pods running across a containerd restart, and adopts a running containerd', async () => {
    const cfg = await podConfig('survivor');
    const sb = await rt.runPodSandbox(cfg);
    try {
      const id = await rt.createContainer(sb, {
        metadata: { name: 'app', attempt: 0 }, image: { image: 'busybox' }, command: ['sleep', '3600'], logPath: 'app.log',
      }, cfg);
      await rt.startContainer(id);
      const before = ctd.pid;
      await ctd.stop();
      assert.equal(ctd.pid, undefined);
      assert.ok(processesMentioning(ctd.socketPath).length > 0, 'the shim outlives containerd');

      await ctd.start();
      assert.notEqual(ctd.pid, before);
      assert.equal((await rt.containerStatus(id)).state, 'CONTAINER_RUNNING');
      assert.equal((await rt.execSync(id, ['echo', 'still here'], 10)).stdout.toString(), 'still here\n');

      // A second supervisor for the same dir and config takes the running daemon over.
      const again = new Containerd(options());
      await again.start();
      assert.equal(again.pid, ctd.pid);
    } finally {
      await rt.stopPodSandbox(sb);
      await rt.removePodSandbox(sb);
    }
  });

  it('routes the service range to a sink (DNAT in OUTPUT still reaches pods) and blackholes the cluster range', async () => {
    // Ranges of this test only, so that a node agent running on the same machine keeps its own.
    const r = randomInt(10, 250);
    const routes = { serviceCIDR: `172.30.${r}.0/24`, clusterCIDR: `172.31.${r}.0/24`, dummyDevice: `ksvc${r}` };
    const serviceIP = `172.30.${r}.10`;
    const cfg = await podConfig('svc');
    const sb = await rt.runPodSandbox(cfg);
    const podIP = (await rt.podSandboxStatus(sb)).network!.ip;
    const rule = ['-p', 'tcp', '-d', serviceIP, '--dport', '80', '-m', 'comment', '--comment', `keelson-test-${r}`,
      '-j', 'DNAT', '--to-destination', `${podIP}:8080`];
    const tcpRead = (host: string, port: number, timeoutMs: number) => new Promise<string>((resolve, reject) => {
      const sock = connect({ host, port });
      let data = '';
      sock.setTimeout(timeoutMs, () => { sock.destroy(); reject(new Error('timeout')); });
      sock.on('data', (d) => { data += d.toString(); });
      sock.on('end', () => resolve(data));
      sock.on('error', reject);
    });
    try {
      await ensureLocalRoutes(routes);
      await ensureLocalRoutes(routes); // idempotent
      assert.match((await execFileP('ip', ['route', 'get', serviceIP])).stdout, new RegExp(`dev ${routes.dummyDevice}`));
      assert.match((await execFileP('ip', ['route', 'show', 'exact', routes.clusterCIDR])).stdout, /^blackhole /);
      assert.equal(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim(), '1');

      const id = await rt.createContainer(sb, {
        metadata: { name: 'server', attempt: 0 }, image: { image: 'busybox' },
        command: ['nc', '-ll', '-p', '8080', '-e', 'echo', 'hello-from-pod'], logPath: 'server.log',
      }, cfg);
      await rt.startContainer(id);

      // No DNAT rule: the packet goes to the sink and nobody answers.
      await assert.rejects(tcpRead(serviceIP, 80, 300), /timeout/);
      await execFileP('iptables', ['-t', 'nat', '-A', 'OUTPUT', ...rule]);
      const deadline = Date.now() + 10_000;
      let answer = '';
      while (!answer.includes('hello-from-pod') && Date.now() < deadline) {
        answer = await tcpRead(serviceIP, 80, 1000).catch(() => '');
      }
      assert.match(answer, /hello-from-pod/);
    } finally {
      await execFileP('iptables', ['-t', 'nat', '-D', 'OUTPUT', ...rule]).catch(() => {});
      await rt.stopPodSandbox(sb);
      await rt.removePodSandbox(sb);
      await removeLocalRoutes(routes);
    }
    assert.equal(await linkExists(routes.dummyDevice), false);
    assert.equal((await execFileP('ip', ['route', 'show', 'exact', routes.clusterCIDR])).stdout.trim(), '');
  });

  it('destroy() leaves no pods, mounts, bridge, processes or files', async () => {
    const cfg = await podConfig('leftover');
    const sb = await rt.runPodSandbox(cfg);
    const marker = `sleep ${randomInt(100_000, 999_999)}`;
    const id = await rt.createContainer(sb, {
      metadata: { name: 'app', attempt: 0 }, image: { image: 'busybox' }, command: marker.split(' '), logPath: 'app.log',
    }, cfg);
    await rt.startContainer(id);
    assert.ok(mountPointsUnder(dir).length > 0, 'a running pod has mounts under dir');
    assert.equal(processesMentioning(marker).length, 1, 'the container runs');

    rt.close();
    await ctd.destroy();
    destroyed = true;
    assert.deepEqual(mountPointsUnder(dir), []);
    assert.equal(await linkExists(bridgeName), false, 'bridge deleted');
    assert.deepEqual(processesMentioning(dir), [], 'no containerd or shim left');
    assert.deepEqual(processesMentioning(marker), [], 'the container was killed');
    assert.equal(existsSync(dir), false, 'dir removed');
  });
});
