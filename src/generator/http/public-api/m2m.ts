/**
 * App tokens (client credentials): `POST /api/public/m2m`, called by scripts today with the
 * audience in the query, a form, a multipart form or JSON. The answer is the bare token unless
 * the client explicitly prefers JSON.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { AUDIENCE_EXAMPLE, type ParsedAudience } from '../../../audience.js';
import { PATHS } from '../../../paths.js';
import { refuse } from '../../core/problem.js';
import { answersIn, formatIn } from '../negotiate.js';
import { methodNotAllowed, REFUSES_METHOD } from '../methods.js';
import type { IssuedToken } from '../../core/tokens.js';
import { freshAsked, type GeneratorContext } from '../context.js';
import { audienceOf, M2M_FORMATS, tokenAnswer } from './m2m-rules.js';
import { answers, Audience, AUDIENCE_BODY_TYPES, AudienceQuery, documentedBody, errors, TOKEN_ANSWER } from '../schemas.js';

const CURL = (publicUrl: string) => `curl -s -X POST "${publicUrl}${PATHS.m2m}" -d "aud=${AUDIENCE_EXAMPLE}"`;

/** The audience from the query and the body; both may carry it, but then they must agree. Throws when they do not. */
export function audienceFrom(request: {
  query: z.infer<typeof AudienceQuery>;
  body: unknown;
  headers: IncomingHttpHeaders;
}): ParsedAudience {
  const audience = audienceOf(request.query.aud, request.body, request.headers['content-type']);
  if (audience.ok) return audience.value;
  throw refuse(audience.status === 415 ? 'unsupported_content_type' : 'invalid_audience', audience.message);
}

const M2M_SCHEMA = {
  summary: 'An app token (client credentials) for the audience',
  querystring: AudienceQuery,
  body: documentedBody({ aud: Audience.optional() }),
  consumes: AUDIENCE_BODY_TYPES,
  response: answers({ 200: TOKEN_ANSWER }, errors(400, 403, 404, 413, 415, 429, 502, 504)),
};

/** What the route answers in, its errors included. */
const M2M_ANSWERS = answersIn(M2M_FORMATS, 'text');

export async function appTokenRoutes(fastify: FastifyInstance, ctx: GeneratorContext): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const send = (request: FastifyRequest, reply: FastifyReply, token: IssuedToken) => {
    const answer = tokenAnswer(token, formatIn(request.headers.accept, M2M_ANSWERS.answers));
    return reply.header('cache-control', 'no-store').type(answer.type).send(answer.body);
  };

  app.post(
    PATHS.m2m,
    { schema: M2M_SCHEMA, onRequest: ctx.limitPublic, config: M2M_ANSWERS },
    (request, reply): Promise<FastifyReply> | undefined => {
      const audience = audienceFrom(request);
      // A cached token is answered at once; only a miss waits for the identity provider.
      const cached = freshAsked(request) ? undefined : ctx.tokens.cachedAppToken(audience);
      if (cached) {
        send(request, reply, cached);
        return undefined;
      }
      return ctx.tokens
        .appToken(audience, { fresh: freshAsked(request), address: request.ip })
        .then((token) => send(request, reply, token));
    },
  );

  const getSchema = { summary: 'Not allowed: shows the right curl line', response: answers(errors(405)) };
  app.get(PATHS.m2m, { schema: getSchema, config: REFUSES_METHOD }, (request) => {
    throw methodNotAllowed(
      request,
      (allowed) => `Use ${allowed} for ${PATHS.m2m}, with the audience as "aud", for example: ${CURL(ctx.config.publicUrl)}`,
    );
  });
}
