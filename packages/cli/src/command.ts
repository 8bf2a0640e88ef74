import type { BackendRegistry, CosignkitConfig, EngineName, KeyOpener, Logger } from '@cosignkit/core';

/** Everything a command needs; built once by main.ts. Commands never print and never exit. */
export interface CommandContext {
  /** The command's own arguments (after the command name; global flags already removed). */
  argv: string[];
  json: boolean;
  engine: EngineName | 'auto';
  /** False with --no-agent (the agent arrives with the plugin issue). */
  useAgent: boolean;
  config: CosignkitConfig;
  /** Loads backends (key generate, list, set-default) and holds their options. */
  registry: BackendRegistry;
  /** Opens keys: in the agent when one runs (and --no-agent is not given), else through `registry`. */
  keys: KeyOpener;
  logger: Logger;
  env: NodeJS.ProcessEnv;
  cwd: string;
  signal: AbortSignal;
  /**
   * Live output for batch commands only (JSON lines per item, a progress bar): one-shot commands still
   * return their result for main.ts to print.
   */
  io?: LiveIo;
}

export interface LiveIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Whether stderr is a terminal (a progress bar is drawn only there). */
  stderrIsTTY: boolean;
}

/** What a command returns; main.ts prints it (`--json`: `data` on stdout) and exits with `exitCode`. */
export interface CommandResult {
  /** 0 unless the command's outcome is itself a failure (e.g. 2: verification failed). */
  exitCode?: number;
  /** Lines for people, printed on stdout without --json. */
  text?: string;
  /** The machine-readable result, printed as JSON on stdout with --json. */
  data?: unknown;
  /** Diagnostics for people on stderr (e.g. "engine: native"), with or without --json. */
  notes?: string[];
  /** The command already wrote its stdout through `context.io` (batch JSON lines): print only the notes. */
  streamed?: boolean;
}

export interface Command {
  summary: string;
  /** The --help text (usage line, flags). */
  help: string;
  /**
   * More --help text, appended to `help`, from modules the command loads only when it needs them (a batch's
   * flags): its one-file runs then do not load them just to hold their help (issue 19).
   */
  moreHelp?: () => Promise<string>;
  /**
   * True for a command that needs no config, keys or core (`version`): main.ts then skips loading them,
   * and the context's `config` is empty and its `registry` and `keys` throw when used.
   */
  bare?: boolean;
  /**
   * True for a command that only verifies: it reads the config files when it first needs them (a default
   * key), not before it starts, so a `verify-blob --key` reads none (issue 19). Every other command reads
   * them first and stops at a broken one before it does anything.
   */
  configOnUse?: boolean;
  run(context: CommandContext): Promise<CommandResult>;
}
