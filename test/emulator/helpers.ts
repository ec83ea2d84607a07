/** What the emulator tests share: token requests, client assertions, PKCE, a fetch-driven login and client scripts. */
import { execFile } from 'node:child_process';
import { createHash, randomBytes, randomUUID, webcrypto } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { get } from 'node:https';
import { promisify } from 'node:util';
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, SignJWT, type CryptoKey, type JSONWebKeySet, type JWTPayload } from 'jose';
import { expect } from 'vitest';
import type { Emulator } from '../../packages/entra-emulator/src/index.js';

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export interface Result {
  status: number;
  body: Record<string, unknown>;
}

export async function tokenRequest(
  emulator: Emulator,
  params: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Result> {
  const res = await fetch(emulator.tokenEndpoint, { method: 'POST', headers, body: new URLSearchParams(params) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export interface AssertionOptions {
  clientId: string;
  key: CryptoKey;
  kid: string;
  aud?: string | string[];
  iat?: number;
  nbf?: number | null;
  exp?: number;
  jti?: string | null;
  iss?: string;
  sub?: string;
}

export async function clientAssertion(emulator: Emulator, options: AssertionOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: JWTPayload = {
    iss: options.iss ?? options.clientId,
    sub: options.sub ?? options.iss ?? options.clientId,
    aud: options.aud ?? emulator.tokenEndpoint,
    iat: options.iat ?? now,
    exp: options.exp ?? now + 30,
  };
  if (options.nbf !== null) claims.nbf = options.nbf ?? options.iat ?? now;
  if (options.jti !== null) claims.jti = options.jti ?? randomUUID();
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: options.kid }).sign(options.key);
}

/** Checks an Entra error body, its code and its HTTP status. */
export function expectEntraError(result: Result, code: number, error: string, status = error === 'invalid_client' ? 401 : 400): void {
  expect(result.body.error).toBe(error);
  expect(result.body.error_codes).toEqual([code]);
  expect(String(result.body.error_description)).toMatch(
    new RegExp(
      `^AADSTS${code}: .+\\r\\nTrace ID: [0-9a-f-]{36}\\r\\nCorrelation ID: [0-9a-f-]{36}\\r\\nTimestamp: \\d{4}-\\d\\d-\\d\\d ` +
        `\\d\\d:\\d\\d:\\d\\dZ$`,
      's',
    ),
  );
  expect(result.body.timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
  expect(result.body.trace_id).toMatch(/^[0-9a-f-]{36}$/);
  expect(result.body.correlation_id).toMatch(/^[0-9a-f-]{36}$/);
  expect(String(result.body.error_uri)).toMatch(new RegExp(`/error\\?code=${code}$`));
  expect(result.status).toBe(status);
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function authorizeUrl(emulator: Emulator, params: Record<string, string>): URL {
  const url = new URL(`${emulator.baseUrl}/${emulator.tenantId}/oauth2/v2.0/authorize`);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url;
}

export function cookieFrom(res: Response): string | undefined {
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .find((c) => c.startsWith('emulator_sso_') && !c.endsWith('='));
}

export interface Login {
  code: string;
  verifier: string;
  state: string;
  /** The emulator's single sign-on cookie, as `name=value`. */
  cookie: string;
}

/**
 * Logs in as a browser would without script: GET the login page, POST its form with the given
 * employee, and read the code from the redirect back to the client.
 */
export async function login(
  emulator: Emulator,
  options: {
    clientId: string;
    redirectUri: string;
    scope: string;
    nonce?: string;
    employee?: Record<string, string>;
    extra?: Record<string, string>;
    /** S256 unless told: plain, or none at all. */
    pkce?: 'S256' | 'plain' | 'none';
  },
): Promise<Login> {
  const { verifier, challenge } = pkce();
  const state = randomBytes(16).toString('base64url');
  const method = options.pkce ?? 'S256';
  const params = {
    client_id: options.clientId,
    redirect_uri: options.redirectUri,
    response_type: 'code',
    scope: options.scope,
    state,
    nonce: options.nonce ?? 'nonce-1',
    ...(method === 'none' ? {} : { code_challenge: method === 'plain' ? verifier : challenge, code_challenge_method: method }),
    ...options.extra,
  };
  const authorize = authorizeUrl(emulator, params);
  const page = await fetch(authorize, { redirect: 'manual' });
  expect(page.status).toBe(200);
  const html = await page.text();
  expect(html).toContain('<button type="submit">Sign in</button>');
  // The form carries the authorize parameters as hidden fields; the employee fills in the rest.
  const form = new URLSearchParams();
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g))
    form.set(match[1]!, decodeEntities(match[2]!));
  const employee = options.employee ?? { navIdent: 'Z990001', name: 'Kari Nordmann', email: 'kari.nordmann@trygdeetaten.no', groups: '' };
  for (const [key, value] of Object.entries(employee)) form.set(key, value);
  const action = /<form method="post" action="([^"]+)">/.exec(html)?.[1];
  expect(action).toBe(authorize.pathname);
  const cookie = page.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .join('; ');
  const res = await fetch(`${emulator.baseUrl}${decodeEntities(action!)}`, {
    method: 'POST',
    redirect: 'manual',
    body: form,
    headers: { cookie },
  });
  expect(res.status).toBe(302);
  const location = new URL(res.headers.get('location')!);
  expect(location.origin + location.pathname).toBe(options.redirectUri);
  expect(location.searchParams.get('state')).toBe(state);
  const code = location.searchParams.get('code');
  if (!code) throw new Error(`no code: ${location.searchParams.get('error_description')}`);
  return { code, verifier, state, cookie: cookieFrom(res)! };
}

