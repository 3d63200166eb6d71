/**
 * Reading container logs in the CRI log format, as the kubelet serves them for
 * `GET /containerLogs/...` (Kubernetes: pkg/kubelet/kuberuntime/logs).
 *
 * The runtime (containerd) writes one record per line:
 *
 *   <RFC3339Nano timestamp> <stdout|stderr> <tags> <content>\n
 *
 * where the first tag is `F` (the record ends a line) or `P` (a partial record: the runtime
 * split a long line, the next record of the same stream continues it). Partial records are
 * joined back into one line here, and `tailLines` counts such joined lines (upstream counts raw
 * file lines, so a split line could count twice; joining is what a reader expects).
 *
 * Options follow PodLogOptions: tailLines (applied first, from the end of the file), since
 * (sinceTime/sinceSeconds, compared with the first record of a line), timestamps (the record's
 * time in RFC3339 with nine fractional digits, then a space, as upstream's RFC3339NanoFixed),
 * limitBytes (output stops after that many bytes) and follow: keep reading what is appended
 * until the container is no longer running and the file is drained, or the caller aborts.
 * Rotated files are not read.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';

export type LogStream = 'stdout' | 'stderr';

export interface CriLogRecord {
  /** The timestamp as written (RFC3339Nano). */
  timestamp: string;
  /** Nanoseconds since the epoch (for since-filtering). */
  timeNs: bigint;
  stream: LogStream;
  partial: boolean;
  content: Buffer;
}

export interface CriLogOptions {
  /** Only the last N lines (applied before `sinceNs`). */
  tailLines?: number;
  /** Skip lines older than this (nanoseconds since the epoch). */
  sinceNs?: bigint;
  timestamps?: boolean;
  /** Stop after writing this many bytes. */
  limitBytes?: number;
  follow?: boolean;
  /** Only this stream (PodLogOptions.stream, alpha in 1.32); both when unset. */
  stream?: LogStream;
}

export interface CriLogHooks {
  /** Writes output; resolves when the sink can take more (backpressure). */
  write(chunk: Buffer): Promise<void> | void;
  /** follow: whether the container may still write (false ends the stream once drained). */
  isRunning?(): Promise<boolean>;
  /** Ends reading early (client gone). */
  signal?: AbortSignal;
  /** follow: longest wait between checks when no file change is noticed (default 1000 ms). */
  pollIntervalMs?: number;
}

const SPACE = 0x20;
const NEWLINE = 0x0a;
const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** Nanoseconds since the epoch of an RFC3339(Nano) timestamp; undefined when malformed. */
export function parseTimestampNs(ts: string): bigint | undefined {
  const m = RFC3339.exec(ts);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0') || '0');
}

/** RFC3339Nano with a fixed nine-digit fraction (Go's RFC3339NanoFixed), keeping the zone. */
export function fixedNanoTimestamp(ts: string): string {
  const m = RFC3339.exec(ts);
  if (!m) return ts;
  return `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}${m[3]}`;
}

/**
 * One line of a CRI log file (without its newline). Undefined for a line that is not a CRI
 * record (kubelet skips those too).
 */
export function parseCriLogLine(line: Buffer): CriLogRecord | undefined {
  const s1 = line.indexOf(SPACE);
  if (s1 <= 0) return undefined;
  const timestamp = line.subarray(0, s1).toString('latin1');
  const timeNs = parseTimestampNs(timestamp);
  if (timeNs === undefined) return undefined;
  const s2 = line.indexOf(SPACE, s1 + 1);
  if (s2 < 0) return undefined;
  const stream = line.subarray(s1 + 1, s2).toString('latin1');
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  // Tags are `:`-separated; the first says full or partial. A record with nothing after the
  // tags (no space) has empty content.
  let s3 = line.indexOf(SPACE, s2 + 1);
  if (s3 < 0) s3 = line.length;
  const tags = line.subarray(s2 + 1, s3).toString('latin1').split(':');
  if (tags[0] !== 'F' && tags[0] !== 'P') return undefined;
  return { timestamp, timeNs, stream, partial: tags[0] === 'P', content: line.subarray(Math.min(s3 + 1, line.length)) };
}

