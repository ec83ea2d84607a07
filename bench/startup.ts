/**
 * 6. Start-up: from spawning a command until its discovery document answers, the emulator's
 * compiled command (what `npx entra-emulator` runs once installed) against oauth2-mock-server's
 * command, in alternating rounds; and an in-process startEmulator() until it resolves, as a test
 * suite starts it. BENCH_STARTS (10) rounds.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmulator } from '../src/emulator/index.js';
import { fmt, freePort, heading, line } from './lib.js';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Milliseconds from spawn until `url` answers 200; the process is stopped after. */
async function timeToAnswer(args: string[], url: (port: number) => string, port: number, env: Record<string, string> = {}): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: 'ignore' });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode}`);
      try {
        const res = await fetch(url(port));
        if (res.status === 200) return performance.now() - started;
      } catch {
        // not listening yet
      }
      if (performance.now() - started > 30_000) throw new Error(`${args.join(' ')} did not answer in 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
  }
}

export async function startup(): Promise<void> {
  heading('6. Start-up: until discovery answers, the compiled entra-emulator command against oauth2-mock-server\'s command');
  const rounds = Number(process.env.BENCH_STARTS ?? 10);
  const build = spawnSync('npm', ['run', 'build'], { stdio: 'ignore' });
  if (build.status !== 0) throw new Error('npm run build failed');
  const state = mkdtempSync(path.join(tmpdir(), 'bench-startup-'));
  const tenant = 'bench-tenant';
  const mock = ['node_modules/oauth2-mock-server/dist/oauth2-mock-server.mjs'];
  const ours = ['dist/emulator/main.js'];
  const discovery = (port: number) => `http://127.0.0.1:${port}/${tenant}/v2.0/.well-known/openid-configuration`;
  const times = { mock: [] as number[], fresh: [] as number[], kept: [] as number[], inProcess: [] as number[] };
  try {
    for (let round = 0; round <= rounds; round++) {
      const port = await freePort();
      const mockMs = await timeToAnswer([...mock, '-p', String(port), '-a', '127.0.0.1'], (p) => `http://127.0.0.1:${p}/.well-known/openid-configuration`, port);
      const freshDir = path.join(state, `fresh-${round}`);
      const common = { EMULATOR_PORT: String(port), EMULATOR_TENANT_ID: tenant, LOG_LEVEL: 'warn' };
      const freshMs = await timeToAnswer(ours, discovery, port, { ...common, EMULATOR_STATE_DIR: freshDir });
      // The same folder again: tenant and keys are read, not made.
      const keptMs = await timeToAnswer(ours, discovery, port, { ...common, EMULATOR_STATE_DIR: freshDir });
      const started = performance.now();
      const emulator = await startEmulator();
      const inProcessMs = performance.now() - started;
      await emulator.close();
      // The first round warms the file cache and is not counted.
      if (round === 0) continue;
      times.mock.push(mockMs);
      times.fresh.push(freshMs);
      times.kept.push(keptMs);
      times.inProcess.push(inProcessMs);
    }
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
  const mockMedian = median(times.mock);
  line('oauth2-mock-server command', `${fmt(mockMedian)} ms (median of ${rounds})`);
  line('entra-emulator, a new state folder', `${fmt(median(times.fresh))} ms, ${fmt(median(times.fresh) / mockMedian, 2)}x oauth2-mock-server`);
  line('entra-emulator, the state folder kept', `${fmt(median(times.kept))} ms, ${fmt(median(times.kept) / mockMedian, 2)}x oauth2-mock-server`);
  line('startEmulator() in process, ephemeral', `${fmt(median(times.inProcess))} ms`);
}
