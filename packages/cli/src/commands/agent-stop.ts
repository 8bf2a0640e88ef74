import { existsSync } from 'node:fs';
import { parseFlags, stringFlag } from '../args.js';
import type { Command } from '../command.js';
import { agentClientOf, isAgentUnavailable, locateAgent, sleep } from '@cosignkit/agent';

const command: Command = {
  summary: 'stop the key agent (it closes every store: logout, keys dropped)',
  help: `Usage: cosignkit agent stop [--socket <path>]

Asks the running agent to shut down and waits until its socket is gone. Nothing to do (exit 0) when no agent
runs.`,
  bare: true,
  async run(context) {
    const flags = parseFlags('agent stop', context.argv, { socket: { type: 'string' } }, { min: 0, max: 0, names: '' });
    const socket = stringFlag(flags, 'socket');
    const env = socket ? { ...context.env, COSIGNKIT_AGENT_SOCKET: socket } : context.env;
    const { paths } = locateAgent(env);
    // Files that are not private are an error (AGENT_UNTRUSTED), not "no agent": the user should know.
    const client = env.COSIGNKIT_NO_AGENT === '1' ? undefined : agentClientOf(env);
    let pid: number | undefined;
    if (client) {
      try {
        pid = ((await client.request({ op: 'shutdown' }, undefined, 5000)) as { pid: number }).pid;
      } catch (error) {
        if (!isAgentUnavailable(error)) throw error;
      }
    }
    if (pid === undefined)
      return { text: 'no agent is running', data: { stopped: false, running: false, socket: paths.socket } };
    const deadline = Date.now() + 15_000;
    while (existsSync(paths.socket) && Date.now() < deadline) await sleep(25);
    return { text: `agent stopped (pid ${pid})`, data: { stopped: true, pid, socket: paths.socket } };
  },
};

export default command;
