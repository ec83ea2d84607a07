/**
 * The emulator's discovery, keys and token endpoint over real HTTP: client authentication, client
 * credentials, and every refusal with Entra's code and error body.
 */
import { X509Certificate, createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { startEmulator, type Emulator } from '../../packages/entra-emulator/src/index.js';
import {
  ASSERTION_TYPE,
  clientAssertion,
  clientCertificate,
  expectEntraError,
  tokenRequest,
  verifyToken,
  type AssertionOptions,
} from './helpers.js';

let emulator: Emulator;
let key: CryptoKey;
let otherKey: CryptoKey;
let clientId: string;
let secretClientId: string;
const KID = 'test-key';
const SCOPE = 'api://dev-gcp.team.api/.default';

beforeAll(async () => {
  emulator = await startEmulator({ unauthorizedTargets: ['dev-gcp:locked:api'], missingTargets: ['dev-gcp:ghost:api'] });
  const pair = await generateKeyPair('RS256', { extractable: true });
  key = pair.privateKey;
  otherKey = (await generateKeyPair('RS256')).privateKey;
  clientId = emulator.registerClient({
    target: 'dev-gcp:team:caller',
    jwks: [{ ...(await exportJWK(pair.publicKey)), kid: KID, alg: 'RS256' }],
  });
  secretClientId = emulator.registerClient({ target: 'dev-gcp:team:secret-caller', secrets: ['s3cret-value', 'with+plus%and:colon'] });
});

afterAll(async () => {
  await emulator?.close();
});

const assertion = (options: Partial<AssertionOptions> = {}) => clientAssertion(emulator, { clientId, key, kid: KID, ...options });
const token = (params: Record<string, string>, headers: Record<string, string> = {}) => tokenRequest(emulator, params, headers);

async function clientCredentials(extra: Record<string, string> = {}, assertionOptions: Partial<AssertionOptions> = {}) {
  return token({
    grant_type: 'client_credentials',
    scope: SCOPE,
    client_assertion_type: ASSERTION_TYPE,
    client_assertion: await assertion(assertionOptions),
    ...extra,
  });
}

const withSecret = (extra: Record<string, string> = {}) =>
  token({ grant_type: 'client_credentials', scope: SCOPE, client_id: secretClientId, client_secret: 's3cret-value', ...extra });

describe('discovery and keys', () => {
  it('publishes Entra-shaped discovery under the tenant path', async () => {
    const res = await fetch(emulator.wellKnownUrl);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Record<string, unknown>;
    const base = `${emulator.baseUrl}/${emulator.tenantId}`;
    expect(emulator.wellKnownUrl).toBe(`${base}/v2.0/.well-known/openid-configuration`);
    expect(doc).toMatchObject({
      issuer: `${base}/v2.0`,
      token_endpoint: `${base}/oauth2/v2.0/token`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      jwks_uri: `${base}/discovery/v2.0/keys`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      code_challenge_methods_supported: ['S256', 'plain'],
    });
    expect(doc.response_types_supported).toContain('code');
    expect(doc.scopes_supported).toEqual(expect.arrayContaining(['openid', 'profile', 'email', 'offline_access']));
    expect(doc.claims_supported).toEqual(expect.arrayContaining(['sub', 'iss', 'aud', 'oid', 'tid', 'NAVident', 'nonce']));
    expect(emulator.issuer).toBe(doc.issuer);
    expect(emulator.tokenEndpoint).toBe(doc.token_endpoint);
  });

  it('publishes one RS256 2048-bit key, with its self-signed certificate, kid = x5t = the certificate thumbprint', async () => {
    const jwks = (await (await fetch(`${emulator.baseUrl}/${emulator.tenantId}/discovery/v2.0/keys`)).json()) as {
      keys: Record<string, unknown>[];
    };
    expect(jwks.keys).toHaveLength(1);
    const [k] = jwks.keys as [Record<string, string | string[]>];
    expect(k).toMatchObject({ kty: 'RSA', use: 'sig', e: 'AQAB', issuer: emulator.issuer });
    expect(Buffer.from(String(k.n), 'base64url').length).toBe(256);
    const der = Buffer.from((k.x5c as string[])[0]!, 'base64');
    const certificate = new X509Certificate(der);
    expect(certificate.verify(certificate.publicKey)).toBe(true);
    expect(certificate.publicKey.export({ format: 'jwk' }).n).toBe(k.n);
    expect(k.x5t).toBe(createHash('sha1').update(der).digest('base64url'));
    expect(k.kid).toBe(k.x5t);
  });

  it('answers an unknown tenant as Entra does, on every endpoint', async () => {
    for (const path of ['/v2.0/.well-known/openid-configuration', '/discovery/v2.0/keys', '/oauth2/v2.0/authorize?client_id=x']) {
      const res = await fetch(`${emulator.baseUrl}/not-a-tenant${path}`);
      const body = (await res.json()) as Record<string, unknown>;
      expectEntraError({ status: res.status, body }, 90002, 'invalid_tenant');
      expect(String(body.error_description)).toContain("Tenant 'not-a-tenant' not found");
    }
    const post = await fetch(`${emulator.baseUrl}/${randomUUID()}/oauth2/v2.0/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });
    expect(((await post.json()) as { error_codes: number[] }).error_codes).toEqual([90002]);
  });

  it("is named by one of the tenant's domains too, as https://login.microsoftonline.com/trygdeetaten.no names it", async () => {
    const own = (await (await fetch(emulator.wellKnownUrl)).json()) as Record<string, unknown>;
    for (const domain of ['trygdeetaten.no', 'Trygdeetaten.NO']) {
      // Entra answers for a domain with the tenant's document: its id in the issuer and in every endpoint.
      const res = await fetch(`${emulator.baseUrl}/${domain}/v2.0/.well-known/openid-configuration`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual(own);
      const keys = await fetch(`${emulator.baseUrl}/${domain}/discovery/v2.0/keys`);
      expect(await keys.json()).toEqual(await (await fetch(String(own.jwks_uri))).json());
      const post = await fetch(`${emulator.baseUrl}/${domain}/oauth2/v2.0/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          scope: SCOPE,
          client_id: secretClientId,
          client_secret: 's3cret-value',
        }),
      });
      const body = (await post.json()) as { access_token: string };
      expect(decodeJwt(body.access_token)).toMatchObject({ iss: emulator.issuer, tid: emulator.tenantId });
    }
    // A domain that is not the tenant's (NAV's production tenant) is another tenant.
    const other = await fetch(`${emulator.baseUrl}/nav.no/v2.0/.well-known/openid-configuration`);
    expectEntraError({ status: other.status, body: (await other.json()) as Record<string, unknown> }, 90002, 'invalid_tenant');
  });
});

