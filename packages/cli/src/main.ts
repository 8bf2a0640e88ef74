// Core's errors entry alone: a usage error is reported before the rest of core is loaded.
import { CosignkitError } from '@cosignkit/core/errors';
import type { Command, CommandContext, CommandResult } from './command.js';
import { safeJson, safeLine, safeText } from './safe-output.js';
import { COMMANDS } from './commands.js';
import { VERSION } from './version.js';
import { parseGlobals } from './global-flags.js';
import { fdWriter, isTerminal } from './fd-output.js';

export { ENGINES, parseGlobals } from './global-flags.js';

/**
 * The whole CLI as a function: parses global flags, finds the command, runs it, prints its result, and
 * returns the exit code. Only the bin sets process.exitCode. Everything heavy (core, backends, engines) is
 * imported on demand so `cosignkit version` costs little more than starting Node.
 */
export interface MainIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Whether stderr is a terminal (batch progress bars); false when absent. */
  stderrIsTTY?: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

// Neither stream is built unless a command needs one (fd-output.ts), and only a batch's progress bar asks
// whether stderr is a terminal, when it draws.
let stderrTerminal: boolean | undefined;
const defaultIo: MainIo = {
  stdout: fdWriter(1, () => process.stdout),
  stderr: fdWriter(2, () => process.stderr),
  get stderrIsTTY() {
    stderrTerminal ??= isTerminal(2, () => process.stderr);
    return stderrTerminal;
  },
  env: process.env,
  cwd: process.cwd(),
};

export async function main(argv: readonly string[], io: MainIo = defaultIo): Promise<number> {
  let json = argv.includes('--json');
  const controller = new AbortController();
  const onInterrupt = () => controller.abort();
  process.once('SIGINT', onInterrupt);
  let close: (() => Promise<void>) | undefined;
  try {
    const globals = parseGlobals(argv);
    json = globals.json;
    // `cosignkit help [command…]` is `cosignkit [command…] --help`, as git and cosign spell it.
    if (globals.rest[0] === 'help' && !Object.hasOwn(COMMANDS, 'help')) {
      globals.rest.shift();
      globals.help = true;
    }
    const found = resolveCommand(globals.rest);
    if (!found) {
      if (globals.version && !globals.help) return print(io, json, versionResult());
      return print(io, json, { text: await generalHelp(), data: { commands: Object.keys(COMMANDS) } });
    }
    if ('group' in found) {
      if (globals.help) return print(io, json, { text: await groupHelp(found.group) });
      const what = found.next === undefined ? 'needs a sub-command' : `has no sub-command "${found.next}"`;
      throw new CosignkitError('USAGE', `"${found.group}" ${what} (see "cosignkit ${found.group} --help")`);
    }
    const command = await loadCommand(found.name);
    if (globals.help) {
      const help = command.moreHelp ? command.help + (await command.moreHelp()) : command.help;
      return print(io, json, { text: help, data: { command: found.name, help } });
    }
    const base = {
      argv: found.args,
      json,
      engine: globals.engine,
      useAgent: globals.useAgent,
      env: io.env,
      cwd: io.cwd,
      signal: controller.signal,
      io: {
        stdout: io.stdout,
        stderr: io.stderr,
        get stderrIsTTY() {
          return io.stderrIsTTY === true;
        },
      },
    };
    let context: CommandContext;
    if (command.bare) {
      context = {
        ...base,
        config: {},
        registry: unavailableRegistry(),
        keys: unavailableKeys(),
        logger: stderrLogger(io),
      };
    } else {
      const { buildContext } = await import('./context.js');
      const built = await buildContext({ ...base, logger: stderrLogger(io) }, command.configOnUse === true);
      context = built.context;
      close = built.close;
    }
    const result = await command.run(context);
    if (close) {
      const closing = close;
      close = undefined;
      await closing();
    }
    return print(io, json, result);
  } catch (error) {
    if (close) await close().catch(() => undefined);
    const { reportError } = await import('./report-error.js');
    return reportError(error, { json, io });
  } finally {
    process.removeListener('SIGINT', onInterrupt);
  }
}

function print(io: MainIo, json: boolean, result: CommandResult): number {
  // A note is one line (a file name with a newline in it stays on it); notes and text quote file names and
  // registries: escaped, so none can drive the terminal (safe-output.ts).
  for (const note of result.notes ?? []) io.stderr(`${safeLine(note)}\n`);
  if (result.streamed) {
    // stdout was written as the command ran (one JSON line per batch item).
  } else if (json) {
    io.stdout(`${safeJson(JSON.stringify(result.data ?? null, jsonReplacer, 2))}\n`);
  } else if (result.text !== undefined && result.text !== '') {
    const text = safeText(result.text);
    io.stdout(text.endsWith('\n') ? text : `${text}\n`);
  }
  return result.exitCode ?? 0;
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (typeof value === 'bigint') return value.toString();
  return value;
}

