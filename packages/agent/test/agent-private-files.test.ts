import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentUntrusted } from '../src/agent-untrusted.js';
import { clientProof, newNonce, proofMatches, serverProof } from '../src/handshake.js';
import { ensurePrivateDir, privateDirProblem, readTokenFile } from '../src/private-files.js';
import { LineReader } from '../src/wire.js';

/** A private temp directory for one suite. */
function tempHome(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'cosignkit-agent-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

// The checks the agent's security rests on, one by one (the end-to-end attacks are in agent-planted.test.ts).
let home: ReturnType<typeof tempHome>;
beforeAll(() => {
  home = tempHome();
});
afterAll(() => home?.cleanup());

describe('agent private files', () => {
  it("privateDirProblem: missing, a link, a file, another user's, open to others; ours 0700 passes", () => {
    const ours = join(home.dir, 'ours');
    mkdirSync(ours, { mode: 0o700 });
    expect(privateDirProblem(ours)).toBeUndefined();
    expect(privateDirProblem(join(home.dir, 'none'))).toMatchObject({ missing: true });
    symlinkSync(ours, join(home.dir, 'link'));
    expect(privateDirProblem(join(home.dir, 'link'))?.message).toMatch(/is a symbolic link$/);
    writeFileSync(join(home.dir, 'file'), '');
    expect(privateDirProblem(join(home.dir, 'file'))?.message).toMatch(/is not a directory$/);
    const theirs = join(home.dir, 'theirs');
    mkdirSync(theirs, { mode: 0o700 });
    const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
    chownSync(theirs, nobody, -1);
    expect(privateDirProblem(theirs)?.message).toMatch(/belongs to another user/);
    const open = join(home.dir, 'open');
    mkdirSync(open);
    chmodSync(open, 0o750);
    expect(privateDirProblem(open)?.message).toMatch(/mode 750; it must be 700/);
  });

  it('ensurePrivateDir: creates 0700, never follows a link, refuses a parent others may rename in', () => {
    ensurePrivateDir(join(home.dir, 'made', 'agent'));
    expect(privateDirProblem(join(home.dir, 'made', 'agent'))).toBeUndefined();
    symlinkSync(join(home.dir, 'nowhere'), join(home.dir, 'dangling'));
    expect(() => ensurePrivateDir(join(home.dir, 'dangling'))).toThrow(
      expect.objectContaining({ code: 'AGENT_UNTRUSTED' }),
    );
    const shared = join(home.dir, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    expect(() => ensurePrivateDir(join(shared, 'agent'))).toThrow(/writable by other users and not sticky/);
    chmodSync(shared, 0o1777);
    expect(() => ensurePrivateDir(join(shared, 'agent'))).not.toThrow();
  });

  it('readTokenFile: a FIFO does not block, a long or malformed file is no token, a missing one is undefined', () => {
    const fifo = join(home.dir, 'fifo.token');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    expect(() => readTokenFile(fifo)).toThrow(/is not a regular file/);
    const long = join(home.dir, 'long.token');
    writeFileSync(long, 'a'.repeat(5000), { mode: 0o600 });
    expect(() => readTokenFile(long)).toThrow(/is not a token \(5000 bytes\)/);
    const bad = join(home.dir, 'bad.token');
    writeFileSync(bad, 'not hex\n', { mode: 0o600 });
    expect(() => readTokenFile(bad)).toThrow(/does not hold a token/);
    expect(readTokenFile(join(home.dir, 'none.token'))).toBeUndefined();
    const good = join(home.dir, 'good.token');
    writeFileSync(good, `${'0f'.repeat(32)}\n`, { mode: 0o600 });
    expect(readTokenFile(good)).toEqual(Buffer.alloc(32, 0x0f));
    expect(agentUntrusted('x')).toMatchObject({ code: 'AGENT_UNTRUSTED', [Symbol.for('cosignkit.error')]: true });
  });

  it("handshake: each proof needs the token and both nonces, and one role's proof is not the other's", () => {
    const token = Buffer.alloc(32, 1);
    const [c, s] = [newNonce(), newNonce()];
    const proof = serverProof(token, c, s);
    expect(proofMatches(proof, serverProof(token, c, s))).toBe(true);
    expect(proofMatches(proof, clientProof(token, c, s))).toBe(false);
    expect(proofMatches(proof, serverProof(Buffer.alloc(32, 2), c, s))).toBe(false);
    expect(proofMatches(proof, serverProof(token, newNonce(), s))).toBe(false);
    expect(proofMatches(proof, undefined)).toBe(false);
    expect(proofMatches(proof, proof.slice(1))).toBe(false);
    expect(proofMatches(proof, 'z'.repeat(64))).toBe(false);
  });

  it('LineReader: keeps what follows a newline, caps a line, returns the unterminated rest at the end', async () => {
    const stream = new PassThrough();
    const reader = new LineReader(stream);
    stream.write('one\ntwo\nthr');
    expect(await reader.next()).toBe('one');
    expect(await reader.next()).toBe('two');
    stream.end('ee');
    expect(await reader.next()).toBe('three');
    expect(await reader.next()).toBeUndefined();
    const flood = new PassThrough();
    const capped = new LineReader(flood);
    flood.write('x'.repeat(2000));
    await expect(capped.next(1024)).rejects.toThrow(/too large/);
  });
});
