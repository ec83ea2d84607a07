/**
 * Microsoft's own client library against the emulator over HTTPS, run as its own process with
 * NODE_EXTRA_CA_CERTS, as a developer would. Prints the verified claims of each token as JSON.
 */
import { createHash, randomUUID } from 'node:crypto';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { createRemoteJWKSet, importJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import { env, signIn } from './shared.js';

const baseUrl = env('EMULATOR_BASE_URL');
const tenant = env('EMULATOR_TENANT');
const clientId = env('CLIENT_ID');
const secret = env('CLIENT_SECRET');
const privateJwk = JSON.parse(env('CLIENT_PRIVATE_JWK')) as JWK;
const redirectUri = env('REDIRECT_URI');
const scope = env('SCOPE');
const authority = `${baseUrl}/${tenant}`;
const knownAuthorities = [new URL(baseUrl).host];
const silent = { loggerOptions: { loggerCallback: () => undefined, piiLoggingEnabled: false } };

const withSecret = new ConfidentialClientApplication({
  auth: { clientId, authority, knownAuthorities, clientSecret: secret },
  system: silent,
});
const key = await importJWK(privateJwk, 'RS256');
const withAssertion = new ConfidentialClientApplication({
  auth: {
    clientId,
    authority,
    knownAuthorities,
    clientAssertion: async (config: { clientId: string; tokenEndpoint?: string }) =>
      new SignJWT({ jti: randomUUID() })
        .setProtectedHeader({ alg: 'RS256', kid: privateJwk.kid! })
        .setIssuer(config.clientId)
        .setSubject(config.clientId)
        .setAudience(config.tokenEndpoint ?? `${authority}/oauth2/v2.0/token`)
        .setIssuedAt()
        .setNotBefore(Math.floor(Date.now() / 1000))
        .setExpirationTime('1m')
        .sign(key),
  },
  system: silent,
});

const jwks = createRemoteJWKSet(new URL(`${authority}/discovery/v2.0/keys`));
const claims = async (token: string | undefined) => (await jwtVerify(token ?? '', jwks, { issuer: `${authority}/v2.0` })).payload;

const ccSecret = await withSecret.acquireTokenByClientCredential({ scopes: [scope] });
const ccAssertion = await withAssertion.acquireTokenByClientCredential({ scopes: [scope], skipCache: true });

// A user token whose audience is this client, from a login on the emulator's page.
const verifier = randomUUID() + randomUUID();
const params = {
  client_id: clientId,
  redirect_uri: redirectUri,
  response_type: 'code',
  scope: `openid profile offline_access api://${clientId}/.default`,
  state: 'msal-test-state',
  code_challenge: createHash('sha256').update(verifier).digest('base64url'),
  code_challenge_method: 'S256',
};
const code = await signIn(`${authority}/oauth2/v2.0/authorize?${new URLSearchParams(params).toString()}`, {
  navIdent: 'Z990077',
  name: 'Msal Testesen',
  email: 'msal@trygdeetaten.no',
  groups: '',
});
const login = (await (
  await fetch(`${authority}/oauth2/v2.0/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
      client_id: clientId,
      client_secret: secret,
    }),
  })
).json()) as { access_token: string };

const obo = await withSecret.acquireTokenOnBehalfOf({ oboAssertion: login.access_token, scopes: [scope] });

process.stdout.write(
  JSON.stringify({
    ccSecret: await claims(ccSecret?.accessToken),
    ccAssertion: await claims(ccAssertion?.accessToken),
    obo: await claims(obo?.accessToken),
  }),
);
