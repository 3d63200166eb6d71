/**
 * The cluster's certificates: a CA, the API server's serving certificate, an admin client
 * certificate and a static admin bearer token, kept as files in one directory.
 *
 * Layout of `dir` (keys and token mode 0600, certificates 0644):
 *   ca.crt ca.key           cluster CA, CN=keelson-ca, 10 years; never regenerated once present
 *   server.crt server.key   serving cert, CN=kube-apiserver, serverAuth, DNS+IP SANs, 1 year
 *   admin.crt admin.key     client cert, CN=kubernetes-admin O=system:masters, clientAuth, 1 year
 *   admin.token             random static bearer token for the admin
 *
 * Keys are ECDSA P-256 (PKCS#8 PEM) signed with ECDSA-SHA256: accepted by Node's TLS, by Go's
 * crypto/tls (kubectl, client-go) and by OpenSSL. A CA brought from elsewhere may be RSA or
 * ECDSA; leaves are then signed with what that key supports.
 *
 * ensurePki() is idempotent: on later starts it reuses everything that is still good and
 * re-issues a leaf certificate when it is missing, does not match its key, is not signed by the
 * current CA, expires within 30 days, or (serving cert) its SANs differ from `hosts`.
 *
 * Client certificate → user mapping follows Kubernetes' x509 authenticator: CN is the user name,
 * each O is a group (subjectFromCert).
 */

import * as crypto from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { PeerCertificate } from 'node:tls';
import type * as X509 from '@peculiar/x509';
import { readIfExists, writeAtomic } from './files.js';

export interface Pki {
  dir: string;
  caCertPem: string;
  caKeyPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  adminCertPem: string;
  adminKeyPem: string;
  adminToken: string;
  /** Files (base names) this call created or re-issued; empty when everything was reused. */
  written: string[];
}

export const ADMIN_USER = 'kubernetes-admin';
export const ADMIN_GROUPS = ['system:masters'];
const CA_CN = 'keelson-ca';
const SERVER_CN = 'kube-apiserver';

const DAY = 24 * 60 * 60 * 1000;
const CA_VALIDITY_DAYS = 3650;
const LEAF_VALIDITY_DAYS = 365;
const RENEW_BEFORE_DAYS = 30;
/** Backdate notBefore a little so a peer with a slightly slow clock accepts new certificates. */
const BACKDATE_MS = 5 * 60 * 1000;

// ---------------------------------------------------------------------------------------------
// @peculiar/x509 loading. Its dependency injection (tsyringe) insists on a Reflect metadata
// polyfill being present before it loads; none is installed, and tsyringe only needs the API to
// exist (x509 declares no constructor parameter metadata), so a tiny store is provided when no
// real polyfill is loaded. It is imported lazily so the shim is in place first.

function installReflectMetadataShim(): void {
  const R = Reflect as unknown as Record<string, unknown>;
  if (typeof R.getMetadata === 'function') return;
  const store = new WeakMap<object, Map<PropertyKey | undefined, Map<unknown, unknown>>>();
  const table = (target: object, prop: PropertyKey | undefined, create: boolean) => {
    let byProp = store.get(target);
    if (!byProp) { if (!create) return undefined; byProp = new Map(); store.set(target, byProp); }
    let m = byProp.get(prop);
    if (!m) { if (!create) return undefined; m = new Map(); byProp.set(prop, m); }
    return m;
  };
  const getOwn = (key: unknown, target: object, prop?: PropertyKey) => table(target, prop, false)?.get(key);
  const hasOwn = (key: unknown, target: object, prop?: PropertyKey) => table(target, prop, false)?.has(key) ?? false;
  const has = (key: unknown, target: object, prop?: PropertyKey): boolean => {
    for (let t: object | null = target; t; t = Object.getPrototypeOf(t)) if (hasOwn(key, t, prop)) return true;
    return false;
  };
  const get = (key: unknown, target: object, prop?: PropertyKey): unknown => {
    for (let t: object | null = target; t; t = Object.getPrototypeOf(t)) if (hasOwn(key, t, prop)) return getOwn(key, t, prop);
    return undefined;
  };
  const define = (key: unknown, value: unknown, target: object, prop?: PropertyKey) => { table(target, prop, true)!.set(key, value); };
  Object.assign(R, {
    defineMetadata: define,
    getOwnMetadata: getOwn,
    getMetadata: get,
    hasOwnMetadata: hasOwn,
    hasMetadata: has,
    deleteMetadata: (key: unknown, target: object, prop?: PropertyKey) => table(target, prop, false)?.delete(key) ?? false,
    metadata: (key: unknown, value: unknown) => (target: object, prop?: PropertyKey) => define(key, value, target, prop),
  });
}

