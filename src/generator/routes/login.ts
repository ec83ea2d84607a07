/**
 * Logging a person in and out: authorization code flow with PKCE, the login state in a sealed
 * short-lived cookie, the session in the store, the browser sent back to where it started.
 */
import type { FastifyInstance, FastifyRequest, onErrorHookHandler } from 'fastify';
import * as oidc from 'openid-client';
import { z } from 'zod';
import { isNotAssigned } from '../../entra/advice.js';
import { IdpError } from '../../entra/errors.js';
import { LoginValidationError, type LoginResult } from '../../entra/client.js';
import { LOGIN_COOKIE, LOGIN_COOKIE_PATH, loginUrl, PATHS, SESSION_COOKIE } from '../../paths.js';
import type { Sealer, SessionUser } from '../../session/index.js';
import type { GeneratorContext } from '../context.js';
import { inFlow, ProblemError, refuse } from '../errors.js';
import { problem } from '../problem.js';
import { escapeHtml, page } from '../html.js';
import { answersIn } from '../negotiate.js';
import { safeReturnPath } from '../redirect.js';
import type { Sessions } from '../sessions.js';

const LOGIN_STATE_SECONDS = 600;
/** A person's pages answer in HTML, or in JSON or text for a client that asks. */
const PAGES = answersIn(['html', 'json', 'text'], 'html');

const LoginState = z.object({
  state: z.string(),
  nonce: z.string(),
  verifier: z.string(),
  returnTo: z.string(),
});
type LoginState = z.infer<typeof LoginState>;

const LOGIN_LOOP =
  'Your browser started several logins within a few seconds, so this one was stopped. This usually means the browser does not keep this ' +
  'site\u2019s cookies (check that cookies are allowed for it, and that you do not block third-party or all cookies), or that the clock of ' +
  'this computer is far off. Wait a few seconds, then try again.';
const START_AGAIN = 'Open the page you wanted again to start a new login.';

/**
 * Counts logins started per browser (address and user agent) in a sliding window, so that a
 * login loop ends on a page that explains it instead of bouncing forever.
 */
export class LoginLoopGuard {
  private readonly starts = new Map<string, number[]>();

  constructor(
    private readonly max = 5,
    private readonly windowMs = 15_000,
    private readonly maxKeys = 10_000,
  ) {}

  /** Records a start; false when this browser has started too many logins lately. */
  allow(key: string, now = Date.now()): boolean {
    const recent = (this.starts.get(key) ?? []).filter((t) => now - t < this.windowMs);
    recent.push(now);
    this.starts.delete(key);
    this.starts.set(key, recent);
    if (this.starts.size > this.maxKeys) {
      const oldest = this.starts.keys().next();
      if (!oldest.done) this.starts.delete(oldest.value);
    }
    return recent.length <= this.max;
  }
}

export interface LoginDeps {
  ctx: GeneratorContext;
  sessions: Sessions;
  sealer: Sealer;
}

/** The person as the ID token's claims name them. */
function userOf(claims: LoginResult['claims']): SessionUser {
  const str = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return {
    oid: str(claims.oid) ?? str(claims.sub) ?? 'unknown',
    ...(str(claims.name) ? { name: str(claims.name) } : {}),
    ...(str(claims.preferred_username) ? { preferredUsername: str(claims.preferred_username) } : {}),
    ...(str(claims.NAVident) ? { navIdent: str(claims.NAVident) } : {}),
    ...(str(claims.tid) ? { tid: str(claims.tid) } : {}),
  };
}

/** The identity provider's own refusal, as the callback's query carries it. */
function callbackRefusal(query: Record<string, unknown>): Error | undefined {
  if (typeof query.error !== 'string') return undefined;
  const description = typeof query.error_description === 'string' ? query.error_description.split(/\r?\n/)[0]?.slice(0, 300) : undefined;
  if (isNotAssigned(description)) {
    const message = 'You are not assigned to this token generator in Entra ID, so the login was refused. Ask the operators of this service to give you access.';
    return refuse(403, 'user_not_allowed', message, description);
  }
  return refuse(400, 'login_failed', `The identity provider did not log you in (${query.error.slice(0, 100)}). Start again from the page you wanted.`, description);
}

