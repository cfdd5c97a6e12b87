/** The node's TLS key and self-signed certificate (ECDSA P-256), kept in `<dataDir>/tls/`. */
import { createHash, X509Certificate, webcrypto } from 'node:crypto';
import * as path from 'node:path';
// tsyringe, inside @peculiar/x509, needs the Reflect metadata API at load time.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { ensurePrivateDir, readFileIfExists, writeFileAtomic } from '../fsutil';

export interface TlsCredentials {
  keyPem: string;
  certPem: string;
  /** sha256 of the certificate's SubjectPublicKeyInfo DER: what the PGP binding signs. */
  spkiSha256: Buffer;
}

const ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const crypto = webcrypto as unknown as Crypto;

export function spkiSha256OfCert(cert: X509Certificate): Buffer {
  return createHash('sha256').update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest();
}

export async function generateTlsCredentials(commonName: string): Promise<TlsCredentials> {
  const keys = (await crypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: `CN=${commonName.replace(/[^A-Za-z0-9 ._-]/g, '_')}`,
      notBefore: new Date(now - 24 * 3600_000),
      // Validity is not what we trust (the PGP binding is), so a long life avoids pointless expiry.
      notAfter: new Date(now + 20 * 365 * 24 * 3600_000),
      keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams,
    },
    crypto,
  );
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/(.{64})/g, '$1\n').trimEnd()}\n-----END PRIVATE KEY-----\n`;
  const certPem = cert.toString('pem');
  return { keyPem, certPem, spkiSha256: spkiSha256OfCert(new X509Certificate(certPem)) };
}

export async function loadOrCreateTlsCredentials(dataDir: string, commonName: string): Promise<TlsCredentials> {
  const dir = path.join(dataDir, 'tls');
  await ensurePrivateDir(dir);
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  const keyPem = await readFileIfExists(keyFile);
  const certPem = await readFileIfExists(certFile);
  if (keyPem !== undefined && certPem !== undefined) {
    return { keyPem, certPem, spkiSha256: spkiSha256OfCert(new X509Certificate(certPem)) };
  }
  const fresh = await generateTlsCredentials(commonName);
  // Certificate first: a crash in between leaves no key without its certificate to be reused.
  await writeFileAtomic(certFile, fresh.certPem, 0o600);
  await writeFileAtomic(keyFile, fresh.keyPem, 0o600);
  return fresh;
}
