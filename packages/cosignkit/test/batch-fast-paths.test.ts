import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, scrypt, sign, verify } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CosignkitError, fingerprintOf, spkiDer, targetOfTemp } from '@cosignkit/core';
import { nativeVerifyBlob } from 'cosignkit';
import { tempDir } from '../../core/test/helpers/cosign-cli.js';
import { commitSmallOutputs } from '../src/batch/commit-small-outputs.js';
import { keyBundleWriter } from '../src/batch/key-bundle-writer.js';
import { createTempNamer } from '../src/batch/temp-names.js';
import { createQuickBundleVerifier } from '../src/batch/quick-verify-bundle.js';
import { readSmallFileSync, readSmallRegularFileSync, smallFileScratch } from '../src/batch/read-small-file.js';
import { keyBundleJson } from '../src/engines/native/bundle-json.js';

const { dir, cleanup } = tempDir();
afterAll(cleanup);

async function codeOfAsync(call: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await call();
  } catch (error) {
    return CosignkitError.isInstance(error) ? error.code : `not a CosignkitError: ${String(error)}`;
  }
  return undefined;
}

function codeOf(call: () => unknown): string | undefined {
  try {
    call();
  } catch (error) {
    return CosignkitError.isInstance(error) ? error.code : `not a CosignkitError: ${String(error)}`;
  }
  return undefined;
}

describe('readSmallFileSync', () => {
  it('reads a file whole, into the scratch buffer when given, and hands back a larger one', () => {
    const file = join(dir, 'small.bin');
    writeFileSync(file, 'hello batch');
    expect(readSmallFileSync(file)?.toString()).toBe('hello batch');
    const scratch = smallFileScratch(64);
    const view = readSmallFileSync(file, 64, scratch)!;
    expect(view.toString()).toBe('hello batch');
    expect(view.buffer).toBe(scratch.buffer);
    expect(readSmallFileSync(file, 5)).toBeUndefined();
    writeFileSync(join(dir, 'empty.bin'), '');
    expect(readSmallFileSync(join(dir, 'empty.bin'))?.length).toBe(0);
  });

  it('refuses a directory, a FIFO (without blocking) and a missing file with their codes', () => {
    mkdirSync(join(dir, 'a-dir'));
    expect(codeOf(() => readSmallFileSync(join(dir, 'a-dir')))).toBe('NOT_A_FILE');
    execFileSync('mkfifo', [join(dir, 'a-fifo')]);
    expect(codeOf(() => readSmallFileSync(join(dir, 'a-fifo')))).toBe('NOT_A_FILE');
    expect(codeOf(() => readSmallFileSync(join(dir, 'missing')))).toBe('FILE_NOT_FOUND');
  });
});

