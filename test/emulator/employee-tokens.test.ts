/**
 * Employee tokens: the authorization code flow driven by fetch (GET authorize, POST the login
 * form, follow the redirect), code redemption with PKCE, refresh with rotation and on-behalf-of.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { startEmulator, type Emulator } from '../../packages/entra-emulator/src/index.js';
import {
  ASSERTION_TYPE,
  JWT_BEARER,
  authorizeUrl,
  clientAssertion,
  expectEntraError,
  login,
  tokenRequest,
  verifyToken,
  type Result,
} from './helpers.js';
import { installClock } from '../helpers/clock.js';

const REDIRECT = 'http://localhost:9999/oauth2/callback';
const CALLER = 'dev-gcp:nais:azure-token-generator';
// Before the emulators start: a token's lifetime passes by the clock, not by waiting.
const clock = installClock();
let emulator: Emulator;
let key: CryptoKey;
let clientId: string;
let otherClientId: string;

beforeAll(async () => {
  emulator = await startEmulator({ unauthorizedTargets: ['dev-gcp:locked:api'], missingTargets: ['dev-gcp:ghost:api'] });
  const pair = await generateKeyPair('RS256', { extractable: true });
  key = pair.privateKey;
  clientId = emulator.registerClient({
    target: CALLER,
    jwks: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256' }],
    redirectUris: [REDIRECT],
  });
  otherClientId = emulator.registerClient({ target: 'dev-gcp:team:other-client', secrets: ['other-secret'], redirectUris: [REDIRECT] });
});

afterAll(async () => {
  await emulator?.close();
});

/** Client authentication of the generator: a fresh assertion per request. */
async function asClient(params: Record<string, string>): Promise<Result> {
  return tokenRequest(emulator, {
    ...params,
    client_assertion_type: ASSERTION_TYPE,
    client_assertion: await clientAssertion(emulator, { clientId, key, kid: 'k1' }),
  });
}

const loginScope = () => `openid profile offline_access api://${clientId}/.default`;
const EMPLOYEE = { navIdent: 'Z990042', name: 'Per Prøve', email: 'per.prove@trygdeetaten.no', groups: 'g1, g2' };

async function loggedIn(nonce = 'nonce-1') {
  const { code, verifier } = await login(emulator, { clientId, redirectUri: REDIRECT, scope: loginScope(), nonce, employee: EMPLOYEE });
  const result = await redeem(code, verifier);
  expect(result.status).toBe(200);
  return result;
}

const redeem = (code: string, verifier: string, redirectUri = REDIRECT) =>
  asClient({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier, scope: loginScope() });

const obo = (assertion: string, scope: string) =>
  asClient({ grant_type: JWT_BEARER, requested_token_use: 'on_behalf_of', assertion, scope });

