/**
 * The emulator's HTTP(S) server before any route, and how the whole app answers what no route does: an error of any
 * route as Entra's error body, and a path of another tenant as Entra's unknown tenant.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import formbody from '@fastify/formbody';
import type { Logger } from 'pino';
import { EntraError, errors } from './errors.js';
import { PathOnlyRequestLog, pathOf } from './request-log.js';
import { lazySchemaCompilers } from './schema-compilers.js';
import { tenantRewrite, type TenantName } from './tenants.js';

export const BODY_LIMIT = 64 * 1024;

/** Request lines by path only, form-encoded bodies only, and `common`, `organizations` and the tenant's domains served as the tenant. */
export async function server(
  logger: Logger | false | undefined,
  tls: { cert: string; key: string } | undefined,
  basePath: string,
  named: (name: string) => TenantName,
): Promise<FastifyInstance> {
  const app = Fastify({
    rewriteUrl: tenantRewrite(basePath, named),
    ...(tls ? { https: { cert: tls.cert, key: tls.key } } : {}),
    ...(logger ? { loggerInstance: logger as FastifyBaseLogger } : { logger: false }),
    logController: new PathOnlyRequestLog(),
    bodyLimit: BODY_LIMIT,
    schemaController: { compilersFactory: lazySchemaCompilers },
  });
  // Form-encoded bodies only, as Entra's endpoints take: JSON and the rest answer 415 -> AADSTS900144.
  app.removeAllContentTypeParsers();
  await app.register(formbody, { bodyLimit: BODY_LIMIT });
  return app;
}

/** Entra's error body, never cached. */
export function sendEntraError(reply: FastifyReply, err: EntraError, baseUrl: string) {
  return reply.code(err.status).header('cache-control', 'no-store').header('pragma', 'no-cache').send(err.body(baseUrl));
}

/** The app's error and not-found handlers: Entra's error bodies, and Entra's answer for a tenant this emulator does not serve. */
export function answerAsEntra(app: FastifyInstance, tenantId: string, urls: { baseUrl: string }): void {
  app.setErrorHandler((error, request, reply) => {
    if (error instanceof EntraError) return sendEntraError(reply, error, urls.baseUrl);
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status === 415) return sendEntraError(reply, errors.unsupportedContentType(), urls.baseUrl);
    if (status === 413)
      return sendEntraError(reply, errors.malformed(`The request body is larger than ${BODY_LIMIT} bytes.`, 413), urls.baseUrl);
    if (status < 500) return sendEntraError(reply, errors.malformed('The request could not be read.'), urls.baseUrl);
    request.log.error(
      { path: pathOf(request.url).slice(0, 200), reason: error instanceof Error ? error.message.slice(0, 200) : 'unknown' },
      'emulator request failed',
    );
    return sendEntraError(reply, errors.serverError(), urls.baseUrl);
  });

  app.setNotFoundHandler((request, reply) => {
    const tenant = pathOf(request.url).split('/')[1] ?? '';
    if (tenant && tenant !== tenantId) return sendEntraError(reply, errors.tenantNotFound(tenant.slice(0, 100)), urls.baseUrl);
    return reply.code(404).send({ error: 'not_found', error_description: 'There is nothing at this path.' });
  });
}
