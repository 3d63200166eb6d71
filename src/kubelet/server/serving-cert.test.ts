import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureKubeletServingCert } from './serving-cert.js';

const dir = mkdtempSync(join(tmpdir(), 'keelson-serving-cert-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a self-signed serving certificate for the node, kept and reused, renewed when hosts change', async () => {
  const a = await ensureKubeletServingCert(dir, ['node-1', '10.0.0.5', '127.0.0.1']);
  const leaf = new X509Certificate(a.certPem);
  assert.ok(leaf.checkHost('node-1'));
  assert.ok(leaf.checkIP('10.0.0.5'));
  assert.ok(leaf.checkIP('127.0.0.1'));
  assert.match(leaf.subject, /CN=node-1@\d+/);
  // The file holds the leaf and the CA that signed it.
  const certs = a.certPem.match(/-----BEGIN CERTIFICATE-----/g) ?? [];
  assert.equal(certs.length, 2);
  const ca = new X509Certificate(a.certPem.slice(a.certPem.indexOf('-----BEGIN CERTIFICATE-----', 10)));
  assert.ok(leaf.checkIssued(ca) && leaf.verify(ca.publicKey));
  assert.equal(statSync(join(dir, 'kubelet.key')).mode & 0o777, 0o600);
  assert.equal(readFileSync(join(dir, 'kubelet.crt'), 'utf8'), a.certPem);

  const again = await ensureKubeletServingCert(dir, ['127.0.0.1', 'node-1']);
  assert.equal(again.certPem, a.certPem, 'covered hosts: reused');
  const moved = await ensureKubeletServingCert(dir, ['node-1', '10.0.0.6']);
  assert.notEqual(moved.certPem, a.certPem);
  assert.ok(new X509Certificate(moved.certPem).checkIP('10.0.0.6'));
});
