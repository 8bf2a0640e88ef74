import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  KEY_BACKEND_SPEC_VERSION,
  type BackendContext,
  type KeyBackend,
  type SecretProvider,
  type SecretRequest,
} from '../contracts/key-backend.js';
import type { KeyManager } from '../contracts/key-manager.js';
import type { KeyOpener, OpenedKey } from '../contracts/key-opener.js';
import type { CosignkitConfig } from '../config.js';
import { CosignkitError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { parseKeyRef, type KeyRef } from './key-ref.js';

/** The packages that serve the built-in schemes. Loaded only when a reference with the scheme is used. */
export const BUILTIN_BACKEND_PACKAGES: Readonly<Record<string, string>> = {
  file: '@cosignkit/key-file',
  pkcs11: '@cosignkit/key-pkcs11',
  tpm: '@cosignkit/key-tpm',
  keyring: '@cosignkit/key-keyring',
};

export type ModuleImporter = (specifier: string) => Promise<unknown>;

export interface BackendRegistryOptions {
  config?: CosignkitConfig;
  secrets?: SecretProvider;
  logger?: Logger;
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Imports a backend package. The default resolves it from the working directory, then from core's own
   * location; an application that bundles its backends passes its own `(p) => import(p)`.
   */
  importer?: ModuleImporter;
}

export type { OpenedKey } from '../contracts/key-opener.js';

/** Without a provider of the caller's, secrets come from cosign's variables only (no prompt in a library). */
export function environmentSecrets(env: Readonly<Record<string, string | undefined>> = process.env): SecretProvider {
  return async (request) => {
    const value = request.kind === 'pin' ? env.COSIGN_PKCS11_PIN : env.COSIGN_PASSWORD;
    if (value !== undefined) return value;
    const variable = request.kind === 'pin' ? 'COSIGN_PKCS11_PIN' : 'COSIGN_PASSWORD';
    throw new CosignkitError('PASSWORD_REQUIRED', `no ${request.kind} for ${request.subject}: set ${variable}`);
  };
}

/** Finds the backend for a key reference, loading its package lazily, and keeps opened stores until close(). */
export class BackendRegistry implements KeyOpener {
  readonly #backends = new Map<string, KeyBackend>();
  readonly #loading = new Map<string, Promise<KeyBackend>>();
  readonly #stores = new Map<string, Promise<KeyManager>>();
  readonly #options: BackendRegistryOptions;

  constructor(options: BackendRegistryOptions = {}) {
    this.#options = options;
  }

  /** Registers a backend object directly (tests, applications that construct their own). */
  register(backend: KeyBackend): this {
    checkBackend(backend, backend?.name ?? 'backend');
    for (const scheme of backend.schemes) this.#backends.set(scheme, backend);
    return this;
  }

  async backendFor(scheme: string): Promise<KeyBackend> {
    const known = this.#backends.get(scheme);
    if (known) return known;
    let loading = this.#loading.get(scheme);
    if (!loading) {
      loading = this.#load(scheme);
      this.#loading.set(scheme, loading);
      loading.catch(() => this.#loading.delete(scheme));
    }
    return loading;
  }

  /** Opens the store a reference points into (cached per store) and names the key in it. */
  async open(reference: string | KeyRef): Promise<OpenedKey> {
    const ref = typeof reference === 'string' ? parseKeyRef(reference) : reference;
    const backend = await this.backendFor(ref.scheme);
    const keyId = backend.keyIdOf(ref);
    const storeKey = storeKeyOf(backend, ref);
    let store = this.#stores.get(storeKey);
    if (!store) {
      store = backend.open(ref, this.contextFor(backend.name));
      this.#stores.set(storeKey, store);
      store.catch(() => this.#stores.delete(storeKey));
    }
    return { backend, manager: await store, keyId, ref };
  }

  /** Asks the registry's secret provider (KeyOpener): what a backend it opens would be asked. */
  secret(request: SecretRequest): Promise<string> {
    return (this.#options.secrets ?? environmentSecrets(this.#options.env))(request);
  }

  contextFor(backendName: string): BackendContext {
    const entry = this.#options.config?.backends?.[backendName];
    const options = typeof entry === 'object' ? entry : {};
    return {
      options,
      secrets: this.#options.secrets ?? environmentSecrets(this.#options.env),
      logger: this.#options.logger ?? silentLogger,
      env: this.#options.env ?? process.env,
    };
  }

  async close(): Promise<void> {
    const stores = [...this.#stores.values()];
    this.#stores.clear();
    const results = await Promise.allSettled(stores.map(async (s) => (await s).close()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #load(scheme: string): Promise<KeyBackend> {
    const configured = this.#options.config?.backends?.[scheme];
    const pkg = typeof configured === 'string' ? configured : (configured?.package ?? BUILTIN_BACKEND_PACKAGES[scheme]);
    if (!pkg) {
      throw new CosignkitError(
        'BACKEND_NOT_INSTALLED',
        `no backend for key scheme "${scheme}:". Name its package in cosignkit.config.json: ` +
          `{"backends": {"${scheme}": "<package>"}}`,
      );
    }
    let mod: Record<string, unknown>;
    try {
      mod = (await (this.#options.importer ?? defaultImporter)(pkg)) as Record<string, unknown>;
    } catch (error) {
      if (isModuleNotFound(error, pkg)) {
        throw new CosignkitError(
          'BACKEND_NOT_INSTALLED',
          `key scheme "${scheme}:" needs the package ${pkg}: install it with "npm install ${pkg}"`,
          { cause: error },
        );
      }
      throw new CosignkitError('BACKEND_UNAVAILABLE', `cannot load ${pkg}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const backend = (mod.backend ??
      (mod.default as Record<string, unknown> | undefined)?.backend ??
      mod.default) as KeyBackend;
    checkBackend(backend, pkg);
    if (!backend.schemes.includes(scheme)) {
      throw new CosignkitError('BACKEND_INCOMPATIBLE', `${pkg} does not serve the scheme "${scheme}:"`);
    }
    this.register(backend);
    return backend;
  }
}

function checkBackend(backend: KeyBackend | undefined, source: string): asserts backend is KeyBackend {
  if (!backend || typeof backend !== 'object' || typeof backend.open !== 'function') {
    throw new CosignkitError('BACKEND_INCOMPATIBLE', `${source} does not export a KeyBackend named "backend"`);
  }
  if (backend.specVersion !== KEY_BACKEND_SPEC_VERSION) {
    throw new CosignkitError(
      'BACKEND_INCOMPATIBLE',
      `${source} implements KeyBackend spec version ${String(backend.specVersion)}; this core supports ${KEY_BACKEND_SPEC_VERSION}`,
    );
  }
}

/**
 * Which opened store a reference uses: two references with the same key share one KeyManager (one PKCS#11
 * login, one TPM context). The backend says when it can (`storeIdOf`); otherwise the rule below.
 */
export function storeKeyOf(backend: KeyBackend, ref: KeyRef): string {
  return `${ref.scheme}\0${backend.storeIdOf?.(ref) ?? storeIdentity(ref)}`;
}

function storeIdentity(ref: KeyRef): string {
  // Without the backend's own answer, a file reference is its own store: never share one across directories.
  if (ref.scheme === 'file') return ref.path;
  const query = Object.entries(ref.query).filter(([k]) => !['pin-value', 'pin-source'].includes(k));
  if (ref.scheme === 'pkcs11') {
    const token = ref.path.split(';').filter((a) => !/^(object|id|type)=/i.test(a));
    return JSON.stringify([token.sort(), query]);
  }
  return JSON.stringify(query);
}

/**
 * node:module when a backend package is first looked up: loading it is start-up time that a command using
 * the file backend (bundled in) or no key at all need not pay (issue 19).
 */
const createRequire = (base: string) => process.getBuiltinModule('node:module').createRequire(base);

const defaultImporter: ModuleImporter = async (specifier) => {
  for (const base of [join(process.cwd(), 'noop.js'), import.meta.url]) {
    let resolved: string | undefined;
    try {
      resolved = createRequire(base).resolve(specifier);
    } catch (error) {
      // An ESM-only package exports no `require` entry: find its `import` entry instead.
      if ((error as NodeJS.ErrnoException).code === 'ERR_PACKAGE_PATH_NOT_EXPORTED')
        resolved = importEntry(base, specifier);
      else if (!isModuleNotFound(error, specifier)) throw error;
    }
    if (resolved) return import(pathToFileURL(resolved).href);
  }
  return import(specifier);
};

/** The file a package's `exports` map serves to `import` (root entry only), looked up from `base`. */
function importEntry(base: string, specifier: string): string | undefined {
  const pick = (target: unknown): string | undefined => {
    if (typeof target === 'string') return target;
    if (!target || typeof target !== 'object') return undefined;
    const map = target as Record<string, unknown>;
    if ('.' in map) return pick(map['.']);
    for (const condition of ['import', 'node', 'default']) {
      if (condition in map) return pick(map[condition]);
    }
    return undefined;
  };
  for (const dir of createRequire(base).resolve.paths(specifier) ?? []) {
    const root = join(dir, specifier);
    try {
      const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports?: unknown };
      const entry = pick(manifest.exports);
      if (entry) return join(root, entry);
    } catch {
      // Not installed in this node_modules: try the next one.
    }
  }
  return undefined;
}

function isModuleNotFound(error: unknown, specifier: string): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return (
    (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') &&
    String((error as Error).message).includes(specifier)
  );
}
