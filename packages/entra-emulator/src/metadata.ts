/** The emulator's discovery document, its signing keys and userinfo, at Entra ID's paths. */
import type { FastifyInstance } from 'fastify';
import { openToEveryOrigin } from './cors.js';
import { errors } from './errors.js';
import { DEVICE_CODE_GRANT, JWT_BEARER } from './grants/index.js';
import { RESPONSE_TYPES_V2 } from './login/authorize-request.js';
import type { TenantName } from './tenants.js';
import type { Claims } from './claims.js';
import type { KeyRing } from './key-ring.js';
import { GRAPH_APP_ID, GRAPH_URL } from './graph.js';

export interface MetadataOptions {
  keys: KeyRing;
  claims: Claims;
  basePath: string;
  named: (name: string) => TenantName;
  /** Known once the server listens. */
  urls: { baseUrl: string; issuer: string; tokenEndpoint: string };
}

/** Where a discovery document is read: the tenant's own, or a multi-tenant name whose issuer holds `{tenantid}`. */
interface Where {
  baseUrl: string;
  /** The path's tenant: the tenant id (for one of its domains too, as Entra names it), `common` or `organizations`. */
  pathTenant: string;
  /** The issuer's tenant: the tenant id, or `{tenantid}` for a multi-tenant name. */
  issuerTenant: string;
}

const CLAIMS_SUPPORTED = [
  'sub',
  'iss',
  'aud',
  'exp',
  'iat',
  'nbf',
  'nonce',
  'preferred_username',
  'name',
  'email',
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
];

/** Entra's v2.0 document. Of its response types only `code` is honoured, as for an app that has not enabled the implicit grant. */
function discoveryV2({ baseUrl, pathTenant, issuerTenant }: Where) {
  const endpoint = `${baseUrl}/${pathTenant}/oauth2/v2.0`;
  return {
    token_endpoint: `${endpoint}/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${baseUrl}/${pathTenant}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: [...RESPONSE_TYPES_V2],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${baseUrl}/${issuerTenant}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${baseUrl}/oidc/userinfo`,
    authorization_endpoint: `${endpoint}/authorize`,
    device_authorization_endpoint: `${endpoint}/devicecode`,
    end_session_endpoint: `${endpoint}/logout`,
    code_challenge_methods_supported: ['S256', 'plain'],
    grant_types_supported: ['authorization_code', 'client_credentials', 'refresh_token', JWT_BEARER, DEVICE_CODE_GRANT],
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    claims_supported: CLAIMS_SUPPORTED,
    tenant_region_scope: 'EU',
    cloud_instance_name: new URL(baseUrl).host,
  };
}

/**
 * Entra's v1 document, which older middleware reads for the keys and issuer. Its issuer is the
 * emulator's analogue of `https://sts.windows.net/{tenant}/`; the v1 endpoints it names are listed as
 * Entra lists them, and the emulator serves only the v2.0 ones.
 */
function discoveryV1({ baseUrl, pathTenant, issuerTenant }: Where) {
  const endpoint = `${baseUrl}/${pathTenant}/oauth2`;
  return {
    token_endpoint: `${endpoint}/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${baseUrl}/${pathTenant}/discovery/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${endpoint}/logout`,
    response_types_supported: ['code', 'id_token', 'code id_token', 'token id_token', 'token'],
    scopes_supported: ['openid'],
    issuer: `${baseUrl}/${issuerTenant}/`,
    claims_supported: CLAIMS_SUPPORTED,
    microsoft_multi_refresh_token: true,
    check_session_iframe: `${endpoint}/checksession`,
    userinfo_endpoint: `${endpoint}/userinfo`,
    authorization_endpoint: `${endpoint}/authorize`,
    device_authorization_endpoint: `${endpoint}/devicecode`,
    tenant_region_scope: 'EU',
    cloud_instance_name: new URL(baseUrl).host,
  };
}

export function metadataRoutes(app: FastifyInstance, options: MetadataOptions): void {
  const { keys, basePath, urls } = options;
  const tenantId = basePath.slice(1);
  const documents = [
    { version: 'v2.0/', document: discoveryV2 },
    { version: '', document: discoveryV1 },
  ];
  // One route per version for the tenant, its domains and the multi-tenant names alike; another tenant is Entra's unknown tenant.
  for (const { version, document } of documents) {
    app.get<{ Params: { tenant: string } }>(`/:tenant/${version}.well-known/openid-configuration`, async (request, reply) => {
      const pathTenant = request.params.tenant;
      const named = options.named(pathTenant);
      if (!named) throw errors.tenantNotFound(pathTenant.slice(0, 100));
      openToEveryOrigin(reply).header('cache-control', 'max-age=86400, private');
      const multi = named === 'multi';
      return document({ baseUrl: urls.baseUrl, pathTenant: multi ? pathTenant : tenantId, issuerTenant: multi ? '{tenantid}' : tenantId });
    });
  }
  // The v2.0 keys and v1's; `common`'s and `organizations'` are the tenant's, reached through the multi-tenant rewrite.
  for (const path of [`${basePath}/discovery/v2.0/keys`, `${basePath}/discovery/keys`]) {
    app.get(path, async (_request, reply) => {
      openToEveryOrigin(reply);
      return keys.jwks(urls.issuer);
    });
  }

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
