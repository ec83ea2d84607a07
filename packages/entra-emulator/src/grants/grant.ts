/**
 * What every grant of the token endpoint is: a grant type and a handler that turns an authenticated
 * client's request into a token response, or into Entra's error. One module per grant.
 */
import type { AuthenticatedClient, Endpoints } from '../client-auth.js';
import type { Claims } from '../claims.js';
import type { Directory } from '../directory.js';
import type { Refusal, Resource, TestEmployee } from '../model.js';
import { errors, type EntraError } from '../errors.js';
import type { KeyRing } from '../key-ring.js';
import type { Params } from '../params.js';
import type { Stores } from '../stores.js';

export interface GrantContext {
  directory: Directory;
  keys: KeyRing;
  claims: Claims;
  stores: Stores;
  endpoints: Endpoints;
}

export interface TokenResponse {
  token_type: 'Bearer';
  expires_in: number;
  ext_expires_in: number;
  scope?: string;
  access_token: string;
  id_token?: string;
  refresh_token?: string;
  /** A single-page app's refresh token's remaining seconds. */
  refresh_token_expires_in?: number;
  client_info?: string;
}

/** What a grant may need to know of the HTTP request besides its parameters. */
export interface RequestFacts {
  /** The request came from a page of another origin (it has an Origin header), as a single-page app's do. */
  crossOrigin: boolean;
}

export interface Grant {
  /** The grant_type it answers. */
  readonly type: string;
  /** Other names Entra takes for it. */
  readonly aliases?: readonly string[];
  /** Whether a public client may use it without a credential (what it redeems must have been issued to a public client too). */
  readonly publicClients?: boolean;
  handle(context: GrantContext, caller: AuthenticatedClient, params: Params, request?: RequestFacts): Promise<TokenResponse>;
}

export function tokenResponse(context: GrantContext, accessToken: string, extra: Partial<TokenResponse> = {}): TokenResponse {
  const lifetime = context.claims.lifetimeSeconds;
  return { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, ...extra, access_token: accessToken };
}

/** Entra's error for the directory's refusal. */
export function refusalError(refusal: Refusal, caller: AuthenticatedClient, resource: Resource, employee?: TestEmployee): EntraError {
  switch (refusal) {
    case 'role-not-assigned':
      return errors.notAssignedRole(caller.client.clientId, resource.clientId);
    case 'consent-required':
      return errors.consentRequired(caller.client.clientId, resource.target);
    case 'user-not-assigned':
      return errors.userNotAssigned(employee?.email ?? '', resource.clientId);
  }
}
