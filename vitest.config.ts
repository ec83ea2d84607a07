import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

/**
 * The workspace packages the generator imports by name (`entra-emulator`) run from their sources, as tsx runs them for
 * `npm start`: tsconfig.json's `paths` say where, and Vite does not read them itself.
 */
const { compilerOptions } = JSON.parse(readFileSync(new URL('./tsconfig.json', import.meta.url), 'utf8')) as {
  compilerOptions: { paths: Record<string, [string]> };
};
const sourceAliases = Object.entries(compilerOptions.paths).map(([name, [source]]) => ({
  find: new RegExp(`^${name}$`),
  replacement: new URL(source, import.meta.url).pathname,
}));

export default defineConfig({
  resolve: { alias: sourceAliases },
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
