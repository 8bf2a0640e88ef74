import { randomBytes } from 'node:crypto';
import { renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CosignkitError } from '../errors.js';
import { unlinkPath, writeWholeFile } from '../files/fs-calls.js';
import { SMALL_FILE_BYTES } from '../files/open-regular-file.js';
import { removeStaleTempsOnce } from './stale-temps.js';

export interface PendingOutput {
  path: string;
  data: string | Uint8Array;
  mode?: number;
}

/**
 * A temp path beside `path` (same directory, so the final rename stays on one file system). The pid in the
 * name lets a later run tell a dead writer's leftover from a live one's (stale-temps.ts).
 */
export function tempPathFor(path: string, suffix: 'tmp' | 'pair' = 'tmp'): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.${suffix}`);
}

/** What every public artifact (signature, bundle, envelope, certificate, .pub) is created with, less umask. */
export const PUBLIC_OUTPUT_MODE = 0o644;

/**
 * Creates an empty temp file with the public mode for another program (cosign) to write into. cosign creates
 * its outputs 0600; writing into a file that already exists keeps that file's mode, so what the cosign engine
 * writes ends up with the same mode as what the native engine writes.
 */
export async function reserveTempFile(temp: string, finalPath: string): Promise<void> {
  await writeWholeFile(temp, '', { flag: 'wx', mode: PUBLIC_OUTPUT_MODE }).catch((error: unknown) => {
    throw outputError(error, finalPath);
  });
}

/**
 * Writes every output to its temp file first and renames them only when all were written, so a failure
 * leaves none of them half-written (nor a stale temp file).
 */
export async function commitOutputs(outputs: readonly PendingOutput[]): Promise<void> {
  const temps: string[] = [];
  // A run killed mid-way (SIGKILL) left temps here: removed once they are certainly stale.
  for (const output of outputs) await removeStaleTempsOnce(output.path);
  // Small outputs (a signature, a bundle) with plain calls: a thread-pool round trip per call (open, write,
  // close, stat, rename) costs more than the call itself (files/open-regular-file.ts).
  const small = outputs.every((o) => o.data.length <= SMALL_FILE_BYTES);
  try {
    for (const output of outputs) {
      const temp = tempPathFor(output.path);
      temps.push(temp);
      const options = { flag: 'wx', mode: output.mode ?? PUBLIC_OUTPUT_MODE };
      try {
        if (small) writeFileSync(temp, output.data, options);
        else await writeWholeFile(temp, output.data, options);
      } catch (error) {
        throw outputError(error, output.path);
      }
    }
    await renameAll(outputs.map((o, i) => ({ from: temps[i]!, to: o.path })));
  } catch (error) {
    await removeQuietly(temps);
    throw outputError(error);
  }
}

/**
 * Renames finished temp files to their final names; the caller removes the temps on failure. Targets are
 * checked first, so that one unusable target does not leave the others renamed.
 */
export async function renameAll(moves: readonly { from: string; to: string }[]): Promise<void> {
  // Plain calls: a stat and a rename are metadata, and a round trip to the thread pool each costs more.
  for (const move of moves) {
    const info = statOrUndefined(move.to);
    if (info && !info.isFile())
      throw new CosignkitError('NOT_A_FILE', `cannot write ${move.to}: it is not a regular file`);
  }
  for (const move of moves) {
    try {
      renameSync(move.from, move.to);
    } catch (error) {
      throw outputError(error, move.to);
    }
  }
}

function statOrUndefined(path: string): import('node:fs').Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** Removes temp files; a file that is already gone is fine, anything else is reported by the caller's error. */
export async function removeQuietly(paths: readonly string[]): Promise<void> {
  await Promise.all(paths.map((p) => unlinkPath(p).catch(() => undefined)));
}

export function outputError(error: unknown, path?: string): CosignkitError {
  if (CosignkitError.isInstance(error)) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const where = path ?? (error as NodeJS.ErrnoException).path ?? 'output';
  if (code === 'ENOENT')
    return new CosignkitError('FILE_NOT_FOUND', `cannot write ${where}: no such directory`, { cause: error });
  if (code === 'EISDIR')
    return new CosignkitError('NOT_A_FILE', `cannot write ${where}: it is a directory`, { cause: error });
  return new CosignkitError('IO', `cannot write ${where}: ${(error as Error).message}`, { cause: error });
}
