import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CosignkitError, fileError } from '@cosignkit/core';

/** How often the token file is refreshed from the stack's stack.json (the dev-stack renews it every 20 min). */
const REFRESH_MS = 60_000;

/** Keyless settings for `serve --dev` from a running `cosignkit dev-stack --dir STACK`. */
export interface DevStackLink {
  /** The `signing.keyless` config block (raw JSON). */
  keyless: Record<string, unknown>;
  /** For dev.json: what a verifier of the keyless bundles needs. */
  info: { identity: string; issuer: string; trustedRoot: string; signingConfig: string };
  /** Stops refreshing the token file. */
  stop(): void;
}

/**
 * Points `serve --dev` at a local Sigstore stack (`cosignkit dev-stack --dir STACK`, a mock CA and log on
 * loopback): its signing config, and its identity token copied from STACK/stack.json into DIR/sigstore-token
 * (0600) and refreshed every minute, so the service's token-file source sees the stack's renewed tokens.
 */
export async function linkDevStack(dir: string, stackDirArg: string): Promise<DevStackLink> {
  const stackDir = resolve(stackDirArg);
  const stackJson = join(stackDir, 'stack.json');
  const signingConfig = join(stackDir, 'signing_config.json');
  const trustedRoot = join(stackDir, 'trusted_root.json');
  for (const path of [stackJson, signingConfig, trustedRoot]) {
    try {
      if (!(await stat(path)).isFile()) throw new CosignkitError('USAGE', `--dev-stack: ${path} is not a regular file`);
    } catch (error) {
      if (CosignkitError.isInstance(error)) throw error;
      throw new CosignkitError(
        'USAGE',
        `--dev-stack: ${fileError(path, error).message} (start "cosignkit dev-stack --dir ${stackDir}" first)`,
      );
    }
  }
  const read = async () => {
    const info = JSON.parse(await readFile(stackJson, 'utf8')) as {
      token?: unknown;
      identity?: unknown;
      issuerUrl?: unknown;
    };
    if (typeof info.token !== 'string' || typeof info.identity !== 'string' || typeof info.issuerUrl !== 'string')
      throw new CosignkitError('USAGE', `--dev-stack: ${stackJson} is not a dev-stack stack.json`);
    return info as { token: string; identity: string; issuerUrl: string };
  };
  const tokenFile = join(resolve(dir), 'sigstore-token');
  let last = '';
  const copy = async () => {
    const { token } = await read();
    if (token === last) return;
    const temp = `${tokenFile}.${process.pid}.tmp`;
    await writeFile(temp, token, { mode: 0o600 });
    await rename(temp, tokenFile);
    last = token;
  };
  let first;
  try {
    first = await read();
  } catch (error) {
    if (CosignkitError.isInstance(error)) throw error;
    throw new CosignkitError('USAGE', `--dev-stack: ${stackJson} cannot be read as JSON`);
  }
  await copy();
  // A failed refresh keeps the previous token; the service says so when Fulcio refuses it.
  const timer = setInterval(() => void copy().catch(() => undefined), REFRESH_MS);
  timer.unref();
  return {
    keyless: { signingConfig, identityToken: { file: tokenFile } },
    info: { identity: first.identity, issuer: first.issuerUrl, trustedRoot, signingConfig },
    stop: () => clearInterval(timer),
  };
}
