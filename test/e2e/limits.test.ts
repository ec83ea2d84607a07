/**
 * Limits on the routes that reach the identity provider for an employee: per session and per address,
 * tighter for fresh tokens, on logins started and on command-line codes, each refusal a 429 with
 * Retry-After; counted across two replicas through Redis. Fresh app tokens for scripts and tools are
 * held to the fresh limit per address too.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startService, type Service } from '../../src/main.js';
import * as oidc from 'openid-client';
import type { RedisStore } from '../../src/session/index.js';
import { consentToken, decide, DEVICE_CLIENT, deviceAuthorization } from '../helpers/authorization-server.js';
import { login } from '../helpers/http-login.js';
import { freePort } from '../helpers/ports.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startReplica, startStack, type Stack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait-for.js';

const LIMITS = {
  TRUST_PROXY_HOPS: '1',
  RATE_LIMIT_SESSION_MAX: '12',
  RATE_LIMIT_FRESH_SESSION_MAX: '3',
  RATE_LIMIT_FRESH_MAX: '5',
  RATE_LIMIT_LOGIN_MAX: '20',
  RATE_LIMIT_CLI_TOKEN_MAX: '4',
};

let stack: Stack;
let addresses = 0;
/** Each test its own client address (the service trusts one proxy hop), so that their counts stay apart. */
const newAddress = () => `198.51.100.${++addresses}`;

beforeAll(async () => {
  stack = await startStack({ env: LIMITS });
});

afterAll(async () => {
  await stack?.close();
});

function get(base: string, path: string, cookie: string, address: string, fresh = false) {
  return fetch(`${base}${path}`, {
    headers: { cookie, accept: 'application/json', 'x-forwarded-for': address, ...(fresh ? { 'cache-control': 'no-cache' } : {}) },
  });
}

async function expectLimited(res: Response, what: RegExp) {
  expect(res.status).toBe(429);
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  const body = (await res.json()) as { error: string; error_description: string };
  expect(body.error).toBe('rate_limited');
  expect(body.error_description).toMatch(what);
}

/** Six guessed codes sent to /oauth2/token from one address: their statuses. */
async function redeemGuesses(base: string, address: string): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) {
    const res = await fetch(`${base}/oauth2/token`, {
      method: 'POST',
      headers: { 'x-forwarded-for': address, accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: `guess-${i}`,
        code_verifier: 'v'.repeat(43),
        redirect_uri: 'http://127.0.0.1:1/callback',
      }),
    });
    statuses.push(res.status);
    if (res.status === 429) await expectLimited(res, /authorization codes redeemed from your address/);
  }
  return statuses;
}

