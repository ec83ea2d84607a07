/**
 * Single-page and native apps against the emulator over real HTTP: redirect types from the directory
 * file, public clients redeeming codes and refresh tokens with PKCE and no credential (confidential
 * ones still refused), a single-page app's 24-hour refresh tokens, CORS as Entra answers it, and the
 * claims and answers Entra gives (email, groups, groups overage, session_state).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeJwt } from 'jose';
import { startEmulator, type Emulator } from '../../packages/entra-emulator/src/index.js';
import { authorizeUrl, expectEntraError, login, pkce, tokenRequest, verifyToken } from './helpers.js';

const SPA = 'dev-gcp:team:frontend';
const DESKTOP = 'dev-gcp:team:desktop';
const WEB = 'dev-gcp:team:web';
const SPA_ORIGIN = 'http://localhost:5173';
const SPA_REDIRECT = `${SPA_ORIGIN}/`;
const NATIVE_REDIRECT = 'http://localhost/desktop';
const WEB_REDIRECT = 'http://localhost:8080/oauth2/callback';
/** The web app has a single-page part too: its web redirect's codes still need its secret. */
const HYBRID_SPA_REDIRECT = 'http://localhost:8081/';

let emulator: Emulator;
let dir: string;
let spa: string;
let web: string;
let desktop: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emulator-public-'));
  const file = join(dir, 'emulator.yaml');
  await writeFile(
    file,
    `clients:
  - target: ${SPA}
    spaRedirectUris: [${SPA_REDIRECT}]
  - target: ${DESKTOP}
    nativeRedirectUris: [${NATIVE_REDIRECT}]
  - target: ${WEB}
    secrets: [web-app-secret]
    replyUrls: [${WEB_REDIRECT}]
    spaRedirectUris: [${HYBRID_SPA_REDIRECT}]
  - target: dev-gcp:team:api
employees:
  - { navIdent: Z990001, name: Kari Nordmann, email: kari.nordmann@trygdeetaten.no }
  - { navIdent: Z990002, name: Ola Nordmann, email: ola.nordmann@trygdeetaten.no, groups: [group-a] }
`,
  );
  emulator = await startEmulator({ directoryFile: file });
  spa = emulator.clientIdFor(SPA);
  web = emulator.clientIdFor(WEB);
  desktop = emulator.clientIdFor(DESKTOP);
});

afterAll(async () => {
  await emulator?.close();
  await rm(dir, { recursive: true, force: true });
});

afterEach(() => {
  vi.restoreAllMocks();
});

const API_SCOPE = 'api://dev-gcp.team.api/.default';

async function redeem(clientId: string, redirectUri: string, scope: string, extra: Record<string, string> = {}) {
  const signedIn = await login(emulator, { clientId, redirectUri, scope });
  return tokenRequest(
    emulator,
    {
      grant_type: 'authorization_code',
      client_id: clientId,
      code: signedIn.code,
      redirect_uri: redirectUri,
      code_verifier: signedIn.verifier,
      ...extra,
    },
    { origin: new URL(redirectUri).origin },
  );
}

