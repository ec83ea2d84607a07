import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, SignJWT } from 'jose';
import { EntraClient } from '../../src/generator/idp/entra/client.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { freePort } from '../helpers/ports.js';
import { memoryLogger, startStack, type Stack } from '../helpers/stack.js';
import { installClock } from '../helpers/clock.js';

// Before the services start: the keys' cooldown and the employee token's lifetime pass by the clock, not by waiting.
const clock = installClock();
let stack: Stack;
let proxy: FaultProxy;

beforeAll(async () => {
  const emulatorPort = await freePort();
  const proxyPort = await freePort();
  proxy = await startFaultProxy(`http://127.0.0.1:${emulatorPort}`, proxyPort);
  stack = await startStack({
    env: { IDP_TIMEOUT_MS: '400', IDP_RETRIES: '2' },
    emulator: { port: emulatorPort, publicUrl: `http://localhost:${proxyPort}` },
  });
});

afterAll(async () => {
  await stack?.close();
  await proxy?.close();
});

const ask = (aud: string, accept = 'text/plain') =>
  fetch(`${stack.url}/api/public/m2m`, { method: 'POST', headers: { accept }, body: new URLSearchParams({ aud }) });

const tokenCalls = () => proxy.requests.filter((r) => r.path.endsWith('/oauth2/v2.0/token')).length;

