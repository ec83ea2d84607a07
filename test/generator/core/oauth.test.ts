/**
 * The authorization server's state in the core: codes (single use, a replay ends the tool session
 * the code started, RFC 6749 §4.1.2; a minute long), consent tokens (single use, for one browser
 * session), a tool session's refresh token (rotated on every use, a reused one ends the session) and
 * the target the employee consented to.
 */
import { createHash } from 'node:crypto';
import { digest } from '../../../src/digest.js';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { ConsentTokens } from '../../../src/generator/core/oauth/consent-tokens.js';
import { MAX_TOOL_ENTRIES } from '../../../src/generator/core/oauth/tool-access.js';
import type { CodeRedemption } from '../../../src/generator/core/oauth/codes.js';
import { StoreUnavailableError, type SessionStore } from '../../../src/session/index.js';
import { DeviceAuthorizations } from '../../../src/generator/core/device-authorizations.js';
import { DeviceCodes } from '../../../src/generator/core/oauth/device-codes.js';
import { ToolAccess } from '../../../src/generator/core/oauth/tool-access.js';
import { ToolSessions } from '../../../src/generator/core/oauth/tool-sessions.js';
import type { LoadedSession } from '../../../src/generator/core/sessions.js';
import { audience, core, type Core } from './harness.js';

const TARGET = audience('dev-gcp:team-a:api');
const OTHER = audience('dev-gcp:team-b:other-api');
const HERE = { address: '10.0.0.1' };
const VERIFIER = 'a-verifier-of-the-tool-that-is-long-enough-for-pkce-0123456789';
const REDIRECT = 'http://127.0.0.1:49152/callback';

/**
 * Makes the store's `nth` call from now refuse, as a Redis that went away does, and no other; says whether it did.
 * Refused before it is made: Redis's own refusals that it may yet make are undone by the store (test/session).
 */
function failOnce(store: SessionStore, nth: number): () => boolean {
  let calls = 0;
  const methods = [
    'get',
    'set',
    'update',
    'delete',
    'withLock',
    'consumeOnce',
    'setRecord',
    'getRecord',
    'swapRecord',
    'takeRecord',
  ] as const;
  for (const method of methods) {
    const real = (store[method] as (...args: unknown[]) => Promise<unknown>).bind(store);
    (store as unknown as Record<string, unknown>)[method] = (...args: unknown[]) =>
      ++calls === nth ? Promise.reject(new StoreUnavailableError('the store is away')) : real(...args);
  }
  return () => calls >= nth;
}

/** A code redeemed as the grant redeems it, with the redemption itself as the answer. */
const redeem = (parts: Core, redemption: CodeRedemption) => parts.codes.redeem(redemption, async (redeemed) => redeemed);

/** A code as the consent page's "allow" issues it (from `browser`, or a new login), and what the tool sends to redeem it. */
async function allowed(parts: Core, from?: LoadedSession, tools = parts.tools) {
  const browser = from ?? (await parts.login());
  const code = parts.codes.issue(await tools.allowing(browser), {
    client: 'IntelliJ',
    redirectUri: REDIRECT,
    challenge: createHash('sha256').update(VERIFIER).digest('base64url'),
    target: TARGET.target,
  });
  return { browser, redemption: { code, verifier: VERIFIER, redirectUri: REDIRECT, client: 'IntelliJ' } };
}

