/**
 * An identity provider that answers like Entra ID v2.0, under Entra's own paths, so that any
 * Entra client (the token generator among them) runs against it offline. This file wires the
 * parts together: the directory, the stores, the token endpoint, the sign-in pages and metadata.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import formbody from '@fastify/formbody';
import cookie from '@fastify/cookie';
import type { Logger } from 'pino';
import { Claims } from './claims.js';
import { Directory, type ClientRegistration, type TestEmployee } from './directory.js';
import { EntraError, errors } from './errors.js';
import { GRANTS, type GrantContext } from './grants/index.js';
import { SigningKeys } from './keys.js';
import { loginRoutes } from './login/routes.js';
import { loadDirectoryFile } from './manifests.js';
import { metadataRoutes } from './metadata.js';
import { TENANT_PATTERN } from './names.js';
import { singleValued } from './params.js';
import { PathOnlyRequestLog, pathOf } from './request-log.js';
import { Stores, type StoreSettings } from './stores.js';
import { describeDirectory } from './summary.js';
import { tlsMaterial, type TlsOptions } from './tls.js';
import { issueTokens } from './token-endpoint.js';

export type { ClientRegistration, TestEmployee } from './directory.js';
export { emulatorOptionsFromEnv } from './env.js';

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
  /** Bounds and lifetimes of what the emulator keeps (codes, refresh tokens, sessions...), shorter in tests. */
  stores?: Partial<StoreSettings>;
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

async function loadDirectory(tenantId: string, options: EmulatorOptions, stores: Stores): Promise<Directory> {
  const loaded = options.directoryFile ? await loadDirectoryFile(options.directoryFile) : undefined;
  const directory = new Directory(
    tenantId,
    { ...options, ...(loaded ? { manifests: loaded.apps, ...(loaded.employees.length ? { employees: loaded.employees } : {}) } : {}) },
    undefined,
    stores.targets,
  );
  for (const client of loaded?.clients ?? []) directory.register({ target: client.target, secrets: client.secrets });
  return directory;
}

function checkOptions(options: EmulatorOptions): { tenantId: string; lifetime: number } {
  const tenantId = options.tenantId ?? randomUUID();
  if (!TENANT_PATTERN.test(tenantId)) throw new Error(`tenantId: ${JSON.stringify(tenantId)} is not a tenant id (letters, digits, "-" and ".")`);
  const lifetime = options.accessTokenLifetimeSeconds ?? 3600;
  if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > 86_400) {
    throw new Error('accessTokenLifetimeSeconds: must be a whole number of seconds from 1 to 86400');
  }
  return { tenantId, lifetime };
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const { tenantId, lifetime } = checkOptions(options);
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
  // Filled in once the port is known; routes and grants read them per request.
  const urls = { baseUrl: '', issuer: '', tokenEndpoint: '' };
  const stores = new Stores(options.stores);
  const directory = await loadDirectory(tenantId, options, stores);
  const claims = new Claims(directory, urls, lifetime);
  const context: GrantContext = { directory, keys, stores, endpoints: urls, claims };
  const stats = tokenEndpointRoutes(app, context, `${basePath}/oauth2/v2.0/token`, urls);
  metadataRoutes(app, { keys, claims, basePath, urls });

  // Cookies (the sign-in session) belong to the login pages; the token endpoint neither reads nor sets them.
  const secureCookies = tls !== undefined || options.publicUrl?.startsWith('https:') === true;
  await app.register(async (pages) => {
    await pages.register(cookie);
    await loginRoutes(pages, { directory, stores, keys, basePath, urls, secureCookies });
  });

  await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  const baseUrl = (options.publicUrl ?? `${tls ? 'https' : 'http'}://localhost:${port}`).replace(/\/+$/, '');
  const issuer = `${baseUrl}${basePath}/v2.0`;
  const tokenEndpoint = `${baseUrl}${basePath}/oauth2/v2.0/token`;
  Object.assign(urls, { baseUrl, issuer, tokenEndpoint });

  let closing: Promise<void> | undefined;
  return {
    baseUrl,
    tenantId,
    summary: describeDirectory(directory),
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
        stores.stop();
        await app.close();
      })();
      return closing;
    },
  };
}

/** The token endpoint, its counters, and the error handler that renders Entra's error bodies. */
function tokenEndpointRoutes(app: FastifyInstance, context: GrantContext, tokenPath: string, urls: { baseUrl: string }) {
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
  const tenantId = context.directory.tenantId;
  app.setNotFoundHandler((request, reply) => {
    const tenant = pathOf(request.url).split('/')[1] ?? '';
    if (tenant && tenant !== tenantId) return sendError(reply, errors.tenantNotFound(tenant.slice(0, 100)));
    return reply.code(404).send({ error: 'not_found', error_description: 'There is nothing at this path.' });
  });

  app.post(tokenPath, async (request, reply) => {
    const contentType = String(request.headers['content-type'] ?? '');
    if (request.body !== undefined && !/^application\/x-www-form-urlencoded\b/i.test(contentType)) throw errors.unsupportedContentType();
    const params = singleValued(request.body);
    const grant = params.grant_type ?? 'none';
    const counted = GRANTS.has(grant) || grant === 'none' ? grant : 'other';
    stats.byGrant[counted] = (stats.byGrant[counted] ?? 0) + 1;
    const result = await issueTokens(context, params, request.headers.authorization);
    return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(result);
  });
  app.route({
    method: ['GET', 'PUT', 'DELETE', 'PATCH'],
    url: tokenPath,
    handler: async (request) => {
      throw errors.postOnly(request.method);
    },
  });
  return stats;
}
