/**
 * Tool sessions under the employee's control: they end with the browser login that allowed them (its
 * logout, or its lifetime), the home page lists them with a button to end each, "log out everywhere"
 * ends them all, and refresh tokens rotate: a rotated one used again ends its session.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allowedCode,
  approveDevice,
  consentToken,
  decide,
  deviceAuthorization,
  poll,
  startLoopback,
  tokenRequest,
  type DeviceAnswer,
} from '../helpers/authorization-server.js';
import { installClock } from '../helpers/clock.js';
import { login, logout } from '../helpers/http-login.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { StoreUnavailableError } from '../../src/session/index.js';

// Before the service starts: the login's lifetime passes by the clock, not by waiting.
const clock = installClock();
let stack: Stack;
let loopback: Awaited<ReturnType<typeof startLoopback>>;
/** A target that has authorized nobody: the identity provider refuses every token for it. */
const LOCKED = 'dev-gcp:locked:api';

beforeAll(async () => {
  stack = await startStack({ emulator: { unauthorizedTargets: [LOCKED] } });
  loopback = await startLoopback();
});

afterAll(async () => {
  loopback?.server.close();
  await stack?.close();
});

interface Answer {
  status: number;
  body: { access_token?: string; refresh_token?: string; error?: string; error_description?: string };
}

/** A tool allowed from the browser session `cookie`, through the consent page over HTTP: its first refresh token. */
async function toolOf(base: string, cookie: string, client = 'my-tool'): Promise<string> {
  const body = await redeemed(base, cookie, client);
  if (!body.refresh_token) throw new Error(`no refresh token: ${JSON.stringify(body)}`);
  return body.refresh_token;
}

