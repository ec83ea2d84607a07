/**
 * The emulator signs tokens with node:crypto's callback API, which runs on libuv's thread pool.
 * Node.js gives that pool four threads whatever the machine; one thread per core (at least two)
 * issued 4-10 % more tokens a second on two cores (BENCHMARKS.md). libuv reads UV_THREADPOOL_SIZE
 * once, when the pool first runs, and Node's module loader runs it before any module of ours: the
 * size cannot be set from inside. So `npm run emulator`, when the variable is not set, runs itself
 * again as a child process with it set.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';

/** The pool size to start with, or undefined when UV_THREADPOOL_SIZE is set already. */
export function threadPoolSizeToSet(env: NodeJS.ProcessEnv): string | undefined {
  return env.UV_THREADPOOL_SIZE?.trim() ? undefined : String(Math.max(2, os.availableParallelism()));
}

/**
 * Runs this process's command again with one pool thread per core, passing SIGINT and SIGTERM on
 * and exiting as the child does; returns false, doing nothing, when UV_THREADPOOL_SIZE is set.
 */
export function relaunchWithThreadPerCore(): boolean {
  const size = threadPoolSizeToSet(process.env);
  if (size === undefined) return false;
  runAgain({ ...process.env, UV_THREADPOOL_SIZE: size });
  return true;
}

/** This process's command run again as a child with `env`, SIGINT and SIGTERM passed on, exiting as it does. */
export function runAgain(env: NodeJS.ProcessEnv): void {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
