import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  parseCriLogLine, parseTimestampNs, fixedNanoTimestamp, tailOffset, readCriLogs, type CriLogOptions,
} from './cri-logs.js';

const dir = mkdtempSync(join(tmpdir(), 'keelson-crilogs-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (content: string) => {
  const p = join(dir, `f${n++}.log`);
  writeFileSync(p, content);
  return p;
};

async function read(path: string, opts: CriLogOptions = {}, hooks: { isRunning?: () => Promise<boolean>; signal?: AbortSignal; pollIntervalMs?: number } = {}): Promise<string> {
  const out: Buffer[] = [];
  await readCriLogs(path, opts, { write: (c) => { out.push(Buffer.from(c)); }, ...hooks });
  return Buffer.concat(out).toString();
}

const T = (s: number, frac = '') => `2024-05-01T10:00:${String(s).padStart(2, '0')}${frac ? `.${frac}` : ''}Z`;
const LOG = [
  `${T(1, '1')} stdout F one`,
  `${T(2, '123456789')} stderr F two`,
  `${T(3)} stdout P thr`,
  `${T(3, '5')} stdout F ee`,
  `${T(4)} stdout F four`,
  `${T(5)} stdout F `,
  `${T(6)} stdout F six`,
].join('\n') + '\n';

test('parseCriLogLine reads timestamp, stream, tag and content', () => {
  const r = parseCriLogLine(Buffer.from(`${T(3, '12')} stderr P:x some text `))!;
  assert.equal(r.timestamp, '2024-05-01T10:00:03.12Z');
  assert.equal(r.stream, 'stderr');
  assert.equal(r.partial, true);
  assert.equal(r.content.toString(), 'some text ');
  assert.equal(parseCriLogLine(Buffer.from(`${T(3)} stdout F`))!.content.length, 0);
  assert.equal(parseCriLogLine(Buffer.from('garbage')), undefined);
  assert.equal(parseCriLogLine(Buffer.from(`${T(3)} stdin F x`)), undefined);
  assert.equal(parseCriLogLine(Buffer.from(`${T(3)} stdout X x`)), undefined);
  assert.equal(parseCriLogLine(Buffer.from(`notatime stdout F x`)), undefined);
});

test('timestamps: nanosecond parsing and the fixed nine-digit form', () => {
  assert.equal(parseTimestampNs('1970-01-01T00:00:01.000000002Z'), 1_000_000_002n);
  assert.equal(parseTimestampNs('1970-01-01T01:00:00+01:00'), 0n);
  assert.equal(parseTimestampNs('yesterday'), undefined);
  assert.equal(fixedNanoTimestamp('2024-05-01T10:00:03.5Z'), '2024-05-01T10:00:03.500000000Z');
  assert.equal(fixedNanoTimestamp('2024-05-01T10:00:03Z'), '2024-05-01T10:00:03.000000000Z');
  assert.equal(fixedNanoTimestamp('2024-05-01T10:00:03.123+02:00'), '2024-05-01T10:00:03.123000000+02:00');
});

test('whole log: partial records joined, both streams, empty lines kept', async () => {
  assert.equal(await read(file(LOG)), 'one\ntwo\nthree\nfour\n\nsix\n');
});

test('tailLines counts joined lines', async () => {
  const p = file(LOG);
  assert.equal(await read(p, { tailLines: 2 }), '\nsix\n');
  assert.equal(await read(p, { tailLines: 4 }), 'three\nfour\n\nsix\n');
  assert.equal(await read(p, { tailLines: 5 }), 'two\nthree\nfour\n\nsix\n');
  assert.equal(await read(p, { tailLines: 100 }), 'one\ntwo\nthree\nfour\n\nsix\n');
  assert.equal(await read(p, { tailLines: 0 }), '');
  assert.equal(await read(file(''), { tailLines: 3 }), '');
});

test('tailLines across many chunks of a large file', async () => {
  const lines: string[] = [];
  for (let i = 0; i < 20000; i++) lines.push(`${T(i % 60)} stdout F line-${i}-${'x'.repeat(i % 50)}`);
  const p = file(lines.join('\n') + '\n');
  const got = (await read(p, { tailLines: 3 })).split('\n');
  assert.deepEqual(got.slice(0, 3).map((l) => l.split('-').slice(0, 2).join('-')), ['line-19997', 'line-19998', 'line-19999']);
  const fh = await open(p);
  try {
    const size = (await fh.stat()).size;
    assert.equal(await tailOffset(fh, size, 20000), 0);
    assert.equal(await tailOffset(fh, size, 1), size - lines[19999].length - 1);
  } finally { await fh.close(); }
});

test('a line still being written counts as a tail line and is shown without newline', async () => {
  const p = file(`${T(1)} stdout F a\n${T(2)} stdout F b\n${T(3)} stdout P c1\n${T(3)} stdout P c2\n`);
  assert.equal(await read(p, { tailLines: 1 }), 'c1c2');
  assert.equal(await read(p, { tailLines: 2 }), 'b\nc1c2');
  // A last record without its newline (the runtime is mid-write) is shown too.
  assert.equal(await read(file(`${T(1)} stdout F a\n${T(2)} stdout F b`)), 'a\nb\n');
});

test('timestamps prefix each line with the first record time in RFC3339Nano fixed', async () => {
  const got = await read(file(LOG), { timestamps: true, tailLines: 4 });
  assert.equal(got, [
    '2024-05-01T10:00:03.000000000Z three', '2024-05-01T10:00:04.000000000Z four',
    '2024-05-01T10:00:05.000000000Z ', '2024-05-01T10:00:06.000000000Z six', '',
  ].join('\n'));
});

test('since drops older lines; applied after tail', async () => {
  const p = file(LOG);
  assert.equal(await read(p, { sinceNs: parseTimestampNs(T(4))! }), 'four\n\nsix\n');
  assert.equal(await read(p, { sinceNs: parseTimestampNs(T(2, '123456789'))! }), 'two\nthree\nfour\n\nsix\n');
  assert.equal(await read(p, { sinceNs: parseTimestampNs(T(2, '12345679'))! }), 'three\nfour\n\nsix\n');
  assert.equal(await read(p, { tailLines: 5, sinceNs: parseTimestampNs(T(5))! }), '\nsix\n');
});

test('limitBytes cuts the output', async () => {
  const p = file(LOG);
  assert.equal(await read(p, { limitBytes: 6 }), 'one\ntw');
  assert.equal(await read(p, { limitBytes: 1000 }), 'one\ntwo\nthree\nfour\n\nsix\n');
});

test('stream selects stdout or stderr', async () => {
  const p = file(LOG);
  assert.equal(await read(p, { stream: 'stderr' }), 'two\n');
  assert.equal(await read(p, { stream: 'stdout', tailLines: 1 }), 'six\n');
});

test('partial lines of the two streams interleave without mixing', async () => {
  const p = file([`${T(1)} stdout P out-`, `${T(1)} stderr P err-`, `${T(2)} stderr F end`, `${T(2)} stdout F end`].join('\n') + '\n');
  assert.equal(await read(p), 'err-end\nout-end\n');
});

test('a missing file is an empty log', async () => {
  assert.equal(await read(join(dir, 'nope.log')), '');
});

test('follow streams appended lines and stops once the container exited and the file is drained', { timeout: 10_000 }, async () => {
  const p = file(`${T(1)} stdout F first\n`);
  let running = true;
  const chunks: string[] = [];
  let resolveFirst!: () => void;
  const gotFirst = new Promise<void>((r) => { resolveFirst = r; });
  const done = readCriLogs(p, { follow: true }, {
    pollIntervalMs: 50,
    write: (c) => { chunks.push(c.toString()); resolveFirst(); },
    isRunning: async () => running,
  });
  await gotFirst;
  appendFileSync(p, `${T(2)} stdout P sec`); // a record split across writes…
  appendFileSync(p, `\n${T(2)} stdout F ond\n`); // …and a line split across records
  await waitFor(() => chunks.join('') === 'first\nsecond\n');
  appendFileSync(p, `${T(3)} stdout F third\n`);
  running = false;
  appendFileSync(p, `${T(4)} stdout F last words\n`); // written right as it exits
  await done;
  assert.equal(chunks.join(''), 'first\nsecond\nthird\nlast words\n');
});

test('follow ends when the caller aborts, and waits for a file that does not exist yet', { timeout: 10_000 }, async () => {
  const p = join(dir, 'later.log');
  const ac = new AbortController();
  const chunks: string[] = [];
  const done = readCriLogs(p, { follow: true, tailLines: 10 }, {
    pollIntervalMs: 30, signal: ac.signal, write: (c) => { chunks.push(c.toString()); }, isRunning: async () => true,
  });
  await new Promise((r) => setTimeout(r, 50));
  writeFileSync(p, `${T(1)} stdout F hello\n`);
  await waitFor(() => chunks.join('') === 'hello\n');
  ac.abort();
  await done;
});

test('follow with limitBytes stops at the limit', { timeout: 10_000 }, async () => {
  const p = file(`${T(1)} stdout F 0123456789\n`);
  const got = await read(p, { follow: true, limitBytes: 4 }, { isRunning: async () => true, pollIntervalMs: 20 });
  assert.equal(got, '0123');
});

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}
