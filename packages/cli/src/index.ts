export { main, parseGlobals, ENGINES } from './main.js';
export type { MainIo } from './main.js';
export type { Command, CommandContext, CommandResult } from './command.js';
export { COMMANDS } from './commands.js';
export { cliSecrets } from './secrets.js';
export type { CliSecretsOptions } from './secrets.js';
export { VERSION } from './version.js';
