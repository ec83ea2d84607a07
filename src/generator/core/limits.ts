/**
 * Limits on what reaches the identity provider: per session and per client address, and tighter for
 * fresh tokens (`Cache-Control: no-cache`, or a token not cached yet), each of which is a call to the
 * provider, which throttles per client: one employee or one script must not make the generator
 * unusable for everyone. And limits on guessing: logins started, command-line codes redeemed, the
 * device flow's user codes tried and device authorizations started.
 *
 * One limiter, two backends behind `Limiter`: memory (per replica, answers at once) and Redis (across
 * replicas, with the memory backend while Redis is away). Each limit is a fixed window per key.
 */
import { digest } from '../../digest.js';
import { LRUCache } from 'lru-cache';
import ipaddr from 'ipaddr.js';
import type { Logger } from 'pino';
import type { GeneratorConfig } from '../../config.js';
import { entryBound } from '../../entry-bound.js';
import { refuse, type ProblemError } from './problem.js';

export interface Limit {
  /** Names the counter (in Redis keys too): one name, one limit. */
  name: string;
  max: number;
  windowMs: number;
  /** What is counted, for the refusal: "requests from your address". */
  counted: string;
}

export interface Verdict {
  allowed: boolean;
  /** Whole seconds until the caller's window ends. */
  retryAfterSeconds: number;
}

/** Counts one request of `key` against `limit`. */
export interface Limiter {
  take(limit: Limit, key: string): Verdict | Promise<Verdict>;
}

/** The 429 for a request over `limit`, with Retry-After; `code` for a limit whose refusal tools know by another name. */
export function overLimit(limit: Limit, verdict: Verdict, code: 'rate_limited' | 'too_many_codes' = 'rate_limited'): ProblemError {
  const wait = verdict.retryAfterSeconds;
  const message =
    `Too many ${limit.counted}: at most ${limit.max} in ${Math.round(limit.windowMs / 1000)} seconds. Try again ` + `in ${wait} seconds.`;
  return refuse(code, message, { headers: { 'retry-after': String(wait) } });
}

interface Window {
  count: number;
  endsAt: number;
}

/** The windows of one limit, by key. */
class Windows {
  /**
   * In the order they began (a lookup is a `peek`, which leaves the order as it is). All are equally
   * long, so that is also the order they end: when the map is full, lru-cache drops the oldest, an
   * ended window first if there is one.
   */
  private readonly windows: LRUCache<string, Window>;

  constructor(
    private readonly windowMs: number,
    maxKeys: number,
    private readonly now: () => number,
  ) {
    this.windows = new LRUCache(entryBound(maxKeys));
  }

  get size(): number {
    return this.windows.size;
  }

  take(max: number, key: string): Verdict {
    const now = this.now();
    let window = this.windows.peek(key);
    if (!window || window.endsAt <= now) {
      window = { count: 0, endsAt: now + this.windowMs };
      this.windows.set(key, window);
    }
    window.count++;
    return { allowed: window.count <= max, retryAfterSeconds: Math.max(1, Math.ceil((window.endsAt - now) / 1000)) };
  }
}

export interface MemoryLimiterOptions {
  /** Keys remembered at once per limit; beyond, ended windows go first, then the oldest. */
  maxKeys?: number;
  now?: () => number;
}

