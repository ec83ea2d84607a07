/** What the benchmarks share: servers started as child processes, load with autocannon, small maths. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

let ticksPerSecond: number | undefined;

/** The CPU time a process has used, all its threads, in milliseconds; undefined without Linux's /proc. */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After the command name in parentheses: utime and stime are the 12th and 13th fields.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
  } catch {
    return undefined;
  }
}

/** CPU per answered request, in microseconds: the server's process and the load generator's (this process). */
export interface CpuPerRequest {
  server: number;
  loadGenerator: number;
}

/** A load run, with the CPU that the server (process `pid`) and the load generator spent on each request. */
export async function loadMeasured(pid: number, options: Options): Promise<LoadResult & { cpu?: CpuPerRequest }> {
  const serverBefore = processCpuMs(pid);
  const ownBefore = process.cpuUsage();
  const result = await load(options);
  const own = process.cpuUsage(ownBefore);
  const serverAfter = processCpuMs(pid);
  if (serverBefore === undefined || serverAfter === undefined || result.requests.total === 0) return result;
  const perRequest = (ms: number) => (ms * 1000) / result.requests.total;
  return { ...result, cpu: { server: perRequest(serverAfter - serverBefore), loadGenerator: perRequest((own.user + own.system) / 1000) } };
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
