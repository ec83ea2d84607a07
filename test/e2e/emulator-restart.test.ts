/**
 * The identity provider (the emulator, on its state folder) restarted while the generator holds logins, a tool's session
 * and tokens it cached: cleanly and killed with SIGKILL. The generator goes on: cached tokens still come, new ones are
 * asked of the restarted emulator (its keys and the employee's grant kept), and a tool's refresh token still refreshes.
 * That the restarted emulator renews with the refresh tokens of before is test/emulator/kept-state.test.ts's.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startService, type Service } from '../../src/main.js';
import { allowedCode, startLoopback, tokenRequest } from '../helpers/authorization-server.js';
import { login } from '../helpers/http-login.js';
import { freePort } from '../helpers/ports.js';
import { memoryLogger } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait-for.js';

const SECRET = 'test-secret-for-emulator-restarts';
const TARGET = 'dev-gcp:my-team:my-app';

let stateDir: string;
let emulatorPort: number;
let generatorPort: number;
let generator: Service;
let loopback: Awaited<ReturnType<typeof startLoopback>>;
let running: Awaited<ReturnType<typeof emulatorProcess>> | undefined;

/** The emulator as a process of its own on the state folder and its port, with the generator registered, once it listens. */
async function emulatorProcess() {
  const client = {
    target: 'dev-gcp:nais:azure-token-generator',
    secrets: [SECRET],
    redirectUris: [`http://localhost:${generatorPort}/oauth2/callback`],
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/emulator/servers/emulator-with-state.ts'], {
    env: { ...process.env, STATE_DIR: stateDir, PORT: String(emulatorPort), CLIENT: JSON.stringify(client) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const line = await waitFor(() => (output.includes('\n') ? output.slice(0, output.indexOf('\n')) : undefined), {
    what: 'the emulator process to start',
    timeout: 30_000,
  });
  return { child, exited, ...(JSON.parse(line) as { clientId: string; wellKnownUrl: string }) };
}

async function stopEmulator(signal: NodeJS.Signals): Promise<void> {
  running!.child.kill(signal);
  await running!.exited;
}

beforeAll(async () => {
  stateDir = join(await mkdtemp(join(tmpdir(), 'emulator-restart-')), 'state');
  emulatorPort = await freePort();
  generatorPort = await freePort();
  running = await emulatorProcess();
  const env = {
    PORT: String(generatorPort),
    HOST: '127.0.0.1',
    AZURE_APP_CLIENT_ID: running.clientId,
    AZURE_APP_CLIENT_SECRET: SECRET,
    AZURE_APP_WELL_KNOWN_URL: running.wellKnownUrl,
  };
  generator = await startService(loadConfig(env), env, { logger: memoryLogger().logger });
  loopback = await startLoopback();
}, 60_000);

afterAll(async () => {
  loopback?.server.close();
  await generator?.close();
  if (running) await stopEmulator('SIGTERM');
});

const obo = async (cookie: string, target: string) =>
  (await fetch(`${generator.url}/api/obo?aud=${target}`, { headers: { cookie, accept: 'application/json' } })).status;

/** A tool the employee of the browser login `cookie` allowed: its refresh token. */
async function tool(cookie: string): Promise<string> {
  const redeem = await allowedCode(generator.url, cookie, { client: 'a tool', redirectUri: loopback.redirectUri, scope: TARGET });
  return ((await (await tokenRequest(generator.url, redeem)).json()) as { refresh_token: string }).refresh_token;
}

/** The refresh tokens the state folder holds, as written so far. */
const keptRefreshTokens = async () =>
  (JSON.parse(await readFile(join(stateDir, 'refresh-tokens.json'), 'utf8').catch(() => '[]')) as unknown[]).length;

describe('the emulator restarted under the generator', () => {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`by ${signal}: logins, cached and new tokens and a tool's refresh token go on`, async () => {
      const keptBefore = await keptRefreshTokens();
      const cookie = await login(generator.url);
      expect(await obo(cookie, TARGET)).toBe(200);
      const refreshToken = await tool(cookie);
      // A SIGKILL loses what the emulator had not written yet: killed once the login's refresh token is in the folder.
      await waitFor(async () => signal === 'SIGTERM' || (await keptRefreshTokens()) > keptBefore, { what: 'the refresh token written' });
      await stopEmulator(signal);
      running = await emulatorProcess();

      expect(await obo(cookie, TARGET)).toBe(200);
      expect(await obo(cookie, `dev-gcp:my-team:after-${signal.toLowerCase()}`)).toBe(200);
      const refreshed = await tokenRequest(generator.url, { grant_type: 'refresh_token', refresh_token: refreshToken });
      expect(refreshed.status).toBe(200);
    }, 60_000);
  }
});
