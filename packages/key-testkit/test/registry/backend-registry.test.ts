import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BackendRegistry, CosignkitError, environmentSecrets, type KeyBackend } from '@cosignkit/core';
import { tmpdir } from 'node:os';
import { fakeMemoryBackend } from '../../src/index.js';

// core's registry, tested here beside the kit's reference backend (core cannot depend on the kit).
const dir = mkdtempSync(join(tmpdir(), 'cosignkit-registry-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function caught(promise: Promise<unknown>): Promise<CosignkitError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(CosignkitError.isInstance(error), `expected a CosignkitError, got ${String(error)}`).toBe(true);
  return error as CosignkitError;
}

function notFound(specifier: string): Error {
  return Object.assign(new Error(`Cannot find package '${specifier}' imported from /x`), {
    code: 'ERR_MODULE_NOT_FOUND',
  });
}

/** The memory backend under another scheme, with the registry's default store rule (no storeIdOf). */
function asScheme(scheme: string, backend = fakeMemoryBackend()): KeyBackend {
  const { storeIdOf: _, ...rest } = backend;
  return { ...rest, name: scheme, schemes: [scheme] };
}

describe('BackendRegistry', () => {
  it('loads a backend package only when its scheme is first used, once', async () => {
    const loads: string[] = [];
    const registry = new BackendRegistry({
      importer: async (specifier) => {
        loads.push(specifier);
        return { backend: asScheme('tpm') };
      },
    });
    expect(loads).toEqual([]);
    await Promise.all([registry.backendFor('tpm'), registry.backendFor('tpm')]);
    await registry.open('tpm:release');
    expect(loads).toEqual(['@cosignkit/key-tpm']);
  });

  it('accepts a default export too, and a third-party package named in the config', async () => {
    const loads: string[] = [];
    const registry = new BackendRegistry({
      config: { backends: { vault: { package: 'cosignkit-key-vault', addr: 'https://v' } } },
      importer: async (specifier) => {
        loads.push(specifier);
        return { default: asScheme('vault') };
      },
    });
    expect((await registry.backendFor('vault')).name).toBe('vault');
    expect(loads).toEqual(['cosignkit-key-vault']);
    expect(registry.contextFor('vault').options).toMatchObject({ addr: 'https://v' });
  });

  it('says which package to install when a backend is missing', async () => {
    const registry = new BackendRegistry({ importer: async (s) => Promise.reject(notFound(s)) });
    const error = await caught(registry.open('pkcs11:token=a;object=b'));
    expect(error.code).toBe('BACKEND_NOT_INSTALLED');
    expect(error.message).toBe(
      'key scheme "pkcs11:" needs the package @cosignkit/key-pkcs11: install it with "npm install @cosignkit/key-pkcs11"',
    );

    const unknown = await caught(new BackendRegistry().open('vault:release'));
    expect(unknown.code).toBe('BACKEND_NOT_INSTALLED');
    expect(unknown.message).toMatch(/no backend for key scheme "vault:".*"backends": \{"vault": "<package>"\}/);

    // With the default importer, resolving for real.
    const real = await caught(
      new BackendRegistry({ config: { backends: { vault: 'cosignkit-key-vault-not-installed' } } }).open('vault:k'),
    );
    expect(real.code).toBe('BACKEND_NOT_INSTALLED');
    expect(real.message).toContain('npm install cosignkit-key-vault-not-installed');
  });

  it('reports a package that fails to load for another reason as BACKEND_UNAVAILABLE', async () => {
    const registry = new BackendRegistry({ importer: async () => Promise.reject(notFound('graphene-pk11')) });
    expect((await caught(registry.open('pkcs11:token=a'))).code).toBe('BACKEND_UNAVAILABLE');
  });

  it('refuses an unknown specVersion, a non-backend and a backend for other schemes', async () => {
    const future = { ...asScheme('tpm'), specVersion: 2 } as unknown as KeyBackend;
    const spec = await caught(new BackendRegistry({ importer: async () => ({ backend: future }) }).open('tpm:k'));
    expect(spec.code).toBe('BACKEND_INCOMPATIBLE');
    expect(spec.message).toMatch(/spec version 2; this core supports 1/);
    expect(() => new BackendRegistry().register(future)).toThrow(/spec version 2/);
    expect((await caught(new BackendRegistry({ importer: async () => ({ something: 1 }) }).open('tpm:k'))).code).toBe(
      'BACKEND_INCOMPATIBLE',
    );
    expect(
      (await caught(new BackendRegistry({ importer: async () => ({ backend: asScheme('keyring') }) }).open('tpm:k')))
        .code,
    ).toBe('BACKEND_INCOMPATIBLE');
  });

  it('opens one store per token and closes it once', async () => {
    let opened = 0;
    let closed = 0;
    const base = asScheme('pkcs11');
    const backend: KeyBackend = {
      ...base,
      keyIdOf: (ref) => /object=([^;]*)/.exec(ref.path)?.[1] ?? '',
      async open(ref, ctx) {
        opened++;
        const manager = await base.open(ref, ctx);
        return { ...manager, close: async () => void closed++ };
      },
    };
    const registry = new BackendRegistry().register(backend);
    const a = await registry.open('pkcs11:token=ci;object=a?pin-value=1');
    const b = await registry.open('pkcs11:object=b;token=ci?pin-value=2');
    await registry.open('pkcs11:token=other;object=a');
    expect(a.keyId).toBe('a');
    expect(b.keyId).toBe('b');
    expect(a.manager).toBe(b.manager);
    expect(opened).toBe(2);
    await registry.close();
    expect(closed).toBe(2);
  });

  it('keeps references into different stores apart when the backend names its store in the path (storeIdOf)', async () => {
    const registry = new BackendRegistry().register(fakeMemoryBackend());
    const a = await registry.open('memory:vault-a/x');
    const b = await registry.open('memory:vault-b/y');
    const again = await registry.open('memory:vault-a/z');
    expect(a.manager).not.toBe(b.manager);
    expect(again.manager).toBe(a.manager);
    await registry.close();
  });

  it('loads an ESM-only third-party backend from the working directory', async () => {
    const pkg = join(dir, 'app', 'node_modules', 'esm-only-backend');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(
      join(pkg, 'package.json'),
      JSON.stringify({ name: 'esm-only-backend', type: 'module', exports: { '.': { import: './index.js' } } }),
    );
    writeFileSync(
      join(pkg, 'index.js'),
      `export const backend = { specVersion: 1, name: 'esm', schemes: ['esm'],
      capabilities: { generate: false, delete: false, algorithms: [], extractable: false },
      async open() { return { close: async () => {} }; }, keyIdOf: (ref) => ref.path };\n`,
    );
    const cwd = process.cwd();
    process.chdir(join(dir, 'app'));
    try {
      const registry = new BackendRegistry({ config: { backends: { esm: 'esm-only-backend' } } });
      expect((await registry.backendFor('esm')).name).toBe('esm');
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('environmentSecrets', () => {
  it('reads COSIGN_PASSWORD (even empty) and COSIGN_PKCS11_PIN, and says which variable is missing', async () => {
    const secrets = environmentSecrets({ COSIGN_PASSWORD: '', COSIGN_PKCS11_PIN: '1234' });
    expect(await secrets({ kind: 'password', purpose: 'unlock', subject: 'k' })).toBe('');
    expect(await secrets({ kind: 'pin', purpose: 'unlock', subject: 'k' })).toBe('1234');
    const error = await caught(environmentSecrets({})({ kind: 'password', purpose: 'unlock', subject: 'cosign.key' }));
    expect(error.code).toBe('PASSWORD_REQUIRED');
    expect(error.message).toContain('COSIGN_PASSWORD');
  });
});