function versionResult(): CommandResult {
  return { text: `cosignkit ${VERSION}`, data: { version: VERSION } };
}

type Resolved = { name: string; args: string[] } | { group: string; next: string | undefined };

function resolveCommand(rest: string[]): Resolved | undefined {
  const first = rest[0];
  if (first === undefined) return undefined;
  if (first.startsWith('-'))
    throw new CosignkitError('USAGE', `unknown flag ${first.split('=')[0]} (see "cosignkit --help")`);
  const second = rest[1];
  if (second !== undefined && Object.hasOwn(COMMANDS, `${first} ${second}`)) {
    return { name: `${first} ${second}`, args: rest.slice(2) };
  }
  if (Object.hasOwn(COMMANDS, first)) return { name: first, args: rest.slice(1) };
  if (Object.keys(COMMANDS).some((name) => name.startsWith(`${first} `))) {
    return { group: first, next: second?.startsWith('-') ? undefined : second };
  }
  throw new CosignkitError('USAGE', `unknown command "${first}" (see "cosignkit --help")`);
}

async function loadCommand(name: string): Promise<Command> {
  return (await COMMANDS[name]!()).default;
}

async function commandLines(names: string[]): Promise<string> {
  const width = Math.max(...names.map((n) => n.length)) + 2;
  const lines = await Promise.all(
    names.map(async (name) => {
      let summary: string;
      try {
        summary = (await loadCommand(name)).summary;
      } catch (error) {
        summary = `(cannot load: ${(error as Error).message.split('\n')[0]})`;
      }
      return `  ${name.padEnd(width)}${summary}`;
    }),
  );
  return lines.join('\n');
}

async function generalHelp(): Promise<string> {
  const names = Object.keys(COMMANDS).sort();
  return `cosignkit ${VERSION}: sign and verify files the way cosign does, with the key wherever you keep it

Usage: cosignkit <command> [flags] [arguments]

Commands:
${await commandLines(names)}

Global flags (anywhere on the line):
  --json                          print the result as JSON on stdout (errors too: {"error":{code,message}})
  --engine auto|native|cosign     in-process (native) or through the cosign CLI; auto (the default):
                                  a key file through cosign when one is found, everything else native
  --no-agent                      do not use a running cosignkit agent
  -h, --help                      show help (for a command: cosignkit help <command>, or <command> --help)
  --version                       print the version

Flags follow cosign: --flag value, --flag=value, booleans as --yes or --tlog-upload=false.

Passwords: COSIGN_PASSWORD if set (even empty), else a prompt when stdin is a terminal, else all of
stdin as piped, less one trailing newline (\`echo s3cret |\` gives "s3cret"). PINs: COSIGN_PKCS11_PIN or a prompt.

Exit codes: 0 ok, 1 usage or other error, 2 verification failed, 3 malformed input (key, signature, bundle).
Errors are one line on stderr, "cosignkit: <message> [<CODE>]"; COSIGNKIT_DEBUG=1 adds the stack.`;
}

async function groupHelp(group: string): Promise<string> {
  const names = Object.keys(COMMANDS)
    .filter((n) => n.startsWith(`${group} `))
    .sort();
  return `Usage: cosignkit ${group} <sub-command> [flags]

Sub-commands:
${await commandLines(names)}

Run "cosignkit ${group} <sub-command> --help" for its flags.`;
}

function stderrLogger(io: MainIo): CommandContext['logger'] {
  const debug = io.env.COSIGNKIT_DEBUG === '1';
  const line = (level: string, message: string, fields?: Record<string, unknown>) =>
    io.stderr(`cosignkit: ${level}${message}${debug && fields ? ` ${JSON.stringify(fields)}` : ''}\n`);
  return {
    debug: (message, fields) => (debug ? line('debug: ', message, fields) : undefined),
    info: (message, fields) => (debug ? line('', message, fields) : undefined),
    warn: (message, fields) => line('warning: ', message, fields),
  };
}

function unavailableKeys(): CommandContext['keys'] {
  const refuse = (): never => {
    throw new Error('this command runs without keys');
  };
  return { open: refuse, secret: refuse };
}

function unavailableRegistry(): CommandContext['registry'] {
  return new Proxy({} as CommandContext['registry'], {
    get() {
      throw new Error('this command runs without the key registry');
    },
  });
}
