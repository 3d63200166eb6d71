/**
 * The kubelet's atomic writer (pkg/volume/util/atomic_writer.go), the way configMap, secret,
 * downwardAPI and projected volumes publish their files so that a reader inside the container
 * never sees a half-updated set.
 *
 * Layout of a target directory after a write:
 *
 *   ..2026_11_22_05_00_00.123456789/   the payload, written in full before it becomes visible
 *   ..data -> ..2026_11_22_05_00_00.123456789
 *   key    -> ..data/key               one symlink per top-level entry of the payload
 *
 * An update writes a whole new timestamped directory, then swaps `..data` with a single
 * rename(2) of a freshly made `..data_tmp` symlink (atomic on Linux), then fixes the user-visible
 * symlinks (adds new ones, removes ones whose key is gone) and deletes the old directory.
 * Because the user-visible names point through `..data`, every file flips at the same instant.
 *
 * When the payload has the same paths and bytes as what is on disk nothing is written and no new
 * directory is made (upstream's shouldWritePayload compares bytes only, so do we: file modes are
 * fixed for the life of a pod and fsGroup ownership changes them after writing).
 *
 * Written from the documented behaviour of the upstream writer; no code copied.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** One file of a payload: its bytes and permission bits (e.g. 0o644). */
export interface FileProjection {
  data: Buffer;
  mode: number;
}

/** A payload: relative path (`key`, `dir/key`) → file. */
export type Payload = Map<string, FileProjection>;

export const DATA_DIR_NAME = '..data';
export const NEW_DATA_DIR_NAME = '..data_tmp';

const MAX_PATH_LENGTH = 4096;
const MAX_FILE_NAME_LENGTH = 255;

export interface AtomicWriterOptions {
  /** Called with the new timestamped directory after the files are written and before it is published (fsGroup ownership). */
  setPerms?: (tsDir: string) => Promise<void>;
}

/** Writes payloads into one target directory, atomically. The target directory must exist. */
export class AtomicWriter {
  constructor(readonly targetDir: string) {}

  /**
   * Publishes `payload` in the target directory. Returns true if anything changed on disk,
   * false if the payload was already there (no new timestamped directory is made).
   * Throws on an invalid path in the payload without touching the directory.
   */
  async write(payload: Payload, opts: AtomicWriterOptions = {}): Promise<boolean> {
    const clean = validatePayload(payload);
    const dataDirPath = path.join(this.targetDir, DATA_DIR_NAME);

    // 1. Where the current payload lives (if any).
    let oldTsName = '';
    try {
      oldTsName = await fs.readlink(dataDirPath);
    } catch (e: any) {
      if (e.code !== 'ENOENT') throw new Error(`unable to read link ${dataDirPath}: ${e.message}`);
    }
    const oldTsPath = oldTsName ? path.join(this.targetDir, oldTsName) : '';
    if (oldTsPath && !(await isDirectory(oldTsPath))) oldTsName = '';

    // 2. What would disappear and whether anything differs.
    const pathsToRemove = oldTsName ? await this.pathsToRemove(clean, oldTsPath) : new Set<string>();
    const shouldWrite = !oldTsName || (await payloadDiffers(clean, oldTsPath));

    if (!shouldWrite && pathsToRemove.size === 0) {
      // Nothing to publish, but make sure every user-visible symlink is there (a crash between
      // the swap and the symlink step would otherwise leave a key invisible forever).
      await this.createUserVisibleFiles(clean);
      return false;
    }

    // 3. Write the new payload into a fresh hidden directory.
    const tsDir = await this.newTimestampDir();
    const tsName = path.basename(tsDir);
    try {
      await writePayloadToDir(clean, tsDir);
      if (opts.setPerms) await opts.setPerms(tsDir);

      // 4. Swap ..data atomically: a new symlink beside it, renamed over it.
      const tmpLink = path.join(this.targetDir, NEW_DATA_DIR_NAME);
      await fs.rm(tmpLink, { force: true });
      await fs.symlink(tsName, tmpLink);
      await fs.rename(tmpLink, dataDirPath);
    } catch (e) {
      await fs.rm(tsDir, { recursive: true, force: true }).catch(() => {});
      throw e;
    }

    // 5. User-visible symlinks: add the new ones, drop the ones whose key is gone.
    await this.createUserVisibleFiles(clean);
    await this.removeUserVisiblePaths(pathsToRemove);

    // 6. The old payload is unreachable now.
    if (oldTsName && oldTsName !== tsName) await fs.rm(oldTsPath, { recursive: true, force: true });
    return true;
  }

  /** Relative paths (files and directories) in the old payload directory that the new payload does not have. */
  private async pathsToRemove(payload: Payload, oldTsPath: string): Promise<Set<string>> {
    const wanted = new Set<string>();
    for (const p of payload.keys()) {
      const parts = p.split('/');
      for (let i = 1; i <= parts.length; i++) wanted.add(parts.slice(0, i).join('/'));
    }
    const out = new Set<string>();
    for (const rel of await walk(oldTsPath)) if (!wanted.has(rel)) out.add(rel);
    return out;
  }

