import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { agentPaths } from '@cosignkit/agent';
// The agent's own pointer path, from its source: the CLI's copy must name the same file.
import { pointerFile } from '../../agent/src/agent-location.js';
import { agentMayBeRunning, agentPointerFile, agentSocketPath } from '../src/agent-presence.js';

const dir = mkdtempSync(join(tmpdir(), 'cosignkit-presence-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ENVS: Record<string, Record<string, string>> = {
  socket: { COSIGNKIT_AGENT_SOCKET: join(dir, 's', 'agent.sock'), HOME: dir },
  agentDir: { COSIGNKIT_AGENT_DIR: join(dir, 'd'), HOME: dir },
  runtimeDir: { XDG_RUNTIME_DIR: join(dir, 'run'), HOME: dir },
  sharedTemp: { HOME: dir },
  cacheHome: { HOME: dir, XDG_CACHE_HOME: join(dir, 'cache') },
};

describe('agent presence (the CLI skips loading the agent when none can be running)', () => {
  it.each(Object.entries(ENVS))('names the socket and pointer the agent itself uses (%s)', (_name, env) => {
    expect(agentSocketPath(env)).toBe(agentPaths(env).socket);
    expect(agentPointerFile(env)).toBe(pointerFile(env));
  });

  it('answers no with neither a socket nor a pointer, yes with either, no with COSIGNKIT_NO_AGENT=1', () => {
    const env = { COSIGNKIT_AGENT_DIR: join(dir, 'agent'), HOME: join(dir, 'home') };
    expect(agentMayBeRunning(env)).toBe(false);
    mkdirSync(env.COSIGNKIT_AGENT_DIR, { recursive: true });
    writeFileSync(join(env.COSIGNKIT_AGENT_DIR, 'agent.sock'), '');
    expect(agentMayBeRunning(env)).toBe(true);
    expect(agentMayBeRunning({ ...env, COSIGNKIT_NO_AGENT: '1' })).toBe(false);

    // The shared-temp default lives under os.tmpdir(), which follows this process's TMPDIR.
    const savedTmp = process.env.TMPDIR;
    process.env.TMPDIR = join(dir, 'tmp');
    try {
      const shared = { HOME: join(dir, 'home2') };
      expect(agentMayBeRunning(shared)).toBe(false);
      mkdirSync(join(shared.HOME, '.cache', 'cosignkit', 'agent'), { recursive: true });
      writeFileSync(agentPointerFile(shared), join(dir, 'elsewhere'));
      expect(agentMayBeRunning(shared)).toBe(true);
    } finally {
      if (savedTmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = savedTmp;
    }
  });
});
