/**
 * Waiting for something to happen (a port listening, a log line, a process gone, a store reachable)
 * rather than for a fixed time: asks `condition` every `interval` ms until it holds, and fails with
 * `what` once `timeout` ms passed. A fixed sleep is either too short on a loaded machine or too long
 * on an idle one; this is as short as the event allows.
 */
export interface WaitOptions {
  /** What is awaited, for the error when it does not come. */
  what?: string;
  timeout?: number;
  interval?: number;
}

export async function waitFor<T>(condition: () => T | Promise<T>, options: WaitOptions = {}): Promise<NonNullable<T>> {
  const { what = 'the condition', timeout = 10_000, interval = 20 } = options;
  // Real time (hrtime), which test/helpers/clock.ts does not move.
  const elapsed = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e6;
  const started = process.hrtime.bigint();
  for (;;) {
    const value = await condition();
    if (value) return value as NonNullable<T>;
    if (elapsed(started) > timeout) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await sleep(interval);
  }
}

/** A fixed pause, for where the time itself is the behaviour under test; the caller says why. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
