/**
 * Redis going away or restarting while an employee is in the middle of a login (between the generator's redirect to
 * the identity provider and the callback), with and without its persistence: a 503 while it is away that is worth
 * retrying (the same callback completes the login once it is back), logins it kept kept, and a login it lost asked
 * for again, never a 500.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { cookieNames } from '../../src/paths.js';
import { launchChromium } from '../helpers/browser.js';
import { login, startLogin } from '../helpers/http-login.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startStack, storeReached, type Stack } from '../helpers/stack.js';

const WANTED = '/api/obo?aud=dev-gcp:my-team:my-app';
const started: { stack: Stack; redis: TestRedis }[] = [];

afterAll(async () => {
  for (const { stack, redis } of started) {
    await stack.close();
    await redis.close();
  }
});

/** A generator on a Redis of its own: with an append-only file, or, given `args`, as they say. */
async function onRedis(args?: string[]): Promise<{ stack: Stack; redis: TestRedis }> {
  const redis = await startRedis(args ? { args } : {});
  const stack = await startStack({ env: { REDIS_URL: redis.url, SESSION_ENCRYPTION_KEY: randomBytes(32).toString('base64') } });
  started.push({ stack, redis });
  // A login completed before the store was first reached is put off (503): the tests' first logins wait for it.
  await storeReached(stack.url);
  return { stack, redis };
}

/** The browser's return to the callback, as a page. */
const callback = (url: string, cookie: string) => fetch(url, { headers: { cookie, accept: 'text/html' }, redirect: 'manual' });

const sessionCookie = (stack: Stack, res: Response) =>
  res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .find((c) => c.startsWith(`${cookieNames(stack.url).session}=`) && !c.endsWith('='));

const obo = (stack: Stack, cookie: string) => fetch(`${stack.url}${WANTED}`, { headers: { cookie, accept: 'application/json' } });

describe('Redis away while an employee is at the identity provider', () => {
  it('answers the callback 503, keeps the login, and the same callback completes it once Redis is back', async () => {
    const { stack, redis } = await onRedis();
    const pending = await startLogin(stack.url, WANTED);
    await redis.stop();
    const away = await callback(pending.callbackUrl, pending.loginCookie);
    expect(away.status).toBe(503);
    expect(away.headers.get('retry-after')).toBe('5');
    const page = await away.text();
    expect(page).toMatch(/session store is unavailable/);
    expect(page).toMatch(/reload this page/);
    // The login's own cookie is left as it is, for the reload.
    const loginName = pending.loginCookie.split('=')[0]!;
    expect(away.headers.getSetCookie().filter((c) => c.startsWith(`${loginName}=`))).toEqual([]);

    await redis.restart();
    await storeReached(stack.url);
    const completed = await callback(pending.callbackUrl, pending.loginCookie);
    expect(completed.status).toBe(302);
    expect(completed.headers.get('location')).toBe(WANTED);
    expect((await obo(stack, sessionCookie(stack, completed)!)).status).toBe(200);
  });
});

describe('Redis away while an employee in a real browser is at the identity provider', () => {
  it('shows a page whose Try again, as its message says, completes the login once Redis is back', async () => {
    const { stack, redis } = await onRedis();
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const wanted = `${stack.url}${WANTED}`;
      await page.goto(wanted);
      expect(page.url().startsWith(stack.emulator!.baseUrl)).toBe(true);
      await redis.stop();
      await page.locator('button:has-text("Sign in")').click();
      await page.waitForURL(`${stack.url}/oauth2/callback?**`);
      const callbackUrl = page.url();
      await expect(page.locator('main p').first().textContent()).resolves.toMatch(/not completed yet\. In a moment, press Try again/);
      const tryAgain = page.locator('a.button', { hasText: 'Try again' });
      expect(new URL((await tryAgain.getAttribute('href'))!, stack.url).toString()).toBe(callbackUrl);

      await redis.restart();
      await storeReached(stack.url);
      await tryAgain.click();
      await page.waitForURL(wanted);
      await expect(page.locator('#access-token').textContent()).resolves.toMatch(/^eyJ/);
    } finally {
      await browser.close();
    }
  });
});

describe('Redis away while an employee answers a tool', () => {
  it("answers the tool's consent page 503, and its Try again opens that page again, which asks once Redis is back", async () => {
    const { stack, redis } = await onRedis();
    const cookie = await login(stack.url);
    const consent =
      '/oauth2/authorize?' +
      new URLSearchParams({
        response_type: 'code',
        client_id: 'a tool',
        redirect_uri: 'http://127.0.0.1:49152/callback',
        scope: 'dev-gcp:my-team:my-app',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      });
    await redis.stop();
    const away = await fetch(`${stack.url}${consent}`, { headers: { cookie, accept: 'text/html' } });
    expect(away.status).toBe(503);
    const tryAgain = /<a class="button" href="([^"]+)">Try again<\/a>/
      .exec(await away.text())?.[1]
      ?.replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n)));
    expect(tryAgain).toBe(consent);
    await redis.restart();
    await storeReached(stack.url);
    const asked = await fetch(`${stack.url}${tryAgain!}`, { headers: { cookie, accept: 'text/html' } });
    expect(asked.status).toBe(200);
    expect(await asked.text()).toMatch(/Allow/);
  });
});

describe('Redis restarted while an employee is at the identity provider', () => {
  const restarts = [
    { what: 'its append-only file', args: undefined, kept: true },
    // A snapshot written as it stops (SIGTERM), as a Redis with `save` points does.
    { what: 'its snapshots', args: ['--appendonly', 'no', '--save', '3600 1'], kept: true },
    { what: 'no persistence', args: ['--appendonly', 'no'], kept: false },
  ];
  for (const { what, args, kept } of restarts) {
    const earlierLogin = kept ? 'kept' : 'lost, asked for again rather than failing';
    it(`with ${what}: the login completes, and a login of before is ${earlierLogin}`, async () => {
      const { stack, redis } = await onRedis(args);
      const before = await login(stack.url);
      const pending = await startLogin(stack.url, WANTED);
      await redis.stop();
      await redis.restart();
      await storeReached(stack.url);
      const completed = await callback(pending.callbackUrl, pending.loginCookie);
      expect(completed.status).toBe(302);
      expect((await obo(stack, sessionCookie(stack, completed)!)).status).toBe(200);
      const earlier = await obo(stack, before);
      expect(earlier.status).toBe(kept ? 200 : 401);
      if (!kept) expect(((await earlier.json()) as { login_url?: string }).login_url).toContain('/oauth2/login');
    });
  }
});
