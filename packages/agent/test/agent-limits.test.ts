import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@cosignkit/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentServer } from '../src/server.js';
import { agentPaths } from '../src/paths.js';

// Issue 11: the agent keeps no idle client forever and buffers no unbounded frame, so a local user who can
// reach the socket cannot pin its memory or its connection slots.
let root: string;
let agent: AgentServer;

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), 'cosignkit-agent-limits-'));
  const dir = join(root, 'agent');
  agent = new AgentServer({
    paths: agentPaths({ COSIGNKIT_AGENT_DIR: dir }),
    ttlMs: 0,
    config: {},
    env: {},
    logger: silentLogger,
    maxConnections: 4,
    requestTimeoutMs: 300,
  });
  await agent.listen();
});
afterEach(async () => {
  await agent.stop('test');
  rmSync(root, { recursive: true, force: true });
});

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(agent.paths.socket, () => resolve(socket));
    socket.on('error', reject);
  });
}
const closed = (socket: Socket) => new Promise<void>((resolve) => socket.once('close', () => resolve()));

describe('agent connection limits', () => {
  it('drops a client that sends nothing within the request timeout', async () => {
    const socket = await open();
    const started = Date.now();
    await closed(socket);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('serves at most maxConnections clients at once; the rest are closed at connect', async () => {
    const held = await Promise.all([open(), open(), open(), open()]);
    const extra = await open();
    await closed(extra);
    for (const socket of held) socket.destroy();
  });

  it('closes a connection whose frame passes the cap instead of buffering it', async () => {
    const socket = await open();
    socket.on('error', () => undefined);
    const done = closed(socket);
    // A hello far over the handshake cap, without a newline.
    socket.write(Buffer.alloc(4 * 1024 * 1024, 0x61));
    await done;
    expect(process.memoryUsage().rss).toBeLessThan(1024 * 1024 * 1024);
  });
});
