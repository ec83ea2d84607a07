/**
 * The rules of `core/tokens.ts`, which every surface calls: the cache and its coalescing, the
 * fresh-token limits, renewal of a session whose employee token the provider refuses, the targets a
 * tool's session was consented for, and the provider's failures as advice.
 */
import { describe, expect, it } from 'vitest';
import { LoginRequiredError, PROBLEM_CODES, ProblemError } from '../../../src/generator/core/problem.js';
import { refused } from '../../../src/generator/idp/fake.js';
import { rejectionOf } from '../../helpers/rejection.js';
import { MemoryLimiter, type Limiter } from '../../../src/generator/core/limits.js';
import { responseBody, type Tokens } from '../../../src/generator/core/tokens.js';
import { audience, core } from './harness.js';

const TARGET = audience('dev-gcp:team-a:api');
const OTHER = audience('dev-gcp:team-b:other-api');
const THIRD = audience('dev-gcp:team-c:third-api');
const HERE = { address: '10.0.0.1' };

const problemOf = (promise: Promise<unknown>) => rejectionOf(promise, ProblemError);
/** Where the limits are counted when each count answers a turn of the event loop later, as Redis does. */
const roundTrip = (memory: MemoryLimiter): Limiter => ({
  take: (limit, key) => new Promise((resolve) => setImmediate(() => resolve(memory.take(limit, key)))),
});

describe('app tokens', () => {
  it('come from the cache after the first, and a fresh one is asked for when the caller says so', async () => {
    const { tokens, provider } = core();
    const first = await tokens.appToken(TARGET, HERE);
    expect(await tokens.appToken(TARGET, HERE)).toEqual(first);
    expect(provider.count('client_credentials')).toBe(1);
    const fresh = await tokens.appToken(TARGET, { ...HERE, fresh: true });
    expect(fresh.accessToken).not.toBe(first.accessToken);
    expect(provider.count('client_credentials')).toBe(2);
  });

  it('asked for at once by many callers are one call to the provider', async () => {
    const { tokens, provider } = core();
    const release = provider.hold('client_credentials');
    const asked = Array.from({ length: 20 }, () => tokens.appToken(TARGET, HERE));
    release();
    const answers = await Promise.all(asked);
    expect(new Set(answers.map((token) => token.accessToken)).size).toBe(1);
    expect(provider.count('client_credentials')).toBe(1);
  });

  it('asked of the provider are limited per address, whichever surface asks; cached ones cost nothing, and the window ends', async () => {
    const { tokens, provider, clock } = core({ freshAddressMax: 3 });
    await tokens.appToken(TARGET, HERE);
    for (let i = 0; i < 5; i++) await tokens.appToken(TARGET, HERE);
    expect(tokens.cachedAppToken(TARGET)).toBeDefined();
    await tokens.appToken(TARGET, { ...HERE, fresh: true });
    await tokens.appToken(OTHER, HERE);
    clock.advance(20_000);
    const error = await problemOf(tokens.appToken(THIRD, HERE));
    expect(error.problem.code).toBe('rate_limited');
    expect(error.problem.message).toMatch(/^Too many fresh tokens .* from your address: at most 3 in 60 seconds/);
    expect(error.headers).toEqual({ 'retry-after': '40' });
    await expect(problemOf(tokens.appToken(TARGET, { ...HERE, fresh: true }))).resolves.toMatchObject({
      problem: { code: 'rate_limited' },
    });
    // Refused before the provider was asked; what is cached still comes, and another address has its own count.
    expect(provider.count('client_credentials')).toBe(3);
    await tokens.appToken(TARGET, HERE);
    await tokens.appToken(THIRD, { address: '10.0.0.2' });
    clock.advance(40_000);
    await tokens.appToken(OTHER, { ...HERE, fresh: true });
    expect(provider.count('client_credentials')).toBe(5);
  });

  it('asked for at once by many callers count once against the fresh limit: only one call reaches the provider', async () => {
    const { tokens, provider } = core({ freshAddressMax: 1 });
    const release = provider.hold('client_credentials');
    const asked = Array.from({ length: 20 }, (_, i) => tokens.appToken(TARGET, { ...HERE, fresh: i % 2 === 0 }));
    release();
    expect(new Set((await Promise.all(asked)).map((token) => token.accessToken)).size).toBe(1);
    expect(provider.count('client_credentials')).toBe(1);
  });

  it('asked for at once count once when counting takes a round trip (Redis): the callers meanwhile share the call', async () => {
    const { tokens, provider } = core({ freshAddressMax: 1 }, roundTrip);
    const asked = Array.from({ length: 20 }, () => tokens.appToken(TARGET, HERE));
    expect(new Set((await Promise.all(asked)).map((token) => token.accessToken)).size).toBe(1);
    expect(provider.count('client_credentials')).toBe(1);
    // That was one count: the address has none left.
    const error = await problemOf(tokens.appToken(OTHER, HERE));
    expect(error.problem.code).toBe('rate_limited');
  });

  it('asked for by another address while the call it would share is refused for the first one still come', async () => {
    const { tokens, provider } = core({ freshAddressMax: 1 });
    await tokens.appToken(OTHER, HERE);
    // The first address has no fresh token left; the second shares its refused call, then asks on its own count.
    const [first, second] = await Promise.allSettled([tokens.appToken(TARGET, HERE), tokens.appToken(TARGET, { address: '10.0.0.2' })]);
    expect(first.status).toBe('rejected');
    expect((first as PromiseRejectedResult).reason).toMatchObject({ problem: { code: 'rate_limited' } });
    expect(second.status).toBe('fulfilled');
    expect(provider.count('client_credentials')).toBe(2);
  });

  it('share the fresh limit of the address with the logged-in routes, which count a fresh one once', async () => {
    const { tokens, login } = core({ freshAddressMax: 3, freshSessionMax: 100, sessionMax: 100 });
    const session = await login();
    await tokens.appTokenFor(session, TARGET, HERE);
    await tokens.appTokenFor(session, OTHER, HERE);
    await tokens.employeeToken(session, TARGET, HERE);
    const error = await problemOf(tokens.appToken(THIRD, HERE));
    expect(error.problem.message).toMatch(/fresh tokens .* from your address/);
  });

  it('turn a refusal into the advice for it, with the access policy to add', async () => {
    const { tokens, provider } = core();
    provider.script('client_credentials', refused(501051, 'invalid_grant'));
    const error = await problemOf(tokens.appToken(TARGET, HERE));
    expect(error.problem.code).toBe('not_authorized_by_target');
    expect(error.problem.snippet).toContain('accessPolicy');
    expect(error.provider).toMatchObject({ flow: 'client_credentials', target: 'dev-gcp:team-a:api' });
    // Nothing failed is cached: the next ask goes to the provider again.
    await tokens.appToken(TARGET, HERE);
    expect(provider.count('client_credentials')).toBe(2);
  });

  it('say a timeout is worth another try', async () => {
    const { tokens, provider } = core();
    provider.script('client_credentials', { kind: 'timeout', timeoutMs: 5 });
    const { problem } = await problemOf(tokens.appToken(TARGET, HERE));
    expect(problem.code).toBe('identity_provider_timeout');
    expect(PROBLEM_CODES[problem.code]).toMatchObject({ status: 504, oauth: 'temporarily_unavailable', retry: true });
  });
});