export async function loginRoutes(app: FastifyInstance, deps: LoginDeps): Promise<void> {
  const { ctx, sessions, sealer } = deps;
  const guard = new LoginLoopGuard();
  const redirectUri = `${ctx.config.publicUrl}${PATHS.callback}`;
  const cookieOptions = () => ({ path: LOGIN_COOKIE_PATH, httpOnly: true, sameSite: 'lax' as const, secure: sessions.secureCookies });
  const countFailure: onErrorHookHandler = (_request, _reply, _error, done) => {
    ctx.metrics.logins.inc({ event: 'failed' });
    done();
  };

  app.get(PATHS.login, { config: PAGES }, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    if (!guard.allow(`${request.ip} ${request.headers['user-agent'] ?? ''}`)) {
      ctx.logger.warn({ ip: request.ip }, 'login loop stopped');
      throw new ProblemError(problem(429, 'login_loop', LOGIN_LOOP), { 'retry-after': '15' });
    }
    const state: LoginState = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      verifier: oidc.randomPKCECodeVerifier(),
      returnTo: safeReturnPath(query.redirect) ?? '/',
    };
    const url = ctx.entra.buildLoginUrl({
      redirectUri,
      scope: sessions.loginScope,
      state: state.state,
      nonce: state.nonce,
      codeChallenge: await oidc.calculatePKCECodeChallenge(state.verifier),
      ...(query.prompt === 'login' ? { prompt: 'login' } : {}),
    });
    reply.setCookie(LOGIN_COOKIE, sealer.seal(JSON.stringify(state), 'login-state'), { ...cookieOptions(), maxAge: LOGIN_STATE_SECONDS });
    ctx.logger.info({ login: 'started' }, 'login started');
    ctx.metrics.logins.inc({ event: 'started' });
    return reply.header('cache-control', 'no-store').redirect(url, 302);
  });

  /** The login this browser started, from its sealed cookie, or a 400. */
  const startedLogin = (request: FastifyRequest): LoginState => {
    const sealed = request.cookies[LOGIN_COOKIE];
    const opened = sealed ? sealer.open(sealed, 'login-state') : undefined;
    try {
      if (opened) return LoginState.parse(JSON.parse(opened));
    } catch {
      // Not a login state of ours: answered as an expired login.
    }
    throw refuse(400, 'login_expired', `This login has expired, was already completed, or was started in another browser. ${START_AGAIN}`);
  };

  const redeem = async (request: FastifyRequest, login: LoginState): Promise<LoginResult> => {
    const callbackUrl = new URL(request.url, ctx.config.publicUrl);
    const checks = { state: login.state, nonce: login.nonce, codeVerifier: login.verifier, redirectUri };
    try {
      return await ctx.entra.redeemCode(callbackUrl, checks);
    } catch (err) {
      // A refusal of this service's own credentials is the operators' to fix, not a login to start again.
      const refused = err instanceof IdpError && err.failure.kind === 'rejected' && err.failure.status < 500 && !err.ownCredentialsRefused;
      if (err instanceof LoginValidationError || refused) {
        ctx.logger.warn({ reason: err.message }, 'login refused');
        throw refuse(400, 'login_failed', `The login could not be completed: the answer from the identity provider did not pass the checks. ${START_AGAIN}`);
      }
      throw err;
    }
  };

  app.get(PATHS.callback, { config: PAGES, onError: countFailure }, async (request, reply) => {
    reply.clearCookie(LOGIN_COOKIE, cookieOptions());
    reply.header('cache-control', 'no-store');
    const query = request.query as Record<string, unknown>;
    const refusal = callbackRefusal(query);
    if (refusal) throw refusal;
    const login = startedLogin(request);
    if (query.state !== login.state) {
      throw refuse(400, 'login_state_mismatch', `This login answer does not belong to the login this browser started. ${START_AGAIN}`);
    }
    const result = await inFlow('login', undefined, () => redeem(request, login));
    const { ticket } = await sessions.create({
      user: userOf(result.claims),
      accessToken: result.accessToken,
      accessTokenExpiresAt: Date.now() + result.expiresIn * 1000,
      accessTokenObtainedAt: Date.now(),
      ...(result.refreshToken ? { refreshToken: result.refreshToken } : {}),
      ...(result.idToken ? { idToken: result.idToken } : {}),
    });
    sessions.setSessionCookie(reply, ticket);
    ctx.logger.info({ login: 'completed' }, 'login completed');
    ctx.metrics.logins.inc({ event: 'completed' });
    return reply.redirect(safeReturnPath(login.returnTo) ?? '/', 302);
  });

  await sessionRoutes(app, deps);
}

/** The end of a session, the page after it, and what the session is. */
async function sessionRoutes(app: FastifyInstance, { ctx, sessions }: LoginDeps): Promise<void> {
  app.get(PATHS.logout, { config: PAGES }, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    // The session as stored, without refreshing it: it is about to end.
    const session = await sessions.manager.load(request.cookies[SESSION_COOKIE]);
    let idToken: string | undefined;
    if (session) {
      idToken = session.data.idToken;
      await sessions.destroy(session.id);
      ctx.logger.info({ session: 'ended' }, 'session ended by logout');
    }
    sessions.clearSessionCookie(reply);
    const endSession = ctx.entra.logoutUrl(`${ctx.config.publicUrl}${PATHS.loggedOut}`, idToken);
    return reply.redirect(endSession ?? PATHS.loggedOut, 302);
  });

  app.get(PATHS.loggedOut, async (_request, reply) => {
    const actions = `<ul class="actions"><li><a class="button" href="${escapeHtml(loginUrl('/'))}">Log in again</a></li><li><a class="button secondary" href="/">Home</a></li></ul>`;
    const body = `<section><h1>You are logged out</h1><p>Your session with the token generator has ended.</p>\n${actions}</section>`;
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page({ title: 'Logged out', body }));
  });

  app.get(PATHS.session, { config: answersIn(['json'], 'json') }, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const session = await sessions.load(request);
    if (!session) return reply.send({ authenticated: false, login_url: `${ctx.config.publicUrl}${loginUrl(PATHS.session)}` });
    const { user, createdAt, expiresAt, accessTokenExpiresAt } = session.data;
    return reply.send({
      authenticated: true,
      user: { name: user.name ?? null, preferred_username: user.preferredUsername ?? null, NAVident: user.navIdent ?? null, oid: user.oid },
      created_at: new Date(createdAt).toISOString(),
      ends_at: new Date(expiresAt).toISOString(),
      access_token_expires_at: new Date(accessTokenExpiresAt).toISOString(),
    });
  });
}
