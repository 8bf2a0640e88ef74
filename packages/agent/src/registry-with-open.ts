import type { BackendRegistry } from '@cosignkit/core';

/** The registry with `open()` replaced; every other member is the real registry's, bound to it. */
export function registryWithOpen(registry: BackendRegistry, open: BackendRegistry['open']): BackendRegistry {
  return new Proxy(registry, {
    get(target, property) {
      if (property === 'open') return open;
      const value: unknown = Reflect.get(target, property, target);
      // Bound to the real registry: its private fields are not reachable through a proxy.
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
