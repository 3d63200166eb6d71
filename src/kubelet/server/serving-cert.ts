/**
 * The kubelet's self-signed serving certificate, as a kubelet without --tls-cert-file makes one
 * (Kubernetes: certutil.GenerateSelfSignedCertKey, kept in /var/lib/kubelet/pki): a private CA
 * named after the host signs a serving certificate for the node's names and addresses; the
 * certificate file holds the leaf followed by that CA. The API server does not verify it (as
 * upstream's default), so nothing else needs the CA.
 *
 * Files in `dir`: kubelet.crt (leaf + CA, 0644), kubelet.key (0600). Reused while the key
 * matches, every wanted host is covered and it is valid for more than 30 days; otherwise made
 * anew.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { isIP } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { createCa, issueServingCert } from '../../util/pki.js';
import { readIfExists, writeAtomic } from '../../util/files.js';

const RENEW_BEFORE_MS = 30 * 24 * 60 * 60 * 1000;

export interface ServingCert { certPem: string; keyPem: string }

/** `hosts`: DNS names and IP addresses the kubelet is reached by (empty: the host name, localhost, 127.0.0.1). */
export async function ensureKubeletServingCert(dir: string, hosts: string[]): Promise<ServingCert> {
  const wanted = [...new Set(hosts.map((h) => h.trim().replace(/^\[(.*)\]$/, '$1')).filter(Boolean))];
  if (!wanted.length) wanted.push(os.hostname(), 'localhost', '127.0.0.1');
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  const certFile = join(dir, 'kubelet.crt');
  const keyFile = join(dir, 'kubelet.key');
  const certPem = await readIfExists(certFile);
  const keyPem = await readIfExists(keyFile);
  if (certPem && keyPem && stillGood(certPem, keyPem, wanted)) return { certPem, keyPem };

  const name = wanted.find((h) => !isIP(h)) ?? wanted[0];
  const ca = await createCa(`${name}-ca@${Math.floor(Date.now() / 1000)}`);
  const leaf = await issueServingCert({ caCertPem: ca.certPem, caKeyPem: ca.keyPem }, `${name}@${Math.floor(Date.now() / 1000)}`, wanted);
  const chain = `${leaf.certPem.trim()}\n${ca.certPem.trim()}\n`;
  await writeAtomic(keyFile, leaf.keyPem, 0o600);
  await writeAtomic(certFile, chain, 0o644);
  return { certPem: chain, keyPem: leaf.keyPem };
}

function stillGood(certPem: string, keyPem: string, hosts: string[]): boolean {
  try {
    const cert = new X509Certificate(certPem); // the first certificate of the file: the leaf
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return false;
    if (Date.parse(cert.validTo) - Date.now() < RENEW_BEFORE_MS) return false;
    if (Date.parse(cert.validFrom) > Date.now() + 5 * 60 * 1000) return false;
    return hosts.every((h) => (isIP(h) ? cert.checkIP(h) !== undefined : cert.checkHost(h, { wildcards: false }) !== undefined));
  } catch {
    return false;
  }
}

