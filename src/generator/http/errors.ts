/**
 * The one error path of the generator's HTTP surfaces: `toProblem` turns any error (a rule's
 * ProblemError, the session store's, Fastify's own refusals of a body it could not read, a bug) into
 * a problem, and one renderer each writes it as text, JSON, HTML or an OAuth 2.0 body, in the format
 * the route answers in (`formatOf`). Routes never answer an error themselves: a form that shows its
 * refusal beside its fields again throws `RefusedOnForm`, which this path renders as that form.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FixedAnswer } from '../../host-names.js';
import { StoreUnavailableError } from '../../session/index.js';
import {
  LoginRequiredError,
  ruleOf,
  PROBLEM_CODES,
  ProblemError,
  statusOf,
  type CodeRule,
  type OAuthErrorCode,
  type Problem,
  type ProblemCode,
  type ProblemStatus,
} from '../core/problem.js';
import { copyBlock, escapeHtml, page, sessionActions } from './views/html.js';
import { drainBeforeClose } from './body-drain.js';
import { formatOf, isNavigation, type Format } from './negotiate.js';
import { safeReturnPath } from './redirect.js';
import { loginUrl, PATHS } from '../../paths.js';

export interface ErrorHandlerOptions {
  publicUrl: string;
  /** The tenant's domain, said beside the error page's "Sign in as someone else". */
  loginDomain: string;
}

const problem = (code: ProblemCode, message: string): Problem => ({ code, message });

export const STORE_UNAVAILABLE = problem('session_store_unavailable', 'The session store is unavailable right now. Try again in a moment.');
export const BODY_TOO_LARGE = problem('body_too_large', 'The request body is too large or has too many parts: send only the field "aud".');
export const MULTIPART_UNREADABLE = problem(
  'invalid_body',
  'The multipart body cannot be read: send a well-formed form with the field "aud".',
);
const INTERNAL_ERROR = problem(
  'internal_error',
  'Something went wrong in the token generator. Try again; if it persists, tell its operators the correlation id.',
);

/** A form to show again with the message of its refusal, for a browser; other clients get the problem as usual. */
export interface FormAgain {
  title: string;
  body: (message: string) => string;
  /** The page's Content-Security-Policy, where its form may lead elsewhere than this service (see `policyWithLogin`). */
  policy?: string;
}

/** A refusal that a browser sees on the page it answered, so that the employee can correct it there. */
export class RefusedOnForm extends ProblemError {
  constructor(
    problem: Problem,
    readonly form: FormAgain,
  ) {
    super(problem);
  }
}

export function registerErrorHandler(app: FastifyInstance, options: ErrorHandlerOptions): void {
  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    drainBeforeClose(request.raw);
    const format = formatOf(request);
    if (error instanceof RefusedOnForm && format === 'html') return sendForm(reply, request, error);
    // A tool's session has no browser to send to a login: it hears invalid_grant, and starts its authorization again.
    if (error instanceof LoginRequiredError && format !== 'oauth') return sendLoginRequired(request, reply, error, options);
    if (error instanceof ProblemError) for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
    return sendProblem(reply, request, toProblem(error, request), format, options);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]?.slice(0, 200);
    const message =
      `There is nothing at ${request.method} ${path}. Try POST ` + `/api/public/m2m or GET /api/obo?aud=<cluster>:<namespace>:<app>.`;
    return sendProblem(reply, request, problem('not_found', message), formatOf(request), options);
  });
}

/** Any error as a problem; a failure of the identity provider is logged with the flow that ran. */
export function toProblem(error: FastifyError | Error, request: FastifyRequest): Problem {
  if (error instanceof ProblemError) {
    if (error.provider) {
      const { flow, target, reason } = error.provider;
      const p = error.problem;
      request.log.warn({ flow, target, status: statusOf(p), error: p.code, aadsts: p.aadsts, reason }, 'token request failed');
    }
    return error.problem;
  }
  if (error instanceof StoreUnavailableError) return STORE_UNAVAILABLE;
  if (error instanceof LoginRequiredError) return problem('login_expired', 'Your login has ended or is no longer valid. Log in again.');
  if ('validation' in error && error.validation) {
    const where = 'validationContext' in error && error.validationContext ? ` (${error.validationContext})` : '';
    return problem('invalid_request', `The request is not valid${where}: ${error.message}.`);
  }
  const status = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500;
  if (status >= 500) {
    request.log.error({ err: error }, 'request failed');
    return INTERNAL_ERROR;
  }
  return requestProblem('code' in error ? error.code : undefined, status);
}

