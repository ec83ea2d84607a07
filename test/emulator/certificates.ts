/** A self-signed certificate with an RSA key, as a team would make one for certificate credentials. */
import { createHash, webcrypto } from 'node:crypto';
import type { CryptoKey } from 'jose';
import { loadX509 } from '../../src/emulator/tls.js';

const RSA = { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' } as const;

export async function makeCertificate(name: string): Promise<{ pem: string; privateKey: CryptoKey; thumbprint: string }> {
  const x509 = await loadX509();
  const keys = (await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    name,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    keys: keys as never,
    signingAlgorithm: RSA,
  });
  const thumbprint = createHash('sha1').update(Buffer.from(certificate.rawData)).digest('base64url');
  return { pem: certificate.toString('pem'), privateKey: keys.privateKey as unknown as CryptoKey, thumbprint };
}
