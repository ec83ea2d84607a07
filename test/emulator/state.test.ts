/** A state folder: the same tenant, keys and apps after a restart; key rotation as jose's remote JWKS sees it. */
import { mkdtemp, readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, decodeJwt, importJWK, jwtVerify, type CryptoKey, type JWK } from 'jose';
import * as oidc from 'openid-client';
import { describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../packages/entra-emulator/src/index.js';
import { freePort } from '../helpers/ports.js';
import { login, tokenRequest } from './helpers.js';

const APP = 'dev-gcp:team-a:my-app';
const API = 'dev-gcp:team-a:my-api';
const SCOPE = 'api://dev-gcp.team-a.my-api/.default';

async function tokenThroughEnv(env: Record<string, string>): Promise<string> {
  const jwk = JSON.parse(env.AZURE_APP_JWK!) as JWK;
  const config = await oidc.discovery(
    new URL(env.AZURE_APP_WELL_KNOWN_URL!),
    env.AZURE_APP_CLIENT_ID!,
    undefined,
    oidc.PrivateKeyJwt({ key: (await importJWK(jwk, 'RS256')) as CryptoKey, kid: jwk.kid! }),
    { execute: [oidc.allowInsecureRequests] },
  );
  return (await oidc.clientCredentialsGrant(config, { scope: SCOPE })).access_token;
}

const WEB = { target: 'dev-gcp:team-a:web', secrets: ['web-secret'], redirectUris: ['http://localhost:3000/callback'] };
const WEB_CREDENTIALS = { client_secret: 'web-secret' };

/** A refresh token of an employee's sign-in to the web app WEB, as an app's server-side login gets one. */
async function refreshTokenFrom(emulator: Emulator): Promise<string> {
  const clientId = emulator.registerClient(WEB);
  const signedIn = await login(emulator, { clientId, redirectUri: WEB.redirectUris[0]!, scope: `openid offline_access ${SCOPE}` });
  const redeemed = await tokenRequest(emulator, {
    ...WEB_CREDENTIALS,
    client_id: clientId,
    grant_type: 'authorization_code',
    code: signedIn.code,
    code_verifier: signedIn.verifier,
    redirect_uri: WEB.redirectUris[0]!,
  });
  return String(redeemed.body.refresh_token);
}

describe('the state folder', () => {
  it('keeps tenant, signing keys and app keys across a restart: old tokens verify, an old .env still gets tokens', async () => {
    const stateDir = join(await mkdtemp(join(tmpdir(), 'emulator-state-')), 'state');
    const port = await freePort();
    const first = await startEmulator({ port, stateDir });
    const env = await first.environment(APP);
    const before = await tokenThroughEnv(env);
    const jwksBefore = await (await fetch(env.AZURE_OPENID_CONFIG_JWKS_URI!)).json();
    await first.close();

    expect((await stat(stateDir)).mode & 0o777).toBe(0o700);
    for (const file of await readdir(stateDir)) expect((await stat(join(stateDir, file))).mode & 0o777, file).toBe(0o600);

    const second = await startEmulator({ port, stateDir });
    try {
      expect(second.tenantId).toBe(first.tenantId);
      expect(await (await fetch(env.AZURE_OPENID_CONFIG_JWKS_URI!)).json()).toEqual(jwksBefore);
      expect(await second.environment(APP)).toEqual(env);
      const jwks = createRemoteJWKSet(new URL(env.AZURE_OPENID_CONFIG_JWKS_URI!));
      const { payload } = await jwtVerify(before, jwks, { issuer: env.AZURE_OPENID_CONFIG_ISSUER!, audience: second.clientIdFor(API) });
      expect(payload.azp).toBe(env.AZURE_APP_CLIENT_ID);
      // The .env written before the restart: its key still authenticates, through Texas too.
      await jwtVerify(await tokenThroughEnv(env), jwks, { issuer: env.AZURE_OPENID_CONFIG_ISSUER! });
      const texas = await fetch(env.NAIS_TOKEN_ENDPOINT!, {
        method: 'POST',
        body: new URLSearchParams({ identity_provider: 'entra_id', target: SCOPE }),
      });
      expect(texas.status).toBe(200);
    } finally {
      await second.close();
    }
  });

  it('keeps the refresh tokens it handed out: they still renew after a restart, as MSAL and the generator renew a login', async () => {
    const stateDir = join(await mkdtemp(join(tmpdir(), 'emulator-state-')), 'state');
    const port = await freePort();
    const first = await startEmulator({ port, stateDir });
    // Another emulator on the same state folder (an app's own beside npm start's), closed first: its tokens are kept too.
    const beside = await startEmulator({ stateDir });
    const besideToken = await refreshTokenFrom(beside);
    await beside.close();
    const refreshToken = await refreshTokenFrom(first);
    await first.close();

    const second = await startEmulator({ port, stateDir });
    try {
      const clientId = second.registerClient(WEB);
      const jwks = createRemoteJWKSet(new URL(`${second.baseUrl}/${second.tenantId}/discovery/v2.0/keys`));
      for (const kept of [refreshToken, besideToken]) {
        const renewed = await tokenRequest(second, {
          ...WEB_CREDENTIALS,
          client_id: clientId,
          grant_type: 'refresh_token',
          refresh_token: kept,
        });
        expect(renewed.status).toBe(200);
        const { payload } = await jwtVerify(String(renewed.body.access_token), jwks, {
          issuer: second.issuer,
          audience: second.clientIdFor(API),
        });
        expect(payload).toMatchObject({ azp: clientId, NAVident: 'Z990001', scp: 'defaultaccess' });
      }
      // Still bound to its client.
      const other = second.registerClient({ target: 'dev-gcp:team-a:other', secrets: ['other-secret'] });
      const stolen = await tokenRequest(second, {
        client_id: other,
        client_secret: 'other-secret',
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
      });
      expect(stolen.body.error).toBe('invalid_grant');
    } finally {
      await second.close();
    }
  });

  it('renews a kept refresh token with the employee as the directory has them after the restart', async () => {
    const stateDir = join(await mkdtemp(join(tmpdir(), 'emulator-state-')), 'state');
    const kari = { navIdent: 'Z990001', name: 'Kari Nordmann', email: 'kari.nordmann@trygdeetaten.no' };
    const first = await startEmulator({ stateDir, employees: [{ ...kari, groups: ['group-before'] }] });
    const refreshToken = await refreshTokenFrom(first);
    await first.close();
    const second = await startEmulator({ stateDir, employees: [{ ...kari, name: 'Kari Renamed', groups: ['group-after'] }] });
    try {
      const renewed = await tokenRequest(second, {
        ...WEB_CREDENTIALS,
        client_id: second.registerClient(WEB),
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
      });
      expect(renewed.status).toBe(200);
      expect(decodeJwt(String(renewed.body.access_token))).toMatchObject({ name: 'Kari Renamed', groups: ['group-after'] });
    } finally {
      await second.close();
    }
  });

  it('makes a new signing key after it listens: what needs the key waits for it, one key is made, and kept', async () => {
    const fresh = await startEmulator();
    try {
      // Asked for together the moment the start resolves: one key, the same in the JWKS and in the token.
      const [jwks, token] = await Promise.all([
        fetch(`${fresh.baseUrl}/${fresh.tenantId}/discovery/v2.0/keys`).then((res) => res.json() as Promise<{ keys: JWK[] }>),
        fresh.appToken({ caller: APP, target: API }),
      ]);
      expect(jwks.keys).toHaveLength(1);
      await jwtVerify(token, await importJWK(jwks.keys[0]!, 'RS256'), { issuer: fresh.issuer });
    } finally {
      await fresh.close();
    }

    const stateDir = join(await mkdtemp(join(tmpdir(), 'emulator-state-')), 'state');
    const first = await startEmulator({ stateDir });
    // Once ready, the key is in the state folder, and it is the one served.
    await first.ready();
    const kept = JSON.parse(await readFile(join(stateDir, 'signing-keys.json'), 'utf8')) as { keys: { privateJwk: JWK }[] };
    const served = (await (await fetch(`${first.baseUrl}/${first.tenantId}/discovery/v2.0/keys`)).json()) as { keys: JWK[] };
    expect(served.keys.map((key) => key.n)).toEqual(kept.keys.map((key) => key.privateJwk.n));
    await first.close();

    // Stopped before anything asked for its key, and started again at once: the key made is the one read.
    const stopped = await startEmulator({ stateDir: join(stateDir, 'other') });
    await stopped.close();
    const again = await startEmulator({ stateDir: join(stateDir, 'other') });
    try {
      const stored = JSON.parse(await readFile(join(stateDir, 'other', 'signing-keys.json'), 'utf8')) as { keys: { privateJwk: JWK }[] };
      const jwks = (await (await fetch(`${again.baseUrl}/${again.tenantId}/discovery/v2.0/keys`)).json()) as { keys: JWK[] };
      expect(jwks.keys.map((key) => key.n)).toEqual(stored.keys.map((key) => key.privateJwk.n));
    } finally {
      await again.close();
    }
  });

  // Node's own recursive mkdir never settled under /proc: the start hung.
  it.runIf(process.platform === 'linux')('stops the start with its reason when it cannot be made, without hanging', async () => {
    await expect(startEmulator({ stateDir: '/proc/nonexistent/state' })).rejects.toThrow(
      'EMULATOR_STATE_DIR: cannot use /proc/nonexistent/state as the state folder (ENOENT)',
    );
  });

  it('is not used unless asked for: two in-process starts are two tenants', async () => {
    const [a, b] = await Promise.all([startEmulator(), startEmulator()]);
    try {
      expect(a.tenantId).not.toBe(b.tenantId);
      expect(a.stateDir).toBeUndefined();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('rotates the signing key: the old token verifies while the old key is published, and jose picks up the new key', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'emulator-rotation-'));
    const port = await freePort();
    const emulator = await startEmulator({ port, stateDir });
    const jwksUri = `${emulator.baseUrl}/${emulator.tenantId}/discovery/v2.0/keys`;
    const jwks = createRemoteJWKSet(new URL(jwksUri), { cooldownDuration: 0 });
    const verify = (token: string) => jwtVerify(token, jwks, { issuer: emulator.issuer, audience: emulator.clientIdFor(API) });
    let restarted;
    try {
      const old = await emulator.appToken({ caller: APP, target: API });
      const { protectedHeader: oldHeader } = await verify(old);

      const rotation = (await (await fetch(`${emulator.baseUrl}/signing-keys/rotate`, { method: 'POST' })).json()) as {
        kid: string;
        retired: string;
      };
      expect(rotation.retired).toBe(oldHeader.kid);
      const published = ((await (await fetch(jwksUri)).json()) as { keys: JWK[] }).keys.map((key) => key.kid);
      expect(published).toEqual([oldHeader.kid, rotation.kid]);

      const fresh = await emulator.appToken({ caller: APP, target: API });
      const { protectedHeader } = await verify(fresh);
      expect(protectedHeader.kid).toBe(rotation.kid);
      await verify(old);

      await emulator.close();
      // Both keys are kept: a restart still publishes the retired one and signs with the new one.
      restarted = await startEmulator({ port, stateDir });
      await verify(old);
      const after = await restarted.appToken({ caller: APP, target: API });
      expect((await verify(after)).protectedHeader.kid).toBe(rotation.kid);
    } finally {
      await emulator.close();
      await restarted?.close();
    }
  });
});
