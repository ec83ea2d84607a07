/**
 * Entra ID as the generator's identity provider: the grants this service uses, the login's URLs and
 * its keys, put together from the transport (timeouts, retries, Entra's error bodies), the
 * configuration (discovery, client authentication) and the signing keys. Protocol work is openid-client's.
 */
import * as oidc from 'openid-client';
import type { JWTPayload } from 'jose';
import type { Logger } from 'pino';
import type { EntraConfig } from './variables.js';
import {
  LoginValidationError,
  type Grant,
  type IdentityProvider,
  type LoginChecks,
  type LoginResult,
  type LoginUrlParams,
  type TokenRequestEvent,
  type TokenResponse,
} from '../identity-provider.js';
import { EntraConventions, type GeneratorIdentity } from './advice.js';
import { credentialsWatch, loadConfiguration } from './configuration.js';
import { SigningKeys } from './keys.js';
import { Transport } from './transport.js';

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
const VALIDATION_FAILURES = new Set([
  'OAUTH_JWT_CLAIM_COMPARISON_FAILED',
  'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED',
  'OAUTH_JWT_TIMESTAMP_CHECK_FAILED',
  'OAUTH_INVALID_RESPONSE',
  'OAUTH_AUTHORIZATION_RESPONSE_ERROR',
]);

export class EntraClient extends EntraConventions implements IdentityProvider {
  private configuration?: oidc.Configuration;
  private keys?: SigningKeys;
  private readonly transport: Transport;

  constructor(
    private readonly identity: EntraConfig,
    private readonly options: EntraClientOptions,
  ) {
    super(options.generator ?? UNNAMED_GENERATOR);
    this.transport = new Transport({
      timeoutMs: options.timeoutMs,
      retries: options.retries,
      logger: options.logger,
      credentials: credentialsWatch(identity, options.logger),
      ...(options.onTokenRequest ? { onTokenRequest: options.onTokenRequest } : {}),
    });
  }

  get clientId(): string {
    return this.identity.clientId;
  }

  get ready(): boolean {
    return this.configuration !== undefined && this.keys !== undefined;
  }

  /** The longest one grant can take, every retry and pause between them included. */
  get longestGrantMs(): number {
    return this.transport.longestGrantMs;
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

  /** Loads discovery and signing keys. Throws an Error that names the variable to check. */
  async init(): Promise<void> {
    const lifetime = this.options.assertionLifetimeSeconds ?? 30;
    const { configuration, jwksUri } = await loadConfiguration(this.identity, this.transport, lifetime);
    const keys = await SigningKeys.load(jwksUri, {
      timeoutMs: this.options.timeoutMs,
      cooldownMs: this.options.jwksCooldownMs ?? 5000,
    });
    this.configuration = configuration;
    this.keys = keys;
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

  async signingKeyKnown(token: string): Promise<'known' | 'gone' | 'unknown'> {
    return this.keys ? this.keys.known(token) : 'unknown';
  }

  async reloadSigningKeys(): Promise<void> {
    await this.keys?.reload();
  }

  async verifyIdToken(idToken: string, nonce: string): Promise<JWTPayload> {
    if (!this.keys) throw new Error('the identity provider keys are not loaded');
    const tenant = this.identity.tenantId;
    return this.keys.verifyIdToken(idToken, {
      issuer: this.metadata.issuer,
      audience: this.identity.clientId,
      nonce,
      ...(tenant ? { tenant } : {}),
    });
  }

  private config(): oidc.Configuration {
    if (!this.configuration) throw new Error('the Entra ID client is not initialised');
    return this.configuration;
  }

  /** One grant through the transport, against the configuration loaded at start. */
  private async grant(
    grant: Grant,
    request: (config: oidc.Configuration) => Promise<oidc.TokenEndpointResponse>,
    retry = true,
  ): Promise<TokenResponse> {
    const config = this.config();
    return this.transport.grant(grant, () => request(config), retry);
  }
}
