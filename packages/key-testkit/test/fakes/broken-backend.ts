import type { KeyBackend, KeyManager } from '@cosignkit/core';

export interface Breakage {
  /** Replaces fields of the backend object (capabilities, specVersion, keyIdOf…). */
  backend?: Partial<Record<keyof KeyBackend, unknown>>;
  /** Replaces methods of every manager the backend opens; `real` is the healthy manager underneath. */
  manager?: (real: KeyManager) => Partial<Record<keyof KeyManager, unknown>> & Record<string, unknown>;
}

/**
 * A healthy fake with one deliberate fault, to prove a check can fail. The manager delegates every call it
 * does not replace to the healthy one.
 */
export function fakeBrokenBackend(healthy: KeyBackend, breakage: Breakage): KeyBackend {
  const broken = {
    specVersion: healthy.specVersion,
    name: healthy.name,
    schemes: healthy.schemes,
    capabilities: healthy.capabilities,
    keyIdOf: (ref) => healthy.keyIdOf(ref),
    async open(ref, context) {
      const real = await healthy.open(ref, context);
      const replaced = breakage.manager?.(real) ?? {};
      return new Proxy(real, {
        get(target, property, receiver) {
          if (Object.hasOwn(replaced, property)) return replaced[property as string];
          const value = Reflect.get(target, property, target) as unknown;
          void receiver;
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
    },
    ...breakage.backend,
  } as KeyBackend;
  return broken;
}
