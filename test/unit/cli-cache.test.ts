/**
 * The command line's cache file: a refresh token per target, the single one of a file written before
 * sessions per target, changes made under the file's lock so that commands run at once lose none of
 * each other's, and `logout` forgetting one generator's part only.
 */
import { mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TokenCacheFile } from '../../src/cli/cache.js';

const GENERATOR = 'http://localhost:8080';
const OTHER_GENERATOR = 'https://azure-token-generator.intern.dev.nav.no';
let dir: string;
let path: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-cache-'));
  path = join(dir, 'cache', 'tokens.json');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function legacyFile(refreshToken: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify({ generators: { [GENERATOR]: { refreshToken, tokens: {} } } }));
}

describe('the command line cache file', () => {
  it('keeps a refresh token per target', async () => {
    const cache = new TokenCacheFile(path);
    await cache.storeRefreshToken(GENERATOR, 'dev-gcp:a:app', 'rt-a');
    await cache.storeRefreshToken(GENERATOR, 'dev-gcp:b:app', 'rt-b');
    expect(await cache.refreshToken(GENERATOR, 'dev-gcp:a:app')).toBe('rt-a');
    expect(await cache.refreshToken(GENERATOR, 'dev-gcp:b:app')).toBe('rt-b');
    expect(await cache.refreshToken(GENERATOR, 'dev-gcp:c:app')).toBeUndefined();
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('loses none of twenty changes made at once', async () => {
    const targets = Array.from({ length: 20 }, (_, i) => `dev-gcp:team-${i}:app`);
    // Each its own instance, as each command is its own process: only the file's lock orders them.
    await Promise.all(targets.map((target) => new TokenCacheFile(path).storeRefreshToken(GENERATOR, target, `rt ${target}`)));
    const cache = new TokenCacheFile(path);
    for (const target of targets) expect(await cache.refreshToken(GENERATOR, target)).toBe(`rt ${target}`);
    await expect(stat(`${path}.lock`)).rejects.toThrow();
  });

  it('takes over a lock left by a command that died', async () => {
    const cache = new TokenCacheFile(path);
    await cache.storeRefreshToken(GENERATOR, 'dev-gcp:a:app', 'rt-a');
    await writeFile(`${path}.lock`, '');
    const longAgo = new Date(Date.now() - 60_000);
    await utimes(`${path}.lock`, longAgo, longAgo);
    const started = Date.now();
    await cache.storeRefreshToken(GENERATOR, 'dev-gcp:b:app', 'rt-b');
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await cache.refreshToken(GENERATOR, 'dev-gcp:b:app')).toBe('rt-b');
  });

  it('forgets a refused refresh token, but not a newer one another command stored meanwhile', async () => {
    const cache = new TokenCacheFile(path);
    await cache.storeRefreshToken(GENERATOR, 'dev-gcp:a:app', 'rt-newer');
    await cache.dropRefreshToken(GENERATOR, 'dev-gcp:a:app', 'rt-older', true);
    expect(await cache.refreshToken(GENERATOR, 'dev-gcp:a:app')).toBe('rt-newer');
    await cache.dropRefreshToken(GENERATOR, 'dev-gcp:a:app', 'rt-newer', true);
    expect(await cache.refreshToken(GENERATOR, 'dev-gcp:a:app')).toBeUndefined();
  });
});

describe("a file's single refresh token, written before sessions per target", () => {
  it('is tried for any target, and goes once it has rotated', async () => {
    await legacyFile('rt-old');
    const cache = new TokenCacheFile(path);
    expect(await cache.refreshToken(GENERATOR, 'dev-gcp:a:app')).toBe('rt-old');
    await cache.storeRefreshToken(GENERATOR, 'dev-gcp:a:app', 'rt-a', 'rt-old');
    expect(await cache.refreshToken(GENERATOR, 'dev-gcp:b:app')).toBeUndefined();
    expect(await cache.refreshTokens(GENERATOR)).toEqual(['rt-a']);
  });

  it('stays when refused as another target’s, for that target and for logout, and goes when its session ended', async () => {
    await legacyFile('rt-old');
    const cache = new TokenCacheFile(path);
    await cache.dropRefreshToken(GENERATOR, 'dev-gcp:b:app', 'rt-old', false);
    // A login for b stores b's own; the single one is still there for the target it belongs to.
    await cache.storeRefreshToken(GENERATOR, 'dev-gcp:b:app', 'rt-b');
    expect(await cache.refreshToken(GENERATOR, 'dev-gcp:b:app')).toBe('rt-b');
    expect(await cache.refreshToken(GENERATOR, 'dev-gcp:a:app')).toBe('rt-old');
    expect((await cache.refreshTokens(GENERATOR)).sort()).toEqual(['rt-b', 'rt-old']);
    await cache.dropRefreshToken(GENERATOR, 'dev-gcp:a:app', 'rt-old', true);
    expect(await cache.refreshTokens(GENERATOR)).toEqual(['rt-b']);
  });
});

describe('forgetting a generator', () => {
  it("keeps the other generators' tokens, and removes the file with the last one", async () => {
    const cache = new TokenCacheFile(path);
    await cache.storeRefreshToken(GENERATOR, 'dev-gcp:a:app', 'rt-local');
    await cache.storeRefreshToken(OTHER_GENERATOR, 'dev-gcp:a:app', 'rt-dev');
    await cache.forget(GENERATOR);
    expect(await cache.refreshTokens(GENERATOR)).toEqual([]);
    expect(await cache.refreshTokens(OTHER_GENERATOR)).toEqual(['rt-dev']);
    expect(JSON.parse(await readFile(path, 'utf8'))).not.toHaveProperty(['generators', GENERATOR]);
    await cache.forget(OTHER_GENERATOR);
    await expect(stat(path)).rejects.toThrow();
  });
});
