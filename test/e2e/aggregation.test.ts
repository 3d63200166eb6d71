/**
 * The aggregation layer (issue 3, A14): an APIService for metrics.k8s.io/v1beta1 backed by a real
 * HTTPS server on a test host (a network namespace this test creates, reached through a veth
 * pair), resolved through its Service's Endpoints. Discovery shows the group, requests are proxied
 * with the caller's identity, `kubectl top` works, and the APIService reports Available.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cluster, haveKubectl, waitFor } from './harness.js';

const canNetns = process.getuid?.() === 0 && spawnSync('ip', ['netns', 'list']).status === 0;
const skip = (!haveKubectl() && 'kubectl is not on the PATH') || (!canNetns && 'needs root and iproute2 for a test network namespace');
const ip = (...args: string[]) => {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
};

describe('aggregated APIs', { skip, concurrency: false }, () => {
  let c: Cluster;
  let backend: ChildProcess | undefined;
  const tag = `ka${process.pid % 100000}`;
  const ns = `keelson-${tag}`;
  const octet = 1 + (process.pid % 250);
  const hostIP = `10.254.${octet}.1`;
  const backendIP = `10.254.${octet}.2`;

  before(async () => {
    ip('netns', 'add', ns);
    ip('link', 'add', `${tag}h`, 'type', 'veth', 'peer', 'name', `${tag}n`);
    ip('link', 'set', `${tag}n`, 'netns', ns);
    ip('addr', 'add', `${hostIP}/30`, 'dev', `${tag}h`);
    ip('link', 'set', `${tag}h`, 'up');
    ip('-n', ns, 'addr', 'add', `${backendIP}/30`, 'dev', `${tag}n`);
    ip('-n', ns, 'link', 'set', `${tag}n`, 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    c = await Cluster.start();
    const script = join(fileURLToPath(new URL('.', import.meta.url)), 'metrics-backend.js');
    backend = spawn('ip', ['netns', 'exec', ns, process.execPath, script, backendIP, '8443', join(c.dataDir, 'backend-pki')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    backend.stdout!.on('data', (d) => { out += d; });
    await waitFor('the metrics backend', () => out.includes('ready'), 20000);
  });

  after(async () => {
    backend?.kill('SIGTERM');
    spawnSync('ip', ['link', 'del', `${tag}h`]);
    spawnSync('ip', ['netns', 'del', ns]);
    await c?.stop();
  });

  it('registers, reports Available, shows in discovery and proxies with the caller identity', async () => {
    await c.k(['apply', '-f', c.writeFile('agg.yaml', `apiVersion: v1
kind: Service
metadata:
  name: metrics-server
  namespace: kube-system
spec:
  ports:
  - name: https
    port: 443
    targetPort: 8443
---
apiVersion: v1
kind: Endpoints
metadata:
  name: metrics-server
  namespace: kube-system
subsets:
- addresses:
  - ip: ${backendIP}
  ports:
  - name: https
    port: 8443
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: v1beta1.metrics.k8s.io
spec:
  group: metrics.k8s.io
  version: v1beta1
  service:
    name: metrics-server
    namespace: kube-system
    port: 443
  insecureSkipTLSVerify: true
  groupPriorityMinimum: 100
  versionPriority: 100
`)]);
    await waitFor('the APIService to be Available', async () => {
      const a = await c.kjson(['get', 'apiservice', 'v1beta1.metrics.k8s.io']);
      return a.status?.conditions?.find((x: any) => x.type === 'Available')?.status === 'True';
    }, 30000, 200);
    assert.match(await c.k(['api-resources', '--api-group=metrics.k8s.io']), /^nodes\s+metrics.k8s.io\/v1beta1\s+false\s+NodeMetrics$/m);
    const raw = JSON.parse(await c.k(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/nodes']));
    assert.equal(raw.items[0].metadata.name, 'n1');
    assert.equal(raw.items[0].metadata.labels['remote-user'], 'kubernetes-admin', 'the caller identity reaches the backend');
    await c.k(['apply', '-f', c.writeFile('node.yaml', 'apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n')]);
    // Status is written through the status subresource, as the kubelet does.
    await c.k(['patch', 'node', 'n1', '--subresource=status', '--type=merge', '-p', '{"status":{"allocatable":{"cpu":"2","memory":"4Gi"},"capacity":{"cpu":"2","memory":"4Gi"}}}']);
    const top = await c.k(['top', 'node']);
    assert.match(top, /^n1\s+250m\s+\d+%\s+512Mi\s+\d+%/m);
    assert.match(await c.k(['top', 'pod', '-n', 'default']), /^p1\s+5m\s+20Mi/m);
  });

  it('reports Unavailable when the backend goes away, and 503 for requests', async () => {
    backend?.kill('SIGTERM');
    await c.k(['delete', 'endpoints', 'metrics-server', '-n', 'kube-system']);
    await c.k(['annotate', 'apiservice', 'v1beta1.metrics.k8s.io', 'recheck=1']);
    await waitFor('the APIService to be unavailable', async () => {
      const a = await c.kjson(['get', 'apiservice', 'v1beta1.metrics.k8s.io']);
      return a.status?.conditions?.find((x: any) => x.type === 'Available')?.status === 'False';
    }, 30000, 200);
    const r = await c.kubectl(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/nodes']);
    assert.notEqual(r.code, 0);
  });
});
