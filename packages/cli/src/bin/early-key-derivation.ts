import { prestartKeyDerivation } from '@cosignkit/key-file/scrypt-prestart';
import { agentMayBeRunning } from '../agent-presence.js';
import { readSmallRegularFile } from '@cosignkit/core/compile-cache';

/** Commands that decrypt a `--key` file to sign. */
const SIGNING_COMMANDS = new Set(['sign-blob', 'attest-blob', 'sign', 'attest']);
/** A cosign key file is under a kilobyte (the file backend refuses more than this too). */
const MAX_KEY_FILE_BYTES = 64 * 1024;

/**
 * Starts scrypt for a signing command's key file before the rest of the CLI loads (issue 19): with the key
 * file named by `--key` and the password in COSIGN_PASSWORD, nothing else has to happen first, and scrypt is
 * most of a one-shot `sign-blob`. The decryption takes the result later; anything unexpected here (no such
 * file, not a cosign key, another engine) just means it derives the key itself, as before, and reports errors.
 */
export function startEarlyKeyDerivation(argv: readonly string[], env: NodeJS.ProcessEnv): void {
  const password = env.COSIGN_PASSWORD;
  if (password === undefined) return;
  const at = argv.findIndex((token) => SIGNING_COMMANDS.has(token));
  if (at < 0 || argv.some((t, i) => (t === '--engine' && argv[i + 1] === 'cosign') || t === '--engine=cosign')) return;
  let keyPath: string | undefined;
  for (let i = at + 1; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') break;
    if (token === '--key') keyPath = argv[i + 1];
    else if (token.startsWith('--key=')) keyPath = token.slice('--key='.length);
  }
  if (!keyPath) return;
  // With an agent listening, the key opens (and scrypt runs) in the agent: nothing to start here.
  if (!argv.includes('--no-agent') && agentMayBeRunning(env)) return;
  const pem = readSmallRegularFile(keyPath, MAX_KEY_FILE_BYTES);
  if (pem !== undefined) prestartKeyDerivation(pem.toString('utf8'), password);
}
