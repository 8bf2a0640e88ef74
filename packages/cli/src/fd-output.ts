import { fstatSync, writeSync } from 'node:fs';

/**
 * A command's output written straight to its file descriptor (issue 19). process.stdout and process.stderr
 * are streams Node builds on first use, loading node:stream and twenty-odd modules with it (about 5 ms of a
 * 100 ms one-shot run) to write a line or two; Node writes files, pipes and terminals synchronously anyway,
 * so a write here is the same syscall. A reader that went away (EPIPE) ends the output quietly, as the bin's
 * stream handler does. Any other failure, such as a full pipe its reader made non-blocking (EAGAIN), hands
 * the rest of the output to the stream for good: it waits for the reader, and the order stays as written.
 */
export function fdWriter(fd: 1 | 2, stream: () => NodeJS.WritableStream): (text: string) => void {
  let via: 'fd' | 'stream' | 'gone' = 'fd';
  return (text) => {
    if (via === 'gone') return;
    if (via === 'stream') {
      stream().write(text);
      return;
    }
    const bytes = Buffer.from(text, 'utf8');
    let written = 0;
    try {
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EPIPE') {
        via = 'gone';
        return;
      }
      via = 'stream';
      stream().write(bytes.subarray(written));
    }
  };
}

/**
 * Whether the descriptor is a terminal, without building Node's stream for it when it cannot be one: the
 * stream of a pipe is a net.Socket, and building it loads node:net (a batch's progress bar asks, and CI logs
 * are pipes). Only a character device can be a terminal, which fstat says; for one, the stream decides.
 */
export function isTerminal(fd: 1 | 2, stream: () => NodeJS.WriteStream): boolean {
  try {
    if (!fstatSync(fd).isCharacterDevice()) return false;
  } catch {
    return false;
  }
  return stream().isTTY === true;
}
