import type { Reporter, TestModule } from 'vitest/node';

/**
 * Ends the run with one plain line, `vitest: N passed, N failed, N skipped`,
 * that CI logs can be read by, after listing every skipped test: a skip must
 * say why in its name (or its `skip` note), and this makes it visible.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    const skipped: string[] = [];
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const result = test.result();
        if (result.state === 'passed') passed++;
        else if (result.state === 'failed') failed++;
        else {
          const note = result.state === 'skipped' ? result.note : undefined;
          skipped.push(`${module.project.name} > ${test.fullName}${note ? ` (${note})` : ''}`);
        }
      }
      if (module.state() === 'failed' && [...module.children.allTests()].length === 0) failed++;
    }
    const lines = skipped.map((name) => `skipped: ${name}`);
    lines.push(`vitest: ${passed} passed, ${failed} failed, ${skipped.length} skipped`);
    process.stdout.write(`\n${lines.join('\n')}\n`);
  }
}
