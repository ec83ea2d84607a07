import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startService, type Service } from '../../src/main.js';
import { cookieNames } from '../../src/paths.js';
import { parseKey, Sealer } from '../../src/session/index.js';
import { login, startLogin, startLoginAt, type PendingLogin } from '../helpers/http-login.js';
import { freePort } from '../helpers/ports.js';
import { memoryLogger, startStack, type Stack } from '../helpers/stack.js';

const key = randomBytes(32).toString('base64');
const sealer = new Sealer(parseKey(key));
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ env: { SESSION_ENCRYPTION_KEY: key } });
});

afterAll(async () => {
  await stack?.close();
});

interface LoginState {
  state: string;
  nonce: string;
  verifier: string;
  returnTo: string;
}

const names = () => cookieNames(stack.url);

function stateOf(pending: PendingLogin): LoginState {
  const sealed = decodeURIComponent(pending.loginCookie.slice(pending.loginCookie.indexOf('=') + 1));
  return JSON.parse(sealer.open(sealed, 'login-state')!) as LoginState;
}

function forged(state: LoginState): string {
  return `${names().login(state.state)}=${encodeURIComponent(sealer.seal(JSON.stringify(state), 'login-state'))}`;
}

async function callback(url: string, cookie?: string) {
  const res = await fetch(url, { headers: { accept: 'text/html', ...(cookie ? { cookie } : {}) }, redirect: 'manual' });
  const session = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .find((c) => c.startsWith(`${names().session}=`) && c !== `${names().session}=`);
  return { status: res.status, body: await res.text(), sessionSet: session !== undefined, session };
}

/** The page's first button: its words and where it leads. */
function firstButton(body: string): { label: string; href: string } | undefined {
  const match = /<a class="button" href="([^"]+)">([^<]+)<\/a>/.exec(body);
  return match ? { href: match[1]!.replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n))), label: match[2]! } : undefined;
}

const ALREADY_COMPLETED = /This login was already completed/;

function withParam(url: string, name: string, value: string | undefined): string {
  const u = new URL(url);
  if (value === undefined) u.searchParams.delete(name);
  else u.searchParams.set(name, value);
  return u.toString();
}

describe('a login loop', () => {
  /** Starts a login as a browser that keeps its cookies: the loop guard's cookie travels with each start. */
  async function startAs(jar: Map<string, string>, userAgent = 'same-browser/1.0') {
    const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    const res = await fetch(`${stack.url}/oauth2/login?redirect=/api/obo`, {
      redirect: 'manual',
      headers: { 'user-agent': userAgent, accept: 'text/html', ...(cookie ? { cookie } : {}) },
    });
    for (const set of res.headers.getSetCookie()) {
      const [pair] = set.split(';');
      const [name, value] = [pair!.slice(0, pair!.indexOf('=')), pair!.slice(pair!.indexOf('=') + 1)];
      jar.set(name, value);
    }
    return res;
  }

  it('is stopped with a page that explains it after a handful of logins within seconds', async () => {
    const jar = new Map<string, string>();
    const statuses: number[] = [];
    let last = '';
    for (let i = 0; i < 7; i++) {
      const res = await startAs(jar);
      statuses.push(res.status);
      last = await res.text();
      if (res.status === 429) expect(res.headers.get('retry-after')).toBe('15');
    }
    expect(statuses.slice(0, 5)).toEqual([302, 302, 302, 302, 302]);
    expect(statuses.slice(5)).toEqual([429, 429]);
    expect(last).toMatch(/started several logins within a few seconds/);
    expect(last).toMatch(/cookies/);
  });

  it('does not lock out colleagues behind the same address with the same browser', async () => {
    const looping = new Map<string, string>();
    for (let i = 0; i < 7; i++) await startAs(looping);
    expect((await startAs(looping)).status).toBe(429);
    // Five colleagues, one address, one browser version, each logging in while the loop goes on.
    for (let colleague = 0; colleague < 5; colleague++) {
      expect((await startAs(new Map())).status).toBe(302);
      expect((await startAs(looping)).status).toBe(429);
    }
  });

  it('forgets a loop once its window has passed', async () => {
    const { LoginLoopGuard } = await import('../../src/generator/http/pages/login.js');
    const guard = new LoginLoopGuard(5, 15_000);
    let cookie: string | undefined;
    for (let i = 0; i < 6; i++) cookie = guard.record(cookie, 1_000_000 + i).cookie;
    expect(guard.record(cookie, 1_000_010).allowed).toBe(false);
    expect(guard.record(cookie, 1_000_010 + 15_000).allowed).toBe(true);
    // A cookie the browser made up is read for at most a handful of well-formed starts.
    const forged = guard.record(`${'zzzzzzzzzzz.'.repeat(10_000)}`, 2_000_000);
    expect(forged.allowed).toBe(true);
    expect(forged.cookie.length).toBeLessThan(100);
  });
});

