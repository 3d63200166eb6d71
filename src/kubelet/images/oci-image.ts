/**
 * Builds OCI images in memory and writes them as OCI image-layout archives.
 *
 * Facts followed (OCI image-spec v1.0/1.1): a layer blob is a gzipped tar whose descriptor digest
 * is the sha256 of the compressed bytes, while the config's `rootfs.diff_ids` lists the sha256 of
 * each *uncompressed* tar; the manifest (application/vnd.oci.image.manifest.v1+json) references
 * the config and the layers by descriptor; an image layout is `oci-layout` + `index.json` +
 * `blobs/<alg>/<hex>`. containerd's importer names the image after the index descriptor's
 * `io.containerd.image.name` annotation (falling back to `org.opencontainers.image.ref.name`).
 *
 * Everything is deterministic: fixed tar mtimes, a fixed `created` time, gzip without a file name
 * or timestamp, and JSON written with a fixed key order — so the same inputs give the same digests.
 */
import { createHash } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createTar, normalizeTarPath, TAR_EPOCH, type TarEntry } from './tar.js';

export const MEDIA_TYPE_OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const MEDIA_TYPE_OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const MEDIA_TYPE_OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const MEDIA_TYPE_OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
/** Index annotation containerd reads as the image name on import. */
export const ANNOTATION_CONTAINERD_IMAGE_NAME = 'io.containerd.image.name';
/** OCI's standard reference-name annotation. */
export const ANNOTATION_OCI_REF_NAME = 'org.opencontainers.image.ref.name';

/** One entry of a layer: a file, directory or symlink (see tar.ts). */
export type LayerEntry = TarEntry;

/** The subset of the OCI image config's `config` object keelson sets. */
export interface ImageRunConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  ExposedPorts?: Record<string, {}>;
  User?: string;
  Labels?: Record<string, string>;
}

export interface ImageSpec {
  /** Layers, lowest first; each is a list of entries. Missing parent directories are added (0755). */
  layers: LayerEntry[][];
  config: ImageRunConfig;
  /** `created_by` text per layer for the config's history (optional, same order as layers). */
  history?: string[];
}

/** A content-addressed blob with its bytes. */
export interface Blob {
  mediaType: string;
  /** `sha256:<hex>` of `data`. */
  digest: string;
  size: number;
  data: Buffer;
}

export interface BuiltLayer extends Blob {
  /** `sha256:<hex>` of the uncompressed tar (the config's rootfs.diff_ids entry). */
  diffID: string;
}

export interface Platform { architecture: string; os: 'linux' }

