import { createHash } from 'node:crypto';
import { mkdir, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Serializes read-modify-write cycles on one registry subject (a signature tag), within this process and
 * across processes on this machine. Registries ignore If-Match, so two writers of the same tag would
 * otherwise overwrite each other's signatures.
 */
const inProcess = new Map<string, Promise<unknown>>();
const STALE_MS = 60_000;

export async function withSubjectLock<T>(subject: string, work: () => Promise<T>): Promise<T> {
  const previous = inProcess.get(subject) ?? Promise.resolve();
  const run = previous.catch(() => {}).then(() => withFileLock(subject, work));
  inProcess.set(subject, run);
  try {
    return await run;
  } finally {
    if (inProcess.get(subject) === run) inProcess.delete(subject);
  }
}

async function withFileLock<T>(subject: string, work: () => Promise<T>): Promise<T> {
  const dir = join(process.env.XDG_RUNTIME_DIR || tmpdir(), 'cosignkit-locks');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `${createHash('sha256').update(subject).digest('hex').slice(0, 32)}.lock`);
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = await stat(path).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      // A writer that died keeps its lock; a lock older than any push is taken over.
      if (age > STALE_MS) await rm(path, { force: true });
      else await new Promise((r) => setTimeout(r, Math.min(10 * 2 ** Math.min(attempt, 5), 250)));
    }
  }
  try {
    return await work();
  } finally {
    await rm(path, { force: true });
  }
}
