/**
 * Every refusal the generator can answer, as one union of codes. Each code says once its HTTP
 * status, the OAuth 2.0 error a tool reads (RFC 6749 §5.2, RFC 8628 §3.5), whether trying again can
 * help, and its advice: what the caller does next. A code added here is a compile error wherever a
 * table of codes is kept, and rendered everywhere without more work.
 *
 * Rules throw a `ProblemError`; `http/errors.ts` is the one place that renders it (text, JSON, HTML
 * or an OAuth body), and the one that turns any other error into a problem.
 */

/** The `error` values tools know: the RFCs' own, and `rate_limited`, which a 429 says of itself. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_grant'
  | 'invalid_client'
  | 'invalid_scope'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'unsupported_token_type'
  | 'access_denied'
  | 'authorization_pending'
  | 'slow_down'
  | 'expired_token'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'rate_limited';

export interface CodeRule {
  status: number;
  oauth: OAuthErrorCode;
  /** The status of the OAuth body when it differs: RFC 6749 has refusals of a grant answered with 400. */
  oauthStatus?: number;
  /** Whether the same request may succeed later: a tool or script may try again (after Retry-After, if given). */
  retry: boolean;
  /** The Retry-After of every answer with this code, unless the refusal gives its own: how long trying again takes to be worth it. */
  retryAfterSeconds?: number;
  /** What the caller does next, in general; the message says it for the case at hand. */
  advice: string;
  /** The message itself names the tenant to log in to: an error page need not say it again. */
  namesTenant?: true;
  /** An error page's heading, where the status's own ("Bad request") would not tell an employee what happened. */
  title?: string;
}

const START_LOGIN_AGAIN = 'Start the login again from the page you wanted.';

/** A login's return that this browser cannot finish (opened in another browser, or too late): a client error, said plainly. */
const NOT_FINISHED_HERE = {
  status: 400,
  oauth: 'invalid_request',
  retry: false,
  advice: START_LOGIN_AGAIN,
  title: 'This login cannot be finished here',
} as const satisfies CodeRule;

const FIX_REQUEST = 'Fix the request as the message says; /openapi.json describes every route.';
const LOG_IN_AGAIN = 'Log in again (or, for a tool, start its authorization again).';
const WAIT = 'Try again in a moment.';
const OPERATORS = 'Tell the operators of the token generator, with the correlation id.';

