/** The emulator's signing key: RS256, 2048 bits, made at start, published as Entra publishes its keys. */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, jwtVerify, SignJWT, type JWK, type JWTPayload, type CryptoKey } from 'jose';

export class SigningKeys {
  private constructor(
    private readonly privateKey: CryptoKey,
    readonly publicKey: CryptoKey,
    readonly kid: string,
    private readonly publicJwk: JWK,
  ) {}

  static async create(): Promise<SigningKeys> {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
    const jwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(jwk);
    return new SigningKeys(privateKey, publicKey, kid, jwk);
  }

  jwks(issuer: string): { keys: JWK[] } {
    // Entra's keys name the certificate thumbprint as both kid and x5t.
    return { keys: [{ kty: 'RSA', use: 'sig', kid: this.kid, x5t: this.kid, n: this.publicJwk.n, e: this.publicJwk.e, issuer } as JWK] };
  }

  async sign(payload: JWTPayload): Promise<string> {
    return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: this.kid }).sign(this.privateKey);
  }

  /** Verifies a token this emulator issued. */
  async verify(token: string, options: { issuer: string; audience?: string }) {
    return jwtVerify(token, this.publicKey, { algorithms: ['RS256'], issuer: options.issuer, ...(options.audience ? { audience: options.audience } : {}) });
  }
}
