/**
 * Prints one plain closing line, "N passed, N failed, N skipped", that any CI log reader understands,
 * preceded by one line per test file that was skipped whole (e.g. faults-disk when not root), with the
 * title its suite gives, so a skipped suite is never mistaken for a passed one.
 */
const path = require('node:path');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    for (const file of results.testResults) {
      const tests = file.testResults;
      if (tests.length === 0 || !tests.every((t) => t.status === 'pending')) continue;
      const titles = [...new Set(tests.map((t) => t.ancestorTitles[0] ?? t.title))].join('; ');
      process.stdout.write(`\nSKIPPED SUITE ${path.relative(process.cwd(), file.testFilePath)}: ${tests.length} test(s), ${titles}`);
    }
    process.stdout.write(`\n${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests} skipped\n`);
  }
}

module.exports = SummaryReporter;
