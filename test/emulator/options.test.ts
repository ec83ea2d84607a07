/** The emulator's configuration from the environment, and `packages/entra-emulator/src/main.ts` as a process of its own. */
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { emulatorOptionsFromEnv, startEmulator, withCommandPort } from '../../packages/entra-emulator/src/index.js';

describe('emulatorOptionsFromEnv', () => {
  it('reads every variable', () => {
    expect(
      emulatorOptionsFromEnv({
        EMULATOR_PORT: '8081',
        EMULATOR_HOST: '0.0.0.0',
        EMULATOR_PUBLIC_URL: 'http://entra.local:8081/',
        EMULATOR_TENANT_ID: 'a7c0f4a5-7b1a-4a3e-9f43-0c7f6d0d9b11',
        EMULATOR_UNAUTHORIZED_TARGETS: 'dev-gcp:team:locked, dev-fss:other:app',
        EMULATOR_MISSING_TARGETS: 'dev-gcp:ghost:api',
        EMULATOR_TOKEN_LIFETIME_SECONDS: '120',
      }),
    ).toEqual({
      port: 8081,
      host: '0.0.0.0',
      publicUrl: 'http://entra.local:8081',
      tenantId: 'a7c0f4a5-7b1a-4a3e-9f43-0c7f6d0d9b11',
      unauthorizedTargets: ['dev-gcp:team:locked', 'dev-fss:other:app'],
      missingTargets: ['dev-gcp:ghost:api'],
      accessTokenLifetimeSeconds: 120,
    });
    expect(emulatorOptionsFromEnv({})).toEqual({});
  });

  it('gives the emulator a program starts (its command, npm start\u2019s) port 8081 when EMULATOR_PORT is unset or blank', () => {
    for (const env of [{}, { EMULATOR_PORT: '' }, { EMULATOR_PORT: '  ' }]) {
      expect(emulatorOptionsFromEnv(withCommandPort(env)).port, JSON.stringify(env)).toBe(8081);
    }
    expect(emulatorOptionsFromEnv(withCommandPort({ EMULATOR_PORT: '0' })).port).toBe(0);
    expect(emulatorOptionsFromEnv(withCommandPort({ EMULATOR_PORT: '8082' })).port).toBe(8082);
  });

  it('refuses invalid values with the name of the variable', () => {
    const cases: [string, string][] = [
      ['EMULATOR_PORT', 'eighty'],
      ['EMULATOR_PORT', '70000'],
      ['EMULATOR_PORT', '-1'],
      ['EMULATOR_PUBLIC_URL', 'ftp://x'],
      ['EMULATOR_PUBLIC_URL', 'not a url'],
      ['EMULATOR_TENANT_ID', 'a/b'],
      ['EMULATOR_UNAUTHORIZED_TARGETS', 'dev-gcp.team.app'],
      ['EMULATOR_MISSING_TARGETS', 'dev-gcp:team'],
      ['EMULATOR_TOKEN_LIFETIME_SECONDS', '0'],
      ['EMULATOR_TOKEN_LIFETIME_SECONDS', '1.5'],
      ['EMULATOR_TOKEN_LIFETIME_SECONDS', 'an hour'],
    ];
    for (const [name, value] of cases) expect(() => emulatorOptionsFromEnv({ [name]: value }), `${name}=${value}`).toThrow(name);
  });
});

