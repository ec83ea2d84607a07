/**
 * A tool's own session: started from the employee's browser session when they allow the tool, ending
 * no later than that browser login, and listed for the employee (ToolAccess), who can end it. The
 * tool holds it as its refresh token, a sealed handle on the session's id that opens for nothing else
 * (not as a session cookie, and no cookie opens as it). The token rotates on every refresh: a token
 * used after it was rotated is a copy, and ends the session, as a code used twice does.
 *
 * A grant (an authorization code, an allowed device code) ends with every logout said after the employee allowed it,
 * whether its tool has used it yet or not: the logout of the login that allowed it, or the employee's "log out
 * everywhere" from any browser. The latter is told by a mark rather than a time: each "log out everywhere" says a new
 * random mark for the employee, a grant carries the mark said when it was allowed (`allowing`), and one whose mark is no
 * longer the employee's was allowed before a later logout. Replicas then compare values each read from the one store, in
 * its order, and never their clocks, which differ; a time compared across them would let a grant allowed a few
 * milliseconds before a logout (by another replica's clock) outlive it, or refuse one allowed just after.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Sealer } from '../../../session/index.js';
import type { LoadedSession, Sessions } from '../sessions.js';
import { refuse } from '../problem.js';
import { digest } from '../../../digest.js';
import { refuseGone, type Waiting } from './waiting.js';
import type { ToolAccess, ToolEntry } from './tool-access.js';

const HANDLE = 'tool-refresh-token';
const RefreshToken = z.object({ id: z.string(), generation: z.string(), handle: z.string() });
type RefreshToken = z.infer<typeof RefreshToken>;

/** A tool session just started: the session, its first refresh token, and its entry in the employee's list, once it is listed. */
export interface StartedTool {
  session: LoadedSession;
  refreshToken: string;
  entry: ToolEntry;
  allowedBy: AllowedBy;
}

/** Who allowed a grant, as the grant carries it (`ToolSessions.allowing`). */
export interface AllowedBy {
  /** The id of the browser login that allowed it. */
  session: string;
  /** The employee's logout mark when they allowed it: none when no "log out everywhere" of theirs was kept then. */
  mark?: string | undefined;
}

/** A tool session as a refresh token opened it: the session, and the token's place in the rotation. */
export interface HeldSession {
  session: LoadedSession;
  token: RefreshToken;
}

const newId = () => randomBytes(16).toString('base64url');
const generationKey = (id: string) => `tool-generation:${id}`;
/** That a browser login logged out, and the mark of an employee's last "log out everywhere". */
const loggedOutKey = (browserSessionId: string) => `tool-logged-out:${digest(browserSessionId)}`;
// Named apart from the time earlier versions kept for it (`tool-logged-out-everywhere:`), so that replicas of either
// version running side by side during a deploy never read the other's value as their own.
const everywhereKey = (employee: string) => `tool-logout-mark:${digest(employee)}`;
/**
 * How long both are kept: longer than any grant lives after it was allowed (a code a minute, a device code at most five,
 * DEVICE_CODE_SECONDS) with its first answer. So a logout said after a grant was allowed is still read when that grant is
 * used, and a mark no longer kept is one no grant still alive was allowed before.
 */
const LOGOUT_KEPT_MS = 15 * 60_000;

const LOGIN_ENDED = 'The login behind this grant has ended (logged out or expired): start again.';
const LOGGED_OUT_EVERYWHERE =
  'The employee logged out everywhere after allowing this grant, which ended it: start again, and allow the tool anew.';
const ENDED = 'This refresh token is not valid any more (its session was ended or expired): log in again.';

