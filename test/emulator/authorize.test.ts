/**
 * The authorize endpoint, login page, single sign-on and logout, over HTTP: what is shown as a
 * page, what is sent back to the client, and what the pages contain.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { startEmulator, type Emulator, type TestEmployee } from '../../packages/entra-emulator/src/index.js';
import { authorizeUrl, cookieFrom, decodeEntities, login, pkce, tokenRequest } from './helpers.js';

const REDIRECT = 'http://localhost:9999/oauth2/callback';
const LOGGED_OUT = 'http://localhost:9999/oauth2/logged-out';
const EMPLOYEES: TestEmployee[] = [
  { navIdent: 'Z990101', name: 'Første Ansatt', email: 'forste@trygdeetaten.no', groups: ['group-a'] },
  { navIdent: 'Z990102', name: 'Andre "<Ansatt>"', email: 'andre@trygdeetaten.no', groups: [] },
];
let emulator: Emulator;
let clientId: string;
let otherClientId: string;

beforeAll(async () => {
  emulator = await startEmulator({ employees: EMPLOYEES, missingTargets: ['dev-gcp:ghost:api'] });
  clientId = emulator.registerClient({
    target: 'dev-gcp:nais:azure-token-generator',
    secrets: ['s'],
    redirectUris: [REDIRECT],
    postLogoutRedirectUris: [LOGGED_OUT],
  });
  otherClientId = emulator.registerClient({ target: 'dev-gcp:team:other', secrets: ['o'], redirectUris: ['http://localhost:9999/other'] });
});

afterAll(async () => {
  await emulator?.close();
});

function params(extra: Record<string, string> = {}): Record<string, string> {
  return {
    client_id: clientId,
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope: `openid profile api://${clientId}/.default`,
    state: 'st-1',
    code_challenge: pkce().challenge,
    code_challenge_method: 'S256',
    ...extra,
  };
}

const get = (query: Record<string, string>, headers: Record<string, string> = {}) =>
  fetch(authorizeUrl(emulator, query), { redirect: 'manual', headers });

const authorizePath = () => authorizeUrl(emulator, {}).toString().split('?')[0]!;

/** The sign-in page for `query`: its form's token and the browser's cookies. */
async function signInPage(query: Record<string, string>): Promise<{ token: string; cookie: string }> {
  const page = await get(query);
  const token = decodeEntities(/name="sign_in_token" value="([^"]+)"/.exec(await page.text())![1]!);
  return {
    token,
    cookie: page.headers
      .getSetCookie()
      .map((c) => c.split(';')[0]!)
      .join('; '),
  };
}

/** Posts the sign-in form of the page for `query`, as the browser that was shown it, with the fields typed. */
async function postSignIn(query: Record<string, string>, fields: Record<string, string>, headers: Record<string, string> = {}) {
  const { token, cookie } = await signInPage(query);
  const body = new URLSearchParams({ ...query, sign_in_token: token, ...fields });
  return fetch(authorizePath(), { method: 'POST', body, redirect: 'manual', headers: { cookie, ...headers } });
}

/** A code redeemed by the client, with its secret. */
const redeem = (code: string, verifier: string) =>
  tokenRequest(emulator, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT,
    code_verifier: verifier,
    client_id: clientId,
    client_secret: 's',
  });

/** The error sent back to the client's redirect URI. */
function redirectedError(res: Response): URLSearchParams {
  expect(res.status).toBe(302);
  const location = new URL(res.headers.get('location')!);
  expect(location.origin + location.pathname).toBe(REDIRECT);
  expect(location.searchParams.get('state')).toBe('st-1');
  expect(location.searchParams.get('code')).toBeNull();
  return location.searchParams;
}

