/**
 * Tokens for a logged-in person: `GET /api/obo` (on behalf of the person) and `GET /api/m2m`
 * (an app token, which older docs still link for browsers).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseAudience, type ParsedAudience } from '../../audience.js';
import { skipCache, type GeneratorContext } from '../context.js';
import { isNavigation, preferredFormat, type Format } from '../negotiate.js';
import { problem, sendProblem } from '../problem.js';
import { returnPathFromRequestUrl } from '../redirect.js';
import { SessionUnavailableError, type LoadedSession, type Sessions } from '../sessions.js';
import { tokenPage } from '../token-page.js';
import { responseBody, type IssuedToken } from '../tokens.js';
import { loginUrl } from './login.js';

export async function personTokenRoutes(app: FastifyInstance, ctx: GeneratorContext, sessions: Sessions): Promise<void> {
  /** The person's session, or undefined after answering with a login redirect, a 401 or a 503. */
  const requireSession = async (request: FastifyRequest, reply: FastifyReply, format: Format): Promise<LoadedSession | undefined> => {
    let session: LoadedSession | undefined;
    try {
      session = await sessions.load(request);
    } catch (err) {
      if (err instanceof SessionUnavailableError) {
        sendProblem(reply, request, problem(503, 'session_store_unavailable', err.message), format);
        return undefined;
      }
      // The user's token ran out while the identity provider could not refresh it.
      ctx.sendIdpFailure(request, reply, err, undefined, 'on_behalf_of', format);
      return undefined;
    }
    if (session) return session;
    const returnTo = returnPathFromRequestUrl(request.url) ?? '/';
    if (isNavigation(request.headers)) {
      reply.header('cache-control', 'no-store').redirect(loginUrl(returnTo), 302);
      return undefined;
    }
    reply.code(401).header('cache-control', 'no-store').type('application/json; charset=utf-8').send({
      error: 'login_required',
      error_description: `Log in first: open ${ctx.config.publicUrl}${loginUrl(returnTo)} in a browser.`,
      login_url: `${ctx.config.publicUrl}${loginUrl(returnTo)}`,
      correlation_id: String(request.id),
    });
    return undefined;
  };

  const audienceOf = (request: FastifyRequest, reply: FastifyReply, format: Format): ParsedAudience | undefined => {
    const aud = (request.query as Record<string, unknown>).aud;
    const parsed = parseAudience(aud);
    if (parsed.ok) return parsed.value;
    sendProblem(reply, request, problem(400, 'invalid_audience', parsed.message), format);
    return undefined;
  };

  type Kind = 'person' | 'app';
  const send = (request: FastifyRequest, reply: FastifyReply, format: Format, token: IssuedToken, kind: Kind, audience: ParsedAudience, session: LoadedSession) => {
    const body = responseBody(token);
    reply.header('cache-control', 'no-store');
    if (format === 'html') {
      const { user } = session.data;
      const who = `${user.name ?? user.preferredUsername ?? 'you'}${user.navIdent ? ` (${user.navIdent})` : ''}`;
      const intro =
        kind === 'person'
          ? `A token for ${audience.target}, on behalf of ${who}.`
          : `An app token for ${audience.target}: the token generator acting as itself, with no person in the token, asked for by ${who}.`;
      const title = kind === 'person' ? 'Token on behalf of you' : 'App token (client credentials)';
      return reply.type('text/html; charset=utf-8').send(
        tokenPage({ title, target: audience.target, body, correlationId: String(request.id), intro, returnTo: returnPathFromRequestUrl(request.url) ?? '/' }),
      );
    }
    return reply.type('application/json; charset=utf-8').send(body);
  };

  app.get('/api/obo', async (request, reply) => {
    const format = preferredFormat(request.headers.accept, ['json', 'html'], 'json');
    const audience = audienceOf(request, reply, format);
    if (!audience) return reply;
    const session = await requireSession(request, reply, format);
    if (!session) return reply;
    let token: IssuedToken;
    try {
      ({ token } = await ctx.tokens.userToken(session.id, session.data.accessToken, audience, { skipCache: skipCache(request) }));
    } catch (err) {
      return ctx.sendIdpFailure(request, reply, err, audience, 'on_behalf_of', format);
    }
    return send(request, reply, format, token, 'person', audience, session);
  });

  app.get('/api/m2m', async (request, reply) => {
    const format = preferredFormat(request.headers.accept, ['json', 'html'], 'json');
    const audience = audienceOf(request, reply, format);
    if (!audience) return reply;
    const session = await requireSession(request, reply, format);
    if (!session) return reply;
    const token = await ctx.appToken(request, reply, audience, format);
    if (!token) return reply;
    return send(request, reply, format, token, 'app', audience, session);
  });
}
