/**
 * How this service meets Entra ID: its endpoints (from discovery, or given one by one) and how it
 * authenticates (a client secret, or a private key that signs a short-lived client assertion).
 * Mistakes here are the operators' to fix, so every error names the variable to check.
 */
import * as oidc from 'openid-client';
import { importJWK, SignJWT } from 'jose';
import type { Logger } from 'pino';
import { ConfigError } from '../../../config-error.js';
import type { ClientAuthConfig, EntraConfig, PrivateJwk, ProviderConfig } from './variables.js';
import type { IdpError } from '../identity-provider.js';
import { toIdpError, type Transport } from './transport.js';

/**
 * openid-client's configuration for Entra (endpoints, client authentication, and the transport it
 * fetches with), and where Entra publishes its keys. Throws an Error that names the variable to check.
 */
export async function loadConfiguration(
  identity: EntraConfig,
  transport: Transport,
  assertionLifetimeSeconds: number,
): Promise<{ configuration: oidc.Configuration; jwksUri: string }> {
  // Entra expects its token endpoint as the client assertion's audience: discovery's, or before it the one given.
  let configuration: oidc.Configuration | undefined = undefined;
  const provider = identity.provider;
  const tokenEndpoint = () =>
    configuration?.serverMetadata().token_endpoint ?? (provider.discovery === 'explicit' ? provider.tokenEndpoint : undefined);
  const auth = await clientAuth(identity.auth, assertionLifetimeSeconds, tokenEndpoint);
  configuration =
    provider.discovery === 'well-known'
      ? await discover(provider.wellKnownUrl, identity.clientId, auth, transport)
      : explicitConfiguration(provider, identity.clientId, auth);
  transport.use(configuration);
  const jwksUri = configuration.serverMetadata().jwks_uri;
  if (!jwksUri) throw new Error('AZURE_OPENID_CONFIG_JWKS_URI: the identity provider publishes no jwks_uri');
  return { configuration, jwksUri };
}

async function discover(wellKnownUrl: string, clientId: string, auth: oidc.ClientAuth, transport: Transport): Promise<oidc.Configuration> {
  const url = new URL(wellKnownUrl);
  try {
    return await oidc.discovery(url, clientId, undefined, auth, {
      [oidc.customFetch]: transport.fetch,
      timeout: transport.libraryTimeoutSeconds,
      ...(url.protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : {}),
    });
  } catch (err) {
    throw new Error(`AZURE_APP_WELL_KNOWN_URL: could not load the discovery document at ${url.href}: ${toIdpError(err).message}`, {
      cause: err,
    });
  }
}

function explicitConfiguration(
  provider: Extract<ProviderConfig, { discovery: 'explicit' }>,
  clientId: string,
  auth: oidc.ClientAuth,
): oidc.Configuration {
  // Entra puts authorize and logout beside the token endpoint.
  const base = provider.tokenEndpoint.replace(/\/token$/, '');
  const configuration = new oidc.Configuration(
    {
      issuer: provider.issuer,
      token_endpoint: provider.tokenEndpoint,
      jwks_uri: provider.jwksUri,
      authorization_endpoint: `${base}/authorize`,
      end_session_endpoint: `${base}/logout`,
    },
    clientId,
    undefined,
    auth,
  );
  if (new URL(provider.tokenEndpoint).protocol === 'http:') oidc.allowInsecureRequests(configuration);
  return configuration;
}

/** The client authentication, with its key checked now rather than at the first token request. */
async function clientAuth(
  auth: ClientAuthConfig,
  assertionLifetimeSeconds: number,
  tokenEndpoint: () => string | undefined,
): Promise<oidc.ClientAuth> {
  if (auth.method === 'client_secret') return oidc.ClientSecretPost(auth.secret);
  const alg = auth.jwk.alg ?? 'RS256';
  const key = await signingKey(auth.jwk, alg);
  return oidc.PrivateKeyJwt(
    { key, kid: auth.jwk.kid },
    {
      [oidc.modifyAssertion]: (_header, payload) => {
        // Entra expects the token endpoint as audience; keep the assertion short-lived.
        const audience = tokenEndpoint();
        if (audience) payload.aud = audience;
        const now = Math.floor(Date.now() / 1000);
        payload.iat = now;
        payload.nbf = now;
        payload.exp = now + assertionLifetimeSeconds;
      },
    },
  );
}

type PrivateKey = Exclude<Awaited<ReturnType<typeof importJWK>>, Uint8Array>;

async function signingKey(jwk: PrivateJwk, alg: string): Promise<PrivateKey> {
  let key: Awaited<ReturnType<typeof importJWK>>;
  try {
    key = await importJWK(jwk, alg);
  } catch (err) {
    throw unusableKey(`its key material cannot be used as a ${alg} private key`, err);
  }
  if (key instanceof Uint8Array) throw new ConfigError('AZURE_APP_JWK', 'must be an asymmetric private key');
  try {
    // Importing checks little of an RSA key; signing finds broken material before the first request does.
    await new SignJWT({}).setProtectedHeader({ alg }).sign(key);
  } catch (err) {
    throw unusableKey(`its key material cannot sign as a ${alg} private key`, err);
  }
  return key;
}

function unusableKey(what: string, err: unknown): ConfigError {
  const reason = err instanceof Error ? err.message : String(err);
  return new ConfigError('AZURE_APP_JWK', `${what} (${reason}); give the private JWK Entra ID knows for this app`);
}

/**
 * Says once, for the operators, that Entra refuses this service's own credentials: every employee's
 * request fails for it, and each of them is told it is the service's fault. Said again after a token
 * request has succeeded in between.
 */
export function credentialsWatch(identity: EntraConfig, logger: Logger): { accepted(): void; refused(error: IdpError): void } {
  let said = false;
  const variable = identity.auth.method === 'private_key_jwt' ? 'AZURE_APP_JWK' : 'AZURE_APP_CLIENT_SECRET';
  return {
    accepted: () => {
      said = false;
    },
    refused: (error) => {
      if (said) return;
      said = true;
      const failure = error.failure;
      const upstream = failure.kind === 'rejected' ? failure.description?.split(/\r?\n/)[0] : undefined;
      logger.error(
        { variable, aadsts: failure.kind === 'rejected' ? failure.aadsts : undefined, reason: error.message, upstream },
        `${variable}: the identity provider does not accept this service's credentials for AZURE_APP_CLIENT_ID ${identity.clientId}; ` +
          'no login or token request can succeed until the operators give it the credentials Entra ID knows for this app',
      );
    },
  };
}
