// Issue 13 figures: `cosignkit verify-blob` of a real keyless bundle as a process, offline with the cached
// root, beside `node -e 0` and stock `cosign verify-blob` (2.5, --trusted-root, isolated HOME/TUF_ROOT) in
// the same run; and keyless verifications per second in-process (@cosignkit/sigstore verifyBundle), over
// every message-signature fixture in turn and over one bundle repeated.
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

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
  const ours = ctx.timeProcess(
    [ctx.cosignkit, 'verify-blob', '--offline', '--bundle', CASE.bundle, ...identity, CASE.artifact],
    { runs: RUNS, env, cwd: base },
  );
  const node = Math.min(
    ctx.timeProcess([process.execPath, '-e', '0'], { runs: RUNS }),
    ctx.timeProcess([process.execPath, '-e', '0'], { runs: RUNS }),
  );
  const cosign = ctx.timeProcess(
    [
      'cosign',
      'verify-blob',
      '--new-bundle-format',
      '--bundle',
      CASE.bundle,
      ...identity,
      '--trusted-root',
      'public-good-trusted_root.json',
      CASE.artifact,
    ],
    { runs: RUNS, env, cwd: base },
  );

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
  const mixed = await ctx.rate(async () => verifyOne(prepared[i++ % prepared.length]), { seconds: 3 });
  const repeated = await ctx.rate(async () => verifyOne(prepared[0]), { seconds: 3 });

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
        goal: '≥ 2,000/s',
        met: mixed >= 2000,
      },
      {
        name: 'in-process verifications, one bundle repeated',
        value: fmt.rate(repeated),
        goal: '≥ 2,000/s',
        met: repeated >= 2000,
      },
    ],
    notes:
      `${RUNS} process runs per row after one warm-up (median); \`node -e 0\` is the lower of two series. ` +
      'In-process rates run 3 s each on one core; the trust material is built once per root.',
  };
}
