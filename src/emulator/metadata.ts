/** The emulator's discovery document, its signing keys and userinfo, at Entra ID's paths. */
import type { FastifyInstance } from 'fastify';
import { JWT_BEARER } from './grants/index.js';
import type { Claims } from './claims.js';
import type { KeyRing } from './key-ring.js';
import { GRAPH_APP_ID, GRAPH_URL } from './scopes.js';

export interface MetadataOptions {
  keys: KeyRing;
  claims: Claims;
  basePath: string;
  /** Known once the server listens. */
  urls: { baseUrl: string; issuer: string; tokenEndpoint: string };
}

function discoveryDocument({ basePath, urls }: MetadataOptions) {
  const { baseUrl, issuer, tokenEndpoint } = urls;
  return {
    token_endpoint: tokenEndpoint,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${baseUrl}${basePath}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${baseUrl}/oidc/userinfo`,
    authorization_endpoint: `${baseUrl}${basePath}/oauth2/v2.0/authorize`,
    end_session_endpoint: `${baseUrl}${basePath}/oauth2/v2.0/logout`,
    code_challenge_methods_supported: ['S256', 'plain'],
    grant_types_supported: ['authorization_code', 'client_credentials', 'refresh_token', JWT_BEARER],
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    claims_supported: [
      'sub',
      'iss',
      'aud',
      'exp',
      'iat',
      'nbf',
      'nonce',
      'preferred_username',
      'name',
      'tid',
      'ver',
      'oid',
      'NAVident',
      'groups',
      'azp',
      'azpacr',
      'scp',
      'roles',
      'idtyp',
      'sid',
    ],
    tenant_region_scope: 'EU',
    cloud_instance_name: new URL(baseUrl).host,
  };
}

export function metadataRoutes(app: FastifyInstance, options: MetadataOptions): void {
  const { keys, basePath, urls } = options;
  app.get(`${basePath}/v2.0/.well-known/openid-configuration`, async (_request, reply) => {
    reply.header('cache-control', 'max-age=86400, private');
    return discoveryDocument(options);
  });

  app.get(`${basePath}/discovery/v2.0/keys`, async () => keys.jwks(urls.issuer));

  // Entra's userinfo is Microsoft Graph's; the emulator answers it for its own Graph tokens.
  app.route({
    method: ['GET', 'POST'],
    url: '/oidc/userinfo',
    handler: async (request, reply) => {
      const header = request.headers.authorization ?? '';
      const token = /^bearer /i.test(header) ? header.slice(7).trim() : '';
      try {
        const { payload } = await keys.verify(token, { issuer: urls.issuer, audience: [GRAPH_APP_ID, GRAPH_URL] });
        return options.claims.userInfo(payload);
      } catch {
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer error="invalid_token"')
          .send({ error: { code: 'InvalidAuthenticationToken', message: 'Access token is missing or invalid.' } });
      }
    },
  });
}
