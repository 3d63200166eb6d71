/**
 * Storage benchmark: how fast the SQLite storage layer accepts creates of 2 KB JSON values, with
 * exactly the settings the API server uses (SqliteStorage: WAL, synchronous=NORMAL, one
 * transaction per write). The API benchmark reuses rawInsertRate as its baseline.
 *
 *   node .build/bench/storage-bench.js [n]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SqliteStorage } from '../src/storage/sqlite/sqlite-storage.js';

/** A JSON object of about `size` bytes, shaped like a small Kubernetes object. */
export function jsonValue(name: string, size = 2048): string {
  const base = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: 'bench', labels: { app: 'bench' } },
    data: { payload: '' },
  };
  const pad = Math.max(0, size - JSON.stringify(base).length);
  base.data.payload = 'x'.repeat(pad);
  return JSON.stringify(base);
}

function removeDb(path: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
}

/**
 * Creates n keys with 2 KB JSON values, one after another, in a fresh database under dir and
 * returns the rate in creates per second. The database file is removed afterwards.
 */
export async function rawInsertRate(dir: string, n: number): Promise<number> {
  const path = join(dir, `storage-bench-${process.pid}-${Date.now()}.sqlite`);
  const storage = SqliteStorage.open(path, { compactIntervalMs: 0 });
  try {
    const values = Array.from({ length: Math.min(n, 64) }, (_, i) => jsonValue(`cm-${i}`));
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      await storage.create(`/registry/configmaps/bench/cm-${i}`, values[i % values.length]!);
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    return n / seconds;
  } finally {
    await storage.close();
    removeDb(path);
  }
}

/** Milliseconds for a full list and a count of n keys (2 KB values) at the latest revision. */
export async function listLatency(dir: string, n: number): Promise<{ listMs: number; countMs: number; pageMs: number }> {
  const path = join(dir, `storage-bench-list-${process.pid}-${Date.now()}.sqlite`);
  const storage = SqliteStorage.open(path, { compactIntervalMs: 0 });
  try {
    const value = jsonValue('cm');
    for (let i = 0; i < n; i++) await storage.create(`/registry/configmaps/bench/cm-${String(i).padStart(6, '0')}`, value);
    // Some history and a neighbouring prefix, as in a real store.
    for (let i = 0; i < n; i += 10) {
      const key = `/registry/configmaps/bench/cm-${String(i).padStart(6, '0')}`;
      const kv = (await storage.get(key))!;
      await storage.update(key, value, kv.modRevision);
      await storage.create(`/registry/configmapsx/bench/cm-${i}`, value);
    }
    const time = async (fn: () => Promise<unknown>) => {
      const start = process.hrtime.bigint();
      await fn();
      return Number(process.hrtime.bigint() - start) / 1e6;
    };
    const listMs = await time(async () => {
      const res = await storage.list('/registry/configmaps/');
      if (res.items.length !== n) throw new Error(`listed ${res.items.length} of ${n}`);
    });
    const countMs = await time(() => storage.count('/registry/configmaps/'));
    const pageMs = await time(() => storage.list('/registry/configmaps/', { limit: 500, startAfter: '/registry/configmaps/bench/cm-005000' }));
    return { listMs, countMs, pageMs };
  } finally {
    await storage.close();
    removeDb(path);
  }
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 10_000);
  const dir = mkdtempSync(join(tmpdir(), 'keelson-storage-bench-'));
  try {
    const rate = await rawInsertRate(dir, n);
    console.log(`sqlite storage: ${Math.round(rate)} creates/s of 2 KB JSON values (n=${n})`);
    const lat = await listLatency(dir, n);
    console.log(
      `list of ${n} keys: ${lat.listMs.toFixed(1)} ms; count: ${lat.countMs.toFixed(1)} ms; page of 500: ${lat.pageMs.toFixed(1)} ms`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
