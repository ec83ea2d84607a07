/**
 * The emulator signs every token on the libuv thread pool. Node.js makes four pool threads
 * whatever the machine; one per core measured faster (BENCHMARKS.md: on two cores, two threads
 * issued about 10 % more tokens a second than four). Imported first by the emulator's entry point,
 * before anything uses the pool; UV_THREADPOOL_SIZE, when set, wins.
 */
import { availableParallelism } from 'node:os';

process.env.UV_THREADPOOL_SIZE ??= String(Math.max(2, availableParallelism()));
