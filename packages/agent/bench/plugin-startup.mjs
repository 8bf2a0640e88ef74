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

function time(file, args) {
  const runs = [];
  for (let i = 0; i < RUNS + 3; i++) {
    const started = process.hrtime.bigint();
    const out = spawnSync(file, args, { env, encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (out.status !== 0 || (args.length > 2 && !out.stdout.includes('"signature"'))) {
      throw new Error(`${file} failed: ${out.stdout} ${out.stderr}`);
    }
    if (i >= 3) runs.push(ms);
  }
  runs.sort((a, b) => a - b);
  return { mean: runs.reduce((s, x) => s + x, 0) / runs.length, median: runs[Math.floor(runs.length / 2)] };
}

try {
  // Wait for the agent, and let the first call open (decrypt) the key in it.
  for (let i = 0; ; i++) {
    const out = spawnSync(process.execPath, [plugin, 'v1', request], { env, encoding: 'utf8' });
    if (out.stdout.includes('"signature"')) break;
    if (i > 200) throw new Error(`the agent did not answer: ${out.stdout}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const floor = time(process.execPath, ['-e', '0']);
  const rows = [
    ['node -e 0', floor],
    ['node sigstore-kms-cosignkit.cjs (agent)', time(process.execPath, [plugin, 'v1', request])],
    ['bin/sigstore-kms-cosignkit (agent)', time(launcher, ['v1', request])],
  ];
  if (process.argv[2]) rows.push([`${process.argv[2]} (agent)`, time(process.argv[2], ['v1', request])]);
  for (const [name, r] of rows) {
    console.log(
      `${name.padEnd(44)} mean ${r.mean.toFixed(1).padStart(6)} ms  median ${r.median.toFixed(1).padStart(6)} ms  ` +
        `${(r.mean / floor.mean).toFixed(2)}× node -e 0`,
    );
  }
} finally {
  agent.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
