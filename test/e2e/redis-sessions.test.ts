import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { loadConfig } from '../../src/config.js';
import { startService, type Service } from '../../src/main.js';
import { launchChromium } from '../helpers/browser.js';
import { freePort } from '../helpers/ports.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { memoryLogger, startStack, type Stack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait-for.js';
import { allowedCode, startLoopback, tokenRequest } from '../helpers/authorization-server.js';
import { login } from '../helpers/http-login.js';

const TARGET = 'dev-gcp:my-team:my-app';

let redis: TestRedis;
let first: Stack;
let second: Service;
let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  // As NAIS's Redis of before, through the variables it injected for `spec.redis` (TLS, a user of the readwrite categories).
  redis = await startRedis({ nais: true });
  const shared = {
    REDIS_URI_SESSIONS: redis.url,
    REDIS_USERNAME_SESSIONS: redis.nais!.app.username,
    REDIS_PASSWORD_SESSIONS: redis.nais!.app.password,
    SESSION_STORE_CA_FILE: redis.nais!.caFile,
    SESSION_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  };
  first = await startStack({ env: shared });
  // A second replica: same registration, same key, same Redis, another port.
  const port = String(await freePort());
  const env = { ...shared, PORT: port, HOST: '127.0.0.1' };
  second = await startService({ generator: loadConfig(env).generator, identity: first.identity }, env, { logger: memoryLogger().logger });
  browser = await launchChromium();
  context = await browser.newContext();
  page = await context.newPage();
});

afterAll(async () => {
  await browser?.close();
  await second?.close();
  await first?.close();
  await redis?.close();
});

async function cookieHeader(): Promise<string> {
  return (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
}

describe('sessions in Redis, shared by two replicas', () => {
  it('logs in through the first replica and gets a token from the second', async () => {
    const wanted = `${first.url}/api/obo?aud=dev-gcp:my-team:my-app`;
    await page.goto(wanted);
    await page.locator('button:has-text("Sign in")').click();
    await page.waitForURL(wanted);

    const res = await fetch(`${second.url}/api/obo?aud=dev-gcp:other-team:other-app`, {
      headers: { cookie: await cookieHeader(), accept: 'application/json' },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { access_token: string };
    expect(body.access_token.split('.')).toHaveLength(3);
  });

  it('answers 503 while Redis is stopped, without crashing, and recovers with the session intact once it is back', async () => {
    const cookie = await cookieHeader();
    await redis.stop();
    const during = await fetch(`${first.url}/api/obo?aud=dev-gcp:my-team:my-app`, { headers: { cookie, accept: 'application/json' } });
    expect(during.status).toBe(503);
    const problem = (await during.json()) as { error: string; error_description: string };
    expect(problem.error).toBe('session_store_unavailable');
    expect(problem.error_description).toMatch(/session store is unavailable/);
    const page503 = await fetch(`${first.url}/api/obo?aud=dev-gcp:my-team:my-app`, { headers: { cookie, accept: 'text/html' } });
    expect(page503.status).toBe(503);
    expect(await page503.text()).toMatch(/Correlation id/);
    // App tokens do not need Redis.
    expect((await fetch(`${first.url}/api/public/m2m`, { method: 'POST', body: new URLSearchParams({ aud: 'dev-gcp:a:b' }) })).status).toBe(
      200,
    );
    expect((await fetch(`${first.url}/internal/isalive`)).status).toBe(200);

    await redis.restart();
    const storeReachable = async () =>
      ((await (await fetch(`${second.url}/internal/health`)).json()) as { session_store: { reachable: boolean } }).session_store.reachable;
    await waitFor(storeReachable, { what: 'the second replica to reach Redis again', timeout: 15_000 });
    const after = await fetch(`${second.url}/api/obo?aud=dev-gcp:my-team:my-app`, { headers: { cookie, accept: 'application/json' } });
    expect(after.status).toBe(200);
  });

  it('shows the home page while Redis is stopped without calling a logged-in employee logged out, and all once it is back', async () => {
    const cookie = await login(first.url);
    const loopback = await startLoopback();
    try {
      const redeem = await allowedCode(first.url, cookie, { client: 'a tool at home', redirectUri: loopback.redirectUri, scope: TARGET });
      expect((await tokenRequest(first.url, redeem)).status).toBe(200);
    } finally {
      loopback.server.close();
    }
    const home = async (headers: Record<string, string> = { cookie }) => {
      const res = await fetch(`${second.url}/`, { headers });
      expect(res.status).toBe(200);
      return res.text();
    };
    await redis.stop();
    const during = await home();
    // Not "not logged in" with a Log in button (a login the store could not keep), nor a home page without its tools.
    expect(during).not.toMatch(/Not logged in/);
    expect(during).toMatch(
      /id="who-unread">Your login, and the tools with access as you, cannot be looked up: the session store is unavailable/,
    );
    // Without a session cookie the page says what it always said.
    expect(await home({})).toMatch(/Not logged in/);

    await redis.restart();
    const storeReachable = async () =>
      ((await (await fetch(`${second.url}/internal/health`)).json()) as { session_store: { reachable: boolean } }).session_store.reachable;
    await waitFor(storeReachable, { what: 'the second replica to reach Redis again', timeout: 15_000 });
    const after = await home();
    expect(after).toMatch(/Logged in as <strong>Kari Nordmann<\/strong>/);
    expect(after).toMatch(/a tool at home/);
  });
});

describe('a headless employee token', () => {
  it('keeps its one-use session out of Redis: no session key is written, read or deleted for it', async () => {
    const admin = await redis.nais!.admin();
    const monitor = await admin.monitor();
    const seen: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[]) => seen.push(args));
    try {
      const res = await fetch(`${first.url}/api/public/obo`, {
        method: 'POST',
        body: new URLSearchParams({ aud: 'dev-gcp:my-team:my-app', NAVident: 'Z990001' }),
      });
      expect(res.status).toBe(200);
      // Redis feeds MONITOR in the order it runs commands: once this one is seen, every command before it was.
      await admin.echo('headless-done');
      await waitFor(() => seen.some(([command, text]) => command?.toLowerCase() === 'echo' && text === 'headless-done'));
      const keys = seen.flat().filter((arg) => arg.startsWith('token-generator:'));
      // The limits per address and session are counted in Redis, so MONITOR saw the request; nothing else of it is there.
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.filter((key) => !key.startsWith('token-generator:limit:'))).toEqual([]);
    } finally {
      monitor.disconnect();
      admin.disconnect();
    }
  });
});
