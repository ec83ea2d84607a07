/** The token endpoint's work: the grant type checked, the client authenticated, and the grant's answer. */
import { authenticateClient } from './client-auth.js';
import { errors } from './errors.js';
import { GRANTS, type GrantContext, type TokenResponse } from './grants/index.js';
import type { Params } from './params.js';

export async function issueTokens(context: GrantContext, params: Params, authorization: string | undefined): Promise<TokenResponse> {
  if (!params.grant_type) throw errors.missingParameter('grant_type');
  const grant = GRANTS.get(params.grant_type);
  if (!grant) throw errors.unsupportedGrant(params.grant_type.slice(0, 100));
  const caller = await authenticateClient(
    { directory: context.directory, endpoints: context.endpoints, assertionIds: context.stores.assertionIds },
    params,
    authorization,
  );
  return grant.handle(context, caller, params);
}
