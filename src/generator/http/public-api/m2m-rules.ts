/** The rules of `POST /api/public/m2m` that do not depend on Fastify: where the audience is read from, what a token is answered with. */
import { AUDIENCE_EXAMPLE, parseAudience, type AudienceResult } from '../../../audience.js';
import type { Format } from '../negotiate.js';
import { responseBody, type IssuedToken } from '../../core/tokens.js';

/**
 * The audience from the query's `aud` and a parsed body: both may carry it, but then they must name the same app, as
 * read (`Dev-GCP:t:a` and `dev-gcp.t.a` agree).
 */
export function audienceOf(fromQuery: string | string[] | undefined, body: unknown, contentType: string | undefined): AudienceResult {
  if (typeof body === 'string' && body.trim() !== '') {
    return {
      ok: false,
      status: 415,
      message:
        `A ${contentType ?? 'plain'} body cannot carry the audience: send it as a form field, e.g. -d ` +
        `"aud=${AUDIENCE_EXAMPLE}", or as JSON {"aud": "${AUDIENCE_EXAMPLE}"}.`,
    };
  }
  const fromBody = body && typeof body === 'object' && !Array.isArray(body) && 'aud' in body ? body.aud : undefined;
  if (Array.isArray(fromQuery) || Array.isArray(fromBody)) {
    return { ok: false, message: 'The audience was sent more than once: send one "aud".' };
  }
  const read = parseAudience(fromBody ?? fromQuery);
  if (fromQuery === undefined || fromBody === undefined || !read.ok) return read;
  const query = parseAudience(fromQuery);
  if (!query.ok) return query;
  if (query.value.target !== read.value.target) {
    return {
      ok: false,
      message:
        `The audience in the query string (${query.value.target}) and the one in the body (${read.value.target}) name ` +
        'different apps: send one "aud", or the same in both.',
    };
  }
  return read;
}

/** What a token is answered with: the bare token, or the token response as JSON when the client prefers it. */
export function tokenAnswer(token: IssuedToken, format: Format): { type: string; body: string } {
  if (format === 'json') return { type: 'application/json; charset=utf-8', body: JSON.stringify(responseBody(token)) };
  return { type: 'text/plain; charset=utf-8', body: token.accessToken };
}

/** The formats `POST /api/public/m2m` answers in. */
export const M2M_FORMATS: readonly Format[] = ['text', 'json'];
