/**
 * The token generator's environment variables, validated with the project's one helper (`readEnv`,
 * src/env.ts); an identity provider's own are read in its folder (`idp/providers.ts` asks each). A
 * mistake stops start-up with a message that names the variable.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { NAME_PATTERN } from './audience.js';
import { ConfigError, decimal, httpUrl, LOG_LEVEL, oneOf, optional, port, readEnv, text, wholeNumber, withDefault } from './env.js';
import { parseKey } from './session/crypto.js';
import proxyAddr from '@fastify/proxy-addr';
import { LOCAL_PROXIES } from './generator/http/client-address.js';
import { EXAMPLE_LOGIN_DOMAIN, identityFromEnv, loginDomainOf, PROVIDER_KINDS, type IdentityConfig } from './generator/idp/providers.js';

export { ConfigError };

/** Where sessions are shared: Redis or Valkey, from one of STORE_SOURCES. */
export interface SessionStoreConfig {
  /** A redis:// or rediss:// URL (NAIS's valkey:// and valkeys:// are read as these). */
  url: string;
  /** The variable the URL came from, named in what the operators read. */
  variable: StoreVariable;
  username?: string;
  password?: string;
  /** PEM certificates to verify the store's TLS certificate with, from SESSION_STORE_CA_FILE. */
  ca?: string;
}

export interface GeneratorConfig {
  port: number;
  host: string;
  /** Where browsers reach this service; the login redirect URI is built from it. */
  publicUrl: string;
  logLevel: string;
  nais: { app: string; namespace: string; cluster: string };
  idp: { timeoutMs: number; retries: number };
  session: { encryptionKey?: Uint8Array; maxLifetimeMs: number; store?: SessionStoreConfig };
  cache: { maxEntries: number };
  /**
   * Requests per window: `max` per address on the public endpoints and on an employee's token routes;
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
  /** How long a device flow's user code waits for the employee's answer. */
  deviceCodeSeconds: number;
  /** The seconds a tool in the device flow is told to wait between polls (RFC 8628's `interval`). */
  devicePollIntervalSeconds: number;
  bodyLimitBytes: number;
  /** Connections held at once, and how long a connection may take to send a request's headers. */
  connections: { max: number; headersTimeoutMs: number };
  /** Proxies in front of the service whose X-Forwarded-For is trusted for the client address. */
  trustProxyHops: number;
  /** Where those proxies may connect from: only there is X-Forwarded-For read. */
  trustedProxies: string[];
  /** Time between readiness going false and the listener closing, so the platform stops routing first. */
  shutdownDelayMs: number;
  /**
   * The domain of the users who can log in (the tenant's), said on the pages before a login and sent
   * to the identity provider as `domain_hint`: LOGIN_TENANT_DOMAIN, else what the provider's configuration
   * says, else the development tenant's (`loginDomainOf`).
   */
  loginDomain: string;
}

export interface LoadedConfig {
  generator: GeneratorConfig;
  /** Undefined when no identity provider is configured: then the emulator stands in for one. */
  identity?: IdentityConfig;
}

/** NAIS names Valkey's URLs valkey:// and valkeys:// (TLS); Redis clients know them as redis:// and rediss://. */
const storeUrl = z
  .string()
  .refine(
    (value) => URL.canParse(value) && /^(redis|valkey)s?:$/.test(new URL(value).protocol),
    'must be a redis(s):// or valkey(s):// URL',
  )
  .transform((value) => value.replace(/^valkey(s?):/i, 'redis$1:'));
const name = z.string().regex(NAME_PATTERN, 'must be a lower-case Kubernetes-style name');
const atLeastOne = (fallback: number) => withDefault(wholeNumber(1), fallback);
const encryptionKey = z.string().transform((value, context) => {
  try {
    return parseKey(value);
  } catch (err) {
    context.addIssue({ code: 'custom', message: err instanceof Error ? err.message : 'is not a key' });
    return z.NEVER;
  }
});

/** Addresses, CIDR ranges or proxy-addr's names (loopback, linklocal, uniquelocal), separated by commas. */
const proxyRanges = z.string().transform((value, context) => {
  const ranges = value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  try {
    proxyAddr.compile(ranges);
  } catch (err) {
    context.addIssue({
      code: 'custom',
      message: `must be addresses or CIDR ranges separated by commas (${err instanceof Error ? err.message : 'unreadable'})`,
    });
    return z.NEVER;
  }
  return ranges;
});
/** On NAIS the proxies in front are in the cluster's private ranges. */
const NAIS_PROXIES = ['loopback', 'uniquelocal'];