describe('public clients: single-page and native apps', () => {
  it('a single-page app redeems its code with PKCE and no credential; its refresh token too, for 24 hours from the sign-in', async () => {
    const redeemed = await redeem(spa, SPA_REDIRECT, `openid offline_access ${API_SCOPE}`);
    expect(redeemed.status).toBe(200);
    const { payload } = await verifyToken(emulator, redeemed.body.access_token, emulator.clientIdFor('dev-gcp:team:api'));
    expect(payload).toMatchObject({ azp: spa, azpacr: '0', scp: 'defaultaccess', NAVident: 'Z990001' });
    expect(redeemed.body.refresh_token_expires_in).toBeGreaterThan(86_390);
    expect(redeemed.body.refresh_token_expires_in).toBeLessThanOrEqual(86_400);

    const start = Date.now();
    const refreshParams = (token: unknown) => ({
      grant_type: 'refresh_token',
      client_id: spa,
      refresh_token: String(token),
      scope: API_SCOPE,
    });
    const refresh = (token: unknown) => tokenRequest(emulator, refreshParams(token), { origin: SPA_ORIGIN });
    // A single-page app's refresh token is redeemed from the browser, with its Origin, as Entra requires.
    expectEntraError(await tokenRequest(emulator, refreshParams(redeemed.body.refresh_token)), 9002327, 'invalid_request');
    vi.spyOn(Date, 'now').mockImplementation(() => start + 23 * 3_600_000);
    const refreshed = await refresh(redeemed.body.refresh_token);
    expect(refreshed.status).toBe(200);
    // The new refresh token does not start a new day: it ends with the sign-in's.
    expect(refreshed.body.refresh_token_expires_in).toBeLessThanOrEqual(3_600);
    vi.spyOn(Date, 'now').mockImplementation(() => start + 24 * 3_600_000 + 1_000);
    expectEntraError(await refresh(refreshed.body.refresh_token), 9002313, 'invalid_grant');
    expectEntraError(await refresh(redeemed.body.refresh_token), 9002313, 'invalid_grant');
  });

  it('a native app redeems its code without a credential, and its refresh token has no 24-hour end', async () => {
    const redeemed = await redeem(desktop, NATIVE_REDIRECT, 'openid offline_access');
    expect(redeemed.status).toBe(200);
    expect(redeemed.body.refresh_token_expires_in).toBeUndefined();
    expect(decodeJwt(String(redeemed.body.access_token)).azpacr).toBe('0');
    const refreshed = await tokenRequest(emulator, {
      grant_type: 'refresh_token',
      client_id: desktop,
      refresh_token: String(redeemed.body.refresh_token),
    });
    expect(refreshed.status).toBe(200);
  });

  it('refuses a public client without PKCE, a spa code from a server, a secret from a client without one, app tokens', async () => {
    const url = authorizeUrl(emulator, { client_id: spa, redirect_uri: SPA_REDIRECT, response_type: 'code', scope: 'openid', state: 's' });
    const refused = new URL((await fetch(url, { redirect: 'manual' })).headers.get('location')!);
    expect(refused.searchParams.get('error_description')).toMatch(/^AADSTS9002325: /);

    const signedIn = await login(emulator, { clientId: spa, redirectUri: SPA_REDIRECT, scope: 'openid' });
    const { code, verifier } = signedIn;
    const fromServer = { grant_type: 'authorization_code', client_id: spa, code, redirect_uri: SPA_REDIRECT, code_verifier: verifier };
    // Without an Origin the request is not a browser's: a single-page app's code is redeemed cross-origin only.
    expectEntraError(await tokenRequest(emulator, fromServer), 9002327, 'invalid_request');
    const withSecret = await redeem(spa, SPA_REDIRECT, 'openid', { client_secret: 'made-up-secret' });
    expectEntraError(withSecret, 700025, 'invalid_client');
    const appToken = await tokenRequest(emulator, { grant_type: 'client_credentials', client_id: spa, scope: API_SCOPE });
    expectEntraError(appToken, 7000218, 'invalid_client');
  });
});

describe('confidential clients', () => {
  it('still need their credential for a code sent to a web redirect, even with a spa redirect beside it; with it they redeem', async () => {
    expectEntraError(await redeem(web, WEB_REDIRECT, 'openid offline_access'), 7000218, 'invalid_client');
    const redeemed = await redeem(web, WEB_REDIRECT, 'openid offline_access', { client_secret: 'web-app-secret' });
    expect(redeemed.status).toBe(200);
    expect(decodeJwt(String(redeemed.body.access_token)).azpacr).toBe('1');
    // Its refresh token was given to a confidential client: refreshing needs the secret too.
    const refresh = { grant_type: 'refresh_token', client_id: web, refresh_token: String(redeemed.body.refresh_token) };
    expectEntraError(await tokenRequest(emulator, refresh), 7000218, 'invalid_client');
    expect((await tokenRequest(emulator, { ...refresh, client_secret: 'web-app-secret' })).status).toBe(200);
    // Its single-page part redeems from the browser without the secret.
    expect((await redeem(web, HYBRID_SPA_REDIRECT, 'openid')).status).toBe(200);
  });
});

