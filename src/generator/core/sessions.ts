/**
 * An employee's login as the rules see it: loading the session behind a ticket or an id, and keeping
 * the employee's access token fresh with the refresh token, one refresh at a time per session across
 * replicas. A session survives a slow, failing or restarting identity provider and a store that goes
 * away during a refresh: it ends only when the identity provider says its grant is gone, or when a
 * logout ended it, and then it stays ended on every replica. Which cookie carries the ticket is the
 * HTTP layer's (`http/session-cookie.ts`).
 */
import type { Logger } from 'pino';
import { IdpError, type IdentityProvider, type TokenResponse } from '../idp/identity-provider.js';
import { refuse, type ProblemError } from './problem.js';
import { providerProblem } from './provider.js';
import { SessionManager, StoreUnavailableError, type SessionData } from '../../session/index.js';

/** Refresh the employee's token when less than five minutes, or a third of its lifetime, is left of it. */
const REFRESH_MARGIN_MS = 5 * 60_000;

export function needsRefresh(data: SessionData, now: number): boolean {
  const lifetime = data.accessTokenExpiresAt - (data.accessTokenObtainedAt ?? data.createdAt);
  const margin = Math.min(REFRESH_MARGIN_MS, lifetime / 3);
  return data.accessTokenExpiresAt - now <= margin;
}

/** A token this close to its expiry (or a sixth of its lifetime, if less) is not handed on: it could run out on its way. */
const USABLE_MARGIN_MS = 5_000;
/**
 * A renewal holds the lock, and a request waits for it, for the longest refresh and this much: the store's own commands
 * before and after it. A replica that dies holding it holds the others off for the store's lease only.
 */
const LOCK_MARGIN_MS = 5_000;
const BUSY_RETRY_SECONDS = 2;

function usableMargin(data: SessionData): number {
  return Math.min(USABLE_MARGIN_MS, (data.accessTokenExpiresAt - (data.accessTokenObtainedAt ?? data.createdAt)) / 6);
}

/**
 * The session's token ran out and another request (on this replica or another) has been renewing it
 * for longer than this one waited. The store is fine: try again in a moment.
 */
function sessionBusy(): ProblemError {
  return refuse('session_busy', 'Your login is being renewed by another request right now. Try again in a moment.', {
    headers: { 'retry-after': String(BUSY_RETRY_SECONDS) },
  });
}

export interface LoadedSession {
  id: string;
  data: SessionData;
  /**
   * A session for one token (the headless route's), kept in the request's memory and never in the store: no other
   * request can know it, so it needs neither the store nor its lock, and ends with the request.
   */
  once?: true;
}

/** What the identity provider made of a session's renewal: the session's data (renewed, or kept for now), or why it ended. */
type Renewal = { data: SessionData } | { ended: string };

export interface SessionsOptions {
  manager: SessionManager;
  provider: IdentityProvider;
  logger: Logger;
  onEvent?: (event: 'started' | 'refreshed' | 'ended') => void;
  /** The clock, the test's in tests; the manager should share it. */
  now?: () => number;
}

export class Sessions {
  readonly manager: SessionManager;
  /** Renewals that run after the request that started them was answered. */
  private readonly renewing = new Set<Promise<unknown>>();
  private readonly provider: IdentityProvider;
  private readonly logger: Logger;
  private readonly onEvent: (event: 'started' | 'refreshed' | 'ended') => void;
  private readonly now: () => number;

  constructor(options: SessionsOptions) {
    this.manager = options.manager;
    this.provider = options.provider;
    this.logger = options.logger;
    this.onEvent = options.onEvent ?? (() => {});
    this.now = options.now ?? Date.now;
  }

  /**
   * The session behind a ticket with an employee token that is good for a while yet, or undefined when there is
   * none (or it ended because the identity provider no longer honours its grant). Throws
   * StoreUnavailableError when the store is down, a 503 `session_busy` ProblemError when the token ran
   * out and another request is renewing it, and the provider's advice as a ProblemError when it ran out and cannot be renewed now.
   */
  async load(ticket: string | undefined): Promise<LoadedSession | undefined> {
    const session = await this.manager.load(ticket);
    return session ? this.fresh(session) : undefined;
  }

  /** The session with this id (a tool's, or the one behind a code), its employee token kept fresh as `load` keeps it. */
  async loadById(id: string): Promise<LoadedSession | undefined> {
    const data = await this.manager.store.get(id);
    if (!data || data.expiresAt <= this.now()) return undefined;
    return this.fresh({ id, data });
  }

  private async fresh(session: LoadedSession): Promise<LoadedSession | undefined> {
    // A token signed by a key the identity provider no longer publishes is refused by every grant.
    const tokenDead = (await this.provider.signingKeyKnown(session.data.accessToken)) === 'gone';
    if (!tokenDead && !needsRefresh(session.data, this.now())) return session;
    return this.refresh(session, tokenDead);
  }

  async destroy(id: string): Promise<void> {
    await this.manager.destroy(id);
    this.onEvent('ended');
  }

  async create(data: Parameters<SessionManager['create']>[0]): Promise<{ ticket: string; id: string; data: SessionData }> {
    const created = await this.manager.create(data);
    this.onEvent('started');
    return created;
  }

  /** A session for one token, never stored: not counted among the store's sessions either. */
  once(data: Parameters<SessionManager['build']>[0]): LoadedSession {
    return { ...this.manager.build(data), once: true };
  }

