import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildCatalogImage, buildImageArchive, CATALOG, isStaticElf, locateBusybox, PAUSE_IMAGE, type CatalogImageName,
} from './catalog.js';
import type { BuiltImage } from './oci-image.js';

const busybox = (() => { try { return locateBusybox(); } catch { return undefined; } })();
const noBusybox = !busybox && 'busybox-static is not installed (apt-get install -y busybox-static)';
const which = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const canNamespace = process.getuid?.() === 0 && which('unshare') && which('chroot') && which('nsenter') && which('tar');
const noNamespaces = (noBusybox || (!canNamespace && 'needs root with unshare, chroot, nsenter and tar')) as string | false;

function layerListing(image: BuiltImage, i: number): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'keelson-layer-'));
  try {
    writeFileSync(join(dir, 'l.tgz'), image.layers[i].data);
    return execFileSync('tar', ['-tvzf', join(dir, 'l.tgz')], { encoding: 'utf8', maxBuffer: 1 << 24 }).trimEnd().split('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Unpacks the image's layers into a fresh rootfs (as a runtime would) plus /dev/null. */
function unpack(image: BuiltImage): string {
  const root = mkdtempSync(join(tmpdir(), 'keelson-rootfs-'));
  for (const l of image.layers) execFileSync('tar', ['-xzf', '-', '-C', root], { input: l.data });
  execFileSync('mknod', ['-m', '666', join(root, 'dev/null'), 'c', '1', '3']);
  return root;
}

function imageConfig(image: BuiltImage): { config: { Entrypoint?: string[]; Cmd?: string[]; ExposedPorts?: object; Env?: string[] } } {
  return JSON.parse(image.config.data.toString());
}

test('the busybox used is statically linked', { skip: noBusybox }, () => {
  assert.ok(isStaticElf(busybox!));
  assert.equal(isStaticElf(process.execPath), false, 'node is dynamically linked');
});

test('missing busybox gives an install hint', () => {
  const saved = process.env.KEELSON_BUSYBOX;
  process.env.KEELSON_BUSYBOX = '/nonexistent/busybox';
  try {
    assert.throws(() => buildCatalogImage('busybox'), /apt-get install -y busybox-static/);
  } finally {
    if (saved === undefined) delete process.env.KEELSON_BUSYBOX; else process.env.KEELSON_BUSYBOX = saved;
  }
});

test('catalog images have stable digests and share the base layer', { skip: noBusybox }, () => {
  const names: CatalogImageName[] = ['pause', 'busybox', 'kubia'];
  const first = names.map((n) => buildCatalogImage(n, { cache: false }));
  const second = names.map((n) => buildCatalogImage(n, { cache: false }));
  assert.deepEqual(first.map((i) => i.digest), second.map((i) => i.digest));
  const base = first[0].layers[0].digest;
  assert.ok(first.every((i) => i.layers[0].digest === base));
  assert.equal(new Set(first.map((i) => i.digest)).size, 3);
  assert.deepEqual(CATALOG.map((c) => c.name), names);
  assert.equal(CATALOG[0].ref, PAUSE_IMAGE);
  assert.equal(CATALOG.find((c) => c.name === 'kubia')?.ref, 'docker.io/luksa/kubia:latest');
  assert.equal(CATALOG.find((c) => c.name === 'busybox')?.ref, 'docker.io/library/busybox:latest');
});

test('busybox image: applet links, passwd, tmp 1777, Cmd sh', { skip: noBusybox }, () => {
  const img = buildCatalogImage('busybox');
  assert.deepEqual(imageConfig(img).config.Cmd, ['sh']);
  const lines = layerListing(img, 0);
  const find = (name: string) => lines.find((l) => l.endsWith(` ${name}`) || l.includes(` ${name} -> `));
  assert.match(find('bin/busybox') ?? '', /^-rwxr-xr-x /);
  assert.match(find('bin/sh') ?? '', /^l.* bin\/sh -> \/bin\/busybox$/);
  assert.match(find('usr/bin/awk') ?? '', /-> \/bin\/busybox$/);
  assert.match(find('bin/awk') ?? '', /-> \/bin\/busybox$/, 'every applet is in /bin too');
  // wget is the wrapper that keeps Debian busybox 1.35's `wget -T` crash away.
  assert.match(find('usr/bin/wget') ?? '', /^-rwxr-xr-x /);
  assert.match(find('bin/wget') ?? '', /^-rwxr-xr-x /);
  assert.match(find('tmp/') ?? '', /^drwxrwxrwt /);
  assert.match(find('root/') ?? '', /^drwx------ /);
  assert.ok(find('etc/passwd') && find('etc/group'));
  assert.equal(find('linuxrc'), undefined);
});

test('buildImageArchive reuses an archive with the same content', { skip: noBusybox }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keelson-archive-'));
  try {
    const p1 = await buildImageArchive('pause', dir);
    const m1 = statSync(p1).mtimeMs;
    const p2 = await buildImageArchive('pause', dir);
    assert.equal(p1, p2);
    assert.equal(statSync(p2).mtimeMs, m1);
    assert.deepEqual(readdirSync(dir), [p1.slice(dir.length + 1)]);
    const index = JSON.parse(execFileSync('tar', ['-xOf', p1, 'index.json'], { encoding: 'utf8' }));
    assert.equal(index.manifests[0].annotations['io.containerd.image.name'], PAUSE_IMAGE);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// The driver runs inside the kubia rootfs, in fresh net/uts/pid namespaces: the server's port
// 8080 and hostname are private, and everything dies with the namespace's PID 1.
const KUBIA_DRIVER = `
hostname kubia-7d5b9c-x2x4q
ip link set lo up
/bin/sh /kubia/server.sh > /tmp/server.log 2>&1 &
server=$!
up=
for i in $(seq 100); do wget -qO- http://127.0.0.1:8080/ >/dev/null 2>&1 && { up=1; break; }; sleep 0.05; done
[ -n "$up" ] || { echo "NOT-UP"; cat /tmp/server.log; exit 1; }
# A client that connects and sends nothing must not block others.
sleep 3 | nc 127.0.0.1 8080 >/dev/null 2>&1 &
for p in / /shutdown /a/b?c=d; do echo "GET $p => $(wget -qO- "http://127.0.0.1:8080$p")"; done
pids=
for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://127.0.0.1:8080/c$i > /tmp/c$i & pids="$pids $!"; done
wait $pids
for i in 1 2 3 4 5 6 7 8 9 10; do echo "C$i => $(cat /tmp/c$i)"; done
echo "POST => $(wget -qO- --post-data 'a=1&b=2' http://127.0.0.1:8080/form)"
printf 'GET /raw HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' | nc 127.0.0.1 8080 > /tmp/raw
tr '\\r' '~' < /tmp/raw | sed 's/^/RAW /'
kill -TERM $server
wait $server
echo "EXIT $?"
sed 's/^/LOG /' /tmp/server.log
`;

test('kubia answers every path with its hostname, concurrently, and exits 0 on SIGTERM', { skip: noNamespaces, timeout: 30_000 }, () => {
  const img = buildCatalogImage('kubia');
  const cfg = imageConfig(img).config;
  assert.deepEqual(cfg.Entrypoint, ['/bin/sh', '/kubia/server.sh']);
  assert.deepEqual(cfg.ExposedPorts, { '8080/tcp': {} });
  const root = unpack(img);
  try {
    writeFileSync(join(root, 'driver.sh'), KUBIA_DRIVER);
    const r = spawnSync('unshare', ['--net', '--uts', '--pid', '--fork', '--kill-child', 'chroot', root, '/bin/sh', '/driver.sh'], {
      encoding: 'utf8', timeout: 25_000, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
    });
    const out = r.stdout;
    assert.equal(r.status, 0, `driver failed: ${out}\n${r.stderr}`);
    const hit = "You've hit kubia-7d5b9c-x2x4q";
    for (const p of ['/', '/shutdown', '/a/b?c=d']) assert.ok(out.includes(`GET ${p} => ${hit}`), out);
    for (let i = 1; i <= 10; i++) assert.ok(out.includes(`C${i} => ${hit}`), out);
    assert.ok(out.includes(`POST => ${hit}`), out);
    assert.ok(out.includes('RAW HTTP/1.1 200 OK~'), out);
    assert.ok(out.includes(`RAW Content-Length: ${hit.length + 1}~`), out);
    assert.ok(out.includes(`RAW ${hit}`), out);
    assert.ok(out.includes('EXIT 0'), out);
    assert.ok(out.includes('LOG Kubia server starting...'), out);
    assert.ok(out.includes('LOG Received request: GET /shutdown'), out);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

function childrenOf(pid: number): { pid: number; state: string }[] {
  const out: { pid: number; state: string }[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid) out.push({ pid: Number(d), state: fields[0] });
    } catch { /* exited meanwhile */ }
  }
  return out;
}

async function until<T>(what: string, fn: () => T | undefined | false, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('pause: as PID 1 it reaps orphans and exits 0 promptly on SIGTERM', { skip: noNamespaces, timeout: 30_000 }, async () => {
  const img = buildCatalogImage('pause');
  const entrypoint = imageConfig(img).config.Entrypoint!;
  assert.equal(entrypoint[0], '/bin/sh');
  const root = unpack(img);
  const child = spawn('unshare', ['--pid', '--fork', '--kill-child', 'chroot', root, ...entrypoint], { stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    // PID 1 of the new namespace is unshare's child; wait until it is the pause shell.
    const init = await until('the pause process', () => {
      const c = childrenOf(child.pid!)[0];
      if (!c) return undefined;
      try { return readFileSync(`/proc/${c.pid}/cmdline`, 'utf8').includes('trap') ? c.pid : undefined; } catch { return undefined; }
    });
    // Orphans: their parent exits at once, so they are re-parented to the pause process.
    execFileSync('nsenter', ['-t', String(init), '-p', busybox!, 'sh', '-c', `${busybox} sleep 0.4 & ${busybox} sleep 0.5 & exit 0`], { stdio: 'ignore' }); // no pipe the orphans would hold open
    await until('the orphans to be re-parented to pause', () => childrenOf(init).length === 3, 400);
    await until('the orphans to be reaped', () => {
      const kids = childrenOf(init);
      return kids.length === 1 && kids.every((k) => k.state !== 'Z'); // only its own `sleep 3600`
    });
    const t0 = Date.now();
    process.kill(init, 'SIGTERM');
    assert.equal(await exited, 0);
    assert.ok(Date.now() - t0 < 2000, 'exits promptly');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
    rmSync(root, { recursive: true, force: true });
  }
});

test('the busybox rootfs runs a shell with applets on PATH', { skip: noNamespaces }, () => {
  const img = buildCatalogImage('busybox');
  const root = unpack(img);
  try {
    const env = imageConfig(img).config.Env ?? [];
    const r = spawnSync('chroot', [root, '/bin/sh', '-c', 'id -un; ls / | tr "\\n" " "; /bin/sleep 0; echo ok'], {
      encoding: 'utf8', env: Object.fromEntries(env.map((e) => e.split('=', 2) as [string, string])),
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^root\n/);
    assert.match(r.stdout, /bin .*etc .*tmp/);
    assert.match(r.stdout, /ok\n$/);
    assert.ok(existsSync(join(root, 'bin/busybox')));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
