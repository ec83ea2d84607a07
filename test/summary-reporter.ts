/**
 * Ends a test run with one plain line, "tests: N passed, N failed, N skipped", that any CI can read.
 */
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    for (const module of testModules) {
      let failedInModule = 0;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') counts.passed++;
        else if (state === 'failed') failedInModule++;
        else counts.skipped++;
      }
      // A file that failed outside its tests (an import, a `beforeAll`) leaves them skipped: it counts as one failure.
      counts.failed += module.state() === 'failed' ? Math.max(1, failedInModule) : failedInModule;
    }
    // Written as the process exits, so that it is the last line after the default reporter's summary.
    process.once('exit', () => {
      process.stdout.write(`tests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
    });
  }
}
