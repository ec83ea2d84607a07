/**
 * The token endpoint: client authentication as strict as Entra ID's, and the grants the token
 * generator (and any other Entra client) uses: client credentials, authorization code with PKCE,
 * refresh token and on-behalf-of.
 */
import { constants, createHash, KeyObject, randomBytes, randomUUID, verify } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, type CryptoKey, type JWTPayload } from 'jose';
import { errors, EntraError } from './errors.js';
import { safeEqual, type ClientRecord, type Directory, type Resource, type TestEmployee } from './directory.js';
import type { KeyRing } from './key-ring.js';
import type { Params } from './params.js';

export type { Params } from './params.js';

export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);
const GRAPH = '00000003-0000-0000-c000-000000000000';
const GRAPH_NAMES = new Set([GRAPH, 'https://graph.microsoft.com', 'api://00000003-0000-0000-c000-000000000000']);

const CLOCK_SKEW_S = 60;
/** Entra refuses client assertions valid for longer than ten minutes. */
const MAX_ASSERTION_LIFETIME_S = 600;
const CODE_LIFETIME_MS = 5 * 60_000;
const REFRESH_LIFETIME_MS = 24 * 3_600_000;
const ASSERTION_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];

/** The resource a scope belongs to: what comes before its last '/'. */
function resourceName(scope: string): string {
  const slash = scope.lastIndexOf('/');
  return slash > 0 ? scope.slice(0, slash) : scope;
}

/**
 * `client_id:client_secret` from a Basic header. RFC 6749 (2.3.1) has both form-encoded, but many
 * clients send them as they are, so the secret is tried both ways. Undefined when malformed.
 */
function decodeBasic(encoded: string): { clientId: string; secrets: string[] } | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  const formDecode = (value: string) => {
    try {
      return decodeURIComponent(value.replace(/\+/g, ' '));
    } catch {
      return value;
    }
  };
  const rawSecret = decoded.slice(colon + 1);
  return { clientId: formDecode(decoded.slice(0, colon)), secrets: [...new Set([formDecode(rawSecret), rawSecret])] };
}

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

const keyObjects = new WeakMap<CryptoKey, KeyObject>();
const keyObjectOf = (key: CryptoKey): KeyObject => {
  let object = keyObjects.get(key);
  if (!object) keyObjects.set(key, (object = KeyObject.from(key)));
  return object;
};

const EC_CURVES: Record<string, string> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };

/**
 * Whether a compact JWS's signature verifies with the key, for the RS, PS and ES algorithms.
 * Checked here on the event loop: a public-key check takes a few tens of microseconds, less than
 * a round trip through the thread pool, which the token endpoint keeps for signing (BENCHMARKS.md).
 * The key was imported for `alg` (so its type fits); RSA keys must have 2048 bits or more, EC keys
 * the curve of the algorithm, as JOSE requires.
 */
export function signatureVerifies(jws: string, alg: string, key: KeyObject): boolean {
  const dot = jws.lastIndexOf('.');
  const encoded = jws.slice(dot + 1);
  if (dot <= 0 || !/^[A-Za-z0-9_-]+$/.test(encoded)) return false;
  const bits = Number(alg.slice(2));
  const family = alg.slice(0, 2);
  const details = key.asymmetricKeyDetails;
  if (family === 'ES' ? details?.namedCurve !== EC_CURVES[alg] : (details?.modulusLength ?? 0) < 2048) return false;
  const options =
    family === 'PS'
      ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: bits / 8 }
      : family === 'ES'
        ? { key, dsaEncoding: 'ieee-p1363' as const }
        : key;
  try {
    return verify(`sha${bits}`, Buffer.from(jws.slice(0, dot)), options, Buffer.from(encoded, 'base64url'));
  } catch {
    return false;
  }
}

/** Random bytes as base64url, cut from a pool refilled from the CSPRNG 4 KB at a time (every token takes some). */
let randomPool = Buffer.alloc(0);
let randomOffset = 0;
const random = (bytes = 32): string => {
  if (randomOffset + bytes > randomPool.length) {
    randomPool = randomBytes(Math.max(4096, bytes));
    randomOffset = 0;
  }
  const value = randomPool.toString('base64url', randomOffset, randomOffset + bytes);
  randomOffset += bytes;
  return value;
};
const now = () => Math.floor(Date.now() / 1000);

