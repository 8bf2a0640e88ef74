import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, cosignkit, expectFailure, tempHome } from './helpers.js';

// Issue 11, "Unbounded inputs": every file input is checked for kind and size on the open descriptor before
// it is read, so a sparse 3 GB file, a FIFO or /dev/zero ends at once with one line and its code.
let home: ReturnType<typeof tempHome>;
let dir: string;
const env = { COSIGN_PASSWORD: PASSWORD };

function sparse(name: string, size: string, head = ''): void {
  const fd = openSync(join(dir, name), 'w');
  writeFileSync(fd, head);
  closeSync(fd);
  execFileSync('truncate', ['-s', size, join(dir, name)]);
}

beforeAll(async () => {
  home = tempHome();
  dir = home.dir;
  writeFileSync(join(dir, 'artifact.txt'), 'the artifact\n');
  writeFileSync(join(dir, 'predicate.json'), '{"ok":true}');
  expect((await cosignkit(['generate-key-pair', '--output-key-prefix', 'k'], { cwd: dir, env })).code).toBe(0);
  const attested = await cosignkit(
    [
      'attest-blob',
      '--key',
      'k.key',
      '--predicate',
      'predicate.json',
      '--type',
      'custom',
      '--output-file',
      'env.json',
      'artifact.txt',
    ],
    { cwd: dir, env },
  );
  expect(attested.code, attested.stderr).toBe(0);
  sparse('huge.sigstore.json', '3G', '{"mediaType":');
  sparse('huge.sig', '1G');
  sparse('huge-envelope.json', '300M', '{"payloadType":');
  execFileSync('mkfifo', [join(dir, 'fifo')]);
  // An envelope naming 200,000 signatures: refused by count before any is decoded.
  const envelope = JSON.parse(readFileSync(join(dir, 'env.json'), 'utf8'));
  envelope.signatures = Array.from({ length: 200_000 }, () => envelope.signatures[0]);
  writeFileSync(join(dir, 'many.json'), JSON.stringify(envelope));
});
afterAll(() => home?.cleanup());

const verifyBlob = (...args: string[]) =>
  cosignkit(['--engine', 'native', 'verify-blob', '--key', 'k.pub', ...args, 'artifact.txt'], { cwd: dir });

describe('bounded inputs', () => {
  it('a 3 GB bundle and a 1 GB signature are refused from their size, at once', async () => {
    const started = Date.now();
    expectFailure(await verifyBlob('--bundle', 'huge.sigstore.json'), 3, 'BUNDLE_MALFORMED');
    expectFailure(await verifyBlob('--signature', 'huge.sig'), 3, 'SIGNATURE_MALFORMED');
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('a FIFO as a bundle, a signature or an envelope is NOT_A_FILE, never a hang', async () => {
    expectFailure(await verifyBlob('--bundle', 'fifo'), 1, 'NOT_A_FILE');
    expectFailure(await verifyBlob('--signature', 'fifo'), 1, 'NOT_A_FILE');
    expectFailure(
      await cosignkit(['verify-dsse', '--dsse', 'fifo', '--key-file', 'k.pub'], { cwd: dir }),
      1,
      'NOT_A_FILE',
    );
  });

  it('an envelope over the size limit or with 200,000 signatures is refused before it is processed', async () => {
    expectFailure(
      await cosignkit(['verify-dsse', '--dsse', 'huge-envelope.json', '--key-file', 'k.pub'], { cwd: dir }),
      3,
      'ENVELOPE_MALFORMED',
    );
    const started = Date.now();
    expectFailure(
      await cosignkit(['verify-dsse', '--dsse', 'many.json', '--key-file', 'k.pub'], { cwd: dir }),
      3,
      'ENVELOPE_MALFORMED',
    );
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('verify-log refuses /dev/zero and a FIFO, and reports one overlong line without holding it', async () => {
    expectFailure(await cosignkit(['verify-log', '--log', '/dev/zero'], { cwd: dir }), 1, 'NOT_A_FILE');
    expectFailure(await cosignkit(['verify-log', '--log', 'fifo'], { cwd: dir }), 1, 'NOT_A_FILE');
    const logged = await cosignkit(['log-dsse', '--dsse', 'env.json', '--log', 'att.log'], { cwd: dir });
    expect(logged.code, logged.stderr).toBe(0);
    writeFileSync(
      join(dir, 'long.log'),
      `${readFileSync(join(dir, 'att.log'), 'utf8')}${'x'.repeat(20 * 1024 * 1024)}\n`,
    );
    const started = Date.now();
    const run = await cosignkit(['verify-log', '--log', 'long.log'], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stdout + run.stderr).toMatch(/line 2/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
