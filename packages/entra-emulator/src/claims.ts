/**
 * The claims of every token the emulator signs, in one place: app tokens, employee tokens and ID
 * tokens, each with the claims Entra ID v2.0 puts in it. Adding a claim touches this file only.
 */
import type { JWTPayload } from 'jose';
import type { AuthenticatedClient, Endpoints } from './client-auth.js';
import type { Directory } from './directory.js';
import type { Resource, TestEmployee } from './model.js';
import { randomToken } from './random.js';

/** What an employee token grants: its scopes and the groups it carries. */
export interface EmployeeGrant {
  scp: string;
  groups: string[];
}

const now = () => Math.floor(Date.now() / 1000);

/** Past this many groups a JWT carries none but says where to read them (Entra's groups overage). */
export const GROUPS_IN_A_TOKEN = 200;

/** The groups claim as Entra writes it: left out when there are none, an overage pointer when there are too many. */
function groupsClaims(groups: string[], tenantId: string, oid: string): JWTPayload {
  if (groups.length === 0) return {};
  if (groups.length <= GROUPS_IN_A_TOKEN) return { groups };
  return {
    _claim_names: { groups: 'src1' },
    _claim_sources: { src1: { endpoint: `https://graph.windows.net/${tenantId}/users/${oid}/getMemberObjects` } },
  };
}

export class Claims {
  constructor(
    private readonly directory: Directory,
    private readonly endpoints: Endpoints,
    readonly lifetimeSeconds: number,
  ) {}

  /** An app token: the caller's service principal, with the roles the resource gave it. */
  appToken(resource: Resource, caller: AuthenticatedClient, roles: string[]): JWTPayload {
    const servicePrincipal = this.directory.servicePrincipalFor(caller.client.target);
    return {
      ...this.accessTokenBase(resource, caller),
      idtyp: 'app',
      oid: servicePrincipal,
      ...(roles.length ? { roles } : {}),
      sub: servicePrincipal,
    };
  }

  /** An employee token for `resource`, asked for by `caller` on behalf of `employee`. */
  employeeToken(
    resource: Resource,
    caller: AuthenticatedClient,
    employee: TestEmployee,
    grant: EmployeeGrant,
    sessionId: string,
  ): JWTPayload {
    const oid = this.directory.userOid(employee.navIdent);
    return {
      ...this.accessTokenBase(resource, caller),
      name: employee.name,
      oid,
      preferred_username: employee.email,
      scp: grant.scp,
      sid: sessionId,
      sub: this.directory.pairwiseSubject(oid, resource.clientId),
      NAVident: employee.navIdent,
      ...groupsClaims(grant.groups, this.directory.tenantId, oid),
    };
  }

  /** An ID token for the client the employee signed in to, in the single sign-on session `sessionId`; `email` when the scopes ask. */
  idToken(
    caller: AuthenticatedClient,
    employee: TestEmployee,
    signIn: { nonce?: string; authTime?: number; sessionId: string; scopes: string[] },
  ): JWTPayload {
    const { nonce, authTime, sessionId } = signIn;
    const oid = this.directory.userOid(employee.navIdent);
    return {
      ...this.times(),
      aud: caller.client.clientId,
      iss: this.endpoints.issuer,
      aio: randomToken(24),
      name: employee.name,
      oid,
      preferred_username: employee.email,
      ...(signIn.scopes.includes('email') ? { email: employee.email } : {}),
      sid: sessionId,
      sub: this.directory.pairwiseSubject(oid, caller.client.clientId),
      tid: this.directory.tenantId,
      uti: randomToken(16),
      ver: '2.0',
      NAVident: employee.navIdent,
      ...(nonce ? { nonce } : {}),
      ...(authTime !== undefined ? { auth_time: authTime } : {}),
    };
  }

  /**
   * What userinfo answers for a Graph token: the user, with the `sub` of the ID tokens of the client
   * the token was issued to, as OpenID Connect requires (openid-client checks it).
   */
  userInfo(token: JWTPayload): Record<string, unknown> {
    const oid = String(token.oid);
    return {
      sub: this.directory.pairwiseSubject(oid, String(token.azp)),
      name: token.name,
      email: token.preferred_username,
      oid,
      NAVident: token.NAVident,
    };
  }

  /** MSAL's client_info (asked for with client_info=1): the user's object id and tenant, from which it builds the account's id. */
  clientInfo(employee: TestEmployee): string {
    const info = { uid: this.directory.userOid(employee.navIdent), utid: this.directory.tenantId };
    return Buffer.from(JSON.stringify(info)).toString('base64url');
  }

  private times() {
    const issuedAt = now();
    return { iat: issuedAt, nbf: issuedAt, exp: issuedAt + this.lifetimeSeconds };
  }

  private accessTokenBase(resource: Resource, caller: AuthenticatedClient) {
    return {
      aud: resource.audience ?? resource.clientId,
      iss: this.endpoints.issuer,
      ...this.times(),
      aio: randomToken(24),
      azp: caller.client.clientId,
      azp_name: caller.client.target,
      azpacr: caller.acr,
      rh: `0.${randomToken(24)}.`,
      tid: this.directory.tenantId,
      uti: randomToken(16),
      ver: '2.0',
    };
  }
}
