/** The token endpoint's work: the grant type checked, the client authenticated, and the grant's answer. */
import { authenticateClient } from './client-auth.js';
import { errors } from './errors.js';
import { GRANTS, type GrantContext, type TokenResponse } from './grants/index.js';
import type { ClientRecord } from './model.js';
import type { Params } from './params.js';

export async function issueTokens(
  context: GrantContext,
  params: Params,
  headers: { authorization?: string | undefined; origin?: string | undefined },
): Promise<TokenResponse> {
  if (!params.grant_type) throw errors.missingParameter('grant_type');
  const grant = GRANTS.get(params.grant_type);
  if (!grant) throw errors.unsupportedGrant(params.grant_type.slice(0, 100));
  const caller = await authenticateClient(
    { directory: context.directory, endpoints: context.endpoints, assertionIds: context.stores.assertionIds },
    params,
    headers.authorization,
  );
  if (caller.acr === '0' && !grant.publicClients) throw errors.noCredential();
  return grant.handle(context, caller, params, { crossOrigin: headers.origin !== undefined });
}

/**
 * A token for a client known already to be who it is (Texas's API and the test helpers speak for
 * their app): the grant's answer with no client authentication, access policies as at the endpoint.
 */
export async function issueTokensFor(context: GrantContext, client: ClientRecord, params: Params): Promise<TokenResponse> {
  const grant = params.grant_type ? GRANTS.get(params.grant_type) : undefined;
  if (!grant) throw errors.unsupportedGrant(String(params.grant_type).slice(0, 100));
  return grant.handle(context, { client, acr: '2' }, params);
}