describe('client credentials', () => {
  it('issues an app token with Entra v2.0 claims to a client with an assertion, verified against the JWKS', async () => {
    const result = await clientCredentials();
    expect(result.status).toBe(200);
    expect(Object.keys(result.body).sort()).toEqual(['access_token', 'expires_in', 'ext_expires_in', 'token_type']);
    expect(result.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, ext_expires_in: 3600 });
    const { payload, protectedHeader } = await verifyToken(emulator, result.body.access_token, emulator.clientIdFor('dev-gcp:team:api'));
    expect(protectedHeader).toMatchObject({ alg: 'RS256', typ: 'JWT' });
    expect(protectedHeader.kid).toBeTruthy();
    expect(payload).toMatchObject({
      aud: emulator.clientIdFor('dev-gcp:team:api'),
      iss: emulator.issuer,
      azp: clientId,
      azp_name: 'dev-gcp:team:caller',
      azpacr: '2',
      roles: ['access_as_application'],
      idtyp: 'app',
      tid: emulator.tenantId,
      ver: '2.0',
    });
    expect(payload.oid).toBe(payload.sub);
    expect(payload.oid).toMatch(/^[0-9a-f-]{36}$/);
    expect(payload.oid).not.toBe(clientId);
    for (const claim of ['aio', 'rh', 'uti']) expect(typeof payload[claim]).toBe('string');
    expect(payload.exp! - payload.iat!).toBe(3600);
    expect(payload.nbf).toBe(payload.iat);
    expect(payload.scp).toBeUndefined();
  });

  it('derives client ids from targets: the same UUID every time and across instances', async () => {
    const other = await startEmulator();
    try {
      expect(emulator.clientIdFor('dev-gcp:team:api')).toBe(other.clientIdFor('dev-gcp:team:api'));
      expect(emulator.clientIdFor('dev-gcp:team:api')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(emulator.clientIdFor('dev-gcp:team:api')).not.toBe(emulator.clientIdFor('dev-gcp:team:other'));
      expect(other.tenantId).not.toBe(emulator.tenantId);
    } finally {
      await other.close();
    }
  });

  it('accepts the issuer as assertion audience too', async () => {
    expect((await clientCredentials({}, { aud: emulator.issuer })).status).toBe(200);
  });

  it('names the resource as api://cluster.namespace.app, api://<client id> or the bare client id', async () => {
    const target = emulator.clientIdFor('dev-gcp:team:named');
    for (const scope of ['api://dev-gcp.team.named/.default', `api://${target}/.default`, `${target}/.default`]) {
      const result = await clientCredentials({ scope });
      expect(result.status, scope).toBe(200);
      expect((await verifyToken(emulator, result.body.access_token, target)).payload.aud).toBe(target);
    }
  });

  it('issues to a client with a secret, in the body or as basic authentication, with azpacr 1', async () => {
    const post = await withSecret();
    expect(post.status).toBe(200);
    expect((await verifyToken(emulator, post.body.access_token, emulator.clientIdFor('dev-gcp:team:api'))).payload.azpacr).toBe('1');
    const basic = await token(
      { grant_type: 'client_credentials', scope: SCOPE },
      { authorization: `Basic ${Buffer.from(`${secretClientId}:s3cret-value`).toString('base64')}` },
    );
    expect(basic.status).toBe(200);
    // RFC 6749 form-encodes both halves; the secret may also come as it is.
    for (const secret of [encodeURIComponent('with+plus%and:colon'), 'with+plus%and:colon']) {
      const encoded = await token(
        { grant_type: 'client_credentials', scope: SCOPE },
        { authorization: `Basic ${Buffer.from(`${secretClientId}:${secret}`).toString('base64')}` },
      );
      expect(encoded.status, secret).toBe(200);
    }
  });

  it('ignores parameters it does not know, as Entra does', async () => {
    const result = await clientCredentials({
      'x-client-SKU': 'MSAL.Node',
      'x-client-VER': '9.9',
      client_info: '1',
      'client-request-id': randomUUID(),
    });
    expect(result.status).toBe(200);
  });

  it('counts every POST to the token endpoint, refused ones too, by grant', async () => {
    const before = emulator.stats.tokenRequests;
    const byGrant = emulator.stats.byGrant.client_credentials ?? 0;
    await withSecret();
    await withSecret({ client_secret: 'wrong' });
    await fetch(emulator.tokenEndpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(emulator.stats.tokenRequests).toBe(before + 3);
    expect(emulator.stats.byGrant.client_credentials).toBe(byGrant + 2);
  });
});

describe('certificate credentials, named by thumbprint', () => {
  it(
    'take x5t#S256 or x5t; refuse an unregistered thumbprint, an ' + 'x5c of another certificate, and a new assertion with a seen jti',
    async () => {
      const certificate = await clientCertificate();
      const other = await clientCertificate('CN=another');
      const certClient = emulator.registerClient({ target: 'dev-gcp:team:cert-caller', certificates: [certificate.certificatePem] });
      const { importPKCS8 } = await import('jose');
      const signing = await importPKCS8(certificate.privateKeyPem, 'PS256');
      const thumb = (hex: string) => Buffer.from(hex, 'hex').toString('base64url');
      const derOf = (pem: string) => pem.replace(/-----[^-]+-----|\s/g, '');
      const signed = async (header: Record<string, unknown>, jti = randomUUID()) => {
        const now = Math.floor(Date.now() / 1000);
        return new SignJWT({ jti })
          .setProtectedHeader({ alg: 'PS256', ...header })
          .setIssuer(certClient)
          .setSubject(certClient)
          .setAudience(emulator.tokenEndpoint)
          .setNotBefore(now)
          .setExpirationTime(now + 600)
          .sign(signing);
      };
      const send = (client_assertion: string) =>
        token({ grant_type: 'client_credentials', scope: SCOPE, client_assertion_type: ASSERTION_TYPE, client_assertion });
      const bySha256 = await signed({ 'x5t#S256': thumb(certificate.sha256) });
      expect((await send(bySha256)).status).toBe(200);
      expect((await send(await signed({ x5t: thumb(certificate.sha1) }))).status).toBe(200);
      expect((await send(await signed({ 'x5t#S256': thumb(certificate.sha256), x5c: [derOf(certificate.certificatePem)] }))).status).toBe(
        200,
      );
      // The very assertion again, as MSAL sends it until it expires: accepted, as by Entra ID.
      expect((await send(bySha256)).status).toBe(200);
      const unknown = await send(await signed({ 'x5t#S256': thumb(other.sha256) }));
      expectEntraError(unknown, 700027, 'invalid_client');
      expect(String(unknown.body.error_description)).toContain(thumb(other.sha256));
      expectEntraError(
        await send(await signed({ 'x5t#S256': thumb(certificate.sha256), x5c: [derOf(other.certificatePem)] })),
        700027,
        'invalid_client',
      );
      const jti = randomUUID();
      expect((await send(await signed({ x5t: thumb(certificate.sha1) }, jti))).status).toBe(200);
      expectEntraError(await send(await signed({ x5t: thumb(certificate.sha1) }, jti)), 50027, 'invalid_client');
      expectEntraError(await send(await signed({})), 700027, 'invalid_client');
      expect(() => emulator.registerClient({ target: 'dev-gcp:team:bad-cert', certificates: ['not a certificate'] })).toThrow(
        'certificate',
      );
    },
  );
});

describe('client authentication refusals', () => {
  it('bad assertion signature: AADSTS700027', async () => {
    expectEntraError(await clientCredentials({}, { key: otherKey }), 700027, 'invalid_client');
  });
  it('unknown key id: AADSTS700027', async () => {
    expectEntraError(await clientCredentials({}, { kid: 'nope' }), 700027, 'invalid_client');
  });
  it('an assertion signed with HS256 (alg confusion): AADSTS700027', async () => {
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: 'HS256', kid: KID })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(emulator.tokenEndpoint)
      .setIssuedAt(now)
      .setExpirationTime(now + 30)
      .sign(new TextEncoder().encode('a shared secret of thirty-two bytes'));
    expectEntraError(await clientCredentials({ client_assertion: forged }), 700027, 'invalid_client');
  });
  it('wrong assertion audience: AADSTS700023', async () => {
    expectEntraError(await clientCredentials({}, { aud: 'https://somewhere.else/token' }), 700023, 'invalid_client');
    expectEntraError(await clientCredentials({}, { aud: [emulator.tokenEndpoint, 'https://somewhere.else'] }), 700023, 'invalid_client');
  });
  it('expired assertion: AADSTS700024', async () => {
    const past = Math.floor(Date.now() / 1000) - 600;
    expectEntraError(await clientCredentials({}, { iat: past, exp: past + 30 }), 700024, 'invalid_client');
  });
  it('assertion not valid yet, or issued in the future: AADSTS700024', async () => {
    const future = Math.floor(Date.now() / 1000) + 300;
    expectEntraError(await clientCredentials({}, { iat: future, exp: future + 30 }), 700024, 'invalid_client');
    expectEntraError(await clientCredentials({}, { iat: future, nbf: null, exp: future + 30 }), 700024, 'invalid_client');
  });
  it('assertion valid for longer than ten minutes: AADSTS700024', async () => {
    const now = Math.floor(Date.now() / 1000);
    expectEntraError(await clientCredentials({}, { iat: now, exp: now + 3600 }), 700024, 'invalid_client');
    expectEntraError(await clientCredentials({}, { iat: now - 30, nbf: now - 30, exp: now + 601 }), 700024, 'invalid_client');
  });
  it('reused jti: AADSTS50027, saying the assertion was already used', async () => {
    const jti = randomUUID();
    expect((await clientCredentials({}, { jti })).status).toBe(200);
    const replay = await clientCredentials({}, { jti });
    expectEntraError(replay, 50027, 'invalid_client');
    expect(String(replay.body.error_description)).toContain('already used');
    // The very same assertion, sent twice, too.
    const same = await assertion();
    expect((await clientCredentials({ client_assertion: same })).status).toBe(200);
    expectEntraError(await clientCredentials({ client_assertion: same }), 50027, 'invalid_client');
  });
  it('assertion without jti, or not a JWT: AADSTS50027', async () => {
    expectEntraError(await clientCredentials({}, { jti: null }), 50027, 'invalid_client');
    expectEntraError(await clientCredentials({ client_assertion: 'not.a.jwt' }), 50027, 'invalid_client');
  });
  it('assertion whose sub is not its iss: AADSTS50048; whose iss is not the client_id sent: AADSTS700021', async () => {
    expectEntraError(await clientCredentials({}, { sub: secretClientId }), 50048, 'invalid_client');
    expectEntraError(await clientCredentials({ client_id: secretClientId }), 700021, 'invalid_client');
  });
  it('an assertion type other than jwt-bearer: AADSTS50027', async () => {
    expectEntraError(await clientCredentials({ client_assertion_type: 'urn:something:else' }), 50027, 'invalid_client');
  });
  it('wrong secret: AADSTS7000215', async () => {
    expectEntraError(await withSecret({ client_secret: 'wrong' }), 7000215, 'invalid_client');
    const basic = await token(
      { grant_type: 'client_credentials', scope: SCOPE },
      { authorization: `Basic ${Buffer.from(`${secretClientId}:wrong`).toString('base64')}` },
    );
    expectEntraError(basic, 7000215, 'invalid_client');
  });
  it('no credential: AADSTS7000218', async () => {
    expectEntraError(await token({ grant_type: 'client_credentials', scope: SCOPE, client_id: secretClientId }), 7000218, 'invalid_client');
  });
  it('unknown client, by client_id or by assertion issuer: AADSTS700016 unauthorized_client', async () => {
    expectEntraError(await withSecret({ client_id: randomUUID() }), 700016, 'unauthorized_client');
    expectEntraError(await clientCredentials({}, { iss: randomUUID() }), 700016, 'unauthorized_client');
  });
  it('no client at all: AADSTS900144', async () => {
    expectEntraError(await token({ grant_type: 'client_credentials', scope: SCOPE }), 900144, 'invalid_request');
  });
  it('a malformed Basic header, or a secret sent twice: invalid_request, not a crash', async () => {
    const malformed = await token(
      { grant_type: 'client_credentials', scope: SCOPE },
      { authorization: `Basic ${Buffer.from('%zz:%zz').toString('base64')}!` },
    );
    expectEntraError(malformed, 9002313, 'invalid_request');
    const twice = await token(
      { grant_type: 'client_credentials', scope: SCOPE, client_secret: 's3cret-value' },
      { authorization: `Basic ${Buffer.from(`${secretClientId}:s3cret-value`).toString('base64')}` },
    );
    expectEntraError(twice, 9002313, 'invalid_request');
  });
});

