/**
 * An identity provider that answers like Entra ID v2.0, under Entra's own paths, so that any
 * Entra client (the token generator among them) runs against it offline.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import formbody from '@fastify/formbody';
import cookie from '@fastify/cookie';
import type { Logger } from 'pino';
import { Directory, type ClientRegistration, type TestEmployee } from './directory.js';
import { EntraError, errors } from './errors.js';
import { JWT_BEARER, TokenIssuer } from './grants.js';
import { singleValued } from './params.js';
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
  /** The test employees, and the apps of a directory file (none: every target exists). */
  readonly listing: { employees: readonly TestEmployee[]; apps?: string[] };
  /** With a certificate made at start: the file holding its authority's certificate. */
  readonly caFile?: string;
  clientIdFor(target: string): string;
  registerClient(registration: ClientRegistration): string;
  /** A target that gives `caller` tokens as printed examples should use, with an employee who may use it. */
  exampleFor(caller: string, preferred: string): { target: string; employee?: TestEmployee } | undefined;
  close(): Promise<void>;
}

const BODY_LIMIT = 64 * 1024;
const TENANT = /^[A-Za-z0-9.-]{1,100}$/;
const KNOWN_GRANTS = new Set(['client_credentials', 'authorization_code', 'refresh_token', JWT_BEARER, 'none']);
const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
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
    if (!/^\d+$/.test(env.EMULATOR_PORT.trim()) || port > 65535) throw new Error(`EMULATOR_PORT: must be a port number, 0-65535 (got ${JSON.stringify(env.EMULATOR_PORT)})`);
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
    if (!TENANT.test(tenant)) throw new Error('EMULATOR_TENANT_ID: must be a tenant id (letters, digits, "-" and ".")');
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
    if (!/^\d+$/.test(env.EMULATOR_TOKEN_LIFETIME_SECONDS.trim()) || seconds < 1 || seconds > 86_400) {
      throw new Error(`EMULATOR_TOKEN_LIFETIME_SECONDS: must be a whole number of seconds from 1 to 86400 (got ${JSON.stringify(env.EMULATOR_TOKEN_LIFETIME_SECONDS)})`);
    }
    options.accessTokenLifetimeSeconds = seconds;
  }
  return options;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const tenantId = options.tenantId ?? randomUUID();
  if (!TENANT.test(tenantId)) throw new Error(`tenantId: ${JSON.stringify(tenantId)} is not a tenant id (letters, digits, "-" and ".")`);
  const lifetime = options.accessTokenLifetimeSeconds ?? 3600;
  if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > 86_400) throw new Error('accessTokenLifetimeSeconds: must be a whole number of seconds from 1 to 86400');
  const keys = await SigningKeys.create();
  const tls = options.tls ? await tlsMaterial(options.tls) : undefined;
  const app = Fastify({
    ...(tls ? { https: { cert: tls.cert, key: tls.key } } : {}),
    ...(options.logger ? { loggerInstance: options.logger as FastifyBaseLogger } : { logger: false }),
    logController: new PathOnlyRequestLog(),
    bodyLimit: BODY_LIMIT,
  });
  // Form-encoded bodies only, as Entra's endpoints take: JSON and the rest answer 415 -> AADSTS900144.
  app.removeAllContentTypeParsers();
  await app.register(formbody, { bodyLimit: BODY_LIMIT });

  const basePath = `/${tenantId}`;
  const tokenPath = `${basePath}/oauth2/v2.0/token`;
  // Filled in once the port is known; routes and the token issuer read them per request.
  const urls = { baseUrl: '', issuer: '', tokenEndpoint: '' };
  const loaded = options.directoryFile ? await loadDirectoryFile(options.directoryFile) : undefined;
  const directory = new Directory(tenantId, {
    ...options,
    ...(loaded ? { manifests: loaded.apps, ...(loaded.employees.length ? { employees: loaded.employees } : {}) } : {}),
  });
  for (const client of loaded?.clients ?? []) directory.register({ target: client.target, secrets: client.secrets });
  const issuerOfTokens = new TokenIssuer(directory, keys, urls, lifetime);
  const stats = { tokenRequests: 0, byGrant: {} as Record<string, number> };

  const sendError = (reply: FastifyReply, err: EntraError) =>
    reply.code(err.status).header('cache-control', 'no-store').header('pragma', 'no-cache').send(err.body(urls.baseUrl));

  app.addHook('onRequest', (request, _reply, done) => {
    // Counted before the body is read, so that refused bodies count too.
    if (request.method === 'POST' && pathOf(request.url) === tokenPath) stats.tokenRequests++;
    done();
  });

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof EntraError) return sendError(reply, error);
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status === 415) return sendError(reply, errors.unsupportedContentType());
    if (status === 413) return sendError(reply, errors.malformed(`The request body is larger than ${BODY_LIMIT} bytes.`, 413));
    if (status < 500) return sendError(reply, errors.malformed('The request could not be read.'));
    request.log.error({ path: pathOf(request.url).slice(0, 200), reason: error instanceof Error ? error.message.slice(0, 200) : 'unknown' }, 'emulator request failed');
    return sendError(reply, errors.serverError());
  });

  // Routes for a tenant this emulator does not serve answer as Entra does for an unknown tenant.
  app.setNotFoundHandler((request, reply) => {
    const tenant = pathOf(request.url).split('/')[1] ?? '';
    if (tenant && tenant !== tenantId) return sendError(reply, errors.tenantNotFound(tenant.slice(0, 100)));
    return reply.code(404).send({ error: 'not_found', error_description: 'There is nothing at this path.' });
  });

  app.get(`${basePath}/v2.0/.well-known/openid-configuration`, async (_request, reply) => {
    const { baseUrl, issuer, tokenEndpoint } = urls;
    reply.header('cache-control', 'max-age=86400, private');
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
      code_challenge_methods_supported: ['S256'],
      grant_types_supported: ['authorization_code', 'client_credentials', 'refresh_token', JWT_BEARER],
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'oid', 'NAVident', 'groups', 'azp', 'azpacr', 'scp', 'roles', 'idtyp'],
      tenant_region_scope: 'EU',
      cloud_instance_name: new URL(baseUrl).host,
    };
  });

  app.get(`${basePath}/discovery/v2.0/keys`, async () => keys.jwks(urls.issuer));

  app.post(tokenPath, async (request, reply) => {
    const contentType = String(request.headers['content-type'] ?? '');
    if (request.body !== undefined && !/^application\/x-www-form-urlencoded\b/i.test(contentType)) throw errors.unsupportedContentType();
    const params = singleValued(request.body);
    const grant = params.grant_type ?? 'none';
    const counted = KNOWN_GRANTS.has(grant) ? grant : 'other';
    stats.byGrant[counted] = (stats.byGrant[counted] ?? 0) + 1;
    const result = await issuerOfTokens.token(params, request.headers.authorization);
    return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(result);
  });
  app.route({ method: ['GET', 'PUT', 'DELETE', 'PATCH'], url: tokenPath, handler: async (request) => {
    throw errors.postOnly(request.method);
  } });

  // Entra's userinfo is Microsoft Graph's; the emulator answers it for its own Graph tokens.
  app.route({
    method: ['GET', 'POST'],
    url: '/oidc/userinfo',
    handler: async (request, reply) => {
      const header = request.headers.authorization ?? '';
      const token = /^bearer /i.test(header) ? header.slice(7).trim() : '';
      try {
        const { payload } = await keys.verify(token, { issuer: urls.issuer, audience: GRAPH_APP_ID });
        return { sub: payload.sub, name: payload.name, email: payload.preferred_username, oid: payload.oid, NAVident: payload.NAVident };
      } catch {
        return reply.code(401).header('www-authenticate', 'Bearer error="invalid_token"').send({ error: { code: 'InvalidAuthenticationToken', message: 'Access token is missing or invalid.' } });
      }
    },
  });

  // Cookies (the sign-in session) belong to the login pages; the token endpoint neither reads nor sets them.
  await app.register(async (pages) => {
    await pages.register(cookie);
    await loginRoutes(pages, { directory, issuer: issuerOfTokens, basePath, baseUrl: () => urls.baseUrl, secureCookies: tls !== undefined || options.publicUrl?.startsWith('https:') === true });
  });

  await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  const baseUrl = (options.publicUrl ?? `${tls ? 'https' : 'http'}://localhost:${port}`).replace(/\/+$/, '');
  const issuer = `${baseUrl}${basePath}/v2.0`;
  const tokenEndpoint = `${baseUrl}${tokenPath}`;
  Object.assign(urls, { baseUrl, issuer, tokenEndpoint });

  const summary = describeDirectory(directory);
  let closing: Promise<void> | undefined;
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
    exampleFor: (caller, preferred) => directory.exampleFor(caller, preferred),
    listing: { employees: directory.employees, ...(directory.manifests ? { apps: [...directory.manifests.keys()] } : {}) },
    close: () => {
      closing ??= (async () => {
        issuerOfTokens.stop();
        await app.close();
      })();
      return closing;
    },
  };
}

