import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { adminKubeconfig, writeKubeconfig } from '../cli/kubeconfig.js';
import { ensurePki, issueClientCert, subjectFromCert, type Pki } from './pki.js';

const run = promisify(execFile);

const HOSTS = [
  'localhost', '127.0.0.1', '::1', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local', '10.96.0.1',
];

function onPath(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch { /* not here */ }
  }
  return undefined;
}

/** A tiny API-server stand-in: mTLS or bearer token, answers /version and /x. */
async function startServer(pki: Pki): Promise<{ url: string; close: () => Promise<void> }> {
  const server = https.createServer({
    key: pki.serverKeyPem, cert: pki.serverCertPem, ca: pki.caCertPem, requestCert: true, rejectUnauthorized: false,
  }, (req, res) => {
    const sock = req.socket as TLSSocket;
    let who: { user: string; groups: string[] } | undefined;
    if (sock.authorized) who = subjectFromCert(sock.getPeerCertificate());
    else if (req.headers.authorization === `Bearer ${pki.adminToken}`) who = { user: 'admin-token', groups: ['system:masters'] };
    res.setHeader('content-type', 'application/json');
    if (req.url === '/version') {
      res.end(JSON.stringify({ major: '1', minor: '32', gitVersion: 'v1.32.0' }));
    } else if (!who || !who.user) {
      res.statusCode = 401;
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Unauthorized', code: 401 }));
    } else if (req.url === '/x') {
      res.end(JSON.stringify({ ok: true, ...who }));
    } else {
      res.statusCode = 404;
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

function get(url: string, opts: https.RequestOptions): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { ...opts, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('ensurePki creates, serves mTLS, and is reused', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keelson-pki-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const pkiDir = path.join(dir, 'pki');

  const pki = await ensurePki(pkiDir, { hosts: HOSTS });
  for (const f of ['ca.crt', 'server.crt', 'admin.crt']) assert.equal(fs.statSync(path.join(pkiDir, f)).mode & 0o777, 0o644, f);
  for (const f of ['ca.key', 'server.key', 'admin.key', 'admin.token']) assert.equal(fs.statSync(path.join(pkiDir, f)).mode & 0o777, 0o600, f);
  assert.deepEqual([...pki.written].sort(), ['admin.crt', 'admin.key', 'admin.token', 'ca.crt', 'ca.key', 'server.crt', 'server.key']);
  assert.equal(fs.readFileSync(path.join(pkiDir, 'admin.token'), 'utf8').trim(), pki.adminToken);
  assert.ok(pki.adminToken.length >= 32);

  // What the certificates say, read with Node's own parser.
  const ca = new crypto.X509Certificate(pki.caCertPem);
  const server = new crypto.X509Certificate(pki.serverCertPem);
  const admin = new crypto.X509Certificate(pki.adminCertPem);
  assert.equal(ca.ca, true);
  assert.equal(server.ca, false);
  assert.ok(server.verify(ca.publicKey) && admin.verify(ca.publicKey));
  assert.equal(server.subject, 'CN=kube-apiserver');
  assert.equal(admin.subject, 'CN=kubernetes-admin\nO=system:masters');
  assert.deepEqual(server.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  assert.deepEqual(admin.keyUsage, ['1.3.6.1.5.5.7.3.2']);
  for (const h of ['DNS:localhost', 'DNS:kubernetes.default.svc.cluster.local', 'IP Address:127.0.0.1', 'IP Address:10.96.0.1', 'IP Address:0:0:0:0:0:0:0:1']) {
    assert.ok(server.subjectAltName?.split(', ').includes(h), `${h} in ${server.subjectAltName}`);
  }
  assert.ok(server.checkHost('kubernetes.default'));
  assert.ok(server.checkIP('127.0.0.1'));
  const caYears = (Date.parse(ca.validTo) - Date.now()) / (365 * 24 * 3600 * 1000);
  assert.ok(caYears > 9.9 && caYears < 10.1, `CA valid ~10 years, got ${caYears}`);

  // A real TLS server with the serving cert, requiring client certs signed by the CA.
  const srv = await startServer(pki);
  t.after(() => srv.close());
  const withCert = await get(`${srv.url}/x`, { ca: pki.caCertPem, cert: pki.adminCertPem, key: pki.adminKeyPem });
  assert.equal(withCert.status, 200);
  assert.deepEqual(JSON.parse(withCert.body), { ok: true, user: 'kubernetes-admin', groups: ['system:masters'] });
  const noCert = await get(`${srv.url}/x`, { ca: pki.caCertPem });
  assert.equal(noCert.status, 401);
  const withToken = await get(`${srv.url}/x`, { ca: pki.caCertPem, headers: { authorization: `Bearer ${pki.adminToken}` } });
  assert.equal(withToken.status, 200);
  // The serving cert is valid for "localhost" too (Node checks the name against the SANs).
  const byName = await get(`${srv.url.replace('127.0.0.1', 'localhost')}/version`, { ca: pki.caCertPem });
  assert.equal(byName.status, 200);
  // A certificate from another CA is not authorized.
  const other = await ensurePki(path.join(dir, 'other'), { hosts: ['localhost'] });
  const foreign = await get(`${srv.url}/x`, { ca: pki.caCertPem, cert: other.adminCertPem, key: other.adminKeyPem });
  assert.equal(foreign.status, 401);

  // Extra client certs: several organizations become several groups.
  const sched = await issueClientCert(pki, 'system:kube-scheduler', ['team-a', 'team-b']);
  const schedRes = await get(`${srv.url}/x`, { ca: pki.caCertPem, cert: sched.certPem, key: sched.keyPem });
  assert.deepEqual(JSON.parse(schedRes.body), { ok: true, user: 'system:kube-scheduler', groups: ['team-a', 'team-b'] });

  // OpenSSL agrees the chain is good.
  if (onPath('openssl')) {
    const caFile = path.join(pkiDir, 'ca.crt');
    for (const f of ['server.crt', 'admin.crt']) {
      const { stdout } = await run('openssl', ['verify', '-CAfile', caFile, path.join(pkiDir, f)]);
      assert.match(stdout, /: OK/);
    }
    const schedFile = path.join(dir, 'sched.crt');
    fs.writeFileSync(schedFile, sched.certPem);
    assert.match((await run('openssl', ['verify', '-CAfile', caFile, '-purpose', 'sslclient', schedFile])).stdout, /: OK/);
    assert.match((await run('openssl', ['verify', '-CAfile', caFile, '-purpose', 'sslserver', path.join(pkiDir, 'server.crt')])).stdout, /: OK/);
  } else {
    t.diagnostic('openssl not on PATH: skipped openssl verify');
  }

  // Go's TLS stack (kubectl) accepts the CA, the serving cert and the client cert.
  if (onPath('kubectl')) {
    const kcCert = path.join(dir, 'kubeconfig-cert');
    writeKubeconfig(kcCert, adminKubeconfig({ server: srv.url, caPem: pki.caCertPem, certPem: pki.adminCertPem, keyPem: pki.adminKeyPem }));
    const env = { ...process.env, KUBECONFIG: '', HOME: dir };
    const viaCert = await run('kubectl', ['--kubeconfig', kcCert, 'get', '--raw', '/x'], { env, timeout: 60_000 });
    assert.deepEqual(JSON.parse(viaCert.stdout), { ok: true, user: 'kubernetes-admin', groups: ['system:masters'] });
    const kcToken = path.join(dir, 'kubeconfig-token');
    writeKubeconfig(kcToken, adminKubeconfig({ server: srv.url, caPem: pki.caCertPem, token: pki.adminToken }));
    const viaToken = await run('kubectl', ['--kubeconfig', kcToken, 'get', '--raw', '/x'], { env, timeout: 60_000 });
    assert.equal(JSON.parse(viaToken.stdout).user, 'admin-token');
  } else {
    t.diagnostic('kubectl not on PATH: skipped the Go TLS check');
  }

  // Second start: everything reused as is.
  const again = await ensurePki(pkiDir, { hosts: [...HOSTS].reverse() });
  assert.deepEqual(again.written, []);
  for (const k of ['caCertPem', 'caKeyPem', 'serverCertPem', 'serverKeyPem', 'adminCertPem', 'adminKeyPem', 'adminToken'] as const) {
    assert.equal(again[k], pki[k], k);
  }

  // Changed hosts: only the serving certificate is re-issued.
  const moved = await ensurePki(pkiDir, { hosts: [...HOSTS, 'node-1.example', '192.168.1.10'] });
  assert.deepEqual([...moved.written].sort(), ['server.crt', 'server.key']);
  assert.notEqual(moved.serverCertPem, pki.serverCertPem);
  assert.equal(moved.caCertPem, pki.caCertPem);
  assert.equal(moved.adminCertPem, pki.adminCertPem);
  assert.equal(moved.adminToken, pki.adminToken);
  const movedCert = new crypto.X509Certificate(moved.serverCertPem);
  assert.ok(movedCert.checkHost('node-1.example') && movedCert.checkIP('192.168.1.10'));
  assert.deepEqual(fs.readdirSync(pkiDir).sort(), ['admin.crt', 'admin.key', 'admin.token', 'ca.crt', 'ca.key', 'server.crt', 'server.key']);
});

test('ensurePki repairs leaves but never replaces a half-present CA', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keelson-pki-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const pki = await ensurePki(dir, { hosts: ['localhost'] });

  // A damaged admin key is replaced with a fresh pair.
  fs.writeFileSync(path.join(dir, 'admin.key'), 'garbage');
  const fixed = await ensurePki(dir, { hosts: ['localhost'] });
  assert.deepEqual([...fixed.written].sort(), ['admin.crt', 'admin.key']);
  assert.ok(new crypto.X509Certificate(fixed.adminCertPem).checkPrivateKey(crypto.createPrivateKey(fixed.adminKeyPem)));
  assert.equal(fixed.serverCertPem, pki.serverCertPem);

  fs.rmSync(path.join(dir, 'ca.key'));
  await assert.rejects(ensurePki(dir, { hosts: ['localhost'] }), /only one of ca\.crt and ca\.key/);
});

test('subjectFromCert reads CN and O as Node reports them', () => {
  const peer = (subject: Record<string, string | string[]>) => ({ subject }) as unknown as import('node:tls').PeerCertificate;
  assert.deepEqual(subjectFromCert(peer({ CN: 'alice', O: 'dev' })), { user: 'alice', groups: ['dev'] });
  assert.deepEqual(subjectFromCert(peer({ CN: 'bob', O: ['a', 'b'] })), { user: 'bob', groups: ['a', 'b'] });
  assert.deepEqual(subjectFromCert(peer({ CN: 'carol' })), { user: 'carol', groups: [] });
  assert.deepEqual(subjectFromCert({} as import('node:tls').PeerCertificate), { user: '', groups: [] });
});
