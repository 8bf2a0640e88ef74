import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CosignkitError,
  findProjectConfig,
  loadConfig,
  mergeConfig,
  updateUserConfig,
  userConfigPath,
} from '../src/index.js';
import { tempDir } from './helpers/cosign-cli.js';

const { dir, cleanup } = tempDir();
afterAll(cleanup);

describe('mergeConfig', () => {
  it('lets the project win, merging backend options object by object', () => {
    const merged = mergeConfig(
      {
        defaultKey: 'user.key',
        backends: { pkcs11: { 'module-path': '/a.so', pin: 'file:/p' }, tpm: { tcti: 'swtpm' } },
      },
      { defaultKey: 'project.key', backends: { pkcs11: { 'module-path': '/b.so' } } },
    );
    expect(merged).toEqual({
      defaultKey: 'project.key',
      backends: { pkcs11: { 'module-path': '/b.so', pin: 'file:/p' }, tpm: { tcti: 'swtpm' } },
    });
  });

  it("keeps the user's default key when the project names none", () => {
    expect(mergeConfig({ defaultKey: 'user.key' }, { backends: {} }).defaultKey).toBe('user.key');
  });

  it('keeps the package name when one file names it and the other gives options', () => {
    expect(
      mergeConfig({ backends: { vault: 'cosignkit-key-vault' } }, { backends: { vault: { addr: 'https://v' } } })
        .backends,
    ).toEqual({ vault: { package: 'cosignkit-key-vault', addr: 'https://v' } });
    expect(
      mergeConfig({ backends: { vault: { addr: 'https://v' } } }, { backends: { vault: 'other-vault' } }).backends,
    ).toEqual({ vault: { package: 'other-vault', addr: 'https://v' } });
  });
});

describe('config files', () => {
  const env = { XDG_CONFIG_HOME: join(dir, 'xdg'), HOME: join(dir, 'home') };
  const project = join(dir, 'project', 'sub', 'dir');

  it('finds the user file under XDG_CONFIG_HOME, else ~/.config', () => {
    expect(userConfigPath(env)).toBe(join(dir, 'xdg', 'cosignkit', 'config.json'));
    expect(userConfigPath({ HOME: '/home/u' })).toBe('/home/u/.config/cosignkit/config.json');
  });

  it('writes the user file atomically, 0600, and merges it under the project file found upward', async () => {
    const path = await updateUserConfig(
      (c) => ({ ...c, defaultKey: 'user.key', backends: { tpm: { tcti: 'swtpm:port=1' } } }),
      env,
    );
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(path, 'utf8')).defaultKey).toBe('user.key');

    mkdirSync(project, { recursive: true });
    expect(await loadConfig({ cwd: project, env })).toMatchObject({ defaultKey: 'user.key' });
    writeFileSync(
      join(dir, 'project', 'cosignkit.config.json'),
      JSON.stringify({ defaultKey: 'project.key', backends: { tpm: { curve: 'p384' } } }),
    );
    expect(await findProjectConfig(project)).toBe(join(dir, 'project', 'cosignkit.config.json'));
    expect(await loadConfig({ cwd: project, env })).toEqual({
      defaultKey: 'project.key',
      backends: { tpm: { tcti: 'swtpm:port=1', curve: 'p384' } },
    });
  });

  it('refuses a config file that is not a JSON object', async () => {
    const bad = join(dir, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'cosignkit.config.json'), '[1, 2]');
    const error = await loadConfig({ cwd: bad, env }).catch((e: unknown) => e);
    expect(CosignkitError.isInstance(error) && error.code).toBe('USAGE');
  });
});

describe('loadConfig on hostile files', () => {
  const project = (name: string) => {
    const at = join(dir, name);
    mkdirSync(at, { recursive: true });
    return at;
  };
  const env = { XDG_CONFIG_HOME: join(dir, 'no-user-config') };

  it('refuses a config file over 1 MiB before reading it, in one line', async () => {
    const cwd = project('huge');
    writeFileSync(join(cwd, 'cosignkit.config.json'), `{"pad":"${'x'.repeat(1024 * 1024)}"}`);
    const error = await loadConfig({ cwd, env }).catch((e: unknown) => e);
    expect(CosignkitError.isInstance(error) && error.code).toBe('IO');
    expect((error as Error).message).toMatch(/larger than 1048576 bytes/);
    expect((error as Error).message).not.toContain('\n');
  });

  it('refuses a FIFO in place of the config file without waiting for a writer', async () => {
    const cwd = project('fifo');
    execFileSync('mkfifo', [join(cwd, 'cosignkit.config.json')]);
    const error = await loadConfig({ cwd, env }).catch((e: unknown) => e);
    expect(CosignkitError.isInstance(error) && error.code).toBe('IO');
    expect((error as Error).message).toMatch(/not a regular file/);
  });

  it('refuses a directory in place of the config file', async () => {
    const cwd = project('directory');
    mkdirSync(join(cwd, 'cosignkit.config.json'));
    const error = await loadConfig({ cwd, env }).catch((e: unknown) => e);
    expect(CosignkitError.isInstance(error) && error.code).toBe('IO');
  });
});
