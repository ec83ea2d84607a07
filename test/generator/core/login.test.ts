/**
 * The login's steps in `core/login.ts`, as the pages and the headless route take them: the start
 * (state, nonce, PKCE, sealed for the callback), the completion (the answer checked, the code
 * redeemed, the employee from the claims, a new session), and a headless login's one token through
 * the same rules as every other.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { loginRefusal } from '../../../src/generator/core/login.js';
import { LoginRequiredError } from '../../../src/generator/core/problem.js';
import { StoreUnavailableError, type MemoryStore } from '../../../src/session/index.js';
import { refused } from '../../../src/generator/idp/fake.js';
import { audience, core, REDIRECT_URI } from './harness.js';

const TARGET = audience('dev-gcp:team-a:api');

/** Where the provider sends the browser back once the employee with this oid logged in (the fake's code is the oid). */
function callback(state: string, oid = 'employee-7'): URL {
  const url = new URL(REDIRECT_URI);
  url.search = new URLSearchParams({ code: oid, state }).toString();
  return url;
}

describe('a login', () => {
  it('starts with a fresh state and PKCE for the provider, sealed for the callback to open', async () => {
    const { logins } = core();
    const one = await logins.start({ returnTo: '/api/obo?aud=x', domainHint: 'trygdeetaten.no' });
    const two = await logins.start({ returnTo: '/' });
    expect(one.login.state).not.toBe(two.login.state);
    expect(new URL(one.url).searchParams.get('state')).toBe(one.login.state);
    expect(new URL(one.url).searchParams.get('redirect_uri')).toBe(REDIRECT_URI);
    expect(logins.started(one.sealed)).toEqual(one.login);
    expect(one.sealed).not.toContain(one.login.verifier);
  });

  it('whose sealed state is none of ours, or missing, has expired', async () => {
    const { logins } = core();
    const started = await logins.start({ returnTo: '/' });
    for (const sealed of [undefined, 'x', `${started.sealed}x`]) {
      expect(() => logins.started(sealed)).toThrow(
        expect.objectContaining({ problem: expect.objectContaining({ code: 'login_state_expired' }) }),
      );
    }
  });

  it("of several a browser runs at once, is the one the answer's state names; an answer with no single state belongs to none", async () => {
    const { logins } = core();
    const one = await logins.start({ returnTo: '/one' });
    const two = await logins.start({ returnTo: '/two' });
    const kept = new Map([one, two].map((started) => [started.login.state, started.sealed]));
    const sealedOf = (state: string) => kept.get(state);
    expect(await logins.resumed(callback(one.login.state), sealedOf, undefined)).toEqual(one.login);
    expect(await logins.resumed(callback(two.login.state), sealedOf, undefined)).toEqual(two.login);
    const twice = callback(one.login.state);
    twice.searchParams.append('state', two.login.state);
    for (const [url, code] of [
      [callback('a state of no login here'), 'login_state_expired'],
      [twice, 'login_state_mismatch'],
      [new URL(REDIRECT_URI), 'login_state_mismatch'],
    ] as const) {
      await expect(logins.resumed(url, sealedOf, undefined)).rejects.toMatchObject({ problem: { code } });
    }
  });

  it('kept by a browser beyond the newest few: the older ones, and any that does not open, are the ones to clear', async () => {
    const { logins, clock } = core();
    const started = [];
    for (let i = 0; i < 4; i++) {
      started.push(await logins.start({ returnTo: '/' }));
      clock.advance(1_000);
    }
    // Newest first: the order a browser sends them in decides nothing, the times in the states do.
    const kept = [['forged', 'x'], ...started.map((s, i) => [`login ${i}`, s.sealed])].reverse() as [string, string][];
    const plenty = 100_000;
    expect(logins.beyondNewest(kept, { count: 2, bytes: plenty }).sort()).toEqual(['forged', 'login 0', 'login 1']);
    expect(logins.beyondNewest(kept, { count: 5, bytes: plenty })).toEqual([]);
    expect(logins.beyondNewest(kept, { count: 0, bytes: plenty })).toHaveLength(5);
    // Room for the two newest, name and value: the older go, however few they are.
    const [newest, second] = [kept[0]!, kept[1]!];
    const two = newest[0].length + newest[1].length + second[0].length + second[1].length;
    expect(logins.beyondNewest(kept, { count: 5, bytes: two }).sort()).toEqual(['forged', 'login 0', 'login 1']);
    expect(logins.beyondNewest(kept, { count: 5, bytes: two - 1 }).sort()).toEqual(['forged', 'login 0', 'login 1', 'login 2']);
  });

  it('completes as a new session of the employee the claims name', async () => {
    const { logins, sessions, store, clock } = core();
    const { login } = await logins.start({ returnTo: '/' });
    const session = await logins.complete(callback(login.state), login, { surface: 'browser' });
    expect(session.data.user.oid).toBe('employee-7');
    expect(session.data.accessTokenExpiresAt).toBe(clock.now() + 3600_000);
    expect(session.data.refreshToken).toBeDefined();
    expect(await store.get(session.id)).toEqual(session.data);
    expect((await sessions.load(session.ticket))?.id).toBe(session.id);
  });

  it('refuses an answer that belongs to another login, without redeeming its code', async () => {
    const { logins, provider } = core();
    const { login } = await logins.start({ returnTo: '/' });
    await expect(logins.complete(callback('another state'), login, { surface: 'browser' })).rejects.toMatchObject({
      problem: { code: 'login_state_mismatch' },
    });
    // A headless caller sent no state: the provider's answer is what is wrong.
    await expect(logins.completeOnce(callback('another state'), login, { surface: 'headless', target: TARGET })).rejects.toMatchObject({
      problem: { code: 'login_answer_invalid', message: expect.stringContaining('state') },
    });
    expect(provider.count('authorization_code')).toBe(0);
  });

  it("refused by the provider: a browser starts again, a headless caller gets the provider's advice", async () => {
    const { logins, provider } = core();
    const { login } = await logins.start({ returnTo: '/' });
    provider.script('authorization_code', refused(54005), refused(54005));
    await expect(logins.complete(callback(login.state), login, { surface: 'browser' })).rejects.toMatchObject({
      problem: { code: 'login_failed' },
    });
    const headless = await logins.completeOnce(callback(login.state), login, { surface: 'headless', target: TARGET }).catch((err) => err);
    expect(headless.problem.code).toBe('identity_provider_refused');
    expect(headless.provider).toMatchObject({ flow: 'login', target: TARGET.target });
  });

  it('brought back once completed, is said to be completed to its own browser only, and to no one once unknown', async () => {
    const { logins, provider, store } = core();
    const { login, sealed } = await logins.start({ returnTo: '/api/obo?aud=x' });
    const session = await logins.complete(callback(login.state), login, { surface: 'browser' });
    // Its code spent (as Entra ID refuses a code redeemed before), the answer brought back with its sealed state.
    provider.script('authorization_code', refused(54005), refused(54005));
    const again = await logins.complete(callback(login.state), login, { surface: 'browser' }).catch((err) => err);
    expect(again.problem).toMatchObject({
      code: 'login_already_completed',
      message: expect.stringMatching(/^This login was already completed/),
      next: { label: 'Continue to the page you wanted', href: '/api/obo?aud=x' },
    });
    // Without its state: by the session it made, and by no other.
    const none = () => undefined;
    const reload = await logins.resumed(callback(login.state), none, session.ticket).catch((err) => err);
    expect(reload.problem.code).toBe('login_already_completed');
    for (const ticket of [undefined, 'another ticket']) {
      const refusal = await logins.resumed(callback(login.state), none, ticket).catch((err) => err);
      expect(refusal.problem.code).toBe('login_state_expired');
    }
    expect(await logins.resumed(callback(login.state), (state) => (state === login.state ? sealed : undefined), 'another ticket')).toEqual(
      login,
    );
    // Forgotten (the record's time is up, or the store lost it): refused as it always was.
    await store.takeRecord(`login-completed:${createHash('sha256').update(login.state).digest('base64url')}`);
    const forgotten = await logins.complete(callback(login.state), login, { surface: 'browser' }).catch((err) => err);
    expect(forgotten.problem.code).toBe('login_failed');
  });

  it('stands when the store cannot remember it just after the session was made', async () => {
    const { logins, store, sessions } = core();
    const { login } = await logins.start({ returnTo: '/' });
    vi.spyOn(store, 'setRecord').mockRejectedValueOnce(new StoreUnavailableError());
    const session = await logins.complete(callback(login.state), login, { surface: 'browser' });
    expect((await sessions.load(session.ticket))?.id).toBe(session.id);
  });

  it('takes the employee from the claims as the provider reads them, not as the core would', async () => {
    const { logins, provider } = core();
    const read = vi
      .spyOn(provider, 'employeeFrom')
      .mockImplementation((claims) => ({ oid: `read ${String(claims.oid)}`, navIdent: 'Z990001' }));
    const { login } = await logins.start({ returnTo: '/' });
    const session = await logins.complete(callback(login.state), login, { surface: 'browser' });
    expect(read).toHaveBeenCalledWith(expect.objectContaining({ oid: 'employee-7' }));
    expect(session.data.user).toEqual({ oid: 'read employee-7', navIdent: 'Z990001' });
  });

  it("refused in the provider's answer says why to a browser: not assigned, another tenant, or the provider's own error", () => {
    const { provider } = core();
    const browser = { loginDomain: 'trygdeetaten.no', surface: 'browser' } as const;
    expect(loginRefusal(provider, undefined, undefined, browser)).toBeUndefined();
    expect(loginRefusal(provider, 'access_denied', 'AADSTS50105: not assigned', browser)?.problem).toMatchObject({
      code: 'user_not_allowed',
      message: expect.stringMatching(/^You are not assigned to this token generator at the identity provider/),
      details: 'AADSTS50105: not assigned',
    });
    const tenant = loginRefusal(provider, 'access_denied', undefined, browser);
    expect(tenant?.problem).toMatchObject({ code: 'wrong_tenant', message: expect.stringContaining('trygdeetaten.no') });
    expect(loginRefusal(provider, 'invalid_request', 'AADSTS50020: User account from another tenant', browser)?.problem.code).toBe(
      'wrong_tenant',
    );
    expect(loginRefusal(provider, 'server_error', 'down', browser)?.problem).toMatchObject({ code: 'login_failed', details: 'down' });
    // Declining the consent page is an access_denied too, and no sign of another tenant: said as what it is, with the way back.
    const declined = 'AADSTS65004: User declined to consent to access the app.';
    expect(loginRefusal(provider, 'access_denied', declined, { ...browser, returnTo: '/api/obo?aud=dev-gcp:a:b' })?.problem).toEqual({
      code: 'login_consent_declined',
      message: expect.stringMatching(
        /^You declined to consent at the identity provider's login, so it did not log you in\. .*Log in again/,
      ),
      details: declined,
      next: { label: 'Log in again', href: '/oauth2/login?redirect=%2Fapi%2Fobo%3Faud%3Ddev-gcp%3Aa%3Ab' },
    });
  });

  it("refused in the provider's answer says why to a headless caller, in its one line, and another tenant is no choice it has", () => {
    const { provider } = core();
    const headless = { loginDomain: 'trygdeetaten.no', surface: 'headless' } as const;
    expect(loginRefusal(provider, null, 'AADSTS50105: not assigned', headless)).toBeUndefined();
    const notAssigned = loginRefusal(provider, 'access_denied', 'AADSTS50105: not assigned\ntrace', headless)?.problem;
    expect(notAssigned).toMatchObject({ code: 'user_not_allowed', message: expect.stringMatching(/not assigned to this token generator/) });
    expect(notAssigned?.message).toMatch(/It said: AADSTS50105: not assigned$/);
    expect(notAssigned?.details).toBeUndefined();
    const tenant = loginRefusal(provider, 'access_denied', 'AADSTS50020: User account from another tenant', headless)?.problem;
    expect(tenant).toMatchObject({ code: 'login_failed', message: expect.stringContaining('It said: AADSTS50020: User account') });
    expect(loginRefusal(provider, 'server_error', undefined, headless)?.problem.message).toMatch(/\(server_error\)\. It gave no reason\.$/);
    expect(loginRefusal(provider, 'access_denied', 'AADSTS65004: User declined to consent to access the app.', headless)?.problem).toEqual({
      code: 'login_consent_declined',
      message:
        "The employee declined to consent at the identity provider's login, so it did not log the employee in. " +
        'It said: AADSTS65004: User declined to consent to access the app.',
    });
  });
});