/** Fastify's refusals of a request it could not read, by their code. */
function requestProblem(code: string | undefined, status: number): Problem {
  switch (code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return problem(
        'unsupported_content_type',
        'This content type is not supported: send application/x-www-form-urlencoded, multipart/form-data or application/json.',
      );
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return BODY_TOO_LARGE;
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return problem('invalid_body', 'The JSON body is empty: send {"aud": "<cluster>:<namespace>:<app>"}.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return problem('invalid_body', 'The JSON body cannot be read: send {"aud": "<cluster>:<namespace>:<app>"}.');
    default:
      if (code?.startsWith('FST_ERR_CTP') || status === 400)
        return problem('invalid_request', 'The request cannot be read: check its body and content type.');
      return { code: 'invalid_request', status, message: `The request was refused (HTTP ${status}).` };
  }
}

/** A browser is sent to log in; any other client is told where to, in JSON. */
function sendLoginRequired(
  request: FastifyRequest,
  reply: FastifyReply,
  error: LoginRequiredError,
  options: ErrorHandlerOptions,
): FastifyReply {
  const returnTo = error.returnTo ?? safeReturnPath(request.url) ?? '/';
  if (isNavigation(request.headers)) return reply.header('cache-control', 'no-store').redirect(loginUrl(returnTo), 302);
  const url = `${options.publicUrl}${loginUrl(returnTo)}`;
  return sendProblem(reply, request, problem('login_required', `Log in first: open ${url} in a browser.`), 'json', options, {
    login_url: url,
  });
}

/** `p` as an answer in `format`; `fields` are added to a JSON body (such as where to log in). */
export function sendProblem(
  reply: FastifyReply,
  request: FastifyRequest,
  p: Problem,
  format: Format,
  options: ErrorHandlerOptions,
  fields: Readonly<Record<string, string>> = {},
): FastifyReply {
  reply.header('cache-control', 'no-store');
  const wait = ruleOf(p.code).retryAfterSeconds;
  if (wait !== undefined && !reply.hasHeader('retry-after')) reply.header('retry-after', String(wait));
  const correlationId = String(request.id);
  switch (format) {
    case 'oauth':
      return reply
        .code(oauthStatus(p))
        .header('pragma', 'no-cache')
        .type('application/json; charset=utf-8')
        .send(oauthBody(p, correlationId));
    case 'json':
      return reply
        .code(statusOf(p))
        .type('application/json; charset=utf-8')
        .send({ ...jsonBody(p, correlationId), ...fields });
    case 'html':
      return reply
        .code(statusOf(p))
        .type('text/html; charset=utf-8')
        .send(problemPage(p, { returnTo: returnPath(request), loginDomain: options.loginDomain, correlationId }));
    case 'text':
      return reply.code(statusOf(p)).type('text/plain; charset=utf-8').send(textBody(p, correlationId));
  }
}

function sendForm(reply: FastifyReply, request: FastifyRequest, refused: RefusedOnForm): FastifyReply {
  const { problem: p, form } = refused;
  if (form.policy !== undefined) reply.header('content-security-policy', form.policy);
  return reply
    .code(statusOf(p))
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(page({ title: form.title, body: `<section>${form.body(p.message)}</section>`, correlationId: String(request.id) }));
}

/** An error page's heading, by status: a code with a status of its own does not compile until it has one. */
const TITLES: Record<ProblemStatus, string> = {
  400: 'Bad request',
  401: 'Not logged in',
  403: 'Access denied',
  404: 'Not found',
  405: 'Method not allowed',
  408: 'Request timeout',
  409: 'Already done',
  413: 'Request too large',
  415: 'Unsupported content type',
  421: 'Wrong address',
  429: 'Too many requests',
  499: 'Request given up',
  500: 'Something went wrong',
  502: 'The identity provider failed',
  503: 'Temporarily unavailable',
  504: 'The identity provider is slow',
};

/** The code's own title, else the title of a problem's own status, or of its code's for a status a transport brought (which has none). */
function titleOf(p: Problem): string {
  const rule: CodeRule = PROBLEM_CODES[p.code];
  if (rule.title !== undefined && p.status === undefined) return rule.title;
  const status = statusOf(p);
  return status in TITLES ? TITLES[status as ProblemStatus] : TITLES[PROBLEM_CODES[p.code].status];
}

/** For text and JSON the snippet, its note and the details are one block of lines, as they always were. */
function detailLines(p: Problem): string | undefined {
  const parts = [p.snippet, p.note, p.details].filter((part): part is string => part !== undefined);
  return parts.length ? parts.join('\n\n') : undefined;
}

/** The identity provider's code and words, the code said once (its words usually start with it). */
function upstreamLine(p: Problem): string | undefined {
  if (p.aadsts === undefined) return p.upstream;
  const code = `AADSTS${p.aadsts}`;
  if (!p.upstream) return code;
  return p.upstream.startsWith(code) ? p.upstream : `${code}: ${p.upstream}`;
}

/** For a script: the message for the case at hand, and from the code's rule whether the same request may succeed later and what to do. */
export function jsonBody(p: Problem, correlationId: string): Record<string, unknown> {
  const details = detailLines(p);
  const rule: CodeRule = PROBLEM_CODES[p.code];
  return {
    error: p.code,
    error_description: p.message,
    ...(details ? { details } : {}),
    ...(p.aadsts !== undefined ? { aadsts: p.aadsts, error_codes: [p.aadsts] } : {}),
    ...(p.upstream ? { upstream: p.upstream } : {}),
    retry: rule.retry,
    advice: rule.advice,
    correlation_id: correlationId,
  };
}

/** Without a correlation id for an answer written the same to everyone (see `fixedAnswer`). */
export function textBody(p: Problem, correlationId?: string): string {
  const details = detailLines(p);
  const lines = [p.message];
  if (details) lines.push('', details, '');
  if (p.aadsts !== undefined) lines.push(`(AADSTS${p.aadsts}${p.upstream ? `: ${p.upstream.replace(/^AADSTS\d+:\s*/, '')}` : ''})`);
  if (correlationId !== undefined) lines.push(`correlation id: ${correlationId}`);
  return `${lines.join('\n')}\n`;
}

/** `p` as a fixed text answer, which closes its connection (nothing more of it is read). */
export function fixedAnswer(p: Problem): FixedAnswer {
  const body = textBody(p);
  const headers = {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    connection: 'close',
  };
  return Object.freeze({ status: statusOf(p), headers: Object.freeze(headers), body });
}

/** The pages under /oauth2/ that a visit shows again as it was (a tool's consent page, the device page): a tool waits on them. */
const REVISITED: readonly string[] = [PATHS.authorize, PATHS.deviceVerification];

/**
 * Where "try again" and "sign in as someone else" lead: the page itself when it was a plain visit, else home. The other
 * /oauth2/ paths are steps (a login's start and its callback), not pages to come back to.
 */
function returnPath(request: FastifyRequest): string {
  const path = request.url.split('?')[0]!;
  if (request.method !== 'GET' || (path.startsWith('/oauth2/') && !REVISITED.includes(path))) return '/';
  return safeReturnPath(request.url) ?? '/';
}

export function problemPage(p: Problem, where: { returnTo: string; loginDomain: string; correlationId: string }): string {
  const { returnTo, loginDomain, correlationId } = where;
  const title = titleOf(p);
  const upstream = upstreamLine(p);
  const rule: CodeRule = PROBLEM_CODES[p.code];
  // A failure that trying again does not mend offers no "Try again"; the 4xx refusals keep it, as a second look.
  const mended = rule.retry || statusOf(p) < 500;
  // A page's own step is a link this service made (a login's callback, whose code has no bound of ours): checked, not cut.
  const next = p.next
    ? { ...p.next, href: safeReturnPath(p.next.href, Infinity) ?? '/' }
    : mended
      ? { label: 'Try again', href: returnTo }
      : undefined;
  const body = `<section class="error">
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(p.message)}</p>
${p.snippet ? copyBlock({ id: 'snippet', label: 'Copy YAML', text: p.snippet, className: 'snippet' }) : ''}
${p.note ? `<p>${escapeHtml(p.note)}</p>` : ''}
${p.details ? `<pre tabindex="0">${escapeHtml(p.details)}</pre>` : ''}
${upstream ? `<p class="muted">The identity provider said: <code>${escapeHtml(upstream)}</code></p>` : ''}
${sessionActions({ returnTo, ...(next ? { next } : {}), ...(rule.namesTenant ? {} : { loginDomain }) })}
</section>`;
  return page({ title, body, correlationId });
}

/** RFC 6749 allows only printable ASCII without `"` and `\` in error_description. */
function describable(text: string): string {
  return text
    .replace(/[\u2018\u2019"]/g, "'")
    .replace(/\\/g, '/')
    .replace(/[^\x20-\x7e]/g, '?');
}

export function oauthStatus(p: Problem): number {
  const rule = PROBLEM_CODES[p.code];
  return 'oauthStatus' in rule ? rule.oauthStatus : statusOf(p);
}

interface OAuthBody {
  error: OAuthErrorCode;
  error_description: string;
  reason?: ProblemCode;
  error_codes?: number[];
  /** The message and the lines after it as the JSON body has them, for a client that shows more than one line. */
  message?: string;
  details?: string;
  correlation_id: string;
}

/**
 * RFC 6749 §5.2: `error` one of the codes tools know; `error_description`, the one line a tool shows, carries the advice.
 * Where there is more than one line to say (the access policy to add), `message` and `details` say it as the JSON body
 * does: the command line prints the YAML to copy as it prints it for an app token.
 */
export function oauthBody(p: Problem, correlationId: string): OAuthBody {
  const oneLine = (text: string | undefined) => text?.replace(/\s*\n\s*/g, ' ');
  const parts = [p.snippetLine ?? oneLine(p.snippet), p.note, oneLine(p.details)].filter((part) => part !== undefined);
  const error = PROBLEM_CODES[p.code].oauth;
  const details = detailLines(p);
  return {
    error,
    error_description: describable(parts.length ? `${p.message} ${parts.join(' ')}` : p.message),
    ...(error !== p.code ? { reason: p.code } : {}),
    ...(p.aadsts !== undefined ? { error_codes: [p.aadsts] } : {}),
    ...(details ? { message: p.message, details } : {}),
    correlation_id: correlationId,
  };
}

/** RFC 6749 §4.1.2.1: the OAuth body as the query of a redirect to the tool, its one-line fields as parameters. */
export function oauthRedirectQuery(p: Problem, correlationId: string): Record<string, string> {
  const { error_codes: codes, message: _message, details: _details, ...fields } = oauthBody(p, correlationId);
  return { ...fields, ...(codes ? { error_codes: codes.join(' ') } : {}) };
}
