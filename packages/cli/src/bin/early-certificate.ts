import { enableCompileCache } from '@cosignkit/core/compile-cache';

/** The file that decides and starts the request (early-certificate-start.ts), beside the bin. */
const START_FILE = './early-certificate.cjs';

/**
 * A keyless sign-blob's Fulcio request, started before the command's bundle loads: the bundle, main and the
 * command's own checks then run while Fulcio answers (issue 14). Only a line that names sign-blob and
 * --fulcio-url, with $SIGSTORE_ID_TOKEN set, loads the file that decides (it parses the line with sign-blob's
 * own flags and starts the request only when the command would certainly send it); every other line costs
 * three scans of argv. Never throws: anything unexpected leaves the request to the command.
 */
export function startEarlyCertificate(argv: readonly string[], env: NodeJS.ProcessEnv): void {
  if (!env.SIGSTORE_ID_TOKEN || !argv.includes('sign-blob')) return;
  if (!argv.some((token) => token === '--fulcio-url' || token.startsWith('--fulcio-url='))) return;
  try {
    // Node's code cache first (the command's code turns it on too, later): the file is compiled on every run.
    enableCompileCache(env);
    const load = process.getBuiltinModule('node:module').createRequire(import.meta.url);
    (load(START_FILE) as typeof import('./early-certificate-start.js')).startEarlyCertificate(argv, env);
  } catch {
    // The command asks Fulcio itself.
  }
}
