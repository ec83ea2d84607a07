/**
 * The one place that knows which identity providers there are: each reads its own variables (in its
 * folder) and starts from them, ready (discovery and keys loaded) or with an Error that names the
 * variable to check. A new provider is its folder under `idp/` implementing `IdentityProvider`, and
 * its line in `PROVIDERS`.
 */
import type { Logger } from 'pino';
import type { Target } from '../../audience.js';
import { EntraClient } from './entra/client.js';
import { entraLoginDomain, readEntraConfig, type EntraConfig } from './entra/variables.js';
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

/** Each under the `kind` its configuration carries; the first whose variables are set is the one that runs. */
const PROVIDERS = keyedByKind({
  entra,
});

type ConfigOf<P> = P extends Provider<infer C> ? C : never;
/** The configuration of one identity provider, told apart by `kind`. */
export type IdentityConfig = { [K in keyof typeof PROVIDERS]: ConfigOf<(typeof PROVIDERS)[K]> }[keyof typeof PROVIDERS];

/** One provider's part of the table, taken with its own configuration type. */
const providerOf = <C extends IdentityConfig>(config: C) => PROVIDERS[config.kind as C['kind']] as unknown as Provider<C>;

/** The identity provider whose variables are set, or undefined when none is (then the emulator stands in). */
export function identityFromEnv(env: NodeJS.ProcessEnv): IdentityConfig | undefined {
  for (const provider of Object.values(PROVIDERS)) {
    const config = provider.read(env);
    if (config) return config;
  }
  return undefined;
}

/** The domain of the users who log in, as the provider's configuration says it, if it does. */
export function loginDomainOf(identity: IdentityConfig): string | undefined {
  return providerOf(identity).loginDomain(identity);
}

/** Starts the provider the configuration names. */
export function startIdentityProvider(identity: IdentityConfig, options: ProviderOptions): Promise<IdentityProvider> {
  return providerOf(identity).start(identity, options);
}
