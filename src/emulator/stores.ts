/**
 * Everything the emulator keeps between requests, each store bounded in entries and in bytes and
 * with an expiry, so that a flood of logins or assertions cannot take the process's memory: when a
 * store is full its oldest entries go first, and expired ones are swept even when nothing is asked.
 */
import type { TestEmployee } from './directory.js';

export interface StoreLimits {
  maxEntries: number;
  /** An estimate of the bytes the entries hold (their keys and values). */
  maxBytes: number;
  lifetimeMs: number;
}

interface Entry<V> {
  value: V;
  expiresAt: number;
  bytes: number;
}

export class BoundedStore<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private heldBytes = 0;

  constructor(
    readonly limits: StoreLimits,
    private readonly sizeOf: (value: V) => number = approximateBytes,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.heldBytes;
  }

  /** Keeps a value for the store's lifetime, or a shorter one; the oldest entries make room. */
  set(key: string, value: V, lifetimeMs = this.limits.lifetimeMs): void {
    this.delete(key);
    const bytes = 2 * key.length + this.sizeOf(value);
    this.entries.set(key, { value, expiresAt: Date.now() + Math.min(lifetimeMs, this.limits.lifetimeMs), bytes });
    this.heldBytes += bytes;
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.limits.maxEntries && this.heldBytes <= this.limits.maxBytes) break;
      this.delete(oldest);
    }
  }

  /** The value, while it has not expired. */
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt > Date.now()) return entry.value;
    this.delete(key);
    return undefined;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.heldBytes -= entry.bytes;
  }

  sweep(time = Date.now()): void {
    for (const [key, entry] of this.entries) if (entry.expiresAt <= time) this.delete(key);
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

export interface AuthorizationCode {
  clientId: string;
  redirectUri: string;
  /** Absent for a request without PKCE, which only confidential clients may make. */
  codeChallenge?: string;
  codeChallengeMethod?: 'S256' | 'plain';
  nonce?: string;
  scopes: string[];
  employee: TestEmployee;
  /** The single sign-on session the code was issued in: the ID token's `sid`. */
  sessionId: string;
  expiresAt: number;
  redeemed: boolean;
}

export interface RefreshGrant {
  clientId: string;
  scopes: string[];
  employee: TestEmployee;
  sessionId: string;
}

export interface SignOnSession {
  id: string;
  employee: TestEmployee;
}

export interface StoreSettings {
  codes: StoreLimits;
  refreshTokens: StoreLimits;
  /** The `jti`s of client assertions seen, kept until the assertion expires. */
  assertionIds: StoreLimits;
  signOnSessions: StoreLimits;
  /** Targets the open directory makes up when a token is asked for them. */
  targets: StoreLimits;
}

const MB = 1024 * 1024;

export const DEFAULT_STORE_SETTINGS: StoreSettings = {
  codes: { maxEntries: 10_000, maxBytes: 32 * MB, lifetimeMs: 10 * 60_000 },
  refreshTokens: { maxEntries: 20_000, maxBytes: 64 * MB, lifetimeMs: 24 * 3_600_000 },
  assertionIds: { maxEntries: 200_000, maxBytes: 32 * MB, lifetimeMs: 11 * 60_000 },
  signOnSessions: { maxEntries: 10_000, maxBytes: 32 * MB, lifetimeMs: 12 * 3_600_000 },
  targets: { maxEntries: 20_000, maxBytes: 8 * MB, lifetimeMs: 24 * 3_600_000 },
};

/** The emulator's stores, with one timer that sweeps them all. */
export class Stores {
  readonly codes: BoundedStore<AuthorizationCode>;
  readonly refreshTokens: BoundedStore<RefreshGrant>;
  readonly assertionIds: BoundedStore<string>;
  readonly signOnSessions: BoundedStore<SignOnSession>;
  readonly targets: BoundedStore<string>;
  private readonly sweeper: NodeJS.Timeout;

  constructor(settings: Partial<StoreSettings> = {}) {
    const limits = { ...DEFAULT_STORE_SETTINGS, ...settings };
    this.codes = new BoundedStore(limits.codes);
    this.refreshTokens = new BoundedStore(limits.refreshTokens);
    this.assertionIds = new BoundedStore(limits.assertionIds, (signature) => 48 + 2 * signature.length);
    this.signOnSessions = new BoundedStore(limits.signOnSessions);
    this.targets = new BoundedStore(limits.targets);
    const all = [this.codes, this.refreshTokens, this.assertionIds, this.signOnSessions, this.targets];
    const interval = Math.max(1000, Math.min(60_000, ...all.map((store) => store.limits.lifetimeMs)));
    this.sweeper = setInterval(() => all.forEach((store) => store.sweep()), interval);
    this.sweeper.unref();
  }

  stop(): void {
    clearInterval(this.sweeper);
  }
}