/** The answer to the code of a tool allowed from the browser session `cookie` for `scope`. */
async function redeemed(base: string, cookie: string, client: string, scope = 'dev-gcp:my-team:my-app'): Promise<Answer['body']> {
  const verifier = randomBytes(32).toString('base64url');
  const url =
    `${base}/oauth2/authorize?` +
    new URLSearchParams({
      response_type: 'code',
      client_id: client,
      redirect_uri: loopback.redirectUri,
      scope,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString();
  const answered = await decide(cookie, `${base}/oauth2/authorize`, await consentToken(cookie, url));
  const code = new URL(answered.headers.get('location')!).searchParams.get('code')!;
  const answer = await tokenRequest(base, {
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    redirect_uri: loopback.redirectUri,
  });
  return (await answer.json()) as Answer['body'];
}

async function refresh(base: string, refreshToken: string, scope?: string): Promise<Answer> {
  const res = await tokenRequest(base, { grant_type: 'refresh_token', refresh_token: refreshToken, ...(scope ? { scope } : {}) });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

describe('refresh tokens', () => {
  it('rotate on every refresh, and a rotated one used again ends the tool session', async () => {
    const first = await toolOf(stack.url, await login(stack.url));
    const second = await refresh(stack.url, first);
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).toBeTruthy();
    expect(second.body.refresh_token).not.toBe(first);
    const third = await refresh(stack.url, second.body.refresh_token!);
    expect(third.status).toBe(200);
    const replayed = await refresh(stack.url, first);
    expect(replayed.status).toBe(400);
    expect(replayed.body.error).toBe('invalid_grant');
    expect(replayed.body.error_description).toMatch(/already used/);
    expect(replayed.body.access_token).toBeUndefined();
    expect((await refresh(stack.url, third.body.refresh_token!)).body.error).toBe('invalid_grant');
  });

  it('stay good after a refused refresh, which hands out no new one', async () => {
    const first = await toolOf(stack.url, await login(stack.url));
    const refused = await refresh(stack.url, first, 'Not An Audience');
    expect(refused.body.error).toBe('invalid_scope');
    expect((await refresh(stack.url, first)).status).toBe(200);
  });
});

describe('a tool session and the browser login that allowed it', () => {
  it('ends when that browser logs out; a tool another browser allowed stays, until "log out everywhere"', async () => {
    const here = await login(stack.url);
    const there = await login(stack.url);
    const fromHere = await toolOf(stack.url, here);
    const fromThere = await toolOf(stack.url, there);
    expect(await (await logout(stack.url, here)).json()).toMatchObject({ logged_out: true });
    expect((await refresh(stack.url, fromHere)).body.error).toBe('invalid_grant');
    const still = await refresh(stack.url, fromThere);
    expect(still.status).toBe(200);

    const elsewhere = await login(stack.url);
    const headers = { cookie: elsewhere, accept: 'application/json' };
    const { csrf_token } = (await (await fetch(`${stack.url}/oauth2/logout`, { headers })).json()) as { csrf_token: string };
    const everywhere = await fetch(`${stack.url}/oauth2/logout`, {
      method: 'POST',
      headers,
      body: new URLSearchParams({ csrf_token, everywhere: 'true' }),
    });
    expect(everywhere.status).toBe(200);
    expect((await refresh(stack.url, still.body.refresh_token!)).body.error).toBe('invalid_grant');
  });

  it('past the fiftieth of an employee, ends the oldest tool: none keeps access unlisted, out of reach of a logout', async () => {
    const cookie = await login(stack.url);
    const tokens: string[] = [];
    for (let i = 0; i <= 50; i++) {
      // Past the codes an address may redeem in a minute.
      if (i % 25 === 24) clock.advance(61_000);
      tokens.push(await toolOf(stack.url, cookie, `tool ${i}`));
    }
    const home = await (await fetch(`${stack.url}/`, { headers: { cookie } })).text();
    expect(home).not.toContain('<strong>tool 0</strong>');
    expect(home).toContain('<strong>tool 50</strong>');
    expect((await refresh(stack.url, tokens[0]!)).body.error).toBe('invalid_grant');
    expect(await (await logout(stack.url, cookie)).json()).toMatchObject({ logged_out: true });
    for (const token of tokens) expect((await refresh(stack.url, token)).body.error).toBe('invalid_grant');
  });

  it('is listed on the home page with where it came from, and its button ends it', async () => {
    const cookie = await login(stack.url);
    const token = await toolOf(stack.url, cookie, 'Bruno on my laptop');
    await refresh(stack.url, token).then((answer) => expect(answer.status).toBe(200));
    const home = await (await fetch(`${stack.url}/`, { headers: { cookie } })).text();
    expect(home).toContain('Tools with access as you');
    expect(home).toContain('Bruno on my laptop');
    expect(home).toMatch(/since <time/);
    expect(home).toMatch(/last used <time/);
    const csrf = /name="csrf_token" value="([^"]+)"/.exec(home.slice(home.indexOf('Bruno on my laptop')))![1]!;
    const handle = /name="handle" value="([^"]+)"/.exec(home.slice(home.indexOf('Bruno on my laptop')))![1]!;
    const end = (headers: Record<string, string>, fields: Record<string, string>) =>
      fetch(`${stack.url}/oauth2/tools/end`, {
        method: 'POST',
        headers: { cookie, ...headers },
        body: new URLSearchParams(fields),
        redirect: 'manual',
      });
    expect((await end({ 'sec-fetch-site': 'cross-site' }, { csrf_token: csrf, handle })).status).toBe(403);
    expect((await end({}, { handle })).status).toBe(403);
    expect((await end({}, { csrf_token: csrf, handle })).status).toBe(303);
    expect((await refresh(stack.url, token)).body.error).toBe('invalid_grant');
    expect(await (await fetch(`${stack.url}/`, { headers: { cookie } })).text()).not.toContain('Bruno on my laptop');
  });
});

