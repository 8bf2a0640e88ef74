import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { parseFlags, stringFlag } from '../args.js';
import type { Command } from '../command.js';
import { DEFAULT_TTL, lastLogLine, pingAgent, prepareAgentDir, sleep } from '@cosignkit/agent';
import { AGENT_FLAGS } from './agent-run.js';

const START_TIMEOUT_MS = 20_000;

const command: Command = {
  summary: 'start the key agent in the background (keeps PKCS#11, TPM and key-file stores open)',
  help: `Usage: cosignkit agent start [--socket <path>] [--ttl <duration>]

Starts "cosignkit agent run" as a background process and returns once its socket answers. Its log goes to
<socket>.log. With the agent running, "cosign … --key cosignkit://…" (through the sigstore-kms-cosignkit
plugin) and cosignkit's own commands use it; --no-agent (or COSIGNKIT_NO_AGENT=1) bypasses it.

Flags:
  --socket <path>     the socket (default: $COSIGNKIT_AGENT_SOCKET, else $COSIGNKIT_AGENT_DIR/agent.sock, else
                      $XDG_RUNTIME_DIR/cosignkit/agent.sock, else <tmp>/cosignkit-agent-<uid>/agent.sock)
  --ttl <duration>    close a store idle this long (default ${DEFAULT_TTL}; 0: never)`,
  bare: true,
  async run(context) {
    const flags = parseFlags('agent start', context.argv, AGENT_FLAGS, { min: 0, max: 0, names: '' });
    const socket = stringFlag(flags, 'socket');
    const env = socket ? { ...context.env, COSIGNKIT_AGENT_SOCKET: socket } : context.env;
    const notes: string[] = [];
    const running = await pingAgent(env, (message) => notes.push(message));
    if (running) {
      return {
        text: `an agent is already running (pid ${running.pid}) on ${running.socket}`,
        data: { ...running, alreadyRunning: true },
      };
    }
    // A default directory another user holds: a fresh private one instead (agent-location.ts), said in a note.
    const { paths, note } = prepareAgentDir(env);
    if (note) notes.splice(0, notes.length, note);
    const log = openSync(paths.logFile, 'a', 0o600);
    const args = [...process.execArgv, process.argv[1]!, 'agent', 'run', '--socket', paths.socket];
    const ttl = stringFlag(flags, 'ttl');
    if (ttl !== undefined) args.push('--ttl', ttl);
    let exited: number | null | undefined;
    try {
      // The daemon takes secrets from its clients only: none of the starter's stays in its environment.
      const daemonEnv = { ...env };
      delete daemonEnv.COSIGN_PASSWORD;
      delete daemonEnv.COSIGN_PKCS11_PIN;
      const child = spawn(process.execPath, args, {
        detached: true,
        stdio: ['ignore', log, log],
        env: daemonEnv,
        cwd: context.cwd,
      });
      child.once('exit', (code) => (exited = code));
      child.unref();
    } finally {
      closeSync(log);
    }
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      await sleep(50);
      if (exited !== undefined) {
        const { CosignkitError } = await import('@cosignkit/core');
        throw new CosignkitError(
          'BACKEND_UNAVAILABLE',
          `the agent exited at start (status ${String(exited)}): ${lastLogLine(paths.logFile)}`,
        );
      }
      const status = await pingAgent(env).catch(() => undefined);
      if (status) {
        return {
          text: `agent started (pid ${status.pid}) on ${status.socket}`,
          data: { ...status, alreadyRunning: false },
          notes,
        };
      }
    }
    const { CosignkitError } = await import('@cosignkit/core');
    throw new CosignkitError(
      'TIMEOUT',
      `the agent did not answer within ${START_TIMEOUT_MS / 1000}s; see ${paths.logFile}`,
    );
  },
};

export default command;
