/**
 * The steps of an employee's login, for every surface that logs one in (the browser pages, the
 * headless route): the start (state, nonce and PKCE verifier, sealed for the callback to check), and
 * the completion (the code redeemed and checked, the employee from the claims, a new session).
 */
import { digest } from '../../digest.js';
import { loginUrl, PATHS } from '../../paths.js';
import * as oidc from 'openid-client';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { ParsedAudience } from '../../audience.js';
import { StoreUnavailableError, type Sealer } from '../../session/index.js';
import { IdpError, LoginValidationError, type IdentityProvider, type LoginResult } from '../idp/identity-provider.js';
import { ProblemError, refuse, type PageAction } from './problem.js';
import { ask } from './provider.js';
import type { LoadedSession, Sessions } from './sessions.js';

const LoginState = z.object({
  state: z.string(),
  nonce: z.string(),
  verifier: z.string(),
  returnTo: z.string(),
  /** When the login started (ms), so that of the logins a browser keeps the newest stay. Optional: states sealed before it was kept. */
  startedAt: z.number().optional(),
});
export type LoginState = z.infer<typeof LoginState>;

/** What the sealed login state is sealed for: it opens as nothing else. */
const SEALED_AS = 'login-state';
export const START_AGAIN = 'Open the page you wanted again to start a new login.';
/** How long a started login may come back to the callback (its state's cookie lives as long). */
export const LOGIN_STATE_SECONDS = 600;

/**
 * A login completed, remembered by its state for as long as its return from the provider could come back (a reload,
 * a second request that the first's answer did not reach in time): the path it returned to, and the digest of the session
 * it made. Written once the session is: a second request that overtakes the first hears the plain refusal.
 */
const Completed = z.object({ returnTo: z.string(), session: z.string() });
const completedKey = (state: string) => `login-completed:${digest(state)}`;

export interface LoginStart {
  /** Where the employee's browser goes next: the provider's login page. */
  url: string;
  login: LoginState;
  /** The login state sealed, for the browser to bring back to the callback. */
  sealed: string;
}

export interface LoginStartOptions {
  /** Where the browser goes once logged in: a path of this service. */
  returnTo: string;
  /** Log in again even with a session at the provider. */
  prompt?: 'login';
  /** The tenant's domain, so that the provider offers its accounts. */
  domainHint?: string;
}

/** Who logs in: an employee at a browser, or a headless caller (a script) for a test employee. */
export type LoginSurface = 'browser' | 'headless';

export interface LoginCompleteOptions {
  /** The target the login is for (the headless route's), named in the provider's advice. */
  target?: ParsedAudience;
  /**
   * A browser's login whose answer fails the checks starts again; a headless caller, who never sees
   * the login page, is told what failed and gets the provider's own advice for its refusals.
   */
  surface: LoginSurface;
}

export interface LoginRefusalOptions {
  /** The domain of the tenant this generator logs in to, named in the advice for an account of another. */
  loginDomain: string;
  surface: LoginSurface;
  /** Where the login was to return to: a browser's login to start again leads there. */
  returnTo?: string;
}

/**
 * The identity provider's own refusal of a login, as its answer (`error`, `error_description`) carries it.
 * An employee at a browser gets advice and the provider's words apart; a headless caller reads one line
 * (`error_description`), so the provider's words are in it, and it cannot pick another account: an
 * account of another tenant is the provider's refusal of the login, as any other.
 */
