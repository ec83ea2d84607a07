/**
 * The one limiter: its memory backend on an injected clock, the Redis backend's fallback to it while
 * Redis is away, and the refusals of `Limits`, the public endpoints' among them.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { addressKey, Limits, MemoryLimiter, RedisLimiter, type Limit } from '../../../src/generator/core/limits.js';
import { PROBLEM_CODES } from '../../../src/generator/core/problem.js';

const limit = (max: number, windowMs: number, name = 'test'): Limit => ({ name, max, windowMs, counted: 'tests' });

describe('MemoryLimiter', () => {
  it('allows max requests per window and key, then refuses with the seconds left', () => {
    let now = 1_000_000;
    const limiter = new MemoryLimiter({ maxKeys: 100, now: () => now });
    const three = limit(3, 60_000);
    expect([1, 2, 3].map(() => limiter.take(three, 'a').allowed)).toEqual([true, true, true]);
    now += 20_000;
    expect(limiter.take(three, 'a')).toEqual({ allowed: false, retryAfterSeconds: 40 });
    // Another key has its own window.
    expect(limiter.take(three, 'b').allowed).toBe(true);
    now += 40_000;
    expect(limiter.take(three, 'a')).toEqual({ allowed: true, retryAfterSeconds: 60 });
  });

  it('counts each limit apart, by its name', () => {
    const limiter = new MemoryLimiter({ now: () => 0 });
    const one = limit(1, 1_000, 'one');
    const other = limit(1, 1_000, 'other');
    expect(limiter.take(one, 'a').allowed).toBe(true);
    expect(limiter.take(one, 'a').allowed).toBe(false);
    expect(limiter.take(other, 'a').allowed).toBe(true);
  });

  it('never says to retry in less than a second', () => {
    let now = 0;
    const limiter = new MemoryLimiter({ maxKeys: 100, now: () => now });
    const one = limit(1, 1_000);
    limiter.take(one, 'a');
    now = 999.5;
    expect(limiter.take(one, 'a')).toEqual({ allowed: false, retryAfterSeconds: 1 });
  });

  it('remembers a bounded number of keys per limit, dropping ended windows first, then the oldest', () => {
    let now = 0;
    const limiter = new MemoryLimiter({ maxKeys: 3, now: () => now });
    const one = limit(1, 1_000);
    limiter.take(one, 'old');
    now = 2_000;
    limiter.take(one, 'a');
    limiter.take(one, 'b');
    limiter.take(one, 'c');
    expect(limiter.size(one)).toBe(3);
    // 'old' had ended and went first; 'a', 'b', 'c' are still counted.
    expect(limiter.take(one, 'a').allowed).toBe(false);
    limiter.take(one, 'd');
    expect(limiter.size(one)).toBe(3);
    // 'a' was the oldest window and was dropped to make room: it starts again.
    expect(limiter.take(one, 'a').allowed).toBe(true);
  });
});

describe('RedisLimiter while Redis is away', () => {
  /** A store that answers counts (each its own count, starting at 1) while `reachable`, and fails the test if asked otherwise. */
  const counter = () => {
    const shared = {
      reachable: false,
      scripts: 0,
      health: () => ({ reachable: shared.reachable }),
      script: async () => {
        if (!shared.reachable) throw new Error('a count sent to a Redis known not to answer');
        shared.scripts++;
        return [shared.scripts, 10_000];
      },
    };
    return shared;
  };

  it('counts in memory, per replica, on its clock', async () => {
    let now = 0;
    const logger = pino({ level: 'silent' });
    // Never connected, as while Redis is down.
    const limiter = new RedisLimiter(counter(), logger, { now: () => now });
    const two = limit(2, 10_000);
    expect((await limiter.take(two, 'a')).allowed).toBe(true);
    expect((await limiter.take(two, 'a')).allowed).toBe(true);
    expect(await limiter.take(two, 'a')).toEqual({ allowed: false, retryAfterSeconds: 10 });
    now += 10_000;
    expect((await limiter.take(two, 'a')).allowed).toBe(true);
  });

  it('sends nothing to Redis while the store knows it does not answer, and counts there again once it does', async () => {
    const redis = counter();
    const limiter = new RedisLimiter(redis, pino({ level: 'silent' }));
    const two = limit(2, 10_000);
    redis.reachable = true;
    expect((await limiter.take(two, 'a')).allowed).toBe(true);
    redis.reachable = false;
    expect((await limiter.take(two, 'a')).allowed).toBe(true);
    redis.reachable = true;
    expect(await limiter.take(two, 'a')).toEqual({ allowed: true, retryAfterSeconds: 10 });
    expect(await limiter.take(two, 'a')).toEqual({ allowed: false, retryAfterSeconds: 10 });
    expect(redis.scripts).toBe(3);
  });
});

