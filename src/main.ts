/**
 * Wiring only, the one place the parts are chosen: the Entra ID emulator when no identity provider is
 * configured, the provider (through `idp/providers.ts`), where sessions are kept (memory or Redis),
 * then the token generator on those parts.
 */
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { exportJWK, generateKeyPair } from 'jose';
import type { Logger } from 'pino';
import { faultSentence } from './env.js';
import { targetOf } from './audience.js';
import { ConfigError, loadConfig, onNais, type GeneratorConfig, type LoadedConfig } from './config.js';
import { IdpError, type IdentityProvider } from './generator/idp/identity-provider.js';
import { startIdentityProvider, type IdentityConfig } from './generator/idp/providers.js';
import { buildApp, type Generator, type Storage } from './generator/http/app.js';
import { MemoryStore, randomKey, RedisStore, Sealer } from './session/index.js';
import { MemoryLimiter, RedisLimiter } from './generator/core/limits.js';
import type { TestSignIn } from './generator/http/public-api/headless-obo.js';
import { Metrics } from './generator/http/internal/metrics.js';
import { createLogger, loggerOutput, processLogger } from './logger.js';
import type { Emulator, EmulatorOptions } from 'entra-emulator';
import { keepSessions, withKeptSessionKey } from './local-session-key.js';
import { onStopSignal } from './stop-signals.js';

/** How long in-flight requests may take to finish after the shutdown delay before the process gives up on them. */
export const DRAIN_LIMIT_MS = 20_000;

export interface Service {
  generator: Generator;
  emulator?: Emulator;
  config: GeneratorConfig;
  identity: IdentityConfig;
  url: string;
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** Overrides for the emulator when it is started (tests). */
  emulator?: EmulatorOptions;
}

/** Listening failed because the port is taken: say which variable moves it, not only EADDRINUSE. */
async function listening<T>(variable: string, port: number, listen: () => Promise<T>): Promise<T> {
  try {
    return await listen();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    throw new Error(
      `port ${port} is already in use: stop what listens there, or set ${variable} to another port (${variable}=0 picks a free one)`,
      { cause: err },
    );
  }
}

/** A test employee signed in on the emulator's own login page, as a browser would: the headless route's way in. */
const emulatorSignIn: TestSignIn = async (authorize, form, signal) => {
  const { SignInPageError, submitSignInForm } = await import('entra-emulator');
  try {
    return await submitSignInForm(authorize, { ...form }, { signal });
  } catch (err) {
    if (err instanceof SignInPageError)
      throw new IdpError({ kind: 'bad-response', detail: `the login page answered HTTP ${err.status}`, status: err.status });
    throw err;
  }
};

/** Registers the generator with a freshly started emulator, as an app with its own key pair. */
async function registerWithEmulator(emulator: Emulator, config: GeneratorConfig): Promise<IdentityConfig> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const kid = `generator-${Date.now().toString(36)}`;
  const privateJwk = { ...(await exportJWK(privateKey)), kty: 'RSA', kid, alg: 'RS256' };
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const target = targetOf(config.nais);
  const clientId = emulator.registerClient({
    target,
    jwks: [publicJwk],
    redirectUris: [`${config.publicUrl}/oauth2/callback`],
    postLogoutRedirectUris: [`${config.publicUrl}/oauth2/logged-out`],
  });
  return {
    kind: 'entra',
    clientId,
    tenantId: emulator.tenantId,
    auth: { method: 'private_key_jwt', jwk: privateJwk },
    provider: { discovery: 'well-known', wellKnownUrl: emulator.wellKnownUrl },
  };
}

/** The key sessions are sealed with: the configured one, else one made at start, with a word on what that means. */
function sessionSealer(config: GeneratorConfig, logger: Logger, emulator: boolean): Sealer {
  const configured = config.session.encryptionKey;
  if (configured) return new Sealer(configured);
  // With the emulator this is a laptop or CI, where a key made at start is what one wants: a note, not a warning.
  if (emulator) logger.info('sessions use a key made at start (no SESSION_ENCRYPTION_KEY): logins end when this process stops');
  else {
    logger.warn(
      'SESSION_ENCRYPTION_KEY is not set: sessions are encrypted with a random key made at start. They end when this process ' +
        'restarts and are not shared with other replicas. Set SESSION_ENCRYPTION_KEY (32 random bytes, base64) in production.',
    );
  }
  return new Sealer(randomKey());
}

/** Where sessions are kept and limits counted: in Redis (Valkey) when the configuration names one, shared by replicas; else in memory. */
function storage(config: GeneratorConfig, logger: Logger, emulator: boolean): Storage {
  const sealer = sessionSealer(config, logger, emulator);
  const shared = config.session.store;
  if (!shared) return { sealer, store: new MemoryStore(), limiter: new MemoryLimiter() };
  const store = new RedisStore({ ...shared, sealer, logger: logger.child({ component: 'session-store' }) });
  return { sealer, store, limiter: new RedisLimiter(store, logger.child({ component: 'rate-limit' })) };
}

