/**
 * The per-address limit of the public endpoints as a plain synchronous `onRequest` hook: it runs on
 * the cached-token path, where @fastify/rate-limit's chain of promises cost about a tenth of the
 * throughput (BENCHMARKS.md). The rule and its count are the core's (`Limits.publicRequest`), on the
 * memory backend: counted per replica by design, since a round trip to Redis for every cached token
 * would cost more than the answer.
 */
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { Limits } from '../core/limits.js';

/** An `onRequest` hook that counts the request against the caller's address. */
export function rateLimitHook(limits: Limits) {
  return function rateLimit(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const refusal = limits.publicRequest(request.ip);
    if (refusal) done(refusal);
    else done();
  };
}