let x509Loaded: Promise<typeof X509> | undefined;
function x509(): Promise<typeof X509> {
  x509Loaded ??= (async () => {
    installReflectMetadataShim();
    const mod = await import('@peculiar/x509');
    mod.cryptoProvider.set(crypto.webcrypto as unknown as Crypto);
    return mod;
  })();
  return x509Loaded;
}

const subtle = crypto.webcrypto.subtle;

// ---------------------------------------------------------------------------------------------
// Keys

interface Signer {
  key: CryptoKey;
  /** Signature algorithm for certificates this key signs. */
  signingAlgorithm: Algorithm | EcdsaParams;
}

function toPem(der: ArrayBuffer | Uint8Array, label: string): string {
  const b64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** A fresh ECDSA P-256 key pair; the private key as PKCS#8 PEM. */
async function newLeafKey(): Promise<{ keys: CryptoKeyPair; keyPem: string }> {
  const keys = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']) as CryptoKeyPair;
  const der = await subtle.exportKey('pkcs8', keys.privateKey);
  return { keys, keyPem: toPem(der, 'PRIVATE KEY') };
}

const EC_CURVES: Record<string, { namedCurve: string; hash: string }> = {
  prime256v1: { namedCurve: 'P-256', hash: 'SHA-256' },
  secp384r1: { namedCurve: 'P-384', hash: 'SHA-384' },
  secp521r1: { namedCurve: 'P-521', hash: 'SHA-512' },
};

/** Imports a PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC) as a WebCrypto signing key. */
async function signerFromPem(pem: string): Promise<Signer> {
  const ko = crypto.createPrivateKey(pem);
  const der = ko.export({ type: 'pkcs8', format: 'der' });
  if (ko.asymmetricKeyType === 'ec') {
    const curve = EC_CURVES[ko.asymmetricKeyDetails?.namedCurve ?? ''];
    if (!curve) throw new Error(`unsupported EC curve ${ko.asymmetricKeyDetails?.namedCurve}`);
    const key = await subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: curve.namedCurve }, true, ['sign']);
    return { key, signingAlgorithm: { name: 'ECDSA', hash: curve.hash } as EcdsaParams };
  }
  if (ko.asymmetricKeyType === 'rsa') {
    const key = await subtle.importKey('pkcs8', der, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, ['sign']);
    return { key, signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5' } };
  }
  throw new Error(`unsupported CA key type ${ko.asymmetricKeyType}`);
}

/** A positive random 128-bit serial number (Go rejects negative serials). */
function serialNumber(): string {
  const b = crypto.randomBytes(16);
  b[0] = (b[0] & 0x7f) | 0x01;
  return b.toString('hex');
}

// ---------------------------------------------------------------------------------------------
// Certificates

interface LeafSpec {
  cn: string;
  orgs?: string[];
  usage: 'server' | 'client';
  /** DNS names and IP addresses (server certificates). */
  hosts?: string[];
  days?: number;
}

export interface CaMaterial { certPem: string; keyPem: string }

function sanJson(hosts: string[]): X509.JsonGeneralNames {
  const dns = new Set<string>();
  const ips = new Set<string>();
  for (let h of hosts) {
    h = h.trim();
    if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
    if (!h) continue;
    if (net.isIP(h)) ips.add(h);
    else dns.add(h.toLowerCase());
  }
  return [...[...dns].sort().map((value) => ({ type: 'dns' as const, value })), ...[...ips].map((value) => ({ type: 'ip' as const, value }))];
}

/** A new self-signed CA (ECDSA P-256, 10 years). Exported for self-signed serving certificates (kubelet). */
export async function createCa(cn: string = CA_CN): Promise<CaMaterial> {
  const x = await x509();
  const { keys, keyPem } = await newLeafKey();
  const now = Date.now();
  const cert = await x.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: [{ CN: [cn] }],
    keys,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + CA_VALIDITY_DAYS * DAY),
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams,
    extensions: [
      new x.BasicConstraintsExtension(true, undefined, true),
      new x.KeyUsagesExtension(x.KeyUsageFlags.keyCertSign | x.KeyUsageFlags.cRLSign | x.KeyUsageFlags.digitalSignature, true),
      await x.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: pemOf(cert), keyPem };
}

const pemOf = (cert: X509.X509Certificate) => `${cert.toString('pem').trim()}\n`;

