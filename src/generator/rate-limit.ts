/**
 * A per-address limit on the public endpoints: at most `max` requests in each fixed window of
 * `windowMs`, counted in memory per replica. It is a plain synchronous hook because it runs on
 * the cached-token path, where @fastify/rate-limit's chain of promises cost about a tenth of the
 * throughput (BENCHMARKS.md); only what this service uses of it is here.
 */
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { LRUCache } from 'lru-cache';
import { entryBound } from '../entry-bound.js';
import { ProblemError } from './errors.js';
import { laneStateOf } from './lane-state.js';
import { problem } from './problem.js';

interface Window {
  count: number;
  endsAt: number;
}

export interface Verdict {
  allowed: boolean;
  /** Whole seconds until the caller's window ends. */
  retryAfterSeconds: number;
}

export class RateLimiter {
  /**
   * Windows by address, in the order they began (a lookup is a `peek`, which leaves the order as it
   * is). All are equally long, so that is also the order they end: when the map is full, lru-cache
   * drops the oldest, an ended window first if there is one.
   */
  private readonly windows: LRUCache<string, Window>;

  constructor(
    readonly max: number,
    readonly windowMs: number,
    /** Addresses remembered at once; beyond, ended windows go first, then the oldest. */
    maxKeys = 10_000,
    private readonly now: () => number = Date.now,
  ) {
    this.windows = new LRUCache(entryBound(maxKeys));
  }

  get size(): number {
    return this.windows.size;
  }

  take(key: string): Verdict {
    const now = this.now();
    let window = this.windows.peek(key);
    if (!window || window.endsAt <= now) {
      window = { count: 0, endsAt: now + this.windowMs };
      this.windows.set(key, window);
    }
    window.count++;
    return { allowed: window.count <= this.max, retryAfterSeconds: Math.max(1, Math.ceil((window.endsAt - now) / 1000)) };
  }
}

/**
 * An `onRequest` hook that counts the request against the caller's address. A request the
 * cached-token lane handed on was counted by the lane: its verdict is used, not a second count.
 * The hook's name is how the lane recognizes it among the m2m route's hooks (HOOKS_THE_LANE_KNOWS).
 */
export function rateLimitHook(limiter: RateLimiter) {
  const windowSeconds = Math.round(limiter.windowMs / 1000);
  return function rateLimit(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const verdict = laneStateOf(request.raw)?.verdict ?? limiter.take(request.ip);
    if (verdict.allowed) return done();
    const message =
      `Too many requests from your address: at most ${limiter.max} in ${windowSeconds} seconds. Try again in ` +
      `${verdict.retryAfterSeconds} seconds.`;
    done(new ProblemError(problem(429, 'rate_limited', message), { 'retry-after': String(verdict.retryAfterSeconds) }));
  };
}
