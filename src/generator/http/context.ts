import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { GeneratorConfig } from '../../config.js';
import type { IdentityProvider } from '../idp/identity-provider.js';
import type { Metrics } from './internal/metrics.js';
import type { Tokens } from '../core/tokens.js';
import type { Limits } from '../core/limits.js';
import { rateLimitHook } from './rate-limit.js';

/** What every route of the generator shares. */
export class GeneratorContext {
  /** The per-address limit of the public endpoints, as an `onRequest` hook for their routes. */
  readonly limitPublic: ReturnType<typeof rateLimitHook>;

  constructor(
    readonly config: GeneratorConfig,
    readonly provider: IdentityProvider,
    readonly tokens: Tokens,
    readonly logger: Logger,
    readonly metrics: Metrics,
    limits: Limits,
  ) {
    this.limitPublic = rateLimitHook(limits);
  }
}

/** `Cache-Control: no-cache` from the client asks for a fresh token. */
export function freshAsked(request: FastifyRequest): boolean {
  return noCacheAsked(request.headers);
}

export function noCacheAsked(headers: IncomingHttpHeaders): boolean {
  const header = headers['cache-control'];
  return typeof header === 'string' && /(^|,)\s*no-cache\s*(,|$)/i.test(header);
}
