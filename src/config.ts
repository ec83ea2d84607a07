/**
 * Every environment variable the token generator reads, in one place, validated.
 * A mistake stops start-up with a message that names the variable.
 */
import { z } from 'zod';

export type ClientAuthConfig =
  | { method: 'private_key_jwt'; jwk: PrivateJwk }
  | { method: 'client_secret'; secret: string };

export interface PrivateJwk {
  kty: string;
  kid: string;
  alg?: string;
  [key: string]: unknown;
}

export type ProviderConfig =
  | { discovery: 'well-known'; wellKnownUrl: string }
  | { discovery: 'explicit'; issuer: string; jwksUri: string; tokenEndpoint: string; wellKnownUrl?: string };

export interface IdentityConfig {
  clientId: string;
  tenantId?: string;
  auth: ClientAuthConfig;
  provider: ProviderConfig;
}

export interface GeneratorConfig {
  port: number;
  host: string;
  /** Where browsers reach this service; the login redirect URI is built from it. */
  publicUrl: string;
  logLevel: string;
  nais: { app: string; namespace: string; cluster: string };
  idp: { timeoutMs: number; retries: number };
  session: { encryptionKey?: string; maxLifetimeMs: number; redisUrl?: string; redisVariable?: 'REDIS_URL' | 'REDIS_URI_SESSIONS' };
  cache: { maxEntries: number };
  /**
   * Requests per window: `max` per address on the public endpoints and on a person's token routes;
   * per login and for fresh tokens on those; logins started and command-line codes per address.
   */
  rateLimit: {
    max: number;
    windowMs: number;
    sessionMax: number;
    freshSessionMax: number;
    freshAddressMax: number;
    loginMax: number;
    cliTokenMax: number;
  };
  /** How long a device flow's user code waits for the person's answer. */
  deviceCodeSeconds: number;
  bodyLimitBytes: number;
  /** Connections held at once, and how long a connection may take to send a request's headers. */
  connections: { max: number; headersTimeoutMs: number };
  /** Proxies in front of the service whose X-Forwarded-For is trusted for the client address. */
  trustProxyHops: number;
  /** Time between readiness going false and the listener closing, so the platform stops routing first. */
  shutdownDelayMs: number;
}

export interface LoadedConfig {
  generator: GeneratorConfig;
  /** Undefined when no Entra ID configuration is given: then the emulator stands in for it. */
  identity?: IdentityConfig;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

const ENTRA_VARIABLES = [
  'AZURE_APP_CLIENT_ID',
  'AZURE_APP_JWK',
  'AZURE_APP_CLIENT_SECRET',
  'AZURE_APP_WELL_KNOWN_URL',
  'AZURE_OPENID_CONFIG_ISSUER',
  'AZURE_OPENID_CONFIG_JWKS_URI',
  'AZURE_OPENID_CONFIG_TOKEN_ENDPOINT',
  'AZURE_APP_TENANT_ID',
] as const;

function nonEmpty(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function parseWith<T>(env: NodeJS.ProcessEnv, name: string, schema: z.ZodType<T>, fallback: T): T {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return fallback;
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(name, `${result.error.issues[0]?.message ?? 'invalid value'} (got ${JSON.stringify(raw)})`);
  }
  return result.data;
}

const PORT_RULE = 'must be a whole number from 0 to 65535';
const port = z.coerce.number({ error: PORT_RULE }).int(PORT_RULE).min(0, PORT_RULE).max(65535, PORT_RULE);
const positiveInt = z.coerce.number().int('must be a whole number').positive('must be greater than 0');
const nonNegativeInt = z.coerce.number().int('must be a whole number').min(0, 'must be 0 or more');
const httpUrl = z
  .string()
  .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), 'must be an http(s) URL');
const redisUrl = z
  .string()
  .refine((value) => URL.canParse(value) && /^rediss?:$/.test(new URL(value).protocol), 'must be a redis:// or rediss:// URL');
const name = z.string().regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, 'must be a lower-case Kubernetes-style name');

