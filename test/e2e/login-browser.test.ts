import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import { startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let emulator: NonNullable<Stack['emulator']>;

beforeAll(async () => {
  stack = await startStack();
  emulator = stack.emulator!;
  browser = await launchChromium();
  context = await browser.newContext();
  page = await context.newPage();
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

/** The token page's token and what it says of it: its token response, as JSON, the same token. */
async function tokenResponse(p: Page) {
  const token = (await p.locator('#access-token').textContent()) ?? '';
  const body = JSON.parse((await p.locator('#token-response').textContent()) ?? '{}') as { token_type: string; expires_in: number };
  expect(body).toMatchObject({ access_token: token });
  return { access_token: token, token_type: body.token_type, expires_in: body.expires_in };
}

async function verifyUserToken(token: string, target: string) {
  const keys = createRemoteJWKSet(new URL(`${emulator.baseUrl}/${emulator.tenantId}/discovery/v2.0/keys`));
  const { payload } = await jwtVerify(token, keys, { issuer: emulator.issuer, audience: emulator.clientIdFor(target) });
  expect(String(payload.scp).split(' ')).toContain('defaultaccess');
  expect(payload.azp).toBe(stack.identity.clientId);
  expect(payload.idtyp).toBeUndefined();
  expect(payload.NAVident).toBeTruthy();
  expect(payload.name).toBeTruthy();
  expect(payload.oid).toBeTruthy();
  return payload;
}

describe('an employee in a real browser', () => {
  it('logs in on the emulator page and lands on the token page of the URL first asked for', async () => {
    const wanted = `${stack.url}/api/obo?aud=dev-gcp:my-team:my-app`;
    await page.goto(wanted);
    expect(page.url().startsWith(emulator.baseUrl)).toBe(true);
    await page.locator('button:has-text("Sign in")').click();
    await page.waitForURL(wanted);
    expect(page.url()).toBe(wanted);
    const body = await tokenResponse(page);
    expect(body.token_type).toBe('Bearer');
    expect(body.expires_in).toBeGreaterThan(3000);
    const claims = await verifyUserToken(body.access_token, 'dev-gcp:my-team:my-app');
    await expect(page.locator('#token-claims').textContent()).resolves.toContain(String(claims.oid));
    await expect(page.locator('button:has-text("Copy token")').count()).resolves.toBe(1);
    await expect(page.locator('#curl').textContent()).resolves.toContain(`Authorization: Bearer ${body.access_token}`);
  });

  it('gets a token for a second audience with no new login', async () => {
    const visited: string[] = [];
    const listener = (request: { url(): string }) => visited.push(request.url());
    page.on('request', listener);
    const wanted = `${stack.url}/api/obo?aud=dev-gcp:other-team:other-app`;
    await page.goto(wanted);
    page.off('request', listener);
    expect(page.url()).toBe(wanted);
    expect(visited.some((url) => url.startsWith(emulator.baseUrl))).toBe(false);
    const body = await tokenResponse(page);
    const first = await verifyUserToken(body.access_token, 'dev-gcp:other-team:other-app');
    expect(first.aud).toBe(emulator.clientIdFor('dev-gcp:other-team:other-app'));
  });

  it('shows an app token to a logged-in employee at /api/m2m', async () => {
    await page.goto(`${stack.url}/api/m2m?aud=dev-gcp:my-team:my-app`);
    const body = await tokenResponse(page);
    const keys = createRemoteJWKSet(new URL(`${emulator.baseUrl}/${emulator.tenantId}/discovery/v2.0/keys`));
    const { payload } = await jwtVerify(body.access_token, keys, {
      issuer: emulator.issuer,
      audience: emulator.clientIdFor('dev-gcp:my-team:my-app'),
    });
    expect(payload.idtyp).toBe('app');
  });

  it('tells who is logged in, without any token', async () => {
    const response = await page.goto(`${stack.url}/oauth2/session`);
    const text = (await response?.text()) ?? '';
    const session = JSON.parse(text) as { authenticated: boolean; user: { NAVident: string } };
    expect(session.authenticated).toBe(true);
    expect(session.user.NAVident).toBeTruthy();
    expect(text).not.toMatch(/eyJ/);
  });

  it('logs out here and at the identity provider; the next visit asks to log in again', async () => {
    await page.goto(`${stack.url}/oauth2/logout`);
    // The page only asks; its button posts, and the answer goes on to the identity provider (allowed by the page's form-action).
    await page.locator('button:has-text("Log out")').click();
    await page.waitForURL(`${stack.url}/oauth2/logged-out`);
    await expect(page.locator('h1').textContent()).resolves.toMatch(/logged out/i);
    await page.goto(`${stack.url}/api/obo?aud=dev-gcp:my-team:my-app`);
    expect(page.url().startsWith(emulator.baseUrl)).toBe(true);
    await expect(page.locator('button:has-text("Sign in")').count()).resolves.toBe(1);
  });

  it('answers a fetch without a session with a 401 that says where to log in', async () => {
    const res = await fetch(`${stack.url}/api/obo?aud=dev-gcp:my-team:my-app`);
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: string; login_url: string };
    expect(body.error).toBe('login_required');
    expect(body.login_url).toBe(
      `${stack.config.publicUrl}/oauth2/login?redirect=${encodeURIComponent('/api/obo?aud=dev-gcp:my-team:my-app')}`,
    );
  });
});

describe('a reload of the login callback after the login completed', () => {
  it('says the login was already completed, and its button leads to the page first asked for', async () => {
    const own = await browser.newContext();
    try {
      const tab = await own.newPage();
      const callbacks: string[] = [];
      tab.on('request', (request) => {
        if (request.url().startsWith(`${stack.url}/oauth2/callback?`)) callbacks.push(request.url());
      });
      const wanted = `${stack.url}/api/obo?aud=dev-gcp:my-team:reloaded`;
      await tab.goto(wanted);
      await tab.locator('button:has-text("Sign in")').click();
      await tab.waitForURL(wanted);
      expect(callbacks).toHaveLength(1);

      const reloaded = await tab.goto(callbacks[0]!);
      expect(reloaded?.status()).toBe(409);
      await expect(tab.locator('main p').first().textContent()).resolves.toMatch(/This login was already completed/);
      await expect(tab.locator('main').textContent()).resolves.not.toMatch(/did not pass the checks|another browser/);
      await tab.locator('a.button', { hasText: 'Continue to the page you wanted' }).click();
      await tab.waitForURL(wanted);
      await expect(tab.locator('#access-token').textContent()).resolves.toMatch(/^eyJ/);
      expect(callbacks).toHaveLength(2);
    } finally {
      await own.close();
    }
  });
});
