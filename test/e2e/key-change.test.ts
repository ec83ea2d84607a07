/**
 * The identity provider's signing keys change while people are logged in: the emulator is restarted on
 * the same address and tenant with new keys (and none of the refresh tokens it gave out).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair } from 'jose';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { loadConfig } from '../../src/config.js';
import type { IdentityConfig } from '../../src/generator/idp/providers.js';
import { startEmulator, type Emulator } from '../../packages/entra-emulator/src/index.js';
import { startService, type Service } from '../../src/main.js';
import { launchChromium } from '../helpers/browser.js';
import { freePort } from '../helpers/ports.js';
import { memoryLogger } from '../helpers/stack.js';
import { installClock } from '../helpers/clock.js';

const TARGET = 'dev-gcp:nais:azure-token-generator';
const TENANT = randomUUID();
// Before the service starts: the cooldown between two fetches of the keys passes by the clock, not by waiting.
const clock = installClock();
let emulatorPort: number;
let emulator: Emulator;
let service: Service;
let browser: Browser;
let publicJwk: Record<string, unknown>;
let redirectUri: string;

async function startIdentityProvider(): Promise<Emulator> {
  const started = await startEmulator({ port: emulatorPort, tenantId: TENANT, logger: false });
  started.registerClient({ target: TARGET, jwks: [publicJwk], redirectUris: [redirectUri] });
  return started;
}

beforeAll(async () => {
  emulatorPort = await freePort();
  const port = await freePort();
  redirectUri = `http://localhost:${port}/oauth2/callback`;
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  publicJwk = { ...(await exportJWK(publicKey)), kid: 'generator', alg: 'RS256', use: 'sig' };
  emulator = await startIdentityProvider();
  const identity: IdentityConfig = {
    kind: 'entra',
    clientId: emulator.clientIdFor(TARGET),
    tenantId: TENANT,
    auth: { method: 'private_key_jwt', jwk: { ...(await exportJWK(privateKey)), kty: 'RSA', kid: 'generator', alg: 'RS256' } },
    provider: { discovery: 'well-known', wellKnownUrl: emulator.wellKnownUrl },
  };
  const env = { PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL: `http://localhost:${port}` };
  service = await startService({ generator: loadConfig(env).generator, identity }, env, { logger: memoryLogger().logger });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await service?.close();
  await emulator?.close();
});

/** Opens the page, signing in at the emulator when sent there; the statuses of every page the browser was shown. */
async function open(page: Page, url: string): Promise<number[]> {
  const statuses: number[] = [];
  page.on('response', (response) => {
    if (response.request().isNavigationRequest() && response.request().frame() === page.mainFrame()) statuses.push(response.status());
  });
  await page.goto(url);
  if (page.url().startsWith(emulator.baseUrl)) {
    await page.locator('button:has-text("Sign in")').click();
    await page.waitForURL(url);
  }
  return statuses;
}

async function cookieHeader(context: BrowserContext): Promise<string> {
  return (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
}

describe('after the identity provider changed its signing keys', () => {
  it('a browser is logged in again without an error page, and /oauth2/session does not claim a dead session', async () => {
    const wanted = `${service.url}/api/obo?aud=dev-gcp:my-team:my-app`;
    const browsing = await browser.newContext();
    const asking = await browser.newContext();
    for (const context of [browsing, asking]) await open(await context.newPage(), wanted);
    const askingCookie = await cookieHeader(asking);
    expect(
      ((await (await fetch(`${service.url}/oauth2/session`, { headers: { cookie: askingCookie } })).json()) as { authenticated: boolean })
        .authenticated,
    ).toBe(true);

    await emulator.close();
    emulator = await startIdentityProvider();
    // Past the cooldown between two fetches of the keys for an unknown kid.
    clock.advance(5_500);

    // Another audience: a token cached before the change would be served as it is.
    const after = `${service.url}/api/obo?aud=dev-gcp:my-team:other-app`;
    const page = await browsing.newPage();
    const statuses = await open(page, after);
    expect(statuses.filter((status) => status >= 400)).toEqual([]);
    expect(page.url()).toBe(after);
    expect(await page.locator('body').innerText()).toMatch(/Token on behalf of you/);

    // The service knows the new keys now: the other session, whose token only the old key signed, is not claimed.
    const session = (await (await fetch(`${service.url}/oauth2/session`, { headers: { cookie: askingCookie } })).json()) as {
      authenticated: boolean;
    };
    expect(session.authenticated).toBe(false);
    await browsing.close();
    await asking.close();
  }, 60_000);
});
