// Issue 5 figures: signatures per second through the keyring KeyManager once the key is cached (after its first
// use), and what that first use costs (open the store + fetch the PEM over D-Bus + parse it), beside an
// in-process node:crypto signing rate. Measured in a child running inside its own private session bus and
// throw-away gnome-keyring (packages/key-keyring/scripts/with-secret-service.sh); the child prints JSON.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);
const root = resolve(here, '../..');
const FIRST_USE_RUNS = 25;
const RATE_SECONDS = 1.5;
const ROUNDS = 3; // rates alternate in rounds (median): the machine is shared and noisy
const CLI_RUNS = 5;

export default async function keyring(ctx) {
  const { fmt } = ctx;
  const wrapper = join(root, 'packages/key-keyring/scripts/with-secret-service.sh');
  const out = execFileSync('bash', [wrapper, process.execPath, here, '--child'], {
    cwd: ctx.dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 300_000,
  });
  const m = JSON.parse(out.trim().split('\n').at(-1));
  const rows = [
    {
      name: 'first use of a keyring key: open + fetch + parse (median)',
      value: fmt.ms(m.firstUse.median),
      baseline: 'of which: parsing the PKCS#8 PEM (node:crypto)',
      baselineValue: `${Math.round(m.parseOnly.median * 1000)} µs`,
    },
    {
      name: 'first signature with a keyring key: open + fetch + parse + signDigest (median)',
      value: fmt.ms(m.firstSignature.median),
      baseline: 'one signDigest with the key cached',
      baselineValue: fmt.ms(1000 / m.rates.signDigest),
      ratio: fmt.ratio(m.firstSignature.median / (1000 / m.rates.signDigest)),
    },
    {
      name: 'signDigest, key cached (P-256, 1 caller)',
      value: fmt.rate(m.rates.signDigest),
      baseline: 'node:crypto sign, same key, in-process',
      baselineValue: fmt.rate(m.rates.nodeSign),
      ratio: fmt.ratio(m.rates.signDigest / m.rates.nodeSign),
    },
    {
      name: 'signMessage, key cached (P-256, 1 caller)',
      value: fmt.rate(m.rates.signMessage),
      baseline: 'node:crypto sign, same key, in-process',
      baselineValue: fmt.rate(m.rates.nodeSign),
      ratio: fmt.ratio(m.rates.signMessage / m.rates.nodeSign),
    },
  ];
  if (m.cli) {
    rows.push({
      name: '`cosignkit sign-blob --engine native --key keyring:…` (new process per signature, median)',
      value: fmt.ms(m.cli.median),
      baseline: 'first use in-process (above)',
      baselineValue: fmt.ms(m.firstSignature.median),
      ratio: fmt.ratio(m.cli.median / m.firstSignature.median),
    });
  }
  return {
    title: 'OS keyring (gnome-keyring over a private D-Bus, @napi-rs/keyring)',
    intro:
      'One P-256 key in a throw-away gnome-keyring on a private session bus. "First use" opens a fresh store ' +
      `and reads the key (new native Entry, one D-Bus GetSecret, PKCS#8 parse), median of ${FIRST_USE_RUNS}; ` +
      'after that the manager keeps the key decrypted in memory until close(), so signing never touches D-Bus. ' +
      `Rates: median of ${ROUNDS} alternating ${RATE_SECONDS} s runs.`,
    rows,
    notes:
      'signDigest (the path of sign-blob, which streams the file and signs its digest) signs a given digest with ' +
      "k·G in OpenSSL (through ECDH) and noble's blinded scalar step, because node:crypto's sign always hashes its input; signMessage and the baseline are " +
      `OpenSSL. First-use spread: ${fmt.ms(m.firstUse.min)}–${fmt.ms(m.firstUse.max)}.`,
  };
}

// ---- the child, inside the private bus ----

