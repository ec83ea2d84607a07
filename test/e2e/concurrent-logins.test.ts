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
import { installClock } from '../helpers/clock.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { cookieNames } from '../../src/paths.js';

// Before the service starts: the loop guard's window passes by the clock, not by waiting.
const clock = installClock();
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

/** A fresh browser profile for `test`, closed after it. */
async function inContext(test: (context: BrowserContext) => Promise<void>): Promise<void> {
  const context = await browser.newContext();
  try {
    await test(context);
  } finally {
    await context.close();
    // The loop guard counts a browser's starts within its window: the next test's browser starts afresh anyway.
    clock.advance(16_000);
  }
}

/** The login-state cookies the browser keeps for the generator. */
async function loginCookies(context: BrowserContext) {
  const names = cookieNames(stack.url);
  return (await context.cookies(stack.url)).filter((c) => names.isLogin(c.name));
}

/** A tab of `context` opened on `wanted` that a login sent on to the emulator's sign-in page. */
async function openLoggedOut(context: BrowserContext, wanted: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(wanted);
  expect(page.url().startsWith(emulator.baseUrl)).toBe(true);
  await page.locator('button:has-text("Sign in")').waitFor();
  return page;
}

/**
 * Signs in on the tab's emulator page: the callback the emulator sent the browser to, where the browser landed back on the
 * generator, and what the page says there.
 */
async function signIn(page: Page): Promise<{ callback: string; url: string; text: string }> {
  const callback = page.waitForRequest((request) => new URL(request.url()).pathname === '/oauth2/callback');
  await page.locator('button:has-text("Sign in")').click();
  await page.waitForURL((url) => url.origin === new URL(stack.url).origin);
  return { callback: (await callback).url(), url: page.url(), text: (await page.locator('body').textContent()) ?? '' };
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
    await inContext(async (context) => {
      const targets = ['dev-gcp:team:app-a', 'dev-gcp:team:app-b'];
      const tabs = [await openLoggedOut(context, obo(targets[0]!)), await openLoggedOut(context, obo(targets[1]!))];
      expect(await loginCookies(context)).toHaveLength(2);
      for (const i of order) {
        const landed = await signIn(tabs[i]!);
        expect(landed, `tab ${i + 1} landed on ${landed.url}: ${landed.text.slice(0, 300)}`).toMatchObject({ url: obo(targets[i]!) });
        expect(await tokenAudience(tabs[i]!)).toBe(emulator.clientIdFor(targets[i]!));
      }
      // Each completed login cleared its own cookie.
      expect(await loginCookies(context)).toEqual([]);
    });
  });
});

describe("a tool's authorization and a link, logging in at once in one browser", () => {
  const TARGET = 'dev-gcp:my-team:my-app';
  // The tool's loopback listener (RFC 8252), where the browser brings it the code.
  let loopback: Awaited<ReturnType<typeof startLoopback>>;
  beforeAll(async () => {
    loopback = await startLoopback();
  });
  afterAll(() => loopback?.server.close());

  /** The tool's side: its authorization URL (PKCE, its loopback listener), and its code redeemed for the employee token. */
  async function tool() {
    const config = await oidc.discovery(new URL(stack.url), 'a tool', undefined, oidc.None(), {
      algorithm: 'oauth2',
      execute: [oidc.allowInsecureRequests],
    });
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: loopback.redirectUri,
      scope: 'api://dev-gcp.my-team.my-app/.default',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    }).href;
    const redeem = async (callback: URL) =>
      oidc.authorizationCodeGrant(
        config,
        callback,
        { pkceCodeVerifier: verifier, expectedState: state },
        { redirect_uri: loopback.redirectUri },
      );
    return { url, redeem };
  }

  it.each([
    ['the tool signs in first', ['tool', 'link']],
    ['the link signs in first', ['link', 'tool']],
  ])('both complete: %s', async (_name, order) => {
    await inContext(async (context) => {
      const asking = await tool();
      const tabs = { tool: await openLoggedOut(context, asking.url), link: await openLoggedOut(context, obo('dev-gcp:team:app-c')) };
      for (const which of order) {
        if (which === 'link') {
          const landed = await signIn(tabs.link);
          expect(landed, landed.text.slice(0, 300)).toMatchObject({ url: obo('dev-gcp:team:app-c') });
          expect(await tokenAudience(tabs.link)).toBe(emulator.clientIdFor('dev-gcp:team:app-c'));
          continue;
        }
        const landed = await signIn(tabs.tool);
        expect(landed, landed.text.slice(0, 300)).toMatchObject({ url: asking.url });
        const arrived = loopback.next();
        await tabs.tool.locator('button:has-text("Allow")').click();
        const answer = await asking.redeem(await arrived);
        expect(decodeJwt(answer.access_token).aud).toBe(emulator.clientIdFor(TARGET));
      }
      expect(await loginCookies(context)).toEqual([]);
    });
  });
});

