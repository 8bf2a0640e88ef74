// By process.getBuiltinModule: the bin's entry bundles this module, before scrypt starts (early-key-derivation).
const { lstatSync } = process.getBuiltinModule('node:fs');
const { join } = process.getBuiltinModule('node:path');

/**
 * Whether a cosignkit agent could be running for this user, from the file system alone (issue 19): a socket
 * where @cosignkit/agent's agentPaths() puts it, or, for the shared-temp default, the pointer file to the
 * fallback directory the agent moves to when another user holds the default. When neither exists no agent
 * can answer, and a one-shot command skips loading the agent package (and a second copy of core with it) to
 * find that out. Anything unexpected (a path it cannot read) answers "maybe": the agent's own checks decide.
 * Kept in step with the agent's paths by test/agent-presence.test.ts.
 */
export function agentMayBeRunning(env: Readonly<Record<string, string | undefined>>): boolean {
  if (env.COSIGNKIT_NO_AGENT === '1') return false;
  if (mayExist(agentSocketPath(env))) return true;
  return usesSharedTemp(env) && mayExist(agentPointerFile(env));
}

/** Where the agent listens, as @cosignkit/agent's agentPaths() says (not imported: it would load the agent). */
export function agentSocketPath(env: Readonly<Record<string, string | undefined>>): string {
  if (env.COSIGNKIT_AGENT_SOCKET) return env.COSIGNKIT_AGENT_SOCKET;
  if (env.COSIGNKIT_AGENT_DIR) return join(env.COSIGNKIT_AGENT_DIR, 'agent.sock');
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'cosignkit', 'agent.sock');
  const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
  // node:os only here: most runs never need it.
  return join(process.getBuiltinModule('node:os').tmpdir(), `cosignkit-agent-${uid}`, 'agent.sock');
}

/** The pointer to the fallback directory, as @cosignkit/agent's pointerFile() says. */
export function agentPointerFile(env: Readonly<Record<string, string | undefined>>): string {
  const cache = env.XDG_CACHE_HOME || join(env.HOME || process.getBuiltinModule('node:os').homedir(), '.cache');
  return join(cache, 'cosignkit', 'agent', 'dir');
}

function usesSharedTemp(env: Readonly<Record<string, string | undefined>>): boolean {
  return !env.COSIGNKIT_AGENT_SOCKET && !env.COSIGNKIT_AGENT_DIR && !env.XDG_RUNTIME_DIR;
}

function mayExist(path: string): boolean {
  try {
    return lstatSync(path, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return true;
  }
}
