/**
 * A minimal aggregated API server for the aggregation e2e test: serves metrics.k8s.io/v1beta1
 * discovery, NodeMetrics and PodMetrics over HTTPS, and echoes the identity headers the
 * aggregator forwards. Run as: node metrics-backend.js <host> <port> <pkiDir>
 */
import https from 'node:https';
import { ensurePki } from '../../src/util/pki.js';

const [host, port, dir] = process.argv.slice(2);
const pki = await ensurePki(dir, { hosts: [host, 'metrics-server.kube-system.svc'] });
const ts = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const routes: Record<string, (req: any) => unknown> = {
  '/apis/metrics.k8s.io/v1beta1': () => ({
    kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'metrics.k8s.io/v1beta1',
    resources: [
      { name: 'nodes', singularName: '', namespaced: false, kind: 'NodeMetrics', verbs: ['get', 'list'] },
      { name: 'pods', singularName: '', namespaced: true, kind: 'PodMetrics', verbs: ['get', 'list'] },
    ],
  }),
  '/apis/metrics.k8s.io/v1beta1/nodes': (req) => ({
    kind: 'NodeMetricsList', apiVersion: 'metrics.k8s.io/v1beta1', metadata: {},
    items: [{ metadata: { name: 'n1', labels: { 'remote-user': String(req.headers['x-remote-user']) } }, timestamp: ts, window: '10s', usage: { cpu: '250m', memory: '512Mi' } }],
  }),
  '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods': () => ({
    kind: 'PodMetricsList', apiVersion: 'metrics.k8s.io/v1beta1', metadata: {},
    items: [{ metadata: { name: 'p1', namespace: 'default' }, timestamp: ts, window: '10s', containers: [{ name: 'c', usage: { cpu: '5m', memory: '20Mi' } }] }],
  }),
};
const server = https.createServer({ key: pki.serverKeyPem, cert: pki.serverCertPem }, (req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
  res.writeHead(route ? 200 : 404, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(route ? route(req) : { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404, reason: 'NotFound' }));
});
server.listen(Number(port), host, () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
