/**
 * Limits on the routes that reach the identity provider on an employee's behalf: per session and per
 * client address, and tighter for fresh tokens (`Cache-Control: no-cache`, or a token not cached
 * yet), each of which is a call to the identity provider, which throttles per client (Entra ID does):
 * one employee must not make the generator unusable for everyone. Counted in Redis when sessions are kept there, so that the limit
 * holds across replicas; in memory, per replica, without Redis or while Redis is away.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { GeneratorConfig } from '../../config.js';
import { entryBound } from '../../entry-bound.js';
import { refuse } from './problem.js';

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

export interface Limit {
  /** Names the counter (in Redis keys too). */
  name: string;
  max: number;
  windowMs: number;
  /** What is counted, for the refusal: "requests from your address". */
  counted: string;
}

/** One window per key: INCR, the expiry set by the first request of the window, and the time left. */
const INCREMENT = `local n = redis.call('incr', KEYS[1])
if n == 1 then redis.call('pexpire', KEYS[1], ARGV[1]) end
return {n, redis.call('pttl', KEYS[1])}`;
const LOG_EVERY_MS = 10_000;

export class RequestCounter {
  /**
   * The in-memory counter of each limit, by its name: one entry per limit there is (six, in
   * EmployeeLimits), not per request, so no bound; the addresses and sessions counted are bounded in each.
   */
  private readonly local = new Map<string, RateLimiter>();
  private lastErrorLog = 0;

  constructor(
    private readonly redis: Redis | undefined,
    private readonly logger: Logger,
    private readonly prefix = 'token-generator:limit:',
  ) {}

  async take(limit: Limit, key: string): Promise<Verdict> {
    if (this.redis?.status === 'ready') {
      try {
        const redisKey = `${this.prefix}${limit.name}:${createHash('sha256').update(key).digest('base64url')}`;
        const [count, ttl] = (await this.redis.eval(INCREMENT, 1, redisKey, limit.windowMs)) as [number, number];
        return { allowed: count <= limit.max, retryAfterSeconds: Math.max(1, Math.ceil(ttl / 1000)) };
      } catch (err) {
        this.logUnavailable(err);
      }
    }
    return this.localCounter(limit).take(key);
  }

  private localCounter(limit: Limit): RateLimiter {
    let limiter = this.local.get(limit.name);
    if (!limiter) this.local.set(limit.name, (limiter = new RateLimiter(limit.max, limit.windowMs)));
    return limiter;
  }

  private logUnavailable(err: unknown): void {
    const now = Date.now();
    if (now - this.lastErrorLog < LOG_EVERY_MS) return;
    this.lastErrorLog = now;
    this.logger.warn({ reason: err instanceof Error ? err.message : String(err) }, 'rate limits counted per replica: Redis is unavailable');
  }
}

export class EmployeeLimits {
  private readonly address: Limit;
  private readonly session: Limit;
  private readonly freshAddress: Limit;
  private readonly freshSession: Limit;
  private readonly login: Limit;
  private readonly cliToken: Limit;

  constructor(
    private readonly counter: RequestCounter,
    config: GeneratorConfig['rateLimit'],
  ) {
    const { windowMs } = config;
    this.address = { name: 'address', max: config.max, windowMs, counted: 'requests from your address' };
    this.session = { name: 'session', max: config.sessionMax, windowMs, counted: 'requests for your login' };
    const fresh = 'fresh tokens (asked for with Cache-Control: no-cache, or not cached yet)';
    this.freshAddress = { name: 'fresh-address', max: config.freshAddressMax, windowMs, counted: `${fresh} from your address` };
    this.freshSession = { name: 'fresh-session', max: config.freshSessionMax, windowMs, counted: `${fresh} for your login` };
    this.login = { name: 'login', max: config.loginMax, windowMs, counted: 'logins started from your address' };
    this.cliToken = { name: 'cli-token', max: config.cliTokenMax, windowMs, counted: 'authorization codes redeemed from your address' };
  }

  /** A token for a logged-in employee; `fresh` when it will be asked of the identity provider. */
  async tokenRequest(address: string, sessionId: string, fresh: boolean): Promise<void> {
    // The login's own limits first: an employee over them does not use up what their address may still ask.
    await this.enforce(
      fresh
        ? [
            [this.session, sessionId],
            [this.freshSession, sessionId],
          ]
        : [[this.session, sessionId]],
    );
    await this.enforce(
      fresh
        ? [
            [this.address, address],
            [this.freshAddress, address],
          ]
        : [[this.address, address]],
    );
  }

  async loginStart(address: string): Promise<void> {
    await this.enforce([[this.login, address]]);
  }

  async codeRedeem(address: string): Promise<void> {
    await this.enforce([[this.cliToken, address]]);
  }

  /** Counts the request against every limit; throws a 429 with Retry-After for the first one it is over. */
  private async enforce(checks: [Limit, string][]): Promise<void> {
    const verdicts = await Promise.all(checks.map(([limit, key]) => this.counter.take(limit, key)));
    const over = verdicts.findIndex((verdict) => !verdict.allowed);
    if (over === -1) return;
    const limit = checks[over]![0];
    const wait = verdicts[over]!.retryAfterSeconds;
    const message =
      `Too many ${limit.counted}: at most ${limit.max} in ${Math.round(limit.windowMs / 1000)} seconds. Try again ` + `in ${wait} seconds.`;
    throw refuse('rate_limited', message, { headers: { 'retry-after': String(wait) } });
  }
}
