/**
 * The token generator's HTTP service. `buildApp` puts the routes on the parts `main.ts` chose: an
 * identity provider that is already started (`idp/providers.ts`) and where sessions are kept; tests
 * drive it over a real listener, `main.ts` starts it.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifySchema } from 'fastify';
import formbody from '@fastify/formbody';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import { jsonSchemaTransform, jsonSchemaTransformObject, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Bindings, ChildLoggerOptions, Logger } from 'pino';
import { lazyChild } from '../../logger.js';
import type { GeneratorConfig } from '../../config.js';
import type { IdentityProvider } from '../idp/identity-provider.js';
import type { Problem } from '../core/problem.js';
import { GeneratorContext } from './context.js';
import { skipDocumentationOnly } from './schemas.js';
import { correlatedResponses, correlationId, CorrelatedResponse } from './response-headers.js';
import { fixedAnswer, registerErrorHandler } from './errors.js';
import { appTokenRoutes } from './public-api/m2m.js';
import { internalRoutes, type Readiness } from './internal/internal.js';
import { identityProviderRoutes } from './public-api/identity-provider.js';
import { audienceCheckRoutes, homeRoutes, type TestDirectory } from './pages/home.js';
import { Metrics } from './internal/metrics.js';
import { addMultipartParser } from './multipart.js';
import { assetRoutes, OPENAPI_INFO } from './pages/assets.js';
import { Tokens } from '../core/tokens.js';
import { loginRoutes } from './pages/login.js';
import { logoutRoutes } from './pages/logout.js';
import { loggedInTokenRoutes } from './pages/logged-in-tokens.js';
import { authorizationServerRoutes } from './oauth/index.js';
import { headlessOboRoutes, type TestSignIn } from './public-api/headless-obo.js';
import { Sessions } from '../core/sessions.js';
import { Logins } from '../core/login.js';
import { SessionCookie } from './session-cookie.js';
import { accessLogger, RequestEnd } from './request-log.js';
import { trustedHops, trustProxyOption } from './client-address.js';
import { refuseDuplicateCookies } from './duplicate-cookies.js';
import { boundConnections, type ConnectionBound } from './connections.js';
import { Sealer, SessionManager, type SessionStore } from '../../session/index.js';
import { Limits, type Limiter } from '../core/limits.js';
import { ToolAccess } from '../core/oauth/tool-access.js';
import { ToolSessions } from '../core/oauth/tool-sessions.js';
import { toolAccessRoutes } from './pages/tool-access.js';
import { bodyDeadline } from './body-deadline.js';
import { lastAnswerCloses } from './closing-connections.js';
import { knownHosts, onlyKnownHosts } from '../../host-names.js';
import { PATHS } from '../../paths.js';
import { PathMethods } from './methods.js';

export interface BuildOptions {
  config: GeneratorConfig;
  provider: IdentityProvider;
  logger: Logger;
  /** Where sessions are kept and limits counted. */
  storage: Storage;
  /** Shared with the identity provider, which reports its token requests to it. */
  metrics?: Metrics;
  /** The identity provider is the emulator: how a test employee signs in on it (enables headless employee tokens). */
  emulator?: { signIn: TestSignIn };
  /** With the emulator: its test employees and apps, for the home page. */
  directory?: TestDirectory;
}

export interface RegisteredRoute {
  method: string;
  url: string;
  /** The route's schema, of which /openapi.json is made. */
  schema: FastifySchema | undefined;
}

export interface Generator {
  app: FastifyInstance;
  ctx: GeneratorContext;
  readiness: Readiness;
  sessions: Sessions;
  metrics: Metrics;
  /** Every route the service has, as registered. */
  routes: RegisteredRoute[];
  /** The bound on open connections. */
  connections: ConnectionBound;
}

/**
 * Where sessions are kept (sealed with `sealer`) and the limits counted: memory, or Redis shared by the
 * replicas. Chosen by the caller; the app closes the store when it closes.
 */
export interface Storage {
  sealer: Sealer;
  store: SessionStore;
  limiter: Limiter;
}

/** What watches the server's connections: called with each request first, and asked whether a request waits behind an answer. */
interface ServerWatch {
  watch: RequestListener;
  followed: (response: ServerResponse) => boolean;
}