describe('CORS as Entra answers it', () => {
  const tenantPath = () => `${emulator.baseUrl}/${emulator.tenantId}`;

  it('discovery (v2.0 and v1, the tenant and common) and keys (v2.0 and v1) are open to every origin', async () => {
    for (const path of [
      `/${emulator.tenantId}/v2.0/.well-known/openid-configuration`,
      `/${emulator.tenantId}/.well-known/openid-configuration`,
      '/common/v2.0/.well-known/openid-configuration',
      '/organizations/v2.0/.well-known/openid-configuration',
      `/${emulator.tenantId}/discovery/v2.0/keys`,
      `/${emulator.tenantId}/discovery/keys`,
      '/common/discovery/v2.0/keys',
    ]) {
      const res = await fetch(`${emulator.baseUrl}${path}`, { headers: { origin: 'https://anywhere.example' } });
      expect(res.status, path).toBe(200);
      expect(res.headers.get('access-control-allow-origin'), path).toBe('*');
    }
  });

  it("the token endpoint answers the preflight of a registered spa redirect's origin, and no other", async () => {
    const preflight = (origin: string) =>
      fetch(`${tenantPath()}/oauth2/v2.0/token`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-anchormailbox' },
      });
    const allowed = await preflight(SPA_ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(SPA_ORIGIN);
    expect(allowed.headers.get('access-control-allow-methods')).toBe('POST, OPTIONS');
    expect(allowed.headers.get('access-control-allow-headers')).toBe('content-type,x-anchormailbox');
    expect(allowed.headers.get('vary')).toBe('Origin');
    // A web redirect's origin is not a single-page app's.
    for (const origin of ['https://evil.example', new URL(WEB_REDIRECT).origin]) {
      const refused = await preflight(origin);
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
      expect(refused.headers.get('access-control-allow-methods')).toBeNull();
    }
  });

  it('the token request carries the allowing header to the spa origin, on errors too, and none to another origin', async () => {
    const redeemed = await redeem(spa, SPA_REDIRECT, 'openid');
    expect(redeemed.status).toBe(200);
    const post = (origin: string) =>
      fetch(`${tenantPath()}/oauth2/v2.0/token`, {
        method: 'POST',
        headers: { origin },
        body: new URLSearchParams({ grant_type: 'refresh_token', client_id: spa, refresh_token: 'not-a-token' }),
      });
    const error = await post(SPA_ORIGIN);
    expect(error.status).toBe(400);
    expect(error.headers.get('access-control-allow-origin')).toBe(SPA_ORIGIN);
    expect((await post('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('the authorize endpoint is a page: no CORS', async () => {
    const url = `${tenantPath()}/oauth2/v2.0/authorize?client_id=${spa}&redirect_uri=${encodeURIComponent(SPA_REDIRECT)}`;
    const res = await fetch(url, { headers: { origin: SPA_ORIGIN }, redirect: 'manual' });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(url, { method: 'OPTIONS', headers: { origin: SPA_ORIGIN, 'access-control-request-method': 'GET' } });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe("claims and answers as Entra's", () => {
  it('email in the ID token only when the email scope is asked; session_state in the answer, the sid of the ID token', async () => {
    const withEmail = await login(emulator, { clientId: spa, redirectUri: SPA_REDIRECT, scope: 'openid profile email' });
    const withEmailTokens = await tokenRequest(
      emulator,
      {
        grant_type: 'authorization_code',
        client_id: spa,
        code: withEmail.code,
        redirect_uri: SPA_REDIRECT,
        code_verifier: withEmail.verifier,
      },
      { origin: SPA_ORIGIN },
    );
    expect(decodeJwt(String(withEmailTokens.body.id_token)).email).toBe('kari.nordmann@trygdeetaten.no');
    const without = await redeem(spa, SPA_REDIRECT, 'openid profile');
    expect(decodeJwt(String(without.body.id_token)).email).toBeUndefined();

    const url = authorizeUrl(emulator, {
      client_id: spa,
      redirect_uri: SPA_REDIRECT,
      response_type: 'code',
      scope: 'openid',
      code_challenge: pkce().challenge,
      code_challenge_method: 'S256',
    });
    // Signed in already (the single sign-on cookie): the answer comes at once.
    const answer = new URL((await fetch(url, { redirect: 'manual', headers: { cookie: withEmail.cookie } })).headers.get('location')!);
    const sessionState = answer.searchParams.get('session_state');
    expect(sessionState).toMatch(/^[0-9a-f-]{36}$/);
    expect(decodeJwt(String(withEmailTokens.body.id_token)).sid).toBe(sessionState);
  });

  it('no groups claim for an employee without groups; the groups for one with some; the overage form past 200', async () => {
    const none = decodeJwt(await emulator.userToken({ employee: 'Z990001', target: SPA }));
    expect(none).not.toHaveProperty('groups');
    expect(decodeJwt(await emulator.userToken({ employee: 'Z990002', target: SPA })).groups).toEqual(['group-a']);
    const groups = (count: number) => Array.from({ length: count }, (_, i) => `group-${i}`);
    const employee = (count: number) => ({
      navIdent: 'Z990009',
      name: 'Mange Grupper',
      email: 'mange@trygdeetaten.no',
      groups: groups(count),
    });
    expect(decodeJwt(await emulator.userToken({ employee: employee(200), target: SPA })).groups).toEqual(groups(200));
    const overage = decodeJwt(await emulator.userToken({ employee: employee(201), target: SPA }));
    expect(overage).not.toHaveProperty('groups');
    expect(overage._claim_names).toEqual({ groups: 'src1' });
    expect(overage._claim_sources).toEqual({
      src1: { endpoint: `https://graph.windows.net/${emulator.tenantId}/users/${String(overage.oid)}/getMemberObjects` },
    });
  });
});
