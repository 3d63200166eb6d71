/**
 * Bad input gets the Kubernetes Status with the right code and reason, and changes nothing
 * (issue 2, "Bad input"). Raw HTTPS requests against a real `keelson server`.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster, raw } from './harness.js';

const CM = '/api/v1/namespaces/default/configmaps';

describe('bad input', { concurrency: false }, () => {
  let c: Cluster;
  let rvBefore = '';
  before(async () => {
    // The API server alone: controllers would write (leases, service accounts) and move the
    // revision this suite uses to prove that bad requests wrote nothing.
    c = await Cluster.start(['--no-controllers', '--no-scheduler']);
    const r = await raw(c, 'POST', CM, JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'keep' }, data: { a: 'b' } }));
    assert.equal(r.status, 201, r.body);
    rvBefore = (await raw(c, 'GET', CM)).json.metadata.resourceVersion;
  });
  after(async () => {
    try {
      // Nothing any bad request did was written.
      const list = await raw(c, 'GET', CM);
      assert.equal(list.json.metadata.resourceVersion, rvBefore, 'no write happened');
      assert.deepEqual(list.json.items.map((i: any) => i.metadata.name), ['keep']);
    } finally {
      await c?.stop();
    }
  });

  const expectStatus = (r: { status: number; json?: any; body: string }, code: number, reason: string, message?: RegExp) => {
    assert.equal(r.status, code, r.body);
    assert.equal(r.json?.kind, 'Status', r.body);
    assert.equal(r.json.code, code);
    assert.equal(r.json.reason, reason);
    assert.equal(r.json.status, 'Failure');
    if (message) assert.match(r.json.message, message);
  };

  it('anonymous requests get 401', async () => {
    expectStatus(await raw(c, 'GET', CM, undefined, {}, { auth: false }), 401, 'Unauthorized');
    const v = await raw(c, 'GET', '/version', undefined, {}, { auth: false });
    assert.equal(v.status, 200);
  });

  it('the static admin bearer token authenticates; a wrong token is 401', async () => {
    const token = readFileSync(join(c.dataDir, 'pki', 'admin.token'), 'utf8').trim();
    const ok = await raw(c, 'GET', CM, undefined, { Authorization: `Bearer ${token}` }, { auth: false });
    assert.equal(ok.status, 200, ok.body);
    expectStatus(await raw(c, 'GET', CM, undefined, { Authorization: 'Bearer not-the-token' }, { auth: false }), 401, 'Unauthorized');
  });

  it('discovery and OpenAPI answer 304 to a matching If-None-Match', async () => {
    const agg = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json';
    const first = await raw(c, 'GET', '/apis', undefined, { Accept: agg });
    assert.equal(first.status, 200);
    assert.equal(first.headers['content-type'], 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    const etag = String(first.headers.etag);
    assert.equal((await raw(c, 'GET', '/apis', undefined, { Accept: agg, 'If-None-Match': etag })).status, 304);
    const root = await raw(c, 'GET', '/openapi/v3');
    const url = root.json.paths['apis/apps/v1'].serverRelativeURL;
    const gv = await raw(c, 'GET', url);
    assert.equal(gv.status, 200);
    assert.equal((await raw(c, 'GET', url, undefined, { 'If-None-Match': String(gv.headers.etag) })).status, 304);
  });

  it('malformed JSON is 400', async () => {
    expectStatus(await raw(c, 'POST', CM, '{"apiVersion": "v1", "kind": '), 400, 'BadRequest', /JSON/);
  });

  it('malformed YAML is 400', async () => {
    expectStatus(await raw(c, 'POST', CM, 'apiVersion: v1\nkind: [ConfigMap\n', { 'Content-Type': 'application/yaml' }), 400, 'BadRequest');
  });

  it('wrong types are 400', async () => {
    const r = await raw(c, 'POST', '/apis/apps/v1/namespaces/default/deployments', JSON.stringify({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' },
      spec: { replicas: 'three', selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } },
    }));
    expectStatus(r, 400, 'BadRequest', /replicas/);
  });

  it('unknown fields under Strict are 400; under Warn a warning header; Ignore silent', async () => {
    const body = (name: string) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: {}, bogus: 1 });
    expectStatus(await raw(c, 'POST', `${CM}?fieldValidation=Strict`, body('s')), 400, 'BadRequest', /unknown field "bogus"/);
    const dry = await raw(c, 'POST', `${CM}?fieldValidation=Warn&dryRun=All`, body('w'));
    assert.equal(dry.status, 201, dry.body);
    assert.match(String(dry.headers.warning), /^299 - "unknown field \\"bogus\\""$/);
    assert.equal(dry.json.bogus, undefined);
    expectStatus(await raw(c, 'POST', `${CM}?fieldValidation=Sloppy`, body('x')), 400, 'BadRequest', /fieldValidation/);
  });

  it('invalid names and missing images are 422 with field causes', async () => {
    const r = await raw(c, 'POST', CM, JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Bad_Name' } }));
    expectStatus(r, 422, 'Invalid', /ConfigMap "Bad_Name" is invalid/);
    assert.equal(r.json.details.causes[0].field, 'metadata.name');
    const p = await raw(c, 'POST', '/api/v1/namespaces/default/pods', JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', ports: [{ containerPort: 70000 }] }] } }));
    expectStatus(p, 422, 'Invalid');
    const fields = p.json.details.causes.map((x: any) => x.field);
    assert.ok(fields.includes('spec.containers[0].image'), JSON.stringify(fields));
    assert.ok(fields.some((f: string) => f.startsWith('spec.containers[0].ports[0].containerPort')), JSON.stringify(fields));
  });

  it('a protobuf body that does not decode is 400', async () => {
    const body = Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00]), Buffer.from([0x0a, 0x50, 0x01, 0x02])]);
    expectStatus(await raw(c, 'POST', CM, body, { 'Content-Type': 'application/vnd.kubernetes.protobuf' }), 400, 'BadRequest');
    expectStatus(await raw(c, 'POST', CM, Buffer.from('not protobuf at all'), { 'Content-Type': 'application/vnd.kubernetes.protobuf' }), 400, 'BadRequest');
  });

  it('bodies over 3 MiB are 413', async () => {
    const big = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big' }, data: { a: 'x'.repeat(3 * 1024 * 1024 + 10) } });
    expectStatus(await raw(c, 'POST', CM, big), 413, 'RequestEntityTooLarge');
  });

  it('wrong content types are 415', async () => {
    expectStatus(await raw(c, 'POST', CM, 'a=b', { 'Content-Type': 'text/plain' }), 415, 'UnsupportedMediaType');
    expectStatus(await raw(c, 'PATCH', `${CM}/keep`, '{}', { 'Content-Type': 'application/json' }), 415, 'UnsupportedMediaType');
  });

  it('paths that do not exist are 404; missing objects are 404 NotFound with details', async () => {
    expectStatus(await raw(c, 'GET', '/api/v1/namespaces/default/widgets'), 404, 'NotFound');
    expectStatus(await raw(c, 'GET', '/apis/nope.example.com/v1/things'), 404, 'NotFound');
    const r = await raw(c, 'GET', `${CM}/absent`);
    expectStatus(r, 404, 'NotFound', /configmaps "absent" not found/);
    assert.equal(r.json.details.name, 'absent');
    assert.equal(r.json.details.kind, 'configmaps');
  });

  it('stale updates are 409 Conflict; creating twice is 409 AlreadyExists', async () => {
    const cur = (await raw(c, 'GET', `${CM}/keep`)).json;
    const stale = { ...cur, metadata: { ...cur.metadata, resourceVersion: '1' }, data: { a: 'changed' } };
    expectStatus(await raw(c, 'PUT', `${CM}/keep`, JSON.stringify(stale)), 409, 'Conflict', /the object has been modified/);
    expectStatus(await raw(c, 'POST', CM, JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'keep' } })), 409, 'AlreadyExists');
  });

  it('bad selectors and parameters are 400', async () => {
    expectStatus(await raw(c, 'GET', `${CM}?labelSelector=${encodeURIComponent('a in (b')}`), 400, 'BadRequest');
    expectStatus(await raw(c, 'GET', `${CM}?fieldSelector=spec.nodeName%3Dx`), 400, 'BadRequest', /"spec.nodeName" is not a known field selector: only "metadata.name", "metadata.namespace"/);
    expectStatus(await raw(c, 'GET', `${CM}?limit=abc`), 400, 'BadRequest');
    expectStatus(await raw(c, 'GET', `${CM}?continue=garbage`), 400, 'BadRequest');
  });

  it('a namespace mismatch and a kind mismatch are 400', async () => {
    expectStatus(await raw(c, 'POST', CM, JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'other' } })), 400, 'BadRequest', /namespace/);
    expectStatus(await raw(c, 'POST', CM, JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } })), 400, 'BadRequest');
  });

  it('a bad JSON patch is rejected', async () => {
    const r = await raw(c, 'PATCH', `${CM}/keep`, '[{"op":"remove","path":"/data/nope"}]', { 'Content-Type': 'application/json-patch+json' });
    assert.ok(r.status >= 400 && r.status < 500, r.body);
    assert.equal(r.json?.kind, 'Status');
  });
});
