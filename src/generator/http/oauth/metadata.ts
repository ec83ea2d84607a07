/**
 * The generator as an OAuth 2.0 authorization server: its endpoints, and the metadata document
 * (RFC 8414) from which tools and libraries configure themselves.
 */
import type { FastifyInstance } from 'fastify';
import { PATHS } from '../../../paths.js';
import { METADATA_SCHEMA } from './schemas.js';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export function authorizationServerMetadata(issuer: string) {
  return {
    issuer,
    authorization_endpoint: `${issuer}${PATHS.authorize}`,
    token_endpoint: `${issuer}${PATHS.token}`,
    device_authorization_endpoint: `${issuer}${PATHS.deviceAuthorization}`,
    revocation_endpoint: `${issuer}${PATHS.revoke}`,
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials', DEVICE_CODE_GRANT],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    code_challenge_methods_supported: ['S256'],
    // A public service, as /api/public/m2m is: a client id and secret, if a tool sends them, are ignored.
    token_endpoint_auth_methods_supported: ['none'],
    revocation_endpoint_auth_methods_supported: ['none'],
    authorization_response_iss_parameter_supported: true,
    service_documentation: `${issuer}/`,
  };
}

export async function metadataRoute(app: FastifyInstance, issuer: string): Promise<void> {
  const document = authorizationServerMetadata(issuer);
  app.get(PATHS.authorizationServerMetadata, { schema: METADATA_SCHEMA }, async (_request, reply) =>
    reply.header('cache-control', 'public, max-age=3600').send(document),
  );
}
