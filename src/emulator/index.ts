/**
 * An identity provider that answers like Entra ID v2.0, under Entra's own paths, so that any
 * Entra client (the token generator among them) runs against it offline.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import formbody from '@fastify/formbody';
import cookie from '@fastify/cookie';
import type { Logger } from 'pino';
import { Directory, type ClientRegistration, type TestEmployee } from './directory.js';
import { EntraError, errors } from './errors.js';
import { TokenIssuer, type Params } from './grants.js';
import { SigningKeys } from './keys.js';
import { loginRoutes } from './login.js';
import { loadDirectoryFile } from './manifests.js';
import { tlsMaterial, type TlsOptions } from './tls.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type { ClientRegistration, TestEmployee } from './directory.js';

export interface EmulatorOptions {
  port?: number;
  host?: string;
  /** The base URL clients use; by default http://localhost:<port>. */
  publicUrl?: string;
  tenantId?: string;
  logger?: Logger | false;
  /** Targets (`cluster:namespace:app`) that exist but have authorized nobody. */
  unauthorizedTargets?: string[];
  /** Targets that do not exist in the tenant. */
  missingTargets?: string[];
  accessTokenLifetimeSeconds?: number;
  /** Selectable on the login page; the first is filled in. */
  employees?: TestEmployee[];
  /** A directory file naming NAIS manifests, employees and client credentials (see manifests.ts). */
  directoryFile?: string;
  /** Serve HTTPS, with a certificate made at start or a given one. */
  tls?: TlsOptions;
}

export interface Emulator {
  readonly baseUrl: string;
  readonly tenantId: string;
  readonly issuer: string;
  readonly wellKnownUrl: string;
  readonly tokenEndpoint: string;
  readonly stats: { tokenRequests: number; byGrant: Record<string, number> };
  readonly app: FastifyInstance;
  /** What the directory holds, in a few lines for people. */
  readonly summary: string;
  /** With a certificate made at start: the file holding its authority's certificate. */
  readonly caFile?: string;
  clientIdFor(target: string): string;
  registerClient(registration: ClientRegistration): string;
  close(): Promise<void>;
}

const TARGET = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

function targetList(env: NodeJS.ProcessEnv, name: string): string[] | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const items = raw.split(',').map((item) => item.trim()).filter(Boolean);
  const bad = items.find((item) => !TARGET.test(item));
  if (bad) throw new Error(`${name}: ${JSON.stringify(bad)} is not a cluster:namespace:app target`);
  return items;
}