describe('grant and scope refusals', () => {
  it('unsupported grant type: AADSTS70003', async () => {
    expectEntraError(await clientCredentials({ grant_type: 'password' }), 70003, 'unsupported_grant_type');
  });
  it('missing grant type: AADSTS900144', async () => {
    expectEntraError(await token({ client_id: secretClientId, client_secret: 's3cret-value' }), 900144, 'invalid_request');
  });
  it('a scope without /.default: AADSTS1002012; /.default with more: AADSTS70011', async () => {
    for (const scope of ['api://dev-gcp.team.api/read', 'api://dev-gcp.team.api', 'openid', 'openid profile User.Read']) {
      const result = await clientCredentials({ scope });
      expectEntraError(result, 1002012, 'invalid_scope');
      expect(String(result.body.error_description)).toContain('/.default');
    }
    expectEntraError(await clientCredentials({ scope: 'openid api://dev-gcp.team.api/.default' }), 70011, 'invalid_scope');
  });
  it('scopes of two resources: AADSTS700022', async () => {
    expectEntraError(
      await clientCredentials({ scope: 'api://dev-gcp.team.api/.default api://dev-gcp.team.other/.default' }),
      700022,
      'invalid_scope',
    );
  });
  it('missing scope: AADSTS900144', async () => {
    const result = await token({ grant_type: 'client_credentials', client_id: secretClientId, client_secret: 's3cret-value' });
    expectEntraError(result, 900144, 'invalid_request');
    expect(String(result.body.error_description)).toContain("'scope'");
  });
  it('a target that does not exist, or a client id nobody knows: AADSTS500011', async () => {
    expectEntraError(await clientCredentials({ scope: 'api://dev-gcp.ghost.api/.default' }), 500011, 'invalid_resource');
    expectEntraError(await clientCredentials({ scope: `api://${randomUUID()}/.default` }), 500011, 'invalid_resource');
    expectEntraError(await clientCredentials({ scope: `${randomUUID()}/.default` }), 500011, 'invalid_resource');
  });
  it('a target that has not authorized the caller: AADSTS501051', async () => {
    expectEntraError(await clientCredentials({ scope: 'api://dev-gcp.locked.api/.default' }), 501051, 'invalid_grant');
  });
});

