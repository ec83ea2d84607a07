/** Sessions in this process's memory: the default, for one replica. Bounded (lru-cache); expired entries leave. */
import { LRUCache } from 'lru-cache';
import { entryBound } from '../entry-bound.js';
import { sleep, type LockOptions, type LockResult, type SessionData, type SessionStore, type StoreHealth } from './store.js';

/** Until a session's own expiry, at least a millisecond (lru-cache takes 0 as "no expiry"). */
const ttlUntil = (expiresAt: number) => Math.max(1, expiresAt - Date.now());

/** Every entry of a memory store with the time it expires: what a restart that keeps sessions reads back. */
export interface StoreSnapshot {
  sessions: [string, SessionData, number][];
  consumed: [string, true, number][];
  records: [string, string, number][];
}

function entriesOf<V extends object | string | boolean>(cache: LRUCache<string, V>, now: number): [string, V, number][] {
  const entries: [string, V, number][] = [];
  for (const [key, value] of cache.entries()) {
    const ttl = cache.getRemainingTTL(key);
    if (ttl > 0 && Number.isFinite(ttl)) entries.push([key, value, now + ttl]);
  }
  return entries;
}

function restoreInto<V extends object | string | boolean>(cache: LRUCache<string, V>, entries: [string, V, number][], now: number): void {
  for (const [key, value, expiresAt] of entries) if (expiresAt > now) cache.set(key, value, { ttl: expiresAt - now });
}

export class MemoryStore implements SessionStore {
  private readonly sessions: LRUCache<string, SessionData>;
  private readonly locks = new Set<string>();
  private readonly consumed: LRUCache<string, true>;
  private readonly records: LRUCache<string, string>;
  private readonly sweeper: NodeJS.Timeout;

  constructor(maxEntries = 100_000) {
    this.sessions = new LRUCache(entryBound(maxEntries));
    this.consumed = new LRUCache(entryBound(maxEntries));
    this.records = new LRUCache(entryBound(maxEntries));
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  async get(id: string): Promise<SessionData | undefined> {
    return this.sessions.get(id);
  }

  async set(id: string, data: SessionData): Promise<void> {
    this.store(id, data);
  }

  async update(id: string, data: SessionData): Promise<boolean> {
    // Checked and written with no await between: nothing else runs in the meantime.
    if (!this.sessions.has(id)) return false;
    this.store(id, data);
    return true;
  }

  private store(id: string, data: SessionData): void {
    if (data.expiresAt <= Date.now()) this.sessions.delete(id);
    else this.sessions.set(id, data, { ttl: ttlUntil(data.expiresAt) });
  }

  async delete(id: string): Promise<void> {
    this.sessions.delete(id);
  }

  async withLock<T>(id: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<LockResult<T>> {
    const deadline = Date.now() + (options.waitMs ?? 5_000);
    while (this.locks.has(id)) {
      if (Date.now() >= deadline) return { acquired: false };
      await sleep(20);
    }
    this.locks.add(id);
    try {
      return { acquired: true, value: await fn() };
    } finally {
      this.locks.delete(id);
    }
  }

  async consumeOnce(key: string, ttlMs: number): Promise<boolean> {
    if (this.consumed.has(key)) return false;
    this.consumed.set(key, true, { ttl: Math.max(1, ttlMs) });
    return true;
  }

  async setRecord(key: string, value: string, ttlMs: number): Promise<void> {
    this.records.set(key, value, { ttl: Math.max(1, ttlMs) });
  }

  async getRecord(key: string): Promise<string | undefined> {
    return this.records.get(key);
  }

  async swapRecord(key: string, expected: string, next: string, ttlMs: number): Promise<boolean> {
    // No await between the look and the write: two swaps from one value cannot both see it.
    if (this.records.get(key) !== expected) return false;
    this.records.set(key, next, { ttl: Math.max(1, ttlMs) });
    return true;
  }

  async takeRecord(key: string): Promise<boolean> {
    // No await between the look and the removal: two takers cannot both see the record.
    const present = this.records.has(key);
    this.records.delete(key);
    return present;
  }

  health(): StoreHealth {
    return { reachable: true, reachedOnce: true };
  }

  snapshot(now = Date.now()): StoreSnapshot {
    return { sessions: entriesOf(this.sessions, now), consumed: entriesOf(this.consumed, now), records: entriesOf(this.records, now) };
  }

  restore(snapshot: StoreSnapshot, now = Date.now()): void {
    restoreInto(this.sessions, snapshot.sessions, now);
    restoreInto(this.consumed, snapshot.consumed, now);
    restoreInto(this.records, snapshot.records, now);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  private sweep(): void {
    this.sessions.purgeStale();
    this.consumed.purgeStale();
    this.records.purgeStale();
  }
}
