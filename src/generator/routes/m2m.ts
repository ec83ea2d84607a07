/**
 * App tokens (client credentials): `POST /api/public/m2m`, called by scripts today with the
 * audience in the query, a form, a multipart form or JSON. The answer is the bare token unless
 * the client explicitly prefers JSON.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AUDIENCE_EXAMPLE, parseAudience, type ParsedAudience } from '../../audience.js';
import { problem, sendProblem } from '../problem.js';
import { preferredFormat, type Format } from '../negotiate.js';
import { responseBody, type IssuedToken } from '../tokens.js';
import { skipCache, type GeneratorContext } from '../context.js';

const CURL = (publicUrl: string) => `curl -s -X POST "${publicUrl}/api/public/m2m" -d "aud=${AUDIENCE_EXAMPLE}"`;

/** The audience from the query and the body; both may carry it, but then they must agree. */
export function audienceFrom(request: FastifyRequest): { ok: true; value: ParsedAudience } | { ok: false; message: string; status?: number } {
  const query = (request.query ?? {}) as Record<string, unknown>;
  const body = request.body;
  if (typeof body === 'string' && body.trim() !== '') {
    return {
      ok: false,
      status: 415,
      message: `A ${request.headers['content-type'] ?? 'plain'} body cannot carry the audience: send it as a form field, e.g. -d "aud=${AUDIENCE_EXAMPLE}", or as JSON {"aud": "${AUDIENCE_EXAMPLE}"}.`,
    };
  }
  const fromBody = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>).aud : undefined;
  const fromQuery = query.aud;
  if (Array.isArray(fromQuery) || Array.isArray(fromBody)) {
    return { ok: false, message: 'The audience was sent more than once: send one "aud".' };
  }
  if (fromQuery !== undefined && fromBody !== undefined && fromQuery !== fromBody) {
    return { ok: false, message: 'The audience in the query string and the one in the body differ: send one "aud", or the same in both.' };
  }
  return parseAudience(fromBody ?? fromQuery);
}

export async function appTokenRoutes(app: FastifyInstance, ctx: GeneratorContext): Promise<void> {
  const send = (reply: FastifyReply, token: IssuedToken, format: Format) => {
    reply.header('cache-control', 'no-store');
    if (format === 'json') return reply.type('application/json; charset=utf-8').send(responseBody(token));
    return reply.type('text/plain; charset=utf-8').send(token.accessToken);
  };
  const handler = (request: FastifyRequest, reply: FastifyReply, format: Format): Promise<FastifyReply> | undefined => {
    const audience = audienceFrom(request);
    if (!audience.ok) {
      const status = audience.status ?? 400;
      sendProblem(reply, request, problem(status, status === 415 ? 'unsupported_content_type' : 'invalid_audience', audience.message), format);
      return undefined;
    }
    // A cached token is answered at once; only a miss waits for the identity provider.
    const cached = skipCache(request) ? undefined : ctx.tokens.cachedAppToken(audience.value);
    if (cached) {
      send(reply, cached, format);
      return undefined;
    }
    return ctx.appToken(request, reply, audience.value, format).then((result) => (result ? send(reply, result, format) : reply));
  };

  app.post('/api/public/m2m', { onRequest: ctx.limitPublic }, (request, reply) =>
    handler(request, reply, preferredFormat(request.headers.accept, ['text', 'json'], 'text')),
  );

  app.get('/api/public/m2m', (request, reply) => {
    const format = preferredFormat(request.headers.accept, ['text', 'json', 'html'], 'text');
    reply.header('allow', 'POST');
    return sendProblem(
      reply,
      request,
      problem(
        405,
        'method_not_allowed',
        `Use POST for /api/public/m2m, with the audience as "aud", for example: ${CURL(ctx.config.publicUrl)}`,
      ),
      format,
    );
  });
}
