import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { signingThreadPerCore } from '../../src/emulator/thread-pool.js';

describe('signingThreadPerCore', () => {
  it('sizes the thread pool to the cores, at least two, unless UV_THREADPOOL_SIZE is set', () => {
    const unset: NodeJS.ProcessEnv = {};
    signingThreadPerCore(unset);
    expect(unset.UV_THREADPOOL_SIZE).toBe(String(Math.max(2, os.availableParallelism())));
    const blank: NodeJS.ProcessEnv = { UV_THREADPOOL_SIZE: ' ' };
    signingThreadPerCore(blank);
    expect(blank.UV_THREADPOOL_SIZE).toBe(String(Math.max(2, os.availableParallelism())));
    const chosen: NodeJS.ProcessEnv = { UV_THREADPOOL_SIZE: '7' };
    signingThreadPerCore(chosen);
    expect(chosen.UV_THREADPOOL_SIZE).toBe('7');
  });
});
