/** What a signed-in employee's grants (authorization code, refresh token) give, and the refresh tokens they hand out. */
import type { AuthenticatedClient } from '../client-auth.js';
import type { RefreshGrant, TestEmployee } from '../model.js';
import type { Params } from '../params.js';
import { randomToken } from '../random.js';
import { GRAPH_APP_ID } from '../graph.js';
import { loginResource } from '../scopes.js';
import { refusalError, tokenResponse, type GrantContext, type TokenResponse } from './grant.js';

export interface SignIn extends Omit<RefreshGrant, 'clientId' | 'tenantId'> {
  nonce?: string;
  /** The ID token's `auth_time`, when the sign-in was asked for with `max_age`. */
  authTime?: number;
}

/** Entra gives a single-page app's refresh tokens a fixed 24 hours. */
export const SPA_REFRESH_LIFETIME_MS = 24 * 3_600_000;

/** The token response's extra fields every employee grant gives alike: MSAL's client_info when asked for. */
export function clientInfoField(context: GrantContext, params: Params, employee: TestEmployee): Partial<TokenResponse> {
  return params.client_info === '1' ? { client_info: context.claims.clientInfo(employee) } : {};
}

/**
 * An access token for the one resource the scopes name (else Microsoft Graph), an ID token with openid, and a refresh token with
 * offline_access.
 */
export async function signInTokens(
  context: GrantContext,
  caller: AuthenticatedClient,
  signIn: SignIn,
  params: Params,
): Promise<TokenResponse> {
  const { scopes, employee } = signIn;
  const { resource, scope } = loginResource(context.directory, scopes);
  const access =
    resource.clientId === GRAPH_APP_ID
      ? { scp: scope, groups: employee.groups }
      : context.directory.employeeAccess(resource, caller.client, employee);
  if ('refusal' in access) throw refusalError(access.refusal, caller, resource, employee);
  const accessToken = await context.keys.sign(context.claims.employeeToken(resource, caller, employee, access, signIn.sessionId));
  const extra: Partial<TokenResponse> = { scope, ...clientInfoField(context, params, employee) };
  if (scopes.includes('openid')) extra.id_token = await context.keys.sign(context.claims.idToken(caller, employee, signIn));
  if (scopes.includes('offline_access')) Object.assign(extra, refreshTokenFields(context, caller, signIn));
  return tokenResponse(context, accessToken, extra);
}

/** A new refresh token for the sign-in, and for a single-page app the seconds it has left, as Entra says them. */
export function refreshTokenFields(
  context: GrantContext,
  caller: AuthenticatedClient,
  signIn: SignIn,
): Pick<TokenResponse, 'refresh_token' | 'refresh_token_expires_in'> {
  const refreshToken = randomToken(48);
  const { scopes, employee, sessionId, publicClient, spaUntil } = signIn;
  const grant: RefreshGrant = {
    tenantId: context.directory.tenantId,
    clientId: caller.client.clientId,
    scopes,
    employee,
    sessionId,
    publicClient,
  };
  if (spaUntil === undefined) {
    context.stores.refreshTokens.set(refreshToken, grant);
    return { refresh_token: refreshToken };
  }
  context.stores.refreshTokens.set(refreshToken, { ...grant, spaUntil }, spaUntil - Date.now());
  return { refresh_token: refreshToken, refresh_token_expires_in: Math.max(0, Math.floor((spaUntil - Date.now()) / 1000)) };
}
