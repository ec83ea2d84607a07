/**
 * The one place that knows which identity providers there are: each reads its own variables (in its
 * folder) and starts from them, ready (discovery and keys loaded) or with an Error that names the
 * variable to check. A new provider is its folder under `idp/` implementing `IdentityProvider`, and
 * its line in `PROVIDERS`.
 */
import type { Logger } from 'pino';
import type { Target } from '../../audience.js';
import { ConfigError } from '../../config-error.js';
import { EntraClient } from './entra/client.js';
import { DEVELOPMENT_TENANT_DOMAIN, entraLoginDomain, readEntraConfig, type EntraConfig } from './entra/variables.js';
import type { IdentityProvider, TokenRequestEvent } from './identity-provider.js';

export interface ProviderOptions {
  /** How long one request to the provider may take, and how often a failed one is tried again. */
  timeoutMs: number;
  retries: number;
  logger: Logger;
  /** This generator, named in the advice when a target has not authorized it. */
  generator: Target;
  /** Every request to the provider's token endpoint, for the metrics. */
  onTokenRequest: (event: TokenRequestEvent) => void;
}

/** What the wiring needs of a provider: its configuration from the environment, and a start from that configuration. */
interface Provider<C extends { kind: string }> {
  /** Undefined when none of the provider's variables is set; a ConfigError when they are set wrongly. */
  read(env: NodeJS.ProcessEnv): C | undefined;
  start(config: C, options: ProviderOptions): Promise<IdentityProvider>;
  /** The domain of the users who log in, when the configuration says it. */
  loginDomain(config: C): string | undefined;
}

const entra: Provider<EntraConfig> = {
  read: readEntraConfig,
  async start(config, options) {
    const client = new EntraClient(config, { ...options, logger: options.logger.child({ component: 'entra' }) });
    await client.init();
    return client;
  },
  loginDomain: entraLoginDomain,
};

/** A table in which each provider's key is the `kind` of its configuration, checked by the compiler. */
const keyedByKind = <T extends { [K in keyof T]: Provider<{ kind: K & string }> }>(table: T) => table;

/** Each under the `kind` its configuration carries. */
const PROVIDERS = keyedByKind({
  entra,
});

/** The kinds an operator can pick from with IDENTITY_PROVIDER. */
export const PROVIDER_KINDS = Object.keys(PROVIDERS) as [keyof typeof PROVIDERS, ...(keyof typeof PROVIDERS)[]];

type ConfigOf<P> = P extends Provider<infer C> ? C : never;
/** The configuration of one identity provider, told apart by `kind`. */
export type IdentityConfig = { [K in keyof typeof PROVIDERS]: ConfigOf<(typeof PROVIDERS)[K]> }[keyof typeof PROVIDERS];

/** One provider's part of the table, taken with its own configuration type. */
const providerOf = <C extends IdentityConfig>(config: C) => PROVIDERS[config.kind as C['kind']] as unknown as Provider<C>;

/**
 * The identity provider whose variables are set, or the one `picked` (IDENTITY_PROVIDER); undefined when none is set (then the
 * emulator stands in).
 */
export function identityFromEnv(env: NodeJS.ProcessEnv, picked?: keyof typeof PROVIDERS): IdentityConfig | undefined {
  return chooseIdentity(PROVIDERS, env, picked);
}

/**
 * One platform can set the variables of two providers for one app (NAIS injects those of each it enables), so when more than
 * one is set the operator names the one to run; taking the first would run one the operator may not have meant. The one
 * picked is the only one read: another's variables, set for the app's other uses, are none of the generator's business.
 */
export function chooseIdentity<C extends { kind: string }>(
  providers: Record<string, { read(env: NodeJS.ProcessEnv): C | undefined }>,
  env: NodeJS.ProcessEnv,
  picked?: string,
): C | undefined {
  if (picked !== undefined) {
    const config = providers[picked]?.read(env);
    if (!config) throw new ConfigError('IDENTITY_PROVIDER', `is ${picked}, but none of its variables is set`);
    return config;
  }
  const configured = Object.values(providers).flatMap((provider) => provider.read(env) ?? []);
  if (configured.length > 1) {
    const kinds = configured.map((config) => config.kind).join(' and ');
    throw new ConfigError('IDENTITY_PROVIDER', `must name the identity provider to use: the variables of ${kinds} are set`);
  }
  return configured[0];
}

/** An example of a login domain, for the message about one that is not. */
export const EXAMPLE_LOGIN_DOMAIN = DEVELOPMENT_TENANT_DOMAIN;

/**
 * The domain of the users who log in, as the provider's configuration says it, else the development tenant's in Entra ID: where
 * the generator is meant to run, and what the emulator, standing in when no provider is configured, plays.
 */
export function loginDomainOf(identity: IdentityConfig | undefined): string {
  return (identity && providerOf(identity).loginDomain(identity)) ?? DEVELOPMENT_TENANT_DOMAIN;
}

/** Starts the provider the configuration names. */
export function startIdentityProvider(identity: IdentityConfig, options: ProviderOptions): Promise<IdentityProvider> {
  return providerOf(identity).start(identity, options);
}
