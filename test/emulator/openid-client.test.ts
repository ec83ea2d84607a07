/**
 * openid-client, a certified OpenID Connect client, against the emulator: login, userinfo, a refresh token used twice, the v1
 * discovery older middleware reads, and `common` read through openid-client's own Entra ID multi-tenant support.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { startEmulator, type Emulator } from '../../packages/entra-emulator/src/index.js';
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

async function logIn(scope: string, using = config) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(using, {
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
  return oidc.authorizationCodeGrant(using, callback, {
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

describe('v1 and multi-tenant discovery', () => {
  it("reads the tenant's v1 discovery: the v1 issuer, and keys that are the v2.0 keys", async () => {
    const clientId = config.clientMetadata().client_id;
    const v1 = await oidc.discovery(new URL(`${emulator.baseUrl}/${emulator.tenantId}/`), clientId, 'oidc-secret', undefined, {
      execute: [oidc.allowInsecureRequests],
    });
    const metadata = v1.serverMetadata();
    expect(metadata.issuer).toBe(`${emulator.baseUrl}/${emulator.tenantId}/`);
    expect(metadata.jwks_uri).toBe(`${emulator.baseUrl}/${emulator.tenantId}/discovery/keys`);
    expect(metadata.response_types_supported).toEqual(['code', 'id_token', 'code id_token', 'token id_token', 'token']);
    const v1Keys = await (await fetch(metadata.jwks_uri!)).json();
    const v2Keys = await (await fetch(config.serverMetadata().jwks_uri!)).json();
    expect(v1Keys).toEqual(v2Keys);
  });

  it("logs in through common, as openid-client reads Entra's: the issuer holds {tenantid}, the token has the tenant's", async () => {
    const clientId = config.clientMetadata().client_id;
    // openid-client knows Entra's multi-tenant issuer by Entra's host: its requests for that host go to the emulator.
    const entra = 'https://login.microsoftonline.com';
    const common = await oidc.discovery(new URL(`${entra}/common/v2.0`), clientId, 'oidc-secret', undefined, {
      execute: [oidc.allowInsecureRequests],
      [oidc.customFetch]: (url, options) => fetch(url.replace(entra, emulator.baseUrl), options),
    });
    const metadata = common.serverMetadata();
    expect(metadata.issuer).toBe(`${emulator.baseUrl}/{tenantid}/v2.0`);
    expect(metadata.token_endpoint).toBe(`${emulator.baseUrl}/common/oauth2/v2.0/token`);
    expect(metadata.authorization_endpoint).toBe(`${emulator.baseUrl}/common/oauth2/v2.0/authorize`);
    expect(metadata.response_types_supported).toEqual(['code', 'id_token', 'code id_token', 'id_token token']);
    const tokens = await logIn('openid profile', common);
    // openid-client checked the ID token's iss against the issuer with the token's tid in it.
    expect(tokens.claims()).toMatchObject({ iss: emulator.issuer, tid: emulator.tenantId, NAVident: 'Z990079' });
    const organizations = (await (await fetch(`${emulator.baseUrl}/organizations/v2.0/.well-known/openid-configuration`)).json()) as {
      issuer: string;
      jwks_uri: string;
    };
    expect(organizations.issuer).toBe(`${emulator.baseUrl}/{tenantid}/v2.0`);
    expect(await (await fetch(organizations.jwks_uri)).json()).toEqual(await (await fetch(config.serverMetadata().jwks_uri!)).json());
  });

  it('answers a tenant it does not serve as Entra does', async () => {
    const res = await fetch(`${emulator.baseUrl}/consumers/v2.0/.well-known/openid-configuration`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error_codes: number[] }).error_codes).toEqual([90002]);
  });
});
