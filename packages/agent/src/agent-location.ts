import { closeSync, constants, fstatSync, mkdtempSync, openSync, readSync, renameSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { isAgentUntrusted } from './agent-untrusted.js';
import { agentPaths, agentPathsIn, type AgentPaths } from './paths.js';
import { ensurePrivateDir, privateDirProblem, uid } from './private-files.js';

/**
 * Where this user's agent is. Another user can create `<tmp>/cosignkit-agent-<uid>` first (a link, or their
 * own directory): the agent then works in a fresh `<tmp>/cosignkit-agent-<uid>-XXXXXX` (mkdtemp: a name
 * nobody can guess first) and leaves its path in a pointer file only this user can write,
 * `${XDG_CACHE_HOME:-~/.cache}/cosignkit/agent/dir` (in a 0700 directory), where clients look when the default is not ours.
 */

export interface AgentLocation {
  paths: AgentPaths;
  /** Why the configured directory was refused, when no usable fallback was found. */
  untrusted?: string;
}

/** For clients: the configured directory when it is private, else the fallback the pointer names. */
export function locateAgent(env: Readonly<Record<string, string | undefined>>): AgentLocation {
  const configured = agentPaths(env);
  const problem = privateDirProblem(configured.dir);
  if (!problem || !configured.sharedTemp)
    return { paths: configured, ...(problem && !problem.missing ? { untrusted: problem.message } : {}) };
  const fallback = readPointer(env);
  if (fallback !== undefined && !privateDirProblem(fallback)) return { paths: agentPathsIn(fallback) };
  return { paths: configured, ...(problem.missing ? {} : { untrusted: problem.message }) };
}

/**
 * For the agent: the configured directory, created or checked private; for the shared-temp default that
 * another user holds, the fallback (reused while it stays private, else a new one, and the pointer updated).
 * `note` says why the default was not used.
 */
export function prepareAgentDir(env: Readonly<Record<string, string | undefined>>): {
  paths: AgentPaths;
  note?: string;
} {
  const configured = agentPaths(env);
  try {
    ensurePrivateDir(configured.dir);
    return { paths: configured };
  } catch (error) {
    if (!configured.sharedTemp || !isAgentUntrusted(error)) throw error;
    const previous = readPointer(env);
    const dir =
      previous !== undefined && !privateDirProblem(previous)
        ? previous
        : mkdtempSync(join(tmpdir(), `cosignkit-agent-${uid()}-`));
    ensurePrivateDir(dir);
    if (dir !== previous) writePointer(env, dir);
    return {
      paths: agentPathsIn(dir),
      note: `${error.message}; the agent uses ${dir} instead (set XDG_RUNTIME_DIR or COSIGNKIT_AGENT_DIR to choose)`,
    };
  }
}

export function pointerFile(env: Readonly<Record<string, string | undefined>>): string {
  const cache = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(cache, 'cosignkit', 'agent', 'dir');
}

/** The pointer's directory, only if the pointer and its directory are private to this user and it names one of ours. */
function readPointer(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const file = pointerFile(env);
  if (privateDirProblem(dirname(file))) return undefined;
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile() || (uid() >= 0 && info.uid !== uid()) || (info.mode & 0o077) !== 0 || info.size > 4096)
      return undefined;
    const buffer = Buffer.alloc(4097);
    const text = buffer
      .subarray(0, readSync(fd, buffer, 0, buffer.length, 0))
      .toString('utf8')
      .trim();
    // Only a directory the fallback could have made: never a path the pointer's writer chose freely.
    const prefix = join(tmpdir(), `cosignkit-agent-${uid()}-`);
    return text.startsWith(prefix) && /^[A-Za-z0-9]+$/.test(text.slice(prefix.length)) ? text : undefined;
  } finally {
    closeSync(fd);
  }
}

function writePointer(env: Readonly<Record<string, string | undefined>>, dir: string): void {
  const file = pointerFile(env);
  ensurePrivateDir(dirname(file));
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${dir}\n`, { mode: 0o600, flag: 'wx' });
  renameSync(tmp, file);
}
