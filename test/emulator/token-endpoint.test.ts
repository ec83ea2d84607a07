import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomUUID } from 'node:crypto';
import { createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT, type CryptoKey } from 'jose';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';

let emulator: Emulator;
let key: CryptoKey;
let otherKey: CryptoKey;
let clientId: string;
let secretClientId: string;
const KID = 'test-key';

beforeAll(async () => {
  emulator = await startEmulator({ unauthorizedTargets: ['dev-gcp:locked:api'], missingTargets: ['dev-gcp:ghost:api'] });
  const pair = await generateKeyPair('RS256', { extractable: true });
  key = pair.privateKey;
  otherKey = (await generateKeyPair('RS256')).privateKey;
  clientId = emulator.registerClient({
    target: 'dev-gcp:team:caller',
    jwks: [{ ...(await exportJWK(pair.publicKey)), kid: KID, alg: 'RS256' }],
    redirectUris: ['http://localhost:9999/callback'],
  });
  secretClientId = emulator.registerClient({ target: 'dev-gcp:team:secret-caller', secrets: ['s3cret-value'] });
});

afterAll(async () => {
  await emulator?.close();
});

interface AssertionOptions {
  signWith?: CryptoKey;
  aud?: string;
  iat?: number;
  exp?: number;
  jti?: string;
  iss?: string;
  kid?: string;
}

async function assertion(options: AssertionOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ jti: options.jti ?? randomUUID() })
    .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? KID })
    .setIssuer(options.iss ?? clientId)
    .setSubject(options.iss ?? clientId)
    .setAudience(options.aud ?? emulator.tokenEndpoint)
    .setIssuedAt(options.iat ?? now)
    .setNotBefore(options.iat ?? now)
    .setExpirationTime(options.exp ?? now + 30)
    .sign(options.signWith ?? key);
}

