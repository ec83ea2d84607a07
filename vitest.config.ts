import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Browser and Redis tests start real processes; two cores do not take more in parallel.
    maxWorkers: 2,
    pool: 'forks',
    // The fuzz test measures memory after a full garbage collection.
    poolOptions: { forks: { execArgv: ['--expose-gc'] } },
    minWorkers: 1,
  },
});