async function issueLeaf(ca: CaMaterial, spec: LeafSpec): Promise<{ certPem: string; keyPem: string }> {
  const x = await x509();
  const caCert = new x.X509Certificate(ca.certPem);
  const signer = await signerFromPem(ca.keyPem);
  const { keys, keyPem } = await newLeafKey();
  const now = Date.now();
  const name: X509.JsonName = [{ CN: [spec.cn] }];
  if (spec.orgs?.length) name.push({ O: [...spec.orgs] });
  const caSki = caCert.getExtension(x.SubjectKeyIdentifierExtension);
  const extensions: X509.Extension[] = [
    new x.BasicConstraintsExtension(false, undefined, true),
    new x.KeyUsagesExtension(x.KeyUsageFlags.digitalSignature, true),
    new x.ExtendedKeyUsageExtension([spec.usage === 'server' ? x.ExtendedKeyUsage.serverAuth : x.ExtendedKeyUsage.clientAuth]),
    await x.SubjectKeyIdentifierExtension.create(keys.publicKey),
    caSki ? new x.AuthorityKeyIdentifierExtension(caSki.keyId) : await x.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
  ];
  if (spec.hosts?.length) extensions.push(new x.SubjectAlternativeNameExtension(sanJson(spec.hosts)));
  const cert = await x.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: name,
    issuer: caCert.subjectName,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + (spec.days ?? LEAF_VALIDITY_DAYS) * DAY),
    publicKey: keys.publicKey,
    signingKey: signer.key,
    signingAlgorithm: signer.signingAlgorithm,
    extensions,
  });
  return { certPem: pemOf(cert), keyPem };
}

const sanKey = (names: X509.JsonGeneralNames) => names.map((n) => `${n.type}:${n.value}`).sort().join('\n');

