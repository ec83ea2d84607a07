import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const jwk = JSON.stringify({ kty: 'RSA', kid: 'k1', alg: 'RS256', n: 'n', e: 'AQAB', d: 'd' });

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a configuration error');
}

describe('configuration', () => {
  it('has defaults that need nothing, and no identity provider (the emulator stands in)', () => {
    const config = loadConfig({});
    expect(config.identity).toBeUndefined();
    expect(config.generator.port).toBe(8080);
    expect(config.generator.publicUrl).toBe('http://localhost:8080');
    expect(config.generator.nais).toEqual({ app: 'azure-token-generator', namespace: 'nais', cluster: 'dev-gcp' });
    expect(config.generator.session.maxLifetimeMs).toBe(10 * 3_600_000);
  });

  it('listens on loopback only with the emulator, on every address with Entra ID, and where HOST says in both cases', () => {
    const entra = {
      AZURE_APP_CLIENT_ID: 'client',
      AZURE_APP_CLIENT_SECRET: 's',
      AZURE_APP_WELL_KNOWN_URL: 'https://idp.test/.well-known/openid-configuration',
    };
    expect(loadConfig({}).generator.host).toBe('127.0.0.1');
    expect(loadConfig({ HOST: '0.0.0.0' }).generator.host).toBe('0.0.0.0');
    expect(loadConfig(entra).generator.host).toBe('0.0.0.0');
    expect(loadConfig({ ...entra, HOST: '::1' }).generator.host).toBe('::1');
  });

  it('reads the NAIS variables for Entra ID with a private JWK', () => {
    const config = loadConfig({
      AZURE_APP_CLIENT_ID: 'client',
      AZURE_APP_JWK: jwk,
      AZURE_APP_WELL_KNOWN_URL: 'https://login.microsoftonline.com/t/v2.0/.well-known/openid-configuration',
      AZURE_APP_TENANT_ID: 't',
      NAIS_APP_NAME: 'my-generator',
    });
    expect(config.identity?.auth.method).toBe('private_key_jwt');
    expect(config.identity?.provider).toEqual({
      discovery: 'well-known',
      wellKnownUrl: 'https://login.microsoftonline.com/t/v2.0/.well-known/openid-configuration',
    });
    expect(config.generator.nais.app).toBe('my-generator');
  });

  it('takes explicit endpoints instead of discovery, and a client secret', () => {
    const config = loadConfig({
      AZURE_APP_CLIENT_ID: 'client',
      AZURE_APP_CLIENT_SECRET: 's3cret',
      AZURE_OPENID_CONFIG_ISSUER: 'https://idp/t/v2.0',
      AZURE_OPENID_CONFIG_JWKS_URI: 'https://idp/t/discovery/v2.0/keys',
      AZURE_OPENID_CONFIG_TOKEN_ENDPOINT: 'https://idp/t/oauth2/v2.0/token',
    });
    expect(config.identity?.auth).toEqual({ method: 'client_secret', secret: 's3cret' });
    expect(config.identity?.provider.discovery).toBe('explicit');
  });

  it.each([
    [{ AZURE_APP_JWK: jwk }, 'AZURE_APP_CLIENT_ID'],
    [{ AZURE_APP_CLIENT_ID: 'c', AZURE_APP_WELL_KNOWN_URL: 'https://x/.well-known/openid-configuration' }, 'AZURE_APP_JWK'],
    [{ AZURE_APP_CLIENT_ID: 'c', AZURE_APP_JWK: jwk }, 'AZURE_APP_WELL_KNOWN_URL'],
    [{ AZURE_APP_CLIENT_ID: 'c', AZURE_APP_JWK: '{not json', AZURE_APP_WELL_KNOWN_URL: 'https://x' }, 'AZURE_APP_JWK'],
    [{ AZURE_APP_CLIENT_ID: 'c', AZURE_APP_JWK: '{"kty":"RSA"}', AZURE_APP_WELL_KNOWN_URL: 'https://x' }, 'AZURE_APP_JWK'],
    [{ AZURE_APP_CLIENT_ID: 'c', AZURE_APP_JWK: jwk, AZURE_APP_WELL_KNOWN_URL: 'not a url' }, 'AZURE_APP_WELL_KNOWN_URL'],
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ REDIS_URL: 'http://redis' }, 'REDIS_URL'],
    [{ NAIS_APP_NAME: 'Bad_Name' }, 'NAIS_APP_NAME'],
    [{ IDP_TIMEOUT_MS: '-5' }, 'IDP_TIMEOUT_MS'],
  ])('names the variable in error %#', (env, variable) => {
    const error = errorOf(env);
    expect(error.variable).toBe(variable);
    expect(error.message.startsWith(`${variable}: `)).toBe(true);
  });
});

describe('Redis configuration', () => {
  it('takes REDIS_URL, or the variables NAIS injects for the "sessions" instance', () => {
    expect(loadConfig({ REDIS_URL: 'redis://localhost:6379' }).generator.session.redisUrl).toBe('redis://localhost:6379');
    expect(
      loadConfig({ REDIS_URI_SESSIONS: 'rediss://redis.example:26379', REDIS_USERNAME_SESSIONS: 'user', REDIS_PASSWORD_SESSIONS: 'p@ss' })
        .generator.session.redisUrl,
    ).toBe('rediss://user:p%40ss@redis.example:26379');
    expect(loadConfig({}).generator.session.redisUrl).toBeUndefined();
  });
});

describe('trusted proxies', () => {
  it('are on this machine by default, in the cluster’s private ranges on NAIS, and where TRUSTED_PROXIES says', () => {
    expect(loadConfig({}).generator.trustedProxies).toEqual(['loopback']);
    expect(loadConfig({ NAIS_CLUSTER_NAME: 'prod-gcp' }).generator.trustedProxies).toEqual(['loopback', 'uniquelocal']);
    expect(loadConfig({ TRUSTED_PROXIES: '10.6.0.0/16, 192.168.1.1' }).generator.trustedProxies).toEqual(['10.6.0.0/16', '192.168.1.1']);
    expect(errorOf({ TRUSTED_PROXIES: '10.0.0.0/99' }).message).toMatch(/TRUSTED_PROXIES/);
  });
});
