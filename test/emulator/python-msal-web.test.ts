/**
 * Debian's python3-msal as a Python web app uses it, against the emulator over HTTPS: the auth code flow
 * (initiate_auth_code_flow, acquire_token_by_auth_code_flow) with and without max_age, and a SerializableTokenCache
 * that a new application reads and renews from. With max_age, MSAL requires the ID token's auth_time, which OpenID
 * Connect has the provider include, and Entra re-authenticates a sign-in older than max_age.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startEmulator, type Emulator } from '../../packages/entra-emulator/src/index.js';
import { authorizeUrl, login, runClientScript } from './helpers.js';

type Run = {
  idTokenClaims?: Record<string, unknown>;
  accounts?: string[];
  renewed?: boolean;
  audience?: string;
  refused?: number[] | null;
  error?: string;
};

const REDIRECT = 'http://localhost:3000/python-callback';
let emulator: Emulator;
let dir: string;
let clientId: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'python-msal-web-'));
  emulator = await startEmulator({ tls: { selfSigned: { caFile: join(dir, 'ca.pem') } } });
  clientId = emulator.registerClient({ target: 'dev-gcp:team:python-web', secrets: ['python-web-secret'], redirectUris: [REDIRECT] });
});

afterAll(async () => {
  await emulator?.close();
  await rm(dir, { recursive: true, force: true });
});

afterEach(() => {
  vi.restoreAllMocks();
});

const run = (env: Record<string, string> = {}) =>
  runClientScript<Run>(emulator, 'python-msal-web.py', {
    CLIENT_ID: clientId,
    CLIENT_SECRET: 'python-web-secret',
    REDIRECT_URI: REDIRECT,
    SCOPE: 'api://dev-gcp.team.api/.default',
    ...env,
  });

describe('python3-msal as a web app: the auth code flow and a serialized token cache', () => {
  it('signs in, and renews through the refresh token of a cache read back by a new application', async () => {
    const result = await run();
    expect(result.error).toBeUndefined();
    expect(result.idTokenClaims).toMatchObject({ aud: clientId, NAVident: 'Z990301', preferred_username: 'py.web@trygdeetaten.no' });
    expect(result.idTokenClaims?.auth_time).toBeUndefined();
    expect(result.accounts).toEqual(['py.web@trygdeetaten.no']);
    expect(result.renewed).toBe(true);
  }, 60_000);

  it('with max_age, the ID token has the auth_time of the sign-in, which MSAL requires', async () => {
    const before = Math.floor(Date.now() / 1000);
    const result = await run({ MAX_AGE: '300' });
    expect(result.error).toBeUndefined();
    expect(result.idTokenClaims?.auth_time).toBeGreaterThanOrEqual(before);
    expect(result.idTokenClaims?.auth_time).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect(result.renewed).toBe(true);
  }, 60_000);

  it('a sign-in that asks consent for two resources: redeemed for both, AADSTS28000; for the one MSAL is told, its token', async () => {
    const result = await run({ CONSENT: 'api://dev-gcp.team.other/.default' });
    expect(result.error).toBeUndefined();
    expect(result.refused).toEqual([28000]);
    expect(result.audience).toBe(emulator.clientIdFor('dev-gcp:team:api'));
    expect(result.renewed).toBe(true);
  }, 60_000);

  it('a sign-on older than max_age asks for the sign-in again, and prompt=none is login_required', async () => {
    // Over HTTP, read by this process.
    const plain = await startEmulator();
    const web = plain.registerClient({ target: 'dev-gcp:team:python-web', secrets: ['python-web-secret'], redirectUris: [REDIRECT] });
    try {
      const scope = `openid api://${web}/.default`;
      const signedIn = await login(plain, { clientId: web, redirectUri: REDIRECT, scope });
      const ask = (extra: Record<string, string>) =>
        fetch(authorizeUrl(plain, { client_id: web, redirect_uri: REDIRECT, response_type: 'code', scope, ...extra }), {
          redirect: 'manual',
          headers: { cookie: signedIn.cookie },
        });
      expect((await ask({ max_age: '60' })).status).toBe(302);
      const now = Date.now();
      vi.spyOn(Date, 'now').mockReturnValue(now + 120_000);
      expect((await ask({})).status).toBe(302);
      const again = await ask({ max_age: '60' });
      expect(again.status).toBe(200);
      expect(await again.text()).toContain('Sign in');
      const silent = new URL((await ask({ max_age: '60', prompt: 'none' })).headers.get('location')!);
      expect(silent.searchParams.get('error')).toBe('login_required');
    } finally {
      vi.restoreAllMocks();
      await plain.close();
    }
  });
});
