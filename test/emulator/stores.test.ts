/**
 * The emulator's stores hold what a flood leaves within their bounds: entries, bytes (keys and
 * values as estimated) and lifetimes, on the clock the emulator reads (Date.now).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { approximateBytes, BoundedStore, Stores } from '../../packages/entra-emulator/src/stores.js';

const MINUTE = 60_000;

/** Date.now from now on `ahead` milliseconds later than it is. */
function clockAhead(): { move: (ms: number) => void } {
  const real = Date.now.bind(Date);
  let ahead = 0;
  vi.spyOn(Date, 'now').mockImplementation(() => real() + ahead);
  return { move: (ms) => (ahead += ms) };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('BoundedStore', () => {
  it('holds at most its entries, the least recently used going first', () => {
    const store = new BoundedStore<string>({ maxEntries: 3, maxBytes: 1_000_000, lifetimeMs: MINUTE });
    for (const key of ['a', 'b', 'c']) store.set(key, key);
    expect(store.get('a')).toBe('a'); // b is now the least recently used
    store.set('d', 'd');
    expect(store.size).toBe(3);
    expect(['a', 'b', 'c', 'd'].map((key) => store.has(key))).toEqual([true, false, true, true]);
    for (let i = 0; i < 100; i++) store.set(`k${i}`, 'value');
    expect(store.size).toBe(3);
    // Setting a key again replaces its value and adds no entry.
    store.set('k99', 'again');
    expect([store.size, store.get('k99')]).toEqual([3, 'again']);
  });

  it('holds at most its bytes, counting keys and values, and gives them back as entries leave', () => {
    const value = 'x'.repeat(100);
    const key = (i: number) => `k${String(i).padStart(2, '0')}`;
    const entryBytes = 2 * key(0).length + approximateBytes(value);
    const store = new BoundedStore<string>({ maxEntries: 1_000, maxBytes: 5 * entryBytes, lifetimeMs: MINUTE });
    store.set(key(0), value);
    expect(store.bytes).toBe(entryBytes);
    for (let i = 1; i < 20; i++) store.set(key(i), value);
    expect(store.size).toBe(5);
    expect(store.bytes).toBe(5 * entryBytes);
    expect([store.has(key(14)), store.has(key(15))]).toEqual([false, true]);
    store.delete(key(15));
    expect(store.bytes).toBe(4 * entryBytes);
    // A value larger than the whole store is not kept, and pushes nothing out.
    store.set('huge', 'x'.repeat(10 * 100));
    expect([store.has('huge'), store.size]).toEqual([false, 4]);
    // The size of a value is the store's own measure of it.
    const counted = new BoundedStore<string>({ maxEntries: 1_000, maxBytes: 1_000, lifetimeMs: MINUTE }, () => 300);
    for (let i = 0; i < 10; i++) counted.set(`k${i}`, 'small');
    expect([counted.size, counted.bytes]).toEqual([3, 3 * (300 + 4)]);
  });

  it("hands out a value for its lifetime only, the store's at most, and sweeps expired ones without a lookup", () => {
    const clock = clockAhead();
    const store = new BoundedStore<string>({ maxEntries: 100, maxBytes: 1_000_000, lifetimeMs: 10 * MINUTE });
    store.set('default', 'v');
    store.set('short', 'v', MINUTE);
    store.set('longer than the store allows', 'v', 60 * MINUTE);
    store.set('already expired', 'v', -1);
    expect(store.has('already expired')).toBe(false);
    expect(store.size).toBe(3);

    clock.move(MINUTE - 1_000);
    expect(store.get('short')).toBe('v');
    clock.move(2_000);
    expect(store.get('short')).toBeUndefined();
    expect(store.get('default')).toBe('v');

    clock.move(9 * MINUTE);
    // Nothing is looked up: the sweep alone takes the expired entries and their bytes out.
    expect(store.size).toBe(2);
    store.sweep();
    expect([store.size, store.bytes]).toEqual([0, 0]);
  });
});

describe('Stores', () => {
  it('sweeps every store on its timer', async () => {
    const clock = clockAhead();
    const settings = { maxEntries: 100, maxBytes: 1_000_000, lifetimeMs: 1_000 };
    const stores = new Stores({ assertionIds: settings, signInAttempts: settings });
    try {
      stores.assertionIds.set('client:jti', 'signature');
      stores.signInAttempts.set('127.0.0.1', { count: 1, endsAt: Date.now() + 1_000 });
      stores.targets.set('api://kept', 'kept');
      clock.move(2_000);
      // The sweep runs every second here (the shortest lifetime), taking out what has expired, and only that.
      await vi.waitFor(() => expect([stores.assertionIds.size, stores.signInAttempts.size]).toEqual([0, 0]), { timeout: 5_000 });
      expect(stores.targets.get('api://kept')).toBe('kept');
    } finally {
      stores.stop();
    }
  });
});
