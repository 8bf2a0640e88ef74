import type { Command } from './command.js';

/**
 * The command table. Each command is imported only when it runs, so `cosignkit version` loads nothing else.
 * Names with a space are sub-commands (`key generate`).
 */
export const COMMANDS: Record<string, () => Promise<{ default: Command }>> = {
};