describe('authorization code with PKCE', () => {
  it('redeems a code for an ID token, a user token for the client itself and a refresh token', async () => {
    const result = await loggedIn('the-nonce');
    expect(result.body).toMatchObject({
      token_type: 'Bearer',
      expires_in: 3600,
      ext_expires_in: 3600,
      scope: `api://${clientId}/.default`,
    });
    for (const field of ['access_token', 'id_token', 'refresh_token']) expect(typeof result.body[field]).toBe('string');

    const id = (await verifyToken(emulator, result.body.id_token, clientId)).payload;
    expect(id).toMatchObject({
      aud: clientId,
      iss: emulator.issuer,
      tid: emulator.tenantId,
      nonce: 'the-nonce',
      name: 'Per Prøve',
      preferred_username: 'per.prove@trygdeetaten.no',
      NAVident: 'Z990042',
      ver: '2.0',
    });
    for (const claim of ['oid', 'sub', 'iat', 'nbf', 'exp']) expect(id[claim]).toBeDefined();

    const access = (await verifyToken(emulator, result.body.access_token, clientId)).payload;
    expect(access).toMatchObject({
      aud: clientId,
      scp: 'defaultaccess',
      azp: clientId,
      oid: id.oid,
      NAVident: 'Z990042',
      groups: ['g1', 'g2'],
    });
    expect(access.idtyp).toBeUndefined();
    expect(access.roles).toBeUndefined();
  });

  it('ID tokens carry sid (the sign-on session, in the access token too), aio and uti; client_info=1 brings client_info', async () => {
    const first = await login(emulator, { clientId, redirectUri: REDIRECT, scope: loginScope(), employee: EMPLOYEE });
    const redeemed = await asClient({
      grant_type: 'authorization_code',
      code: first.code,
      redirect_uri: REDIRECT,
      code_verifier: first.verifier,
      client_info: '1',
    });
    const id = decodeJwt(String(redeemed.body.id_token));
    const access = decodeJwt(String(redeemed.body.access_token));
    expect(id.sid).toMatch(/^[0-9a-f-]{36}$/);
    expect(access.sid).toBe(id.sid);
    expect(typeof id.aio).toBe('string');
    expect(typeof id.uti).toBe('string');
    expect(id.uti).not.toBe(access.uti);
    expect(JSON.parse(Buffer.from(String(redeemed.body.client_info), 'base64url').toString())).toEqual({
      uid: id.oid,
      utid: emulator.tenantId,
    });
    // The same browser (its sign-on cookie) is the same session; another sign-in is another.
    const again = await fetch(
      authorizeUrl(emulator, { client_id: clientId, redirect_uri: REDIRECT, response_type: 'code', scope: loginScope() }),
      {
        redirect: 'manual',
        headers: { cookie: first.cookie },
      },
    );
    const code = new URL(again.headers.get('location')!).searchParams.get('code')!;
    const silent = await asClient({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT });
    expect(decodeJwt(String(silent.body.id_token)).sid).toBe(id.sid);
    expect(silent.body.client_info).toBeUndefined();
    const refreshed = await asClient({ grant_type: 'refresh_token', refresh_token: String(redeemed.body.refresh_token), client_info: '1' });
    expect(decodeJwt(String(refreshed.body.id_token)).sid).toBe(id.sid);
    expect(refreshed.body.client_info).toBe(redeemed.body.client_info);
    const other = await loggedIn();
    expect(decodeJwt(String(other.body.id_token)).sid).not.toBe(id.sid);
  });

  it('gives the same employee the same oid every time, derived from the NAVident', async () => {
    const first = decodeJwt(String((await loggedIn()).body.id_token));
    const second = decodeJwt(String((await loggedIn()).body.id_token));
    expect(first.oid).toBe(second.oid);
    const other = await startEmulator();
    try {
      const otherId = other.registerClient({ target: CALLER, secrets: ['s'], redirectUris: [REDIRECT] });
      const { code, verifier } = await login(other, { clientId: otherId, redirectUri: REDIRECT, scope: 'openid', employee: EMPLOYEE });
      const result = await tokenRequest(other, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
        client_id: otherId,
        client_secret: 's',
      });
      expect(decodeJwt(String(result.body.id_token)).oid).toBe(first.oid);
    } finally {
      await other.close();
    }
  });

  it('without offline_access there is no refresh token; without openid no ID token', async () => {
    const signInAndRedeem = async (scope: string) => {
      const { code, verifier } = await login(emulator, { clientId, redirectUri: REDIRECT, scope });
      const result = await asClient({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier });
      expect(result.status).toBe(200);
      return result;
    };
    expect((await signInAndRedeem(`openid api://${clientId}/.default`)).body.refresh_token).toBeUndefined();
    expect((await signInAndRedeem(`api://${clientId}/.default`)).body.id_token).toBeUndefined();
  });

  it('refuses a wrong PKCE verifier (AADSTS501481), and the code is spent after it', async () => {
    const { code, verifier } = await login(emulator, { clientId, redirectUri: REDIRECT, scope: loginScope() });
    // Its last character changed (to another, whatever it was).
    const wrong = `${verifier.slice(0, -1)}${verifier.endsWith('x') ? 'y' : 'x'}`;
    expectEntraError(await redeem(code, wrong), 501481, 'invalid_grant');
    expectEntraError(await redeem(code, verifier), 54005, 'invalid_grant');
  });

  it('refuses a second use of a code: AADSTS54005', async () => {
    const { code, verifier } = await login(emulator, { clientId, redirectUri: REDIRECT, scope: loginScope() });
    expect((await redeem(code, verifier)).status).toBe(200);
    expectEntraError(await redeem(code, verifier), 54005, 'invalid_grant');
  });

  it('refuses a redirect_uri other than the one the code was issued for: AADSTS50148', async () => {
    const { code, verifier } = await login(emulator, { clientId, redirectUri: REDIRECT, scope: loginScope() });
    expectEntraError(await redeem(code, verifier, 'http://localhost:9999/other'), 50148, 'invalid_grant');
  });

  it('refuses a code issued to another client (AADSTS70000), an unknown code, and a missing verifier', async () => {
    const { code, verifier } = await login(emulator, { clientId, redirectUri: REDIRECT, scope: loginScope() });
    const stolen = await tokenRequest(emulator, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
      client_id: otherClientId,
      client_secret: 'other-secret',
    });
    expectEntraError(stolen, 70000, 'invalid_grant');
    expectEntraError(await redeem('no-such-code', verifier), 9002313, 'invalid_grant');
    const missing = await asClient({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT });
    expectEntraError(missing, 900144, 'invalid_request');
    expect(String(missing.body.error_description)).toContain("'code_verifier'");
  });

  it('a confidential client may leave PKCE out, and then sends no verifier; plain PKCE takes the verifier itself', async () => {
    const without = await login(emulator, { clientId, redirectUri: REDIRECT, scope: loginScope(), employee: EMPLOYEE, pkce: 'none' });
    const redeemed = await asClient({ grant_type: 'authorization_code', code: without.code, redirect_uri: REDIRECT, scope: loginScope() });
    expect(redeemed.status).toBe(200);
    expect(decodeJwt(String(redeemed.body.access_token)).NAVident).toBe('Z990042');
    // A verifier for a code issued without a challenge is a downgrade: refused, and the code is spent.
    const downgraded = await login(emulator, { clientId, redirectUri: REDIRECT, scope: loginScope(), employee: EMPLOYEE, pkce: 'none' });
    expectEntraError(await redeem(downgraded.code, without.verifier), 501481, 'invalid_grant');
    const plain = await login(emulator, { clientId, redirectUri: REDIRECT, scope: loginScope(), employee: EMPLOYEE, pkce: 'plain' });
    expect((await redeem(plain.code, plain.verifier)).status).toBe(200);
    const wrongPlain = await login(emulator, { clientId, redirectUri: REDIRECT, scope: loginScope(), employee: EMPLOYEE, pkce: 'plain' });
    expectEntraError(await redeem(wrongPlain.code, plain.verifier), 501481, 'invalid_grant');
  });
  it('refuses a code whose resource has not authorized the client: AADSTS65001 with consent_required', async () => {
    const { code, verifier } = await login(emulator, {
      clientId,
      redirectUri: REDIRECT,
      scope: 'openid api://dev-gcp.locked.api/.default',
    });
    // Redeemed for that resource, as MSAL names it at the redemption.
    const scope = 'openid api://dev-gcp.locked.api/.default';
    const result = await asClient({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, scope });
    expectEntraError(result, 65001, 'invalid_grant');
    expect(result.body.suberror).toBe('consent_required');
  });

  it(
    'a sign-in names several resources to consent to up front (MSAL extraScopesToConsent); its code gives the token of the ' +
      'resource its redemption names, of two AADSTS28000',
    async () => {
      const own = `api://${clientId}/.default`;
      const api = 'api://dev-gcp.team.api/.default';
      const signIn = () => login(emulator, { clientId, redirectUri: REDIRECT, scope: `openid offline_access ${own} ${api} User.Read` });
      const redeemFor = async (scope: string) => {
        const { code, verifier } = await signIn();
        return asClient({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, scope });
      };
      const forApi = await redeemFor(`openid offline_access ${api}`);
      expect(forApi.status).toBe(200);
      expect(forApi.body.scope).toBe(api);
      expect(decodeJwt(String(forApi.body.access_token))).toMatchObject({ aud: emulator.clientIdFor('dev-gcp:team:api'), azp: clientId });
      for (const field of ['id_token', 'refresh_token']) expect(typeof forApi.body[field]).toBe('string');
      const forOwn = await redeemFor(`openid offline_access ${own}`);
      expect(decodeJwt(String(forOwn.body.access_token)).aud).toBe(clientId);
      const both = await redeemFor(`openid ${own} ${api}`);
      expectEntraError(both, 28000, 'invalid_scope');
      expect(String(both.body.error_description)).toContain('more than one resource');
    },
  );

  it('offline_access named at the redemption only brings no refresh token: the employee consented to it at the sign-in', async () => {
    const { code, verifier } = await login(emulator, { clientId, redirectUri: REDIRECT, scope: 'openid profile' });
    const scope = 'openid offline_access api://dev-gcp.team.api/.default';
    const result = await asClient({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, scope });
    expect(result.status).toBe(200);
    expect(decodeJwt(String(result.body.access_token)).aud).toBe(emulator.clientIdFor('dev-gcp:team:api'));
    expect(typeof result.body.id_token).toBe('string');
    expect(result.body.refresh_token).toBeUndefined();
  });
});