  /**
   * After a grant refused the employee's token as an assertion (invalid or expired): when the provider's
   * keys changed or the token ran out, the session renewed now, or undefined when it ended and the
   * employee must log in. The same session when the refusal had another cause and renewing would not help.
   */
  async renewRefused(session: LoadedSession, refusal: IdpError): Promise<LoadedSession | undefined> {
    if (!refusal.userAssertionRefused) return session;
    await this.provider.reloadSigningKeys();
    // The provider holds the token expired (its clock, or the time the request took): renew it too.
    const expired = session.data.accessTokenExpiresAt <= this.now() || refusal.refusal === 'employee_token_expired';
    const tokenDead = expired || (await this.provider.signingKeyKnown(session.data.accessToken)) === 'gone';
    if (!tokenDead) return session;
    return session.once ? this.renewOnce(session) : this.refresh(session, true);
  }

  /** A session for one token is this request's alone: renewed in memory, without the store and its lock. */
  private async renewOnce(session: LoadedSession): Promise<LoadedSession | undefined> {
    const renewal = await this.renewal(session.data, () => false);
    return 'ended' in renewal ? undefined : { ...session, data: renewal.data };
  }

  /** Resolves once the renewals running in the background have ended (before the store closes). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.renewing]);
  }

  /**
   * Renews the employee's token, one renewal at a time per session across replicas. While the token it
   * has is still usable, the request goes on with it and the renewal runs behind it (or not at all,
   * when another request holds the lock); once it ran out, the request waits for the renewal.
   */
  private async refresh(session: LoadedSession, tokenDead: boolean): Promise<LoadedSession | undefined> {
    const usable = (data: SessionData) => !tokenDead && data.accessTokenExpiresAt - usableMargin(data) > this.now();
    const longest = this.provider.longestGrantMs + LOCK_MARGIN_MS;
    if (usable(session.data)) {
      const behind = this.manager.store
        .withLock(session.id, () => this.renew(session, tokenDead, usable), { maxHoldMs: longest, waitMs: 0 })
        .catch((err: unknown) =>
          this.logger.warn({ reason: err instanceof Error ? err.message : String(err) }, 'session refresh failed, to be tried again'),
        )
        .finally(() => this.renewing.delete(behind));
      this.renewing.add(behind);
      return session;
    }
    const result = await this.manager.store.withLock(session.id, () => this.renew(session, tokenDead, usable), {
      maxHoldMs: longest,
      waitMs: longest,
    });
    if (!result.acquired) throw sessionBusy();
    return result.value ? { id: session.id, data: result.value } : undefined;
  }

  /** Holding the lock: the session as renewed, as it was when renewal failed for now, or undefined when it ended. */
  private async renew(seen: LoadedSession, tokenDead: boolean, usable: (data: SessionData) => boolean): Promise<SessionData | undefined> {
    const id = seen.id;
    // Another replica may have renewed, or a logout ended the session, while this one waited for the lock.
    const current = await this.manager.store.get(id);
    if (!current) return undefined;
    const renewedMeanwhile = current.accessToken !== seen.data.accessToken;
    if (!needsRefresh(current, this.now()) && (!tokenDead || renewedMeanwhile)) return current;
    const renewal = await this.renewal(current, usable);
    if ('ended' in renewal) return this.end(id, renewal.ended);
    return renewal.data === current ? current : this.storeRenewed(id, renewal.data);
  }

  /**
   * The session's tokens renewed with its refresh token, or kept as they are while still `usable` when renewal failed for
   * now; ended only when there is no refresh token or the provider says the grant is gone. Other failures are thrown as advice.
   */
  private async renewal(current: SessionData, usable: (data: SessionData) => boolean): Promise<Renewal> {
    if (!current.refreshToken) return usable(current) ? { data: current } : { ended: 'it has no refresh token' };
    let tokens: TokenResponse;
    try {
      tokens = await this.provider.refresh(current.refreshToken, this.provider.loginScope);
    } catch (err) {
      // Only the identity provider saying the grant is gone ends the session; anything else is tried again later.
      if (err instanceof IdpError && err.grantGone) return { ended: `the identity provider no longer honours its grant: ${err.message}` };
      this.logger.warn({ reason: err instanceof Error ? err.message : String(err) }, 'session refresh failed, to be tried again later');
      if (usable(current)) return { data: current };
      throw err instanceof IdpError ? providerProblem(this.provider, err, 'refresh') : err;
    }
    return { data: renewed(current, tokens, this.now()) };
  }

  /** The renewed session, unless it ended meanwhile; a store that is down takes it once it is back. */
  private async storeRenewed(id: string, next: SessionData): Promise<SessionData | undefined> {
    this.onEvent('refreshed');
    let stored: boolean;
    try {
      stored = await this.manager.update(id, next);
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      this.logger.warn({ reason: err.message }, 'session refreshed, but not stored yet: the store is unavailable');
      return next;
    }
    if (!stored) {
      this.logger.info({ session: 'ended' }, 'session ended while it was refreshed: it stays ended');
      return undefined;
    }
    this.logger.info({ session: 'refreshed' }, 'session refreshed');
    return next;
  }

  private async end(id: string, reason: string): Promise<undefined> {
    await this.manager.destroy(id);
    this.onEvent('ended');
    this.logger.info({ reason }, 'session ended: it cannot be renewed');
    return undefined;
  }
}

function renewed(current: SessionData, tokens: TokenResponse, now: number): SessionData {
  return {
    ...current,
    accessToken: tokens.accessToken,
    accessTokenExpiresAt: now + tokens.expiresIn * 1000,
    accessTokenObtainedAt: now,
    refreshToken: tokens.refreshToken ?? current.refreshToken,
    ...(tokens.idToken ? { idToken: tokens.idToken } : {}),
  };
}
