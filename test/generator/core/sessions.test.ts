/**
 * The rules of `core/sessions.ts` on the test's clock: when the employee's token is renewed (within
 * the margin, behind the request while it is still usable, before it once it ran out), how long a
 * session lives, and that an ended session stays ended.
 */
import { describe, expect, it } from 'vitest';
import { ToolSessions } from '../../../src/generator/core/oauth/tool-sessions.js';
import { needsRefresh } from '../../../src/generator/core/sessions.js';
import { ProblemError } from '../../../src/generator/core/problem.js';
import { refused } from '../../../src/generator/idp/fake.js';
import type { IdpError } from '../../../src/generator/idp/identity-provider.js';
import { core } from './harness.js';

const MINUTE = 60_000;
/** The fake provider's employee tokens live an hour. */
const TOKEN_MS = 60 * MINUTE;

describe('an employee token is renewed', () => {
  it('not while more than the margin (five minutes, or a third of its lifetime) is left of it', async () => {
    const { sessions, provider, clock, login } = core();
    const session = await login();
    clock.advance(TOKEN_MS - 6 * MINUTE);
    expect(needsRefresh(session.data, clock.now())).toBe(false);
    expect((await sessions.loadById(session.id))?.data.accessToken).toBe(session.data.accessToken);
    await sessions.settled();
    expect(provider.count('refresh_token')).toBe(0);
  });

  it('behind the request within the margin: the request goes on with the token it has, the next one gets the new one', async () => {
    const { sessions, provider, clock, login } = core();
    const session = await login();
    clock.advance(TOKEN_MS - 4 * MINUTE);
    const loaded = await sessions.loadById(session.id);
    expect(loaded?.data.accessToken).toBe(session.data.accessToken);
    await sessions.settled();
    expect(provider.count('refresh_token')).toBe(1);
    const next = await sessions.loadById(session.id);
    expect(next?.data.accessToken).not.toBe(session.data.accessToken);
    expect(next?.data.accessTokenExpiresAt).toBe(clock.now() + TOKEN_MS);
    await sessions.settled();
    expect(provider.count('refresh_token')).toBe(1);
  });

  it('before the request once the token ran out', async () => {
    const { sessions, provider, clock, login } = core();
    const session = await login();
    clock.advance(TOKEN_MS + MINUTE);
    const loaded = await sessions.loadById(session.id);
    expect(loaded?.data.accessToken).not.toBe(session.data.accessToken);
    expect(provider.count('refresh_token')).toBe(1);
  });

  it('once for many requests at a time', async () => {
    const { sessions, provider, clock, login } = core();
    const session = await login();
    clock.advance(TOKEN_MS + MINUTE);
    const release = provider.hold('refresh_token');
    const loads = Array.from({ length: 5 }, () => sessions.loadById(session.id));
    release();
    const loaded = await Promise.all(loads);
    expect(new Set(loaded.map((one) => one?.data.accessToken)).size).toBe(1);
    expect(provider.count('refresh_token')).toBe(1);
  });

  it('and a provider that fails for now keeps the session to try again, with its advice', async () => {
    const { sessions, provider, clock, login, store } = core();
    const session = await login();
    clock.advance(TOKEN_MS + MINUTE);
    provider.script('refresh_token', { kind: 'timeout', timeoutMs: 5 });
    const error = await sessions.loadById(session.id).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ProblemError);
    expect((error as ProblemError).problem.code).toBe('identity_provider_timeout');
    expect(await store.get(session.id)).toBeDefined();
    expect((await sessions.loadById(session.id))?.data.accessToken).not.toBe(session.data.accessToken);
  });
});

describe('a session ends', () => {
  it('at its maximum lifetime', async () => {
    const { sessions, clock, login, config } = core();
    const session = await login();
    expect(session.data.expiresAt).toBe(clock.now() + config.session.maxLifetimeMs);
    clock.advance(config.session.maxLifetimeMs - MINUTE);
    // Its token ran out long ago, but the refresh token keeps it going until then.
    expect(await sessions.loadById(session.id)).toBeDefined();
    clock.advance(MINUTE);
    expect(await sessions.loadById(session.id)).toBeUndefined();
  });

  it('when the provider no longer honours its grant, and stays ended', async () => {
    const { sessions, provider, clock, login, store } = core();
    const session = await login();
    clock.advance(TOKEN_MS + MINUTE);
    provider.script('refresh_token', refused(70008));
    expect(await sessions.loadById(session.id)).toBeUndefined();
    expect(await store.get(session.id)).toBeUndefined();
    expect(await sessions.loadById(session.id)).toBeUndefined();
    expect(provider.count('refresh_token')).toBe(1);
  });

  it('for good when a logout ends it while its token is being renewed', async () => {
    const { sessions, provider, clock, login, store } = core();
    const session = await login();
    clock.advance(TOKEN_MS + MINUTE);
    const release = provider.hold('refresh_token');
    const loading = sessions.loadById(session.id);
    await sessions.destroy(session.id);
    release();
    expect(await loading).toBeUndefined();
    expect(await store.get(session.id)).toBeUndefined();
  });

  it('and a session whose token the provider refused is renewed once, or ended when it cannot be', async () => {
    const { sessions, provider, login } = core();
    const session = await login();
    provider.rotateKeys();
    provider.script('refresh_token', refused(70008));
    const refusal = await provider.onBehalfOf(session.data.accessToken, 'api://x/.default').catch((err: unknown) => err);
    expect(await sessions.renewRefused(session, refusal as IdpError)).toBeUndefined();
    expect(await sessions.loadById(session.id)).toBeUndefined();
  });
});

describe("a tool's session", () => {
  const TOOL = { client: 'IntelliJ', target: 'dev-gcp:team-a:api' };

  it('ends no later than the browser login it was allowed from', async () => {
    const { tools, clock, login, config } = core();
    const browser = await login();
    clock.advance(config.session.maxLifetimeMs / 2);
    const { session, refreshToken } = await tools.start({ session: browser.id }, TOOL, 'this computer');
    expect(session.data.expiresAt).toBe(browser.data.expiresAt);
    expect((await tools.load(refreshToken)).session.id).toBe(session.id);
    clock.advance(config.session.maxLifetimeMs / 2);
    await expect(tools.load(refreshToken)).rejects.toMatchObject({ problem: { code: 'invalid_grant' } });
  });

  it('ends with its browser login at logout, and is not started from an ended one', async () => {
    const { tools, sessions, login } = core();
    const browser = await login();
    const other = await login();
    // Started and answered, as a grant does: listed for the employee.
    const answered = async (id: string) => {
      const started = await tools.start({ session: id }, TOOL, 'this computer');
      return tools.firstAnswer(
        started,
        async () => started,
        async () => undefined,
      );
    };
    const allowed = await answered(browser.id);
    const elsewhere = await answered(other.id);
    expect(await tools.endWhere('employee-1', ToolSessions.allowedBy(browser.id))).toBe(1);
    await sessions.destroy(browser.id);
    await expect(tools.load(allowed.refreshToken)).rejects.toMatchObject({ problem: { code: 'invalid_grant' } });
    expect((await tools.load(elsewhere.refreshToken)).session.id).toBe(elsewhere.session.id);
    await expect(tools.start({ session: browser.id }, TOOL, 'this computer')).rejects.toMatchObject({ problem: { code: 'invalid_grant' } });
  });
});
