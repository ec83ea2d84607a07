/**
 * The refresh token: new tokens for the employee and scopes of an earlier sign-in, for the client it
 * was issued to. As in Entra ID, a used refresh token is not revoked: the answer brings a new one, but
 * the old one keeps working until it expires, so that a retry after a lost answer, or two replicas
 * refreshing one session, both succeed.
 */
import { errors } from '../errors.js';
import { scopeItems } from '../scopes.js';
import type { Grant } from './grant.js';
import { signInTokens } from './sign-in-tokens.js';

export const refreshToken: Grant = {
  type: 'refresh_token',
  publicClients: true,
  async handle(context, caller, params, request) {
    if (!params.refresh_token) throw errors.missingParameter('refresh_token');
    const grant = context.stores.refreshTokens.get(params.refresh_token);
    if (!grant) throw errors.refreshInvalid();
    // One kept in the state folder by an emulator of another tenant.
    if (grant.tenantId !== context.directory.tenantId) throw errors.grantOfOtherTenant();
    if (grant.clientId !== caller.client.clientId) throw errors.refreshInvalid();
    if (caller.acr === '0' && !grant.publicClient) throw errors.noCredential();
    if (grant.spaUntil !== undefined && !request?.crossOrigin) throw errors.spaNotCrossOrigin();
    const scopes = params.scope ? [...new Set([...scopeItems(params.scope), 'offline_access'])] : grant.scopes;
    // As Entra ID, the employee as the directory has them now (their groups changed since, or a refresh token kept
    // across a restart with an edited directory), not as they were at sign-in.
    const employee = context.directory.employees.find((known) => known.navIdent === grant.employee.navIdent) ?? grant.employee;
    return signInTokens(context, caller, { ...grant, employee, scopes }, params);
  },
};
