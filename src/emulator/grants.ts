/**
 * The token endpoint: client authentication as strict as Entra ID's, and the grants the token
 * generator (and any other Entra client) uses: client credentials, authorization code with PKCE,
 * refresh token and on-behalf-of.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { errors, EntraError } from './errors.js';
import { safeEqual, type ClientRecord, type Directory, type Resource, type TestEmployee } from './directory.js';
import type { SigningKeys } from './keys.js';

export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);
const GRAPH = '00000003-0000-0000-c000-000000000000';
const CLOCK_SKEW_S = 60;
const MAX_ASSERTION_LIFETIME_S = 600;

export type Params = Record<string, string | undefined>;

export interface Endpoints {
  issuer: string;
  tokenEndpoint: string;
}

export interface AuthorizationCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  nonce?: string;
  scopes: string[];
  employee: TestEmployee;
  expiresAt: number;
  redeemed: boolean;
}

interface RefreshGrant {
  clientId: string;
  scopes: string[];
  employee: TestEmployee;
  expiresAt: number;
}

interface AuthenticatedClient {
  client: ClientRecord;
  /** Entra's azpacr: 1 for a secret, 2 for an assertion. */
  acr: '1' | '2';
}

const random = (bytes = 32) => randomBytes(bytes).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

export class TokenIssuer {
  readonly codes = new Map<string, AuthorizationCode>();
  private readonly refreshTokens = new Map<string, RefreshGrant>();
  private readonly seenJtis = new Map<string, number>();

  constructor(
    private readonly directory: Directory,
    private readonly keys: SigningKeys,
    private readonly endpoints: Endpoints,
    private readonly lifetimeSeconds: number,
  ) {
    const sweeper = setInterval(() => this.sweep(), 60_000);
    sweeper.unref();
  }

  async token(params: Params, authorization: string | undefined): Promise<Record<string, unknown>> {
    const grant = params.grant_type;
    if (!grant) throw errors.missingParameter('grant_type');
    const known = ['client_credentials', 'authorization_code', 'refresh_token', JWT_BEARER];
    if (!known.includes(grant)) throw errors.unsupportedGrant(grant.slice(0, 100));
    const caller = await this.authenticate(params, authorization);
    switch (grant) {
      case 'client_credentials':
        return this.clientCredentials(caller, params);
      case 'authorization_code':
        return this.authorizationCode(caller, params);
      case 'refresh_token':
        return this.refresh(caller, params);
      default:
        return this.onBehalfOf(caller, params);
    }
  }

  issueCode(code: Omit<AuthorizationCode, 'expiresAt' | 'redeemed'>): string {
    const value = random();
    this.codes.set(value, { ...code, expiresAt: Date.now() + 5 * 60_000, redeemed: false });
    return value;
  }

  // --- client authentication ---------------------------------------------------------------

  private async authenticate(params: Params, authorization: string | undefined): Promise<AuthenticatedClient> {
    let clientId = params.client_id;
    let secret = params.client_secret;
    if (authorization?.startsWith('Basic ')) {
      const decoded = Buffer.from(authorization.slice(6), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) {
        clientId = decodeURIComponent(decoded.slice(0, colon));
        secret = decodeURIComponent(decoded.slice(colon + 1));
      }
    }
    if (params.client_assertion !== undefined || params.client_assertion_type !== undefined) {
      return this.authenticateAssertion(params, clientId);
    }
    if (!clientId) throw errors.missingParameter('client_id');
    const client = this.directory.clients.get(clientId);
    if (!client) throw errors.unknownClient(clientId.slice(0, 100));
    if (secret === undefined || secret === '') throw errors.noCredential();
    if (!client.secrets.some((known) => safeEqual(known, secret))) throw errors.invalidSecret(clientId);
    return { client, acr: '1' };
  }

