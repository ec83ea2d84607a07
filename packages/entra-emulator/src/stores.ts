/**
 * Everything the emulator keeps between requests, each store bounded in entries and in bytes and
 * with an expiry, so that a flood of logins or assertions cannot take the process's memory: when a
 * store is full its least recently used entries go first, and expired ones are swept even when nothing is asked.
 */
import { LRUCache } from 'lru-cache';
import type { Attempts, AuthorizationCode, DeviceAuthorization, RefreshGrant, SignOnSession } from './model.js';

/** An entry as a snapshot holds it: its key, its value and when it expires (ms since the epoch). */
export interface StoreEntry<V> {
  key: string;
  value: V;
  expiresAt: number;
}

export interface StoreLimits {
  maxEntries: number;
  /** An estimate of the bytes the entries hold (their keys and values). */
  maxBytes: number;
  lifetimeMs: number;
}

/**
 * lru-cache holding each value for its lifetime, bounded in bytes by lru-cache and in entries by
 * `set`: lru-cache's own `max` sets aside its arrays for every entry at once, which for the
 * defaults (200,000 assertion ids) took 50 ms and 7 MB and made `startEmulator()` several times
 * slower.
 */
export class BoundedStore<V extends string | object> {
  private readonly entries: LRUCache<string, V>;
  /** The time of the sweep under way: one reading of the clock for all its entries, not one each. */
  private sweepTime: number | undefined;
  /**
   * Told the key of every entry set, deleted or changed in place (`changed`), so that what keeps the store in the state
   * folder writes it; entries that expire or make room for others are not told.
   */
  onChange: ((key: string) => void) | undefined;

  constructor(
    readonly limits: StoreLimits,
    sizeOf: (value: V) => number = approximateBytes,
  ) {
    this.entries = new LRUCache<string, V>({
      maxSize: limits.maxBytes,
      sizeCalculation: (value, key) => 2 * key.length + sizeOf(value),
      ttl: limits.lifetimeMs,
      // Lifetimes are counted on Date.now, read at every check (tests move the emulator's clock by moving it).
      perf: { now: () => this.sweepTime ?? Date.now() },
      ttlResolution: 0,
    });
  }

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.entries.calculatedSize;
  }

  /** Keeps a value for the store's lifetime, or a shorter one; the least recently used entries make room. */
  set(key: string, value: V, lifetimeMs = this.limits.lifetimeMs): void {
    const ttl = Math.min(lifetimeMs, this.limits.lifetimeMs);
    // A value already expired is not kept (a time to live of 0 would be no expiry at all).
    if (ttl <= 0) {
      this.delete(key);
      return;
    }
    this.entries.set(key, value, { ttl });
    // One entry at most is added, so one at most goes: the least recently used, never the one just set.
    if (this.entries.size > this.limits.maxEntries) this.entries.pop();
    this.onChange?.(key);
  }

  /** Says that the value of `key` was changed where it lies (a device code approved), for `onChange`. */
  changed(key: string): void {
    this.onChange?.(key);
  }

  /** The value, while it has not expired. */
  get(key: string): V | undefined {
    return this.entries.get(key);
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  delete(key: string): void {
    this.entries.delete(key);
    this.onChange?.(key);
  }

  /** The entry with the time it expires (ms since the epoch), while it has not expired; it is not made more recently used. */
  peek(key: string, now = Date.now()): StoreEntry<V> | undefined {
    const value = this.entries.peek(key);
    return value === undefined ? undefined : { key, value, expiresAt: now + this.entries.getRemainingTTL(key) };
  }

  /** Every entry that has not expired, with the time it expires, least recently used first. */
  snapshot(): StoreEntry<V>[] {
    const now = Date.now();
    const kept: StoreEntry<V>[] = [];
    for (const key of this.entries.rkeys()) {
      const entry = this.peek(key, now);
      if (entry) kept.push(entry);
    }
    return kept;
  }

  /** Takes back a snapshot's entries, each until it expires; those expired since are left out. */
  restore(entries: readonly StoreEntry<V>[]): void {
    for (const { key, value, expiresAt } of entries) this.set(key, value, expiresAt - Date.now());
  }

  /** Takes out the expired entries, which would otherwise stay until looked up or pushed out. */
  sweep(): void {
    this.sweepTime = Date.now();
    try {
      this.entries.purgeStale();
    } finally {
      this.sweepTime = undefined;
    }
  }
}