/** The platform's probes call these by the pod's address, not by the service's name. */
const PROBES: ReadonlySet<string> = new Set([PATHS.isAlive, PATHS.isReady, PATHS.health, PATHS.metrics]);
/** A name that is not this service's (DNS rebinding): refused before anything of the request is read, in words rendered once. */
export const UNKNOWN_HOST: Problem = {
  code: 'unknown_host',
  message: 'This service answers only to its own name. Use the address it was configured with (PUBLIC_URL).',
};
const UNKNOWN_HOST_ANSWER = fixedAnswer(UNKNOWN_HOST);
/** Once its headers are in, a request has this long for its body. */
const BODY_DEADLINE_MS = 5_000;
/** Connections one address may hold: an eighth of the bound, or 16 when the bound is small. */
export const perAddressMax = (max: number) => Math.max(16, Math.floor(max / 8));
const KEEP_ALIVE_MS = 72_000;
const REQUEST_TIMEOUT_MS = 30_000;
/** A request in progress that moves no byte for this long loses its connection. */
const STALLED_MS = 60_000;
/** How often Node.js looks for connections past their header or request time (its default is 30 s). */
const TIMEOUT_CHECK_MS = 1_000;
/** Fastify's options: the server that sets every response's headers, the logger, the limits. */
function fastifyOptions(
  config: GeneratorConfig,
  logger: Logger,
  readiness: Readiness,
  requestEnd: RequestEnd,
  onServer: (server: Server) => ServerWatch,
) {
  // The correlation id the server chose for the request it is handing Fastify, which asks for it (`genReqId`)
  // while the server's handler runs. Passed this way rather than as a property of the request: a property
  // added to Node.js's requests makes the accesses to them in Node.js and Fastify slower.
  const chosen: { request: IncomingMessage | undefined; id: string } = { request: undefined, id: '' };
  return {
    loggerInstance: logger as FastifyBaseLogger,
    // The server sets the headers every response carries before Fastify sees the request (no hook
    // runs for them), and hands Fastify the correlation id it chose.
    serverFactory: (handler: (req: IncomingMessage, res: ServerResponse) => void) => {
      // The watchers need the server; they are asked whether a request waits only once it is shutting down.
      const late: { watchers?: ServerWatch } = {};
      const closing = lastAnswerCloses(readiness, (response) => late.watchers!.followed(response));
      const timeouts = {
        ServerResponse: correlatedResponses(closing),
        headersTimeout: config.connections.headersTimeoutMs,
        requestTimeout: REQUEST_TIMEOUT_MS,
        connectionsCheckingInterval: TIMEOUT_CHECK_MS,
      };
      const known = knownHosts(config.publicUrl, () => (server.address() as AddressInfo | null)?.port);
      const answer = onlyKnownHosts(known, PROBES, UNKNOWN_HOST_ANSWER, (req: IncomingMessage, res: ServerResponse) => {
        const id = correlationId(req.headers);
        (res as CorrelatedResponse).correlationId = id;
        chosen.request = req;
        chosen.id = id;
        handler(req, res);
        chosen.request = undefined;
      });
      // One listener for every request: the watchers of the bounds first, then the answer.
      const server = createServer(timeouts, (req, res) => {
        watch(req, res);
        answer(req, res);
      });
      server.keepAliveTimeout = KEEP_ALIVE_MS;
      late.watchers = onServer(server);
      const watch = late.watchers.watch;
      return server;
    },
    genReqId: (req: IncomingMessage) => (req === chosen.request ? chosen.id : correlationId(req.headers)),
    logController: requestEnd,
    childLoggerFactory: (parent: FastifyBaseLogger, bindings: Bindings, childOptions: ChildLoggerOptions) =>
      lazyChild(parent as Logger, bindings, childOptions) as FastifyBaseLogger,
    bodyLimit: config.bodyLimitBytes,
    // Fastify's own 503 would answer what reaches it once closing began: a body that arrived after
    // SIGTERM, or a request on a kept-alive connection. Readiness already steers traffic away, and
    // every request that does arrive is answered normally, its connection closed after the last answer
    // (closing-connections.ts).
    return503OnClosing: false,
    routerOptions: { maxParamLength: 256 },
    ...trustProxyOption(config.trustProxyHops, config.trustedProxies),
  };
}

