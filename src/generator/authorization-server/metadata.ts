/**
 * The generator as an OAuth 2.0 authorization server: its endpoints, and the metadata document
 * (RFC 8414) from which tools and libraries configure themselves.
 */
import type { FastifyInstance } from 'fastify';

export const METADATA_PATH = '/.well-known/oauth-authorization-server';
export const AUTHORIZE_PATH = '/oauth2/authorize';
export const TOKEN_PATH = '/oauth2/token';
export const DEVICE_AUTHORIZATION_PATH = '/oauth2/device_authorization';
/** Where a person enters or confirms a device's user code. */
export const DEVICE_VERIFICATION_PATH = '/oauth2/device';
export const REVOCATION_PATH = '/oauth2/revoke';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export function authorizationServerMetadata(issuer: string) {
  return {
    issuer,
    authorization_endpoint: `${issuer}${AUTHORIZE_PATH}`,
    token_endpoint: `${issuer}${TOKEN_PATH}`,
    device_authorization_endpoint: `${issuer}${DEVICE_AUTHORIZATION_PATH}`,
    revocation_endpoint: `${issuer}${REVOCATION_PATH}`,
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
  app.get(METADATA_PATH, async (_request, reply) => reply.header('cache-control', 'public, max-age=3600').send(document));
}
