import { CosignkitError } from '@cosignkit/core/errors';

/**
 * The agent's files or the server on its socket could belong to someone else: nothing secret was sent. Core's
 * errors entry alone (not all of core): the plugin's fast path stays small.
 */
export function agentUntrusted(message: string): CosignkitError {
  return new CosignkitError('AGENT_UNTRUSTED', message);
}

export function isAgentUntrusted(error: unknown): error is CosignkitError {
  return CosignkitError.isInstance(error) && error.code === 'AGENT_UNTRUSTED';
}