/**
 * The file offset where the last `n` logical lines begin. Reads backwards in chunks, so a large
 * log with a small tail costs little. A line is a run of partial records ended by a full one; a
 * trailing run of partial records (a line still being written) counts as one line.
 */
export async function tailOffset(fh: FileHandle, size: number, n: number, stream?: LogStream): Promise<number> {
  if (n <= 0) return size;
  if (size === 0) return 0;
  const CHUNK = 64 * 1024;
  let pos = size; // file offset of buf[0]
  let buf = Buffer.alloc(0);
  const load = async () => {
    const want = Math.min(CHUNK, pos);
    const chunk = Buffer.alloc(want);
    const { bytesRead } = await fh.read(chunk, 0, want, pos - want);
    pos -= want;
    buf = Buffer.concat([chunk.subarray(0, bytesRead), buf]);
  };
  await load();
  // End (exclusive, before its newline) of the next record to look at, newest first. The last
  // record may lack its newline while it is being written.
  let recEnd = buf[buf.length - 1] === NEWLINE ? size - 1 : size;
  let lines = 0;
  let seenAny = false;
  while (true) {
    const from = recEnd - pos - 1;
    const nl = from >= 0 ? buf.lastIndexOf(NEWLINE, from) : -1;
    if (nl < 0 && pos > 0) { await load(); continue; }
    const recStart = pos + nl + 1;
    const r = parseCriLogLine(buf.subarray(recStart - pos, recEnd - pos));
    if (r && (!stream || r.stream === stream)) {
      if (!r.partial) {
        lines += 1;
        if (lines > n) return recEnd + 1; // just after this record's newline
      } else if (!seenAny) {
        lines = 1; // the line still being written
      }
      seenAny = true;
    }
    if (nl < 0) return 0;
    recEnd = recStart - 1;
    buf = buf.subarray(0, recEnd - pos);
  }
}

/**
 * Writes the logs of one container file to `hooks.write` per `opts`. Resolves when done: at EOF
 * without follow; with follow when the container stopped running and the file is drained, or
 * `hooks.signal` aborted. A missing file is an empty log (the container has not written yet).
 */