describe('Limits', () => {
  const config = (vars: Record<string, string>) => loadConfig({ PUBLIC_URL: 'http://127.0.0.1:8080', ...vars }).generator.rateLimit;

  it('refuse public requests past the limit of the address, at once and in memory, with a 429 and Retry-After', () => {
    let now = 0;
    const local = new MemoryLimiter({ now: () => now });
    const limits = new Limits(config({ RATE_LIMIT_MAX: '2', RATE_LIMIT_WINDOW_SECONDS: '60' }), local, local);
    expect(limits.publicRequest('10.0.0.1')).toBeUndefined();
    expect(limits.publicRequest('10.0.0.1')).toBeUndefined();
    now += 15_000;
    const refusal = limits.publicRequest('10.0.0.1');
    expect(refusal?.problem.code).toBe('rate_limited');
    expect(PROBLEM_CODES.rate_limited.status).toBe(429);
    expect(refusal?.headers).toEqual({ 'retry-after': '45' });
    expect(refusal?.problem.message).toBe('Too many requests from your address: at most 2 in 60 seconds. Try again in 45 seconds.');
    expect(limits.publicRequest('10.0.0.2')).toBeUndefined();
    now += 45_000;
    expect(limits.publicRequest('10.0.0.1')).toBeUndefined();
  });

  it('count an IPv6 client by its /64, in which it may take any address; IPv4 as it is, mapped into IPv6 or not', async () => {
    const local = new MemoryLimiter({ now: () => 0 });
    const limits = new Limits(config({ RATE_LIMIT_MAX: '1', RATE_LIMIT_LOGIN_MAX: '1' }), local, local);
    expect(limits.publicRequest('2001:db8:1:2::1')).toBeUndefined();
    expect(limits.publicRequest('2001:DB8:1:2:ffff:0:0:2')?.problem.code).toBe('rate_limited');
    expect(limits.publicRequest('2001:db8:1:3::1')).toBeUndefined();
    await limits.loginStart('2001:db8:7:7::1');
    await expect(limits.loginStart('2001:db8:7:7:1:2:3:4')).rejects.toMatchObject({ problem: { code: 'rate_limited' } });
    expect(limits.publicRequest('192.0.2.1')).toBeUndefined();
    expect(limits.publicRequest('::ffff:192.0.2.1')?.problem.code).toBe('rate_limited');
    expect(limits.publicRequest('192.0.2.2')).toBeUndefined();
    expect(
      [
        '2001:db8:1:2::',
        '2001:0db8:0001:0002:0000:0000:0000:0001',
        'fe80::1%eth0',
        '2001:db8::192.0.2.1',
        '::ffff:c000:201',
        '0:0:0:0:0:ffff:192.0.2.1',
        '::1',
      ].map(addressKey),
    ).toEqual(['2001:db8:1:2::/64', '2001:db8:1:2::/64', 'fe80:0:0:0::/64', '2001:db8:0:0::/64', '192.0.2.1', '192.0.2.1', '0:0:0:0::/64']);
    // Anything else is counted as it is written.
    expect(['1::2::3', '1:2:3:4:5:6:7:8:9', '1::2.3.4.500', 'unknown'].map(addressKey)).toEqual([
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      '1::2.3.4.500',
      'unknown',
    ]);
  });

  it('count the public requests apart from those of logged-in employees', async () => {
    const local = new MemoryLimiter({ now: () => 0 });
    const limits = new Limits(config({ RATE_LIMIT_MAX: '1' }), local, local);
    expect(limits.publicRequest('10.0.0.1')).toBeUndefined();
    await expect(limits.addressRequest('10.0.0.1')).resolves.toBeUndefined();
  });
});
