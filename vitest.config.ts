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
 * times), started first: the run ends when its last file does, and one of these started late would leave
 * the other workers idle for a minute. After the first run vitest knows every file's duration and orders
 * the rest longest first; without that record (a fresh clone) it orders them by size.
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

/**
 * The fast tier (`npm run test:fast`): unit and core tests, no server, no browser. They start nothing and leave
 * nothing behind, so the tier runs them without isolation, each worker in one module graph rather than importing
 * the sources again for every file: collecting was half of what these files cost (19.6 s for the tier isolated,
 * 9.6 s not, on an idle 2-core machine). A test here restores what it changes of the process: fake timers, mocks,
 * the environment.
 *
 * Vitest 3 has one pool of each kind for a run, and a pool's isolation is the run's, not a project's: the tier
 * gets its shared graph in `npm test` too by running in the worker-thread pool, which alone is not isolated, while
 * the stack keeps a process of its own for each file in the forks pool. The tier runs first (its `groupOrder`):
 * the two pools would otherwise run side by side, five workers on two cores.
 */
const FAST = ['test/unit/**/*.test.ts', 'test/generator/**/*.test.ts', 'test/session/crypto.test.ts'];

export default defineConfig({
  resolve: { alias: sourceAliases },
  test: {
    projects: [
      { extends: true, test: { name: 'fast', include: FAST, pool: 'threads', sequence: { groupOrder: 0 } } },
      {
        extends: true,
        test: {
          name: 'stack',
          include: ['test/**/*.test.ts'],
          exclude: FAST,
          globalSetup: ['test/helpers/shared-chromium.ts', 'test/helpers/rsa-keys-setup.ts'],
          setupFiles: ['test/helpers/rsa-keys.ts'],
          sequence: { groupOrder: 1 },
        },
      },
    ],
    reporters: ['default', './test/summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Three files at a time on two cores: most of a stack file's time is spent waiting (for a Redis lease to run out, a
    // process to start, Chromium to answer), so two workers left a third of the CPU idle (1.36 cores busy over a run).
    // On an idle 2-core machine the run took 232-239 s with two workers, 196-215 s with three and 194 s with four.
    maxWorkers: 3,
    pool: 'forks',
    // The fuzz test measures memory after a full garbage collection.
    poolOptions: {
      forks: { execArgv: ['--expose-gc'] },
      // Two threads, however many workers a run asks for: with fewer kept than allowed, the pool ends a thread as soon
      // as it is idle, and without isolation that can end the run with "Terminating worker thread" (`--maxWorkers=3`).
      threads: { isolate: false, minThreads: 2, maxThreads: 2 },
    },
    minWorkers: 1,
    sequence: { sequencer: LongestFirst },
  },
});
