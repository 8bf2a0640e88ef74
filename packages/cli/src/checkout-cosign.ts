import { accessSync, constants } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where scripts/setup unpacks the real cosign inside a checkout. */
const CHECKOUT_COSIGN = join('.tools', 'cosign', 'usr', 'bin', 'cosign');

/**
 * The cosign a checkout's scripts/setup installed (`<checkout>/.tools/cosign/usr/bin/cosign`), found from
 * where this CLI's code lies (packages/cli/dist/… in a checkout); undefined for an installed CLI.
 */
export function checkoutCosign(from: string = fileURLToPath(import.meta.url)): string | undefined {
  let dir = dirname(from);
  for (let depth = 0; depth < 6; depth++) {
    const candidate = join(dir, CHECKOUT_COSIGN);
    // A plain call: every run with the auto engine may ask, and a thread-pool round trip costs more than it.
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here: one level up
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

/**
 * The environment the engines look for cosign in: as given, plus COSIGN_PATH set to the checkout's own
 * cosign when neither COSIGN_PATH nor PATH names one. So `--engine cosign` works from a plain shell in a
 * checkout, and `auto` picks the same engine there as under scripts/env.sh.
 */
export async function withCheckoutCosign(env: NodeJS.ProcessEnv): Promise<NodeJS.ProcessEnv> {
  if (env.COSIGN_PATH) return env;
  const { findOnPath } = await import('@cosignkit/core');
  if (await findOnPath('cosign', env)) return env;
  const found = checkoutCosign();
  return found ? { ...env, COSIGN_PATH: found } : env;
}
