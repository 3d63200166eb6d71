/**
 * A small, deterministic tar writer (POSIX ustar, with PAX extended headers when a name does not
 * fit). It writes what image layers and OCI image layouts need: regular files, directories and
 * symbolic links, each with mode/uid/gid/mtime. Every field that is not given gets a fixed value
 * (mtime = {@link TAR_EPOCH}, uid/gid 0), so the same entries always give the same bytes and
 * therefore the same layer digest.
 *
 * Format facts (POSIX.1-2001 pax / ustar): 512-byte header blocks; numeric fields are octal ASCII
 * terminated by NUL; the checksum is the byte sum of the header with the checksum field read as
 * eight spaces; a path longer than 100 bytes is split at a '/' into prefix (≤155) and name (≤100),
 * and when that is impossible a typeflag 'x' header carries `path=`/`linkpath=` records
 * ("<len> <key>=<value>\n", len counting the whole record). The archive ends with two zero blocks.
 */

/** The fixed modification time used when an entry gives none: 2024-01-01T00:00:00Z. */
export const TAR_EPOCH = 1_704_067_200;

interface TarEntryBase {
  /** Path inside the archive, relative ('bin/sh'); a leading '/' or './' is dropped. */
  path: string;
  /** Permission bits (including setuid/setgid/sticky); defaults: file 0644, dir 0755, symlink 0777. */
  mode?: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  /** Seconds since the epoch; defaults to {@link TAR_EPOCH}. */
  mtime?: number;
}

export interface TarFile extends TarEntryBase { type: 'file'; data: Buffer | string }
export interface TarDirectory extends TarEntryBase { type: 'dir' }
export interface TarSymlink extends TarEntryBase { type: 'symlink'; target: string }
export type TarEntry = TarFile | TarDirectory | TarSymlink;

const BLOCK = 512;

/** Normalizes an entry path: no leading '/' or './', no trailing '/', no empty segments. */
export function normalizeTarPath(p: string): string {
  const parts = p.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.some((s) => s === '..')) throw new Error(`tar: path ${JSON.stringify(p)} must not contain '..'`);
  if (parts.length === 0) throw new Error(`tar: empty path ${JSON.stringify(p)}`);
  return parts.join('/');
}

function writeString(block: Buffer, offset: number, length: number, value: string): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) throw new Error(`tar: ${JSON.stringify(value)} does not fit in ${length} bytes`);
  bytes.copy(block, offset);
}

/** Octal numeric field: digits zero-padded to length-1, then NUL. */
function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  if (!Number.isInteger(value) || value < 0) throw new Error(`tar: numeric field ${value} must be a non-negative integer`);
  const digits = value.toString(8);
  if (digits.length > length - 1) throw new Error(`tar: ${value} does not fit in a ${length}-byte field`);
  block.write(digits.padStart(length - 1, '0') + '\0', offset, length, 'ascii');
}

/** Splits a path into ustar (prefix, name), or returns undefined if it cannot be represented. */
function splitUstarPath(p: string): { prefix: string; name: string } | undefined {
  if (!/^[\x20-\x7e]*$/.test(p)) return undefined; // non-ASCII goes to PAX (UTF-8 by definition there)
  if (p.length <= 100) return { prefix: '', name: p };
  // Choose the rightmost '/' that leaves the name ≤ 100 and the prefix ≤ 155.
  for (let i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/', i - 1)) {
    const prefix = p.slice(0, i);
    const name = p.slice(i + 1);
    if (name.length > 100) return undefined;
    if (prefix.length <= 155 && name.length > 0) return { prefix, name };
  }
  return undefined;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body, 'utf8');
  // The length prefix counts its own digits; grow until it is self-consistent.
  let len = bodyLen + 1;
  while (String(len).length + bodyLen !== len) len = String(len).length + bodyLen;
  return `${len}${body}`;
}

interface HeaderFields {
  name: string;
  prefix: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
  uname: string;
  gname: string;
}

function header(f: HeaderFields): Buffer {
  const b = Buffer.alloc(BLOCK);
  writeString(b, 0, 100, f.name);
  writeOctal(b, 100, 8, f.mode);
  writeOctal(b, 108, 8, f.uid);
  writeOctal(b, 116, 8, f.gid);
  writeOctal(b, 124, 12, f.size);
  writeOctal(b, 136, 12, f.mtime);
  b.write(' '.repeat(8), 148, 8, 'ascii'); // checksum placeholder
  b.write(f.typeflag, 156, 1, 'ascii');
  writeString(b, 157, 100, f.linkname);
  b.write('ustar\0', 257, 6, 'ascii');
  b.write('00', 263, 2, 'ascii');
  writeString(b, 265, 32, f.uname);
  writeString(b, 297, 32, f.gname);
  writeOctal(b, 329, 8, 0);
  writeOctal(b, 337, 8, 0);
  writeString(b, 345, 155, f.prefix);
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return b;
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return rest === 0 ? Buffer.alloc(0) : Buffer.alloc(BLOCK - rest);
}

/** Writes the entries, in the given order, as one tar archive. */
export function createTar(entries: readonly TarEntry[]): Buffer {
  const out: Buffer[] = [];
  for (const e of entries) {
    let path = normalizeTarPath(e.path);
    if (e.type === 'dir') path += '/';
    const data = e.type === 'file' ? (typeof e.data === 'string' ? Buffer.from(e.data, 'utf8') : e.data) : Buffer.alloc(0);
    const linkname = e.type === 'symlink' ? e.target : '';
    if (e.type === 'symlink' && linkname === '') throw new Error(`tar: symlink ${path} has an empty target`);
    const mode = e.mode ?? (e.type === 'file' ? 0o644 : e.type === 'dir' ? 0o755 : 0o777);
    if (mode < 0 || mode > 0o7777) throw new Error(`tar: mode ${mode.toString(8)} of ${path} is out of range`);
    const uid = e.uid ?? 0;
    const gid = e.gid ?? 0;
    const mtime = e.mtime ?? TAR_EPOCH;
    const uname = e.uname ?? (uid === 0 ? 'root' : '');
    const gname = e.gname ?? (gid === 0 ? 'root' : '');

    const split = splitUstarPath(path);
    const linkFits = /^[\x20-\x7e]*$/.test(linkname) && linkname.length <= 100;
    let records = '';
    if (!split) records += paxRecord('path', path);
    if (!linkFits) records += paxRecord('linkpath', linkname);
    if (records !== '') {
      const paxData = Buffer.from(records, 'utf8');
      // The PAX header's own name is informational; keep it short and ASCII.
      const paxName = `PaxHeaders/${path.replace(/[^\x20-\x7e]/g, '_').slice(-80)}`;
      out.push(header({
        name: paxName.slice(0, 100), prefix: '', mode: 0o644, uid: 0, gid: 0, size: paxData.length,
        mtime, typeflag: 'x', linkname: '', uname: '', gname: '',
      }));
      out.push(paxData, padding(paxData.length));
    }
    // When PAX carries the real value, the ustar field holds a truncated ASCII stand-in.
    const fallback = (s: string, n: number) => s.replace(/[^\x20-\x7e]/g, '_').slice(0, n);
    out.push(header({
      name: split ? split.name : fallback(path, 100),
      prefix: split ? split.prefix : '',
      mode, uid, gid, size: data.length, mtime,
      typeflag: e.type === 'file' ? '0' : e.type === 'dir' ? '5' : '2',
      linkname: linkFits ? linkname : fallback(linkname, 100),
      uname, gname,
    }));
    if (data.length > 0) out.push(data, padding(data.length));
  }
  out.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(out);
}
