/**
 * Sessions in Redis, shared by every replica. Values are sealed, so that the store alone reveals
 * no token, and keys are hashes of the session ids, so that it reveals no ticket either. While Redis
 * is away every operation fails fast with StoreUnavailableError: at once while the connection is lost, and, once a
 * command timed out (Redis hangs with the connection open), at once too until Redis takes a write again, rather than
 * after a timeout of its own each. The client reconnects by itself.
 */
import { digest } from '../digest.js';
import { rootCertificates } from 'node:tls';
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { randomToken, type Sealer } from './crypto.js';
import {
  sleep,
  StoreUnavailableError,
  type LockOptions,
  type LockResult,
  type SessionData,
  type SessionStore,
  type StoreHealth,
} from './store.js';

/**
 * ioredis, loaded when the first store is made: a generator without Redis (`npm start`, most tests) never loads it,
 * which took about 0.12 s of each start.
 */
let loaded: typeof import('ioredis') | undefined;
const ioredis = () => (loaded ??= createRequire(import.meta.url)('ioredis') as typeof import('ioredis'));

const RELEASE = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;
/** Gives a lock another lease (ARGV[2] ms) only while it holds its holder's own token: never one another replica took since. */
const EXTEND = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) else return 0 end`;
/** Takes a record, keeping it aside (KEYS[2]) for as long as it had left, so that a take refused after all can be undone. */
const TAKE = `local value = redis.call("get", KEYS[1])
if not value then return 0 end
local ttl = redis.call("pttl", KEYS[1])
if ttl < 1 then ttl = 1 end
redis.call("set", KEYS[2], value, "PX", ttl)
redis.call("del", KEYS[1])
return 1`;
/** Sets a record to ARGV[2] only while its sealed value is ARGV[1]; swapping ARGV[1] and ARGV[2] undoes it. */
const SWAP = `if redis.call("get", KEYS[1]) ~= ARGV[1] then return 0 end
redis.call("set", KEYS[1], ARGV[2], "PX", ARGV[3])
return 1`;
/** Puts a record taken by TAKE back, unless it was set anew meanwhile. */
const PUT_BACK = `local value = redis.call("get", KEYS[2])
if not value then return 0 end
local ttl = redis.call("pttl", KEYS[2])
redis.call("del", KEYS[2])
if ttl > 0 then redis.call("set", KEYS[1], value, "PX", ttl, "NX") end
return 1`;

export interface RedisStoreOptions {
  url: string;
  username?: string;
  password?: string;
  /** PEM certificates the server's TLS certificate is verified with, besides the CAs Node.js ships with. */
  ca?: string;
  sealer: Sealer;
  keyPrefix?: string;
  logger?: Logger;
  commandTimeoutMs?: number;
  /** How long an operation waits for a connection being made before it fails. */
  connectWaitMs?: number;
  /** The environment variable the URL came from, named in what the operators read. */
  variable?: string;
  /** A lock's lease, LOCK_LEASE_MS unless a test needs to see several pass. */
  lockLeaseMs?: number;
}

/**
 * How long a lock lasts unless its holder extends it: what a replica that died holding a lock (killed, drained, out of
 * memory) costs the others. The holder extends it every tick = (lease - W) / 3, W = commandTimeoutMs + connectWaitMs being
 * the longest one extension takes to fail, and tries again at once after one failed: tick + W + tick < lease, with a tick
 * to spare. With the defaults (lease 5 s, W = 2 s + 1 s, tick 666 ms), an extension sent 0.67 s after the last one that
 * Redis never ran has failed by 3.67 s; the retry then lands at about 3.7 s, and even one sent a tick later (4.33 s)
 * would land before the lease ends at 5 s. An extension that timed out but that Redis ran late extended the lease all
 * the same. What no timing saves is Redis, or the way to it, gone for a whole lease. While Redis hangs, once a command
 * timed out, the retries are refused unsent until the store sees Redis answer again (`stalled`): an extension then lands
 * after that check, which may come later than a queued retry would have, so a hang that ends near the lease's end may
 * let it run out.
 */
export const LOCK_LEASE_MS = 5_000;

/** How long after a failed extension of a lease the next is tried: at once, but no busy loop against a Redis refusing at once. */
const RETRY_EXTENSION_MS = 50;
/** How ioredis fails a command that had no answer within `commandTimeout`. */
const COMMAND_TIMED_OUT = 'Command timed out';
/**
 * Redis's refusals that say it takes no commands, or no writes, for now (out of memory, a read-only replica, a failed
 * snapshot, its data being loaded, a script running too long), as opposed to one command's own fault.
 */
const UNAVAILABLE = /^(OOM|READONLY|MISCONF|LOADING|BUSY|MASTERDOWN|NOREPLICAS|NOAUTH|CLUSTERDOWN|TRYAGAIN)\b/;
/** The lifetime of the key written to see that Redis takes writes. */
const ALIVE_MS = 60_000;
/**
 * How long Redis may have answered nothing before the store's health, asked, checks that it still answers: a Redis that
 * hangs with the connection open closes nothing, and without a command to time out the store would be taken as reachable.
 */
const CHECK_AFTER_MS = 1_000;

/** At most this many writes and lock releases wait for Redis to come back; beyond it the oldest are given up. */
const MAX_DEFERRED = 10_000;

export class RedisStore implements SessionStore {
  readonly client: Redis;
  private readonly prefix: string;
  private lastErrorLog = 0;
  private reachedOnce = false;
  /** Whether Redis took a write on this connection (its credentials hold, the data is loaded, it has room), after what waited for Redis. */
  private verified = false;
  /** Commands waiting for the connection being made: one listener for them all, not one each. */
  private readonly waitingForReady = new Set<() => void>();
  /** Counts the verifications begun (one a connection, and one after a stall), so that an earlier one stops. */
  private verifications = 0;
  private problem: string | undefined;
  /** Set once a command timed out, until Redis takes a write again: meanwhile commands are refused at once, not sent. */
  private stalled = false;
  /** When Redis last answered a command of the store's. */
  private answeredAt = 0;
  /** Whether the check of `health` is under way. */
  private checking = false;
  /** Session updates Redis could not take, by key: made (if the session still exists) once it is back. */
  private readonly deferredUpdates = new Map<string, { sealed: string; expiresAt: number }>();
  /**
   * What Redis did not answer and must be undone, by the call's own random mark: a lock's release, and what a refused
   * lock taking, `consumeOnce` or `takeRecord` may yet have done (a command that timed out still reaches Redis), so that
   * the caller's retry finds the key as the refusal left it. By mark, not by key: two calls on one key each keep theirs.
   */
  private readonly deferredUndos = new Map<string, () => Promise<unknown>>();

  constructor(private readonly options: RedisStoreOptions) {
    if (this.extensionEvery < 1)
      throw new Error(
        `a lock's lease (${this.lease} ms) leaves no time to extend it: ` +
          `it must be longer than commandTimeoutMs + connectWaitMs (${this.extensionWait} ms)`,
      );
    this.prefix = options.keyPrefix ?? 'token-generator:';
    const tls = options.ca && options.url.startsWith('rediss:') ? { tls: { ca: [...rootCertificates, options.ca] } } : {};
    this.client = new (ioredis().Redis)(options.url, {
      ...(options.username ? { username: options.username } : {}),
      ...(options.password ? { password: options.password } : {}),
      ...tls,
      // A user with NAIS's `readwrite` access may run the commands of its categories only: neither the ready
      // check's INFO nor CLIENT SETINFO, each of which would be refused at every connection.
      enableReadyCheck: false,
      disableClientInfo: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: this.commandTimeoutMs,
      connectTimeout: 2_000,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
      // A failover leaves this connection on the old primary, now a replica refusing writes; a new connection finds the
      // new primary by the service's name. The refused command still fails: its caller hears "try again".
      reconnectOnError: (err) => err.message.startsWith('READONLY'),
    });
    this.client.on('error', (err: Error) => this.failed(err));
    // Redis going away ends the socket, and commands fail from then on ("Stream isn't writeable"), while the client's
    // status says ready until the socket has closed too.
    const lost = () => {
      this.verified = false;
      this.problem ??= this.unreachable('the connection closed');
    };
    this.client.on('connect', () => this.client.stream.once('end', lost));
    this.client.on('close', lost);
    this.client.on('ready', () => {
      void this.verify('new');
      for (const waiting of this.waitingForReady) waiting();
      this.waitingForReady.clear();
    });
  }

  /**
   * Without the ready check, `ready` means connected, neither logged in nor serving: a Redis that restarts accepts
   * connections while it reads its data back, and answers LOADING meanwhile. So on this connection a write, again after
   * a pause until it is taken (the credentials hold, the data is there, Redis has room and is no read-only replica);
   * then what waited for Redis. Only then is Redis reachable: nothing else would make it so. A write, not a PING, which
   * Redis answers also while it refuses every write. On a new connection what waited is also sent first, before the
   * commands that waited for the connection (a retry must find a refused taking undone); on one that stalled it is not
   * sent again with every try, where each copy would wait in the client's queue for as long as Redis hangs.
   */
  private async verify(connection: 'new' | 'stalled'): Promise<void> {
    const verification = ++this.verifications;
    const current = () => verification === this.verifications && this.client.status === 'ready';
    const first = connection === 'new' ? this.replayDeferred() : undefined;
    for (let attempt = 1; ; attempt++) {
      const answered = await this.client.set(`${this.prefix}alive`, '1', 'PX', ALIVE_MS).then(
        () => true,
        (err: Error) => {
          // The latest reason, which the readiness answer says: LOADING while Redis reads its data back, not why the
          // connection was lost before. A command that could not be sent, on a connection being given up, says nothing of Redis.
          if (current() && this.client.stream.writable) this.problem = this.unreachable(err.message);
          return false;
        },
      );
      if (!current()) return;
      if (answered) break;
      await sleep(Math.min(attempt * 100, 2_000));
      if (!current()) return;
    }
    await first;
    await this.replayDeferred();
    if (!current()) return;
    this.verified = true;
    this.stalled = false;
    this.answeredAt = Date.now();
    this.reachedOnce = true;
    this.problem = undefined;
    this.lastErrorLog = 0;
    this.options.logger?.info('session store (Redis) connected');
    // Updates refused while the replay above was under way (still `stalled`, so not sent) would otherwise wait for the next stall.
    if (this.deferredUpdates.size > 0) void this.replayDeferred();
  }

  /** Whether Redis answers; asked while it has answered nothing for a while, it checks (`check`), for the next asking. */
  health(): StoreHealth {
    this.check();
    const reachable = this.client.status === 'ready' && this.verified;
    return {
      reachable,
      reachedOnce: this.reachedOnce,
      ...(reachable ? {} : { problem: this.problem ?? this.unreachable('not connected yet') }),
    };
  }

  private get variable(): string {
    return this.options.variable ?? 'REDIS_URL';
  }

  /** Host and port only: the URL may carry a password. */
  private get where(): string {
    const url = new URL(this.options.url);
    return url.host;
  }

  private unreachable(reason: string): string {
    return `${this.variable}: the session store (Redis at ${this.where}) cannot be reached: ${reason}`;
  }

  private failed(err: Error): void {
    this.problem = this.unreachable(err.message);
    // Reconnection errors repeat every retry: logged at most every ten seconds (the first of an outage at once).
    const now = Date.now();
    if (now - this.lastErrorLog < 10_000) return;
    this.lastErrorLog = now;
    if (!this.reachedOnce) {
      this.options.logger?.error(
        `${this.problem}. Not ready until it can: check ${this.variable} (host, port, password) and that Redis runs.`,
      );
    } else {
      this.options.logger?.warn(
        { reason: err.message },
        `${this.variable}: session store (Redis) unavailable, trying again until it is back; logins and sessions fail meanwhile`,
      );
    }
  }

  /**
   * A command failed on a connection that is still open: it timed out (Redis hangs: stopped, overloaded, cut off without
   * a reset), or Redis refused it (out of memory, a read-only replica, its data being loaded), and nothing closes the
   * connection to say so. Unreachable until Redis takes a write on it again.
   */
  private doubted(err: Error): void {
    if (!this.verified) return;
    this.verified = false;
    this.failed(err);
    void this.verify('stalled');
  }

  /**
   * A write, while nothing answered for CHECK_AFTER_MS on a connection taken as reachable, one at a time: a Redis that hangs
   * with the connection open is then unreachable once the write timed out, as one that is stopped is once the connection
   * closes. Without waiting for it: the readiness probe that asked hears the answer at its next probe.
   */
  private check(): void {
    if (!this.verified || this.checking || this.client.status !== 'ready' || Date.now() - this.answeredAt < CHECK_AFTER_MS) return;
    this.checking = true;
    this.run(() => this.client.set(`${this.prefix}alive`, '1', 'PX', ALIVE_MS))
      .catch(() => undefined)
      .finally(() => (this.checking = false));
  }

  private hashed(id: string): string {
    return digest(id);
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
        this.waitingForReady.delete(onReady);
        reject(new Error(`not connected (${this.client.status})`));
      }, this.connectWaitMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waitingForReady.add(onReady);
    });
  }

  /**
   * `operation`, or StoreUnavailableError; refused, `deferred` first notes what to make once Redis is back, before anything
   * is made, and `undo`, if the operation was sent, what it may yet do. While Redis is known to hang (`stalled`) the
   * operation is refused at once, unsent: a timeout each would keep every caller waiting for what is known already.
   */
  private async run<T>(operation: () => Promise<T>, refused: { deferred?: () => void; undo?: () => void } = {}): Promise<T> {
    let sent = false;
    try {
      if (this.stalled) throw new Error('Redis has not answered since a command timed out');
      await this.ready();
      sent = true;
      const answer = await operation();
      this.answeredAt = Date.now();
      return answer;
    } catch (err) {
      refused.deferred?.();
      if (sent) refused.undo?.();
      const timedOut = err instanceof Error && err.message === COMMAND_TIMED_OUT;
      if (timedOut) this.stalled = true;
      if (err instanceof Error && (timedOut || (err instanceof ioredis().ReplyError && UNAVAILABLE.test(err.message)))) this.doubted(err);
      throw new StoreUnavailableError(`the session store (Redis) is unavailable: ${err instanceof Error ? err.message : 'unknown error'}`, {
        cause: err,
      });
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

  async update(id: string, data: SessionData): Promise<boolean> {
    const key = this.sessionKey(id);
    const sealed = this.options.sealer.seal(JSON.stringify(data), key);
    // This update supersedes one that waited for Redis, which must not be made after it.
    this.deferredUpdates.delete(key);
    // XX: only if the key exists, in the same command, so that a session ended meanwhile stays ended.
    const stored = await this.run(() => this.client.set(key, sealed, 'PX', Math.max(1, data.expiresAt - Date.now()), 'XX'), {
      deferred: () => defer(this.deferredUpdates, key, { sealed, expiresAt: data.expiresAt }),
    });
    return stored === 'OK';
  }

  async delete(id: string): Promise<void> {
    const key = this.sessionKey(id);
    this.deferredUpdates.delete(key);
    await this.run(() => this.client.del(key));
  }

  /** The key of a session's refresh lock. */
  lockKey(id: string): string {
    return `${this.prefix}lock:${this.hashed(id)}`;
  }

  async withLock<T>(id: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<LockResult<T>> {
    const key = this.lockKey(id);
    const token = randomToken(16);
    const release = () => this.client.eval(RELEASE, 1, key, token);
    if (!(await this.acquire(key, token, release, options.waitMs ?? 5_000))) return { acquired: false };
    // Held now: an earlier try's refused taking, with this same token, must not release it.
    this.deferredUndos.delete(token);
    const stopLease = this.keepLease(key, token, options.maxHoldMs ?? 10_000);
    try {
      return { acquired: true, value: await fn() };
    } finally {
      stopLease();
      await release().catch(() => defer(this.deferredUndos, token, release));
    }
  }

  /** Tries to take the lock until `waitMs` passed; true once taken. */
  private async acquire(key: string, token: string, release: () => Promise<unknown>, waitMs: number): Promise<boolean> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      // Refused, it may still be taken late, and would hold off every replica for a lease: released once Redis is back.
      const acquired = await this.run(() => this.client.set(key, token, 'PX', this.lease, 'NX'), { undo: () => this.undo(token, release) });
      if (acquired === 'OK') return true;
      if (Date.now() >= deadline) return false;
      await sleep(50);
    }
  }

  private get lease(): number {
    return this.options.lockLeaseMs ?? LOCK_LEASE_MS;
  }

  private get commandTimeoutMs(): number {
    return this.options.commandTimeoutMs ?? 2_000;
  }

  private get connectWaitMs(): number {
    return this.options.connectWaitMs ?? 1_000;
  }

  /** The longest one extension of a lease takes to fail: a wait for the connection, then for Redis's answer. */
  private get extensionWait(): number {
    return this.commandTimeoutMs + this.connectWaitMs;
  }

  /** How often a held lock's lease is extended: see LOCK_LEASE_MS for why a tick, a failed extension and a tick fit in a lease. */
  private get extensionEvery(): number {
    return Math.floor((this.lease - this.extensionWait) / 3);
  }

  /**
   * Extends a held lock's lease every tick, one extension at a time (while Redis hangs they would pile up), and again at
   * once after one failed, until `maxHoldMs` passed: a holder stuck in its work lets go at last, at most a lease later.
   * By timers, which keep real time where a test moves the clock. Returns what stops it. An extension that fails leaves
   * the holder at work: the lease may run out, but only for a replica that reaches this same Redis. The timers never keep
   * the process alive.
   */
  private keepLease(key: string, token: string, maxHoldMs: number): () => void {
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    // Once a hold: not again at every try while Redis is away, nor for an extension answered after the work ended.
    let quiet = false;
    const warn = (reason: string) => {
      if (!quiet)
        this.options.logger?.warn(
          { reason },
          "a session lock's lease could not be extended: another replica may take the lock should the lease run out",
        );
      quiet = true;
    };
    const stop = () => {
      stopped = true;
      clearTimeout(timer);
      clearTimeout(longest);
    };
    const longest = setTimeout(() => {
      stop();
      this.options.logger?.warn({ maxHoldMs }, 'a session lock was held for its longest hold: let go while its work still runs');
    }, maxHoldMs);
    longest.unref();
    const next = (ms: number) => {
      if (stopped) return;
      timer = setTimeout(extend, ms);
      timer.unref();
    };
    const extend = () =>
      this.run(() => this.client.eval(EXTEND, 1, key, token, this.lease)).then(
        (extended) => {
          if (extended === 1) return next(this.extensionEvery);
          stop();
          warn('its lease ran out');
        },
        (err: Error) => {
          warn(err.message);
          next(RETRY_EXTENSION_MS);
        },
      );
    next(this.extensionEvery);
    return () => {
      quiet = true;
      stop();
    };
  }

  /**
   * Undoes what a refused command may yet do: sent at once, so that on this connection it follows that command and comes
   * before the caller's retry, and kept until Redis answers it (made again once Redis is back, if this one is not taken).
   */
  private undo(mark: string, command: () => Promise<unknown>): void {
    defer(this.deferredUndos, mark, command);
    command().then(
      () => forget(this.deferredUndos, mark, command),
      () => undefined,
    );
  }

  /**
   * What waited for Redis: updates first (with XX, as `update`), then the undos (lock releases among them), so that a
   * waiting replica reads the update. Each stays pending until Redis took it, unless an update, a delete or a new lock
   * superseded it meanwhile.
   */
  private async replayDeferred(): Promise<void> {
    const now = Date.now();
    const made: Promise<unknown>[] = [];
    for (const [key, update] of this.deferredUpdates) {
      if (update.expiresAt <= now) this.deferredUpdates.delete(key);
      else
        made.push(
          this.client.set(key, update.sealed, 'PX', update.expiresAt - now, 'XX').then(() => forget(this.deferredUpdates, key, update)),
        );
    }
    for (const [mark, undo] of this.deferredUndos) made.push(undo().then(() => forget(this.deferredUndos, mark, undo)));
    await Promise.allSettled(made);
  }

  /**
   * Refused, the key stays unused: the caller says "try again", and the retry must not find the key consumed by the
   * refused call's command, which Redis may take after all (it timed out, or the answer was lost with the connection).
   */
  async consumeOnce(key: string, ttlMs: number): Promise<boolean> {
    const once = `${this.prefix}once:${this.hashed(key)}`;
    const mark = randomToken(16);
    const stored = await this.run(() => this.client.set(once, mark, 'PX', ttlMs, 'NX'), {
      undo: () => this.undo(mark, () => this.client.eval(RELEASE, 1, once, mark)),
    });
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

  /**
   * Compared by its sealed bytes, which Redis can see: the value read is opened here, and the swap is made only if those
   * bytes are still there. Refused, the record stays as it was, as `consumeOnce` leaves its key unused.
   */
  async swapRecord(key: string, expected: string, next: string, ttlMs: number): Promise<boolean> {
    const stored = this.recordKey(key);
    const sealed = await this.run(() => this.client.get(stored));
    if (sealed === null || this.options.sealer.open(sealed, stored) !== expected) return false;
    const sealedNext = this.options.sealer.seal(next, stored);
    const ttl = Math.max(1, Math.ceil(ttlMs));
    const swapped = await this.run(() => this.client.eval(SWAP, 1, stored, sealed, sealedNext, ttl), {
      undo: () => this.undo(randomToken(16), () => this.client.eval(SWAP, 1, stored, sealedNext, sealed, ttl)),
    });
    return swapped === 1;
  }

  /** Refused, the record stays, as `consumeOnce` leaves its key unused. */
  async takeRecord(key: string): Promise<boolean> {
    const stored = this.recordKey(key);
    const mark = randomToken(16);
    const aside = `${this.prefix}taken:${mark}`;
    const taken = await this.run(() => this.client.eval(TAKE, 2, stored, aside), {
      undo: () => this.undo(mark, () => this.client.eval(PUT_BACK, 2, stored, aside)),
    });
    // Taken for good: the copy kept aside goes (or with its lifetime, if Redis misses this).
    if (taken === 1) this.client.del(aside).catch(() => undefined);
    return taken === 1;
  }

  /**
   * A script of another part on this connection (the rate limits' counts), under the store's rules: refused at once while
   * Redis is known to hang, and its timeout makes Redis unreachable (until it takes a write again) as one of the store's
   * own commands does. StoreUnavailableError when refused.
   */
  async script(source: string, keys: string[], args: (string | number)[]): Promise<unknown> {
    return this.run(() => this.client.eval(source, keys.length, ...keys, ...args));
  }

  async close(): Promise<void> {
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}

/** Drops what waited for Redis once made, unless something newer took its place meanwhile. */
function forget<T>(pending: Map<string, T>, key: string, value: T): void {
  if (pending.get(key) === value) pending.delete(key);
}

function defer<T>(pending: Map<string, T>, key: string, value: T): void {
  pending.delete(key);
  pending.set(key, value);
  if (pending.size > MAX_DEFERRED) pending.delete(pending.keys().next().value!);
}
