export { AgentServer } from './server.js';
export type { AgentServerOptions, AgentStatus } from './server.js';
export {
  AgentClient,
  agentUnavailable,
  isAgentUnavailable,
  absoluteRef,
  agentClientOf,
  environmentSecretSource,
  findAgent,
} from './client.js';
export { agentPaths } from './paths.js';
export { ensurePrivateDir } from './private-files.js';
export { locateAgent, prepareAgentDir } from './agent-location.js';
export type { AgentLocation } from './agent-location.js';
export type { AgentPaths } from './paths.js';
export { formatUptime, lastLogLine, pingAgent, sleep } from './agent-control.js';
export { agentLogger } from './agent-logger.js';
export { agentKeyOpener } from './agent-key-opener.js';
export { backendImporter } from './backend-importer.js';
export { DEFAULT_TTL } from './duration.js';
export { runPlugin } from './plugin/run-plugin.js';
export type { PluginIo } from './plugin/run-plugin.js';
export { agentSettings, DEFAULT_AGENT_TIMEOUT, loadAgentSettings } from './agent-settings.js';
export type { AgentLogLevel, AgentSettings } from './agent-settings.js';
export { autostartAgent } from './agent-autostart.js';
export type { AutostartOptions } from './agent-autostart.js';
export { runAgentDaemon } from './agent-daemon.js';
export type { AgentClientOptions } from './client.js';
