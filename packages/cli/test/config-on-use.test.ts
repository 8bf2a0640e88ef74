import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, cosignkit, expectFailure, expectOk, tempHome } from './helpers.js';

// The config files (the user's and the project's cosignkit.config.json) are read before a command starts,
// except by the commands that only verify (Command.configOnUse): they read them when they first need them (a
// default key), so a `verify-blob --key` reads none (issue 19). A broken file still stops every signing
// command before it does anything, and a verifying command that needs the file.
const home = tempHome();
const dir = home.dir;
const env = { COSIGN_PASSWORD: PASSWORD };
const project = join(dir, 'project');

beforeAll(async () => {
  writeFileSync(join(dir, 'file.txt'), 'the config test\n');
  expectOk(await cosignkit(['generate-key-pair'], { cwd: dir, env }));
  const sign = ['sign-blob', '--engine', 'native', '--key', 'cosign.key', '--output-signature', 'file.sig', 'file.txt'];
  expectOk(await cosignkit(sign, { cwd: dir, env }));
  mkdirSync(project);
  writeFileSync(join(project, 'cosignkit.config.json'), '{ not json');
}, 60_000);
afterAll(() => home.cleanup());

describe('a broken project config file', () => {
  it('is not read by verify-blob with --key', async () => {
    const run = await cosignkit(
      ['verify-blob', '--engine', 'native', '--key', '../cosign.pub', '--signature', '../file.sig', '../file.txt'],
      { cwd: project, env },
    );
    expect(expectOk(run).stdout).toBe('Verified OK\n');
  });

  it('stops verify-blob without --key, which looks for a default key there', async () => {
    const run = await cosignkit(['verify-blob', '--engine', 'native', '--signature', '../file.sig', '../file.txt'], {
      cwd: project,
      env,
    });
    expectFailure(run, 1, 'USAGE');
    expect(run.stderr).toContain('cosignkit.config.json is not valid');
  });

  it('stops sign-blob before it writes anything, even with --key', async () => {
    const run = await cosignkit(
      ['sign-blob', '--engine', 'native', '--key', '../cosign.key', '--output-signature', 'out.sig', '../file.txt'],
      { cwd: project, env },
    );
    expectFailure(run, 1, 'USAGE');
  });
});
