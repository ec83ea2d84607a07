/**
 * Logging a person in and out: authorization code flow with PKCE, the login state in a sealed
 * short-lived cookie, the session in the store, the browser sent back to where it started.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as oidc from 'openid-client';
import { z } from 'zod';
import { IdpError } from '../../entra/errors.js';
import { LoginValidationError } from '../../entra/client.js';
import { StoreUnavailableError, type Sealer } from '../../session/index.js';
import type { GeneratorContext } from '../context.js';
import { escapeHtml, page } from '../html.js';
import { loginUrl } from '../login-url.js';
import { preferredFormat } from '../negotiate.js';
import { problem, sendProblem } from '../problem.js';
import { safeReturnPath } from '../redirect.js';
import { LOGIN_COOKIE, SESSION_COOKIE, SessionUnavailableError, type Sessions } from '../sessions.js';

const LOGIN_STATE_SECONDS = 600;

const LoginState = z.object({
  state: z.string(),
  nonce: z.string(),
  verifier: z.string(),
  returnTo: z.string(),
});
type LoginState = z.infer<typeof LoginState>;

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
  loopGuard?: LoginLoopGuard;
}

export { loginUrl } from '../login-url.js';

export async function loginRoutes(app: FastifyInstance, deps: LoginDeps): Promise<void> {
  const { ctx, sessions, sealer } = deps;
  const guard = deps.loopGuard ?? new LoginLoopGuard();
  const redirectUri = `${ctx.config.publicUrl}/oauth2/callback`;
  const cookieOptions = () => ({
    path: '/oauth2',
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: sessions.secureCookies,
  });
  const htmlError = (request: FastifyRequest, reply: FastifyReply, status: number, error: string, message: string, details?: string) => {
    if (request.routeOptions.url === '/oauth2/callback') ctx.metrics.logins.inc({ event: 'failed' });
    return sendProblem(reply, request, problem(status, error, message, details), preferredFormat(request.headers.accept, ['html', 'json', 'text'], 'html'));
  };

  app.get('/oauth2/login', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const returnTo = safeReturnPath(query.redirect) ?? '/';
    const key = `${request.ip} ${request.headers['user-agent'] ?? ''}`;
    if (!guard.allow(key)) {
      ctx.logger.warn({ ip: request.ip }, 'login loop stopped');
      return htmlError(
        request,
        reply.header('retry-after', '15'),
        429,
        'login_loop',
        'Your browser started several logins within a few seconds, so this one was stopped. This usually means the browser does not keep this site\u2019s cookies (check that cookies are allowed for it, and that you do not block third-party or all cookies), or that the clock of this computer is far off. Wait a few seconds, then try again.',
      );
    }
    const state: LoginState = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      verifier: oidc.randomPKCECodeVerifier(),
      returnTo,
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

  app.get('/oauth2/callback', async (request, reply) => {
    const sealed = request.cookies[LOGIN_COOKIE];
    reply.clearCookie(LOGIN_COOKIE, cookieOptions());
    reply.header('cache-control', 'no-store');
    const query = request.query as Record<string, unknown>;

    if (typeof query.error === 'string') {
      const description = typeof query.error_description === 'string' ? query.error_description.split(/\r?\n/)[0]?.slice(0, 300) : undefined;
      const notAssigned = description?.startsWith('AADSTS50105');
      return htmlError(
        request,
        reply,
        notAssigned ? 403 : 400,
        notAssigned ? 'user_not_allowed' : 'login_failed',
        notAssigned
          ? 'You are not assigned to this token generator in Entra ID, so the login was refused. Ask the operators of this service to give you access.'
          : `The identity provider did not log you in (${query.error.slice(0, 100)}). Start again from the page you wanted.`,
        description,
      );
    }

    const opened = sealed ? sealer.open(sealed, 'login-state') : undefined;
    let login: LoginState | undefined;
    try {
      login = opened ? LoginState.parse(JSON.parse(opened)) : undefined;
    } catch {
      login = undefined;
    }
    if (!login) {
      return htmlError(
        request,
        reply,
        400,
        'login_expired',
        'This login has expired, was already completed, or was started in another browser. Open the page you wanted again to start a new login.',
      );
    }
    if (query.state !== login.state) {
      return htmlError(request, reply, 400, 'login_state_mismatch', 'This login answer does not belong to the login this browser started. Open the page you wanted again to start a new login.');
    }

    const callbackUrl = new URL(request.url, ctx.config.publicUrl);
    let result;
    try {
      result = await ctx.entra.redeemCode(callbackUrl, { state: login.state, nonce: login.nonce, codeVerifier: login.verifier, redirectUri });
    } catch (err) {
      if (err instanceof LoginValidationError || err instanceof oidc.ClientError || (err instanceof IdpError && err.failure.kind === 'rejected' && err.failure.status < 500)) {
        ctx.logger.warn({ reason: err.message }, 'login refused');
        return htmlError(request, reply, 400, 'login_failed', 'The login could not be completed: the answer from the identity provider did not pass the checks. Open the page you wanted again to start a new login.');
      }
      return ctx.sendIdpFailure(request, reply, err, undefined, 'on_behalf_of', 'html');
    }

    const claims = result.claims;
    const str = (value: unknown) => (typeof value === 'string' ? value : undefined);
    const user = {
      oid: str(claims.oid) ?? str(claims.sub) ?? 'unknown',
      ...(str(claims.name) ? { name: str(claims.name) } : {}),
      ...(str(claims.preferred_username) ? { preferredUsername: str(claims.preferred_username) } : {}),
      ...(str(claims.NAVident) ? { navIdent: str(claims.NAVident) } : {}),
      ...(str(claims.tid) ? { tid: str(claims.tid) } : {}),
    };
    try {
      const { ticket } = await sessions.create({
        user,
        accessToken: result.accessToken,
        accessTokenExpiresAt: Date.now() + result.expiresIn * 1000,
        accessTokenObtainedAt: Date.now(),
        ...(result.refreshToken ? { refreshToken: result.refreshToken } : {}),
        ...(result.idToken ? { idToken: result.idToken } : {}),
      });
      sessions.setSessionCookie(reply, ticket);
    } catch (err) {
      if (err instanceof SessionUnavailableError) return htmlError(request, reply, 503, 'session_store_unavailable', err.message);
      throw err;
    }
    ctx.logger.info({ login: 'completed' }, 'login completed');
    ctx.metrics.logins.inc({ event: 'completed' });
    return reply.redirect(safeReturnPath(login.returnTo) ?? '/', 302);
  });

  app.get('/oauth2/logout', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    let idToken: string | undefined;
    try {
      // The session as stored, without refreshing it: it is about to end.
      const session = await sessions.manager.load(request.cookies[SESSION_COOKIE]);
      if (session) {
        idToken = session.data.idToken;
        await sessions.destroy(session.id);
        ctx.logger.info({ session: 'ended' }, 'session ended by logout');
      }
    } catch (err) {
      if (err instanceof StoreUnavailableError) {
        return htmlError(request, reply, 503, 'session_store_unavailable', 'The session store is unavailable right now. Try again in a moment.');
      }
      if (err instanceof SessionUnavailableError) return htmlError(request, reply, 503, 'session_store_unavailable', err.message);
      throw err;
    }
    sessions.clearSessionCookie(reply);
    const endSession = ctx.entra.logoutUrl(`${ctx.config.publicUrl}/oauth2/logged-out`, idToken);
    return reply.redirect(endSession ?? '/oauth2/logged-out', 302);
  });

  app.get('/oauth2/logged-out', async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(
        page({
          title: 'Logged out',
          body: `<section><h1>You are logged out</h1><p>Your session with the token generator has ended.</p>
<ul class="actions"><li><a class="button" href="${escapeHtml(loginUrl('/'))}">Log in again</a></li><li><a class="button secondary" href="/">Home</a></li></ul></section>`,
        }),
      ),
  );

  app.get('/oauth2/session', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    try {
      const session = await sessions.load(request);
      if (!session) return reply.send({ authenticated: false, login_url: `${ctx.config.publicUrl}${loginUrl('/oauth2/session')}` });
      const { user, createdAt, expiresAt, accessTokenExpiresAt } = session.data;
      return reply.send({
        authenticated: true,
        user: {
          name: user.name ?? null,
          preferred_username: user.preferredUsername ?? null,
          NAVident: user.navIdent ?? null,
          oid: user.oid,
        },
        created_at: new Date(createdAt).toISOString(),
        ends_at: new Date(expiresAt).toISOString(),
        access_token_expires_at: new Date(accessTokenExpiresAt).toISOString(),
      });
    } catch (err) {
      if (err instanceof SessionUnavailableError) return sendProblem(reply, request, problem(503, 'session_store_unavailable', err.message), 'json');
      return ctx.sendIdpFailure(request, reply, err, undefined, 'on_behalf_of', 'json');
    }
  });
}
