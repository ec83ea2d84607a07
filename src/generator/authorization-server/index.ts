/**
 * The authorization server's routes in one plugin, with the answer for its refusals: RFC 6749
 * bodies on the endpoints tools call, an HTML page on those an employee sees.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { adviceFor } from '../../entra/advice.js';
import { IdpError } from '../../entra/errors.js';
import { StoreUnavailableError, type Sealer } from '../../session/index.js';
import type { GeneratorContext } from '../context.js';
import type { EmployeeLimits } from '../limits.js';
import { problem, sendProblem } from '../problem.js';
import type { Sessions } from '../sessions.js';
import { FlowFailedError, ProblemError } from '../errors.js';
import { authorizeRoutes } from './authorize-routes.js';
import { DeviceAuthorizations } from './device.js';
import { deviceRoutes } from './device-routes.js';
import { EmployeeTokens } from './employee-tokens.js';
import { AuthorizationCodes } from './grants/authorization-code.js';
import { metadataRoute } from './metadata.js';
import { PATHS } from '../../paths.js';
import { fromAdvice, OAuthError, sendOAuthError } from './oauth-error.js';
import { tokenRoutes } from './token-routes.js';
import type { ToolSessions } from './tool-sessions.js';

const PAGES: ReadonlySet<string> = new Set([PATHS.authorize, PATHS.deviceVerification]);

/** What the endpoints' refusals are, in OAuth's words; undefined for what the service's own handler answers. */
function asOAuthError(error: FastifyError | Error, ctx: GeneratorContext): OAuthError | undefined {
  if (error instanceof OAuthError) return error;
  if (error instanceof StoreUnavailableError) {
    return new OAuthError('temporarily_unavailable', 'The session store is unavailable right now. Try again in a moment.', 503);
  }
  if (error instanceof FlowFailedError) return fromAdvice(adviceFor(error.failure, error.audience, ctx.config.nais, error.flow));
  if (error instanceof IdpError) return fromAdvice(adviceFor(error, undefined, ctx.config.nais, 'on_behalf_of'));
  if (error instanceof ProblemError && error.problem.status === 429) return new OAuthError(error.problem.error, error.message, 429);
  const code = (error as FastifyError).code;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new OAuthError('invalid_request', 'The request body is too large.', 413);
  if (code?.startsWith('FST_ERR_CTP') || code === 'INVALID_MULTIPART') {
    return new OAuthError(
      'invalid_request',
      'The body cannot be read: send the parameters as application/x-www-form-urlencoded.',
      code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 415 : 400,
    );
  }
  return undefined;
}

/** Pages leave everything but their own refusals (a login to make, the store down) to the service's handler. */
function answerError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply, ctx: GeneratorContext): FastifyReply {
  const page = PAGES.has(request.routeOptions.url ?? '');
  if (page && !(error instanceof OAuthError)) throw error;
  const oauth = asOAuthError(error, ctx);
  if (!oauth) throw error;
  if (error instanceof ProblemError) for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
  if (page) return sendProblem(reply, request, problem(oauth.status, oauth.error, oauth.description), 'html');
  return sendOAuthError(reply, request, oauth);
}

export async function authorizationServerRoutes(
  app: FastifyInstance,
  deps: { ctx: GeneratorContext; sessions: Sessions; sealer: Sealer; limits: EmployeeLimits; tools: ToolSessions },
): Promise<void> {
  const { ctx, sessions, sealer, limits, tools } = deps;
  const store = sessions.manager.store;
  const tokens = new EmployeeTokens(ctx);
  const codes = new AuthorizationCodes(sealer, store, tools, tokens);
  const devices = new DeviceAuthorizations(store, ctx.config.deviceCodeSeconds * 1000);
  const issuer = ctx.config.publicUrl;

  app.setErrorHandler((error: FastifyError, request, reply) => answerError(error, request, reply, ctx));
  await metadataRoute(app, issuer);
  await authorizeRoutes(app, { issuer, sessions, sealer, codes });
  await tokenRoutes(app, { ctx, codes, tools, tokens, devices, limits });
  await deviceRoutes(app, { ctx, sessions, sealer, devices });
}