describe('an authorization code', () => {
  it('starts a tool session for the target the employee allowed, with its refresh token', async () => {
    const parts = core();
    const { browser, redemption } = await allowed(parts);
    const redeemed = await redeem(parts, redemption);
    expect(redeemed.target).toBe(TARGET.target);
    expect(redeemed.session.data.tool).toEqual({ client: 'IntelliJ', target: TARGET.target });
    expect(redeemed.session.data.user.oid).toBe(browser.data.user.oid);
    expect((await parts.tools.load(redeemed.refreshToken)).session.id).toBe(redeemed.session.id);
  });

  it('redeemed a second time is refused, and the tool session the first redemption started is ended', async () => {
    const parts = core();
    const { redemption } = await allowed(parts);
    const first = await redeem(parts, redemption);
    await expect(redeem(parts, redemption)).rejects.toMatchObject({
      problem: { code: 'invalid_grant', message: expect.stringContaining('already used') },
    });
    expect(await parts.store.get(first.session.id)).toBeUndefined();
    await expect(parts.tools.load(first.refreshToken)).rejects.toMatchObject({ problem: { code: 'invalid_grant' } });
    expect(await parts.tools.access.list('employee-1')).toEqual([]);
  });

  it('redeemed twice at once: one answer, and its session ended, even when the replay looks before it says where that is', async () => {
    const parts = core();
    const { redemption } = await allowed(parts);
    // The first to use the code up is held as it writes where its session is, until the second has settled.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const setRecord = parts.store.setRecord.bind(parts.store);
    parts.store.setRecord = async (key, value, ttlMs) => {
      if (key.startsWith('authorization-code-session:')) await held;
      return setRecord(key, value, ttlMs);
    };
    const both = [redeem(parts, redemption), redeem(parts, redemption)];
    await Promise.race(
      both.map((redemption) =>
        redemption.then(
          () => undefined,
          () => undefined,
        ),
      ),
    );
    release();
    const outcomes = await Promise.allSettled(both);
    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(outcomes.find((outcome) => outcome.status === 'rejected')).toMatchObject({ reason: { problem: { code: 'invalid_grant' } } });
    const answered = outcomes.find((outcome) => outcome.status === 'fulfilled')!.value;
    await expect(parts.tools.load(answered.refreshToken)).rejects.toMatchObject({ problem: { code: 'invalid_grant' } });
    expect(await parts.tools.access.list('employee-1')).toEqual([]);
  });

  it('whose first answer failed is not used up: the tool tries it again, and the session of the failed try is ended', async () => {
    const parts = core();
    const { redemption } = await allowed(parts);
    let failed: string | undefined;
    const failing = parts.codes.redeem(redemption, async (redeemed) => {
      failed = redeemed.session.id;
      throw new Error('the identity provider failed');
    });
    await expect(failing).rejects.toThrow('the identity provider failed');
    expect(await parts.store.get(failed!)).toBeUndefined();
    const again = await redeem(parts, redemption);
    expect((await parts.tools.load(again.refreshToken)).session.id).toBe(again.session.id);
    expect(await parts.tools.access.list('employee-1')).toHaveLength(1);
  });

  it('expires after a minute', async () => {
    const parts = core();
    const { redemption } = await allowed(parts);
    parts.clock.advance(60_000);
    await expect(redeem(parts, redemption)).rejects.toMatchObject({
      problem: { code: 'invalid_grant', message: expect.stringContaining('expired') },
    });
  });

  it('is bound to its PKCE verifier, its redirect URI and its tool, and is not used up by a wrong one', async () => {
    const parts = core();
    const { redemption } = await allowed(parts);
    for (const wrong of [
      { verifier: undefined },
      { verifier: `${VERIFIER}x` },
      { redirectUri: 'http://127.0.0.1:49153/callback' },
      { client: 'Postman' },
      { code: 'not a code' },
    ]) {
      await expect(redeem(parts, { ...redemption, ...wrong })).rejects.toMatchObject({ problem: { code: 'invalid_grant' } });
    }
    await expect(redeem(parts, { ...redemption, client: undefined })).resolves.toBeDefined();
  });

  /** Redeems the code, with `meanwhile` done while its first answer is made; the tool session started, and the outcome. */
  async function redeemedWhile(parts: Core, redemption: CodeRedemption, meanwhile: () => Promise<unknown>) {
    let started: string | undefined;
    const outcome = await parts.codes
      .redeem(redemption, async (answer) => {
        started = answer.session.id;
        await meanwhile();
        return answer;
      })
      .then(
        (): { refused?: unknown } => ({}),
        (err: unknown) => ({ refused: err }),
      );
    return { started: started!, outcome };
  }

  const endedOnce = async (parts: Core, started: string, outcome: { refused?: unknown }) => {
    expect(outcome.refused).toMatchObject({ problem: { code: 'invalid_grant', message: expect.stringContaining('ended') } });
    expect(await parts.store.get(started)).toBeUndefined();
    expect(await parts.tools.access.list('employee-1')).toEqual([]);
  };

  it('whose browser login logs out while the first answer is made: the tool gets no answer, and its session ends', async () => {
    const parts = core();
    const { browser, redemption } = await allowed(parts);
    // The logout as the log-out page makes it: the tools that login allowed (this one is not listed yet), then the login.
    const { started, outcome } = await redeemedWhile(parts, redemption, () =>
      parts.tools.logout(browser.id, 'employee-1', false, () => parts.sessions.destroy(browser.id)),
    );
    await endedOnce(parts, started, outcome);
  });

  it('whose browser login logs out while the first answer is made, the login not yet gone when it is listed, ends too', async () => {
    const parts = core();
    const { browser, redemption } = await allowed(parts);
    // The logout's tools ended, its login not yet: the tool is listed, and finds the login still there.
    const logout = () => parts.tools.logout(browser.id, 'employee-1', false, async () => undefined);
    const { started, outcome } = await redeemedWhile(parts, redemption, logout);
    await endedOnce(parts, started, outcome);
    await parts.sessions.destroy(browser.id);
  });

  it('of an employee logged out everywhere from another browser while the first answer is made ends; a later one does not', async () => {
    const parts = core();
    const { redemption } = await allowed(parts);
    const other = await parts.login();
    const { started, outcome } = await redeemedWhile(parts, redemption, () =>
      parts.tools.logout(other.id, 'employee-1', true, () => parts.sessions.destroy(other.id)),
    );
    await endedOnce(parts, started, outcome);
    parts.clock.advance(1_000);
    const later = await allowed(parts);
    await expect(redeem(parts, later.redemption)).resolves.toBeDefined();
    expect(await parts.tools.access.list('employee-1')).toHaveLength(1);
  });

  it('of a login whose logout failed is answered: the failed logout took back what it had said', async () => {
    const parts = core();
    const { browser, redemption } = await allowed(parts);
    const refused = new StoreUnavailableError('the store is away');
    const failed = parts.tools.logout(browser.id, 'employee-1', false, () => Promise.reject(refused));
    await expect(failed).rejects.toBe(refused);
    await expect(redeem(parts, redemption)).resolves.toBeDefined();
    expect(await parts.tools.access.list('employee-1')).toHaveLength(1);
  });

  it('of a browser login that ended meanwhile starts nothing', async () => {
    const parts = core();
    const { browser, redemption } = await allowed(parts);
    await parts.sessions.destroy(browser.id);
    await expect(redeem(parts, redemption)).rejects.toMatchObject({ problem: { code: 'invalid_grant' } });
  });
});

