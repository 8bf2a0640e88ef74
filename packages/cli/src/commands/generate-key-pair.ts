import { parseFlags, stringFlag } from '../args.js';
import type { Command } from '../command.js';
import { usageError } from '../usage-error.js';

const FLAGS = {
  'output-key-prefix': { type: 'string' },
} as const;

const command: Command = {
  summary: "make a password-protected key pair in cosign's format (<prefix>.key + <prefix>.pub)",
  help: `Usage: cosignkit generate-key-pair [--output-key-prefix <prefix>]

Writes <prefix>.key (ECDSA P-256, encrypted with your password, mode 0600) and <prefix>.pub, exactly as
"cosign generate-key-pair" does. The password comes from COSIGN_PASSWORD, a prompt (asked twice) or stdin.
Unlike cosign, which asks whether to overwrite, cosignkit refuses when either file exists (KEY_EXISTS):
remove or rename the old files first. For keys in a token, TPM or keyring, use "cosignkit key generate".

Flags:
  --output-key-prefix <prefix>   path prefix of the two files (default "cosign")`,
  async run(context) {
    const flags = parseFlags('generate-key-pair', context.argv, FLAGS, { min: 0, max: 0, names: '' });
    const prefix = stringFlag(flags, 'output-key-prefix') ?? 'cosign';
    if (prefix === '' || prefix.endsWith('/'))
      throw usageError('generate-key-pair', '--output-key-prefix needs a file name');
    const { manager, keyId } = await context.keys.open(`file:${prefix}.key`);
    const info = await manager.generateKeyPair({ label: keyId, signal: context.signal });
    const keyPath = `${prefix}.key`;
    const pubPath = `${prefix}.pub`;
    return {
      text: '',
      data: { ...info, privateKeyPath: keyPath, publicKeyPath: pubPath },
      notes: [`Private key written to ${keyPath}`, `Public key written to ${pubPath}`],
    };
  },
};

export default command;
