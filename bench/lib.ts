/** What the benchmarks share: servers started as child processes, load with autocannon, small maths. */
import { spawn, type ChildProcess } from 'node:child_process';
import autocannon, { type Options, type Result } from 'autocannon';

export { freePort } from '../test/helpers/ports.js';

export interface Child {
  process: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

/** Runs `node [args]` with `env` until `ready` answers 200. */
export async function startChild(args: string[], env: Record<string, string>, ready: string): Promise<Child> {
  // Standard output (the logs) goes to /dev/null: read into this process, it would compete with the load generator.
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = await fetch(ready).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${args.join(' ')} did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    process: child,
    output: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * autocannon's result, with the seconds from the first request to the last response: autocannon
 * keeps time in whole seconds and notices the end of a run of `amount` requests only at its next
 * one-second tick, which made 6,000 requests answered in 2.1 s count as 3 s.
 */
export type LoadResult = Result & { seconds: number };

export async function load(options: Options): Promise<LoadResult> {
  const started = performance.now();
  let lastResponse = started;
  return new Promise((resolve, reject) => {
    const instance = autocannon(options, (err, result) =>
      err ? reject(err) : resolve({ ...result, seconds: (lastResponse - started) / 1000 }),
    );
    instance.on('response', () => {
      lastResponse = performance.now();
    });
  });
}

export function summary(result: LoadResult) {
  return {
    // Requests over the run's wall-clock duration: autocannon's per-second average and its duration
    // in whole seconds round short runs coarsely.
    rps: result.requests.total / result.seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

export const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export function line(label: string, value: string) {
  process.stdout.write(`  ${label.padEnd(46)} ${value}\n`);
}

export function heading(text: string) {
  process.stdout.write(`\n## ${text}\n`);
}