function parseJwk(raw: string): PrivateJwk {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new ConfigError('AZURE_APP_JWK', 'is not valid JSON; it must be a private JSON Web Key');
  }
  const jwk = z
    .object({ kty: z.string(), kid: z.string().min(1), alg: z.string().optional(), d: z.string().min(1) })
    .loose()
    .safeParse(value);
  if (!jwk.success) {
    throw new ConfigError('AZURE_APP_JWK', 'must be a private JSON Web Key with "kty", "kid" and "d"');
  }
  return jwk.data as PrivateJwk;
}

function loadIdentity(env: NodeJS.ProcessEnv): IdentityConfig | undefined {
  const present = ENTRA_VARIABLES.filter((variable) => nonEmpty(env, variable) !== undefined);
  if (present.length === 0) return undefined;

  const clientId = nonEmpty(env, 'AZURE_APP_CLIENT_ID');
  if (!clientId) {
    throw new ConfigError('AZURE_APP_CLIENT_ID', `is required when Entra ID is configured (${present.join(', ')} ${present.length === 1 ? 'is' : 'are'} set)`);
  }

  const jwk = nonEmpty(env, 'AZURE_APP_JWK');
  const secret = nonEmpty(env, 'AZURE_APP_CLIENT_SECRET');
  let auth: ClientAuthConfig;
  if (jwk) auth = { method: 'private_key_jwt', jwk: parseJwk(jwk) };
  else if (secret) auth = { method: 'client_secret', secret };
  else throw new ConfigError('AZURE_APP_JWK', 'is required to authenticate to Entra ID (or set AZURE_APP_CLIENT_SECRET)');

  const wellKnownUrl = nonEmpty(env, 'AZURE_APP_WELL_KNOWN_URL');
  if (wellKnownUrl !== undefined) parseWith(env, 'AZURE_APP_WELL_KNOWN_URL', httpUrl, '');
  const issuer = nonEmpty(env, 'AZURE_OPENID_CONFIG_ISSUER');
  const jwksUri = nonEmpty(env, 'AZURE_OPENID_CONFIG_JWKS_URI');
  const tokenEndpoint = nonEmpty(env, 'AZURE_OPENID_CONFIG_TOKEN_ENDPOINT');

  let provider: ProviderConfig;
  if (issuer && jwksUri && tokenEndpoint) {
    for (const variable of ['AZURE_OPENID_CONFIG_ISSUER', 'AZURE_OPENID_CONFIG_JWKS_URI', 'AZURE_OPENID_CONFIG_TOKEN_ENDPOINT']) {
      parseWith(env, variable, httpUrl, '');
    }
    provider = { discovery: 'explicit', issuer, jwksUri, tokenEndpoint, ...(wellKnownUrl ? { wellKnownUrl } : {}) };
  } else if (wellKnownUrl) {
    provider = { discovery: 'well-known', wellKnownUrl };
  } else {
    const missing = [
      ['AZURE_OPENID_CONFIG_ISSUER', issuer],
      ['AZURE_OPENID_CONFIG_JWKS_URI', jwksUri],
      ['AZURE_OPENID_CONFIG_TOKEN_ENDPOINT', tokenEndpoint],
    ].find(([, value]) => value === undefined)?.[0];
    throw new ConfigError(
      'AZURE_APP_WELL_KNOWN_URL',
      `is required to find Entra ID (or set all of AZURE_OPENID_CONFIG_ISSUER, _JWKS_URI and _TOKEN_ENDPOINT; ${missing} is missing)`,
    );
  }

  const tenantId = nonEmpty(env, 'AZURE_APP_TENANT_ID');
  return { clientId, auth, provider, ...(tenantId ? { tenantId } : {}) };
}

/** REDIS_URL, or the variables NAIS injects for a Redis instance named "sessions". */
function redisFrom(env: NodeJS.ProcessEnv): { redisUrl?: string; redisVariable?: 'REDIS_URL' | 'REDIS_URI_SESSIONS' } {
  if (nonEmpty(env, 'REDIS_URL')) return { redisUrl: parseWith(env, 'REDIS_URL', redisUrl, ''), redisVariable: 'REDIS_URL' };
  if (!nonEmpty(env, 'REDIS_URI_SESSIONS')) return {};
  const url = new URL(parseWith(env, 'REDIS_URI_SESSIONS', redisUrl, ''));
  const username = nonEmpty(env, 'REDIS_USERNAME_SESSIONS');
  const password = nonEmpty(env, 'REDIS_PASSWORD_SESSIONS');
  if (username) url.username = encodeURIComponent(username);
  if (password) url.password = encodeURIComponent(password);
  return { redisUrl: url.toString(), redisVariable: 'REDIS_URI_SESSIONS' };
}