export class ToolSessions {
  constructor(
    private readonly sessions: Sessions,
    private readonly sealer: Sealer,
    readonly access: ToolAccess,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * A session of the tool's own, from the employee's browser session, and its refresh token; refused once that session has
   * ended. Listed for the employee by `firstAnswer`, once the tool has its token.
   */
  async start(allowedBy: AllowedBy, tool: { client: string; target: string }, from: string): Promise<StartedTool> {
    const browserSessionId = allowedBy.session;
    const browser = await this.sessions.loadById(browserSessionId);
    if (!browser) throw refuse('invalid_grant', LOGIN_ENDED);
    // A grant a logout ended starts no session of its own.
    await this.refuseEnded(allowedBy, browser.data.user.oid);
    const { user, accessToken, accessTokenExpiresAt, accessTokenObtainedAt, refreshToken } = browser.data;
    const created = await this.sessions.create({
      user,
      accessToken,
      accessTokenExpiresAt,
      ...(accessTokenObtainedAt !== undefined ? { accessTokenObtainedAt } : {}),
      ...(refreshToken ? { refreshToken } : {}),
      tool,
    });
    // No later than the browser login that allowed it.
    const data = { ...created.data, expiresAt: Math.min(created.data.expiresAt, browser.data.expiresAt) };
    await this.sessions.manager.update(created.id, data);
    const token = { id: created.id, generation: newId(), handle: newId() };
    await this.sessions.manager.store.setRecord(generationKey(created.id), token.generation, this.ttl(data.expiresAt));
    const entry: ToolEntry = {
      handle: token.handle,
      session: created.id,
      browser: digest(browserSessionId),
      ...tool,
      from,
      since: this.now(),
      expiresAt: data.expiresAt,
    };
    return { session: { id: created.id, data }, refreshToken: this.seal(token), entry, allowedBy };
  }

  /** What a grant the employee allows now from this browser login carries: the login, and the employee's logout mark. */
  async allowing(browser: LoadedSession): Promise<AllowedBy> {
    const mark = await this.sessions.manager.store.getRecord(everywhereKey(browser.data.user.oid));
    return { session: browser.id, ...(mark !== undefined ? { mark } : {}) };
  }

  /**
   * The first answer of a tool session just started, handed out only once `claim` took the grant it came from (the
   * authorization code, the device code), which it does only once: a grant is used up by an answer ready to go, so that a
   * redemption that failed on its way (the identity provider refused or failed, the generator died) leaves the tool its
   * grant to try again, as the failure's advice says. Without an answer the tool holds no refresh token, so the session
   * is ended again; it is listed as a tool with access only with its answer, so that one whose replica died on the way,
   * which no tool holds either, is never shown to the employee (it expires unheld). A logout while the answer was made
   * found it not yet listed: once listed, it ends if that login ended, or a logout (`logout`) was said since the grant was
   * allowed.
   */
  async firstAnswer<T>(started: StartedTool, answer: () => Promise<T>, claim: () => Promise<void>, waiting?: Waiting): Promise<T> {
    try {
      const answered = await answer();
      refuseGone(waiting);
      await this.access.add(started.session.data.user.oid, started.entry, (oldest) => this.destroyAll(oldest));
      await this.refuseEnded(started.allowedBy, started.session.data.user.oid);
      await this.access.used(started.entry);
      // Looked at again right before the grant is used up: the steps above take store round trips.
      refuseGone(waiting);
      await claim();
      return answered;
    } catch (err) {
      await this.endById(started.session.id).catch(() => undefined);
      throw err;
    }
  }

  /** The tool's session behind a refresh token, with a fresh employee token; a rotated token ends it. */
  async load(refreshToken: string): Promise<HeldSession> {
    const token = this.open(refreshToken);
    const session = token ? await this.sessions.loadById(token.id) : undefined;
    if (!token || !session?.data.tool) throw refuse('invalid_grant', ENDED);
    const current = await this.sessions.manager.store.getRecord(generationKey(token.id));
    if (current !== token.generation) await this.replayed(session);
    return { session, token };
  }

  /**
   * The next refresh token, once the answer to this one is ready; of two refreshes with one token, the second ends the
   * session. The rotation is the store's one step, the last: a store that refuses any step before it or the step itself
   * leaves the token as it was, for the tool's retry, where a rotation cut in two would take the retry for a copy. A tool
   * that stopped `waiting` before the answer went out has the rotation undone, for the same retry (`waiting.ts`).
   */
  async rotate(held: HeldSession, waiting?: Waiting): Promise<string> {
    const expiresAt = held.session.data.expiresAt;
    await this.access.used({ handle: held.token.handle, expiresAt });
    const next = { ...held.token, generation: newId() };
    const store = this.sessions.manager.store;
    const key = generationKey(held.token.id);
    refuseGone(waiting);
    if (!(await store.swapRecord(key, held.token.generation, next.generation, this.ttl(expiresAt)))) await this.replayed(held.session);
    // Ended while the answer was made (revoked, its login logged out, ended from the home page, on any replica): the
    // answer goes nowhere, as a first answer's does (`firstAnswer`), so that no token is handed out after the ending. Looked
    // at after the rotation, which stays the last step that may refuse: a store that cannot say leaves the answer as it was.
    const ended = await store.get(held.token.id).then(
      (data) => data === undefined,
      () => false,
    );
    if (ended) throw refuse('invalid_grant', ENDED);
    if (waiting && !waiting()) {
      await store.swapRecord(key, next.generation, held.token.generation, this.ttl(expiresAt)).catch(() => false);
      refuseGone(waiting);
    }
    return this.seal(next);
  }

  /** Ends the tool's session; an unknown or ended one is no error (RFC 7009 §2.2). */
  async end(refreshToken: string): Promise<boolean> {
    const token = this.open(refreshToken);
    if (!token) return false;
    await this.endById(token.id);
    return true;
  }

  /** Ends a tool session and takes it off its employee's list. */
  async endById(id: string): Promise<void> {
    const session = await this.sessions.manager.store.get(id);
    if (session?.tool) await this.access.remove(session.user.oid, (entry) => entry.session === id);
    await this.sessions.destroy(id);
  }

  /**
   * A logout of a browser login: the tools it allowed end, or with `everywhere` all of the employee's, and then the login
   * (`endLogin`). The logout is said in the store first: a tool whose first answer is under way is listed only once it is
   * ready, after the ending below may have looked, and then ends itself on reading it (`firstAnswer`), whether the login
   * is gone yet or not (one logged out everywhere from another browser never is); and a grant allowed before it but not
   * yet used starts nothing (`start`). A logout that fails takes back that its login logged out, so that the login it
   * leaves can still allow tools. The new mark of a failed "everywhere" stays: it refuses only grants allowed before it, as
   * the employee asked, never one allowed after (which carries it), and taking it back could undo another logout's.
   */
  async logout(browserSessionId: string, employee: string, everywhere: boolean, endLogin: () => Promise<void>): Promise<number> {
    const store = this.sessions.manager.store;
    const loggedOut = loggedOutKey(browserSessionId);
    await store.setRecord(loggedOut, String(this.now()), LOGOUT_KEPT_MS);
    try {
      if (everywhere) await store.setRecord(everywhereKey(employee), newId(), LOGOUT_KEPT_MS);
      const ended = await this.endWhere(employee, everywhere ? () => true : ToolSessions.allowedBy(browserSessionId));
      await endLogin();
      return ended;
    } catch (err) {
      await store.takeRecord(loggedOut).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Ends the employee's tools that `which` picks (those one browser login allowed, one by its handle, or all); says how
   * many. Each leaves the list only once its session has ended: a store failing halfway leaves the rest listed, for the
   * employee to end again, rather than alive and unlisted.
   */
  async endWhere(employee: string, which: (entry: ToolEntry) => boolean): Promise<number> {
    const chosen = (await this.access.entries(employee)).filter(which);
    await this.destroyAll(chosen);
    const handles = new Set(chosen.map((entry) => entry.handle));
    return (await this.access.remove(employee, (entry) => handles.has(entry.handle))).length;
  }

  /**
   * Refuses a grant that a logout ended: the browser login that allowed it ended, or was logged out of; or the employee
   * logged out everywhere since they allowed it (their mark is not the grant's).
   */
  private async refuseEnded(allowedBy: AllowedBy, employee: string): Promise<void> {
    const store = this.sessions.manager.store;
    const [browser, loggedOut, mark] = await Promise.all([
      store.get(allowedBy.session),
      store.getRecord(loggedOutKey(allowedBy.session)),
      store.getRecord(everywhereKey(employee)),
    ]);
    if (!browser || browser.expiresAt <= this.now() || loggedOut !== undefined) throw refuse('invalid_grant', LOGIN_ENDED);
    if (mark !== undefined && mark !== allowedBy.mark) throw refuse('invalid_grant', LOGGED_OUT_EVERYWHERE);
  }

  private async destroyAll(entries: ToolEntry[]): Promise<void> {
    for (const entry of entries) await this.sessions.destroy(entry.session);
  }

  /** The tools that one browser login allowed. */
  static allowedBy(browserSessionId: string): (entry: ToolEntry) => boolean {
    const browser = digest(browserSessionId);
    return (entry) => entry.browser === browser;
  }

  private async replayed(session: LoadedSession): Promise<never> {
    await this.endById(session.id);
    throw refuse(
      'invalid_grant',
      'This refresh token was already used, so a copy of it may be in other hands: its session has been ended. Log in again.',
    );
  }

  private ttl(expiresAt: number): number {
    return Math.max(1, expiresAt - this.now());
  }

  private seal(token: RefreshToken): string {
    return this.sealer.seal(JSON.stringify(token), HANDLE);
  }

  private open(refreshToken: string): RefreshToken | undefined {
    const opened = this.sealer.open(refreshToken, HANDLE);
    try {
      return opened ? RefreshToken.parse(JSON.parse(opened)) : undefined;
    } catch {
      return undefined;
    }
  }
}
