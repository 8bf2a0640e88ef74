import {
  KEY_ALGORITHMS,
  KEY_BACKEND_SPEC_VERSION,
  parseKeyRef,
  type KeyAlgorithm,
  type KeyBackend,
} from '@cosignkit/core';
import { ensure } from '../assertions.js';

/** The static face of a backend: version, name, schemes, capabilities, functions. */
export function checkContractShape(backend: KeyBackend): void {
  ensure(backend !== null && typeof backend === 'object', 'the backend is not an object');
  ensure(
    backend.specVersion === KEY_BACKEND_SPEC_VERSION,
    `specVersion is ${String(backend.specVersion)}, expected ${KEY_BACKEND_SPEC_VERSION}`,
  );
  ensure(
    typeof backend.name === 'string' && /^[a-z][a-z0-9-]*$/.test(backend.name),
    `name ${JSON.stringify(backend.name)} is not a lower-case word`,
  );
  ensure(Array.isArray(backend.schemes) && backend.schemes.length > 0, 'schemes is empty');
  for (const scheme of backend.schemes) {
    // Two characters at least: parseKeyRef reads `C:` as a Windows drive, not a scheme.
    ensure(
      typeof scheme === 'string' && /^[a-z][a-z0-9+.-]+$/.test(scheme),
      `scheme ${JSON.stringify(scheme)} is not a valid lower-case URI scheme`,
    );
  }
  ensure(new Set(backend.schemes).size === backend.schemes.length, 'schemes lists a scheme twice');
  ensure(typeof backend.open === 'function', 'open is not a function');
  ensure(typeof backend.keyIdOf === 'function', 'keyIdOf is not a function');
  checkCapabilities(backend);
}

function checkCapabilities(backend: KeyBackend): void {
  const caps = backend.capabilities;
  ensure(caps !== null && typeof caps === 'object', 'capabilities is missing');
  for (const flag of ['generate', 'delete', 'extractable'] as const) {
    ensure(typeof caps[flag] === 'boolean', `capabilities.${flag} is not a boolean`);
  }
  ensure(Array.isArray(caps.algorithms) && caps.algorithms.length > 0, 'capabilities.algorithms is empty');
  for (const algorithm of caps.algorithms) {
    ensure(
      KEY_ALGORITHMS.includes(algorithm),
      `capabilities.algorithms has unknown algorithm ${JSON.stringify(algorithm)}`,
    );
  }
  ensure(new Set(caps.algorithms).size === caps.algorithms.length, 'capabilities.algorithms lists an algorithm twice');
}

/** What the caller asked the kit to exercise must be something the backend declares and serves. */
export function checkSelection(backend: KeyBackend, storeRef: string, algorithms: readonly KeyAlgorithm[]): void {
  const scheme = parseKeyRef(storeRef).scheme;
  ensure(
    backend.schemes.includes(scheme),
    `the store reference's scheme "${scheme}:" is not one of the backend's schemes (${backend.schemes.join(', ')})`,
  );
  ensure(algorithms.length > 0, 'no algorithm selected');
  for (const algorithm of algorithms) {
    ensure(
      backend.capabilities.algorithms.includes(algorithm),
      `algorithm ${algorithm} was selected but the backend does not declare it in capabilities.algorithms`,
    );
  }
}