describe('refresh tokens', () => {
  const refresh = (refreshToken: string, extra: Record<string, string> = {}) =>
    asClient({ grant_type: 'refresh_token', refresh_token: refreshToken, ...extra });

  it('a refresh gives new tokens and a new refresh token, and the old one keeps working, as in Entra ID', async () => {
    const first = await loggedIn();
    const second = await refresh(String(first.body.refresh_token));
    expect(second.status).toBe(200);
    expect(typeof second.body.refresh_token).toBe('string');
    expect(second.body.refresh_token).not.toBe(first.body.refresh_token);
    const access = (await verifyToken(emulator, second.body.access_token, clientId)).payload;
    expect(access).toMatchObject({ NAVident: 'Z990042', scp: 'defaultaccess' });
    // Two replicas refreshing one session, or a retry after a lost answer: both get tokens.
    const [again, atOnce] = await Promise.all([refresh(String(first.body.refresh_token)), refresh(String(first.body.refresh_token))]);
    expect([again.status, atOnce.status]).toEqual([200, 200]);
    expect(again.body.refresh_token).not.toBe(atOnce.body.refresh_token);
    expect((await refresh(String(second.body.refresh_token))).status).toBe(200);
  });

  it('is bound to its client', async () => {
    const first = await loggedIn();
    const stolen = await tokenRequest(emulator, {
      grant_type: 'refresh_token',
      refresh_token: String(first.body.refresh_token),
      client_id: otherClientId,
      client_secret: 'other-secret',
    });
    expectEntraError(stolen, 9002313, 'invalid_grant');
  });

  it('refuses a refresh token that is not one, and a missing one', async () => {
    expectEntraError(await refresh(randomUUID()), 9002313, 'invalid_grant');
    expectEntraError(await asClient({ grant_type: 'refresh_token' }), 900144, 'invalid_request');
  });
});