  private async authenticateAssertion(params: Params, clientId: string | undefined): Promise<AuthenticatedClient> {
    if (params.client_assertion_type !== ASSERTION_TYPE) {
      throw errors.assertionClaims(`client_assertion_type must be ${ASSERTION_TYPE}.`);
    }
    const assertion = params.client_assertion;
    if (!assertion) throw errors.missingParameter('client_assertion');
    let kid: string | undefined;
    let unverified: JWTPayload;
    try {
      kid = decodeProtectedHeader(assertion).kid;
      unverified = JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString('utf8')) as JWTPayload;
    } catch {
      throw errors.assertionClaims('The client assertion is not a JWT.');
    }
    const issuer = typeof unverified.iss === 'string' ? unverified.iss : undefined;
    if (!issuer || unverified.sub !== issuer) throw errors.assertionClaims("The assertion's iss and sub must both be the client id.");
    if (clientId && clientId !== issuer) throw errors.assertionClaims('The client_id does not match the assertion issuer.');
    const client = this.directory.clients.get(issuer);
    if (!client) throw errors.unknownClient(issuer.slice(0, 100));
    if (!kid) throw errors.assertionSignature('The assertion has no kid in its header.');
    const key = await this.directory.clientKey(client, kid);
    if (!key) throw errors.assertionSignature(`Key was not found for kid '${kid.slice(0, 100)}' of client '${client.clientId}'.`);

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(assertion, key, {
        algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'],
        clockTolerance: CLOCK_SKEW_S,
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw errors.assertionTime('The assertion has expired.');
      if (err instanceof joseErrors.JWTClaimValidationFailed && (err.claim === 'nbf' || err.claim === 'iat')) {
        throw errors.assertionTime('The assertion is not yet valid.');
      }
      throw errors.assertionSignature('The signature does not verify with the registered key.');
    }
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (!audiences.some((aud) => aud === this.endpoints.tokenEndpoint || aud === this.endpoints.issuer)) {
      throw errors.assertionAudience(this.endpoints.tokenEndpoint);
    }
    if (typeof payload.exp !== 'number') throw errors.assertionClaims('The assertion has no exp.');
    const start = typeof payload.nbf === 'number' ? payload.nbf : typeof payload.iat === 'number' ? payload.iat : undefined;
    if (start === undefined) throw errors.assertionClaims('The assertion has neither nbf nor iat.');
    if (payload.exp - start > MAX_ASSERTION_LIFETIME_S) {
      throw errors.assertionTime(`The assertion lives ${payload.exp - start} seconds; at most ${MAX_ASSERTION_LIFETIME_S} are accepted.`);
    }
    if (typeof payload.jti !== 'string' || payload.jti === '') throw errors.assertionClaims('The assertion has no jti.');
    const seenKey = `${client.clientId}:${payload.jti}`;
    if (this.seenJtis.has(seenKey)) throw errors.assertionReplayed();
    this.seenJtis.set(seenKey, (payload.exp + CLOCK_SKEW_S) * 1000);
    return { client, acr: '2' };
  }

  // --- scopes ------------------------------------------------------------------------------

  /** The one resource a `.default` scope names, as client credentials and on-behalf-of require. */
  private defaultScopeResource(scope: string | undefined): Resource {
    if (!scope) throw errors.missingParameter('scope');
    const items = scope.split(' ').filter(Boolean);
    const resources = [...new Set(items.filter((item) => !OIDC_SCOPES.has(item)).map((item) => item.replace(/\/[^/]*$/, '')))];
    if (resources.length > 1) throw errors.scopesAcrossResources();
    const item = items.find((value) => !OIDC_SCOPES.has(value));
    if (!item || !item.endsWith('/.default')) throw errors.invalidScope(scope.slice(0, 200));
    const name = item.slice(0, -'/.default'.length);
    const resource = this.directory.resource(name);
    if (!resource) throw errors.resourceNotFound(name.slice(0, 200));
    return resource;
  }

  // --- tokens ------------------------------------------------------------------------------

  private baseClaims(audience: string, caller: AuthenticatedClient) {
    const issuedAt = now();
    return {
      aud: audience,
      iss: this.endpoints.issuer,
      iat: issuedAt,
      nbf: issuedAt,
      exp: issuedAt + this.lifetimeSeconds,
      aio: random(24),
      azp: caller.client.clientId,
      azp_name: caller.client.target,
      azpacr: caller.acr,
      rh: `0.${random(24)}.`,
      tid: this.directory.tenantId,
      uti: random(16),
      ver: '2.0',
    };
  }

  private async userAccessToken(resource: Resource, caller: AuthenticatedClient, employee: TestEmployee, grant: { scp: string; groups: string[] }): Promise<string> {
    const { scp, groups } = grant;
    const oid = this.directory.userOid(employee.navIdent);
    return this.keys.sign({
      ...this.baseClaims(resource.clientId, caller),
      name: employee.name,
      oid,
      preferred_username: employee.email,
      scp,
      sid: randomUUID(),
      sub: this.directory.pairwiseSubject(oid, resource.clientId),
      NAVident: employee.navIdent,
      groups,
    });
  }

  private tokenResponse(accessToken: string, extra: Record<string, unknown> = {}) {
    return { token_type: 'Bearer', expires_in: this.lifetimeSeconds, ext_expires_in: this.lifetimeSeconds, ...extra, access_token: accessToken };
  }

  private async clientCredentials(caller: AuthenticatedClient, params: Params) {
    const resource = this.defaultScopeResource(params.scope);
    const roles = this.directory.appGrant(resource, caller.client);
    const servicePrincipal = this.directory.servicePrincipalFor(caller.client.target);
    const token = await this.keys.sign({
      ...this.baseClaims(resource.clientId, caller),
      idtyp: 'app',
      oid: servicePrincipal,
      roles,
      sub: servicePrincipal,
    });
    return this.tokenResponse(token);
  }

