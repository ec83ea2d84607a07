/**
 * @azure/msal-browser 4 and 5 in Chromium, with the browser's security on (CORS, same-origin, a certificate trusted by
 * its key alone): a single-page app served from its own origin, registered as a `spa` client with no credential, signs
 * in by redirect and by popup with PKCE, gets a token for an API silently, and renews it through the refresh token.
 * Version 5 also gets a token by acquireTokenPopup with a `claims` request, and logs out by redirect and by popup back
 * to the app, registered with only its redirect URIs (as in Entra ID): MSAL's logout names no client (no client_id, no
 * id_token_hint), and Entra goes back to a post_logout_redirect_uri that is a redirect URI of an app the sign-on signed
 * in to.
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

const VERSIONS = ['4', '5'] as const;
type Version = (typeof VERSIONS)[number];
const API = 'dev-gcp:team:api';
const API_SCOPE = 'api://dev-gcp.team.api/.default';
const OTHER_SCOPE = 'api://dev-gcp.team.other/.default';

let emulator: Emulator;
let dir: string;
let browser: Browser;
let server: Server;
let origin: string;
let clientId: string;
const bundles = new Map<string, string>();

/** The app's bundle for one major version of msal-browser: the sources name version 5, aliased to 4 for the other build. */
async function bundle(entry: string, version: Version): Promise<string> {
  const result = await build({
    entryPoints: [`test/emulator/spa/${entry}.ts`],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'silent',
    ...(version === '4' ? { alias: { 'msal-browser-5': 'msal-browser-4' } } : {}),
  });
  return result.outputFiles[0]!.text;
}

/** Where each version's app is redirected back to: v4's page itself (and a blank page for its popup), v5's redirect bridge. */
const redirects = (version: Version) =>
  version === '4'
    ? { redirectUri: `${origin}/v4/`, popupRedirectUri: `${origin}/v4/popup` }
    : { redirectUri: `${origin}/v5/redirect`, popupRedirectUri: `${origin}/v5/redirect` };
/** v5's app page, a redirect URI too, where its logout by redirect comes back to. */
const appPage = () => `${origin}/v5/`;