/** Whether an existing leaf can be kept: matches its key, signed by `ca`, not expiring, same identity. */
async function leafStillGood(ca: CaMaterial, certPem: string, keyPem: string, spec: LeafSpec): Promise<boolean> {
  try {
    const x = await x509();
    const leaf = new crypto.X509Certificate(certPem);
    const caNode = new crypto.X509Certificate(ca.certPem);
    if (!leaf.checkIssued(caNode) || !leaf.verify(caNode.publicKey)) return false;
    if (!leaf.checkPrivateKey(crypto.createPrivateKey(keyPem))) return false;
    const parsed = new x.X509Certificate(certPem);
    if (parsed.notAfter.getTime() - Date.now() < RENEW_BEFORE_DAYS * DAY) return false;
    if (parsed.notBefore.getTime() > Date.now() + BACKDATE_MS) return false;
    const subject = parsed.subjectName;
    if (subject.getField('CN').join() !== spec.cn) return false;
    if ((spec.orgs ?? []).join('\n') !== subject.getField('O').join('\n')) return false;
    const eku = parsed.getExtension(x.ExtendedKeyUsageExtension);
    const wantEku = spec.usage === 'server' ? x.ExtendedKeyUsage.serverAuth : x.ExtendedKeyUsage.clientAuth;
    if (!eku || !eku.usages.map(String).includes(wantEku)) return false;
    if (spec.hosts) {
      const have = parsed.getExtension(x.SubjectAlternativeNameExtension)?.names.toJSON() ?? [];
      const want = new x.GeneralNames(sanJson(spec.hosts)).toJSON();
      if (sanKey(have) !== sanKey(want)) return false;
    }
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Files


/**
 * Creates (first start) or reuses (later starts) the cluster PKI in `dir`. `hosts` are the DNS
 * names and IP addresses the serving certificate must be valid for (localhost, 127.0.0.1, the
 * node's names and addresses, kubernetes, kubernetes.default, kubernetes.default.svc,
 * kubernetes.default.svc.cluster.local, the first service IP); when it is empty, localhost and
 * 127.0.0.1 are used. A changed host list re-issues the serving certificate only.
 */
export async function ensurePki(dir: string, opts: { hosts: string[] }): Promise<Pki> {
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  const file = (name: string) => path.join(dir, name);
  const written: string[] = [];

  // CA: created once; a half-present CA is an error rather than something to overwrite.
  let caCertPem = await readIfExists(file('ca.crt'));
  let caKeyPem = await readIfExists(file('ca.key'));
  if (caCertPem === undefined && caKeyPem === undefined) {
    const ca = await createCa();
    caCertPem = ca.certPem;
    caKeyPem = ca.keyPem;
    await writeAtomic(file('ca.key'), caKeyPem, 0o600);
    await writeAtomic(file('ca.crt'), caCertPem, 0o644);
    written.push('ca.key', 'ca.crt');
  } else if (caCertPem === undefined || caKeyPem === undefined) {
    throw new Error(`${dir}: found only one of ca.crt and ca.key; restore the other or remove both to create a new CA`);
  } else if (!new crypto.X509Certificate(caCertPem).checkPrivateKey(crypto.createPrivateKey(caKeyPem))) {
    throw new Error(`${dir}: ca.key does not belong to ca.crt`);
  }
  const ca: CaMaterial = { certPem: caCertPem, keyPem: caKeyPem };

  const hosts = opts.hosts.filter((h) => h.trim()).length ? opts.hosts : ['localhost', '127.0.0.1'];
  const leaf = async (base: string, spec: LeafSpec) => {
    const certPem = await readIfExists(file(`${base}.crt`));
    const keyPem = await readIfExists(file(`${base}.key`));
    if (certPem !== undefined && keyPem !== undefined && await leafStillGood(ca, certPem, keyPem, spec)) return { certPem, keyPem };
    const issued = await issueLeaf(ca, spec);
    await writeAtomic(file(`${base}.key`), issued.keyPem, 0o600);
    await writeAtomic(file(`${base}.crt`), issued.certPem, 0o644);
    written.push(`${base}.key`, `${base}.crt`);
    return issued;
  };
  const server = await leaf('server', { cn: SERVER_CN, usage: 'server', hosts });
  const admin = await leaf('admin', { cn: ADMIN_USER, orgs: ADMIN_GROUPS, usage: 'client' });

  let adminToken = (await readIfExists(file('admin.token')))?.trim();
  if (!adminToken) {
    adminToken = crypto.randomBytes(32).toString('base64url');
    await writeAtomic(file('admin.token'), `${adminToken}\n`, 0o600);
    written.push('admin.token');
  }

  return {
    dir, caCertPem, caKeyPem,
    serverCertPem: server.certPem, serverKeyPem: server.keyPem,
    adminCertPem: admin.certPem, adminKeyPem: admin.keyPem,
    adminToken, written,
  };
}

/**
 * A client certificate signed by the cluster CA for user `cn` in groups `orgs` (clientAuth,
 * 1 year), e.g. for the scheduler (`system:kube-scheduler`) or a node (`system:node:<name>`,
 * `system:nodes`). Nothing is written to disk.
 */
export async function issueClientCert(pki: Pick<Pki, 'caCertPem' | 'caKeyPem'>, cn: string, orgs: string[]): Promise<{ certPem: string; keyPem: string }> {
  return issueLeaf({ certPem: pki.caCertPem, keyPem: pki.caKeyPem }, { cn, orgs, usage: 'client' });
}

/** A serving certificate signed by the cluster CA for `hosts` (DNS names and IPs), e.g. for a kubelet. */
export async function issueServingCert(pki: Pick<Pki, 'caCertPem' | 'caKeyPem'>, cn: string, hosts: string[]): Promise<{ certPem: string; keyPem: string }> {
  return issueLeaf({ certPem: pki.caCertPem, keyPem: pki.caKeyPem }, { cn, usage: 'server', hosts });
}

/**
 * The user a verified client certificate stands for, as Kubernetes' x509 authenticator reads it:
 * the subject CN is the user name (the last CN when there are several, as Go keeps the last one)
 * and every O is a group. Node gives a multi-valued attribute as an array. An empty `user` means
 * the certificate names nobody and must not authenticate. Only call this for a peer certificate
 * the TLS layer verified against the CA (`socket.authorized`).
 */
export function subjectFromCert(peerCertificate: PeerCertificate): { user: string; groups: string[] } {
  const subject = (peerCertificate?.subject ?? {}) as unknown as Record<string, string | string[] | undefined>;
  const cn = subject.CN;
  const user = Array.isArray(cn) ? (cn[cn.length - 1] ?? '') : (cn ?? '');
  const o = subject.O;
  const groups = o === undefined ? [] : Array.isArray(o) ? [...o] : [o];
  return { user, groups };
}

// ---------------------------------------------------------------------------------------------
// The API server's client certificate for kubelets (kubeadm: apiserver-kubelet-client.crt/key).

export const KUBELET_CLIENT_USER = 'kube-apiserver-kubelet-client';

/**
 * The certificate the API server presents to kubelets (logs, exec, attach, port-forward):
 * CN kube-apiserver-kubelet-client, O system:masters, clientAuth, signed by the cluster CA.
 * Kept as apiserver-kubelet-client.crt/.key in the PKI directory; created on first start and
 * re-issued under the same rules as the other leaves (missing, wrong key, other CA, expiring).
 */
export async function ensureKubeletClientCert(pki: Pick<Pki, 'dir' | 'caCertPem' | 'caKeyPem'>): Promise<{ certPem: string; keyPem: string }> {
  const ca: CaMaterial = { certPem: pki.caCertPem, keyPem: pki.caKeyPem };
  const spec: LeafSpec = { cn: KUBELET_CLIENT_USER, orgs: ['system:masters'], usage: 'client' };
  const certFile = path.join(pki.dir, 'apiserver-kubelet-client.crt');
  const keyFile = path.join(pki.dir, 'apiserver-kubelet-client.key');
  const certPem = await readIfExists(certFile);
  const keyPem = await readIfExists(keyFile);
  if (certPem !== undefined && keyPem !== undefined && await leafStillGood(ca, certPem, keyPem, spec)) return { certPem, keyPem };
  const issued = await issueLeaf(ca, spec);
  await writeAtomic(keyFile, issued.keyPem, 0o600);
  await writeAtomic(certFile, issued.certPem, 0o644);
  return issued;
}
