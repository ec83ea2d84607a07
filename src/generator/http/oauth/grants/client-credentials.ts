/**
 * The client credentials grant (RFC 6749 §4.4): app tokens as `POST /api/public/m2m` hands them
 * out, from the same cache and under the same fresh-token limit per address; a client id and
 * secret, if the tool sends them, are not looked at.
 */
import type { GeneratorContext } from '../../context.js';
import { responseBody, type TokenOptions } from '../../../core/tokens.js';
import { single, targetScope } from '../parameters.js';

export async function clientCredentialsGrant(params: Record<string, unknown>, ctx: GeneratorContext, asked: TokenOptions) {
  const audience = targetScope(single(params, 'scope'));
  const token = await ctx.tokens.appToken(audience, asked);
  return { ...responseBody(token), scope: audience.scope };
}
