/**
 * Issue 3 flows with the real kubectl: server-side apply with two managers (conflict, then
 * --force-conflicts), client-side apply followed by server-side apply, every `kubectl create
 * <generator>` (protobuf request bodies), `auth can-i` and `auth whoami`, and a CRD covering
 * validation, pruning, defaulting, CEL, status/scale subresources and printer columns.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, haveKubectl, raw } from './harness.js';

const skip = !haveKubectl() && 'kubectl is not on the PATH';

const deploy = (replicas: number, image = 'nginx:1.25') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ssa
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: ssa}
  template:
    metadata:
      labels: {app: ssa}
    spec:
      containers:
      - name: c
        image: ${image}
`;

const CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names: {plural: crontabs, singular: crontab, kind: CronTab, shortNames: [ct], categories: [all]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}
    additionalPrinterColumns:
    - {name: Spec, type: string, jsonPath: .spec.cronSpec}
    - {name: Replicas, type: integer, jsonPath: .spec.replicas}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            x-kubernetes-validations:
            - rule: "self.replicas <= 10"
              message: "replicas must be at most 10"
            properties:
              cronSpec: {type: string, pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$'}
              image: {type: string}
              replicas: {type: integer, minimum: 1, default: 1}
              size: {type: string, enum: [S, M, L]}
          status:
            type: object
            properties:
              replicas: {type: integer}
`;

describe('kubectl: server-side apply, generators, auth, CRDs', { skip, concurrency: false }, () => {
  let c: Cluster;
  before(async () => { c = await Cluster.start(); });
  after(async () => { await c?.stop(); });

  it('server-side apply: create, re-apply, conflict between managers, force', async () => {
    const f = c.writeFile('ssa.yaml', deploy(2));
    assert.match(await c.k(['apply', '--server-side', '-f', f]), /deployment.apps\/ssa serverside-applied/);
    assert.match(await c.k(['apply', '--server-side', '-f', f]), /serverside-applied/);
    const d = await c.kjson(['get', 'deploy', 'ssa', '--show-managed-fields']);
    const mf = d.metadata.managedFields.find((m: any) => m.manager === 'kubectl' && m.operation === 'Apply');
    assert.ok(mf, JSON.stringify(d.metadata.managedFields));
    assert.ok(mf.fieldsV1['f:spec']['f:replicas']);
    assert.ok(mf.fieldsV1['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"c"}']);

    const f3 = c.writeFile('ssa3.yaml', deploy(3));
    const conflict = await c.kubectl(['apply', '--server-side', '--field-manager=other', '-f', f3]);
    assert.notEqual(conflict.code, 0);
    assert.match(conflict.stderr, /Apply failed with 1 conflict: conflict with "kubectl": \.spec\.replicas/);
    assert.equal((await c.kjson(['get', 'deploy', 'ssa'])).spec.replicas, 2, 'nothing written on conflict');
    await c.k(['apply', '--server-side', '--field-manager=other', '--force-conflicts', '-f', f3]);
    const after = await c.kjson(['get', 'deploy', 'ssa', '--show-managed-fields']);
    assert.equal(after.spec.replicas, 3);
    const kubectlOwns = after.metadata.managedFields.find((m: any) => m.manager === 'kubectl');
    assert.equal(kubectlOwns.fieldsV1['f:spec']['f:replicas'], undefined, 'ownership moved to the forcing manager');
    // Removing a field from the applied configuration removes it from the object.
    const noImage = c.writeFile('ssa-min.yaml', 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ssa\n  labels: {x: z}\n');
    await c.k(['apply', '--server-side', '--field-manager=labeler', '-f', noImage]);
    assert.equal((await c.kjson(['get', 'deploy', 'ssa'])).metadata.labels.x, 'z');
    await c.k(['apply', '--server-side', '--field-manager=labeler', '-f', c.writeFile('ssa-none.yaml', 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ssa\n')]);
    assert.equal((await c.kjson(['get', 'deploy', 'ssa'])).metadata.labels?.x, undefined);
  });

  it('client-side apply, then server-side apply of the same object', async () => {
    const f = c.writeFile('csa.yaml', deploy(2).replace('name: ssa\n', 'name: csa\n').replaceAll('app: ssa', 'app: csa'));
    await c.k(['apply', '-f', f]);
    const f2 = c.writeFile('csa2.yaml', deploy(4, 'nginx:1.27').replace('name: ssa\n', 'name: csa\n').replaceAll('app: ssa', 'app: csa'));
    const r = await c.kubectl(['apply', '--server-side', '-f', f2]);
    assert.equal(r.code, 0, r.stderr);
    const d = await c.kjson(['get', 'deploy', 'csa']);
    assert.equal(d.spec.replicas, 4);
    assert.equal(d.spec.template.spec.containers[0].image, 'nginx:1.27');
  });

  it('every kubectl create generator (protobuf bodies)', async () => {
    const cmds: [string[], RegExp][] = [
      [['create', 'deployment', 'gen-d', '--image=nginx', '--replicas=0'], /deployment.apps\/gen-d created/],
      [['create', 'configmap', 'gen-cm', '--from-literal=a=b'], /configmap\/gen-cm created/],
      [['create', 'secret', 'generic', 'gen-s', '--from-literal=k=v'], /secret\/gen-s created/],
      [['create', 'namespace', 'gen-ns'], /namespace\/gen-ns created/],
      [['create', 'quota', 'gen-q', '--hard=pods=3,cpu=1'], /resourcequota\/gen-q created/],
      [['create', 'service', 'clusterip', 'gen-svc', '--tcp=80:8080'], /service\/gen-svc created/],
      [['create', 'job', 'gen-j', '--image=busybox', '--', 'echo', 'hi'], /job.batch\/gen-j created/],
      [['create', 'cronjob', 'gen-cj', '--image=busybox', '--schedule=*/1 * * * *'], /cronjob.batch\/gen-cj created/],
      [['create', 'role', 'gen-r', '--verb=get', '--resource=pods'], /role.rbac.authorization.k8s.io\/gen-r created/],
      [['create', 'rolebinding', 'gen-rb', '--role=gen-r', '--user=u'], /rolebinding.rbac.authorization.k8s.io\/gen-rb created/],
      [['create', 'clusterrole', 'gen-cr', '--verb=get', '--resource=nodes'], /clusterrole.rbac.authorization.k8s.io\/gen-cr created/],
      [['create', 'clusterrolebinding', 'gen-crb', '--clusterrole=gen-cr', '--group=g'], /clusterrolebinding.rbac.authorization.k8s.io\/gen-crb created/],
      [['create', 'serviceaccount', 'gen-sa'], /serviceaccount\/gen-sa created/],
      [['create', 'ingress', 'gen-ing', '--rule=a.com/p=svc:80'], /ingress.networking.k8s.io\/gen-ing created/],
      [['create', 'pdb', 'gen-pdb', '--selector=app=x', '--min-available=1'], /poddisruptionbudget.policy\/gen-pdb created/],
      [['create', 'priorityclass', 'gen-pc', '--value=100'], /priorityclass.scheduling.k8s.io\/gen-pc created/],
    ];
    for (const [args, want] of cmds) assert.match(await c.k(args), want);
    const d = await c.kjson(['get', 'deploy', 'gen-d']);
    assert.equal(d.spec.replicas, 0, 'a zero pointer field survives protobuf decoding');
    assert.equal(d.spec.template.spec.containers[0].image, 'nginx');
    const s = await c.kjson(['get', 'secret', 'gen-s']);
    assert.equal(Buffer.from(s.data.k, 'base64').toString(), 'v');
    const svc = await c.kjson(['get', 'svc', 'gen-svc']);
    assert.match(svc.spec.clusterIP, /^10\.96\./);
    assert.equal(svc.spec.ports[0].targetPort, 8080);
  });

  it('auth can-i, can-i --list and whoami', async () => {
    assert.equal((await c.k(['auth', 'can-i', 'create', 'pods'])).trim(), 'yes');
    assert.match(await c.k(['auth', 'can-i', '--list']), /\*\.\*\s+\[\]\s+\[\]\s+\[\*\]/);
    const who = await c.k(['auth', 'whoami']);
    assert.match(who, /Username\s+kubernetes-admin/);
    assert.match(who, /system:masters/);
  });

  it('a CRD: served at once, validation, pruning, defaulting, CEL, status/scale, printer columns, deletion', async () => {
    await c.k(['apply', '-f', c.writeFile('crd.yaml', CRD)]);
    const ct = (spec: string) => `apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata:\n  name: ct1\nspec:\n${spec}`;
    // Strict validation (kubectl's default) rejects unknown fields; with --validate=false they are pruned.
    const strict = await c.kubectl(['apply', '-f', c.writeFile('ct-x.yaml', ct('  cronSpec: "* * * * */5"\n  extra: 1\n'))]);
    assert.match(strict.stderr, /strict decoding error: unknown field "spec.extra"/);
    await c.k(['apply', '--validate=false', '-f', c.writeFile('ct1.yaml', ct('  cronSpec: "* * * * */5"\n  image: img\n  extra: 1\n'))]);
    const obj = await c.kjson(['get', 'ct', 'ct1']);
    assert.equal(obj.spec.extra, undefined, 'pruned');
    assert.equal(obj.spec.replicas, 1, 'defaulted');
    const table = await c.k(['get', 'crontabs']);
    assert.match(table, /^NAME\s+SPEC\s+REPLICAS\s+AGE$/m);
    assert.match(table, /^ct1\s+\* \* \* \* \*\/5\s+1\s+\d+s$/m);
    const cel = await c.kubectl(['patch', 'ct', 'ct1', '--type=merge', '-p', '{"spec":{"replicas":11}}']);
    assert.match(cel.stderr, /spec: Invalid value: "object": replicas must be at most 10/);
    const pattern = await c.kubectl(['patch', 'ct', 'ct1', '--type=merge', '-p', '{"spec":{"cronSpec":"bad"}}']);
    assert.match(pattern.stderr, /spec.cronSpec in body should match/);
    const en = await c.kubectl(['patch', 'ct', 'ct1', '--type=merge', '-p', '{"spec":{"size":"XL"}}']);
    assert.match(en.stderr, /spec.size: Unsupported value: "XL": supported values: "S", "M", "L"/);
    const ty = await c.kubectl(['patch', 'ct', 'ct1', '--type=merge', '-p', '{"spec":{"replicas":"two"}}']);
    assert.match(ty.stderr, /spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"/);
    // scale subresource; status subresource keeps spec and the main resource keeps status.
    await c.k(['scale', 'ct', 'ct1', '--replicas=3']);
    assert.equal((await c.kjson(['get', 'ct', 'ct1'])).spec.replicas, 3);
    const st = await raw(c, 'PATCH', '/apis/stable.example.com/v1/namespaces/default/crontabs/ct1/status', JSON.stringify({ status: { replicas: 3 }, spec: { replicas: 9 } }), { 'Content-Type': 'application/merge-patch+json' });
    assert.equal(st.status, 200, st.body);
    assert.equal(st.json.status.replicas, 3);
    assert.equal(st.json.spec.replicas, 3, 'status writes do not change spec');
    const main = await raw(c, 'PATCH', '/apis/stable.example.com/v1/namespaces/default/crontabs/ct1', JSON.stringify({ status: { replicas: 7 } }), { 'Content-Type': 'application/merge-patch+json' });
    assert.equal(main.json.status.replicas, 3, 'main resource writes do not change status');
    const scale = await raw(c, 'GET', '/apis/stable.example.com/v1/namespaces/default/crontabs/ct1/scale');
    assert.deepEqual([scale.json.spec.replicas, scale.json.status.replicas], [3, 3]);
    assert.match(await c.k(['get', 'all']), /crontab.stable.example.com\/ct1/);
    assert.match(await c.k(['explain', 'crontab.spec']), /cronSpec\s+<string>/);
    // A cluster-scoped CRD with two served versions (conversion None): written through one,
    // read through the other.
    await c.k(['apply', '-f', c.writeFile('crd-multi.yaml', `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: zones.infra.example.com
spec:
  group: infra.example.com
  scope: Cluster
  names: {plural: zones, singular: zone, kind: Zone}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, properties: {spec: {type: object, properties: {region: {type: string}}}}}}
  - name: v1beta1
    served: true
    storage: false
    schema: {openAPIV3Schema: {type: object, properties: {spec: {type: object, properties: {region: {type: string}}}}}}
`)]);
    await c.k(['apply', '-f', c.writeFile('zone.yaml', 'apiVersion: infra.example.com/v1beta1\nkind: Zone\nmetadata:\n  name: eu-1\nspec:\n  region: eu\n')]);
    const v1 = await raw(c, 'GET', '/apis/infra.example.com/v1/zones/eu-1');
    assert.equal(v1.json.apiVersion, 'infra.example.com/v1');
    assert.equal(v1.json.spec.region, 'eu');
    const beta = await raw(c, 'GET', '/apis/infra.example.com/v1beta1/zones/eu-1');
    assert.equal(beta.json.apiVersion, 'infra.example.com/v1beta1');
    assert.match(await c.k(['get', 'zones']), /^eu-1\s+\d+s$/m);
    assert.equal((await raw(c, 'GET', '/apis/infra.example.com/v1/namespaces/default/zones')).status, 404, 'cluster-scoped');

    // Deleting the CRD deletes its objects and stops serving them.
    await c.k(['delete', 'crd', 'crontabs.stable.example.com']);
    const gone = await c.kubectl(['get', 'crontabs.stable.example.com']);
    assert.notEqual(gone.code, 0);
    await c.k(['apply', '-f', c.writeFile('crd2.yaml', CRD)]);
    assert.equal((await c.k(['get', 'ct', '-o', 'name'])).trim(), '', 'objects of the deleted CRD are gone');
  });
});
