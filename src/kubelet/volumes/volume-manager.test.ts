import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import type { ConfigMap, Pod, Secret, Volume } from 'kubernetes-types/core/v1.js';
import { VolumeManager, VolumeSetUpError, checkHostPath, mountPoints, type ObjectSource } from './volume-manager.js';
import { setLogLevel } from '../../util/log.js';

setLogLevel('silent');

const roots: string[] = [];

/** Whatever a failing test leaves mounted under our temp dirs is unmounted here. */
after(async () => {
  for (const root of roots) {
    const real = await fs.realpath(root).catch(() => root);
    const left = (await mountPoints()).filter((m) => m.startsWith(real + '/')).sort((a, b) => b.length - a.length);
    for (const m of left) {
      try { execFileSync('umount', [m]); } catch { /* reported below */ }
    }
    await fs.rm(root, { recursive: true, force: true });
  }
});

async function tempRoot(): Promise<string> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'keelson-vm-'));
  roots.push(root);
  return root;
}

class FakeSource implements ObjectSource {
  configMaps = new Map<string, ConfigMap>();
  secrets = new Map<string, Secret>();
  async getConfigMap(ns: string, name: string) { return this.configMaps.get(`${ns}/${name}`) ?? null; }
  async getSecret(ns: string, name: string) { return this.secrets.get(`${ns}/${name}`) ?? null; }
  cm(name: string, data: Record<string, string>, binaryData?: Record<string, string>) {
    this.configMaps.set(`ns1/${name}`, { metadata: { name, namespace: 'ns1' }, data, binaryData });
  }
  secret(name: string, data: Record<string, string>) {
    const enc: Record<string, string> = {};
    for (const [k, v] of Object.entries(data)) enc[k] = Buffer.from(v).toString('base64');
    this.secrets.set(`ns1/${name}`, { metadata: { name, namespace: 'ns1' }, data: enc });
  }
}

let uidCounter = 0;
function pod(volumes: Volume[], extra: Partial<Pod['spec']> = {}, meta: Partial<Pod['metadata']> = {}): Pod {
  return {
    metadata: { name: 'web', namespace: 'ns1', uid: `uid-${process.pid}-${++uidCounter}`, ...meta },
    spec: { containers: [{ name: 'app', image: 'busybox' }], volumes, ...extra },
  };
}

async function manager(extra: Partial<ConstructorParameters<typeof VolumeManager>[0]> = {}) {
  const root = await tempRoot();
  const source = new FakeSource();
  const vm = new VolumeManager({ rootDir: path.join(root, 'kubelet'), source, nodeName: 'node-1', ...extra });
  return { root, source, vm };
}

async function mountOf(dir: string): Promise<{ fstype: string; options: string } | undefined> {
  const real = await fs.realpath(dir);
  const text = await fs.readFile('/proc/self/mountinfo', 'utf8');
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f[4] !== real) continue;
    const dash = f.indexOf('-');
    return { fstype: f[dash + 1], options: f[dash + 3] };
  }
  return undefined;
}

const read = (p: string) => fs.readFile(p, 'utf8');

test('configMap volume: kubelet layout, items with modes, and a refresh changes the file seen through the symlink', async () => {
  const { source, vm } = await manager();
  source.cm('app-config', { 'app.conf': 'color=blue', other: 'x' });
  const p = pod([
    { name: 'cfg', configMap: { name: 'app-config' } },
    { name: 'cfg-items', configMap: { name: 'app-config', items: [{ key: 'app.conf', path: 'conf/app.conf', mode: 0o600 }], defaultMode: 0o640 } },
  ]);
  const vols = await vm.setUp(p);
  const dir = path.join(vm.podDir(p.metadata!.uid!), 'volumes', 'kubernetes.io~configmap', 'cfg');
  assert.deepEqual(vols.get('cfg'), { hostPath: dir, readOnly: true });
  assert.equal(await read(path.join(dir, 'app.conf')), 'color=blue');
  assert.equal(await fs.readlink(path.join(dir, 'app.conf')), '..data/app.conf');
  assert.equal((await fs.stat(path.join(dir, 'other'))).mode & 0o777, 0o644);
  const items = vols.get('cfg-items')!.hostPath;
  assert.deepEqual((await fs.readdir(items)).filter((n) => !n.startsWith('..')), ['conf']);
  assert.equal((await fs.stat(path.join(items, 'conf/app.conf'))).mode & 0o777, 0o600);
  assert.equal(await mountOf(dir), undefined, 'configMap volumes are on disk');

  assert.equal(await vm.refresh(p), false, 'nothing changed yet');
  source.cm('app-config', { 'app.conf': 'color=green' });
  assert.equal(await vm.refresh(p), true);
  assert.equal(await read(path.join(dir, 'app.conf')), 'color=green');
  await assert.rejects(fs.lstat(path.join(dir, 'other')), { code: 'ENOENT' });
  await vm.tearDown(p.metadata!.uid!);
});

