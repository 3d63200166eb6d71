#!/usr/bin/env node
// Captures the protobuf request bodies real kubectl sends, as fixtures for
// src/apimachinery/protobuf/decode.test.ts. A developer tool: tests only read the saved fixtures.
//
// It starts a tiny plain-HTTP API server that answers /version (v1.32, so the kubectl dispatcher
// picks kubectl 1.32), aggregated discovery for /api and /apis (keelson's own Discovery over
// BUILTIN_RESOURCES plus the authorization/authentication review resources), legacy
// /api/v1 and /apis/<g>/<v>, and records every POST body, answering 201 with a JSON echo (the
// body decoded by keelson's decoder, plus the status fields kubectl prints). Each kubectl
// command in CASES is run against it; the body is saved as fixtures/<name>.bin, and for `create`
// commands the `--dry-run=client -o json` output is saved as fixtures/<name>.json (what kubectl
// would send as JSON).
//
// Usage: npx tsc -p tsconfig.json --outDir .build-proto && node scripts/capture-kubectl-protobuf.mjs [--build .build-proto] [--kubectl kubectl]

import { createServer } from 'node:http';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const BUILD = resolve(root, opt('--build', '.build-proto'));
const KUBECTL = opt('--kubectl', 'kubectl');
const OUT = join(root, 'src', 'apimachinery', 'protobuf', 'fixtures');

const imp = (p) => import(pathToFileURL(join(BUILD, p)).href);
const { Discovery } = await imp('src/apiserver/discovery.js');
const { BUILTIN_RESOURCES } = await imp('src/api/resources.js');
const { decodeProtobufObject, isProtobufBody } = await imp('src/apimachinery/protobuf/decode.js');

const review = (group, kind, plural, namespaced = false) => ({
  group, version: 'v1', kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase(), namespaced,
  shortNames: [], categories: [], verbs: ['create'], subresources: [], storageResource: plural, storageGroup: group,
  schemaName: `io.k8s.api.${group.split('.')[0]}.v1.${kind}`,
});
const resources = [
  ...BUILTIN_RESOURCES,
  review('authorization.k8s.io', 'SelfSubjectAccessReview', 'selfsubjectaccessreviews'),
  review('authorization.k8s.io', 'SelfSubjectRulesReview', 'selfsubjectrulesreviews'),
  review('authorization.k8s.io', 'SubjectAccessReview', 'subjectaccessreviews'),
  review('authorization.k8s.io', 'LocalSubjectAccessReview', 'localsubjectaccessreviews', true),
  review('authentication.k8s.io', 'SelfSubjectReview', 'selfsubjectreviews'),
  review('authentication.k8s.io', 'TokenReview', 'tokenreviews'),
];
const discovery = new Discovery(() => resources);

/** @type {{method: string, url: string, contentType: string, body: Buffer}[]} */
let posts = [];

function send(res, code, obj, type = 'application/json') {
  const body = typeof obj === 'string' ? obj : JSON.stringify(obj);
  res.writeHead(code, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function echo(obj) {
  const o = structuredClone(obj);
  o.metadata = { ...(o.metadata ?? {}), uid: '00000000-0000-0000-0000-000000000001', resourceVersion: '1', creationTimestamp: '2025-01-01T00:00:00Z' };
  o.metadata.name ??= 'x';
  switch (o.kind) {
    case 'SelfSubjectAccessReview': o.status = { allowed: true }; break;
    case 'SelfSubjectRulesReview': o.status = { resourceRules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }], nonResourceRules: [], incomplete: false }; break;
    case 'SelfSubjectReview': o.status = { userInfo: { username: 'capture-user', groups: ['system:authenticated'] } }; break;
    case 'TokenRequest': o.status = { token: 'captured-token', expirationTimestamp: '2025-01-01T01:00:00Z' }; break;
  }
  return o;
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://x');
    const accept = req.headers.accept ?? '';
    const p = url.pathname;
    if (req.method === 'GET') {
      if (p === '/version') return send(res, 200, { major: '1', minor: '32', gitVersion: 'v1.32.0', platform: 'linux/amd64' });
      if (p === '/api' || p === '/apis') {
        if (accept.includes('as=APIGroupDiscoveryList')) {
          return send(res, 200, discovery.aggregated(p === '/api', 'v2').body, 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
        }
        return send(res, 200, p === '/api' ? discovery.apiVersions('127.0.0.1').body : discovery.apiGroupList().body);
      }
      const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(p);
      if (m) {
        const d = m[1] ? discovery.resourceList('', 'v1') : discovery.resourceList(m[2], m[3]);
        if (d) return send(res, 200, d.body);
      }
      return send(res, 404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'not found' });
    }
    if (req.method === 'POST') {
      posts.push({ method: req.method, url: req.url ?? '', contentType: req.headers['content-type'] ?? '', body });
      let obj;
      try {
        obj = isProtobufBody(body) ? decodeProtobufObject(body).object : JSON.parse(body.toString('utf8'));
      } catch (e) {
        console.error(`decode failed for ${req.url}: ${e.message}`);
        obj = { metadata: { name: 'x' } };
      }
      return send(res, 201, echo(obj));
    }
    return send(res, 405, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 405, message: 'method not allowed' });
  });
});

