/**
 * `POST /oauth2/token` (RFC 6749 §3.2), one grant module per grant type, and `POST /oauth2/revoke`
 * (RFC 7009), by which a tool ends its own session.
 */
import { decodeJwt } from 'jose';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { freshAsked, type GeneratorContext } from '../context.js';
import type { Limits } from '../../core/limits.js';
import type { DeviceCodes } from '../../core/oauth/device-codes.js';
import type { EmployeeTokens } from './employee-tokens.js';
import type { AuthorizationCodes } from '../../core/oauth/codes.js';
import { authorizationCodeGrant } from './grants/authorization-code.js';
import { clientCredentialsGrant } from './grants/client-credentials.js';
import { deviceCodeGrant } from './grants/device-code.js';
import { refreshGrant } from './grants/refresh-token.js';
import { DEVICE_CODE_GRANT } from './metadata.js';
import { PATHS } from '../../../paths.js';
import { OAUTH } from '../negotiate.js';
import { REVOKE_SCHEMA, TOKEN_SCHEMA } from './schemas.js';
import { PROBLEM_CODES, ProblemError, refuse } from '../../core/problem.js';
import type { Metrics } from '../internal/metrics.js';
import { formOnly, single, toolParameters } from './parameters.js';
import type { ToolSessions } from '../../core/oauth/tool-sessions.js';

export interface GrantDeps {
  ctx: GeneratorContext;
  codes: AuthorizationCodes;
  tools: ToolSessions;
  tokens: EmployeeTokens;
  deviceCodes: DeviceCodes;
  limits: Limits;
}

export async function tokenRoutes(app: FastifyInstance, deps: GrantDeps): Promise<void> {
  const { ctx } = deps;

  app.post(
    PATHS.token,
    { schema: TOKEN_SCHEMA, onRequest: ctx.limitPublic, preParsing: formOnly, config: OAUTH },
    async (request, reply) => {
      const params = toolParameters(request.body, request.headers.authorization);
      const asked = { fresh: freshAsked(request), address: request.ip };
      const grant = single(params, 'grant_type');
      // The tool waits while its connection is open (core/oauth/waiting.ts).
      const waiting = () => request.raw.socket?.destroyed !== true;
      const answer = await (() => {
        switch (grant) {
          case 'client_credentials':
            return clientCredentialsGrant(params, ctx, asked);
          case 'authorization_code':
            // Codes are guessed here, if anywhere: their redemptions are counted per address.
            return deps.limits.codeRedeem(request.ip).then(() => authorizationCodeGrant(params, deps, asked, waiting));
          case 'refresh_token':
            return refreshGrant(params, deps, asked, waiting);
          case DEVICE_CODE_GRANT:
            return deviceCodeGrant(params, deps, asked, waiting);
          case undefined:
            throw refuse(
              'invalid_request',
              'Send grant_type: client_credentials, authorization_code, refresh_token or the device code grant.',
            );
          default:
            throw refuse(
              'unsupported_grant_type',
              `This server offers the grants client_credentials, authorization_code, refresh_token and ${DEVICE_CODE_GRANT}.`,
            );
        }
      })().catch((err: unknown) => {
        if (err instanceof ProblemError && err.problem.code === 'tool_gone') toolGone(request, grant, ctx.metrics);
        throw err;
      });
      return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').type('application/json; charset=utf-8').send(answer);
    },
  );

  app.post(
    PATHS.revoke,
    { schema: REVOKE_SCHEMA, onRequest: ctx.limitPublic, preParsing: formOnly, config: OAUTH },
    async (request, reply) => {
      const token = single(toolParameters(request.body, request.headers.authorization), 'token');
      if (!token) throw refuse('invalid_request', 'Send the refresh token to revoke as token.');
      if (await deps.tools.end(token)) request.log.info({ session: 'ended' }, 'tool session ended by revocation');
      // RFC 7009 §2.2.1: an access token is not revoked (it is Entra ID's, good until it expires), and the tool must not think it was.
      else if (isJwt(token)) throw refuse('unsupported_token_type', 'Access tokens cannot be revoked here: revoke the refresh token.');
      return reply.header('cache-control', 'no-store').code(200).send();
    },
  );
}

/** Whether a token is a JWT, as every access token the generator hands out is (its refresh tokens are sealed handles). */
function isJwt(token: string): boolean {
  try {
    decodeJwt(token);
    return true;
  } catch {
    return false;
  }
}

/**
 * A tool gone before its answer: logged and counted here, since its answer is never written and so never reaches the
 * request log (request-log.ts), which Fastify calls once an answer is sent.
 */
function toolGone(request: FastifyRequest, grant: string | undefined, metrics: Metrics): void {
  request.log.info({ grant }, 'the tool stopped waiting before its answer was ready: nothing was used up');
  metrics.requestAnswered(PATHS.token, request.method, PROBLEM_CODES.tool_gone.status);
}
