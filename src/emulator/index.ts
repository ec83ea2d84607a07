/**
 * An identity provider that answers like Entra ID v2.0, under Entra's own paths, so that any
 * Entra client (the token generator among them) runs against it offline. This file wires the
 * parts together: the directory, the stores, the token endpoint, the sign-in pages and metadata.
 */
import { knownHosts, knownHostsHook } from '../host-names.js';
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
import { loginRoutes } from './login/routes.js';
import { loadDirectory, loadDirectoryFile, mergeDirectories, type DirectoryInput, type LoadedDirectory } from './manifests.js';
import { metadataRoutes } from './metadata.js';
import { TENANT_PATTERN } from './names.js';
import { singleValued } from './params.js';
import { PathOnlyRequestLog, pathOf } from './request-log.js';
import { lazySchemaCompilers } from './schema-compilers.js';
import { Stores, type StoreSettings } from './stores.js';
import { tlsMaterial, type TlsOptions } from './tls.js';
import { issueTokens } from './token-endpoint.js';
import { z } from 'zod';
import { Apps, type TenantUrls } from './apps.js';
import { ClaimOverrides, type ClaimValues } from './claim-overrides.js';
import { emulatorRoutes } from './emulator-routes.js';
import { KeyRing } from './key-ring.js';
import { overview, summaryText } from './overview.js';
import { StateFolder } from './state.js';
import { texasRoutes } from './texas.js';
import { testTokens, type AppTokenRequest, type UserTokenRequest } from './test-tokens.js';

export type { ClientRegistration, TestEmployee } from './directory.js';
export { emulatorEnv, emulatorOptionsFromEnv } from './env.js';
export { ConfigError } from '../env.js';
export type { DirectoryInput } from './manifests.js';
export type { ClaimValues } from './claim-overrides.js';
export type { AppTokenRequest, UserTokenRequest } from './test-tokens.js';
export { defaultStateDir } from './state.js';

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
  /** NAIS manifests (files or folders of `kind: Application`) as the directory, deployed to `cluster`. */
  manifests?: (string | { path: string; cluster?: string })[];
  /** The cluster of `manifests` given as paths; dev-gcp by default. */
  cluster?: string;
  /** A directory as an object of the directory file's shape; its paths are relative to the working directory. */
  directory?: DirectoryInput;
  /** Keep the tenant id, the signing keys and the apps' keys in this folder between starts; without it all is made afresh. */
  stateDir?: string;
  /** Serve HTTPS, with a certificate made at start or a given one. */
  tls?: TlsOptions;
  /** Sign-in requests an address may make in a minute (600 unless told; 0 is no limit). */
  signInRateLimit?: number;
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
  /** The state folder, when there is one. */
  readonly stateDir?: string;
  clientIdFor(target: string): string;
  registerClient(registration: ClientRegistration): string;
  /** A target that gives `caller` tokens as printed examples should use, with an employee who may use it. */
  exampleFor(caller: string, preferred: string): { target: string; employee?: TestEmployee } | undefined;
  /** The apps of the directory with their client ids. */
  apps(): { target: string; clientId: string }[];
  /** What NAIS would inject into the app (`cluster:namespace:app`): AZURE_APP_*, AZURE_OPENID_CONFIG_* and NAIS_TOKEN_*. */
  environment(target: string): Promise<Record<string, string>>;
  /** An app token, made directly (no HTTP), as the caller would get it by client credentials. */
  appToken(request: AppTokenRequest): Promise<string>;
  /** An employee token (Entra calls it a user token), made directly (no HTTP, no login page), as after the employee signed in. */
  userToken(request: UserTokenRequest): Promise<string>;
  /** Claims set (or, with undefined, removed) on the next token issued, or on every one; returns a function that takes them back. */
  overrideClaims(claims: ClaimValues, options?: { every?: boolean }): () => void;
  /** A new signing key; the old one stays in the JWKS until the tokens it signed have expired. */
  rotateSigningKey(): Promise<{ kid: string; retired: string }>;
  /**
   * Resolves once the signing key is there. A key not kept in the state folder is made after the start
   * resolves; the JWKS and tokens wait for it, and a client with a short timeout can wait here first.
   */
  ready(): Promise<void>;
  close(): Promise<void>;
}