describe('Microsoft Graph, which every tenant has', () => {
  const GRAPH = '00000003-0000-0000-c000-000000000000';
  it('gives app tokens by client credentials, with the aud named, and no roles as none are granted', async () => {
    for (const [scope, audience] of [
      ['https://graph.microsoft.com/.default', 'https://graph.microsoft.com'],
      [`${GRAPH}/.default`, GRAPH],
    ] as const) {
      const result = await asClient({ grant_type: 'client_credentials', scope });
      expect(result.status).toBe(200);
      const claims = (await verifyToken(emulator, result.body.access_token, audience)).payload;
      expect(claims).toMatchObject({ aud: audience, azp: clientId, idtyp: 'app' });
      expect(claims.roles).toBeUndefined();
    }
  });

  it('gives user tokens on behalf of a signed-in user, with User.Read', async () => {
    const userToken = String((await loggedIn()).body.access_token);
    const result = await obo(userToken, 'https://graph.microsoft.com/.default');
    expect(result.status).toBe(200);
    const claims = (await verifyToken(emulator, result.body.access_token, 'https://graph.microsoft.com')).payload;
    expect(claims).toMatchObject({
      aud: 'https://graph.microsoft.com',
      azp: clientId,
      NAVident: 'Z990042',
      scp: 'openid profile email User.Read',
    });
    const byId = await obo(userToken, `${GRAPH}/.default`);
    expect(decodeJwt(String(byId.body.access_token)).aud).toBe(GRAPH);
    // userinfo takes both.
    for (const token of [result.body.access_token, byId.body.access_token]) {
      const info = await fetch(`${emulator.baseUrl}/oidc/userinfo`, { headers: { authorization: `Bearer ${String(token)}` } });
      expect(info.status).toBe(200);
    }
  });
});

