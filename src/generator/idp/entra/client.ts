/**
 * The client side of Entra ID: discovery, client authentication and the grants this service uses.
 * Protocol work is openid-client's; this module adds Entra's conventions, bounded timeouts,
 * retries with a fresh client assertion per attempt, and typed errors.
 */
import * as oidc from 'openid-client';
import {
  compactVerify,
  createRemoteJWKSet,
  errors as joseErrors,
  importJWK,
  jwtVerify,
  SignJWT,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import type { Logger } from 'pino';
import type { ParsedAudience } from '../../../audience.js';
import { ConfigError, type IdentityConfig } from '../../../config.js';
import type { Problem } from '../../core/problem.js';
import {
  IdpError,
  LoginValidationError,
  type Flow,
  type IdentityProvider,
  type LoginChecks,
  type LoginResult,
  type LoginUrlParams,
  type TokenRequestEvent,
  type TokenResponse,
  type Grant,
} from '../identity-provider.js';
import { adviceFor, isNotAssigned, isOtherTenant, type GeneratorIdentity } from './advice.js';
import { TransportError, toIdpError } from './errors.js';

export interface EntraClientOptions {
  timeoutMs: number;
  retries: number;
  logger: Logger;
  /** Seconds a client assertion stays valid; under a minute. */
  assertionLifetimeSeconds?: number;
  /** Minimum time between two JWKS fetches caused by an unknown `kid`. */
  jwksCooldownMs?: number;
  onTokenRequest?: (event: TokenRequestEvent) => void;
  /** Named in the advice when a target has not authorized this generator. */
  generator?: GeneratorIdentity;
}

/** Only a client that gives no advice about access policies goes without the generator's identity (a test of keys, say). */
const UNNAMED_GENERATOR: GeneratorIdentity = { app: 'token-generator', namespace: 'its-namespace', cluster: 'its-cluster' };

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const KEYS_MAX_AGE_MS = 10 * 60_000;
const VALIDATION_FAILURES = new Set([
  'OAUTH_JWT_CLAIM_COMPARISON_FAILED',
  'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED',
  'OAUTH_JWT_TIMESTAMP_CHECK_FAILED',
  'OAUTH_INVALID_RESPONSE',
  'OAUTH_AUTHORIZATION_RESPONSE_ERROR',
]);

export class EntraClient implements IdentityProvider {
  private configuration?: oidc.Configuration;
  private jwks?: JWTVerifyGetKey & { reload(): Promise<void> };
  private readonly assertionLifetime: number;
  private keysReloadedAt = 0;
  /** Whether the refusal of this service's own credentials was logged since the last token request that succeeded. */
  private credentialsRefusalLogged = false;

  constructor(
    private readonly identity: IdentityConfig,
    private readonly options: EntraClientOptions,
  ) {
    this.assertionLifetime = options.assertionLifetimeSeconds ?? 30;
  }

  get clientId(): string {
    return this.identity.clientId;
  }

  get ready(): boolean {
    return this.configuration !== undefined && this.jwks !== undefined;
  }

  /** The longest one grant can take, every retry and pause between them included. */
  get longestGrantMs(): number {
    let total = (this.options.retries + 1) * this.options.timeoutMs;
    for (let attempt = 1; attempt <= this.options.retries; attempt++) total += retryPauseMs(attempt);
    return total;
  }

  get metadata(): Readonly<oidc.ServerMetadata> {
    return this.config().serverMetadata();
  }

  get issuer(): { issuer: string; jwksUri?: string } {
    const { issuer, jwks_uri: jwksUri } = this.metadata;
    return { issuer, ...(jwksUri ? { jwksUri } : {}) };
  }

  get loginScope(): string {
    return `openid profile offline_access api://${this.clientId}/.default`;
  }

  scopeFor(target: ParsedAudience): string {
    return target.scope;
  }

  isNotAssigned(description: string | null | undefined): boolean {
    return isNotAssigned(description);
  }

  isOtherTenant(description: string | null | undefined): boolean {
    return isOtherTenant(description);
  }

  advice(error: IdpError, flow: Flow, target?: ParsedAudience): Problem {
    return adviceFor(error, target, this.options.generator ?? UNNAMED_GENERATOR, flow);
  }

  /** Loads discovery and signing keys. Throws an Error that names the variable to check. */
  async init(): Promise<void> {
    const auth = await this.clientAuth();
    const fetchOptions = { [oidc.customFetch]: this.fetch, timeout: this.libraryTimeoutSeconds };
    const provider = this.identity.provider;
    let configuration: oidc.Configuration;
    if (provider.discovery === 'well-known') {
      const url = new URL(provider.wellKnownUrl);
      try {
        configuration = await oidc.discovery(url, this.identity.clientId, undefined, auth, {
          ...fetchOptions,
          ...(url.protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : {}),
        });
      } catch (err) {
        throw new Error(`AZURE_APP_WELL_KNOWN_URL: could not load the discovery document at ${url.href}: ${toIdpError(err).message}`, {
          cause: err,
        });
      }
    } else {
      // Entra puts authorize and logout beside the token endpoint.
      const base = provider.tokenEndpoint.replace(/\/token$/, '');
      configuration = new oidc.Configuration(
        {
          issuer: provider.issuer,
          token_endpoint: provider.tokenEndpoint,
          jwks_uri: provider.jwksUri,
          authorization_endpoint: `${base}/authorize`,
          end_session_endpoint: `${base}/logout`,
        },
        this.identity.clientId,
        undefined,
        auth,
      );
      if (new URL(provider.tokenEndpoint).protocol === 'http:') oidc.allowInsecureRequests(configuration);
    }
    configuration[oidc.customFetch] = this.fetch;
    configuration.timeout = this.libraryTimeoutSeconds;

    const jwksUri = configuration.serverMetadata().jwks_uri;
    if (!jwksUri) throw new Error('AZURE_OPENID_CONFIG_JWKS_URI: the identity provider publishes no jwks_uri');
    const jwks = createRemoteJWKSet(new URL(jwksUri), {
      timeoutDuration: this.options.timeoutMs,
      cooldownDuration: this.options.jwksCooldownMs ?? 5000,
      // Short enough that keys the provider stopped publishing are noticed within minutes (see signingKeyKnown).
      cacheMaxAge: KEYS_MAX_AGE_MS,
    });
    try {
      await jwks.reload();
    } catch (err) {
      throw new Error(
        `AZURE_OPENID_CONFIG_JWKS_URI: could not load the signing keys at ${jwksUri}: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
    this.configuration = configuration;
    this.jwks = jwks;
  }

  async clientCredentials(scope: string): Promise<TokenResponse> {
    return this.grant('client_credentials', async (config) => oidc.clientCredentialsGrant(config, { scope }));
  }

  async onBehalfOf(employeeAccessToken: string, scope: string): Promise<TokenResponse> {
    return this.grant('on_behalf_of', async (config) =>
      oidc.genericGrantRequest(config, JWT_BEARER, {
        assertion: employeeAccessToken,
        requested_token_use: 'on_behalf_of',
        scope,
      }),
    );
  }

  buildLoginUrl(params: LoginUrlParams): string {
    return oidc
      .buildAuthorizationUrl(this.config(), {
        redirect_uri: params.redirectUri,
        response_type: 'code',
        response_mode: 'query',
        scope: params.scope,
        state: params.state,
        nonce: params.nonce,
        code_challenge: params.codeChallenge,
        code_challenge_method: 'S256',
        ...(params.prompt ? { prompt: params.prompt } : {}),
        ...(params.domainHint ? { domain_hint: params.domainHint } : {}),
      })
      .toString();
  }

  /**
   * Redeems the code from the login callback. openid-client checks state, PKCE and the ID token's
   * iss, aud, exp and nonce; the signature and tenant are checked here against the published keys.
   */
  async redeemCode(callbackUrl: URL, checks: LoginChecks): Promise<LoginResult> {
    const tokens = await this.grant(
      'authorization_code',
      async (config) => {
        try {
          return await oidc.authorizationCodeGrant(
            config,
            callbackUrl,
            { expectedState: checks.state, expectedNonce: checks.nonce, pkceCodeVerifier: checks.codeVerifier, idTokenExpected: true },
            { redirect_uri: checks.redirectUri },
          );
        } catch (err) {
          // A readable answer that fails the checks (state, nonce, iss, aud, exp) is a refused login, not a broken provider.
          if (err instanceof oidc.ClientError && VALIDATION_FAILURES.has(err.code ?? '')) {
            throw new LoginValidationError(`the login answer failed validation: ${err.message}`);
          }
          throw err;
        }
      },
      false,
    );
    if (!tokens.idToken) throw new LoginValidationError('the identity provider returned no ID token');
    const claims = await this.verifyIdToken(tokens.idToken, checks.nonce);
    return { ...tokens, claims };
  }

  async refresh(refreshToken: string, scope: string): Promise<TokenResponse> {
    return this.grant('refresh_token', async (config) => oidc.refreshTokenGrant(config, refreshToken, { scope }));
  }

  logoutUrl(postLogoutRedirectUri: string, idTokenHint?: string): string | undefined {
    const config = this.config();
    if (!config.serverMetadata().end_session_endpoint) return undefined;
    return oidc
      .buildEndSessionUrl(config, {
        post_logout_redirect_uri: postLogoutRedirectUri,
        ...(idTokenHint ? { id_token_hint: idTokenHint } : {}),
      })
      .toString();
  }

  /**
   * Whether a token the identity provider issued to this service (an employee's access token, whose
   * audience is this app) is still signed by a key it publishes. After the provider's keys change, a
   * token signed by a key no longer published is refused by every grant that presents it. `unknown`
   * when the keys cannot be fetched: that says nothing about the token.
   */
  async signingKeyKnown(token: string): Promise<'known' | 'gone' | 'unknown'> {
    if (!this.jwks) return 'unknown';
    try {
      await compactVerify(token, this.jwks);
      return 'known';
    } catch (err) {
      if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWSSignatureVerificationFailed) return 'gone';
      return 'unknown';
    }
  }

  /**
   * Fetches the published keys again (at most once per JWKS cooldown), when a grant refused a token
   * that the keys at hand still verify: the provider may have stopped publishing its key.
   */
  async reloadSigningKeys(): Promise<void> {
    const cooldown = this.options.jwksCooldownMs ?? 5000;
    if (!this.jwks || Date.now() - this.keysReloadedAt < cooldown) return;
    this.keysReloadedAt = Date.now();
    await this.jwks.reload().catch(() => undefined);
  }

  async verifyIdToken(idToken: string, nonce: string): Promise<JWTPayload> {
    if (!this.jwks) throw new Error('the identity provider keys are not loaded');
    const metadata = this.metadata;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(idToken, this.jwks, {
        issuer: metadata.issuer,
        audience: this.identity.clientId,
        algorithms: ['RS256'],
        clockTolerance: 30,
      }));
    } catch (err) {
      throw new LoginValidationError(`the ID token is not valid: ${err instanceof Error ? err.message : 'unknown error'}`);
    }
    if (payload.nonce !== nonce) throw new LoginValidationError('the ID token nonce does not match this login');
    const tenant = this.identity.tenantId;
    if (tenant && payload.tid !== tenant) throw new LoginValidationError('the ID token comes from another tenant');
    return payload;
  }

  /**
   * openid-client's own timeout, in whole seconds, is set a second past IDP_TIMEOUT_MS so that ours
   * always fires first and the failure is known as a timeout (with equal timers the library's won
   * whenever IDP_TIMEOUT_MS was a whole number of seconds, and the abort looked like a lost connection).
   */
  private get libraryTimeoutSeconds(): number {
    return Math.ceil(this.options.timeoutMs / 1000) + 1;
  }

  private config(): oidc.Configuration {
    if (!this.configuration) throw new Error('the Entra ID client is not initialised');
    return this.configuration;
  }

  private async clientAuth(): Promise<oidc.ClientAuth> {
    const auth = this.identity.auth;
    if (auth.method === 'client_secret') return oidc.ClientSecretPost(auth.secret);
    const alg = auth.jwk.alg ?? 'RS256';
    let key: Awaited<ReturnType<typeof importJWK>>;
    try {
      key = await importJWK(auth.jwk, alg);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new ConfigError(
        'AZURE_APP_JWK',
        `its key material cannot be used as a ${alg} private key (${reason}); give the private JWK Entra ID knows for this app`,
      );
    }
    if (key instanceof Uint8Array) throw new ConfigError('AZURE_APP_JWK', 'must be an asymmetric private key');
    try {
      // Importing checks little of an RSA key; signing finds broken material before the first request does.
      await new SignJWT({}).setProtectedHeader({ alg }).sign(key);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new ConfigError(
        'AZURE_APP_JWK',
        `its key material cannot sign as a ${alg} private key (${reason}); give the private JWK Entra ID knows for this app`,
      );
    }
    const lifetime = this.assertionLifetime;
    return oidc.PrivateKeyJwt(
      { key, kid: auth.jwk.kid },
      {
        [oidc.modifyAssertion]: (_header, payload) => {
          // Entra expects the token endpoint as audience; keep the assertion short-lived.
          const tokenEndpoint = this.configuration?.serverMetadata().token_endpoint ?? this.tokenEndpointHint();
          if (tokenEndpoint) payload.aud = tokenEndpoint;
          const now = Math.floor(Date.now() / 1000);
          payload.iat = now;
          payload.nbf = now;
          payload.exp = now + lifetime;
        },
      },
    );
  }

  private tokenEndpointHint(): string | undefined {
    const provider = this.identity.provider;
    return provider.discovery === 'explicit' ? provider.tokenEndpoint : undefined;
  }

  /**
   * One grant, retried on transport errors and 5xx. Each attempt goes through openid-client again,
   * so a fresh client assertion (new jti) is signed every time.
   */
  private async grant(
    grant: Grant,
    request: (config: oidc.Configuration) => Promise<oidc.TokenEndpointResponse>,
    retry = true,
  ): Promise<TokenResponse> {
    const config = this.config();
    const attempts = retry ? this.options.retries + 1 : 1;
    for (let attempt = 1; ; attempt++) {
      const started = performance.now();
      try {
        const response = await request(config);
        this.options.onTokenRequest?.({ grant, outcome: 'success', durationMs: performance.now() - started });
        this.credentialsRefusalLogged = false;
        return toTokenResponse(response);
      } catch (err) {
        if (err instanceof LoginValidationError) throw err;
        const error = toIdpError(err);
        const failure = error.failure;
        this.options.onTokenRequest?.({
          grant,
          outcome: failure.kind,
          ...(failure.kind === 'rejected' && failure.aadsts !== undefined ? { aadsts: failure.aadsts } : {}),
          durationMs: performance.now() - started,
        });
        if (error.ownCredentialsRefused) this.reportCredentialsRefused(error);
        if (!error.retryable || attempt >= attempts) throw error;
        this.options.logger.warn({ grant, attempt, reason: error.message }, 'token request failed, trying again');
        await new Promise((resolve) => setTimeout(resolve, retryPauseMs(attempt)));
      }
    }
  }

  /** Once, for the operators: every employee's request fails for it, and each of them is told it is the service's fault. */
  private reportCredentialsRefused(error: IdpError): void {
    if (this.credentialsRefusalLogged) return;
    this.credentialsRefusalLogged = true;
    const variable = this.identity.auth.method === 'private_key_jwt' ? 'AZURE_APP_JWK' : 'AZURE_APP_CLIENT_SECRET';
    const failure = error.failure;
    const upstream = failure.kind === 'rejected' ? failure.description?.split(/\r?\n/)[0] : undefined;
    this.options.logger.error(
      { variable, aadsts: failure.kind === 'rejected' ? failure.aadsts : undefined, reason: error.message, upstream },
      `${variable}: the identity provider does not accept this service's credentials for AZURE_APP_CLIENT_ID ${this.identity.clientId}; ` +
        'no login or token request can succeed until the operators give it the credentials Entra ID knows for this app',
    );
  }

  /** Every call to the identity provider: bounded in time, redirects never followed. */
  private readonly fetch = async (url: string, init: oidc.CustomFetchOptions): Promise<Response> => {
    const timeoutMs = this.options.timeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    try {
      return await fetch(url, {
        method: init.method,
        headers: init.headers,
        body: init.body as string | URLSearchParams | null,
        redirect: 'manual',
        signal,
      });
    } catch (err) {
      if (timeout.aborted || isTimeout(init.signal?.reason) || isTimeout(err)) throw new TransportError({ kind: 'timeout', timeoutMs });
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : undefined;
      throw new TransportError({ kind: 'unreachable', detail: cause ?? (err instanceof Error ? err.message : 'fetch failed') });
    }
  };
}

/** The pause before retry number `attempt` (1, 2, ...). */
function retryPauseMs(attempt: number): number {
  return 100 * 2 ** (attempt - 1);
}

function isTimeout(reason: unknown): boolean {
  return reason instanceof Error && reason.name === 'TimeoutError';
}

function toTokenResponse(response: oidc.TokenEndpointResponse): TokenResponse {
  if (typeof response.access_token !== 'string' || response.access_token === '') {
    throw new IdpError({ kind: 'bad-response', detail: 'no access_token in the token response' });
  }
  return {
    accessToken: response.access_token,
    // openid-client lower-cases token_type; Entra and its clients write it "Bearer".
    tokenType: !response.token_type || response.token_type.toLowerCase() === 'bearer' ? 'Bearer' : response.token_type,
    expiresIn: typeof response.expires_in === 'number' ? response.expires_in : 3600,
    ...(typeof response.scope === 'string' ? { scope: response.scope } : {}),
    ...(typeof response.refresh_token === 'string' ? { refreshToken: response.refresh_token } : {}),
    ...(typeof response.id_token === 'string' ? { idToken: response.id_token } : {}),
  };
}
