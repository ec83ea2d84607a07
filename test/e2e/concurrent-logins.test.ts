/**
 * Several logins started in one browser before any completes: two tabs opening two links, a browser
 * restoring its tabs, a tool's authorization and a link at once. Each completes on its own callback,
 * in whatever order the employee signs in, in Chromium against the emulator over HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import { startLoopback } from '../helpers/authorization-server.js';
import { startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
let browser: Browser;
let emulator: NonNullable<Stack['emulator']>;

beforeAll(async () => {
  stack = await startStack();
  emulator = stack.emulator!;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

/** A tab of `context` opened on `wanted` that a login sent on to the emulator's sign-in page. */
async function openLoggedOut(context: BrowserContext, wanted: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(wanted);
  expect(page.url().startsWith(emulator.baseUrl)).toBe(true);
  await page.locator('button:has-text("Sign in")').waitFor();
  return page;
}

/** Signs in on the tab's emulator page: where the browser lands back on the generator, and what the page says there. */
async function signIn(page: Page): Promise<{ url: string; text: string }> {
  await page.locator('button:has-text("Sign in")').click();
  await page.waitForURL((url) => url.origin === new URL(stack.url).origin);
  return { url: page.url(), text: (await page.locator('body').textContent()) ?? '' };
}

const obo = (target: string) => `${stack.url}/api/obo?aud=${target}`;

/** The audience of the employee token the token page shows. */
async function tokenAudience(page: Page): Promise<unknown> {
  const token = (await page.locator('#access-token').textContent()) ?? '';
  return decodeJwt(token.trim()).aud;
}

describe('two tabs that start logins before either completes', () => {
  it.each([
    ['the second started signs in first', [1, 0]],
    ['the first started signs in first', [0, 1]],
  ])('both land on their own token page: %s', async (_name, order) => {
    const context = await browser.newContext();
    try {
      const targets = ['dev-gcp:team:app-a', 'dev-gcp:team:app-b'];
      const tabs = [await openLoggedOut(context, obo(targets[0]!)), await openLoggedOut(context, obo(targets[1]!))];
      for (const i of order) {
        const landed = await signIn(tabs[i]!);
        expect(landed, `tab ${i + 1} landed on ${landed.url}: ${landed.text.slice(0, 300)}`).toMatchObject({ url: obo(targets[i]!) });
        expect(await tokenAudience(tabs[i]!)).toBe(emulator.clientIdFor(targets[i]!));
      }
    } finally {
      await context.close();
    }
  });
});
