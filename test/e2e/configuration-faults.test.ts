import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair } from 'jose';
import { loadConfig } from '../../src/config.js';
import { startEmulator, type Emulator } from '../../packages/entra-emulator/src/index.js';
import { startService, type Service } from '../../src/main.js';
import { startLogin } from '../helpers/http-login.js';
import { freePort } from '../helpers/ports.js';
import { memoryLogger } from '../helpers/stack.js';

const TARGET = 'dev-gcp:nais:azure-token-generator';
let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, logger: false });
});

afterAll(async () => {
  await emulator?.close();
});

async function privateJwk(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return {
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'RS256' },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' },
  };
}

async function envFor(jwk: object): Promise<Record<string, string>> {
  const port = await freePort();
  return {
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://localhost:${port}`,
    AZURE_APP_CLIENT_ID: emulator.clientIdFor(TARGET),
    AZURE_APP_JWK: JSON.stringify(jwk),
    AZURE_APP_WELL_KNOWN_URL: emulator.wellKnownUrl,
  };
}

describe('AZURE_APP_JWK', () => {
  it('with key material that is no key stops start-up with a message naming the variable', async () => {
    const { privateJwk: good } = await privateJwk('broken');
    for (const broken of [
      { ...good, n: 'not-a-modulus', d: 'AAAA' },
      { ...good, p: undefined, q: undefined },
    ]) {
      const env = await envFor(broken);
      await expect(startService(loadConfig(env), env, { logger: memoryLogger().logger })).rejects.toThrow(
        /^AZURE_APP_JWK: its key material cannot (be used|sign) as a RS256 private key/,
      );
    }
  });

  describe('with a key the identity provider does not know', () => {
    let service: Service;
    let logs: string[];

    beforeAll(async () => {
      const registered = await privateJwk('registered');
      const unknown = await privateJwk('unknown');
      const env = await envFor(unknown.privateJwk);
      emulator.registerClient({ target: TARGET, jwks: [registered.publicJwk], redirectUris: [`${env.PUBLIC_URL}/oauth2/callback`] });
      const memory = memoryLogger();
      logs = memory.logs;
      service = await startService(loadConfig(env), env, { logger: memory.logger });
    });

    afterAll(async () => {
      await service?.close();
    });

    it("tells the employee at every login that the fault is the service's own, and the operators once in the log", async () => {
      for (let i = 0; i < 3; i++) {
        const pending = await startLogin(service.url);
        const callback = await fetch(pending.callbackUrl, {
          headers: { cookie: pending.loginCookie, accept: 'text/html' },
          redirect: 'manual',
        });
        expect(callback.status).toBe(502);
        const page = await callback.text();
        expect(page).toMatch(/fault in the service, not in your request: tell its operators/);
        expect(page).not.toMatch(/try again/i);
      }
      const m2m = await fetch(`${service.url}/api/public/m2m`, {
        method: 'POST',
        headers: { accept: 'application/json' },
        body: new URLSearchParams({ aud: 'dev-gcp:a:b' }),
      });
      expect(m2m.status).toBe(502);
      expect(((await m2m.json()) as { error: string }).error).toBe('generator_misconfigured');
      const operatorLines = logs.filter(
        (line) => line.includes('"level":"error"') && line.includes('AZURE_APP_JWK: the identity provider does not accept'),
      );
      expect(operatorLines).toHaveLength(1);
      expect(operatorLines[0]).toMatch(/AADSTS700027|"aadsts":700027/);
      expect(operatorLines[0]).toMatch(/Key was not found for kid 'unknown'/);
    });
  });
});
