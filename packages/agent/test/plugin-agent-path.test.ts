import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { silentLogger } from '@cosignkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentPaths } from '../src/paths.js';
import { AgentServer } from '../src/server.js';

// Issue 19: a plugin call answered by a running agent is a Node start, one small file and one socket round trip.
// What it loads beyond that is start-up time on every cosign operation: node:crypto (the handshake's HMAC is
// @noble/hashes), node:fs/promises (with readline and the file watchers: the config is read only to start an
// agent), and any package (the backends, core) stay out of it.
const PLUGIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bin', 'sigstore-kms-cosignkit.cjs');
let root: string;
let agent: AgentServer;
let dir: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'cosignkit-agent-path-'));
  dir = join(root, 'agent');
  // A backend whose "signature" is the digest reversed: enough to see the answer came from the agent.
  const module = join(root, 'reverse-backend.mjs');
  writeFileSync(
    module,
    `export const backend = {
  specVersion: 1, name: 'reverse', schemes: ['reverse'],
  capabilities: { generate: false, delete: false, algorithms: ['ecdsa-p256-sha256'], extractable: false },
  async open() {
    return { backend: 'reverse', async getAlgorithm() { return 'ecdsa-p256-sha256'; },
      async signDigest(_id, digest) { return new Uint8Array(digest).reverse(); }, async close() {} };
  },
  keyIdOf(ref) { return ref.path; },
};\n`,
  );
  agent = new AgentServer({
    paths: agentPaths({ COSIGNKIT_AGENT_DIR: dir }),
    ttlMs: 0,
    config: { backends: { reverse: pathToFileURL(module).href } },
    env: {},
    logger: silentLogger,
  });
  await agent.listen();
});
afterAll(async () => {
  await agent?.stop('test');
  rmSync(root, { recursive: true, force: true });
});

describe('a plugin call through the agent', () => {
  it('signs through the agent loading neither node:crypto, node:fs/promises nor any package', async () => {
    const work = join(root, 'work');
    mkdirSync(work);
    const report = join(root, 'loaded.json');
    // Preloaded: on exit, the builtins the process loaded and the files it required.
    const preload = join(root, 'report-loaded.cjs');
    writeFileSync(
      preload,
      `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(report)}, JSON.stringify({
  builtins: process.moduleLoadList, files: Object.keys(require.cache) })));\n`,
    );
    const digest = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
    const request = {
      initOptions: { protocolVersion: 'v1', keyResourceID: 'cosignkit://reverse:k', hashFunc: 5 },
      methodName: 'signMessage',
      signMessage: { signOptions: { messageOptions: { digest: digest.toString('base64') } } },
    };
    // Not spawnSync: the agent answers from this process's event loop.
    const run = await promisify(execFile)(
      process.execPath,
      ['--require', preload, PLUGIN, 'v1', JSON.stringify(request)],
      {
        cwd: work,
        env: { PATH: process.env.PATH ?? '', HOME: work, COSIGNKIT_AGENT_DIR: dir },
        encoding: 'utf8',
      },
    );
    expect(JSON.parse(run.stdout)).toEqual({
      signMessage: { signature: Buffer.from(digest).reverse().toString('base64') },
    });
    expect(run.stderr).toBe('');
    const loaded = JSON.parse(readFileSync(report, 'utf8')) as { builtins: string[]; files: string[] };
    for (const heavy of ['crypto', 'fs/promises', 'readline', 'worker_threads', 'child_process'])
      expect(loaded.builtins).not.toContain(`NativeModule ${heavy}`);
    expect(loaded.files.filter((file) => file !== preload)).toEqual([PLUGIN]);
  });
});
