/**
 * Tokens for a logged-in employee: `GET /api/obo` (on behalf of the employee) and `GET /api/m2m`
 * (an app token, which older docs still link for browsers).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { parseAudience, type ParsedAudience } from '../../../audience.js';
import { PATHS } from '../../../paths.js';
import { freshAsked, type GeneratorContext } from '../context.js';
import { LoginRequiredError, refuse } from '../../core/problem.js';
import { answersIn, formatOf } from '../negotiate.js';
import { safeReturnPath } from '../redirect.js';
import type { LoadedSession } from '../../core/sessions.js';
import type { SessionCookie } from '../session-cookie.js';
import { tokenPage } from '../views/token-page.js';
import { responseBody, type IssuedToken } from '../../core/tokens.js';
import { answers, AudienceQuery, errors, redirect, TOKEN_PAGE } from '../schemas.js';
import { refuseHead } from '../methods.js';

/** The audience of `?aud=`, or a 400. */
function audienceOf(aud: string | string[] | undefined): ParsedAudience {
  const parsed = parseAudience(aud);
  if (parsed.ok) return parsed.value;
  throw refuse('invalid_audience', parsed.message);
}

/** The employee's session; without one, LoginRequiredError (a browser is sent to log in, others get 401). */
export async function requireSession(cookie: SessionCookie, request: FastifyRequest): Promise<LoadedSession> {
  const session = await cookie.load(request);
  if (session) return session;
  throw new LoginRequiredError(safeReturnPath(request.url) ?? '/');
}

const schema = (summary: string) => ({
  summary,
  querystring: AudienceQuery,
  response: answers(
    { 200: TOKEN_PAGE, 302: redirect('A browser without a session is sent to log in') },
    errors(400, 401, 403, 404, 502, 503, 504),
  ),
});

export async function loggedInTokenRoutes(fastify: FastifyInstance, ctx: GeneratorContext, cookie: SessionCookie): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  type Kind = 'employee' | 'app';
  const send = (
    request: FastifyRequest,
    reply: FastifyReply,
    token: IssuedToken,
    kind: Kind,
    audience: ParsedAudience,
    session: LoadedSession,
  ) => {
    const body = responseBody(token);
    reply.header('cache-control', 'no-store');
    if (formatOf(request) === 'html') {
      const employee = session.data.user;
      const who = `${employee.name ?? employee.preferredUsername ?? 'you'}${employee.navIdent ? ` (${employee.navIdent})` : ''}`;
      const intro =
        kind === 'employee'
          ? `A token for ${audience.target}, on behalf of ${who}.`
          : `An app token for ${audience.target}: the token generator acting as itself, with no employee in the token, ` +
            `asked for by ${who}.`;
      const title = kind === 'employee' ? 'Token on behalf of you' : 'App token (client credentials)';
      return reply.type('text/html; charset=utf-8').send(
        tokenPage({
          title,
          target: audience.target,
          body,
          correlationId: String(request.id),
          intro,
          returnTo: safeReturnPath(request.url) ?? '/',
          loginDomain: ctx.config.loginDomain,
          provider: ctx.provider,
        }),
      );
    }
    return reply.type('application/json; charset=utf-8').send(body);
  };
  const config = answersIn(['json', 'html'], 'json');

  refuseHead(app, PATHS.obo);
  app.get(PATHS.obo, { schema: schema('A token on behalf of the logged-in employee'), config }, async (request, reply) => {
    const audience = audienceOf(request.query.aud);
    const session = await requireSession(cookie, request);
    const token = await ctx.tokens.employeeToken(session, audience, { fresh: freshAsked(request), address: request.ip });
    return send(request, reply, token, 'employee', audience, session);
  });

  refuseHead(app, PATHS.employeeM2m);
  app.get(
    PATHS.employeeM2m,
    { schema: schema('An app token, for a logged-in employee (older docs link this)'), config },
    async (request, reply) => {
      const audience = audienceOf(request.query.aud);
      const session = await requireSession(cookie, request);
      const token = await ctx.tokens.appTokenFor(session, audience, { fresh: freshAsked(request), address: request.ip });
      return send(request, reply, token, 'app', audience, session);
    },
  );
}
