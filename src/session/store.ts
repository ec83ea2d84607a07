/** What a session holds, and the interface every session store offers. */

/** The employee signed in, as the ID token's claims name them. */
export interface SessionEmployee {
  oid: string;
  name?: string;
  preferredUsername?: string;
  navIdent?: string;
  tid?: string;
}

export interface SessionData {
  /** The employee; stored as `user` since the first sessions, so that sessions stored before stay readable. */
  user: SessionEmployee;
  /** The employee's access token (its audience is this service), exchanged on-behalf-of. */
  accessToken: string;
  /** Epoch milliseconds. */
  accessTokenExpiresAt: number;
  /** Epoch milliseconds at which the access token was obtained. */
  accessTokenObtainedAt?: number;
  refreshToken?: string;
  idToken?: string;
  /** Set on a session a tool started from the employee's browser session: it lives and ends apart from that one. */
  tool?: { client: string; target: string };
  /** Epoch milliseconds. */
  createdAt: number;
  /** Epoch milliseconds: the session's maximum lifetime. */
  expiresAt: number;
}

/** The store cannot be reached; the caller answers 503 and tries again later. */
export class StoreUnavailableError extends Error {
  constructor(message = 'the session store is unavailable', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

export type LockResult<T> = { acquired: true; value: T } | { acquired: false };

export interface LockOptions {
  /**
   * How long the holder keeps the lock at most while `fn` runs, so that a holder stuck in `fn` lets go at last (in Redis,
   * once its last lease ran out: within `maxHoldMs` and a lease). Should the holder die, its lock goes sooner: in Redis it
   * is a lease of a few seconds, extended while `fn` runs (LOCK_LEASE_MS).
   * One process's memory needs no lease, and holds the lock for as long as `fn` runs.
   */
  maxHoldMs?: number;
  /** How long to wait for another holder to let go; 0 tries once. */
  waitMs?: number;
}

export interface StoreHealth {
  /** Whether the store answers now. */
  reachable: boolean;
  /** Whether it ever answered since this process started: a store never reached is a configuration fault. */
  reachedOnce: boolean;
  /** Why it does not answer, with the variable that configures it, and never a password. */
  problem?: string;
}

export interface SessionStore {
  get(id: string): Promise<SessionData | undefined>;
  /** Kept until `data.expiresAt`. */
  set(id: string, data: SessionData): Promise<void>;
  /**
   * Replaces a session that still exists, in one step, and says whether it did: a session deleted
   * meanwhile (a logout on any replica) stays deleted. A write the store could not take is kept
   * and made, under the same condition, once the store is back (Redis); the call still throws.
   */
  update(id: string, data: SessionData): Promise<boolean>;
  delete(id: string): Promise<void>;
  /**
   * Runs `fn` holding this session's lock (across replicas, for Redis). `acquired: false` means only
   * that another holder kept it for all of `waitMs`; a store that cannot be reached throws StoreUnavailableError.
   */
  withLock<T>(id: string, fn: () => Promise<T>, options?: LockOptions): Promise<LockResult<T>>;
  /**
   * True the first time a key is seen within `ttlMs`, across replicas for Redis: makes one-time codes one-time. Throws
   * StoreUnavailableError without using the key up, so that the caller's retry may take it.
   */
  consumeOnce(key: string, ttlMs: number): Promise<boolean>;
  /** A short-lived value of its own (a device authorization), kept for `ttlMs`; sealed at rest in Redis. */
  setRecord(key: string, value: string, ttlMs: number): Promise<void>;
  getRecord(key: string): Promise<string | undefined>;
  /**
   * Replaces a record's value with `next` only while it is `expected`, in one step, and says whether it did: of two
   * replicas swapping from one value, one gets true. Throws StoreUnavailableError leaving the record as it was, so that
   * the caller's retry may swap it.
   */
  swapRecord(key: string, expected: string, next: string, ttlMs: number): Promise<boolean>;
  /**
   * True when the record was there: of two replicas taking the same record, one gets true. Throws StoreUnavailableError
   * without taking it, so that the caller's retry may.
   */
  takeRecord(key: string): Promise<boolean>;
  health(): StoreHealth;
  close(): Promise<void>;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
