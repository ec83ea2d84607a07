/** Sessions in this process's memory: the default, for one replica. Bounded; expired entries leave. */
import { sleep, type LockOptions, type LockResult, type SessionData, type SessionStore, type StoreHealth } from './store.js';

export class MemoryStore implements SessionStore {
  private readonly sessions = new Map<string, SessionData>();
  private readonly locks = new Set<string>();
  private readonly consumed = new Map<string, number>();
  private readonly records = new Map<string, { value: string; until: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly maxEntries = 100_000) {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  async get(id: string): Promise<SessionData | undefined> {
    return this.live(id);
  }

  async set(id: string, data: SessionData): Promise<void> {
    this.sessions.delete(id);
    this.sessions.set(id, data);
    while (this.sessions.size > this.maxEntries) {
      const oldest = this.sessions.keys().next();
      if (oldest.done) break;
      this.sessions.delete(oldest.value);
    }
  }

  async update(id: string, data: SessionData): Promise<boolean> {
    // Checked and written with no await between: nothing else runs in the meantime.
    if (this.live(id) === undefined) return false;
    this.sessions.set(id, data);
    return true;
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
    const now = Date.now();
    const until = this.consumed.get(key);
    if (until !== undefined && until > now) return false;
    this.consumed.set(key, now + ttlMs);
    return true;
  }

  async setRecord(key: string, value: string, ttlMs: number): Promise<void> {
    this.records.delete(key);
    this.records.set(key, { value, until: Date.now() + ttlMs });
    // The oldest go first beyond the bound, as sessions do.
    while (this.records.size > this.maxEntries) {
      const oldest = this.records.keys().next();
      if (oldest.done) break;
      this.records.delete(oldest.value);
    }
  }

  async getRecord(key: string): Promise<string | undefined> {
    return this.liveRecord(key);
  }

  async takeRecord(key: string): Promise<boolean> {
    // No await between the look and the removal: two takers cannot both see the record.
    const present = this.liveRecord(key) !== undefined;
    this.records.delete(key);
    return present;
  }

  private liveRecord(key: string): string | undefined {
    const record = this.records.get(key);
    if (!record) return undefined;
    if (record.until > Date.now()) return record.value;
    this.records.delete(key);
    return undefined;
  }

  health(): StoreHealth {
    return { reachable: true, reachedOnce: true };
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  private live(id: string): SessionData | undefined {
    const data = this.sessions.get(id);
    if (!data) return undefined;
    if (data.expiresAt <= Date.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return data;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, data] of this.sessions) if (data.expiresAt <= now) this.sessions.delete(id);
    for (const [key, until] of this.consumed) if (until <= now) this.consumed.delete(key);
    for (const [key, record] of this.records) if (record.until <= now) this.records.delete(key);
  }
}
