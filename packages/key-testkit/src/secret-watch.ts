import { CosignkitError, type KeyManager, type Logger, type SecretProvider } from '@cosignkit/core';
import { ConformanceError } from './conformance-error.js';

// Shorter secrets (a SoftHSM "1234") turn up by chance in hex ids and labels: too many false alarms.
const MIN_SECRET_LENGTH = 6;
const MAX_RECORDS = 5_000;

/**
 * Remembers every password and PIN handed to the backend, and everything it said back in words (log lines,
 * error messages and details, KeyInfo ids, labels and refs), so a check can prove no secret leaked into
 * them. Never prints a secret itself.
 */
export class SecretWatch {
  readonly #secrets = new Set<string>();
  readonly #said: { where: string; text: string }[] = [];

  get secretsHandedOut(): number {
    return this.#secrets.size;
  }

  secrets(provider: SecretProvider): SecretProvider {
    return async (request) => {
      const value = await provider(request);
      if (typeof value === 'string' && value.length >= MIN_SECRET_LENGTH) this.#secrets.add(value);
      return value;
    };
  }

  logger(logger: Logger): Logger {
    const record = (level: string) => (message: string, fields?: Record<string, unknown>) => {
      this.record(`a ${level} log line`, `${message} ${safeJson(fields)}`);
      logger[level as keyof Logger](message, fields);
    };
    return { debug: record('debug'), info: record('info'), warn: record('warn') };
  }

  /** The manager, recording every error it throws and every KeyInfo it returns. */
  manager(manager: KeyManager): KeyManager {
    return new Proxy(manager, {
      get: (target, property) => {
        const value = Reflect.get(target, property, target) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const result = (value as (...a: unknown[]) => unknown).apply(target, args);
          if (!(result instanceof Promise)) return result;
          const method = `${String(property)}()`;
          return result.then(
            (resolved: unknown) => {
              this.#recordValue(method, resolved);
              return resolved;
            },
            (error: unknown) => {
              this.recordError(`an error from ${method}`, error);
              throw error;
            },
          );
        };
      },
    });
  }

  record(where: string, text: string): void {
    if (this.#said.length < MAX_RECORDS) this.#said.push({ where, text });
  }

  recordError(where: string, error: unknown): void {
    for (let e = error, depth = 0; e !== undefined && e !== null && depth < 8; depth++) {
      if (e instanceof Error) {
        this.record(where, e.message);
        if (CosignkitError.isInstance(e)) this.record(`${where} (details)`, safeJson(e.details));
        e = e.cause;
      } else {
        this.record(where, String(e));
        break;
      }
    }
  }

  #recordValue(method: string, value: unknown): void {
    const infos = Array.isArray(value) ? value : [value];
    for (const info of infos) {
      if (info === null || typeof info !== 'object' || !('id' in info)) continue;
      const { id, label, ref } = info as { id?: unknown; label?: unknown; ref?: unknown };
      this.record(`a KeyInfo from ${method}`, [id, label, ref].filter((x) => typeof x === 'string').join(' '));
    }
  }

  /** Replaces, in place, every secret handed out in an error (and its causes) the test runner will print. */
  redact(error: unknown): void {
    const scrub = (text: string): string => {
      let out = text;
      for (const secret of this.#secrets) out = out.split(secret).join('REDACTED');
      return out;
    };
    for (let e = error, depth = 0; e instanceof Error && depth < 8; depth++, e = e.cause) {
      try {
        e.message = scrub(e.message);
        if (e.stack) e.stack = scrub(e.stack);
      } catch {
        // A frozen error cannot be scrubbed; the hygiene check still reports the leak.
      }
    }
  }

  /** Throws, naming where but never what, if any recorded text holds a secret handed out. */
  assertClean(): void {
    for (const { where, text } of this.#said) {
      for (const secret of this.#secrets) {
        if (text.includes(secret))
          throw new ConformanceError(`${where} contains a password or PIN the backend was given`);
      }
    }
  }
}

function safeJson(value: unknown): string {
  if (value === undefined) return '';
  try {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? '';
  } catch {
    return String(value);
  }
}
