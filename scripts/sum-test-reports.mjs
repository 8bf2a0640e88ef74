// Sums the vitest JSON reports of every package into the closing line CI reads: "N passed, N failed".
// A package with a test script but no report counts as one failure: a suite that never ran is not a pass.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let passed = 0;
let failed = 0;
for (const manifest of process.argv.slice(2)) {
  const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
  if (!pkg.scripts?.test) continue;
  const report = join(dirname(manifest), '.vitest-report.json');
  if (!existsSync(report)) {
    console.log(`${pkg.name}: no test report (the suite did not run)`);
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
  console.log(`${pkg.name}: ${p} passed, ${f} failed, ${r.numPendingTests ?? 0} skipped`);
  passed += p;
  failed += f;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
