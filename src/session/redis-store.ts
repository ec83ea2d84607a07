/**
 * Sessions in Redis, shared by every replica. Values are sealed, so that the store alone reveals
 * no token, and keys are hashes of the session ids, so that it reveals no ticket either. While Redis
 * is away every operation fails fast with StoreUnavailableError; the client reconnects by itself.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Sealer } from './crypto.js';
import { sleep, StoreUnavailableError, type LockOptions, type LockResult, type SessionData, type SessionStore } from './store.js';

const RELEASE = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;

export interface RedisStoreOptions {
  url: string;
  sealer: Sealer;
  keyPrefix?: string;
  logger?: Logger;
  commandTimeoutMs?: number;
  /** How long an operation waits for a connection being made before it fails. */
  connectWaitMs?: number;
}

export class RedisStore implements SessionStore {
  readonly kind = 'redis' as const;
  readonly client: Redis;
  private readonly prefix: string;
  private lastErrorLog = 0;

  constructor(private readonly options: RedisStoreOptions) {
    this.prefix = options.keyPrefix ?? 'token-generator:';
    this.client = new Redis(options.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: options.commandTimeoutMs ?? 2_000,
      connectTimeout: 2_000,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    });
    this.client.on('error', (err: Error) => {
      // Reconnection errors repeat every retry: log them at most every ten seconds.
      const now = Date.now();
      if (now - this.lastErrorLog < 10_000) return;
      this.lastErrorLog = now;
      options.logger?.warn({ reason: err.message }, 'session store (Redis) unavailable, reconnecting');
    });
    this.client.on('ready', () => options.logger?.info('session store (Redis) connected'));
  }

  private hashed(id: string): string {
    return createHash('sha256').update(id).digest('base64url');
  }

  private sessionKey(id: string): string {
    return `${this.prefix}session:${this.hashed(id)}`;
  }

  /** Waits a moment for a connection that is being made; commands are never queued while there is none. */
  private async ready(): Promise<void> {
    if (this.client.status === 'ready') return;
    if (this.client.status === 'end') throw new Error('the connection is closed');
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.client.off('ready', onReady);
        reject(new Error(`not connected (${this.client.status})`));
      }, this.options.connectWaitMs ?? 1_000);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      this.client.once('ready', onReady);
    });
  }

  private async run<T>(operation: () => Promise<T>): Promise<T> {
    try {
      await this.ready();
      return await operation();
    } catch (err) {
      throw new StoreUnavailableError(`the session store (Redis) is unavailable: ${err instanceof Error ? err.message : 'unknown error'}`, { cause: err });
    }
  }

  async get(id: string): Promise<SessionData | undefined> {
    const key = this.sessionKey(id);
    const sealed = await this.run(() => this.client.get(key));
    if (sealed === null) return undefined;
    const json = this.options.sealer.open(sealed, key);
    if (json === undefined) return undefined;
    try {
      return JSON.parse(json) as SessionData;
    } catch {
      return undefined;
    }
  }

  async set(id: string, data: SessionData): Promise<void> {
    const ttl = Math.max(1, data.expiresAt - Date.now());
    const key = this.sessionKey(id);
    const sealed = this.options.sealer.seal(JSON.stringify(data), key);
    await this.run(() => this.client.set(key, sealed, 'PX', ttl));
  }

  async delete(id: string): Promise<void> {
    await this.run(() => this.client.del(this.sessionKey(id)));
  }

  async withLock<T>(id: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<LockResult<T>> {
    const key = `${this.prefix}lock:${this.hashed(id)}`;
    const token = randomBytes(16).toString('base64url');
    const deadline = Date.now() + (options.waitMs ?? 5_000);
    for (;;) {
      const acquired = await this.run(() => this.client.set(key, token, 'PX', options.ttlMs ?? 10_000, 'NX'));
      if (acquired === 'OK') break;
      if (Date.now() >= deadline) return { acquired: false };
      await sleep(50);
    }
    try {
      return { acquired: true, value: await fn() };
    } finally {
      await this.client.eval(RELEASE, 1, key, token).catch(() => undefined);
    }
  }

  async consumeOnce(key: string, ttlMs: number): Promise<boolean> {
    const stored = await this.run(() => this.client.set(`${this.prefix}once:${this.hashed(key)}`, '1', 'PX', ttlMs, 'NX'));
    return stored === 'OK';
  }

  private recordKey(key: string): string {
    return `${this.prefix}record:${this.hashed(key)}`;
  }

  async setRecord(key: string, value: string, ttlMs: number): Promise<void> {
    const stored = this.recordKey(key);
    const sealed = this.options.sealer.seal(value, stored);
    await this.run(() => this.client.set(stored, sealed, 'PX', Math.max(1, Math.ceil(ttlMs))));
  }

  async getRecord(key: string): Promise<string | undefined> {
    const stored = this.recordKey(key);
    const sealed = await this.run(() => this.client.get(stored));
    return sealed === null ? undefined : this.options.sealer.open(sealed, stored);
  }

  async takeRecord(key: string): Promise<boolean> {
    return (await this.run(() => this.client.del(this.recordKey(key)))) === 1;
  }

  async isHealthy(): Promise<boolean> {
    try {
      return (await this.client.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}
