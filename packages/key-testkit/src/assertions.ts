import { CosignkitError, type ErrorCode } from '@cosignkit/core';
import { ConformanceError } from './conformance-error.js';

export function ensure(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ConformanceError(message);
}

/** Runs `action` and demands it rejects with a CosignkitError carrying one of `codes`. */
export async function expectCode(
  what: string,
  codes: readonly ErrorCode[],
  action: () => Promise<unknown>,
): Promise<CosignkitError> {
  let result: unknown;
  try {
    result = await action();
  } catch (error) {
    if (!CosignkitError.isInstance(error)) {
      throw new ConformanceError(
        `${what}: expected a CosignkitError with code ${codes.join(' or ')}, got ${describe(error)}`,
        {
          cause: error,
        },
      );
    }
    if (!codes.includes(error.code)) {
      throw new ConformanceError(`${what}: expected code ${codes.join(' or ')}, got ${error.code} (${error.message})`, {
        cause: error,
      });
    }
    return error;
  }
  throw new ConformanceError(`${what}: expected code ${codes.join(' or ')}, but it succeeded (${summarize(result)})`);
}

/** Runs a backend call the contract says must succeed, naming it if it does not. */
export async function must<T>(what: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw new ConformanceError(`${what} failed: ${describe(error)}`, { cause: error });
  }
}

function describe(error: unknown): string {
  if (CosignkitError.isInstance(error)) return `CosignkitError ${error.code}: ${error.message}`;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

function summarize(value: unknown): string {
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (value === undefined) return 'undefined';
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
