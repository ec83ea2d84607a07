/** Verifying the signature of a compact JWS with a public key, for the RS, PS and ES algorithms. */
import { constants, KeyObject, verify } from 'node:crypto';
import type { CryptoKey } from 'jose';

export const ASSERTION_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];

const EC_CURVES: Record<string, string> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };

const keyObjects = new WeakMap<CryptoKey, KeyObject>();

/** The key as node:crypto takes it, converted once per key. */
export function keyObjectOf(key: CryptoKey): KeyObject {
  let object = keyObjects.get(key);
  if (!object) keyObjects.set(key, (object = KeyObject.from(key)));
  return object;
}

/**
 * Whether a compact JWS's signature verifies with the key, for the RS, PS and ES algorithms.
 * Checked here on the event loop: a public-key check takes a few tens of microseconds, less than
 * a round trip through the thread pool, which the token endpoint keeps for signing (BENCHMARKS.md).
 * The key was imported for `alg` (so its type fits); RSA keys must have 2048 bits or more, EC keys
 * the curve of the algorithm, as JOSE requires.
 */
export function signatureVerifies(jws: string, alg: string, key: KeyObject): boolean {
  const dot = jws.lastIndexOf('.');
  const encoded = jws.slice(dot + 1);
  if (dot <= 0 || !/^[A-Za-z0-9_-]+$/.test(encoded)) return false;
  const bits = Number(alg.slice(2));
  const family = alg.slice(0, 2);
  const details = key.asymmetricKeyDetails;
  if (family === 'ES' ? details?.namedCurve !== EC_CURVES[alg] : (details?.modulusLength ?? 0) < 2048) return false;
  const options =
    family === 'PS'
      ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: bits / 8 }
      : family === 'ES'
        ? { key, dsaEncoding: 'ieee-p1363' as const }
        : key;
  try {
    return verify(`sha${bits}`, Buffer.from(jws.slice(0, dot)), options, Buffer.from(encoded, 'base64url'));
  } catch {
    return false;
  }
}
