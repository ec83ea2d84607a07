/**
 * Logging out. `GET /oauth2/logout` only shows a page with a button, so that a link or a cross-site
 * navigation ends nothing; the button's form posts back here with a token that only that page had,
 * and the session ends, here and then at the identity provider. A client that is not a browser (the
 * command line) asks for the token in JSON and posts it the same way.
 */
import { digest } from '../../../digest.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { loginUrl, PATHS } from '../../../paths.js';
import type { Sealer } from '../../../session/index.js';
import type { GeneratorContext } from '../context.js';
import { refuse } from '../../core/problem.js';
import { escapeHtml, page, policyWithFormDestination, tenantNote } from '../views/html.js';
import { answersIn, formatOf } from '../negotiate.js';
import type { Sessions } from '../../core/sessions.js';
import { ToolSessions } from '../../core/oauth/tool-sessions.js';
import type { SessionCookie } from '../session-cookie.js';
import { answers, errors, Field, htmlPage, redirect } from '../schemas.js';

const TOKEN_CONTEXT = 'logout-csrf';
const LogoutToken = z.object({ session: z.string() });

export interface LogoutDeps {
  ctx: GeneratorContext;
  sessions: Sessions;
  cookie: SessionCookie;
  sealer: Sealer;
  /** The tools' sessions: a logout ends those its browser login allowed, "everywhere" all of the employee's. */
  tools?: ToolSessions;
}

const LogoutPage = z
  .object({ logged_in: z.boolean(), csrf_token: z.string().optional().meta({ description: 'To post back to end the session' }) })
  .meta({ id: 'LogoutPage' });
const LoggedOut = z.object({ logged_out: z.literal(true), end_session_url: z.string().optional() }).meta({ id: 'LoggedOut' });

const PAGE_SCHEMA = {
  summary: 'A page with a button that logs out (or, in JSON, its csrf_token); ends nothing itself',
  response: answers(
    { 200: { description: 'The page', content: { ...htmlPage('').content, 'application/json': { schema: LogoutPage } } } },
    errors(503),
  ),
};
const POST_SCHEMA = {
  summary: 'Ends the session here and at the identity provider: the csrf_token of GET /oauth2/logout, from this site only',
  consumes: ['application/x-www-form-urlencoded', 'application/json'],
  body: z
    .object({
      csrf_token: Field.optional().meta({ description: 'The token of GET /oauth2/logout' }),
      everywhere: Field.optional().meta({ description: '"true" to end every tool\u2019s access as the employee too' }),
    })
    .optional(),
  response: answers(
    {
      303: redirect('To the identity provider'),
      200: { description: 'Logged out (JSON)', content: { 'application/json': { schema: LoggedOut } } },
    },
    errors(403, 503),
  ),
};