/**
 * One line per request at debug (npm start's terminal is for the person's own work) and its start at
 * trace, by path only: query strings carry codes, states and id_token_hints.
 */
class PathOnlyRequestLog extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.trace({ method: request.method, path: pathOf(request.url).slice(0, 200) }, 'incoming request');
  }

  override routeNotFound(): void {}

  override defaultErrorLog(error: Error, request: FastifyRequest): void {
    request.log.error({ path: pathOf(request.url).slice(0, 200), reason: error.message.slice(0, 200) }, 'request failed');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    request.log.debug(
      { method: request.method, path: pathOf(request.url).slice(0, 200), status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      error ? 'request errored' : 'request completed',
    );
  }
}

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

function describeDirectory(directory: Directory): string {
  const lines: string[] = [];
  if (!directory.manifests) {
    const { unauthorized, missing } = directory.exceptions;
    const open = 'directory: open (every cluster:namespace:app exists and has authorized every registered client)';
    lines.push(unauthorized.length || missing.length ? `${open}, except:` : open);
    if (unauthorized.length) lines.push(`  authorized nobody (AADSTS501051 / 65001): ${unauthorized.join(', ')}`);
    if (missing.length) lines.push(`  not in the tenant (AADSTS500011): ${missing.join(', ')}`);
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
