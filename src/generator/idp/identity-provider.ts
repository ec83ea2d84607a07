/**
 * The identity provider as the generator's core and surfaces see it: the grants the generator uses,
 * the login's URLs, its keys, the employee its claims name, what its claims mean, and advice for a
 * failure. `entra/` implements it against Entra ID (or the emulator); `fake.ts` in memory for the
 * core's tests; `providers.ts` starts the one configured. Nothing else outside `idp/` knows which it is.
 */
import type { ParsedAudience } from '../../audience.js';
import type { SessionEmployee } from '../../session/store.js';
import type { Problem } from '../core/problem.js';

export interface TokenResponse {
  accessToken: string;
  tokenType: string;
  /** Seconds, as the identity provider reported it. */
  expiresIn: number;
  scope?: string;
  refreshToken?: string;
  idToken?: string;
}

/** The claims of the employee's ID token, as far as the generator reads them. */
export interface LoginClaims {
  [claim: string]: unknown;
}

/** What a claim's plain-words line may name: the app the token was asked for, as `cluster:namespace:app`. */
export interface ClaimContext {
  target: string;
}

export interface LoginResult extends TokenResponse {
  claims: LoginClaims;
}

/**
 * The grant or flow that ran when the identity provider failed: an app token, an exchange on behalf
 * of an employee, an employee's login (the code's redemption), or the refresh of an employee's session.
 */
export type Flow = 'client_credentials' | 'on_behalf_of' | 'login' | 'refresh';

/** What went wrong when talking to the identity provider. */
export type IdpFailure =
  /** The identity provider answered with an OAuth error body. */
  | {
      kind: 'rejected';
      status: number;
      error: string;
      description?: string;
      /** The provider's own error code (Entra's AADSTS number). */
      aadsts?: number;
      suberror?: string;
    }
  /** No answer: connection refused, reset, DNS failure. */
  | { kind: 'unreachable'; detail: string }
  /** No answer in time. */
  | { kind: 'timeout'; timeoutMs: number }
  /** An answer that is not a readable OAuth response (HTML, a redirect, broken JSON, a 5xx without body). */
  | { kind: 'bad-response'; detail: string; status?: number };

/**
 * What a refusal means for the generator, as the provider reads its own codes: its own credentials
 * refused (operators must act), the employee's token refused as an assertion (renew the session),
 * or that token held expired.
 */
export type Refusal = 'own_credentials' | 'employee_token' | 'employee_token_expired';

export class IdpError extends Error {
  constructor(
    readonly failure: IdpFailure,
    readonly refusal?: Refusal,
  ) {
    super(describeFailure(failure));
    this.name = 'IdpError';
  }

  /** Worth another try: the identity provider may answer next time. */
  get retryable(): boolean {
    const f = this.failure;
    if (f.kind === 'unreachable' || f.kind === 'timeout') return true;
    return (f.status ?? 0) >= 500;
  }

  get ownCredentialsRefused(): boolean {
    return this.refusal === 'own_credentials';
  }

  /** The identity provider refuses the employee's token presented as assertion (invalid, or expired). */
  get userAssertionRefused(): boolean {
    return this.refusal === 'employee_token' || this.refusal === 'employee_token_expired';
  }

  /** The grant (a refresh token, a code) is gone, as OAuth says it: only a new login helps. */
  get grantGone(): boolean {
    return this.failure.kind === 'rejected' && this.failure.error === 'invalid_grant';
  }
}

export function describeFailure(failure: IdpFailure): string {
  switch (failure.kind) {
    case 'rejected':
      return `the identity provider refused the request: ${failure.error}${failure.aadsts ? ` (AADSTS${failure.aadsts})` : ''}`;
    case 'unreachable':
      return `the identity provider could not be reached (${failure.detail})`;
    case 'timeout':
      return `the identity provider did not answer within ${failure.timeoutMs} ms`;
    case 'bad-response':
      return `the identity provider answered something unreadable (${failure.detail})`;
  }
}

/** A login answer that fails the checks (state, nonce, issuer, audience, expiry, signature): a refused login. */
export class LoginValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LoginValidationError';
  }
}

/** The grants the generator asks the provider for, as metrics name them. */
export type Grant = 'client_credentials' | 'on_behalf_of' | 'authorization_code' | 'refresh_token';

/** One request to the provider's token endpoint, for the metrics. */
export interface TokenRequestEvent {
  grant: Grant;
  outcome: 'success' | 'rejected' | 'unreachable' | 'timeout' | 'bad-response';
  aadsts?: number;
  durationMs: number;
}

export interface LoginUrlParams {
  redirectUri: string;
  scope: string;
  state: string;
  nonce: string;
  codeChallenge: string;
  prompt?: string;
  /** The tenant's domain: the identity provider offers that tenant's sign-in first. */
  domainHint?: string;
}

export interface LoginChecks {
  state: string;
  nonce: string;
  codeVerifier: string;
  redirectUri: string;
}

export interface IdentityProvider {
  /** This generator's client id at the provider. */
  readonly clientId: string;
  /** Discovery and keys are loaded. */
  readonly ready: boolean;
  /** The longest one grant can take, every retry included: how long a lock around one must last. */
  readonly longestGrantMs: number;
  /** The provider's issuer and the address of its keys. */
  readonly issuer: { issuer: string; jwksUri?: string };

  clientCredentials(scope: string): Promise<TokenResponse>;
  onBehalfOf(employeeAccessToken: string, scope: string): Promise<TokenResponse>;
  buildLoginUrl(params: LoginUrlParams): string;
  /** Redeems the code of the login's callback; throws LoginValidationError when the answer fails the checks. */
  redeemCode(callbackUrl: URL, checks: LoginChecks): Promise<LoginResult>;
  refresh(refreshToken: string, scope: string): Promise<TokenResponse>;
  logoutUrl(postLogoutRedirectUri: string, idTokenHint?: string): string | undefined;
  /** Whether the provider still publishes the key a token of its own was signed with. */
  signingKeyKnown(token: string): Promise<'known' | 'gone' | 'unknown'>;
  reloadSigningKeys(): Promise<void>;

  /** The scope to ask the provider for, for a target. */
  scopeFor(target: ParsedAudience): string;
  /** The scopes asked for at login and refresh: the employee's token must be exchangeable on-behalf-of. */
  readonly loginScope: string;
  /** The employee a login's ID token names, from the claims as this provider names them. */
  employeeFrom(claims: LoginClaims): SessionEmployee;
  /** What a claim of this provider's tokens means, in plain words (the token page's table); undefined for one it does not describe. */
  describeClaim(name: string, value: unknown, context: ClaimContext): string | undefined;
  /** Whether a login callback's error_description says the employee is not assigned to the generator. */
  isNotAssigned(description: string | null | undefined): boolean;
  /** Whether a login callback's error_description says the account belongs to another tenant than the generator's. */
  isOtherTenant(description: string | null | undefined): boolean;
  /** Whether a login callback's error_description says the employee declined the provider's consent page. */
  isConsentDeclined(description: string | null | undefined): boolean;
  /** What the caller should do about a failure of `flow`, for `target` when there was one. */
  advice(error: IdpError, flow: Flow, target?: ParsedAudience): Problem;
}
