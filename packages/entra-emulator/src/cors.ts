/**
 * Cross-origin requests as Entra ID answers them: discovery and keys are open to every origin; the
 * token endpoint answers a browser only from the origin of a redirect URI registered as a single-page
 * app's (`spa`), preflight included, and says nothing to any other; the sign-in pages are pages, never
 * read across origins.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Directory } from './directory.js';
import { pathOf } from './request-log.js';

/** For discovery documents and keys, which any page may read. */
export function openToEveryOrigin(reply: FastifyReply): FastifyReply {
  return reply.header('access-control-allow-origin', '*');
}

/** A preflight's Access-Control-Request-Headers: header names, comma-separated. */
const HEADER_LIST = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+(\s*,\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*$/;
const PREFLIGHT_MAX_AGE_S = 86_400;

/** The CORS of the token endpoint at `path`: its preflight route, and the allowing header on every answer to an allowed origin. */
export function tokenEndpointCors(app: FastifyInstance, path: string, directory: Directory): void {
  const allowedOrigin = (request: FastifyRequest): string | undefined => {
    const origin = request.headers.origin;
    return origin !== undefined && directory.spaOrigins.has(origin) ? origin : undefined;
  };

  app.addHook('onRequest', (request, reply, done) => {
    // Before the body is read, so that the error answers carry it too and the page can read Entra's error.
    if (pathOf(request.url) === path) {
      reply.header('vary', 'Origin');
      const origin = allowedOrigin(request);
      if (origin) reply.header('access-control-allow-origin', origin);
    }
    done();
  });

  app.options(path, async (request, reply) => {
    const origin = allowedOrigin(request);
    if (!origin) return reply.code(204).send();
    const asked = request.headers['access-control-request-headers'];
    if (typeof asked === 'string' && HEADER_LIST.test(asked)) reply.header('access-control-allow-headers', asked);
    return reply
      .code(204)
      .header('access-control-allow-methods', 'POST, OPTIONS')
      .header('access-control-max-age', String(PREFLIGHT_MAX_AGE_S))
      .send();
  });
}
