import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { DEVELOPMENT_TENANT_DOMAIN } from '../../src/generator/idp/entra/variables.js';
import { chooseIdentity } from '../../src/generator/idp/providers.js';

const entra = {
  AZURE_APP_CLIENT_ID: 'client',
  AZURE_APP_CLIENT_SECRET: 's',
  AZURE_APP_WELL_KNOWN_URL: 'https://idp.test/.well-known/openid-configuration',
};
/** What NAIS sets in every pod, besides the app's own variables. */
const onNais = { NAIS_CLUSTER_NAME: 'dev-gcp', NAIS_NAMESPACE: 'nais', NAIS_APP_NAME: 'azure-token-generator', NAIS_POD_NAME: 'pod-1' };

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

  it('listens on loopback only unless on NAIS, with Entra ID too, and where HOST says in every case', () => {
    expect(loadConfig({}).generator.host).toBe('127.0.0.1');
    expect(loadConfig({ HOST: '0.0.0.0' }).generator.host).toBe('0.0.0.0');
    expect(loadConfig(entra).generator.host).toBe('127.0.0.1');
    // The emulator's `env` for an app names its cluster, namespace and name, but no pod: still not NAIS.
    expect(loadConfig({ ...entra, NAIS_CLUSTER_NAME: 'dev-gcp', NAIS_NAMESPACE: 'nais' }).generator.host).toBe('127.0.0.1');
    expect(loadConfig({ ...entra, ...onNais, SESSION_STORE: 'memory' }).generator.host).toBe('0.0.0.0');
    expect(loadConfig({ ...entra, HOST: '::1' }).generator.host).toBe('::1');
    expect(loadConfig({ ...entra, ...onNais, SESSION_STORE: 'memory', HOST: '127.0.0.1' }).generator.host).toBe('127.0.0.1');
  });

  it('reads the NAIS variables for Entra ID with a private JWK', () => {
    const config = loadConfig({
      AZURE_APP_CLIENT_ID: 'client',
      AZURE_APP_JWK: jwk,
      AZURE_APP_WELL_KNOWN_URL: 'https://login.microsoftonline.com/t/v2.0/.well-known/openid-configuration',
      AZURE_APP_TENANT_ID: 't',
      NAIS_APP_NAME: 'my-generator',
    });
    expect(config.identity?.kind).toBe('entra');
    expect(config.identity?.auth.method).toBe('private_key_jwt');
    expect(config.identity?.provider).toEqual({
      discovery: 'well-known',
      wellKnownUrl: 'https://login.microsoftonline.com/t/v2.0/.well-known/openid-configuration',
    });
    expect(config.generator.nais.app).toBe('my-generator');
  });

  it("says the users' domain at login: LOGIN_TENANT_DOMAIN, else Entra ID's tenant given as a domain, else the development one", () => {
    expect(loadConfig({}).generator.loginDomain).toBe('trygdeetaten.no');
    expect(loadConfig({ ...entra, AZURE_APP_TENANT_ID: 'Example.Onmicrosoft.com' }).generator.loginDomain).toBe('example.onmicrosoft.com');
    expect(loadConfig({ ...entra, AZURE_APP_TENANT_ID: '62366534-1ec3-4962-8869-9b5535279d0b' }).generator.loginDomain).toBe(
      'trygdeetaten.no',
    );
    expect(loadConfig({ ...entra, AZURE_APP_TENANT_ID: 'a.example', LOGIN_TENANT_DOMAIN: 'b.example' }).generator.loginDomain).toBe(
      'b.example',
    );
  });

  it("takes the development tenant's domain from Entra ID's folder, where the fact is said, also with the emulator", () => {
    expect(DEVELOPMENT_TENANT_DOMAIN).toBe('trygdeetaten.no');
    expect(loadConfig({}).generator.loginDomain).toBe(DEVELOPMENT_TENANT_DOMAIN);
    expect(errorOf({ LOGIN_TENANT_DOMAIN: 'nodots' }).message).toBe(
      `LOGIN_TENANT_DOMAIN: must be a domain, such as ${DEVELOPMENT_TENANT_DOMAIN}, not "nodots"`,
    );
  });

  it("never shows the private key or the client secret in a message about Entra ID's variables", () => {
    const secret = 'SECRET-PART-OF-THE-KEY';
    const wellKnown = { AZURE_APP_WELL_KNOWN_URL: 'https://idp.test/.well-known/openid-configuration' };
    const faulty: Record<string, string>[] = [
      { AZURE_APP_CLIENT_ID: 'c', AZURE_APP_JWK: `{"kty":"RSA","d":"${secret}"`, ...wellKnown },
      { AZURE_APP_CLIENT_ID: 'c', AZURE_APP_JWK: JSON.stringify({ kty: 'RSA', d: secret }), ...wellKnown },
      { AZURE_APP_JWK: JSON.stringify({ kty: 'RSA', kid: 'k', d: secret }), ...wellKnown },
      { AZURE_APP_CLIENT_ID: 'c', AZURE_APP_CLIENT_SECRET: secret },
    ];
    const messages = faulty.map((env) => errorOf(env).message);
    expect(messages).toHaveLength(4);
    for (const message of messages) expect(message).not.toContain(secret);
  });

  it('takes blank provider variables as unset: no identity provider, so the emulator stands in', () => {
    expect(loadConfig({ AZURE_APP_CLIENT_ID: ' ', AZURE_APP_JWK: '' }).identity).toBeUndefined();
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

describe('which identity provider runs', () => {
  /** Two providers whose variables are set, as NAIS sets those of each provider an app enables. */
  const providers = {
    first: { read: (env: NodeJS.ProcessEnv) => (env.FIRST ? { kind: 'first' } : undefined) },
    second: { read: (env: NodeJS.ProcessEnv) => (env.SECOND ? { kind: 'second' } : undefined) },
  };

  it('is the one whose variables are set, or none', () => {
    expect(chooseIdentity(providers, { SECOND: 'x' })).toEqual({ kind: 'second' });
    expect(chooseIdentity(providers, {})).toBeUndefined();
  });

  it('is not taken at random when two are set: the operator names it with IDENTITY_PROVIDER', () => {
    const both = { FIRST: 'x', SECOND: 'x' };
    expect(() => chooseIdentity(providers, both)).toThrow(
      new ConfigError('IDENTITY_PROVIDER', 'must name the identity provider to use: the variables of first and second are set'),
    );
    expect(chooseIdentity(providers, both, 'second')).toEqual({ kind: 'second' });
  });

  it("reads only the one picked: another's variables are the app's other business", () => {
    const broken = {
      ...providers,
      first: {
        read: (): never => {
          throw new ConfigError('FIRST', 'is wrong');
        },
      },
    };
    expect(chooseIdentity(broken, { SECOND: 'x' }, 'second')).toEqual({ kind: 'second' });
  });

  it('is Entra ID when IDENTITY_PROVIDER names it, and refuses a name without its variables or an unknown one', () => {
    expect(loadConfig({ ...entra, IDENTITY_PROVIDER: 'entra' }).identity?.kind).toBe('entra');
    expect(errorOf({ IDENTITY_PROVIDER: 'entra' }).message).toBe('IDENTITY_PROVIDER: is entra, but none of its variables is set');
    expect(errorOf({ ...entra, IDENTITY_PROVIDER: 'tokenx' }).message).toBe('IDENTITY_PROVIDER: must be one of entra, not "tokenx"');
  });
});

describe('session store configuration', () => {
  const storeOf = (env: Record<string, string>) => loadConfig(env).generator.session.store;

  it('takes REDIS_URL, or what NAIS injects for spec.valkey (valkey(s):// read as redis(s)://) and spec.redis', () => {
    expect(storeOf({ REDIS_URL: 'redis://localhost:6379' })).toEqual({ url: 'redis://localhost:6379', variable: 'REDIS_URL' });
    expect(
      storeOf({ VALKEY_URI_SESSIONS: 'valkeys://v.example:26483', VALKEY_USERNAME_SESSIONS: 'u', VALKEY_PASSWORD_SESSIONS: 'p@ss' }),
    ).toEqual({
      url: 'rediss://v.example:26483',
      variable: 'VALKEY_URI_SESSIONS',
      username: 'u',
      password: 'p@ss',
    });
    expect(storeOf({ VALKEY_URI_SESSIONS: 'valkey://v.example:6379' })?.url).toBe('redis://v.example:6379');
    expect(
      storeOf({ REDIS_URI_SESSIONS: 'rediss://r.example:26379', REDIS_USERNAME_SESSIONS: 'user', REDIS_PASSWORD_SESSIONS: 'pw' }),
    ).toEqual({
      url: 'rediss://r.example:26379',
      variable: 'REDIS_URI_SESSIONS',
      username: 'user',
      password: 'pw',
    });
    expect(storeOf({ REDIS_URL: 'valkeys://local:1', VALKEY_URI_SESSIONS: 'valkeys://v.example:1' })?.variable).toBe('REDIS_URL');
    expect(storeOf({})).toBeUndefined();
    expect(errorOf({ VALKEY_URI_SESSIONS: 'https://v.example' }).sentence).toBe(
      'VALKEY_URI_SESSIONS must be a redis(s):// or valkey(s):// URL',
    );
  });

  it('reads a CA file for the store, and names the variable when it cannot', () => {
    const ca = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const dir = mkdtempSync(join(tmpdir(), 'ca-'));
    try {
      writeFileSync(join(dir, 'ca.pem'), ca);
      writeFileSync(join(dir, 'empty.pem'), '');
      expect(storeOf({ VALKEY_URI_SESSIONS: 'valkeys://v:1', SESSION_STORE_CA_FILE: join(dir, 'ca.pem') })?.ca).toBe(ca);
      expect(errorOf({ VALKEY_URI_SESSIONS: 'valkeys://v:1', SESSION_STORE_CA_FILE: join(dir, 'gone.pem') }).sentence).toMatch(
        /^SESSION_STORE_CA_FILE cannot be read \(ENOENT\)/,
      );
      expect(errorOf({ VALKEY_URI_SESSIONS: 'valkeys://v:1', SESSION_STORE_CA_FILE: join(dir, 'empty.pem') }).sentence).toMatch(
        /^SESSION_STORE_CA_FILE holds no PEM certificate/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start on NAIS with Entra ID and no store, in one sentence naming spec.valkey, unless SESSION_STORE=memory', () => {
    const refusal = errorOf({ ...entra, ...onNais });
    expect(refusal.variable).toBe('VALKEY_URI_SESSIONS');
    expect(refusal.sentence).toMatch(/spec\.valkey/);
    expect(refusal.sentence).not.toMatch(/\n/);
    expect(storeOf({ ...entra, ...onNais, SESSION_STORE: 'memory' })).toBeUndefined();
    const key = Buffer.alloc(32, 7).toString('base64');
    expect(storeOf({ ...entra, ...onNais, VALKEY_URI_SESSIONS: 'valkeys://v:1', SESSION_ENCRYPTION_KEY: key })?.variable).toBe(
      'VALKEY_URI_SESSIONS',
    );
    // Off NAIS, or with the emulator, memory is the default.
    expect(storeOf(entra)).toBeUndefined();
    expect(storeOf(onNais)).toBeUndefined();
    expect(errorOf({ SESSION_STORE: 'memory', REDIS_URL: 'redis://r:1' }).variable).toBe('SESSION_STORE');
  });

  it('refuses to start on NAIS with a shared store and no shared key: each replica would seal logins the others cannot read', () => {
    const refusal = errorOf({ ...entra, ...onNais, VALKEY_URI_SESSIONS: 'valkeys://v:1' });
    expect(refusal.variable).toBe('SESSION_ENCRYPTION_KEY');
    expect(refusal.sentence).toMatch(/azure-token-generator-session/);
    // Off NAIS a local Redis with a key made at start is still allowed.
    expect(storeOf({ REDIS_URL: 'redis://r:1' })?.variable).toBe('REDIS_URL');
  });
});

describe('trusted proxies', () => {
  it('are on this machine by default, in the cluster’s private ranges on NAIS, and where TRUSTED_PROXIES says', () => {
    expect(loadConfig({}).generator.trustedProxies).toEqual(['loopback']);
    expect(loadConfig({ NAIS_CLUSTER_NAME: 'prod-gcp', NAIS_POD_NAME: 'tg-1' }).generator.trustedProxies).toEqual([
      'loopback',
      'uniquelocal',
    ]);
    expect(loadConfig({ TRUSTED_PROXIES: '10.6.0.0/16, 192.168.1.1' }).generator.trustedProxies).toEqual(['10.6.0.0/16', '192.168.1.1']);
    expect(errorOf({ TRUSTED_PROXIES: '10.0.0.0/99' }).message).toMatch(/TRUSTED_PROXIES/);
  });
});
