/**
 * Entra's published signing keys (its JWKS): loaded at start, fetched again for an unknown `kid` at
 * most once per cooldown, and used to check the ID token of a login and whether a token of this
 * service's own is still signed by a key Entra publishes.
 */
import { compactVerify, createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { LoginValidationError } from '../identity-provider.js';

/** Short enough that keys the provider stopped publishing are noticed within minutes (see `known`). */
const KEYS_MAX_AGE_MS = 10 * 60_000;

export interface KeysOptions {
  timeoutMs: number;
  /** Minimum time between two fetches caused by an unknown `kid`. */
  cooldownMs: number;
}

/** What an ID token must say besides its signature. */
export interface IdTokenChecks {
  issuer: string;
  audience: string;
  nonce: string;
  /** The tenant the employee must belong to, when the generator is bound to one. */
  tenant?: string;
}

export class SigningKeys {
  private reloadedAt = 0;

  private constructor(
    private readonly jwks: ReturnType<typeof createRemoteJWKSet>,
    private readonly cooldownMs: number,
  ) {}

  /** The keys at `jwksUri`, fetched once. Throws an Error that names the variable to check. */
  static async load(jwksUri: string, options: KeysOptions): Promise<SigningKeys> {
    const jwks = createRemoteJWKSet(new URL(jwksUri), {
      timeoutDuration: options.timeoutMs,
      cooldownDuration: options.cooldownMs,
      cacheMaxAge: KEYS_MAX_AGE_MS,
    });
    try {
      await jwks.reload();
    } catch (err) {
      throw new Error(
        `AZURE_OPENID_CONFIG_JWKS_URI: could not load the signing keys at ${jwksUri}: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
    return new SigningKeys(jwks, options.cooldownMs);
  }

  /**
   * Whether a token the identity provider issued to this service (an employee's access token, whose
   * audience is this app) is still signed by a key it publishes. After the provider's keys change, a
   * token signed by a key no longer published is refused by every grant that presents it. `unknown`
   * when the keys cannot be fetched: that says nothing about the token.
   */
  async known(token: string): Promise<'known' | 'gone' | 'unknown'> {
    try {
      await compactVerify(token, this.jwks);
      return 'known';
    } catch (err) {
      if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWSSignatureVerificationFailed) return 'gone';
      return 'unknown';
    }
  }

  /**
   * Fetches the published keys again (at most once per cooldown), when a grant refused a token that
   * the keys at hand still verify: the provider may have stopped publishing its key.
   */
  async reload(): Promise<void> {
    if (Date.now() - this.reloadedAt < this.cooldownMs) return;
    this.reloadedAt = Date.now();
    await this.jwks.reload().catch(() => undefined);
  }

  /** The claims of a login's ID token, once its signature, issuer, audience, expiry, nonce and tenant are checked. */
  async verifyIdToken(idToken: string, checks: IdTokenChecks): Promise<JWTPayload> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(idToken, this.jwks, {
        issuer: checks.issuer,
        audience: checks.audience,
        algorithms: ['RS256'],
        clockTolerance: 30,
      }));
    } catch (err) {
      throw new LoginValidationError(`the ID token is not valid: ${err instanceof Error ? err.message : 'unknown error'}`);
    }
    if (payload.nonce !== checks.nonce) throw new LoginValidationError('the ID token nonce does not match this login');
    if (checks.tenant && payload.tid !== checks.tenant) throw new LoginValidationError('the ID token comes from another tenant');
    return payload;
  }
}
