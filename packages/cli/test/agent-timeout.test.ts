import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AgentServer, agentPaths } from '@cosignkit/agent';
import { silentLogger } from '@cosignkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cosignkit, expectFailure, tempHome } from './helpers.js';

// The CLI's own `agent.timeout` (its config file) bounds a call to an agent whose backend never answers, as
// COSIGNKIT_AGENT_TIMEOUT does; without either, the agent's announced timeout applies.
const home = tempHome();
const agentDir = join(home.dir, 'agent');
let agent: AgentServer;

beforeAll(async () => {
  mkdirSync(agentDir, { mode: 0o700 });
  // A store that opens but never answers a signature: what a hung HSM looks like through the agent.
  const module = join(home.dir, 'hang-backend.mjs');
  writeFileSync(
    module,
    `export const backend = {
  specVersion: 1, name: 'hang', schemes: ['hang'],
  capabilities: { generate: false, delete: false, algorithms: ['ecdsa-p256-sha256'], extractable: false },
  async open() {
    return { backend: 'hang', async getAlgorithm() { return 'ecdsa-p256-sha256'; },
      async getPublicKey() { return new Promise(() => {}); },
      signDigest() { return new Promise(() => {}); }, signMessage() { return new Promise(() => {}); },
      async close() {} };
  },
  keyIdOf(ref) { return ref.path; },
};\n`,
  );
  const config = { backends: { hang: pathToFileURL(module).href } };
  writeFileSync(join(home.dir, 'cosignkit.config.json'), JSON.stringify({ ...config, agent: { timeout: '1s' } }));
  writeFileSync(join(home.dir, 'blob.txt'), 'hello\n');
  agent = new AgentServer({
    paths: agentPaths({ COSIGNKIT_AGENT_DIR: agentDir }),
    ttlMs: 0,
    config,
    env: {},
    logger: silentLogger,
    operationTimeoutMs: 60_000,
  });
  await agent.listen();
});

afterAll(async () => {
  await agent?.stop('test');
  home.cleanup();
});

describe("the CLI's agent.timeout", () => {
  it('ends a call the agent never answers after the config file’s timeout, with TIMEOUT', async () => {
    const started = Date.now();
    const run = await cosignkit(['sign-blob', '--key', 'hang:k', '--bundle', 'b.json', 'blob.txt'], {
      cwd: home.dir,
      env: { COSIGNKIT_AGENT_DIR: agentDir },
    });
    expectFailure(run, 1, 'TIMEOUT');
    expect(run.stderr).toMatch(/1000 ms/);
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
