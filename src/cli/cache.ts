/**
 * The command's cache: one file in the user's cache directory, readable by the user alone,
 * holding the refresh token of the command line's own session and tokens per generator, the tokens
 * until two minutes before they expire.
 */
import { chmod, mkdir, readFile, rm, writeFile, rename } from 'node:fs/promises';
import { EARLY_EXPIRY_MS } from '../cache/early-expiry.js';
import { dirname } from 'node:path';

export interface CachedToken {
  accessToken: string;
  expiresAt: number;
}

interface GeneratorEntry {
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

  async refreshToken(generator: string): Promise<string | undefined> {
    return (await this.read()).generators[generator]?.refreshToken;
  }

  async storeRefreshToken(generator: string, refreshToken: string | undefined): Promise<void> {
    const data = await this.read();
    const entry = (data.generators[generator] ??= { tokens: {} });
    if (refreshToken) entry.refreshToken = refreshToken;
    else {
      delete entry.refreshToken;
      // Employee tokens belong to the session.
      for (const key of Object.keys(entry.tokens)) if (key.startsWith('obo ')) delete entry.tokens[key];
    }
    await this.write(data);
  }

  async forget(): Promise<void> {
    await rm(this.path, { force: true });
  }
}
