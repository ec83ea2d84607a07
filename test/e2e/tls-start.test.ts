/** `npm start` with EMULATOR_TLS=self-signed: the emulator serves HTTPS with a CA kept in the state folder, and the generator trusts it. */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';

function httpsJson(url: string, ca: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    get(url, { ca }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve(JSON.parse(body) as Record<string, unknown>));
    }).on('error', reject);
  });
}

describe('npm start with EMULATOR_TLS=self-signed', () => {
  it(
    'serves the emulator over HTTPS, the generator trusting its ' + 'CA; the CA file is in the state folder and ends with a newline',
    async () => {
      const [port, emulatorPort] = [await freePort(), await freePort()];
      const stateDir = await mkdtemp(join(tmpdir(), 'tls-start-'));
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        env: {
          ...process.env,
          PORT: String(port),
          HOST: '127.0.0.1',
          EMULATOR_PORT: String(emulatorPort),
          EMULATOR_TLS: 'self-signed',
          EMULATOR_STATE_DIR: stateDir,
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      try {
        await expect.poll(() => output, { timeout: 90_000, interval: 200 }).toContain('Token generator:');
        const res = await fetch(`http://127.0.0.1:${port}/api/public/m2m`, {
          method: 'POST',
          body: new URLSearchParams({ aud: 'dev-gcp:my-team:my-app' }),
        });
        expect(res.status, output).toBe(200);
        const token = await res.text();
        expect(String(decodeJwt(token).iss)).toMatch(new RegExp(`^https://localhost:${emulatorPort}/`));

        const ca = await readFile(join(stateDir, 'ca.pem'), 'utf8');
        expect(ca).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\n$/);
        const tenant =
          /tenant ([0-9a-f-]{36})/.exec(output)?.[1] ?? JSON.parse(await readFile(join(stateDir, 'tenant.json'), 'utf8')).tenantId;
        const discovery = await httpsJson(`https://localhost:${emulatorPort}/${tenant}/v2.0/.well-known/openid-configuration`, ca);
        expect(discovery.issuer).toBe(decodeJwt(token).iss);
      } finally {
        child.kill('SIGTERM');
        await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
      }
    },
    120_000,
  );
});
