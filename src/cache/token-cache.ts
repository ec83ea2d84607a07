/**
 * Tokens kept until shortly before they expire, bounded in entries and bytes, with identical
 * concurrent requests coalesced into one call. Errors are never kept.
 */

/**
 * A cached token is not handed out in its last two minutes: time for the caller to use it (the generator's caches and the command
 * line's).
 */
export const EARLY_EXPIRY_MS = 120_000;

export interface CacheableToken {
  accessToken: string;
  /** Epoch milliseconds at which the token itself expires. */
  expiresAt: number;
}

export interface CacheResult<T extends CacheableToken> {
  token: T;
  /** Whether the token came from the cache (or from a call already under way). */
  hit: boolean;
}

export interface TokenCacheOptions {
  maxEntries: number;
  /** Upper bound on the summed size of cached access tokens, in bytes. */
  maxBytes?: number;
  /** A token leaves the cache this long before it expires. Default two minutes. */
  earlyExpiryMs?: number;
  now?: () => number;
}

interface Entry<T> {
  token: T;
  bytes: number;
}

export class TokenCache<T extends CacheableToken> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly inflight = new Map<string, Promise<T>>();
  private bytes = 0;
  /**
   * The key last stored or looked up: while it is in `entries`, it is the last one there (nothing
   * else appends, and deletes take it out). Its lookup needs no reordering: moving the key to the
   * end of the Map again on every lookup of the audience a script keeps asking for cost several
   * percent of a cached-token answer (BENCHMARKS.md).
   */
  private newest: string | undefined;
  private readonly maxBytes: number;
  private readonly earlyExpiryMs: number;
  private readonly now: () => number;

  constructor(private readonly options: TokenCacheOptions) {
    this.maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.earlyExpiryMs = options.earlyExpiryMs ?? EARLY_EXPIRY_MS;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  get sizeInBytes(): number {
    return this.bytes;
  }

  /**
   * The token for `key`: from the cache while it has more than the early-expiry margin left,
   * else from `fetch`, shared with every caller asking for the same key meanwhile.
   */
  async get(key: string, fetch: () => Promise<T>, options: { skipCache?: boolean } = {}): Promise<CacheResult<T>> {
    if (!options.skipCache) {
      const cached = this.lookup(key);
      if (cached) return { token: cached, hit: true };
    }
    const pending = this.inflight.get(key);
    if (pending) return { token: await pending, hit: true };

    const call = (async () => {
      try {
        const token = await fetch();
        this.store(key, token);
        return token;
      } finally {
        this.inflight.delete(key);
      }
    })();
    this.inflight.set(key, call);
    return { token: await call, hit: false };
  }

  /** The cached token for `key` while it has more than the early-expiry margin left; never calls out. */
  peek(key: string): T | undefined {
    return this.lookup(key);
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }

  private lookup(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.token.expiresAt - this.earlyExpiryMs <= this.now()) {
      this.delete(key);
      return undefined;
    }
    // Most recently used goes last, so that eviction takes the least recently used first.
    if (key !== this.newest) {
      this.entries.delete(key);
      this.entries.set(key, entry);
      this.newest = key;
    }
    return entry.token;
  }

  private store(key: string, token: T): void {
    if (token.expiresAt - this.earlyExpiryMs <= this.now()) return;
    const bytes = token.accessToken.length + key.length;
    if (bytes > this.maxBytes) return;
    this.delete(key);
    this.entries.set(key, { token, bytes });
    this.newest = key;
    this.bytes += bytes;
    while (this.entries.size > this.options.maxEntries || this.bytes > this.maxBytes) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.delete(oldest.value);
    }
  }
}
