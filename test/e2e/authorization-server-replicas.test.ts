/**
 * The authorization server on two replicas that share Redis, as NAIS runs it: a device flow asked
 * on one replica, approved on the other and polled on the first; a code taken once however many
 * replicas redeem it at once; a refresh token that outlives the restart of a replica and dies on
 * every replica when it is revoked on one; the device page's guesses counted across replicas; grants allowed on one
 * replica ended by "log out everywhere" on the other before their tools used them.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { loadConfig } from '../../src/config.js';
import { startService, type Service } from '../../src/main.js';
import {
  approveDevice,
  consentToken,
  decide,
  deviceAuthorization,
  poll,
  startLoopback,
  tokenRequest,
} from '../helpers/authorization-server.js';
import { login, logout } from '../helpers/http-login.js';
import { freePort } from '../helpers/ports.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { memoryLogger, startStack, type Stack } from '../helpers/stack.js';
import { installClock } from '../helpers/clock.js';

// Before the service starts: the device page's reading time passes by the clock (approveDevice).
installClock();
let redis: TestRedis;
let first: Stack;
let second: Service;
let secondEnv: Record<string, string>;
let loopback: Awaited<ReturnType<typeof startLoopback>>;

const TARGET = 'dev-gcp:my-team:my-app';

async function startSecond(): Promise<Service> {
  return startService({ generator: loadConfig(secondEnv).generator, identity: first.identity }, secondEnv, {
    logger: memoryLogger().logger,
  });
}

beforeAll(async () => {
  redis = await startRedis();
  const shared = { REDIS_URL: redis.url, SESSION_ENCRYPTION_KEY: randomBytes(32).toString('base64') };
  first = await startStack({ env: shared });
  // The second replica: same registration, key and Redis, another port (and so another issuer URL, as tests go).
  secondEnv = { ...shared, PORT: String(await freePort()), HOST: '127.0.0.1' };
  second = await startSecond();
  loopback = await startLoopback();
});

afterAll(async () => {
  loopback?.server.close();
  await second?.close();
  await first?.close();
  await redis?.close();
});

async function verify(token: string) {
  const keys = createRemoteJWKSet(new URL(`${first.emulator!.baseUrl}/${first.emulator!.tenantId}/discovery/v2.0/keys`));
  const { payload } = await jwtVerify(token, keys, { issuer: first.emulator!.issuer, audience: first.emulator!.clientIdFor(TARGET) });
  expect(payload.NAVident).toBe('Z990001');
}

/** A code from the first replica, for a browser session logged in there (`cookie`, or a new one). */
async function code(cookie?: string) {
  cookie ??= await login(first.url);
  const verifier = oidc.randomPKCECodeVerifier();
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: 'replica test',
    redirect_uri: loopback.redirectUri,
    scope: TARGET,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  const url = `${first.url}/oauth2/authorize?${query}`;
  const answered = await decide(cookie, `${first.url}/oauth2/authorize`, await consentToken(cookie, url));
  const redeem = {
    grant_type: 'authorization_code',
    code: new URL(answered.headers.get('location')!).searchParams.get('code')!,
    code_verifier: verifier,
    redirect_uri: loopback.redirectUri,
  };
  return { cookie, redeem };
}

describe('the authorization server on two replicas sharing Redis', () => {
  it('runs a device flow asked on one replica, approved on the other, polled on the first', async () => {
    const cookie = await login(first.url);
    const started = await deviceAuthorization(first.url);
    expect((await approveDevice(cookie, second.url, started.user_code)).status).toBe(200);
    const done = await poll(first.url, started.device_code);
    expect(done.status).toBe(200);
    await verify(done.body.access_token!);
    expect((await poll(second.url, started.device_code)).body.error).toBe('invalid_grant');
  });

  it('takes a code once when both replicas redeem it at the same moment', async () => {
    const { redeem } = await code();
    const answers = await Promise.all([tokenRequest(first.url, redeem), tokenRequest(second.url, redeem)]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 400]);
  });

  it('keeps a refresh token good across a replica\u2019s restart, and ends it on every replica when one revokes it', async () => {
    const { redeem } = await code();
    const { refresh_token: refreshToken } = (await (await tokenRequest(first.url, redeem)).json()) as { refresh_token: string };
    await second.close();
    second = await startSecond();
    const renewed = await tokenRequest(second.url, { grant_type: 'refresh_token', refresh_token: refreshToken });
    expect(renewed.status).toBe(200);
    await verify(((await renewed.json()) as { access_token: string }).access_token);
    expect(
      (await fetch(`${second.url}/oauth2/revoke`, { method: 'POST', body: new URLSearchParams({ token: refreshToken }) })).status,
    ).toBe(200);
    const refused = await tokenRequest(first.url, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      scope: 'dev-gcp:other-team:other-app',
    });
    expect(((await refused.json()) as { error: string }).error).toBe('invalid_grant');
  });

  // After the tests that keep tools: logging out everywhere ends every tool of the tests' one employee.
  it('ends a code and a device code allowed on one replica when the employee logs out everywhere on the other', async () => {
    const { cookie, redeem } = await code();
    const started = await deviceAuthorization(first.url);
    expect((await approveDevice(cookie, first.url, started.user_code)).status).toBe(200);
    expect((await logout(second.url, await login(second.url), { everywhere: true })).status).toBe(200);
    const redeemed = await tokenRequest(first.url, redeem);
    expect(redeemed.status).toBe(400);
    expect(((await redeemed.json()) as { error: string }).error).toBe('invalid_grant');
    expect((await poll(first.url, started.device_code)).body.error).toBe('invalid_grant');
    // The login that allowed them lives on: what it allows now works. (A code: each device approval counts against the
    // device page's limit on codes tried from the address, which the test below needs nearly all of.)
    const again = await tokenRequest(second.url, (await code(cookie)).redeem);
    expect(again.status).toBe(200);
  });

  it('counts the user codes tried on both replicas against one limit: more replicas give no more guesses', async () => {
    const cookie = await login(first.url);
    const statuses: number[] = [];
    // Twelve wrong codes, every other one on each replica; each replica alone would allow ten.
    for (const [i, letter] of [...'CDFGHJKLMNPQ'].entries()) {
      const replica = i % 2 === 0 ? first.url : second.url;
      statuses.push((await fetch(`${replica}/oauth2/device?user_code=BBBB-BB${letter}B`, { headers: { cookie } })).status);
    }
    expect(statuses.slice(0, 8)).toEqual(Array(8).fill(404));
    expect(statuses.slice(-2)).toEqual([429, 429]);
  });
});
