/**
 * @azure/identity's credentials against the emulator over HTTPS, as their own process with
 * NODE_EXTRA_CA_CERTS, configured as the README tells (authorityHost, disableInstanceDiscovery).
 * FLOW picks the credentials: client-credentials (ClientSecretCredential, ClientCertificateCredential
 * with and without the certificate chain), on-behalf-of (OnBehalfOfCredential with a certificate) or
 * authorization-code (AuthorizationCodeCredential with a code from a login). Prints each token and
 * the header of each client assertion sent, as JSON; the test verifies the tokens.
 */
import {
  AuthorizationCodeCredential,
  ClientCertificateCredential,
  ClientSecretCredential,
  OnBehalfOfCredential,
  type TokenCredentialOptions,
} from '@azure/identity';
import { decodeProtectedHeader } from 'jose';
import { env } from './shared.js';

const tenantId = env('EMULATOR_TENANT');
const clientId = env('CLIENT_ID');
const scope = env('SCOPE');

// The header of each client assertion, read from the token requests on their way out.
const headers: Record<string, unknown>[] = [];
const options: TokenCredentialOptions & { disableInstanceDiscovery: boolean } = {
  authorityHost: env('EMULATOR_BASE_URL'),
  disableInstanceDiscovery: true,
  additionalPolicies: [
    {
      position: 'perCall',
      policy: {
        name: 'note-client-assertions',
        sendRequest: (request, next) => {
          const assertion = typeof request.body === 'string' ? new URLSearchParams(request.body).get('client_assertion') : null;
          if (assertion) headers.push(decodeProtectedHeader(assertion) as Record<string, unknown>);
          return next(request);
        },
      },
    },
  ],
};

async function run(credential: { getToken(scope: string): Promise<{ token: string } | null> }) {
  headers.length = 0;
  const token = (await credential.getToken(scope))?.token;
  if (!token) throw new Error('no token');
  return { token, headers: [...headers] };
}

const flows: Record<string, () => Promise<Record<string, unknown>>> = {
  'client-credentials': async () => ({
    secret: await run(new ClientSecretCredential(tenantId, clientId, env('CLIENT_SECRET'), options)),
    certificate: await run(new ClientCertificateCredential(tenantId, clientId, env('CERTIFICATE_PATH'), options)),
    chain: await run(
      new ClientCertificateCredential(
        tenantId,
        clientId,
        { certificatePath: env('CERTIFICATE_PATH') },
        { ...options, sendCertificateChain: true },
      ),
    ),
  }),
  'on-behalf-of': async () => ({
    obo: await run(
      new OnBehalfOfCredential({
        tenantId,
        clientId,
        certificatePath: env('CERTIFICATE_PATH'),
        userAssertionToken: env('USER_TOKEN'),
        ...options,
      }),
    ),
  }),
  'authorization-code': async () => ({
    code: await run(new AuthorizationCodeCredential(tenantId, clientId, env('CLIENT_SECRET'), env('CODE'), env('REDIRECT_URI'), options)),
  }),
};

process.stdout.write(JSON.stringify(await flows[env('FLOW')]!()));
