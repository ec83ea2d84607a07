/**
 * Tokens kept until shortly before they expire, bounded in entries and bytes, with identical
 * concurrent requests coalesced into one call. Errors are never kept.
 */
import { LRUCache } from 'lru-cache';
import { earlyExpiryMs } from './early-expiry.js';

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
  now?: () => number;
}

export class TokenCache<T extends CacheableToken> {
  /**
   * lru-cache bounds the entries and their bytes and drops the least recently used first; a
   * token's time to live ends at the start of its early-expiry margin. Its lookup of the key last
   * used does not reorder anything, so that the audience a script keeps asking for costs no more
   * than a Map lookup (BENCHMARKS.md figure 1).
   */
  private readonly entries: LRUCache<string, T>;
  /**
   * Calls under way, by key. Not a cache and so not bounded like one: an entry lives only while
   * its call is under way and is removed when it settles, so there are never more than the
   * requests in progress; evicting one would only start a second call for the same token.
   */
  private readonly inflight = new Map<string, Promise<T>>();
  private readonly now: () => number;

  constructor(options: TokenCacheOptions) {
    this.now = options.now ?? Date.now;
    const now = this.now;
    this.entries = new LRUCache<string, T>({
      max: options.maxEntries,
      maxSize: options.maxBytes ?? 64 * 1024 * 1024,
      sizeCalculation: (token, key) => token.accessToken.length + key.length,
      // The time to live is counted on the cache's own clock (injected in tests), read at every check.
      perf: { now },
      ttlResolution: 0,
    });
  }

  get size(): number {
    return this.entries.size;
  }

  get sizeInBytes(): number {
    return this.entries.calculatedSize;
  }

  /**
   * The token for `key`: from the cache while it has more than the early-expiry margin left,
   * else from `fetch`, shared with every caller asking for the same key meanwhile.
   */
  async get(key: string, fetch: () => Promise<T>, options: { skipCache?: boolean } = {}): Promise<CacheResult<T>> {
    if (!options.skipCache) {
      const cached = this.entries.get(key);
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
    return this.entries.get(key);
  }

  private store(key: string, token: T): void {
    // Stored as it comes from the provider, so what it has left is its lifetime, which sets its margin. One already expired is not
    // kept (a time to live of 0 would be no expiry at all).
    const left = token.expiresAt - this.now();
    const ttl = left - earlyExpiryMs(left);
    if (ttl > 0) this.entries.set(key, token, { ttl });
  }
}
