import { close, constants, fstat, open, read, stat, type Stats } from 'node:fs';

/**
 * Promise-returning file calls on node:fs's callback API, for the reads every command makes (issue 19):
 * node:fs/promises loads readline, the streams and about forty modules with it, some 5 ms of a one-shot
 * command's start-up, for calls the callback API makes on the same thread pool.
 */

/** Opens for reading without following a FIFO into a hang (O_NONBLOCK) or taking a terminal (O_NOCTTY). */
export function openForReading(path: string): Promise<number> {
  return new Promise((resolve, reject) =>
    open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY, (error, fd) =>
      error ? reject(error) : resolve(fd),
    ),
  );
}

export function statDescriptor(fd: number): Promise<Stats> {
  return new Promise((resolve, reject) => fstat(fd, (error, info) => (error ? reject(error) : resolve(info))));
}

export function statPath(path: string): Promise<Stats> {
  return new Promise((resolve, reject) => stat(path, (error, info) => (error ? reject(error) : resolve(info))));
}

/** Reads into `buffer` from `offset` to its end at the file's current position; resolves to the bytes read. */
export function readInto(fd: number, buffer: Buffer, offset = 0): Promise<number> {
  return new Promise((resolve, reject) =>
    read(fd, buffer, offset, buffer.length - offset, null, (error, bytesRead) =>
      error ? reject(error) : resolve(bytesRead),
    ),
  );
}

/** Closes and forgets any error: the data was read or the failure is already on its way. */
export function closeQuietly(fd: number): Promise<void> {
  return new Promise((resolve) => close(fd, () => resolve()));
}