describe('a grant allowed before a logout, and used after it', () => {
  /** The tool's side of a grant: `use` redeems or polls it; `answers` counts the first answers made (the identity provider's work). */
  interface Grant {
    use(): Promise<unknown>;
    answers: () => number;
  }
  type Flow = (parts: Core, browser: LoadedSession) => Promise<Grant>;

  const byCode: Flow = async (parts, browser) => {
    const { redemption } = await allowed(parts, browser);
    let answers = 0;
    const use = () => parts.codes.redeem(redemption, async (redeemed) => (answers++, redeemed));
    return { use, answers: () => answers };
  };

  /** A device code the employee allowed on the device page (of the replica of `tools`, by default this one), polled here. */
  const byDevice =
    (tools?: ToolSessions): Flow =>
    async (parts, browser) => {
      const devices = new DeviceAuthorizations(parts.store, { lifetimeMs: 300_000 }, parts.clock.now);
      const created = await devices.create({ client: 'k6', target: TARGET.target, address: HERE.address, userAgent: 'k6' });
      const found = await devices.find(created.userCode);
      expect(await devices.decide(found!.deviceCode, true, await (tools ?? parts.tools).allowing(browser))).toBe(true);
      const codes = new DeviceCodes(devices, parts.tools);
      let answers = 0;
      const use = () => {
        parts.clock.advance(5_000);
        return codes.redeem({ deviceCode: created.deviceCode, client: 'k6' }, async (redeemed) => (answers++, redeemed));
      };
      return { use, answers: () => answers };
    };

  const everywhere = (parts: Core, from: LoadedSession, tools = parts.tools) =>
    tools.logout(from.id, 'employee-1', true, () => parts.sessions.destroy(from.id));

  /** Refused, with no answer made and no tool listed. */
  const refused = async (parts: Core, grant: Grant, words: string) => {
    await expect(grant.use()).rejects.toMatchObject({ problem: { code: 'invalid_grant', message: expect.stringContaining(words) } });
    expect(grant.answers()).toBe(0);
    expect(await parts.tools.access.list('employee-1')).toEqual([]);
  };

  for (const [name, flow] of [
    ['a code', byCode],
    ['a device code', byDevice()],
  ] as const) {
    describe(name, () => {
      it('ends with the logout of the browser login that allowed it', async () => {
        const parts = core();
        const browser = await parts.login();
        const grant = await flow(parts, browser);
        await parts.tools.logout(browser.id, 'employee-1', false, () => parts.sessions.destroy(browser.id));
        await refused(parts, grant, 'login behind this grant has ended');
      });

      it('ends with "log out everywhere" from another browser; one allowed after it by the login that lives on is answered', async () => {
        const parts = core();
        const browser = await parts.login();
        const before = await flow(parts, browser);
        await everywhere(parts, await parts.login());
        await refused(parts, before, 'logged out everywhere after allowing');
        const after = await flow(parts, browser);
        await expect(after.use()).resolves.toBeDefined();
        expect(await parts.tools.access.list('employee-1')).toHaveLength(1);
        // And a second "log out everywhere" ends what was allowed between the two.
        const between = await flow(parts, browser);
        await everywhere(parts, await parts.login());
        await refused(parts, between, 'logged out everywhere after allowing');
      });

      it('stays good after a plain logout of another browser login of the employee', async () => {
        const parts = core();
        const browser = await parts.login();
        const grant = await flow(parts, browser);
        const other = await parts.login();
        await parts.tools.logout(other.id, 'employee-1', false, () => parts.sessions.destroy(other.id));
        await expect(grant.use()).resolves.toBeDefined();
      });
    });
  }

  it('ends on a replica whose clock is ahead of the one that logged out: no clocks are compared', async () => {
    const parts = core();
    // The replica where the employee logs out everywhere, its clock a second behind the one where they allowed the tools.
    const behind = () => parts.clock.now() - 1_000;
    const replica = new ToolSessions(parts.sessions, parts.sealer, new ToolAccess(parts.store, behind), behind);
    const browser = await parts.login();
    const code = await byCode(parts, browser);
    const device = await byDevice()(parts, browser);
    await everywhere(parts, await parts.login(), replica);
    await refused(parts, code, 'logged out everywhere');
    await refused(parts, device, 'logged out everywhere');
    // The other way round: allowed on the replica behind, just after a logout on the one ahead, and answered.
    const after = await byDevice(replica)(parts, browser);
    await expect(after.use()).resolves.toBeDefined();
  });

  it('allowed after a failed "log out everywhere" is answered; one allowed before it stays ended, as the employee asked', async () => {
    const parts = core();
    const browser = await parts.login();
    const before = await byCode(parts, browser);
    const other = await parts.login();
    const failure = new StoreUnavailableError('the store is away');
    await expect(parts.tools.logout(other.id, 'employee-1', true, () => Promise.reject(failure))).rejects.toBe(failure);
    await refused(parts, before, 'logged out everywhere');
    // The login whose logout failed can still allow tools, as can any other of the employee's.
    for (const from of [other, browser]) await expect((await byCode(parts, from)).use()).resolves.toBeDefined();
  });

  it('allowed while the mark of a "log out everywhere" was kept, and used once it is not any more, is answered', async () => {
    const parts = core();
    const browser = await parts.login();
    await everywhere(parts, await parts.login());
    const code = await byCode(parts, browser);
    const device = await byDevice()(parts, browser);
    // The mark's time in the store passed (the store's own clock is not the test's).
    expect(await parts.store.takeRecord(`tool-logout-mark:${digest('employee-1')}`)).toBe(true);
    await expect(code.use()).resolves.toBeDefined();
    await expect(device.use()).resolves.toBeDefined();
  });
  it('allowed on a replica of the earlier version is not ended by the time that version kept for "log out everywhere"', async () => {
    const parts = core();
    const browser = await parts.login();
    // During a deploy: a replica of the earlier version says "log out everywhere" as a time under the name it used, and
    // allows grants that carry no mark.
    await parts.store.setRecord(`tool-logged-out-everywhere:${digest('employee-1')}`, String(parts.clock.now()), 15 * 60_000);
    const earlier = { allowing: async (from: LoadedSession) => ({ session: from.id }) } as unknown as ToolSessions;
    const { redemption } = await allowed(parts, browser, earlier);
    const device = await byDevice(earlier)(parts, browser);
    await expect(redeem(parts, redemption)).resolves.toBeDefined();
    await expect(device.use()).resolves.toBeDefined();
  });
});

