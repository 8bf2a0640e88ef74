import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  statSync,
  type Stats,
} from 'node:fs';
import { dirname } from 'node:path';
import { agentUntrusted } from './agent-untrusted.js';

/**
 * Node cannot read a Unix socket peer's uid (no SO_PEERCRED), so the agent's files must be beyond other users'
 * reach: a directory only its owner can enter (0700), a socket and a token file only its owner can use (0600).
 * Every check is an lstat (a symbolic link is refused, never followed) and, for what is opened, a second look
 * at the opened file descriptor (O_NOFOLLOW, fstat, same device and inode), so the path cannot be swapped
 * between the check and the use.
 */

export interface DirProblem {
  /** Nothing there yet: not an attack, just no agent (or one to create). */
  missing: boolean;
  message: string;
}

export function uid(): number {
  return typeof process.getuid === 'function' ? process.getuid() : -1;
}

/** Why a directory is not private to this user, or undefined when it is. */
export function privateDirProblem(dir: string): DirProblem | undefined {
  let before: Stats;
  try {
    before = lstatSync(dir);
  } catch {
    return { missing: true, message: `${dir} does not exist` };
  }
  const problem = ownerOnlyProblem(dir, before, 'directory');
  if (problem) return { missing: false, message: problem };
  let fd: number;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (error) {
    return {
      missing: false,
      message: `${dir} cannot be opened as a directory (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    };
  }
  try {
    const after = fstatSync(fd);
    if (after.dev !== before.dev || after.ino !== before.ino)
      return { missing: false, message: `${dir} was replaced while it was checked` };
    const again = ownerOnlyProblem(dir, after, 'directory');
    return again ? { missing: false, message: again } : undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * Creates the directory (0700) or checks the one there, and refuses one that is a link, another user's, or
 * open to others. Its parent must not let another user rename it away (owned by us or root, sticky if shared).
 */
export function ensurePrivateDir(dir: string): void {
  const parent = dirname(dir);
  try {
    mkdirSync(parent, { recursive: true, mode: 0o700 });
    mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    // EEXIST also for a symbolic link, which mkdir never follows: the check below refuses it.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
      throw agentUntrusted(
        `cannot create the agent's directory ${dir} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
  }
  const parentProblem = parentDirProblem(parent);
  if (parentProblem) throw agentUntrusted(`the agent's files are not private: ${parentProblem}`);
  const problem = privateDirProblem(dir);
  if (problem) throw agentUntrusted(`the agent's files are not private: ${problem.message}`);
}

/** Another user could rename entries of a parent they may write to, unless it is sticky (as /tmp is). */
function parentDirProblem(parent: string): string | undefined {
  let info: Stats;
  try {
    info = statSync(parent);
  } catch {
    return `${parent} does not exist`;
  }
  if (!info.isDirectory()) return `${parent} is not a directory`;
  if (uid() >= 0 && info.uid !== uid() && info.uid !== 0) return `${parent} belongs to another user (uid ${info.uid})`;
  if ((info.mode & 0o022) !== 0 && (info.mode & 0o1000) === 0)
    return `${parent} is writable by other users and not sticky`;
  return undefined;
}

/** Why the socket file is not one this user's agent made, or undefined. */
export function socketProblem(socket: string): DirProblem | undefined {
  let info: Stats;
  try {
    info = lstatSync(socket);
  } catch {
    return { missing: true, message: `${socket} does not exist` };
  }
  if (!info.isSocket()) return { missing: false, message: `${socket} is not a socket` };
  if (uid() >= 0 && info.uid !== uid())
    return { missing: false, message: `${socket} belongs to another user (uid ${info.uid})` };
  return undefined;
}

/** A token is 32 random bytes in hex: anything longer is not a token and is not read. */
const MAX_TOKEN_FILE = 1024;

/**
 * The agent's token, read from a regular file owned by this user with no group or other bits, opened without
 * following a link (and without blocking on a FIFO). Undefined when there is no file; an AGENT_UNTRUSTED error otherwise.
 */
export function readTokenFile(path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw agentUntrusted(
      `the agent's token file ${path} cannot be opened safely (${code === 'ELOOP' ? 'it is a symbolic link' : (code ?? 'error')})`,
    );
  }
  try {
    const info = fstatSync(fd);
    const problem = ownerOnlyProblem(path, info, 'file');
    if (problem) throw agentUntrusted(`the agent's token file is not private: ${problem}`);
    if (info.size > MAX_TOKEN_FILE)
      throw agentUntrusted(`the agent's token file ${path} is not a token (${info.size} bytes)`);
    const buffer = Buffer.alloc(MAX_TOKEN_FILE + 1);
    const length = readSync(fd, buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, length).toString('latin1').trim();
    if (!/^[0-9a-f]{64}$/.test(text)) throw agentUntrusted(`the agent's token file ${path} does not hold a token`);
    return Buffer.from(text, 'hex');
  } finally {
    closeSync(fd);
  }
}

function ownerOnlyProblem(path: string, info: Stats, kind: 'directory' | 'file'): string | undefined {
  if (info.isSymbolicLink()) return `${path} is a symbolic link`;
  if (kind === 'directory' ? !info.isDirectory() : !info.isFile())
    return `${path} is not a ${kind === 'file' ? 'regular file' : kind}`;
  if (uid() >= 0 && info.uid !== uid()) return `${path} belongs to another user (uid ${info.uid})`;
  const wanted = kind === 'directory' ? '700' : '600';
  if ((info.mode & 0o077) !== 0)
    return `${path} is open to other users (mode ${(info.mode & 0o777).toString(8)}; it must be ${wanted})`;
  return undefined;
}
