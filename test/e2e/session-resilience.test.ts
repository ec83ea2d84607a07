/**
 * Sessions through a refresh that goes wrong: the identity provider slow or held, Redis stopped at
 * the moment the refreshed session is stored, a lock held by another replica, a logout in the middle.
 * Two replicas share one Redis; the emulator sits behind the fault proxy; user tokens live six seconds,
 * which pass by the clock (test/helpers/clock.ts), not by waiting.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startService, type Service } from '../../src/main.js';
import type { RedisStore } from '../../src/session/index.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { login, logout } from '../helpers/http-login.js';
import { freePort } from '../helpers/ports.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { memoryLogger, startStack, type Stack } from '../helpers/stack.js';
import { installClock } from '../helpers/clock.js';
import { sleep, waitFor } from '../helpers/wait-for.js';

const LIFETIME_SECONDS = 6;
/** Past the refresh point (a third of the lifetime left), still before expiry. */
const UNTIL_REFRESH_MS = (LIFETIME_SECONDS * 2_000) / 3 + 200;
/** A refresh that times out takes two tries of this long: short, as the tests that wait for it sit through it. */
const IDP = { IDP_TIMEOUT_MS: '1000', IDP_RETRIES: '1' };

// Before the services start.
const clock = installClock();
let redis: TestRedis;
let proxy: FaultProxy;
let first: Stack;
let second: Service;
let single: Stack;
let singleProxy: FaultProxy;

async function behindProxy(env: Record<string, string>): Promise<{ stack: Stack; proxy: FaultProxy }> {
  const emulatorPort = await freePort();
  const proxyPort = await freePort();
  const faults = await startFaultProxy(`http://127.0.0.1:${emulatorPort}`, proxyPort);
  const stack = await startStack({
    env: { ...IDP, ...env },
    emulator: { port: emulatorPort, publicUrl: `http://localhost:${proxyPort}`, accessTokenLifetimeSeconds: LIFETIME_SECONDS },
  });
  return { stack, proxy: faults };
}

beforeAll(async () => {
  redis = await startRedis();
  const shared = { REDIS_URL: redis.url, SESSION_ENCRYPTION_KEY: randomBytes(32).toString('base64') };
  ({ stack: first, proxy } = await behindProxy(shared));
  const env = { ...IDP, ...shared, PORT: String(await freePort()), HOST: '127.0.0.1' };
  second = await startService({ generator: loadConfig(env).generator, identity: first.identity }, env, { logger: memoryLogger().logger });
  // Sessions in memory: one replica.
  ({ stack: single, proxy: singleProxy } = await behindProxy({}));
}, 60_000);

afterAll(async () => {
  await second?.close();
  await first?.close();
  await single?.close();
  await proxy?.close();
  await singleProxy?.close();
  await redis?.close();
});

const isRefresh = ({ path, body }: { path: string; body: string }) => path.endsWith('/token') && body.includes('grant_type=refresh_token');
const refreshes = (stack: Stack) => stack.emulator!.stats.byGrant.refresh_token ?? 0;

async function obo(base: string, cookie: string, aud = 'dev-gcp:team:app') {
  return fetch(`${base}/api/obo?aud=${aud}`, { headers: { cookie, accept: 'application/json' } });
}

async function sessionOf(base: string, cookie: string) {
  return (await (await fetch(`${base}/oauth2/session`, { headers: { cookie } })).json()) as {
    authenticated: boolean;
    access_token_expires_at?: string;
  };
}

function until(condition: () => boolean, what: string) {
  return waitFor(condition, { what });
}

/**
 * `request`, with the clock moved on a second every 20 ms while it is unanswered: a wait the service measures by the
 * clock (for a lock held elsewhere, up to the longest refresh and a margin) passes in a fraction of its real time.
 */
async function whileTheClockRuns<T>(request: Promise<T>): Promise<T> {
  let answered = false;
  const running = (async () => {
    while (!answered) {
      await sleep(20);
      clock.advance(1_000);
    }
  })();
  try {
    return await request;
  } finally {
    answered = true;
    await running;
  }
}

function redisStore(service: Service): RedisStore {
  return service.generator.sessions.manager.store as RedisStore;
}

describe('logging out while a refresh is held at the identity provider', () => {
  const cases: { name: string; stack: () => Stack; proxy: () => FaultProxy; logoutAt: () => Service }[] = [
    { name: 'sessions in memory, one replica', stack: () => single, proxy: () => singleProxy, logoutAt: () => single },
    { name: 'sessions in Redis, one replica', stack: () => first, proxy: () => proxy, logoutAt: () => first },
    { name: 'sessions in Redis, logout at the other replica', stack: () => first, proxy: () => proxy, logoutAt: () => second },
  ];
  for (const { name, stack, proxy: faults, logoutAt } of cases) {
    it(`ends the session for good: ${name}`, async () => {
      const cookie = await login(stack().url);
      clock.advance(UNTIL_REFRESH_MS);
      const before = refreshes(stack());
      faults().holdWhen = isRefresh;
      // The token is still good: the request is answered with it, and the refresh goes on behind it.
      expect((await obo(stack().url, cookie)).status).toBe(200);
      await until(() => faults().held === 1, 'the refresh to reach the identity provider');
      expect(await (await logout(logoutAt().url, cookie)).json()).toMatchObject({ logged_out: true });
      faults().holdWhen = undefined;
      faults().release();
      // The refresh did reach the identity provider and came back; its write-back finds no session.
      await until(() => refreshes(stack()) - before === 1, 'the refresh to be answered');
      await stack().generator.sessions.settled();
      for (const replica of [stack(), logoutAt()]) {
        expect((await sessionOf(replica.url, cookie)).authenticated).toBe(false);
        expect((await obo(replica.url, cookie)).status).toBe(401);
      }
    }, 30_000);
  }
});

