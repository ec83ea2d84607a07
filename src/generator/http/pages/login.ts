/**
 * Logging an employee in and out: authorization code flow with PKCE, the login state in a sealed
 * short-lived cookie, the session in the store, the browser sent back to where it started.
 */
import type { FastifyInstance, onErrorHookHandler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { loginUrl, PATHS } from '../../../paths.js';
import type { GeneratorContext } from '../context.js';
import { refuse } from '../../core/problem.js';
import { LOGIN_STATE_SECONDS, LoginPutOff, loginRefusal, type LoginState, type Logins } from '../../core/login.js';
import { escapeHtml, page, tenantNote } from '../views/html.js';
import { answersIn, PAGES } from '../negotiate.js';
import { safeReturnPath } from '../redirect.js';
import type { Limits } from '../../core/limits.js';
import type { SessionCookie } from '../session-cookie.js';
import { answers, errors, Field, htmlPage, redirect } from '../schemas.js';
import { refuseHead } from '../methods.js';

/**
 * What a browser's login cookies may add to its Cookie header, the one the start sets included. A login's cookie is some
 * hundred bytes, a few thousand with a long return path; ingress-nginx (NAIS's ingress) refuses a request one of whose
 * header lines is over 8 KB, and the session's and the loop guard's cookies share the line.
 */
const LOGIN_COOKIES_BYTES = 4_096;

const LOGIN_LOOP =
  'Your browser started several logins within a few seconds, so this one was stopped. This usually means the browser does not keep this ' +
  'site\u2019s cookies (check that cookies are allowed for it, and that ' +
  'you do not block third-party or all cookies), or that the clock of ' +
  'this computer is far off. Wait a few seconds, then try again.';

/**
 * Counts the logins one browser started lately, in a cookie of that browser's own, so that a login
 * loop ends on a page that explains it instead of bouncing forever. A loop is one browser's: keyed
 * on an address or a user agent, colleagues behind one office address with the same browser locked
 * each other out, and the server held a key per caller. A browser that keeps no cookies cannot loop
 * (its callback finds no login state and says so); the per-address limit on logins bounds the rest.
 * The cookie is the browser's to keep or drop, so it is not sealed: a replica with another key reads it too.
 */
export class LoginLoopGuard {
  constructor(
    readonly max = 5,
    readonly windowMs = 15_000,
  ) {}

  /** The starts the cookie records within the window, this one added, and whether they are within the limit. */
  record(cookie: string | undefined, now = Date.now()): { allowed: boolean; cookie: string } {
    const earlier = (cookie ?? '')
      .slice(0, 16 * (this.max + 1))
      .split('.')
      .filter((part) => /^[0-9a-z]{1,11}$/.test(part))
      .map((part) => parseInt(part, 36))
      .filter((start) => start > now - this.windowMs && start <= now);
    const starts = [...earlier.slice(-this.max), now];
    return { allowed: starts.length <= this.max, cookie: starts.map((start) => start.toString(36)).join('.') };
  }
}

export interface LoginDeps {
  ctx: GeneratorContext;
  cookie: SessionCookie;
  logins: Logins;
  limits: Limits;
}

const LoginQuery = z.object({
  redirect: Field.optional().meta({ description: 'A relative path on this service to return to' }),
  prompt: Field.optional().meta({ description: '"login" to log in again even with a session at the identity provider' }),
});
const CallbackQuery = z.object({
  code: Field.optional(),
  state: Field.optional(),
  session_state: Field.optional(),
  error: Field.optional(),
  error_description: Field.optional(),
});
const SessionAnswer = z.object({
  authenticated: z.boolean(),
  user: z
    .object({ name: z.string().nullable(), preferred_username: z.string().nullable(), NAVident: z.string().nullable(), oid: z.string() })
    .optional(),
  created_at: z.iso.datetime().optional(),
  ends_at: z.iso.datetime().optional(),
  access_token_expires_at: z.iso.datetime().optional(),
  login_url: z.string().optional(),
});

/** What the routes of a login share besides their dependencies. */
interface LoginFlow extends LoginDeps {
  /** The options of the login's own cookies (its state, the loop guard's count). */
  cookieOptions: () => { path: string; httpOnly: true; sameSite: 'lax'; secure: boolean };
}

export async function loginRoutes(fastify: FastifyInstance, deps: LoginDeps): Promise<void> {
  const names = deps.cookie.names;
  const flow: LoginFlow = {
    ...deps,
    cookieOptions: () => ({ path: names.loginPath, httpOnly: true, sameSite: 'lax', secure: names.secure }),
  };
  loginStartRoute(fastify, flow);
  callbackRoute(fastify, flow);
  await sessionRoutes(fastify, deps);
}

/** The start of a login: the loop guard, the login state in its sealed cookie, the browser sent to the identity provider. */
function loginStartRoute(fastify: FastifyInstance, { ctx, cookie, logins, limits, cookieOptions }: LoginFlow): void {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const guard = new LoginLoopGuard();
  const names = cookie.names;
  const loginSchema = {
    summary: 'Starts a login',
    querystring: LoginQuery,
    response: answers({ 302: redirect('To the identity provider') }, errors(429)),
  };
  refuseHead(app, PATHS.login);
  app.get(PATHS.login, { schema: loginSchema, config: PAGES }, async (request, reply) => {
    const query = request.query;
    await limits.loginStart(request.ip);
    const loop = guard.record(request.cookies[names.loop]);
    reply.setCookie(names.loop, loop.cookie, { ...cookieOptions(), maxAge: Math.ceil(guard.windowMs / 1000) });
    if (!loop.allowed) {
      ctx.logger.warn({ ip: request.ip }, 'login loop stopped');
      throw refuse('login_loop', LOGIN_LOOP, { headers: { 'retry-after': String(Math.ceil(guard.windowMs / 1000)) } });
    }
    const { url, login, sealed } = await logins.start({
      returnTo: safeReturnPath(query.redirect) ?? '/',
      ...(query.prompt === 'login' ? { prompt: 'login' } : {}),
      domainHint: ctx.config.loginDomain,
    });
    // A browser keeps the cookies of as many logins as the loop guard lets it start within its window, so that every login of a
    // burst it allows (tabs restored at once) completes. More would only grow each request's Cookie header; the start clears the
    // oldest beyond it, and beyond LOGIN_COOKIES_BYTES.
    const own = names.login(login.state);
    const kept = Object.entries(request.cookies).filter((entry): entry is [string, string] => names.isLogin(entry[0]) && !!entry[1]);
    const within = { count: guard.max - 1, bytes: LOGIN_COOKIES_BYTES - own.length - sealed.length };
    for (const name of logins.beyondNewest(kept, within)) reply.clearCookie(name, cookieOptions());
    reply.setCookie(own, sealed, { ...cookieOptions(), maxAge: LOGIN_STATE_SECONDS });
    ctx.logger.info({ login: 'started' }, 'login started');
    ctx.metrics.logins.inc({ event: 'started' });
    return reply.header('cache-control', 'no-store').redirect(url, 302);
  });
}

/** Where the identity provider sends the browser back: the session made, the browser sent where the login started. */
function callbackRoute(fastify: FastifyInstance, flow: LoginFlow): void {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { ctx, cookie, logins, cookieOptions } = flow;
  const countFailure: onErrorHookHandler = (_request, _reply, _error, done) => {
    ctx.metrics.logins.inc({ event: 'failed' });
    done();
  };
  const callbackSchema = {
    summary: 'Where the identity provider sends the browser back',
    querystring: CallbackQuery,
    response: answers({ 302: redirect('Back where the login started') }, errors(400, 403, 409, 502, 503, 504)),
  };
  refuseHead(app, PATHS.callback);
  app.get(PATHS.callback, { schema: callbackSchema, config: PAGES, onError: countFailure }, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const query = request.query;
    const state = typeof query.state === 'string' ? query.state : undefined;
    // The cookie of the login this answer names, cleared once it ends; the browser's other logins keep theirs.
    const own = state === undefined ? undefined : cookie.names.login(state);
    const end = () => {
      if (own !== undefined && request.cookies[own] !== undefined) reply.clearCookie(own, cookieOptions());
    };
    let login: LoginState;
    let ticket: string;
    try {
      const callbackUrl = new URL(request.url, ctx.config.publicUrl);
      login = await logins.resumed(callbackUrl, (named) => request.cookies[cookie.names.login(named)], cookie.ticket(request));
      // Only once it answers a login this browser started: a link of anyone's making would show its words on this site's page.
      const refusal = loginRefusal(ctx.provider, query.error, query.error_description, {
        loginDomain: ctx.config.loginDomain,
        surface: 'browser',
        returnTo: login.returnTo,
      });
      if (refusal) throw refusal;
      ({ ticket } = await logins.complete(callbackUrl, login, { surface: 'browser' }));
    } catch (err) {
      // A login put off until the store is back keeps its state, for the reload of this page; any other answer ends it.
      if (!(err instanceof LoginPutOff)) end();
      throw err;
    }
    end();
    cookie.set(reply, ticket);
    ctx.logger.info({ login: 'completed' }, 'login completed');
    ctx.metrics.logins.inc({ event: 'completed' });
    return reply.redirect(safeReturnPath(login.returnTo) ?? '/', 302);
  });
}

/** The page after a logout, and what the session is. */
async function sessionRoutes(fastify: FastifyInstance, { ctx, cookie }: LoginDeps): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.get(
    PATHS.loggedOut,
    { schema: { summary: 'The page shown after logout', response: answers({ 200: htmlPage('You are logged out') }) } },
    async (_request, reply) => {
      const actions =
        `<ul class="actions"><li><a class="button" href="${escapeHtml(loginUrl('/'))}">Log in again</a></li><li><a ` +
        `class="button secondary" href="/">Home</a></li></ul>`;
      const ended = '<h1>You are logged out</h1><p>Your session with the token generator has ended.</p>';
      const body = `<section>${ended}\n${tenantNote(ctx.config.loginDomain)}\n${actions}</section>`;
      return reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(page({ title: 'Logged out', body }));
    },
  );

  const sessionSchema = {
    summary: 'Whether the caller is logged in, as whom, until when (never a token)',
    response: answers(
      { 200: { description: 'The session', content: { 'application/json': { schema: SessionAnswer } } } },
      errors(502, 503, 504),
    ),
  };
  refuseHead(app, PATHS.session);
  app.get(PATHS.session, { schema: sessionSchema, config: answersIn(['json'], 'json') }, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const session = await cookie.load(request);
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