describe('the login page', () => {
  it('is a clean page with the first employee filled in, a list to pick from and exactly one Sign in button', async () => {
    const res = await get(params());
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    const html = await res.text();
    expect(html.match(/<button/g)).toHaveLength(1);
    expect(html).toContain('<button type="submit">Sign in</button>');
    expect(html).toContain('value="Z990101"');
    expect(html).toContain('value="Første Ansatt"');
    expect(html).toContain('value="forste@trygdeetaten.no"');
    expect(html).toContain('value="group-a"');
    // No inline script or style: a strict CSP holds.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    const css = await fetch(`${emulator.baseUrl}${/<link rel="stylesheet" href="([^"]+)"/.exec(html)![1]}`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toContain('text/css');
  });

  it('escapes every value it shows, the employees and the authorize parameters', async () => {
    const html = await (await get(params({ state: '"><script>alert(1)</script>', nonce: "'&<b>" }))).text();
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(html).toContain('Andre &#34;&#60;Ansatt&#62;&#34;');
    expect(html).not.toContain('<Ansatt>');
  });

  it('fills in the employee named by login_hint', async () => {
    const html = await (await get(params({ login_hint: 'Z990102' }))).text();
    expect(html).toContain('value="Z990102"');
    expect(html).toContain('value="andre@trygdeetaten.no"');
  });

  it("fills in the employee whose e-mail is the login_hint, as MSAL sends the account's username", async () => {
    const html = await (await get(params({ login_hint: 'Andre@Trygdeetaten.no' }))).text();
    expect(html).toContain('value="Z990102"');
    expect(html).toContain('value="andre@trygdeetaten.no"');
  });

  it('shows the form again, with the problem, when the typed employee is not valid', async () => {
    const res = await postSignIn(params(), { navIdent: 'not valid!', name: 'X', email: 'x@y', groups: '' });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('role="alert"');
    expect(html).toContain('<button type="submit">Sign in</button>');
  });

  it('signs in a typed employee with the groups typed; a known employee keeps the directory groups', async () => {
    const signInAndRedeem = async (scope: string, employee: Record<string, string>) => {
      const { code, verifier } = await login(emulator, { clientId, redirectUri: REDIRECT, scope, employee });
      return redeem(code, verifier);
    };
    const typed = { navIdent: 'A123456', name: 'Typed Person', email: 'typed@trygdeetaten.no', groups: 'x, y,,x' };
    const apiScope = `openid api://${clientId}/.default`;
    expect((await signInAndRedeem('openid', typed)).status).toBe(200);
    const second = await signInAndRedeem(apiScope, typed);
    expect(decodeJwt(String(second.body.access_token))).toMatchObject({
      NAVident: 'A123456',
      name: 'Typed Person',
      preferred_username: 'typed@trygdeetaten.no',
      groups: ['x', 'y'],
    });
    const known = { navIdent: 'Z990101', name: 'Første Ansatt', email: 'forste@trygdeetaten.no', groups: 'made-up' };
    const third = await signInAndRedeem(apiScope, known);
    expect(decodeJwt(String(third.body.access_token)).groups).toEqual(['group-a']);
  });
});

describe('refusals shown as a page, never redirected', () => {
  it('an unknown client: AADSTS700016', async () => {
    const res = await get(params({ client_id: '00000000-0000-0000-0000-000000000000' }));
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('AADSTS700016');
  });

  it('a missing client_id: AADSTS900144', async () => {
    const { client_id: _omitted, ...rest } = params();
    const res = await get(rest);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('AADSTS900144');
  });

  it('a redirect URI not registered for the client, even one of another client, or a near miss: AADSTS50011', async () => {
    for (const redirect of [
      'https://evil.example/callback',
      'http://localhost:9999/other',
      `${REDIRECT}/`,
      `${REDIRECT}?x=1`,
      'HTTP://LOCALHOST:9999/oauth2/callback',
      '',
    ]) {
      const res = await get(params({ redirect_uri: redirect }));
      expect(res.status, redirect).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      const html = await res.text();
      expect(html).toContain('AADSTS50011');
      expect(html).not.toContain('<script');
    }
  });

  it('but not a loopback redirect URI on another port, as Entra ignores its port (RFC 8252 §7.3): a code goes there', async () => {
    for (const redirect of ['http://localhost:41234/oauth2/callback', 'http://localhost/oauth2/callback']) {
      const res = await get(params({ redirect_uri: redirect }));
      expect(res.status, redirect).toBe(200);
      expect(await res.text()).toContain('<button type="submit">Sign in</button>');
    }
    const signedIn = await login(emulator, { clientId, redirectUri: 'http://localhost:41234/oauth2/callback', scope: 'openid' });
    expect(signedIn.code).toBeTruthy();
  });

  it('a parameter sent twice', async () => {
    const url = authorizeUrl(emulator, params());
    url.searchParams.append('redirect_uri', 'https://evil.example/');
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('AADSTS90100');
  });
});

