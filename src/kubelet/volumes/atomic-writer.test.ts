import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AtomicWriter, type Payload } from './atomic-writer.js';

const TS_DIR = /^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\d{9}$/;

async function tempDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'keelson-aw-'));
}

function payload(entries: Record<string, string | [string, number]>): Payload {
  const p: Payload = new Map();
  for (const [k, v] of Object.entries(entries)) {
    const [data, mode] = typeof v === 'string' ? [v, 0o644] : v;
    p.set(k, { data: Buffer.from(data), mode });
  }
  return p;
}

/** The directory as the container sees it: user-visible names (through the symlinks) → content. */
async function visible(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const visit = async (rel: string) => {
    for (const name of (await fs.readdir(path.join(dir, rel))).sort()) {
      if (!rel && name.startsWith('..')) continue;
      const child = rel ? `${rel}/${name}` : name;
      const st = await fs.stat(path.join(dir, child));
      if (st.isDirectory()) await visit(child);
      else out[child] = await fs.readFile(path.join(dir, child), 'utf8');
    }
  };
  await visit('');
  return out;
}

async function hiddenDirs(dir: string): Promise<string[]> {
  return (await fs.readdir(dir)).filter((n) => n.startsWith('..') && n !== '..data').sort();
}

test('first write: timestamped dir, ..data symlink, one symlink per top-level entry, exact modes', async () => {
  const dir = await tempDir();
  try {
    const w = new AtomicWriter(dir);
    assert.equal(await w.write(payload({ a: 'A', b: ['B', 0o600], 'sub/c': 'C' })), true);
    const ts = await fs.readlink(path.join(dir, '..data'));
    assert.match(ts, TS_DIR);
    assert.deepEqual(await hiddenDirs(dir), [ts]);
    assert.equal(await fs.readlink(path.join(dir, 'a')), '..data/a');
    assert.equal(await fs.readlink(path.join(dir, 'sub')), '..data/sub');
    assert.deepEqual(await visible(dir), { a: 'A', b: 'B', 'sub/c': 'C' });
    assert.equal((await fs.stat(path.join(dir, 'b'))).mode & 0o7777, 0o600);
    assert.equal((await fs.stat(path.join(dir, 'a'))).mode & 0o7777, 0o644);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('writes: update, no-op, key removal, nested paths', async () => {
  const dir = await tempDir();
  try {
    const w = new AtomicWriter(dir);
    const steps: { name: string; payload: Payload; changed: boolean; want: Record<string, string>; gone?: string[] }[] = [
      { name: 'initial', payload: payload({ a: '1', b: '2', 'd/x': 'x', 'd/y': 'y' }), changed: true, want: { a: '1', b: '2', 'd/x': 'x', 'd/y': 'y' } },
      { name: 'same payload is a no-op', payload: payload({ a: '1', b: '2', 'd/x': 'x', 'd/y': 'y' }), changed: false, want: { a: '1', b: '2', 'd/x': 'x', 'd/y': 'y' } },
      { name: 'value update', payload: payload({ a: '1!', b: '2', 'd/x': 'x', 'd/y': 'y' }), changed: true, want: { a: '1!', b: '2', 'd/x': 'x', 'd/y': 'y' } },
      { name: 'key removed', payload: payload({ a: '1!', 'd/x': 'x', 'd/y': 'y' }), changed: true, want: { a: '1!', 'd/x': 'x', 'd/y': 'y' }, gone: ['b'] },
      { name: 'nested key removed, dir kept', payload: payload({ a: '1!', 'd/x': 'x' }), changed: true, want: { a: '1!', 'd/x': 'x' } },
      { name: 'whole dir removed', payload: payload({ a: '1!', c: 'new' }), changed: true, want: { a: '1!', c: 'new' }, gone: ['d'] },
      { name: 'empty payload', payload: new Map(), changed: true, want: {}, gone: ['a', 'c'] },
      { name: 'empty again is a no-op', payload: new Map(), changed: false, want: {} },
    ];
    for (const s of steps) {
      const before = await fs.readlink(path.join(dir, '..data')).catch(() => '');
      assert.equal(await w.write(s.payload), s.changed, s.name);
      const after = await fs.readlink(path.join(dir, '..data'));
      assert.deepEqual(await visible(dir), s.want, s.name);
      // exactly one payload dir at any time: the old one is gone after a change
      assert.deepEqual(await hiddenDirs(dir), [after], s.name);
      if (s.changed) assert.notEqual(after, before, s.name);
      else assert.equal(after, before, s.name);
      for (const g of s.gone ?? []) await assert.rejects(fs.lstat(path.join(dir, g)), { code: 'ENOENT' }, `${s.name}: ${g}`);
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a reader holding the user-visible path sees the new content after an update', async () => {
  const dir = await tempDir();
  try {
    const w = new AtomicWriter(dir);
    await w.write(payload({ 'config.yaml': 'v: 1' }));
    const p = path.join(dir, 'config.yaml');
    assert.equal(await fs.readFile(p, 'utf8'), 'v: 1');
    await w.write(payload({ 'config.yaml': 'v: 2' }));
    assert.equal(await fs.readFile(p, 'utf8'), 'v: 2');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('invalid paths are refused before anything is written', async () => {
  const dir = await tempDir();
  try {
    const w = new AtomicWriter(dir);
    const cases: [string, RegExp][] = [
      ['', /must not be empty/],
      ['/etc/passwd', /must be relative path/],
      ['../escape', /must not contain '\.\.'/],
      ['a/../../b', /must not contain '\.\.'/],
      ['..hidden', /must not start with '\.\.'/],
      ['x'.repeat(256), /255 characters/],
    ];
    for (const [p, re] of cases) {
      await assert.rejects(w.write(payload({ ok: 'fine', [p]: 'bad' })), re, JSON.stringify(p));
    }
    await assert.rejects(w.write(payload({ a: '1', 'a/b': '2' })), /both a file and a directory/);
    assert.deepEqual(await fs.readdir(dir), []);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a leftover ..data_tmp and a missing user-visible symlink are repaired', async () => {
  const dir = await tempDir();
  try {
    const w = new AtomicWriter(dir);
    await w.write(payload({ a: '1' }));
    await fs.unlink(path.join(dir, 'a'));
    assert.equal(await w.write(payload({ a: '1' })), false);
    assert.equal(await fs.readFile(path.join(dir, 'a'), 'utf8'), '1');
    await fs.symlink('nowhere', path.join(dir, '..data_tmp'));
    assert.equal(await w.write(payload({ a: '2' })), true);
    assert.equal(await fs.readFile(path.join(dir, 'a'), 'utf8'), '2');
    await assert.rejects(fs.lstat(path.join(dir, '..data_tmp')), { code: 'ENOENT' });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('setPerms runs on the new payload dir before it is published', async () => {
  const dir = await tempDir();
  try {
    const w = new AtomicWriter(dir);
    let seen = '';
    await w.write(payload({ a: '1' }), {
      setPerms: async (tsDir) => {
        seen = path.basename(tsDir);
        await assert.rejects(fs.lstat(path.join(dir, '..data')), { code: 'ENOENT' });
        await fs.chmod(path.join(tsDir, 'a'), 0o400);
      },
    });
    assert.equal(await fs.readlink(path.join(dir, '..data')), seen);
    assert.equal((await fs.stat(path.join(dir, 'a'))).mode & 0o7777, 0o400);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