describe('employee tokens', () => {
  it('are cached per session and target', async () => {
    const { tokens, provider, login } = core();
    const one = await login({ oid: 'one' });
    const two = await login({ oid: 'two' });
    const first = await tokens.employeeToken(one, TARGET, HERE);
    expect(await tokens.employeeToken(one, TARGET, HERE)).toEqual(first);
    expect((await tokens.employeeToken(two, TARGET, HERE)).accessToken).not.toBe(first.accessToken);
    expect(provider.count('on_behalf_of')).toBe(2);
  });

  it('renew the session once when the provider refuses the employee token, and then succeed', async () => {
    const { tokens, provider, login } = core();
    const session = await login();
    provider.rotateKeys();
    const token = await tokens.employeeToken(session, TARGET, HERE);
    expect(token.accessToken).toContain('obo employee-1');
    expect(provider.count('refresh_token')).toBe(1);
    expect(provider.count('on_behalf_of')).toBe(2);
  });

  it('renew a tool session as they renew a browser one', async () => {
    const { tokens, provider, login } = core();
    const tool = await login(undefined, { tool: { client: 'IntelliJ', target: TARGET.target } });
    provider.rotateKeys();
    await tokens.employeeToken(tool, TARGET, HERE);
    expect(provider.count('refresh_token')).toBe(1);
  });

  it('ask for a new login when the session cannot be renewed', async () => {
    const { tokens, provider, login, store } = core();
    const session = await login();
    provider.rotateKeys();
    provider.script('refresh_token', refused(70008));
    await expect(tokens.employeeToken(session, TARGET, HERE)).rejects.toBeInstanceOf(LoginRequiredError);
    expect(await store.get(session.id)).toBeUndefined();
  });

  it('renew only once: a second refusal is the advice, not a loop', async () => {
    const { tokens, provider, login } = core();
    const session = await login();
    provider.rotateKeys();
    provider.script('on_behalf_of', refused(50013), refused(50013));
    const { problem } = await problemOf(tokens.employeeToken(session, TARGET, HERE));
    expect(problem.code).toBe('login_expired');
    expect(provider.count('refresh_token')).toBe(1);
    expect(provider.count('on_behalf_of')).toBe(2);
  });

  it('count fresh tokens against the tighter limit, and cached ones only against the plain one', async () => {
    const { tokens, login } = core({ freshSessionMax: 2, sessionMax: 100 });
    const session = await login();
    await tokens.employeeToken(session, TARGET, HERE);
    for (let i = 0; i < 5; i++) await tokens.employeeToken(session, TARGET, HERE);
    await tokens.employeeToken(session, TARGET, { ...HERE, fresh: true });
    const error = await problemOf(tokens.employeeToken(session, OTHER, HERE));
    expect(error.problem.code).toBe('rate_limited');
    expect(error.headers['retry-after']).toMatch(/^\d+$/);
    expect(PROBLEM_CODES.rate_limited.status).toBe(429);
  });

  // Tabs of one browser asking for a target at once: one call, one fresh count, every tab served.
  it.each([
    { asked: 'on behalf of the employee', grant: 'on_behalf_of', ask: (tokens: Tokens) => tokens.employeeToken.bind(tokens) },
    { asked: 'as app tokens by the employee', grant: 'client_credentials', ask: (tokens: Tokens) => tokens.appTokenFor.bind(tokens) },
  ] as const)(
    'asked for at once $asked count once when counting takes a round trip (Redis): the asks share the call',
    async ({ grant, ask }) => {
      const { tokens, provider, login } = core({ freshSessionMax: 1, sessionMax: 100 }, roundTrip);
      const session = await login();
      const asked = Array.from({ length: 20 }, () => ask(tokens)(session, TARGET, HERE));
      expect(new Set((await Promise.all(asked)).map((token) => token.accessToken)).size).toBe(1);
      expect(provider.count(grant)).toBe(1);
      const error = await problemOf(ask(tokens)(session, OTHER, HERE));
      expect(error.problem.message).toMatch(/^Too many fresh tokens .* for your login/);
      expect(provider.count(grant)).toBe(1);
    },
  );

  it('asked for from a second address while the call they joined is refused for the first one still come', async () => {
    const { tokens, provider, login } = core({ freshAddressMax: 1, freshSessionMax: 100, sessionMax: 100 });
    await tokens.employeeToken(await login({ oid: 'colleague' }), OTHER, HERE);
    const session = await login();
    // The first address has no fresh token left; the second joins its refused call, then asks on its own count.
    const [first, second] = await Promise.allSettled([
      tokens.employeeToken(session, TARGET, HERE),
      tokens.employeeToken(session, TARGET, { address: '10.0.0.2' }),
    ]);
    expect((first as PromiseRejectedResult).reason).toMatchObject({ problem: { code: 'rate_limited' } });
    expect(second.status).toBe('fulfilled');
    expect(provider.count('on_behalf_of')).toBe(2);
  });

  it("over the login's fresh limit use up nothing of what their colleagues at the same address may still ask", async () => {
    const { tokens, login } = core({ max: 3, freshSessionMax: 1, sessionMax: 100 });
    const eager = await login({ oid: 'eager' });
    await tokens.employeeToken(eager, TARGET, HERE);
    for (const target of [OTHER, THIRD, audience('dev-gcp:team-d:fourth-api')])
      await expect(problemOf(tokens.employeeToken(eager, target, HERE))).resolves.toMatchObject({
        problem: { message: expect.stringMatching(/fresh tokens .* for your login/) },
      });
    // The address has counted one request so far: a colleague's two come.
    const colleague = await login({ oid: 'colleague' });
    await tokens.employeeToken(colleague, OTHER, HERE);
    await tokens.employeeToken(colleague, OTHER, HERE);
    await expect(problemOf(tokens.employeeToken(colleague, OTHER, HERE))).resolves.toMatchObject({
      problem: { message: expect.stringMatching(/^Too many requests from your address/) },
    });
  });

  it('count a token once when the session was renewed to get it', async () => {
    const { tokens, provider, login } = core({ freshSessionMax: 2, sessionMax: 100 });
    const session = await login();
    await tokens.employeeToken(session, OTHER, HERE);
    provider.rotateKeys();
    // Two calls to the provider for one token (refused, then asked again after the renewal): one fresh count.
    await tokens.employeeToken(session, TARGET, HERE);
    expect(provider.count('on_behalf_of')).toBe(3);
    expect(provider.count('refresh_token')).toBe(1);
    await expect(problemOf(tokens.employeeToken(session, THIRD, HERE))).resolves.toMatchObject({ problem: { code: 'rate_limited' } });
    expect(provider.count('on_behalf_of')).toBe(3);
  });

  it('over the limit of their address are refused before the provider is asked, and cached ones still come', async () => {
    const { tokens, provider, login } = core({ freshAddressMax: 1, freshSessionMax: 100, sessionMax: 100 });
    const one = await login({ oid: 'one' });
    const two = await login({ oid: 'two' });
    const cached = await tokens.employeeToken(one, TARGET, HERE);
    const error = await problemOf(tokens.employeeToken(two, TARGET, HERE));
    expect(error.problem.message).toMatch(/fresh tokens .* from your address/);
    expect(provider.count('on_behalf_of')).toBe(1);
    expect(await tokens.employeeToken(one, TARGET, HERE)).toEqual(cached);
  });

  it('for a tool session, only for the target the employee consented to', async () => {
    const { tokens, provider, login } = core();
    const tool = await login(undefined, { tool: { client: 'Bruno', target: TARGET.target } });
    await tokens.employeeToken(tool, TARGET, HERE);
    const { problem } = await problemOf(tokens.employeeToken(tool, OTHER, HERE));
    expect(problem.code).toBe('target_not_consented');
    expect(PROBLEM_CODES[problem.code].oauth).toBe('invalid_scope');
    expect(problem.message).toContain('new authorization');
    expect(provider.count('on_behalf_of')).toBe(1);
  });
});