describe('refusals sent back to the client', () => {
  it('no PKCE from a public client (no credential, a spa redirect), a method but S256 or plain, a challenge of wrong size', async () => {
    const publicClient = emulator.registerClient({ target: 'dev-gcp:team:spa', redirectUris: [REDIRECT] });
    const { code_challenge: _c, code_challenge_method: _cm, ...noChallenge } = params({ client_id: publicClient });
    const required = redirectedError(await get(noChallenge));
    expect(required.get('error')).toBe('invalid_request');
    expect(required.get('error_description')).toMatch(/^AADSTS9002325: .*public client/);
    const spa = emulator.registerClient({
      target: 'dev-gcp:team:spa-with-secret',
      secrets: ['a-secret-value'],
      spaRedirectUris: [REDIRECT],
    });
    const { code_challenge: _c2, code_challenge_method: _cm2, ...spaNoChallenge } = params({ client_id: spa });
    expect(redirectedError(await get(spaNoChallenge)).get('error_description')).toMatch(/^AADSTS9002325: .*a spa redirect URI/);
    const other = redirectedError(await get(params({ code_challenge_method: 'S512' })));
    expect(other.get('error_description')).toMatch(/^AADSTS9002325: .*S256 or plain/);
    expect(redirectedError(await get(params({ code_challenge: 'too-short' }))).get('error_description')).toMatch(/^AADSTS501491: /);
    const tooShortPlain = params({ code_challenge: 'a'.repeat(42), code_challenge_method: 'plain' });
    expect(redirectedError(await get(tooShortPlain)).get('error_description')).toMatch(/^AADSTS501491: /);
  });

  it("Entra's response types but code, refused in the fragment as for an app without the implicit grant; others; none", async () => {
    const refusals = { id_token: 700054, 'code id_token': 700054, 'id_token token': 700051, token: 700051 };
    for (const [responseType, code] of Object.entries(refusals)) {
      const res = await get(params({ response_type: responseType }));
      expect(res.status).toBe(302);
      const location = new URL(res.headers.get('location')!);
      expect(location.search).toBe('');
      const fragment = new URLSearchParams(location.hash.slice(1));
      expect(fragment.get('error')).toBe('unsupported_response_type');
      expect(fragment.get('state')).toBe('st-1');
      expect(fragment.get('error_description')).toMatch(new RegExp(`^AADSTS${code}: response_type '`));
    }
    const unknown = redirectedError(await get(params({ response_type: 'code banana', response_mode: 'query' })));
    expect(unknown.get('error')).toBe('unsupported_response_type');
    expect(unknown.get('error_description')).toMatch(/^AADSTS70005: .+\r\nTrace ID: /s);
    const { response_type: _r, ...none } = params();
    expect(redirectedError(await get(none)).get('error_description')).toMatch(/^AADSTS900144: /);
  });

  it('bad scopes: none, a resource that does not exist, among others too; several resources are for consent, not refused', async () => {
    expect(redirectedError(await get(params({ scope: '' }))).get('error_description')).toMatch(/^AADSTS900144: /);
    // Entra consents to several resources at once (MSAL's extraScopesToConsent), and gives a token for one at a time.
    const two = await get(params({ scope: 'openid api://dev-gcp.a.b/.default api://dev-gcp.c.d/.default User.Read' }));
    expect(two.status).toBe(200);
    expect(await two.text()).toContain('<button type="submit">Sign in</button>');
    const ghostAmong = redirectedError(await get(params({ scope: 'openid api://dev-gcp.a.b/.default api://dev-gcp.ghost.api/.default' })));
    expect(ghostAmong.get('error_description')).toMatch(/^AADSTS500011: /);
    const ghost = redirectedError(await get(params({ scope: 'openid api://dev-gcp.ghost.api/.default' })));
    expect(ghost.get('error')).toBe('invalid_resource');
    expect(ghost.get('error_description')).toMatch(/^AADSTS500011: /);
  });

  it('an unknown response_mode: AADSTS70007', async () => {
    expect(redirectedError(await get(params({ response_mode: 'web_message' }))).get('error_description')).toMatch(/^AADSTS70007: /);
  });

  it('prompt=none with nobody signed in: login_required (AADSTS50058)', async () => {
    const none = redirectedError(await get(params({ prompt: 'none' })));
    expect(none.get('error')).toBe('login_required');
    expect(none.get('error_description')).toMatch(/^AADSTS50058: /);
  });
});

