/**
 * `entra-emulator` beside another emulator (the one `npm start` runs on 8081): a port in use says how
 * to choose another, hints name the emulator they came from, and `env` never answers with another
 * emulator's variables.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../packages/entra-emulator/src/index.js';

function command(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['packages/entra-emulator/bin/entra-emulator.cjs', ...args], {
    env: { ...process.env, EMULATOR_STATE_DIR: '', LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator();
});

afterAll(async () => {
  await emulator?.close();
});

describe('entra-emulator beside another emulator', () => {
  it('says in one line that its port is in use, and how to choose another', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const run = await command(['--port', String(port)], { EMULATOR_HOST: '127.0.0.1' });
      expect(run.code).toBe(1);
      expect(run.stderr.trim().split('\n')).toEqual([
        `entra-emulator: port ${port} is in use (another emulator, or \`npm start\`'s): ` +
          'choose another with --port <port> or EMULATOR_PORT=<port>',
      ]);
    } finally {
      taken.close();
    }
  }, 30_000);

  it('prints hints that name it with --url and npx when it is not on the default address', async () => {
    await fetch(`${emulator.baseUrl}/apps/dev-gcp:team-a:hinted-app/env`);
    expect(emulator.baseUrl).not.toBe('http://localhost:8081');
    const hints = emulator.summary.split('\n').filter((line) => line.includes('entra-emulator env'));
    expect(hints.length).toBeGreaterThan(0);
    for (const hint of hints) {
      expect(hint).toMatch(/npx entra-emulator env \S+ --url /);
      expect(hint).toContain(` --url ${emulator.baseUrl}`);
    }
  });

  it('env refuses an app the emulator asked does not have, naming the apps it has, with a non-zero exit', async () => {
    const known = 'dev-gcp:team-a:known-app';
    await fetch(`${emulator.baseUrl}/apps/${known}/env`);
    const wrong = await command(['env', 'dev-gcp:team-b:elsewhere', '--url', emulator.baseUrl]);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toBe('');
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    expect(wrong.stderr).toContain(`the emulator at ${emulator.baseUrl} has no app dev-gcp:team-b:elsewhere`);
    expect(wrong.stderr).toContain(known);
    expect(wrong.stderr).toContain('add --url');

    const right = await command(['env', known, '--url', emulator.baseUrl]);
    expect(right.code).toBe(0);
    expect(right.stdout).toContain(`AZURE_APP_CLIENT_ID=`);
  }, 30_000);

  it('env asks the emulator at $EMULATOR_URL, else at $EMULATOR_PORT on localhost, as its --help says', async () => {
    const known = 'dev-gcp:team-a:known-app';
    const port = new URL(emulator.baseUrl).port;
    expect((await command(['--help'])).stdout).toContain('$EMULATOR_URL or http://localhost:$EMULATOR_PORT (8081 when unset)');
    const byPort = await command(['env', known], { EMULATOR_PORT: port });
    expect(byPort.code).toBe(0);
    expect(byPort.stdout).toContain(`AZURE_OPENID_CONFIG_ISSUER='${emulator.baseUrl}/`);
    const byUrl = await command(['env', known], { EMULATOR_URL: emulator.baseUrl, EMULATOR_PORT: '9' });
    expect(byUrl.code).toBe(0);
  }, 30_000);

  it('env says that no emulator answers where there is none', async () => {
    const free = createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const port = (free.address() as AddressInfo).port;
    await new Promise((resolve) => free.close(resolve));
    const run = await command(['env', 'dev-gcp:team-a:known-app', '--url', `http://127.0.0.1:${port}`]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `entra-emulator: no emulator answers at http://127.0.0.1:${port}: ` +
        'start one with `npx entra-emulator`, or say where it is with --url\n',
    );
  }, 30_000);
});
