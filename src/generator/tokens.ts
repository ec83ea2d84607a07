/**
 * Tokens this service hands out, cached per scope (app tokens) and per employee session and scope
 * (employee tokens, from on-behalf-of), so that a caller gets what is left of a token rather than a new one.
 */
import { createHash } from 'node:crypto';
import type { ParsedAudience } from '../audience.js';
import { TokenCache, type CacheResult } from '../cache/token-cache.js';
import type { EntraClient, TokenResponse } from '../entra/client.js';

export interface IssuedToken {
  accessToken: string;
  tokenType: string;
  expiresAt: number;
  scope?: string;
}

export interface TokenResponseBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope?: string;
}

export interface CacheEvents {
  onCache?: (cache: 'app' | 'employee', hit: boolean) => void;
}

export class TokenService {
  readonly appCache: TokenCache<IssuedToken>;
  readonly employeeCache: TokenCache<IssuedToken>;

  private readonly events: CacheEvents;

  constructor(
    private readonly entra: EntraClient,
    options: { maxEntries: number; maxBytes?: number; now?: () => number } & CacheEvents,
  ) {
    this.appCache = new TokenCache(options);
    this.employeeCache = new TokenCache(options);
    this.events = options;
  }

  async appToken(audience: ParsedAudience, options: { skipCache?: boolean } = {}): Promise<CacheResult<IssuedToken>> {
    const result = await this.appCache.get(audience.scope, async () => issued(await this.entra.clientCredentials(audience.scope)), options);
    this.events.onCache?.('app', result.hit);
    return result;
  }

  /** The cached app token for the audience, without a call to the identity provider (or undefined). */
  cachedAppToken(audience: ParsedAudience): IssuedToken | undefined {
    const token = this.appCache.peek(audience.scope);
    if (token) this.events.onCache?.('app', true);
    return token;
  }

  /** Whether an employee token for the session and the audience is cached (nothing is counted). */
  hasEmployeeToken(sessionKey: string, audience: ParsedAudience): boolean {
    return this.employeeCache.peek(employeeCacheKey(sessionKey, audience)) !== undefined;
  }

  /** Whether an app token for the audience is cached (nothing is counted). */
  hasAppToken(audience: ParsedAudience): boolean {
    return this.appCache.peek(audience.scope) !== undefined;
  }

  /** A token on behalf of the employee, from their own: `sessionKey` names their session (never the token itself). */
  async employeeToken(
    sessionKey: string,
    employeeAccessToken: string,
    audience: ParsedAudience,
    options: { skipCache?: boolean } = {},
  ): Promise<CacheResult<IssuedToken>> {
    const result = await this.employeeCache.get(
      employeeCacheKey(sessionKey, audience),
      async () => issued(await this.entra.onBehalfOf(employeeAccessToken, audience.scope)),
      options,
    );
    this.events.onCache?.('employee', result.hit);
    return result;
  }
}

function employeeCacheKey(sessionKey: string, audience: ParsedAudience): string {
  return `${createHash('sha256').update(sessionKey).digest('base64url')} ${audience.scope}`;
}

function issued(response: TokenResponse): IssuedToken {
  return {
    accessToken: response.accessToken,
    tokenType: response.tokenType,
    expiresAt: Date.now() + response.expiresIn * 1000,
    ...(response.scope ? { scope: response.scope } : {}),
  };
}

export function responseBody(token: IssuedToken, now = Date.now()): TokenResponseBody {
  return {
    access_token: token.accessToken,
    token_type: token.tokenType,
    expires_in: Math.max(0, Math.floor((token.expiresAt - now) / 1000)),
    ...(token.scope ? { scope: token.scope } : {}),
  };
}