describe('the callback, with logins of this browser waiting', () => {
  it("refuses a state that names none of this browser's logins, and a replayed answer, and leaves the waiting login be", async () => {
    await inContext(async (context) => {
      const first = await openLoggedOut(context, obo('dev-gcp:team:app-a'));
      const waiting = await openLoggedOut(context, obo('dev-gcp:team:app-b'));
      const done = await signIn(first);
      expect(done.url).toBe(obo('dev-gcp:team:app-a'));

      const other = await context.newPage();
      const foreign = new URL(done.callback);
      foreign.searchParams.set('state', 'a-state-of-no-login-here');
      const refused = await other.goto(foreign.href);
      expect(refused?.status()).toBe(400);
      await expect(other.locator('body').textContent()).resolves.toMatch(
        /expired, was already completed, or was started in another browser/,
      );

      // Its answer again: said to be used already, and no new session made of it.
      const session = async () => (await context.cookies(stack.url)).find((c) => c.name === cookieNames(stack.url).session)?.value;
      const before = await session();
      const replayed = await other.goto(done.callback);
      expect(replayed?.status()).toBe(409);
      await expect(other.locator('body').textContent()).resolves.toMatch(/This login was already completed/);
      expect(await session()).toBe(before);

      expect(await loginCookies(context)).toHaveLength(1);
      const landed = await signIn(waiting);
      expect(landed.url).toBe(obo('dev-gcp:team:app-b'));
    });
  });
});

describe('a browser that starts many logins', () => {
  it('keeps the cookies of the five newest (httpOnly, SameSite=Lax, __Host-), and the loop guard still stops a burst', async () => {
    await inContext(async (context) => {
      const pages = new Map<number, Page>();
      const start = async (n: number) => {
        const page = await context.newPage();
        pages.set(n, page);
        const response = await page.goto(
          `${stack.url}/oauth2/login?redirect=${encodeURIComponent(obo(`dev-gcp:team:app-${n}`).slice(stack.url.length))}`,
        );
        return { page, response };
      };
      const states: string[] = [];
      const started = async (n: number) => {
        const { page, response } = await start(n);
        expect(page.url().startsWith(emulator.baseUrl), `start ${n}: ${response?.status()}`).toBe(true);
        states.push(new URL(page.url()).searchParams.get('state')!);
      };
      for (let n = 1; n <= 5; n++) await started(n);
      // A sixth within the loop guard's window is a loop: stopped, with a page that says so, and no login started.
      const stopped = await start(6);
      expect(stopped.response?.status()).toBe(429);
      await expect(stopped.page.locator('body').textContent()).resolves.toMatch(/started several logins within a few seconds/);
      expect(await loginCookies(context)).toHaveLength(5);

      clock.advance(16_000);
      for (let n = 7; n <= 9; n++) await started(n);
      const kept = await loginCookies(context);
      const names = cookieNames(stack.url);
      expect(kept.map((c) => c.name).sort()).toEqual(
        states
          .slice(-5)
          .map((state) => names.login(state))
          .sort(),
      );
      for (const cookie of kept) {
        expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', secure: true, path: '/' });
        expect(cookie.name.startsWith('__Host-')).toBe(true);
      }
      // The oldest's cookie is gone, so its answer is refused; the newest completes.
      const oldest = await signIn(pages.get(1)!);
      expect(oldest.url.startsWith(`${stack.url}/oauth2/callback?`)).toBe(true);
      expect(oldest.text).toMatch(/expired, was already completed, or was started in another browser/);
      const newest = await signIn(pages.get(9)!);
      expect(newest.url).toBe(obo('dev-gcp:team:app-9'));
    });
  });

  it('keeps fewer when their return paths are long, so that its Cookie header stays within what an ingress takes', async () => {
    await inContext(async (context) => {
      // Each return path near the longest kept (2,048 characters): five such logins' cookies would make a header line of 15 KB.
      const wanted = (n: number) => `/api/obo?aud=dev-gcp:team:app-${n}&note=${'x'.repeat(1_900)}`;
      let last: Page | undefined;
      for (let n = 1; n <= 5; n++) {
        last = await context.newPage();
        await last.goto(`${stack.url}/oauth2/login?redirect=${encodeURIComponent(wanted(n))}`);
        expect(last.url().startsWith(emulator.baseUrl)).toBe(true);
      }
      const kept = await loginCookies(context);
      expect(kept.length).toBeGreaterThanOrEqual(1);
      expect(kept.length).toBeLessThan(5);
      expect(kept.reduce((bytes, c) => bytes + c.name.length + c.value.length, 0)).toBeLessThanOrEqual(4_096);
      // The newest login is among them, and completes.
      const newest = await signIn(last!);
      expect(newest.url).toBe(`${stack.url}${wanted(5)}`);
    });
  });
});
