import { KEYLESS_SIGN_FLAGS } from '../keyless-sign-options.js';
import { PUSH_FLAGS } from './blob-push.js';

/**
 * sign-blob's one-file flags, apart from the command: the bin's early keyless request
 * (src/bin/early-certificate-start.ts) parses a line with the very table the command parses it with.
 */
export const SIGN_BLOB_FLAGS = {
  key: { type: 'string' },
  'output-signature': { type: 'string' },
  output: { type: 'string' },
  bundle: { type: 'string' },
  'new-bundle-format': { type: 'boolean' },
  'tlog-upload': { type: 'boolean' },
  'use-signing-config': { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  ...KEYLESS_SIGN_FLAGS,
  ...PUSH_FLAGS,
} as const;
