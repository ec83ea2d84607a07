import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { ParsedAudience } from '../audience.js';
import type { GeneratorConfig } from '../config.js';
import type { EntraClient } from '../entra/client.js';
import { inFlow } from './errors.js';
import type { Metrics } from './metrics.js';
import type { IssuedToken, TokenService } from './tokens.js';
import { RateLimiter, rateLimitHook } from './rate-limit.js';

/** What every route of the generator shares. */
export class GeneratorContext {
  /** The per-address limit of the public endpoints, as an `onRequest` hook for their routes. */
  readonly limitPublic: ReturnType<typeof rateLimitHook>;
  /** The per-address counts behind `limitPublic`. */
  readonly limiter: RateLimiter;

  constructor(
    readonly config: GeneratorConfig,
    readonly entra: EntraClient,
    readonly tokens: TokenService,
    readonly logger: Logger,
    readonly metrics: Metrics,
  ) {
    this.limiter = new RateLimiter(config.rateLimit.max, config.rateLimit.windowMs);
    this.limitPublic = rateLimitHook(this.limiter);
  }

  /** An app token for the audience; throws FlowFailedError when the identity provider fails. */
  async appToken(request: FastifyRequest, audience: ParsedAudience): Promise<IssuedToken> {
    const { token } = await inFlow('client_credentials', audience, () => this.tokens.appToken(audience, { skipCache: skipCache(request) }));
    return token;
  }
}

/** `Cache-Control: no-cache` from the client asks for a fresh token. */
export function skipCache(request: FastifyRequest): boolean {
  return noCacheAsked(request.headers);
}

export function noCacheAsked(headers: IncomingHttpHeaders): boolean {
  const header = headers['cache-control'];
  return typeof header === 'string' && /(^|,)\s*no-cache\s*(,|$)/i.test(header);
}
