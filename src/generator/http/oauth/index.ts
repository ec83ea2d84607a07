/**
 * The authorization server's routes in one plugin. Their refusals take the one error path: RFC 6749
 * bodies on the endpoints tools call (they answer in `oauth`), an HTML page on those an employee sees.
 * The state behind them (codes, consent tokens, device authorizations, tool sessions) is the core's.
 */
import type { FastifyInstance } from 'fastify';
import type { Sealer } from '../../../session/index.js';
import type { GeneratorContext } from '../context.js';
import type { Limits } from '../../core/limits.js';
import type { Sessions } from '../../core/sessions.js';
import type { SessionCookie } from '../session-cookie.js';
import { authorizeRoutes } from './authorize-routes.js';
import { DeviceAuthorizations } from '../../core/device-authorizations.js';
import { deviceRoutes } from './device-routes.js';
import { EmployeeTokens } from './employee-tokens.js';
import { AuthorizationCodes } from '../../core/oauth/codes.js';
import { DeviceCodes } from '../../core/oauth/device-codes.js';
import { metadataRoute } from './metadata.js';
import { tokenRoutes } from './token-routes.js';
import type { ToolSessions } from '../../core/oauth/tool-sessions.js';

export async function authorizationServerRoutes(
  app: FastifyInstance,
  deps: { ctx: GeneratorContext; sessions: Sessions; cookie: SessionCookie; sealer: Sealer; limits: Limits; tools: ToolSessions },
): Promise<void> {
  const { ctx, sessions, cookie, sealer, limits, tools } = deps;
  const store = sessions.manager.store;
  const tokens = new EmployeeTokens(ctx);
  const codes = new AuthorizationCodes(sealer, store, tools);
  const devices = new DeviceAuthorizations(store, {
    lifetimeMs: ctx.config.deviceCodeSeconds * 1000,
    pollIntervalSeconds: ctx.config.devicePollIntervalSeconds,
  });
  const issuer = ctx.config.publicUrl;

  await metadataRoute(app, issuer);
  await authorizeRoutes(app, { issuer, cookie, store, sealer, codes, tools, limits, loginDomain: ctx.config.loginDomain });
  await tokenRoutes(app, { ctx, codes, tools, tokens, deviceCodes: new DeviceCodes(devices, tools), limits });
  await deviceRoutes(app, { ctx, cookie, store, sealer, devices, limits, tools });
}
