/**
 * 6. Start-up: from spawning a command until its discovery document answers (and then its JWKS), the
 * emulator's command as `npx entra-emulator` runs it once installed, against oauth2-mock-server's
 * command, in alternating rounds; and an in-process startEmulator() until it resolves, as a test
 * suite starts it. BENCH_STARTS (10) rounds, after one uncounted round.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmulator } from '../packages/entra-emulator/src/index.js';
import { fmt, freePort, heading, line } from './lib.js';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

interface Command {
  args: string[];
  discovery: (port: number) => string;
  jwks: (port: number) => string;
  env?: Record<string, string>;
}

/** Polls `url` until it answers 200; throws when the process exits first or after 30 s. */
async function until(url: string, child: ReturnType<typeof spawn>, started: number): Promise<number> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode} before ${url} answered`);
    const status = await fetch(url).then(
      (res) => res.status,
      () => 0,
    );
    if (status === 200) return performance.now() - started;
    if (performance.now() - started > 30_000) throw new Error(`${url} did not answer in 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Milliseconds from spawn until discovery answers, and until the JWKS does after it; the process is stopped after. */
async function timeToAnswer(command: Command): Promise<{ discovery: number; jwks: number }> {
  const port = await freePort();
  const started = performance.now();
  const args = command.args.map((arg) => arg.replace('{port}', String(port)));
  const child = spawn(process.execPath, args, { env: { ...process.env, ...command.env, EMULATOR_PORT: String(port) }, stdio: 'ignore' });
  try {
    const discovery = await until(command.discovery(port), child, started);
    return { discovery, jwks: await until(command.jwks(port), child, started) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
  }
}

/**
 * The emulator's package as `npm install` lays it out (its files, its dependencies beside them), so that the
 * launcher runs what it runs installed.
 */
function installedPackage(folder: string): string {
  if (spawnSync('npm', ['run', 'build', '--workspace', 'entra-emulator'], { stdio: 'ignore' }).status !== 0)
    throw new Error('npm run build --workspace entra-emulator failed');
  const installed = path.join(folder, 'node_modules', 'entra-emulator');
  mkdirSync(installed, { recursive: true });
  for (const entry of ['bin', 'dist', 'package.json'])
    cpSync(path.join('packages', 'entra-emulator', entry), path.join(installed, entry), { recursive: true });
  symlinkSync(path.resolve('node_modules'), path.join(installed, 'node_modules'));
  return installed;
}

/**
 * The same modules compiled by tsc but not bundled: its command's entry. In the repository's node_modules/.cache, so
 * that they find the dependencies in its node_modules.
 */
function unbundledCommand(): string {
  const out = path.resolve('node_modules', '.cache', 'bench-emulator-unbundled');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const config = path.join(out, 'tsconfig.json');
  const options = { declaration: false, emitDeclarationOnly: false, noCheck: true, outDir: out };
  const entry = path.resolve('packages', 'entra-emulator', 'src', 'main.ts');
  writeFileSync(
    config,
    JSON.stringify({
      extends: path.resolve('packages', 'entra-emulator', 'tsconfig.types.json'),
      compilerOptions: options,
      files: [entry],
    }),
  );
  if (spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', config], { stdio: 'ignore' }).status !== 0)
    throw new Error('tsc could not compile the emulator');
  return path.join(out, 'packages', 'entra-emulator', 'src', 'main.js');
}

export async function startup(): Promise<void> {
  heading("6. Start-up: until discovery answers, the installed entra-emulator command against oauth2-mock-server's command");
  const rounds = Number(process.env.BENCH_STARTS ?? 10);
  const folder = mkdtempSync(path.join(tmpdir(), 'bench-startup-'));
  const tenant = 'bench-tenant';
  const installed = installedPackage(folder);
  const unbundled = unbundledCommand();
  const ours = (stateDir: string, entry = path.join(installed, 'bin', 'entra-emulator.cjs')): Command => ({
    args: [entry],
    discovery: (port) => `http://127.0.0.1:${port}/${tenant}/v2.0/.well-known/openid-configuration`,
    jwks: (port) => `http://127.0.0.1:${port}/${tenant}/discovery/v2.0/keys`,
    env: { EMULATOR_TENANT_ID: tenant, LOG_LEVEL: 'warn', EMULATOR_STATE_DIR: stateDir },
  });
  const mock: Command = {
    args: ['node_modules/oauth2-mock-server/dist/oauth2-mock-server.mjs', '-p', '{port}', '-a', '127.0.0.1'],
    discovery: (port) => `http://127.0.0.1:${port}/.well-known/openid-configuration`,
    jwks: (port) => `http://127.0.0.1:${port}/jwks`,
  };
  const kept = path.join(folder, 'kept');
  const names = ['mock', 'fresh', 'kept', 'unbundled'] as const;
  const times = Object.fromEntries(names.map((name) => [name, [] as { discovery: number; jwks: number }[]])) as Record<
    (typeof names)[number],
    { discovery: number; jwks: number }[]
  >;
  const inProcess: number[] = [];
  try {
    // The first start in a process loads and compiles what later ones reuse: a test file's start is such a first one.
    const first = performance.now();
    const firstEmulator = await startEmulator();
    const firstInProcess = performance.now() - first;
    await fetch(`${firstEmulator.baseUrl}/${firstEmulator.tenantId}/discovery/v2.0/keys`);
    await firstEmulator.close();
    for (let round = 0; round <= rounds; round++) {
      const measured = {
        mock: await timeToAnswer(mock),
        // A new state folder: tenant and keys are made.
        fresh: await timeToAnswer(ours(path.join(folder, `fresh-${round}`))),
        // The same folder as the round before: tenant and keys are read.
        kept: await timeToAnswer(ours(kept)),
        // The compiled modules as they are, not bundled into one file.
        unbundled: await timeToAnswer(ours(kept, unbundled)),
      };
      const started = performance.now();
      const emulator = await startEmulator();
      const inProcessMs = performance.now() - started;
      // Its key made before the next round, so that it does not compete with the next command's start.
      await fetch(`${emulator.baseUrl}/${emulator.tenantId}/discovery/v2.0/keys`);
      await emulator.close();
      // The first round warms the file cache and makes the kept folder; it is not counted.
      if (round === 0) continue;
      for (const name of names) times[name].push(measured[name]);
      inProcess.push(inProcessMs);
    }
    report(times, rounds);
    line('startEmulator() in process, the first', `${fmt(firstInProcess)} ms (ephemeral, until it resolves)`);
    line('startEmulator() in process, later ones', `${fmt(median(inProcess))} ms (median of ${rounds})`);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

function report(times: Record<'mock' | 'fresh' | 'kept' | 'unbundled', { discovery: number; jwks: number }[]>, rounds: number) {
  const mockMedian = median(times.mock.map((time) => time.discovery));
  line(
    "oauth2-mock-server's command",
    `${fmt(mockMedian)} ms (median of ${rounds}); its JWKS ${fmt(median(times.mock.map((time) => time.jwks)))} ms`,
  );
  const rows = [
    ['entra-emulator, a new state folder', times.fresh],
    ['entra-emulator, the state folder kept', times.kept],
    ['the same, compiled by tsc, not bundled', times.unbundled],
  ] as const;
  for (const [name, measured] of rows) {
    // Each start against oauth2-mock-server's in the same round, so that a change of the machine's speed weighs on both.
    const ratios = measured.map((time, round) => time.discovery / times.mock[round]!.discovery);
    const jwks = median(measured.map((time) => time.jwks));
    line(
      name,
      `${fmt(median(measured.map((time) => time.discovery)))} ms, ${fmt(median(ratios), 2)}x oauth2-mock-server's (rounds ` +
        `${ratios.map((ratio) => fmt(ratio, 2)).join(', ')}); JWKS ${fmt(jwks)} ms`,
    );
  }
}
