import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { ParsedAudience } from '../audience.js';
import type { GeneratorConfig } from '../config.js';
import { adviceFor, type Flow } from '../entra/advice.js';
import type { EntraClient } from '../entra/client.js';
import { IdpError } from '../entra/errors.js';
import type { Metrics } from './metrics.js';
import type { Format } from './negotiate.js';
import { sendProblem } from './problem.js';
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

  /** Sends the advice for an identity-provider failure; rethrows anything else. */
  sendIdpFailure(request: FastifyRequest, reply: FastifyReply, err: unknown, audience: ParsedAudience | undefined, flow: Flow, format: Format): FastifyReply {
    if (!(err instanceof IdpError)) throw err;
    const advice = adviceFor(err, audience, this.config.nais, flow);
    request.log.warn(
      { flow, target: audience?.target, status: advice.status, error: advice.error, aadsts: advice.aadsts, reason: err.message },
      'token request failed',
    );
    return sendProblem(reply, request, advice, format);
  }

  /** An app token for the audience, or undefined after the failure was answered. */
  async appToken(request: FastifyRequest, reply: FastifyReply, audience: ParsedAudience, format: Format): Promise<IssuedToken | undefined> {
    try {
      const { token } = await this.tokens.appToken(audience, { skipCache: skipCache(request) });
      return token;
    } catch (err) {
      this.sendIdpFailure(request, reply, err, audience, 'client_credentials', format);
      return undefined;
    }
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