describe('a grant allowed before a logout, and redeemed or polled after it', () => {
  /** A grant the browser login `cookie` allowed and its tool has not used yet: `use` redeems or polls it, with its answer. */
  type Grant = (cookie: string) => Promise<{ use(): Promise<Answer> }>;
  const byCode: Grant = async (cookie) => {
    const redeem = await allowedCode(stack.url, cookie, {
      client: 'slow tool',
      redirectUri: loopback.redirectUri,
      scope: 'dev-gcp:my-team:my-app',
    });
    return {
      use: async () => {
        const res = await tokenRequest(stack.url, redeem);
        return { status: res.status, body: (await res.json()) as Answer['body'] };
      },
    };
  };
  const byDevice: Grant = async (cookie) => {
    const started = await deviceAuthorization(stack.url);
    expect((await approveDevice(cookie, stack.url, started.user_code)).status).toBe(200);
    return {
      use: async () => {
        // Past the poll interval of any poll before.
        clock.advance(6_000);
        return poll(stack.url, started.device_code);
      },
    };
  };
  const refusedForLogout = (answer: Answer) => {
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe('invalid_grant');
    expect(answer.body.error_description).toMatch(/log(ged)? out/);
    expect(answer.body.refresh_token).toBeUndefined();
  };

  for (const [flow, grant] of [
    ['a code', byCode],
    ['a device code', byDevice],
  ] as const) {
    it(`${flow}: ends with the logout of the login that allowed it`, async () => {
      const cookie = await login(stack.url);
      const pending = await grant(cookie);
      expect((await logout(stack.url, cookie)).status).toBe(200);
      refusedForLogout(await pending.use());
    });

    it(`${flow}: ends with "log out everywhere" from another browser; one allowed after it by the login that lives on works`, async () => {
      const cookie = await login(stack.url);
      const before = await grant(cookie);
      const elsewhere = await login(stack.url);
      expect((await logout(stack.url, elsewhere, { everywhere: true })).status).toBe(200);
      refusedForLogout(await before.use());
      const home = await (await fetch(`${stack.url}/`, { headers: { cookie } })).text();
      expect(home).not.toContain('slow tool');
      const after = await (await grant(cookie)).use();
      expect(after.status).toBe(200);
      expect(after.body.refresh_token).toBeTruthy();
      expect((await refresh(stack.url, after.body.refresh_token!)).status).toBe(200);
    });
  }
});

describe('a consent page whose Allow met the session store away', () => {
  it('answers 503 and stays answerable: the same Allow, once the store is back, gives the tool its code', async () => {
    const cookie = await login(stack.url);
    const verifier = randomBytes(32).toString('base64url');
    const url = `${stack.url}/oauth2/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: 'patient tool',
      redirect_uri: loopback.redirectUri,
      scope: 'dev-gcp:my-team:my-app',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString()}`;
    const token = await consentToken(cookie, url);
    const store = stack.generator.sessions.manager.store;
    const getRecord = store.getRecord.bind(store);
    // The store away for the records read on Allow (the employee's logout mark), once.
    let away = true;
    store.getRecord = async (key) => {
      if (away && key.startsWith('tool-')) {
        away = false;
        throw new StoreUnavailableError();
      }
      return getRecord(key);
    };
    try {
      expect((await decide(cookie, `${stack.url}/oauth2/authorize`, token)).status).toBe(503);
    } finally {
      store.getRecord = getRecord;
    }
    expect(away).toBe(false);
    const again = await decide(cookie, `${stack.url}/oauth2/authorize`, token);
    expect(again.status).toBe(303);
    expect(new URL(again.headers.get('location')!).searchParams.get('code')).toBeTruthy();
  });
});

describe('a tool whose first token is refused', () => {
  it('gets no session, by a code or by the device flow: none is listed on the home page as having access', async () => {
    const cookie = await login(stack.url);
    const refused = await redeemed(stack.url, cookie, 'Postman for the locked API', LOCKED);
    expect(refused.error).toBe('invalid_scope');
    expect(refused.refresh_token).toBeUndefined();
    const tool = 'k6 for the locked API';
    const asked = await fetch(`${stack.url}/oauth2/device_authorization`, {
      method: 'POST',
      body: new URLSearchParams({ client_id: tool, scope: LOCKED }),
    });
    const device = (await asked.json()) as DeviceAnswer;
    expect((await approveDevice(cookie, stack.url, device.user_code)).status).toBe(200);
    expect((await poll(stack.url, device.device_code, tool)).body.error).toBe('invalid_scope');
    const home = await (await fetch(`${stack.url}/`, { headers: { cookie } })).text();
    expect(home).not.toContain('Postman for the locked API');
    expect(home).not.toContain('k6 for the locked API');
  });
});

describe('a tool session near the end of its browser login', () => {
  let short: Stack;

  beforeAll(async () => {
    // 36 seconds: the shortest login the configuration takes.
    short = await startStack({ env: { SESSION_MAX_LIFETIME_HOURS: '0.01' } });
  });

  afterAll(async () => {
    await short?.close();
  });

  it('ends with that login, not a full lifetime later', async () => {
    const loggedInAt = Date.now();
    const cookie = await login(short.url);
    clock.advance(20_000);
    const token = await toolOf(short.url, cookie);
    const renewed = await refresh(short.url, token);
    expect(renewed.status).toBe(200);
    clock.advance(Math.max(0, loggedInAt + 38_000 - Date.now()));
    expect((await refresh(short.url, renewed.body.refresh_token!)).body.error).toBe('invalid_grant');
  });
});