test('configMap and secret errors name the object or key; optional ones may be missing', async () => {
  const { source, vm } = await manager();
  source.cm('present', { a: '1' });
  const cases: { name: string; vol: Volume; error?: string; files?: string[] }[] = [
    { name: 'missing configmap', vol: { name: 'v', configMap: { name: 'nope' } }, error: 'MountVolume.SetUp failed for volume "v" : configmap "nope" not found' },
    { name: 'missing optional configmap', vol: { name: 'v', configMap: { name: 'nope', optional: true } }, files: [] },
    { name: 'missing key', vol: { name: 'v', configMap: { name: 'present', items: [{ key: 'zz', path: 'zz' }] } }, error: 'MountVolume.SetUp failed for volume "v" : configmap references non-existent config key: zz' },
    { name: 'missing optional key', vol: { name: 'v', configMap: { name: 'present', optional: true, items: [{ key: 'zz', path: 'zz' }, { key: 'a', path: 'a' }] } }, files: ['a'] },
    { name: 'missing secret', vol: { name: 'v', secret: { secretName: 'nope' } }, error: 'MountVolume.SetUp failed for volume "v" : secret "nope" not found' },
    { name: 'pvc', vol: { name: 'v', persistentVolumeClaim: { claimName: 'c' } }, error: 'MountVolume.SetUp failed for volume "v" : persistentVolumeClaim volumes are not supported by this node yet' },
    { name: 'nfs', vol: { name: 'v', nfs: { server: 's', path: '/' } }, error: 'MountVolume.SetUp failed for volume "v" : nfs volumes are not supported by this node yet' },
  ];
  for (const c of cases) {
    const p = pod([c.vol]);
    if (c.error) {
      await assert.rejects(vm.setUp(p), (e: unknown) => {
        assert.ok(e instanceof VolumeSetUpError, c.name);
        assert.equal(e.message, c.error, c.name);
        assert.deepEqual(e.failures.map((f) => f.volume), ['v']);
        return true;
      });
    } else {
      const v = (await vm.setUp(p)).get('v')!;
      assert.deepEqual((await fs.readdir(v.hostPath)).filter((n) => !n.startsWith('..')).sort(), c.files, c.name);
    }
    await vm.tearDown(p.metadata!.uid!);
  }
});

test('secret volume: decoded data on a tmpfs, fsGroup ownership, tearDown unmounts', async () => {
  const { source, vm } = await manager();
  source.secret('creds', { password: 's3cret', 'tls.key': 'KEY' });
  const p = pod([{ name: 'creds', secret: { secretName: 'creds', defaultMode: 0o400 } }], { securityContext: { fsGroup: 2000 } });
  const dir = (await vm.setUp(p)).get('creds')!.hostPath;
  assert.ok(dir.endsWith('/volumes/kubernetes.io~secret/creds'));
  assert.equal((await mountOf(dir))?.fstype, 'tmpfs');
  assert.equal(await read(path.join(dir, 'password')), 's3cret');
  const st = await fs.stat(path.join(dir, 'tls.key'));
  assert.equal(st.gid, 2000);
  assert.equal(st.mode & 0o7777, 0o440, 'fsGroup adds group read to a read-only volume');
  // a second setUp does not stack another tmpfs
  await vm.setUp(p);
  const real = await fs.realpath(dir);
  assert.equal((await mountPoints()).filter((m) => m === real).length, 1);
  await vm.tearDown(p.metadata!.uid!);
  assert.equal((await mountPoints()).filter((m) => m.startsWith(real)).length, 0);
  await assert.rejects(fs.lstat(vm.podDir(p.metadata!.uid!)), { code: 'ENOENT' });
});

