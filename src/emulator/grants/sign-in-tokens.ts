/** What a signed-in employee's grants (authorization code, refresh token) give, and the refresh tokens they hand out. */
import type { AuthenticatedClient } from '../client-auth.js';
import type { TestEmployee } from '../directory.js';
import type { Params } from '../params.js';
import { randomToken } from '../random.js';
import { GRAPH_APP_ID, loginResource } from '../scopes.js';
import { refusalError, tokenResponse, type GrantContext, type TokenResponse } from './grant.js';

export interface SignIn {
  scopes: string[];
  employee: TestEmployee;
  nonce?: string;
  sessionId: string;
}

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
  if (scopes.includes('openid'))
    extra.id_token = await context.keys.sign(context.claims.idToken(caller, employee, signIn.nonce, signIn.sessionId));
  if (scopes.includes('offline_access')) extra.refresh_token = issueRefreshToken(context, caller, signIn);
  return tokenResponse(context, accessToken, extra);
}

export function issueRefreshToken(context: GrantContext, caller: AuthenticatedClient, signIn: SignIn): string {
  const refreshToken = randomToken(48);
  context.stores.refreshTokens.set(refreshToken, {
    clientId: caller.client.clientId,
    scopes: signIn.scopes,
    employee: signIn.employee,
    sessionId: signIn.sessionId,
  });
  return refreshToken;
}
