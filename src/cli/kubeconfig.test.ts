import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { adminKubeconfig, mergeIntoKubeconfig, writeKubeconfig } from './kubeconfig.js';

const CA = '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n';
const CERT = '-----BEGIN CERTIFICATE-----\nLEAF\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n';
const b64 = (s: string) => Buffer.from(s).toString('base64');

function tmpdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'keelson-kubeconfig-'));
}

test('adminKubeconfig renders a client-certificate kubeconfig', () => {
  const cfg = parse(adminKubeconfig({ server: 'https://127.0.0.1:6443', caPem: CA, certPem: CERT, keyPem: KEY }));
  assert.equal(cfg.apiVersion, 'v1');
  assert.equal(cfg.kind, 'Config');
  assert.equal(cfg['current-context'], 'keelson');
  assert.deepEqual(cfg.clusters, [{ name: 'keelson', cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority-data': b64(CA) } }]);
  assert.deepEqual(cfg.contexts, [{ name: 'keelson', context: { cluster: 'keelson', user: 'keelson-admin' } }]);
  assert.deepEqual(cfg.users, [{ name: 'keelson-admin', user: { 'client-certificate-data': b64(CERT), 'client-key-data': b64(KEY) } }]);
});

test('adminKubeconfig renders a token kubeconfig with custom names', () => {
  const cfg = parse(adminKubeconfig({
    server: 'https://k:6443', caPem: CA, token: 'abc', clusterName: 'c1', userName: 'u1', contextName: 'ctx1', namespace: 'dev',
  }));
  assert.equal(cfg['current-context'], 'ctx1');
  assert.deepEqual(cfg.contexts, [{ name: 'ctx1', context: { cluster: 'c1', user: 'u1', namespace: 'dev' } }]);
  assert.deepEqual(cfg.users, [{ name: 'u1', user: { token: 'abc' } }]);
  assert.throws(() => adminKubeconfig({ server: 's', caPem: CA }), /certificate or a token/);
  assert.throws(() => adminKubeconfig({ server: 's', caPem: CA, certPem: CERT }), /go together/);
});

test('writeKubeconfig creates directories and a private file', () => {
  const dir = tmpdir();
  try {
    const file = path.join(dir, 'a', 'b', 'config');
    writeKubeconfig(file, adminKubeconfig({ server: 'https://x', caPem: CA, token: 't' }));
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(parse(fs.readFileSync(file, 'utf8')).users[0].user.token, 't');
    writeKubeconfig(file, adminKubeconfig({ server: 'https://y', caPem: CA, token: 't2' }));
    assert.equal(parse(fs.readFileSync(file, 'utf8')).clusters[0].cluster.server, 'https://y');
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['config'], 'no temporary files left');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('mergeIntoKubeconfig replaces same-named entries and keeps the rest', () => {
  const dir = tmpdir();
  try {
    const file = path.join(dir, 'config');
    fs.writeFileSync(file, [
      '# my clusters',
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: prod',
      '  cluster:',
      '    server: https://prod:6443',
      '- name: keelson',
      '  cluster:',
      '    server: https://old:1',
      'contexts:',
      '- name: prod',
      '  context: {cluster: prod, user: prod-admin}',
      'users:',
      '- name: prod-admin',
      '  user: {token: secret}',
      'current-context: prod',
      'preferences: {colors: true}',
      '',
    ].join('\n'), { mode: 0o644 });
    mergeIntoKubeconfig(file, adminKubeconfig({ server: 'https://127.0.0.1:6443', caPem: CA, certPem: CERT, keyPem: KEY }));
    const text = fs.readFileSync(file, 'utf8');
    const cfg = parse(text);
    assert.match(text, /# my clusters/, 'comments survive');
    assert.equal(cfg['current-context'], 'keelson');
    assert.deepEqual(cfg.clusters.map((c: { name: string }) => c.name), ['prod', 'keelson']);
    assert.equal(cfg.clusters[1].cluster.server, 'https://127.0.0.1:6443');
    assert.equal(cfg.clusters[0].cluster.server, 'https://prod:6443');
    assert.deepEqual(cfg.contexts.map((c: { name: string }) => c.name), ['prod', 'keelson']);
    assert.deepEqual(cfg.users.map((u: { name: string }) => u.name), ['prod-admin', 'keelson-admin']);
    assert.equal(cfg.users[0].user.token, 'secret');
    assert.deepEqual(cfg.preferences, { colors: true });
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);

    // Merging again is idempotent.
    mergeIntoKubeconfig(file, adminKubeconfig({ server: 'https://127.0.0.1:6443', caPem: CA, certPem: CERT, keyPem: KEY }));
    assert.deepEqual(parse(fs.readFileSync(file, 'utf8')), cfg);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('mergeIntoKubeconfig creates a missing or empty file and refuses a non-kubeconfig', () => {
  const dir = tmpdir();
  try {
    const file = path.join(dir, '.kube', 'config');
    mergeIntoKubeconfig(file, adminKubeconfig({ server: 'https://x', caPem: CA, token: 't' }));
    assert.equal(parse(fs.readFileSync(file, 'utf8'))['current-context'], 'keelson');
    const empty = path.join(dir, 'empty');
    fs.writeFileSync(empty, '');
    mergeIntoKubeconfig(empty, adminKubeconfig({ server: 'https://x', caPem: CA, token: 't' }));
    assert.equal(parse(fs.readFileSync(empty, 'utf8')).users[0].name, 'keelson-admin');
    const list = path.join(dir, 'list');
    fs.writeFileSync(list, '- a\n- b\n');
    assert.throws(() => mergeIntoKubeconfig(list, adminKubeconfig({ server: 'https://x', caPem: CA, token: 't' })), /not a kubeconfig/);
    assert.equal(fs.readFileSync(list, 'utf8'), '- a\n- b\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
