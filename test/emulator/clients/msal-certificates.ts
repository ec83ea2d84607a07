/**
 * @azure/msal-node's certificate credentials against the emulator over HTTPS, as its own process
 * with NODE_EXTRA_CA_CERTS: a SHA-256 thumbprint (PS256), the same with the certificate in x5c, and
 * a SHA-1 thumbprint (RS256). Each asks for two resources, so that MSAL sends its assertion twice.
 * Prints the header of each assertion sent and the verified claims of each token, as JSON.
 */
import { ConfidentialClientApplication, type Configuration } from '@azure/msal-node';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { env } from './shared.js';

const baseUrl = env('EMULATOR_BASE_URL');
const authority = `${baseUrl}/${env('EMULATOR_TENANT')}`;
const clientId = env('CLIENT_ID');
const privateKey = env('CLIENT_KEY_PEM');
const certificate = env('CLIENT_CERTIFICATE_PEM');
const scopes = env('SCOPES').split(',');

// What MSAL sends, to show the header it signs: a fetch that notes each assertion on its way.
const headers: Record<string, unknown>[] = [];
const sentFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const body = init?.body;
  if (typeof body === 'string' && body.includes('client_assertion=')) {
    headers.push(decodeProtectedHeader(new URLSearchParams(body).get('client_assertion')!) as Record<string, unknown>);
  }
  return sentFetch(input, init);
};

const configurations: Record<string, NonNullable<Configuration['auth']['clientCertificate']>> = {
  sha256: { thumbprintSha256: env('CLIENT_SHA256'), privateKey },
  x5c: { thumbprintSha256: env('CLIENT_SHA256'), privateKey, x5c: certificate },
  sha1: { thumbprint: env('CLIENT_SHA1'), privateKey },
};

const jwks = createRemoteJWKSet(new URL(`${authority}/discovery/v2.0/keys`));
const result: Record<string, { headers: Record<string, unknown>[]; tokens: Record<string, unknown>[] }> = {};
for (const [name, clientCertificate] of Object.entries(configurations)) {
  const app = new ConfidentialClientApplication({
    auth: { clientId, authority, knownAuthorities: [new URL(baseUrl).host], clientCertificate },
    system: { loggerOptions: { loggerCallback: () => undefined, piiLoggingEnabled: false } },
  });
  headers.length = 0;
  const tokens = [];
  for (const scope of scopes) {
    const answer = await app.acquireTokenByClientCredential({ scopes: [scope] });
    tokens.push((await jwtVerify(answer?.accessToken ?? '', jwks, { issuer: `${authority}/v2.0` })).payload);
  }
  result[name] = { headers: [...headers], tokens };
}
process.stdout.write(JSON.stringify(result));
