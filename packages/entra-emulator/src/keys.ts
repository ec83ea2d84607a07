/**
 * The emulator's signing key: RS256, 2048 bits, made at start, published as Entra publishes its
 * keys: with a self-signed certificate in `x5c`, whose SHA-1 thumbprint is both `x5t` and `kid`.
 */
import { createHash, KeyObject, sign as signWith } from 'node:crypto';
import { promisify } from 'node:util';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { loadX509 } from './tls.js';

export interface StoredSigningKey {
  privateJwk: JWK;
  certificate: string;
}

// --- the signing key -------------------------------------------------------------------------

const signAsync = promisify(signWith);

export class SigningKeys {
  /** The key as node:crypto takes it, and the token header, encoded once. */
  private readonly signingKey: KeyObject;
  private readonly encodedHeader: string;

  private constructor(
    private readonly privateKey: CryptoKey,
    readonly publicKey: CryptoKey,
    readonly kid: string,
    private readonly publicJwk: JWK,
    private readonly certificate: Buffer,
  ) {
    this.signingKey = KeyObject.from(privateKey);
    this.encodedHeader = Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'RS256', kid })).toString('base64url');
  }

  /** A key kept in the state folder: the private JWK and the certificate (base64 DER). */
  static async fromStored(stored: StoredSigningKey): Promise<SigningKeys> {
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = stored.privateJwk;
    const privateKey = (await importJWK(stored.privateJwk, 'RS256', { extractable: true })) as CryptoKey;
    const publicKey = (await importJWK(publicJwk, 'RS256', { extractable: true })) as CryptoKey;
    const certificate = Buffer.from(stored.certificate, 'base64');
    return new SigningKeys(privateKey, publicKey, createHash('sha1').update(certificate).digest('base64url'), publicJwk, certificate);
  }

  async stored(): Promise<StoredSigningKey> {
    return { privateJwk: await exportJWK(this.privateKey), certificate: this.certificate.toString('base64') };
  }

  static async create(): Promise<SigningKeys> {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
    const jwk = await exportJWK(publicKey);
    const x509 = await loadX509();
    const certificate = Buffer.from(
      (
        await x509.X509CertificateGenerator.createSelfSigned({
          name: 'CN=Entra ID emulator token signing',
          serialNumber: createHash('sha256')
            .update(jwk.n ?? '')
            .digest('hex')
            .slice(0, 32),
          notBefore: new Date(Date.now() - 60_000),
          notAfter: new Date(Date.now() + 365 * 86_400_000),
          keys: { privateKey, publicKey } as never,
          signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as never,
        })
      ).rawData,
    );
    const kid = createHash('sha1').update(certificate).digest('base64url');
    return new SigningKeys(privateKey, publicKey, kid, jwk, certificate);
  }

  publishedJwk(issuer: string): JWK {
    return {
      kty: 'RSA',
      use: 'sig',
      kid: this.kid,
      x5t: this.kid,
      n: this.publicJwk.n,
      e: this.publicJwk.e,
      x5c: [this.certificate.toString('base64')],
      issuer,
    } as JWK;
  }

  /**
   * A compact JWS (RS256) over the claims. Signed with node:crypto's callback API, which runs on the
   * libuv thread pool like WebCrypto, but without building a JWT through jose for every token: the
   * header is encoded once, and the token endpoint issues thousands a second (BENCHMARKS.md).
   * Tokens are verified with jose, here and in the tests.
   */
  async sign(payload: JWTPayload): Promise<string> {
    const signingInput = `${this.encodedHeader}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    const signature = await signAsync('sha256', Buffer.from(signingInput), this.signingKey);
    return `${signingInput}.${signature.toString('base64url')}`;
  }
}
