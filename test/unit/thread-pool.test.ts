import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { threadPoolSizeToSet } from '../../src/emulator/thread-pool.js';

describe('threadPoolSizeToSet', () => {
  it('is one thread per core, at least two, unless UV_THREADPOOL_SIZE is set', () => {
    const perCore = String(Math.max(2, os.availableParallelism()));
    expect(threadPoolSizeToSet({})).toBe(perCore);
    expect(threadPoolSizeToSet({ UV_THREADPOOL_SIZE: ' ' })).toBe(perCore);
    expect(threadPoolSizeToSet({ UV_THREADPOOL_SIZE: '7' })).toBeUndefined();
  });
});