await new Promise((r) => server.listen(0, '127.0.0.1', r));
const port = server.address().port;
const dir = mkdtempSync(join(tmpdir(), 'keelson-capture-'));
const kubeconfig = join(dir, 'config');
writeFileSync(kubeconfig, `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: http://127.0.0.1:${port}
users:
- name: u
  user:
    token: capture-token
contexts:
- name: c
  context: {cluster: c, user: u, namespace: default}
current-context: c
`);

function kubectl(argv) {
  return new Promise((resolveP) => {
    execFile(KUBECTL, ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...argv], { timeout: 60_000, env: { ...process.env, KUBECONFIG: kubeconfig } },
      (err, stdout, stderr) => resolveP({ code: err ? (err.code ?? 1) : 0, stdout, stderr }));
  });
}

// name → kubectl arguments. `json: true` also saves the --dry-run=client -o json output.
const CASES = [
  ['deployment', ['create', 'deployment', 'd', '--image=nginx', '--replicas=0'], true],
  ['configmap', ['create', 'configmap', 'cm', '--from-literal=a=b'], true],
  ['secret', ['create', 'secret', 'generic', 's', '--from-literal=k=v'], true],
  ['namespace', ['create', 'namespace', 'ns1'], true],
  ['quota', ['create', 'quota', 'q', '--hard=pods=3,cpu=1'], true],
  ['service', ['create', 'service', 'clusterip', 'svc', '--tcp=80:8080'], true],
  ['job', ['create', 'job', 'j', '--image=busybox', '--', 'echo', 'hi'], true],
  ['cronjob', ['create', 'cronjob', 'cj', '--image=busybox', '--schedule=*/1 * * * *'], true],
  ['role', ['create', 'role', 'r', '--verb=get', '--resource=pods'], true],
  ['rolebinding', ['create', 'rolebinding', 'rb', '--role=r', '--user=u'], true],
  ['clusterrole', ['create', 'clusterrole', 'cr', '--verb=get', '--resource=nodes'], true],
  ['clusterrolebinding', ['create', 'clusterrolebinding', 'crb', '--clusterrole=cr', '--group=g'], true],
  ['serviceaccount', ['create', 'serviceaccount', 'sa'], true],
  ['ingress', ['create', 'ingress', 'ing', '--rule=a.com/p=svc:80'], true],
  ['pdb', ['create', 'pdb', 'pdb', '--selector=app=x', '--min-available=1'], true],
  ['priorityclass', ['create', 'priorityclass', 'pc', '--value=100'], true],
  ['can-i', ['auth', 'can-i', 'create', 'pods'], false],
  ['can-i-list', ['auth', 'can-i', '--list'], false],
  ['whoami', ['auth', 'whoami'], false],
  ['token', ['create', 'token', 'default'], false],
];

mkdirSync(OUT, { recursive: true });
const summary = [];
for (const [name, argv, json] of CASES) {
  posts = [];
  const r = await kubectl(argv);
  const pb = posts.filter((x) => x.contentType.startsWith('application/vnd.kubernetes.protobuf'));
  if (!pb.length) {
    summary.push(`${name}: NO protobuf POST (exit ${r.code}; posts: ${posts.map((x) => `${x.url} ${x.contentType}`).join(', ') || 'none'}) ${r.stderr.trim()}`);
    continue;
  }
  writeFileSync(join(OUT, `${name}.bin`), pb[0].body);
  summary.push(`${name}: ${pb[0].url} ${pb[0].body.length} bytes (exit ${r.code}) ${r.stdout.trim().split('\n')[0] ?? ''}`);
  if (json) {
    const d = await kubectl([...argv.slice(0, argv.indexOf('--') < 0 ? argv.length : argv.indexOf('--')), '--dry-run=client', '-o', 'json', ...(argv.includes('--') ? argv.slice(argv.indexOf('--')) : [])]);
    if (d.code === 0) writeFileSync(join(OUT, `${name}.json`), `${JSON.stringify(JSON.parse(d.stdout), null, 2)}\n`);
    else summary.push(`  ${name}: dry-run failed: ${d.stderr.trim()}`);
  }
}
server.close();
rmSync(dir, { recursive: true, force: true });
console.log(summary.join('\n'));