export async function logoutRoutes(fastify: FastifyInstance, { ctx, sessions, cookie, sealer, tools }: LogoutDeps): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const ownOrigin = new URL(ctx.config.publicUrl).origin;
  // A logout token names its session by digest, so that it ends that session and no other.
  const tokenFor = (sessionId: string) => sealer.seal(JSON.stringify({ session: digest(sessionId) }), TOKEN_CONTEXT);
  /** Whether the token is this session's; `other` when it is a page's token of another session (an earlier login of this browser). */
  const tokenMatches = (token: unknown, sessionId: string): boolean | 'other' => {
    const opened = typeof token === 'string' ? sealer.open(token, TOKEN_CONTEXT) : undefined;
    try {
      return opened !== undefined && (LogoutToken.parse(JSON.parse(opened)).session === digest(sessionId) || 'other');
    } catch {
      return false;
    }
  };

  app.get(PATHS.logout, { schema: PAGE_SCHEMA, config: answersIn(['html', 'json'], 'html') }, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const session = await cookie.stored(request);
    const token = session ? tokenFor(session.id) : undefined;
    if (formatOf(request) === 'json') return reply.send({ logged_in: session !== undefined, ...(token ? { csrf_token: token } : {}) });
    if (!token) {
      const login = `<p>You are not logged in. <a href="${escapeHtml(loginUrl('/'))}">Log in</a>.</p>`;
      return sendPage(reply, 'Not logged in', `${login}${tenantNote(ctx.config.loginDomain)}`);
    }
    const endSession = ctx.provider.logoutUrl(`${ctx.config.publicUrl}${PATHS.loggedOut}`);
    if (endSession) reply.header('content-security-policy', policyWithFormDestination(new URL(endSession).origin));
    const who = session?.data.user.name ?? session?.data.user.preferredUsername;
    const form =
      `<form method="post" action="${PATHS.logout}"><input type="hidden" name="csrf_token" value="${escapeHtml(token)}">` +
      `<button type="submit">Log out</button> <button type="submit" name="everywhere" value="true" class="secondary">` +
      `Everywhere, every tool too</button></form>`;
    return sendPage(
      reply,
      'Log out',
      `<p>Log out${who ? ` ${escapeHtml(who)}` : ''} from the token generator and the identity provider?</p>` +
        '<p>Logging out ends the access of the tools you allowed from this browser; to log out everywhere ends every tool\u2019s ' +
        `access as you too (the command line, Postman, devices).</p>${form}`,
    );
  });

  app.post(PATHS.logout, { schema: POST_SCHEMA, config: answersIn(['html', 'json'], 'html') }, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    refuseCrossSite(request, ownOrigin);
    const session = await cookie.stored(request);
    let idToken: string | undefined;
    if (session) {
      const matches = tokenMatches(request.body?.csrf_token, session.id);
      if (matches === 'other') {
        // A log-out page left open in one tab while another logged out and in again: a page of ours, but of another login.
        throw refuse(
          'invalid_csrf_token',
          'This log-out page was opened for another login than the one this browser has now (it logged in again since, in another ' +
            'tab perhaps), so nothing was ended. Use Log out below to log out of the login you have now.',
        );
      }
      if (!matches) {
        throw refuse(
          'invalid_csrf_token',
          'This logout did not come from the log-out page of this site, so nothing was ended. Open /oauth2/logout and use its button.',
        );
      }
      idToken = session.data.idToken;
      const everywhere = request.body?.everywhere === 'true';
      const endLogin = () => sessions.destroy(session.id);
      const ended = tools ? await tools.logout(session.id, session.data.user.oid, everywhere, endLogin) : await endLogin().then(() => 0);
      if (ended) ctx.logger.info({ tools: ended }, 'tool sessions ended by logout');
      ctx.logger.info({ session: 'ended' }, 'session ended by logout');
    }
    cookie.clear(reply);
    const endSession = ctx.provider.logoutUrl(`${ctx.config.publicUrl}${PATHS.loggedOut}`, idToken);
    if (formatOf(request) === 'json') return reply.send({ logged_out: true, ...(endSession ? { end_session_url: endSession } : {}) });
    return reply.redirect(endSession ?? PATHS.loggedOut, 303);
  });
}

/**
 * A post from a page of another site is refused before anything is looked at, cookies included. A
 * browser says where the post came from in Sec-Fetch-Site; its Origin is "null" from our own pages,
 * whose Referrer-Policy is no-referrer. Other clients send neither, or their own origin.
 */
export function refuseCrossSite(request: FastifyRequest, ownOrigin: string): void {
  const site = request.headers['sec-fetch-site'];
  const origin = request.headers.origin;
  const ours = site !== undefined ? site === 'same-origin' : origin === undefined || origin === ownOrigin;
  if (!ours) {
    throw refuse(
      'cross_site_request',
      'This must be asked for on a page of this site: open it (/oauth2/logout, the home page) and use its button.',
    );
  }
}

function sendPage(reply: FastifyReply, title: string, body: string): FastifyReply {
  return reply.type('text/html; charset=utf-8').send(page({ title, body: `<section><h1>${escapeHtml(title)}</h1>${body}</section>` }));
}
