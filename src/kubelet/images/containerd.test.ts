/**
 * The images against a real containerd (1.6): the OCI archives import under their full names,
 * and busybox/kubia pull from a LocalRegistry configured as the docker.io mirror. Each test run
 * starts its own containerd on a temporary dir (CRI plugin off: only images are exercised here)
 * and stops it by PID afterwards. Skipped where containerd, ctr or root are missing.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildCatalogImage, buildImageArchive, CATALOG, locateBusybox } from './catalog.js';
import { DOCKER_REGISTRY_BINARY, LocalRegistry } from './local-registry.js';

const run = promisify(execFile);
const hasBusybox = (() => { try { locateBusybox(); return true; } catch { return false; } })();
const skip = (!hasBusybox && 'busybox-static is not installed')
  || (!existsSync('/usr/bin/containerd') && 'containerd is not installed (apt-get install -y containerd runc)')
  || (!existsSync('/usr/bin/ctr') && 'ctr is not installed')
  || (process.getuid?.() !== 0 && 'containerd needs root');

let dir = '';
let containerd: ChildProcess | undefined;
let exited: Promise<void> | undefined;
const sock = () => join(dir, 'containerd.sock');
const ctr = (...args: string[]) => run('ctr', ['-a', sock(), '-n', 'k8s.io', ...args], { maxBuffer: 1 << 24 });

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'keelson-containerd-'));
  writeFileSync(join(dir, 'config.toml'), [
    'version = 2',
    `root = ${JSON.stringify(join(dir, 'root'))}`,
    `state = ${JSON.stringify(join(dir, 'state'))}`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    '[grpc]',
    `  address = ${JSON.stringify(sock())}`,
    '[ttrpc]',
    `  address = ${JSON.stringify(sock() + '.ttrpc')}`,
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = ${JSON.stringify(join(dir, 'opt'))}`,
    '',
  ].join('\n'));
  const child = spawn('containerd', ['--config', join(dir, 'config.toml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  containerd = child;
  let log = '';
  child.stderr!.on('data', (d) => { log = (log + d).slice(-4000); });
  exited = new Promise((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 15_000;
  for (;;) {
    try { await ctr('version'); break; } catch { /* not up yet */ }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`containerd did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
});

after(async () => {
  if (!dir) return;
  if (containerd && containerd.exitCode === null) {
    containerd.kill('SIGTERM');
    const timer = setTimeout(() => containerd?.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  // Unpacked snapshots may leave mounts under the dir; unmount deepest first.
  const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n')
    .map((l) => l.split(' ')[1]?.replace(/\\040/g, ' '))
    .filter((m): m is string => !!m && m.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await run('umount', ['-l', m]).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

test('ctr imports every catalog archive under its full name', { skip, timeout: 60_000 }, async () => {
  const archives = join(dir, 'archives');
  for (const entry of CATALOG) {
    const file = await buildImageArchive(entry.name, archives);
    await ctr('images', 'import', file);
  }
  const { stdout } = await ctr('images', 'ls');
  const rows = stdout.trim().split('\n').slice(1).map((l) => l.split(/\s+/));
  for (const entry of CATALOG) {
    const row = rows.find((r) => r[0] === entry.ref);
    assert.ok(row, `${entry.ref} is listed:\n${stdout}`);
    assert.equal(row[2], buildCatalogImage(entry.name).digest);
  }
});

test('containerd pulls busybox and kubia from a LocalRegistry as the docker.io mirror', {
  skip: skip || (!existsSync(DOCKER_REGISTRY_BINARY) && 'docker-registry is not installed'), timeout: 60_000,
}, async () => {
  const registry = new LocalRegistry({ dir: join(dir, 'registry') });
  try {
    await registry.start();
    await registry.seedCatalog();
    // server = the mirror too, so a failing mirror never falls back to the real docker.io.
    const hosts = join(dir, 'certs.d', 'docker.io');
    mkdirSync(hosts, { recursive: true });
    writeFileSync(join(hosts, 'hosts.toml'), [
      `server = "${registry.url}"`,
      `[host."${registry.url}"]`,
      '  capabilities = ["pull", "resolve"]',
      '',
    ].join('\n'));
    for (const [ref, name] of [['docker.io/library/busybox:1.36', 'busybox'], ['docker.io/luksa/kubia:latest', 'kubia']] as const) {
      await ctr('images', 'rm', ref).catch(() => undefined);
      await ctr('images', 'pull', '--hosts-dir', join(dir, 'certs.d'), ref);
      const { stdout } = await ctr('images', 'ls');
      const row = stdout.split('\n').find((l) => l.startsWith(ref + ' '));
      assert.ok(row, stdout);
      assert.ok(row.includes(buildCatalogImage(name).digest), row);
    }
  } finally {
    await registry.stop();
  }
});
