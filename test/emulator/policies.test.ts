import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { startEmulator } from '../../packages/entra-emulator/src/index.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { freePort } from '../helpers/ports.js';
import { startStack, type Stack } from '../helpers/stack.js';

const EXAMPLE = resolve('examples/emulator/emulator.yaml');
const GROUP = '3e3b4b1c-0000-4000-8000-00000000a001';
let stack: Stack;
let dir: string;

beforeAll(async () => {
  stack = await startStack({ emulator: { directoryFile: EXAMPLE } });
  dir = await mkdtemp(join(tmpdir(), 'manifests-'));
});

afterAll(async () => {
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

const post = (path: string, body: Record<string, string>) =>
  fetch(`${stack.url}${path}`, { method: 'POST', headers: { accept: 'application/json' }, body: new URLSearchParams(body) }).then(
    async (res) => ({
      status: res.status,
      body: (await res.json()) as Record<string, unknown>,
    }),
  );

async function verified(token: unknown, target: string) {
  const emulator = stack.emulator!;
  const keys = createRemoteJWKSet(new URL(`${emulator.baseUrl}/${emulator.tenantId}/discovery/v2.0/keys`));
  return (await jwtVerify(String(token), keys, { issuer: emulator.issuer, audience: emulator.clientIdFor(target) })).payload;
}

async function clientCredentials(clientTarget: string, secret: string, resource: string) {
  const emulator = stack.emulator!;
  const res = await fetch(emulator.tokenEndpoint, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: emulator.clientIdFor(clientTarget),
      client_secret: secret,
      scope: `api://${resource.replaceAll(':', '.')}/.default`,
    }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('access policies from NAIS manifests', () => {
  it('app to app, allowed: the token carries the default role', async () => {
    const result = await post('/api/public/m2m', { aud: 'dev-gcp:team-a:api' });
    expect(result.status).toBe(200);
    expect((await verified(result.body.access_token, 'dev-gcp:team-a:api')).roles).toEqual(['access_as_application']);
  });

  it('app to app, refused: AADSTS501051 with the policy to add', async () => {
    const result = await post('/api/public/m2m', { aud: 'dev-gcp:team-b:closed' });
    expect(result.status).toBe(403);
    expect(result.body.aadsts).toBe(501051);
    expect(result.body.details).toContain('application: azure-token-generator');
  });

  it('an app no manifest describes, or without Entra ID enabled: AADSTS500011', async () => {
    for (const aud of ['dev-gcp:team-x:unknown', 'dev-gcp:team-b:no-entra']) {
      const result = await post('/api/public/m2m', { aud });
      expect(result.status, aud).toBe(404);
      expect(result.body.aadsts).toBe(500011);
    }
  });

  it('a custom role granted in the rule is in roles', async () => {
    const result = await clientCredentials('dev-gcp:team-a:consumer', 'consumer-secret-for-local-use', 'dev-gcp:team-a:api');
    expect(result.status).toBe(200);
    expect((await verified(result.body.access_token, 'dev-gcp:team-a:api')).roles).toEqual(['access_as_application', 'read-all']);
  });

  it('a rule without namespace or cluster means the app\u2019s own', async () => {
    const emulator = stack.emulator!;
    emulator.registerClient({ target: 'dev-gcp:team-c:consumer', secrets: ['other-namespace-secret'] });
    emulator.registerClient({ target: 'dev-fss:team-a:consumer', secrets: ['other-cluster-secret'] });
    const otherNamespace = await clientCredentials('dev-gcp:team-c:consumer', 'other-namespace-secret', 'dev-gcp:team-a:api');
    expect(otherNamespace.body.error_codes).toEqual([501051]);
    const otherCluster = await clientCredentials('dev-fss:team-a:consumer', 'other-cluster-secret', 'dev-gcp:team-a:api');
    expect(otherCluster.body.error_codes).toEqual([501051]);
  });

  it('a user allowed by group gets a token with scp defaultaccess and that group', async () => {
    const result = await post('/api/public/obo', { aud: 'dev-gcp:team-a:api', NAVident: 'Z990001' });
    expect(result.status).toBe(200);
    const claims = await verified(result.body.access_token, 'dev-gcp:team-a:api');
    expect(claims).toMatchObject({ scp: 'defaultaccess', NAVident: 'Z990001', groups: [GROUP], azp: stack.identity.clientId });
    expect(claims.idtyp).toBeUndefined();
  });

  it('a user allowed by allowAllUsers gets the custom scopes of the rule', async () => {
    const result = await post('/api/public/obo', { aud: 'dev-gcp:team-a:open-api', NAVident: 'Z990002' });
    expect(result.status).toBe(200);
    const claims = await verified(result.body.access_token, 'dev-gcp:team-a:open-api');
    expect(String(claims.scp).split(' ').sort()).toEqual(['defaultaccess', 'read', 'write']);
  });

  it('a user neither in a listed group nor covered by allowAllUsers: AADSTS50105', async () => {
    const result = await post('/api/public/obo', { aud: 'dev-gcp:team-a:api', NAVident: 'Z990002' });
    expect(result.status).toBe(403);
    expect(result.body.aadsts).toBe(50105);
  });

  it('on behalf of a user to an app that has not authorized the generator: AADSTS65001', async () => {
    const result = await post('/api/public/obo', { aud: 'dev-gcp:team-b:closed', NAVident: 'Z990001' });
    expect(result.status).toBe(403);
    expect(result.body.aadsts).toBe(65001);
  });

  it('groups holds only the groups the target lists, and all of them with allowAllUsers', async () => {
    const groups = `${GROUP},another-group`;
    const restricted = await post('/api/public/obo', { aud: 'dev-gcp:team-a:api', NAVident: 'Z990009', groups });
    expect(decodeJwt(String(restricted.body.access_token)).groups).toEqual([GROUP]);
    const open = await post('/api/public/obo', { aud: 'dev-gcp:team-a:open-api', NAVident: 'Z990009', groups });
    expect(decodeJwt(String(open.body.access_token)).groups).toEqual([GROUP, 'another-group']);
  });

  it('refuses a malformed NAVident, and needs an audience', async () => {
    expect((await post('/api/public/obo', { aud: 'dev-gcp:team-a:api', NAVident: 'nope' })).status).toBe(400);
    expect((await post('/api/public/obo', { NAVident: 'Z990001' })).status).toBe(400);
  });
});

describe('sign-in to an app that restricts users', () => {
  it('refuses a user who is not in its groups with AADSTS50105, at sign-in', async () => {
    const manifests = join(dir, 'restricted');
    await mkdir(manifests, { recursive: true });
    await writeFile(
      join(manifests, 'generator.yaml'),
      [
        'kind: Application',
        'metadata: { name: azure-token-generator, namespace: nais }',
        'spec:',
        '  azure:',
        '    application:',
        '      enabled: true',
        '      claims:',
        `        groups: [{ id: ${GROUP} }]`,
      ].join('\n'),
    );
    await writeFile(
      join(manifests, 'api.yaml'),
      [
        'kind: Application',
        'metadata: { name: api, namespace: team }',
        'spec:',
        '  azure: { application: { enabled: true, allowAllUsers: true } }',
        '  accessPolicy: { inbound: { rules: [{ application: azure-token-generator, namespace: nais }] } }',
      ].join('\n'),
    );
    const file = join(dir, 'restricted.yaml');
    await writeFile(
      file,
      `manifests:\n  - { path: restricted, cluster: dev-gcp }\nemployees:\n  - { navIdent: Z990001, name: In, email: in@x.no, ` +
        `groups: [${GROUP}] }\n  - { navIdent: Z990002, name: Out, email: out@x.no, groups: [] }\n`,
    );
    const restricted = await startStack({ emulator: { directoryFile: file } });
    try {
      const ask = (navIdent: string) =>
        fetch(`${restricted.url}/api/public/obo`, {
          method: 'POST',
          headers: { accept: 'application/json' },
          body: new URLSearchParams({ aud: 'dev-gcp:team:api', NAVident: navIdent }),
        });
      expect((await ask('Z990001')).status).toBe(200);
      const refused = await ask('Z990002');
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { error_description: string }).error_description).toMatch(/AADSTS50105/);
    } finally {
      await restricted.close();
    }
  });
});

describe('a directory that cannot be read', () => {
  it.each([
    ['a manifest without namespace', 'kind: Application\nmetadata:\n  name: app\n', /bad\.yaml: metadata\.namespace: /],
    ['a bad name', 'kind: Application\nmetadata: { name: Bad_Name, namespace: team }\n', /bad\.yaml: metadata\.name: must be a lower-case/],
    [
      'a rule that is not a list',
      'kind: Application\nmetadata: { name: app, namespace: team }\nspec: { accessPolicy: { inbound: { rules: nope } } }\n',
      /bad\.yaml: spec\.accessPolicy\.inbound\.rules: /,
    ],
    [
      'enabled that is not a boolean',
      'kind: Application\nmetadata: { name: app, namespace: team }\nspec: { azure: { application: { enabled: maybe } } }\n',
      /bad\.yaml: spec\.azure\.application\.enabled: /,
    ],
    [
      'broken YAML in the second document',
      'kind: Application\nmetadata: { name: a, namespace: t }\n---\nkind: [unclosed\n',
      /bad\.yaml \(document 2\): yaml: /,
    ],
  ])('stops the emulator for %s, naming the file and the field', async (_name, content, message) => {
    const folder = join(dir, `bad-${Math.random().toString(36).slice(2)}`);
    await mkdir(folder);
    await writeFile(join(folder, 'bad.yaml'), content);
    const file = join(folder, 'emulator.yaml');
    await writeFile(file, 'manifests:\n  - { path: ., cluster: dev-gcp }\n');
    await expect(startEmulator({ directoryFile: file })).rejects.toThrow(message);
  });

  it('stops for a path that does not exist, and for an app defined twice', async () => {
    const file = join(dir, 'missing.yaml');
    await writeFile(file, 'manifests:\n  - { path: nowhere, cluster: dev-gcp }\n');
    await expect(startEmulator({ directoryFile: file })).rejects.toThrow(/missing\.yaml: manifests\.path: .*nowhere does not exist/);
    const twice = join(dir, 'twice');
    await mkdir(twice);
    await writeFile(join(twice, 'a.yaml'), 'kind: Application\nmetadata: { name: app, namespace: team }\n');
    await writeFile(join(twice, 'b.yaml'), 'kind: Application\nmetadata: { name: app, namespace: team }\n');
    const twiceFile = join(dir, 'twice.yaml');
    await writeFile(twiceFile, 'manifests:\n  - { path: twice, cluster: dev-gcp }\n');
    await expect(startEmulator({ directoryFile: twiceFile })).rejects.toThrow(
      /b\.yaml: metadata\.name: dev-gcp:team:app is also defined in .*a\.yaml/,
    );
  });
});

describe('headless employee tokens against real Entra ID', () => {
  it('answer 404 with the reason', async () => {
    const emulator = await startEmulator();
    const { loadConfig } = await import('../../src/config.js');
    const { startService } = await import('../../src/main.js');
    const { memoryLogger } = await import('../helpers/stack.js');
    const { freePort } = await import('../helpers/ports.js');
    emulator.registerClient({ target: 'dev-gcp:nais:azure-token-generator', secrets: ['configured-as-entra-secret'] });
    const env = {
      PORT: String(await freePort()),
      HOST: '127.0.0.1',
      AZURE_APP_CLIENT_ID: emulator.clientIdFor('dev-gcp:nais:azure-token-generator'),
      AZURE_APP_CLIENT_SECRET: 'configured-as-entra-secret',
      AZURE_APP_WELL_KNOWN_URL: emulator.wellKnownUrl,
    };
    const service = await startService(loadConfig(env), env, { logger: memoryLogger().logger });
    try {
      const res = await fetch(`${service.url}/api/public/obo`, {
        method: 'POST',
        body: new URLSearchParams({ aud: 'dev-gcp:a:b', NAVident: 'Z990001' }),
      });
      expect(res.status).toBe(404);
      expect(await res.text()).toMatch(/only against the Entra ID emulator/);
    } finally {
      await service.close();
      await emulator.close();
    }
  });
});

describe('headless employee tokens against the emulator', () => {
  const headless = (base: string, body: Record<string, string>) =>
    fetch(`${base}/api/public/obo`, { method: 'POST', headers: { accept: 'application/json' }, body: new URLSearchParams(body) });

  it('sign in as a user of the domain the generator logs in to (LOGIN_TENANT_DOMAIN), as a browser’s employee would', async () => {
    // Z990009 is in no directory: the token names the user it signed in as, not a directory's e-mail address.
    const usual = await post('/api/public/obo', { aud: 'dev-gcp:team-a:open-api', NAVident: 'Z990009' });
    expect(decodeJwt(String(usual.body.access_token)).preferred_username).toBe('z990009@trygdeetaten.no');
    const employee = { navIdent: 'Z990001', name: 'Kari Nordmann', email: 'kari.nordmann@test.example', groups: [] };
    const other = await startStack({ env: { LOGIN_TENANT_DOMAIN: 'test.example' }, emulator: { employees: [employee] } });
    try {
      const res = await headless(other.url, { aud: 'dev-gcp:a:b', NAVident: 'Z990009' });
      expect(res.status).toBe(200);
      const { access_token } = (await res.json()) as { access_token: string };
      expect(decodeJwt(access_token)).toMatchObject({ preferred_username: 'z990009@test.example', NAVident: 'Z990009' });
    } finally {
      await other.close();
    }
  });

  it('answer 502 login_answer_invalid when the emulator answers with another login’s state, its code not redeemed', async () => {
    const emulatorPort = await freePort();
    const proxy = await startFaultProxy(`http://127.0.0.1:${emulatorPort}`);
    const other = await startStack({ emulator: { port: emulatorPort, publicUrl: proxy.url } });
    try {
      // The emulator is asked for another login than the generator's: its answer comes back with that login's state.
      proxy.rewritePath = (path) => path.replace(/([?&]state=)[^&]*/, '$1another-login');
      const redeemed = other.emulator!.stats.tokenRequests;
      const res = await headless(other.url, { aud: 'dev-gcp:a:b', NAVident: 'Z990009' });
      expect(res.status).toBe(502);
      const body = await res.text();
      expect(JSON.parse(body)).toMatchObject({ error: 'login_answer_invalid', error_description: expect.stringMatching(/state/) });
      expect(body).not.toMatch(/\bat .*\.[jt]s:\d+/);
      expect(other.emulator!.stats.tokenRequests).toBe(redeemed);
      expect(proxy.requests.some((request) => request.path.includes('state=') && request.path.includes('/authorize'))).toBe(true);
    } finally {
      await other.close();
      await proxy.close();
    }
  });

  it('are refused with AADSTS50020 when LOGIN_TENANT_DOMAIN is none of the emulator’s tenant’s domains, as a browser is', async () => {
    const other = await startStack({ env: { LOGIN_TENANT_DOMAIN: 'elsewhere.example' } });
    try {
      const res = await headless(other.url, { aud: 'dev-gcp:a:b', NAVident: 'Z990009' });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: string; error_description: string };
      expect(body.error).toBe('login_failed');
      expect(body.error_description).toMatch(/AADSTS50020: User account 'z990009@elsewhere\.example'/);
    } finally {
      await other.close();
    }
  });
});
