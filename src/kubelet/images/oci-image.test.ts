import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  buildImage, ociArchitecture, withParentDirectories, writeOciArchive,
  MEDIA_TYPE_OCI_CONFIG, MEDIA_TYPE_OCI_LAYER_GZIP, MEDIA_TYPE_OCI_MANIFEST, MEDIA_TYPE_OCI_INDEX,
  type ImageSpec,
} from './oci-image.js';

const hasTar = (() => { try { execFileSync('tar', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; } })();
const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');

const spec: ImageSpec = {
  layers: [
    [{ type: 'file', path: 'bin/tool', data: '#!/bin/sh\necho hi\n', mode: 0o755 }, { type: 'dir', path: 'tmp', mode: 0o1777 }],
    [{ type: 'file', path: 'app/deep/config.txt', data: 'x=1\n' }, { type: 'symlink', path: 'app/current', target: 'deep' }],
  ],
  config: { Entrypoint: ['/bin/tool'], Cmd: ['--flag'], Env: ['PATH=/bin'], ExposedPorts: { '8080/tcp': {} }, WorkingDir: '/app', User: '65534', Labels: { a: 'b' } },
  history: ['base', 'app'],
};

test('ociArchitecture maps Node names to OCI (GOARCH) names', () => {
  assert.equal(ociArchitecture('x64'), 'amd64');
  assert.equal(ociArchitecture('arm64'), 'arm64');
  assert.throws(() => ociArchitecture('vax'), /no OCI architecture/);
});

test('withParentDirectories adds missing parents once and lets an explicit dir set its mode', () => {
  const out = withParentDirectories([
    { type: 'file', path: 'a/b/c', data: '' },
    { type: 'dir', path: 'a', mode: 0o700 },
    { type: 'file', path: 'a/b/d', data: '' },
  ]);
  assert.deepEqual(out.map((e) => [e.type, e.path, e.mode]), [
    ['dir', 'a', 0o700], ['dir', 'a/b', 0o755], ['file', 'a/b/c', undefined], ['file', 'a/b/d', undefined],
  ]);
  assert.throws(() => withParentDirectories([{ type: 'file', path: 'x', data: '' }, { type: 'file', path: '/x', data: '' }]), /two entries/);
});

test('buildImage: digests, diffIDs, config and manifest', () => {
  const img = buildImage(spec);
  const again = buildImage(spec);
  assert.equal(img.digest, again.digest, 'same spec, same manifest digest');
  assert.deepEqual(img.layers.map((l) => l.digest), again.layers.map((l) => l.digest));

  for (const l of img.layers) {
    assert.equal(l.mediaType, MEDIA_TYPE_OCI_LAYER_GZIP);
    assert.equal(l.digest, sha(l.data));
    assert.equal(l.size, l.data.length);
    assert.equal(l.diffID, sha(gunzipSync(l.data)));
  }
  assert.equal(img.config.mediaType, MEDIA_TYPE_OCI_CONFIG);
  assert.equal(img.config.digest, sha(img.config.data));
  const config = JSON.parse(img.config.data.toString());
  assert.equal(config.architecture, ociArchitecture());
  assert.equal(config.os, 'linux');
  assert.deepEqual(config.rootfs, { type: 'layers', diff_ids: img.layers.map((l) => l.diffID) });
  assert.deepEqual(config.config, spec.config);
  assert.deepEqual(config.history.map((h: { created_by: string }) => h.created_by), ['base', 'app']);

  assert.equal(img.manifest.digest, img.digest);
  assert.equal(img.manifest.digest, sha(img.manifest.data));
  const manifest = JSON.parse(img.manifest.data.toString());
  assert.equal(manifest.schemaVersion, 2);
  assert.equal(manifest.mediaType, MEDIA_TYPE_OCI_MANIFEST);
  assert.deepEqual(manifest.config, { mediaType: MEDIA_TYPE_OCI_CONFIG, digest: img.config.digest, size: img.config.size });
  assert.deepEqual(manifest.layers, img.layers.map((l) => ({ mediaType: MEDIA_TYPE_OCI_LAYER_GZIP, digest: l.digest, size: l.size })));

  // A different config changes the image but not the layers.
  const other = buildImage({ ...spec, config: { ...spec.config, Cmd: ['--other'] } });
  assert.notEqual(other.digest, img.digest);
  assert.deepEqual(other.layers.map((l) => l.digest), img.layers.map((l) => l.digest));
  assert.throws(() => buildImage({ layers: [], config: {} }), /at least one layer/);
});

test('writeOciArchive writes an OCI image layout named with the full ref', { skip: !hasTar && 'tar is not installed' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keelson-oci-'));
  try {
    const img = buildImage(spec);
    const file = join(dir, 'out', 'img.tar');
    await writeOciArchive(img, 'docker.io/example/app:1.0', file);
    const names = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).trim().split('\n');
    assert.deepEqual(names.slice(0, 4), ['oci-layout', 'index.json', 'blobs/', 'blobs/sha256/']);
    const x = join(dir, 'x');
    execFileSync('mkdir', ['-p', x]);
    execFileSync('tar', ['-xf', file, '-C', x]);
    assert.deepEqual(JSON.parse(readFileSync(join(x, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(readFileSync(join(x, 'index.json'), 'utf8'));
    assert.equal(index.mediaType, MEDIA_TYPE_OCI_INDEX);
    assert.equal(index.manifests.length, 1);
    const d = index.manifests[0];
    assert.equal(d.digest, img.digest);
    assert.equal(d.mediaType, MEDIA_TYPE_OCI_MANIFEST);
    assert.equal(d.annotations['io.containerd.image.name'], 'docker.io/example/app:1.0');
    assert.equal(d.annotations['org.opencontainers.image.ref.name'], 'docker.io/example/app:1.0');
    assert.deepEqual(d.platform, { architecture: ociArchitecture(), os: 'linux' });
    // Every blob is stored under its own digest.
    const blobs = readdirSync(join(x, 'blobs/sha256'));
    assert.deepEqual(blobs.sort(), [img.manifest, img.config, ...img.layers].map((b) => b.digest.slice(7)).sort());
    for (const hex of blobs) assert.equal(sha(readFileSync(join(x, 'blobs/sha256', hex))), `sha256:${hex}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