describe('an identity provider in trouble', () => {
  it('down: 502 with a clear message after a few retries', async () => {
    proxy.mode = 'down';
    const before = tokenCalls();
    const res = await ask('dev-gcp:down:app', 'application/json');
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: string; error_description: string };
    expect(body.error).toBe('identity_provider_unreachable');
    expect(body.error_description).toMatch(/could not be reached/);
    expect(tokenCalls() - before).toBe(3);
  });

  it('slow: 504 once the timeout has passed on every try', async () => {
    proxy.mode = 'slow';
    const before = tokenCalls();
    const started = Date.now();
    const res = await ask('dev-gcp:slow:app');
    expect(res.status).toBe(504);
    expect(await res.text()).toMatch(/did not answer within 400 ms/);
    expect(tokenCalls() - before).toBe(3);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('garbage: 502 saying the answer cannot be read, not retried', async () => {
    proxy.mode = 'garbage';
    const before = tokenCalls();
    const res = await ask('dev-gcp:garbage:app');
    expect(res.status).toBe(502);
    expect(await res.text()).toMatch(/cannot read/);
    expect(tokenCalls() - before).toBe(1);
  });

  it('5xx: retried, then 502', async () => {
    proxy.mode = 'error-500';
    const before = tokenCalls();
    const res = await ask('dev-gcp:error:app');
    expect(res.status).toBe(502);
    expect(tokenCalls() - before).toBe(3);
  });

  it('a redirect from the token endpoint is never followed with credentials', async () => {
    proxy.mode = 'redirect';
    const emulatorBefore = stack.emulator!.stats.tokenRequests;
    const res = await ask('dev-gcp:redirect:app');
    expect(res.status).toBe(502);
    expect(stack.emulator!.stats.tokenRequests).toBe(emulatorBefore);
  });

  it('answers normally once the identity provider is back', async () => {
    proxy.mode = 'pass';
    const res = await ask('dev-gcp:down:app');
    expect(res.status).toBe(200);
    expect((await res.text()).split('.')).toHaveLength(3);
  });

  it('a service that cannot load the discovery document does not start, and says which variable to check', async () => {
    const { loadConfig } = await import('../../src/config.js');
    const { startService } = await import('../../src/main.js');
    const { memoryLogger } = await import('../helpers/stack.js');
    const env = {
      PORT: String(await freePort()),
      AZURE_APP_CLIENT_ID: 'x',
      AZURE_APP_CLIENT_SECRET: 'not-a-real-secret',
      AZURE_APP_WELL_KNOWN_URL: `http://127.0.0.1:${await freePort()}/t/v2.0/.well-known/openid-configuration`,
      IDP_TIMEOUT_MS: '500',
    };
    await expect(startService(loadConfig(env), env, { logger: memoryLogger().logger })).rejects.toThrow(
      /^AZURE_APP_WELL_KNOWN_URL: could not load/,
    );
  });
});

describe('signing keys', () => {
  const keyFetches = () => proxy.requests.filter((r) => r.path.endsWith('/discovery/v2.0/keys')).length;

  async function tokensWithKids(kids: string[]) {
    const { privateKey } = await generateKeyPair('RS256');
    return Promise.all(
      kids.map((kid) =>
        new SignJWT({ nonce: 'n' })
          .setProtectedHeader({ alg: 'RS256', kid })
          .setIssuer(stack.emulator!.issuer)
          .setAudience(stack.identity.clientId)
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign(privateKey),
      ),
    );
  }

  it('are fetched again for an unknown kid, but at most once per cooldown', async () => {
    proxy.mode = 'pass';
    // Everything slow is done before the clock matters: the tokens are signed first.
    const [first, second, third, fourth] = await tokensWithKids(['unknown-1', 'unknown-2', 'unknown-3', 'unknown-4']);
    const cooldownMs = 1_500;
    const client = new EntraClient(stack.identity, {
      timeoutMs: 1000,
      retries: 0,
      logger: memoryLoggerInstance(),
      jwksCooldownMs: cooldownMs,
    });
    await client.init();
    // The keys loaded at start count as a fetch: the cooldown runs from there.
    clock.advance(cooldownMs + 100);
    const before = keyFetches();
    await expect(client.verifyIdToken(first!, 'n')).rejects.toThrow(/not valid/);
    expect(keyFetches() - before).toBe(1);
    await expect(client.verifyIdToken(second!, 'n')).rejects.toThrow(/not valid/);
    await expect(client.verifyIdToken(third!, 'n')).rejects.toThrow(/not valid/);
    expect(keyFetches() - before).toBe(1);
    clock.advance(cooldownMs + 100);
    await expect(client.verifyIdToken(fourth!, 'n')).rejects.toThrow(/not valid/);
    expect(keyFetches() - before).toBe(2);
  });
});

function memoryLoggerInstance() {
  return memoryLogger().logger;
}

describe('a session whose token ran out while the identity provider is down', () => {
  it('answers 502 with the reason, not a crash, and works again once it is back', async () => {
    const emulatorPort = await freePort();
    const proxyPort = await freePort();
    const down = await startFaultProxy(`http://127.0.0.1:${emulatorPort}`, proxyPort);
    const short = await startStack({
      env: { IDP_TIMEOUT_MS: '400', IDP_RETRIES: '0' },
      emulator: { port: emulatorPort, publicUrl: `http://localhost:${proxyPort}`, accessTokenLifetimeSeconds: 2 },
    });
    try {
      const { login } = await import('../helpers/http-login.js');
      const cookie = await login(short.url);
      clock.advance(2_200);
      down.mode = 'down';
      const during = await fetch(`${short.url}/api/obo?aud=dev-gcp:a:b`, { headers: { cookie, accept: 'application/json' } });
      expect(during.status).toBe(502);
      expect(((await during.json()) as { error: string }).error).toBe('identity_provider_unreachable');
      const session = await fetch(`${short.url}/oauth2/session`, { headers: { cookie } });
      expect(session.status).toBe(502);
      down.mode = 'pass';
      const after = await fetch(`${short.url}/api/obo?aud=dev-gcp:a:b`, { headers: { cookie, accept: 'application/json' } });
      expect(after.status).toBe(200);
    } finally {
      await short.close();
      await down.close();
    }
  });
});

describe('a timeout of a whole number of seconds', () => {
  it('is a 504 and counted as a timeout, not as an unreachable identity provider', async () => {
    const emulatorPort = await freePort();
    const proxyPort = await freePort();
    const hole = await startFaultProxy(`http://127.0.0.1:${emulatorPort}`, proxyPort);
    const whole = await startStack({
      env: { IDP_TIMEOUT_MS: '1000', IDP_RETRIES: '0' },
      emulator: { port: emulatorPort, publicUrl: `http://localhost:${proxyPort}` },
    });
    try {
      hole.mode = 'blackhole';
      const res = await fetch(`${whole.url}/api/public/m2m`, {
        method: 'POST',
        headers: { accept: 'application/json' },
        body: new URLSearchParams({ aud: 'dev-gcp:hole:app' }),
      });
      expect(res.status).toBe(504);
      const body = (await res.json()) as { error: string; error_description: string };
      expect(body.error).toBe('identity_provider_timeout');
      expect(body.error_description).toMatch(/within 1000 ms/);
      const metrics = await (await fetch(`${whole.url}/internal/metrics`)).text();
      expect(metrics).toMatch(/idp_token_requests_total\{grant="client_credentials",outcome="timeout",aadsts=""\} 1/);
      expect(metrics).not.toMatch(/outcome="unreachable"/);
    } finally {
      await whole.close();
      await hole.close();
    }
  });
});
