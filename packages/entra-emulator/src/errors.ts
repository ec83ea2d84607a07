/**
 * Entra ID's error bodies: `error`, an `error_description` that starts with the AADSTS code and
 * ends with trace, correlation and timestamp lines, `error_codes`, ids and `error_uri`.
 */
import { randomUUID } from 'node:crypto';

export interface EntraErrorBody {
  error: string;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
  error_uri: string;
  suberror?: string;
}

export class EntraError extends Error {
  constructor(
    readonly code: number,
    readonly error: string,
    readonly detail: string,
    readonly options: { status?: number; suberror?: string; correlationId?: string } = {},
  ) {
    super(`AADSTS${code}: ${detail}`);
    this.name = 'EntraError';
  }

  get status(): number {
    return this.options.status ?? (this.error === 'invalid_client' ? 401 : 400);
  }

  body(baseUrl: string): EntraErrorBody {
    const traceId = randomUUID();
    const correlationId = this.options.correlationId ?? randomUUID();
    const timestamp = new Date()
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, 'Z');
    return {
      error: this.error,
      error_description:
        `AADSTS${this.code}: ${this.detail}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ` + `${correlationId}\r\nTimestamp: ${timestamp}`,
      error_codes: [this.code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `${baseUrl}/error?code=${this.code}`,
      ...(this.options.suberror ? { suberror: this.options.suberror } : {}),
    };
  }
}