describe('on-behalf-of', () => {
  it('exchanges a user token for one for the target: scp, the user, a subject per target, the caller', async () => {
    const userToken = String((await loggedIn()).body.access_token);
    const userClaims = decodeJwt(userToken);
    const a = await obo(userToken, 'api://dev-gcp.team.api/.default');
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({
      token_type: 'Bearer',
      expires_in: 3600,
      ext_expires_in: 3600,
      scope: 'api://dev-gcp.team.api/.default',
    });
    expect(a.body.refresh_token).toBeUndefined();
    const one = (await verifyToken(emulator, a.body.access_token, emulator.clientIdFor('dev-gcp:team:api'))).payload;
    const b = await obo(userToken, 'api://dev-gcp.team.other/.default');
    const two = (await verifyToken(emulator, b.body.access_token, emulator.clientIdFor('dev-gcp:team:other'))).payload;
    expect(one).toMatchObject({
      scp: 'defaultaccess',
      azp: clientId,
      azp_name: CALLER,
      azpacr: '2',
      oid: userClaims.oid,
      NAVident: 'Z990042',
      name: 'Per Prøve',
      preferred_username: 'per.prove@trygdeetaten.no',
      groups: ['g1', 'g2'],
      tid: emulator.tenantId,
      ver: '2.0',
    });
    for (const claim of ['aio', 'rh', 'uti', 'iat', 'nbf', 'exp']) expect(one[claim]).toBeDefined();
    expect(one.idtyp).toBeUndefined();
    expect(one.roles).toBeUndefined();
    expect(one.oid).toBe(two.oid);
    expect(one.sub).not.toBe(two.sub);
    expect(one.sub).not.toBe(userClaims.sub);
    // Pairwise, but deterministic.
    const again = (
      await verifyToken(
        emulator,
        (await obo(userToken, 'api://dev-gcp.team.api/.default')).body.access_token,
        emulator.clientIdFor('dev-gcp:team:api'),
      )
    ).payload;
    expect(again.sub).toBe(one.sub);
  });

  it('with a secret, azpacr is 1; with offline_access, a refresh token comes along', async () => {
    const { code, verifier } = await login(emulator, {
      clientId: otherClientId,
      redirectUri: REDIRECT,
      scope: `openid api://${otherClientId}/.default`,
    });
    const secretAuth = { client_id: otherClientId, client_secret: 'other-secret' };
    const signedIn = await tokenRequest(emulator, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
      ...secretAuth,
    });
    const result = await tokenRequest(emulator, {
      grant_type: JWT_BEARER,
      requested_token_use: 'on_behalf_of',
      assertion: String(signedIn.body.access_token),
      scope: 'api://dev-gcp.team.api/.default offline_access',
      ...secretAuth,
    });
    expect(result.status).toBe(200);
    expect((await verifyToken(emulator, result.body.access_token, emulator.clientIdFor('dev-gcp:team:api'))).payload.azpacr).toBe('1');
    expect(typeof result.body.refresh_token).toBe('string');
    const refreshed = await tokenRequest(emulator, {
      grant_type: 'refresh_token',
      refresh_token: String(result.body.refresh_token),
      ...secretAuth,
    });
    expect(refreshed.status).toBe(200);
    expect((await verifyToken(emulator, refreshed.body.access_token, emulator.clientIdFor('dev-gcp:team:api'))).payload.NAVident).toBe(
      'Z990001',
    );
  });

  it('a target that has not authorized the caller: AADSTS65001 with suberror consent_required', async () => {
    const result = await obo(String((await loggedIn()).body.access_token), 'api://dev-gcp.locked.api/.default');
    expectEntraError(result, 65001, 'invalid_grant');
    expect(result.body.suberror).toBe('consent_required');
  });

  it('a target that does not exist: AADSTS500011', async () => {
    expectEntraError(
      await obo(String((await loggedIn()).body.access_token), 'api://dev-gcp.ghost.api/.default'),
      500011,
      'invalid_resource',
    );
  });

  it('an assertion that is not a token of this tenant: AADSTS50013', async () => {
    expectEntraError(await obo('not-a-jwt', 'api://dev-gcp.team.api/.default'), 50013, 'invalid_grant');
    const other = await startEmulator();
    try {
      const otherId = other.registerClient({ target: CALLER, clientId, secrets: ['s'], redirectUris: [REDIRECT] });
      const { code, verifier } = await login(other, {
        clientId: otherId,
        redirectUri: REDIRECT,
        scope: `openid api://${otherId}/.default`,
      });
      const foreign = await tokenRequest(other, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
        client_id: otherId,
        client_secret: 's',
      });
      expectEntraError(await obo(String(foreign.body.access_token), 'api://dev-gcp.team.api/.default'), 50013, 'invalid_grant');
    } finally {
      await other.close();
    }
  });

  it('an assertion whose audience is another app than the caller: AADSTS50013', async () => {
    const exchanged = await obo(String((await loggedIn()).body.access_token), 'api://dev-gcp.team.api/.default');
    const result = await obo(String(exchanged.body.access_token), 'api://dev-gcp.team.other/.default');
    expectEntraError(result, 50013, 'invalid_grant');
    expect(String(result.body.error_description)).toContain('audience');
  });

  it('an ID token (AADSTS240002) or an app token (unauthorized_client, AADSTS7000114) as assertion', async () => {
    const signedIn = await loggedIn();
    expectEntraError(await obo(String(signedIn.body.id_token), 'api://dev-gcp.team.api/.default'), 240002, 'invalid_grant');
    const app = await asClient({ grant_type: 'client_credentials', scope: `api://${clientId}/.default` });
    expectEntraError(await obo(String(app.body.access_token), 'api://dev-gcp.team.api/.default'), 7000114, 'unauthorized_client');
  });

  it('missing requested_token_use, assertion or scope: AADSTS900144; a bad scope: AADSTS70011', async () => {
    const userToken = String((await loggedIn()).body.access_token);
    expectEntraError(
      await asClient({ grant_type: JWT_BEARER, assertion: userToken, scope: 'api://dev-gcp.team.api/.default' }),
      900144,
      'invalid_request',
    );
    expectEntraError(
      await asClient({ grant_type: JWT_BEARER, requested_token_use: 'on_behalf_of', scope: 'api://dev-gcp.team.api/.default' }),
      900144,
      'invalid_request',
    );
    expectEntraError(
      await asClient({ grant_type: JWT_BEARER, requested_token_use: 'on_behalf_of', assertion: userToken }),
      900144,
      'invalid_request',
    );
    expectEntraError(await obo(userToken, 'api://dev-gcp.team.api/read'), 70011, 'invalid_scope');
  });

  it('an expired user assertion: AADSTS500133', async () => {
    const short = await startEmulator({ accessTokenLifetimeSeconds: 1 });
    try {
      const id = short.registerClient({ target: 'dev-gcp:t:c', secrets: ['s'], redirectUris: [REDIRECT] });
      const { code, verifier } = await login(short, { clientId: id, redirectUri: REDIRECT, scope: `openid api://${id}/.default` });
      const auth = { client_id: id, client_secret: 's' };
      const signedIn = await tokenRequest(short, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
        ...auth,
      });
      expect(signedIn.body.expires_in).toBe(1);
      clock.advance(2100);
      const result = await tokenRequest(short, {
        grant_type: JWT_BEARER,
        requested_token_use: 'on_behalf_of',
        assertion: String(signedIn.body.access_token),
        scope: 'api://dev-gcp.team.api/.default',
        ...auth,
      });
      expectEntraError(result, 500133, 'invalid_grant');
    } finally {
      await short.close();
    }
  });
});