/** Counted in this process: synchronous, so it can guard the cached-token path without a promise. */
export class MemoryLimiter implements Limiter {
  /** By limit name: one entry per limit there is, not per request, so no bound; the keys are bounded in each. */
  private readonly limits = new Map<string, Windows>();
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(options: MemoryLimiterOptions = {}) {
    this.maxKeys = options.maxKeys ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  take(limit: Limit, key: string): Verdict {
    let windows = this.limits.get(limit.name);
    if (!windows) this.limits.set(limit.name, (windows = new Windows(limit.windowMs, this.maxKeys, this.now)));
    return windows.take(limit.max, key);
  }

  /** Keys counted for the limit now. */
  size(limit: Limit): number {
    return this.limits.get(limit.name)?.size ?? 0;
  }
}

/** One window per key: INCR, the expiry set by the first request of the window, and the time left. */
const INCREMENT = `local n = redis.call('incr', KEYS[1])
if n == 1 then redis.call('pexpire', KEYS[1], ARGV[1]) end
return {n, redis.call('pttl', KEYS[1])}`;
const LOG_EVERY_MS = 10_000;

/**
 * Where the Redis backend counts: the session store's connection, which knows whether Redis answers (connected, and took a
 * write since its last command timed out), and runs the count under its rules.
 */
export interface SharedCounter {
  health(): { reachable: boolean };
  /** Refused (a rejection) at once while Redis is known not to answer; a timeout makes it known. */
  script(source: string, keys: string[], args: (string | number)[]): Promise<unknown>;
}

export interface RedisLimiterOptions {
  /** The clock of the memory backend used while Redis is away, and of the warnings about it. */
  now?: () => number;
  prefix?: string;
}

/**
 * Counted in Redis, so that a limit holds across replicas; in memory, per replica, while Redis is away: from the moment the
 * store knows it (the connection lost, or a count or other command timed out while Redis hangs), at once, rather than after
 * a timeout each; in Redis again once it takes a write.
 */
export class RedisLimiter implements Limiter {
  private readonly fallback: MemoryLimiter;
  private readonly now: () => number;
  private readonly prefix: string;
  private lastErrorLog = -Infinity;

  constructor(
    private readonly redis: SharedCounter,
    private readonly logger: Logger,
    options: RedisLimiterOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.prefix = options.prefix ?? 'token-generator:limit:';
    this.fallback = new MemoryLimiter({ now: this.now });
  }

  async take(limit: Limit, key: string): Promise<Verdict> {
    if (this.redis.health().reachable) {
      try {
        const redisKey = `${this.prefix}${limit.name}:${digest(key)}`;
        const [count, ttl] = (await this.redis.script(INCREMENT, [redisKey], [limit.windowMs])) as [number, number];
        return { allowed: count <= limit.max, retryAfterSeconds: Math.max(1, Math.ceil(ttl / 1000)) };
      } catch (err) {
        this.logUnavailable(err);
      }
    }
    return this.fallback.take(limit, key);
  }

  private logUnavailable(err: unknown): void {
    const now = this.now();
    if (now - this.lastErrorLog < LOG_EVERY_MS) return;
    this.lastErrorLog = now;
    this.logger.warn({ reason: err instanceof Error ? err.message : String(err) }, 'rate limits counted per replica: Redis is unavailable');
  }
}

/**
 * The key a client's address is counted by. IPv6 by its /64: a host, or a home, gets a block of that size and takes any
 * address in it at will, each of which would start the limits afresh. IPv4 as it is, also when written as IPv4-mapped IPv6
 * (`::ffff:192.0.2.1`, as a dual-stack socket gives it).
 */
export function addressKey(address: string): string {
  if (!address.includes(':')) return address;
  const mapped = MAPPED_IPV4.exec(address);
  if (mapped) return mapped[1]!;
  let parsed: ipaddr.IPv6;
  try {
    parsed = ipaddr.IPv6.parse(address);
  } catch {
    return address;
  }
  if (parsed.isIPv4MappedAddress()) return parsed.toIPv4Address().toString();
  const [a, b, c, d] = parsed.parts.map((part) => part.toString(16));
  return `${a}:${b}:${c}:${d}::/64`;
}

/** IPv4-mapped IPv6 as a dual-stack socket writes it for every IPv4 client, read without parsing it as IPv6. */
const MAPPED_IPV4 = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i;

const FRESH = 'fresh tokens (asked for with Cache-Control: no-cache, or not cached yet)';
/** Lookups of user codes (and codes typed wrong) per address: enough for typing errors, far too few to guess one of 20^8. */
const DEVICE_LOOKUPS: Limit = { name: 'device-lookups', max: 10, windowMs: 60_000, counted: 'codes tried from your address' };
/** Device authorizations started per address: a tool starts one per login; a flood fills the store and the code space. */
const DEVICE_STARTS: Limit = { name: 'device-starts', max: 10, windowMs: 60_000, counted: 'device authorizations from your address' };

/** The limits of the generator, each said once. */
export class Limits {
  private readonly publicAddress: Limit;
  private readonly address: Limit;
  private readonly session: Limit;
  private readonly freshAddress: Limit;
  private readonly freshSession: Limit;
  private readonly login: Limit;
  private readonly cliToken: Limit;

