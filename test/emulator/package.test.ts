/**
 * The package as another project gets it: `npm pack`, installed from the tarball into an empty
 * project, its `entra-emulator` command run and started, and the programmatic API imported from
 * ESM and type-checked against the installed declarations.
 */
import { execFile, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const REPO = resolve(import.meta.dirname, '../..');
const NAME = 'entra-token-generator';

const MANIFEST = `apiVersion: nais.io/v1alpha1
kind: Application
metadata: { name: my-app, namespace: my-team }
spec:
  azure: { application: { enabled: true, allowAllUsers: true } }
`;

const TYPED_USE = `import { startEmulator, type Emulator, type EmulatorOptions } from '${NAME}/emulator';

const options: EmulatorOptions = { manifests: ['.nais/app.yaml'], stateDir: undefined };
const emulator: Emulator = await startEmulator(options);
const token: string = await emulator.userToken({ employee: 'Z990001', target: 'dev-gcp:my-team:my-app' });
const app: string = await emulator.appToken({
  caller: 'dev-gcp:my-team:my-app',
  target: 'dev-gcp:my-team:my-app',
  claims: { roles: ['x'] },
});
const env: Record<string, string> = await emulator.environment('dev-gcp:my-team:my-app');
const takeBack: () => void = emulator.overrideClaims({ groups: undefined }, { every: true });
takeBack();
console.log(token.length > 0, app.length > 0, env.AZURE_APP_CLIENT_ID);
// @ts-expect-error: an app token needs the caller
await emulator.appToken({ target: 'dev-gcp:my-team:my-app' });
await emulator.close();
`;

describe('the package, installed from its tarball into an empty project', () => {
  let project: string;

  beforeAll(async () => {
    project = await mkdtemp(join(tmpdir(), 'emulator-package-'));
    // prepack builds dist/ with tsc first.
    const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', project], { cwd: REPO, maxBuffer: 10_000_000 });
    const tarball = stdout.trim().split('\n').pop()!;
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'my-app', private: true, type: 'module' }));
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', `./${tarball}`], { cwd: project });
    await mkdir(join(project, '.nais'));
    await writeFile(join(project, '.nais', 'app.yaml'), MANIFEST);
  }, 600_000);

  afterAll(async () => {
    if (project) await rm(project, { recursive: true, force: true });
  });

  it('holds compiled JavaScript and declarations, and no test code', async () => {
    const installed = join(project, 'node_modules', NAME);
    expect(await readdir(join(installed, 'dist', 'emulator'))).toEqual(expect.arrayContaining(['index.js', 'index.d.ts', 'main.js']));
    expect(await readdir(installed)).not.toContain('test');
    // The command, bundled into one file for a faster start.
    expect(await readdir(join(installed, 'dist', 'command'))).toEqual(['entra-emulator.js']);
  });

  it('runs `npx entra-emulator --help`', async () => {
    const { stdout } = await run('npx', ['entra-emulator', '--help'], { cwd: project });
    expect(stdout).toContain('entra-emulator env <cluster:namespace:app>');
    expect(stdout).toContain('--manifests <path>');
  }, 60_000);

  it('runs `npx token-generator --help` from the compiled JavaScript, without tsx (a development dependency)', async () => {
    expect(await readdir(join(project, 'node_modules'))).not.toContain('tsx');
    const { stdout } = await run('npx', ['token-generator', '--help'], { cwd: project });
    expect(stdout).toContain('Usage: token-generator <command>');
  }, 60_000);

  it('starts from the manifests with `npx entra-emulator`, answers discovery, and prints an app environment with `env`', async () => {
    const stateDir = join(project, 'state');
    // A process group of its own: npx does not pass SIGTERM on to the command it runs, so the group is stopped.
    const child = spawn('npx', ['entra-emulator', '--manifests', '.nais/', '--port', '0', '--state-dir', stateDir], {
      cwd: project,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let baseUrl = '';
    try {
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      baseUrl = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no start line in: ${output}`)), 60_000);
        child.stdout.on('data', () => {
          const match = /Entra ID emulator: (http:\/\/localhost:\d+)/.exec(output);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        });
        child.on('exit', (code) => reject(new Error(`exited with ${code}: ${output}`)));
      });
      const tenant = /tenant: +(\S+)/.exec(output)![1]!;
      const discovery = await fetch(`${baseUrl}/${tenant}/v2.0/.well-known/openid-configuration`);
      expect(discovery.status).toBe(200);
      expect(output).toContain('dev-gcp:my-team:my-app  client id ');
      // A new signing key, with its certificate made by a library the bundle loads from the installed dependencies.
      const { jwks_uri: jwksUri } = (await discovery.json()) as { jwks_uri: string };
      const { keys } = (await (await fetch(jwksUri)).json()) as { keys: { x5c: string[] }[] };
      expect(new X509Certificate(Buffer.from(keys[0]!.x5c[0]!, 'base64')).subject).toBe('CN=Entra ID emulator token signing');

      const { stdout } = await run('npx', ['entra-emulator', 'env', 'dev-gcp:my-team:my-app', '--url', baseUrl], { cwd: project });
      expect(stdout).toMatch(/^AZURE_APP_CLIENT_ID='[0-9a-f-]{36}'$/m);
      expect(stdout).toContain(`NAIS_TOKEN_ENDPOINT='${baseUrl}/apps/dev-gcp:my-team:my-app/api/v1/token'`);
      const json = JSON.parse(
        (await run('npx', ['entra-emulator', 'env', 'dev-gcp:my-team:my-app', '--json', '--url', baseUrl], { cwd: project })).stdout,
      ) as Record<string, string>;
      expect(json.AZURE_APP_TENANT_ID).toBe(tenant);
      const unknown = await run('npx', ['entra-emulator', 'env', 'dev-gcp:my-team:nope', '--url', baseUrl], { cwd: project }).catch(
        (err: { code: number; stderr: string }) => err,
      );
      expect(unknown).toMatchObject({
        code: 1,
        stderr: "entra-emulator: dev-gcp:my-team:nope is not an app of this emulator's directory; it has dev-gcp:my-team:my-app\n",
      });
    } finally {
      const exited = new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
      process.kill(-child.pid!, 'SIGTERM');
      await exited;
    }
    // The emulator went with it: nothing is left running after the test.
    if (baseUrl)
      await expect
        .poll(
          () =>
            fetch(baseUrl).then(
              () => 'answers',
              () => 'gone',
            ),
          { timeout: 15_000 },
        )
        .toBe('gone');
  }, 120_000);

  it('imports startEmulator from ESM, and a TypeScript file type-checks against the installed declarations', async () => {
    await writeFile(join(project, 'use.ts'), TYPED_USE);
    await writeFile(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          typeRoots: [join(REPO, 'node_modules', '@types')],
          types: ['node'],
        },
        files: ['use.ts'],
      }),
    );
    await run(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: project });

    const script = TYPED_USE.replace(/, type Emulator, type EmulatorOptions/, '')
      .replace(/: [A-Za-z<>, ()=]+(?= = )/g, '')
      .replace(/\/\/ @ts-expect-error.*\n.*\n/, '');
    await writeFile(join(project, 'use.mjs'), script);
    const { stdout } = await run(process.execPath, ['use.mjs'], { cwd: project });
    expect(stdout).toMatch(/^true true [0-9a-f-]{36}\n$/);
  }, 120_000);
});