async function child() {
  const { backend } = await import(join(root, 'packages/key-keyring/dist/index.js'));
  const { parseKeyRef, silentLogger } = await import(join(root, 'packages/core/dist/index.js'));
  const context = { options: {}, secrets: async () => '', logger: silentLogger, env: process.env };
  const ref = parseKeyRef('keyring:cosignkit-bench/p256');
  const setup = await backend.open(ref, context);
  await setup.generateKeyPair({ label: 'p256' });
  await setup.close();
  const digest = createHash('sha256').update('bench').digest();
  const message = Buffer.from('bench');

  const firstUse = [];
  const firstSignature = [];
  const parseOnly = [];
  let pem;
  for (let i = 0; i < FIRST_USE_RUNS; i++) {
    let start = performance.now();
    const manager = await backend.open(ref, context);
    await manager.getPublicKey('p256');
    firstUse.push(performance.now() - start);
    await manager.close();

    start = performance.now();
    const again = await backend.open(ref, context);
    await again.signDigest('p256', digest);
    firstSignature.push(performance.now() - start);
    await again.close();
  }
  {
    // The same PEM, parsed by node:crypto alone: the part of first use that is not the keyring.
    const { AsyncEntry } = await import(join(root, 'packages/key-keyring/node_modules/@napi-rs/keyring/index.js'));
    pem = await new AsyncEntry('cosignkit-bench', 'p256', { linux: { store: 'secret-service' } }).getPassword();
    const { createPrivateKey } = await import('node:crypto');
    for (let i = 0; i < FIRST_USE_RUNS; i++) {
      const start = performance.now();
      createPrivateKey(pem);
      parseOnly.push(performance.now() - start);
    }
  }

  const manager = await backend.open(ref, context);
  await manager.signDigest('p256', digest); // first use: the key is cached from here on
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const fns = {
    signDigest: () => manager.signDigest('p256', digest),
    signMessage: () => manager.signMessage('p256', message),
    nodeSign: async () => sign('sha256', message, privateKey),
  };
  const samples = { signDigest: [], signMessage: [], nodeSign: [] };
  for (const fn of Object.values(fns)) await rate(fn, 0.2); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, fn] of Object.entries(fns)) samples[name].push(await rate(fn, RATE_SECONDS));
  }
  await manager.close();

  let cli;
  const bin = join(root, 'bin', 'cosignkit');
  if (existsSync(join(root, 'packages/cli/dist/bin/cosignkit.cjs'))) {
    const dir = await mkdtemp(join(tmpdir(), 'cosignkit-bench-keyring-'));
    try {
      await writeFile(join(dir, 'artifact'), 'bench artifact\n');
      const times = [];
      for (let i = 0; i <= CLI_RUNS; i++) {
        const start = performance.now();
        const r = spawnSync(
          'bash',
          [
            bin,
            'sign-blob',
            '--engine',
            'native',
            '--key',
            'keyring:cosignkit-bench/p256',
            '--output-signature',
            join(dir, 'sig'),
            join(dir, 'artifact'),
          ],
          { stdio: ['ignore', 'ignore', 'pipe'] },
        );
        if (r.status !== 0) throw new Error(`cosignkit sign-blob exited ${r.status}: ${r.stderr}`);
        if (i > 0) times.push(performance.now() - start);
      }
      cli = stats(times);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  const rates = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, stats(v).median]));
  process.stdout.write(
    `${JSON.stringify({
      firstUse: stats(firstUse),
      firstSignature: stats(firstSignature),
      parseOnly: stats(parseOnly),
      rates,
      cli,
    })}\n`,
  );
}

async function rate(fn, seconds) {
  const start = performance.now();
  const end = start + seconds * 1000;
  let count = 0;
  while (performance.now() < end) {
    await fn();
    count++;
  }
  return count / ((performance.now() - start) / 1000);
}

function stats(values) {
  const s = [...values].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0], max: s.at(-1) };
}

if (process.argv[1] === here && process.argv[2] === '--child') await child();
