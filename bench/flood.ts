/**
 * 5b. The emulator's memory under a full-size flood of sign-ins, in this process (`startEmulator()`
 * with its stores' own bounds and lifetimes): BENCH_FLOOD_POSTS (20,000) sign-in posts with 200
 * groups each and BENCH_FLOOD_LOGINS (15,000) headless logins that redeem their code, as in the
 * report that asked for the bounds. The heap after full collections before, with the flood held, and
 * once every entry has expired: the clock (Date.now) is moved on past the longest lifetime (a day,
 * the refresh tokens') rather than waited for.
 */
import { startEmulator } from '../packages/entra-emulator/src/index.js';
import { DEFAULT_STORE_SETTINGS } from '../packages/entra-emulator/src/stores.js';
import { heapAfterGc } from '../test/helpers/heap.js';
import { floodClient, headlessLogins, signInFlood } from '../test/helpers/sign-in-flood.js';
import { fmt, heading, line } from './lib.js';

export async function flood(): Promise<void> {
  heading('5b. Emulator memory: a flood of sign-in posts and headless logins, then every store entry expired');
  const posts = Number(process.env.BENCH_FLOOD_POSTS ?? 20_000);
  const logins = Number(process.env.BENCH_FLOOD_LOGINS ?? 15_000);
  // The sign-in attempts' lifetime, the shortest, sets how often the stores are swept: every second.
  const signInAttempts = { ...DEFAULT_STORE_SETTINGS.signInAttempts, lifetimeMs: 1000 };
  const emulator = await startEmulator({ signInRateLimit: 0, stores: { signInAttempts } });
  const client = floodClient(emulator);
  const mb = (n: number) => `${fmt(n / 1024 / 1024, 1)} MB`;
  const realNow = Date.now.bind(Date);
  let ahead = 0;
  Date.now = () => realNow() + ahead;
  const expireAll = async () => {
    ahead += Math.max(...Object.values(DEFAULT_STORE_SETTINGS).map((limits) => limits.lifetimeMs)) + 60_000;
    await new Promise((resolve) => setTimeout(resolve, 2500));
  };
  try {
    // Every path once, expired, so that what is built on first use counts in the baseline.
    await signInFlood(emulator, client, 100, 0);
    await headlessLogins(emulator, client, 100, 100);
    await expireAll();
    const baseline = await heapAfterGc();
    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    await signInFlood(emulator, client, posts, 1000);
    const postsSeconds = (performance.now() - started) / 1000;
    await headlessLogins(emulator, client, logins, 1000 + posts);
    const seconds = (performance.now() - started) / 1000;
    const held = await heapAfterGc();
    const rssHeld = process.memoryUsage().rss;
    await expireAll();
    const after = await heapAfterGc();
    line('heap before the flood (baseline)', mb(baseline));
    line(
      `heap, ${fmt(posts)} sign-in posts + ${fmt(logins)} logins held`,
      `${mb(held)} (+${mb(held - baseline)}; ${fmt(posts / postsSeconds)} posts/s, ${fmt(seconds)} s in all)`,
    );
    line('heap once every entry has expired', `${mb(after)} (+${mb(after - baseline)} over the baseline)`);
    line('RSS before / with the flood held / after', `${mb(rssBefore)} / ${mb(rssHeld)} / ${mb(process.memoryUsage().rss)}`);
  } finally {
    Date.now = realNow;
    await emulator.close();
  }
}
