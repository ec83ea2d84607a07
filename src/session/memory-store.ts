/** Sessions in this process's memory: the default, for one replica. Bounded (lru-cache); expired entries leave. */
import { LRUCache } from 'lru-cache';
import { entryBound } from '../entry-bound.js';
import { sleep, type LockOptions, type LockResult, type SessionData, type SessionStore, type StoreHealth } from './store.js';

/** Until a session's own expiry, at least a millisecond (lru-cache takes 0 as "no expiry"). */
const ttlUntil = (expiresAt: number) => Math.max(1, expiresAt - Date.now());

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

  async takeRecord(key: string): Promise<boolean> {
    // No await between the look and the removal: two takers cannot both see the record.
    const present = this.records.has(key);
    this.records.delete(key);
    return present;
  }

  health(): StoreHealth {
    return { reachable: true, reachedOnce: true };
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
