/**
 * The fake identity provider the core's tests stand on: it must fail as a test scripts it, read its
 * failures as Entra's codes are read (the advice is the Entra client's own), and keep time by the
 * clock it is given, or the core's tests prove nothing about renewal, expiry and advice.
 */
import { describe, expect, it } from 'vitest';
import { parseAudience } from '../../src/audience.js';
import { FakeProvider, refused, timedOut, unreachable } from '../../src/generator/idp/fake.js';
import { IdpError } from '../../src/generator/idp/identity-provider.js';
import { rejectionOf } from '../helpers/rejection.js';

const parsed = parseAudience('dev-gcp:team-a:api');
if (!parsed.ok) throw new Error(parsed.message);
const TARGET = parsed.value;
const EMPLOYEE = { oid: 'employee-1', name: 'Ola' };

const failureOf = (promise: Promise<unknown>) => rejectionOf(promise, IdpError);

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('scripted failures', () => {
  it('come one a call, in the order scripted, and then the provider answers again', async () => {
    const provider = new FakeProvider();
    provider.script('client_credentials', timedOut(250), unreachable(), refused(7000215, 'invalid_client', 401));
    const first = await failureOf(provider.clientCredentials(TARGET.scope));
    expect(first.failure).toEqual({ kind: 'timeout', timeoutMs: 250 });
    expect(first.retryable).toBe(true);
    const second = await failureOf(provider.clientCredentials(TARGET.scope));
    expect(second.failure.kind).toBe('unreachable');
    expect(second.retryable).toBe(true);
    const third = await failureOf(provider.clientCredentials(TARGET.scope));
    expect(third.failure).toMatchObject({ kind: 'rejected', status: 401, error: 'invalid_client', aadsts: 7000215 });
    expect(third.retryable).toBe(false);
    expect((await provider.clientCredentials(TARGET.scope)).accessToken).toMatch(/^app /);
    expect(provider.count('client_credentials')).toBe(4);
    // A script for one grant leaves the others alone.
    provider.script('refresh_token', timedOut());
    expect((await provider.onBehalfOf(provider.login(EMPLOYEE).accessToken, TARGET.scope)).accessToken).toMatch(/^obo employee-1 /);
  });

  it('carry the meaning Entra gives their AADSTS codes, and the advice the Entra client gives for them', async () => {
    const provider = new FakeProvider();
    const cases = [
      { failure: refused(7000215, 'invalid_client', 401), refusal: 'own_credentials', code: 'generator_misconfigured' },
      { failure: refused(50013), refusal: 'employee_token', code: 'login_expired' },
      { failure: refused(500133), refusal: 'employee_token_expired', code: 'login_expired' },
      { failure: refused(501051), refusal: undefined, code: 'not_authorized_by_target' },
      { failure: refused(500011, 'invalid_resource'), refusal: undefined, code: 'target_not_found' },
      { failure: refused(500, 'server_error', 503), refusal: undefined, code: 'identity_provider_error' },
      { failure: timedOut(250), refusal: undefined, code: 'identity_provider_timeout' },
      { failure: unreachable(), refusal: undefined, code: 'identity_provider_unreachable' },
    ] as const;
    for (const c of cases) {
      provider.script('on_behalf_of', c.failure);
      const error = await failureOf(provider.onBehalfOf('any token', TARGET.scope));
      const problem = provider.advice(error, 'on_behalf_of', TARGET);
      expect({
        aadsts: c.failure.kind === 'rejected' ? c.failure.aadsts : c.failure.kind,
        refusal: error.refusal,
        code: problem.code,
      }).toEqual({ aadsts: c.failure.kind === 'rejected' ? c.failure.aadsts : c.failure.kind, refusal: c.refusal, code: c.code });
    }
    provider.script('client_credentials', refused(501051));
    const notAuthorized = provider.advice(await failureOf(provider.clientCredentials(TARGET.scope)), 'client_credentials', TARGET);
    expect(notAuthorized.message).toContain('dev-gcp:team-a:api has not authorized this token generator');
    expect(notAuthorized.snippet).toContain('application: token-generator');
  });

  it('read a login callback’s codes as Entra writes them', () => {
    const provider = new FakeProvider();
    expect(provider.isNotAssigned('AADSTS50105: The signed in user is not assigned to a role')).toBe(true);
    expect(provider.isOtherTenant('AADSTS50020: User account from identity provider does not exist in tenant')).toBe(true);
    expect(provider.isNotAssigned('AADSTS50020: another tenant')).toBe(false);
    expect(provider.isConsentDeclined('AADSTS65004: User declined to consent to access the app.')).toBe(true);
    expect(provider.isConsentDeclined('AADSTS65001: The user or administrator has not consented')).toBe(false);
    expect(provider.isOtherTenant(null)).toBe(false);
    expect(provider.scopeFor(TARGET)).toBe('api://dev-gcp.team-a.api/.default');
  });

  it('read the employee and the meaning of claims as Entra names them', () => {
    const provider = new FakeProvider();
    const claims = { oid: 'o-1', sub: 's-1', name: 'Ola', preferred_username: 'ola@trygdeetaten.no', NAVident: 'Z990001', tid: 't-1' };
    expect(provider.employeeFrom(claims)).toEqual({
      oid: 'o-1',
      name: 'Ola',
      preferredUsername: 'ola@trygdeetaten.no',
      navIdent: 'Z990001',
      tid: 't-1',
    });
    // No object id: the subject; claims that are not strings are not read.
    expect(provider.employeeFrom({ sub: 's-1', name: 42, NAVident: ['Z990001'] })).toEqual({ oid: 's-1' });
    expect(provider.employeeFrom({})).toEqual({ oid: 'unknown' });
    expect(provider.employeeFrom(provider.login({ oid: 'o-2', name: 'Kari', navIdent: 'Z990002' }).claims)).toEqual({
      oid: 'o-2',
      name: 'Kari',
      navIdent: 'Z990002',
    });
    expect(provider.describeClaim('aud', 'x', { target: 'dev-gcp:team-a:api' })).toContain('the client id of dev-gcp:team-a:api');
    expect(provider.describeClaim('NAVident', 'Z990001', { target: 'dev-gcp:team-a:api' })).toContain('NAV ident');
    expect(provider.describeClaim('no-such-claim', 1, { target: 'dev-gcp:team-a:api' })).toBeUndefined();
  });

  it('wait, when held, until released: calls that overlap', async () => {
    const provider = new FakeProvider();
    const release = provider.hold('client_credentials');
    let answered = false;
    const pending = provider.clientCredentials(TARGET.scope).then((token) => ((answered = true), token));
    await Promise.resolve();
    expect([provider.count('client_credentials'), answered]).toEqual([1, false]);
    release();
    expect((await pending).accessToken).toMatch(/^app /);
  });
});