describe('an employee asking for fresh tokens', () => {
  it('is limited per session, for no-cache and for new audiences alike, while cached tokens still come', async () => {
    const cookie = await login(stack.url);
    const address = newAddress();
    expect((await get(stack.url, '/api/obo?aud=dev-gcp:team:a', cookie, address)).status).toBe(200);
    expect((await get(stack.url, '/api/obo?aud=dev-gcp:team:a', cookie, address, true)).status).toBe(200);
    expect((await get(stack.url, '/api/obo?aud=dev-gcp:team:b', cookie, address)).status).toBe(200);
    await expectLimited(await get(stack.url, '/api/obo?aud=dev-gcp:team:a', cookie, address, true), /fresh tokens .* for your login/);
    await expectLimited(await get(stack.url, '/api/obo?aud=dev-gcp:team:c', cookie, address), /fresh tokens/);
    await expectLimited(await get(stack.url, '/api/m2m?aud=dev-gcp:team:d', cookie, address), /fresh tokens/);
    // What is cached costs the identity provider nothing: still answered.
    expect((await get(stack.url, '/api/obo?aud=dev-gcp:team:b', cookie, address)).status).toBe(200);

    // A colleague behind the same address has a login of their own.
    const colleague = await login(stack.url);
    expect((await get(stack.url, '/api/obo?aud=dev-gcp:team:a', colleague, address, true)).status).toBe(200);
  });

  it('is limited per address across sessions, and the identity provider sees no more than the limit', async () => {
    const address = newAddress();
    const before = stack.emulator!.stats.tokenRequests;
    const statuses: number[] = [];
    for (let employee = 0; employee < 4; employee++) {
      const cookie = await login(stack.url);
      const answers = await Promise.all(
        [0, 1].map((i) => get(stack.url, `/api/obo?aud=dev-gcp:team:p${employee}x${i}`, cookie, address, true)),
      );
      statuses.push(...answers.map((res) => res.status));
    }
    expect(statuses.filter((status) => status === 200)).toHaveLength(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(3);
    // Four logins (a code each) and five on-behalf-of exchanges.
    expect(stack.emulator!.stats.tokenRequests - before).toBe(4 + 5);
  });

  it('is limited per session for cached tokens too, at a higher count', async () => {
    const cookie = await login(stack.url);
    const address = newAddress();
    const statuses: number[] = [];
    for (let i = 0; i < 14; i++) statuses.push((await get(stack.url, '/api/obo?aud=dev-gcp:team:same', cookie, address)).status);
    expect(statuses.slice(0, 12).every((status) => status === 200)).toBe(true);
    expect(statuses.slice(12)).toEqual([429, 429]);
  });
});

describe('app tokens asked of the identity provider (Cache-Control: no-cache, or not cached yet)', () => {
  it('are limited per address across POST /api/public/m2m and the client credentials grant, while cached ones still come', async () => {
    const address = newAddress();
    const headers = (fresh: boolean) => ({
      'x-forwarded-for': address,
      accept: 'application/json',
      ...(fresh ? { 'cache-control': 'no-cache' } : {}),
    });
    const m2m = (aud: string, fresh = false) =>
      fetch(`${stack.url}/api/public/m2m`, { method: 'POST', headers: headers(fresh), body: new URLSearchParams({ aud }) });
    const grant = (scope: string, fresh = false) =>
      fetch(`${stack.url}/oauth2/token`, {
        method: 'POST',
        headers: headers(fresh),
        body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
      });
    const before = stack.emulator!.stats.tokenRequests;
    // Five fresh tokens, the limit: three asked with no-cache, one not cached yet, one asked with no-cache of the grant.
    const allowed = [
      await m2m('dev-gcp:team:app-a', true),
      await m2m('dev-gcp:team:app-a', true),
      await m2m('dev-gcp:team:app-a', true),
      await grant('dev-gcp:team:app-b'),
      await grant('dev-gcp:team:app-a', true),
    ];
    expect(allowed.map((res) => res.status)).toEqual([200, 200, 200, 200, 200]);
    await expectLimited(await m2m('dev-gcp:team:app-a', true), /fresh tokens .* from your address/);
    await expectLimited(await m2m('dev-gcp:team:app-c'), /fresh tokens .* from your address/);
    await expectLimited(await grant('dev-gcp:team:app-c'), /fresh tokens .* from your address/);
    // What is cached costs the identity provider nothing: still answered, on either surface.
    expect((await m2m('dev-gcp:team:app-b')).status).toBe(200);
    expect((await grant('dev-gcp:team:app-a')).status).toBe(200);
    expect(stack.emulator!.stats.tokenRequests - before).toBe(5);
  });
});

/** A tool's tokens over HTTP: the employee allows it, the code is redeemed from `address`; the token endpoint's answers after. */
async function toolGrants(address: string, refreshes: number): Promise<Response[]> {
  const cookie = await login(stack.url);
  const verifier = oidc.randomPKCECodeVerifier();
  const redirectUri = 'http://127.0.0.1:9/callback';
  const authorize = new URL(`${stack.url}/oauth2/authorize`);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: 'limits test',
    redirect_uri: redirectUri,
    scope: 'dev-gcp:team:tool',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  }).toString();
  const allowed = await decide(cookie, `${stack.url}/oauth2/authorize`, await consentToken(cookie, authorize.href));
  const code = new URL(allowed.headers.get('location')!).searchParams.get('code')!;
  const token = (params: Record<string, string>) =>
    fetch(`${stack.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'x-forwarded-for': address, 'cache-control': 'no-cache' },
      body: new URLSearchParams(params),
    });
  const answers = [await token({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri })];
  // Refresh tokens rotate: each refresh uses the newest one.
  let refreshToken = ((await answers[0]!.clone().json()) as { refresh_token: string }).refresh_token;
  for (let i = 0; i < refreshes; i++) {
    const answer = await token({ grant_type: 'refresh_token', refresh_token: refreshToken });
    answers.push(answer);
    if (answer.ok) refreshToken = ((await answer.clone().json()) as { refresh_token: string }).refresh_token;
  }
  return answers;
}

describe("a tool's grants at the token endpoint (issue 24: one set of limits for every grant)", () => {
  it('count against the fresh-token limits of /api/obo, with a 429 and Retry-After in an OAuth body', async () => {
    const answers = await toolGrants(newAddress(), 4);
    // The code's redemption and two refreshes are the three fresh tokens a login may have in the window.
    expect(answers.map((res) => res.status)).toEqual([200, 200, 200, 429, 429]);
    await expectLimited(answers[3]!, /fresh tokens .* for your login/);
  });
});

describe('logins and command-line codes', () => {
  it('limits logins started per address, each browser with its own cookies', async () => {
    const address = newAddress();
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++) {
      const res = await fetch(`${stack.url}/oauth2/login?redirect=/`, {
        redirect: 'manual',
        headers: { 'x-forwarded-for': address, accept: 'application/json' },
      });
      statuses.push(res.status);
      if (res.status === 429) await expectLimited(res, /logins started from your address/);
    }
    expect(statuses.filter((status) => status === 302)).toHaveLength(20);
    const elsewhere = await fetch(`${stack.url}/oauth2/login?redirect=/`, {
      redirect: 'manual',
      headers: { 'x-forwarded-for': newAddress() },
    });
    expect(elsewhere.status).toBe(302);
  });

  it("limits the answers to a tool's consent page per login: each is remembered in the store for ten minutes", async () => {
    const cookie = await login(stack.url);
    const authorize = `${stack.url}/oauth2/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: 'limits test',
      redirect_uri: 'http://127.0.0.1:9/callback',
      scope: 'dev-gcp:team:tool',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    })}`;
    const statuses: number[] = [];
    for (let i = 0; i < 14; i++) {
      const answer = await decide(cookie, `${stack.url}/oauth2/authorize`, await consentToken(cookie, authorize), 'deny');
      statuses.push(answer.status);
    }
    expect(statuses).toEqual([...Array<number>(12).fill(303), 429, 429]);
    // Another login of the same employee has a limit of its own.
    const other = await login(stack.url);
    expect((await decide(other, `${stack.url}/oauth2/authorize`, await consentToken(other, authorize), 'deny')).status).toBe(303);
  });

  it('limits authorization codes redeemed at /oauth2/token per address', async () => {
    const address = newAddress();
    expect(await redeemGuesses(stack.url, address)).toEqual([400, 400, 400, 400, 429, 429]);
  });
});

describe("HEAD, as a link checker or a chat app's preview sends it", () => {
  it('is refused on the routes whose GET has effects: no token, no login, no call to the identity provider, nothing counted', async () => {
    const cookie = await login(stack.url);
    const address = newAddress();
    const { user_code: userCode } = await deviceAuthorization(stack.url);
    const authorize = new URLSearchParams({
      response_type: 'code',
      client_id: 'head test',
      redirect_uri: 'http://127.0.0.1:9/callback',
      scope: 'dev-gcp:team:tool',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    // Each with the methods its path does answer: the consent page and the device page also take their form's POST.
    const paths = [
      ['/api/obo?aud=dev-gcp:team:head', 'GET'],
      ['/api/m2m?aud=dev-gcp:team:head', 'GET'],
      ['/oauth2/login?redirect=/', 'GET'],
      ['/oauth2/callback?code=a-code&state=a-state', 'GET'],
      ['/oauth2/session', 'GET'],
      [`/oauth2/authorize?${authorize}`, 'GET, POST'],
      [`/oauth2/device?user_code=${userCode}`, 'GET, POST'],
    ];
    const before = stack.emulator!.stats.tokenRequests;
    // More than any limit allows: the fresh tokens (5 an address), a session's tokens (12), logins (20), device lookups (10).
    for (let i = 0; i < 21; i++) {
      for (const [path, allow] of paths) {
        const res = await fetch(`${stack.url}${path}`, {
          method: 'HEAD',
          redirect: 'manual',
          headers: { cookie, 'x-forwarded-for': address, 'cache-control': 'no-cache' },
        });
        expect([path, res.status, res.headers.get('allow'), res.headers.get('set-cookie')]).toEqual([path, 405, allow, null]);
      }
    }
    expect(stack.emulator!.stats.tokenRequests).toBe(before);
    // Nothing was counted: the address and the login still have all they may ask.
    for (let i = 0; i < 3; i++)
      expect((await get(stack.url, `/api/obo?aud=dev-gcp:team:head${i}`, cookie, address, true)).status).toBe(200);
    const started = await fetch(`${stack.url}/oauth2/login?redirect=/`, { redirect: 'manual', headers: { 'x-forwarded-for': address } });
    expect(started.status).toBe(302);
  });

  it('is answered as ever on the routes without effects', async () => {
    for (const path of [
      '/',
      '/internal/isalive',
      '/.well-known/oauth-authorization-server',
      '/openapi.json',
      '/static/app.css',
      '/oauth2/logout',
    ]) {
      expect([path, (await fetch(`${stack.url}${path}`, { method: 'HEAD' })).status]).toEqual([path, 200]);
    }
  });
});

describe('the login-loop guard under 10,000 logins with 15 KB user agents', () => {
  it('holds no memory per caller', async () => {
    // A silent logger: the test's memory logger would keep each request's line, user agent and all.
    const env = { PORT: String(await freePort()), HOST: '127.0.0.1', EMULATOR_PORT: '0', RATE_LIMIT_LOGIN_MAX: '100000' };
    const many = await startService(loadConfig(env), env, { logger: createLogger('silent') });
    try {
      const userAgent = 'x'.repeat(15_000);
      const gc = (globalThis as { gc?: () => void }).gc;
      const heap = () => (gc?.(), process.memoryUsage().heapUsed);
      // Through Fastify's inject: the guard sees the requests as from the socket, without the cost of 10,000 HTTP exchanges.
      const start = async (i: number) =>
        (await many.generator.app.inject({ url: '/oauth2/login?redirect=/', headers: { 'user-agent': `${userAgent}${i}` } })).statusCode;
      for (let i = 0; i < 200; i++) await start(i);
      const before = heap();
      const statuses = new Map<number, number>();
      for (let batch = 0; batch < 10_000; batch += 100) {
        for (const status of await Promise.all(Array.from({ length: 100 }, (_, i) => start(batch + i))))
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
      const grown = heap() - before;
      expect(statuses.get(302)).toBe(10_000);
      // Keys of 15 KB for 10,000 callers would be 150 MB.
      expect(grown).toBeLessThan(20 * 1024 * 1024);
    } finally {
      await many.close();
    }
  }, 180_000);
});

describe('limits counted in Redis', () => {
  let redis: TestRedis;
  let first: Stack;
  let second: Service;

  beforeAll(async () => {
    redis = await startRedis();
    const shared = { ...LIMITS, REDIS_URL: redis.url, SESSION_ENCRYPTION_KEY: randomBytes(32).toString('base64') };
    first = await startStack({ env: shared });
    second = await startReplica(first, shared);
  });

  afterAll(async () => {
    await second?.close();
    await first?.close();
    await redis?.close();
  });

  it('hold across two replicas', async () => {
    const cookie = await login(first.url);
    const address = newAddress();
    expect((await get(first.url, '/api/obo?aud=dev-gcp:team:r1', cookie, address, true)).status).toBe(200);
    expect((await get(second.url, '/api/obo?aud=dev-gcp:team:r2', cookie, address, true)).status).toBe(200);
    expect((await get(first.url, '/api/obo?aud=dev-gcp:team:r3', cookie, address, true)).status).toBe(200);
    await expectLimited(await get(second.url, '/api/obo?aud=dev-gcp:team:r4', cookie, address, true), /for your login/);
    await expectLimited(await get(first.url, '/api/obo?aud=dev-gcp:team:r5', cookie, address, true), /for your login/);
  });

  it('count a new audience asked for by 20 scripts at once as one fresh token: they share its one call', async () => {
    const address = newAddress();
    const before = first.emulator!.stats.tokenRequests;
    const asked = await Promise.all(
      Array.from({ length: 20 }, () =>
        fetch(`${first.url}/api/public/m2m`, {
          method: 'POST',
          headers: { 'x-forwarded-for': address },
          body: new URLSearchParams({ aud: 'dev-gcp:team:crowd' }),
        }),
      ),
    );
    expect(asked.map((res) => res.status)).toEqual(Array.from({ length: 20 }, () => 200));
    expect(first.emulator!.stats.tokenRequests - before).toBe(1);
    // One of the address's five fresh tokens was used: four more new audiences come, the fifth does not.
    const more = [];
    for (const app of ['c1', 'c2', 'c3', 'c4', 'c5'])
      more.push(
        await fetch(`${first.url}/api/public/m2m`, {
          method: 'POST',
          headers: { 'x-forwarded-for': address },
          body: new URLSearchParams({ aud: `dev-gcp:team:${app}` }),
        }),
      );
    expect(more.map((res) => res.status)).toEqual([200, 200, 200, 200, 429]);
  });

  it('count a new audience asked for in 8 tabs of one browser at once as one fresh token: they share its one call', async () => {
    const cookie = await login(first.url);
    const address = newAddress();
    const before = first.emulator!.stats.tokenRequests;
    const tabs = await Promise.all(Array.from({ length: 8 }, () => get(first.url, '/api/obo?aud=dev-gcp:team:tabs', cookie, address)));
    expect(tabs.map((res) => res.status)).toEqual(Array.from({ length: 8 }, () => 200));
    expect(first.emulator!.stats.tokenRequests - before).toBe(1);
    // One of the login's three fresh tokens was used: two more new audiences come, the third does not.
    const more = [];
    for (const app of ['t1', 't2', 't3']) more.push(await get(first.url, `/api/obo?aud=dev-gcp:team:${app}`, cookie, address));
    expect(more.slice(0, 2).map((res) => res.status)).toEqual([200, 200]);
    await expectLimited(more[2]!, /fresh tokens .* for your login/);
  });

  it('count in memory at once while Redis hangs, after one timeout, refuse device starts at once, and in Redis once back', async () => {
    const store = first.generator.sessions.manager.store as RedisStore;
    /** The store's own default command timeout: what a request waited for each count sent to a Redis that hangs. */
    const commandTimeoutMs = 2_000;
    const sent = (what: RegExp) =>
      store.client.commandQueue.toArray().filter((item) => item.command.args.some((arg) => what.test(String(arg)))).length;
    const m2m = async (base: string, address: string, aud: string) => {
      const started = performance.now();
      const res = await fetch(`${base}/api/public/m2m`, {
        method: 'POST',
        headers: { 'x-forwarded-for': address },
        body: new URLSearchParams({ aud }),
      });
      return { status: res.status, ms: performance.now() - started };
    };
    const cookie = await login(first.url);
    await waitFor(() => store.health().reachable, { what: 'the store to be reachable' });
    redis.pause();
    try {
      const address = newAddress();
      // The first count waits for its timeout, and is counted in memory; the store knows from then on that Redis hangs.
      expect((await m2m(first.url, address, 'dev-gcp:team:hung-0')).status).toBe(200);
      const counts = sent(/:limit:/);
      const more = [];
      for (const app of ['hung-1', 'hung-2', 'hung-3', 'hung-4', 'hung-5']) more.push(await m2m(first.url, address, `dev-gcp:team:${app}`));
      // Counted in memory at once, and held all the same: five fresh tokens per address, per replica while Redis is away.
      expect(more.map(({ status }) => status)).toEqual([200, 200, 200, 200, 429]);
      for (const { ms } of more) expect(ms).toBeLessThan(commandTimeoutMs);
      expect(sent(/:limit:/)).toBe(counts);
      // Readiness says so, as for a Redis that is stopped.
      expect(await (await fetch(`${first.url}/internal/isready`)).text()).toMatch(/^ready \(sessions unavailable: .*Command timed out/);
      // A device authorization is refused at once: its count in memory, its records not sent to wait for a timeout each.
      const startedAt = performance.now();
      const refused = await fetch(`${first.url}/oauth2/device_authorization`, {
        method: 'POST',
        headers: { 'x-forwarded-for': newAddress() },
        body: new URLSearchParams({ client_id: DEVICE_CLIENT, scope: 'api://dev-gcp.my-team.my-app/.default' }),
      });
      expect(refused.status).toBe(503);
      expect(performance.now() - startedAt).toBeLessThan(commandTimeoutMs);
      expect(sent(/:record:/)).toBe(0);
    } finally {
      redis.resume();
    }
    await waitFor(() => store.health().reachable, { what: 'the store to be reachable once Redis answers again' });
    // Counted across the replicas again; the login of before is still there.
    const address = newAddress();
    const back = [];
    for (const [i, base] of [first.url, second.url, first.url, second.url, first.url, second.url].entries())
      back.push((await m2m(base, address, `dev-gcp:team:back-${i}`)).status);
    expect(back).toEqual([200, 200, 200, 200, 200, 429]);
    expect((await get(first.url, '/api/obo?aud=dev-gcp:team:after-hang', cookie, newAddress())).status).toBe(200);
  });

  it('still hold, per replica, while Redis is away for the codes of the command line', async () => {
    await redis.stop();
    try {
      const address = newAddress();
      expect(await redeemGuesses(first.url, address)).toEqual([400, 400, 400, 400, 429, 429]);
    } finally {
      await redis.restart();
    }
  });
});
