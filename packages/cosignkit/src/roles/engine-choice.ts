import { CosignkitError } from '@cosignkit/core';
import { silentLogger } from '@cosignkit/core';
import { CosignRunner } from '@cosignkit/core';
import { findOnPath, locateCosign } from '@cosignkit/core';
import type { RoleOptions } from './role-options.js';

/** The plugin stock cosign runs for `--key cosignkit://…`. */
export const COSIGNKIT_PLUGIN = 'sigstore-kms-cosignkit';

export type EngineSelection = { engine: 'native' } | { engine: 'cosign'; runner: CosignRunner };

/** Picks the engine for one operation; the cosign probe runs at most once per role object. */
export function engineChooser(options: RoleOptions): (needsPlugin: boolean) => Promise<EngineSelection> {
  const logger = options.logger ?? silentLogger;
  const env = options.env ?? process.env;
  let runner: Promise<CosignRunner> | undefined;
  const getRunner = (): Promise<CosignRunner> => {
    runner ??= CosignRunner.create({ cosignPath: options.cosignPath, env, logger, timeoutMs: options.cosignTimeoutMs });
    runner.catch(() => (runner = undefined));
    return runner;
  };

  return async (needsPlugin) => {
    const engine = options.engine ?? 'auto';
    if (engine === 'native') return { engine: 'native' };
    if (engine === 'cosign') {
      const found = await getRunner();
      if (needsPlugin && !(await findOnPath(COSIGNKIT_PLUGIN, env))) {
        throw new CosignkitError(
          'NOT_SUPPORTED',
          `cosign reaches this key only through the ${COSIGNKIT_PLUGIN} plugin, which is not on PATH`,
        );
      }
      return { engine: 'cosign', runner: found };
    }
    // The auto rule, one sentence (README): a key file goes through the real cosign when one is found
    // (cosignPath, COSIGN_PATH, else PATH), everything else runs native. A backend key never goes through
    // stock cosign and its plugin unless --engine cosign asks: that route depends on what is on PATH.
    if (needsPlugin) {
      logger.debug('engine auto: not a key file, using native');
      return { engine: 'native' };
    }
    if (!(await locateCosign({ cosignPath: options.cosignPath, env }))) {
      logger.debug('engine auto: no cosign found, using native');
      return { engine: 'native' };
    }
    try {
      return { engine: 'cosign', runner: await getRunner() };
    } catch (error) {
      if (
        CosignkitError.isInstance(error) &&
        (error.code === 'COSIGN_UNSUPPORTED' || error.code === 'COSIGN_NOT_FOUND')
      ) {
        logger.debug(`engine auto: ${error.message}; using native`);
        return { engine: 'native' };
      }
      throw error;
    }
  };
}
