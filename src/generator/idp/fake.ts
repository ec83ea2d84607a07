/**
 * An identity provider in memory, for the core's tests: it issues opaque tokens, remembers which
 * employee token it issued and whether its "key" still stands, and fails as a test scripts it (Entra's
 * AADSTS refusals, timeouts, no answer). Its clock is the test's. It is as strict as the real one
 * where the core depends on it: an employee token it does not know, or one of a retired key, is
 * refused as an assertion, and a refresh token it did not issue is `invalid_grant`.
 */
import { EntraConventions, refusalOf } from './entra/advice.js';
import {
  IdpError,
  LoginValidationError,
  type Grant,
  type IdentityProvider,
  type IdpFailure,
  type LoginChecks,
  type LoginResult,
  type LoginUrlParams,
  type TokenResponse,
} from './identity-provider.js';

export interface FakeEmployee {
  oid: string;
  name?: string;
  navIdent?: string;
}

interface EmployeeGrant {
  employee: FakeEmployee;
  /** The key generation the token was signed with. */
  keyGeneration: number;
  expiresAt: number;
}

/** An Entra refusal as a scripted failure: `refused(50013, 'invalid_grant')`. */
export function refused(aadsts: number, error = 'invalid_grant', status = 400): IdpFailure {
  return { kind: 'rejected', status, error, aadsts, description: `AADSTS${aadsts}: scripted by the test.` };
}

/** No answer in time, as a scripted failure. It fails at once: the clock is the test's to move. */
export function timedOut(timeoutMs = 5_000): IdpFailure {
  return { kind: 'timeout', timeoutMs };
}

/** No answer at all (connection refused, reset), as a scripted failure. */
export function unreachable(detail = 'connection refused, scripted by the test'): IdpFailure {
  return { kind: 'unreachable', detail };
}

export class FakeProvider extends EntraConventions implements IdentityProvider {
  readonly clientId = 'fake-generator-client';
  readonly ready = true;
  readonly longestGrantMs = 1_000;
  readonly issuer = { issuer: 'https://fake.idp.test/v2.0', jwksUri: 'https://fake.idp.test/keys' };
  readonly loginScope = `openid profile offline_access api://${this.clientId}/.default`;
  /** Every grant asked for, in order. */
  readonly calls: { grant: Grant; scope?: string }[] = [];
  /** Seconds each token it issues lives. */
  tokenSeconds = 3600;

  private readonly scripted = new Map<Grant, IdpFailure[]>();
  private readonly held = new Map<Grant, Promise<void>>();
  private readonly employeeTokens = new Map<string, EmployeeGrant>();
  private readonly refreshTokens = new Map<string, FakeEmployee>();
  private keyGeneration = 1;
  private serial = 0;

  constructor(readonly now: () => number = Date.now) {
    super({ app: 'token-generator', namespace: 'nais', cluster: 'dev-gcp' });
  }

  /** The next calls of `grant` fail with these failures, one each, in order. */
  script(grant: Grant, ...failures: IdpFailure[]): void {
    this.scripted.set(grant, [...(this.scripted.get(grant) ?? []), ...failures]);
  }

  /** Calls of `grant` wait until the returned function is called: for tests of calls that overlap. */
  hold(grant: Grant): () => void {
    let release!: () => void;
    this.held.set(grant, new Promise<void>((resolve) => (release = resolve)));
    return () => {
      this.held.delete(grant);
      release();
    };
  }

  count(grant: Grant): number {
    return this.calls.filter((call) => call.grant === grant).length;
  }

  /** The provider's keys change: every employee token issued so far is refused from now on. */
  rotateKeys(): void {
    this.keyGeneration++;
  }

  /** A completed login, as `redeemCode` would give it, without the browser. */
  login(employee: FakeEmployee): LoginResult {
    const tokens = this.employeeTokenResponse(employee);
    return { ...tokens, claims: { oid: employee.oid, name: employee.name, NAVident: employee.navIdent } };
  }

  async clientCredentials(scope: string): Promise<TokenResponse> {
    await this.call('client_credentials', scope);
    return this.token(`app ${scope}`);
  }

  async onBehalfOf(employeeAccessToken: string, scope: string): Promise<TokenResponse> {
    await this.call('on_behalf_of', scope);
    const grant = this.employeeTokens.get(employeeAccessToken);
    if (!grant || grant.keyGeneration !== this.keyGeneration) throw this.failure(refused(50013));
    if (grant.expiresAt <= this.now()) throw this.failure(refused(500133));
    return this.token(`obo ${grant.employee.oid} ${scope}`);
  }

  buildLoginUrl(params: LoginUrlParams): string {
    const url = new URL('https://fake.idp.test/authorize');
    url.search = new URLSearchParams({ redirect_uri: params.redirectUri, state: params.state, scope: params.scope }).toString();
    return url.href;
  }

  async redeemCode(callbackUrl: URL, checks: LoginChecks): Promise<LoginResult> {
    await this.call('authorization_code');
    if (callbackUrl.searchParams.get('state') !== checks.state) throw new LoginValidationError('the state does not match this login');
    const oid = callbackUrl.searchParams.get('code') ?? 'unknown';
    return this.login({ oid });
  }

  async refresh(refreshToken: string, scope: string): Promise<TokenResponse> {
    await this.call('refresh_token', scope);
    const employee = this.refreshTokens.get(refreshToken);
    if (!employee) throw this.failure(refused(70008));
    return this.employeeTokenResponse(employee);
  }

  logoutUrl(postLogoutRedirectUri: string): string {
    return `https://fake.idp.test/logout?post_logout_redirect_uri=${encodeURIComponent(postLogoutRedirectUri)}`;
  }

  async signingKeyKnown(token: string): Promise<'known' | 'gone' | 'unknown'> {
    const grant = this.employeeTokens.get(token);
    if (!grant) return 'unknown';
    return grant.keyGeneration === this.keyGeneration ? 'known' : 'gone';
  }

  async reloadSigningKeys(): Promise<void> {}

  private async call(grant: Grant, scope?: string): Promise<void> {
    this.calls.push({ grant, ...(scope !== undefined ? { scope } : {}) });
    await this.held.get(grant);
    const failure = this.scripted.get(grant)?.shift();
    if (failure) throw this.failure(failure);
  }

  private failure(failure: IdpFailure): IdpError {
    return new IdpError(failure, failure.kind === 'rejected' ? refusalOf(failure) : undefined);
  }

  private token(kind: string): TokenResponse {
    return { accessToken: `${kind} #${++this.serial}`, tokenType: 'Bearer', expiresIn: this.tokenSeconds };
  }

  private employeeTokenResponse(employee: FakeEmployee): TokenResponse {
    const access = this.token(`employee ${employee.oid}`);
    const refreshToken = `refresh ${employee.oid} #${this.serial}`;
    this.employeeTokens.set(access.accessToken, {
      employee,
      keyGeneration: this.keyGeneration,
      expiresAt: this.now() + access.expiresIn * 1000,
    });
    this.refreshTokens.set(refreshToken, employee);
    return { ...access, refreshToken, idToken: `id ${employee.oid}` };
  }
}