describe('response modes', () => {
  it('form_post: a page that posts code and state to the redirect URI with a script served from a path', async () => {
    const { verifier, challenge } = pkce();
    const query = params({ response_mode: 'form_post', code_challenge: challenge });
    const res = await postSignIn(query, { navIdent: 'Z990101', name: 'Første Ansatt', email: 'forste@trygdeetaten.no' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await res.text();
    expect(html).toContain(`<form id="form-post" method="post" action="${REDIRECT}">`);
    expect(html).toContain('<input type="hidden" name="state" value="st-1">');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/);
    const code = decodeEntities(/name="code" value="([^"]+)"/.exec(html)![1]!);
    const script = await fetch(`${emulator.baseUrl}${/<script src="([^"]+)"/.exec(html)![1]}`);
    expect(script.headers.get('content-type')).toContain('javascript');
    expect(await script.text()).toContain('submit()');
    expect((await redeem(code, verifier)).status).toBe(200);
  });

  it('fragment: code and state after #', async () => {
    const res = await postSignIn(params({ response_mode: 'fragment' }), {
      navIdent: 'Z990101',
      name: 'Første Ansatt',
      email: 'forste@trygdeetaten.no',
    });
    const location = new URL(res.headers.get('location')!);
    expect(location.search).toBe('');
    const fragment = new URLSearchParams(location.hash.slice(1));
    expect(fragment.get('code')).toBeTruthy();
    expect(fragment.get('state')).toBe('st-1');
  });
});