export class TokenIssuer {
  readonly codes = new Map<string, AuthorizationCode>();
  private readonly refreshTokens = new Map<string, RefreshGrant>();
  private readonly seenJtis = new Map<string, number>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly directory: Directory,
    private readonly keys: KeyRing,
    private readonly endpoints: Endpoints,
    private readonly lifetimeSeconds: number,
  ) {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  stop(): void {
    clearInterval(this.sweeper);
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

  /**
   * A token for a client that is known already to be who it is (Texas's API and the direct helpers
   * speak for their app): client credentials, or on-behalf-of with `assertion`. Access policies apply
   * as at the token endpoint.
   */
  async tokenFor(client: ClientRecord, params: Params): Promise<Record<string, unknown>> {
    const caller: AuthenticatedClient = { client, acr: '2' };
    return params.grant_type === JWT_BEARER ? this.onBehalfOf(caller, params) : this.clientCredentials(caller, params);
  }

  /** A user token for `scope`'s resource, as if `employee` had signed in to `client`: the directory decides as at login. */
  async userTokenFor(client: ClientRecord, scope: string, employee: TestEmployee): Promise<Record<string, unknown>> {
    const caller: AuthenticatedClient = { client, acr: '2' };
    const resource = this.defaultScopeResource(scope, 'on_behalf_of');
    const token = await this.userAccessToken(resource, caller, employee, this.directory.userGrant(resource, client, employee));
    return this.tokenResponse(token, { scope });
  }

  /** The client an ID token of this emulator was issued to (expired ones too, as logout takes them); undefined when it is not one. */
  async clientOfIdToken(idToken: string): Promise<string | undefined> {
    try {
      const payload = await this.keys.verifySignature(idToken);
      const claims = JSON.parse(new TextDecoder().decode(payload)) as JWTPayload;
      return claims.iss === this.endpoints.issuer && typeof claims.aud === 'string' ? claims.aud : undefined;
    } catch {
      return undefined;
    }
  }

  issueCode(code: Omit<AuthorizationCode, 'expiresAt' | 'redeemed'>): string {
    const value = random();
    this.codes.set(value, { ...code, expiresAt: Date.now() + CODE_LIFETIME_MS, redeemed: false });
    return value;
  }

  // --- client authentication ---------------------------------------------------------------

  private async authenticate(params: Params, authorization: string | undefined): Promise<AuthenticatedClient> {
    let clientId = params.client_id;
    let secrets = params.client_secret === undefined ? [] : [params.client_secret];
    if (authorization !== undefined && /^basic /i.test(authorization)) {
      const basic = decodeBasic(authorization.slice(6).trim());
      if (!basic) throw errors.malformed('The Authorization header is not valid Basic authentication (base64 of client_id:client_secret).');
      if (params.client_id !== undefined && params.client_id !== basic.clientId) throw errors.malformed('The client_id in the body differs from the one in the Authorization header.');
      if (params.client_secret !== undefined) throw errors.malformed('Send the client secret once: in the Authorization header or in the body, not both.');
      clientId = basic.clientId;
      secrets = basic.secrets;
    }
    if (params.client_assertion !== undefined || params.client_assertion_type !== undefined) {
      if (secrets.length > 0) throw errors.malformed('Send either a client secret or a client assertion, not both.');
      return this.authenticateAssertion(params, clientId);
    }
    if (!clientId) throw errors.missingParameter('client_id');
    const client = this.directory.clients.get(clientId);
    if (!client) throw errors.unknownClient(clientId.slice(0, 100));
    if (secrets.length === 0 || secrets[0] === '') throw errors.noCredential();
    if (!client.secrets.some((known) => secrets.some((secret) => safeEqual(known, secret)))) throw errors.invalidSecret(clientId);
    return { client, acr: '1' };
  }

  private async authenticateAssertion(params: Params, clientId: string | undefined): Promise<AuthenticatedClient> {
    if (params.client_assertion_type === undefined) throw errors.missingParameter('client_assertion_type');
    if (params.client_assertion_type !== ASSERTION_TYPE) {
      throw errors.assertionClaims(`client_assertion_type must be ${ASSERTION_TYPE}.`);
    }
    const assertion = params.client_assertion;
    if (!assertion) throw errors.missingParameter('client_assertion');
    let header: ReturnType<typeof decodeProtectedHeader>;
    let unverified: JWTPayload;
    try {
      header = decodeProtectedHeader(assertion);
      unverified = decodeJwt(assertion);
    } catch {
      throw errors.assertionClaims('The client assertion is not a signed JWT.');
    }
    const issuer = typeof unverified.iss === 'string' && unverified.iss !== '' ? unverified.iss : undefined;
    if (!issuer) throw errors.assertionClaims('The client assertion has no iss: it must be the client id.');
    if (unverified.sub !== issuer) throw errors.assertionSubject();
    if (clientId !== undefined && clientId !== issuer) throw errors.assertionClientMismatch();
    const client = this.directory.clients.get(issuer);
    if (!client) throw errors.unknownClient(issuer.slice(0, 100));
    if (!header.kid) throw errors.assertionSignature(`The assertion names no key: its header has no kid. Keys registered for '${client.clientId}' are known by kid.`);
    const alg = typeof header.alg === 'string' && ASSERTION_ALGORITHMS.includes(header.alg) ? header.alg : undefined;
    if (!alg) throw errors.assertionSignature(`The assertion's algorithm must be one of ${ASSERTION_ALGORITHMS.join(', ')}.`);
    const key = await this.directory.clientKey(client, header.kid, alg);
    if (!key) throw errors.assertionSignature(`Key was not found for kid '${header.kid.slice(0, 100)}' and alg ${alg} of client '${client.clientId}'.`);

    if (!signatureVerifies(assertion, alg, keyObjectOf(key))) throw errors.assertionSignature('The signature does not verify with the registered key.');
    const payload = unverified;
    const time = now();
    for (const claim of ['exp', 'nbf', 'iat'] as const) {
      if (payload[claim] !== undefined && typeof payload[claim] !== 'number') throw errors.assertionClaims(`The claim ${claim} is not valid.`);
    }
    if (typeof payload.exp === 'number' && payload.exp <= time - CLOCK_SKEW_S) throw errors.assertionTime('The assertion has expired.');
    if (typeof payload.nbf === 'number' && payload.nbf > time + CLOCK_SKEW_S) throw errors.assertionTime('The assertion is not yet valid (nbf is in the future).');
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (audiences.length !== 1 || !audiences.some((aud) => aud === this.endpoints.tokenEndpoint || aud === this.endpoints.issuer)) {
      throw errors.assertionAudience(this.endpoints.tokenEndpoint);
    }
    if (typeof payload.exp !== 'number') throw errors.assertionClaims('The assertion has no exp.');
    if (payload.iat !== undefined && payload.iat > time + CLOCK_SKEW_S) throw errors.assertionTime('The assertion was issued in the future (iat).');
    const start = typeof payload.nbf === 'number' ? payload.nbf : typeof payload.iat === 'number' ? payload.iat : undefined;
    if (start === undefined) throw errors.assertionClaims('The assertion has neither nbf nor iat.');
    const lifetime = payload.exp - Math.min(start, typeof payload.iat === 'number' ? payload.iat : start);
    if (lifetime > MAX_ASSERTION_LIFETIME_S || payload.exp - time > MAX_ASSERTION_LIFETIME_S + CLOCK_SKEW_S) {
      throw errors.assertionTime(`The assertion is valid for ${lifetime} seconds; at most ${MAX_ASSERTION_LIFETIME_S} are accepted.`);
    }
    if (typeof payload.jti !== 'string' || payload.jti === '') throw errors.assertionClaims('The assertion has no jti.');
    const seenKey = `${client.clientId}:${payload.jti}`;
    if (this.seenJtis.has(seenKey)) throw errors.assertionReplayed();
    this.seenJtis.set(seenKey, (payload.exp + CLOCK_SKEW_S) * 1000);
    return { client, acr: '2' };
  }

  // --- scopes ------------------------------------------------------------------------------

  /**
   * The one resource a `.default` scope names, as client credentials and on-behalf-of require.
   * Client credentials take exactly one scope; on-behalf-of may add OpenID scopes (offline_access).
   */
  private defaultScopeResource(scope: string | undefined, flow: 'client_credentials' | 'on_behalf_of'): Resource {
    if (!scope) throw errors.missingParameter('scope');
    const items = [...new Set(scope.split(' ').filter(Boolean))];
    const apiItems = flow === 'client_credentials' ? items : items.filter((item) => !OIDC_SCOPES.has(item));
    const resources = new Set(apiItems.filter((item) => item.includes('/')).map(resourceName));
    if (resources.size > 1) throw errors.scopesAcrossResources();
    const [item] = apiItems;
    if (apiItems.length !== 1 || !item || !item.endsWith('/.default')) {
      throw errors.invalidScope(
        scope.slice(0, 200),
        flow === 'client_credentials' ? 'Client credential flows must have exactly one scope: <resource>/.default.' : 'Ask for exactly one <resource>/.default scope.',
      );
    }
    const name = resourceName(item);
    const resource = this.directory.resource(name);
    if (!resource) throw errors.resourceNotFound(name.slice(0, 200));
    return resource;
  }

  /**
   * The resource a login's scopes ask an access token for: the one API they name, else Microsoft
   * Graph (for OpenID scopes only, or bare Graph permissions). Throws as Entra does at authorize.
   */
  loginResource(scopes: string[]): { resource: Resource; scope: string } {
    const apiItems = scopes.filter((item) => !OIDC_SCOPES.has(item));
    const named = apiItems.filter((item) => item.includes('/') && !GRAPH_NAMES.has(resourceName(item)));
    const graph = apiItems.filter((item) => !named.includes(item));
    const resources = new Set(named.map(resourceName));
    if (resources.size > 1 || (resources.size === 1 && graph.length > 0)) throw errors.scopesAcrossResources();
    const [first] = named;
    if (first !== undefined) {
      const name = resourceName(first);
      const resource = this.directory.resource(name);
      if (!resource) throw errors.resourceNotFound(name.slice(0, 200));
      return { resource, scope: named.join(' ') };
    }
    const permissions = graph.map((item) => item.slice(item.lastIndexOf('/') + 1)).filter((item) => item !== '.default');
    return { resource: { target: 'graph', clientId: GRAPH }, scope: [...new Set(['openid', 'profile', 'email', ...permissions])].join(' ') };
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
    const resource = this.defaultScopeResource(params.scope, 'client_credentials');
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

  /** What a login's scopes give: an access token for the one resource they name (else Microsoft Graph), an ID token, and a refresh token with offline_access. */
  private async loginTokens(caller: AuthenticatedClient, scopes: string[], employee: TestEmployee, nonce: string | undefined) {
    const { resource, scope: granted } = this.loginResource(scopes);
    const grant = resource.clientId === GRAPH ? { scp: granted, groups: employee.groups } : this.directory.userGrant(resource, caller.client, employee);
    const accessToken = await this.userAccessToken(resource, caller, employee, grant);
    const extra: Record<string, unknown> = { scope: granted };
    if (scopes.includes('openid')) extra.id_token = await this.idToken(caller, employee, nonce);
    if (scopes.includes('offline_access')) extra.refresh_token = this.issueRefreshToken(caller, scopes, employee);
    return this.tokenResponse(accessToken, extra);
  }

  private async idToken(caller: AuthenticatedClient, employee: TestEmployee, nonce: string | undefined): Promise<string> {
    const oid = this.directory.userOid(employee.navIdent);
    const issuedAt = now();
    return this.keys.sign({
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
    const resource = this.defaultScopeResource(params.scope, 'on_behalf_of');
    let payload: JWTPayload;
    try {
      ({ payload } = await this.keys.verify(params.assertion, { issuer: this.endpoints.issuer }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw errors.expiredAssertion();
      throw errors.invalidAssertion('The user assertion is not a token issued by this tenant: its signature, issuer or times do not verify.');
    }
    if (payload.aud !== caller.client.clientId) {
      throw errors.invalidAssertion(
        `Assertion audience does not match the Client app presenting the assertion. The audience in the assertion was '${String(payload.aud).slice(0, 100)}' and the expected audience is '${caller.client.clientId}'.`,
      );
    }
    if (payload.idtyp === 'app' || payload.roles !== undefined) throw errors.invalidAssertion('The assertion is an app token; on-behalf-of needs a user token.');
    if (payload.scp === undefined) throw errors.idTokenAsAssertion();
    if (typeof payload.NAVident !== 'string' || typeof payload.oid !== 'string') throw errors.invalidAssertion('The assertion is not a user token of this tenant.');
    // Group membership is the directory's, not what the incoming token happened to carry.
    const known = this.directory.employees.find((e) => e.navIdent === payload.NAVident);
    const employee: TestEmployee = known ?? {
      navIdent: payload.NAVident,
      name: typeof payload.name === 'string' ? payload.name : payload.NAVident,
      email: typeof payload.preferred_username === 'string' ? payload.preferred_username : '',
      groups: Array.isArray(payload.groups) ? payload.groups.filter((g): g is string => typeof g === 'string') : [],
    };
    const grant = this.directory.userGrant(resource, caller.client, employee);
    const token = await this.userAccessToken(resource, caller, employee, grant);
    const scopes = [...new Set(params.scope!.split(' ').filter(Boolean))];
    const extra: Record<string, unknown> = { scope: scopes.filter((item) => item !== 'offline_access').join(' ') };
    if (scopes.includes('offline_access')) extra.refresh_token = this.issueRefreshToken(caller, scopes, employee);
    return this.tokenResponse(token, extra);
  }

  private issueRefreshToken(caller: AuthenticatedClient, scopes: string[], employee: TestEmployee): string {
    const refreshToken = random(48);
    this.refreshTokens.set(refreshToken, { clientId: caller.client.clientId, scopes, employee, expiresAt: Date.now() + REFRESH_LIFETIME_MS });
    return refreshToken;
  }

  private sweep(): void {
    const time = Date.now();
    for (const [key, expires] of this.seenJtis) if (expires <= time) this.seenJtis.delete(key);
    for (const [key, code] of this.codes) if (code.expiresAt <= time) this.codes.delete(key);
    for (const [key, grant] of this.refreshTokens) if (grant.expiresAt <= time) this.refreshTokens.delete(key);
  }
}

export { EntraError };