  /** What a login's scopes give: a token for the one resource named, else for Microsoft Graph. */
  private async loginTokens(caller: AuthenticatedClient, scopes: string[], employee: TestEmployee, nonce: string | undefined) {
    const apiScope = scopes.find((scope) => !OIDC_SCOPES.has(scope));
    let accessToken: string;
    let granted: string;
    if (apiScope) {
      const name = apiScope.replace(/\/[^/]*$/, '');
      const resource = this.directory.resource(name);
      if (!resource) throw errors.resourceNotFound(name.slice(0, 200));
      accessToken = await this.userAccessToken(resource, caller, employee, this.directory.userGrant(resource, caller.client, employee));
      granted = apiScope;
    } else {
      accessToken = await this.userAccessToken({ target: 'graph', clientId: GRAPH }, caller, employee, { scp: 'openid profile email', groups: employee.groups });
      granted = 'openid profile email';
    }
    const oid = this.directory.userOid(employee.navIdent);
    const issuedAt = now();
    const idToken = await this.keys.sign({
      aud: caller.client.clientId,
      iss: this.endpoints.issuer,
      iat: issuedAt,
      nbf: issuedAt,
      exp: issuedAt + this.lifetimeSeconds,
      name: employee.name,
      oid,
      preferred_username: employee.email,
      sub: this.directory.pairwiseSubject(oid, caller.client.clientId),
      tid: this.directory.tenantId,
      ver: '2.0',
      NAVident: employee.navIdent,
      ...(nonce ? { nonce } : {}),
    });
    const extra: Record<string, unknown> = { scope: granted, id_token: idToken };
    if (scopes.includes('offline_access')) {
      const refreshToken = random(48);
      this.refreshTokens.set(refreshToken, { clientId: caller.client.clientId, scopes, employee, expiresAt: Date.now() + 24 * 3_600_000 });
      extra.refresh_token = refreshToken;
    }
    return this.tokenResponse(accessToken, extra);
  }

  private async authorizationCode(caller: AuthenticatedClient, params: Params) {
    if (!params.code) throw errors.missingParameter('code');
    if (!params.redirect_uri) throw errors.missingParameter('redirect_uri');
    const code = this.codes.get(params.code);
    if (!code) throw errors.codeInvalid();
    if (code.redeemed) throw errors.codeRedeemed();
    if (code.expiresAt <= Date.now()) throw errors.codeExpired();
    if (code.clientId !== caller.client.clientId) throw errors.codeClientMismatch();
    if (code.redirectUri !== params.redirect_uri) throw errors.redirectMismatch();
    if (!params.code_verifier) throw errors.missingParameter('code_verifier');
    const challenge = createHash('sha256').update(params.code_verifier).digest('base64url');
    // A failed attempt uses the code up too, as a stolen code should not be tried twice.
    code.redeemed = true;
    if (!safeEqual(challenge, code.codeChallenge)) throw errors.pkceMismatch();
    return this.loginTokens(caller, code.scopes, code.employee, code.nonce);
  }

  private async refresh(caller: AuthenticatedClient, params: Params) {
    if (!params.refresh_token) throw errors.missingParameter('refresh_token');
    const grant = this.refreshTokens.get(params.refresh_token);
    if (!grant || grant.expiresAt <= Date.now() || grant.clientId !== caller.client.clientId) throw errors.refreshInvalid();
    this.refreshTokens.delete(params.refresh_token);
    const scopes = params.scope ? [...new Set([...params.scope.split(' ').filter(Boolean), 'offline_access'])] : grant.scopes;
    return this.loginTokens(caller, scopes, grant.employee, undefined);
  }

  private async onBehalfOf(caller: AuthenticatedClient, params: Params) {
    if (params.requested_token_use !== 'on_behalf_of') throw errors.missingParameter('requested_token_use');
    if (!params.assertion) throw errors.missingParameter('assertion');
    const resource = this.defaultScopeResource(params.scope);
    let payload: JWTPayload;
    try {
      ({ payload } = await this.keys.verify(params.assertion, { issuer: this.endpoints.issuer }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw errors.expiredAssertion();
      throw errors.invalidAssertion('The user assertion is not a token issued by this tenant.');
    }
    if (payload.aud !== caller.client.clientId) {
      throw errors.invalidAssertion(`The user assertion's audience must be the calling app ('${caller.client.clientId}').`);
    }
    if (payload.idtyp === 'app' || typeof payload.NAVident !== 'string') {
      throw errors.invalidAssertion('The assertion is not a user token.');
    }
    // Group membership is the directory's, not what the incoming token happened to carry.
    const known = this.directory.employees.find((e) => e.navIdent === payload.NAVident);
    const employee: TestEmployee = known ?? {
      navIdent: payload.NAVident,
      name: typeof payload.name === 'string' ? payload.name : payload.NAVident,
      email: typeof payload.preferred_username === 'string' ? payload.preferred_username : '',
      groups: Array.isArray(payload.groups) ? payload.groups.filter((g): g is string => typeof g === 'string') : [],
    };
    const token = await this.userAccessToken(resource, caller, employee, this.directory.userGrant(resource, caller.client, employee));
    return this.tokenResponse(token, { scope: `${params.scope}` });
  }

  private sweep(): void {
    const time = Date.now();
    for (const [key, expires] of this.seenJtis) if (expires <= time) this.seenJtis.delete(key);
    for (const [key, code] of this.codes) if (code.expiresAt <= time) this.codes.delete(key);
    for (const [key, grant] of this.refreshTokens) if (grant.expiresAt <= time) this.refreshTokens.delete(key);
  }
}

export { EntraError };