export function loginRefusal(
  provider: IdentityProvider,
  error: unknown,
  errorDescription: unknown,
  options: LoginRefusalOptions,
): ProblemError | undefined {
  if (typeof error !== 'string') return undefined;
  const description = typeof errorDescription === 'string' ? errorDescription.split(/\r?\n/)[0]?.slice(0, 300) : undefined;
  const browser = options.surface === 'browser';
  const refusal = (
    code: 'user_not_allowed' | 'wrong_tenant' | 'login_consent_declined' | 'login_failed',
    advice: string,
    next?: PageAction,
  ) =>
    browser
      ? refuse(code, advice, { ...(description === undefined ? {} : { details: description }), ...(next ? { next } : {}) })
      : refuse(code, `${advice} ${description === undefined ? 'It gave no reason.' : `It said: ${description}`}`);
  const who = browser
    ? { name: 'You', subject: 'You are', object: 'you' }
    : { name: 'The employee', subject: 'The employee is', object: 'the employee' };
  if (provider.isNotAssigned(description)) {
    const ask = browser ? ' Ask the operators of this service to give you access.' : '';
    const notAssigned = `${who.subject} not assigned to this token generator at the identity provider, so the login was refused.`;
    return refusal('user_not_allowed', notAssigned + ask);
  }
  // The employee answered the provider's consent page with No (also an access_denied): not another tenant, a choice to make again.
  if (provider.isConsentDeclined(description)) {
    const declined = `${who.name} declined to consent at the identity provider's login, so it did not log ${who.object} in.`;
    if (!browser) return refusal('login_consent_declined', declined);
    const again =
      ' The token generator gets tokens on your behalf only with your consent. To start again, choose "Log in again" and ' +
      'accept on the consent page; or leave it, if you did not mean to.';
    return refusal('login_consent_declined', declined + again, { label: 'Log in again', href: loginUrl(options.returnTo ?? PATHS.home) });
  }
  // A user of another tenant (a nav.no account); the provider may also answer it as access_denied.
  if (browser && (provider.isOtherTenant(description) || error === 'access_denied')) {
    return refusal('wrong_tenant', wrongTenant(options.loginDomain));
  }
  const again = browser ? ' Start again from the page you wanted.' : '';
  return refusal('login_failed', `The identity provider did not log ${who.object} in (${error.slice(0, 100)}).${again}`);
}

/** The advice for a sign-in with an account of another tenant. */
export function wrongTenant(loginDomain: string): string {
  return (
    `Sign in with your ${loginDomain} user: the account you used is not in the ${loginDomain} tenant, the only one this token ` +
    `generator logs in to (accounts of the nav.no tenant are not supported). Choose "Sign in as someone else" and pick or type your ` +
    `${loginDomain} account.`
  );
}

/**
 * A login answer with another login's state. A browser brought back an answer to a login it did not start here: it starts
 * again. A headless caller sent nothing of the login: the provider answered wrong, as with any answer failing the checks.
 */
function stateMismatch(surface: LoginSurface): ProblemError {
  if (surface === 'headless') return answerInvalid('its state is not the one this login sent');
  return refuse('login_state_mismatch', `This login answer does not belong to the login this browser started. ${START_NEW}`, {
    next: NEW_LOGIN,
  });
}

/** A login this browser cannot finish is started again here, from the home page: where it was meant to go is not known. */
const NEW_LOGIN = { label: 'Start a new login', href: loginUrl(PATHS.home) };
const START_NEW = 'Start a new login here, or open the page you wanted again.';

/**
 * A login's completion refused before its code was redeemed, because the store that would keep its session is away: the
 * browser keeps its login, and the same answer (a reload of the page, its Try again) completes it once the store is back.
 */
export class LoginPutOff extends ProblemError {
  constructor(callbackUrl: URL) {
    super({
      code: 'session_store_unavailable',
      message:
        'The session store is unavailable right now, so your login is not completed yet. In a moment, press Try again (or reload ' +
        'this page) to complete it.',
      next: { label: 'Try again', href: `${callbackUrl.pathname}${callbackUrl.search}` },
    });
  }
}

/** The return of a login that was completed: nothing is wrong, the provider's answer only works once. */
function alreadyCompleted(returnTo: string): ProblemError {
  return refuse(
    'login_already_completed',
    'This login was already completed: the answer from the identity provider that brought you here works once, and it ' +
      'was used then. Nothing is wrong; continue to the page you wanted.',
    { next: { label: 'Continue to the page you wanted', href: returnTo } },
  );
}

/** The emulator's answer to a headless login failed the checks: its fault, not the caller's. */
function answerInvalid(reason: string): ProblemError {
  return refuse('login_answer_invalid', `The emulator's login answer did not pass the checks: ${reason}`);
}

