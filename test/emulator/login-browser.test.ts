/**
 * The login page in a real browser: one click on "Sign in", single sign-on on the second visit,
 * and the form_post response posted by the script the emulator serves, with its strict CSP intact.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import { startEmulator, type Emulator } from '../../packages/entra-emulator/src/index.js';
import { authorizeUrl, pkce, tokenRequest } from './helpers.js';

let emulator: Emulator;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let callbackServer: Server;
let callback: string;
let clientId: string;
const received: { method: string; path: string; query: string; body: string }[] = [];
const cspViolations: string[] = [];
/** A cross-site page that auto-submits the emulator's sign-in form with an employee of its choice (set per test). */
let attackPage = '';

beforeAll(async () => {
  // The client app: records what arrives at its redirect URI.
  callbackServer = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      if (req.url === '/attack') return res.writeHead(200, { 'content-type': 'text/html' }).end(attackPage);
      received.push({ method: req.method ?? '', path: req.url?.split('?')[0] ?? '', query: req.url?.split('?')[1] ?? '', body });
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>callback</title><p>ok</p>');
    });
  });
  await new Promise<void>((resolve) => callbackServer.listen(0, '127.0.0.1', resolve));
  callback = `http://127.0.0.1:${(callbackServer.address() as AddressInfo).port}/callback`;
  emulator = await startEmulator();
  clientId = emulator.registerClient({ target: 'dev-gcp:nais:azure-token-generator', secrets: ['s'], redirectUris: [callback] });
  browser = await launchChromium();
  context = await browser.newContext();
  page = await context.newPage();
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) cspViolations.push(message.text());
  });
});

afterAll(async () => {
  await browser?.close();
  await emulator?.close();
  await new Promise((resolve) => callbackServer?.close(resolve));
});

function authorize(extra: Record<string, string> = {}) {
  const { verifier, challenge } = pkce();
  const url = authorizeUrl(emulator, {
    client_id: clientId,
    redirect_uri: callback,
    response_type: 'code',
    scope: `openid offline_access api://${clientId}/.default`,
    state: 'browser-state',
    nonce: 'browser-nonce',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...extra,
  });
  return { url: url.toString(), verifier };
}

describe('the login page in Chromium', () => {
  it('signs in the default employee with one click, and the code it sends back redeems', async () => {
    const { url, verifier } = authorize();
    await page.goto(url);
    await expect(page.locator('button:has-text("Sign in")').count()).resolves.toBe(1);
    await expect(page.locator('#navIdent').inputValue()).resolves.toBe('Z990001');
    await page.locator('button:has-text("Sign in")').click();
    await page.waitForURL((u) => u.toString().startsWith(callback));
    const query = new URL(page.url()).searchParams;
    expect(query.get('state')).toBe('browser-state');
    const result = await tokenRequest(emulator, {
      grant_type: 'authorization_code',
      code: query.get('code')!,
      redirect_uri: callback,
      code_verifier: verifier,
      client_id: clientId,
      client_secret: 's',
    });
    expect(result.status).toBe(200);
  });

  it('goes straight back on the second authorize, with no page in between', async () => {
    const { url } = authorize();
    const response = await page.goto(url);
    expect(page.url().startsWith(callback)).toBe(true);
    expect(new URL(page.url()).searchParams.get('code')).toBeTruthy();
    expect(response?.status()).toBe(200);
  });

  it('with response_mode=form_post, posts code and state to the client by the served script, breaking no CSP rule', async () => {
    received.length = 0;
    const { url, verifier } = authorize({ response_mode: 'form_post', prompt: 'login' });
    await page.goto(url);
    await page.locator('#navIdent').fill('Z990077');
    await page.locator('#name').fill('Browser Person');
    await page.locator('#email').fill('browser.person@trygdeetaten.no');
    await page.locator('button:has-text("Sign in")').click();
    await page.waitForURL(callback);
    // Only the browser's favicon request may come besides the one POST.
    const posts = () => received.filter((r) => r.path === '/callback');
    await expect.poll(() => posts().length).toBe(1);
    const post = posts()[0]!;
    expect(post.method).toBe('POST');
    expect(post.query).toBe('');
    const form = new URLSearchParams(post.body);
    expect(form.get('state')).toBe('browser-state');
    const result = await tokenRequest(emulator, {
      grant_type: 'authorization_code',
      code: form.get('code')!,
      redirect_uri: callback,
      code_verifier: verifier,
      client_id: clientId,
      client_secret: 's',
    });
    expect(result.status).toBe(200);
    expect(JSON.parse(Buffer.from(String(result.body.id_token).split('.')[1]!, 'base64url').toString())).toMatchObject({
      NAVident: 'Z990077',
      nonce: 'browser-nonce',
    });
    expect(cspViolations).toEqual([]);
  });

  it('refuses the sign-in form auto-submitted by another site, and sets no sign-on cookie (login CSRF)', async () => {
    const victim = await browser.newContext();
    const victimPage = await victim.newPage();
    const { url } = authorize();
    const signInUrl = new URL(url);
    const fields = {
      ...Object.fromEntries(signInUrl.searchParams),
      navIdent: 'Z999666',
      name: 'Attacker Chosen',
      email: 'attacker@example.com',
      groups: '',
    };
    const inputs = Object.entries(fields)
      .map(([name, value]) => `<input type="hidden" name="${name}" value="${value.replace(/"/g, '&quot;')}">`)
      .join('');
    attackPage =
      `<!doctype html><title>prize</title><form id="f" method="post" ` +
      `action="${signInUrl.origin + signInUrl.pathname}">${inputs}</form><script>document.getElementById('f').submit()</script>`;
    // The victim has seen the emulator's sign-in page before, so holds its sign-in cookie.
    await victimPage.goto(url);
    const answered = victimPage.waitForResponse(
      (response) => response.url() === signInUrl.origin + signInUrl.pathname && response.request().method() === 'POST',
    );
    await victimPage.goto(`${new URL(callback).origin}/attack`);
    const response = await answered;
    expect(response.status()).toBe(403);
    expect(await response.text()).toContain('AADSTS9002313');
    expect((await victim.cookies()).filter((cookie) => cookie.name.startsWith('emulator_sso_'))).toEqual([]);
    // Nothing was signed in: the next authorize shows the page again.
    await victimPage.goto(url);
    await expect(victimPage.locator('button:has-text("Sign in")').count()).resolves.toBe(1);
    await victim.close();
  });
});
