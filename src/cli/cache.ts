/**
 * The command's cache: one file in the user's cache directory, readable by the user alone, holding
 * per generator the refresh tokens of the command line's own sessions, one for each target the employee
 * allowed (a session is consented for one target), and tokens until two minutes before they expire.
 */
import { chmod, mkdir, readFile, rm, writeFile, rename } from 'node:fs/promises';
import { EARLY_EXPIRY_MS } from '../cache/early-expiry.js';
import { dirname } from 'node:path';

export interface CachedToken {
  accessToken: string;
  expiresAt: number;
}

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
  constructor(private readonly path: string) {}

  private async read(): Promise<CacheFile> {
    try {
      const parsed = JSON.parse(await readFile(this.path, 'utf8')) as CacheFile;
      return parsed && typeof parsed === 'object' && parsed.generators ? parsed : { generators: {} };
    } catch {
      return { generators: {} };
    }
  }

  private async write(data: CacheFile): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const temporary = `${this.path}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(data), { mode: 0o600 });
    await chmod(temporary, 0o600);
    await rename(temporary, this.path);
  }

  /** A token with more than two minutes left, or undefined; expired ones are dropped. */
  async token(generator: string, key: string, now = Date.now()): Promise<CachedToken | undefined> {
    const data = await this.read();
    const entry = data.generators[generator];
    const token = entry?.tokens[key];
    if (!token) return undefined;
    if (token.expiresAt - EARLY_EXPIRY_MS > now) return token;
    delete entry.tokens[key];
    await this.write(data);
    return undefined;
  }

  async storeToken(generator: string, key: string, token: CachedToken): Promise<void> {
    const data = await this.read();
    const entry = (data.generators[generator] ??= { tokens: {} });
    const now = Date.now();
    for (const [k, t] of Object.entries(entry.tokens)) if (t.expiresAt <= now) delete entry.tokens[k];
    if (token.expiresAt - EARLY_EXPIRY_MS > now) entry.tokens[key] = token;
    await this.write(data);
  }

  /** Drops this generator's tokens for which `stale` holds. */
  async dropTokens(generator: string, stale: (token: CachedToken) => boolean): Promise<void> {
    const data = await this.read();
    const entry = data.generators[generator];
    if (!entry) return;
    for (const [key, token] of Object.entries(entry.tokens)) if (stale(token)) delete entry.tokens[key];
    await this.write(data);
  }

  /** The refresh token for `target`, or the one of a file written before sessions per target, which may be for it. */
  async refreshToken(generator: string, target: string): Promise<string | undefined> {
    const entry = (await this.read()).generators[generator];
    return entry?.refreshTokens?.[target] ?? entry?.refreshToken;
  }

  /** Every refresh token held for the generator: what `logout` ends. */
  async refreshTokens(generator: string): Promise<string[]> {
    const entry = (await this.read()).generators[generator];
    return [...Object.values(entry?.refreshTokens ?? {}), ...(entry?.refreshToken ? [entry.refreshToken] : [])];
  }

  /**
   * Keeps the refresh token of `target`'s session, or forgets it (undefined). The single refresh token of a
   * file written before sessions per target is gone either way: it was asked for `target` first and was
   * either that session's (rotated now) or another target's, whose next ask logs in again.
   */
  async storeRefreshToken(generator: string, target: string, refreshToken: string | undefined): Promise<void> {
    const data = await this.read();
    const entry = (data.generators[generator] ??= { tokens: {} });
    const kept = (entry.refreshTokens ??= {});
    if (refreshToken) kept[target] = refreshToken;
    else delete kept[target];
    delete entry.refreshToken;
    await this.write(data);
  }

  async forget(): Promise<void> {
    await rm(this.path, { force: true });
  }
}
