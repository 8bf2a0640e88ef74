import { fileURLToPath } from 'node:url';
import { enableCompileCache } from '@cosignkit/core/compile-cache';
import { runPlugin } from '../plugin/run-plugin.js';

/**
 * The KMS plugin stock cosign runs for `--key cosignkit://…` (argv is `v1 <request JSON>`), as the bin
 * (sigstore-kms-cosignkit.ts) runs it: one CommonJS bundle with a code cache of its own. Resolves to whether the
 * answer was a result; runPlugin answers every failure as {"errorMessage": …} on stdout, as the protocol
 * wants, and this catch is the last resort.
 */
export function main(): Promise<boolean> {
  // A call that does the work itself imports core and a backend: Node's compile cache spares compiling those,
  // in a directory private to this user, not Node's shared default under $TMPDIR, where others could plant code.
  enableCompileCache(process.env);
  return runPlugin(process.argv.slice(2), {
    // Touched only when a request reads the message: creating process.stdin costs start-up time.
    stdin: { [Symbol.asyncIterator]: () => process.stdin[Symbol.asyncIterator]() },
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    // The agent daemon is built beside this file; asked for only when a first call starts it.
    agentDaemon: () => [...process.execArgv, fileURLToPath(new URL('./cosignkit-agent.cjs', import.meta.url)), 'run'],
  }).catch((error: unknown) => {
    process.stdout.write(
      `${JSON.stringify({ errorMessage: `cosignkit: ${error instanceof Error ? error.message : String(error)} [INTERNAL]` })}\n`,
    );
    return false;
  });
}