describe('single sign-on and logout', () => {
  it('a second authorize goes straight back with a code; prompt=login and prompt=select_account show the page', async () => {
    const first = await login(emulator, { clientId, redirectUri: REDIRECT, scope: 'openid' });
    expect(first.cookie).toMatch(/^emulator_sso_/);
    const again = await get(params({ nonce: 'n2' }), { cookie: first.cookie });
    expect(again.status).toBe(302);
    const location = new URL(again.headers.get('location')!);
    expect(location.searchParams.get('code')).toBeTruthy();
    expect(location.searchParams.get('state')).toBe('st-1');
    const silent = await get(params({ prompt: 'none' }), { cookie: first.cookie });
    expect(new URL(silent.headers.get('location')!).searchParams.get('code')).toBeTruthy();
    for (const prompt of ['login', 'select_account']) {
      const forced = await get(params({ prompt }), { cookie: first.cookie });
      expect(forced.status).toBe(200);
      expect(await forced.text()).toContain('Sign in');
    }
  });

  it('sets the SSO cookie HttpOnly and SameSite=Lax', async () => {
    const res = await postSignIn(params(), { navIdent: 'Z990101', name: 'Første Ansatt', email: 'forste@trygdeetaten.no' });
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('emulator_sso_'))!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookieFrom(res)).toBeTruthy();
  });

  it('logout ends the session and redirects to a post-logout URI registered for the client, with state', async () => {
    const signedIn = await login(emulator, { clientId, redirectUri: REDIRECT, scope: 'openid' });
    const logout = new URL(`${emulator.baseUrl}/${emulator.tenantId}/oauth2/v2.0/logout`);
    logout.searchParams.set('post_logout_redirect_uri', LOGGED_OUT);
    logout.searchParams.set('client_id', clientId);
    logout.searchParams.set('state', 'bye');
    const res = await fetch(logout, { redirect: 'manual', headers: { cookie: signedIn.cookie } });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`${LOGGED_OUT}?state=bye`);
    expect(res.headers.getSetCookie().some((c) => c.startsWith('emulator_sso_') && /Expires=Thu, 01 Jan 1970/i.test(c))).toBe(true);
    // The old cookie no longer signs anyone in.
    const after = await get(params(), { cookie: signedIn.cookie });
    expect(after.status).toBe(200);
    expect(await after.text()).toContain('Sign in');
  });

  it('logout finds the client from id_token_hint too', async () => {
    const { code, verifier } = await login(emulator, { clientId, redirectUri: REDIRECT, scope: 'openid' });
    const tokens = await redeem(code, verifier);
    const logout = new URL(`${emulator.baseUrl}/${emulator.tenantId}/oauth2/v2.0/logout`);
    logout.searchParams.set('post_logout_redirect_uri', LOGGED_OUT);
    logout.searchParams.set('id_token_hint', String(tokens.body.id_token));
    const res = await fetch(logout, { redirect: 'manual' });
    expect(res.headers.get('location')).toBe(LOGGED_OUT);
  });

  it('logout shows a signed-out page for a post-logout URI that is not registered for the client', async () => {
    for (const [uri, client] of [
      ['https://evil.example/', clientId],
      [LOGGED_OUT, otherClientId],
      [LOGGED_OUT, ''],
    ] as const) {
      const logout = new URL(`${emulator.baseUrl}/${emulator.tenantId}/oauth2/v2.0/logout`);
      logout.searchParams.set('post_logout_redirect_uri', uri);
      if (client) logout.searchParams.set('client_id', client);
      const res = await fetch(logout, { redirect: 'manual' });
      expect(res.status, `${uri} ${client}`).toBe(200);
      expect(await res.text()).toContain('You signed out');
    }
  });
});

describe('HEAD, as a link checker or a chat preview sends it', () => {
  const head = (url: URL | string, cookie?: string) =>
    fetch(url, { method: 'HEAD', redirect: 'manual', headers: cookie ? { cookie } : {} });

  it('is refused with 405 on the pages with effects: no code issued, no sign-on ended, no cookie, no app registered', async () => {
    const signedIn = await login(emulator, { clientId, redirectUri: REDIRECT, scope: 'openid' });
    const logout = `${emulator.baseUrl}/${emulator.tenantId}/oauth2/v2.0/logout`;
    const env = `${emulator.baseUrl}/apps/dev-gcp:team:previewed/env`;
    for (const [url, allow] of [
      [authorizeUrl(emulator, params()), 'GET, POST'],
      [logout, 'GET'],
      [`${emulator.baseUrl}/devicelogin`, 'GET, POST'],
      [env, 'GET'],
    ] as const) {
      const res = await head(url, signedIn.cookie);
      expect(res.status, String(url)).toBe(405);
      expect(res.headers.get('allow'), String(url)).toBe(allow);
      expect(res.headers.get('location'), String(url)).toBeNull();
      expect(res.headers.getSetCookie(), String(url)).toEqual([]);
    }
    // The sign-on still stands, and the app whose environment was only looked at does not exist.
    expect((await get(params(), { cookie: signedIn.cookie })).status).toBe(302);
    const apps = (await (await fetch(`${emulator.baseUrl}/apps`)).json()) as { apps: string[] };
    expect(apps.apps).not.toContain('dev-gcp:team:previewed');
  });

  it('is answered on the read-only routes: discovery, keys', async () => {
    expect((await head(emulator.wellKnownUrl)).status).toBe(200);
    expect((await head(`${emulator.baseUrl}/${emulator.tenantId}/discovery/v2.0/keys`)).status).toBe(200);
  });
});

