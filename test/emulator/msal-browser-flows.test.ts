/**
 * @azure/msal-browser 5 in Chromium, the flows msal-browser.test.ts does not walk: acquireTokenPopup with a `claims`
 * request, and logout by redirect and by popup back to the app, as a team's single-page app registered with only its
 * redirect URIs (as in Entra ID) does them. MSAL's logout names no client (no client_id, no id_token_hint): Entra goes
 * back to the post_logout_redirect_uri when it is a redirect URI of an app the sign-on signed in to.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { connect } from 'node:tls';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import { startEmulator, type Emulator } from '../../packages/entra-emulator/src/index.js';

const API_SCOPE = 'api://dev-gcp.team.api/.default';

let emulator: Emulator;
let dir: string;
let browser: Browser;
let server: Server;
let origin: string;
let clientId: string;
const bundles = new Map<string, string>();

async function bundle(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [`test/emulator/spa/${entry}.ts`],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

const page = (title: string, body: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body>${body}</body></html>`;

function serveApp(url: string): { type: string; body: string } | undefined {
  const path = url.split(/[?#]/)[0];
  if (path === '/') {
    const config = { clientId, authority: `${emulator.baseUrl}/${emulator.tenantId}`, redirectUri: `${origin}/redirect` };
    const script = `<script id="config" type="application/json">${JSON.stringify(config)}</script>`;
    return { type: 'text/html', body: page('app', `${script}<script type="module" src="/app.js"></script>`) };
  }
  if (path === '/app.js') return { type: 'text/javascript', body: bundles.get('flows')! };
  if (path === '/bridge.js') return { type: 'text/javascript', body: bundles.get('bridge')! };
  if (path === '/redirect') return { type: 'text/html', body: page('redirect', '<script type="module" src="/bridge.js"></script>') };
  return undefined;
}

async function certificateKeyHash(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), servername: hostname, rejectUnauthorized: false }, () => {
      const spki = socket.getPeerX509Certificate()!.publicKey.export({ type: 'spki', format: 'der' });
      socket.end();
      resolve(createHash('sha256').update(spki).digest('base64'));
    });
    socket.on('error', reject);
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'msal-browser-flows-'));
  server = createServer((req, res) => {
    const found = serveApp(req.url ?? '/');
    if (!found) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': `${found.type}; charset=utf-8`, 'cache-control': 'no-store' }).end(found.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://localhost:${(server.address() as AddressInfo).port}`;
  emulator = await startEmulator({ tls: { selfSigned: { caFile: join(dir, 'ca.pem') } } });
  // Registered as a team registers a single-page app in Entra ID: its redirect URIs, no separate logout URL.
  clientId = emulator.registerClient({ target: 'dev-gcp:team:spa-flows', spaRedirectUris: [`${origin}/`, `${origin}/redirect`] });
  bundles.set('flows', await bundle('flows'));
  bundles.set('bridge', await bundle('bridge'));
  browser = await launchChromium([`--ignore-certificate-errors-spki-list=${await certificateKeyHash(emulator.baseUrl)}`]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await emulator?.close();
  await new Promise((resolve) => server?.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

type Summary = { accessToken: string; idTokenClaims: Record<string, unknown>; username: string; fromCache: boolean };
type Outcome = Summary & { error?: string; message?: string };
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Spa = Record<string, (...args: any[]) => Promise<any>> & { ready: Promise<Summary | null> };
const call = (tab: Page, name: string, ...args: unknown[]): Promise<Outcome> =>
  tab.evaluate(([n, a]) => (globalThis as unknown as { spa: Spa }).spa[n as string]!(...(a as unknown[])), [name, args] as const);
const ready = async (tab: Page) => {
  await tab.waitForFunction(() => 'spa' in globalThis);
  return tab.evaluate(() => (globalThis as unknown as { spa: Spa }).spa.ready);
};

/** Whether the browser still holds the emulator's sign-on cookie. */
const signedOn = async (context: BrowserContext) => (await context.cookies()).some((c) => c.name.startsWith('emulator_sso_'));

/** Signs in by loginPopup in a fresh tab of `context`, clicking the emulator's "Sign in". */
async function signInByPopup(tab: Page): Promise<Outcome> {
  await tab.goto(`${origin}/`);
  await ready(tab);
  const opened = tab.waitForEvent('popup');
  const login = call(tab, 'loginPopup', ['openid', 'profile']);
  await (await opened).locator('button:has-text("Sign in")').click();
  return login;
}

describe('@azure/msal-browser 5 in Chromium: acquireTokenPopup, logout', () => {
  it('acquireTokenPopup with a claims request gets the API token from the sign-on, with no sign-in page', async () => {
    const context = await browser.newContext();
    const tab = await context.newPage();
    expect((await signInByPopup(tab)).error).toBeUndefined();
    const claims = JSON.stringify({ access_token: { xms_cc: { values: ['cp1'] } } });
    const result = await call(tab, 'acquireTokenPopup', [API_SCOPE], claims);
    expect(result.error, result.message).toBeUndefined();
    expect(decodeJwt(result.accessToken)).toMatchObject({ aud: emulator.clientIdFor('dev-gcp:team:api'), azp: clientId });
    const silent = await call(tab, 'silent', [API_SCOPE], { claims });
    expect(silent.error, silent.message).toBeUndefined();
    expect(silent.fromCache).toBe(false);
    await context.close();
  }, 60_000);

  it('logoutRedirect ends the sign-on and comes back to the app page, a redirect URI of the app', async () => {
    const context = await browser.newContext();
    const tab = await context.newPage();
    expect((await signInByPopup(tab)).error).toBeUndefined();
    const logout = tab.waitForRequest((request) => request.url().includes('/oauth2/v2.0/logout'));
    const navigated = tab.waitForEvent('framenavigated', { predicate: (frame) => frame === tab.mainFrame(), timeout: 10_000 });
    void call(tab, 'logoutRedirect', `${origin}/`).catch(() => {});
    expect(new URL((await logout).url()).searchParams.get('post_logout_redirect_uri')).toBe(`${origin}/`);
    expect((await navigated).url()).toMatch(new RegExp(`^${origin}/\\?state=`));
    await ready(tab);
    expect(await call(tab, 'accounts')).toBe(0);
    expect(await signedOn(context)).toBe(false);
    await context.close();
  }, 60_000);

  it('logoutPopup ends the sign-on and closes its popup, back on the app', async () => {
    const context = await browser.newContext();
    const tab = await context.newPage();
    expect((await signInByPopup(tab)).error).toBeUndefined();
    const opened = tab.waitForEvent('popup');
    const result = call(tab, 'logoutPopup', `${origin}/redirect`);
    const popup = await opened;
    // MSAL closes its popup once it is back on the app's redirect page; on the emulator's signed-out page it would wait.
    await popup.waitForEvent('close', { timeout: 10_000 });
    expect((await result).error).toBeUndefined();
    expect(await signedOn(context)).toBe(false);
    await context.close();
  }, 60_000);
});
