/**
 * The test process's clock, moved forward on demand: where a test would sleep through a lifetime the
 * service measures (an employee's token, a login, a device code's poll interval, the keys' cooldown),
 * it advances the clock instead. The service runs in the test's process, so the generator, the emulator
 * and the libraries they use (jose, lru-cache) all read this one clock through `Date` and
 * `performance.now()`, and see the same time pass at once. Timers (`setTimeout`) keep real time:
 * timeouts, retries and waits for the network are unchanged.
 *
 * Install it before the service starts, so that a `Date.now` kept by reference at start is this clock.
 * Each test file runs in a process of its own (vitest's forks pool); `restore` is for tidiness.
 */
export interface TestClock {
  /** Moves the clock forward by `ms`, as if that much time had passed. */
  advance(ms: number): void;
  restore(): void;
}

let installed: TestClock | undefined;

export function installClock(): TestClock {
  if (installed) return installed;
  const RealDate = Date;
  const realNow = RealDate.now.bind(RealDate);
  const realPerformanceNow = performance.now.bind(performance);
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
      performance.now = realPerformanceNow;
      installed = undefined;
    },
  };
  return installed;
}

/** The installed clock; a helper that moves time forward needs the test file to have installed it before its service started. */
export function testClock(): TestClock {
  if (!installed) throw new Error('installClock() first, before the service starts');
  return installed;
}
