import { readFileSync } from 'node:fs';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
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

/**
 * The files that take longest (a build replayed, packages packed and installed, a command run a few dozen
 * times), started first: on two workers the run ends when its last file does, and one of these started
 * late would leave the other worker idle for a minute. After the first run vitest knows every file's
 * duration and orders the rest longest first; without that record (a fresh clone) it orders them by size.
 */
const LONGEST = [
  'test/e2e/image.test.ts',
  'test/e2e/cli.test.ts',
  'test/e2e/generator-package.test.ts',
  'test/emulator/package.test.ts',
  'test/e2e/pages-browser.test.ts',
];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (file: TestSpecification) => {
      const index = LONGEST.findIndex((path) => file.moduleId.endsWith(path));
      return index === -1 ? LONGEST.length : index;
    };
    // Array.prototype.sort is stable: the others keep vitest's order.
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

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
    sequence: { sequencer: LongestFirst },
  },
});
