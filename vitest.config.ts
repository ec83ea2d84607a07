import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

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