/** The emulator started to stand in for the identity provider, the generator registered with it, and the configuration to go on with. */
async function standIn(
  config: GeneratorConfig,
  env: NodeJS.ProcessEnv,
  logger: Logger,
  overrides: EmulatorOptions | undefined,
): Promise<{ emulator: Emulator; identity: IdentityConfig; config: GeneratorConfig }> {
  const { emulatorOptionsFromEnv, startEmulator, withCommandPort } = await import('entra-emulator');
  if (env.EMULATOR_TLS_CERT) {
    throw new Error(
      'EMULATOR_TLS_CERT: npm start makes the certificate of its emulator itself (EMULATOR_TLS=self-signed); with a certificate ' +
        'of your own start the emulator alone',
    );
  }
  const emulatorOptions: EmulatorOptions = {
    ...emulatorOptionsFromEnv(withCommandPort(env)),
    logger: logger.child({ component: 'emulator' }),
    ...overrides,
  };
  const emulator = await listening('EMULATOR_PORT', emulatorOptions.port ?? 0, () => startEmulator(emulatorOptions));
  try {
    // The generator loads the JWKS next, within its identity provider's timeout: the key is made first.
    await emulator.ready();
    const identity = await registerWithEmulator(emulator, config);
    return { emulator, identity, config: emulator.stateDir ? await withKeptSessionKey(config, emulator.stateDir, logger) : config };
  } catch (err) {
    await emulator.close();
    throw err;
  }
}

/** The identity provider the configuration names (or the emulator standing in for it), made ready; a failure stops the emulator again. */
async function readyProvider(
  identity: IdentityConfig,
  config: GeneratorConfig,
  parts: { logger: Logger; metrics: Metrics; emulator: Emulator | undefined },
): Promise<IdentityProvider> {
  try {
    return await startIdentityProvider(identity, {
      timeoutMs: config.idp.timeoutMs,
      retries: config.idp.retries,
      logger: parts.logger,
      generator: config.nais,
      onTokenRequest: parts.metrics.onTokenRequest,
    });
  } catch (err) {
    await parts.emulator?.close();
    throw err;
  }
}

interface Serving {
  generator: Generator;
  /** Writes the logins to the emulator's state folder for the next start, when it keeps one. */
  writeSessions: (() => Promise<void>) | undefined;
}

/** The generator built on its parts and listening on its port. */
async function serve(
  config: GeneratorConfig,
  provider: IdentityProvider,
  parts: { logger: Logger; metrics: Metrics; emulator: Emulator | undefined },
): Promise<Serving> {
  const { logger, metrics, emulator } = parts;
  const directory = emulator
    ? { employees: [...emulator.listing.employees], ...(emulator.listing.apps ? { apps: emulator.listing.apps } : {}) }
    : undefined;
  const storing = storage(config, logger, emulator !== undefined);
  const key = config.session.encryptionKey;
  let generator: Generator | undefined;
  let writeSessions: (() => Promise<void>) | undefined;
  try {
    generator = await buildApp({
      config,
      provider,
      logger,
      metrics,
      storage: storing,
      ...(emulator ? { emulator: { signIn: emulatorSignIn } } : {}),
      ...(directory ? { directory } : {}),
    });
    const { app } = generator;
    // Before the port opens: a request right after the start finds the logins kept at the last stop.
    if (emulator?.stateDir && key) writeSessions = await keepSessions(generator.sessions.manager.store, key, emulator.stateDir);
    await listening('PORT', config.port, () => app.listen({ port: config.port, host: config.host }));
    return { generator, writeSessions };
  } catch (err) {
    // A start that failed leaves nothing running, such as a client of an unreachable Redis trying again for ever:
    // the app closes the store with it, and without an app the store is closed alone. The logins it took from the state
    // folder go back there, for the start that works.
    await writeSessions?.().catch(() => undefined);
    await (generator ? generator.app.close() : storing.store.close()).catch(() => undefined);
    await emulator?.close();
    throw err;
  }
}

/** The service's stop: readiness false first, in-flight requests finished, the session store closed with the app. */
function stopping(serving: Serving, config: GeneratorConfig, logger: Logger, emulator: Emulator | undefined): () => Promise<void> {
  const { generator, writeSessions } = serving;
  return async () => {
    generator.readiness.shuttingDown = true;
    if (config.shutdownDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs));
    // Answers written since the shutdown began close their connections themselves (closing-connections.ts);
    // a connection whose answer was already written idles once it is sent, and is closed then rather than
    // when its keep-alive runs out.
    const closeIdle = setInterval(() => generator.app.server.closeIdleConnections(), 100);
    try {
      await generator.app.close();
    } finally {
      clearInterval(closeIdle);
    }
    await writeSessions?.().catch((err: unknown) => logger.warn({ err }, 'could not keep the sessions for the next start'));
    await emulator?.close();
  };
}