export async function readCriLogs(path: string, opts: CriLogOptions, hooks: CriLogHooks): Promise<void> {
  const out = new LineWriter(opts, hooks);
  let fh: FileHandle | undefined;
  let offset = 0;
  let rest = Buffer.alloc(0);
  const signal = hooks.signal;
  const aborted = () => !!signal?.aborted || out.done;

  const openFile = async (): Promise<boolean> => {
    if (fh) return true;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    const size = (await fh.stat()).size;
    offset = opts.tailLines !== undefined ? await tailOffset(fh, size, opts.tailLines, opts.stream) : 0;
    return true;
  };

  /** Reads from `offset` to the current end of file; complete lines are written. */
  const drain = async (): Promise<number> => {
    if (!fh) return 0;
    let total = 0;
    const buf = Buffer.alloc(64 * 1024);
    while (!aborted()) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
      total += bytesRead;
      const data = rest.length ? Buffer.concat([rest, buf.subarray(0, bytesRead)]) : Buffer.from(buf.subarray(0, bytesRead));
      let start = 0;
      for (let nl = data.indexOf(NEWLINE); nl >= 0 && !aborted(); nl = data.indexOf(NEWLINE, start)) {
        await out.record(data.subarray(start, nl));
        start = nl + 1;
      }
      rest = data.subarray(start);
      await out.flush();
    }
    return total;
  };

  /** The end: a line without its newline is still shown, then unfinished partial lines. */
  const finish = async () => {
    if (rest.length && !aborted()) await out.record(rest);
    rest = Buffer.alloc(0);
    await out.flushPending();
    await out.flush();
  };

  try {
    await openFile();
    await drain();
    if (!opts.follow) return await finish();

    const interval = hooks.pollIntervalMs ?? 1000;
    let watcher: FSWatcher | undefined;
    let wake: (() => void) | undefined;
    let changed = false;
    const onChange = () => { changed = true; const w = wake; wake = undefined; w?.(); };
    const startWatch = () => {
      if (watcher || !fh) return;
      try {
        watcher = watch(path, { persistent: false }, onChange);
        watcher.on('error', () => { watcher?.close(); watcher = undefined; });
      } catch { /* polling only */ }
    };
    const onAbort = () => onChange();
    signal?.addEventListener('abort', onAbort, { once: true });
    startWatch();
    try {
      let lastCheck = 0;
      while (!aborted()) {
        // Ask the runtime at most once per interval; changes of the file wake us in between.
        let running = true;
        if (Date.now() - lastCheck >= interval || !hooks.isRunning) {
          lastCheck = Date.now();
          running = hooks.isRunning ? await hooks.isRunning() : true;
        }
        if (!fh && await openFile()) startWatch();
        changed = false;
        await drain();
        if (!running) {
          // The runtime may still be copying the last output when the exit is reported: read
          // until the file stops growing for a moment.
          for (let quiet = 0; quiet < 2 && !aborted();) {
            await sleep(100);
            if (!fh && await openFile()) startWatch();
            quiet = (await drain()) === 0 ? quiet + 1 : 0;
          }
          break;
        }
        if (changed || aborted()) continue; // written to while we were reading
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => { wake = undefined; resolve(); }, interval);
          wake = () => { clearTimeout(t); resolve(); };
        });
      }
      if (!signal?.aborted) await finish();
    } finally {
      signal?.removeEventListener('abort', onAbort);
      watcher?.close();
    }
  } finally {
    await fh?.close();
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Turns records into output lines: joins partials, filters, prefixes, limits. */
class LineWriter {
  done = false;
  private remaining: number;
  private batch: Buffer[] = [];
  private batchSize = 0;
  private pending: Partial<Record<LogStream, { timestamp: string; timeNs: bigint; parts: Buffer[] }>> = {};

  constructor(private opts: CriLogOptions, private hooks: CriLogHooks) {
    this.remaining = opts.limitBytes ?? Infinity;
  }

  async record(line: Buffer): Promise<void> {
    const r = parseCriLogLine(line);
    if (!r || (this.opts.stream && r.stream !== this.opts.stream)) return;
    const p = this.pending[r.stream];
    if (r.partial) {
      if (p) p.parts.push(Buffer.from(r.content));
      else this.pending[r.stream] = { timestamp: r.timestamp, timeNs: r.timeNs, parts: [Buffer.from(r.content)] };
      return;
    }
    if (p) {
      delete this.pending[r.stream];
      await this.emit(p.timestamp, p.timeNs, Buffer.concat([...p.parts, r.content]), true);
    } else {
      await this.emit(r.timestamp, r.timeNs, r.content, true);
    }
  }

  /** Lines whose end never came are shown without a newline. */
  async flushPending(): Promise<void> {
    for (const s of ['stdout', 'stderr'] as const) {
      const p = this.pending[s];
      if (!p) continue;
      delete this.pending[s];
      await this.emit(p.timestamp, p.timeNs, Buffer.concat(p.parts), false);
    }
  }

  private async emit(timestamp: string, timeNs: bigint, content: Buffer, newline: boolean): Promise<void> {
    if (this.done) return;
    if (this.opts.sinceNs !== undefined && timeNs < this.opts.sinceNs) return;
    const parts: Buffer[] = [];
    if (this.opts.timestamps) parts.push(Buffer.from(`${fixedNanoTimestamp(timestamp)} `));
    parts.push(content);
    if (newline) parts.push(Buffer.from('\n'));
    let chunk = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    if (chunk.length >= this.remaining) {
      chunk = chunk.subarray(0, this.remaining);
      this.done = true;
    }
    this.remaining -= chunk.length;
    if (!chunk.length) return;
    this.batch.push(chunk);
    this.batchSize += chunk.length;
    if (this.batchSize >= 32 * 1024) await this.flush();
  }

  /** Hands what was collected to the sink (one write per batch, not per line). */
  async flush(): Promise<void> {
    if (!this.batch.length) return;
    const chunk = this.batch.length === 1 ? this.batch[0] : Buffer.concat(this.batch);
    this.batch = [];
    this.batchSize = 0;
    await this.hooks.write(chunk);
  }
}
