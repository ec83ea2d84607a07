import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startService, type Service } from '../../src/main.js';
import { login } from '../helpers/http-login.js';
import { freePort } from '../helpers/ports.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { memoryLogger, startStack, type Stack } from '../helpers/stack.js';
import { installClock } from '../helpers/clock.js';

// Before the services start: the employee token's lifetime passes by the clock, not by waiting.
const clock = installClock();
let redis: TestRedis;
let first: Stack;
let second: Service;

beforeAll(async () => {
  redis = await startRedis();
  const shared = { REDIS_URL: redis.url, SESSION_ENCRYPTION_KEY: randomBytes(32).toString('base64') };
  // User tokens that live three seconds, so that the refresh comes within the test.
  first = await startStack({ env: shared, emulator: { accessTokenLifetimeSeconds: 3 } });
  const env = { ...shared, PORT: String(await freePort()), HOST: '127.0.0.1' };
  second = await startService({ generator: loadConfig(env).generator, identity: first.identity }, env, { logger: memoryLogger().logger });
});

afterAll(async () => {
  await second?.close();
  await first?.close();
  await redis?.close();
});

const refreshes = () => first.emulator!.stats.byGrant.refresh_token ?? 0;

describe('a session whose user token is about to expire', () => {
  it('is refreshed once, by one replica, however many requests arrive at once', async () => {
    const cookie = await login(first.url);
    const sessionBefore = (await (await fetch(`${first.url}/oauth2/session`, { headers: { cookie } })).json()) as {
      access_token_expires_at: string;
    };
    clock.advance(2_300);
    const before = refreshes();
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        fetch(`${(i % 2 ? first : second).url}/api/obo?aud=dev-gcp:team:app-${i}`, { headers: { cookie, accept: 'application/json' } }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    // The token was still good: the requests were answered with it, and one refresh ran behind them.
    await Promise.all([first, second].map((replica) => replica.generator.sessions.settled()));
    expect(refreshes() - before).toBe(1);
    const sessionAfter = (await (await fetch(`${second.url}/oauth2/session`, { headers: { cookie } })).json()) as {
      authenticated: boolean;
      access_token_expires_at: string;
    };
    expect(sessionAfter.authenticated).toBe(true);
    expect(Date.parse(sessionAfter.access_token_expires_at)).toBeGreaterThan(Date.parse(sessionBefore.access_token_expires_at));
  });

  it('counts as refreshed in the metrics of the replica that did it', async () => {
    const metrics = (await Promise.all([first, second].map(async (s) => (await fetch(`${s.url}/internal/metrics`)).text()))).join('\n');
    expect(metrics).toMatch(/sessions_total\{event="refreshed"\} 1/);
  });
});

describe('tokens that live three seconds, less than the two-minute early-expiry margin', () => {
  it('are still handed out from the cache while more than half their lifetime is left', async () => {
    const cookie = await login(first.url);
    const asked = (grant: string) => first.emulator!.stats.byGrant[grant] ?? 0;
    const before = [asked('client_credentials'), asked('urn:ietf:params:oauth:grant-type:jwt-bearer')];
    const token = async (path: string, init: RequestInit) =>
      (
        (await (await fetch(`${first.url}${path}`, { ...init, headers: { ...init.headers, accept: 'application/json' } })).json()) as {
          access_token: string;
        }
      ).access_token;
    const app = () => token('/api/public/m2m', { method: 'POST', body: new URLSearchParams({ aud: 'dev-gcp:short:app' }) });
    const employee = () => token('/api/obo?aud=dev-gcp:short:app', { headers: { cookie } });
    const [firstApp, firstEmployee] = [await app(), await employee()];
    expect([await app(), await employee()]).toEqual([firstApp, firstEmployee]);
    expect([asked('client_credentials') - before[0]!, asked('urn:ietf:params:oauth:grant-type:jwt-bearer') - before[1]!]).toEqual([1, 1]);
  });
});
