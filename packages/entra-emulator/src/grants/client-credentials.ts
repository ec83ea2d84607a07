/** Client credentials: an app token for the one resource `<resource>/.default` names. */
import { defaultScopeResource } from '../scopes.js';
import { refusalError, tokenResponse, type Grant } from './grant.js';

export const clientCredentials: Grant = {
  type: 'client_credentials',
  async handle(context, caller, params) {
    const resource = defaultScopeResource(context.directory, params.scope, 'client_credentials');
    const access = context.directory.appAccess(resource, caller.client);
    if ('refusal' in access) throw refusalError(access.refusal, caller, resource);
    return tokenResponse(context, await context.keys.sign(context.claims.appToken(resource, caller, access.roles)));
  },
};
