/**
 * The test process's clock, moved forward on demand: where a test would sleep through a lifetime the
 * service measures (an employee's token, a login, a device code's poll interval, the keys' cooldown),
 * it advances the clock instead. The service runs in the test's process, so the generator, the emulator
 * and the libraries they use (jose, lru-cache) all read this one clock through `Date` and
 * `performance.now()`, and see the same time pass at once. Timers (`setTimeout`) keep real time:
 * timeouts, retries and waits for the network are unchanged.
 *
 * Install it before the service starts, so that a `Date.now` kept by reference at start is this clock.
 * Install it at the top of the test file: it is restored when the file's tests end (its `afterAll`), so that a
 * file run after it in the same process (vitest without isolation) reads the real clock, and can mock it.
 */
import { afterAll } from 'vitest';

export interface TestClock {
  /** Moves the clock forward by `ms`, as if that much time had passed. */
  advance(ms: number): void;
  restore(): void;
}

let installed: TestClock | undefined;

/** Installs the clock for the test file calling it, at its top level, and restores it when the file's tests end. */
export function installClock(): TestClock {
  if (installed) return installed;
  const RealDate = Date;
  const realNow = RealDate.now.bind(RealDate);
  const PerformanceNow = performance.now;
  const realPerformanceNow = PerformanceNow.bind(performance);
  let offset = 0;
  const now = () => realNow() + offset;
  const ShiftedDate = new Proxy(RealDate, {
    // `new Date()` is now; `new Date(x)` is x, as ever. Instances are real Dates.
    construct: (target, args: unknown[], newTarget) =>
      args.length === 0 ? Reflect.construct(target, [now()], newTarget) : Reflect.construct(target, args, newTarget),
    apply: () => new RealDate(now()).toString(),
    get: (target, property, receiver) => (property === 'now' ? now : Reflect.get(target, property, receiver)),
  });
  globalThis.Date = ShiftedDate;
  performance.now = () => realPerformanceNow() + offset;
  installed = {
    advance(ms: number) {
      offset += ms;
    },
    restore() {
      globalThis.Date = RealDate;
      performance.now = PerformanceNow;
      installed = undefined;
    },
  };
  // Registered before the file's own hooks, so that it runs after them (vitest runs `afterAll` hooks last-first):
  // the services the file closes there still read this clock.
  afterAll(() => installed?.restore());
  return installed;
}

/** The installed clock; a helper that moves time forward needs the test file to have installed it before its service started. */
export function testClock(): TestClock {
  if (!installed) throw new Error('installClock() first, before the service starts');
  return installed;
}
