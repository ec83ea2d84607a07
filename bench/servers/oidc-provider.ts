/**
 * panva's oidc-provider (a certified OpenID provider) issuing client-credentials tokens as the
 * emulator does: the client authenticates with a private_key_jwt assertion (signature, audience,
 * lifetime and an unused jti checked), and gets an RS256 JWT access token signed with a 2048-bit key.
 * The client's public key comes from BENCH_CLIENT_JWK, its id from BENCH_CLIENT_ID.
 */
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const clientJwk = JSON.parse(process.env.BENCH_CLIENT_JWK ?? '{}') as Record<string, string>;
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-signing', use: 'sig', alg: 'RS256' };
const resource = 'api://bench';

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [
    {
      client_id: process.env.BENCH_CLIENT_ID ?? 'bench',
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'RS256',
      jwks: { keys: [clientJwk] },
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    },
  ],
  jwks: { keys: [signingKey as never] },
  scopes: ['api'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({ scope: 'api', accessTokenFormat: 'jwt', accessTokenTTL: 3600, jwt: { sign: { alg: 'RS256' } } }),
    },
  },
});
provider.listen(port, '127.0.0.1');
