/**
 * The public keys a client registers for its assertions: JSON Web Keys known by `kid`, and
 * certificates known, as Entra ID knows them, by their SHA-1 (`x5t`) and SHA-256 (`x5t#S256`)
 * thumbprints, which MSAL and @azure/identity put in the assertion's header instead of a kid.
 */
import { createHash, X509Certificate } from 'node:crypto';
import type { JWK } from 'jose';

export interface ClientKey {
  /** Its name among the client's keys: the kid, or a certificate's SHA-1 thumbprint. */
  keyId: string;
  jwk: JWK;
  /** `x5t:<thumbprint>` and `x5t#S256:<thumbprint>` of its certificate, when it has one. */
  thumbprints: string[];
}

const thumbprint = (algorithm: 'sha1' | 'sha256', der: Buffer) => createHash(algorithm).update(der).digest('base64url');

/**
 * The name of a certificate's thumbprint in a header (`x5t` or `x5t#S256`), as base64url without
 * padding: Python MSAL sends its x5t padded (`...=`), and Entra ID takes either form.
 */
export function thumbprintName(member: 'x5t' | 'x5t#S256', value: string): string {
  return `${member}:${value.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')}`;
}

/** The names a certificate (DER) is known by in an assertion's header. */
export function certificateThumbprints(der: Buffer): string[] {
  return [thumbprintName('x5t', thumbprint('sha1', der)), thumbprintName('x5t#S256', thumbprint('sha256', der))];
}

function publicHalf(jwk: JWK): JWK {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = jwk;
  return publicJwk;
}

/** A registered JSON Web Key (only its public half is kept); its x5c, x5t and x5t#S256 name it too. */
export function keyFromJwk(jwk: JWK, owner: string): ClientKey {
  if (!jwk.kid) throw new Error(`a key registered for ${owner} has no kid`);
  if (jwk.kty !== 'RSA' && jwk.kty !== 'EC') throw new Error(`the key ${jwk.kid} registered for ${owner} is not an RSA or EC key`);
  const thumbprints = jwk.x5c?.[0] ? certificateThumbprints(Buffer.from(jwk.x5c[0], 'base64')) : [];
  if (jwk.x5t) thumbprints.push(thumbprintName('x5t', jwk.x5t));
  if (jwk['x5t#S256']) thumbprints.push(thumbprintName('x5t#S256', jwk['x5t#S256']));
  return { keyId: jwk.kid, jwk: publicHalf(jwk), thumbprints: [...new Set(thumbprints)] };
}

/** A registered certificate (PEM), known by its SHA-1 thumbprint as Entra shows it. */
export function keyFromCertificate(pem: string, owner: string): ClientKey {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch {
    throw new Error(`a certificate registered for ${owner} is not a PEM or DER X.509 certificate`);
  }
  const type = certificate.publicKey.asymmetricKeyType;
  if (type !== 'rsa' && type !== 'ec')
    throw new Error(`the certificate ${certificate.subject} registered for ${owner} has no RSA or EC key`);
  const keyId = thumbprint('sha1', certificate.raw);
  const jwk = certificate.publicKey.export({ format: 'jwk' }) as JWK;
  return { keyId, jwk: { ...jwk, kid: keyId, x5t: keyId }, thumbprints: certificateThumbprints(certificate.raw) };
}
