/**
 * The tenant said before it matters: the home page names the user a login needs, the login hints the
 * tenant's domain, and a nav.no account, refused by the emulator as Entra refuses it (AADSTS50020),
 * gets advice and a way to sign in as someone else, in Chromium.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
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

    await page.locator('a:has-text("Sign in as someone else")').click();
    await page.locator('#email').waitFor();
    await page.locator('#email').fill('kari.nordmann@trygdeetaten.no');
    await page.locator('button:has-text("Sign in")').click();
    await page.waitForURL(`${stack.url}/`);
    await expect(page.locator('#who-heading + p').textContent()).resolves.toMatch(/^Logged in as Kari Nordmann/);
    await page.context().close();
  });
});
