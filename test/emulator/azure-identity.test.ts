/**
 * @azure/identity against the emulator over HTTPS, each credential in a process of its own that
 * trusts the emulator's CA: client credentials with a secret and a certificate, on-behalf-of with a
 * certificate, and the authorization code from a login in headless Chromium. The tokens are verified
 * here against the emulator's JWKS.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startLoopback } from '../helpers/authorization-server.js';
import { launchChromium } from '../helpers/browser.js';
import { startEmulator, type Emulator } from '../../packages/entra-emulator/src/index.js';
import { authorizeUrl, clientCertificate, expectAppToken, runClientScript, verifyToken, type ClientCertificate } from './helpers.js';

type Run = { token: string; headers: Record<string, unknown>[] };

let emulator: Emulator;
let dir: string;
let browser: Browser;
let certificate: ClientCertificate;
/** The certificate and its private key in one PEM file, as @azure/identity reads it. */
let certificatePath: string;
let api: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'azure-identity-'));
  emulator = await startEmulator({ tls: { selfSigned: { caFile: join(dir, 'ca.pem') } } });
  certificate = await clientCertificate('CN=azure identity test client');
  certificatePath = join(dir, 'client.pem');
  await writeFile(certificatePath, `${certificate.certificatePem.trimEnd()}\n${certificate.privateKeyPem}`, { mode: 0o600 });
  api = emulator.clientIdFor('dev-gcp:team:api');
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await emulator?.close();
  await rm(dir, { recursive: true, force: true });
});

const sha256 = () => Buffer.from(certificate.sha256, 'hex').toString('base64url');

describe('@azure/identity against the emulator over HTTPS (authorityHost, disableInstanceDiscovery)', () => {
  it('gets app tokens with ClientSecretCredential and ClientCertificateCredential (PS256, x5t#S256; with the chain in x5c)', async () => {
    const clientId = emulator.registerClient({
      target: 'dev-gcp:team:identity-app',
      secrets: ['identity-secret'],
      certificates: [certificate.certificatePem],
    });
    const result = await runClientScript<Record<'secret' | 'certificate' | 'chain', Run>>(emulator, 'azure-identity.ts', {
      FLOW: 'client-credentials',
      CLIENT_ID: clientId,
      CLIENT_SECRET: 'identity-secret',
      CERTIFICATE_PATH: certificatePath,
      SCOPE: 'api://dev-gcp.team.api/.default',
    });
    expect(result.secret.headers).toEqual([]);
    expect(result.certificate.headers).toEqual([{ alg: 'PS256', typ: 'JWT', 'x5t#S256': sha256() }]);
    expect(result.chain.headers).toEqual([{ alg: 'PS256', typ: 'JWT', 'x5t#S256': sha256(), x5c: [certificate.der] }]);
    const acr = { secret: '1', certificate: '2', chain: '2' };
    for (const [name, run] of Object.entries(result)) {
      const { payload, protectedHeader } = await expectAppToken(emulator, run.token, api, clientId, acr[name as keyof typeof acr]);
      expect(protectedHeader.alg).toBe('RS256');
      expect(payload.sub).toBe(payload.oid);
    }
  }, 90_000);

  it('exchanges an employee token with OnBehalfOfCredential and a certificate', async () => {
    const target = 'dev-gcp:team:identity-obo';
    const clientId = emulator.registerClient({ target, certificates: [certificate.certificatePem] });
    const userToken = await emulator.userToken({
      target,
      employee: { navIdent: 'Z990079', name: 'Obo Identity', email: 'obo.identity@trygdeetaten.no', groups: [] },
    });
    const { obo } = await runClientScript<{ obo: Run }>(emulator, 'azure-identity.ts', {
      FLOW: 'on-behalf-of',
      CLIENT_ID: clientId,
      CERTIFICATE_PATH: certificatePath,
      USER_TOKEN: userToken,
      SCOPE: 'api://dev-gcp.team.api/.default',
    });
    expect(obo.headers).toEqual([{ alg: 'PS256', typ: 'JWT', 'x5t#S256': sha256() }]);
    const { payload } = await verifyToken(emulator, obo.token, api);
    expect(payload).toMatchObject({
      aud: api,
      azp: clientId,
      azpacr: '2',
      scp: 'defaultaccess',
      NAVident: 'Z990079',
      preferred_username: 'obo.identity@trygdeetaten.no',
    });
    expect(payload.idtyp).toBeUndefined();
    expect(payload.oid).toBe((await verifyToken(emulator, userToken, clientId)).payload.oid);
  }, 90_000);

  it('redeems a code from a login in headless Chromium with AuthorizationCodeCredential (no PKCE, as it sends no verifier)', async () => {
    // The web app's callback, a server that listens: Playwright's routes do not see the navigation a redirect starts.
    const app = await startLoopback();
    const redirectUri = app.redirectUri;
    const clientId = emulator.registerClient({
      target: 'dev-gcp:team:identity-web',
      secrets: ['identity-web-secret'],
      redirectUris: [redirectUri],
    });
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    const arrived = app.next();
    await page.goto(
      authorizeUrl(emulator, {
        client_id: clientId,
        redirect_uri: redirectUri,
        response_type: 'code',
        scope: `openid profile offline_access api://${clientId}/.default`,
        state: 'identity-state',
      }).href,
    );
    await page.locator('#navIdent').fill('Z990080');
    await page.locator('#name').fill('Kode Identity');
    await page.locator('#email').fill('kode.identity@trygdeetaten.no');
    await page.locator('button:has-text("Sign in")').click();
    const callback = await arrived;
    await context.close();
    app.server.close();
    expect(callback.searchParams.get('state')).toBe('identity-state');
    const { code } = await runClientScript<{ code: Run }>(emulator, 'azure-identity.ts', {
      FLOW: 'authorization-code',
      CLIENT_ID: clientId,
      CLIENT_SECRET: 'identity-web-secret',
      CODE: callback.searchParams.get('code')!,
      REDIRECT_URI: redirectUri,
      SCOPE: `api://${clientId}/.default`,
    });
    const { payload } = await verifyToken(emulator, code.token, clientId);
    expect(payload).toMatchObject({
      aud: clientId,
      azp: clientId,
      azpacr: '1',
      scp: 'defaultaccess',
      NAVident: 'Z990080',
      name: 'Kode Identity',
    });
    expect(payload.preferred_username).toBe('kode.identity@trygdeetaten.no');
    expect(typeof payload.sid).toBe('string');
  }, 90_000);
});