describe('commitSmallOutputs', () => {
  const tempFor = createTempNamer();
  it('writes every output whole (replacing an old one) and leaves no temp', async () => {
    const out = join(dir, 'out1');
    mkdirSync(out);
    writeFileSync(join(out, 'a.sig'), 'old');
    await commitSmallOutputs(
      [
        { path: join(out, 'a.sig'), data: 'new signature' },
        { path: join(out, 'a.sigstore.json'), data: '{"x":1}' },
      ],
      tempFor,
    );
    expect(readFileSync(join(out, 'a.sig'), 'utf8')).toBe('new signature');
    expect(readFileSync(join(out, 'a.sigstore.json'), 'utf8')).toBe('{"x":1}');
    expect(readdirSync(out).sort()).toEqual(['a.sig', 'a.sigstore.json']);
  });

  it('renames nothing when one target is unusable, and removes its temps', async () => {
    const out = join(dir, 'out2');
    mkdirSync(join(out, 'b.sigstore.json'), { recursive: true });
    expect(
      await codeOfAsync(() =>
        commitSmallOutputs(
          [
            { path: join(out, 'b.sig'), data: 'sig' },
            { path: join(out, 'b.sigstore.json'), data: '{}' },
          ],
          tempFor,
        ),
      ),
    ).toBe('NOT_A_FILE');
    expect(readdirSync(out)).toEqual(['b.sigstore.json']);
    // One output onto a directory: the rename itself refuses it.
    expect(
      await codeOfAsync(() => commitSmallOutputs([{ path: join(out, 'b.sigstore.json'), data: '{}' }], tempFor)),
    ).toBe('NOT_A_FILE');
    expect(readdirSync(out)).toEqual(['b.sigstore.json']);
    // A missing directory is FILE_NOT_FOUND naming the output, never the temp.
    const missing = join(out, 'no-such-dir', 'c.sigstore.json');
    expect(await codeOfAsync(() => commitSmallOutputs([{ path: missing, data: '{}' }], tempFor))).toBe(
      'FILE_NOT_FOUND',
    );
  });

  it("names temps in core's pattern (stale-temp cleanup finds them), each one different", () => {
    const names = Array.from({ length: 1000 }, () => tempFor(join(dir, 'x', 'f.bin.sigstore.json')));
    expect(new Set(names).size).toBe(1000);
    for (const name of names.slice(0, 10)) {
      expect(name.startsWith(join(dir, 'x', '.f.bin.sigstore.json.'))).toBe(true);
      expect(targetOfTemp(name)).toBe('f.bin.sigstore.json');
    }
  });
});

describe('keyBundleWriter', () => {
  it('writes exactly the bytes keyBundleJson writes', () => {
    for (let i = 0; i < 50; i++) {
      const keyHint = createHash('sha256').update(`key ${i}`).digest();
      const digest = createHash('sha256').update(`file ${i}`).digest();
      const signature = createHash('sha512')
        .update(`sig ${i}`)
        .digest()
        .subarray(0, 64 + (i % 8));
      const write = keyBundleWriter(keyHint);
      // A view into a larger buffer, as the batch's digests may be.
      const view = Buffer.concat([Buffer.from('xx'), digest]).subarray(2);
      expect(write(view, Buffer.from(signature).toString('base64'))).toBe(
        keyBundleJson({ keyHint, digestAlgorithm: 'sha256', digest, signature }),
      );
    }
  });
});

