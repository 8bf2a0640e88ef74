import type { BackendRegistry } from '@cosignkit/core';
import type { Logger as PinoLogger } from 'pino';
import { createSignerServer, type SignerServer } from './app.js';
import type { ServerConfig } from './config.js';
import { RegistryReleaseChecker } from './release/registry-release-checker.js';
import { coreLogger, createServerLogger } from './server-logger.js';

/** The server with everything its config names (the release checker included): what `cosignkit serve` runs. */
export async function createSignerFromConfig(
  config: ServerConfig,
  registry: BackendRegistry,
  logger?: PinoLogger,
): Promise<SignerServer> {
  const log = logger ?? createServerLogger(config.logLevel);
  const release = config.release.enabled
    ? await RegistryReleaseChecker.create(config.release, coreLogger(log))
    : undefined;
  return createSignerServer({ config, registry, logger: log, ...(release ? { release } : {}) });
}