async function token(params: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(emulator.tokenEndpoint, { method: 'POST', headers, body: new URLSearchParams(params) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function clientCredentials(extra: Record<string, string> = {}, assertionOptions: AssertionOptions = {}) {
  return token({
    grant_type: 'client_credentials',
    scope: 'api://dev-gcp.team.api/.default',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: await assertion(assertionOptions),
    ...extra,
  });
}

function expectEntraError(result: { status: number; body: Record<string, unknown> }, code: number, error: string) {
  expect(result.body.error).toBe(error);
  expect(result.body.error_codes).toEqual([code]);
  expect(String(result.body.error_description)).toMatch(new RegExp(`^AADSTS${code}: .+\\r\\nTrace ID: [0-9a-f-]+\\r\\nCorrelation ID: [0-9a-f-]+\\r\\nTimestamp: `));
  for (const field of ['timestamp', 'trace_id', 'correlation_id', 'error_uri']) expect(result.body[field]).toBeTruthy();
  expect(result.status).toBe(error === 'invalid_client' ? 401 : 400);
}

describe('discovery and keys', () => {
  it('publishes Entra-shaped discovery under the tenant path', async () => {
    const doc = (await (await fetch(emulator.wellKnownUrl)).json()) as Record<string, unknown>;
    expect(doc.issuer).toBe(`${emulator.baseUrl}/${emulator.tenantId}/v2.0`);
    expect(doc.token_endpoint).toBe(`${emulator.baseUrl}/${emulator.tenantId}/oauth2/v2.0/token`);
    expect(doc.authorization_endpoint).toBe(`${emulator.baseUrl}/${emulator.tenantId}/oauth2/v2.0/authorize`);
    expect(doc.jwks_uri).toBe(`${emulator.baseUrl}/${emulator.tenantId}/discovery/v2.0/keys`);
    expect(doc.end_session_endpoint).toBe(`${emulator.baseUrl}/${emulator.tenantId}/oauth2/v2.0/logout`);
    expect(doc.token_endpoint_auth_methods_supported).toEqual(['client_secret_post', 'private_key_jwt', 'client_secret_basic']);
    expect(doc.subject_types_supported).toEqual(['pairwise']);
    expect(doc.id_token_signing_alg_values_supported).toEqual(['RS256']);
    expect(doc.response_modes_supported).toEqual(['query', 'fragment', 'form_post']);
  });

  it('publishes RS256 keys with kid, x5t and issuer', async () => {
    const jwks = (await (await fetch(`${emulator.baseUrl}/${emulator.tenantId}/discovery/v2.0/keys`)).json()) as { keys: Record<string, string>[] };
    expect(jwks.keys).toHaveLength(1);
    const [k] = jwks.keys;
    expect(k).toMatchObject({ kty: 'RSA', use: 'sig', issuer: emulator.issuer });
    for (const field of ['kid', 'x5t', 'n', 'e']) expect(k![field]).toBeTruthy();
    expect(Buffer.from(k!.n!, 'base64url').length).toBe(256);
  });

  it('answers an unknown tenant as Entra does', async () => {
    const res = await fetch(`${emulator.baseUrl}/not-a-tenant/v2.0/.well-known/openid-configuration`);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.error_codes).toEqual([90002]);
  });
});

describe('client credentials', () => {
  it('issues an app token with Entra v2.0 claims to a client with an assertion', async () => {
    const result = await clientCredentials();
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, ext_expires_in: 3600 });
    const keys = createRemoteJWKSet(new URL(`${emulator.baseUrl}/${emulator.tenantId}/discovery/v2.0/keys`));
    const { payload, protectedHeader } = await jwtVerify(String(result.body.access_token), keys, {
      issuer: emulator.issuer,
      audience: emulator.clientIdFor('dev-gcp:team:api'),
    });
    expect(protectedHeader).toMatchObject({ alg: 'RS256', typ: 'JWT' });
    expect(payload).toMatchObject({
      azp: clientId,
      azp_name: 'dev-gcp:team:caller',
      azpacr: '2',
      roles: ['access_as_application'],
      idtyp: 'app',
      tid: emulator.tenantId,
      ver: '2.0',
    });
    expect(payload.oid).toBe(payload.sub);
    expect(payload.oid).not.toBe(clientId);
    for (const claim of ['aio', 'rh', 'uti', 'iat', 'nbf', 'exp']) expect(payload[claim]).toBeDefined();
    expect(payload.scp).toBeUndefined();
  });

  it('gives the same target the same client id every time, and the issuer as assertion audience is accepted', async () => {
    expect(emulator.clientIdFor('dev-gcp:team:api')).toBe(emulator.clientIdFor('dev-gcp:team:api'));
    expect(emulator.clientIdFor('dev-gcp:team:api')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const result = await clientCredentials({}, { aud: emulator.issuer });
    expect(result.status).toBe(200);
  });

  it('issues to a client with a secret, in the body or as basic authentication', async () => {
    const post = await token({ grant_type: 'client_credentials', scope: 'api://dev-gcp.team.api/.default', client_id: secretClientId, client_secret: 's3cret-value' });
    expect(post.status).toBe(200);
    const basic = await token(
      { grant_type: 'client_credentials', scope: 'api://dev-gcp.team.api/.default' },
      { authorization: `Basic ${Buffer.from(`${secretClientId}:s3cret-value`).toString('base64')}` },
    );
    expect(basic.status).toBe(200);
  });

  it('ignores parameters it does not know, as Entra does', async () => {
    const result = await clientCredentials({ 'x-client-SKU': 'MSAL.Node', 'x-client-VER': '9.9', client_info: '1', 'client-request-id': randomUUID() });
    expect(result.status).toBe(200);
  });
});

describe('refusals, with Entra error bodies', () => {
  it('bad assertion signature: AADSTS700027', async () => {
    expectEntraError(await clientCredentials({}, { signWith: otherKey }), 700027, 'invalid_client');
  });
  it('unknown key id: AADSTS700027', async () => {
    expectEntraError(await clientCredentials({}, { kid: 'nope' }), 700027, 'invalid_client');
  });
  it('wrong assertion audience: AADSTS700212', async () => {
    expectEntraError(await clientCredentials({}, { aud: 'https://somewhere.else/token' }), 700212, 'invalid_client');
  });
  it('expired assertion: AADSTS700024', async () => {
    const past = Math.floor(Date.now() / 1000) - 600;
    expectEntraError(await clientCredentials({}, { iat: past, exp: past + 30 }), 700024, 'invalid_client');
  });
  it('assertion valid for too long: AADSTS700024', async () => {
    const now = Math.floor(Date.now() / 1000);
    expectEntraError(await clientCredentials({}, { iat: now, exp: now + 3600 }), 700024, 'invalid_client');
  });
  it('reused jti: AADSTS7000222', async () => {
    const jti = randomUUID();
    expect((await clientCredentials({}, { jti })).status).toBe(200);
    expectEntraError(await clientCredentials({}, { jti }), 7000222, 'invalid_client');
  });
  it('wrong secret: AADSTS7000215', async () => {
    const result = await token({ grant_type: 'client_credentials', scope: 'api://dev-gcp.team.api/.default', client_id: secretClientId, client_secret: 'wrong' });
    expectEntraError(result, 7000215, 'invalid_client');
  });
  it('no credential: AADSTS7000218', async () => {
    const result = await token({ grant_type: 'client_credentials', scope: 'api://dev-gcp.team.api/.default', client_id: secretClientId });
    expectEntraError(result, 7000218, 'invalid_client');
  });
  it('unknown client: AADSTS700016', async () => {
    const result = await token({ grant_type: 'client_credentials', scope: 'api://dev-gcp.team.api/.default', client_id: randomUUID(), client_secret: 'x' });
    expectEntraError(result, 700016, 'unauthorized_client');
  });
  it('unsupported grant type: AADSTS70003', async () => {
    expectEntraError(await clientCredentials({ grant_type: 'password' }), 70003, 'unsupported_grant_type');
  });
  it('invalid scope: AADSTS70011', async () => {
    expectEntraError(await clientCredentials({ scope: 'api://dev-gcp.team.api/read' }), 70011, 'invalid_scope');
  });
  it('scopes of two resources: AADSTS700022', async () => {
    expectEntraError(await clientCredentials({ scope: 'api://dev-gcp.team.api/.default api://dev-gcp.team.other/.default' }), 700022, 'invalid_scope');
  });
  it('missing scope: AADSTS900144', async () => {
    const params = { grant_type: 'client_credentials', client_id: secretClientId, client_secret: 's3cret-value' };
    expectEntraError(await token(params), 900144, 'invalid_request');
  });
  it('a target that does not exist: AADSTS500011', async () => {
    expectEntraError(await clientCredentials({ scope: 'api://dev-gcp.ghost.api/.default' }), 500011, 'invalid_resource');
  });
  it('a target that has not authorized the caller: AADSTS501051', async () => {
    expectEntraError(await clientCredentials({ scope: 'api://dev-gcp.locked.api/.default' }), 501051, 'invalid_grant');
  });
  it('a body that is not a form: an Entra error, not a crash', async () => {
    const res = await fetch(emulator.tokenEndpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"grant_type":"client_credentials"}' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error_codes: number[] }).error_codes).toEqual([900144]);
  });
});

describe('authorization code, refresh and on-behalf-of', () => {
  const redirectUri = 'http://localhost:9999/callback';

  async function login(options: { verifier?: string; nonce?: string } = {}) {
    const verifier = options.verifier ?? 'v'.repeat(43);
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const authorize = new URL(`${emulator.baseUrl}/${emulator.tenantId}/oauth2/v2.0/authorize`);
    const params = {
      client_id: clientId,
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: `openid profile offline_access api://${clientId}/.default`,
      state: 'state-1',
      nonce: options.nonce ?? 'nonce-1',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    };
    for (const [k, v] of Object.entries(params)) authorize.searchParams.set(k, v);
    const page = await fetch(authorize);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Sign in');
    const res = await fetch(authorize.origin + authorize.pathname, {
      method: 'POST',
      redirect: 'manual',
      body: new URLSearchParams({ ...params, navIdent: 'Z990042', name: 'Per Prøve', email: 'per@trygdeetaten.no', groups: 'g1,g2' }),
    });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location')!);
    expect(location.origin + location.pathname).toBe(redirectUri);
    expect(location.searchParams.get('state')).toBe('state-1');
    return { code: location.searchParams.get('code')!, verifier };
  }

  async function redeem(code: string, verifier: string, uri = redirectUri) {
    return token({
      grant_type: 'authorization_code',
      code,
      redirect_uri: uri,
      code_verifier: verifier,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await assertion(),
    });
  }

  it('redeems a code for an ID token, a user token for the client and a refresh token', async () => {
    const { code, verifier } = await login();
    const result = await redeem(code, verifier);
    expect(result.status).toBe(200);
    const keys = createRemoteJWKSet(new URL(`${emulator.baseUrl}/${emulator.tenantId}/discovery/v2.0/keys`));
    const id = await jwtVerify(String(result.body.id_token), keys, { issuer: emulator.issuer, audience: clientId });
    expect(id.payload).toMatchObject({ nonce: 'nonce-1', tid: emulator.tenantId, name: 'Per Prøve', NAVident: 'Z990042', preferred_username: 'per@trygdeetaten.no' });
    const access = await jwtVerify(String(result.body.access_token), keys, { issuer: emulator.issuer, audience: clientId });
    expect(access.payload.scp).toBe('defaultaccess');
    expect(typeof result.body.refresh_token).toBe('string');
  });

  it('refuses a wrong PKCE verifier, a second use of a code and a wrong redirect URI', async () => {
    const first = await login();
    expectEntraError(await redeem(first.code, 'w'.repeat(43)), 501481, 'invalid_grant');
    const second = await login();
    expect((await redeem(second.code, second.verifier)).status).toBe(200);
    expectEntraError(await redeem(second.code, second.verifier), 54005, 'invalid_grant');
    const third = await login();
    expectEntraError(await redeem(third.code, third.verifier, 'http://localhost:9999/other'), 50148, 'invalid_grant');
  });

  it('rotates refresh tokens: the old one stops working', async () => {
    const { code, verifier } = await login();
    const first = await redeem(code, verifier);
    const refresh = (refreshToken: string) =>
      assertion().then((a) =>
        token({
          grant_type: 'refresh_token',
          refresh_token: refreshToken,
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: a,
        }),
      );
    const second = await refresh(String(first.body.refresh_token));
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).not.toBe(first.body.refresh_token);
    expect((await refresh(String(first.body.refresh_token))).status).toBe(400);
  });

  it('exchanges a user token on behalf of the user, with a subject per target', async () => {
    const { code, verifier } = await login();
    const login1 = await redeem(code, verifier);
    const obo = async (scope: string, userToken = String(login1.body.access_token)) =>
      token({
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        requested_token_use: 'on_behalf_of',
        assertion: userToken,
        scope,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await assertion(),
      });
    const keys = createRemoteJWKSet(new URL(`${emulator.baseUrl}/${emulator.tenantId}/discovery/v2.0/keys`));
    const a = await obo('api://dev-gcp.team.api/.default');
    expect(a.status).toBe(200);
    const one = await jwtVerify(String(a.body.access_token), keys, { issuer: emulator.issuer, audience: emulator.clientIdFor('dev-gcp:team:api') });
    const b = await obo('api://dev-gcp.team.other/.default');
    const two = await jwtVerify(String(b.body.access_token), keys, { issuer: emulator.issuer, audience: emulator.clientIdFor('dev-gcp:team:other') });
    expect(one.payload).toMatchObject({ scp: 'defaultaccess', azp: clientId, NAVident: 'Z990042', name: 'Per Prøve', groups: ['g1', 'g2'] });
    expect(one.payload.idtyp).toBeUndefined();
    expect(one.payload.oid).toBe(two.payload.oid);
    expect(one.payload.sub).not.toBe(two.payload.sub);

    expectEntraError(await obo('api://dev-gcp.locked.api/.default'), 65001, 'invalid_grant');
    expect((await obo('api://dev-gcp.locked.api/.default')).body.suberror).toBe('consent_required');
    expectEntraError(await obo('api://dev-gcp.team.api/.default', 'not-a-jwt'), 50013, 'invalid_grant');
    // A token whose audience is another app cannot be exchanged by this client.
    expectEntraError(await obo('api://dev-gcp.team.api/.default', String(a.body.access_token)), 50013, 'invalid_grant');
  });

  it('refuses an expired user assertion with AADSTS500133', async () => {
    const short = await startEmulator({ accessTokenLifetimeSeconds: 1 });
    try {
      const id = short.registerClient({ target: 'dev-gcp:t:c', secrets: ['s'], redirectUris: [redirectUri] });
      const verifier = 'x'.repeat(43);
      const params = {
        client_id: id,
        redirect_uri: redirectUri,
        response_type: 'code',
        scope: `openid api://${id}/.default`,
        state: 's',
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
      };
      const res = await fetch(`${short.baseUrl}/${short.tenantId}/oauth2/v2.0/authorize`, {
        method: 'POST',
        redirect: 'manual',
        body: new URLSearchParams({ ...params, navIdent: 'Z1', name: 'A', email: 'a@b' }),
      });
      const code = new URL(res.headers.get('location')!).searchParams.get('code')!;
      const send = (body: Record<string, string>) =>
        fetch(short.tokenEndpoint, { method: 'POST', body: new URLSearchParams({ client_id: id, client_secret: 's', ...body }) }).then(async (r) => ({
          status: r.status,
          body: (await r.json()) as Record<string, unknown>,
        }));
      const login1 = await send({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
      await new Promise((resolve) => setTimeout(resolve, 2100));
      const result = await send({
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        requested_token_use: 'on_behalf_of',
        assertion: String(login1.body.access_token),
        scope: 'api://dev-gcp.team.api/.default',
      });
      expectEntraError(result, 500133, 'invalid_grant');
    } finally {
      await short.close();
    }
  });
});
