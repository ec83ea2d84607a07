/**
 * @azure/msal-node's web app sign-in that names the API at the code's redemption: getAuthCodeUrl with the OpenID scopes
 * alone, acquireTokenByCode with the API's scope (Entra's `scope` at redemption picks the resource the access token is
 * for), with PKCE and state. Prints the access token's claims and the scopes MSAL cached it for. With CONSENT (scopes of other
 * resources, comma-separated), the sign-in asks for the API and extraScopesToConsent of those instead, and the claims of the
 * token acquireTokenSilent then gets for them are printed too.
 */
import { ConfidentialClientApplication, CryptoProvider } from '@azure/msal-node';
import { decodeJwt } from 'jose';
import { env, signIn } from './shared.js';

const baseUrl = env('EMULATOR_BASE_URL');
const clientId = env('CLIENT_ID');
const redirectUri = env('REDIRECT_URI');
const app = new ConfidentialClientApplication({
  auth: {
    clientId,
    authority: `${baseUrl}/${env('EMULATOR_TENANT')}`,
    knownAuthorities: [new URL(baseUrl).host],
    clientSecret: env('CLIENT_SECRET'),
  },
  system: { loggerOptions: { loggerCallback: () => undefined, piiLoggingEnabled: false } },
});

const { verifier, challenge } = await new CryptoProvider().generatePkceCodes();
const state = 'msal-code-scope';
const consent = process.env.CONSENT?.split(',');
const url = await app.getAuthCodeUrl({
  ...(consent ? { scopes: [env('SCOPE')], extraScopesToConsent: consent } : { scopes: ['openid', 'profile'] }),
  redirectUri,
  state,
  codeChallenge: challenge,
  codeChallengeMethod: 'S256',
});
const code = await signIn(url, { navIdent: 'Z990302', name: 'Scope Kode', email: 'scope.kode@trygdeetaten.no', groups: '' });
const result = await app.acquireTokenByCode({ code, scopes: [env('SCOPE')], redirectUri, codeVerifier: verifier, state }, { code, state });
const consented = consent && (await app.acquireTokenSilent({ scopes: consent, account: result.account! })).accessToken;
process.stdout.write(
  JSON.stringify({
    accessToken: decodeJwt(result.accessToken),
    scopes: result.scopes,
    ...(consented ? { consented: decodeJwt(consented) } : {}),
  }),
);
