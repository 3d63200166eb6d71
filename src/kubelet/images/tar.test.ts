import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTar, TAR_EPOCH, type TarEntry } from './tar.js';

const hasTar = (() => { try { execFileSync('tar', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; } })();

const LONG_SPLIT = `${'d'.repeat(60)}/${'e'.repeat(60)}/split-name.txt`; // > 100, fits prefix+name
const LONG_PAX = `${'x'.repeat(120)}/${'y'.repeat(120)}`; // name part > 100: needs PAX
const LONG_TARGET = `/${'t'.repeat(150)}`;

const entries: TarEntry[] = [
  { type: 'dir', path: 'a' },
  { type: 'file', path: 'a/hello.txt', data: 'hello\n', mode: 0o640, uid: 1000, gid: 1001, uname: 'user', gname: 'grp' },
  { type: 'file', path: 'a/setuid', data: Buffer.from([0, 1, 2, 255]), mode: 0o4755 },
  { type: 'file', path: 'a/empty', data: '' },
  { type: 'file', path: 'a/block', data: Buffer.alloc(512, 0x61) },
  { type: 'symlink', path: 'a/link', target: 'hello.txt' },
  { type: 'dir', path: 'tmp/', mode: 0o1777 },
  { type: 'dir', path: LONG_SPLIT.slice(0, LONG_SPLIT.lastIndexOf('/')).split('/')[0] },
  { type: 'dir', path: LONG_SPLIT.slice(0, LONG_SPLIT.lastIndexOf('/')) },
  { type: 'file', path: LONG_SPLIT, data: 'split\n' },
  { type: 'dir', path: LONG_PAX.split('/')[0] },
  { type: 'file', path: LONG_PAX, data: 'pax\n' },
  { type: 'symlink', path: 'a/far', target: LONG_TARGET },
  { type: 'file', path: '/a/grüße.txt', data: 'utf8\n' },
];

test('createTar is deterministic and block-aligned', () => {
  const a = createTar(entries);
  const b = createTar(entries);
  assert.ok(a.equals(b));
  assert.equal(a.length % 512, 0);
  // Ends with two zero blocks.
  assert.ok(a.subarray(a.length - 1024).every((x) => x === 0));
});

test('createTar rejects bad input', () => {
  assert.throws(() => createTar([{ type: 'file', path: '../etc/passwd', data: '' }]), /\.\./);
  assert.throws(() => createTar([{ type: 'file', path: '/', data: '' }]), /empty path/);
  assert.throws(() => createTar([{ type: 'symlink', path: 'x', target: '' }]), /empty target/);
  assert.throws(() => createTar([{ type: 'file', path: 'x', data: '', mode: 0o10000 }]), /out of range/);
});

test('GNU tar lists names, modes, owners, times and link targets', { skip: !hasTar && 'tar is not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'keelson-tar-'));
  try {
    const file = join(dir, 't.tar');
    writeFileSync(file, createTar(entries));
    const out = execFileSync('tar', ['--numeric-owner', '--full-time', '--quoting-style=literal', '-tvf', file], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' } });
    const lines = out.trimEnd().split('\n');
    const rows = lines.map((l) => {
      const m = /^(\S+) (\d+)\/(\d+) +(\d+) (\S+ \S+) (.*)$/.exec(l);
      assert.ok(m, `unexpected tar -tv line: ${l}`);
      const [, mode, uid, gid, size, time, rest] = m;
      const [name, target] = rest.split(' -> ');
      return { mode, uid: Number(uid), gid: Number(gid), size: Number(size), time, name, target };
    });
    const byName = new Map(rows.map((r) => [r.name, r]));
    assert.equal(rows.length, entries.length);
    assert.equal(byName.get('a/')?.mode, 'drwxr-xr-x');
    assert.deepEqual(
      { ...byName.get('a/hello.txt') },
      { mode: '-rw-r-----', uid: 1000, gid: 1001, size: 6, time: '2024-01-01 00:00:00', name: 'a/hello.txt', target: undefined },
    );
    assert.equal(byName.get('a/setuid')?.mode, '-rwsr-xr-x');
    assert.equal(byName.get('a/empty')?.size, 0);
    assert.equal(byName.get('a/block')?.size, 512);
    assert.equal(byName.get('a/link')?.mode, 'lrwxrwxrwx');
    assert.equal(byName.get('a/link')?.target, 'hello.txt');
    assert.equal(byName.get('tmp/')?.mode, 'drwxrwxrwt');
    assert.ok(byName.has(LONG_SPLIT));
    assert.ok(byName.has(LONG_PAX));
    assert.equal(byName.get('a/far')?.target, LONG_TARGET);
    assert.ok(byName.has('a/grüße.txt'));
    assert.ok(rows.every((r) => r.time === '2024-01-01 00:00:00'));
    assert.equal(TAR_EPOCH, Date.UTC(2024, 0, 1) / 1000);

    // Extract and read back contents and link targets.
    const out2 = join(dir, 'x');
    mkdirSync(out2);
    execFileSync('tar', ['-xf', file, '-C', out2]);
    assert.equal(readFileSync(join(out2, 'a/hello.txt'), 'utf8'), 'hello\n');
    assert.deepEqual([...readFileSync(join(out2, 'a/setuid'))], [0, 1, 2, 255]);
    assert.equal(readFileSync(join(out2, LONG_SPLIT), 'utf8'), 'split\n');
    assert.equal(readFileSync(join(out2, LONG_PAX), 'utf8'), 'pax\n');
    assert.equal(readFileSync(join(out2, 'a/grüße.txt'), 'utf8'), 'utf8\n');
    assert.equal(readlinkSync(join(out2, 'a/link')), 'hello.txt');
    assert.equal(readlinkSync(join(out2, 'a/far')), LONG_TARGET);
    assert.equal(statSync(join(out2, 'a/hello.txt')).mtimeMs, TAR_EPOCH * 1000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