describe('a consent token', () => {
  const Asked = z.object({ target: z.string() });

  it('opens once, for the browser session it was shown to, within ten minutes', async () => {
    const { sealer, store, limits, clock, login } = core();
    const consents = new ConsentTokens(sealer, store, limits, 'authorize-consent', Asked, clock.now);
    const session = await login();
    const other = await login();
    const token = consents.issue(session, { target: TARGET.target });
    await expect(consents.open(other, token)).rejects.toMatchObject({ problem: { code: 'consent_refused' } });
    expect(await consents.open(session, token)).toEqual({ target: TARGET.target });
    await expect(consents.open(session, token)).rejects.toMatchObject({
      problem: { code: 'consent_refused', message: expect.stringContaining('already answered') },
    });
    const late = consents.issue(session, { target: TARGET.target });
    clock.advance(10 * 60_000);
    await expect(consents.open(session, late)).rejects.toMatchObject({
      problem: { code: 'consent_refused', message: expect.stringContaining('expired') },
    });
  });

  it("counts each answer against the login's limit on requests: past it, refused and remembered nowhere", async () => {
    const { sealer, store, limits, clock, login } = core({ sessionMax: 2 });
    const consents = new ConsentTokens(sealer, store, limits, 'authorize-consent', Asked, clock.now);
    const session = await login();
    const other = await login();
    const tokens = [1, 2, 3].map(() => consents.issue(session, { target: TARGET.target }));
    await consents.open(session, tokens[0]);
    await consents.open(session, 'not a consent token').catch(() => undefined);
    const remembered = vi.spyOn(store, 'consumeOnce');
    await expect(consents.open(session, tokens[1])).rejects.toMatchObject({ problem: { code: 'rate_limited' } });
    expect(remembered).not.toHaveBeenCalled();
    // Another login has a limit of its own; this one's answers count again in the next window.
    expect(await consents.open(other, consents.issue(other, { target: OTHER.target }))).toEqual({ target: OTHER.target });
    clock.advance(60_000);
    expect(await consents.open(session, tokens[2])).toEqual({ target: TARGET.target });
  });

  it('of one purpose opens for no other', async () => {
    const { sealer, store, limits, login } = core();
    const session = await login();
    const authorize = new ConsentTokens(sealer, store, limits, 'authorize-consent', Asked);
    const device = new ConsentTokens(sealer, store, limits, 'device-consent', Asked);
    const token = authorize.issue(session, { target: TARGET.target });
    await expect(device.open(session, token)).rejects.toMatchObject({ problem: { code: 'consent_refused' } });
  });
});

