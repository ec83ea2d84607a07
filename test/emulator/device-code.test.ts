/**
 * Entra's device code flow: the device authorization endpoint and its fields, the device code grant
 * with Entra's errors (authorization_pending, slow_down, expired_token, authorization_declined), the
 * device login page in Chromium, and @azure/msal-node and @azure/identity getting tokens with it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeJwt } from 'jose';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import { startEmulator, type Emulator } from '../../packages/entra-emulator/src/index.js';
import { enterDeviceCode } from './clients/shared.js';
import { expectEntraError, runClientScript, tokenRequest } from './helpers.js';

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const API = 'dev-gcp:team:api';
const SCOPE = 'api://dev-gcp.team.api/.default';

let emulator: Emulator;
let tlsEmulator: Emulator;
let dir: string;
let browser: Browser;
let cli: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emulator-device-'));
  emulator = await startEmulator();
  // The client libraries wait the interval between polls: one second rather than Entra's five.
  tlsEmulator = await startEmulator({ tls: { selfSigned: { caFile: join(dir, 'ca.pem') } }, deviceCodeIntervalSeconds: 1 });
  // A command-line tool: a public client (Entra's "mobile and desktop" platform), no credential.
  cli = emulator.registerClient({ target: 'dev-gcp:team:cli', nativeRedirectUris: ['http://localhost/'] });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await emulator?.close();
  await tlsEmulator?.close();
  await rm(dir, { recursive: true, force: true });
});

afterEach(() => {
  vi.restoreAllMocks();
});

interface DeviceAuthorization {
  user_code: string;
  device_code: string;
  verification_uri: string;
  expires_in: number;
  interval: number;
  message: string;
}

async function deviceAuthorization(clientId = cli, scope = `openid offline_access ${SCOPE}`): Promise<DeviceAuthorization> {
  const res = await fetch(`${emulator.baseUrl}/${emulator.tenantId}/oauth2/v2.0/devicecode`, {
    method: 'POST',
    body: new URLSearchParams({ client_id: clientId, scope }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as DeviceAuthorization;
}

const poll = (deviceCode: string, clientId = cli) =>
  tokenRequest(emulator, { grant_type: DEVICE_CODE_GRANT, client_id: clientId, device_code: deviceCode });

/** The clock moved on by `ms`, as the client's timer would between polls. */
function later(ms: number): void {
  const now = Date.now();
  vi.spyOn(Date, 'now').mockImplementation(() => now + ms);
}

const employee = { navIdent: 'Z990203', name: 'Enhet Ansatt', email: 'enhet.ansatt@trygdeetaten.no', groups: '' };

describe('the device authorization endpoint', () => {
  it('is in discovery, and answers with Entra fields and message', async () => {
    const discovery = (await (await fetch(emulator.wellKnownUrl)).json()) as Record<string, unknown>;
    expect(discovery.device_authorization_endpoint).toBe(`${emulator.baseUrl}/${emulator.tenantId}/oauth2/v2.0/devicecode`);
    expect(discovery.grant_types_supported).toContain(DEVICE_CODE_GRANT);
    const answer = await deviceAuthorization();
    expect(Object.keys(answer).sort()).toEqual(['device_code', 'expires_in', 'interval', 'message', 'user_code', 'verification_uri']);
    expect(answer).toMatchObject({ verification_uri: `${emulator.baseUrl}/devicelogin`, expires_in: 900, interval: 5 });
    expect(answer.user_code).toMatch(/^[A-Z0-9]{9}$/);
    expect(answer.message).toBe(
      `To sign in, use a web browser to open the page ${answer.verification_uri} and enter the code ${answer.user_code} to authenticate.`,
    );
  });

  it('refuses an unknown client, a missing scope and a scope of a missing resource, in Entra bodies', async () => {
    const post = (form: Record<string, string>) =>
      fetch(`${emulator.baseUrl}/${emulator.tenantId}/oauth2/v2.0/devicecode`, { method: 'POST', body: new URLSearchParams(form) }).then(
        async (res) => ({ status: res.status, body: (await res.json()) as Record<string, unknown> }),
      );
    expectEntraError(await post({ client_id: 'no-such-client', scope: 'openid' }), 700016, 'unauthorized_client');
    expectEntraError(await post({ client_id: cli }), 900144, 'invalid_request');
    expectEntraError(
      await post({ client_id: cli, scope: 'api://dev-gcp.team.a/.default api://dev-gcp.team.b/.default' }),
      700022,
      'invalid_scope',
    );
  });
});