/** The variables, each with its rule and default: docs/configuration.md lists them, and a test holds it to this. */
export const VARIABLES = {
  PORT: withDefault(port, 8080),
  HOST: text,
  PUBLIC_URL: optional(httpUrl),
  LOG_LEVEL,
  NAIS_APP_NAME: withDefault(name, 'azure-token-generator'),
  NAIS_NAMESPACE: withDefault(name, 'nais'),
  NAIS_CLUSTER_NAME: withDefault(name, 'dev-gcp'),
  IDP_TIMEOUT_MS: atLeastOne(5000),
  IDP_RETRIES: withDefault(wholeNumber(0, 5), 2),
  SESSION_MAX_LIFETIME_HOURS: withDefault(decimal(0.01), 10),
  SESSION_ENCRYPTION_KEY: optional(encryptionKey),
  SESSION_STORE: optional(oneOf(['memory'])),
  SESSION_STORE_CA_FILE: text,
  REDIS_URL: optional(storeUrl),
  VALKEY_URI_SESSIONS: optional(storeUrl),
  VALKEY_USERNAME_SESSIONS: text,
  VALKEY_PASSWORD_SESSIONS: text,
  REDIS_URI_SESSIONS: optional(storeUrl),
  REDIS_USERNAME_SESSIONS: text,
  REDIS_PASSWORD_SESSIONS: text,
  TOKEN_CACHE_MAX_ENTRIES: atLeastOne(10_000),
  RATE_LIMIT_MAX: atLeastOne(600),
  RATE_LIMIT_WINDOW_SECONDS: atLeastOne(60),
  RATE_LIMIT_SESSION_MAX: atLeastOne(120),
  RATE_LIMIT_FRESH_SESSION_MAX: atLeastOne(30),
  RATE_LIMIT_FRESH_MAX: atLeastOne(120),
  RATE_LIMIT_LOGIN_MAX: atLeastOne(300),
  RATE_LIMIT_CLI_TOKEN_MAX: atLeastOne(30),
  DEVICE_CODE_SECONDS: withDefault(wholeNumber(1, 300), 300),
  DEVICE_POLL_INTERVAL_SECONDS: withDefault(wholeNumber(1, 60), 5),
  BODY_LIMIT_BYTES: atLeastOne(64 * 1024),
  MAX_CONNECTIONS: atLeastOne(800),
  HEADERS_TIMEOUT_SECONDS: withDefault(wholeNumber(1, 30), 10),
  TRUST_PROXY_HOPS: withDefault(wholeNumber(0, 10), 0),
  TRUSTED_PROXIES: optional(proxyRanges),
  SHUTDOWN_DELAY_SECONDS: withDefault(decimal(0, 60), 0),
  IDENTITY_PROVIDER: optional(oneOf(PROVIDER_KINDS)),
  LOGIN_TENANT_DOMAIN: optional(z.string().regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/, `must be a domain, such as ${EXAMPLE_LOGIN_DOMAIN}`)),
};
/** Never shown in a message. */
const SECRETS = [
  'SESSION_ENCRYPTION_KEY',
  'REDIS_URL',
  'VALKEY_URI_SESSIONS',
  'VALKEY_PASSWORD_SESSIONS',
  'REDIS_URI_SESSIONS',
  'REDIS_PASSWORD_SESSIONS',
];
type Variables = z.output<z.ZodObject<typeof VARIABLES>>;

/**
 * Where the session store's address is read, first found first: REDIS_URL (set by hand), then what NAIS
 * injects for `spec.valkey` with the instance `sessions`, then what it injected for the `spec.redis` of before.
 */
const STORE_SOURCES = [
  { variable: 'REDIS_URL' },
  { variable: 'VALKEY_URI_SESSIONS', username: 'VALKEY_USERNAME_SESSIONS', password: 'VALKEY_PASSWORD_SESSIONS' },
  { variable: 'REDIS_URI_SESSIONS', username: 'REDIS_USERNAME_SESSIONS', password: 'REDIS_PASSWORD_SESSIONS' },
] as const;
type StoreVariable = (typeof STORE_SOURCES)[number]['variable'];

/**
 * On NAIS: the platform sets NAIS_POD_NAME and NAIS_CLUSTER_NAME in every pod. The emulator's `env` for an app
 * gives its cluster, namespace and name but no pod, so a laptop started with that file is not taken for NAIS.
 */
export function onNais(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.NAIS_POD_NAME?.trim() && env.NAIS_CLUSTER_NAME?.trim());
}

