/**
 * The tenant said before it matters: the home page and every page that leads to a login name the user
 * a login needs, the login hints the tenant's domain, and a nav.no account, refused by the emulator as
 * Entra refuses it (AADSTS50020) at its sign-in and at its device sign-in, gets advice and a way to
 * sign in as someone else, in Chromium.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeJwt } from 'jose';
import { loadConfig } from '../../src/config.js';
import { PATHS } from '../../src/paths.js';
import { launchChromium } from '../helpers/browser.js';
import { startStack, type Stack } from '../helpers/stack.js';

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

describe('the tenant of the login', () => {
  it('is LOGIN_TENANT_DOMAIN, else AZURE_APP_TENANT_ID when a domain, else trygdeetaten.no', () => {
    const entra = (tenant: string) => ({
      AZURE_APP_TENANT_ID: tenant,
      AZURE_APP_CLIENT_ID: 'client',
      AZURE_APP_CLIENT_SECRET: 'secret',
      AZURE_APP_WELL_KNOWN_URL: `https://login.microsoftonline.com/${tenant}/v2.0/.well-known/openid-configuration`,
    });
    expect(loadConfig({}).generator.loginDomain).toBe('trygdeetaten.no');
    expect(loadConfig({ LOGIN_TENANT_DOMAIN: 'example.no' }).generator.loginDomain).toBe('example.no');
    expect(loadConfig(entra('Trygdeetaten.no')).generator.loginDomain).toBe('trygdeetaten.no');
    expect(loadConfig(entra('62366534-1ec3-4962-8869-9b5535279d0b')).generator.loginDomain).toBe('trygdeetaten.no');
    expect(() => loadConfig({ LOGIN_TENANT_DOMAIN: 'not a domain' })).toThrow(/LOGIN_TENANT_DOMAIN/);
  });

  it('is named on the home page, hinted to the identity provider, and a nav.no account is refused with advice', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${stack.url}/`);
    await expect(page.locator('.tenant-note').textContent()).resolves.toMatch(/Log in with your trygdeetaten\.no user/);

    const authorize = page.waitForRequest((request) => request.url().startsWith(stack.emulator!.baseUrl));
    await page.goto(`${stack.url}/oauth2/login?redirect=%2F`);
    expect(new URL((await authorize).url()).searchParams.get('domain_hint')).toBe('trygdeetaten.no');

    await page.locator('#email').fill('kari.nordmann@nav.no');
    const refused = page.waitForResponse((response) => response.url().startsWith(`${stack.url}/oauth2/callback`));
    await page.locator('button:has-text("Sign in")').click();
    expect((await refused).status()).toBe(403);
    expect(new URL((await refused).url()).searchParams.get('error_description')).toMatch(
      /^AADSTS50020: User account 'kari\.nordmann@nav\.no'/,
    );
    const advice = (await page.locator('main').textContent())!;
    expect(advice).toContain('Sign in with your trygdeetaten.no user');
    expect(advice).toContain('AADSTS50020');
    // The advice says which user itself: no second note beside its "Sign in as someone else".
    await expect(page.locator('.tenant-note').count()).resolves.toBe(0);

    await page.locator('a:has-text("Sign in as someone else")').click();
    await page.locator('#email').waitFor();
    await page.locator('#email').fill('kari.nordmann@trygdeetaten.no');
    await page.locator('button:has-text("Sign in")').click();
    await page.waitForURL(`${stack.url}/`);
    await expect(page.locator('#who-heading + p').textContent()).resolves.toMatch(/^Logged in as Kari Nordmann/);
    await page.context().close();
  });
});

const NOTE = /Log in with your trygdeetaten\.no user/;

/** A browser page logged in to the generator through the emulator's sign-in page. */
async function loggedIn(): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${stack.url}${PATHS.login}?redirect=%2F`);
  await page.locator('#email').fill('kari.nordmann@trygdeetaten.no');
  await page.locator('button:has-text("Sign in")').click();
  await page.waitForURL(`${stack.url}/`);
  return page;
}

const noteOn = async (page: Page, url: string) => {
  await page.goto(url);
  const note = page.locator('.tenant-note');
  await expect(note.isVisible()).resolves.toBe(true);
  return note.textContent();
};

describe('the pages that lead to a login', () => {
  it("say which user it needs: a tool's consent page, the device page, the token and error pages, home, logout and after it", async () => {
    const page = await loggedIn();
    const consent = `${stack.url}${PATHS.authorize}?${new URLSearchParams({
      response_type: 'code',
      client_id: 'my-tool',
      redirect_uri: 'http://127.0.0.1:1/callback',
      scope: 'dev-gcp:my-team:my-app',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    }).toString()}`;
    await expect(noteOn(page, consent)).resolves.toMatch(NOTE);
    await expect(page.locator('button:has-text("Allow")').count()).resolves.toBe(1);
    await expect(noteOn(page, `${stack.url}${PATHS.deviceVerification}`)).resolves.toMatch(NOTE);
    await expect(page.locator('#user_code').count()).resolves.toBe(1);
    await expect(noteOn(page, `${stack.url}${PATHS.obo}?aud=dev-gcp:my-team:my-app`)).resolves.toMatch(NOTE);
    await expect(page.locator('a:has-text("Sign in as someone else")').count()).resolves.toBe(1);
    await expect(noteOn(page, `${stack.url}${PATHS.obo}?aud=not-an-audience`)).resolves.toMatch(NOTE);
    await expect(page.locator('.error h1').textContent()).resolves.toBe('Bad request');
    await expect(noteOn(page, `${stack.url}/`)).resolves.toMatch(NOTE);
    await expect(page.locator('#who-heading + p').textContent()).resolves.toMatch(/^Logged in as Kari Nordmann/);

    await page.goto(`${stack.url}${PATHS.logout}`);
    await page.locator('button:has-text("Log out")').first().click();
    await page.waitForURL(`${stack.url}${PATHS.loggedOut}`);
    await expect(page.locator('.tenant-note').textContent()).resolves.toMatch(NOTE);
    await expect(noteOn(page, `${stack.url}${PATHS.logout}`)).resolves.toMatch(NOTE);
    await expect(page.locator('h1').textContent()).resolves.toBe('Not logged in');
    await page.context().close();
  });
});

describe("the emulator's device sign-in", () => {
  it('refuses a nav.no account with AADSTS50020 and the device keeps waiting; a trygdeetaten.no account completes it', async () => {
    const emulator = stack.emulator!;
    const cli = emulator.registerClient({ target: 'dev-gcp:my-team:device-cli', nativeRedirectUris: ['http://localhost/'] });
    const started = await fetch(`${emulator.baseUrl}/${emulator.tenantId}/oauth2/v2.0/devicecode`, {
      method: 'POST',
      body: new URLSearchParams({ client_id: cli, scope: 'openid offline_access api://dev-gcp.my-team.my-app/.default' }),
    });
    const device = (await started.json()) as { user_code: string; device_code: string; verification_uri: string; interval: number };
    const poll = async () => {
      const body = new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
        client_id: cli,
        device_code: device.device_code,
      });
      const res = await fetch(emulator.tokenEndpoint, { method: 'POST', body });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };

    const page = await (await browser.newContext()).newPage();
    await page.goto(device.verification_uri);
    await page.locator('#user_code').fill(device.user_code);
    await page.locator('button:has-text("Next")').click();
    await page.locator('#email').fill('someone@nav.no');
    const answered = page.waitForResponse((response) => response.request().method() === 'POST');
    await page.locator('button:has-text("Sign in")').click();
    expect((await answered).status()).toBe(400);
    await expect(page.locator('.error').textContent()).resolves.toMatch(/^AADSTS50020: User account 'someone@nav\.no'/);
    const waiting = await poll();
    expect(waiting.status).toBe(400);
    expect(waiting.body.error).toBe('authorization_pending');

    await page.locator('#email').fill('kari.nordmann@trygdeetaten.no');
    await page.locator('button:has-text("Sign in")').click();
    await page.locator('h1:has-text("You have signed in")').waitFor();
    // The device's next poll, one interval later.
    const now = Date.now();
    vi.spyOn(Date, 'now').mockImplementation(() => now + device.interval * 1000);
    const tokens = await poll().finally(() => vi.restoreAllMocks());
    expect(tokens.status).toBe(200);
    expect(decodeJwt(String(tokens.body.access_token)).preferred_username).toBe('kari.nordmann@trygdeetaten.no');
    await page.context().close();
  });
});
