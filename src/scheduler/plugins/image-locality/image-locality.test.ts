import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CycleState } from '../../framework.js';
import { makeCache, makeNode, nodeInfoOf, podInfo } from '../../testing.js';
import { ImageLocality, normalizeImageName } from './image-locality.js';

test('image names normalize', () => {
  assert.equal(normalizeImageName('nginx'), 'nginx:latest');
  assert.equal(normalizeImageName('docker.io/library/nginx:1.25'), 'nginx:1.25');
  assert.equal(normalizeImageName('registry:5000/app'), 'registry:5000/app:latest');
  assert.equal(normalizeImageName('app@sha256:abc'), 'app@sha256:abc');
});

test('ImageLocality prefers nodes that have the image, scaled by spread', () => {
  const big = 500 * 1024 * 1024;
  const cache = makeCache([
    makeNode('has', { images: [{ names: ['docker.io/library/bigimage:latest'], sizeBytes: big }] }),
    makeNode('hasnot'),
  ]);
  const pl = new ImageLocality(() => cache.numNodes);
  const p = podInfo('p', { image: 'bigimage' });
  const st = new CycleState();
  const has = pl.score(st, p, nodeInfoOf(cache, 'has'));
  assert.ok(has > 0, `score ${has}`);
  assert.equal(pl.score(st, p, nodeInfoOf(cache, 'hasnot')), 0);
  // 500MiB × 1/2 spread = 250MiB → (250-23)/(1000-23) × 100 = 23
  assert.equal(has, 23);
});
