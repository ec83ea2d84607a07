/**
 * The emulator's start: the tenant, keys and directory read or made, the server with every route (the token
 * endpoint, metadata, Texas, the emulator's own routes and the sign-in pages), and the handle a caller gets.
 */
import { randomUUID } from 'node:crypto';
import { knownHosts, knownHostsHook, type FixedAnswer } from '../../../src/host-names.js';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import { z } from 'zod';
import { answerAsEntra, BODY_LIMIT, server } from './app-server.js';
import { Apps, type TenantUrls } from './apps.js';
import { ClaimOverrides, type ClaimValues } from './claim-overrides.js';
import { Claims } from './claims.js';
import { Directory } from './directory.js';
import { emulatorRoutes } from './emulator-routes.js';
import type { GrantContext } from './grants/index.js';
import { KeyRing } from './key-ring.js';
import { KeptState } from './kept-state.js';
import { loginRoutes } from './login/routes.js';
import { signInFormKey } from './login/form-token.js';
import { loadDirectory, loadDirectoryFile, mergeDirectories } from './manifests.js';
import type { LoadedDirectory } from './model.js';
import { metadataRoutes } from './metadata.js';
import type { ClientRegistration, TestEmployee } from './model.js';
import { TENANT_PATTERN } from './names.js';
import { accessTokenLifetime, deviceCodeInterval, type EmulatorOptions } from './options.js';
import { overview, summaryText } from './overview.js';
import { StateFolder } from './state.js';
import { Stores } from './stores.js';
import { tenantNames, type TenantName } from './tenants.js';
import { testTokens, type AppTokenRequest, type UserTokenRequest } from './test-tokens.js';
import { texasRoutes } from './texas.js';
import { tlsMaterial } from './tls.js';
import { tokenRoutes, type TokenStats } from './token-routes.js';

