/**
 * The authorization server against the attacks of issue 24, each as the attacker or the employee's
 * browser would run it: a device code phished through a link, a consent page answered twice, a
 * tool's scope written with %20 by a browser not yet logged in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import type { Browser } from 'playwright-core';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { launchChromium } from '../helpers/browser.js';
import { approveDevice, consentToken, decide, deviceAuthorization, poll, startLoopback } from '../helpers/authorization-server.js';
import { login } from '../helpers/http-login.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { installClock } from '../helpers/clock.js';

// Before the service starts: the device page's reading time and poll interval pass by the clock (approveDevice too).
const clock = installClock();
let stack: Stack;
let browser: Browser;
let loopback: Awaited<ReturnType<typeof startLoopback>>;

beforeAll(async () => {
  stack = await startStack();
  browser = await launchChromium();
  loopback = await startLoopback();
});

afterAll(async () => {
  await browser?.close();
  loopback?.server.close();
  await stack?.close();
});

describe('a tool’s scope with %20 between its parts', () => {
  it('reaches the tool’s loopback redirect with a code when the browser was not logged in yet', async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    const challenge = await oidc.calculatePKCECodeChallenge(verifier);
    const url =
      `${stack.url}/oauth2/authorize?response_type=code&client_id=my-tool&redirect_uri=${encodeURIComponent(loopback.redirectUri)}` +
      `&scope=dev-gcp:my-team:my-app%20openid%20offline_access&code_challenge=${challenge}&code_challenge_method=S256&state=s1`;
    const context = await browser.newContext();
    const page = await context.newPage();
    const arrived = loopback.next();
    await page.goto(url);
    await page.locator('button:has-text("Sign in")').click();
    await page.locator('button:has-text("Allow")').click({ timeout: 10_000 });
    const callback = await arrived;
    expect(callback.searchParams.get('state')).toBe('s1');
    const code = callback.searchParams.get('code');
    expect(code).toBeTruthy();
    const res = await fetch(`${stack.url}/oauth2/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: code!,
        code_verifier: verifier,
        redirect_uri: loopback.redirectUri,
      }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { access_token?: string }).access_token).toBeTruthy();
    await context.close();
  });
});

/** An attacker's web page on another origin: one link, to `href`. */
async function attackerSite(href: string): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'text/html' }).end(`<a id="go" href="${href.replace(/"/g, '&quot;')}">See the new wiki</a>`),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

const startDevice = (clientId: string) =>
  fetch(`${stack.url}/oauth2/device_authorization`, {
    method: 'POST',
    body: new URLSearchParams({ client_id: clientId, scope: 'dev-gcp:my-team:my-app' }),
  });