describe('startEmulator options', () => {
  it('uses the public URL and tenant id given, and a lifetime as short as tests want', async () => {
    const emulator = await startEmulator({
      publicUrl: 'http://entra.example:1234/',
      tenantId: 'my-tenant',
      accessTokenLifetimeSeconds: 5,
      employees: [{ navIdent: 'Z1', name: 'N', email: 'n@x', groups: [] }],
    });
    try {
      expect(emulator.baseUrl).toBe('http://entra.example:1234');
      expect(emulator.tenantId).toBe('my-tenant');
      expect(emulator.issuer).toBe('http://entra.example:1234/my-tenant/v2.0');
      expect(emulator.tokenEndpoint).toBe('http://entra.example:1234/my-tenant/oauth2/v2.0/token');
      const port = emulator.app.server.address() as { port: number };
      const doc = (await (await fetch(`http://127.0.0.1:${port.port}/my-tenant/v2.0/.well-known/openid-configuration`)).json()) as Record<
        string,
        string
      >;
      expect(doc.issuer).toBe(emulator.issuer);
      const id = emulator.registerClient({ target: 'dev-gcp:a:b', secrets: ['s'] });
      const res = await fetch(`http://127.0.0.1:${port.port}/my-tenant/oauth2/v2.0/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: id,
          client_secret: 's',
          scope: 'api://dev-gcp.a.c/.default',
        }),
      });
      expect(((await res.json()) as Record<string, unknown>).expires_in).toBe(5);
    } finally {
      await emulator.close();
      await emulator.close();
    }
  });

  it('refuses a key registered without kid', async () => {
    const emulator = await startEmulator();
    try {
      expect(() => emulator.registerClient({ target: 'dev-gcp:a:b', jwks: [{ kty: 'RSA', n: 'x', e: 'AQAB' }] })).toThrow('kid');
    } finally {
      await emulator.close();
    }
  });
});

/** `packages/entra-emulator/src/main.ts` (or `command`) as a process, with everything it prints collected. */
function emulatorProcess(env: NodeJS.ProcessEnv, command = ['--import', 'tsx', 'packages/entra-emulator/src/main.ts']) {
  // An empty state folder variable: a tenant of its own, nothing written to the user's default state folder.
  const child = spawn(process.execPath, command, { env: { ...env, EMULATOR_STATE_DIR: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

describe('npm run emulator (packages/entra-emulator/src/main.ts)', () => {
  it('prints base URL, tenant and well-known URL, serves them, and stops cleanly on SIGTERM', async () => {
    const {
      child,
      output: printed,
      exited,
    } = emulatorProcess({ ...process.env, EMULATOR_PORT: '0', EMULATOR_TENANT_ID: 'main-test-tenant', LOG_LEVEL: 'silent' });
    let output = '';
    try {
      await expect.poll(() => (output = printed()), { timeout: 20_000, interval: 100 }).toContain('well-known:');
      const baseUrl = /Entra ID emulator: (\S+)/.exec(output)![1]!;
      expect(output).toContain('tenant:        main-test-tenant');
      const wellKnown = /well-known:\s+(\S+)/.exec(output)![1]!;
      expect(wellKnown).toBe(`${baseUrl}/main-test-tenant/v2.0/.well-known/openid-configuration`);
      const doc = (await (await fetch(wellKnown)).json()) as Record<string, string>;
      expect(doc.issuer).toBe(`${baseUrl}/main-test-tenant/v2.0`);
    } finally {
      child.kill('SIGTERM');
    }
    await expect(exited).resolves.toBe(0);
  });

  it(
    "runs as `npm run emulator` (the entra-emulator package's bin) in one process that signs on a pool thread per core " +
      'unless UV_THREADPOOL_SIZE is set',
    async () => {
      const run = async (threads: string | undefined) => {
        const env: NodeJS.ProcessEnv = { ...process.env, EMULATOR_PORT: '0', LOG_LEVEL: 'silent' };
        if (threads === undefined) delete env.UV_THREADPOOL_SIZE;
        else env.UV_THREADPOOL_SIZE = threads;
        const { child, output: printed, exited } = emulatorProcess(env, ['packages/entra-emulator/bin/entra-emulator.cjs']);
        let output = '';
        let osThreads: number;
        try {
          await expect.poll(() => (output = printed()), { timeout: 20_000, interval: 100 }).toContain('signing:');
          expect((await fetch(/well-known:\s+(\S+)/.exec(output)![1]!)).status).toBe(200);
          // The module loader has run the pool (libuv starts all its threads at once). The emulator is the
          // process started, not a child of it, so the pool is among its own threads.
          osThreads = (await readdir(`/proc/${child.pid}/task`)).length;
        } finally {
          child.kill('SIGTERM');
        }
        expect(await exited).toBe(0);
        return { printed: /signing:\s+on (\d+) pool threads/.exec(output)?.[1], osThreads };
      };
      const perCore = Math.max(2, os.availableParallelism());
      const unset = await run(undefined);
      const three = await run('3');
      const six = await run('6');
      expect([unset.printed, three.printed, six.printed]).toEqual([String(perCore), '3', '6']);
      expect(six.osThreads - three.osThreads).toBe(3);
      expect(unset.osThreads - three.osThreads).toBe(perCore - 3);
    },
    60_000,
  );

  it("logs its levels by name, as the generator does: one query finds both programs' errors", async () => {
    const { child, output: printed, exited } = emulatorProcess({ ...process.env, EMULATOR_PORT: '0', LOG_LEVEL: 'info' });
    let output = '';
    try {
      await expect.poll(() => (output = printed()), { timeout: 20_000, interval: 100 }).toContain('well-known:');
    } finally {
      child.kill('SIGTERM');
    }
    await exited;
    const levels = (output + printed())
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => (JSON.parse(line) as { level: unknown }).level);
    expect(levels.length).toBeGreaterThan(0);
    expect(new Set(levels)).toEqual(new Set(['info']));
  });

  it('exits with a message naming the variable for bad configuration', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'packages/entra-emulator/src/main.ts'], {
      env: { ...process.env, EMULATOR_PORT: 'not-a-port' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain('EMULATOR_PORT');
  });
});