test('emptyDir: disk dir 0777; Memory medium is a tmpfs sized by sizeLimit; tearDown unmounts deepest first', async () => {
  const { vm } = await manager({ nodeAllocatable: { cpu: 4, memory: 8 * 1024 ** 3 } });
  const p = pod([
    { name: 'scratch', emptyDir: {} },
    { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
    { name: 'mem-nolimit', emptyDir: { medium: 'Memory' } },
  ]);
  const vols = await vm.setUp(p);
  const scratch = vols.get('scratch')!;
  assert.deepEqual(scratch, { hostPath: path.join(vm.podDir(p.metadata!.uid!), 'volumes', 'kubernetes.io~empty-dir', 'scratch'), readOnly: false });
  assert.equal((await fs.stat(scratch.hostPath)).mode & 0o777, 0o777);
  assert.equal(await mountOf(scratch.hostPath), undefined);
  const mem = await mountOf(vols.get('mem')!.hostPath);
  assert.equal(mem?.fstype, 'tmpfs');
  assert.match(mem!.options, /size=65536k/);
  const nolimit = await mountOf(vols.get('mem-nolimit')!.hostPath);
  assert.match(nolimit!.options, /size=8388608k/, 'node allocatable memory bounds an unlimited memory emptyDir');
  // a mount inside a volume (as a container could leave) is unmounted before its parent
  const inner = path.join(vols.get('mem')!.hostPath, 'inner');
  await fs.mkdir(inner);
  execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', inner]);
  await fs.writeFile(path.join(vols.get('mem')!.hostPath, 'data'), 'x');
  await vm.tearDown(p.metadata!.uid!);
  const real = await fs.realpath(path.dirname(vm.podDir(p.metadata!.uid!)));
  assert.deepEqual((await mountPoints()).filter((m) => m.startsWith(real)), []);
  assert.deepEqual(await vm.listPodDirs(), []);
});

test('emptyDir with an unsupported medium fails clearly', async () => {
  const { vm } = await manager();
  const p = pod([{ name: 'h', emptyDir: { medium: 'HugePages-2Mi' } }]);
  await assert.rejects(vm.setUp(p), /volume "h" : emptyDir medium HugePages-2Mi is not supported by this node yet/);
  await vm.tearDown(p.metadata!.uid!);
});

test('hostPath types', async () => {
  const root = await tempRoot();
  const dir = path.join(root, 'dir');
  const file = path.join(root, 'file');
  const sock = path.join(root, 'sock');
  await fs.mkdir(dir);
  await fs.writeFile(file, 'x');
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(sock, r));
  try {
    const cases: { name: string; path: string; type: string; error?: RegExp; after?: (p: string) => Promise<void> }[] = [
      { name: 'no type, missing path', path: path.join(root, 'nothing'), type: '' },
      { name: 'Directory ok', path: dir, type: 'Directory' },
      { name: 'Directory missing', path: path.join(root, 'missing'), type: 'Directory', error: /: hostPath .*\/missing doesn't exist$/ },
      { name: 'Directory is a file', path: file, type: 'Directory', error: /: hostPath type check failed: .*\/file is not a directory, it's a File$/ },
      {
        name: 'DirectoryOrCreate creates 0755 with parents', path: path.join(root, 'new/deep'), type: 'DirectoryOrCreate',
        after: async (p) => assert.equal((await fs.stat(p)).mode & 0o7777, 0o755),
      },
      { name: 'DirectoryOrCreate on a file', path: file, type: 'DirectoryOrCreate', error: /is not a directory, it's a File/ },
      { name: 'File ok', path: file, type: 'File' },
      { name: 'File is a directory', path: dir, type: 'File', error: /is not a file, it's a Directory/ },
      {
        name: 'FileOrCreate creates 0644, empty', path: path.join(dir, 'made'), type: 'FileOrCreate',
        after: async (p) => {
          const st = await fs.stat(p);
          assert.equal(st.mode & 0o7777, 0o644);
          assert.equal(st.size, 0);
        },
      },
      { name: 'FileOrCreate keeps content', path: file, type: 'FileOrCreate', after: async (p) => assert.equal(await read(p), 'x') },
      { name: 'FileOrCreate needs the parent', path: path.join(root, 'noparent/f'), type: 'FileOrCreate', error: /doesn't exist/ },
      { name: 'Socket ok', path: sock, type: 'Socket' },
      { name: 'Socket is a file', path: file, type: 'Socket', error: /is not a socket file, it's a File/ },
      { name: 'CharDevice ok', path: '/dev/null', type: 'CharDevice' },
      { name: 'CharDevice is a dir', path: dir, type: 'CharDevice', error: /is not a character device, it's a Directory/ },
      { name: 'BlockDevice is a char device', path: '/dev/null', type: 'BlockDevice', error: /is not a block device, it's a CharDevice/ },
      { name: 'bad type', path: dir, type: 'Folder', error: /: Folder is an invalid volume type$/ },
    ];
    for (const c of cases) {
      if (c.error) await assert.rejects(checkHostPath(c.path, c.type), c.error, c.name);
      else await checkHostPath(c.path, c.type);
      if (c.after) await c.after(c.path);
    }
    // through the manager: the host path itself, writable
    const { vm } = await manager();
    const p = pod([{ name: 'h', hostPath: { path: dir, type: 'Directory' } }]);
    assert.deepEqual((await vm.setUp(p)).get('h'), { hostPath: dir, readOnly: false });
    await vm.tearDown(p.metadata!.uid!);
    assert.ok((await fs.stat(dir)).isDirectory(), 'tearDown never touches a hostPath');
  } finally {
    server.close();
  }
});

test('downwardAPI volume: labels and annotations format, metadata fields, resources, refresh on label change', async () => {
  const { vm } = await manager({ nodeAllocatable: { cpu: 2, memory: 4 * 1024 ** 3 } });
  const p = pod(
    [{
      name: 'info',
      downwardAPI: {
        items: [
          { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
          { path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } },
          { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
          { path: 'ns', fieldRef: { fieldPath: 'metadata.namespace' } },
          { path: 'uid', fieldRef: { fieldPath: 'metadata.uid' } },
          { path: 'tier', fieldRef: { fieldPath: "metadata.labels['tier']" } },
          { path: 'cpu_limit', resourceFieldRef: { containerName: 'app', resource: 'limits.cpu', divisor: '1m' } },
          { path: 'mem_limit', resourceFieldRef: { containerName: 'app', resource: 'limits.memory', divisor: '1Mi' } },
          { path: 'mem_request', resourceFieldRef: { containerName: 'app', resource: 'requests.memory' } },
          { path: 'sub/dir/file', mode: 0o600, fieldRef: { fieldPath: 'metadata.name' } },
        ],
      },
    }],
    { containers: [{ name: 'app', image: 'busybox', resources: { requests: { memory: '32Mi' } } }] },
    { labels: { zone: 'us-east-1a', tier: 'front', app: 'web' }, annotations: { note: 'say "hi"\nnow', 'build': 'ünïcode\t1' } },
  );
  const dir = (await vm.setUp(p)).get('info')!.hostPath;
  assert.ok(dir.endsWith('/volumes/kubernetes.io~downward-api/info'));
  const want: Record<string, string> = {
    labels: 'app="web"\ntier="front"\nzone="us-east-1a"',
    annotations: 'build="ünïcode\\t1"\nnote="say \\"hi\\"\\nnow"',
    name: 'web',
    ns: 'ns1',
    uid: p.metadata!.uid!,
    tier: 'front',
    cpu_limit: '2000',
    mem_limit: '4096',
    mem_request: String(32 * 1024 * 1024),
    'sub/dir/file': 'web',
  };
  for (const [file, content] of Object.entries(want)) assert.equal(await read(path.join(dir, file)), content, file);
  assert.equal((await fs.stat(path.join(dir, 'sub/dir/file'))).mode & 0o777, 0o600);

  const relabeled: Pod = { ...p, metadata: { ...p.metadata, labels: { app: 'web', tier: 'back' } } };
  assert.equal(await vm.refresh(relabeled), true);
  assert.equal(await read(path.join(dir, 'labels')), 'app="web"\ntier="back"');
  assert.equal(await read(path.join(dir, 'tier')), 'back');
  await vm.tearDown(p.metadata!.uid!);
  assert.equal(await vm.refresh(relabeled), false, 'a torn-down pod is not recreated by refresh');
  assert.deepEqual(await vm.listPodDirs(), []);
});

test('projected: configMap + secret + downwardAPI sources; kube-api-access gets ca.crt, namespace and token', async () => {
  const tokens: string[] = [];
  const { source, vm } = await manager({
    caCertPem: '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n',
    tokenFor: async (p, audience, exp) => {
      tokens.push(`${p.metadata!.name}|${audience}|${exp}`);
      return `token-${tokens.length}`;
    },
  });
  source.cm('c', { one: '1' });
  source.secret('s', { two: '2' });
  const kubeApiAccess: Volume = {
    name: 'kube-api-access-abcde',
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
  const p = pod([
    kubeApiAccess,
    { name: 'all', projected: { sources: [{ configMap: { name: 'c' } }, { secret: { name: 's', items: [{ key: 'two', path: 'nested/two' }] } }, { downwardAPI: { items: [{ path: 'n', fieldRef: { fieldPath: 'metadata.name' } }] } }] } },
  ]);
  const vols = await vm.setUp(p);
  const sa = vols.get('kube-api-access-abcde')!;
  assert.ok(sa.hostPath.endsWith('/volumes/kubernetes.io~projected/kube-api-access-abcde'));
  assert.equal(sa.readOnly, true);
  assert.equal((await mountOf(sa.hostPath))?.fstype, 'tmpfs');
  assert.match(await read(path.join(sa.hostPath, 'ca.crt')), /BEGIN CERTIFICATE/);
  assert.equal(await read(path.join(sa.hostPath, 'namespace')), 'ns1');
  assert.equal(await read(path.join(sa.hostPath, 'token')), 'token-1');
  assert.deepEqual(tokens, ['web||3607']);
  const all = vols.get('all')!.hostPath;
  assert.equal(await read(path.join(all, 'one')), '1');
  assert.equal(await read(path.join(all, 'nested/two')), '2');
  assert.equal(await read(path.join(all, 'n')), 'web');
  // a rotated token shows up on refresh
  assert.equal(await vm.refresh(p), true);
  assert.equal(await read(path.join(sa.hostPath, 'token')), 'token-2');
  await vm.tearDown(p.metadata!.uid!);
});

test('projected serviceAccountToken without a token issuer: empty token for kube-api-access, an error otherwise', async () => {
  const { source, vm } = await manager();
  source.configMaps.set('ns1/kube-root-ca.crt', { metadata: { name: 'kube-root-ca.crt', namespace: 'ns1' }, data: { 'ca.crt': 'PEM' } });
  const sources = [
    { serviceAccountToken: { path: 'token' } },
    { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
  ];
  const ok = pod([{ name: 'kube-api-access-x1y2z', projected: { sources } }]);
  const dir = (await vm.setUp(ok)).get('kube-api-access-x1y2z')!.hostPath;
  assert.equal(await read(path.join(dir, 'token')), '');
  assert.equal(await read(path.join(dir, 'ca.crt')), 'PEM', 'without caCertPem the kube-root-ca.crt configMap is used');
  await vm.tearDown(ok.metadata!.uid!);

  const bad = pod([{ name: 'vault-token', projected: { sources: [{ serviceAccountToken: { path: 't', audience: 'vault' } }, { configMap: { name: 'gone' } }] } }]);
  await assert.rejects(vm.setUp(bad), (e: Error) => {
    assert.equal(e.message, 'MountVolume.SetUp failed for volume "vault-token" : [serviceAccountToken projections are not supported by this node yet, configmap "gone" not found]');
    return true;
  });
  await vm.tearDown(bad.metadata!.uid!);
});

test('listPodDirs and tearDown of unknown pods', async () => {
  const { vm } = await manager();
  assert.deepEqual(await vm.listPodDirs(), []);
  const a = pod([{ name: 'e', emptyDir: {} }]);
  const b = pod([]);
  await vm.setUp(a);
  await vm.setUp(b);
  assert.deepEqual(await vm.listPodDirs(), [a.metadata!.uid!, b.metadata!.uid!].sort());
  for (const d of ['volumes', 'plugins']) assert.ok((await fs.stat(path.join(vm.podDir(b.metadata!.uid!), d))).isDirectory());
  await vm.tearDown('never-existed');
  await vm.tearDown(a.metadata!.uid!);
  await vm.tearDown(b.metadata!.uid!);
  assert.deepEqual(await vm.listPodDirs(), []);
  assert.throws(() => vm.podDir('../etc'), /invalid pod uid/);
});
