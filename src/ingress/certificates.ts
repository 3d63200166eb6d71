/**
 * Certificates for the HTTPS listener.
 *
 * - The default certificate, served when no Ingress has a certificate for the SNI name (or the
 *   client sends none): a self-signed one generated at every start and never written anywhere,
 *   like ingress-nginx's "Fake Certificate". It is a leaf for `ingress.local` signed by a
 *   throw-away CA (src/util/pki.ts), sent with that CA.
 * - TLS Secrets (`type: kubernetes.io/tls`, data `tls.crt` / `tls.key`) become SecureContexts.
 *   SecretCertificates keeps one per Secret resourceVersion, so rebuilding the routing table
 *   for an unrelated change does not parse every certificate again; a Secret that fails to load
 *   (missing keys, bad PEM, key not matching) is remembered with its error for events and logs.
 */
import { createSecureContext, type SecureContext } from 'node:tls';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { Secret } from 'kubernetes-types/core/v1.js';
import { createCa, issueServingCert } from '../util/pki.js';
import type { TLSCertificate } from './routing-table.js';

export interface CertificatePem {
  certPem: string;
  keyPem: string;
}

export const DEFAULT_CERT_CN = 'keelson ingress default certificate';

/** A fresh self-signed serving certificate (chain: leaf + its own CA) for the HTTPS listener's default. */
export async function createDefaultCertificate(): Promise<CertificatePem> {
  const ca = await createCa('keelson-ingress-default-ca');
  const leaf = await issueServingCert({ caCertPem: ca.certPem, caKeyPem: ca.keyPem }, DEFAULT_CERT_CN, ['ingress.local']);
  return { certPem: `${leaf.certPem.trim()}\n${ca.certPem.trim()}\n`, keyPem: leaf.keyPem };
}

/** A SecureContext from PEM material; throws with a readable reason when it cannot be used. */
export function secureContextFrom(pem: CertificatePem): SecureContext {
  const cert = new X509Certificate(pem.certPem);
  if (!cert.checkPrivateKey(createPrivateKey(pem.keyPem))) throw new Error('tls.key does not belong to the certificate in tls.crt');
  return createSecureContext({ cert: pem.certPem, key: pem.keyPem });
}

interface Loaded {
  resourceVersion: string;
  cert?: TLSCertificate;
  error?: string;
}

/** SecureContexts of TLS Secrets, cached per resourceVersion. */
export class SecretCertificates {
  private cache = new Map<string, Loaded>();

  /** The certificate of a Secret, or an error saying why it cannot be used. */
  load(secret: Secret | undefined, namespace: string, name: string): { cert?: TLSCertificate; error?: string } {
    const key = `${namespace}/${name}`;
    if (!secret) {
      this.cache.delete(key);
      return { error: `secret ${key} not found (or not of type kubernetes.io/tls)` };
    }
    const rv = secret.metadata?.resourceVersion ?? '';
    const hit = this.cache.get(key);
    if (hit && hit.resourceVersion === rv && rv !== '') return hit;
    const loaded: Loaded = { resourceVersion: rv };
    try {
      if (secret.type && secret.type !== 'kubernetes.io/tls') throw new Error(`its type is ${secret.type}, not kubernetes.io/tls`);
      const crt = secret.data?.['tls.crt'];
      const k = secret.data?.['tls.key'];
      if (!crt || !k) throw new Error('it has no tls.crt or no tls.key');
      const context = secureContextFrom({ certPem: Buffer.from(crt, 'base64').toString('utf8'), keyPem: Buffer.from(k, 'base64').toString('utf8') });
      loaded.cert = { secret: key, context };
    } catch (err) {
      loaded.error = `secret ${key} cannot be used: ${(err as Error).message}`;
    }
    this.cache.set(key, loaded);
    return loaded;
  }

  /** Forgets Secrets that are no longer referenced (called after each rebuild with the ones used). */
  retain(keys: Set<string>): void {
    for (const k of this.cache.keys()) if (!keys.has(k)) this.cache.delete(k);
  }
}
