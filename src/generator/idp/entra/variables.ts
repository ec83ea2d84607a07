/**
 * Entra ID's variables, as NAIS sets them for `spec.azure.application`: read here, beside the client
 * that uses them, so that a provider's configuration lives in its folder. A mistake stops start-up
 * with a ConfigError that names the variable.
 */
import { z } from 'zod';
import { ConfigError, httpUrl, optional, readEnv, text } from '../../../env.js';

export type ClientAuthConfig = { method: 'private_key_jwt'; jwk: PrivateJwk } | { method: 'client_secret'; secret: string };

export interface PrivateJwk {
  kty: string;
  kid: string;
  alg?: string;
  [key: string]: unknown;
}

/** How the generator finds Entra ID: discovery, or all three endpoints given. */
export type ProviderConfig =
  | { discovery: 'well-known'; wellKnownUrl: string }
  | { discovery: 'explicit'; issuer: string; jwksUri: string; tokenEndpoint: string; wellKnownUrl?: string };

export interface EntraConfig {
  kind: 'entra';
  clientId: string;
  tenantId?: string;
  auth: ClientAuthConfig;
  provider: ProviderConfig;
}

export const VARIABLES = {
  AZURE_APP_CLIENT_ID: text,
  AZURE_APP_JWK: text,
  AZURE_APP_CLIENT_SECRET: text,
  AZURE_APP_WELL_KNOWN_URL: optional(httpUrl),
  AZURE_OPENID_CONFIG_ISSUER: optional(httpUrl),
  AZURE_OPENID_CONFIG_JWKS_URI: optional(httpUrl),
  AZURE_OPENID_CONFIG_TOKEN_ENDPOINT: optional(httpUrl),
  AZURE_APP_TENANT_ID: text,
};
/** Never shown in a message. */
const SECRETS = ['AZURE_APP_JWK', 'AZURE_APP_CLIENT_SECRET'] as const satisfies readonly (keyof typeof VARIABLES)[];
type Variables = z.output<z.ZodObject<typeof VARIABLES>>;
const NAMES = Object.keys(VARIABLES) as (keyof typeof VARIABLES)[];

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
  return jwk.data;
}

function providerOf(vars: Variables): ProviderConfig {
  const wellKnownUrl = vars.AZURE_APP_WELL_KNOWN_URL;
  const issuer = vars.AZURE_OPENID_CONFIG_ISSUER;
  const jwksUri = vars.AZURE_OPENID_CONFIG_JWKS_URI;
  const tokenEndpoint = vars.AZURE_OPENID_CONFIG_TOKEN_ENDPOINT;
  if (issuer && jwksUri && tokenEndpoint)
    return { discovery: 'explicit', issuer, jwksUri, tokenEndpoint, ...(wellKnownUrl ? { wellKnownUrl } : {}) };
  if (wellKnownUrl) return { discovery: 'well-known', wellKnownUrl };
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

/** Entra ID's configuration, or undefined when none of its variables is set (any of them means Entra ID is configured). */
export function readEntraConfig(env: NodeJS.ProcessEnv): EntraConfig | undefined {
  const vars = readEnv(env, VARIABLES, SECRETS);
  const present = NAMES.filter((name) => vars[name] !== undefined);
  if (present.length === 0) return undefined;
  const clientId = vars.AZURE_APP_CLIENT_ID;
  if (!clientId) {
    throw new ConfigError(
      'AZURE_APP_CLIENT_ID',
      `is required when Entra ID is configured (${present.join(', ')} ${present.length === 1 ? 'is' : 'are'} set)`,
    );
  }
  let auth: ClientAuthConfig;
  if (vars.AZURE_APP_JWK) auth = { method: 'private_key_jwt', jwk: parseJwk(vars.AZURE_APP_JWK) };
  else if (vars.AZURE_APP_CLIENT_SECRET) auth = { method: 'client_secret', secret: vars.AZURE_APP_CLIENT_SECRET };
  else throw new ConfigError('AZURE_APP_JWK', 'is required to authenticate to Entra ID (or set AZURE_APP_CLIENT_SECRET)');
  const tenantId = vars.AZURE_APP_TENANT_ID;
  return { kind: 'entra', clientId, auth, provider: providerOf(vars), ...(tenantId ? { tenantId } : {}) };
}

/**
 * NAV's development tenant, where employees have trygdeetaten.no users: the users' domain when the tenant is given by its id
 * (the nav.no tenant is not supported).
 */
export const DEVELOPMENT_TENANT_DOMAIN = 'trygdeetaten.no';

/** The tenant's domain, when the tenant is given by its domain rather than its id: the users' domain at login. */
export function entraLoginDomain(config: EntraConfig): string | undefined {
  return config.tenantId?.includes('.') ? config.tenantId.toLowerCase() : undefined;
}