/** The codes the emulator uses, with Entra's `error` value for each. */
export const errors = {
  tenantNotFound: (tenant: string) =>
    new EntraError(
      90002,
      'invalid_tenant',
      `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
    ),
  missingParameter: (name: string) =>
    new EntraError(900144, 'invalid_request', `The request body must contain the following parameter: '${name}'.`),
  unsupportedGrant: (grant: string) =>
    new EntraError(70003, 'unsupported_grant_type', `The app requested an unsupported grant type '${grant}'.`),
  unknownClient: (clientId: string) =>
    new EntraError(
      700016,
      'unauthorized_client',
      `Application with identifier '${clientId}' was not found in the directory. This can happen if the application has not been ` +
        `installed by the administrator of the tenant.`,
    ),
  noCredential: () =>
    new EntraError(
      7000218,
      'invalid_client',
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    ),
  spaNotCrossOrigin: () =>
    new EntraError(
      9002327,
      'invalid_request',
      "Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests.",
    ),
  publicClientCredential: () =>
    new EntraError(700025, 'invalid_client', "Client is public so neither 'client_assertion' nor 'client_secret' should be presented."),
  invalidSecret: (clientId: string) =>
    new EntraError(
      7000215,
      'invalid_client',
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client ` +
        `secret ID, for a secret added to app '${clientId}'.`,
    ),
  assertionSignature: (detail: string) =>
    new EntraError(700027, 'invalid_client', `Client assertion failed signature validation. ${detail}`),
  assertionTime: (detail: string) =>
    new EntraError(700024, 'invalid_client', `Client assertion is not within its valid time range. ${detail}`),
  assertionAudience: (expected: string) =>
    new EntraError(
      700023,
      'invalid_client',
      `Client assertion audience claim does not match Realm issuer. The audience must be the token endpoint '${expected}' or the issuer.`,
    ),
  assertionClientMismatch: () =>
    new EntraError(700021, 'invalid_client', "Client assertion application identifier doesn't match 'client_id' parameter."),
  assertionSubject: () =>
    new EntraError(50048, 'invalid_client', 'Subject mismatches Issuer claim in the client assertion. Both must be the client id.'),
  assertionClaims: (detail: string) => new EntraError(50027, 'invalid_client', `JWT token is invalid or malformed. ${detail}`),
  // Entra ID has no code of its own for a replayed jti (it is not known to refuse one); this is its code for an invalid client assertion.
  assertionReplayed: () =>
    new EntraError(
      50027,
      'invalid_client',
      'JWT token is invalid or malformed. The client assertion was already used: its jti was seen before. Sign a new assertion, ' +
        'with a new jti, for every request.',
    ),
  invalidScope: (scope: string, hint = '') =>
    new EntraError(
      70011,
      'invalid_scope',
      `The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid.${hint ? ` ${hint}` : ''}`,
    ),
  clientCredentialsScope: (scope: string) =>
    new EntraError(
      1002012,
      'invalid_scope',
      `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed ` +
        `to the resource identifier (application ID URI).`,
    ),
  // At the token endpoint: an authorize request may name several resources (consent up front), a token request only one.
  multipleResources: (scope: string) =>
    new EntraError(
      28000,
      'invalid_scope',
      `Provided value for the input parameter scope is not valid because it contains more than one resource. Scope ${scope} is not valid.`,
    ),
  scopesAcrossResources: () =>
    new EntraError(
      700022,
      'invalid_scope',
      'The provided value for the input parameter scope is not valid because it contains more than one resource.',
    ),
  resourceNotFound: (resource: string) =>
    new EntraError(
      500011,
      'invalid_resource',
      `The resource principal named ${resource} was not found in the tenant. This can happen if the application has not been ` +
        `installed by the administrator of the tenant or consented to by any user in the tenant.`,
    ),
  notAssignedRole: (client: string, resource: string) =>
    new EntraError(501051, 'invalid_grant', `Application '${client}' is not assigned to a role for the application '${resource}'.`),
  consentRequired: (client: string, resource: string) =>
    new EntraError(
      65001,
      'invalid_grant',
      `The user or administrator has not consented to use the application with ID '${client}' named '${resource}'. Send an ` +
        `interactive authorization request for this user and resource.`,
      { suberror: 'consent_required' },
    ),
  userNotAssigned: (user: string, app: string) =>
    new EntraError(
      50105,
      'invalid_grant',
      `Your administrator has configured the application ${app} to block users unless they are specifically granted ('assigned') ` +
        `access to the application. The signed in user '${user}' is blocked because they are not a direct member of a group with access.`,
    ),
  userNotInTenant: (user: string, tenant: string, app: string) =>
    new EntraError(
      50020,
      'access_denied',
      `User account '${user}' from identity provider 'https://sts.windows.net/${tenant}/' does not exist in tenant '${tenant}' and ` +
        `cannot access the application '${app}' in that tenant. The account needs to be added as an external user in the tenant ` +
        `first. Sign out and sign in again with a different Azure Active Directory user account.`,
    ),
  invalidAssertion: (detail: string) => new EntraError(50013, 'invalid_grant', `Assertion is invalid. ${detail}`),
  appTokenAsAssertion: (client: string) =>
    new EntraError(
      7000114,
      'unauthorized_client',
      `Application '${client}' is not allowed to make application on-behalf-of calls. The assertion is an app token; on-behalf-of ` +
        `needs a user token.`,
    ),
  idTokenAsAssertion: () =>
    new EntraError(
      240002,
      'invalid_grant',
      "The id_token can't be used as urn:ietf:params:oauth:grant-type:jwt-bearer grant. Send the user's access token whose " +
        'audience is the calling app.',
    ),
  expiredAssertion: () =>
    new EntraError(500133, 'invalid_grant', 'Assertion is not within its valid time range. The user must sign in again.'),
  codeRedeemed: () =>
    new EntraError(
      54005,
      'invalid_grant',
      'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.',
    ),
  codeExpired: () =>
    new EntraError(
      70008,
      'invalid_grant',
      'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization ' +
        'request for this user and resource.',
    ),
  codeInvalid: () =>
    new EntraError(9002313, 'invalid_grant', 'Invalid request. Request is malformed or invalid: the authorization code is not valid.'),
  pkceMismatch: () =>
    new EntraError(501481, 'invalid_grant', 'The Code_Verifier does not match the code_challenge supplied in the authorization request.'),
  redirectMismatch: () =>
    new EntraError(50148, 'invalid_grant', 'The redirect_uri does not match the one used in the authorization request for this code.'),
  codeClientMismatch: () => new EntraError(70000, 'invalid_grant', 'The provided authorization code was issued to another client.'),
  grantOfOtherTenant: () => new EntraError(7000012, 'invalid_grant', 'The grant was obtained for a different tenant.'),
  refreshInvalid: () =>
    new EntraError(9002313, 'invalid_grant', 'Invalid request. Request is malformed or invalid: the refresh token is not valid.'),
  authorizationPending: () =>
    new EntraError(70016, 'authorization_pending', 'OAuth 2.0 device flow error. Authorization is pending. Continue polling.'),
  slowDown: (interval: number) =>
    new EntraError(
      70016,
      'slow_down',
      `OAuth 2.0 device flow error. Authorization is pending, and the client polls too fast: wait ${interval} seconds between requests.`,
    ),
  deviceCodeExpired: () =>
    new EntraError(70019, 'expired_token', 'Verification code expired. Have the user retry the sign-in: ask for a new device code.'),
  deviceDeclined: () =>
    new EntraError(65004, 'authorization_declined', 'The end user declined the authorization request on the device login page.'),
  deviceCodeInvalid: () =>
    new EntraError(
      70000,
      'invalid_grant',
      'The provided device_code is not valid: it was not issued to this client, or its tokens have been given already.',
    ),
  signInNotFromPage: () =>
    new EntraError(
      9002313,
      'invalid_request',
      'Invalid request. Request is malformed or invalid. The sign-in form must be posted from the page the emulator showed this ' +
        'browser (its token is missing, is not for this page or browser, or is over an hour old, or the post came from another ' +
        'site). Start the sign-in again.',
      { status: 403 },
    ),
  signInThrottled: (max: number, seconds: number) =>
    new EntraError(
      50196,
      'temporarily_unavailable',
      `Too many sign-in requests from your address: at most ${max} in ${seconds} seconds. Try again later.`,
      { status: 429 },
    ),
  unsupportedContentType: () =>
    new EntraError(900144, 'invalid_request', 'The request body must be form-encoded (application/x-www-form-urlencoded).'),
  duplicateParameter: (name: string) =>
    new EntraError(90100, 'invalid_request', `The parameter '${name.slice(0, 50)}' was sent more than once.`),
  malformed: (detail: string, status = 400) =>
    new EntraError(9002313, 'invalid_request', `Invalid request. Request is malformed or invalid. ${detail}`, { status }),
  postOnly: (method: string) =>
    new EntraError(
      900561,
      'invalid_request',
      `The endpoint only accepts POST, OPTIONS requests. Received a ${method.slice(0, 10)} request.`,
    ),
  serverError: () =>
    new EntraError(
      50000,
      'server_error',
      'There was an error issuing a token or an issue with the sign-in service: the emulator failed to process the request. This ' +
        'is a fault in the emulator.',
      { status: 500 },
    ),
};
