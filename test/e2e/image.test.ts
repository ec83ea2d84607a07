/**
 * The image as NAIS runs it, without a container engine: the Dockerfile replayed stage by stage from the
 * committed tree (test/helpers/dockerfile.ts), then the last stage's CMD, the production build, started
 * in its folder made read-only, with the variables NAIS injects (the emulator's `env` for the token
 * generator, and the pod's own). Commit before running it: it builds what HEAD holds.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../packages/entra-emulator/src/index.js';
import { exportCommitted, inStage, replayDockerfile, stageEnv, type Stage } from '../helpers/dockerfile.js';
import { login } from '../helpers/http-login.js';
import { freePort } from '../helpers/ports.js';
import { commandsRun, startRedis, type TestRedis } from '../helpers/redis-server.js';

const REPO = resolve(import.meta.dirname, '../..');
const TARGET = 'dev-gcp:nais:azure-token-generator';

let work: string;
let image: Stage;
let emulator: Emulator;
const running: Production[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'image-'));
  const context = join(work, 'context');
  await exportCommitted(REPO, context);
  const stages = await replayDockerfile(context, join(work, 'stages'));
  image = stages.at(-1)!;
  // What a read-only root file system allows: nothing in the image is written to.
  await chmod(image.root, 0o555);
  await makeReadOnly(image.root);
  emulator = await startEmulator({ port: 0, logger: false });
}, 600_000);

afterAll(async () => {
  await Promise.all(running.map((production) => production.stop()));
  await emulator?.close();
  if (work) {
    await makeWritable(work);
    await rm(work, { recursive: true, force: true });
  }
});

async function makeReadOnly(folder: string): Promise<void> {
  for (const entry of await readdir(folder, { withFileTypes: true, recursive: true })) {
    if (entry.isSymbolicLink()) continue;
    await chmod(join(entry.parentPath, entry.name), entry.isDirectory() ? 0o555 : 0o444);
  }
}

async function makeWritable(folder: string): Promise<void> {
  await chmod(folder, 0o755);
  for (const entry of await readdir(folder, { withFileTypes: true, recursive: true })) {
    if (entry.isDirectory()) await chmod(join(entry.parentPath, entry.name), 0o755).catch(() => undefined);
  }
}

interface Production {
  url: string;
  output: () => string;
  stop: () => Promise<void>;
}

/** What NAIS injects into the token generator's pod: its Entra ID application's variables and the pod's own. */
async function naisVariables(): Promise<Record<string, string>> {
  return {
    ...(await emulator.environment(TARGET)),
    NAIS_POD_NAME: `azure-token-generator-${randomBytes(4).toString('hex')}`,
    NAIS_APP_IMAGE: 'europe-north1-docker.pkg.dev/nais/azure-token-generator:test',
    NAIS_CLIENT_ID: TARGET,
  };
}

