// Sums the vitest JSON reports into the closing line CI reads: "N passed, N failed, N skipped".
// Arguments: package manifests (their .vitest-report.json beside them) or report files themselves.
// A package with a test script but no report counts as one failure: a suite that never ran is not a pass.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

let passed = 0;
let failed = 0;
let skipped = 0;
for (const argument of process.argv.slice(2)) {
  let name = argument;
  let report = argument;
  if (basename(argument) === 'package.json') {
    const pkg = JSON.parse(readFileSync(argument, 'utf8'));
    if (!pkg.scripts?.test) continue;
    name = pkg.name;
    report = join(dirname(argument), '.vitest-report.json');
  }
  if (!existsSync(report)) {
    console.log(`${name}: no test report (the suite did not run)`);
    failed += 1;
    continue;
  }
  const r = JSON.parse(readFileSync(report, 'utf8'));
  const p = r.numPassedTests ?? 0;
  // A test file that failed without a failed test (an import error, a crash in beforeAll) counts once.
  const brokenFiles = (r.testResults ?? []).filter(
    (file) => file.status === 'failed' && !(file.assertionResults ?? []).some((t) => t.status === 'failed'),
  ).length;
  const f = (r.numFailedTests ?? 0) + brokenFiles;
  // Skipped: tests skipped by a capability or a missing component, and todos; never counted as passed.
  const s = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  console.log(`${name}: ${p} passed, ${f} failed, ${s} skipped`);
  passed += p;
  failed += f;
  skipped += s;
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