describe('the quick bundle verifier', () => {
  it("can hand node:crypto's asynchronous verify a view of its scratch buffer: the job copies it at the call", async () => {
    // Every pool thread is kept busy first, so the verify job cannot start before the buffer is overwritten:
    // if node:crypto read the caller's bytes when the job runs rather than copying them at the call, the
    // verdict would be over the zeroed bytes, which do not verify (the control below).
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const message = Buffer.from('the bytes that were hashed and compared');
    const signature = sign('sha256', message, privateKey);
    const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
    const busy = Array.from(
      { length: threads },
      () => new Promise((done) => scrypt('x', 'salt', 32, { N: 2 ** 14, r: 8, p: 1 }, done)),
    );
    const verdict = new Promise<boolean>((resolve) =>
      verify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, signature, (error, ok) =>
        resolve(!error && ok),
      ),
    );
    message.fill(0);
    expect(await verdict).toBe(true);
    expect(verify('sha256', message, publicKey, signature)).toBe(false);
    await Promise.all(busy);
  });

  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const quick = createQuickBundleVerifier(publicKey, fingerprintOf(publicKey));
  const file = join(dir, 'artifact.bin');
  const content = Buffer.from('an artifact of a release');
  writeFileSync(file, content);
  const digest = createHash('sha256').update(content).digest();
  const signature = sign('sha256', content, { key: privateKey, dsaEncoding: 'der' });
  const keyHint = createHash('sha256').update(spkiDer(publicKey)).digest();
  const good = JSON.parse(keyBundleJson({ keyHint, digestAlgorithm: 'sha256', digest, signature }));
  const bundleWith = (name: string, value: unknown): string => {
    const path = join(dir, `${name}.sigstore.json`);
    writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
    return path;
  };

  it('answers a plain key bundle that verifies exactly as the full verifier does', async () => {
    const path = bundleWith('good', good);
    const fast = await quick(file, path);
    const full = await nativeVerifyBlob(file, { publicKey, bundle: path });
    expect(fast).toEqual(full);
    expect(fast?.verified).toBe(true);
  });

  const other = (): Record<string, unknown> => structuredClone(good);
  const cases: [string, () => unknown][] = [
    ['an extra top-level field', () => ({ ...other(), extra: 1 })],
    [
      'an empty tlogEntries',
      () => {
        const b = other() as { verificationMaterial: Record<string, unknown> };
        b.verificationMaterial.tlogEntries = [];
        return b;
      },
    ],
    ['a v0.1 media type', () => ({ ...other(), mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1' })],
    ['an unknown media type', () => ({ ...other(), mediaType: 'application/vnd.dev.sigstore.bundle.v0.9+json' })],
    [
      'another digest',
      () => {
        const b = other() as { messageSignature: { messageDigest: { digest: string } } };
        b.messageSignature.messageDigest.digest = Buffer.alloc(32, 1).toString('base64');
        return b;
      },
    ],
    [
      'a SHA-384 digest name',
      () => {
        const b = other() as { messageSignature: { messageDigest: { algorithm: string } } };
        b.messageSignature.messageDigest.algorithm = 'SHA2_384';
        return b;
      },
    ],
    [
      'a signature over something else',
      () => {
        const b = other() as { messageSignature: { signature: string } };
        b.messageSignature.signature = sign('sha256', Buffer.from('x'), privateKey).toString('base64');
        return b;
      },
    ],
    [
      'a signature that is not base64',
      () => {
        const b = other() as { messageSignature: { signature: string } };
        b.messageSignature.signature = `${b.messageSignature.signature.slice(0, -4)}!!!!`;
        return b;
      },
    ],
    ['not JSON', () => '{"mediaType":'],
    ['a JSON array', () => [good]],
  ];
  for (const [what, make] of cases) {
    it(`leaves ${what} to the full verifier`, async () => {
      expect(await quick(file, bundleWith(what.replaceAll(' ', '-'), make()))).toBeUndefined();
    });
  }

  it('leaves a tampered file, a missing file or bundle, and other keys to the full verifier', async () => {
    const path = bundleWith('good2', good);
    const tampered = join(dir, 'tampered.bin');
    writeFileSync(tampered, Buffer.concat([content, Buffer.from('!')]));
    expect(await quick(tampered, path)).toBeUndefined();
    expect(await quick(join(dir, 'nope.bin'), path)).toBeUndefined();
    expect(await quick(file, join(dir, 'nope.sigstore.json'))).toBeUndefined();
    const ed = generateKeyPairSync('ed25519').publicKey;
    expect(await createQuickBundleVerifier(ed, fingerprintOf(ed))(file, path)).toBeUndefined();
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey;
    expect(await createQuickBundleVerifier(p384, fingerprintOf(p384))(file, path)).toBeUndefined();
  });

  it('never follows a symbolic link (O_NOFOLLOW, no stat first): a linked file or bundle goes to the full verifier', async () => {
    const path = bundleWith('good3', good);
    const linkedFile = join(dir, 'linked.bin');
    const linkedBundle = join(dir, 'linked.sigstore.json');
    symlinkSync(file, linkedFile);
    symlinkSync(path, linkedBundle);
    expect(() => readSmallRegularFileSync(linkedFile)).toThrow();
    expect(readSmallRegularFileSync(file)?.equals(content)).toBe(true);
    expect(await quick(linkedFile, path)).toBeUndefined();
    expect(await quick(file, linkedBundle)).toBeUndefined();
    // The full verifier follows a link the user named, as for one file.
    expect((await nativeVerifyBlob(linkedFile, { publicKey, bundle: linkedBundle })).verified).toBe(true);
  });
});