export interface Emulator {
  readonly baseUrl: string;
  readonly tenantId: string;
  readonly issuer: string;
  readonly wellKnownUrl: string;
  readonly tokenEndpoint: string;
  readonly stats: TokenStats;
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

/**
 * The tenant id given, else the one kept in the state folder, else a new one (kept when there is a folder); and the one the
 * state folder named before this start (that of the emulator that ran on it last).
 */
async function tenantOf(options: EmulatorOptions, state: StateFolder | undefined): Promise<{ tenantId: string; folderTenant: string }> {
  const stored = (await state?.read('tenant.json', StoredTenant))?.tenantId;
  const tenantId = options.tenantId ?? stored ?? randomUUID();
  if (!TENANT_PATTERN.test(tenantId))
    throw new Error(`tenantId: ${JSON.stringify(tenantId)} is not a tenant id (letters, digits, "-" and ".")`);
  if (state && tenantId !== stored) await state.write('tenant.json', { tenantId });
  return { tenantId, folderTenant: stored ?? tenantId };
}

/** What the emulator is made of, before it listens. */
interface Parts {
  options: EmulatorOptions;
  state: StateFolder | undefined;
  /** With a state folder: the refresh tokens, sign-in sessions and device codes written there as they change. */
  kept: KeptState | undefined;
  /** The key of the sign-in forms' tokens, kept in the state folder. */
  formKey: Buffer;
  tenantId: string;
  basePath: string;
  /** What a path's first segment names: the tenant (by id or domain), a multi-tenant name, or nothing served here. */
  named: (name: string) => TenantName;
  tls: Awaited<ReturnType<typeof tlsMaterial>> | undefined;
  overrides: ClaimOverrides;
  keys: KeyRing;
  /** Filled in once the port is known; routes and grants read them per request. */
  urls: TenantUrls;
  stores: Stores;
  directory: Directory;
  apps: Apps;
  context: GrantContext;
  deviceCodeIntervalSeconds: number;
}

async function makeParts(options: EmulatorOptions): Promise<Parts> {
  const lifetime = accessTokenLifetime(options);
  const deviceCodeIntervalSeconds = deviceCodeInterval(options);
  const state = options.stateDir ? await StateFolder.open(options.stateDir) : undefined;
  const { tenantId, folderTenant } = await tenantOf(options, state);
  const overrides = new ClaimOverrides();
  const keys = await KeyRing.open({ lifetimeSeconds: lifetime, overrides, ...(state ? { state } : {}) });
  const tls = options.tls ? await tlsMaterial(options.tls, state) : undefined;
  const urls: TenantUrls = { baseUrl: '', issuer: '', tokenEndpoint: '', wellKnownUrl: '', jwksUri: '' };
  const stores = new Stores(options.stores);
  const kept = state ? await KeptState.open(state, { tenantId, folderTenant }, stores, keptStateFailed(options)) : undefined;
  const { directory, loaded } = await buildDirectory(tenantId, options, stores);
  const apps = await Apps.open(directory, loaded?.clients ?? [], state);
  const claims = new Claims(directory, urls, lifetime);
  const context: GrantContext = { directory, keys, stores, endpoints: urls, claims };
  const named = tenantNames(tenantId, (domain) => directory.isDomain(domain));
  const formKey = await signInFormKey(state);
  return {
    options,
    state,
    kept,
    formKey,
    tenantId,
    basePath: `/${tenantId}`,
    named,
    tls,
    overrides,
    keys,
    urls,
    stores,
    directory,
    apps,
    context,
    deviceCodeIntervalSeconds,
  };
}

/**
 * A write of the kept state that failed (a full disk) is tried again with the next change, and at the close; said once a
 * minute at most, as the tries come as often as the changes.
 */
function keptStateFailed(options: EmulatorOptions): (err: unknown) => void {
  let saidAt = -Infinity;
  return (err) => {
    if (!options.logger || Date.now() - saidAt < 60_000) return;
    saidAt = Date.now();
    options.logger.warn({ reason: err instanceof Error ? err.message : String(err) }, 'the state folder could not be written');
  };
}

/** Every route: the token endpoint, metadata, Texas, the emulator's own, and the sign-in pages. */
async function addRoutes(app: FastifyInstance, parts: Parts): Promise<TokenStats> {
  const { options, context, basePath, urls, keys, apps, directory, stores } = parts;
  const stats = await tokenRoutes(app, { context, basePath, urls, deviceCodeIntervalSeconds: parts.deviceCodeIntervalSeconds });
  metadataRoutes(app, { keys, claims: context.claims, basePath, named: parts.named, urls });
  await app.register(async (texas) => texasRoutes(texas, { apps, context, bodyLimit: BODY_LIMIT }));
  await app.register(async (own) => emulatorRoutes(own, { apps, directory, keys, urls: () => urls }));
  // Cookies (the sign-in session) belong to the login pages; the token endpoint neither reads nor sets them.
  const secureCookies = parts.tls !== undefined || options.publicUrl?.startsWith('https:') === true;
  await app.register(async (pages) => {
    await pages.register(cookie);
    await loginRoutes(pages, {
      directory,
      stores,
      keys,
      basePath,
      urls,
      secureCookies,
      formKey: parts.formKey,
      ...(options.signInRateLimit !== undefined ? { signInRateLimit: options.signInRateLimit } : {}),
    });
  });
  return stats;
}

/** A name that is not the emulator's (DNS rebinding) is refused before anything of the request is read. */
const UNKNOWN_HOST: FixedAnswer = {
  status: 421,
  headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', connection: 'close' },
  body: 'This service answers only to its own name. Use the address it was configured with (PUBLIC_URL).\n',
};

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const parts = await makeParts(options);
  const { keys, basePath, urls } = parts;
  const app = await server(options.logger, parts.tls, basePath, parts.named);
  app.addHook(
    'onRequest',
    knownHostsHook(
      knownHosts(options.publicUrl, () => (app.server.address() as AddressInfo | null)?.port),
      UNKNOWN_HOST,
    ),
  );
  answerAsEntra(app, parts.tenantId, urls);
  const stats = await addRoutes(app, parts);
  await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  // A signing key not read from the state folder is made now, off the start's path; a failure is also told to what waits for it.
  keys.ready().catch((err: unknown) => {
    if (options.logger)
      options.logger.error({ reason: err instanceof Error ? err.message : String(err) }, 'the signing key could not be made');
  });
  const port = (app.server.address() as AddressInfo).port;
  const baseUrl = (options.publicUrl ?? `${parts.tls ? 'https' : 'http'}://localhost:${port}`).replace(/\/+$/, '');
  const issuer = `${baseUrl}${basePath}/v2.0`;
  const tokenEndpoint = `${baseUrl}${basePath}/oauth2/v2.0/token`;
  const wellKnownUrl = `${issuer}/.well-known/openid-configuration`;
  Object.assign(urls, { baseUrl, issuer, tokenEndpoint, wellKnownUrl, jwksUri: `${baseUrl}${basePath}/discovery/v2.0/keys` });
  return handle(parts, app, stats);
}

/** The handle a caller gets, once the emulator listens. */
function handle(parts: Parts, app: FastifyInstance, stats: TokenStats): Emulator {
  const { directory, apps, urls, keys, overrides, stores, state, kept, tls } = parts;
  const { baseUrl, issuer, wellKnownUrl, tokenEndpoint } = urls;
  const tokens = testTokens(parts.context, apps, overrides);
  let closing: Promise<void> | undefined;
  return {
    baseUrl,
    tenantId: parts.tenantId,
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
        // rather than make one of its own that this one's late write replaces; and what the last requests changed of the
        // kept state is written. Without a folder there is nothing to wait for, and nothing to keep.
        if (state) await Promise.all([keys.settled(), kept?.close()]);
      })();
      return closing;
    },
  };
}
