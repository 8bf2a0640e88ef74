#!/usr/bin/env node
// Runs the README's quick-starts as written: every fenced block whose info string is `sh quickstart`, each in
// its own `bash -euo pipefail` from the repository root, with a throw-away HOME and config/data directories
// (so no block reads or writes the user's own). Prints one line per block; exits 1 if any failed.
// Usage: node scripts/readme-quickstarts.mjs [README.md] [--only <text in the block>]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The `sh quickstart` blocks of a Markdown text, in order, each with the line number of its opening fence. */
export function quickstartBlocks(markdown) {
  const blocks = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})sh quickstart\s*$/.exec(lines[i]);
    if (!open) continue;
    const start = i + 1;
    const body = [];
    for (i++; i < lines.length && lines[i] !== open[1]; i++) body.push(lines[i]);
    if (i >= lines.length) throw new Error(`README line ${start}: a quickstart block is never closed`);
    blocks.push({ line: start, script: `${body.join('\n')}\n` });
  }
  return blocks;
}

/** Runs one block; returns its exit status and output. */
export function runBlock(block, options = {}) {
  const home = mkdtempSync(join(tmpdir(), 'cosignkit-quickstart-'));
  try {
    const env = {
      ...process.env,
      HOME: home,
      XDG_CONFIG_HOME: join(home, '.config'),
      XDG_DATA_HOME: join(home, '.local', 'share'),
      XDG_CACHE_HOME: join(home, '.cache'),
    };
    for (const name of ['COSIGN_PASSWORD', 'COSIGN_PKCS11_PIN', 'SOFTHSM2_CONF', 'COSIGNKIT_AGENT_SOCKET'])
      delete env[name];
    const result = spawnSync('bash', ['-euo', 'pipefail', '-c', block.script], {
      cwd: options.cwd ?? ROOT,
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 600_000,
    });
    return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const onlyAt = args.indexOf('--only');
  const only = onlyAt >= 0 ? args.splice(onlyAt, 2)[1] : undefined;
  const readme = resolve(args[0] ?? join(ROOT, 'README.md'));
  const blocks = quickstartBlocks(readFileSync(readme, 'utf8')).filter((b) => !only || b.script.includes(only));
  let failed = 0;
  for (const block of blocks) {
    const started = Date.now();
    const result = runBlock(block);
    const took = ((Date.now() - started) / 1000).toFixed(1);
    if (result.status === 0) console.log(`ok   README:${block.line} (${took} s)`);
    else {
      failed++;
      console.log(`FAIL README:${block.line} (exit ${result.status}, ${took} s)\n${result.stdout}${result.stderr}`);
    }
  }
  console.log(`${blocks.length - failed} of ${blocks.length} quick-starts ran as written`);
  process.exit(failed === 0 && blocks.length > 0 ? 0 : 1);
}
