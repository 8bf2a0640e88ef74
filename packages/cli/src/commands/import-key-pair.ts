import { parseFlags, stringFlag } from '../args.js';
import type { Command } from '../command.js';
import { usageError } from '../usage-error.js';

const FLAGS = {
  key: { type: 'string' },
  'output-key-prefix': { type: 'string' },
  yes: { type: 'boolean', short: 'y' },
} as const;

const command: Command = {
  summary: "import a PEM private key into cosign's encrypted format",
  help: `Usage: cosignkit import-key-pair --key <file.pem> [--output-key-prefix <prefix>]

Reads an unencrypted PEM private key (PKCS#8, or SEC1 "EC PRIVATE KEY"; ECDSA P-256, P-384 or Ed25519;
RSA is refused) and writes <prefix>.key, encrypted
with a new password (COSIGN_PASSWORD, a prompt asked twice, or stdin), and <prefix>.pub, as
"cosign import-key-pair" does. Existing files are never overwritten (KEY_EXISTS).

Flags:
  --key <file.pem>               the key to import (required)
  --output-key-prefix <prefix>   path prefix of the two files (default "import-cosign")
  -y, --yes                      accepted for cosign compatibility`,
  async run(context) {
    const flags = parseFlags('import-key-pair', context.argv, FLAGS, { min: 0, max: 0, names: '' });
    const input = stringFlag(flags, 'key');
    if (input === undefined) throw usageError('import-key-pair', 'missing --key <file.pem>');
    const outputPrefix = stringFlag(flags, 'output-key-prefix') ?? 'import-cosign';
    const { importKeyPair } = await import('@cosignkit/key-file');
    const secrets = context.registry.contextFor('file').secrets;
    const password = await secrets({ kind: 'password', purpose: 'create', subject: `${outputPrefix}.key` });
    const result = await importKeyPair({ input, outputPrefix, password });
    return {
      text: '',
      data: result,
      notes: [`Private key written to ${outputPrefix}.key`, `Public key written to ${outputPrefix}.pub`],
    };
  },
};

export default command;