/**
 * With the emulator as identity provider anyone who reaches the port can mint tokens for any
 * employee, so the generator then listens on loopback only unless HOST says otherwise.
 */
function listenHost(env: NodeJS.ProcessEnv, identity: IdentityConfig | undefined): string {
  return nonEmpty(env, 'HOST') ?? (identity ? '0.0.0.0' : '127.0.0.1');
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const identity = loadIdentity(env);
  const listenPort = parseWith(env, 'PORT', port, 8080);
  const publicUrl = parseWith(env, 'PUBLIC_URL', httpUrl, `http://localhost:${listenPort}`).replace(/\/+$/, '');
  const generator: GeneratorConfig = {
    port: listenPort,
    host: listenHost(env, identity),
    publicUrl,
    logLevel: parseWith(env, 'LOG_LEVEL', z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), 'info'),
    nais: {
      app: parseWith(env, 'NAIS_APP_NAME', name, 'azure-token-generator'),
      namespace: parseWith(env, 'NAIS_NAMESPACE', name, 'nais'),
      cluster: parseWith(env, 'NAIS_CLUSTER_NAME', name, 'dev-gcp'),
    },
    idp: {
      timeoutMs: parseWith(env, 'IDP_TIMEOUT_MS', positiveInt, 5000),
      retries: parseWith(env, 'IDP_RETRIES', nonNegativeInt.max(5, 'must be at most 5'), 2),
    },
    session: {
      maxLifetimeMs: parseWith(env, 'SESSION_MAX_LIFETIME_HOURS', z.coerce.number().positive('must be greater than 0'), 10) * 3_600_000,
      ...(nonEmpty(env, 'SESSION_ENCRYPTION_KEY') ? { encryptionKey: nonEmpty(env, 'SESSION_ENCRYPTION_KEY') } : {}),
      ...redisFrom(env),
    },
    cache: { maxEntries: parseWith(env, 'TOKEN_CACHE_MAX_ENTRIES', positiveInt, 10_000) },
    rateLimit: {
      max: parseWith(env, 'RATE_LIMIT_MAX', positiveInt, 600),
      windowMs: parseWith(env, 'RATE_LIMIT_WINDOW_SECONDS', positiveInt, 60) * 1000,
      sessionMax: parseWith(env, 'RATE_LIMIT_SESSION_MAX', positiveInt, 120),
      freshSessionMax: parseWith(env, 'RATE_LIMIT_FRESH_SESSION_MAX', positiveInt, 30),
      freshAddressMax: parseWith(env, 'RATE_LIMIT_FRESH_MAX', positiveInt, 120),
      loginMax: parseWith(env, 'RATE_LIMIT_LOGIN_MAX', positiveInt, 300),
      cliTokenMax: parseWith(env, 'RATE_LIMIT_CLI_TOKEN_MAX', positiveInt, 30),
    },
    deviceCodeSeconds: parseWith(env, 'DEVICE_CODE_SECONDS', positiveInt.max(3600, 'must be at most 3600'), 600),
    bodyLimitBytes: parseWith(env, 'BODY_LIMIT_BYTES', positiveInt, 64 * 1024),
    connections: {
      max: parseWith(env, 'MAX_CONNECTIONS', positiveInt, 800),
      headersTimeoutMs: parseWith(env, 'HEADERS_TIMEOUT_SECONDS', positiveInt.max(30, 'must be at most 30'), 10) * 1000,
    },
    trustProxyHops: parseWith(env, 'TRUST_PROXY_HOPS', nonNegativeInt.max(10, 'must be at most 10'), 0),
    shutdownDelayMs: parseWith(env, 'SHUTDOWN_DELAY_SECONDS', z.coerce.number().min(0, 'must be 0 or more').max(60, 'must be at most 60'), 0) * 1000,
  };
  return { generator, ...(identity ? { identity } : {}) };
}