function caFrom(file: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError('SESSION_STORE_CA_FILE', `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}): ${file}`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError('SESSION_STORE_CA_FILE', `holds no PEM certificate: ${file}`);
  return pem;
}

function storeFrom(vars: Variables): SessionStoreConfig | undefined {
  const source = STORE_SOURCES.find(({ variable }) => vars[variable] !== undefined);
  if (vars.SESSION_STORE === 'memory') {
    if (source) throw new ConfigError('SESSION_STORE', `is memory, but ${source.variable} names a session store too: unset one of them`);
    return undefined;
  }
  if (!source) return undefined;
  const username = 'username' in source ? vars[source.username] : undefined;
  const password = 'password' in source ? vars[source.password] : undefined;
  return {
    url: vars[source.variable]!,
    variable: source.variable,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(vars.SESSION_STORE_CA_FILE ? { ca: caFrom(vars.SESSION_STORE_CA_FILE) } : {}),
  };
}

/** Replicas on NAIS that each keep their own sessions lose an employee's login at the next request: refused, unless asked for. */
function missingSharedStore(cluster: string): ConfigError {
  return new ConfigError(
    'VALKEY_URI_SESSIONS',
    `is not set, and on NAIS (${cluster}) every replica must share the sessions: add spec.valkey (instance: sessions, ` +
      'access: readwrite) to the manifest, or set SESSION_STORE=memory to keep them in memory on purpose (one replica)',
  );
}

/** Replicas that share a store but each seal sessions with a key of their own cannot read each other's logins. */
function missingSharedKey(storeVariable: StoreVariable): ConfigError {
  return new ConfigError(
    'SESSION_ENCRYPTION_KEY',
    `is not set, and the replicas sharing sessions through ${storeVariable} must seal them with one key: create the secret ` +
      'azure-token-generator-session as docs/nais.md says',
  );
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const vars = readEnv(env, VARIABLES, SECRETS);
  const identity = identityFromEnv(env, vars.IDENTITY_PROVIDER);
  const nais = onNais(env);
  const store = storeFrom(vars);
  if (nais && identity && !store && vars.SESSION_STORE !== 'memory') throw missingSharedStore(vars.NAIS_CLUSTER_NAME);
  if (nais && store && !vars.SESSION_ENCRYPTION_KEY) throw missingSharedKey(store.variable);
  const generator: GeneratorConfig = {
    port: vars.PORT,
    // Whoever reaches the port gets app tokens without logging in (and, with the emulator, tokens for any
    // employee): off NAIS the generator listens on loopback only, unless HOST says otherwise.
    host: vars.HOST ?? (nais ? '0.0.0.0' : '127.0.0.1'),
    publicUrl: vars.PUBLIC_URL ?? `http://localhost:${vars.PORT}`,
    logLevel: vars.LOG_LEVEL,
    nais: { app: vars.NAIS_APP_NAME, namespace: vars.NAIS_NAMESPACE, cluster: vars.NAIS_CLUSTER_NAME },
    idp: { timeoutMs: vars.IDP_TIMEOUT_MS, retries: vars.IDP_RETRIES },
    session: {
      maxLifetimeMs: vars.SESSION_MAX_LIFETIME_HOURS * 3_600_000,
      ...(vars.SESSION_ENCRYPTION_KEY ? { encryptionKey: vars.SESSION_ENCRYPTION_KEY } : {}),
      ...(store ? { store } : {}),
    },
    cache: { maxEntries: vars.TOKEN_CACHE_MAX_ENTRIES },
    rateLimit: {
      max: vars.RATE_LIMIT_MAX,
      windowMs: vars.RATE_LIMIT_WINDOW_SECONDS * 1000,
      sessionMax: vars.RATE_LIMIT_SESSION_MAX,
      freshSessionMax: vars.RATE_LIMIT_FRESH_SESSION_MAX,
      freshAddressMax: vars.RATE_LIMIT_FRESH_MAX,
      loginMax: vars.RATE_LIMIT_LOGIN_MAX,
      cliTokenMax: vars.RATE_LIMIT_CLI_TOKEN_MAX,
    },
    deviceCodeSeconds: vars.DEVICE_CODE_SECONDS,
    devicePollIntervalSeconds: vars.DEVICE_POLL_INTERVAL_SECONDS,
    bodyLimitBytes: vars.BODY_LIMIT_BYTES,
    connections: { max: vars.MAX_CONNECTIONS, headersTimeoutMs: vars.HEADERS_TIMEOUT_SECONDS * 1000 },
    trustProxyHops: vars.TRUST_PROXY_HOPS,
    // Off NAIS a proxy is on this machine.
    trustedProxies: vars.TRUSTED_PROXIES ?? (nais ? NAIS_PROXIES : [...LOCAL_PROXIES]),
    shutdownDelayMs: vars.SHUTDOWN_DELAY_SECONDS * 1000,
    loginDomain: vars.LOGIN_TENANT_DOMAIN ?? loginDomainOf(identity),
  };
  return { generator, ...(identity ? { identity } : {}) };
}
