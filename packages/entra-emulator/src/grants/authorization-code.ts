/**
 * The authorization code: a code from the sign-in page, once, with its PKCE verifier if it had a challenge, for the client and redirect
 * URI it was issued to.
 */
import { createHash } from 'node:crypto';
import { safeEqual } from '../directory.js';
import { errors } from '../errors.js';
import { randomToken } from '../random.js';
import type { Stores } from '../stores.js';
import type { AuthorizationCode } from '../model.js';
import type { Grant } from './grant.js';
import { OIDC_SCOPES, scopeItems } from '../scopes.js';
import { signInTokens, SPA_REFRESH_LIFETIME_MS } from './sign-in-tokens.js';

/** Entra's codes are valid for five minutes; the store keeps them longer, so that a late one is told it expired. */
const CODE_LIFETIME_MS = 5 * 60_000;

export function issueCode(stores: Stores, code: Omit<AuthorizationCode, 'redeemed' | 'expiresAt'>): string {
  const value = randomToken();
  const lifetime = Math.min(CODE_LIFETIME_MS, stores.codes.limits.lifetimeMs);
  stores.codes.set(value, { ...code, expiresAt: Date.now() + lifetime, redeemed: false });
  return value;
}

/** The PKCE verifier against the code's challenge; a verifier for a code issued without a challenge is refused too, as a downgrade. */
function checkVerifier(code: AuthorizationCode, verifier: string | undefined): void {
  if (code.codeChallenge === undefined) {
    if (verifier !== undefined) throw errors.pkceMismatch();
    return;
  }
  const expected =
    code.codeChallengeMethod === 'plain'
      ? (verifier ?? '')
      : createHash('sha256')
          .update(verifier ?? '')
          .digest('base64url');
  if (!safeEqual(expected, code.codeChallenge)) throw errors.pkceMismatch();
}

/**
 * The scopes a code's tokens are for. Entra takes a `scope` sent with the code (its extension to the flow, which MSAL always
 * sends) as the token request's: its resource is the one the access token is for, whichever resources the sign-in named for
 * consent (MSAL's `extraScopesToConsent`), and OpenID scopes alone ask for Microsoft Graph's; a `scope` of two resources is
 * refused (AADSTS28000). The OpenID scopes are the sign-in's, as the employee consented to them there: an ID token with
 * openid, a refresh token with offline_access, named at the sign-in. Without a `scope`, the sign-in's
 * scopes.
 */
function redeemedScopes(signedIn: string[], scope: string | undefined): string[] {
  if (!scope?.trim()) return signedIn;
  const consented = signedIn.filter((item) => OIDC_SCOPES.has(item));
  return [...new Set([...consented, ...scopeItems(scope).filter((item) => !OIDC_SCOPES.has(item))])];
}

export const authorizationCode: Grant = {
  type: 'authorization_code',
  publicClients: true,
  async handle(context, caller, params, request) {
    if (!params.code) throw errors.missingParameter('code');
    if (!params.redirect_uri) throw errors.missingParameter('redirect_uri');
    const code = context.stores.codes.get(params.code);
    if (!code) throw errors.codeInvalid();
    if (code.redeemed) throw errors.codeRedeemed();
    if (code.expiresAt <= Date.now()) throw errors.codeExpired();
    if (code.clientId !== caller.client.clientId) throw errors.codeClientMismatch();
    // A code sent to a web app's redirect is redeemed by the app's server, with its credential.
    if (caller.acr === '0' && code.redirectType === 'web') throw errors.noCredential();
    if (code.redirectType === 'spa' && !request?.crossOrigin) throw errors.spaNotCrossOrigin();
    if (code.redirectUri !== params.redirect_uri) throw errors.redirectMismatch();
    if (code.codeChallenge !== undefined && !params.code_verifier) throw errors.missingParameter('code_verifier');
    // A failed attempt uses the code up too, as a stolen code should not be tried twice.
    code.redeemed = true;
    checkVerifier(code, params.code_verifier);
    const { employee, nonce, authTime, sessionId, redirectType } = code;
    const signIn = {
      scopes: redeemedScopes(code.scopes, params.scope),
      employee,
      sessionId,
      ...(nonce !== undefined ? { nonce } : {}),
      ...(authTime !== undefined ? { authTime } : {}),
      publicClient: redirectType !== 'web',
    };
    return signInTokens(
      context,
      caller,
      redirectType === 'spa' ? { ...signIn, spaUntil: Date.now() + SPA_REFRESH_LIFETIME_MS } : signIn,
      params,
    );
  },
};
