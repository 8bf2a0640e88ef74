import type { FlagSpec } from '../args.js';
import { booleanFlag, parseFlags, stringFlag } from '../args.js';
import type { CommandContext } from '../command.js';
import { expandInputs, readStdinBounded } from './expand-inputs.js';
import { usageError } from '../usage-error.js';
import { looksLikeGlob } from '../glob-pattern.js';

/** The flags every batch command adds to its one-file flags. */
export const BATCH_FLAGS = {
  recursive: { type: 'boolean', short: 'r' },
  'files-from': { type: 'string' },
  'output-dir': { type: 'string' },
  jobs: { type: 'string', short: 'j' },
  'fail-fast': { type: 'boolean' },
} as const satisfies Record<string, FlagSpec>;

const BATCH_ONLY = new Set([...Object.keys(BATCH_FLAGS), 'skip-existing', 'signatures']);

/**
 * Whether a command line asks for a batch: more than one input, or a batch-only flag, or a glob or a
 * directory as its input. A line that does not parse is left to the one-file command, which reports it.
 */
export function batchRequested(command: string, argv: readonly string[], flags: Record<string, FlagSpec>): boolean {
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(command, argv, flags, { min: 0, max: Number.POSITIVE_INFINITY, names: 'files' });
  } catch {
    return false;
  }
  if (parsed.positionals.length !== 1) return parsed.positionals.length > 1 || hasBatchFlag(parsed);
  return hasBatchFlag(parsed) || looksLikeGlob(parsed.positionals[0]!);
}

function hasBatchFlag(parsed: ReturnType<typeof parseFlags>): boolean {
  return Object.entries(parsed.values).some(([name, value]) => BATCH_ONLY.has(name) && value !== undefined);
}

export function jobsFlag(command: string, flags: ReturnType<typeof parseFlags>): number | undefined {
  const text = stringFlag(flags, 'jobs');
  if (text === undefined) return undefined;
  const jobs = Number(text);
  if (!/^\d+$/.test(text) || jobs < 1 || jobs > 256) throw usageError(command, '--jobs takes a number from 1 to 256');
  return jobs;
}

/** Signing batches write Sigstore bundles without a log: the flags that would ask otherwise are refused. */
export function refuseUnbatchableSigningFlags(command: string, flags: ReturnType<typeof parseFlags>): void {
  for (const name of ['tlog-upload', 'use-signing-config']) {
    if (booleanFlag(flags, name) === true) throw usageError(command, `--${name}=true is not supported yet`);
  }
  if (booleanFlag(flags, 'new-bundle-format') === false) {
    throw usageError(command, 'a batch writes Sigstore bundles: --new-bundle-format=false is for one file');
  }
}

/** The files a batch works on (paths, globs, `-r`, `--files-from`); none is a usage error naming `verb`. */
export async function batchFiles(
  command: string,
  verb: string,
  flags: ReturnType<typeof parseFlags>,
  context: CommandContext,
): Promise<string[]> {
  const filesFrom = stringFlag(flags, 'files-from');
  const files = await expandInputs({
    positionals: flags.positionals,
    recursive: booleanFlag(flags, 'recursive') === true,
    ...(filesFrom !== undefined ? { filesFrom } : {}),
    readStdin: readStdinBounded,
    cwd: context.cwd,
  });
  if (files.length === 0) throw usageError(command, `no files to ${verb}`);
  return files;
}
