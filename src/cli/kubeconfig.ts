/**
 * kubeconfig files for talking to a keelson cluster with kubectl and client libraries.
 *
 * adminKubeconfig() renders one cluster, one user and one context (current-context set) with
 * embedded, base64 credentials. writeKubeconfig() writes it as a private file;
 * mergeIntoKubeconfig() folds it into an existing file such as ~/.kube/config the way
 * `kubectl config set-*` would: entries with the same name are replaced, others are kept, and
 * current-context switches to the new context.
 */

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMap, isSeq, parse, parseDocument, stringify, type Document } from 'yaml';

export interface KubeconfigOptions {
  /** https://host:port of the API server. */
  server: string;
  /** PEM of the CA that signed the serving certificate. */
  caPem: string;
  /** Client certificate and key (PEM), for x509 authentication. */
  certPem?: string;
  keyPem?: string;
  /** Bearer token, for token authentication. */
  token?: string;
  clusterName?: string;
  userName?: string;
  contextName?: string;
  /** Namespace the context defaults to (omitted when not given, i.e. "default"). */
  namespace?: string;
}

export const DEFAULT_CLUSTER_NAME = 'keelson';
export const DEFAULT_USER_NAME = 'keelson-admin';
export const DEFAULT_CONTEXT_NAME = 'keelson';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** A kubeconfig (YAML) with the given cluster, user and context, the context current. */
export function adminKubeconfig(opts: KubeconfigOptions): string {
  if ((opts.certPem === undefined) !== (opts.keyPem === undefined)) throw new Error('kubeconfig: certPem and keyPem go together');
  if (opts.certPem === undefined && opts.token === undefined) throw new Error('kubeconfig: needs a client certificate or a token');
  const clusterName = opts.clusterName ?? DEFAULT_CLUSTER_NAME;
  const userName = opts.userName ?? DEFAULT_USER_NAME;
  const contextName = opts.contextName ?? DEFAULT_CONTEXT_NAME;
  const user: Record<string, string> = {};
  if (opts.certPem !== undefined && opts.keyPem !== undefined) {
    user['client-certificate-data'] = b64(opts.certPem);
    user['client-key-data'] = b64(opts.keyPem);
  }
  if (opts.token !== undefined) user.token = opts.token;
  const context: Record<string, string> = { cluster: clusterName, user: userName };
  if (opts.namespace) context.namespace = opts.namespace;
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: clusterName, cluster: { server: opts.server, 'certificate-authority-data': b64(opts.caPem) } }],
    contexts: [{ name: contextName, context }],
    'current-context': contextName,
    preferences: {},
    users: [{ name: userName, user }],
  };
  return stringify(config, { lineWidth: 0 });
}

/** Writes a kubeconfig readable only by its owner (0600), creating parent directories (0700). */
export function writeKubeconfig(file: string, yaml: string): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  try {
    fs.writeFileSync(tmp, yaml.endsWith('\n') ? yaml : `${yaml}\n`, { mode: 0o600 });
    fs.chmodSync(tmp, 0o600);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

const SECTIONS = ['clusters', 'users', 'contexts'] as const;

/**
 * Merges the clusters, users and contexts of `yaml` into the kubeconfig at `file` (replacing
 * same-named entries, keeping all others and the file's comments), sets current-context to
 * `yaml`'s, and writes it back with mode 0600. A missing or empty file is created. A file that
 * is not a kubeconfig mapping is left alone and an error is thrown.
 */
export function mergeIntoKubeconfig(file: string, yaml: string): void {
  const incoming = parse(yaml) as Record<string, unknown> | null;
  if (!incoming || typeof incoming !== 'object') throw new Error('kubeconfig to merge is empty');

  let existing: string | undefined;
  try {
    existing = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (existing === undefined || existing.trim() === '') {
    writeKubeconfig(file, yaml);
    return;
  }

  const doc: Document = parseDocument(existing);
  if (doc.errors.length) throw new Error(`${file}: not valid YAML: ${doc.errors[0].message}`);
  if (doc.contents === null || doc.contents === undefined) doc.contents = doc.createNode({}) as Document['contents'];
  if (!isMap(doc.contents)) throw new Error(`${file}: not a kubeconfig (top level is not a mapping)`);
  if (!doc.has('apiVersion')) doc.set('apiVersion', 'v1');
  if (!doc.has('kind')) doc.set('kind', 'Config');

  for (const section of SECTIONS) {
    const entries = incoming[section];
    if (!Array.isArray(entries)) continue;
    let seq = doc.get(section, true);
    if (!isSeq(seq)) {
      seq = doc.createNode([]);
      doc.set(section, seq);
    }
    if (!isSeq(seq)) continue;
    for (const entry of entries as Array<{ name?: unknown }>) {
      const node = doc.createNode(entry);
      const idx = seq.items.findIndex((item) => isMap(item) && item.get('name') === entry.name);
      if (idx >= 0) seq.items[idx] = node;
      else seq.items.push(node);
    }
  }
  if (typeof incoming['current-context'] === 'string') doc.set('current-context', incoming['current-context']);

  writeKubeconfig(file, doc.toString({ lineWidth: 0 }));
}
