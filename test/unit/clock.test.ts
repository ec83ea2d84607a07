/**
 * The test clock (test/helpers/clock.ts) is restored when the tests that installed it end: a file run after them in
 * the same process (vitest without isolation) reads the real clock, and its `vi.spyOn(Date, 'now')` works.
 */
import { describe, expect, it, vi } from 'vitest';
import { installClock } from '../helpers/clock.js';

const RealDate = Date;
const realPerformanceNow = performance.now;

describe('a clock installed by a suite', () => {
  const clock = installClock();

  it('moves Date and performance.now forward', () => {
    const before = Date.now();
    clock.advance(86_400_000);
    expect(Date.now() - before).toBeGreaterThanOrEqual(86_400_000);
    expect(new Date().getTime()).toBeGreaterThanOrEqual(before + 86_400_000);
  });
});

describe('after the suite that installed it', () => {
  it('is gone: Date and performance.now are the real ones again, and Date.now can be mocked', () => {
    expect(Date).toBe(RealDate);
    expect(performance.now).toBe(realPerformanceNow);
    const spy = vi.spyOn(Date, 'now').mockReturnValue(0);
    expect(Date.now()).toBe(0);
    spy.mockRestore();
  });

  it('starts again from the real time when installed again', () => {
    const clock = installClock();
    try {
      expect(Math.abs(Date.now() - RealDate.now())).toBeLessThan(60_000);
    } finally {
      clock.restore();
    }
  });
});