describe('device-flow phishing', () => {
  it('gives the attacker nothing when a logged-in employee follows a link from another site and presses Allow', async () => {
    const started = await deviceAuthorization(stack.url);
    expect(started.expires_in).toBeLessThanOrEqual(300);
    const site = await attackerSite(started.verification_uri_complete);
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${stack.url}/oauth2/login?redirect=/`);
      await page.locator('button:has-text("Sign in")').click();
      await page.waitForURL(`${stack.url}/`);
      await page.goto(site.url);
      await page.locator('#go').click();
      await page.locator('button:has-text("Allow")').waitFor();
      const html = await page.content();
      expect(html).not.toContain(started.user_code);
      expect(html).toContain(started.user_code.slice(0, 4));
      expect(html.indexOf('class="warning"')).toBeLessThan(html.indexOf('<button'));
      expect(html.indexOf('dev-gcp:my-team:my-app')).toBeLessThan(html.indexOf('<button'));
      expect(await page.locator('dd').first().textContent()).toContain('calls itself');
      // Allow as the attacker hoped: no code typed (the browser holds the form back), then one typed wrong.
      await page.locator('button:has-text("Allow")').click();
      await page.locator('#typed_code').evaluate((input) => input.removeAttribute('required'));
      await page.locator('button:has-text("Allow")').click();
      await expect(page.locator('p.error').textContent()).resolves.toMatch(/not the one of this request/);
      await page.locator('#typed_code').fill('BCDF');
      await page.locator('button:has-text("Allow")').click();
      await expect(page.locator('p.error').textContent()).resolves.toMatch(/not the one of this request/);
      const polled = await poll(stack.url, started.device_code);
      expect(polled.body.access_token).toBeUndefined();
      expect(polled.body.refresh_token).toBeUndefined();
      expect(polled.body.error).toBe('authorization_pending');
    } finally {
      await context.close();
      site.server.close();
    }
  });

  it('takes no Allow without the typed code, with another code, or before the page could be read', async () => {
    const cookie = await login(stack.url);
    const started = await deviceAuthorization(stack.url);
    const url = started.verification_uri_complete;
    const post = (token: string, fields: Record<string, string>) =>
      decide(cookie, `${stack.url}/oauth2/device`, token, 'allow', {}, fields);
    expect((await post(await consentToken(cookie, url), {})).status).toBe(400);
    const other = started.user_code.endsWith('BBBB') ? 'CCCC' : 'BBBB';
    clock.advance(1_100);
    expect((await post(await consentToken(cookie, url), { typed_code: other })).status).toBe(400);
    expect((await post(await consentToken(cookie, url), { typed_code: started.user_code })).status).toBe(400);
    expect((await poll(stack.url, started.device_code)).body.error).toBe('authorization_pending');
    expect((await approveDevice(cookie, stack.url, started.user_code, started.user_code.slice(-4).toLowerCase())).status).toBe(200);
    clock.advance(5_000);
    expect((await poll(stack.url, started.device_code)).body.access_token).toBeTruthy();
  }, 20_000);

  it('refuses tool names that pass for the generator’s own command line', async () => {
    for (const name of ['the token-generator command line', 'Token Generator CLI', 'azure-token-generator', 't0ken gen3rat0r']) {
      const res = await startDevice(name);
      expect(res.status, name).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_client');
    }
  });
});

describe('the consent page', () => {
  const authorizeUrl = async (redirectUri: string) =>
    `${stack.url}/oauth2/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: 'my-tool',
      redirect_uri: redirectUri,
      scope: 'dev-gcp:my-team:my-app',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    })}`;

  it('takes its token once: a second POST of the same page mints no second code', async () => {
    const cookie = await login(stack.url);
    const token = await consentToken(cookie, await authorizeUrl(loopback.redirectUri));
    const first = await decide(cookie, `${stack.url}/oauth2/authorize`, token);
    expect(first.status).toBe(303);
    expect(new URL(first.headers.get('location')!).searchParams.get('code')).toBeTruthy();
    const second = await decide(cookie, `${stack.url}/oauth2/authorize`, token);
    expect(second.status).toBe(403);
    expect(second.headers.get('location')).toBeNull();
  });

  it('names no origin but its own in the CSP for an [::1] redirect, and still sends the browser there', async () => {
    const cookie = await login(stack.url);
    const url = await authorizeUrl('http://[::1]:4711/callback');
    const shown = await fetch(url, { headers: { cookie } });
    const policy = shown.headers.get('content-security-policy')!;
    expect(policy).toContain("form-action 'self';");
    expect(policy).not.toMatch(/\bhttp:/);
    const answered = await decide(cookie, `${stack.url}/oauth2/authorize`, await consentToken(cookie, url));
    expect(answered.status).toBe(200);
    expect(answered.headers.get('refresh')).toMatch(/^0;url=http:\/\/\[::1\]:4711\/callback\?code=/);
  });
});

describe('device authorizations per address', () => {
  it('are limited: past ten a minute from one address, 429', async () => {
    const answers: Response[] = [];
    for (let i = 0; i < 12; i++) answers.push(await startDevice('k6 in a container'));
    const statuses = answers.map((res) => res.status);
    expect(statuses).toContain(429);
    expect(statuses.slice(-1)).toEqual([429]);
    expect(Number(answers.at(-1)!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // The tool hears it as an OAuth error body.
    const body = (await answers.at(-1)!.json()) as { error: string; error_description: string };
    expect(body.error).toBeTruthy();
    expect(body.error_description).toMatch(/^Too many device authorizations from your address/);
  });
});