describe('the injected clock', () => {
  it('decides when an employee token has expired: the exchange is then refused as AADSTS500133', async () => {
    const time = clock();
    const provider = new FakeProvider(time.now);
    provider.tokenSeconds = 60;
    const { accessToken } = provider.login(EMPLOYEE);
    time.advance(59_999);
    expect((await provider.onBehalfOf(accessToken, TARGET.scope)).accessToken).toMatch(/^obo employee-1 /);
    time.advance(1);
    const expired = await failureOf(provider.onBehalfOf(accessToken, TARGET.scope));
    expect(expired.failure).toMatchObject({ kind: 'rejected', aadsts: 500133 });
    expect(expired.userAssertionRefused).toBe(true);
    expect(provider.advice(expired, 'on_behalf_of', TARGET).code).toBe('login_expired');
  });

  it('gives a refreshed employee token a lifetime from the moment of the refresh', async () => {
    const time = clock();
    const provider = new FakeProvider(time.now);
    provider.tokenSeconds = 60;
    const login = provider.login(EMPLOYEE);
    time.advance(120_000);
    const renewed = await provider.refresh(login.refreshToken!, provider.loginScope);
    time.advance(59_000);
    expect((await provider.onBehalfOf(renewed.accessToken, TARGET.scope)).accessToken).toMatch(/^obo employee-1 /);
    await expect(provider.onBehalfOf(login.accessToken, TARGET.scope)).rejects.toMatchObject({ failure: { aadsts: 500133 } });
  });
});

describe('strictness the core depends on', () => {
  it('refuses an employee token of a retired key, and says the key is gone', async () => {
    const provider = new FakeProvider();
    const before = provider.login(EMPLOYEE);
    expect(await provider.signingKeyKnown(before.accessToken)).toBe('known');
    provider.rotateKeys();
    expect(await provider.signingKeyKnown(before.accessToken)).toBe('gone');
    expect(await provider.signingKeyKnown('a token it never issued')).toBe('unknown');
    const refusal = await failureOf(provider.onBehalfOf(before.accessToken, TARGET.scope));
    expect([refusal.failure.kind === 'rejected' && refusal.failure.aadsts, refusal.refusal]).toEqual([50013, 'employee_token']);
    const after = provider.login(EMPLOYEE);
    expect((await provider.onBehalfOf(after.accessToken, TARGET.scope)).accessToken).toMatch(/^obo /);
  });

  it('refuses a refresh token it did not issue as invalid_grant: only a new login helps', async () => {
    const provider = new FakeProvider();
    const error = await failureOf(provider.refresh('refresh of nobody', provider.loginScope));
    expect(error.grantGone).toBe(true);
    expect(error.failure).toMatchObject({ error: 'invalid_grant', aadsts: 70008 });
  });

  it('refuses a login callback whose state is not the login’s', async () => {
    const provider = new FakeProvider();
    const callback = new URL('https://generator.test/oauth2/callback?code=employee-2&state=other');
    const checks = { state: 'mine', nonce: 'n', codeVerifier: 'v', redirectUri: 'https://generator.test/oauth2/callback' };
    await expect(provider.redeemCode(callback, checks)).rejects.toThrow('the state does not match this login');
    callback.searchParams.set('state', 'mine');
    expect((await provider.redeemCode(callback, checks)).claims).toMatchObject({ oid: 'employee-2' });
  });
});