const BODY_LIMIT = 64 * 1024;

/** The directory file, the directory object and the manifests given, as one directory; undefined for the open directory. */
async function loadDirectories(options: EmulatorOptions): Promise<LoadedDirectory | undefined> {
  const parts: LoadedDirectory[] = [];
  if (options.directoryFile) parts.push(await loadDirectoryFile(options.directoryFile));
  if (options.directory)
    parts.push(await loadDirectory(options.directory, { source: 'the directory given to startEmulator', baseDir: process.cwd() }));
  if (options.manifests?.length) {
    const cluster = options.cluster ?? 'dev-gcp';
    const manifests = options.manifests.map((entry) => (typeof entry === 'string' ? { path: entry, cluster } : { cluster, ...entry }));
    parts.push(await loadDirectory({ manifests }, { source: 'manifests', baseDir: process.cwd() }));
  }
  return parts.length ? mergeDirectories(parts) : undefined;
}

async function buildDirectory(
  tenantId: string,
  options: EmulatorOptions,
  stores: Stores,
): Promise<{ directory: Directory; loaded?: LoadedDirectory }> {
  const loaded = await loadDirectories(options);
  const { manifests: _paths, ...rest } = options;
  const directory = new Directory(
    tenantId,
    { ...rest, ...(loaded ? { manifests: loaded.apps, ...(loaded.employees.length ? { employees: loaded.employees } : {}) } : {}) },
    undefined,
    stores.targets,
  );
  return { directory, ...(loaded ? { loaded } : {}) };
}

const StoredTenant = z.object({ tenantId: z.string().regex(TENANT_PATTERN) });

/** The tenant id given, else the one kept in the state folder, else a new one (kept when there is a folder). */
async function tenantOf(options: EmulatorOptions, state: StateFolder | undefined): Promise<string> {
  const stored = (await state?.read('tenant.json', StoredTenant))?.tenantId;
  const tenantId = options.tenantId ?? stored ?? randomUUID();
  if (!TENANT_PATTERN.test(tenantId))
    throw new Error(`tenantId: ${JSON.stringify(tenantId)} is not a tenant id (letters, digits, "-" and ".")`);
  if (state && tenantId !== stored) await state.write('tenant.json', { tenantId });
  return tenantId;
}

function checkLifetime(options: EmulatorOptions): number {
  const lifetime = options.accessTokenLifetimeSeconds ?? 3600;
  if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > 86_400) {
    throw new Error('accessTokenLifetimeSeconds: must be a whole number of seconds from 1 to 86400');
  }
  return lifetime;
}

