/**
 * `npm start` with the emulator mints tokens for any employee to whoever reaches it: with no HOST it
 * must answer on loopback and nowhere else.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
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

describe('npm start with the emulator and no HOST', () => {
  it.skipIf(!outside)(
    'answers on 127.0.0.1 and refuses connections on the non-loopback address',
    async () => {
      const port = await freePort();
      const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), EMULATOR_PORT: '0', LOG_LEVEL: 'warn' };
      for (const name of Object.keys(env)) if (name === 'HOST' || name.startsWith('AZURE_')) delete env[name];
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      try {
        const deadline = Date.now() + 30_000;
        while (
          (await fetch(`http://127.0.0.1:${port}/internal/isalive`).then(
            (r) => r.status,
            () => 0,
          )) !== 200
        ) {
          if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the service did not start:\n${output}`);
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        expect(await tryConnect('127.0.0.1', port)).toBe('connected');
        expect(await tryConnect(outside!, port)).toBe('ECONNREFUSED');
      } finally {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
    },
    60_000,
  );
});
