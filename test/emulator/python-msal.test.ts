/**
 * Debian's python3-msal against the emulator over HTTPS, run as a Python program of its own that
 * trusts the emulator's CA through REQUESTS_CA_BUNDLE: client credentials with a secret and with a
 * certificate, and on-behalf-of. The tokens it prints are verified here. CI installs python3-msal
 * (.ci/run); without it these tests fail, they do not skip.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../packages/entra-emulator/src/index.js';
import { clientCertificate, expectAppToken, runClientScript, verifyToken, type ClientCertificate } from './helpers.js';

type Run = { token?: string; error?: string; error_codes?: number[]; headers: Record<string, unknown>[] };

let emulator: Emulator;
let dir: string;
let certificate: ClientCertificate;
let api: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'python-msal-'));
  emulator = await startEmulator({ tls: { selfSigned: { caFile: join(dir, 'ca.pem') } } });
  certificate = await clientCertificate('CN=python msal test client');
  api = emulator.clientIdFor('dev-gcp:team:api');
});

afterAll(async () => {
  await emulator?.close();
  await rm(dir, { recursive: true, force: true });
});

function credentials(clientId: string) {
  return {
    CLIENT_ID: clientId,
    CLIENT_SECRET: 'python-secret',
    CLIENT_KEY_PEM: certificate.privateKeyPem,
    CLIENT_SHA1: certificate.sha1,
    CLIENT_CERTIFICATE_PEM: certificate.certificatePem,
    SCOPE: 'api://dev-gcp.team.api/.default',
  };
}

describe('python3-msal against the emulator over HTTPS (validate_authority and instance_discovery off)', () => {
  it('gets app tokens by client credentials with a secret and with a certificate (RS256, x5t; with x5c)', async () => {
    const clientId = emulator.registerClient({
      target: 'dev-gcp:team:python-app',
      secrets: ['python-secret'],
      certificates: [certificate.certificatePem],
    });
    const result = await runClientScript<Record<'secret' | 'certificate' | 'chain', Run>>(emulator, 'python-msal.py', {
      FLOW: 'client-credentials',
      ...credentials(clientId),
    });
    // Python MSAL pads its x5t (base64url with '='), which Entra ID takes as the emulator must.
    const x5t = `${Buffer.from(certificate.sha1, 'hex').toString('base64url')}=`;
    expect(result.secret.headers).toEqual([]);
    expect(result.certificate.headers).toEqual([{ alg: 'RS256', typ: 'JWT', x5t }]);
    // ...and keeps the line breaks of the PEM in x5c.
    expect(result.chain.headers).toEqual([{ alg: 'RS256', typ: 'JWT', x5t, x5c: [expect.any(String)] }]);
    expect((result.chain.headers[0]!.x5c as string[])[0]!.replace(/\s/g, '')).toBe(certificate.der);
    const acr = { secret: '1', certificate: '2', chain: '2' };
    for (const [name, run] of Object.entries(result)) {
      expect(run.error).toBeUndefined();
      await expectAppToken(emulator, run.token, api, clientId, acr[name as keyof typeof acr]);
    }
  }, 90_000);

  it("names the tenant by its domain in the authority, as Entra's https://login.microsoftonline.com/trygdeetaten.no does", async () => {
    const target = 'dev-gcp:team:python-domain';
    const clientId = emulator.registerClient({ target, secrets: ['python-secret'], certificates: [certificate.certificatePem] });
    const result = await runClientScript<Record<'secret' | 'certificate' | 'chain', Run>>(emulator, 'python-msal.py', {
      FLOW: 'client-credentials',
      AUTHORITY_TENANT: 'trygdeetaten.no',
      ...credentials(clientId),
    });
    const acr = { secret: '1', certificate: '2', chain: '2' };
    for (const [name, run] of Object.entries(result)) {
      expect(run.error, name).toBeUndefined();
      await expectAppToken(emulator, run.token, api, clientId, acr[name as keyof typeof acr]);
    }
  }, 90_000);

  it('exchanges an employee token on behalf of the employee, with a secret and with a certificate', async () => {
    const target = 'dev-gcp:team:python-obo';
    const clientId = emulator.registerClient({ target, secrets: ['python-secret'], certificates: [certificate.certificatePem] });
    const userToken = await emulator.userToken({
      target,
      employee: { navIdent: 'Z990081', name: 'Py Thon', email: 'py.thon@trygdeetaten.no', groups: [] },
    });
    const result = await runClientScript<Record<'secret' | 'certificate', Run>>(emulator, 'python-msal.py', {
      FLOW: 'on-behalf-of',
      USER_TOKEN: userToken,
      ...credentials(clientId),
    });
    const user = (await verifyToken(emulator, userToken, clientId)).payload;
    for (const [name, run] of Object.entries(result)) {
      expect(run.error).toBeUndefined();
      const { payload } = await verifyToken(emulator, run.token, api);
      expect(payload).toMatchObject({
        aud: api,
        azp: clientId,
        azpacr: name === 'secret' ? '1' : '2',
        scp: 'defaultaccess',
        NAVident: 'Z990081',
        oid: user.oid,
      });
      expect(payload.idtyp).toBeUndefined();
    }
  }, 90_000);
});
