import { basename } from 'node:path';
import { digestFileMulti } from '@cosignkit/core';
import type { Subject } from './statement.js';

/**
 * Subjects for files: the file's base name (as cosign names blob subjects) with sha256 and sha512 digests,
 * computed in one streamed pass per file.
 */
export async function subjectsFromFiles(
  paths: readonly string[],
  options: { algorithms?: readonly ('sha256' | 'sha384' | 'sha512')[] } = {},
): Promise<Subject[]> {
  const algorithms = options.algorithms ?? ['sha256', 'sha512'];
  const subjects: Subject[] = [];
  for (const path of paths) {
    const digests = await digestFileMulti(path, algorithms);
    const digest: Record<string, string> = {};
    for (const a of algorithms) digest[a] = digests[a].toString('hex');
    subjects.push({ name: basename(path), digest });
  }
  return subjects;
}

/** True when a subject carries `algorithm:hex` (compared case-insensitively on the hex). */
export function subjectHasDigest(subject: Subject, algorithm: string, hex: string): boolean {
  const value = subject.digest[algorithm];
  return typeof value === 'string' && value.toLowerCase() === hex.toLowerCase();
}
