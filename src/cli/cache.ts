/**
 * The command's cache: one file in the user's cache directory, readable by the user alone, holding
 * per generator the refresh tokens of the command line's own sessions, one for each target the employee
 * allowed (a session is consented for one target), and tokens until their early expiry, the generator's rule.
 */
import { createHash, randomUUID } from 'node:crypto';
import { chmod, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { earlyExpiryMs } from '../cache/early-expiry.js';
import { dirname } from 'node:path';
import { withFileLock, type LockTimes } from '../file-lock.js';
import { makeFolder } from '../make-folder.js';

/**
 * A renewal is a round trip to the generator and on to Entra ID: a second command waits for it longer than for a change of the
 * file, as long as the renewal's request may take (openid-client's 30 s) and the writes after it. It waited 15 s, less than the
 * generator's own retries of a slow identity provider take, and then renewed with the refresh token the first was rotating,
 * which ended the session. A lock is taken over as left behind only past that too.
 */
const RENEWAL_LOCK: LockTimes = { waitMs: 40_000, staleMs: 45_000 };
/** A wait longer than this is said, so that a command waiting for another does not look hung. */
const SAY_WAITING_AFTER_MS = 1_000;

export interface CachedToken {
  accessToken: string;
  expiresAt: number;
  /** What it had left when received, which sets its margin; absent in a file written before it was kept. */
  lifetimeMs?: number;
}

/** Until when a token is handed out: a token of a file without its lifetime is taken to be long-lived, as it was then. */
const keptUntil = (token: CachedToken): number => token.expiresAt - earlyExpiryMs(token.lifetimeMs ?? Infinity);

interface GeneratorEntry {
  /** Per target: the refresh token of the session the employee allowed for it. */
  refreshTokens?: Record<string, string>;
  /** The one refresh token a file written before sessions per target holds, for a target it does not name. */
  refreshToken?: string;
  tokens: Record<string, CachedToken>;
}

interface CacheFile {
  generators: Record<string, GeneratorEntry>;
}

export class TokenCacheFile {
  private warned = false;

  /**
   * `say` tells the user a line: once, that the file cannot be written (the command goes on without keeping what it got),
   * and that the command waits for another one renewing the same session.
   */
  constructor(
    readonly path: string,
    private readonly say: (line: string) => void = () => {},
  ) {}

  /** The file's text: empty when there is no file; when there is one this user cannot read, the file system's code. */
  private async text(): Promise<string | { unreadable: string }> {
    return readFile(this.path, 'utf8').catch((err: NodeJS.ErrnoException) =>
      err.code === 'ENOENT' || err.code === 'ENOTDIR' ? '' : { unreadable: err.code ?? 'unknown' },
    );
  }

  private async read(): Promise<CacheFile> {
    const text = await this.text();
    return parsedCache(typeof text === 'string' ? text : undefined);
  }

  private async write(data: CacheFile): Promise<void> {
    await makeFolder(dirname(this.path));
    const temporary = `${this.path}.${process.pid}.${randomUUID()}.tmp`;
    await writeFile(temporary, JSON.stringify(data), { mode: 0o600 });
    await chmod(temporary, 0o600);
    await rename(temporary, this.path);
  }

  /**
   * Reads, changes and writes the file while holding its lock: two commands run at once (`obo` for two
   * targets in one script) would otherwise each write back what the other changed before, and a refresh
   * token written back after it rotated would end its session at the next renewal. `change` returns
   * false when it changed nothing.
   */
  private async update(change: (data: CacheFile) => boolean | void): Promise<void> {
    await this.writing(() =>
      withFileLock(`${this.path}.lock`, async () => {
        const text = await this.text();
        // Another user's file (left by a command run with sudo) holds sessions only they can end: never written over.
        if (typeof text !== 'string')
          return this.warn(`cannot read the token cache ${this.path} (${text.unreadable}): it is left as it is, and tokens are not kept`);
        const data = parsedCache(text);
        if (change(data) !== false) await this.write(data);
      }),
    );
  }

  /** Says once why what a command got is not kept. */
  private warn(reason: string): void {
    if (!this.warned) this.say(reason);
    this.warned = true;
  }

  /** `work`, which writes the file; a file system's refusal (a folder that cannot be made or written) is said, not thrown. */
  private async writing<T>(work: () => Promise<T>): Promise<T | undefined> {
    try {
      return await work();
    } catch (err) {
      this.warn(`cannot write the token cache ${this.path} (${refusalCode(err)}): tokens are not kept`);
      return undefined;
    }
  }

  /**
   * Runs `renewal` alone among the commands renewing `target`'s session: a refresh token rotates when used,
   * and one used twice ends its session, so a second command waits and then finds the first one's token.
   */
  async renewing<T>(generator: string, target: string, renewal: () => Promise<T>): Promise<T> {
    const name = createHash('sha256').update(`${generator} ${target}`).digest('hex').slice(0, 16);
    // Said only while it has not got the lock: a renewal of its own that takes long is not waiting for another.
    const timer = setTimeout(
      () => this.say(`waiting for another command renewing the session for ${target} (up to ${RENEWAL_LOCK.waitMs / 1000} s)`),
      SAY_WAITING_AFTER_MS,
    );
    const mine = () => {
      clearTimeout(timer);
      return renewal();
    };
    return withFileLock(`${this.path}.${name}.lock`, mine, RENEWAL_LOCK).finally(() => clearTimeout(timer));
  }

  /** A token not past its early expiry, or undefined; one past it is dropped. */
  async token(generator: string, key: string, now = Date.now()): Promise<CachedToken | undefined> {
    const token = (await this.read()).generators[generator]?.tokens[key];
    if (!token) return undefined;
    if (keptUntil(token) > now) return token;
    await this.update((data) => {
      const entry = data.generators[generator];
      if (entry?.tokens[key]?.expiresAt !== token.expiresAt) return false;
      delete entry.tokens[key];
    });
    return undefined;
  }

  async storeToken(generator: string, key: string, token: CachedToken): Promise<void> {
    await this.update((data) => {
      const entry = (data.generators[generator] ??= { tokens: {} });
      const now = Date.now();
      for (const [k, t] of Object.entries(entry.tokens)) if (t.expiresAt <= now) delete entry.tokens[k];
      if (keptUntil(token) > now) entry.tokens[key] = token;
    });
  }

  /** Drops this generator's tokens for which `stale` holds. */
  async dropTokens(generator: string, stale: (token: CachedToken) => boolean): Promise<void> {
    await this.update((data) => {
      const entry = data.generators[generator];
      if (!entry) return false;
      for (const [key, token] of Object.entries(entry.tokens)) if (stale(token)) delete entry.tokens[key];
    });
  }

  /** The refresh token for `target`, or the one of a file written before sessions per target, which may be for it. */
  async refreshToken(generator: string, target: string): Promise<string | undefined> {
    const entry = (await this.read()).generators[generator];
    return entry?.refreshTokens?.[target] ?? entry?.refreshToken;
  }

  /**
   * Keeps the refresh token of the target's session: the next of `used`, after a renewal, or a new session's. When `used`
   * was the single one of a file written before sessions per target, it has rotated and goes. The refresh token a new
   * session's replaces (another command's login for the target, run at the same time) is handed back, to be ended.
   */
  async storeRefreshToken(generator: string, target: string, refreshToken: string, used?: string): Promise<string | undefined> {
    let replaced: string | undefined;
    await this.update((data) => {
      const entry = (data.generators[generator] ??= { tokens: {} });
      const held = entry.refreshTokens?.[target];
      if (used === undefined && held !== undefined && held !== refreshToken) replaced = held;
      (entry.refreshTokens ??= {})[target] = refreshToken;
      if (used !== undefined && entry.refreshToken === used) delete entry.refreshToken;
    });
    return replaced;
  }

  /**
   * Forgets a refresh token the generator refused for `target`, unless another command stored a newer one
   * meanwhile. The single one of a file written before sessions per target goes only when its session
   * `ended`: refused as not consented for `target`, it is another target's, and still good for that one.
   */
  async dropRefreshToken(generator: string, target: string, refused: string, ended: boolean): Promise<void> {
    await this.update((data) => {
      const entry = data.generators[generator];
      if (!entry) return false;
      if (entry.refreshTokens?.[target] === refused) delete entry.refreshTokens[target];
      if (ended && entry.refreshToken === refused) delete entry.refreshToken;
    });
  }

  /**
   * Forgets the generator's tokens and refresh tokens, and gives the refresh tokens to end; the file goes with the last
   * generator. A file that holds them and cannot be changed (its folder read-only) keeps them: `kept` is the file
   * system's code, and the refresh tokens to end are those it still holds. A file that cannot be read (another user's:
   * `sudo`) is left as it is, `unreadable` its code: removed, it would take with it refresh tokens no one ended.
   */
  async forget(generator: string): Promise<Forgotten> {
    try {
      return await this.forgetLocked(generator);
    } catch (err) {
      const code = refusalCode(err);
      const text = await this.text();
      if (typeof text !== 'string') return { refreshTokens: [], unreadable: text.unreadable };
      const held = parsedCache(text).generators[generator];
      // Nothing of the generator's there (no file, or none can be there): nothing is kept.
      return held ? { refreshTokens: refreshTokensOf(held), kept: code } : { refreshTokens: [] };
    }
  }

  private async forgetLocked(generator: string): Promise<Forgotten> {
    return withFileLock(`${this.path}.lock`, async () => {
      const text = await this.text();
      if (typeof text !== 'string') return { refreshTokens: [], unreadable: text.unreadable };
      const data = parsedCache(text);
      const refreshTokens = refreshTokensOf(data.generators[generator]);
      delete data.generators[generator];
      if (Object.keys(data.generators).length > 0) await this.write(data);
      else await rm(this.path, { force: true });
      return { refreshTokens };
    });
  }
}

/** What `forget` did: the refresh tokens to end, and why the file still holds its tokens, when it does. */
export interface Forgotten {
  refreshTokens: string[];
  /** The file system's code for a file that could not be changed. */
  kept?: string;
  /** The file system's code for a file that could not be read: what it holds is not known, nor ended. */
  unreadable?: string;
}

/** The cache a file's text holds: none when it is not the cache's JSON (or was not read). */
function parsedCache(text: string | undefined): CacheFile {
  try {
    const parsed = JSON.parse(text ?? '') as unknown;
    if (!isObject(parsed) || !isObject(parsed.generators)) return { generators: {} };
    const generators: Record<string, GeneratorEntry> = {};
    for (const [generator, entry] of Object.entries(parsed.generators)) if (isObject(entry)) generators[generator] = entryOf(entry);
    return { generators };
  } catch {
    return { generators: {} };
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * What a generator's entry holds that is of the cache's shape: a file edited by hand, or damaged, made every command fail
 * with an unexpected error (a `tokens` missing or null) until it was removed. What is not of its shape is left out.
 */
function entryOf(entry: Record<string, unknown>): GeneratorEntry {
  const tokens: Record<string, CachedToken> = {};
  if (isObject(entry.tokens))
    for (const [key, token] of Object.entries(entry.tokens))
      if (isObject(token) && typeof token.accessToken === 'string' && typeof token.expiresAt === 'number')
        tokens[key] = {
          accessToken: token.accessToken,
          expiresAt: token.expiresAt,
          ...(typeof token.lifetimeMs === 'number' ? { lifetimeMs: token.lifetimeMs } : {}),
        };
  const refreshTokens = isObject(entry.refreshTokens)
    ? Object.fromEntries(Object.entries(entry.refreshTokens).filter((pair): pair is [string, string] => typeof pair[1] === 'string'))
    : undefined;
  return {
    tokens,
    ...(refreshTokens ? { refreshTokens } : {}),
    ...(typeof entry.refreshToken === 'string' ? { refreshToken: entry.refreshToken } : {}),
  };
}

/** The code of the file system's refusal (EACCES, EROFS, ENOSPC…); anything else is thrown on. */
function refusalCode(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code !== 'string') throw err;
  return code;
}

/** Every refresh token an entry holds, its single old one last. */
function refreshTokensOf(entry: GeneratorEntry | undefined): string[] {
  return [...Object.values(entry?.refreshTokens ?? {}), ...(entry?.refreshToken ? [entry.refreshToken] : [])];
}