  private async createUserVisibleFiles(payload: Payload): Promise<void> {
    const tops = new Set<string>();
    for (const p of payload.keys()) tops.add(p.split('/')[0]);
    for (const top of tops) {
      const visible = path.join(this.targetDir, top);
      try {
        await fs.lstat(visible);
        continue; // already there (a symlink from an earlier write, or something we must not clobber)
      } catch (e: any) {
        if (e.code !== 'ENOENT') throw e;
      }
      await fs.symlink(path.join(DATA_DIR_NAME, top), visible);
    }
  }

  private async removeUserVisiblePaths(paths: Set<string>): Promise<void> {
    for (const p of paths) {
      if (p.includes('/')) continue; // only top-level entries have a user-visible symlink
      const visible = path.join(this.targetDir, p);
      try {
        const st = await fs.lstat(visible);
        if (st.isSymbolicLink()) await fs.unlink(visible);
      } catch (e: any) {
        if (e.code !== 'ENOENT') throw e;
      }
    }
  }

  /** `..<UTC time as 2006_01_02_15_04_05>.<random digits>`, as upstream names them. */
  private async newTimestampDir(): Promise<string> {
    const d = new Date();
    const pad = (n: number, w = 2) => String(n).padStart(w, '0');
    const stamp = `${d.getUTCFullYear()}_${pad(d.getUTCMonth() + 1)}_${pad(d.getUTCDate())}_${pad(d.getUTCHours())}_${pad(d.getUTCMinutes())}_${pad(d.getUTCSeconds())}`;
    for (let attempt = 0; ; attempt++) {
      const rand = String(Math.floor(Math.random() * 1e9)).padStart(9, '0');
      const dir = path.join(this.targetDir, `..${stamp}.${rand}`);
      try {
        await fs.mkdir(dir, { mode: 0o755 });
        await fs.chmod(dir, 0o755);
        return dir;
      } catch (e: any) {
        if (e.code !== 'EEXIST' || attempt > 100) throw e;
      }
    }
  }
}

/**
 * Checks every path of a payload (upstream validatePath) and returns the payload keyed by clean
 * paths. Rules: relative, not empty, no `..` element, must not start with `..` (that namespace
 * belongs to the writer), at most 4096 characters, each element at most 255.
 */
export function validatePayload(payload: Payload): Payload {
  const out: Payload = new Map();
  for (const [p, file] of payload) {
    const err = validatePath(p);
    if (err) throw new Error(err);
    out.set(path.posix.normalize(p).replace(/\/+$/, ''), file);
  }
  // A path cannot be both a file and the directory of another file.
  for (const p of out.keys()) {
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (out.has(dir)) throw new Error(`invalid payload: ${JSON.stringify(dir)} is both a file and a directory`);
    }
  }
  return out;
}

export function validatePath(targetPath: string): string | undefined {
  if (targetPath === '') return 'invalid path: must not be empty';
  if (targetPath.startsWith('/')) return `invalid path: must be relative path: ${targetPath}`;
  if (targetPath.length > MAX_PATH_LENGTH) return `invalid path: must be less than or equal to ${MAX_PATH_LENGTH} characters`;
  const items = targetPath.split('/');
  for (const item of items) {
    if (item === '..') return `invalid path: must not contain '..': ${targetPath}`;
    if (item.length > MAX_FILE_NAME_LENGTH) return `invalid path: filenames must be less than or equal to ${MAX_FILE_NAME_LENGTH} characters`;
    if (item.includes('\0')) return `invalid path: must not contain NUL: ${JSON.stringify(targetPath)}`;
  }
  if (items[0].startsWith('..') && items[0].length > 2) return `invalid path: must not start with '..': ${targetPath}`;
  const normalized = path.posix.normalize(targetPath);
  if (normalized === '.' || normalized === './') return `invalid path: must not be empty: ${targetPath}`;
  return undefined;
}

async function payloadDiffers(payload: Payload, oldTsPath: string): Promise<boolean> {
  for (const [rel, file] of payload) {
    const p = path.join(oldTsPath, rel);
    let st;
    try {
      st = await fs.lstat(p);
    } catch (e: any) {
      if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return true;
      throw e;
    }
    if (!st.isFile() || st.size !== file.data.length) return true;
    const current = await fs.readFile(p);
    if (!current.equals(file.data)) return true;
  }
  return false;
}

async function writePayloadToDir(payload: Payload, dir: string): Promise<void> {
  for (const [rel, file] of payload) {
    const p = path.join(dir, rel);
    const parent = path.dirname(p);
    if (parent !== dir) await fs.mkdir(parent, { recursive: true, mode: 0o755 });
    await fs.writeFile(p, file.data, { mode: file.mode & 0o7777 });
    // writeFile's mode is filtered by the umask; the projected mode must be exact.
    await fs.chmod(p, file.mode & 0o7777);
  }
}

/** Relative paths of every file and directory below `root` (symlinks not followed). */
async function walk(root: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (rel: string) => {
    const entries = await fs.readdir(path.join(root, rel), { withFileTypes: true });
    for (const ent of entries) {
      const child = rel ? `${rel}/${ent.name}` : ent.name;
      out.push(child);
      if (ent.isDirectory()) await visit(child);
    }
  };
  await visit('');
  return out;
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await fs.stat(p)).isDirectory();
  } catch {
    return false;
  }
}
