/**
 * Each new RSA-2048 key pair a test file's process makes through WebCrypto (jose's `generateKeyPair`: the emulator's
 * signing key, the generator's registration, each team app's key, the tests' own) is the next of the keys
 * `rsa-keys-setup.ts` made ahead, imported with the algorithm, usages and extractability asked for; once they are
 * used up, or for any other key, a new one is generated as before.
 */
import { webcrypto } from 'node:crypto';
import { inject } from 'vitest';

type KeyParameters = webcrypto.RsaHashedKeyGenParams;
type KeyUsage = webcrypto.KeyUsage;

const subtle = webcrypto.subtle;
const generate = subtle.generateKey.bind(subtle);
const ahead = [...(inject('rsaKeys') ?? [])];

const RSA_SIGNATURES = new Set(['RSASSA-PKCS1-v1_5', 'RSA-PSS']);

function isMadeAhead(algorithm: unknown): algorithm is KeyParameters {
  const rsa = algorithm as Partial<KeyParameters>;
  return (
    RSA_SIGNATURES.has(String(rsa.name)) &&
    rsa.modulusLength === 2048 &&
    rsa.publicExponent !== undefined &&
    rsa.publicExponent.length <= 6 &&
    Buffer.from(rsa.publicExponent).readUIntBE(0, rsa.publicExponent.length) === 65537
  );
}

async function nextKeyPair(algorithm: KeyParameters, extractable: boolean, usages: KeyUsage[]): Promise<webcrypto.CryptoKeyPair> {
  const { kty, n, e, d, p, q, dp, dq, qi } = ahead.shift()!;
  const imported = { name: algorithm.name, hash: algorithm.hash };
  return {
    privateKey: await subtle.importKey(
      'jwk',
      { kty, n, e, d, p, q, dp, dq, qi },
      imported,
      extractable,
      usages.filter((usage) => usage === 'sign'),
    ),
    // WebCrypto's public key is always extractable.
    publicKey: await subtle.importKey(
      'jwk',
      { kty, n, e },
      imported,
      true,
      usages.filter((usage) => usage === 'verify'),
    ),
  };
}

Object.defineProperty(subtle, 'generateKey', {
  configurable: true,
  value: (algorithm: unknown, extractable: boolean, usages: KeyUsage[]) =>
    isMadeAhead(algorithm) && ahead.length > 0
      ? nextKeyPair(algorithm, extractable, usages)
      : generate(algorithm as never, extractable, usages),
});
