/**
 * The agent's files or the server on its socket could belong to someone else: nothing secret was sent.
 * Branded like core's CosignkitError (without loading core: the plugin's fast path stays small), so the CLI
 * and the plugin report it as one line with its stable code.
 */
export class AgentUntrusted extends Error {
  readonly code = 'AGENT_UNTRUSTED';
  constructor(message: string) {
    super(message);
    this.name = 'AgentUntrusted';
    (this as unknown as Record<symbol, boolean>)[Symbol.for('cosignkit.error')] = true;
  }
}
