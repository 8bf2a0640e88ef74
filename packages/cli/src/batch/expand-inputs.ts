import { glob as globFiles, readdir, stat as statFile } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { CosignkitError, readBoundedFile } from '@cosignkit/core';
import { looksLikeGlob } from '../glob-pattern.js';

// node:fs's callback API, not node:fs/promises: loading that (readline, the watchers) is start-up time every
// batch command would pay before its first file.
const stat = promisify(statFile);
const listTree = promisify(readdir);

function glob(pattern: string, options: { cwd: string }): Promise<string[]> {
  return new Promise((done, fail) =>
    globFiles(pattern, options, (error, matches) => (error ? fail(error) : done(matches as string[]))),
  );
}

/** More inputs than this in one command is refused before any work: split the list. */
export const MAX_BATCH_ITEMS = 1_000_000;
/** A --files-from list larger than this is refused before it is read. */
const MAX_LIST_BYTES = 64 * 1024 * 1024;

/** What a batch writes beside its inputs: never picked up as inputs by a glob or a directory walk. */
export const OUTPUT_SUFFIXES = ['.sigstore.json', '.sig'] as const;

export interface InputSources {
  positionals: readonly string[];
  recursive: boolean;
  filesFrom?: string;
  /** Reads --files-from - (the CLI's stdin). */
  readStdin: () => Promise<string>;
  cwd: string;
}

/**
 * Expands paths, globs, directories (with --recursive) and --files-from into a de-duplicated list of paths,
 * in a stable order. Named paths are kept as given (a missing one fails as its own item, not the batch);
 * globs and walks skip the batch's own outputs, so re-running over a directory does not sign the bundles.
 */
export async function expandInputs(sources: InputSources): Promise<string[]> {
  const seen = new Set<string>();
  const out: string[] = [];
  // `key`, when the caller has it already (a walk's files): the resolved path, for spotting duplicates.
  const add = (path: string, key: string = resolve(sources.cwd, path)): void => {
    if (seen.has(key)) return;
    if (out.length >= MAX_BATCH_ITEMS) {
      throw new CosignkitError('USAGE', `more than ${MAX_BATCH_ITEMS} inputs: split the batch`);
    }
    seen.add(key);
    out.push(path);
  };
  const named: string[] = [...sources.positionals];
  if (sources.filesFrom !== undefined) named.push(...(await readList(sources.filesFrom, sources.readStdin)));
  for (const entry of named) {
    if (looksLikeGlob(entry) && !(await exists(resolve(sources.cwd, entry)))) {
      const matches = await glob(entry, { cwd: sources.cwd });
      for (const match of matches.sort()) {
        if (!isOutput(match) && (await isRegularFile(resolve(sources.cwd, match)))) add(match);
      }
      continue;
    }
    const info = await stat(resolve(sources.cwd, entry)).catch(() => undefined);
    if (info?.isDirectory()) {
      if (!sources.recursive) {
        throw new CosignkitError('USAGE', `${entry} is a directory: pass --recursive to sign the files in it`);
      }
      // Each file as join(entry, its path under the directory), without a join/relative/resolve per file
      // (10,000 files: ~0.1 s of path functions before): the paths a walk gives are already normal.
      const root = resolve(sources.cwd, entry);
      const base = join(entry, '.');
      const prefix = base === '.' ? '' : base.endsWith(sep) ? base : `${base}${sep}`;
      const rootPrefix = root.endsWith(sep) ? root : `${root}${sep}`;
      for (const rel of await walk(root)) add(`${prefix}${rel}`, `${rootPrefix}${rel}`);
      continue;
    }
    add(entry);
  }
  return out;
}

/** core's atomic writer's temp files (`.<name>.<pid>.<hex>.tmp`): a killed run may leave some behind. */
const TEMP_FILE = /(^|\/)\.[^/]+\.\d+\.[0-9a-f]{12}\.tmp$/;

function isOutput(path: string): boolean {
  return OUTPUT_SUFFIXES.some((s) => path.endsWith(s)) || TEMP_FILE.test(path);
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}

async function isRegularFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() === true;
}

/**
 * Regular files under a directory, as paths relative to it, sorted; symlinks and special files are not followed
 * or taken.
 */
async function walk(dir: string): Promise<string[]> {
  const entries = await listTree(dir, { recursive: true, withFileTypes: true });
  const under = dir.endsWith(sep) ? dir : `${dir}${sep}`;
  return entries
    .filter((e) => e.isFile() && !isOutput(e.name))
    .map((e) => (e.parentPath === dir ? e.name : `${e.parentPath.slice(under.length)}${sep}${e.name}`))
    .sort();
}

async function readList(source: string, readStdin: () => Promise<string>): Promise<string[]> {
  let text: string;
  if (source === '-') {
    text = await readStdin();
  } else {
    // Checked on the open file, bounded before it is read (core's readBoundedFile): no stat-then-read race.
    text = (
      await readBoundedFile(source, { maxBytes: MAX_LIST_BYTES, tooLargeCode: 'USAGE', what: 'a --files-from list' })
    ).toString('utf8');
  }
  // One path a line; blank lines skipped; CRLF lists (from Windows tools) accepted.
  return text
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.length > 0);
}

/** Reads stdin up to the list limit. */
export async function readStdinBounded(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > MAX_LIST_BYTES)
      throw new CosignkitError('USAGE', `--files-from - is larger than ${MAX_LIST_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Where an input's output goes: beside it, or under `outputDir` at the same path relative to the working
 * directory. An input outside the working directory cannot keep its relative path there, so it is refused.
 */
export function outputPathFor(file: string, suffix: string, outputDir: string | undefined, cwd: string): string {
  if (outputDir === undefined) return `${file}${suffix}`;
  const rel = relative(cwd, resolve(cwd, file));
  if (rel.startsWith('..') || isAbsolute(rel)) {
    throw new CosignkitError('USAGE', `${file} is outside the working directory: --output-dir keeps relative paths`);
  }
  return join(outputDir, `${rel}${suffix}`);
}
