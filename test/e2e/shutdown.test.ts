import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { freePort } from '../helpers/ports.js';

let emulator: Emulator;
let proxy: FaultProxy;

beforeAll(async () => {
  const emulatorPort = await freePort();
  const proxyPort = await freePort();
  proxy = await startFaultProxy(`http://127.0.0.1:${emulatorPort}`, proxyPort);
  emulator = await startEmulator({ port: emulatorPort, publicUrl: proxy.url });
  emulator.registerClient({ target: 'dev-gcp:nais:azure-token-generator', secrets: ['test-secret-for-shutdown'] });
});

afterAll(async () => {
  await emulator?.close();
  await proxy?.close();
});

describe('SIGTERM', () => {
  it('turns readiness false first, lets an in-flight request finish, then exits', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        AZURE_APP_CLIENT_ID: emulator.clientIdFor('dev-gcp:nais:azure-token-generator'),
        AZURE_APP_CLIENT_SECRET: 'test-secret-for-shutdown',
        AZURE_APP_WELL_KNOWN_URL: emulator.wellKnownUrl,
        SHUTDOWN_DELAY_SECONDS: '2',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

    const deadline = Date.now() + 20_000;
    for (;;) {
      const ready = await fetch(`${base}/internal/isready`).then((r) => r.status, () => 0);
      if (ready === 200) break;
      if (Date.now() > deadline) throw new Error(`the service did not become ready:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    proxy.mode = 'slow';
    proxy.slowMs = 3_000;
    const inFlight = fetch(`${base}/api/public/m2m`, { method: 'POST', body: new URLSearchParams({ aud: 'dev-gcp:slow:app' }) });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const signalled = Date.now();
    child.kill('SIGTERM');

    let sawNotReady = false;
    while (Date.now() - signalled < 1_800) {
      const status = await fetch(`${base}/internal/isready`).then((r) => r.status, () => 0);
      if (status === 503) {
        sawNotReady = true;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(sawNotReady).toBe(true);

    const response = await inFlight;
    expect(response.status).toBe(200);
    expect((await response.text()).split('.')).toHaveLength(3);
    const code = await exited;
    expect(output).not.toMatch(/took too long/);
    expect(code).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(10_000);
    proxy.mode = 'pass';
  }, 40_000);
});
