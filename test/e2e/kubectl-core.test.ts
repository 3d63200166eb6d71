/**
 * The real kubectl against a real `keelson server` (issue 2, "Shown by"): create/apply, get in
 * every output format, watch, describe with events, label/annotate/patch/scale/edit, delete and
 * wait, explain, api-resources, dry-run, namespaced and cluster-scoped kinds.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { DEPLOY_V1, DEPLOY_V2 } from './fixtures.js';
import { Cluster, haveKubectl, waitFor } from './harness.js';

const skip = !haveKubectl() && 'kubectl is not on the PATH';

describe('kubectl against keelson server', { skip, concurrency: false }, () => {
  let c: Cluster;
  before(async () => { c = await Cluster.start(); });
  after(async () => { await c?.stop(); });

  it('reports Kubernetes 1.32 and serves discovery', async () => {
    const v = JSON.parse(await c.k(['version', '-o', 'json']));
    assert.equal(v.serverVersion.major, '1');
    assert.equal(v.serverVersion.minor, '32');
    const res = await c.k(['api-resources']);
    assert.match(res, /^pods\s+po\s+v1\s+true\s+Pod$/m);
    assert.match(res, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
    assert.match(res, /^namespaces\s+ns\s+v1\s+false\s+Namespace$/m);
    const versions = await c.k(['api-versions']);
    for (const gv of ['apps/v1', 'batch/v1', 'v1', 'networking.k8s.io/v1', 'rbac.authorization.k8s.io/v1']) assert.match(versions, new RegExp(`^${gv.replace('/', '\\/')}$`, 'm'));
  });

  it('has the system namespaces and the kubernetes service', async () => {
    const ns = await c.k(['get', 'namespaces']);
    assert.match(ns, /^NAME\s+STATUS\s+AGE/m);
    for (const n of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) assert.match(ns, new RegExp(`^${n}\\s+Active`, 'm'));
    const svc = await c.k(['get', 'svc', 'kubernetes']);
    assert.match(svc, /^kubernetes\s+ClusterIP\s+10\.96\.0\.1\s+<none>\s+443\/TCP/m);
  });

  it('apply creates, a second apply changes and removes fields (strategic merge patch)', async () => {
    const f1 = c.writeFile('deploy-v1.yaml', DEPLOY_V1);
    assert.match(await c.k(['apply', '-f', f1]), /deployment.apps\/web created/);
    assert.match(await c.k(['apply', '-f', f1]), /deployment.apps\/web unchanged/);
    const f2 = c.writeFile('deploy-v2.yaml', DEPLOY_V2);
    assert.match(await c.k(['apply', '-f', f2]), /deployment.apps\/web configured/);
    const d = await c.kjson(['get', 'deploy', 'web']);
    const ctr = d.spec.template.spec.containers[0];
    assert.equal(ctr.image, 'nginx:1.26');
    assert.deepEqual(ctr.env, [{ name: 'A', value: '1' }]);
    assert.equal(d.metadata.labels.tier, undefined);
    assert.equal(d.metadata.generation, 2);
    // Server-side defaults are visible.
    assert.equal(ctr.imagePullPolicy, 'IfNotPresent');
    assert.equal(ctr.ports[0].protocol, 'TCP');
    assert.equal(d.spec.template.spec.restartPolicy, 'Always');
    assert.equal(d.spec.strategy.type, 'RollingUpdate');
  });

  it('get shows the Kubernetes columns, -o wide, yaml, json and jsonpath', async () => {
    const t = await c.k(['get', 'deploy']);
    assert.match(t, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/m);
    assert.match(t, /^web\s+0\/2\s+\d+\s+0\s+\d+s$/m);
    const w = await c.k(['get', 'deploy', '-o', 'wide']);
    assert.match(w, /CONTAINERS\s+IMAGES\s+SELECTOR/);
    assert.match(w, /nginx\s+nginx:1\.26\s+app=web/);
    const y = await c.k(['get', 'deploy', 'web', '-o', 'yaml']);
    assert.match(y, /^kind: Deployment$/m);
    const jp = await c.k(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']);
    assert.equal(jp, 'nginx:1.26');
    const name = await c.k(['get', 'deploy', '-o', 'name']);
    assert.equal(name.trim(), 'deployment.apps/web');
  });

  it('create -f of a pod; get pods columns; label, annotate and all three patch types', async () => {
    const pod = c.writeFile('pod.yaml', `apiVersion: v1
kind: Pod
metadata:
  name: p1
  labels: {app: p1}
spec:
  containers:
  - name: c
    image: busybox
    command: ["sleep", "3600"]
`);
    assert.match(await c.k(['create', '-f', pod]), /pod\/p1 created/);
    const t = await c.k(['get', 'pods', '-o', 'wide']);
    assert.match(t, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/m);
    assert.match(t, /^p1\s+0\/1\s+Pending\s+0\s+\d+s\s+<none>\s+<none>\s+<none>\s+<none>$/m);
    const p = await c.kjson(['get', 'pod', 'p1']);
    assert.equal(p.spec.containers[0].imagePullPolicy, 'Always');
    assert.equal(p.spec.dnsPolicy, 'ClusterFirst');
    assert.equal(p.spec.schedulerName, 'default-scheduler');
    assert.equal(p.spec.enableServiceLinks, true);
    assert.equal(p.spec.containers[0].terminationMessagePath, '/dev/termination-log');
    assert.equal(p.status.phase, 'Pending');
    assert.equal(p.status.qosClass, 'BestEffort');

    await c.k(['label', 'pod', 'p1', 'env=dev']);
    await c.k(['annotate', 'pod', 'p1', 'note=hello']);
    await c.k(['patch', 'pod', 'p1', '-p', '{"metadata":{"labels":{"smp":"yes"}}}']);
    await c.k(['patch', 'pod', 'p1', '--type=merge', '-p', '{"metadata":{"labels":{"merge":"yes"}}}']);
    await c.k(['patch', 'pod', 'p1', '--type=json', '-p', '[{"op":"add","path":"/metadata/labels/json","value":"yes"}]']);
    await c.k(['patch', 'pod', 'p1', '-p', '{"spec":{"containers":[{"name":"c","image":"busybox:1.36"}]}}']);
    const got = await c.kjson(['get', 'pod', 'p1']);
    assert.deepEqual(got.metadata.labels, { app: 'p1', env: 'dev', smp: 'yes', merge: 'yes', json: 'yes' });
    assert.equal(got.metadata.annotations.note, 'hello');
    assert.equal(got.spec.containers[0].image, 'busybox:1.36');
    const sel = await c.k(['get', 'pods', '-l', 'env in (dev,prod),!missing', '-o', 'name']);
    assert.equal(sel.trim(), 'pod/p1');
    const none = await c.k(['get', 'pods', '-l', 'env=prod', '-o', 'name']);
    assert.equal(none.trim(), '');
    // (The Deployment's pods are Pending too: no node runs them yet.)
    const fs = await c.k(['get', 'pods', '-l', 'app=p1', '--field-selector', 'status.phase=Pending,spec.nodeName=', '-o', 'name']);
    assert.equal(fs.trim(), 'pod/p1');
  });

  it('scale uses the scale subresource', async () => {
    await c.k(['scale', 'deploy', 'web', '--replicas=5']);
    assert.equal((await c.kjson(['get', 'deploy', 'web'])).spec.replicas, 5);
    await c.k(['scale', 'deploy', 'web', '--replicas=3', '--current-replicas=5']);
    assert.equal((await c.kjson(['get', 'deploy', 'web'])).spec.replicas, 3);
    const r = await c.kubectl(['scale', 'deploy', 'web', '--replicas=4', '--current-replicas=9']);
    assert.notEqual(r.code, 0);
  });

  it('edit through KUBE_EDITOR', async () => {
    const editor = c.writeFile('editor.sh', '#!/bin/sh\nsed -i "s/replicas: 3/replicas: 7/" "$1"\n');
    chmodSync(editor, 0o755);
    await c.k(['edit', 'deploy', 'web'], { env: { KUBE_EDITOR: editor, EDITOR: editor } });
    assert.equal((await c.kjson(['get', 'deploy', 'web'])).spec.replicas, 7);
  });

  it('get -w sees a change as it happens', async () => {
    await c.k(['create', 'configmap', 'watched', '--from-literal=a=1']).catch(async () => {
      // Generators send protobuf bodies (issue 3); fall back to a manifest.
      await c.k(['create', '-f', c.writeFile('cm.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: watched\ndata:\n  a: "1"\n')]);
    });
    const p = spawn('kubectl', ['--kubeconfig', c.kubeconfig, '--cache-dir', `${c.home}/cache`, 'get', 'cm', '-w'], { env: { ...process.env, HOME: c.home } });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    try {
      await waitFor('the initial listing', () => /watched\s+1\s+/.test(out));
      await c.k(['patch', 'cm', 'watched', '--type=merge', '-p', '{"data":{"b":"2"}}']);
      await waitFor('the watch event', () => /watched\s+2\s+/.test(out));
      assert.equal((out.match(/^NAME\s+DATA\s+AGE$/gm) ?? []).length, 1, `one header only:\n${out}`);
    } finally {
      p.kill();
    }
  });

  it('describe shows events', async () => {
    const p = await c.kjson(['get', 'pod', 'p1']);
    const ev = c.writeFile('event.yaml', `apiVersion: v1
kind: Event
metadata:
  name: p1.scheduled
involvedObject:
  apiVersion: v1
  kind: Pod
  name: p1
  namespace: default
  uid: ${p.metadata.uid}
reason: TestReason
message: something happened to p1
type: Normal
source:
  component: e2e
count: 1
firstTimestamp: "${new Date().toISOString().replace(/\.\d+Z/, 'Z')}"
lastTimestamp: "${new Date().toISOString().replace(/\.\d+Z/, 'Z')}"
`);
    await c.k(['create', '-f', ev]);
    const d = await c.k(['describe', 'pod', 'p1']);
    assert.match(d, /^Name:\s+p1$/m);
    assert.match(d, /Events:/);
    assert.match(d, /Normal\s+TestReason\s+.*e2e\s+something happened to p1/);
    const evs = await c.k(['get', 'events']);
    assert.match(evs, /LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE/);
    assert.match(evs, /Normal\s+TestReason\s+pod\/p1\s+something happened to p1/);
    const v1 = JSON.parse(await c.k(['get', 'events.v1.events.k8s.io', 'p1.scheduled', '-o', 'json']));
    assert.equal(v1.note, 'something happened to p1');
    assert.equal(v1.regarding.name, 'p1');
  });

  it('--dry-run=server validates and defaults without writing', async () => {
    const f = c.writeFile('dry.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dry\ndata:\n  a: b\n');
    const out = await c.k(['create', '-f', f, '--dry-run=server', '-o', 'json']);
    assert.equal(JSON.parse(out).metadata.name, 'dry');
    const r = await c.kubectl(['get', 'cm', 'dry']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /NotFound/);
  });

  it('cluster-scoped kinds: namespaces and priority classes', async () => {
    await c.k(['create', '-f', c.writeFile('ns.yaml', 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n')]);
    await c.k(['create', '-f', c.writeFile('pc.yaml', 'apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata:\n  name: high\nvalue: 1000\n')]);
    assert.match(await c.k(['get', 'priorityclass', 'high']), /high\s+1000\s+false/);
    await c.k(['-n', 'team-a', 'create', '-f', c.writeFile('cm2.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: in-a\n')]);
    assert.match(await c.k(['get', 'cm', '-A']), /^team-a\s+in-a\s+0\s+/m);
    // Pages of one item (limit/continue) list the same objects as one page.
    const paged = await c.k(['get', 'cm', '-A', '--chunk-size=1', '-o', 'name']);
    const whole = await c.k(['get', 'cm', '-A', '-o', 'name']);
    assert.equal(paged, whole);
    assert.ok(paged.trim().split('\n').length >= 2, paged);
    const missing = await c.kubectl(['-n', 'nope', 'create', '-f', c.writeFile('cm3.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n')]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /namespaces "nope" not found/);
  });

  it('explain renders the schema', async () => {
    const e = await c.k(['explain', 'pod.spec.containers']);
    assert.match(e, /KIND:\s+Pod/);
    assert.match(e, /FIELD:\s+containers/);
    assert.match(e, /image\s+<string>/);
    const d = await c.k(['explain', 'deployments.spec.replicas']);
    assert.match(d, /replicas\s+<integer>/);
  });

  it('delete waits for deletion; wait --for=delete', async () => {
    await c.k(['delete', 'deploy', 'web']);
    const r = await c.kubectl(['get', 'deploy', 'web']);
    assert.match(r.stderr, /NotFound/);
    await c.k(['create', '-f', c.writeFile('cm4.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: gone\n')]);
    const waiter = c.kubectl(['wait', '--for=delete', 'cm/gone', '--timeout=30s']);
    await c.k(['delete', 'cm', 'gone', '--wait=false']);
    const w = await waiter;
    assert.equal(w.code, 0, w.stderr);
  });
});
