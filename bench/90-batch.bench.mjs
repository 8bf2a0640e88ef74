// Issue 16 figures: batch signing and verifying of many files in one command, against `cosign sign-blob` per
// file (measured on a sample and extrapolated) and `sha256sum` over the same files.
// Run alone without touching BENCHMARKS.md: `node bench/90-batch.bench.mjs` (prints the rows as JSON).
// BATCH_BIG_GIB (default 2) sizes the large set (10,000 files).
// Every command pays a fixed cost before its first file (Node's start, loading the CLI, and for signing the
// key's scrypt): 1,000 files at 5,000/s would be 200 ms, below that cost alone. So beside the end-to-end
// rates the rows show the fixed cost (one file), the floor under it (Node + scrypt, nothing else), the rate
// past it, and the end-to-end rate over 10,000 small files, where the fixed cost weighs a tenth as much.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { copyFile } from 'node:fs/promises';
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
  // The fixed cost: the same commands over one of those files; its floor: Node plus the key's scrypt alone.
  const one = join(dir, 'one');
  await mkdir(one);
  await copyFile(smallFiles[0], join(one, 'f0.bin'));
  const ckOne = ctx.timeProcess([ck, 'sign-blob', '--key', key, '-r', one], { runs: 5, env });
  const ckVerifyOne = ctx.timeProcess([ck, 'verify-blob', '--key', pub, '-r', one], { runs: 5 });
  const floor = ctx.timeProcess([process.execPath, join(ctx.root, 'bench/lib/scrypt-floor.cjs'), key], {
    runs: 5,
    env,
  });
  const nodeStart = ctx.timeProcess([process.execPath, '-e', '0'], { runs: 5 });
  // 10,000 small files (1–64 KiB): the same per-file work, a tenth of the fixed cost per file.
  const many = join(dir, 'many');
  await mkdir(many);
  for (let i = 0; i < 10_000; i++) {
    await writeFile(join(many, `f${i}.bin`), randomBytes(1024 + Math.floor(Math.random() * 63 * 1024)));
  }
  // The floor under those rows: a bare Node script doing only the per-file work on the same files (see
  // lib/batch-floor.mjs), on one thread, with writer threads and on the thread pool; the fastest is the floor.
  // It runs first: its bundles (another key) are then replaced by cosignkit's.
  const floorScript = join(ctx.root, 'bench/lib/batch-floor.mjs');
  const floorSign = Math.min(
    ctx.timeProcess([process.execPath, floorScript, 'sign', many, 'one'], { runs: 3 }),
    ctx.timeProcess([process.execPath, floorScript, 'sign', many, 'two'], { runs: 3 }),
    ctx.timeProcess([process.execPath, floorScript, 'sign', many, 'pool'], { runs: 3 }),
  );
  const ckMany = ctx.timeProcess([ck, 'sign-blob', '--key', key, '-r', many], { runs: 3, env });
  const ckVerifyMany = ctx.timeProcess([ck, 'verify-blob', '--key', pub, '-r', many], { runs: 3 });
  const floorVerify = ctx.timeProcess([process.execPath, floorScript, 'verify', many, pub], { runs: 3 });
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
  const pastFixed = 999 / ((ckSmall - ckOne) / 1000);
  const verifyPastFixed = 999 / ((ckVerify - ckVerifyOne) / 1000);
  const manyRate = 10_000 / (ckMany / 1000);
  const verifyManyRate = 10_000 / (ckVerifyMany / 1000);
  const manyPastFixed = 9999 / ((ckMany - ckOne) / 1000);
  const verifyManyPastFixed = 9999 / ((ckVerifyMany - ckVerifyOne) / 1000);
  const floorSignRate = 10_000 / (floorSign / 1000);
  const floorVerifyRate = 10_000 / (floorVerify / 1000);
  return {
    title: 'Batch signing and verifying (issue 16)',
    intro:
      'One `cosignkit sign-blob -r DIR` (or `verify-blob -r DIR`) process per measure, end to end (Node start-up, ' +
      'key decryption, every bundle written atomically), median of 3 after a warm-up; default --jobs 8, P-256 ' +
      'file key. cosign is timed on 20 files, one process each, and extrapolated to 1,000. The fixed cost of a ' +
      'command (Node start, loading the CLI, scrypt for a signing key) is measured as the same command over one ' +
      'file; "past the fixed cost" is 999 / (t(1,000 files) − t(1 file)), the rate once the command has started. ' +
      '1,000 files at 5,000/s would take 200 ms, less than the floor (Node + scrypt alone) on its own. ' +
      'The per-file floor is a bare Node script (bench/lib/batch-floor.mjs) doing only the per-file work on the ' +
      'same 10,000 files: if it cannot reach 5,000/s, neither can a command that also starts, decrypts and reports.',
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
        name: 'fixed cost of a signing command (1 file signed)',
        value: fmt.ms(ckOne),
        baseline: 'floor: Node start + the key’s scrypt, nothing else',
        baselineValue: fmt.ms(floor),
        ratio: fmt.ratio(ckOne / floor),
      },
      {
        name: 'files signed per second past the fixed cost (1,000 files)',
        value: fmt.rate(pastFixed),
      },
      {
        name: '10,000 small files (1–64 KiB): files signed per second, end to end',
        value: fmt.rate(manyRate),
        baseline: 'one command, total',
        baselineValue: fmt.ms(ckMany),
        goal: '≥ 5,000/s',
        met: manyRate >= 5000,
      },
      {
        name: '10,000 small files: files signed per second past the fixed cost',
        value: fmt.rate(manyPastFixed),
        baseline: 'floor: a bare Node script doing only the per-file work (read, SHA-256, sign, temp + rename)',
        baselineValue: `${fmt.rate(floorSignRate)} (${fmt.ms(floorSign)} with its Node start)`,
        ratio: `${((manyPastFixed / floorSignRate) * 100).toFixed(0)}% of the floor`,
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
      {
        name: 'fixed cost of a verifying command (1 file verified)',
        value: fmt.ms(ckVerifyOne),
        baseline: 'floor: `node -e 0`',
        baselineValue: fmt.ms(nodeStart),
        ratio: fmt.ratio(ckVerifyOne / nodeStart),
      },
      {
        name: 'files verified per second past the fixed cost (1,000 files)',
        value: fmt.rate(verifyPastFixed),
      },
      {
        name: '10,000 small files (1–64 KiB): files verified per second, end to end',
        value: fmt.rate(verifyManyRate),
        baseline: 'one command, total',
        baselineValue: fmt.ms(ckVerifyMany),
        goal: '≥ 5,000/s',
        met: verifyManyRate >= 5000,
      },
      {
        name: '10,000 small files: files verified per second past the fixed cost',
        value: fmt.rate(verifyManyPastFixed),
        baseline: 'floor: a bare Node script doing only the per-file work (read both, parse, SHA-256, verify)',
        baselineValue: `${fmt.rate(floorVerifyRate)} (${fmt.ms(floorVerify)} with its Node start)`,
        ratio: `${((verifyManyPastFixed / floorVerifyRate) * 100).toFixed(0)}% of the floor`,
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