/** The codes, each with its rule. `satisfies` keeps the keys as the union `ProblemCode`. */
export const PROBLEM_CODES = {
  // The request itself.
  invalid_request: { status: 400, oauth: 'invalid_request', retry: false, advice: FIX_REQUEST },
  invalid_body: { status: 400, oauth: 'invalid_request', retry: false, advice: FIX_REQUEST },
  invalid_audience: { status: 400, oauth: 'invalid_scope', retry: false, advice: 'Name the target as cluster:namespace:app.' },
  invalid_navident: { status: 400, oauth: 'invalid_request', retry: false, advice: FIX_REQUEST },
  body_too_large: { status: 413, oauth: 'invalid_request', retry: false, advice: 'Send a smaller body: only the fields the route reads.' },
  unsupported_content_type: { status: 415, oauth: 'invalid_request', retry: false, advice: FIX_REQUEST },
  not_found: { status: 404, oauth: 'invalid_request', retry: false, advice: 'Check the path; /openapi.json lists every route.' },
  not_available: { status: 404, oauth: 'invalid_request', retry: false, advice: 'Use the route the message names instead.' },
  method_not_allowed: { status: 405, oauth: 'invalid_request', retry: false, advice: 'Use the method the Allow header names.' },
  duplicate_cookie: { status: 400, oauth: 'invalid_request', retry: false, advice: 'Clear the cookies of this site and log in again.' },
  cross_site_request: { status: 403, oauth: 'invalid_request', retry: false, advice: 'Use the page of this site that asks for it.' },
  invalid_csrf_token: { status: 403, oauth: 'invalid_request', retry: false, advice: 'Use the page of this site that asks for it.' },
  // Answered before the request reaches the routes, the same text to everyone.
  body_timeout: { status: 408, oauth: 'invalid_request', retry: true, advice: 'Send the body at once, after the headers.' },
  unknown_host: {
    status: 421,
    oauth: 'invalid_request',
    retry: false,
    advice: 'Use the address the service was configured with (PUBLIC_URL).',
  },
  // Limits.
  rate_limited: { status: 429, oauth: 'rate_limited', retry: true, advice: 'Wait as long as Retry-After says, then try again.' },
  login_loop: { status: 429, oauth: 'rate_limited', retry: true, advice: 'Wait as long as Retry-After says, then try again.' },
  // The employee's login.
  login_required: { status: 401, oauth: 'invalid_grant', retry: false, advice: 'Log in in a browser first.' },
  login_expired: { status: 401, oauth: 'invalid_grant', oauthStatus: 400, retry: false, advice: LOG_IN_AGAIN },
  login_state_expired: NOT_FINISHED_HERE,
  login_state_mismatch: NOT_FINISHED_HERE,
  login_failed: { status: 400, oauth: 'invalid_grant', retry: false, advice: START_LOGIN_AGAIN },
  // A reload of a login's callback after it completed: nothing is wrong, the login's answer is only not for a second use.
  login_already_completed: {
    status: 409,
    oauth: 'invalid_request',
    retry: false,
    advice: 'Go on to the page you wanted; log in again only if it asks you to.',
  },
  login_answer_invalid: { status: 502, oauth: 'server_error', retry: true, advice: WAIT },
  user_not_allowed: { status: 403, oauth: 'invalid_grant', oauthStatus: 400, retry: false, advice: 'Ask the app’s team for access.' },
  wrong_tenant: {
    status: 403,
    oauth: 'access_denied',
    retry: false,
    advice: 'Sign in again with a user of the tenant the message names.',
    namesTenant: true,
  },
  // The employee answered the identity provider's consent page with No: nothing is wrong, the login only did not happen.
  login_consent_declined: {
    status: 403,
    oauth: 'access_denied',
    retry: false,
    advice: `${START_LOGIN_AGAIN} Accept the consent page if you want tokens on your behalf.`,
    title: 'You declined the consent',
  },
  session_busy: { status: 503, oauth: 'temporarily_unavailable', retry: true, advice: WAIT },
  // A store that restarts or fails over is back within seconds; a tool that polls (RFC 8628, openid-client) waits for it.
  session_store_unavailable: { status: 503, oauth: 'temporarily_unavailable', retry: true, retryAfterSeconds: 5, advice: WAIT },
  // The OAuth 2.0 endpoints for tools.
  // A tool that stopped waiting (its connection closed) before its answer was ready, as nginx's 499: the answer is not handed
  // out, and the code, device code or refresh token is left as it was, for the retry such a tool sends. Only the log and the
  // request count read it.
  tool_gone: { status: 499, oauth: 'invalid_request', retry: true, advice: 'Send the request again, with the same code or token.' },
  invalid_grant: { status: 400, oauth: 'invalid_grant', retry: false, advice: LOG_IN_AGAIN },
  invalid_scope: { status: 400, oauth: 'invalid_scope', retry: false, advice: 'Name one target in scope, as cluster:namespace:app.' },
  target_not_consented: {
    status: 400,
    oauth: 'invalid_scope',
    retry: false,
    advice: 'Ask the employee again for this target: a new authorization, with its own consent page.',
  },
  unsupported_grant_type: { status: 400, oauth: 'unsupported_grant_type', retry: false, advice: FIX_REQUEST },
  unsupported_response_type: { status: 400, oauth: 'unsupported_response_type', retry: false, advice: FIX_REQUEST },
  unsupported_token_type: {
    status: 400,
    oauth: 'unsupported_token_type',
    retry: false,
    advice: 'Revoke the refresh token: that ends the tool’s session; an access token lasts until it expires.',
  },
  access_denied: {
    status: 400,
    oauth: 'access_denied',
    retry: false,
    advice: 'The employee said no; ask them again if that was a mistake.',
  },
  authorization_pending: { status: 400, oauth: 'authorization_pending', retry: true, advice: 'Keep polling at the interval.' },
  slow_down: { status: 400, oauth: 'slow_down', retry: true, advice: 'Poll less often: add five seconds to the interval.' },
  too_many_codes: { status: 429, oauth: 'slow_down', retry: true, advice: 'Wait as long as the message says, then type the code again.' },
  expired_token: { status: 400, oauth: 'expired_token', retry: false, advice: 'Start a new device authorization.' },
  tool_name_refused: {
    status: 400,
    oauth: 'invalid_client',
    retry: false,
    advice: 'Give the tool a name of its own, which the employee is shown.',
  },
  consent_refused: { status: 403, oauth: 'invalid_request', retry: false, advice: 'Open the link from your tool again.' },
  // The device page, where the employee answers a device's request.
  user_code_unknown: { status: 404, oauth: 'invalid_request', retry: false, advice: 'Check the code, or start again on the device.' },
  user_code_mistyped: {
    status: 400,
    oauth: 'invalid_request',
    retry: false,
    advice: 'Type the code your device shows; if no device of yours shows one, deny.',
  },
  answered_unread: { status: 400, oauth: 'invalid_request', retry: true, advice: 'Read the page, then answer again.' },
  user_code_answered: { status: 409, oauth: 'invalid_request', retry: false, advice: 'Start again on the device.' },
  // The identity provider.
  not_authorized_by_target: {
    status: 403,
    oauth: 'invalid_scope',
    oauthStatus: 400,
    retry: false,
    advice: 'The target app’s team adds the access policy the message gives.',
  },
  target_not_found: { status: 404, oauth: 'invalid_scope', oauthStatus: 400, retry: false, advice: 'Check the audience.' },
  generator_misconfigured: { status: 502, oauth: 'server_error', retry: false, advice: OPERATORS },
  identity_provider_refused: { status: 502, oauth: 'server_error', retry: true, advice: WAIT },
  identity_provider_error: { status: 502, oauth: 'server_error', retry: true, advice: WAIT },
  identity_provider_unreachable: { status: 502, oauth: 'server_error', retry: true, advice: WAIT },
  identity_provider_bad_response: { status: 502, oauth: 'server_error', retry: true, advice: WAIT },
  identity_provider_timeout: { status: 504, oauth: 'temporarily_unavailable', retry: true, advice: WAIT },
  // The generator itself.
  internal_error: { status: 500, oauth: 'server_error', retry: true, advice: OPERATORS },
} as const satisfies Record<string, CodeRule>;

