/**
 * `keelson up` from nothing to a Ready node, a pod, `keelson down`, `keelson up` again with the
 * pod coming back, and `keelson down --wipe` leaving nothing behind (issue 5).
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, existsSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, waitFor } from './harness.js';
import { nodeSkipReason } from './node-harness.js';

const skip = nodeSkipReason();

describe('keelson up / down', { skip, concurrency: false }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'keelson-up-'));
  const id = randomBytes(3).toString('hex');
  const bridge = `ku${id}`;
  const podCIDR = `10.244.${50 + (parseInt(id, 16) % 50)}.0/24`;
  const serviceCIDR = `10.96.${50 + (parseInt(id, 16) % 50)}.0/24`;
  const kubeconfig = join(dir, 'kubeconfig');
  const chainPrefix = `KU${id.toUpperCase()}`;
  const proxyRules = () => spawnSync('iptables-save', [], { encoding: 'utf8' }).stdout
    .split('\n').filter((l) => l.includes(chainPrefix));
  let proc: ChildProcess | undefined;
  let out = '';

  const up = async () => {
    out = '';
    proc = spawn(process.execPath, [BIN, 'up', '--data-dir', join(dir, 'data'), '--port', '0', '--kubeconfig', kubeconfig,
      '--kubelet-port', '0', '--pod-cidr', podCIDR, '--bridge', bridge, '--service-cidr', serviceCIDR,
      '--proxy-chain-prefix', chainPrefix, '--ingress-http-port', '0', '--ingress-https-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KEELSON_LOG: 'warn' } });
    proc.stdout!.on('data', (d) => { out += d; });
    proc.stderr!.on('data', (d) => { out += d; });
    const p = proc;
    await waitFor('keelson up to report a Ready node', () => {
      if (p.exitCode !== null) throw new Error(`keelson up exited with ${p.exitCode}: ${out}`);
      return /node \S+ is Ready/.test(out);
    }, 120_000, 100);
  };
  const kubectl = (args: string[], input?: string) => {
    const r = spawnSync('kubectl', ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8', input, env: { ...process.env, HOME: dir } });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  const down = (wipe = false) => spawnSync(process.execPath, [BIN, 'down', '--data-dir', join(dir, 'data'), ...(wipe ? ['--wipe'] : [])], { encoding: 'utf8' });

  after(async () => {
    if (proc && proc.exitCode === null) down(true);
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts a single-node cluster in one command, with progress', async () => {
    await up();
    for (const step of ['starting the API server', 'starting containerd', 'starting the kubelet', 'starting the ingress controller', 'is Ready']) assert.match(out, new RegExp(step));
    assert.doesNotMatch(out, /warning/i);
    const nodes = kubectl(['get', 'nodes', '--no-headers']);
    assert.match(nodes.stdout, /\sReady\s/);
    // The seed images resolve through the local registry.
    const r = kubectl(['apply', '-f', '-'], `apiVersion: v1
kind: Pod
metadata: {name: keeper, labels: {app: keeper}}
spec:
  containers:
  - {name: main, image: luksa/kubia, ports: [{containerPort: 8080}]}
`);
    assert.equal(r.code, 0, r.stderr);
    await waitFor('pod Running', () => /Running/.test(kubectl(['get', 'pod', 'keeper', '--no-headers']).stdout), 60_000, 250);
    const svc = kubectl(['expose', 'pod', 'keeper', '--port', '80', '--target-port', '8080', '--type', 'NodePort']);
    assert.equal(svc.code, 0, svc.stderr);
    const ip = kubectl(['get', 'svc', 'keeper', '-o', 'jsonpath={.spec.clusterIP}']).stdout.trim();
    await waitFor('the proxy to program the service', () => proxyRules().some((l) => l.includes(ip)), 30_000, 200);
  });

  it('keeps the cluster across down and up: the pod comes back', async () => {
    const before = JSON.parse(kubectl(['get', 'pod', 'keeper', '-o', 'json']).stdout);
    const d = down();
    assert.equal(d.status, 0, d.stderr);
    await waitFor('up process to exit', () => proc!.exitCode !== null, 60_000, 100);
    assert.deepEqual(proxyRules(), [], 'the service proxy left rules behind after down');
    await up();
    await waitFor('pod Running again', () => {
      const p = JSON.parse(kubectl(['get', 'pod', 'keeper', '-o', 'json']).stdout || '{}');
      return p.metadata?.uid === before.metadata.uid && p.status?.phase === 'Running'
        && p.status.containerStatuses?.[0]?.state?.running && p.status.containerStatuses[0].containerID !== before.status.containerStatuses[0].containerID;
    }, 90_000, 250);
  });

  it('down --wipe removes containers, the bridge and the data', async () => {
    const d = down(true);
    assert.equal(d.status, 0, d.stderr);
    await waitFor('up process to exit', () => proc!.exitCode !== null, 60_000, 100);
    assert.equal(existsSync(join(dir, 'data')), false);
    assert.deepEqual(proxyRules(), [], 'the service proxy left rules behind after down --wipe');
    assert.notEqual(spawnSync('ip', ['link', 'show', bridge]).status, 0, 'bridge still there');
    const ps = spawnSync('pgrep', ['-f', join(dir, 'data')], { encoding: 'utf8' });
    assert.equal(ps.stdout.trim(), '', `processes left: ${ps.stdout}`);
  });
});
