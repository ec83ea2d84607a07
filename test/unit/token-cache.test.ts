import { describe, expect, it } from 'vitest';
import { TokenCache } from '../../src/cache/token-cache.js';

const token = (name: string, expiresAt: number) => ({ accessToken: name, expiresAt });

describe('TokenCache', () => {
  it('keeps a token until two minutes before it expires', async () => {
    let now = 1_000_000;
    const cache = new TokenCache<{ accessToken: string; expiresAt: number }>({ maxEntries: 10, now: () => now });
    let calls = 0;
    const fetch = async () => token(`t${++calls}`, now + 600_000);
    expect((await cache.get('k', fetch)).hit).toBe(false);
    now += 479_000; // 121 s left
    expect(await cache.get('k', fetch)).toEqual({ token: token('t1', 1_600_000), hit: true });
    now += 2_000; // 119 s left: too close to expiry
    expect((await cache.get('k', fetch)).token.accessToken).toBe('t2');
    expect(calls).toBe(2);
  });

  it('keeps a token that lives less than four minutes for half its lifetime, and one already expired not at all', async () => {
    let now = 1_000_000;
    const cache = new TokenCache<{ accessToken: string; expiresAt: number }>({ maxEntries: 10, now: () => now });
    await cache.get('k', async () => token('short', now + 60_000));
    now += 29_000;
    expect(cache.peek('k')?.accessToken).toBe('short');
    now += 2_000;
    expect(cache.peek('k')).toBeUndefined();
    await cache.get('k', async () => token('expired', now));
    expect(cache.size).toBe(0);
  });

  it('coalesces concurrent requests for one key into one call', async () => {
    const cache = new TokenCache({ maxEntries: 10 });
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const fetch = async () => {
      calls++;
      await gate;
      return token('shared', Date.now() + 3_600_000);
    };
    const pending = Array.from({ length: 50 }, () => cache.get('k', fetch));
    release();
    const results = await Promise.all(pending);
    expect(calls).toBe(1);
    expect(results.filter((r) => !r.hit)).toHaveLength(1);
    expect(new Set(results.map((r) => r.token.accessToken))).toEqual(new Set(['shared']));
  });

  it('never keeps an error, and shares it only with callers already waiting', async () => {
    const cache = new TokenCache({ maxEntries: 10 });
    let calls = 0;
    const failing = async () => {
      calls++;
      throw new Error('refused');
    };
    const results = await Promise.allSettled([cache.get('k', failing), cache.get('k', failing)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(calls).toBe(1);
    await expect(cache.get('k', failing)).rejects.toThrow('refused');
    expect(calls).toBe(2);
    const ok = await cache.get('k', async () => token('ok', Date.now() + 3_600_000));
    expect(ok.token.accessToken).toBe('ok');
  });

  it('evicts the least recently used entry beyond its bounds in entries and bytes', async () => {
    const cache = new TokenCache({ maxEntries: 3, maxBytes: 10_000 });
    const later = Date.now() + 3_600_000;
    for (const key of ['a', 'b', 'c']) await cache.get(key, async () => token(key, later));
    await cache.get('a', async () => token('unused', later)); // touch a
    await cache.get('d', async () => token('d', later));
    expect(cache.size).toBe(3);
    expect((await cache.get('b', async () => token('b2', later))).hit).toBe(false);

    const small = new TokenCache({ maxEntries: 100, maxBytes: 2_500 });
    for (let i = 0; i < 10; i++) await small.get(`k${i}`, async () => token('x'.repeat(1000), later));
    expect(small.size).toBe(2);
    expect(small.sizeInBytes).toBeLessThanOrEqual(2_500);
  });

  it('counts the bytes of each token and key, and gives them back when a token is replaced or expires', async () => {
    let now = 1_000_000;
    const cache = new TokenCache<{ accessToken: string; expiresAt: number }>({ maxEntries: 10, maxBytes: 2_100, now: () => now });
    const put = (key: string, size: number, expiresAt = now + 600_000) =>
      cache.get(key, async () => token('x'.repeat(size), expiresAt), { skipCache: true });
    await put('key', 1_000);
    expect(cache.sizeInBytes).toBe(1_003);
    await put('key', 500);
    expect([cache.size, cache.sizeInBytes]).toEqual([1, 503]);
    await put('other', 1_000, now + 300_000);
    expect(cache.sizeInBytes).toBe(1_508);
    // 'key' is the least recently used: the next thousand bytes do not fit beside both.
    await put('third', 1_000);
    expect([cache.peek('key'), cache.size, cache.sizeInBytes]).toEqual([undefined, 2, 2_010]);
    // Once inside its early-expiry margin a token is gone, and its bytes with it.
    now += 200_000;
    expect(cache.peek('other')).toBeUndefined();
    expect([cache.size, cache.sizeInBytes]).toEqual([1, 1_005]);
  });

  it('keeps least-recently-used order through repeated lookups, expiries and replacements', async () => {
    let now = 1_000_000;
    const cache = new TokenCache<{ accessToken: string; expiresAt: number }>({ maxEntries: 3, now: () => now });
    const put = (key: string, expiresAt = now + 3_600_000) => cache.get(key, async () => token(key, expiresAt), { skipCache: true });
    const kept = () => ['a', 'b', 'c', 'd', 'e'].filter((key) => cache.peek(key) !== undefined);
    await put('a');
    await put('b');
    await put('c');
    // c is the most recent; looking it up again and again keeps it so, and a is still the oldest.
    for (let i = 0; i < 3; i++) cache.peek('c');
    cache.peek('a');
    cache.peek('a'); // a, now the most recent, twice
    await put('d'); // evicts b, the least recently used
    expect(cache.peek('b')).toBeUndefined();
    // Order now c, a, d. Replacing d's token keeps d the most recent; then c is evicted by e.
    await put('d');
    await put('e');
    expect(cache.peek('c')).toBeUndefined();
    // Order a, d, e. The most recent entry expires (and is deleted on lookup); a lookup then still reorders.
    await put('x', now + 150_000); // evicts a: d, e, x
    now += 100_000;
    expect(cache.peek('x')).toBeUndefined(); // inside the early-expiry margin: gone
    cache.peek('d'); // e, d
    await put('b'); // e, d, b
    await put('a'); // evicts e
    expect(kept()).toEqual(['a', 'b', 'd']);
  });

  it('moves a looked-up entry to the most recent place even right after another was stored or looked up', async () => {
    const cache = new TokenCache<{ accessToken: string; expiresAt: number }>({ maxEntries: 2 });
    const put = (key: string) => cache.get(key, async () => token(key, Date.now() + 3_600_000), { skipCache: true });
    await put('a');
    cache.peek('a');
    await put('b'); // b is now the most recent, although a was looked up last
    cache.peek('a'); // a, b -> b, a
    await put('c'); // evicts b
    expect([cache.peek('a') !== undefined, cache.peek('b') !== undefined]).toEqual([true, false]);

    const other = new TokenCache<{ accessToken: string; expiresAt: number }>({ maxEntries: 3 });
    const set = (key: string) => other.get(key, async () => token(key, Date.now() + 3_600_000), { skipCache: true });
    await set('a');
    await set('b');
    await set('c');
    other.peek('a'); // b, c, a
    other.peek('c'); // b, a, c
    await set('d'); // evicts b
    await set('e'); // evicts a
    expect(['a', 'b', 'c'].map((key) => other.peek(key) !== undefined)).toEqual([false, false, true]);

    // A new token for the least recently used key makes it the most recent.
    const replaced = new TokenCache<{ accessToken: string; expiresAt: number }>({ maxEntries: 3 });
    const renew = (key: string) => replaced.get(key, async () => token(key, Date.now() + 3_600_000), { skipCache: true });
    await renew('a');
    await renew('b');
    await renew('c');
    await renew('a'); // b, c, a
    await renew('d'); // evicts b
    expect(['a', 'b', 'c', 'd'].map((key) => replaced.peek(key) !== undefined)).toEqual([true, false, true, true]);
  });

  it('skips the cache on request but still stores the new token', async () => {
    const cache = new TokenCache({ maxEntries: 10 });
    const later = Date.now() + 3_600_000;
    await cache.get('k', async () => token('one', later));
    const fresh = await cache.get('k', async () => token('two', later), { skipCache: true });
    expect(fresh).toEqual({ token: token('two', later), hit: false });
    expect((await cache.get('k', async () => token('three', later))).token.accessToken).toBe('two');
  });
});
