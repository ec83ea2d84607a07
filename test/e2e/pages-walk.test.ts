/**
 * The pages walked as people use them beyond the happy path of pages-browser.test.ts: a browser without
 * JavaScript (the token form, a device's approval), and the keyboard (an audience pasted and sent with Enter).
 */
import { decodeJwt } from 'jose';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { deviceAuthorization, poll } from '../helpers/authorization-server.js';
import { launchChromium, signInOnEmulator } from '../helpers/browser.js';
import { installClock, testClock } from '../helpers/clock.js';
import { startStack, type Stack } from '../helpers/stack.js';

vi.setConfig({ testTimeout: 60_000 });
installClock();

const AUDIENCE = 'dev-gcp:my-team:my-app';

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  stack = await startStack();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

/** Signs in on the emulator's page: as its first test employee, or as `navIdent`. */
/** Signs in on the emulator's page: as its first test employee, or as `navIdent`. */
const signIn = (p: Page, navIdent?: string) => signInOnEmulator(p, stack.emulator!.baseUrl, navIdent);

describe('a browser without JavaScript', () => {
  const blocked: string[] = [];
  const contexts: BrowserContext[] = [];

  /** A page of a browser of its own, with JavaScript off; what the Content-Security-Policy blocks is kept in `blocked`. */
  async function noScriptPage(): Promise<Page> {
    const context = await browser.newContext({ javaScriptEnabled: false });
    contexts.push(context);
    const page = await context.newPage();
    page.on('console', (message) => {
      if (/Content Security Policy/.test(message.text())) blocked.push(message.text());
    });
    return page;
  }

  afterAll(() => Promise.all(contexts.map((context) => context.close())));

  it("sends the home page's token form to the login and on to the token page", async () => {
    const page = await noScriptPage();
    await page.goto(`${stack.url}/`);
    await page.locator('#aud').fill(AUDIENCE);
    await page.locator('button:has-text("Token on your behalf")').click();
    // Without a session the answer redirects to the identity provider: the page's form-action must let that through.
    await signIn(page);
    expect(blocked).toEqual([]);
    await page.waitForURL(`${stack.url}/api/obo?aud=${encodeURIComponent(AUDIENCE)}`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Token on behalf of you');
    const token = (await page.locator('#access-token').textContent())!;
    expect(decodeJwt(token).aud).toBe(stack.emulator!.clientIdFor(AUDIENCE));
  });

  it("connects a device with the approval page's Allow", async () => {
    const started = await deviceAuthorization(stack.url);
    const page = await noScriptPage();
    await page.goto(`${stack.url}/oauth2/device?user_code=${encodeURIComponent(started.user_code)}`);
    await signIn(page);
    await page.locator('#typed_code').fill(started.user_code);
    const allow = page.locator('button:text-is("Allow")');
    await expect(allow.isEnabled()).resolves.toBe(true);
    testClock().advance(1_100); // the employee read the page
    await allow.click({ timeout: 5_000 });
    await page.waitForLoadState('load');
    await expect(page.locator('h1').textContent()).resolves.toBe('Device connected');
    expect((await poll(stack.url, started.device_code)).body.access_token).toBeTruthy();
  });
});

describe('a device approval with the script', () => {
  it('arms Allow only once the page has been visible for a moment', async () => {
    const started = await deviceAuthorization(stack.url);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${stack.url}/oauth2/device?user_code=${encodeURIComponent(started.user_code)}`);
    await signIn(page);
    await page.bringToFront();
    const allow = page.locator('button:text-is("Allow")');
    await expect(allow.isDisabled()).resolves.toBe(true);
    await expect.poll(() => allow.isEnabled(), { timeout: 10_000 }).toBe(true);
    await context.close();
  });
});

describe('the keyboard', () => {
  it('sends an audience pasted into the home form with Enter at once, before its check has answered', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${stack.url}/`);
    await page.locator('#aud').focus();
    await page.keyboard.insertText(AUDIENCE);
    await page.keyboard.press('Enter');
    await signIn(page);
    await page.waitForURL(`${stack.url}/api/obo?aud=${encodeURIComponent(AUDIENCE)}`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Token on behalf of you');
    await context.close();
  });
});

describe('audiences typed into the home form', () => {
  it('says that an address is not the name of an app, and that api:// is written in lower case', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${stack.url}/`);
    const verdict = page.locator('#aud-verdict');
    for (const [typed, said] of [
      ['https://my-app.intern.dev.nav.no', /: it is an address \(https:\/\/…\), not the name of an app\./],
      ['API://dev-gcp.my-team.my-app/.default', /: a scope starts with "api:\/\/" in lower case\./],
    ] as const) {
      await page.locator('#aud').fill(typed);
      await expect.poll(() => verdict.textContent(), { timeout: 10_000 }).toMatch(said);
      await expect(page.locator('button:has-text("Token on your behalf")').isDisabled()).resolves.toBe(true);
    }
    await context.close();
  });
});

describe('two tabs', () => {
  it('says that a log-out page left open was for another login, and logs out the present one from there', async () => {
    const context = await browser.newContext();
    const [one, two] = [await context.newPage(), await context.newPage()];
    await one.goto(`${stack.url}/oauth2/login?redirect=%2F`);
    await signIn(one);
    await two.goto(`${stack.url}/oauth2/logout`);
    // Meanwhile the first tab logs out and in again.
    await one.goto(`${stack.url}/oauth2/logout`);
    await one.locator('button:text-is("Log out")').click();
    await one.waitForURL(`${stack.url}/oauth2/logged-out`);
    await one.locator('a:has-text("Log in again")').click();
    await signIn(one);
    await two.bringToFront();
    await two.locator('button:text-is("Log out")').click();
    await two.waitForLoadState('load');
    await expect(two.locator('section.error > p').first().textContent()).resolves.toMatch(
      /^This log-out page was opened for another login than the one this browser has now/,
    );
    await two.locator('a:has-text("Log out")').click();
    await two.locator('button:text-is("Log out")').click();
    await two.waitForURL(`${stack.url}/oauth2/logged-out`);
    await two.goto(`${stack.url}/`);
    await expect(two.locator('#who-heading + p').textContent()).resolves.toMatch(/^Not logged in/);
    await context.close();
  });
});

describe('the home page left open', () => {
  it("says, when its tool's End its access is used after a logout in another tab, that the browser is logged out", async () => {
    const context = await browser.newContext();
    const [home, other] = [await context.newPage(), await context.newPage()];
    const started = await deviceAuthorization(stack.url);
    await home.goto(`${stack.url}/oauth2/device?user_code=${encodeURIComponent(started.user_code)}`);
    await signIn(home, 'Z990077'); // an employee of this test alone: the home page lists the tools of the employee
    await home.locator('#typed_code').fill(started.user_code);
    const allow = home.locator('button:text-is("Allow")');
    await expect.poll(() => allow.isEnabled(), { timeout: 10_000 }).toBe(true);
    testClock().advance(1_100);
    await allow.click();
    await home.locator('h1:text-is("Device connected")').waitFor();
    expect((await poll(stack.url, started.device_code)).body.access_token).toBeTruthy();
    await home.goto(`${stack.url}/`);
    const end = home.locator('#tools button:has-text("End its access")');
    await expect(end.count()).resolves.toBe(1);

    await other.goto(`${stack.url}/oauth2/logout`);
    await other.locator('button:text-is("Log out")').click();
    await other.waitForURL(`${stack.url}/oauth2/logged-out`);
    await home.bringToFront();
    await end.click();
    await home.waitForLoadState('load');
    await expect(home.locator('section.error > p').first().textContent()).resolves.toMatch(
      /^You are not logged in in this browser any more \(logged out in another tab, perhaps\)/,
    );
    await context.close();
  });
});
