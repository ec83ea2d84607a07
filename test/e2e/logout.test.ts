/**
 * Logout is a POST with the token of the log-out page: a link or a page of another site ends nothing.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import { login, logout } from '../helpers/http-login.js';
import { startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
let browser: Browser;
let evil: Server;
let evilUrl: string;

beforeAll(async () => {
  stack = await startStack();
  browser = await launchChromium();
  // Another site (127.0.0.1 is not localhost's site) with a link and a form aimed at the generator's logout.
  evil = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end(
      `<!doctype html><title>Win a prize</title><a id="link" href="${stack.url}/oauth2/logout">Prize</a>` +
        `<form id="form" method="post" ` +
        `action="${stack.url}/oauth2/logout"><input name="csrf_token" value="guess"><button>Go</button></form>`,
    );
  });
  await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
  evilUrl = `http://127.0.0.1:${(evil.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  evil?.close();
  await browser?.close();
  await stack?.close();
});

const authenticated = async (cookie: string) =>
  ((await (await fetch(`${stack.url}/oauth2/session`, { headers: { cookie } })).json()) as { authenticated: boolean }).authenticated;

describe('logout', () => {
  it('by a link or a form on another site does nothing', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${stack.url}/api/obo?aud=dev-gcp:team:app`);
    await page.locator('button:has-text("Sign in")').click();
    await page.waitForURL(`${stack.url}/api/obo?aud=dev-gcp:team:app`);
    const cookie = (await context.cookies(stack.url)).map((c) => `${c.name}=${c.value}`).join('; ');

    await page.goto(evilUrl);
    await page.locator('#link').click();
    await page.waitForURL(`${stack.url}/oauth2/logout`);
    await expect(page.locator('button:has-text("Log out")').count()).resolves.toBe(1);
    expect(await authenticated(cookie)).toBe(true);

    await page.goto(evilUrl);
    await page.locator('#form button').click();
    await page.waitForLoadState();
    expect(await authenticated(cookie)).toBe(true);
    await context.close();
  });

  it('by POST without the page token, or with another session’s, is refused; with its own it ends the session', async () => {
    const cookie = await login(stack.url);
    const other = await login(stack.url);
    const post = (token: string) =>
      fetch(`${stack.url}/oauth2/logout`, {
        method: 'POST',
        headers: { cookie, accept: 'application/json' },
        body: new URLSearchParams({ csrf_token: token }),
      });
    expect((await post('')).status).toBe(403);
    const otherToken = (
      (await (await fetch(`${stack.url}/oauth2/logout`, { headers: { cookie: other, accept: 'application/json' } })).json()) as {
        csrf_token: string;
      }
    ).csrf_token;
    expect((await post(otherToken)).status).toBe(403);
    expect(await authenticated(cookie)).toBe(true);

    const ended = await logout(stack.url, cookie);
    expect(ended.status).toBe(200);
    expect(await authenticated(cookie)).toBe(false);
    expect(await authenticated(other)).toBe(true);
  });
});