export function decodeEntities(value: string): string {
  return value.replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n))).replace(/&amp;/g, '&');
}

/** A GET over HTTPS trusting only the emulator's CA, as this process was started without it. */
async function getTrusting(url: string, caFile: string): Promise<string> {
  const ca = await readFile(caFile, 'utf8');
  return new Promise((resolve, reject) => {
    get(url, { ca }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

/** Verifies a token against the emulator's JWKS (fetched over HTTPS when the emulator serves it), issuer and audience. */
export async function verifyToken(emulator: Emulator, token: unknown, audience: string) {
  const jwksUri = `${emulator.baseUrl}/${emulator.tenantId}/discovery/v2.0/keys`;
  const keys = emulator.caFile
    ? createLocalJWKSet(JSON.parse(await getTrusting(jwksUri, emulator.caFile)) as JSONWebKeySet)
    : createRemoteJWKSet(new URL(jwksUri));
  return jwtVerify(String(token), keys, { issuer: emulator.issuer, audience, algorithms: ['RS256'] });
}

/**
 * Verifies an app token a client library got by client credentials: the emulator's, for `audience`, asked for by
 * `clientId` with a secret (azpacr 1) or a key (2), with the role every app in the emulator's open directory gets.
 */
export async function expectAppToken(emulator: Emulator, token: unknown, audience: string, clientId: string, azpacr: string) {
  const verified = await verifyToken(emulator, token, audience);
  expect(verified.payload).toMatchObject({ aud: audience, azp: clientId, azpacr, idtyp: 'app', tid: emulator.tenantId, ver: '2.0' });
  expect(verified.payload.roles).toEqual(['access_as_application']);
  return verified;
}

const run = promisify(execFile);

/**
 * A client script of test/emulator/clients run as a developer would run it, as its own process
 * trusting the emulator's CA (NODE_EXTRA_CA_CERTS, REQUESTS_CA_BUNDLE); what it prints, parsed as JSON.
 * `.py` scripts run with Debian's Python (python3-msal), the rest with Node.js and tsx.
 */
export async function runClientScript<T>(emulator: Emulator, script: string, env: Record<string, string>): Promise<T> {
  const path = `test/emulator/clients/${script}`;
  const [command, args] = script.endsWith('.py') ? ['/usr/bin/python3', [path]] : [process.execPath, ['--import', 'tsx', path]];
  const trust = emulator.caFile ? { NODE_EXTRA_CA_CERTS: emulator.caFile, REQUESTS_CA_BUNDLE: emulator.caFile } : {};
  const { stdout } = await run(command, args, {
    env: { ...process.env, ...trust, EMULATOR_BASE_URL: emulator.baseUrl, EMULATOR_TENANT: emulator.tenantId, ...env },
    timeout: 60_000,
  });
  return JSON.parse(stdout) as T;
}

export interface ClientCertificate {
  certificatePem: string;
  privateKeyPem: string;
  /** The certificate's DER as base64, as a header's x5c carries it. */
  der: string;
  /** The thumbprints as hex, as Azure's portal shows them and MSAL takes them. */
  sha1: string;
  sha256: string;
}

/** A self-signed RSA certificate for a client's credentials, as a team would make with openssl. */
export async function clientCertificate(name = 'CN=emulator test client'): Promise<ClientCertificate> {
  const { loadX509 } = await import('../../packages/entra-emulator/src/tls.js');
  const x509 = await loadX509();
  const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    name,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    keys: keys as never,
    signingAlgorithm: algorithm,
  });
  const der = Buffer.from(certificate.rawData);
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  return {
    certificatePem: certificate.toString('pem'),
    der: der.toString('base64'),
    privateKeyPem: `-----BEGIN PRIVATE KEY-----\n${pkcs8.replace(/(.{64})/g, '$1\n')}\n-----END PRIVATE KEY-----\n`.replace('\n\n', '\n'),
    sha1: createHash('sha1').update(der).digest('hex'),
    sha256: createHash('sha256').update(der).digest('hex'),
  };
}
