import { stat, type Stats } from 'node:fs';

/**
 * stat(2) on node:fs's callback API: node:fs/promises loads readline, the streams and forty-odd modules with
 * it, milliseconds of every one-shot `sign-blob`, which only stats its key file on the way to reading it.
 */
export function statPath(path: string): Promise<Stats> {
  return new Promise((resolve, reject) => stat(path, (error, info) => (error ? reject(error) : resolve(info))));
}
