/**
 * IngressController and IngressProcess against a real (in-process) API server: the IngressClass
 * `keelson` (created once, never overwritten), which Ingresses are served, routing tables that
 * follow every change of Ingresses, Services, EndpointSlices and TLS Secrets, status addresses
 * written and removed, events; and the `keelson ingress` child process (ready report, serving,
 * graceful stop, gone when its parent is SIGKILLed).
 *
 * Pods are stood in for by an HTTP server on this machine's own non-loopback address (the API
 * rejects loopback endpoint addresses, as Kubernetes does).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import type { Ingress, IngressClass } from 'kubernetes-types/networking/v1.js';
import { eventually, startTestCluster, type TestCluster } from '../client/testing.js';
import { EVENTS } from '../client/event-recorder.js';
import { IngressController, SERVICES, ENDPOINTSLICES, SECRETS } from './ingress-controller.js';
import { IngressProxy } from './ingress-proxy.js';
import { createDefaultCertificate } from './certificates.js';
import { CONTROLLER_NAME, DEFAULT_CLASS_ANNOTATION, ensureIngressClass, INGRESSCLASSES, INGRESSES } from './ingress-class.js';
import { IngressProcess } from './ingress-process.js';
import { firstHostIP } from './command.js';
import { endpointSlice, service, testCA, tlsSecret } from './testing.js';

const NODE_IP = '192.0.2.10';
const hostIP = firstHostIP();
const skipNet = hostIP === '127.0.0.1' ? 'this machine has no non-loopback IPv4 address' : false;

let cluster: TestCluster;
let pod: http.Server;
let podPort = 0;
const ac = new AbortController();
let proxy: IngressProxy;
let controller: IngressController;

function get(port: number, host: string, p: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: p, headers: { host }, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    }).on('error', reject);
  });
}

const ing = (name: string, spec: Ingress['spec']): Ingress => ({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name }, spec });
const backend = (svc: string, port: number | string) => ({ service: { name: svc, port: typeof port === 'number' ? { number: port } : { name: port } } });
/** A TLS Secret to write (no resourceVersion: create, or update unconditionally). */
const secretBody = (name: string, certPem: string, keyPem: string) => {
  const s = tlsSecret(name, certPem, keyPem);
  const { resourceVersion: _, ...metadata } = s.metadata!;
  return { ...s, metadata };
};
const status = async (name: string) => ((await cluster.client.get(INGRESSES, 'default', name)) as Ingress).status?.loadBalancer?.ingress ?? [];