describe("a tool session's refresh token", () => {
  it('rotates on every use; the token before is refused afterwards and ends the session', async () => {
    const parts = core();
    const { redemption } = await allowed(parts);
    const { refreshToken: first, session } = await redeem(parts, redemption);
    const second = await parts.tools.rotate(await parts.tools.load(first));
    expect(second).not.toBe(first);
    const third = await parts.tools.rotate(await parts.tools.load(second));
    await expect(parts.tools.load(first)).rejects.toMatchObject({
      problem: { code: 'invalid_grant', message: expect.stringContaining('already used') },
    });
    expect(await parts.store.get(session.id)).toBeUndefined();
    await expect(parts.tools.load(third)).rejects.toMatchObject({ problem: { code: 'invalid_grant' } });
  });

  it('used by two refreshes at once: the second to rotate ends the session', async () => {
    const parts = core();
    const { redemption } = await allowed(parts);
    const { refreshToken, session } = await redeem(parts, redemption);
    const [one, two] = [await parts.tools.load(refreshToken), await parts.tools.load(refreshToken)];
    await parts.tools.rotate(one);
    await expect(parts.tools.rotate(two)).rejects.toMatchObject({ problem: { code: 'invalid_grant' } });
    expect(await parts.store.get(session.id)).toBeUndefined();
  });

  it('refused by the store at any step of a refresh, still refreshes once on retry, and its copy is refused after', async () => {
    for (let failing = 1; ; failing++) {
      const parts = core();
      const { redemption } = await allowed(parts);
      const { refreshToken, session } = await redeem(parts, redemption);
      const refused = failOnce(parts.store, failing);
      // As the refresh token grant does: the session, the answer, then the next refresh token.
      const refresh = async () => {
        const held = await parts.tools.load(refreshToken);
        await parts.tokens.employeeToken(held.session, TARGET, HERE);
        return parts.tools.rotate(held);
      };
      const first = await refresh().then(
        (next) => ({ next }),
        (err: unknown) => ({ err }),
      );
      if (!refused()) {
        // Every step of a refresh has been refused in turn.
        expect(failing).toBeGreaterThan(3);
        return;
      }
      if ('next' in first) {
        // The look after the rotation, whether the session ended meanwhile: a store that cannot say leaves the answer.
        await expect(parts.tools.load(first.next)).resolves.toBeDefined();
        continue;
      }
      expect(first.err).toBeInstanceOf(StoreUnavailableError);
      const next = await refresh();
      expect(await parts.store.get(session.id)).toBeDefined();
      await expect(parts.tools.load(refreshToken)).rejects.toMatchObject({ problem: { code: 'invalid_grant' } });
      expect(await parts.store.get(session.id)).toBeUndefined();
      await expect(parts.tools.load(next)).rejects.toMatchObject({ problem: { code: 'invalid_grant' } });
    }
  });

  it('ended while the answer to its refresh is made, refuses that answer: nothing is handed out after the ending', async () => {
    const parts = core();
    const { redemption } = await allowed(parts);
    const { refreshToken } = await redeem(parts, redemption);
    const held = await parts.tools.load(refreshToken);
    expect(await parts.tools.end(refreshToken)).toBe(true);
    await expect(parts.tools.rotate(held)).rejects.toMatchObject({ problem: { code: 'invalid_grant' } });
  });

  it('revoked, ends its session and its entry in the list of tools', async () => {
    const parts = core();
    const { redemption } = await allowed(parts);
    const { refreshToken } = await redeem(parts, redemption);
    expect(await parts.tools.access.list('employee-1')).toHaveLength(1);
    expect(await parts.tools.end(refreshToken)).toBe(true);
    expect(await parts.tools.access.list('employee-1')).toEqual([]);
    await expect(parts.tools.load(refreshToken)).rejects.toMatchObject({ problem: { code: 'invalid_grant' } });
    expect(await parts.tools.end('not a refresh token')).toBe(false);
  });
});