/** A rough size of a value made of strings, numbers, arrays and plain objects: two bytes a character, a little per item. */
export function approximateBytes(value: unknown): number {
  if (typeof value === 'string') return 16 + 2 * value.length;
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + approximateBytes(item), 16);
  if (value && typeof value === 'object') {
    let sum = 32;
    for (const [key, item] of Object.entries(value)) sum += 2 * key.length + approximateBytes(item);
    return sum;
  }
  return 8;
}

export interface StoreSettings {
  codes: StoreLimits;
  refreshTokens: StoreLimits;
  /** The `jti`s of client assertions seen, kept until the assertion expires. */
  assertionIds: StoreLimits;
  signOnSessions: StoreLimits;
  /** Device codes, and as many user codes naming them. */
  deviceCodes: StoreLimits;
  /** Targets the open directory makes up when a token is asked for them. */
  targets: StoreLimits;
  /** Sign-in requests per client address; the lifetime is the rate limit's window. */
  signInAttempts: StoreLimits;
}

const MB = 1024 * 1024;

export const DEFAULT_STORE_SETTINGS: StoreSettings = {
  codes: { maxEntries: 10_000, maxBytes: 32 * MB, lifetimeMs: 10 * 60_000 },
  refreshTokens: { maxEntries: 20_000, maxBytes: 64 * MB, lifetimeMs: 24 * 3_600_000 },
  assertionIds: { maxEntries: 200_000, maxBytes: 32 * MB, lifetimeMs: 11 * 60_000 },
  signOnSessions: { maxEntries: 10_000, maxBytes: 32 * MB, lifetimeMs: 12 * 3_600_000 },
  deviceCodes: { maxEntries: 20_000, maxBytes: 16 * MB, lifetimeMs: 20 * 60_000 },
  targets: { maxEntries: 20_000, maxBytes: 8 * MB, lifetimeMs: 24 * 3_600_000 },
  signInAttempts: { maxEntries: 20_000, maxBytes: 4 * MB, lifetimeMs: 60_000 },
};

/** The emulator's stores, with one timer that sweeps them all. */
export class Stores {
  readonly codes: BoundedStore<AuthorizationCode>;
  readonly refreshTokens: BoundedStore<RefreshGrant>;
  readonly assertionIds: BoundedStore<string>;
  readonly signOnSessions: BoundedStore<SignOnSession>;
  /** Each device code's authorization, by the device code. */
  readonly deviceCodes: BoundedStore<DeviceAuthorization>;
  /**
   * The device code each user code names: a key to the one authorization rather than the authorization kept twice, so
   * that an approval on the device login page changes one entry, which the state folder keeps as it is.
   */
  readonly userCodes: BoundedStore<string>;
  readonly targets: BoundedStore<string>;
  readonly signInAttempts: BoundedStore<Attempts>;
  private readonly sweeper: NodeJS.Timeout;

  constructor(settings: Partial<StoreSettings> = {}) {
    const limits = { ...DEFAULT_STORE_SETTINGS, ...settings };
    this.codes = new BoundedStore(limits.codes);
    this.refreshTokens = new BoundedStore(limits.refreshTokens);
    this.assertionIds = new BoundedStore(limits.assertionIds, (signature) => 48 + 2 * signature.length);
    this.signOnSessions = new BoundedStore(limits.signOnSessions);
    this.deviceCodes = new BoundedStore(limits.deviceCodes);
    this.userCodes = new BoundedStore(limits.deviceCodes);
    this.targets = new BoundedStore(limits.targets);
    this.signInAttempts = new BoundedStore(limits.signInAttempts, () => 64);
    const all = [
      this.codes,
      this.refreshTokens,
      this.assertionIds,
      this.signOnSessions,
      this.deviceCodes,
      this.userCodes,
      this.targets,
      this.signInAttempts,
    ];
    const interval = Math.max(1000, Math.min(60_000, ...all.map((store) => store.limits.lifetimeMs)));
    this.sweeper = setInterval(() => all.forEach((store) => store.sweep()), interval);
    this.sweeper.unref();
  }

  stop(): void {
    clearInterval(this.sweeper);
  }
}
