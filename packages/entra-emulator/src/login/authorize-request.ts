/**
 * An authorize request checked as Entra checks it, and the employee a sign-in form names. Errors
 * before the client and its redirect URI are known good are shown as a page, never redirected (an
 * open redirector otherwise); later errors go back to the client.
 */
import type { Directory } from '../directory.js';
import type { ClientRecord, RedirectType, TestEmployee } from '../model.js';
import { EntraError, errors } from '../errors.js';
import type { Params } from '../params.js';
import { checkConsentScopes, scopeItems } from '../scopes.js';

/** The authorize parameters carried through the sign-in form. */
export const AUTHORIZE_PARAMS = [
  'client_id',
  'redirect_uri',
  'response_type',
  'response_mode',
  'scope',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'prompt',
  'max_age',
] as const;

/** The `max_age` of a request, in seconds; undefined when it has none, or one that is not a number of seconds. */
export function maxAgeOf(params: Params): number | undefined {
  return params.max_age !== undefined && /^\d{1,10}$/.test(params.max_age) ? Number(params.max_age) : undefined;
}
export const RESPONSE_MODES = new Set(['query', 'fragment', 'form_post']);

/** Entra's v2.0 response types, as its discovery lists them. */
export const RESPONSE_TYPES_V2 = ['code', 'id_token', 'code id_token', 'id_token token'] as const;

/**
 * `code` is honoured; a token or an ID token from the authorize endpoint needs the implicit grant, which
 * Entra refuses until an app enables it (no app here does); anything else is not a response type.
 */
function responseTypeRefusalOf(responseType: string): EntraError | undefined {
  const parts = new Set(responseType.split(' ').filter(Boolean));
  if (parts.size === 1 && parts.has('code')) return undefined;
  if ([...parts].every((part) => part === 'code' || part === 'id_token' || part === 'token')) {
    const kind = parts.has('token') ? 'token' : 'id_token';
    return new EntraError(
      kind === 'token' ? 700051 : 700054,
      'unsupported_response_type',
      `response_type '${kind}' is not enabled for the application. Use the authorization code flow (response_type=code).`,
    );
  }
  return new EntraError(70005, 'unsupported_response_type', `The response_type '${responseType.slice(0, 50)}' is not supported: use code.`);
}

export interface ValidRequest {
  client: ClientRecord;
  redirectUri: string;
  /** The platform of the registered redirect URI it matched. */
  redirectType: RedirectType;
  scopes: string[];
}

