/**
 * Whoever reaches the generator gets app tokens without logging in, and with the emulator tokens for
 * any employee: with no HOST it must answer on loopback and nowhere else, with the emulator and with
 * the AZURE_* variables of a real tenant alike, and say so in its start-up line. Only on NAIS (its
 * pod variables set) does it listen on every address.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../packages/entra-emulator/src/index.js';
import { freePort } from '../helpers/ports.js';

/** Resolves with 'connected' or the error code of a TCP connection attempt. */
function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 2_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
}

const outside = Object.values(networkInterfaces())
  .flat()
  .find((address) => address && !address.internal && address.family === 'IPv4')?.address;

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({ port: 0, logger: false });
});
afterAll(async () => {
  await emulator?.close();
});

/** Starts src/main.ts with `variables` (and no HOST, AZURE_* or NAIS_* of the test's own), calls `check` once it answers. */
async function whileRunning(
  variables: Record<string, string>,
  check: (port: number, output: () => string) => Promise<void>,
): Promise<void> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (name === 'HOST' || /^(AZURE|NAIS)_/.test(name)) delete env[name];
  Object.assign(env, { PORT: String(port), EMULATOR_PORT: '0', LOG_LEVEL: 'info' }, variables);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  try {
    const deadline = Date.now() + 30_000;
    while (!/token generator listening on/.test(output)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the service did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await check(port, () => output);
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

const listening = (output: string) =>
  output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg: string })
    .find((line) => line.msg.startsWith('token generator listening on'))?.msg;

describe.skipIf(!outside)('with no HOST', () => {
  it('answers on 127.0.0.1 and refuses connections on the non-loopback address, with the emulator', async () => {
    await whileRunning({}, async (port, output) => {
      expect(await tryConnect('127.0.0.1', port)).toBe('connected');
      expect(await tryConnect(outside!, port)).toBe('ECONNREFUSED');
      expect(listening(output())).toBe(
        `token generator listening on 127.0.0.1:${port} (this machine only; HOST=0.0.0.0 opens it to the network)`,
      );
    });
  }, 60_000);

  it('answers on 127.0.0.1 only with the AZURE_* variables of a tenant set, as on a laptop against Entra ID', async () => {
    const azure = Object.fromEntries(
      Object.entries(await emulator.environment('dev-gcp:nais:azure-token-generator')).filter(([name]) => name.startsWith('AZURE_')),
    );
    await whileRunning(azure, async (port, output) => {
      const token = await fetch(`http://127.0.0.1:${port}/api/public/m2m`, {
        method: 'POST',
        body: new URLSearchParams({ aud: 'dev-gcp:a:b' }),
      });
      expect(token.status).toBe(200);
      expect(await tryConnect(outside!, port)).toBe('ECONNREFUSED');
      expect(listening(output())).toMatch(/^token generator listening on 127\.0\.0\.1:\d+ \(this machine only/);
    });
  }, 60_000);

  it('listens on every address on NAIS (its pod variables set)', async () => {
    const nais = await emulator.environment('dev-gcp:nais:azure-token-generator');
    await whileRunning({ ...nais, NAIS_POD_NAME: 'azure-token-generator-1', SESSION_STORE: 'memory' }, async (port, output) => {
      expect(await tryConnect(outside!, port)).toBe('connected');
      expect(listening(output())).toBe(`token generator listening on 0.0.0.0:${port} (from the network)`);
    });
  }, 60_000);
});
