/**
 * App tokens (client credentials): `POST /api/public/m2m`, called by scripts today with the
 * audience in the query, a form, a multipart form or JSON. The answer is the bare token unless
 * the client explicitly prefers JSON.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AUDIENCE_EXAMPLE } from '../../audience.js';
import { problem, sendProblem } from '../problem.js';
import { preferredFormat, type Format } from '../negotiate.js';
import type { IssuedToken } from '../tokens.js';
import { skipCache, type GeneratorContext } from '../context.js';
import { audienceOf, M2M_FORMATS, M2M_PATH, tokenAnswer, type AudienceOutcome } from '../app-token.js';
import { replayLaneBody } from '../cached-lane.js';

const CURL = (publicUrl: string) => `curl -s -X POST "${publicUrl}/api/public/m2m" -d "aud=${AUDIENCE_EXAMPLE}"`;

/** The audience from the query and the body; both may carry it, but then they must agree. */
export function audienceFrom(request: FastifyRequest): AudienceOutcome {
  return audienceOf(request.query, request.body, request.headers['content-type']);
}

export async function appTokenRoutes(app: FastifyInstance, ctx: GeneratorContext): Promise<void> {
  const send = (reply: FastifyReply, token: IssuedToken, format: Format) => {
    const answer = tokenAnswer(token, format);
    return reply.header('cache-control', 'no-store').type(answer.type).send(answer.body);
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

  app.post(M2M_PATH, { onRequest: ctx.limitPublic, preParsing: replayLaneBody }, (request, reply) =>
    handler(request, reply, preferredFormat(request.headers.accept, M2M_FORMATS, 'text')),
  );

  app.get(M2M_PATH, (request, reply) => {
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
