/**
 * The client credentials grant (RFC 6749 §4.4): app tokens as `POST /api/public/m2m` hands them
 * out, from the same cache and under the same fresh-token limit per address; a client id and
 * secret, if the tool sends them, are not looked at.
 */
import type { GeneratorContext } from '../../context.js';
import { responseBody, type TokenOptions } from '../../../core/tokens.js';
import { refuse } from '../../../core/problem.js';
import { single, targetScope } from '../parameters.js';

export async function clientCredentialsGrant(params: Record<string, unknown>, ctx: GeneratorContext, asked: TokenOptions) {
  // A PKCE verifier (an empty field is none) belongs to a code's redemption: a library that finds no code in its redirect
  // (the employee denied, or the request was refused) and sends on the rest, as python3-authlib 1.2 does, would otherwise
  // get an app token for the employee's. Its tool hears that instead.
  if (single(params, 'code_verifier')) {
    throw refuse(
      'invalid_request',
      'client_credentials takes no code_verifier: a code_verifier goes with grant_type=authorization_code and the code from ' +
        'the redirect; without a code there, the redirect carries the error (the employee denied, or the request was refused).',
    );
  }
  const audience = targetScope(single(params, 'scope'));
  const token = await ctx.tokens.appToken(audience, asked);
  return { ...responseBody(token), scope: audience.scope };
}