/** The last stage's CMD in its folder, with a writable temporary folder and a home that cannot be written to. */
async function startProduction(variables: Record<string, string>): Promise<Production> {
  const [command, ...args] = image.cmd!;
  const port = await freePort();
  const url = `http://localhost:${port}`;
  const temporary = await mkdtemp(join(work, 'tmp-'));
  const env = {
    ...stageEnv(image),
    HOME: image.root,
    TMPDIR: temporary,
    PORT: String(port),
    // On NAIS it listens on every address; the test keeps it to this machine.
    HOST: '127.0.0.1',
    PUBLIC_URL: url,
    // The image's five seconds of answering on after SIGTERM, shortened: each stop waits for the process to end.
    SHUTDOWN_DELAY_SECONDS: '0.2',
    ...variables,
  };
  const child = spawn(command === 'node' ? process.execPath : command!, args, {
    cwd: inStage(image, '.'),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const production: Production = {
    url,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
  running.push(production);
  const deadline = Date.now() + 30_000;
  while (
    (await fetch(`${url}/internal/isready`).then(
      (r) => r.status,
      () => 0,
    )) !== 200
  ) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the production build did not get ready:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return production;
}

/** Every line the process wrote, each one JSON object, as NAIS's log pipeline reads them. */
function logLines(production: Production): { level: string; msg: string }[] {
  return production
    .output()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { level: string; msg: string });
}

async function expectAppToken(url: string, target: string): Promise<void> {
  const res = await fetch(`${url}/api/public/m2m`, { method: 'POST', body: new URLSearchParams({ aud: target }) });
  expect(res.status).toBe(200);
  const { payload } = await jwtVerify(
    await res.text(),
    createRemoteJWKSet(new URL(`${emulator.baseUrl}/${emulator.tenantId}/discovery/v2.0/keys`)),
    {
      issuer: emulator.issuer,
      audience: emulator.clientIdFor(target),
    },
  );
  expect(payload.azp).toBe(emulator.clientIdFor(TARGET));
}

describe('the image, replayed from the Dockerfile', () => {
  it('holds production dependencies only, and runs as a user other than root', async () => {
    const modules = await readdir(inStage(image, 'node_modules'));
    for (const development of ['tsx', 'esbuild', 'typescript', 'vitest', 'playwright-core', '@esbuild'])
      expect(modules).not.toContain(development);
    expect(modules).toContain('fastify');
    expect(image.from).toMatch(/^node:20[.-]/);
    expect(image.user).toBeDefined();
    expect(image.user).not.toMatch(/^(root|0)(:|$)/);
    expect(image.cmd).toEqual(['node', 'dist/main.js']);
  });

  it('starts its CMD on a read-only root with what NAIS injects, gives an app token, and writes one JSON object a line', async () => {
    const production = await startProduction({ ...(await naisVariables()), SESSION_STORE: 'memory' });
    await expectAppToken(production.url, 'dev-gcp:my-team:my-app');
    // Against a configured identity provider, not the emulator of npm start, no script signs an employee in.
    const headless = await fetch(`${production.url}/api/public/obo`, {
      method: 'POST',
      body: new URLSearchParams({ aud: 'dev-gcp:my-team:my-app', NAVident: 'Z990001' }),
    });
    expect(headless.status).toBe(404);
    expect(await headless.text()).toMatch(/only against the Entra ID emulator/);
    await production.stop();
    const lines = logLines(production);
    expect(lines.map((line) => line.msg)).toContainEqual(expect.stringMatching(/^token generator listening on 127\.0\.0\.1:\d+/));
    expect(lines.filter((line) => line.level === 'error' || line.level === 'fatal')).toEqual([]);
  }, 60_000);
});

describe('two replicas of the production build with Valkey as NAIS gives it (TLS, its readwrite user)', () => {
  let redis: TestRedis;

  beforeAll(async () => {
    redis = await startRedis({ nais: true });
  }, 30_000);

  afterAll(async () => {
    await redis?.close();
  });

  it('share a login, and the Valkey user runs no command outside its categories', async () => {
    const admin = await redis.nais!.admin();
    await admin.config('RESETSTAT');
    const shared = {
      ...(await naisVariables()),
      SESSION_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      VALKEY_URI_SESSIONS: redis.url.replace(/^rediss:/, 'valkeys:'),
      VALKEY_HOST_SESSIONS: '127.0.0.1',
      VALKEY_PORT_SESSIONS: String(redis.port),
      VALKEY_USERNAME_SESSIONS: redis.nais!.app.username,
      VALKEY_PASSWORD_SESSIONS: redis.nais!.app.password,
    };
    // The store's CA through the generator's own variable on one replica, through Node's on the other.
    const first = await startProduction({ ...shared, SESSION_STORE_CA_FILE: redis.nais!.caFile });
    const second = await startProduction({ ...shared, NODE_EXTRA_CA_CERTS: redis.nais!.caFile });
    emulator.registerClient({ target: TARGET, redirectUris: [`${first.url}/oauth2/callback`] });

    const cookie = await login(first.url);
    const res = await fetch(`${second.url}/api/obo?aud=dev-gcp:my-team:my-app`, { headers: { cookie, accept: 'application/json' } });
    expect(res.status).toBe(200);
    const { access_token: token } = (await res.json()) as { access_token: string };
    const { payload } = await jwtVerify(
      token,
      createRemoteJWKSet(new URL(`${emulator.baseUrl}/${emulator.tenantId}/discovery/v2.0/keys`)),
      {
        audience: emulator.clientIdFor('dev-gcp:my-team:my-app'),
      },
    );
    expect(payload.NAVident).toBe('Z990001');
    await expectAppToken(second.url, 'dev-gcp:my-team:other-app');
    await Promise.all([first.stop(), second.stop()]);

    const { allowed, refused } = await commandsRun(admin, redis.nais!.app.username);
    await admin.quit();
    expect(refused).toEqual([]);
    // Sessions were written and read, under the user's own categories.
    expect(allowed).toEqual(expect.arrayContaining(['auth', 'get', 'set']));
    for (const production of [first, second]) {
      expect(logLines(production).filter((line) => line.level === 'warn' || line.level === 'error')).toEqual([]);
    }
  }, 120_000);
});
