import type { RoleOptions } from 'cosignkit';
import type { CommandContext } from './command.js';

/** What every role a command creates starts from: the engine, the keys, the logger, the environment, the configured keys. */
export function roleOptions(context: CommandContext): RoleOptions {
  return {
    engine: context.engine,
    keys: context.keys,
    logger: context.logger,
    env: context.env,
    defaultKey: context.config.defaultKey,
    fallbackKey: context.config.fallbackKey,
  };
}
