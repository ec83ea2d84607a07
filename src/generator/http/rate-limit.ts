/**
 * A per-address limit on the public endpoints: at most `max` requests in each fixed window of
 * `windowMs`, counted in memory per replica. It is a plain synchronous `onRequest` hook because it
 * runs on the cached-token path, where @fastify/rate-limit's chain of promises cost about a tenth of
 * the throughput (BENCHMARKS.md); only what this service uses of it is here.
 */
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { refuse } from '../core/problem.js';
import type { RateLimiter } from '../core/limits.js';

/** An `onRequest` hook that counts the request against the caller's address. */
export function rateLimitHook(limiter: RateLimiter) {
  const windowSeconds = Math.round(limiter.windowMs / 1000);
  return function rateLimit(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const verdict = limiter.take(request.ip);
    if (verdict.allowed) return done();
    const message =
      `Too many requests from your address: at most ${limiter.max} in ${windowSeconds} seconds. Try again in ` +
      `${verdict.retryAfterSeconds} seconds.`;
    done(refuse('rate_limited', message, { headers: { 'retry-after': String(verdict.retryAfterSeconds) } }));
  };
}