describe('the device code grant', () => {
  it('is pending, then slow_down for a poll inside the interval, then gives tokens once the employee signed in, once', async () => {
    const device = await deviceAuthorization();
    expectEntraError(await poll(device.device_code), 70016, 'authorization_pending');
    expectEntraError(await poll(device.device_code), 70016, 'slow_down');
    expect(await enterDeviceCode(device.verification_uri, device.user_code, employee)).toContain('You have signed in');
    later(device.interval * 1000);
    const tokens = await poll(device.device_code);
    expect(tokens.status).toBe(200);
    // Signed on the moved clock: read, not verified (the clock test/emulator/token-endpoint.test.ts verifies with is the real one).
    expect(decodeJwt(String(tokens.body.access_token))).toMatchObject({
      aud: emulator.clientIdFor(API),
      azp: cli,
      azpacr: '0',
      scp: 'defaultaccess',
      NAVident: 'Z990203',
    });
    expect(decodeJwt(String(tokens.body.id_token))).toMatchObject({ aud: cli, NAVident: 'Z990203' });
    // The refresh token of a public client is redeemed without a credential too.
    const refreshed = await tokenRequest(emulator, {
      grant_type: 'refresh_token',
      client_id: cli,
      refresh_token: String(tokens.body.refresh_token),
    });
    expect(refreshed.status).toBe(200);
    later(2 * device.interval * 1000);
    expectEntraError(await poll(device.device_code), 70000, 'invalid_grant');
  });

  it('polls at the interval startEmulator was given, slow_down inside it; refuses one not of 1 to 60 whole seconds', async () => {
    const quick = await startEmulator({ deviceCodeIntervalSeconds: 2 });
    try {
      const clientId = quick.registerClient({ target: 'dev-gcp:team:cli', nativeRedirectUris: ['http://localhost/'] });
      const res = await fetch(`${quick.baseUrl}/${quick.tenantId}/oauth2/v2.0/devicecode`, {
        method: 'POST',
        body: new URLSearchParams({ client_id: clientId, scope: `openid ${SCOPE}` }),
      });
      const device = (await res.json()) as DeviceAuthorization;
      expect(device.interval).toBe(2);
      const quickPoll = () => tokenRequest(quick, { grant_type: DEVICE_CODE_GRANT, client_id: clientId, device_code: device.device_code });
      expectEntraError(await quickPoll(), 70016, 'authorization_pending');
      expectEntraError(await quickPoll(), 70016, 'slow_down');
      later(2000);
      expectEntraError(await quickPoll(), 70016, 'authorization_pending');
    } finally {
      await quick.close();
    }
    for (const deviceCodeIntervalSeconds of [0, 1.5, 61])
      await expect(startEmulator({ deviceCodeIntervalSeconds })).rejects.toThrow(/deviceCodeIntervalSeconds: must be a whole number/);
  });

  it('authorization_declined when the employee declines, expired_token after 15 minutes, invalid_grant for another client', async () => {
    const declined = await deviceAuthorization();
    expect(await enterDeviceCode(declined.verification_uri, declined.user_code, employee, 'decline')).toContain('Sign-in declined');
    expectEntraError(await poll(declined.device_code), 65004, 'authorization_declined');

    const other = emulator.registerClient({ target: 'dev-gcp:team:other-cli', nativeRedirectUris: ['http://localhost/'] });
    const stolen = await deviceAuthorization();
    expectEntraError(await poll(stolen.device_code, other), 70000, 'invalid_grant');

    const expiring = await deviceAuthorization();
    later(expiring.expires_in * 1000);
    expectEntraError(await poll(expiring.device_code), 70019, 'expired_token');
    await expect(enterDeviceCode(expiring.verification_uri, expiring.user_code, employee)).rejects.toThrow(/was not taken/);
  });

  it("a confidential client's device code needs its credential at the token endpoint", async () => {
    const confidential = emulator.registerClient({ target: 'dev-gcp:team:confidential-cli', secrets: ['a-secret-value'] });
    const device = await deviceAuthorization(confidential);
    expectEntraError(await poll(device.device_code, confidential), 7000218, 'invalid_client');
    const withSecret = await tokenRequest(emulator, {
      grant_type: DEVICE_CODE_GRANT,
      client_id: confidential,
      client_secret: 'a-secret-value',
      device_code: device.device_code,
    });
    expectEntraError(withSecret, 70016, 'authorization_pending');
  });
});

