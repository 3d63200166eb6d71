/**
 * Pushes a built image to a registry with the distribution (OCI) v2 HTTP API:
 *   HEAD /v2/<name>/blobs/<digest>            200 → already there, skip
 *   POST /v2/<name>/blobs/uploads/            202 + Location (an upload session)
 *   PUT  <Location>[?&]digest=<digest>        201, the whole blob in one request (monolithic)
 *   PUT  /v2/<name>/manifests/<tag>           201, Content-Type = the manifest's media type
 * Blobs go before the manifest because a registry validates that a manifest's blobs exist.
 * No authentication: this is for keelson's own loopback registry.
 */
import { imageBlobs, type Blob, type BuiltImage } from './oci-image.js';

export interface PushResult {
  /** The manifest digest the registry acknowledged (Docker-Content-Digest). */
  digest: string;
  /** Blobs uploaded / skipped because the registry already had them. */
  uploaded: number;
  skipped: number;
}

const REPOSITORY_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

async function failure(what: string, res: Response): Promise<Error> {
  let body = '';
  try { body = (await res.text()).slice(0, 500); } catch { /* the status says enough */ }
  return new Error(`registry push: ${what} answered ${res.status} ${res.statusText}${body ? `: ${body.trim()}` : ''}`);
}

function bodyOf(data: Buffer): Uint8Array<ArrayBuffer> {
  // fetch wants a plain ArrayBuffer-backed view; Buffers may share Node's pool.
  const copy = new Uint8Array(new ArrayBuffer(data.length));
  copy.set(data);
  return copy;
}

async function pushBlob(base: string, repository: string, blob: Blob): Promise<boolean> {
  const head = await fetch(`${base}/v2/${repository}/blobs/${blob.digest}`, { method: 'HEAD' });
  if (head.ok) return false;
  if (head.status !== 404) throw await failure(`HEAD blob ${blob.digest}`, head);

  const start = await fetch(`${base}/v2/${repository}/blobs/uploads/`, { method: 'POST', headers: { 'Content-Length': '0' } });
  if (start.status !== 202) throw await failure(`POST ${repository} blob upload`, start);
  await start.body?.cancel();
  const location = start.headers.get('location');
  if (!location) throw new Error(`registry push: the upload of ${blob.digest} got no Location header`);
  const url = new URL(location, base + '/');
  url.searchParams.set('digest', blob.digest);
  const put = await fetch(url, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(blob.size) },
    body: bodyOf(blob.data),
  });
  if (put.status !== 201) throw await failure(`PUT blob ${blob.digest}`, put);
  await put.body?.cancel();
  return true;
}

/**
 * Pushes `image` as `<repository>:<tag>` to the registry at `registryBaseUrl`
 * (e.g. 'http://127.0.0.1:5000', repository 'library/busybox', tag 'latest').
 */
export async function pushImage(registryBaseUrl: string, repository: string, tag: string, image: BuiltImage): Promise<PushResult> {
  const base = registryBaseUrl.replace(/\/+$/, '');
  if (!REPOSITORY_RE.test(repository)) throw new Error(`registry push: repository name ${JSON.stringify(repository)} is not valid`);
  if (!TAG_RE.test(tag)) throw new Error(`registry push: tag ${JSON.stringify(tag)} is not valid`);

  let uploaded = 0;
  let skipped = 0;
  for (const blob of imageBlobs(image)) {
    if (blob === image.manifest) continue;
    if (await pushBlob(base, repository, blob)) uploaded++;
    else skipped++;
  }
  const res = await fetch(`${base}/v2/${repository}/manifests/${tag}`, {
    method: 'PUT',
    headers: { 'Content-Type': image.manifest.mediaType, 'Content-Length': String(image.manifest.size) },
    body: bodyOf(image.manifest.data),
  });
  if (res.status !== 201) throw await failure(`PUT manifest ${repository}:${tag}`, res);
  await res.body?.cancel();
  const digest = res.headers.get('docker-content-digest') ?? image.digest;
  if (digest !== image.digest) {
    throw new Error(`registry push: ${repository}:${tag} was stored as ${digest}, expected ${image.digest}`);
  }
  return { digest, uploaded, skipped };
}