/** The HTTP(S) server, before any route: request lines by path only, form-encoded bodies only. */
async function server(logger: EmulatorOptions['logger'], tls: { cert: string; key: string } | undefined): Promise<FastifyInstance> {
  const app = Fastify({
    ...(tls ? { https: { cert: tls.cert, key: tls.key } } : {}),
    ...(logger ? { loggerInstance: logger as FastifyBaseLogger } : { logger: false }),
    logController: new PathOnlyRequestLog(),
    bodyLimit: BODY_LIMIT,
    schemaController: { compilersFactory: lazySchemaCompilers },
  });
  // Form-encoded bodies only, as Entra's endpoints take: JSON and the rest answer 415 -> AADSTS900144.
  app.removeAllContentTypeParsers();
  await app.register(formbody, { bodyLimit: BODY_LIMIT });
  return app;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const lifetime = checkLifetime(options);
  const state = options.stateDir ? await StateFolder.open(options.stateDir) : undefined;
  const tenantId = await tenantOf(options, state);
  const overrides = new ClaimOverrides();
  const keys = await KeyRing.open({ lifetimeSeconds: lifetime, overrides, ...(state ? { state } : {}) });
  const tls = options.tls ? await tlsMaterial(options.tls, state) : undefined;
  const app = await server(options.logger, tls);
  app.addHook('onRequest', knownHostsHook(knownHosts(options.publicUrl, () => (app.server.address() as AddressInfo | null)?.port)));

  const basePath = `/${tenantId}`;
  // Filled in once the port is known; routes and grants read them per request.
  const urls: TenantUrls = { baseUrl: '', issuer: '', tokenEndpoint: '', wellKnownUrl: '', jwksUri: '' };
  const stores = new Stores(options.stores);
  const { directory, loaded } = await buildDirectory(tenantId, options, stores);
  const apps = await Apps.open(directory, loaded?.clients ?? [], state);
  const claims = new Claims(directory, urls, lifetime);
  const context: GrantContext = { directory, keys, stores, endpoints: urls, claims };
  const stats = tokenEndpointRoutes(app, context, `${basePath}/oauth2/v2.0/token`, urls);
  metadataRoutes(app, { keys, claims, basePath, urls });
  await app.register(async (texas) => texasRoutes(texas, { apps, context, bodyLimit: BODY_LIMIT }));
  await app.register(async (own) => emulatorRoutes(own, { apps, directory, keys, urls: () => urls }));

  // Cookies (the sign-in session) belong to the login pages; the token endpoint neither reads nor sets them.
  const secureCookies = tls !== undefined || options.publicUrl?.startsWith('https:') === true;
  await app.register(async (pages) => {
    await pages.register(cookie);
    await loginRoutes(pages, {
      directory,
      stores,
      keys,
      basePath,
      urls,
      secureCookies,
      ...(options.signInRateLimit !== undefined ? { signInRateLimit: options.signInRateLimit } : {}),
    });
  });

  await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  // A signing key not read from the state folder is made now, off the start's path; a failure is also told to what waits for it.
  keys.ready().catch((err: unknown) => {
    if (options.logger)
      options.logger.error({ reason: err instanceof Error ? err.message : String(err) }, 'the signing key could not be made');
  });
  const port = (app.server.address() as AddressInfo).port;
  const baseUrl = (options.publicUrl ?? `${tls ? 'https' : 'http'}://localhost:${port}`).replace(/\/+$/, '');
  const issuer = `${baseUrl}${basePath}/v2.0`;
  const tokenEndpoint = `${baseUrl}${basePath}/oauth2/v2.0/token`;
  const wellKnownUrl = `${issuer}/.well-known/openid-configuration`;
  Object.assign(urls, { baseUrl, issuer, tokenEndpoint, wellKnownUrl, jwksUri: `${baseUrl}${basePath}/discovery/v2.0/keys` });

  const tokens = testTokens(context, apps, overrides);
  let closing: Promise<void> | undefined;
  return {
    baseUrl,
    tenantId,
    get summary() {
      return summaryText(overview(directory, apps, baseUrl));
    },
    ...(tls?.caFile ? { caFile: tls.caFile } : {}),
    ...(state ? { stateDir: state.path } : {}),
    issuer,
    wellKnownUrl,
    tokenEndpoint,
    stats,
    app,
    clientIdFor: (target) => directory.clientIdFor(target),
    registerClient: (registration) => directory.register(registration),
    exampleFor: (caller, preferred) => directory.exampleFor(caller, preferred),
    listing: { employees: directory.employees, ...(directory.manifests ? { apps: [...directory.manifests.keys()] } : {}) },
    apps: () => apps.targets().map((target) => ({ target, clientId: directory.clientIdFor(target) })),
    environment: (target) => apps.environment(target, urls),
    appToken: tokens.appToken,
    userToken: tokens.userToken,
    overrideClaims: (claims, overrideOptions) => overrides.add(claims, overrideOptions),
    rotateSigningKey: () => keys.rotate(),
    ready: () => keys.ready(),
    close: () => {
      closing ??= (async () => {
        stores.stop();
        await app.close();
        // A key still being made is in the state folder before close resolves, so that a start right after reads it
        // rather than make one of its own that this one's late write replaces. Without a folder there is nothing to wait for.
        if (state) await keys.settled();
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
    request.log.error(
      { path: pathOf(request.url).slice(0, 200), reason: error instanceof Error ? error.message.slice(0, 200) : 'unknown' },
      'emulator request failed',
    );
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
