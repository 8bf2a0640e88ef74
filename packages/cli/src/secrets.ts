import { fstatSync, openSync } from 'node:fs';
import type { ReadStream, WriteStream } from 'node:tty';
import { CosignkitError, type SecretProvider, type SecretRequest } from '@cosignkit/core';

export interface CliSecretsOptions {
  env: Readonly<Record<string, string | undefined>>;
  /** Whether standard input is a terminal (then we prompt on /dev/tty). */
  stdinIsTty?: boolean;
  /** Reads all of standard input; undefined when there is no usable stdin. */
  readStdin?: () => Promise<string | undefined>;
  /** Asks on the terminal without echo; undefined when no terminal can be opened. */
  prompt?: (question: string) => Promise<string | undefined>;
}

/**
 * The CLI's secret source, in cosign's order. Password: COSIGN_PASSWORD when set (even empty), else a
 * prompt on the terminal when stdin is one (twice, compared, to create a key), else all of stdin less ONE
 * trailing newline (`echo s3cret |` is how people pipe "s3cret"; cosign would keep the newline, so a password
 * that truly ends in one is piped with two), else PASSWORD_REQUIRED.
 * PIN: COSIGN_PKCS11_PIN, else a terminal prompt, else PASSWORD_REQUIRED. Secrets are never echoed or logged.
 */
export function cliSecrets(options: CliSecretsOptions): SecretProvider {
  // Asked when a secret is, not before: process.stdin is built on first use, and a command that needs no
  // secret (verify-blob, or COSIGN_PASSWORD set) should not pay for it.
  const stdinIsTty = () => options.stdinIsTty ?? Boolean(process.stdin.isTTY);
  const readStdin = once(options.readStdin ?? readAllStdin);
  const prompt = options.prompt ?? promptOnTerminal;
  return async (request: SecretRequest) => {
    const variable = request.kind === 'pin' ? 'COSIGN_PKCS11_PIN' : 'COSIGN_PASSWORD';
    const fromEnv = options.env[variable];
    if (fromEnv !== undefined) return fromEnv;
    const what = request.kind === 'pin' ? 'PIN' : 'password';
    if (stdinIsTty()) {
      const first = await prompt(`Enter ${what} for ${request.subject}: `);
      if (first !== undefined) {
        if (request.purpose !== 'create') return first;
        const second = await prompt(`Enter ${what} for ${request.subject} again: `);
        if (second !== first) throw new CosignkitError('USAGE', `the two ${what}s do not match`);
        return first;
      }
    } else if (request.kind === 'password') {
      const piped = await readStdin();
      if (piped !== undefined) return stripOneNewline(piped);
    }
    throw new CosignkitError(
      'PASSWORD_REQUIRED',
      `no ${what} for ${request.subject}: set ${variable}` +
        (request.kind === 'password' ? ', pipe it on stdin,' : '') +
        ' or run in a terminal',
    );
  };
}

/** `pw\n` → `pw`, `pw\r\n` → `pw`, `pw\n\n` → `pw\n`: only the line end `echo` adds. */
export function stripOneNewline(text: string): string {
  if (text.endsWith('\r\n')) return text.slice(0, -2);
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let result: Promise<T> | undefined;
  return () => (result ??= fn());
}

/** A password or PIN piped on stdin is never this long; more is refused unread. */
const MAX_STDIN_SECRET_BYTES = 64 * 1024;

/** All of stdin, or undefined when stdin is closed or a character device that is not a pipe (/dev/null). */
async function readAllStdin(): Promise<string | undefined> {
  let stat;
  try {
    stat = fstatSync(0);
  } catch {
    return undefined;
  }
  // /dev/null (what a process started with stdin "ignore" gets) means "no stdin", not an empty password.
  if (stat.isCharacterDevice()) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    // Checked while reading: an endless pipe (`yes |`) must not fill memory before it is refused.
    if (size > MAX_STDIN_SECRET_BYTES) {
      process.stdin.destroy();
      throw new CosignkitError(
        'USAGE',
        `standard input holds more than ${MAX_STDIN_SECRET_BYTES} bytes: not a password`,
      );
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads one line from /dev/tty in raw mode (no echo); undefined when there is no terminal. */
async function promptOnTerminal(question: string): Promise<string | undefined> {
  const terminal = await openTerminal();
  if (!terminal) return undefined;
  const { input, output } = terminal;
  try {
    // Raw mode (no echo) before the prompt shows: whatever is typed after seeing it must not echo.
    input.setRawMode(true);
    output.write(question);
    return await new Promise<string>((resolve, reject) => {
      let typed = '';
      input.on('data', (data: Buffer) => {
        for (const char of data.toString('utf8')) {
          if (char === '\r' || char === '\n' || char === '\u0004') {
            resolve(typed);
            return;
          }
          if (char === '\u0003') {
            reject(new CosignkitError('ABORTED', 'interrupted'));
            return;
          }
          if (char === '\u007f' || char === '\b') typed = typed.slice(0, -1);
          else typed += char;
        }
      });
      input.on('error', reject);
    });
  } finally {
    input.setRawMode(false);
    output.write('\n');
    input.destroy();
    output.destroy();
  }
}

/** Asks a yes/no question on the terminal; undefined when there is none. */
export async function confirmOnTerminal(question: string): Promise<boolean | undefined> {
  const terminal = await openTerminal();
  if (!terminal) return undefined;
  const { input, output } = terminal;
  try {
    output.write(question);
    const line = await new Promise<string>((resolve, reject) => {
      let typed = '';
      input.on('data', (data: Buffer) => {
        typed += data.toString('utf8');
        const end = typed.indexOf('\n');
        if (end >= 0) resolve(typed.slice(0, end));
      });
      input.on('end', () => resolve(typed));
      input.on('error', reject);
    });
    return /^\s*y(es)?\s*$/i.test(line);
  } finally {
    input.destroy();
    output.destroy();
  }
}

/**
 * Two streams on /dev/tty, each owning its own descriptor (destroying a stream closes it). node:tty is
 * imported here, on first use: it is not cheap, and most runs never prompt.
 */
async function openTerminal(): Promise<{ input: ReadStream; output: WriteStream } | undefined> {
  const tty = await import('node:tty');
  try {
    const input = new tty.ReadStream(openSync('/dev/tty', 'r'));
    const output = new tty.WriteStream(openSync('/dev/tty', 'w'));
    return { input, output };
  } catch {
    return undefined;
  }
}