export async function startService(loaded: LoadedConfig, env: NodeJS.ProcessEnv, options: StartOptions = {}): Promise<Service> {
  let config = loaded.generator;
  const logger = options.logger ?? createLogger(config.logLevel);

  let emulator: Emulator | undefined;
  let identity = loaded.identity;
  if (!identity) ({ emulator, identity, config } = await standIn(config, env, logger, options.emulator));

  const parts = { logger, metrics: new Metrics(), emulator };
  const provider = await readyProvider(identity, config, parts);
  const serving = await serve(config, provider, parts);
  const address = serving.generator.app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = config.port === 0 ? `http://localhost:${port}` : config.publicUrl;

  return {
    generator: serving.generator,
    ...(emulator ? { emulator } : {}),
    config,
    identity,
    url,
    close: stopping(serving, config, logger, emulator),
  };
}

/** What npm start prints first: where things are, and examples that work with the directory in use. */
export function banner(service: Service): string {
  const lines = [`Token generator: ${service.url}`];
  const preferred = 'dev-gcp:my-team:my-app';
  let example: { target: string; employee?: { navIdent: string; name: string } } | undefined = { target: preferred };
  if (service.emulator) {
    lines.push(
      `Entra ID emulator: ${service.emulator.baseUrl} (tenant ${service.emulator.tenantId})`,
      `  well-known URL: ${service.emulator.wellKnownUrl}`,
      ...service.emulator.summary.split('\n').map((line) => `  ${line}`),
    );
    example = service.emulator.exampleFor(targetOf(service.config.nais), preferred);
  } else {
    lines.push(`Identity provider: ${service.generator.ctx.provider.issuer.issuer}`);
  }
  lines.push('');
  if (example) {
    const as = example.employee ? `, and sign in as ${example.employee.navIdent} (${example.employee.name})` : '';
    lines.push(
      `  Home page:      open ${service.url}/ in a browser`,
      `  App token:      curl -s -X POST ${service.url}/api/public/m2m -d "aud=${example.target}"`,
      `  Employee token: open ${service.url}/api/obo?aud=${example.target} in a browser${as}`,
    );
  } else {
    lines.push(
      `  No app in the directory has authorized this token generator (${targetOf(service.config.nais)}) yet:`,
      '  add it to an app\u2019s spec.accessPolicy.inbound.rules to get tokens for that app.',
    );
  }
  lines.push('');
  return lines.join('\n');
}

/**
 * In production (the image sets NODE_ENV=production; NAIS sets its pod variables) output is collected
 * as one JSON object a line: the banner is for a terminal or a local start only.
 */
function production(env: NodeJS.ProcessEnv): boolean {
  return !process.stdout.isTTY && (env.NODE_ENV === 'production' || onNais(env));
}

/** Where the generator listens, and who can reach it there. */
function listeningLine(host: string, port: number): string {
  const loopback = /^(127\.|::1$|localhost$)/.test(host);
  const reach = loopback ? 'this machine only; HOST=0.0.0.0 opens it to the network' : 'from the network';
  return `token generator listening on ${host.includes(':') ? `[${host}]` : host}:${port} (${reach})`;
}

/**
 * The variables of npm start's emulator: it keeps its tenant and keys in the default state folder unless told otherwise.
 * With EMULATOR_TLS=self-signed this program runs again, trusting the emulator's CA: then nothing is left to do here.
 * The emulator's package is loaded only where it runs, not on NAIS.
 */
async function emulatorEnv(): Promise<NodeJS.ProcessEnv | undefined> {
  const { defaultStateDir, relaunchTrustingEmulatorCa } = await import('entra-emulator');
  const env = { EMULATOR_STATE_DIR: defaultStateDir(process.env), ...process.env };
  try {
    return (await relaunchTrustingEmulatorCa(env)) ? undefined : env;
  } catch (err) {
    process.stderr.write(`Configuration error: ${faultSentence(err)}\n`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  let loaded: LoadedConfig;
  try {
    loaded = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      if (production(process.env)) processLogger('info').fatal(`Configuration error: ${err.sentence}`);
      else process.stderr.write(`Configuration error: ${err.sentence}\n`);
      process.exit(2);
    }
    throw err;
  }
  const env = loaded.identity ? process.env : await emulatorEnv();
  if (!env) return;
  const logger = processLogger(loaded.generator.logLevel);
  let service: Service;
  try {
    service = await startService(loaded, env, { logger });
  } catch (err) {
    // Once, through the logger: readable in a terminal, JSON where logs are collected.
    logger.fatal(`could not start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }

  const { port } = service.generator.app.server.address() as AddressInfo;
  logger.info({ host: service.config.host, port }, listeningLine(service.config.host, port));
  if (!production(process.env)) process.stdout.write(`${banner(service)}\n`);

  onStopSignal({
    announce: (signal) => logger.info({ signal }, 'shutting down'),
    stop: () => service.close(),
    limitMs: service.config.shutdownDelayMs + DRAIN_LIMIT_MS,
    tooLong: () => logger.error('shutdown took too long, exiting'),
    outputs: [loggerOutput(logger)],
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main();
}
