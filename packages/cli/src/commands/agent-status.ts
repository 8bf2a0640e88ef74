import { parseFlags, stringFlag } from '../args.js';
import type { Command } from '../command.js';
import { formatUptime, pingAgent } from '../agent/agent-control.js';
import { locateAgent } from '../agent/agent-location.js';

const command: Command = {
  summary: 'show whether the key agent runs: pid, socket, uptime, open stores',
  help: `Usage: cosignkit agent status [--socket <path>] [--json]

Prints the agent's pid, socket, uptime, time-to-live and the key stores it holds open (references redacted).
Exit 1 when no agent runs.`,
  bare: true,
  async run(context) {
    const flags = parseFlags('agent status', context.argv, { socket: { type: 'string' } }, { min: 0, max: 0, names: '' });
    const socket = stringFlag(flags, 'socket');
    const env = socket ? { ...context.env, COSIGNKIT_AGENT_SOCKET: socket } : context.env;
    const warnings: string[] = [];
    // Files that are not private are an error here (AGENT_UNTRUSTED): this command is about the agent alone.
    const status = await pingAgent(env);
    if (!status) {
      const path = locateAgent(env).paths.socket;
      return { exitCode: 1, text: `no agent is running (socket ${path})`, data: { running: false, socket: path }, notes: warnings };
    }
    const lines = [
      `pid:     ${status.pid}`,
      `socket:  ${status.socket}`,
      `uptime:  ${formatUptime(status.uptimeMs)}`,
      `ttl:     ${status.ttlMs > 0 ? formatUptime(status.ttlMs) : 'none (stores stay open)'}`,
      `stores:  ${status.stores.length === 0 ? 'none open' : status.stores.length}`,
      ...status.stores.map((s) => `  ${s.backend.padEnd(8)} ${s.ref} (idle ${formatUptime(s.idleMs)})`),
    ];
    return { text: lines.join('\n'), data: { running: true, ...status }, notes: warnings };
  },
};

export default command;