export async function buildApp(options: BuildOptions): Promise<Generator> {
  const { config, provider, logger } = options;
  // The store is watched once the employees' parts are put together below; until then it counts as reached
  // (nothing asks before the routes exist).
  const readiness: Readiness = { shuttingDown: false, sessionStore: () => ({ reachable: true, reachedOnce: true }) };
  const metrics = options.metrics ?? new Metrics();
  const access = accessLogger(logger);
  const employees = employeeSessions(options, readiness, metrics);
  const tokens = new Tokens(provider, {
    maxEntries: config.cache.maxEntries,
    onCache: metrics.onCache,
    limits: employees.limits,
    sessions: employees.sessions,
  });
  const ctx = new GeneratorContext(config, provider, tokens, logger, metrics, employees.limits);
  let connections: ConnectionBound | undefined;
  const proxy = trustedHops(config.trustProxyHops, config.trustedProxies);
  const bound = (server: Server): ServerWatch => {
    const deadline = bodyDeadline(BODY_DEADLINE_MS);
    const bound = boundConnections(server, {
      max: config.connections.max,
      perAddress: perAddressMax(config.connections.max),
      exempt: (address) => proxy(address, 0),
      stalledMs: STALLED_MS,
    });
    connections = bound;
    const watch: RequestListener = (req, res) => {
      deadline(req, res);
      bound.requested(req, res);
    };
    return { watch, followed: bound.followed };
  };
  const app = Fastify(
    fastifyOptions(config, logger, readiness, new RequestEnd(access, metrics), bound),
  ).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(skipDocumentationOnly(validatorCompiler));
  // Response schemas document the answers; the bodies are written as they always were.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  const routes: RegisteredRoute[] = [];
  const methods = new PathMethods();
  methods.decorate(app);
  app.addHook('onRoute', (route) => {
    methods.added(route);
    // A hidden route (the refusal of a method) is no operation of the description.
    if ((route.schema as { hide?: boolean } | undefined)?.hide) return;
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push({ method, url: route.url, schema: route.schema });
  });
  app.addHook('onClose', employees.close);

  await app.register(formbody, { bodyLimit: config.bodyLimitBytes });
  addMultipartParser(app, { bodyBytes: config.bodyLimitBytes, fields: 20, fieldBytes: 4096 });

  registerErrorHandler(app, { publicUrl: config.publicUrl, loginDomain: config.loginDomain });
  await app.register(swagger, { openapi: OPENAPI_INFO, transform: jsonSchemaTransform, transformObject: jsonSchemaTransformObject });
  await assetRoutes(app);

  await internalRoutes(app, ctx, readiness);
  await appTokenRoutes(app, ctx);
  await identityProviderRoutes(app, ctx);
  await audienceCheckRoutes(app);
  await employeeRoutes(app, ctx, employees, options);
  methods.refuseTheOthers(app);

  return { app, ctx, readiness, sessions: employees.sessions, metrics, routes, connections: connections! };
}

/** What the employees' routes share: the sealer of their cookies, their sessions, the limits. */
interface EmployeeParts {
  sealer: Sealer;
  sessions: Sessions;
  limits: Limits;
  /** Closes the store once the renewals under way have stored their tokens. */
  close: () => Promise<void>;
}

/** The session store and what is built on it; readiness and the metrics watch the store. */
function employeeSessions(options: BuildOptions, readiness: Readiness, metrics: Metrics): EmployeeParts {
  const { config, provider, logger } = options;
  const { sealer, store, limiter } = options.storage;
  readiness.sessionStore = () => store.health();
  metrics.watchSessionStore(readiness.sessionStore);
  const limits = new Limits(config.rateLimit, limiter);
  const manager = new SessionManager({ store, sealer, maxLifetimeMs: config.session.maxLifetimeMs });
  const sessions = new Sessions({ manager, provider, logger, onEvent: (event) => metrics.sessions.inc({ event }) });
  const close = async () => {
    // A refresh still running behind an answered request stores its tokens first.
    await sessions.settled();
    await store.close();
  };
  return { sealer, sessions, limits, close };
}

/** The employees' routes, in a scope of their own: cookies belong to them; the public endpoints for scripts neither read nor set any. */
async function employeeRoutes(app: FastifyInstance, ctx: GeneratorContext, employees: EmployeeParts, options: BuildOptions): Promise<void> {
  const { sealer, sessions, limits } = employees;
  const { config } = options;
  const tools = new ToolSessions(sessions, sealer, new ToolAccess(sessions.manager.store));
  const sessionCookie = new SessionCookie(sessions, config.publicUrl, config.session.maxLifetimeMs);
  const logins = new Logins(ctx.provider, sessions, sealer, ctx.logger, `${config.publicUrl}${PATHS.callback}`);
  await app.register(async (scope) => {
    await scope.register(cookie);
    scope.addHook('onRequest', refuseDuplicateCookies(sessionCookie.names, config.publicUrl));
    await homeRoutes(scope, { ctx, cookie: sessionCookie, tools, sealer, ...(options.directory ? { directory: options.directory } : {}) });
    await loginRoutes(scope, { ctx, cookie: sessionCookie, logins, limits });
    await logoutRoutes(scope, { ctx, sessions, cookie: sessionCookie, sealer, tools });
    await toolAccessRoutes(scope, { cookie: sessionCookie, sealer, tools, publicUrl: config.publicUrl });
    await loggedInTokenRoutes(scope, ctx, sessionCookie);
    await headlessOboRoutes(scope, { ctx, logins, signIn: options.emulator?.signIn });
    const oauth = { ctx, sessions, cookie: sessionCookie, sealer, limits, tools };
    await scope.register(async (server) => authorizationServerRoutes(server, oauth));
  });
}
