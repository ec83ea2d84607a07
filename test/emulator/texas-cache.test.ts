/**
 * How long Texas's API keeps a token for an app: until two minutes before it expires, or half its
 * life for a token that lives two minutes or less, telling the caller the seconds it has left; callers
 * asking at once share one token.
 * The clock is moved (Date only) instead of waited for.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startEmulator, type Emulator } from '../../packages/entra-emulator/src/index.js';

const CLIENT = 'dev-gcp:team-a:my-client';
const SCOPE = 'api://dev-gcp.team-a.my-api/.default';

/** Without manifests every target exists and lets every app in: only the caller needs registering. */
async function emulatorWithLifetime(seconds: number) {
  const emulator = await startEmulator({ accessTokenLifetimeSeconds: seconds });
  emulator.registerClient({ target: CLIENT });
  const endpoint = (await emulator.environment(CLIENT)).NAIS_TOKEN_ENDPOINT!;
  const token = async (skipCache = false, resource?: string) => {
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identity_provider: 'entra_id', target: SCOPE, skip_cache: skipCache, resource }),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as { access_token: string; expires_in: number };
  };
  return { emulator, token };
}

describe("Texas's token cache", () => {
  const started: Emulator[] = [];
  let hour: Awaited<ReturnType<typeof emulatorWithLifetime>>;
  let short: Awaited<ReturnType<typeof emulatorWithLifetime>>;

  beforeAll(async () => {
    [hour, short] = await Promise.all([emulatorWithLifetime(3600), emulatorWithLifetime(50)]);
    started.push(hour.emulator, short.emulator);
  });
  afterEach(() => void vi.useRealTimers());
  afterAll(async () => Promise.all(started.map((emulator) => emulator.close())));

  it('keeps a token until two minutes before it expires, with the seconds it has left', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const first = await hour.token(true);
    expect(first.expires_in).toBeGreaterThan(3590);
    vi.setSystemTime(Date.now() + (3600 - 150) * 1000);
    const kept = await hour.token();
    expect(kept.access_token).toBe(first.access_token);
    expect(kept.expires_in).toBeLessThanOrEqual(150);
    expect(kept.expires_in).toBeGreaterThan(140);
    vi.setSystemTime(Date.now() + 50 * 1000);
    const renewed = await hour.token();
    expect(renewed.access_token).not.toBe(first.access_token);
    expect(renewed.expires_in).toBeGreaterThan(3590);
  });

  it('keeps a token that lives two minutes or less for half its life', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const first = await short.token(true);
    expect(first.expires_in).toBeLessThanOrEqual(50);
    vi.setSystemTime(Date.now() + 20 * 1000);
    const kept = await short.token();
    expect(kept.access_token).toBe(first.access_token);
    expect(kept.expires_in).toBeLessThanOrEqual(30);
    vi.setSystemTime(Date.now() + 10 * 1000);
    expect((await short.token()).access_token).not.toBe(first.access_token);
  });

  it('answers callers asking at once for a token it does not have with the same token', async () => {
    const answers = await Promise.all(Array.from({ length: 6 }, () => hour.token(false, 'asked-at-once')));
    expect(new Set(answers.map((answer) => answer.access_token)).size).toBe(1);
    expect((await hour.token(false, 'asked-at-once')).access_token).toBe(answers[0]!.access_token);
  });

  it('gives a new token when asked to skip the cache, and keeps that one', async () => {
    const first = await hour.token();
    const fresh = await hour.token(true);
    expect(fresh.access_token).not.toBe(first.access_token);
    expect((await hour.token()).access_token).toBe(fresh.access_token);
  });
});
