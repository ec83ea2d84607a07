/**
 * The checks `npm test` runs before the tests, side by side rather than one after another: the type check
 * and the linter each build the TypeScript program on one core, so on two cores the four take about as long
 * as the linter alone. Each check's output is printed whole once it ends, never interleaved with another's;
 * the exit code is 1 when any of them failed. The commands themselves are package.json's scripts.
 *
 * CHECKS_PARALLEL sets how many run at once (default: the machine's cores).
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';

/** Longest first, so that the last one to start is a short one. */
const CHECKS = ['lint', 'typecheck', 'format:check', 'depcheck'];

/** Runs `npm run <script>` with its output kept, and says how it ended. */
function run(script) {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '--silent', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks = [];
    child.stdout.on('data', (chunk) => chunks.push(chunk));
    child.stderr.on('data', (chunk) => chunks.push(chunk));
    const end = (failure) =>
      resolve({ script, failure, output: Buffer.concat(chunks).toString(), seconds: (performance.now() - started) / 1000 });
    child.once('error', (err) => end(err.message));
    child.once('close', (code, signal) => end(code === 0 ? undefined : signal ? `killed by ${signal}` : `exit code ${code}`));
  });
}

function report({ script, failure, output, seconds }) {
  const status = failure ? `FAILED (${failure})` : 'ok';
  process.stdout.write(`\n── npm run ${script}: ${status}, ${seconds.toFixed(1)} s\n`);
  if (output.trim()) process.stdout.write(output.endsWith('\n') ? output : `${output}\n`);
}

// At least one at a time: a value below one (or a fraction) would start none and report no failure.
const parallel = Math.max(1, Math.floor(Number(process.env.CHECKS_PARALLEL) || availableParallelism()));
const waiting = [...CHECKS];
const failed = [];
await Promise.all(
  Array.from({ length: Math.min(parallel, CHECKS.length) }, async () => {
    for (let script = waiting.shift(); script; script = waiting.shift()) {
      const result = await run(script);
      report(result);
      if (result.failure) failed.push(script);
    }
  }),
);
if (failed.length > 0) {
  process.stdout.write(`\nFailed: ${failed.map((script) => `npm run ${script}`).join(', ')}\n`);
  process.exit(1);
}
