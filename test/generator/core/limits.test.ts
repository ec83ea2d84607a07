import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../../src/generator/core/limits.js';

describe('RateLimiter', () => {
  it('allows max requests per window and address, then refuses with the seconds left', () => {
    let now = 1_000_000;
    const limiter = new RateLimiter(3, 60_000, 100, () => now);
    expect([1, 2, 3].map(() => limiter.take('a').allowed)).toEqual([true, true, true]);
    now += 20_000;
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 40 });
    // Another address has its own window.
    expect(limiter.take('b').allowed).toBe(true);
    now += 40_000;
    expect(limiter.take('a')).toEqual({ allowed: true, retryAfterSeconds: 60 });
  });

  it('never says to retry in less than a second', () => {
    let now = 0;
    const limiter = new RateLimiter(1, 1_000, 100, () => now);
    limiter.take('a');
    now = 999.5;
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 1 });
  });

  it('remembers a bounded number of addresses, dropping ended windows first, then the oldest', () => {
    let now = 0;
    const limiter = new RateLimiter(1, 1_000, 3, () => now);
    limiter.take('old');
    now = 2_000;
    limiter.take('a');
    limiter.take('b');
    limiter.take('c');
    expect(limiter.size).toBe(3);
    // 'old' had ended and went first; 'a', 'b', 'c' are still counted.
    expect(limiter.take('a').allowed).toBe(false);
    limiter.take('d');
    expect(limiter.size).toBe(3);
    // 'a' was the oldest window and was dropped to make room: it starts again.
    expect(limiter.take('a').allowed).toBe(true);
  });
});
