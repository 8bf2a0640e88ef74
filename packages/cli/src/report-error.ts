import { CosignkitError } from '@cosignkit/core/errors';
import type { MainIo } from './main.js';

/**
 * Prints an error as one line (`cosignkit: <message> [<CODE>]`) on stderr, and with --json also
 * `{"error":{code,message}}` on stdout, and returns the exit code: 2 verification failed, 3 malformed input, 1 otherwise.
 * The stack only with COSIGNKIT_DEBUG=1.
 */
export async function reportError(error: unknown, options: { json: boolean; io: MainIo }): Promise<number> {
  const { io } = options;
  const code = CosignkitError.isInstance(error) ? error.code : 'INTERNAL';
  const message = await safeText(oneLine(error instanceof Error ? error.message : String(error)) || 'unknown error');
  const exitCode = await exitCodeOf(code);
  // One contract for every exit code: with --json the JSON goes to stdout (for the program reading it) and
  // the one line to stderr (for the person watching), exactly as a failed verification reports.
  if (options.json) io.stdout(`${JSON.stringify({ error: { code, message } }, null, 2)}\n`);
  io.stderr(`cosignkit: ${message} [${code}]\n`);
  if (io.env.COSIGNKIT_DEBUG === '1') {
    for (let e: unknown = error, depth = 0; e !== undefined && depth < 8; e = (e as Error).cause, depth++) {
      io.stderr(`${depth === 0 ? '' : 'caused by: '}${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    }
  }
  return exitCode;
}

async function exitCodeOf(code: string): Promise<number> {
  if (code === 'VERIFICATION_FAILED') return 2;
  if (code === 'USAGE' || code === 'INTERNAL') return 1;
  try {
    const { MALFORMED_INPUT_CODES } = await import('@cosignkit/core');
    return (MALFORMED_INPUT_CODES as ReadonlySet<string>).has(code) ? 3 : 1;
  } catch {
    return 1;
  }
}

/** Messages carry text from registries and files: shown with control characters escaped (core's helper). */
async function safeText(text: string): Promise<string> {
  try {
    const { escapeForTerminal } = await import('@cosignkit/core');
    return escapeForTerminal(text);
  } catch {
    return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  }
}

function oneLine(text: string): string {
  return text
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean)
    .join('; ');
}