describe('the device login page in Chromium', () => {
  it('takes the code, signs in the default employee with one click, and the device gets its tokens', async () => {
    const device = await deviceAuthorization();
    const page = await (await browser.newContext()).newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });
    await page.goto(device.verification_uri);
    await page.locator('#user_code').fill(device.user_code.toLowerCase());
    await page.locator('button:has-text("Next")').click();
    await expect(page.locator('#navIdent').inputValue()).resolves.toBe('Z990001');
    await expect(page.locator('text=dev-gcp:team:cli').count()).resolves.toBe(1);
    await page.locator('button:has-text("Sign in")').click();
    await page.locator('h1:has-text("You have signed in")').waitFor();
    expect(violations).toEqual([]);
    later(device.interval * 1000);
    const tokens = await poll(device.device_code);
    expect(tokens.status).toBe(200);
    expect(decodeJwt(String(tokens.body.access_token)).NAVident).toBe('Z990001');
  });

  it('says so for a wrong code, and refuses a form posted from another site', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${emulator.baseUrl}/devicelogin`);
    await page.locator('#user_code').fill('WRONGCODE');
    await page.locator('button:has-text("Next")').click();
    await expect(page.locator('.error').textContent()).resolves.toBe("That code didn't work. Check the code and try again.");
    const forged = await fetch(`${emulator.baseUrl}/devicelogin`, {
      method: 'POST',
      headers: { origin: 'https://evil.example' },
      body: new URLSearchParams({ user_code: (await deviceAuthorization()).user_code, action: 'approve', ...employee }),
    });
    expect(forged.status).toBe(403);
  });
});

describe('client libraries over HTTPS', () => {
  it("@azure/msal-node's acquireTokenByDeviceCode and @azure/identity's DeviceCodeCredential get tokens", async () => {
    const clientId = tlsEmulator.registerClient({ target: 'dev-gcp:team:cli', nativeRedirectUris: ['http://localhost/'] });
    type Flow = { message: string; accessToken: string; username?: string };
    const result = await runClientScript<Record<'msal' | 'identity', Flow>>(tlsEmulator, 'device-code.ts', { CLIENT_ID: clientId, SCOPE });
    const audience = tlsEmulator.clientIdFor(API);
    expect(result.msal.message).toMatch(new RegExp(`^To sign in, use a web browser to open the page ${tlsEmulator.baseUrl}/devicelogin `));
    expect(result.msal.username).toBe('z990201@trygdeetaten.no');
    expect(decodeJwt(result.msal.accessToken)).toMatchObject({ aud: audience, azp: clientId, azpacr: '0', NAVident: 'Z990201' });
    expect(result.identity.message).toContain('/devicelogin and enter the code ');
    expect(decodeJwt(result.identity.accessToken)).toMatchObject({ aud: audience, azp: clientId, azpacr: '0', NAVident: 'Z990202' });
  }, 90_000);
});
