/**
 * The one place where a failure becomes an answer: every typed error of `errors.ts`, the session
 * store's, and Fastify's own (an unreadable body, a wrong content type) are rendered here as text,
 * JSON or HTML, in the format the route answers in (`formatOf`), with their advice.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { adviceFor, type GeneratorIdentity } from '../entra/advice.js';
import { StoreUnavailableError } from '../session/index.js';
import { FlowFailedError, LoginRequiredError, ProblemError } from './errors.js';
import { drainBeforeClose } from './body-drain.js';
import { formatOf, isNavigation } from './negotiate.js';
import { problem, sendProblem, type Problem } from './problem.js';
import { loginUrl } from '../paths.js';

export const STORE_UNAVAILABLE = problem(
  503,
  'session_store_unavailable',
  'The session store is unavailable right now. Try again in a moment.',
);

export interface ErrorHandlerOptions {
  publicUrl: string;
  /** Named in the advice when a target has not authorized this service. */
  generator: GeneratorIdentity;
}

export function registerErrorHandler(app: FastifyInstance, options: ErrorHandlerOptions): void {
  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    drainBeforeClose(request.raw);
    if (error instanceof LoginRequiredError) return sendLoginRequired(request, reply, error, options.publicUrl);
    return sendProblem(reply, request, problemFor(error, request, reply, options.generator), formatOf(request));
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]?.slice(0, 200);
    const message =
      `There is nothing at ${request.method} ${path}. Try POST ` + `/api/public/m2m or GET /api/obo?aud=<cluster>:<namespace>:<app>.`;
    return sendProblem(reply, request, problem(404, 'not_found', message), formatOf(request));
  });
}

function problemFor(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply, generator: GeneratorIdentity): Problem {
  if (error instanceof ProblemError) {
    for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
    return error.problem;
  }
  if (error instanceof FlowFailedError) {
    const advice = adviceFor(error.failure, error.audience, generator, error.flow);
    request.log.warn(
      {
        flow: error.flow,
        target: error.audience?.target,
        status: advice.status,
        error: advice.error,
        aadsts: advice.aadsts,
        reason: error.message,
      },
      'token request failed',
    );
    return advice;
  }
  if (error instanceof StoreUnavailableError) return STORE_UNAVAILABLE;
  if ('validation' in error && error.validation) {
    const where = 'validationContext' in error && error.validationContext ? ` (${error.validationContext})` : '';
    return request.routeOptions.config.invalid ?? problem(400, 'invalid_request', `The request is not valid${where}: ${error.message}.`);
  }
  const status = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500;
  if (status >= 500) {
    request.log.error({ err: error }, 'request failed');
    return problem(
      500,
      'internal_error',
      'Something went wrong in the token generator. Try again; if it persists, tell its operators the correlation id.',
    );
  }
  return requestProblem('code' in error ? error.code : undefined, status);
}

/** A browser is sent to log in; any other client is told where to, in JSON. */
function sendLoginRequired(request: FastifyRequest, reply: FastifyReply, error: LoginRequiredError, publicUrl: string): FastifyReply {
  reply.header('cache-control', 'no-store');
  if (isNavigation(request.headers)) return reply.redirect(loginUrl(error.returnTo), 302);
  const url = `${publicUrl}${loginUrl(error.returnTo)}`;
  return reply
    .code(401)
    .type('application/json; charset=utf-8')
    .send({
      error: 'login_required',
      error_description: `Log in first: open ${url} in a browser.`,
      login_url: url,
      correlation_id: String(request.id),
    });
}

export const BODY_TOO_LARGE = problem(
  413,
  'body_too_large',
  'The request body is too large or has too many parts: send only the field "aud".',
);
export const MULTIPART_UNREADABLE = problem(
  400,
  'invalid_body',
  'The multipart body cannot be read: send a well-formed form with the field "aud".',
);

/** Fastify's refusals of a request it could not read, by their code. */
function requestProblem(code: string | undefined, status: number): Problem {
  switch (code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return problem(
        415,
        'unsupported_content_type',
        'This content type is not supported: send application/x-www-form-urlencoded, multipart/form-data or application/json.',
      );
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return BODY_TOO_LARGE;
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return problem(400, 'invalid_body', 'The JSON body is empty: send {"aud": "<cluster>:<namespace>:<app>"}.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return problem(400, 'invalid_body', 'The JSON body cannot be read: send {"aud": "<cluster>:<namespace>:<app>"}.');
    default:
      if (code?.startsWith('FST_ERR_CTP') || status === 400)
        return problem(400, 'invalid_request', 'The request cannot be read: check its body and content type.');
      return problem(status, 'invalid_request', `The request was refused (HTTP ${status}).`);
  }
}
