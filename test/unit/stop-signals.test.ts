/**
 * The stop signals' care for a closed terminal: its write errors (EIO, EPIPE) are ignored from the start, since the first
 * may come before SIGHUP is handled, and any other output error ends the process as before. In a process of its own,
 * since the rule listens on this process's signals.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const RULE = resolve(import.meta.dirname, '../../src/stop-signals.ts');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stop-signals-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `body` after `onStopSignal` with one output of its own (`output`): what it printed. */
async function after(body: string): Promise<string> {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.ts`);
  await writeFile(
    file,
    `import { EventEmitter } from 'node:events';
import { onStopSignal } from ${JSON.stringify(RULE)};
const output = new EventEmitter();
const failure = (code: string) => Object.assign(new Error(code), { code });
onStopSignal({ stop: async () => {}, announce: () => {}, limitMs: 1_000, outputs: [output] });
${body}
`,
  );
  return (await run(process.execPath, ['--import', 'tsx', file], { cwd: resolve(import.meta.dirname, '../..') })).stdout;
}

describe('a program that stops on the stop signals', () => {
  it("lives on through a gone terminal's write errors on any of its outputs, before any signal", async () => {
    const printed = await after(`for (const code of ['EIO', 'EPIPE']) {
  output.emit('error', failure(code));
  process.stdout.emit('error', failure(code));
  process.stderr.emit('error', failure(code));
}
console.log('alive');`);
    expect(printed).toBe('alive\n');
  });

  it('still fails on any other error of an output', async () => {
    const printed = await after(`try {
  output.emit('error', failure('EACCES'));
} catch (err) {
  console.log('thrown', (err as NodeJS.ErrnoException).code);
}`);
    expect(printed).toBe('thrown EACCES\n');
  });
});