describe('malformed requests get Entra errors, never a crash', () => {
  it('a body that is not a form: AADSTS900144', async () => {
    for (const [type, body] of [
      ['application/json', '{"grant_type":"client_credentials"}'],
      ['text/plain', 'grant_type=client_credentials'],
      ['application/json', '{not json'],
    ] as const) {
      const res = await fetch(emulator.tokenEndpoint, { method: 'POST', headers: { 'content-type': type }, body });
      expectEntraError({ status: res.status, body: (await res.json()) as Record<string, unknown> }, 900144, 'invalid_request');
    }
  });
  it('a parameter sent twice: AADSTS90100', async () => {
    const res = await fetch(emulator.tokenEndpoint, {
      method: 'POST',
      body:
        `grant_type=client_credentials&scope=${encodeURIComponent(SCOPE)}&scope=x` +
        `&client_id=${secretClientId}&client_secret=s3cret-value`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expectEntraError({ status: res.status, body: (await res.json()) as Record<string, unknown> }, 90100, 'invalid_request');
  });
  it('a body over the size limit: an Entra error with 413', async () => {
    const res = await fetch(emulator.tokenEndpoint, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', junk: 'x'.repeat(100_000) }),
    });
    expectEntraError({ status: res.status, body: (await res.json()) as Record<string, unknown> }, 9002313, 'invalid_request', 413);
  });
  it('GET on the token endpoint: AADSTS900561', async () => {
    const res = await fetch(`${emulator.tokenEndpoint}?grant_type=client_credentials`);
    expectEntraError({ status: res.status, body: (await res.json()) as Record<string, unknown> }, 900561, 'invalid_request');
  });
  it('odd values everywhere: still 4xx with an Entra body', async () => {
    const odd = ['', ' ', '\u0000', '%', 'ä'.repeat(300), '{"a":1}', 'a.b.c', '..', `${'a'.repeat(5000)}`];
    for (const value of odd) {
      for (const field of ['grant_type', 'scope', 'client_id', 'client_secret', 'client_assertion', 'assertion', 'code', 'refresh_token']) {
        const params: Record<string, string> = {
          grant_type: 'client_credentials',
          scope: SCOPE,
          client_assertion_type: ASSERTION_TYPE,
          client_assertion: 'x.y.z',
          [field]: value,
        };
        const result = await token(params);
        expect(result.status, `${field}=${JSON.stringify(value.slice(0, 20))}`).toBeGreaterThanOrEqual(400);
        expect(result.status).toBeLessThan(500);
        expect(result.body.error_codes).toHaveLength(1);
      }
    }
  });
});