export function emulatorOptionsFromEnv(env: NodeJS.ProcessEnv): EmulatorOptions {
  const options: EmulatorOptions = {};
  if (env.EMULATOR_PORT?.trim()) {
    const port = Number(env.EMULATOR_PORT);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`EMULATOR_PORT: must be a port number, 0-65535 (got ${JSON.stringify(env.EMULATOR_PORT)})`);
    options.port = port;
  }
  if (env.EMULATOR_HOST?.trim()) options.host = env.EMULATOR_HOST.trim();
  if (env.EMULATOR_PUBLIC_URL?.trim()) {
    const url = env.EMULATOR_PUBLIC_URL.trim().replace(/\/+$/, '');
    if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw new Error('EMULATOR_PUBLIC_URL: must be an http(s) URL');
    options.publicUrl = url;
  }
  if (env.EMULATOR_TENANT_ID?.trim()) {
    const tenant = env.EMULATOR_TENANT_ID.trim();
    if (!/^[A-Za-z0-9.-]{1,100}$/.test(tenant)) throw new Error('EMULATOR_TENANT_ID: must be a tenant id (letters, digits, "-" and ".")');
    options.tenantId = tenant;
  }
  const unauthorized = targetList(env, 'EMULATOR_UNAUTHORIZED_TARGETS');
  if (unauthorized) options.unauthorizedTargets = unauthorized;
  const missing = targetList(env, 'EMULATOR_MISSING_TARGETS');
  if (missing) options.missingTargets = missing;
  if (env.EMULATOR_DIRECTORY?.trim()) options.directoryFile = env.EMULATOR_DIRECTORY.trim();
  const tls = env.EMULATOR_TLS?.trim();
  if (tls === 'self-signed') {
    options.tls = { selfSigned: { caFile: env.EMULATOR_CA_FILE?.trim() || join(tmpdir(), 'entra-emulator-ca.pem') } };
  } else if (tls) {
    throw new Error('EMULATOR_TLS: the only value is "self-signed" (or set EMULATOR_TLS_CERT and EMULATOR_TLS_KEY)');
  } else if (env.EMULATOR_TLS_CERT?.trim() || env.EMULATOR_TLS_KEY?.trim()) {
    if (!env.EMULATOR_TLS_CERT?.trim() || !env.EMULATOR_TLS_KEY?.trim()) throw new Error('EMULATOR_TLS_CERT and EMULATOR_TLS_KEY go together');
    options.tls = { certFile: env.EMULATOR_TLS_CERT.trim(), keyFile: env.EMULATOR_TLS_KEY.trim() };
  }
  if (env.EMULATOR_TOKEN_LIFETIME_SECONDS?.trim()) {
    const seconds = Number(env.EMULATOR_TOKEN_LIFETIME_SECONDS);
    if (!Number.isInteger(seconds) || seconds < 60 || seconds > 86_400) {
      throw new Error('EMULATOR_TOKEN_LIFETIME_SECONDS: must be a whole number of seconds from 60 to 86400');
    }
    options.accessTokenLifetimeSeconds = seconds;
  }
  return options;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const tenantId = options.tenantId ?? randomUUID();
  const keys = await SigningKeys.create();
  const tls = options.tls ? await tlsMaterial(options.tls) : undefined;
  const app = Fastify({
    ...(tls ? { https: { cert: tls.cert, key: tls.key } } : {}),
    ...(options.logger ? { loggerInstance: options.logger as FastifyBaseLogger } : { logger: false }),
    bodyLimit: 64 * 1024,
  });
  await app.register(formbody, { bodyLimit: 64 * 1024 });
  await app.register(cookie);

  const basePath = `/${tenantId}`;
  // Filled in once the port is known; routes and the token issuer read them per request.
  const urls = { baseUrl: '', issuer: '', tokenEndpoint: '' };
  const loaded = options.directoryFile ? await loadDirectoryFile(options.directoryFile) : undefined;
  const directory = new Directory(tenantId, {
    ...options,
    ...(loaded ? { manifests: loaded.apps, ...(loaded.employees.length ? { employees: loaded.employees } : {}) } : {}),
  });
  for (const client of loaded?.clients ?? []) directory.register({ target: client.target, secrets: client.secrets });
  const issuerOfTokens = new TokenIssuer(directory, keys, urls, options.accessTokenLifetimeSeconds ?? 3600);
  const stats = { tokenRequests: 0, byGrant: {} as Record<string, number> };

  const sendError = (reply: FastifyReply, err: EntraError) =>
    reply.code(err.status).header('cache-control', 'no-store').send(err.body(urls.baseUrl));

  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof EntraError) return sendError(reply, error);
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status === 415) return sendError(reply, errors.unsupportedContentType());
    if (status < 500) return sendError(reply, new EntraError(900144, 'invalid_request', 'The request is malformed.', { status }));
    app.log.error({ reason: error instanceof Error ? error.message : 'unknown' }, 'emulator request failed');
    return reply.code(500).send({ error: 'server_error', error_description: 'AADSTS90100: The emulator failed to process the request.', error_codes: [90100] });
  });

  // Routes for a tenant this emulator does not serve answer as Entra does for an unknown tenant.
  app.setNotFoundHandler((request, reply) => {
    const tenant = request.url.split('/')[1] ?? '';
    if (tenant && tenant !== tenantId && !tenant.startsWith('?')) return sendError(reply, errors.tenantNotFound(tenant.slice(0, 100)));
    return reply.code(404).send({ error: 'not_found', error_description: 'There is nothing at this path.' });
  });

  app.get(`${basePath}/v2.0/.well-known/openid-configuration`, async () => {
    const { baseUrl, issuer, tokenEndpoint } = urls;
    return {
    token_endpoint: tokenEndpoint,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${baseUrl}${basePath}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${baseUrl}/oidc/userinfo`,
    authorization_endpoint: `${baseUrl}${basePath}/oauth2/v2.0/authorize`,
    end_session_endpoint: `${baseUrl}${basePath}/oauth2/v2.0/logout`,
    code_challenge_methods_supported: ['plain', 'S256'],
    grant_types_supported: ['authorization_code', 'client_credentials', 'refresh_token', 'urn:ietf:params:oauth:grant-type:jwt-bearer'],
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email', 'oid', 'NAVident', 'groups'],
    tenant_region_scope: 'EU',
    cloud_instance_name: new URL(baseUrl).host,
    };
  });

  app.get(`${basePath}/discovery/v2.0/keys`, async () => keys.jwks(urls.issuer));

  app.post(`${basePath}/oauth2/v2.0/token`, async (request, reply) => {
    stats.tokenRequests++;
    const body = request.body;
    const params: Params = {};
    if (body && typeof body === 'object') {
      for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
        // A parameter sent twice is malformed; Entra refuses it.
        if (Array.isArray(value)) throw new EntraError(900144, 'invalid_request', `The parameter '${key.slice(0, 50)}' was sent more than once.`);
        if (typeof value === 'string') params[key] = value;
      }
    } else if (body !== undefined && body !== null && body !== '') {
      throw errors.unsupportedContentType();
    }
    const grant = params.grant_type ?? 'none';
    stats.byGrant[grant] = (stats.byGrant[grant] ?? 0) + 1;
    const result = await issuerOfTokens.token(params, request.headers.authorization);
    return reply.header('cache-control', 'no-store').send(result);
  });

  await loginRoutes(app, { directory, issuer: issuerOfTokens, basePath });

  await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  const baseUrl = (options.publicUrl ?? `${tls ? 'https' : 'http'}://localhost:${port}`).replace(/\/+$/, '');
  const issuer = `${baseUrl}${basePath}/v2.0`;
  const tokenEndpoint = `${baseUrl}${basePath}/oauth2/v2.0/token`;
  Object.assign(urls, { baseUrl, issuer, tokenEndpoint });

  const summary = describeDirectory(directory);
  return {
    baseUrl,
    tenantId,
    summary,
    ...(tls?.caFile ? { caFile: tls.caFile } : {}),
    issuer,
    wellKnownUrl: `${issuer}/.well-known/openid-configuration`,
    tokenEndpoint,
    stats,
    app,
    clientIdFor: (target) => directory.clientIdFor(target),
    registerClient: (registration) => directory.register(registration),
    close: () => app.close(),
  };
}

function describeDirectory(directory: Directory): string {
  const lines: string[] = [];
  if (!directory.manifests) {
    lines.push('directory: open (every cluster:namespace:app exists and has authorized every registered client)');
  } else {
    const apps = [...directory.manifests.values()];
    lines.push(`directory: from NAIS manifests, ${apps.length} app${apps.length === 1 ? '' : 's'}`);
    for (const app of apps) {
      const users = app.allowAllUsers ? 'all users' : app.groups.length ? `groups ${app.groups.join(', ')}` : 'no users';
      const rules = app.rules.map((rule) => `${rule.cluster}:${rule.namespace}:${rule.application}`).join(', ') || 'none';
      lines.push(`  ${app.target}${app.enabled ? '' : ' (Entra ID not enabled)'}: inbound ${rules}; ${users}`);
    }
  }
  lines.push(`employees: ${directory.employees.map((e) => `${e.navIdent} (${e.name}${e.groups.length ? `; ${e.groups.join(', ')}` : ''})`).join(', ')}`);
  return lines.join('\n');
}
