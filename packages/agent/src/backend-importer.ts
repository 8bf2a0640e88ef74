import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ModuleImporter } from '@cosignkit/core';

/**
 * Backend packages resolve from this package first (its own dependencies: key-file, key-pkcs11, …), then from the
 * working directory, where a project installs a third-party backend named in its cosignkit.config.json.
 */
export function backendImporter(cwd: string): ModuleImporter {
  return async (specifier) => {
    try {
      return await import(specifier);
    } catch (error) {
      if (!isModuleNotFound(error, specifier)) throw error;
      // Throws MODULE_NOT_FOUND naming the specifier when the project lacks it too: the registry reports that.
      const resolved = createRequire(join(cwd, 'noop.js')).resolve(specifier);
      return import(pathToFileURL(resolved).href);
    }
  };
}

/** The package itself is missing (not one of its own imports, which is a broken install to report as is). */
function isModuleNotFound(error: unknown, specifier: string): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    String((error as Error).message).includes(`'${specifier}'`)
  );
}