describe('a tool that stops waiting for its answer', () => {
  /** A tool that waits through `looks` looks at it, and is gone from then on. */
  const waitsFor = (looks: number) => {
    let looked = 0;
    return () => ++looked <= looks;
  };
  const gone = { problem: { code: 'tool_gone' } };

  it('while its first answer is listed keeps its code, whose retry gets the tokens', async () => {
    const parts = core();
    const { redemption } = await allowed(parts);
    // Waiting as the answer is made, gone by the look right before the code would be used up.
    await expect(redeem(parts, { ...redemption, waiting: waitsFor(1) })).rejects.toMatchObject(gone);
    expect(await parts.tools.access.list('employee-1')).toEqual([]);
    const retried = await redeem(parts, redemption);
    await expect(parts.tools.load(retried.refreshToken)).resolves.toBeDefined();
    expect(await parts.tools.access.list('employee-1')).toHaveLength(1);
  });

  it('once its refresh token was rotated has the rotation undone: the retry with the same token refreshes, the session kept', async () => {
    const parts = core();
    const { redemption } = await allowed(parts);
    const { refreshToken, session } = await redeem(parts, redemption);
    // Waiting until the rotation, gone by the look after it.
    await expect(parts.tools.rotate(await parts.tools.load(refreshToken), waitsFor(1))).rejects.toMatchObject(gone);
    const next = await parts.tools.rotate(await parts.tools.load(refreshToken));
    await expect(parts.tools.load(next)).resolves.toBeDefined();
    expect(await parts.store.get(session.id)).toBeDefined();
  });
});

