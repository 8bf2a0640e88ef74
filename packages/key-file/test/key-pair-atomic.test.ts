import { spawn } from 'node:child_process';
import { existsSync, linkSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileKeyManager } from '../src/file-key-manager.js';
import { recoverInterruptedPairs, writeKeyPair } from '../src/key-pair-writer.js';
import { rejectsWith, tempDir } from './helpers.js';

// Issue 11: a key pair is written so that both files exist or neither does, whatever point a SIGKILL hits,
// and when one of the two names already exists.
const WORKER = fileURLToPath(new URL('./pair-worker.mjs', import.meta.url));
let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

const names = () => readdirSync(dir).sort();
const stems = (ext: string) =>
  new Set(
    names()
      .filter((n) => n.endsWith(ext) && !n.startsWith('.'))
      .map((n) => n.slice(0, -ext.length)),
  );
const backdate = (name: string) => {
  const when = new Date(Date.now() - 2 * 60 * 60 * 1000);
  utimesSync(join(dir, name), when, when);
};

describe('key pairs: both or neither', () => {
  it('kill -9 at arbitrary points: never a .key without its .pub; what is left is recovered', async () => {
    for (let round = 0; round < 8; round++) {
      const child = spawn(process.execPath, [WORKER, dir], { stdio: 'ignore' });
      const exited = new Promise((resolve) => child.on('exit', resolve));
      // Once it is writing, kill it wherever it is (a different point each round).
      // The first round waits for a complete pair (the check below must have something to check, even on
      // a loaded machine); the others kill as soon as writing started, plus a delay that varies by round.
      // This worker's own temps or pairs carry its pid.
      const started = (n: string) => n.includes(`.${child.pid}.`) || n.startsWith(`k${child.pid}-`);
      const ready = round === 0 ? (n: string) => n.endsWith('.key') : started;
      const deadline = Date.now() + 30_000;
      while (!names().some(ready) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 2));
      }
      await new Promise((r) => setTimeout(r, 20 + round * 45));
      child.kill('SIGKILL');
      await exited;
      // A private key never exists without its public key (the .pub is linked first).
      for (const stem of stems('.key')) expect(existsSync(join(dir, `${stem}.pub`)), `${stem}.key alone`).toBe(true);
    }
    // The next run (once the dead writers' leftovers are old) removes orphaned .pub files and all temps.
    for (const name of names().filter((n) => n.startsWith('.'))) backdate(name);
    await recoverInterruptedPairs(dir);
    expect(names().filter((n) => n.startsWith('.'))).toEqual([]);
    expect(stems('.pub')).toEqual(stems('.key'));
    expect(stems('.key').size).toBeGreaterThan(0);
  }, 60_000);

  it('killed between the two links: the orphaned .pub (twin of a stale .pair journal) is removed, then the pair is written', async () => {
    // The exact state a SIGKILL between the links leaves: key temp and .pair journal written, .pub linked
    // from the journal, no .key yet; the writer's pid (999999999) is gone.
    writeFileSync(join(dir, '.cosign.key.999999999.0123456789ab.tmp'), 'KEY');
    writeFileSync(join(dir, '.cosign.pub.999999999.0123456789ab.pair'), 'OLD PUB');
    linkSync(join(dir, '.cosign.pub.999999999.0123456789ab.pair'), join(dir, 'cosign.pub'));
    for (const name of names()) backdate(name);
    const manager = new FileKeyManager(dir, { secrets: async () => 'pw' });
    const info = await manager.generateKeyPair();
    expect(names()).toEqual(['cosign.key', 'cosign.pub']);
    expect(readFileSync(join(dir, 'cosign.pub'), 'utf8')).toBe(info.publicKeyPem);
  });

  it("a .pub that is not a journal twin is never removed (another key, or the user's own file)", async () => {
    writeFileSync(join(dir, 'cosign.pub'), 'THEIRS');
    writeFileSync(join(dir, '.cosign.pub.999999999.0123456789ab.pair'), 'OTHER CONTENT');
    for (const name of names()) backdate(name);
    const manager = new FileKeyManager(dir, { secrets: async () => 'pw' });
    await rejectsWith(manager.generateKeyPair(), 'KEY_EXISTS');
    expect(names()).toEqual(['cosign.pub']);
    expect(readFileSync(join(dir, 'cosign.pub'), 'utf8')).toBe('THEIRS');
  });

  it('one of the two names exists: KEY_EXISTS, and the other file is not created', async () => {
    writeFileSync(join(dir, 'a.key'), 'MINE');
    await rejectsWith(writeKeyPair(join(dir, 'a.key'), 'KEY', join(dir, 'a.pub'), 'PUB'), 'KEY_EXISTS');
    expect(names()).toEqual(['a.key']);
    expect(readFileSync(join(dir, 'a.key'), 'utf8')).toBe('MINE');
    writeFileSync(join(dir, 'b.pub'), 'MINE');
    await rejectsWith(writeKeyPair(join(dir, 'b.key'), 'KEY', join(dir, 'b.pub'), 'PUB'), 'KEY_EXISTS');
    expect(names()).toEqual(['a.key', 'b.pub']);
    const manager = new FileKeyManager(dir, { secrets: async () => 'pw' });
    await rejectsWith(manager.generateKeyPair({ label: 'a' }), 'KEY_EXISTS');
    await rejectsWith(manager.generateKeyPair({ label: 'b' }), 'KEY_EXISTS');
    expect(names()).toEqual(['a.key', 'b.pub']);
  });
});
