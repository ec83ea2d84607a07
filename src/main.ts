/**
 * Wiring only: load configuration, start the Entra ID emulator when no identity provider is
 * configured, then start the token generator against whichever identity provider there is.
 */
import { pathToFileURL } from 'node:url';
import { exportJWK, generateKeyPair } from 'jose';
import type { Logger } from 'pino';
import { ConfigError, loadConfig, type GeneratorConfig, type IdentityConfig, type LoadedConfig, type PrivateJwk } from './config.js';
import { EntraClient } from './entra/client.js';
import { buildApp, type Generator } from './generator/app.js';
import { Metrics } from './generator/metrics.js';
import { createLogger } from './logger.js';
import { defaultStateDir, emulatorOptionsFromEnv, startEmulator, type Emulator, type EmulatorOptions } from './emulator/index.js';
import { relaunchTrustingEmulatorCa } from './emulator/trust.js';

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

/** Registers the generator with a freshly started emulator, as an app with its own key pair. */
async function registerWithEmulator(emulator: Emulator, config: GeneratorConfig): Promise<IdentityConfig> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const kid = `generator-${Date.now().toString(36)}`;
  const privateJwk: PrivateJwk = { ...(await exportJWK(privateKey)), kty: 'RSA', kid, alg: 'RS256' };
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const target = `${config.nais.cluster}:${config.nais.namespace}:${config.nais.app}`;
  const clientId = emulator.registerClient({
    target,
    jwks: [publicJwk],
    redirectUris: [`${config.publicUrl}/oauth2/callback`],
    postLogoutRedirectUris: [`${config.publicUrl}/oauth2/logged-out`],
  });
  return {
    clientId,
    tenantId: emulator.tenantId,
    auth: { method: 'private_key_jwt', jwk: privateJwk },
    provider: { discovery: 'well-known', wellKnownUrl: emulator.wellKnownUrl },
  };
}

export async function startService(loaded: LoadedConfig, env: NodeJS.ProcessEnv, options: StartOptions = {}): Promise<Service> {
  const config = loaded.generator;
  const logger = options.logger ?? createLogger(config.logLevel);

  let emulator: Emulator | undefined;
  let identity = loaded.identity;
  if (!identity) {
    if (env.EMULATOR_TLS_CERT) {
      throw new Error('EMULATOR_TLS_CERT: npm start makes the certificate of its emulator itself (EMULATOR_TLS=self-signed); with a certificate of your own start the emulator alone');
    }
    emulator = await startEmulator({
      ...emulatorOptionsFromEnv({ EMULATOR_PORT: '8081', ...env }),
      logger: logger.child({ component: 'emulator' }),
      ...options.emulator,
    });
    identity = await registerWithEmulator(emulator, config);
  }

  const metrics = new Metrics();
  const entra = new EntraClient(identity, {
    timeoutMs: config.idp.timeoutMs,
    retries: config.idp.retries,
    logger: logger.child({ component: 'entra' }),
    onTokenRequest: metrics.onTokenRequest,
  });
  try {
    await entra.init();
  } catch (err) {
    await emulator?.close();
    throw err;
  }

  const generator = await buildApp({ config, entra, logger, metrics, emulator: emulator !== undefined });
  try {
    await generator.app.listen({ port: config.port, host: config.host });
  } catch (err) {
    await emulator?.close();
    throw err;
  }
  const address = generator.app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = config.port === 0 ? `http://localhost:${port}` : config.publicUrl;

  return {
    generator,
    ...(emulator ? { emulator } : {}),
    config,
    identity,
    url,
    async close() {
      // Readiness goes false first; in-flight requests finish; the session store closes with the app.
      generator.readiness.shuttingDown = true;
      if (config.shutdownDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs));
      // New requests get `Connection: close`; a connection whose request was in flight idles once it is
      // answered, and is closed then rather than when its keep-alive runs out.
      const closeIdle = setInterval(() => generator.app.server.closeIdleConnections(), 100);
      try {
        await generator.app.close();
      } finally {
        clearInterval(closeIdle);
      }
      await emulator?.close();
    },
  };
}

async function main(): Promise<void> {
  let loaded: LoadedConfig;
  try {
    loaded = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  // The emulator npm start starts keeps its tenant and keys in the default state folder, unless told otherwise.
  const env = { EMULATOR_STATE_DIR: defaultStateDir(process.env), ...process.env };
  try {
    // With EMULATOR_TLS=self-signed this program runs again, trusting the emulator's CA.
    if (!loaded.identity && (await relaunchTrustingEmulatorCa(env))) return;
  } catch (err) {
    process.stderr.write(`Configuration error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
  const logger = createLogger(loaded.generator.logLevel);
  let service: Service;
  try {
    service = await startService(loaded, env, { logger });
  } catch (err) {
    logger.fatal({ reason: err instanceof Error ? err.message : String(err) }, 'could not start');
    process.stderr.write(`Could not start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }

  const lines = [`Token generator: ${service.url}`];
  if (service.emulator) {
    lines.push(
      `Entra ID emulator: ${service.emulator.baseUrl} (tenant ${service.emulator.tenantId})`,
      `  well-known URL: ${service.emulator.wellKnownUrl}`,
      ...service.emulator.summary.split('\n').map((line) => `  ${line}`),
    );
  } else {
    lines.push(`Identity provider: ${service.generator.ctx.entra.metadata.issuer}`);
  }
  lines.push(
    '',
    `  App token:      curl -s -X POST ${service.url}/api/public/m2m -d "aud=dev-gcp:my-team:my-app"`,
    `  Employee token: open ${service.url}/api/obo?aud=dev-gcp:my-team:my-app in a browser`,
    '',
  );
  process.stdout.write(`${lines.join('\n')}\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error('shutdown took too long, exiting');
      process.exit(1);
    }, service.config.shutdownDelayMs + DRAIN_LIMIT_MS);
    deadline.unref();
    service.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main();
}
