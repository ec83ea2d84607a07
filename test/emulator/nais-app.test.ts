/**
 * A team's own NAIS app against the emulator: a resource server and a client written here with
 * jose and plain fetch, configured only by the variables NAIS would inject (read from the
 * emulator's environment endpoint), using Texas's three endpoints as an app on NAIS does.
 */
import { createServer, type Server } from 'node:http';
import { mkdtemp, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, importJWK, importPKCS8, jwtVerify, type CryptoKey, type JWK } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../packages/entra-emulator/src/index.js';
import { clientCertificate } from './helpers.js';

const API = 'dev-gcp:team-a:my-api';
const CLIENT = 'dev-gcp:team-a:my-client';
const OTHER = 'dev-gcp:team-b:other-api';
const CERTIFIED = 'dev-gcp:team-a:certified';

const MANIFESTS = `
apiVersion: nais.io/v1alpha1
kind: Application
metadata: { name: my-api, namespace: team-a }
spec:
  azure: { application: { enabled: true, allowAllUsers: true } }
  accessPolicy:
    inbound:
      rules:
        - application: my-client
        - application: certified
---
apiVersion: nais.io/v1alpha1
kind: Application
metadata: { name: my-client, namespace: team-a }
spec:
  azure:
    application:
      enabled: true
      allowAllUsers: true
      replyURLs: ["http://localhost:3000/oauth2/callback"]
---
apiVersion: nais.io/v1alpha1
kind: Application
metadata: { name: other-api, namespace: team-b }
spec:
  azure: { application: { enabled: true, allowAllUsers: true } }
  accessPolicy: { inbound: { rules: [ { application: someone-else } ] } }
`;

type Env = Record<string, string>;

/** The resource server: accepts a Bearer token made for it, validated by hand as NAIS documents it. */
function resourceServer(env: Env): Promise<{ url: string; server: Server }> {
  const jwks = createRemoteJWKSet(new URL(env.AZURE_OPENID_CONFIG_JWKS_URI!));
  const server = createServer((req, res) => {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    jwtVerify(token, jwks, { issuer: env.AZURE_OPENID_CONFIG_ISSUER!, audience: env.AZURE_APP_CLIENT_ID!, algorithms: ['RS256'] }).then(
      ({ payload }) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ hello: payload.NAVident ?? payload.azp_name })),
      (err: Error) => res.writeHead(401).end(err.message),
    );
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server })),
  );
}