describe('tokens that live less than twice the two-minute early-expiry margin', () => {
  it('are kept for half their lifetime, app and employee tokens alike, so that asking again is not a fresh token each time', async () => {
    const { tokens, provider, login, clock } = core({ freshAddressMax: 4 });
    provider.tokenSeconds = 60;
    const session = await login();
    const app = await tokens.appToken(TARGET, HERE);
    const employee = await tokens.employeeToken(session, TARGET, HERE);
    clock.advance(29_000);
    // Each asked again and again under a fresh-token limit of four: from the cache, with 31 seconds left.
    for (let i = 0; i < 5; i++) {
      expect(await tokens.appToken(TARGET, HERE)).toEqual(app);
      expect(await tokens.employeeToken(session, TARGET, HERE)).toEqual(employee);
    }
    expect([provider.count('client_credentials'), provider.count('on_behalf_of')]).toEqual([1, 1]);
    // Inside the last half of their lifetime they are no longer handed out.
    clock.advance(2_000);
    expect(tokens.cachedAppToken(TARGET)).toBeUndefined();
    expect((await tokens.appToken(TARGET, HERE)).accessToken).not.toBe(app.accessToken);
    expect((await tokens.employeeToken(session, TARGET, HERE)).accessToken).not.toBe(employee.accessToken);
    expect([provider.count('client_credentials'), provider.count('on_behalf_of')]).toEqual([2, 2]);
  });

  it('are never handed out from the cache with less than a second left, which would say expires_in 0', async () => {
    const { tokens, provider, clock } = core();
    provider.tokenSeconds = 2;
    const app = await tokens.appToken(TARGET, HERE);
    clock.advance(900);
    const cached = await tokens.appToken(TARGET, HERE);
    expect(cached).toEqual(app);
    expect(responseBody(cached, clock.now()).expires_in).toBeGreaterThan(0);
    clock.advance(200);
    expect(tokens.cachedAppToken(TARGET)).toBeUndefined();
    // A token of one second is not kept at all.
    provider.tokenSeconds = 1;
    const short = await tokens.appToken(OTHER, HERE);
    clock.advance(100);
    expect((await tokens.appToken(OTHER, HERE)).accessToken).not.toBe(short.accessToken);
  });

  it('keep the full two minutes once they live four minutes or more', async () => {
    const { tokens, provider, clock } = core();
    provider.tokenSeconds = 240;
    const app = await tokens.appToken(TARGET, HERE);
    clock.advance(119_000);
    expect(tokens.cachedAppToken(TARGET)).toEqual(app);
    clock.advance(2_000);
    expect(tokens.cachedAppToken(TARGET)).toBeUndefined();
  });
});
