/**
 * The one place that knows which identity providers there are: each starts from the configuration,
 * ready (discovery and keys loaded) or with an Error that names the variable to check. A new provider
 * is its folder under `idp/` implementing `IdentityProvider`, and its line in `PROVIDERS`.
 */
import type { Logger } from 'pino';
import type { GeneratorConfig, IdentityConfig } from '../../config.js';
import { EntraClient } from './entra/client.js';
import type { IdentityProvider, TokenRequestEvent } from './identity-provider.js';

export interface ProviderOptions {
  /** How long one request to the provider may take, and how often a failed one is tried again. */
  timeoutMs: number;
  retries: number;
  logger: Logger;
  /** This generator, named in the advice when a target has not authorized it. */
  generator: GeneratorConfig['nais'];
  /** Every request to the provider's token endpoint, for the metrics. */
  onTokenRequest: (event: TokenRequestEvent) => void;
}

type Start = (identity: IdentityConfig, options: ProviderOptions) => Promise<IdentityProvider>;

async function startEntra(identity: IdentityConfig, options: ProviderOptions): Promise<IdentityProvider> {
  const client = new EntraClient(identity, { ...options, logger: options.logger.child({ component: 'entra' }) });
  await client.init();
  return client;
}

const PROVIDERS = {
  entra: startEntra,
} satisfies Record<string, Start>;

/** The provider the configuration names: the configuration has Entra ID's variables only, so that is Entra ID. */
export function startIdentityProvider(identity: IdentityConfig, options: ProviderOptions): Promise<IdentityProvider> {
  return PROVIDERS.entra(identity, options);
}
