/**
 * The emulator signs tokens with node:crypto's callback API, which runs on libuv's thread pool.
 * Node.js gives that pool four threads whatever the machine; one thread per core (at least two)
 * issued 8-10 % more tokens a second on two cores (BENCHMARKS.md). libuv reads the size once, when
 * the pool is first used, so this is called before anything else starts; a UV_THREADPOOL_SIZE set
 * by the user is kept.
 */
import os from 'node:os';

export function signingThreadPerCore(env: NodeJS.ProcessEnv = process.env): void {
  if (!env.UV_THREADPOOL_SIZE?.trim()) env.UV_THREADPOOL_SIZE = String(Math.max(2, os.availableParallelism()));
}
