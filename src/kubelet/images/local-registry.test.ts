import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCatalogImage, locateBusybox } from './catalog.js';
import { DOCKER_REGISTRY_BINARY, LocalRegistry } from './local-registry.js';
import { MEDIA_TYPE_OCI_MANIFEST } from './oci-image.js';
import { pushImage } from './registry-push.js';

const hasBusybox = (() => { try { locateBusybox(); return true; } catch { return false; } })();
const skip = (!hasBusybox && 'busybox-static is not installed')
  || (!existsSync(DOCKER_REGISTRY_BINARY) && 'docker-registry is not installed (apt-get install -y docker-registry)');
const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');

test('LocalRegistry without the binary says how to install it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keelson-registry-'));
  try {
    const r = new LocalRegistry({ dir, binary: '/nonexistent/docker-registry' });
    await assert.rejects(r.start(), /apt-get install -y docker-registry/);
    assert.throws(() => r.url, /not started/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('push to a LocalRegistry and read the manifest back by tag', { skip, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keelson-registry-'));
  const registry = new LocalRegistry({ dir });
  try {
    await registry.start();
    assert.match(registry.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(registry.port > 0 && registry.pid);

    const busybox = buildCatalogImage('busybox');
    const first = await pushImage(registry.url, 'library/busybox', 'latest', busybox);
    const blobs = busybox.layers.length + 1; // layers and the config
    assert.deepEqual(first, { digest: busybox.digest, uploaded: blobs, skipped: 0 });
    const again = await pushImage(registry.url, 'library/busybox', 'latest', busybox);
    assert.deepEqual(again, { digest: busybox.digest, uploaded: 0, skipped: blobs }, 'HEAD finds existing blobs');

    const res = await fetch(`${registry.url}/v2/library/busybox/manifests/latest`, { headers: { Accept: MEDIA_TYPE_OCI_MANIFEST } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), MEDIA_TYPE_OCI_MANIFEST);
    assert.equal(res.headers.get('docker-content-digest'), busybox.digest);
    const body = Buffer.from(await res.arrayBuffer());
    assert.equal(sha(body), busybox.digest);
    assert.ok(body.equals(busybox.manifest.data));

    const layer = busybox.layers[0];
    const blob = await fetch(`${registry.url}/v2/library/busybox/blobs/${layer.digest}`);
    assert.equal(blob.status, 200);
    assert.equal(sha(Buffer.from(await blob.arrayBuffer())), layer.digest);

    await assert.rejects(pushImage(registry.url, 'Bad/Name', 'latest', busybox), /repository name/);
    await assert.rejects(pushImage(registry.url, 'library/busybox', 'bad tag', busybox), /tag/);

    await registry.seedCatalog();
    const kubia = buildCatalogImage('kubia');
    for (const [repo, tag, digest] of [['luksa/kubia', 'latest', kubia.digest], ['library/busybox', '1.36', busybox.digest]]) {
      const r = await fetch(`${registry.url}/v2/${repo}/manifests/${tag}`, { method: 'HEAD', headers: { Accept: MEDIA_TYPE_OCI_MANIFEST } });
      assert.equal(r.status, 200, `${repo}:${tag}`);
      assert.equal(r.headers.get('docker-content-digest'), digest);
    }
    const catalog = await (await fetch(`${registry.url}/v2/_catalog`)).json() as { repositories: string[] };
    assert.deepEqual(catalog.repositories.sort(), ['library/busybox', 'luksa/kubia']);

    const pid = registry.pid!;
    const url = registry.url;
    await registry.stop();
    assert.throws(() => process.kill(pid, 0), /ESRCH/);
    await assert.rejects(fetch(`${url}/v2/`));
    await registry.stop(); // twice is fine
  } finally {
    await registry.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a LocalRegistry keeps its content across restarts on a fixed port', { skip, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keelson-registry-'));
  const a = new LocalRegistry({ dir });
  try {
    await a.start();
    const port = a.port;
    const pause = buildCatalogImage('pause');
    await pushImage(a.url, 'keelson/pause', '3.10', pause);
    await a.stop();
    const b = new LocalRegistry({ dir, port });
    try {
      await b.start();
      assert.equal(b.port, port);
      const r = await fetch(`${b.url}/v2/keelson/pause/manifests/3.10`, { method: 'HEAD', headers: { Accept: MEDIA_TYPE_OCI_MANIFEST } });
      assert.equal(r.headers.get('docker-content-digest'), pause.digest);
      // A second registry on the same port fails with the log in the error.
      const c = new LocalRegistry({ dir: join(dir, 'other'), port, startTimeoutMs: 5000 });
      await assert.rejects(c.start(), /image registry on port/);
      await c.stop();
    } finally {
      await b.stop();
    }
  } finally {
    await a.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
