/**
 * The ingress controller end to end: `keelson server` + `keelson agent` on real containerd, the
 * agent running its ingress controller child on free ports, driven by the real kubectl. Two
 * Deployments (kubia from the local registry) behind Services, one Ingress with two hosts, a
 * path, a default backend and TLS for one host from a Secret made with `kubectl create secret
 * tls` from a certificate this test issues; requests from the host with the right Host header
 * and SNI; the IngressClass, the status address, and an edit taking effect live.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { TLSSocket } from 'node:tls';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeCluster, nodeSkipReason } from './node-harness.js';
import { waitFor } from './harness.js';
import { createCa, issueServingCert } from '../../src/util/pki.js';

const skip = nodeSkipReason();

/** A port free right now on every address. */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '0.0.0.0', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

interface Reply { status: number; headers: http.IncomingHttpHeaders; body: string; cn?: string }

/** One request to the ingress (fresh connection, 5 s timeout); https with SNI `host` and trust in `ca`. */
function request(o: { port: number; host: string; path: string; tls?: { ca: string }; address?: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const common = { host: o.address ?? '127.0.0.1', port: o.port, path: o.path, headers: { host: o.host }, agent: false as const, timeout: 5000 };
    const onRes = (res: http.IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, cn: o.tls ? (res.socket as TLSSocket).getPeerCertificate()?.subject?.CN as string : undefined }));
    };
    const req = o.tls ? https.request({ ...common, servername: o.host, ca: o.tls.ca }, onRes) : http.request(common, onRes);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