function page(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body>${body}</body></html>`;
}

function serveApp(url: string): { type: string; body: string } | undefined {
  const [, version, rest] = /^\/v(4|5)\/(.*)$/.exec(url.split(/[?#]/)[0]!) ?? [];
  if (!version) return undefined;
  const js = (name: string) => ({ type: 'text/javascript', body: bundles.get(`${version}/${name}`)! });
  if (rest === '') {
    const config = { clientId, authority: `${emulator.baseUrl}/${emulator.tenantId}`, ...redirects(version as Version) };
    const script = `<script id="config" type="application/json">${JSON.stringify(config)}</script>`;
    return {
      type: 'text/html',
      body: page(`msal-browser ${version}`, `${script}<script type="module" src="/v${version}/app.js"></script>`),
    };
  }
  if (rest === 'app.js' || (rest === 'bridge.js' && version === '5')) return js(rest);
  if (rest === 'redirect' && version === '5')
    return { type: 'text/html', body: page('redirect', '<script type="module" src="/v5/bridge.js"></script>') };
  if (rest === 'popup' && version === '4') return { type: 'text/html', body: page('popup', '<p>Signing in…</p>') };
  return undefined;
}

/** The SHA-256 of the emulator's certificate's public key, which Chromium is told to trust (and nothing else). */
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
  dir = await mkdtemp(join(tmpdir(), 'msal-browser-'));
  server = createServer((req, res) => {
    const found = serveApp(req.url ?? '/');
    if (!found) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': `${found.type}; charset=utf-8`, 'cache-control': 'no-store' }).end(found.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://localhost:${(server.address() as AddressInfo).port}`;
  emulator = await startEmulator({ tls: { selfSigned: { caFile: join(dir, 'ca.pem') } } });
  clientId = emulator.registerClient({
    target: 'dev-gcp:team:spa',
    spaRedirectUris: [...VERSIONS.flatMap((version) => Object.values(redirects(version))), appPage()],
  });
  for (const version of VERSIONS) {
    bundles.set(`${version}/app.js`, await bundle('app', version));
    if (version === '5') bundles.set('5/bridge.js', await bundle('bridge', version));
  }
  browser = await launchChromium([`--ignore-certificate-errors-spki-list=${await certificateKeyHash(emulator.baseUrl)}`]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await emulator?.close();
  await new Promise((resolve) => server?.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

type Summary = { accessToken: string; idTokenClaims: Record<string, unknown>; scopes: string[]; username: string; fromCache: boolean };
/** What the app answers: a summary, or MSAL's error (spa/app.ts). */
type Outcome = Summary & { error?: string; message?: string };
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Spa = Record<string, (...args: any[]) => Promise<any>> & { ready: Promise<Summary | null> };
/** Calls the app's `name` in the page, with `args`. */
const call = (tab: Page, name: string, ...args: unknown[]): Promise<Outcome> =>
  tab.evaluate(([n, a]) => (globalThis as unknown as { spa: Spa }).spa[n as string]!(...(a as unknown[])), [name, args] as const);
/** The app's answer to a loginRedirect, once its page is back (null when it was not signed in by redirect). */
const ready = async (tab: Page) => {
  await tab.waitForFunction(() => 'spa' in globalThis);
  return tab.evaluate(() => (globalThis as unknown as { spa: Spa }).spa.ready);
};
const spa = (target: Page) => ({
  ready: () => ready(target),
  silent: (scopes: string[], forceRefresh = false) => call(target, 'silent', scopes, { forceRefresh }),
});

const grants = (name: string) => emulator.stats.byGrant[name] ?? 0;

/** The API token: for the API (its client id), with scp, asked for by the single-page app as a public client. */
function expectApiToken(result: Summary) {
  expect(decodeJwt(result.accessToken)).toMatchObject({
    aud: emulator.clientIdFor(API),
    scp: 'defaultaccess',
    azp: clientId,
    azpacr: '0',
    NAVident: 'Z990001',
  });
}

describe.each(VERSIONS)('@azure/msal-browser %s in Chromium', (version) => {
  it('signs in with loginRedirect and PKCE, gets an API token silently, and renews it through the refresh token', async () => {
    const context = await browser.newContext();
    const tab = await context.newPage();
    const authorizeRequests: URL[] = [];
    tab.on('request', (request) => {
      if (request.url().includes('/oauth2/v2.0/authorize')) authorizeRequests.push(new URL(request.url()));
    });
    await tab.goto(`${origin}/v${version}/`);
    await expect(spa(tab).ready()).resolves.toBeNull();
    const codes = grants('authorization_code');

    void call(tab, 'loginRedirect', ['openid', 'profile']).catch(() => {});
    await tab.locator('button:has-text("Sign in")').click();
    await tab.waitForURL(`${origin}/v${version}/`);
    const login = await spa(tab).ready();
    expect(login?.idTokenClaims).toMatchObject({ aud: clientId, iss: emulator.issuer, NAVident: 'Z990001' });
    expect(login?.username).toBe('kari.nordmann@trygdeetaten.no');
    expect(grants('authorization_code')).toBe(codes + 1);
    const authorize = authorizeRequests[0]!.searchParams;
    expect(authorize.get('code_challenge_method')).toBe('S256');
    expect(authorize.get('redirect_uri')).toBe(redirects(version).redirectUri);

    const refreshes = grants('refresh_token');
    const api = await spa(tab).silent([API_SCOPE]);
    expectApiToken(api);
    expect(api.fromCache).toBe(false);
    expect(grants('refresh_token')).toBe(refreshes + 1);
    expect((await spa(tab).silent([API_SCOPE])).accessToken).toBe(api.accessToken);
    const renewed = await spa(tab).silent([API_SCOPE], true);
    expectApiToken(renewed);
    expect(renewed.accessToken).not.toBe(api.accessToken);
    expect(grants('refresh_token')).toBe(refreshes + 2);
    await context.close();
  }, 60_000);

  it('signs in with loginPopup for an API and extraScopesToConsent of another, then gets that one silently', async () => {
    const context = await browser.newContext();
    const tab = await context.newPage();
    await tab.goto(`${origin}/v${version}/`);
    await spa(tab).ready();
    const opened = tab.waitForEvent('popup');
    const authorize = context.waitForEvent('request', { predicate: (request) => request.url().includes('/oauth2/v2.0/authorize') });
    const login = call(tab, 'loginPopup', [API_SCOPE], [OTHER_SCOPE]);
    const popup = await opened;
    // MSAL asks at authorize for both resources, and redeems the code for the first.
    expect(new URL((await authorize).url()).searchParams.get('scope')?.split(' ')).toEqual(
      expect.arrayContaining([API_SCOPE, OTHER_SCOPE]),
    );
    await popup.locator('button:has-text("Sign in")').click();
    const result = await login;
    expect(result.error, result.message).toBeUndefined();
    expect(result.idTokenClaims).toMatchObject({ aud: clientId, NAVident: 'Z990001' });
    expectApiToken(result);
    const other = await spa(tab).silent([OTHER_SCOPE]);
    expect(other.error, other.message).toBeUndefined();
    expect(decodeJwt(other.accessToken)).toMatchObject({ aud: emulator.clientIdFor('dev-gcp:team:other'), azp: clientId });
    await context.close();
  }, 60_000);
});

/** Whether the browser still holds the emulator's sign-on cookie. */
const signedOn = async (context: BrowserContext) => (await context.cookies()).some((c) => c.name.startsWith('emulator_sso_'));

/** Signs in to v5's app by loginPopup in `tab`, clicking the emulator's "Sign in". */
async function signInByPopup(tab: Page): Promise<Outcome> {
  await tab.goto(appPage());
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
    void call(tab, 'logoutRedirect', appPage()).catch(() => {});
    expect(new URL((await logout).url()).searchParams.get('post_logout_redirect_uri')).toBe(appPage());
    expect((await navigated).url()).toMatch(new RegExp(`^${appPage()}\\?state=`));
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
    const result = call(tab, 'logoutPopup', redirects('5').redirectUri);
    const popup = await opened;
    // MSAL closes its popup once it is back on the app's redirect page; on the emulator's signed-out page it would wait.
    await popup.waitForEvent('close', { timeout: 10_000 });
    expect((await result).error).toBeUndefined();
    expect(await signedOn(context)).toBe(false);
    await context.close();
  }, 60_000);
});