export type ProblemCode = keyof typeof PROBLEM_CODES;

/** Every status a code answers with: a table by status (such as the error pages' titles) is checked against it. */
export type ProblemStatus = (typeof PROBLEM_CODES)[ProblemCode]['status'];

export function ruleOf(code: ProblemCode): CodeRule {
  return PROBLEM_CODES[code];
}

/** A page's first button: its words, and a path on this service. */
export interface PageAction {
  label: string;
  href: string;
}

export interface Problem {
  code: ProblemCode;
  /** One line: what happened and what to do. */
  message: string;
  /** Only where a transport's refusal carries its own status (an HTTP refusal the code does not name). */
  status?: number;
  /** Further lines shown after the message, such as the identity provider's own words. */
  details?: string;
  /** Text to copy as it is, such as the YAML to add to a manifest: on a page in a block of its own. */
  snippet?: string;
  /** The snippet as one line, for clients that show a single line (OAuth 2.0 tools show error_description). */
  snippetLine?: string;
  /** Prose that follows the snippet. */
  note?: string;
  /** The identity provider's own error code (Entra's AADSTS number). */
  aadsts?: number;
  /** The upstream error_description's first line. */
  upstream?: string;
  /**
   * On a page, the first button when it is not "Try again" of the page asked for: the same step made again where that is
   * what succeeds (a login's callback, otherwise a step to leave), or where to go on.
   */
  next?: PageAction;
}

export function statusOf(problem: Problem): number {
  return problem.status ?? PROBLEM_CODES[problem.code].status;
}

/** What a refusal caused by the identity provider is logged with: the grant or flow that ran, and for which target. */
export interface ProviderContext {
  flow: string;
  target?: string;
  reason: string;
}

/** A refusal with its advice: answered as `problem`, with `headers` (such as Retry-After) added. */
export class ProblemError extends Error {
  constructor(
    readonly problem: Problem,
    readonly headers: Readonly<Record<string, string>> = {},
    /** Set when the identity provider's failure caused it: the one error path logs it. */
    readonly provider?: ProviderContext,
  ) {
    super(problem.message);
    this.name = 'ProblemError';
  }
}

/** The common case: `throw refuse('invalid_request', '…')`. */
export function refuse(
  code: ProblemCode,
  message: string,
  extras: Omit<Problem, 'code' | 'message'> & { headers?: Record<string, string> } = {},
): ProblemError {
  const { headers, ...rest } = extras;
  return new ProblemError({ code, message, ...rest }, headers);
}

/** The request needs a logged-in employee and has none: a browser is sent to log in, other clients get 401. */
export class LoginRequiredError extends Error {
  constructor(
    /** The path on this service to come back to after login; by default the one asked for. */
    readonly returnTo?: string,
  ) {
    super('login required');
    this.name = 'LoginRequiredError';
  }
}
