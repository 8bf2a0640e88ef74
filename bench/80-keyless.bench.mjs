// Issue 13 figures: `cosignkit verify-blob` of a real keyless bundle as a process, offline with the cached
// root, beside `node -e 0` and stock `cosign verify-blob` (2.5, --trusted-root, isolated HOME/TUF_ROOT) in
// the same run; and keyless verifications per second in-process (@cosignkit/sigstore verifyBundle), over
// every message-signature fixture in turn and over one bundle repeated.
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { goalAgainstFloor, median } from './lib/context.mjs';

const RUNS = 15;
const CASE = {
  bundle: 'bundle_v3_github.whl.sigstore',
  artifact: 'bundle_v3_github.whl',
  identity: 'https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2',
  issuer: 'https://token.actions.githubusercontent.com',
};

export default async function keyless(ctx) {
  const { dir, fmt, root } = ctx;
  const base = join(dir, 'keyless');
  const fixtures = join(root, 'packages/sigstore/test/fixtures');
  await mkdir(base, { recursive: true });
  for (const f of [CASE.bundle, CASE.artifact, 'public-good-trusted_root.json'])
    await copyFile(join(fixtures, f), join(base, f));
  const lib = await import(join(root, 'packages/sigstore/dist/index.js'));

  // The cached root: one refresh stand-in (the fixture root saved where a TUF refresh saves it), then --offline.
  const env = { HOME: base, XDG_CACHE_HOME: join(base, 'cache'), TUF_ROOT: join(base, 'tuf') };
  await lib.loadTrustedRoot({
    env,
    refresh: async () =>
      lib.parseTrustedRoot(JSON.parse(await readFile(join(base, 'public-good-trusted_root.json'), 'utf8')), 'root')
        .root,
  });
  const identity = ['--certificate-identity', CASE.identity, '--certificate-oidc-issuer', CASE.issuer];
  const oursArgv = [ctx.cosignkit, 'verify-blob', '--offline', '--bundle', CASE.bundle, ...identity, CASE.artifact];
  const cosignArgv = [
    'cosign',
    'verify-blob',
    '--new-bundle-format',
    '--bundle',
    CASE.bundle,
    ...identity,
    '--trusted-root',
    'public-good-trusted_root.json',
    CASE.artifact,
  ];
  // Interleaved rounds (a warm-up and a timed run of each), so load on the machine hits all three alike.
  const series = { ours: [], node: [], cosign: [] };
  for (let round = 0; round < RUNS; round++) {
    series.ours.push(ctx.timeProcess(oursArgv, { runs: 1, env, cwd: base }));
    series.node.push(ctx.timeProcess([process.execPath, '-e', '0'], { runs: 1 }));
    series.cosign.push(ctx.timeProcess(cosignArgv, { runs: 1, env, cwd: base }));
  }
  const [ours, node, cosign] = [series.ours, series.node, series.cosign].map(median);

  // In-process: every message-signature fixture in turn (distinct leaves), then one bundle repeated.
  const cases = [
    ['bundle_v3_github.whl.sigstore', 'bundle_v3_github.whl', 'public-good', CASE.identity, CASE.issuer],
    ['bundle_v3.txt.sigstore', 'bundle_v3.txt', 'staging', 'william@yossarian.net', 'https://github.com/login/oauth'],
    [
      'bundle_v3_alt.txt.sigstore',
      'bundle_v3_alt.txt',
      'staging',
      'william@yossarian.net',
      'https://github.com/login/oauth',
    ],
    [
      'staging-rekor-v2.txt.sigstore.json',
      'staging-rekor-v2.txt',
      'staging',
      'jku@goto.fi',
      'https://github.com/login/oauth',
    ],
  ];
  const prepared = await Promise.all(
    cases.map(async ([bundle, artifact, instance, san, issuer]) => ({
      json: JSON.parse(await readFile(join(fixtures, bundle), 'utf8')),
      options: {
        trustedRoot: lib.embeddedTrustedRoot(instance).root,
        policy: lib.compileIdentityPolicy(
          { certificateIdentity: san, certificateOidcIssuer: issuer },
          { required: true },
        ),
        artifact: { bytes: await readFile(join(fixtures, artifact)) },
      },
    })),
  );
  let i = 0;
  const verifyOne = (p) => {
    if (!lib.verifyBundle(p.json, p.options).verified) throw new Error('did not verify');
  };
  const mixedRun = async () => verifyOne(prepared[i++ % prepared.length]);
  const repeatedRun = async () => verifyOne(prepared[0]);

  // The floor of the mixed rate: the public-key operations a warm verification of each bundle makes (its
  // message or DSSE signature, SET, checkpoint, RFC 3161 timestamp: a staging one is P-384), recorded
  // from node:crypto during one verification per bundle and replayed alone, in the same order.
  // Each bundle verified once first: what a cold verification adds (the leaf's chain and SCT signatures, done
  // once per leaf and root) is not a warm verification's work and stays out of the recording.
  for (const p of prepared) verifyOne(p);
  const nodeCrypto = createRequire(import.meta.url)('node:crypto');
  const realVerify = nodeCrypto.verify;
  const recorded = prepared.map((p) => {
    const calls = [];
    nodeCrypto.verify = (...args) => {
      calls.push(args);
      return realVerify(...args);
    };
    try {
      verifyOne(p);
    } finally {
      nodeCrypto.verify = realVerify;
    }
    return calls;
  });
  let j = 0;
  const floorRun = async () => {
    for (const args of recorded[j++ % recorded.length]) if (!realVerify(...args)) throw new Error('replay failed');
  };
  // The three rates interleaved (10 slices of 0.3 s each, in turn), so load on the machine hits them alike and
  // the ratio to the floor compares like with like; each rate is its count over its own time.
  const [mixed, repeated, floor] = await interleavedRates(ctx, [mixedRun, repeatedRun, floorRun], {
    slices: 10,
    seconds: 0.3,
  });
  const checks = recorded.map((calls) => calls.length).join(', ');

  return {
    title: 'Keyless verification (issue 13)',
    intro:
      `\`cosignkit verify-blob --offline\` of ${CASE.bundle} (public good, hashedrekord, GitHub Actions certificate) ` +
      'with the cached root, as a process; in-process `verifyBundle` rates.',
    rows: [
      { name: '`node -e 0`', value: fmt.ms(node) },
      {
        name: 'cosignkit verify-blob (keyless, offline)',
        value: fmt.ms(ours),
        baseline: '`node -e 0`',
        baselineValue: fmt.ms(node),
        ratio: fmt.ratio(ours / node),
        goal: '≤ 2×',
        met: ours / node <= 2,
      },
      {
        name: 'cosign verify-blob --trusted-root',
        value: fmt.ms(cosign),
        baseline: 'cosignkit',
        baselineValue: fmt.ms(ours),
        ratio: fmt.ratio(cosign / ours),
      },
      {
        name: 'in-process verifications, 4 bundles in turn',
        value: fmt.rate(mixed),
        // The floor row's rate is the most any verifier can reach here: a goal above it cannot be met.
        goal: goalAgainstFloor('≥ 2,000/s', floor < 2000),
        met: mixed >= 2000,
      },
      {
        name: 'floor: their signature checks alone, 4 bundles in turn',
        value: fmt.rate(floor),
        baseline: 'in-process, 4 bundles in turn',
        baselineValue: fmt.rate(mixed),
        ratio: fmt.ratio(mixed / floor),
      },
      {
        name: 'in-process verifications, one bundle repeated',
        value: fmt.rate(repeated),
        goal: '≥ 2,000/s',
        met: repeated >= 2000,
      },
    ],
    notes:
      `${RUNS} interleaved rounds per process row, each a warm-up and a timed run (median). ` +
      'In-process rates run 3 s each on one core, interleaved in 0.3 s slices; the trust material is built once per root, each leaf ' +
      "certificate and RFC 3161 token parsed once per process (bounded caches by their bytes' SHA-256), a leaf's " +
      'chain path (and its signatures) and embedded SCTs found and checked once per (leaf, root): functions of ' +
      'the certificate and the root alone, as when one CI certificate signs many files; the validity of each ' +
      "certificate of the path at the bundle's times is checked on every verification. Every bundle's own " +
      'signatures (artifact or ' +
      `DSSE, SET, checkpoint, timestamp) are checked on every verification (${checks} per bundle). The floor ` +
      'row replays exactly those checks with node:crypto, nothing else: the verification rate cannot pass it, and ' +
      'a goal above it is marked unreachable.',
  };
}

/** Rates of several functions measured in turn, `slices` times each: each rate sums its slices' counts and times. */
async function interleavedRates(ctx, fns, { slices, seconds }) {
  const totals = fns.map(() => ({ count: 0, seconds: 0 }));
  for (let slice = 0; slice < slices; slice++) {
    for (const [k, fn] of fns.entries()) {
      const rate = await ctx.rate(fn, { seconds });
      totals[k].count += rate * seconds;
      totals[k].seconds += seconds;
    }
  }
  return totals.map((t) => t.count / t.seconds);
}
