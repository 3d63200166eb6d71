/**
 * Reading and decoding request bodies: a 3 MiB limit (as the real API server), JSON or YAML by
 * Content-Type. Every failure is a Status error; nothing is written on a bad body.
 */
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import { parseAllDocuments } from 'yaml';
import { badRequest, tooLarge, unsupportedMediaType } from '../../apimachinery/errors.js';
import { decodeProtobufObject } from '../../apimachinery/protobuf/decode.js';

export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export function readBody(req: IncomingMessage | Http2ServerRequest, limit = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) { req.resume(); reject(tooLarge()); return; }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) { failed = true; reject(tooLarge()); return; }
      chunks.push(c);
    });
    req.on('end', () => { if (!failed) resolve(Buffer.concat(chunks)); });
    req.on('error', (e) => { if (!failed) { failed = true; reject(e); } });
  });
}

export const mediaType = (ct: string | undefined) => (ct ?? '').split(';')[0].trim().toLowerCase();

export function parseJSON(buf: Buffer, what = 'request body'): unknown {
  const text = buf.toString('utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`error decoding ${what}: ${(e as Error).message}`);
  }
}

export function parseYAML(buf: Buffer): unknown {
  // kubectl sends apply patches as JSON (a subset of YAML): parse those with the JSON parser,
  // which is an order of magnitude faster than the YAML one.
  let i = 0;
  while (i < buf.length && (buf[i] === 0x20 || buf[i] === 0x0a || buf[i] === 0x0d || buf[i] === 0x09)) i++;
  if (buf[i] === 0x7b) {
    try { return JSON.parse(buf.toString('utf8')); } catch { /* not JSON: YAML below reports the error */ }
  }
  const docs = parseAllDocuments(buf.toString('utf8'), { uniqueKeys: false });
  const list = Array.isArray(docs) ? docs : [docs];
  const real = list.filter((d) => d.contents !== null);
  if (real.length !== 1) throw badRequest(`error decoding YAML: expected exactly one document, got ${real.length}`);
  if (real[0].errors.length) throw badRequest(`error converting YAML to JSON: ${real[0].errors[0].message}`);
  return real[0].toJS({ maxAliasCount: 100 });
}

/** Decodes a create/update body by its Content-Type. */
export function decodeObjectBody(buf: Buffer, contentType: string | undefined): unknown {
  const mt = mediaType(contentType);
  if (buf.length === 0) throw badRequest('the request body is empty; an object is required');
  if (mt === '' || mt === 'application/json' || mt === '*/*') return parseJSON(buf, 'JSON body');
  if (mt === 'application/yaml') return parseYAML(buf);
  // client-go ≥ 1.31 typed clients (kubectl create <generator>, auth can-i/whoami) send protobuf.
  if (mt === 'application/vnd.kubernetes.protobuf') return decodeProtobufObject(buf).object;
  throw unsupportedMediaType(`the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`);
}