export interface BuiltImage {
  manifest: Blob;
  config: Blob;
  layers: BuiltLayer[];
  platform: Platform;
  /** The manifest digest: the image's identity (what a registry answers in Docker-Content-Digest). */
  digest: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

/** The fixed `created` time of every image (matches the tar entries' mtime). */
export const IMAGE_CREATED = new Date(TAR_EPOCH * 1000).toISOString().replace('.000Z', 'Z');

export function sha256Digest(data: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

/** GOARCH-style architecture name for a Node `process.arch`. */
export function ociArchitecture(arch: string = process.arch): string {
  const map: Record<string, string> = {
    x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x',
    riscv64: 'riscv64', loong64: 'loong64', mips: 'mips', mipsel: 'mipsle',
  };
  const out = map[arch];
  if (!out) throw new Error(`no OCI architecture name is known for Node's process.arch ${JSON.stringify(arch)}`);
  return out;
}

function blobOf(mediaType: string, data: Buffer): Blob {
  return { mediaType, digest: sha256Digest(data), size: data.length, data };
}

function descriptorOf(b: Blob): Descriptor {
  return { mediaType: b.mediaType, digest: b.digest, size: b.size };
}

/** Adds missing parent directories before their first child, keeping the given order otherwise. */
export function withParentDirectories(entries: readonly LayerEntry[]): LayerEntry[] {
  const seen = new Set<string>();
  const out: LayerEntry[] = [];
  for (const e of entries) {
    const path = normalizeTarPath(e.path);
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      if (!seen.has(parent)) {
        seen.add(parent);
        out.push({ type: 'dir', path: parent, mode: 0o755 });
      }
    }
    if (seen.has(path)) {
      if (e.type === 'dir') {
        // A later explicit directory entry (e.g. with mode 1777) replaces the implied one.
        const i = out.findIndex((o) => normalizeTarPath(o.path) === path);
        if (i >= 0 && out[i].type === 'dir') { out[i] = { ...e, path }; continue; }
      }
      throw new Error(`layer has two entries for ${JSON.stringify(path)}`);
    }
    seen.add(path);
    out.push({ ...e, path });
  }
  return out;
}

/** Builds layers, config and manifest. Same spec in, same digests out. */
export function buildImage(spec: ImageSpec): BuiltImage {
  if (spec.layers.length === 0) throw new Error('an image needs at least one layer');
  const layers: BuiltLayer[] = spec.layers.map((entries) => {
    const tar = createTar(withParentDirectories(entries));
    // gzip's header carries mtime 0 and no name here, so the compressed bytes are stable too.
    const gz = gzipSync(tar, { level: 9 });
    return { ...blobOf(MEDIA_TYPE_OCI_LAYER_GZIP, gz), diffID: sha256Digest(tar) };
  });
  const platform: Platform = { architecture: ociArchitecture(), os: 'linux' };

  const c = spec.config;
  const runConfig: Record<string, unknown> = {};
  // Key order fixed (as the spec lists them) so the JSON, and its digest, never varies.
  if (c.User !== undefined) runConfig.User = c.User;
  if (c.ExposedPorts !== undefined) runConfig.ExposedPorts = c.ExposedPorts;
  if (c.Env !== undefined) runConfig.Env = c.Env;
  if (c.Entrypoint !== undefined) runConfig.Entrypoint = c.Entrypoint;
  if (c.Cmd !== undefined) runConfig.Cmd = c.Cmd;
  if (c.WorkingDir !== undefined) runConfig.WorkingDir = c.WorkingDir;
  if (c.Labels !== undefined) runConfig.Labels = c.Labels;

  const configJson = {
    created: IMAGE_CREATED,
    architecture: platform.architecture,
    os: platform.os,
    config: runConfig,
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffID) },
    history: layers.map((_, i) => ({
      created: IMAGE_CREATED,
      created_by: spec.history?.[i] ?? `keelson image layer ${i}`,
    })),
  };
  const config = blobOf(MEDIA_TYPE_OCI_CONFIG, Buffer.from(JSON.stringify(configJson)));
  const manifestJson = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_OCI_MANIFEST,
    config: descriptorOf(config),
    layers: layers.map(descriptorOf),
  };
  const manifest = blobOf(MEDIA_TYPE_OCI_MANIFEST, Buffer.from(JSON.stringify(manifestJson)));
  return { manifest, config, layers, platform, digest: manifest.digest };
}

/** Every blob of the image (layers, config, manifest), each once. */
export function imageBlobs(image: BuiltImage): Blob[] {
  const byDigest = new Map<string, Blob>();
  for (const b of [...image.layers, image.config, image.manifest]) if (!byDigest.has(b.digest)) byDigest.set(b.digest, b);
  return [...byDigest.values()];
}

/** The OCI image-layout archive (a tar) for one image named `ref` (e.g. 'docker.io/library/busybox:latest'). */
export function ociArchive(image: BuiltImage, ref: string): Buffer {
  if (!ref || /\s/.test(ref)) throw new Error(`image reference ${JSON.stringify(ref)} is not valid`);
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_OCI_INDEX,
    manifests: [{
      ...descriptorOf(image.manifest),
      platform: image.platform,
      annotations: { [ANNOTATION_CONTAINERD_IMAGE_NAME]: ref, [ANNOTATION_OCI_REF_NAME]: ref },
    }],
  };
  const entries: TarEntry[] = [
    { type: 'file', path: 'oci-layout', data: JSON.stringify({ imageLayoutVersion: '1.0.0' }) },
    { type: 'file', path: 'index.json', data: JSON.stringify(index) },
    { type: 'dir', path: 'blobs' },
    { type: 'dir', path: 'blobs/sha256' },
  ];
  for (const b of imageBlobs(image)) {
    entries.push({ type: 'file', path: `blobs/sha256/${b.digest.slice('sha256:'.length)}`, data: b.data, mode: 0o444 });
  }
  return createTar(entries);
}

/** Writes {@link ociArchive} to `path` (atomically: a temporary file renamed into place). */
export async function writeOciArchive(image: BuiltImage, ref: string, path: string): Promise<void> {
  const data = ociArchive(image, ref);
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}