async function post(url: string, body: Record<string, unknown>, as: 'json' | 'form' = 'json') {
  const res = await fetch(url, {
    method: 'POST',
    ...(as === 'json'
      ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
      : { body: new URLSearchParams(Object.entries(body).map(([k, v]): [string, string] => [k, String(v)])) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('a NAIS app configured only by the variables NAIS injects', () => {
  let emulator: Emulator;
  let api: Env;
  let client: Env;
  let other: Env;
  let server: { url: string; server: Server };
  let certificate: { pem: string; privateKey: CryptoKey; thumbprint: string };

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nais-app-'));
    await writeFile(join(dir, 'apps.yaml'), MANIFESTS);
    const made = await clientCertificate('CN=certified');
    certificate = {
      pem: made.certificatePem,
      privateKey: await importPKCS8(made.privateKeyPem, 'RS256'),
      thumbprint: Buffer.from(made.sha1, 'hex').toString('base64url'),
    };
    emulator = await startEmulator({
      manifests: [join(dir, 'apps.yaml')],
      directory: { clients: [{ target: CERTIFIED, certificates: [certificate.pem] }] },
    });
    const envOf = async (target: string) => (await (await fetch(`${emulator.baseUrl}/apps/${target}/env`)).json()) as Env;
    [api, client, other] = await Promise.all([envOf(API), envOf(CLIENT), envOf(OTHER)]);
    server = await resourceServer(api);
  });

  afterAll(async () => {
    server?.server.close();
    await emulator?.close();
  });

  const callApi = async (token: string) => {
    const res = await fetch(server.url, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, text: await res.text() };
  };
  const scope = (target: string) => {
    const [cluster, namespace, app] = target.split(':');
    return `api://${cluster}.${namespace}.${app}/.default`;
  };

  it('gets the variables NAIS injects, the same over HTTP as in process', async () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        'AZURE_APP_CLIENT_ID',
        'AZURE_APP_JWK',
        'AZURE_APP_JWKS',
        'AZURE_APP_PRE_AUTHORIZED_APPS',
        'AZURE_APP_TENANT_ID',
        'AZURE_APP_WELL_KNOWN_URL',
        'AZURE_OPENID_CONFIG_ISSUER',
        'AZURE_OPENID_CONFIG_JWKS_URI',
        'AZURE_OPENID_CONFIG_TOKEN_ENDPOINT',
        'NAIS_APP_NAME',
        'NAIS_CLUSTER_NAME',
        'NAIS_NAMESPACE',
        'NAIS_TOKEN_ENDPOINT',
        'NAIS_TOKEN_EXCHANGE_ENDPOINT',
        'NAIS_TOKEN_INTROSPECTION_ENDPOINT',
      ].sort(),
    );
    expect(api.AZURE_APP_CLIENT_ID).toBe(emulator.clientIdFor(API));
    expect(api.AZURE_APP_TENANT_ID).toBe(emulator.tenantId);
    expect(api.AZURE_OPENID_CONFIG_ISSUER).toBe(emulator.issuer);
    expect(api.AZURE_APP_WELL_KNOWN_URL).toBe(emulator.wellKnownUrl);
    expect(api.AZURE_OPENID_CONFIG_TOKEN_ENDPOINT).toBe(emulator.tokenEndpoint);
    expect(JSON.parse(api.AZURE_APP_PRE_AUTHORIZED_APPS!)).toEqual([
      { name: CERTIFIED, clientId: emulator.clientIdFor(CERTIFIED) },
      { name: CLIENT, clientId: emulator.clientIdFor(CLIENT) },
    ]);
    const jwk = JSON.parse(api.AZURE_APP_JWK!) as JWK;
    expect(jwk).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    expect(jwk.kid && jwk.d).toBeTruthy();
    expect(JSON.parse(api.AZURE_APP_JWKS!)).toEqual({ keys: [jwk] });
    // Each app has its own key pair.
    expect((JSON.parse(client.AZURE_APP_JWK!) as JWK).n).not.toBe(jwk.n);
    expect(await emulator.environment(API)).toEqual(api);
    const doc = (await (await fetch(api.AZURE_APP_WELL_KNOWN_URL!)).json()) as Record<string, string>;
    expect(doc.jwks_uri).toBe(api.AZURE_OPENID_CONFIG_JWKS_URI);
  });

  it('the resource server accepts a user token and an app token made for it, and refuses one made for another app', async () => {
    const userToken = await emulator.userToken({ employee: 'Z990001', target: API });
    expect(await callApi(userToken)).toEqual({ status: 200, text: JSON.stringify({ hello: 'Z990001' }) });

    const appToken = await post(client.NAIS_TOKEN_ENDPOINT!, { identity_provider: 'entra_id', target: scope(API) });
    expect(appToken.status).toBe(200);
    expect(appToken.body).toMatchObject({ token_type: 'Bearer', expires_in: expect.any(Number) });
    expect(await callApi(String(appToken.body.access_token))).toEqual({ status: 200, text: JSON.stringify({ hello: CLIENT }) });

    const forOther = await emulator.userToken({ employee: 'Z990001', target: OTHER });
    expect((await callApi(forOther)).status).toBe(401);
  });

  it('gets app tokens through NAIS_TOKEN_ENDPOINT, as JSON or a form, cached until asked to skip the cache', async () => {
    const first = await post(client.NAIS_TOKEN_ENDPOINT!, { identity_provider: 'entra_id', target: scope(API) }, 'form');
    const second = await post(client.NAIS_TOKEN_ENDPOINT!, { identity_provider: 'azuread', target: scope(API) });
    expect(second.body.access_token).toBe(first.body.access_token);
    const fresh = await post(client.NAIS_TOKEN_ENDPOINT!, { identity_provider: 'entra_id', target: scope(API), skip_cache: true });
    expect(fresh.body.access_token).not.toBe(first.body.access_token);
    const { payload } = await jwtVerify(String(fresh.body.access_token), createRemoteJWKSet(new URL(api.AZURE_OPENID_CONFIG_JWKS_URI!)), {
      issuer: api.AZURE_OPENID_CONFIG_ISSUER!,
      audience: api.AZURE_APP_CLIENT_ID!,
    });
    expect(payload).toMatchObject({ azp: client.AZURE_APP_CLIENT_ID, idtyp: 'app', roles: ['access_as_application'] });
  });

  it('exchanges a user token through NAIS_TOKEN_EXCHANGE_ENDPOINT for one the API accepts', async () => {
    const fromLogin = await emulator.userToken({ employee: 'Z990002', target: CLIENT });
    const exchanged = await post(client.NAIS_TOKEN_EXCHANGE_ENDPOINT!, {
      identity_provider: 'entra_id',
      target: scope(API),
      user_token: fromLogin,
    });
    expect(exchanged.status).toBe(200);
    expect(await callApi(String(exchanged.body.access_token))).toEqual({ status: 200, text: JSON.stringify({ hello: 'Z990002' }) });
    const again = await post(client.NAIS_TOKEN_EXCHANGE_ENDPOINT!, {
      identity_provider: 'entra_id',
      target: scope(API),
      user_token: fromLogin,
    });
    expect(again.body.access_token).toBe(exchanged.body.access_token);
  });

  it('introspects through NAIS_TOKEN_INTROSPECTION_ENDPOINT: active with the claims, or why not', async () => {
    const introspect = (token: string) => post(api.NAIS_TOKEN_INTROSPECTION_ENDPOINT!, { identity_provider: 'entra_id', token });
    const good = await emulator.appToken({ caller: CLIENT, target: API });
    const active = await introspect(good);
    expect(active.status).toBe(200);
    expect(active.body).toMatchObject({
      active: true,
      aud: api.AZURE_APP_CLIENT_ID,
      azp: client.AZURE_APP_CLIENT_ID,
      iss: emulator.issuer,
    });

    await expect(emulator.appToken({ caller: CLIENT, target: OTHER })).rejects.toThrow(/^AADSTS501051: /);
    const forOther = await emulator.userToken({ employee: 'Z990001', target: OTHER });
    expect((await introspect(forOther)).body).toEqual({ active: false, error: "token's audience is not this app's client id" });
    const expired = await emulator.appToken({
      caller: CLIENT,
      target: API,
      claims: { exp: Math.floor(Date.now() / 1000) - 120, iat: Math.floor(Date.now() / 1000) - 3600 },
    });
    expect((await introspect(expired)).body).toEqual({ active: false, error: 'token is expired' });
    const tampered = `${good.slice(0, good.lastIndexOf('.'))}.${'A'.repeat(342)}`;
    expect((await introspect(tampered)).body).toEqual({ active: false, error: 'token is not signed by a key of the issuer' });
    expect((await introspect('not a token')).body).toEqual({ active: false, error: 'token is not a valid JWT' });
    const noIat = await emulator.appToken({ caller: CLIENT, target: API, claims: { iat: undefined } });
    expect((await introspect(noIat)).body).toEqual({ active: false, error: 'token has no iat claim' });
    // Texas refuses a token issued after now (past its minute of leeway), and an iat that is not whole seconds.
    const now = Math.floor(Date.now() / 1000);
    const future = await emulator.appToken({ caller: CLIENT, target: API, claims: { iat: now + 600, nbf: undefined } });
    expect((await introspect(future)).body).toEqual({ active: false, error: 'token is issued in the future' });
    const withinLeeway = await emulator.appToken({ caller: CLIENT, target: API, claims: { iat: now + 30, nbf: undefined } });
    expect((await introspect(withinLeeway)).body.active).toBe(true);
    const fraction = await emulator.appToken({ caller: CLIENT, target: API, claims: { iat: now - 0.5 } });
    expect((await introspect(fraction)).body).toEqual({ active: false, error: "token's iat claim is not a whole number of seconds" });
  });

  it('refuses a target whose manifest does not let the app in, keeping the AADSTS code', async () => {
    const refused = await post(client.NAIS_TOKEN_ENDPOINT!, { identity_provider: 'entra_id', target: scope(OTHER) });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_grant');
    expect(String(refused.body.error_description)).toMatch(/^AADSTS501051: /);
    expect(Object.keys(refused.body).sort()).toEqual(['error', 'error_description']);
    const fromLogin = await emulator.userToken({ employee: 'Z990002', target: CLIENT });
    const exchange = await post(client.NAIS_TOKEN_EXCHANGE_ENDPOINT!, {
      identity_provider: 'entra_id',
      target: scope(OTHER),
      user_token: fromLogin,
    });
    expect(String(exchange.body.error_description)).toMatch(/^AADSTS65001: /);
    const missing = await post(client.NAIS_TOKEN_ENDPOINT!, {
      identity_provider: 'entra_id',
      target: 'api://dev-gcp.nobody.here/.default',
    });
    expect(String(missing.body.error_description)).toMatch(/^AADSTS500011: /);
  });

  it("answers Texas's errors for other identity providers and bad requests", async () => {
    expect(await post(client.NAIS_TOKEN_ENDPOINT!, { identity_provider: 'tokenx', target: 'x' })).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: "identity provider 'tokenx' is not enabled" },
    });
    expect((await post(client.NAIS_TOKEN_ENDPOINT!, { target: scope(API) })).body).toEqual({
      error: 'invalid_request',
      error_description: 'missing required field: identity_provider',
    });
    expect(
      (await post(client.NAIS_TOKEN_EXCHANGE_ENDPOINT!, { identity_provider: 'entra_id', target: scope(API) })).body.error_description,
    ).toBe('missing required field: user_token');
    const text = await fetch(client.NAIS_TOKEN_ENDPOINT!, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    expect(text.status).toBe(400);
    expect(((await text.json()) as Record<string, string>).error).toBe('invalid_request');
    const broken = await fetch(client.NAIS_TOKEN_ENDPOINT!, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"identity_provider":',
    });
    expect(await broken.json()).toEqual({ error: 'invalid_request', error_description: 'the body is not valid JSON' });
    const unknown = await post(`${emulator.baseUrl}/apps/dev-gcp:team-a:ghost/api/v1/token`, {
      identity_provider: 'entra_id',
      target: scope(API),
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error_description).toBe(
      `dev-gcp:team-a:ghost is not an app of this emulator's directory; it has ${[CERTIFIED, API, CLIENT, OTHER].join(', ')}`,
    );
    expect(other.AZURE_APP_CLIENT_ID).toBe(emulator.clientIdFor(OTHER));
    // Texas's endpoints take POST only.
    for (const url of [client.NAIS_TOKEN_ENDPOINT!, client.NAIS_TOKEN_EXCHANGE_ENDPOINT!, client.NAIS_TOKEN_INTROSPECTION_ENDPOINT!])
      for (const method of ['GET', 'HEAD', 'PUT', 'DELETE']) {
        const res = await fetch(url, { method });
        expect([method, res.status, res.headers.get('allow'), await res.text()]).toEqual([method, 405, 'POST', '']);
      }
  });

  it('reads every field before the identity provider, and takes any string as Texas does', async () => {
    // Introspection answers a provider Texas does not serve as it answers a token it cannot use: 200, inactive.
    for (const as of ['json', 'form'] as const)
      expect(await post(api.NAIS_TOKEN_INTROSPECTION_ENDPOINT!, { identity_provider: 'tokenx', token: 'x' }, as)).toEqual({
        status: 200,
        body: { active: false, error: "identity provider 'tokenx' is not enabled" },
      });
    // An empty bearer token handed on is a token that is not valid, not a bad request.
    expect(await post(api.NAIS_TOKEN_INTROSPECTION_ENDPOINT!, { identity_provider: 'entra_id', token: '' })).toEqual({
      status: 200,
      body: { active: false, error: 'token is not a valid JWT' },
    });
    // A body Texas cannot read is refused before the provider is looked at.
    const noToken = await post(api.NAIS_TOKEN_INTROSPECTION_ENDPOINT!, { identity_provider: 'maskinporten' });
    expect(noToken).toEqual({ status: 400, body: { error: 'invalid_request', error_description: 'missing required field: token' } });
    const noTarget = await post(client.NAIS_TOKEN_ENDPOINT!, { identity_provider: 'idporten' });
    expect(noTarget.body.error_description).toBe('missing required field: target');
    // Empty values go on to Entra ID, which answers them with its own AADSTS codes.
    const emptyTarget = await post(client.NAIS_TOKEN_ENDPOINT!, { identity_provider: 'entra_id', target: '' }, 'form');
    expect(emptyTarget.status).toBe(400);
    expect(String(emptyTarget.body.error_description)).toMatch(/^AADSTS\d+: /);
    const emptyUser = await post(client.NAIS_TOKEN_EXCHANGE_ENDPOINT!, {
      identity_provider: 'entra_id',
      target: scope(API),
      user_token: '',
    });
    expect(emptyUser.status).toBe(400);
    expect(String(emptyUser.body.error_description)).toMatch(/^AADSTS\d+: /);
  });

  it('types the optional fields as Texas does: skip_cache a boolean or null, resource and authorization_details kept apart', async () => {
    const ask = (extra: Record<string, unknown>, as: 'json' | 'form' = 'json') =>
      post(client.NAIS_TOKEN_ENDPOINT!, { identity_provider: 'entra_id', target: scope(API), ...extra }, as);
    const first = await ask({});
    // A client that serializes every field sends null for the ones it leaves out (Jackson, serde without skip).
    const nulls = await ask({ skip_cache: null, resource: null, authorization_details: null });
    expect(nulls.status).toBe(200);
    expect(nulls.body.access_token).toBe(first.body.access_token);
    const exchanged = await post(client.NAIS_TOKEN_EXCHANGE_ENDPOINT!, {
      identity_provider: 'entra_id',
      target: scope(API),
      user_token: await emulator.userToken({ employee: 'Z990001', target: CLIENT }),
      skip_cache: null,
    });
    expect(exchanged.status).toBe(200);
    // JSON's skip_cache is a boolean, a form's the word true or false.
    const refused = { status: 400, body: { error: 'invalid_request', error_description: 'skip_cache must be true or false' } };
    expect(await ask({ skip_cache: 'true' })).toEqual(refused);
    expect(await ask({ skip_cache: 1 }, 'form')).toEqual(refused);
    expect((await ask({ skip_cache: false }, 'form')).body.access_token).toBe(first.body.access_token);
    // Texas keeps a token per resource and authorization details, and reads neither from a wrong type.
    const withResource = await ask({ resource: 'https://resource.example' });
    expect(withResource.status).toBe(200);
    expect(withResource.body.access_token).not.toBe(first.body.access_token);
    expect((await ask({ resource: 'https://resource.example' }, 'form')).body.access_token).toBe(withResource.body.access_token);
    const details = [{ type: 'urn:example:detail' }];
    const withDetails = await ask({ authorization_details: details });
    expect(withDetails.body.access_token).not.toBe(first.body.access_token);
    expect((await ask({ authorization_details: JSON.stringify(details) }, 'form')).body.access_token).toBe(withDetails.body.access_token);
    expect((await ask({ resource: 5 })).body.error_description).toBe('resource must be a string');
    for (const wrong of [{ type: 'x' }, 'not json', ['x']])
      expect((await ask({ authorization_details: wrong })).body.error_description).toBe(
        'authorization_details must be a JSON array of objects',
      );
  });

  it('does private_key_jwt itself with openid-client and AZURE_APP_JWK', async () => {
    const jwk = JSON.parse(client.AZURE_APP_JWK!) as JWK;
    const key = (await importJWK(jwk, 'RS256')) as CryptoKey;
    const config = await oidc.discovery(
      new URL(client.AZURE_APP_WELL_KNOWN_URL!),
      client.AZURE_APP_CLIENT_ID!,
      undefined,
      oidc.PrivateKeyJwt({ key, kid: jwk.kid! }),
      {
        execute: [oidc.allowInsecureRequests],
      },
    );
    const tokens = await oidc.clientCredentialsGrant(config, { scope: scope(API) });
    expect(await callApi(tokens.access_token)).toEqual({ status: 200, text: JSON.stringify({ hello: CLIENT }) });
  });

  it('does private_key_jwt with a certificate declared in the directory, known by its thumbprint', async () => {
    const config = await oidc.discovery(
      new URL(client.AZURE_APP_WELL_KNOWN_URL!),
      emulator.clientIdFor(CERTIFIED),
      undefined,
      oidc.PrivateKeyJwt({ key: certificate.privateKey, kid: certificate.thumbprint }),
      { execute: [oidc.allowInsecureRequests] },
    );
    const tokens = await oidc.clientCredentialsGrant(config, { scope: scope(API) });
    expect(await callApi(tokens.access_token)).toEqual({ status: 200, text: JSON.stringify({ hello: CERTIFIED }) });
  });
});
