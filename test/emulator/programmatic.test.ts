/** The programmatic API a test suite uses: the README's example and each helper it documents. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../packages/entra-emulator/src/index.js';

const APP = 'dev-gcp:my-team:my-app';
const MANIFEST = `
apiVersion: nais.io/v1alpha1
kind: Application
metadata: { name: my-app, namespace: my-team }
spec:
  azure: { application: { enabled: true, claims: { groups: [ { id: group-readers } ] } } }
  accessPolicy: { inbound: { rules: [ { application: my-frontend, permissions: { roles: [read] } } ] } }
---
apiVersion: nais.io/v1alpha1
kind: Application
metadata: { name: my-frontend, namespace: my-team }
spec:
  azure: { application: { enabled: true, allowAllUsers: true } }
---
apiVersion: nais.io/v1alpha1
kind: Application
metadata: { name: other, namespace: my-team }
spec:
  azure: { application: { enabled: true } }
`;

describe('startEmulator for a test suite', () => {
  let emulator: Emulator;
  let verify: (token: string) => ReturnType<typeof jwtVerify>;

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'programmatic-'));
    await writeFile(join(dir, 'app.yaml'), MANIFEST);
    emulator = await startEmulator({
      manifests: [join(dir, 'app.yaml')],
      directory: {
        employees: [{ navIdent: 'Z990001', name: 'Kari Nordmann', email: 'kari@example.test', groups: ['group-readers', 'group-other'] }],
      },
    });
    const env = await emulator.environment(APP);
    const jwks = createRemoteJWKSet(new URL(env.AZURE_OPENID_CONFIG_JWKS_URI!));
    verify = (token) => jwtVerify(token, jwks, { issuer: env.AZURE_OPENID_CONFIG_ISSUER!, audience: env.AZURE_APP_CLIENT_ID! });
  });
  afterAll(() => emulator?.close());

  it('mints a user token directly, with the groups the manifest lets through', async () => {
    const token = await emulator.userToken({ employee: 'Z990001', target: APP });
    const { payload } = await verify(token);
    expect(payload).toMatchObject({ NAVident: 'Z990001', groups: ['group-readers'], scp: 'defaultaccess', azp: emulator.clientIdFor(APP) });
  });

  it('applies the access policy: an employee outside the groups is refused as at a login', async () => {
    await expect(emulator.userToken({ employee: 'Z990009', target: APP })).rejects.toThrow(/^AADSTS50105: /);
  });

  it('mints app tokens with the roles of the rule that lets the caller in, and refuses a caller it does not', async () => {
    const { payload } = await verify(await emulator.appToken({ caller: 'dev-gcp:my-team:my-frontend', target: APP }));
    expect(payload.roles).toEqual(['access_as_application', 'read']);
    await expect(emulator.appToken({ caller: 'dev-gcp:my-team:other', target: APP })).rejects.toThrow(/^AADSTS501051: /);
    await expect(emulator.appToken({ caller: 'dev-gcp:my-team:stranger', target: APP })).rejects.toThrow(
      'dev-gcp:my-team:stranger is not an app',
    );
  });

  it('overrides claims of one token, of the next token, or of every token until taken back', async () => {
    const past = Math.floor(Date.now() / 1000) - 600;
    const expired = await emulator.userToken({ employee: 'Z990001', target: APP, claims: { exp: past, iat: past - 3600 } });
    await expect(verify(expired)).rejects.toThrow(/exp/);
    await verify(await emulator.userToken({ employee: 'Z990001', target: APP }));

    emulator.overrideClaims({ groups: undefined });
    expect(decodeJwt(await emulator.userToken({ employee: 'Z990001', target: APP })).groups).toBeUndefined();
    expect(decodeJwt(await emulator.userToken({ employee: 'Z990001', target: APP })).groups).toEqual(['group-readers']);

    const takeBack = emulator.overrideClaims({ roles: ['admin'] }, { every: true });
    expect(decodeJwt(await emulator.appToken({ caller: 'dev-gcp:my-team:my-frontend', target: APP })).roles).toEqual(['admin']);
    // Tokens from HTTP carry them too.
    const env = await emulator.environment('dev-gcp:my-team:my-frontend');
    const res = await fetch(env.NAIS_TOKEN_ENDPOINT!, {
      method: 'POST',
      body: new URLSearchParams({ identity_provider: 'entra_id', target: 'api://dev-gcp.my-team.my-app/.default' }),
    });
    expect(decodeJwt(((await res.json()) as { access_token: string }).access_token).roles).toEqual(['admin']);
    takeBack();
    expect(decodeJwt(await emulator.appToken({ caller: 'dev-gcp:my-team:my-frontend', target: APP })).roles).toEqual([
      'access_as_application',
      'read',
    ]);
  });

  it('lists its apps with their client ids and refuses an unknown one naming those it has', async () => {
    const targets = [APP, 'dev-gcp:my-team:my-frontend', 'dev-gcp:my-team:other'];
    expect(emulator.apps()).toEqual(targets.map((target) => ({ target, clientId: emulator.clientIdFor(target) })));
    await expect(emulator.environment('dev-gcp:my-team:nope')).rejects.toThrow(
      `dev-gcp:my-team:nope is not an app of this emulator's directory; it has ${targets.join(', ')}`,
    );
  });

  it('stops: nothing answers after close', async () => {
    const quick = await startEmulator();
    expect((await fetch(quick.wellKnownUrl)).status).toBe(200);
    await quick.close();
    await expect(fetch(quick.wellKnownUrl)).rejects.toThrow();
  });
});
