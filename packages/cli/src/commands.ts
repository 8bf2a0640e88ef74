import type { Command } from './command.js';

/**
 * The command table. Each command is imported only when it runs, so `cosignkit version` loads nothing else.
 * Names with a space are sub-commands (`key generate`).
 */
export const COMMANDS: Record<string, () => Promise<{ default: Command }>> = {
  'generate-key-pair': () => import('./commands/generate-key-pair.js'),
  'import-key-pair': () => import('./commands/import-key-pair.js'),
  'public-key': () => import('./commands/public-key.js'),
  'sign-blob': () => import('./commands/sign-blob.js'),
  'verify-blob': () => import('./commands/verify-blob.js'),
  'attest-blob': () => import('./commands/attest-blob-via-signer.js'),
  'verify-blob-attestation': () => import('./commands/verify-blob-attestation.js'),
  'verify-dsse': () => import('./commands/verify-dsse.js'),
  'log-dsse': () => import('./commands/log-dsse.js'),
  'verify-log': () => import('./commands/verify-log.js'),
  'sign-key-manifest': () => import('./commands/sign-key-manifest.js'),
  sign: () => import('./commands/sign.js'),
  verify: () => import('./commands/verify.js'),
  attest: () => import('./commands/attest.js'),
  'verify-attestation': () => import('./commands/verify-attestation.js'),
  download: () => import('./commands/download.js'),
  tree: () => import('./commands/tree.js'),
  clean: () => import('./commands/clean.js'),
  version: () => import('./commands/version.js'),
  'dev-stack': () => import('./commands/dev-stack.js'),
  'key generate': () => import('./commands/key-generate.js'),
  'key list': () => import('./commands/key-list.js'),
  'key set-default': () => import('./commands/key-set-default.js'),
  'key delete': () => import('./commands/key-delete.js'),
  'agent start': () => import('./commands/agent-start.js'),
  'agent stop': () => import('./commands/agent-stop.js'),
  'agent status': () => import('./commands/agent-status.js'),
  'agent run': () => import('./commands/agent-run.js'),
  serve: () => import('./commands/serve.js'),
};