const LOOPBACK = /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?(?=[/?#]|$)/;

/** A loopback redirect URI without its port, its empty path as `/`; undefined for any other. */
function withoutPort(uri: string): string | undefined {
  const match = LOOPBACK.exec(uri);
  if (!match) return undefined;
  const rest = uri.slice(match[0].length);
  return `http://${match[1]}${rest.startsWith('/') ? rest : `/${rest}`}`;
}

/**
 * The platform of the client's redirect URI that `uri` is. Entra ignores the port of a loopback (`localhost`, `127.0.0.1`, `[::1]`)
 * redirect URI (RFC 8252 §7.3), so that a desktop app or command line may listen on any free port: MSAL's
 * `acquireTokenInteractive` sends `http://localhost:<port>` to an app that registered `http://localhost`.
 */
export function redirectTypeOf(client: ClientRecord, uri: string): RedirectType | undefined {
  const exact = client.redirectUris.get(uri);
  const portless = exact ? undefined : withoutPort(uri);
  if (!portless) return exact;
  for (const [registered, type] of client.redirectUris) if (withoutPort(registered) === portless) return type;
  return undefined;
}

/** A valid request, an error to show as a page, or one to send back to the redirect URI. */
export type Checked = { valid: ValidRequest } | { page: EntraError } | { back: EntraError; redirectUri: string };

export function checkAuthorizeRequest(directory: Directory, params: Params): Checked {
  if (!params.client_id) return { page: errors.missingParameter('client_id') };
  const client = directory.clients.get(params.client_id);
  if (!client) return { page: errors.unknownClient(params.client_id.slice(0, 100)) };
  const redirectUri = params.redirect_uri;
  const redirectType = redirectUri ? redirectTypeOf(client, redirectUri) : undefined;
  if (!redirectUri || !redirectType || !URL.canParse(redirectUri)) {
    return {
      page: new EntraError(
        50011,
        'invalid_request',
        `The redirect URI '${(redirectUri ?? '').slice(0, 200)}' specified in the request does not match the redirect URIs ` +
          `configured for the application '${client.clientId}'. Make sure the redirect URI sent in the request matches one added ` +
          `to your application.`,
      ),
    };
  }
  const refusal = refusalOf(directory, params) ?? pkceRefusal(client, redirectType, params);
  if (refusal) return { back: refusal, redirectUri };
  return { valid: { client, redirectUri, redirectType, scopes: scopeItems(params.scope!) } };
}

/** What Entra refuses in a request whose client and redirect URI are good. */
function refusalOf(directory: Directory, params: Params): EntraError | undefined {
  if (params.response_mode !== undefined && !RESPONSE_MODES.has(params.response_mode)) {
    return new EntraError(
      70007,
      'invalid_request',
      `The response_mode '${params.response_mode.slice(0, 50)}' is not supported: use query, fragment or form_post.`,
    );
  }
  if (!params.response_type) return errors.missingParameter('response_type');
  const responseTypeRefusal = responseTypeRefusalOf(params.response_type);
  if (responseTypeRefusal) return responseTypeRefusal;
  if (!params.scope?.trim()) return errors.missingParameter('scope');
  try {
    checkConsentScopes(directory, scopeItems(params.scope));
  } catch (err) {
    if (err instanceof EntraError) return err;
    throw err;
  }
  return undefined;
}

/**
 * PKCE as Entra asks for it: required for a public client's redirect (`spa`, `native`) and of clients
 * without a secret or key, recommended for the rest; S256, or plain (the default when a challenge comes without a method).
 */
function pkceRefusal(client: ClientRecord, redirectType: RedirectType, params: Params): EntraError | undefined {
  if (!params.code_challenge) {
    if (redirectType === 'web' && (client.secrets.length > 0 || client.keys.size > 0)) return undefined;
    return new EntraError(
      9002325,
      'invalid_request',
      `Proof Key for Code Exchange is required for '${client.clientId}', a public client (a ${redirectType} redirect URI, or no ` +
        `secret or key): send code_challenge and code_challenge_method=S256.`,
    );
  }
  const method = params.code_challenge_method ?? 'plain';
  if (method !== 'S256' && method !== 'plain') {
    return new EntraError(9002325, 'invalid_request', `The code_challenge_method must be S256 or plain (got '${method.slice(0, 20)}').`);
  }
  if (method === 'S256' ? !/^[A-Za-z0-9_-]{43}$/.test(params.code_challenge) : !/^[A-Za-z0-9._~-]{43,128}$/.test(params.code_challenge)) {
    const size =
      method === 'S256'
        ? 'an S256 challenge is 43 base64url characters'
        : 'a plain challenge is 43 to 128 characters of A-Z, a-z, 0-9, -, ., _ and ~';
    return new EntraError(501491, 'invalid_request', `Invalid size of Code_Challenge parameter: ${size}.`);
  }
  return undefined;
}

/** The employee a sign-in form names, and what is wrong with it, if anything. */
export function employeeFromForm(directory: Directory, params: Params): { employee: TestEmployee; problem?: string } {
  const navIdent = (params.navIdent ?? '').trim();
  const name = (params.name ?? '').trim();
  const email = (params.email ?? '').trim();
  const groups = [
    ...new Set(
      (params.groups ?? '')
        .split(',')
        .map((g) => g.trim())
        .filter(Boolean),
    ),
  ];
  // A known employee's groups are the directory's, as in Entra ID; others have what was typed.
  const known = directory.employees.find((e) => e.navIdent.toUpperCase() === navIdent.toUpperCase());
  const employee: TestEmployee = { navIdent, name, email, groups: known ? known.groups : groups };
  const problem = !/^[A-Za-z0-9]{1,20}$/.test(navIdent)
    ? 'The NAVident must be 1 to 20 letters and digits, for example Z990001.'
    : !name || name.length > 200
      ? 'Fill in a name (at most 200 characters).'
      : !/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 200
        ? 'Fill in an e-mail address, for example kari.nordmann@trygdeetaten.no.'
        : groups.length > 200 || groups.some((g) => g.length > 100)
          ? 'At most 200 groups, each at most 100 characters.'
          : undefined;
  return problem ? { employee, problem } : { employee };
}

/** Entra's refusal of an account of another tenant (AADSTS50020), such as a nav.no account, at any sign-in to `clientId`. */
export function tenantRefusal(directory: Directory, employee: TestEmployee, clientId: string): EntraError | undefined {
  return directory.inTenant(employee.email) ? undefined : errors.userNotInTenant(employee.email, directory.tenantId, clientId);
}
