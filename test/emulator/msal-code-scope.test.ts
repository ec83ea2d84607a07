/**
 * @azure/msal-node against the emulator over HTTPS: the resource of a web app's sign-in named at the code's redemption.
 * Entra's token endpoint takes `scope` with an authorization code (its own extension to the flow) as the resource the
 * access token is for, through the same access policies as any sign-in; a sign-in may name other APIs to consent to up
 * front (extraScopesToConsent), whose tokens then come through the refresh token.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../packages/entra-emulator/src/index.js';
import { runClientScript } from './helpers.js';

const REDIRECT = 'http://localhost:3000/code-scope';
let emulator: Emulator;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'msal-code-scope-'));
  emulator = await startEmulator({ tls: { selfSigned: { caFile: join(dir, 'ca.pem') } } });
});

afterAll(async () => {
  await emulator?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('@azure/msal-node: acquireTokenByCode with the scope of one API', () => {
  it("signed in with the OpenID scopes alone, gets the API's token, for the scopes MSAL asked", async () => {
    const clientId = emulator.registerClient({
      target: 'dev-gcp:team:code-scope',
      secrets: ['code-scope-secret'],
      redirectUris: [REDIRECT],
    });
    const scope = 'api://dev-gcp.team.api/.default';
    const result = await runClientScript<{ accessToken: Record<string, unknown>; scopes: string[] }>(emulator, 'msal-code-scope.ts', {
      CLIENT_ID: clientId,
      CLIENT_SECRET: 'code-scope-secret',
      REDIRECT_URI: REDIRECT,
      SCOPE: scope,
    });
    expect(result.accessToken).toMatchObject({
      aud: emulator.clientIdFor('dev-gcp:team:api'),
      azp: clientId,
      scp: 'defaultaccess',
      NAVident: 'Z990302',
    });
    expect(result.scopes).toContain(scope);
  }, 60_000);

  it('getAuthCodeUrl with extraScopesToConsent of another API: the code gives the API token, the refresh token the other', async () => {
    const clientId = emulator.registerClient({
      target: 'dev-gcp:team:code-consent',
      secrets: ['code-consent-secret'],
      redirectUris: [REDIRECT],
    });
    type Result = { accessToken: Record<string, unknown>; consented: Record<string, unknown> };
    const result = await runClientScript<Result>(emulator, 'msal-code-scope.ts', {
      CLIENT_ID: clientId,
      CLIENT_SECRET: 'code-consent-secret',
      REDIRECT_URI: REDIRECT,
      SCOPE: 'api://dev-gcp.team.api/.default',
      CONSENT: 'api://dev-gcp.team.other/.default',
    });
    expect(result.accessToken).toMatchObject({ aud: emulator.clientIdFor('dev-gcp:team:api'), azp: clientId, NAVident: 'Z990302' });
    expect(result.consented).toMatchObject({ aud: emulator.clientIdFor('dev-gcp:team:other'), azp: clientId, NAVident: 'Z990302' });
  }, 60_000);
});
