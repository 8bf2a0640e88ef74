// Seed 002's goal for the plugin: per call with the agent running, within 1.5× `node -e 0`. Times 20 runs of each
// (after 3 warm-ups), as hyperfine would, and prints mean and median. A file key in the agent; the request is
// cosign's signMessage with a precomputed digest (what `cosign sign-blob` sends). Run: node bench/plugin-startup.mjs
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..', '..');
const plugin = join(here, '..', 'dist', 'bin', 'sigstore-kms-cosignkit.cjs');
const daemon = join(here, '..', 'dist', 'bin', 'cosignkit-agent.cjs');
const launcher = join(repo, 'bin', 'sigstore-kms-cosignkit');
const RUNS = 20;

const dir = mkdtempSync(join(tmpdir(), 'cosignkit-plugin-bench-'));
const env = { ...process.env, COSIGN_PASSWORD: 'bench', COSIGNKIT_AGENT_SOCKET: join(dir, 'agent', 'agent.sock') };
execFileSync('cosign', ['generate-key-pair'], { cwd: dir, env, stdio: 'ignore' });
const agent = spawn(process.execPath, [daemon, 'run', '--socket', env.COSIGNKIT_AGENT_SOCKET, '--ttl', '0'], {
  env,
  stdio: 'ignore',
});
const request = JSON.stringify({
  initOptions: { protocolVersion: 'v1', keyResourceID: `cosignkit://file:${join(dir, 'cosign.key')}`, hashFunc: 5 },
  methodName: 'signMessage',
  signMessage: { signOptions: { messageOptions: { digest: Buffer.alloc(32, 7).toString('base64') } } },
});

/**
 * One timed run: wall time, and CPU time (user + system, from /usr/bin/time) which a loaded machine disturbs
 * less. Throws unless the plugin answered with a signature.
 */
function once(file, args) {
  const started = process.hrtime.bigint();
  const out = spawnSync('/usr/bin/time', ['-f', 'cpu %U %S', file, ...args], { env, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (out.status !== 0 || (args[0] === 'v1' && !out.stdout.includes('"signature"'))) {
    throw new Error(`${file} failed: ${out.stdout} ${out.stderr}`);
  }
  const [, user, system] = /cpu (\S+) (\S+)/.exec(out.stderr) ?? [];
  return { ms, cpu: (Number(user) + Number(system)) * 1000 };
}

/** Round-robin over the variants (3 warm-up rounds, then RUNS), so a change of machine load hits them all alike. */
function timeAll(variants) {
  const runs = variants.map(() => []);
  for (let round = 0; round < RUNS + 3; round++) {
    for (const [i, [, file, args]] of variants.entries()) {
      const run = once(file, args);
      if (round >= 3) runs[i].push(run);
    }
  }
  const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;
  return runs.map((r) => {
    const ms = r.map((x) => x.ms).sort((a, b) => a - b);
    return { mean: mean(ms), median: ms[Math.floor(ms.length / 2)], cpu: mean(r.map((x) => x.cpu)) };
  });
}

try {
  // Wait for the agent, and let the first call open (decrypt) the key in it.
  for (let i = 0; ; i++) {
    const out = spawnSync(process.execPath, [plugin, 'v1', request], { env, encoding: 'utf8' });
    if (out.stdout.includes('"signature"')) break;
    if (i > 200) throw new Error(`the agent did not answer: ${out.stdout}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const variants = [
    ['node -e 0', process.execPath, ['-e', '0']],
    ['node sigstore-kms-cosignkit.cjs (agent)', process.execPath, [plugin, 'v1', request]],
    ['bin/sigstore-kms-cosignkit (agent)', launcher, ['v1', request]],
  ];
  if (process.argv[2]) variants.push([`${process.argv[2]} (agent)`, process.argv[2], ['v1', request]]);
  const results = timeAll(variants);
  const floor = results[0];
  const rows = variants.map(([name], i) => [name, results[i]]);
  for (const [name, r] of rows) {
    console.log(
      `${name.padEnd(44)} mean ${r.mean.toFixed(1).padStart(6)} ms  median ${r.median.toFixed(1).padStart(6)} ms  ` +
        `${(r.mean / floor.mean).toFixed(2)}× node -e 0  cpu ${r.cpu.toFixed(0).padStart(4)} ms ` +
        `${(r.cpu / floor.cpu).toFixed(2)}×`,
    );
  }
} finally {
  agent.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