describe('a refresh that goes wrong', () => {
  const slowness = [
    { mode: 'slow' as const, what: 'slower than the timeout' },
    // The refresh reaches it, but its answer comes too late: the refresh token it had is tried again later.
    { mode: 'late' as const, what: 'answering after the timeout' },
  ];
  for (const { mode, what } of slowness) {
    it(`with the identity provider ${what}, keeps every session, which gets tokens once it is well`, async () => {
      const cookies = await Promise.all(Array.from({ length: 5 }, () => login(first.url)));
      clock.advance(UNTIL_REFRESH_MS);
      proxy.faultWhen = isRefresh;
      proxy.mode = mode;
      proxy.slowMs = 1_500;
      try {
        // The tokens the sessions have are still good: the requests are answered with them while the refreshes time out.
        const during = await Promise.all(cookies.map((cookie) => obo(first.url, cookie)));
        expect(during.map((r) => r.status)).toEqual(Array(5).fill(200));
        await first.generator.sessions.settled();
      } finally {
        proxy.mode = 'pass';
        proxy.faultWhen = undefined;
      }
      expect(first.logs.filter((line) => line.includes('session refresh failed')).length).toBeGreaterThanOrEqual(5);
      clock.advance(LIFETIME_SECONDS * 1000);
      // Expired by now: each session is refreshed, on either replica.
      const after = await Promise.all(cookies.map((cookie, i) => obo((i % 2 ? first : second).url, cookie)));
      expect(after.map((r) => r.status)).toEqual(Array(5).fill(200));
      for (const cookie of cookies) expect((await sessionOf(second.url, cookie)).authenticated).toBe(true);
    }, 60_000);
  }

  it('with Redis stopped as the refreshed session is stored, keeps the session with its new tokens and leaves no lock behind', async () => {
    const cookie = await login(first.url);
    const expiresBefore = Date.parse((await sessionOf(first.url, cookie)).access_token_expires_at!);
    clock.advance(UNTIL_REFRESH_MS);
    proxy.holdWhen = isRefresh;
    expect((await obo(first.url, cookie)).status).toBe(200);
    await until(() => proxy.held === 1, 'the refresh to reach the identity provider');
    await redis.stop();
    proxy.holdWhen = undefined;
    proxy.release();
    await first.generator.sessions.settled();
    const refreshed = refreshes(first);
    await redis.restart();
    const id = first.generator.sessions.manager.idOf(decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1)))!;
    const store = redisStore(first);
    await until(() => store.client.status === 'ready', 'the store to reconnect');
    // The writes queued while Redis was away go out once it is back; the lock, left, would live out its lease (up to 5 s).
    await waitFor(async () => (await store.client.exists(store.lockKey(id))) === 0, { what: 'the queued writes', timeout: 2_000 }).catch(
      () => undefined,
    );
    expect(await store.client.exists(store.lockKey(id))).toBe(0);
    const session = await sessionOf(second.url, cookie);
    expect(session.authenticated).toBe(true);
    expect(Date.parse(session.access_token_expires_at!)).toBeGreaterThan(expiresBefore);
    expect((await obo(second.url, cookie)).status).toBe(200);
    // The write that waited for Redis holds the new refresh token: no second refresh was needed.
    expect(refreshes(first)).toBe(refreshed);
  }, 60_000);

  it(
    'while another replica holds the lock: goes on with a token that ' +
      'is still good, and says "busy", not "store down", once it ran out',
    async () => {
      const cookie = await login(first.url);
      const id = first.generator.sessions.manager.idOf(decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1)))!;
      const store = redisStore(first);
      clock.advance(UNTIL_REFRESH_MS);
      // A holder that never finishes, as a replica that died mid-refresh.
      await store.client.set(store.lockKey(id), 'another-replica', 'PX', 60_000);
      const before = refreshes(first);
      expect((await obo(first.url, cookie)).status).toBe(200);
      await first.generator.sessions.settled();
      expect(refreshes(first)).toBe(before);
      clock.advance(LIFETIME_SECONDS * 1000 - UNTIL_REFRESH_MS + 200);
      const busy = await whileTheClockRuns(obo(second.url, cookie));
      expect(busy.status).toBe(503);
      expect(busy.headers.get('retry-after')).toBe('2');
      expect(((await busy.json()) as { error: string }).error).toBe('session_busy');
      await store.client.del(store.lockKey(id));
      expect((await obo(second.url, cookie)).status).toBe(200);
    },
    60_000,
  );
});
