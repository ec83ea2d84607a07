import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair } from 'jose';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';

const run = promisify(execFile);
let emulator: Emulator;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emulator-tls-'));
  emulator = await startEmulator({ tls: { selfSigned: { caFile: join(dir, 'ca.pem') } } });
});

afterAll(async () => {
  await emulator?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('@azure/msal-node against the emulator over HTTPS', () => {
  it('serves HTTPS with a certificate whose authority it wrote to a file', () => {
    expect(emulator.baseUrl).toMatch(/^https:\/\/localhost:\d+$/);
    expect(emulator.caFile).toBe(join(dir, 'ca.pem'));
  });

  it('gets client-credentials tokens with a secret and with an assertion, and on-behalf-of tokens', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const kid = 'msal-key';
    const redirectUri = 'http://localhost:3000/callback';
    const clientId = emulator.registerClient({
      target: 'dev-gcp:team:msal-client',
      secrets: ['msal-client-secret-value'],
      jwks: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256' }],
      redirectUris: [redirectUri],
    });
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'test/emulator/clients/msal.ts'], {
      env: {
        ...process.env,
        NODE_EXTRA_CA_CERTS: emulator.caFile!,
        EMULATOR_BASE_URL: emulator.baseUrl,
        EMULATOR_TENANT: emulator.tenantId,
        CLIENT_ID: clientId,
        CLIENT_SECRET: 'msal-client-secret-value',
        CLIENT_PRIVATE_JWK: JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg: 'RS256' }),
        REDIRECT_URI: redirectUri,
        SCOPE: 'api://dev-gcp.team.api/.default',
      },
      timeout: 60_000,
    });
    const result = JSON.parse(stdout) as Record<'ccSecret' | 'ccAssertion' | 'obo', Record<string, unknown>>;
    const audience = emulator.clientIdFor('dev-gcp:team:api');
    expect(result.ccSecret).toMatchObject({ aud: audience, azp: clientId, azpacr: '1', idtyp: 'app', roles: ['access_as_application'] });
    expect(result.ccAssertion).toMatchObject({ aud: audience, azp: clientId, azpacr: '2', idtyp: 'app' });
    expect(result.obo).toMatchObject({ aud: audience, azp: clientId, scp: 'defaultaccess', NAVident: 'Z990077' });
    expect(result.obo.idtyp).toBeUndefined();
  }, 90_000);
});
