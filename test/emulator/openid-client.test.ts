/** openid-client, a certified OpenID Connect client, against the emulator: login, userinfo, and a refresh token used twice. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { signIn } from './clients/shared.js';

const REDIRECT = 'http://localhost:9999/openid-client/callback';
let emulator: Emulator;
let config: oidc.Configuration;

beforeAll(async () => {
  emulator = await startEmulator();
  const clientId = emulator.registerClient({ target: 'dev-gcp:team:openid-client', secrets: ['oidc-secret'], redirectUris: [REDIRECT] });
  config = await oidc.discovery(new URL(emulator.issuer), clientId, 'oidc-secret', undefined, { execute: [oidc.allowInsecureRequests] });
});

afterAll(async () => {
  await emulator?.close();
});

async function logIn(scope: string) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope,
    state,
    nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  const code = await signIn(url.href, { navIdent: 'Z990079', name: 'Oidc Klient', email: 'oidc.klient@trygdeetaten.no', groups: '' });
  const callback = new URL(REDIRECT);
  callback.search = new URLSearchParams({ code, state }).toString();
  return oidc.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
}

describe('openid-client against the emulator', () => {
  it('logs in and reads userinfo, whose sub is the ID token sub', async () => {
    const tokens = await logIn('openid profile email');
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({ iss: emulator.issuer, aud: config.clientMetadata().client_id, NAVident: 'Z990079' });
    const userInfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(userInfo).toMatchObject({ sub: claims.sub, name: 'Oidc Klient', email: 'oidc.klient@trygdeetaten.no', oid: claims.oid });
    // Another subject is refused by openid-client: the check is real.
    await expect(oidc.fetchUserInfo(config, tokens.access_token, 'another-subject')).rejects.toThrow();
  });

  it('refreshes twice with the same refresh token, as a retry after a lost answer does', async () => {
    const tokens = await logIn('openid profile offline_access');
    const refreshToken = tokens.refresh_token!;
    const first = await oidc.refreshTokenGrant(config, refreshToken);
    const second = await oidc.refreshTokenGrant(config, refreshToken);
    for (const refreshed of [first, second]) {
      expect(refreshed.access_token).toBeTruthy();
      expect(refreshed.refresh_token).toBeTruthy();
      expect(refreshed.claims()?.sub).toBe(tokens.claims()?.sub);
    }
    expect(second.refresh_token).not.toBe(first.refresh_token);
  });
});