describe("an employee's list of tools", () => {
  it('full, ends the oldest tool as a new one is listed: no tool with access is beyond the list, and so beyond a logout', async () => {
    const parts = core();
    const tokens: string[] = [];
    for (let i = 0; i <= MAX_TOOL_ENTRIES; i++) tokens.push((await redeem(parts, (await allowed(parts)).redemption)).refreshToken);
    const listed = await parts.tools.access.list('employee-1');
    expect(listed).toHaveLength(MAX_TOOL_ENTRIES);
    await expect(parts.tools.load(tokens[0]!)).rejects.toMatchObject({ problem: { code: 'invalid_grant' } });
    // "Log out everywhere" then ends every tool that still has access.
    await parts.tools.endWhere('employee-1', () => true);
    for (const token of tokens) await expect(parts.tools.load(token)).rejects.toMatchObject({ problem: { code: 'invalid_grant' } });
  });

  it('ended together, stay listed when the store fails halfway, for the employee to end again', async () => {
    const parts = core();
    const tokens: string[] = [];
    for (let i = 0; i < 3; i++) tokens.push((await redeem(parts, (await allowed(parts)).redemption)).refreshToken);
    const second = (await parts.tools.load(tokens[1]!)).session.id;
    const destroy = parts.sessions.destroy.bind(parts.sessions);
    parts.sessions.destroy = (id) => (id === second ? Promise.reject(new StoreUnavailableError('the store is away')) : destroy(id));
    await expect(parts.tools.endWhere('employee-1', () => true)).rejects.toBeInstanceOf(StoreUnavailableError);
    parts.sessions.destroy = destroy;
    // Not one of them alive and unlisted: the ones still alive are listed, and end at the next try.
    const listed = new Set((await parts.tools.access.list('employee-1')).map((entry) => entry.session));
    for (const token of tokens) {
      const held = await parts.tools.load(token).catch(() => undefined);
      if (held) expect(listed).toContain(held.session.id);
    }
    expect(listed.size).toBeGreaterThan(0);
    await expect(parts.tools.endWhere('employee-1', () => true)).resolves.toBe(3);
    for (const token of tokens) await expect(parts.tools.load(token)).rejects.toMatchObject({ problem: { code: 'invalid_grant' } });
  });

  it('full, keeps the oldest tool listed when its end fails, and the new tool gets no answer', async () => {
    const parts = core();
    const tokens: string[] = [];
    for (let i = 0; i < MAX_TOOL_ENTRIES; i++) tokens.push((await redeem(parts, (await allowed(parts)).redemption)).refreshToken);
    const { redemption } = await allowed(parts);
    const oldest = (await parts.tools.load(tokens[0]!)).session.id;
    const destroy = parts.sessions.destroy.bind(parts.sessions);
    parts.sessions.destroy = (id) => (id === oldest ? Promise.reject(new StoreUnavailableError('the store is away')) : destroy(id));
    await expect(redeem(parts, redemption)).rejects.toBeInstanceOf(StoreUnavailableError);
    parts.sessions.destroy = destroy;
    expect((await parts.tools.access.list('employee-1')).map((entry) => entry.session)).toContain(oldest);
    expect((await parts.tools.load(tokens[0]!)).session.id).toBe(oldest);
  });
});

describe('the targets a tool session was consented for', () => {
  it('get its tokens; any other target is refused without asking the provider', async () => {
    const parts = core();
    const { redemption } = await allowed(parts);
    const { session } = await redeem(parts, redemption);
    const token = await parts.tokens.employeeToken(session, TARGET, HERE);
    expect(token.accessToken).toContain(`obo employee-1 ${TARGET.scope}`);
    await expect(parts.tokens.employeeToken(session, OTHER, HERE)).rejects.toMatchObject({
      problem: { code: 'target_not_consented' },
    });
    expect(parts.provider.count('on_behalf_of')).toBe(1);
  });
});
