/**
 * Refusals as OAuth 2.0 clients read them (RFC 6749 §5.2, RFC 8628 §3.5): `error` is one of the
 * codes the RFCs define, and `error_description`, the one line a tool shows, carries the advice.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ParsedAudience } from '../../audience.js';
import { adviceFor, type Flow, type Problem } from '../../entra/advice.js';
import { IdpError } from '../../entra/errors.js';
import type { GeneratorContext } from '../context.js';

export class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status = 400,
    /** The generator's own name for the refusal, such as not_authorized_by_target. */
    readonly reason?: string,
    readonly aadsts?: number,
  ) {
    super(description);
    this.name = 'OAuthError';
  }
}

/** RFC 6749 allows only printable ASCII without `"` and `\` in error_description. */
function describable(text: string): string {
  return text
    .replace(/[\u2018\u2019"]/g, "'")
    .replace(/\\/g, '/')
    .replace(/[^\x20-\x7e]/g, '?');
}

/** The OAuth error code for the generator's advice. */
function errorCode(advice: Problem): string {
  if (advice.status >= 500) return advice.status === 504 || advice.status === 503 ? 'temporarily_unavailable' : 'server_error';
  if (advice.error === 'login_expired' || advice.error === 'user_not_allowed') return 'invalid_grant';
  return 'invalid_scope';
}

export function fromAdvice(advice: Problem): OAuthError {
  const oneLine = (text: string | undefined) => text?.replace(/\s*\n\s*/g, ' ');
  const parts = [advice.snippetLine ?? oneLine(advice.snippet), advice.note, oneLine(advice.details)].filter((part) => part !== undefined);
  const line = parts.length ? parts.join(' ') : undefined;
  return new OAuthError(
    errorCode(advice),
    describable(line ? `${advice.message} ${line}` : advice.message),
    advice.status >= 500 ? advice.status : 400,
    advice.error,
    advice.aadsts,
  );
}

/** Runs a call to the identity provider; its failure becomes the advice as an OAuthError. */
export async function withAdvice<T>(ctx: GeneratorContext, audience: ParsedAudience, flow: Flow, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    if (!(err instanceof IdpError)) throw err;
    const advice = adviceFor(err, audience, ctx.config.nais, flow);
    ctx.logger.warn(
      { flow, target: audience.target, status: advice.status, error: advice.error, aadsts: advice.aadsts, reason: err.message },
      'token request failed',
    );
    throw fromAdvice(advice);
  }
}

export function sendOAuthError(reply: FastifyReply, request: FastifyRequest, err: OAuthError): FastifyReply {
  return reply
    .code(err.status)
    .header('cache-control', 'no-store')
    .header('pragma', 'no-cache')
    .type('application/json; charset=utf-8')
    .send({
      error: err.error,
      error_description: err.description,
      ...(err.reason ? { reason: err.reason } : {}),
      ...(err.aadsts !== undefined ? { error_codes: [err.aadsts] } : {}),
      correlation_id: String(request.id),
    });
}
