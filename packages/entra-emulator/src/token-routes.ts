/**
 * The token endpoint and the device authorization endpoint as routes, in a scope of their own: their counters and
 * CORS apply to them alone. Their errors are the app's (app-server.ts), as every route's.
 */
import type { FastifyInstance } from 'fastify';
import { tokenEndpointCors } from './cors.js';
import { deviceAuthorizationRoute } from './device-authorization.js';
import { errors } from './errors.js';
import { GRANTS, type GrantContext } from './grants/index.js';
import { formParams } from './params.js';
import { pathOf } from './request-log.js';
import { issueTokens } from './token-endpoint.js';

export interface TokenStats {
  tokenRequests: number;
  byGrant: Record<string, number>;
}

export interface TokenRoutesOptions {
  context: GrantContext;
  /** The tenant's path, `/{tenant}`. */
  basePath: string;
  urls: { baseUrl: string };
  /** The device code flow's polling interval, in seconds. */
  deviceCodeIntervalSeconds: number;
}

export async function tokenRoutes(app: FastifyInstance, options: TokenRoutesOptions): Promise<TokenStats> {
  const { context, basePath } = options;
  const tokenPath = `${basePath}/oauth2/v2.0/token`;
  const stats: TokenStats = { tokenRequests: 0, byGrant: {} };
  await app.register(async (scope) => {
    tokenEndpointCors(scope, tokenPath, context.directory);
    scope.addHook('onRequest', (request, _reply, done) => {
      // Counted before the body is read, so that refused bodies count too.
      if (request.method === 'POST' && pathOf(request.url) === tokenPath) stats.tokenRequests++;
      done();
    });

    scope.post(tokenPath, async (request, reply) => {
      const params = formParams(request.body, request.headers['content-type']);
      const grant = params.grant_type ?? 'none';
      const counted = GRANTS.has(grant) || grant === 'none' ? grant : 'other';
      stats.byGrant[counted] = (stats.byGrant[counted] ?? 0) + 1;
      const result = await issueTokens(context, params, request.headers);
      return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(result);
    });
    scope.route({
      method: ['GET', 'PUT', 'DELETE', 'PATCH'],
      url: tokenPath,
      handler: async (request) => {
        throw errors.postOnly(request.method);
      },
    });
    deviceAuthorizationRoute(scope, {
      directory: context.directory,
      stores: context.stores,
      path: `${basePath}/oauth2/v2.0/devicecode`,
      urls: options.urls,
      intervalSeconds: options.deviceCodeIntervalSeconds,
    });
  });
  return stats;
}