describe('login CSRF: the sign-in form is bound to its page and browser', () => {
  const kari = { navIdent: 'Z990101', name: 'Første Ansatt', email: 'forste@trygdeetaten.no' };
  const expectRefused = async (res: Response) => {
    expect(res.status).toBe(403);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.getSetCookie().filter((c) => c.startsWith('emulator_sso_'))).toEqual([]);
    expect(await res.text()).toContain('AADSTS9002313');
  };

  it(
    'refuses a post without the page token, with another page token, ' + 'from another browser, or from another origin, and sets no cookie',
    async () => {
      const page = params();
      const { token, cookie } = await signInPage(page);
      const post = (fields: Record<string, string>, headers: Record<string, string>, query = page) =>
        fetch(authorizePath(), {
          method: 'POST',
          body: new URLSearchParams({ ...query, ...kari, ...fields }),
          redirect: 'manual',
          headers,
        });
      // A cross-site page auto-submitting the form: no token, no cookie (SameSite), another Origin, or a null one.
      await expectRefused(await post({ sign_in_token: token }, { cookie, origin: 'null' }));
      await expectRefused(await post({}, { origin: 'https://attacker.example' }));
      await expectRefused(await post({}, {}));
      await expectRefused(await post({}, { cookie }));
      await expectRefused(await post({ sign_in_token: token }, { cookie, origin: 'https://attacker.example' }));
      await expectRefused(await post({ sign_in_token: token }, { cookie, 'sec-fetch-site': 'cross-site' }));
      // A token from the attacker's own visit does not fit the victim's browser.
      const other = await signInPage(page);
      await expectRefused(await post({ sign_in_token: other.token }, { cookie }));
      // Nor a token of one page for another request (another state or redirect).
      await expectRefused(await post({ sign_in_token: token }, { cookie }, { ...page, state: 'st-2' }));
      await expectRefused(await post({ sign_in_token: `${token}x` }, { cookie }));
      // The page's own token, from its own browser and origin, signs in.
      const signedIn = await post({ sign_in_token: token }, { cookie, origin: new URL(emulator.baseUrl).origin });
      expect(signedIn.status).toBe(302);
      expect(cookieFrom(signedIn)).toBeTruthy();
    },
  );
});

describe('error_uri', () => {
  it('points to a page of the emulator for the code', async () => {
    const res = await fetch(`${emulator.baseUrl}/error?code=700016`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('AADSTS700016');
  });
});

describe('a rate limit on sign-in requests', () => {
  it('answers 429 with Retry-After once an address has made its sign-in requests of the minute, GET and POST alike', async () => {
    const limited = await startEmulator({ signInRateLimit: 3 });
    try {
      const id = limited.registerClient({ target: 'dev-gcp:team:limited', secrets: ['s'], redirectUris: [REDIRECT] });
      const query = { client_id: id, redirect_uri: REDIRECT, response_type: 'code', scope: 'openid' };
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await fetch(authorizeUrl(limited, query), { redirect: 'manual' })).status);
      const post = await fetch(authorizeUrl(limited, {}).toString().split('?')[0]!, {
        method: 'POST',
        body: new URLSearchParams(query),
        redirect: 'manual',
      });
      expect(statuses).toEqual([200, 200, 200]);
      expect(post.status).toBe(429);
      expect(Number(post.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await post.text()).toContain('AADSTS50196');
      expect(post.headers.getSetCookie()).toEqual([]);
    } finally {
      await limited.close();
    }
  });
});
