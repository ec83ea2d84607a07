/**
 * The small things an employee sees, in Chromium: "Forget these" only with something to forget, Deny
 * as the secondary choice on the consent page, and the emulator's overview table within its card.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.js';
import { startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  stack = await startStack({ env: { EMULATOR_DIRECTORY: 'examples/emulator/emulator.yaml' } });
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

describe('small things on the pages', () => {
  it('shows "Forget these" only when there are recent audiences to forget', async () => {
    await page.goto(`${stack.url}/`);
    await expect(page.locator('#recent-forget').isVisible()).resolves.toBe(false);
    await page.goto(`${stack.url}/api/m2m?aud=dev-gcp:team-a:api`);
    if (page.url().startsWith(stack.emulator!.baseUrl)) await page.locator('button:has-text("Sign in")').click();
    await page.waitForURL((url) => url.href.startsWith(`${stack.url}/api/m2m`));
    await page.goto(`${stack.url}/`);
    await expect(page.locator('#recent-forget').isVisible()).resolves.toBe(true);
    await page.locator('#recent-forget').click();
    await expect(page.locator('#recent-forget').isVisible()).resolves.toBe(false);
  });

  it('styles Deny as the secondary choice beside Allow on the consent page', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: 'Bruno',
      redirect_uri: 'http://127.0.0.1:9/callback',
      scope: 'dev-gcp:team-a:api',
      state: 'a-state-of-its-own',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    });
    await page.goto(`${stack.url}/oauth2/authorize?${query}`);
    type Styles = { getComputedStyle(element: unknown): { backgroundColor: string; color: string } };
    const style = (name: string) =>
      page.locator(`button:text-is("${name}")`).evaluate((element) => {
        const computed = (globalThis as unknown as Styles).getComputedStyle(element);
        return { background: computed.backgroundColor, color: computed.color, className: element.getAttribute('class') ?? '' };
      });
    const allow = await style('Allow');
    const deny = await style('Deny');
    expect(deny.className).toContain('secondary');
    expect(deny.background).not.toBe(allow.background);
    expect(deny.color).not.toBe(allow.color);
  });

  it('keeps the emulator overview table within its card at 1280 px', async () => {
    await page.goto(`${stack.emulator!.baseUrl}/`);
    const card = (await page.locator('main').boundingBox())!;
    const table = (await page.locator('.overview table').boundingBox())!;
    expect(table.x).toBeGreaterThanOrEqual(card.x);
    expect(table.x + table.width).toBeLessThanOrEqual(card.x + card.width);
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBeLessThanOrEqual(0);
  });
});