before(async () => {
  cluster = await startTestCluster();
  pod = http.createServer((req, res) => res.end(`pod ${req.headers.host} ${req.url}`));
  await new Promise<void>((r) => pod.listen(0, '0.0.0.0', r));
  podPort = (pod.address() as AddressInfo).port;
  proxy = new IngressProxy({ httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1', defaultCertificate: await createDefaultCertificate() });
  await proxy.start();
  controller = new IngressController({ client: cluster.client, proxy, nodeIP: NODE_IP, instance: 'test-node' });
});

after(async () => {
  ac.abort();
  await proxy.stop(1000);
  pod.closeAllConnections();
  pod.close();
  await cluster.stop();
});

test('ensureIngressClass creates the default class once and never overwrites it', async () => {
  assert.equal(await ensureIngressClass(cluster.client), true);
  const cls = await cluster.client.get(INGRESSCLASSES, undefined, 'keelson') as IngressClass;
  assert.equal(cls.spec?.controller, CONTROLLER_NAME);
  assert.equal(cls.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION], 'true');
  assert.equal(await ensureIngressClass(cluster.client), false);
  // A user's change survives the next start.
  await cluster.client.patch(INGRESSCLASSES, undefined, 'keelson', { metadata: { labels: { team: 'web' } } }, 'merge');
  assert.equal(await ensureIngressClass(cluster.client), false);
  assert.equal((await cluster.client.get(INGRESSCLASSES, undefined, 'keelson') as IngressClass).metadata?.labels?.team, 'web');
});

test('serves classless Ingresses while keelson is the default class; follows every change live; writes status and events', { skip: skipNet }, async () => {
  await controller.start(ac.signal);
  assert.equal(controller.isSynced, true);
  const c = cluster.client;
  await c.create(SERVICES, 'default', service('web', [{ name: 'http', port: 80, targetPort: podPort }]));
  await c.create(ENDPOINTSLICES, 'default', endpointSlice('web-1', 'web', [{ name: 'http', port: podPort }], [hostIP]));
  await c.create(INGRESSES, 'default', ing('site', { rules: [{ host: 'site.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('web', 'http') }] } }] }));
  await eventually(async () => (await get(proxy.httpPort, 'site.test', '/hello')).body === 'pod site.test /hello', 'the route to the pod');
  await eventually(async () => (await status('site')).map((e) => e.ip).join() === NODE_IP, 'the node IP in status');
  await eventually(async () => (await c.list(EVENTS, 'default')).items.some((e: any) => e.involvedObject?.name === 'site' && e.reason === 'Sync'), 'a Sync event');

  // An edit of the Ingress takes effect without restarting anything.
  await c.patch(INGRESSES, 'default', 'site', { spec: { rules: [{ host: 'site.test', http: { paths: [{ path: '/api', pathType: 'Prefix', backend: backend('web', 80) }] } }] } }, 'merge');
  await eventually(async () => (await get(proxy.httpPort, 'site.test', '/hello')).status === 404, 'the old path gone');
  assert.equal((await get(proxy.httpPort, 'site.test', '/api/x')).body, 'pod site.test /api/x');

  // Endpoints not ready → 503; ready again → 200.
  await c.patch(ENDPOINTSLICES, 'default', 'web-1', { endpoints: [{ addresses: [hostIP], conditions: { ready: false } }] }, 'merge');
  await eventually(async () => (await get(proxy.httpPort, 'site.test', '/api')).status === 503, '503 without ready endpoints');
  await c.patch(ENDPOINTSLICES, 'default', 'web-1', { endpoints: [{ addresses: [hostIP], conditions: { ready: true } }] }, 'merge');
  await eventually(async () => (await get(proxy.httpPort, 'site.test', '/api')).status === 200, '200 again');

  // A TLS Secret appearing later is picked up (and reloaded when it changes).
  const ca = await testCA();
  const cert = await ca.issue('site.test');
  await c.patch(INGRESSES, 'default', 'site', { spec: { tls: [{ hosts: ['site.test'], secretName: 'site-tls' }] } }, 'merge');
  await eventually(async () => (await c.list(EVENTS, 'default')).items.some((e: any) => e.reason === 'BadConfig' && /site-tls not found/.test(e.message)), 'a warning about the missing Secret');
  assert.equal(controller.table.certificate('site.test'), undefined);
  await c.create(SECRETS, 'default', secretBody('site-tls', cert.certPem, cert.keyPem));
  await eventually(() => controller.table.certificate('site.test')?.secret === 'default/site-tls', 'the certificate loaded');
  const first = controller.table.certificate('site.test')!.context;
  await eventually(async () => (await get(proxy.httpPort, 'site.test', '/api')).status === 308, 'the HTTPS redirect');
  const cert2 = await ca.issue('site.test', 'www.site.test');
  await c.update(SECRETS, 'default', secretBody('site-tls', cert2.certPem, cert2.keyPem));
  await eventually(() => controller.table.certificate('site.test')?.context !== first, 'the certificate reloaded');

  // A missing Service is a warning event and a 503.
  await c.create(INGRESSES, 'default', ing('broken', { rules: [{ host: 'broken.test', http: { paths: [{ path: '/', pathType: 'Exact', backend: backend('nope', 80) }] } }] }));
  await eventually(async () => (await get(proxy.httpPort, 'broken.test', '/')).status === 503, '503 for a missing service');
  await eventually(async () => (await c.list(EVENTS, 'default')).items.some((e: any) => e.involvedObject?.name === 'broken' && e.type === 'Warning' && /nope not found/.test(e.message)), 'a warning about the missing Service');

  // Another class: not ours → not served, address removed. Back to ours → served again.
  await c.create(INGRESSCLASSES, undefined, { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'other' }, spec: { controller: 'example.com/other' } });
  await c.patch(INGRESSES, 'default', 'site', { spec: { ingressClassName: 'other', tls: null } }, 'merge');
  await eventually(async () => (await get(proxy.httpPort, 'site.test', '/api')).status === 404, 'the route gone');
  await eventually(async () => (await status('site')).length === 0, 'the address removed');
  await c.patch(INGRESSES, 'default', 'site', { spec: { ingressClassName: 'keelson' } }, 'merge');
  await eventually(async () => (await get(proxy.httpPort, 'site.test', '/api')).status === 200, 'served again by class name');
  await eventually(async () => (await status('site')).length === 1, 'the address back');

  // keelson no longer the default class: classless Ingresses are no longer served.
  await c.patch(INGRESSCLASSES, undefined, 'keelson', { metadata: { annotations: { [DEFAULT_CLASS_ANNOTATION]: null } } }, 'merge');
  await eventually(async () => (await get(proxy.httpPort, 'broken.test', '/')).status === 404, 'the classless Ingress dropped');
  await eventually(async () => (await status('broken')).length === 0, 'its address removed');
  assert.equal((await get(proxy.httpPort, 'site.test', '/api')).status, 200);
  // Another address already in the status is kept next to ours.
  await c.patch(INGRESSES, 'default', 'site', { status: { loadBalancer: { ingress: [{ ip: '198.51.100.7' }, { ip: NODE_IP }] } } }, 'merge', { subresource: 'status' });
  await c.patch(INGRESSES, 'default', 'site', { spec: { ingressClassName: 'other' } }, 'merge');
  await eventually(async () => (await status('site')).map((e) => e.ip).join() === '198.51.100.7', 'only our address removed');
});

const MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

test('IngressProcess: `keelson ingress` (the CLI command) as a child reports its ports, serves, stops gracefully', async () => {
  const p = new IngressProcess({ entry: MAIN, kubeconfig: cluster.server.kubeconfigPath, httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1', nodeIP: NODE_IP });
  const ports = await p.start();
  try {
    assert.ok(ports.httpPort > 0 && ports.httpsPort > 0);
    assert.equal((await get(ports.httpPort, 'nothing.test', '/')).status, 404);
  } finally {
    await p.stop();
  }
  assert.equal(alive(p.pid!), false);
  // A taken port is reported as a failure, not a hang.
  const busy = new IngressProcess({ entry: MAIN, kubeconfig: cluster.server.kubeconfigPath, httpPort: proxy.httpPort, httpsPort: 0, bindAddress: '127.0.0.1' });
  await assert.rejects(busy.start(), /EADDRINUSE/);
  await busy.stop();
});

test('IngressProcess: the child (light entry, as the agent runs it) exits when its parent is SIGKILLed', async () => {
  const mod = fileURLToPath(new URL('./ingress-process.js', import.meta.url));
  const script = `const { IngressProcess } = await import(${JSON.stringify(mod)});
    const p = new IngressProcess({ kubeconfig: ${JSON.stringify(cluster.server.kubeconfigPath)}, httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' });
    await p.start();
    process.stdout.write('child ' + p.pid + '\\n');
    setInterval(() => {}, 1000);`;
  const parent = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  parent.stdout!.on('data', (d) => { out += d; });
  const childPid = await eventually(() => Number(/child (\d+)/.exec(out)?.[1]), 'the child pid', 30_000);
  assert.equal(alive(childPid), true);
  parent.kill('SIGKILL');
  await eventually(() => !alive(childPid), 'the orphaned child to exit', 15_000);
});
