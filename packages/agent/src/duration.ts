/** How long an idle store stays open in the agent (`--ttl`, COSIGNKIT_AGENT_TTL); core's parseDuration reads it. */
export const DEFAULT_TTL = '10m';
