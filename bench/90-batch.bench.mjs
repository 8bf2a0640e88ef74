// Issue 16 figures: batch signing and verifying of many files in one command, against `cosign sign-blob` per
// file (measured on a sample and extrapolated) and `sha256sum` over the same files.
// Run alone without touching BENCHMARKS.md: `node bench/90-batch.bench.mjs` (prints the rows as JSON).
// BATCH_BIG_GIB (default 2) sizes the large set (10,000 files).
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export default async function batch(ctx) {
  const { dir, cosignkit: ck, fmt } = ctx;
  const env = { COSIGN_PASSWORD: 'bench-only' };
  ctx.timeProcess(['cosign', 'generate-key-pair', '--output-key-prefix', 'batch'], { runs: 0, env });
  const key = join(dir, 'batch.key');
  const pub = join(dir, 'batch.pub');

  // 1,000 small files, 1–64 KiB.
  const small = join(dir, 'small');
  await mkdir(small);
  const smallFiles = [];
  for (let i = 0; i < 1000; i++) {
    const file = join(small, `f${i}.bin`);
    await writeFile(file, randomBytes(1024 + Math.floor(Math.random() * 63 * 1024)));
    smallFiles.push(file);
  }
  const ckSmall = ctx.timeProcess([ck, 'sign-blob', '--key', key, '-r', small], { runs: 3, env });
  const ckVerify = ctx.timeProcess([ck, 'verify-blob', '--key', pub, '-r', small], { runs: 3 });
  // cosign: one process (and one scrypt key decryption) per file; 20 files, extrapolated to 1,000.
  const sample = smallFiles.slice(0, 20);
  const start = performance.now();
  for (const file of sample) {
    ctx.timeProcess(
      [
        'cosign',
        'sign-blob',
        '--key',
        key,
        '--tlog-upload=false',
        '--yes',
        '--output-signature',
        `${file}.co.sig`,
        file,
      ],
      { runs: 0, env },
    );
  }
  // runs: 0 still runs once (the warm-up): the loop ran each file once.
  const cosignPerFile = (performance.now() - start) / sample.length;
  const cosign1000 = cosignPerFile * 1000;

  // 10,000 files totalling BATCH_BIG_GIB GiB, against sha256sum over the same files.
  const gib = Number(process.env.BATCH_BIG_GIB ?? 2);
  const big = join(dir, 'big');
  await mkdir(big);
  const per = Math.floor((gib * 1024 ** 3) / 10_000);
  const chunk = randomBytes(per + 4096);
  for (let i = 0; i < 10_000; i++) await writeFile(join(big, `f${i}.bin`), chunk.subarray(i % 4096, (i % 4096) + per));
  const sha = ctx.timeProcess(['bash', '-c', `cd ${big} && find . -name '*.bin' -print0 | xargs -0 sha256sum`], {
    runs: 3,
  });
  const ckBig = ctx.timeProcess([ck, 'sign-blob', '--key', key, '-r', big], { runs: 3, env });

  const smallRate = 1000 / (ckSmall / 1000);
  const verifyRate = 1000 / (ckVerify / 1000);
  return {
    title: 'Batch signing and verifying (issue 16)',
    intro:
      'One `cosignkit sign-blob -r DIR` (or `verify-blob -r DIR`) process per measure, end to end (Node start-up, ' +
      'key decryption, every bundle written atomically), median of 3 after a warm-up; default --jobs 8, P-256 ' +
      'file key. cosign is timed on 20 files, one process each, and extrapolated to 1,000.',
    rows: [
      {
        name: '1,000 small files (1–64 KiB) signed, one command',
        value: fmt.ms(ckSmall),
        baseline: '`cosign sign-blob` per file (×1,000, from 20)',
        baselineValue: fmt.ms(cosign1000),
        ratio: `${(cosign1000 / ckSmall).toFixed(0)}× faster`,
        goal: '≥ 100× faster',
        met: cosign1000 / ckSmall >= 100,
      },
      {
        name: 'files signed per second, end to end',
        value: fmt.rate(smallRate),
        goal: '≥ 5,000/s',
        met: smallRate >= 5000,
      },
      {
        name: `10,000 files (${gib} GiB) signed, one command`,
        value: fmt.ms(ckBig),
        baseline: '`sha256sum` over the same files',
        baselineValue: fmt.ms(sha),
        ratio: fmt.ratio(ckBig / sha),
        goal: '≤ 1.3×',
        met: ckBig <= 1.3 * sha,
      },
      {
        name: '1,000 files verified per second, end to end',
        value: fmt.rate(verifyRate),
        goal: '≥ 5,000/s',
        met: verifyRate >= 5000,
      },
    ],
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { createContext } = await import('./lib/context.mjs');
  const ctx = await createContext();
  try {
    console.log(JSON.stringify(await batch(ctx), null, 2));
  } finally {
    await ctx.close();
  }
}