  constructor(
    config: GeneratorConfig['rateLimit'],
    /** Counts every limit but the public one: in Redis when there is one, so that they hold across replicas. */
    private readonly limiter: Limiter,
    /** Counts the public limit. */
    private readonly local: MemoryLimiter = new MemoryLimiter(),
  ) {
    const { windowMs } = config;
    this.publicAddress = { name: 'public-address', max: config.max, windowMs, counted: 'requests from your address' };
    this.address = { name: 'address', max: config.max, windowMs, counted: 'requests from your address' };
    this.session = { name: 'session', max: config.sessionMax, windowMs, counted: 'requests for your login' };
    this.freshAddress = { name: 'fresh-address', max: config.freshAddressMax, windowMs, counted: `${FRESH} from your address` };
    this.freshSession = { name: 'fresh-session', max: config.freshSessionMax, windowMs, counted: `${FRESH} for your login` };
    this.login = { name: 'login', max: config.loginMax, windowMs, counted: 'logins started from your address' };
    this.cliToken = { name: 'cli-token', max: config.cliTokenMax, windowMs, counted: 'authorization codes redeemed from your address' };
  }

  /**
   * A request to a public endpoint: its refusal, or undefined. Counted in memory, per replica, by
   * design: it guards the cached-token path, where a round trip to Redis for every cached token would
   * cost more than the answer itself; what reaches the identity provider is counted by the other
   * limits, across replicas.
   */
  publicRequest(address: string): ProblemError | undefined {
    const verdict = this.local.take(this.publicAddress, addressKey(address));
    return verdict.allowed ? undefined : overLimit(this.publicAddress, verdict);
  }

  /**
   * A token for a logged-in employee, whether cached or not: the login's own limit, first, so that an
   * employee over it uses up nothing of what others at their address may still ask.
   */
  async loginRequest(sessionId: string): Promise<void> {
    await this.enforce([[this.session, sessionId]]);
  }

  /**
   * A token for a logged-in employee about to be asked of the identity provider: the login's fresh limit
   * first, then the address's limits. Like `freshAppToken`, counted inside the call that asks it.
   */
  async freshEmployeeToken(address: string, sessionId: string): Promise<void> {
    await this.enforce([[this.freshSession, sessionId]]);
    const key = addressKey(address);
    await this.enforce([
      [this.address, key],
      [this.freshAddress, key],
    ]);
  }

  /** A token for a logged-in employee that asked the provider nothing (cached, or from a call under way): the address's limit. */
  async addressRequest(address: string): Promise<void> {
    await this.enforce([[this.address, addressKey(address)]]);
  }

  /**
   * An app token about to be asked of the identity provider: the fresh limit of the address of the
   * caller that starts the call. `Tokens` counts inside the call it shares, so callers arriving during
   * the count (a Redis round trip) share it rather than count again.
   */
  async freshAppToken(address: string): Promise<void> {
    await this.enforce([[this.freshAddress, addressKey(address)]]);
  }

  async loginStart(address: string): Promise<void> {
    await this.enforce([[this.login, addressKey(address)]]);
  }

  async codeRedeem(address: string): Promise<void> {
    await this.enforce([[this.cliToken, addressKey(address)]]);
  }

  /** A user code looked up on the device page, or typed wrong there: counted across replicas, so more replicas give no more guesses. */
  async deviceLookup(address: string): Promise<void> {
    await this.enforce([[DEVICE_LOOKUPS, addressKey(address)]], 'too_many_codes');
  }

  async deviceStart(address: string): Promise<void> {
    await this.enforce([[DEVICE_STARTS, addressKey(address)]], 'too_many_codes');
  }

  /** Counts the request against every limit; throws a 429 with Retry-After for the first one it is over. */
  private async enforce(checks: [Limit, string][], code?: 'too_many_codes'): Promise<void> {
    const verdicts = await Promise.all(checks.map(([limit, key]) => this.limiter.take(limit, key)));
    const over = verdicts.findIndex((verdict) => !verdict.allowed);
    if (over !== -1) throw overLimit(checks[over]![0], verdicts[over]!, code);
  }
}
