/**
 * 8. The command line's start: `token-generator --help` and `token-generator m2m` answered from its
 * cache (with its one request to the generator, which checks that the cached token's issuer is still
 * the generator's), against `node -e 0` measured in the same rounds, in turn, so that the machine's
 * drift weighs on all three alike. BENCH_CLI_ROUNDS (21) rounds after one uncounted one. Target: at
 * most 2.5 times `node -e 0` for both.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startService } from '../src/main.js';
import { fmt, freePort, heading, line } from './lib.js';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Milliseconds from spawn to exit; throws unless it exits with 0. */
function timed(args: string[], env: Record<string, string>): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let errors = '';
  child.stderr.on('data', (d: Buffer) => (errors += d.toString()));
  return new Promise((resolve, reject) =>
    child.on('exit', (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`${args.join(' ')}: ${errors}`)))),
  );
}

export async function commandLine(): Promise<void> {
  heading('8. Command line: a cached token and --help, against the start of `node -e 0`');
  const rounds = Number(process.env.BENCH_CLI_ROUNDS ?? 21);
  const folder = mkdtempSync(path.join(tmpdir(), 'bench-cli-'));
  const port = await freePort();
  const env = { PORT: String(port), HOST: '127.0.0.1', EMULATOR_PORT: '0', EMULATOR_STATE_DIR: path.join(folder, 'state') };
  const service = await startService(loadConfig(env), env, { logger: createLogger('warn') });
  const cliEnv = { TOKEN_GENERATOR_URL: service.url, TOKEN_GENERATOR_CACHE: path.join(folder, 'tokens.json') };
  const runs = {
    'node -e 0': ['-e', '0'],
    'token-generator --help': ['bin/token-generator.js', '--help'],
    'token-generator m2m, cached': ['bin/token-generator.js', 'm2m', 'dev-gcp:bench:app'],
  };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(runs).map((name) => [name, []]));
  try {
    // The first call builds the command line if a source changed, and caches the token.
    await timed(runs['token-generator m2m, cached'], cliEnv);
    for (let round = 0; round <= rounds; round++) {
      for (const [name, args] of Object.entries(runs)) {
        const ms = await timed(args, cliEnv);
        if (round > 0) times[name]!.push(ms);
      }
    }
  } finally {
    await service.close();
    rmSync(folder, { recursive: true, force: true });
  }
  const baseline = times['node -e 0']!;
  line('node -e 0', `${fmt(median(baseline))} ms (median of ${rounds})`);
  for (const name of Object.keys(runs).slice(1)) {
    const ratios = times[name]!.map((ms, round) => ms / baseline[round]!);
    line(name, `${fmt(median(times[name]!))} ms, ${fmt(median(ratios), 2)}x node -e 0 (target at most 2.5)`);
  }
}
