// Issue 16 figures: batch signing and verifying of many files in one command, against `cosign sign-blob` per
// file (measured on a sample and extrapolated) and `sha256sum` over the same files.
// Run alone without touching BENCHMARKS.md: `node bench/90-batch.bench.mjs` (prints the rows as JSON).
// BATCH_BIG_GIB (default 2) sizes the large set (10,000 files).
// Every command pays a fixed cost before its first file (Node's start, loading the CLI, and for signing the
// key's scrypt): 1,000 files at 5,000/s would be 200 ms, below that cost alone. So beside the end-to-end
// rates the rows show the fixed cost (one file), the floor under it (Node + scrypt, nothing else), the rate
// past it, and the end-to-end rate over 10,000 small files, where the fixed cost weighs a tenth as much.
// Every rate has its floor beside it (lib/batch-floor.mjs: the bare per-file work, the fastest way Node
// offers), per file without Node's start and end to end with it; a goal above its floor is marked unreachable.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { asTheBinStartsNode, goalAgainstFloor } from './lib/context.mjs';

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
  // The fixed cost: the same commands over one file; its floor: Node plus the key's scrypt alone.
  const one = join(dir, 'one');
  await mkdir(one);
  await copyFile(smallFiles[0], join(one, 'f0.bin'));
  // 10,000 small files (1–64 KiB): the same per-file work, a tenth of the fixed cost per file.
  const many = join(dir, 'many');
  await mkdir(many);
  for (let i = 0; i < 10_000; i++) {
    await writeFile(join(many, `f${i}.bin`), randomBytes(1024 + Math.floor(Math.random() * 63 * 1024)));
  }
  const floorScript = join(ctx.root, 'bench/lib/batch-floor.mjs');
  // Started as the bin starts Node (huge pages for scrypt's 64 MiB), as a floor under the CLI must be.
  const scryptFloor = asTheBinStartsNode([process.execPath, join(ctx.root, 'bench/lib/scrypt-floor.cjs'), key]);
  const floorSignModes = ['pool 8', 'pool 16', 'poolsign 8', 'poolsign 16'];
  // Each set's measures interleaved one by one, round after round, so all see the same moments of a shared
  // machine. Signing: the floor's modes (their bundles, made with another key, are replaced by cosignkit's
  // in the same round: cosignkit signs last), the scrypt floor, cosignkit on one file and on the set.
  const signSet = (files) => {
    const results = interleaved(
      [
        ...floorSignModes.map((m) => [process.execPath, floorScript, 'sign', files, ...m.split(' ')]),
        scryptFloor,
        [ck, 'sign-blob', '--key', key, '-r', one],
        [ck, 'sign-blob', '--key', key, '-r', files],
      ],
      { runs: 3, cwd: dir, env },
    );
    const [scrypt, ckOne, ckSet] = results.slice(floorSignModes.length).map((r) => r.wall);
    return { floor: bestFloor(results.slice(0, floorSignModes.length), floorSignModes), scrypt, ckOne, ckSet };
  };
  // Verifying: `node -e 0`, cosignkit on one file and on the set, the bare verify script on the set.
  const verifySet = (files) => {
    const [nodeStart, ckOne, ckSet, floor] = interleaved(
      [
        [process.execPath, '-e', '0'],
        [ck, 'verify-blob', '--key', pub, '-r', one],
        [ck, 'verify-blob', '--key', pub, '-r', files],
        [process.execPath, floorScript, 'verify', files, pub],
      ],
      { runs: 5, cwd: dir },
    );
    return { nodeStart: nodeStart.wall, ckOne: ckOne.wall, ckSet: ckSet.wall, floor };
  };
  const { ckSet: ckSmall, ckOne, scrypt: floor, floor: floorSmall } = signSet(small);
  const { ckSet: ckVerify, ckOne: ckVerifyOne, nodeStart, floor: floorVerifySmall } = verifySet(small);
  const { ckSet: ckMany, ckOne: ckManyOne, scrypt: scryptMany, floor: floorMany } = signSet(many);
  const { ckSet: ckVerifyMany, ckOne: ckVerifyManyOne, floor: floorVerifyMany } = verifySet(many);
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
  const manyPastFixed = 9999 / ((ckMany - ckManyOne) / 1000);
  const verifyManyPastFixed = 9999 / ((ckVerifyMany - ckVerifyManyOne) / 1000);
  // The floors. Per file: the bare script's own time (`work`, without Node's start). End to end: a signing
  // command cannot start and decrypt its key faster than the scrypt floor (Node start + scrypt), and then has
  // at least the per-file work to do; a verifying command's floor is the bare script's whole process.
  const rate = (n, ms) => n / (ms / 1000);
  const signFloorSmallE2e = rate(1000, floor + floorSmall.work);
  const signFloorManyE2e = rate(10_000, scryptMany + floorMany.work);
  const verifyFloorSmallE2e = rate(1000, floorVerifySmall.wall);
  const verifyFloorManyE2e = rate(10_000, floorVerifyMany.wall);
  const ofFloor = (value, floorRate) => `${((value / floorRate) * 100).toFixed(0)}% of the floor`;
  const goal5k = (floorRate) => goalAgainstFloor('≥ 5,000/s', floorRate < 5000);
  const signFloorNote = (f, n) =>
    `${fmt.rate(rate(n, f.work))} (${f.mode}; ${fmt.ms(f.work)}, ${fmt.ms(f.wall)} with its Node start)`;
  return {
    title: 'Batch signing and verifying (issue 16)',
    intro:
      'One `cosignkit sign-blob -r DIR` (or `verify-blob -r DIR`) process per measure, end to end (Node start-up, ' +
      'key decryption, every bundle written atomically); default --jobs 8, P-256 file key. Each set’s measures ' +
      '(cosignkit on the set and on one file, the floors) run interleaved one by one, round after round, medians ' +
      'of 3 rounds for signing and 5 for verifying after a warm-up round. cosign is timed on 20 files, one process ' +
      'each, and extrapolated to 1,000. The fixed cost of a command (Node start, loading the CLI, scrypt for a ' +
      'signing key) is measured as the same command over one file; "past the fixed cost" is ' +
      '(N − 1) / (t(N files) − t(1 file)), the rate once the command has started. The floors are a bare Node ' +
      'script (bench/lib/batch-floor.mjs) doing only the per-file work on the same files, the fastest way Node ' +
      'offers, and nothing a real command must also do (no checks of hostile input, no reporting): per file, ' +
      'its own time without Node start; end to end, for signing, the scrypt floor (Node start + the key’s ' +
      'scrypt, with huge pages for malloc as the bin starts Node) plus that time, for verifying, its whole process. Signing floor modes (fastest shown, each ' +
      'interleaved with the others): `pool` reads, hashes and signs on the main thread and writes on the libuv ' +
      'thread pool; `poolsign` signs on the pool too (node:crypto’s asynchronous sign); 8 or 16 files in flight. ' +
      'A goal above its floor is marked unreachable: no implementation in Node can meet it on this machine.',
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
        name: '1,000 files signed per second, end to end',
        value: fmt.rate(smallRate),
        baseline: 'floor: Node start + the key’s scrypt + the bare per-file work on the same 1,000 files',
        baselineValue: fmt.rate(signFloorSmallE2e),
        ratio: ofFloor(smallRate, signFloorSmallE2e),
        goal: goal5k(signFloorSmallE2e),
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
        baseline: 'floor: the bare per-file work (read, SHA-256, sign, temp + rename), without Node start',
        baselineValue: signFloorNote(floorSmall, 1000),
        ratio: ofFloor(pastFixed, rate(1000, floorSmall.work)),
      },
      {
        name: '10,000 small files (1–64 KiB): files signed per second, end to end',
        value: fmt.rate(manyRate),
        baseline: 'floor: Node start + the key’s scrypt + the bare per-file work on the same 10,000 files',
        baselineValue: fmt.rate(signFloorManyE2e),
        ratio: ofFloor(manyRate, signFloorManyE2e),
        goal: goal5k(signFloorManyE2e),
        met: manyRate >= 5000,
      },
      {
        name: '10,000 small files: files signed per second past the fixed cost',
        value: fmt.rate(manyPastFixed),
        baseline: 'floor: the bare per-file work (read, SHA-256, sign, temp + rename), without Node start',
        baselineValue: signFloorNote(floorMany, 10_000),
        ratio: ofFloor(manyPastFixed, rate(10_000, floorMany.work)),
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
        baseline:
          'floor: the bare per-file verify (read both, parse, SHA-256, verify) over the same 1,000 files, with its Node start',
        baselineValue: `${fmt.rate(verifyFloorSmallE2e)} (${fmt.ms(floorVerifySmall.wall)})`,
        ratio: ofFloor(verifyRate, verifyFloorSmallE2e),
        goal: goal5k(verifyFloorSmallE2e),
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
        baseline: 'floor: the bare per-file verify, without Node start',
        baselineValue: `${fmt.rate(rate(1000, floorVerifySmall.work))} (${fmt.ms(floorVerifySmall.work)})`,
        ratio: ofFloor(verifyPastFixed, rate(1000, floorVerifySmall.work)),
      },
      {
        name: '10,000 small files (1–64 KiB): files verified per second, end to end',
        value: fmt.rate(verifyManyRate),
        baseline: 'floor: the bare per-file verify over the same 10,000 files, with its Node start',
        baselineValue: `${fmt.rate(verifyFloorManyE2e)} (${fmt.ms(floorVerifyMany.wall)})`,
        ratio: ofFloor(verifyManyRate, verifyFloorManyE2e),
        goal: goal5k(verifyFloorManyE2e),
        met: verifyManyRate >= 5000,
      },
      {
        name: '10,000 small files: files verified per second past the fixed cost',
        value: fmt.rate(verifyManyPastFixed),
        baseline: 'floor: the bare per-file verify, without Node start',
        baselineValue: `${fmt.rate(rate(10_000, floorVerifyMany.work))} (${fmt.ms(floorVerifyMany.work)})`,
        ratio: ofFloor(verifyManyPastFixed, rate(10_000, floorVerifyMany.work)),
      },
    ],
  };
}

/**
 * Runs the commands one after another, round after round (one warm-up round, then `runs`), so each sees the
 * same moments of a shared machine; per command, the median wall time and, when it prints {"work": ms} last
 * (the floor script), the median of that.
 */
function interleaved(commands, { runs, cwd, env = {} }) {
  const walls = commands.map(() => []);
  const works = commands.map(() => []);
  for (let round = 0; round <= runs; round++) {
    commands.forEach((argv, i) => {
      const start = process.hrtime.bigint();
      const r = spawnSync(argv[0], argv.slice(1), {
        cwd,
        env: { ...process.env, ...env },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
      if (round === 0) return;
      walls[i].push(ms);
      const last = r.stdout.trim().split('\n').pop() ?? '';
      if (last.startsWith('{"work"')) works[i].push(JSON.parse(last).work);
    });
  }
  return commands.map((_, i) => ({ wall: median(walls[i]), work: works[i].length ? median(works[i]) : undefined }));
}

/** The fastest of the floor's modes (by its own time), named. */
function bestFloor(results, modes) {
  let best = 0;
  results.forEach((r, i) => {
    if (r.work < results[best].work) best = i;
  });
  return { ...results[best], mode: `${modes[best].replace(' ', ', ')} in flight` };
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
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
