import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair } from 'jose';
import { startEmulator, type Emulator } from '../../packages/entra-emulator/src/index.js';
import { clientCertificate, runClientScript } from './helpers.js';

let emulator: Emulator;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emulator-tls-'));
  emulator = await startEmulator({ tls: { selfSigned: { caFile: join(dir, 'ca.pem') } } });
});

const runClient = <T>(script: string, env: Record<string, string>) => runClientScript<T>(emulator, script, env);

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
    const result = await runClient<Record<'ccSecret' | 'ccAssertion' | 'obo', Record<string, unknown>>>('msal.ts', {
      CLIENT_ID: clientId,
      CLIENT_SECRET: 'msal-client-secret-value',
      CLIENT_PRIVATE_JWK: JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg: 'RS256' }),
      REDIRECT_URI: redirectUri,
      SCOPE: 'api://dev-gcp.team.api/.default',
    });
    const audience = emulator.clientIdFor('dev-gcp:team:api');
    expect(result.ccSecret).toMatchObject({ aud: audience, azp: clientId, azpacr: '1', idtyp: 'app', roles: ['access_as_application'] });
    expect(result.ccAssertion).toMatchObject({ aud: audience, azp: clientId, azpacr: '2', idtyp: 'app' });
    expect(result.obo).toMatchObject({ aud: audience, azp: clientId, scp: 'defaultaccess', NAVident: 'Z990077' });
    expect(result.obo.idtyp).toBeUndefined();
  }, 90_000);

  it('gets tokens with clientCertificate: a SHA-256 thumbprint (PS256), with x5c, and a SHA-1 thumbprint (RS256)', async () => {
    const certificate = await clientCertificate();
    const clientId = emulator.registerClient({ target: 'dev-gcp:team:msal-certificate', certificates: [certificate.certificatePem] });
    type Run = { headers: Record<string, unknown>[]; tokens: Record<string, unknown>[] };
    const result = await runClient<Record<'sha256' | 'x5c' | 'sha1', Run>>('msal-certificates.ts', {
      CLIENT_ID: clientId,
      CLIENT_KEY_PEM: certificate.privateKeyPem,
      CLIENT_CERTIFICATE_PEM: certificate.certificatePem,
      CLIENT_SHA1: certificate.sha1,
      CLIENT_SHA256: certificate.sha256,
      SCOPES: 'api://dev-gcp.team.api/.default,api://dev-gcp.team.other/.default',
    });
    const sha256 = Buffer.from(certificate.sha256, 'hex').toString('base64url');
    const sha1 = Buffer.from(certificate.sha1, 'hex').toString('base64url');
    expect(result.sha256.headers[0]).toEqual({ alg: 'PS256', typ: 'JWT', 'x5t#S256': sha256 });
    expect(result.x5c.headers[0]).toEqual({ alg: 'PS256', typ: 'JWT', 'x5t#S256': sha256, x5c: [certificate.der] });
    expect(result.sha1.headers[0]).toEqual({ alg: 'RS256', typ: 'JWT', x5t: sha1 });
    for (const run of Object.values(result)) {
      // MSAL sends the one assertion it signed for both requests, as Entra accepts.
      expect(run.headers).toHaveLength(2);
      expect(run.tokens.map((token) => token.aud)).toEqual([
        emulator.clientIdFor('dev-gcp:team:api'),
        emulator.clientIdFor('dev-gcp:team:other'),
      ]);
      for (const token of run.tokens)
        expect(token).toMatchObject({ azp: clientId, azpacr: '2', idtyp: 'app', roles: ['access_as_application'] });
    }
  }, 90_000);

  it('signs in a desktop app by acquireTokenInteractive on a port of its own: Entra ignores the port of a loopback redirect', async () => {
    const clientId = emulator.registerClient({ target: 'dev-gcp:team:msal-desktop', nativeRedirectUris: ['http://localhost'] });
    const result = await runClient<{
      redirectUri: string;
      login?: Record<string, unknown>;
      silent?: Record<string, unknown>;
      message?: string;
    }>('msal-interactive.ts', { CLIENT_ID: clientId, SCOPE: 'api://dev-gcp.team.api/.default' });
    expect(result.redirectUri).toMatch(/^http:\/\/localhost:\d+$/);
    expect(result.message).toBeUndefined();
    for (const token of [result.login, result.silent])
      expect(token).toMatchObject({ aud: emulator.clientIdFor('dev-gcp:team:api'), azp: clientId, azpacr: '0', NAVident: 'Z990082' });
  }, 90_000);

  it(
    'signs in without PKCE as a server-side web app does, and gets ' +
      'unauthorized_client (AADSTS7000114) for on-behalf-of with an app token',
    async () => {
      const redirectUri = 'http://localhost:3000/msal-flows';
      const clientId = emulator.registerClient({
        target: 'dev-gcp:team:msal-web',
        secrets: ['msal-web-secret'],
        redirectUris: [redirectUri],
      });
      const result = await runClient<{
        authorizeUrl: string;
        accessToken: Record<string, unknown>;
        idToken: Record<string, unknown>;
        account: Record<string, string>;
        oboError: Record<string, string>;
      }>('msal-flows.ts', {
        CLIENT_ID: clientId,
        CLIENT_SECRET: 'msal-web-secret',
        REDIRECT_URI: redirectUri,
        SCOPE: 'api://dev-gcp.team.api/.default',
      });
      expect(new URL(result.authorizeUrl).searchParams.get('code_challenge')).toBeNull();
      expect(result.accessToken).toMatchObject({ aud: clientId, azp: clientId, NAVident: 'Z990078', scp: 'defaultaccess' });
      expect(result.idToken).toMatchObject({ aud: clientId, NAVident: 'Z990078', preferred_username: 'uten.pkce@trygdeetaten.no' });
      expect(result.account.username).toBe('uten.pkce@trygdeetaten.no');
      expect(result.oboError.errorCode).toBe('unauthorized_client');
      expect(result.oboError.errorMessage).toContain('AADSTS7000114');
    },
    90_000,
  );
});