describe('ingress controller on a real node', { skip, concurrency: false }, () => {
  let n: NodeCluster;
  let httpPort = 0;
  let httpsPort = 0;
  let caPem = '';
  let nodeIP = '';

  before(async () => {
    httpPort = await freePort();
    httpsPort = await freePort();
    n = await NodeCluster.start([], ['--ingress-http-port', String(httpPort), '--ingress-https-port', String(httpsPort)]);
    const ca = await createCa('ingress-e2e-ca');
    caPem = ca.certPem;
    const cert = await issueServingCert({ caCertPem: ca.certPem, caKeyPem: ca.keyPem }, 'alpha.example.test', ['alpha.example.test']);
    writeFileSync(join(n.c.dataDir, 'alpha.crt'), cert.certPem);
    writeFileSync(join(n.c.dataDir, 'alpha.key'), cert.keyPem);
    const node = await n.kjson(['get', 'node', n.nodeName]);
    nodeIP = node.status.addresses.find((a: any) => a.type === 'InternalIP').address;
  });
  after(async () => { await n?.stop(); });

  it('the agent created the default IngressClass keelson', async () => {
    assert.match(n.agentLogs, new RegExp(`starting the ingress controller on :${httpPort}/:${httpsPort}`));
    const cls = await waitFor('IngressClass keelson', async () => {
      const r = await n.kubectl(['get', 'ingressclass', 'keelson', '-o', 'json']);
      return r.code === 0 && JSON.parse(r.stdout);
    }, 30_000, 250);
    assert.equal(cls.spec.controller, 'keelson.io/ingress-controller');
    assert.equal(cls.metadata.annotations['ingressclass.kubernetes.io/is-default-class'], 'true');
  });

  it('routes two hosts, a path, TLS by SNI, the HTTPS redirect and the default backend; status and events; an edit applies live', async () => {
    const deployment = (name: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: 1
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: kubia
        image: luksa/kubia
        ports: [{containerPort: 8080, name: http}]
        readinessProbe: {httpGet: {port: http, path: /}, periodSeconds: 1}
`;
    await n.apply(`${deployment('alpha')}---
${deployment('beta')}---
apiVersion: v1
kind: Service
metadata: {name: alpha}
spec:
  selector: {app: alpha}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: beta}
spec:
  selector: {app: beta}
  ports: [{name: web, port: 8081, targetPort: 8080}]
`);
    await n.k(['create', 'secret', 'tls', 'alpha-tls', '--cert', join(n.c.dataDir, 'alpha.crt'), '--key', join(n.c.dataDir, 'alpha.key')]);
    // No ingressClassName: served because keelson is the default class.
    await n.apply(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  defaultBackend:
    service: {name: beta, port: {name: web}}
  tls:
  - hosts: [alpha.example.test]
    secretName: alpha-tls
  rules:
  - host: alpha.example.test
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: alpha, port: {number: 80}}}}
  - host: beta.example.test
    http:
      paths:
      - {path: /api, pathType: Prefix, backend: {service: {name: beta, port: {number: 8081}}}}
      - {path: /exact, pathType: Exact, backend: {service: {name: alpha, port: {name: http}}}}
`);
    await n.k(['rollout', 'status', 'deployment/alpha', '--timeout=90s']);
    await n.k(['rollout', 'status', 'deployment/beta', '--timeout=90s']);

    // HTTPS with SNI: the Secret's certificate (trusted through the test CA) and the alpha pod.
    const alpha = await waitFor('alpha over HTTPS', async () => {
      const r = await request({ port: httpsPort, host: 'alpha.example.test', path: '/', tls: { ca: caPem } });
      return /^You've hit alpha-/.test(r.body) && r;
    }, 90_000, 250).catch((err) => { throw new Error(`${err.message}\nagent: ${n.agentLogs.slice(-3000)}`); });
    assert.equal(alpha.status, 200);
    assert.equal(alpha.cn, 'alpha.example.test');
    // The same host over plain HTTP is redirected to HTTPS.
    const redirect = await request({ port: httpPort, host: 'alpha.example.test', path: '/a?b=c' });
    assert.equal(redirect.status, 308);
    assert.equal(redirect.headers.location, `https://alpha.example.test:${httpsPort}/a?b=c`);
    // Path routing on the second host (Prefix is element-wise, Exact is exact).
    await waitFor('beta /api', async () => /^You've hit beta-/.test((await request({ port: httpPort, host: 'beta.example.test', path: '/api/v1' })).body), 30_000, 250);
    assert.match((await request({ port: httpPort, host: 'beta.example.test', path: '/exact' })).body, /^You've hit alpha-/);
    assert.match((await request({ port: httpPort, host: 'beta.example.test', path: '/exact/more' })).body, /^You've hit beta-/, 'default backend for /exact/more');
    // The default backend for other paths and unknown hosts, also on the node's own address.
    assert.match((await request({ port: httpPort, host: 'beta.example.test', path: '/apiary' })).body, /^You've hit beta-/);
    assert.match((await request({ port: httpPort, host: 'unknown.example.test', path: '/', address: nodeIP })).body, /^You've hit beta-/);
    // A host with no certificate gets the default one over HTTPS (not trusted by our CA).
    const def = await request({ port: httpsPort, host: 'beta.example.test', path: '/api', tls: { ca: caPem } }).then(() => 'trusted', (err: Error) => err.message);
    assert.match(def, /self[- ]signed|unable to verify|certificate/i);

    // Status: the node's address; a Sync event.
    const lb = await waitFor('status.loadBalancer.ingress', async () => (await n.kjson(['get', 'ingress', 'web'])).status?.loadBalancer?.ingress, 30_000, 250);
    assert.deepEqual(lb, [{ ip: nodeIP }]);
    // kubectl's ADDRESS column: NAME CLASS HOSTS ADDRESS PORTS AGE.
    assert.match(await n.k(['get', 'ingress', 'web', '--no-headers']), new RegExp(`^web\\s+<none>\\s+\\S+\\s+${nodeIP.replace(/\./g, '\\.')}\\s+80, 443\\s`));
    await waitFor('Sync event', async () => /Sync: Scheduled for sync/.test(await n.events('web')), 30_000, 250);

    // Edit: /api now goes to alpha, and a new host appears; nothing restarts.
    const pid = n.agent!.pid;
    await n.k(['patch', 'ingress', 'web', '--type', 'json', '-p', JSON.stringify([
      { op: 'replace', path: '/spec/rules/1/http/paths/0/backend', value: { service: { name: 'alpha', port: { number: 80 } } } },
      { op: 'add', path: '/spec/rules/-', value: { host: 'gamma.example.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'beta', port: { number: 8081 } } } }] } } },
    ])]);
    await waitFor('the edit applied', async () => /^You've hit alpha-/.test((await request({ port: httpPort, host: 'beta.example.test', path: '/api' })).body), 30_000, 100);
    assert.match((await request({ port: httpPort, host: 'gamma.example.test', path: '/' })).body, /^You've hit beta-/);
    assert.equal(n.agent!.pid, pid);
    assert.equal(n.agent!.exitCode, null);

    // Served no more (another class): the address leaves the status and the hosts get 404.
    await n.k(['patch', 'ingress', 'web', '--type', 'merge', '-p', '{"spec":{"ingressClassName":"someone-else"}}']);
    await waitFor('404 once not served', async () => (await request({ port: httpPort, host: 'gamma.example.test', path: '/' })).status === 404, 30_000, 100);
    await waitFor('status cleared', async () => !(await n.kjson(['get', 'ingress', 'web'])).status?.loadBalancer?.ingress, 30_000, 250);
  });
});
