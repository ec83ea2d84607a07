/**
 * The emulator's memory after a flood: sign-in posts with the largest group lists the form takes,
 * and headless logins that redeem their code for tokens and a refresh token, against startEmulator()
 * with its stores' own bounds and lifetimes. While the stores hold the flood the heap is well above
 * its baseline; once their entries have expired and been swept, it is back near it. Rather than
 * waiting a day for the refresh tokens to expire, the emulator's clock (Date.now) is moved on past
 * the longest lifetime. The heap is measured after full collections (vitest runs the test files with
 * --expose-gc, see vitest.config.ts); the full-size figure is in the memory benchmark (bench/run.ts,
 * BENCHMARKS.md figure 5).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startEmulator, type Emulator } from '../../packages/entra-emulator/src/index.js';
import { BoundedStore, DEFAULT_STORE_SETTINGS } from '../../packages/entra-emulator/src/stores.js';
import { heapAfterGc } from '../helpers/heap.js';
import { floodClient, headlessLogins, signInFlood, type FloodClient } from '../helpers/sign-in-flood.js';
import { waitFor } from '../helpers/wait-for.js';

const SIGN_IN_POSTS = Number(process.env.MEMORY_SIGN_IN_POSTS ?? 1500);
const HEADLESS_LOGINS = Number(process.env.MEMORY_HEADLESS_LOGINS ?? 400);
const MB = 1024 * 1024;
const longestLifetimeMs = Math.max(...Object.values(DEFAULT_STORE_SETTINGS).map((limits) => limits.lifetimeMs));

let emulator: Emulator;
let client: FloodClient;
/** Every store's sweeps, counted: one timer sweeps all the stores at once. */
const sweeps = vi.spyOn(BoundedStore.prototype, 'sweep');
const STORES = Object.keys(DEFAULT_STORE_SETTINGS).length;

beforeAll(async () => {
  // The stores as they are by default, but for the sign-in attempts', whose lifetime (the shortest)
  // sets how often all are swept: every second here, rather than every minute.
  const signInAttempts = { ...DEFAULT_STORE_SETTINGS.signInAttempts, lifetimeMs: 1000 };
  emulator = await startEmulator({ signInRateLimit: 0, stores: { signInAttempts } });
  client = floodClient(emulator);
});

afterAll(async () => {
  vi.restoreAllMocks();
  await emulator?.close();
});

/** How far the clock has been moved on. */
let ahead = 0;

/** Moves the clock on past every store's lifetime and waits for the next sweep of them all. */
async function expireEverything(): Promise<void> {
  if (ahead === 0) {
    const now = Date.now.bind(Date);
    vi.spyOn(Date, 'now').mockImplementation(() => now() + ahead);
  }
  ahead += longestLifetimeMs + 60_000;
  const before = sweeps.mock.calls.length;
  await waitFor(() => sweeps.mock.calls.length >= before + STORES, { what: 'a sweep of every store', interval: 50 });
}

describe('the emulator under a flood of sign-ins', () => {
  it('holds the flood in its bounded stores, and gives the memory back once their entries expire', async () => {
    // Every path once, then their entries expired, so that what is built on first use counts in the baseline.
    await signInFlood(emulator, client, 50, 0);
    await headlessLogins(emulator, client, 50, 100);
    await expireEverything();
    const baseline = await heapAfterGc();

    await signInFlood(emulator, client, SIGN_IN_POSTS, 1000);
    await headlessLogins(emulator, client, HEADLESS_LOGINS, 1000 + SIGN_IN_POSTS);
    const held = await heapAfterGc();
    const report = () => `heap: baseline ${(baseline / MB).toFixed(1)} MB, held ${(held / MB).toFixed(1)} MB`;
    expect(held - baseline, report()).toBeGreaterThan(12 * MB);

    await expireEverything();
    const after = await heapAfterGc();
    expect(after - baseline, `${report()}, after expiry ${(after / MB).toFixed(1)} MB`).toBeLessThan(
      Math.max(6 * MB, 0.2 * (held - baseline)),
    );
    // And it still signs people in.
    await headlessLogins(emulator, client, 1, 999_999);
  }, 180_000);
});