describe('a headless login', () => {
  /** The store's methods a test watches: none of them is asked anything for a session of one token. */
  const watched = ['get', 'set', 'update', 'delete', 'withLock', 'consumeOnce', 'setRecord', 'getRecord', 'takeRecord'] as const;
  const watch = (store: MemoryStore) => watched.map((method) => vi.spyOn(store, method));
  const untouched = (spies: ReturnType<typeof watch>) => expect(spies.filter((spy) => spy.mock.calls.length > 0)).toEqual([]);

  it('completes and gets its one token through the rules of every surface: counted, never cached, never stored', async () => {
    const { logins, tokens, store, provider } = core({ freshAddressMax: 1 });
    const spies = watch(store);
    const headless = async () => {
      const { login, url } = await logins.start({ returnTo: '/', prompt: 'login' });
      const session = await logins.completeOnce(callback(new URL(url).searchParams.get('state')!), login, {
        surface: 'headless',
        target: TARGET,
      });
      return tokens.employeeToken(session, TARGET, { address: '10.0.0.2' });
    };
    const token = await headless();
    expect(token.accessToken).toContain(`obo employee-7 ${TARGET.scope}`);
    expect(tokens.employeeCache.size).toBe(0);
    await expect(headless()).rejects.toMatchObject({ problem: { code: 'rate_limited' } });
    expect(provider.count('on_behalf_of')).toBe(1);
    untouched(spies);
  });

  /** A headless login whose token the provider refuses (its keys changed since), the store watched from the start. */
  async function refusedOnce() {
    const parts = core();
    const spies = watch(parts.store);
    const { login } = await parts.logins.start({ returnTo: '/', prompt: 'login' });
    const session = await parts.logins.completeOnce(callback(login.state), login, { surface: 'headless', target: TARGET });
    parts.provider.rotateKeys();
    return { ...parts, session, spies };
  }

  it("renews the session once, in memory, when the provider refuses the new login's token", async () => {
    const { tokens, provider, session, spies } = await refusedOnce();
    const token = await tokens.employeeToken(session, TARGET, { address: '10.0.0.2' });
    expect(token.accessToken).toContain('obo employee-7');
    expect(provider.count('refresh_token')).toBe(1);
    untouched(spies);
  });

  it('ends, without the store, when the provider no longer honours its grant at the renewal', async () => {
    const { tokens, provider, session, spies } = await refusedOnce();
    provider.script('refresh_token', refused(70008, 'invalid_grant'));
    await expect(tokens.employeeToken(session, TARGET, { address: '10.0.0.2' })).rejects.toBeInstanceOf(LoginRequiredError);
    expect(provider.count('refresh_token')).toBe(1);
    untouched(spies);
  });
});
