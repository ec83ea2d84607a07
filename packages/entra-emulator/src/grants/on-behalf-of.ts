/**
 * On-behalf-of: an employee token the caller received, exchanged for one to another resource, with the
 * groups the directory gives the employee (not those the incoming token happened to carry).
 */
import { randomUUID } from 'node:crypto';
import { errors as joseErrors, type JWTPayload } from 'jose';
import type { TestEmployee } from '../model.js';
import { errors } from '../errors.js';
import { defaultScopeResource, scopeItems } from '../scopes.js';
import { refusalError, tokenResponse, type Grant, type GrantContext, type TokenResponse } from './grant.js';
import { clientInfoField, refreshTokenFields } from './sign-in-tokens.js';

export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

async function verifiedAssertion(context: GrantContext, assertion: string, callerId: string): Promise<JWTPayload> {
  let payload: JWTPayload;
  try {
    ({ payload } = await context.keys.verify(assertion, { issuer: context.endpoints.issuer }));
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw errors.expiredAssertion();
    throw errors.invalidAssertion('The user assertion is not a token issued by this tenant: its signature, issuer or times do not verify.');
  }
  if (payload.aud !== callerId) {
    throw errors.invalidAssertion(
      `Assertion audience does not match the Client app presenting the assertion. The audience in the assertion was ` +
        `'${String(payload.aud).slice(0, 100)}' and the expected audience is '${callerId}'.`,
    );
  }
  if (payload.idtyp === 'app' || payload.roles !== undefined) throw errors.appTokenAsAssertion(callerId);
  if (payload.scp === undefined) throw errors.idTokenAsAssertion();
  if (typeof payload.NAVident !== 'string' || typeof payload.oid !== 'string')
    throw errors.invalidAssertion('The assertion is not a user token of this tenant.');
  return payload;
}

function employeeOf(context: GrantContext, payload: JWTPayload & { NAVident: string }): TestEmployee {
  const known = context.directory.employees.find((e) => e.navIdent === payload.NAVident);
  return (
    known ?? {
      navIdent: payload.NAVident,
      name: typeof payload.name === 'string' ? payload.name : payload.NAVident,
      email: typeof payload.preferred_username === 'string' ? payload.preferred_username : '',
      groups: Array.isArray(payload.groups) ? payload.groups.filter((g): g is string => typeof g === 'string') : [],
    }
  );
}

export const onBehalfOf: Grant = {
  type: JWT_BEARER,
  async handle(context, caller, params) {
    if (params.requested_token_use !== 'on_behalf_of') throw errors.missingParameter('requested_token_use');
    if (!params.assertion) throw errors.missingParameter('assertion');
    const resource = defaultScopeResource(context.directory, params.scope, 'on_behalf_of');
    const payload = await verifiedAssertion(context, params.assertion, caller.client.clientId);
    const employee = employeeOf(context, payload as JWTPayload & { NAVident: string });
    const access = context.directory.employeeAccess(resource, caller.client, employee);
    if ('refusal' in access) throw refusalError(access.refusal, caller, resource, employee);
    // The session is the one the employee signed in with, which the incoming token names.
    const sessionId = typeof payload.sid === 'string' ? payload.sid : randomUUID();
    const token = await context.keys.sign(context.claims.employeeToken(resource, caller, employee, access, sessionId));
    const scopes = scopeItems(params.scope!);
    const extra: Partial<TokenResponse> = {
      scope: scopes.filter((item) => item !== 'offline_access').join(' '),
      ...clientInfoField(context, params, employee),
    };
    if (scopes.includes('offline_access'))
      Object.assign(extra, refreshTokenFields(context, caller, { scopes, employee, sessionId, publicClient: false }));
    return tokenResponse(context, token, extra);
  },
};
