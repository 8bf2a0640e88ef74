import { runPlugin } from '../plugin/run-plugin.js';

// The KMS plugin stock cosign runs for `--key cosignkit://…`: argv is `v1 <request JSON>`. runPlugin answers
// every failure as {"errorMessage": …} on stdout, as the protocol wants; this catch is the last resort.
runPlugin(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
}).catch((error: unknown) => {
  process.stdout.write(`${JSON.stringify({ errorMessage: `cosignkit: ${error instanceof Error ? error.message : String(error)} [INTERNAL]` })}\n`);
});