describe('the login callback refuses', () => {
  it('a normal login succeeds (the baseline the attacks change one thing of)', async () => {
    const pending = await startLogin(stack.url);
    const result = await callback(pending.callbackUrl, pending.loginCookie);
    expect(result.status).toBe(302);
    expect(result.sessionSet).toBe(true);
  });

  it('a missing state', async () => {
    const pending = await startLogin(stack.url);
    const result = await callback(withParam(pending.callbackUrl, 'state', undefined), pending.loginCookie);
    expect(result.status).toBe(400);
    expect(result.sessionSet).toBe(false);
    expect(result.body).toMatch(/does not belong to the login this browser started/);
  });

  it('a wrong state', async () => {
    const pending = await startLogin(stack.url);
    const result = await callback(withParam(pending.callbackUrl, 'state', 'attacker-state'), pending.loginCookie);
    expect(result.status).toBe(400);
    expect(result.sessionSet).toBe(false);
  });

  it('a callback without the login cookie (login started elsewhere)', async () => {
    const pending = await startLogin(stack.url);
    const result = await callback(pending.callbackUrl);
    expect(result.status).toBe(400);
    expect(result.body).toMatch(/expired, was already completed, or was started in another browser/);
  });

  it('a tampered login cookie', async () => {
    const pending = await startLogin(stack.url);
    const result = await callback(pending.callbackUrl, `${pending.loginCookie.slice(0, -4)}AAAA`);
    expect(result.status).toBe(400);
    expect(result.sessionSet).toBe(false);
  });

  it('a replayed callback: the code is used up, and its own browser hears that its login was completed', async () => {
    const pending = await startLogin(stack.url, '/api/obo?aud=dev-gcp:team:app');
    expect((await callback(pending.callbackUrl, pending.loginCookie)).status).toBe(302);
    // The same browser's second request, sent while the first was under way: its login cookie, the code spent.
    const replay = await callback(pending.callbackUrl, pending.loginCookie);
    expect(replay.status).toBe(409);
    expect(replay.sessionSet).toBe(false);
    expect(replay.body).toMatch(ALREADY_COMPLETED);
    expect(replay.body).not.toMatch(/did not pass the checks/);
    expect(firstButton(replay.body)).toEqual({ label: 'Continue to the page you wanted', href: '/api/obo?aud=dev-gcp:team:app' });
  });

  it('a reload of a completed callback: said plainly to the browser whose session it made, refused as ever to any other', async () => {
    const pending = await startLogin(stack.url, '/oauth2/session');
    const completed = await callback(pending.callbackUrl, pending.loginCookie);
    expect(completed.status).toBe(302);
    // The browser's reload: its login cookie was cleared, its new session cookie comes along.
    const reload = await callback(pending.callbackUrl, completed.session);
    expect([reload.status, reload.sessionSet]).toEqual([409, false]);
    expect(reload.body).toMatch(ALREADY_COMPLETED);
    expect(firstButton(reload.body)).toEqual({ label: 'Continue to the page you wanted', href: '/oauth2/session' });
    // The same URL in another browser: without a session, with a session of its own, with a login of its own.
    const other = await login(stack.url);
    const elsewhere = await startLogin(stack.url);
    for (const cookie of [undefined, other, elsewhere.loginCookie, `${other}; ${elsewhere.loginCookie}`]) {
      const refused = await callback(pending.callbackUrl, cookie);
      expect([refused.status, refused.sessionSet]).toEqual([400, false]);
      expect(refused.body).not.toMatch(ALREADY_COMPLETED);
    }
    // A state never completed, with the session of a login that was.
    const forgedState = await callback(withParam(pending.callbackUrl, 'state', 'attacker-state'), completed.session);
    expect([forgedState.status, forgedState.sessionSet]).toEqual([400, false]);
    expect(forgedState.body).toMatch(/expired, was already completed, or was started in another browser/);
  });

  it('a wrong nonce', async () => {
    const pending = await startLogin(stack.url);
    const result = await callback(pending.callbackUrl, forged({ ...stateOf(pending), nonce: 'not-the-nonce' }));
    expect(result.status).toBe(400);
    expect(result.sessionSet).toBe(false);
  });

  it('a wrong PKCE verifier', async () => {
    const pending = await startLogin(stack.url);
    const result = await callback(pending.callbackUrl, forged({ ...stateOf(pending), verifier: 'x'.repeat(43) }));
    expect(result.status).toBe(400);
    expect(result.sessionSet).toBe(false);
  });

  it('a code that was issued for another login', async () => {
    const a = await startLogin(stack.url);
    const b = await startLogin(stack.url);
    const mixed = withParam(b.callbackUrl, 'code', new URL(a.callbackUrl).searchParams.get('code') ?? '');
    const result = await callback(mixed, b.loginCookie);
    expect(result.status).toBe(400);
    expect(result.sessionSet).toBe(false);
  });

  it('an ID token from another tenant than the one configured', async () => {
    const port = await freePort();
    const env = { PORT: String(port), HOST: '127.0.0.1', SESSION_ENCRYPTION_KEY: key };
    stack.emulator!.registerClient({
      target: 'dev-gcp:nais:azure-token-generator',
      redirectUris: [`http://localhost:${port}/oauth2/callback`],
    });
    const other: Service = await startService(
      { generator: loadConfig(env).generator, identity: { ...stack.identity, tenantId: '00000000-0000-0000-0000-000000000000' } },
      env,
      { logger: memoryLogger().logger },
    );
    try {
      const pending = await startLogin(other.url);
      const result = await callback(pending.callbackUrl, pending.loginCookie);
      expect(result.status).toBe(400);
      expect(result.sessionSet).toBe(false);
    } finally {
      await other.close();
    }
  });

  it('an error from the identity provider becomes a page that says what to do, with a correlation id', async () => {
    const pending = await startLogin(stack.url);
    const state = new URL(pending.callbackUrl).searchParams.get('state')!;
    const refused = `${stack.url}/oauth2/callback?error=access_denied&error_description=AADSTS50105%3A+not+assigned&state=${state}`;
    const result = await callback(refused, pending.loginCookie);
    expect(result.status).toBe(403);
    expect(result.body).toMatch(/not assigned to this token generator/);
    expect(result.body).toContain('AADSTS50105: not assigned');
    expect(result.body).toMatch(/Correlation id/);
    expect(result.body).not.toMatch(/at .*\.(ts|js):\d+/);
  });

  it('a consent the employee declined at the identity provider is said as such, not as another tenant, with the way back', async () => {
    // The emulator has no consent page to decline at: the callback carries what Entra ID sends then.
    const pending = await startLoginAt(`${stack.url}/oauth2/login?redirect=%2Fapi%2Fobo%3Faud%3Ddev-gcp%3Ateam%3Aapp`);
    const state = new URL(pending.callbackUrl).searchParams.get('state')!;
    const description = 'AADSTS65004: User declined to consent to access the app.\r\nTrace ID: 0000aaaa-11bb-cccc-dd22-eeeeee333333';
    const declined = `${stack.url}/oauth2/callback?error=access_denied&error_description=${encodeURIComponent(description)}&state=${state}`;
    const result = await callback(declined, pending.loginCookie);
    expect(result.status).toBe(403);
    expect(result.sessionSet).toBe(false);
    expect(result.body).toContain('<h1>You declined the consent</h1>');
    expect(result.body).toMatch(/You declined to consent at the identity provider&#39;s login, so it did not log you in\./);
    expect(firstButton(result.body)).toEqual({
      label: 'Log in again',
      href: '/oauth2/login?redirect=%2Fapi%2Fobo%3Faud%3Ddev-gcp%3Ateam%3Aapp',
    });
    expect(result.body).toContain('AADSTS65004: User declined to consent to access the app.');
    expect(result.body).not.toMatch(/the account you used is not in/);
  });

  it('an error of a login this browser did not start (a link of anyone’s making) shows none of its words on this site', async () => {
    const words = 'SECURITY NOTICE: your access is suspended, call +47 00 00 00 00 with your password';
    const pending = await startLogin(stack.url);
    const state = new URL(pending.callbackUrl).searchParams.get('state')!;
    for (const [query, cookie] of [
      [`state=${state}`, undefined],
      ['state=x', pending.loginCookie],
      ['', pending.loginCookie],
    ] as const) {
      const result = await callback(
        `${stack.url}/oauth2/callback?error=access_denied&error_description=${encodeURIComponent(words)}&${query}`,
        cookie,
      );
      expect(result.status).toBe(400);
      expect(result.body).not.toContain('SECURITY NOTICE');
      expect(result.body).not.toMatch(/Sign in with your|not assigned/);
      expect(result.body).toMatch(/started in another browser|does not belong to the login this browser started/);
    }
  });
});

describe('return paths with characters outside Latin-1', () => {
  // The query as sent to /oauth2/login, and the path the browser must land on (decoded), or "/" when refused.
  const table: [string, string][] = [
    ['%2F%C4%80', '/\u0100'],
    ['%2Fapi%2Fobo%3Faud%3Ddev-gcp%3Ateam%3Aapp%26n%3D%E2%82%AC', '/api/obo?aud=dev-gcp:team:app&n=\u20ac'],
    ['%2F%E6%97%A5%E6%9C%AC%2F%F0%9F%98%80', '/\u65e5\u672c/\u{1f600}'],
    ['/%C5%81%C3%B3d%C5%BA', '/\u0141\u00f3d\u017a'],
    ['%2F%C3%A9', '/\u00e9'],
    ['%2F%ED%A0%80', '/'],
    ['%2F%E2%80%AEevil', '/'],
    ['%2F%E2%80%A8x', '/'],
    ['%2F%EF%BC%8Fevil.example', '/'],
    ['%2Fa%FFb', '/'],
  ];

  it.each(table)('redirect=%s: the callback sends the browser on with its session cookie, never a 500', async (query, landing) => {
    const pending = await startLoginAt(`${stack.url}/oauth2/login?redirect=${query}`);
    const res = await fetch(pending.callbackUrl, { headers: { cookie: pending.loginCookie }, redirect: 'manual' });
    expect(res.status).toBe(302);
    const cookies = res.headers.getSetCookie();
    expect(cookies.some((c) => c.startsWith(`${names().session}=`) && !c.startsWith(`${names().session}=;`))).toBe(true);
    expect(cookies.some((c) => c.startsWith(`${pending.loginCookie.split('=')[0]}=;`))).toBe(true);
    const location = res.headers.get('location')!;
    expect(location).toMatch(/^[\x21-\x7e]+$/);
    const target = new URL(location, stack.url);
    expect(target.origin).toBe(new URL(stack.url).origin);
    expect(decodeURIComponent(`${target.pathname}${target.search}`)).toBe(landing === '/' ? '/' : landing);
  });
});