export class Logins {
  constructor(
    private readonly provider: IdentityProvider,
    private readonly sessions: Sessions,
    private readonly sealer: Sealer,
    private readonly logger: Logger,
    /** Where the provider sends the browser back. */
    readonly redirectUri: string,
    private readonly now: () => number = Date.now,
  ) {}

  async start(options: LoginStartOptions): Promise<LoginStart> {
    const login: LoginState = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      verifier: oidc.randomPKCECodeVerifier(),
      returnTo: options.returnTo,
      startedAt: this.now(),
    };
    const url = this.provider.buildLoginUrl({
      redirectUri: this.redirectUri,
      scope: this.provider.loginScope,
      state: login.state,
      nonce: login.nonce,
      codeChallenge: await oidc.calculatePKCECodeChallenge(login.verifier),
      ...(options.prompt ? { prompt: options.prompt } : {}),
      ...(options.domainHint !== undefined ? { domainHint: options.domainHint } : {}),
    });
    return { url, login, sealed: this.sealer.seal(JSON.stringify(login), SEALED_AS) };
  }

  /** The login a browser started, from its sealed state; refused as expired when it is none of ours. */
  started(sealed: string | undefined): LoginState {
    const login = this.opened(sealed);
    if (login) return login;
    throw refuse(
      'login_state_expired',
      'This link returns from a login that has expired, was already completed, or was started in another browser: a login ' +
        `finishes only in the browser that started it, within ${LOGIN_STATE_SECONDS / 60} minutes. ${START_NEW}`,
      { next: NEW_LOGIN },
    );
  }

  /**
   * Of the logins a browser keeps (cookie name, sealed state), the names of those a start clears so that the browser keeps
   * only a few, in a Cookie header of bounded size: all but the `count` newest, and of those any past `bytes` (name and
   * value, newest first). A state that does not open, or that says not when it started, counts as the oldest.
   */
  beyondNewest(kept: [string, string][], within: { count: number; bytes: number }): string[] {
    const byAge = kept.map(([name, sealed]) => ({
      name,
      bytes: name.length + sealed.length,
      startedAt: this.opened(sealed)?.startedAt ?? 0,
    }));
    let bytes = 0;
    return byAge
      .sort((a, b) => b.startedAt - a.startedAt)
      .filter((login, index) => (bytes += login.bytes) > within.bytes || index >= within.count)
      .map(({ name }) => name);
  }

  /** A sealed login state of ours, opened; undefined for anything else. */
  private opened(sealed: string | undefined): LoginState | undefined {
    const opened = sealed ? this.sealer.open(sealed, SEALED_AS) : undefined;
    try {
      return opened ? LoginState.parse(JSON.parse(opened)) : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * The login of a browser's that the callback's `state` names, its sealed state looked up by that state (`sealedOf`: the
   * browser's cookie for it), as `started`: an answer without one state belongs to none. When the browser brings none back
   * but a session that the named login made, that login was completed here (a reload of its callback), and is said to be, plainly.
   */
  async resumed(callbackUrl: URL, sealedOf: (state: string) => string | undefined, ticket: string | undefined): Promise<LoginState> {
    const states = callbackUrl.searchParams.getAll('state');
    const state = states.length === 1 ? states[0]! : undefined;
    if (state === undefined) throw stateMismatch('browser');
    try {
      return this.started(sealedOf(state));
    } catch (err) {
      throw (ticket !== undefined && (await this.completedBefore(state, ticket))) || err;
    }
  }

  /**
   * The provider's answer to the login checked and its code redeemed: the employee's new session. The code is redeemed only
   * while the store can keep the session: redeemed with the store away, the session would be lost with it, and the login
   * would have to start over; refused before (`LoginPutOff`), the same answer completes the login once the store is back.
   * An answer refused that belongs to a login this browser completed (its sealed state matched) was used by that login:
   * said so, rather than as an answer that failed the checks.
   */
  async complete(callbackUrl: URL, login: LoginState, options: LoginCompleteOptions): Promise<LoadedSession & { ticket: string }> {
    if (!this.store.health().reachable) throw new LoginPutOff(callbackUrl);
    let loggedIn: Parameters<Sessions['once']>[0];
    try {
      loggedIn = await this.loggedIn(callbackUrl, login, options);
    } catch (err) {
      const refused = err instanceof ProblemError && err.problem.code === 'login_failed';
      throw (refused && (await this.completedBefore(login.state))) || err;
    }
    const created = await this.sessions.create(loggedIn);
    await this.remember(login, created.ticket);
    return created;
  }

  /** As `complete`, for a session that lives for one token: kept in the caller's memory, never in the store. */
  async completeOnce(callbackUrl: URL, login: LoginState, options: LoginCompleteOptions): Promise<LoadedSession> {
    return this.sessions.once(await this.loggedIn(callbackUrl, login, options));
  }

  /** The new session's employee and tokens, from the provider's answer checked and its code redeemed. */
  private async loggedIn(callbackUrl: URL, login: LoginState, options: LoginCompleteOptions): Promise<Parameters<Sessions['once']>[0]> {
    if (callbackUrl.searchParams.get('state') !== login.state) throw stateMismatch(options.surface);
    const result = await ask(this.provider, 'login', options.target, () => this.redeem(callbackUrl, login, options.surface));
    const now = this.now();
    return {
      user: this.provider.employeeFrom(result.claims),
      accessToken: result.accessToken,
      accessTokenExpiresAt: now + result.expiresIn * 1000,
      accessTokenObtainedAt: now,
      ...(result.refreshToken ? { refreshToken: result.refreshToken } : {}),
      ...(result.idToken ? { idToken: result.idToken } : {}),
    };
  }

  private get store() {
    return this.sessions.manager.store;
  }

  /** Remembers a completed login; without the store just then, the login stands, and a reload of it hears the old words. */
  private async remember(login: LoginState, ticket: string): Promise<void> {
    const completed = JSON.stringify({ returnTo: login.returnTo, session: digest(ticket) });
    try {
      await this.store.setRecord(completedKey(login.state), completed, LOGIN_STATE_SECONDS * 1000);
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      this.logger.warn({ reason: err.message }, 'completed login not remembered');
    }
  }

  /**
   * The refusal of a login completed with `state`, if it was; with `ticket`, only if it made that session. Unknown (the
   * store away, the record gone) is not completed: the refusal is then the one it always was.
   */
  private async completedBefore(state: string, ticket?: string): Promise<ProblemError | undefined> {
    if (!this.store.health().reachable) return undefined;
    let record: string | undefined;
    try {
      record = await this.store.getRecord(completedKey(state));
    } catch (err) {
      if (err instanceof StoreUnavailableError) return undefined;
      throw err;
    }
    const completed = record === undefined ? undefined : Completed.safeParse(JSON.parse(record)).data;
    if (!completed || (ticket !== undefined && completed.session !== digest(ticket))) return undefined;
    return alreadyCompleted(completed.returnTo);
  }

  private async redeem(callbackUrl: URL, login: LoginState, surface: LoginSurface): Promise<LoginResult> {
    const checks = { state: login.state, nonce: login.nonce, codeVerifier: login.verifier, redirectUri: this.redirectUri };
    try {
      return await this.provider.redeemCode(callbackUrl, checks);
    } catch (err) {
      throw this.refusal(err, surface) ?? err;
    }
  }

  /** A login refused for its answer, not for the provider's trouble: a problem of its own, else undefined. */
  private refusal(err: unknown, surface: LoginSurface): ProblemError | undefined {
    if (surface === 'headless') {
      return err instanceof LoginValidationError ? answerInvalid(err.message) : undefined;
    }
    // A refusal of this service's own credentials is the operators' to fix, not a login to start again.
    const refused = err instanceof IdpError && err.failure.kind === 'rejected' && err.failure.status < 500 && !err.ownCredentialsRefused;
    if (!(err instanceof LoginValidationError) && !refused) return undefined;
    this.logger.warn({ reason: err.message }, 'login refused');
    return refuse(
      'login_failed',
      `The login could not be completed: the answer from the identity provider did not pass the checks. ${START_AGAIN}`,
    );
  }
}
