/**
 * The authorization code grant with PKCE (RFC 6749 §4.1, RFC 7636): the parameters read, the code
 * redeemed by the core's rules (`core/oauth/codes.ts`), the tool's first token and refresh token.
 */
import type { AuthorizationCodes } from '../../../core/oauth/codes.js';
import { refuse } from '../../../core/problem.js';
import type { TokenOptions } from '../../../core/tokens.js';
import type { Waiting } from '../../../core/oauth/waiting.js';
import type { EmployeeTokens } from '../employee-tokens.js';
import { sentClientId, single, targetScope } from '../parameters.js';

export async function authorizationCodeGrant(
  params: Record<string, unknown>,
  deps: { codes: AuthorizationCodes; tokens: EmployeeTokens },
  asked: TokenOptions,
  waiting: Waiting,
) {
  const code = single(params, 'code');
  if (!code) throw refuse('invalid_request', 'Send the code from the authorization response.');
  return deps.codes.redeem(
    {
      code,
      verifier: single(params, 'code_verifier'),
      redirectUri: single(params, 'redirect_uri'),
      client: sentClientId(params),
      waiting,
    },
    (redeemed) => deps.tokens.response(redeemed.session, targetScope(redeemed.target), redeemed.refreshToken, asked),
  );
}
