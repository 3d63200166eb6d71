/**
 * Server-side apply benchmark (issue 3 figure): applies per second of a 50-container Deployment
 * through a real `keelson server`, and its ratio to plain PUTs of the same object in the same run
 * (goal ≥ 0.5). Each apply and each PUT changes one container's image, so every request writes.
 *
 *   npm run build && node dist/bench/apply-bench.js [--n 300]
 */
import http2 from 'node:http2';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYAML } from 'yaml';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const N = (() => { const i = process.argv.indexOf('--n'); return i > 0 ? Number(process.argv[i + 1]) : 300; })();

function deployment(name: string, version: number): any {
  const containers = Array.from({ length: 50 }, (_, i) => ({
    name: `c${i}`, image: `registry.local/app${i}:${i === 0 ? version : 1}`,
    ports: [{ containerPort: 8000 + i, name: `p${i}` }],
    env: [{ name: 'MODE', value: 'bench' }, { name: 'INDEX', value: String(i) }],
    resources: { requests: { cpu: '10m', memory: '16Mi' } },
  }));
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: 'default', labels: { app: name } },
    spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers } } },
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'keelson-apply-bench-'));
  const ready = join(dir, 'ready.json');
  const proc = spawn(process.execPath, [join(ROOT, 'bin', 'keelson.js'), 'server', '--no-controllers', '--no-scheduler', '--data-dir', dir, '--port', '0', '--bind-address', '127.0.0.1', '--ready-file', ready], {
    stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, KEELSON_LOG: 'warn' },
  });
  try {
    const deadline = Date.now() + 30000;
    while (!existsSync(ready)) { if (Date.now() > deadline) throw new Error('server did not start'); await new Promise((r) => setTimeout(r, 50)); }
    const { url, kubeconfig } = JSON.parse(readFileSync(ready, 'utf8'));
    const kc = parseYAML(readFileSync(kubeconfig, 'utf8'));
    const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');
    const sess = http2.connect(url, { ca: b64(kc.clusters[0].cluster['certificate-authority-data']), cert: b64(kc.users[0].user['client-certificate-data']), key: b64(kc.users[0].user['client-key-data']) });
    const req = (method: string, path: string, body: string, ct = 'application/json') => new Promise<{ status: number; body: string }>((res, rej) => {
      const r = sess.request({ ':method': method, ':path': path, 'content-type': ct, accept: 'application/json' });
      let status = 0; const chunks: Buffer[] = [];
      r.on('response', (h) => { status = Number(h[':status']); });
      r.on('data', (d) => chunks.push(d));
      r.on('end', () => res({ status, body: Buffer.concat(chunks).toString() }));
      r.on('error', rej);
      r.end(body);
    });
    const base = '/apis/apps/v1/namespaces/default/deployments';
    // Warm up both paths.
    const created = await req('PATCH', `${base}/applied?fieldManager=bench`, JSON.stringify(deployment('applied', 0)), 'application/apply-patch+yaml');
    if (created.status !== 201) throw new Error(`apply create: ${created.status} ${created.body.slice(0, 300)}`);
    let put = JSON.parse((await req('POST', base, JSON.stringify(deployment('put', 0)))).body);

    const t0 = performance.now();
    for (let v = 1; v <= N; v++) {
      const r = await req('PATCH', `${base}/applied?fieldManager=bench`, JSON.stringify(deployment('applied', v)), 'application/apply-patch+yaml');
      if (r.status !== 200) throw new Error(`apply: ${r.status} ${r.body.slice(0, 300)}`);
    }
    const applyRate = N / ((performance.now() - t0) / 1000);

    const t1 = performance.now();
    for (let v = 1; v <= N; v++) {
      const next = deployment('put', v);
      next.metadata.resourceVersion = put.metadata.resourceVersion;
      const r = await req('PUT', `${base}/put`, JSON.stringify(next));
      if (r.status !== 200) throw new Error(`put: ${r.status} ${r.body.slice(0, 300)}`);
      put = JSON.parse(r.body);
    }
    const putRate = N / ((performance.now() - t1) / 1000);
    sess.close();
    console.log(`# keelson server-side apply benchmark (${new Date().toISOString()}), 50-container Deployment, ${N} writes each, sequential`);
    console.log(`server-side applies/s: ${applyRate.toFixed(1)}`);
    console.log(`plain PUTs/s:          ${putRate.toFixed(1)}`);
    console.log(`RATIO apply/put: ${(applyRate / putRate).toFixed(3)}   (goal >= 0.5)`);
  } finally {
    await new Promise<void>((r) => { proc.once('exit', () => r()); proc.kill('SIGTERM'); });
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
