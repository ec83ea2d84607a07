/**
 * The command line's cache file: a refresh token per target, the single one of a file written before
 * sessions per target, changes made under the file's lock so that commands run at once lose none of
 * each other's, and `logout` forgetting one generator's part only.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TokenCacheFile } from '../../src/cli/cache.js';
import { withFileLock } from '../../src/file-lock.js';
import { z } from 'zod';

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

/** The refresh tokens the file holds for `generator`, its single old one last. */
async function held(generator: string): Promise<string[]> {
  const file = JSON.parse(await readFile(path, 'utf8').catch(() => '{"generators":{}}')) as {
    generators: Record<string, { refreshTokens?: Record<string, string>; refreshToken?: string }>;
  };
  const entry = file.generators[generator];
  return [...Object.values(entry?.refreshTokens ?? {}), ...(entry?.refreshToken ? [entry.refreshToken] : [])];
}

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

  it('takes over a lock left by a command that died, once however many commands find it', async () => {
    const cache = new TokenCacheFile(path);
    await cache.storeRefreshToken(GENERATOR, 'dev-gcp:a:app', 'rt-a');
    // A lock held by a process that is gone (it just ended).
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    await writeFile(`${path}.lock`, `${gone} left-behind`);
    const targets = Array.from({ length: 10 }, (_, i) => `dev-gcp:team-${i}:app`);
    await Promise.all(targets.map((target) => new TokenCacheFile(path).storeRefreshToken(GENERATOR, target, `rt ${target}`)));
    for (const target of targets) expect(await cache.refreshToken(GENERATOR, target)).toBe(`rt ${target}`);
    // Taken away and released: no lock is left, and no copy of the old one.
    expect((await readdir(dirname(path))).filter((name) => name.includes('.lock'))).toEqual([]);
  });

  it("leaves a live command's lock alone", async () => {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(`${path}.lock`, `${process.pid} held-by-this-test`);
    const lockFile = `${path}.lock`;
    let ran = false;
    const waiting = withFileLock(lockFile, async () => (ran = true), { waitMs: 200, staleMs: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ran).toBe(false);
    // Past its wait the work goes ahead without the lock, and the other's lock stays.
    await waiting;
    expect(ran).toBe(true);
    expect(await readFile(lockFile, 'utf8')).toBe(`${process.pid} held-by-this-test`);
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

describe('two commands renewing one target', () => {
  it('take turns however long a renewal takes within its request timeout (30 s): a refresh token used twice ends its session', async () => {
    // The generator's default retries of a slow identity provider (5 s, three times) take longer than the 15 s the second
    // command waited before going ahead with the refresh token the first was rotating. The first renewal takes 16 s by the
    // clock the lock reads (Date), moved rather than waited out.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
      const order: string[] = [];
      let firstStarted!: () => void;
      const started = new Promise<void>((resolve) => (firstStarted = resolve));
      let secondWaits!: () => void;
      const waiting = new Promise<void>((resolve) => (secondWaits = resolve));
      const first = new TokenCacheFile(path).renewing(GENERATOR, 'dev-gcp:a:app', async () => {
        firstStarted();
        await waiting;
        vi.setSystemTime(Date.now() + 16_000);
        // Long enough, in real time, for the second to look at the lock again (every 10 ms) past those 16 s.
        await pause(300);
        order.push('first ended');
      });
      await started;
      const second = new TokenCacheFile(path).renewing(GENERATOR, 'dev-gcp:a:app', async () => {
        order.push('second started');
      });
      await pause(100);
      secondWaits();
      await Promise.all([first, second]);
      expect(order).toEqual(['first ended', 'second started']);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('a command waiting for another renewing the same session', () => {
  it('says so once it has waited a moment, and not while it renews itself', async () => {
    const said: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let firstStarted!: () => void;
    const started = new Promise<void>((resolve) => (firstStarted = resolve));
    const first = new TokenCacheFile(path, (line) => said.push(`first: ${line}`)).renewing(GENERATOR, 'dev-gcp:a:app', async () => {
      firstStarted();
      await held;
    });
    await started;
    const second = new TokenCacheFile(path, (line) => {
      said.push(`second: ${line}`);
      release();
    }).renewing(GENERATOR, 'dev-gcp:a:app', async () => undefined);
    await Promise.all([first, second]);
    expect(said).toEqual(['second: waiting for another command renewing the session for dev-gcp:a:app (up to 40 s)']);
  });
});

describe("the command line's early expiry", () => {
  const KEY = 'm2m dev-gcp:a:app';

  // A minute's token, as the emulator's EMULATOR_TOKEN_LIFETIME_SECONDS can make it: a flat two-minute margin would never keep it.
  it.each([
    ['a minute', 60_000, 'until half its lifetime is left', 30_000],
    ['an hour', 3_600_000, 'until two minutes are left', 120_000],
  ])('keeps a token that lives %s %s, as the generator does', async (_lives, lifetimeMs, _until, marginMs) => {
    const cache = new TokenCacheFile(path);
    const now = Date.now();
    await cache.storeToken(GENERATOR, KEY, { accessToken: 'kept', expiresAt: now + lifetimeMs, lifetimeMs });
    expect((await cache.token(GENERATOR, KEY, now + lifetimeMs - marginMs - 1_000))?.accessToken).toBe('kept');
    expect(await cache.token(GENERATOR, KEY, now + lifetimeMs - marginMs + 1_000)).toBeUndefined();
  });

  it("reads a file written before tokens kept their lifetime, with the two minutes' margin", async () => {
    const now = Date.now();
    await mkdir(dirname(path), { recursive: true });
    const tokens = { old: { accessToken: 'old', expiresAt: now + 100_000 }, older: { accessToken: 'older', expiresAt: now + 200_000 } };
    await writeFile(path, JSON.stringify({ generators: { [GENERATOR]: { tokens } } }));
    const cache = new TokenCacheFile(path);
    expect(await cache.token(GENERATOR, 'old', now)).toBeUndefined();
    expect((await cache.token(GENERATOR, 'older', now))?.accessToken).toBe('older');
  });
});

describe('a cache file that cannot be written', () => {
  it('is said once, and nothing is thrown: the command goes on without keeping its tokens', async () => {
    await writeFile(join(dir, 'a-file'), '');
    const said: string[] = [];
    const cache = new TokenCacheFile(join(dir, 'a-file', 'tokens.json'), (reason) => said.push(reason));
    await cache.storeToken(GENERATOR, 'm2m dev-gcp:a:app', { accessToken: 'x', expiresAt: Date.now() + 3_600_000 });
    await cache.storeRefreshToken(GENERATOR, 'dev-gcp:a:app', 'rt-a');
    expect(await cache.refreshToken(GENERATOR, 'dev-gcp:a:app')).toBeUndefined();
    expect(await cache.forget(GENERATOR)).toEqual({ refreshTokens: [] });
    expect(said).toEqual([expect.stringMatching(/^cannot write the token cache .*a-file\/tokens\.json \([A-Z]+\): tokens are not kept$/)]);
  });
});

describe('a cache file under a folder where nothing can be made', () => {
  // Node's own recursive mkdir never settled under /proc: the command hung at its first write.
  it.runIf(process.platform === 'linux')('is said once, as one that cannot be written, and nothing hangs', async () => {
    const said: string[] = [];
    const cache = new TokenCacheFile('/proc/nonexistent/tokens.json', (reason) => said.push(reason));
    await cache.storeToken(GENERATOR, 'm2m dev-gcp:a:app', { accessToken: 'x', expiresAt: Date.now() + 3_600_000 });
    expect(await cache.forget(GENERATOR)).toEqual({ refreshTokens: [] });
    expect(said).toEqual(['cannot write the token cache /proc/nonexistent/tokens.json (ENOENT): tokens are not kept']);
  });
});

describe("a file's single refresh token, written before sessions per target", () => {
  it('is tried for any target, and goes once it has rotated', async () => {
    await legacyFile('rt-old');
    const cache = new TokenCacheFile(path);
    expect(await cache.refreshToken(GENERATOR, 'dev-gcp:a:app')).toBe('rt-old');
    await cache.storeRefreshToken(GENERATOR, 'dev-gcp:a:app', 'rt-a', 'rt-old');
    expect(await cache.refreshToken(GENERATOR, 'dev-gcp:b:app')).toBeUndefined();
    expect(await held(GENERATOR)).toEqual(['rt-a']);
  });

  it('stays when refused as another target’s, for that target and for logout, and goes when its session ended', async () => {
    await legacyFile('rt-old');
    const cache = new TokenCacheFile(path);
    await cache.dropRefreshToken(GENERATOR, 'dev-gcp:b:app', 'rt-old', false);
    // A login for b stores b's own; the single one is still there for the target it belongs to.
    await cache.storeRefreshToken(GENERATOR, 'dev-gcp:b:app', 'rt-b');
    expect(await cache.refreshToken(GENERATOR, 'dev-gcp:b:app')).toBe('rt-b');
    expect(await cache.refreshToken(GENERATOR, 'dev-gcp:a:app')).toBe('rt-old');
    expect((await held(GENERATOR)).sort()).toEqual(['rt-b', 'rt-old']);
    await cache.dropRefreshToken(GENERATOR, 'dev-gcp:a:app', 'rt-old', true);
    expect(await held(GENERATOR)).toEqual(['rt-b']);
  });
});

describe('forgetting a generator', () => {
  it("keeps the other generators' tokens, and removes the file with the last one", async () => {
    const cache = new TokenCacheFile(path);
    await cache.storeRefreshToken(GENERATOR, 'dev-gcp:a:app', 'rt-local');
    await cache.storeRefreshToken(OTHER_GENERATOR, 'dev-gcp:a:app', 'rt-dev');
    expect(await cache.forget(GENERATOR)).toEqual({ refreshTokens: ['rt-local'] });
    expect(await held(GENERATOR)).toEqual([]);
    expect(await held(OTHER_GENERATOR)).toEqual(['rt-dev']);
    expect(JSON.parse(await readFile(path, 'utf8'))).not.toHaveProperty(['generators', GENERATOR]);
    await cache.forget(OTHER_GENERATOR);
    await expect(stat(path)).rejects.toThrow();
  });
});

describe('a cache file damaged, or edited by hand', () => {
  // The command line reads its cache without zod, which would load in every command (about 100 ms to import here, where a
  // cached token takes 140 ms in all: BENCHMARKS.md, figure 8). What it keeps is what this lenient schema keeps.
  const Token = z.object({ accessToken: z.string(), expiresAt: z.number(), lifetimeMs: z.number().optional().catch(undefined) });
  const Entry = z.object({
    tokens: z
      .record(z.string(), Token.nullable().catch(null))
      .catch({})
      .optional()
      .transform((tokens) => Object.fromEntries(Object.entries(tokens ?? {}).filter(([, token]) => token !== null))),
    refreshTokens: z.record(z.string(), z.unknown()).optional().catch(undefined),
    refreshToken: z.string().optional().catch(undefined),
  });
  const Cache = z.object({ generators: z.record(z.string(), Entry.nullable().catch(null)) }).catch({ generators: {} });

  const later = Date.now() + 3_600_000;
  const good = { accessToken: 'at', expiresAt: later };
  const files = [
    'not json',
    '[]',
    '{"generators":"x"}',
    { generators: { [GENERATOR]: {} } },
    { generators: { [GENERATOR]: null } },
    { generators: { [GENERATOR]: { tokens: null, refreshToken: 7 } } },
    { generators: { [GENERATOR]: { tokens: { a: null, b: 'text', c: good, d: { accessToken: 1, expiresAt: later } } } } },
    { generators: { [GENERATOR]: { tokens: { c: { ...good, lifetimeMs: 'long' } }, refreshTokens: { t: 'rt', u: 5 } } } },
    { generators: { [GENERATOR]: { tokens: [good], refreshTokens: [], refreshToken: 'old' } } },
  ];

  it('is read as a lenient schema of its shape reads it: what fits is kept, what does not is left out', async () => {
    for (const file of files) {
      const text = typeof file === 'string' ? file : JSON.stringify(file);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, text, { mode: 0o600 });
      const cache = new TokenCacheFile(path);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      const entry = Cache.parse(parsed).generators[GENERATOR] ?? undefined;
      for (const key of ['a', 'b', 'c', 'd', '0']) {
        const expected = entry?.tokens[key];
        const read = await cache.token(GENERATOR, key);
        expect({ text, key, token: read && { accessToken: read.accessToken, expiresAt: read.expiresAt } }).toEqual({
          text,
          key,
          token: expected && { accessToken: expected.accessToken, expiresAt: expected.expiresAt },
        });
      }
      for (const target of ['t', 'u']) {
        const kept = entry?.refreshTokens?.[target];
        const expected = typeof kept === 'string' ? kept : entry?.refreshToken;
        expect({ text, target, refreshToken: await cache.refreshToken(GENERATOR, target) }).toEqual({
          text,
          target,
          refreshToken: expected,
        });
      }
    }
  });
});
