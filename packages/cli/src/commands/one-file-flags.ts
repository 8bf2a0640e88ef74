import { type FlagSpec, type ParsedFlags, parseFlags } from '../args.js';
import { looksLikeGlob } from '../glob-pattern.js';

/**
 * A blob command's flags when its line is plainly for one file: it parses with the command's one-file flags
 * and names one input that is not a glob; otherwise undefined. For every such line ../batch/batch-flags.ts's
 * batchRequested says "no batch" (its flags are a superset of these, with the same types, and a batch-only
 * flag would not parse here), so the command need not load the batch code to ask (issue 19: a one-shot run
 * loads what it runs). Any other line goes to batchRequested, which decides.
 */
export function oneFileFlags(
  command: string,
  argv: readonly string[],
  flags: Record<string, FlagSpec>,
): ParsedFlags | undefined {
  try {
    const parsed = parseFlags(command, argv, flags, { min: 1, max: 1, names: 'a file' });
    return looksLikeGlob(parsed.positionals[0]!) ? undefined : parsed;
  } catch {
    return undefined;
  }
}
