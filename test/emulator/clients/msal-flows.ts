/**
 * @azure/msal-node's authorization code flow as a server-side web app does it, without PKCE, and
 * on-behalf-of with an app token (which Entra refuses), against the emulator over HTTPS. Prints
 * what came back as JSON.
 */
import { ConfidentialClientApplication } from '@azure/msal-node';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { env, signIn } from './shared.js';

const baseUrl = env('EMULATOR_BASE_URL');
const authority = `${baseUrl}/${env('EMULATOR_TENANT')}`;
const clientId = env('CLIENT_ID');
const redirectUri = env('REDIRECT_URI');
const app = new ConfidentialClientApplication({
  auth: { clientId, authority, knownAuthorities: [new URL(baseUrl).host], clientSecret: env('CLIENT_SECRET') },
  system: { loggerOptions: { loggerCallback: () => undefined, piiLoggingEnabled: false } },
});
const jwks = createRemoteJWKSet(new URL(`${authority}/discovery/v2.0/keys`));
const claims = async (token: string) => (await jwtVerify(token, jwks, { issuer: `${authority}/v2.0` })).payload;

const scopes = [`api://${clientId}/.default`];
const url = await app.getAuthCodeUrl({ scopes, redirectUri, state: 'msal-flows' });
const code = await signIn(url, { navIdent: 'Z990078', name: 'Uten Pkce', email: 'uten.pkce@trygdeetaten.no', groups: '' });
const login = await app.acquireTokenByCode({ code, scopes, redirectUri });

const appToken = await app.acquireTokenByClientCredential({ scopes });
let oboError: Record<string, unknown> = {};
try {
  await app.acquireTokenOnBehalfOf({ oboAssertion: appToken!.accessToken, scopes: [env('SCOPE')] });
} catch (err) {
  const { errorCode, errorMessage } = err as { errorCode: string; errorMessage: string };
  oboError = { errorCode, errorMessage };
}

process.stdout.write(
  JSON.stringify({
    authorizeUrl: url,
    accessToken: await claims(login.accessToken),
    idToken: login.idTokenClaims,
    account: { homeAccountId: login.account?.homeAccountId, username: login.account?.username },
    oboError,
  }),
);
