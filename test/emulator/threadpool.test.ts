import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';

const poolSizeSeen = (env: Record<string, string | undefined>) => {
  const { UV_THREADPOOL_SIZE: _ignored, ...rest } = process.env;
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', "await import('./src/emulator/threadpool.ts'); process.stdout.write(String(process.env.UV_THREADPOOL_SIZE));"],
    { env: { ...rest, ...env }, encoding: 'utf8' },
  );
  expect(child.stderr).toBe('');
  return child.stdout;
};

describe("the emulator's thread pool", () => {
  it('has one thread per core (at least two) unless UV_THREADPOOL_SIZE is set', () => {
    expect(poolSizeSeen({})).toBe(String(Math.max(2, availableParallelism())));
    expect(poolSizeSeen({ UV_THREADPOOL_SIZE: '7' })).toBe('7');
  });
});
