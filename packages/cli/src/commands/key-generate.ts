import { CosignkitError, KEY_ALGORITHMS, isKeyAlgorithm, redactKeyRef } from '@cosignkit/core';
import { parseFlags, stringFlag } from '../args.js';
import type { Command } from '../command.js';
import { usageError } from '../usage-error.js';
import { describeKey } from '../key-format.js';

const FLAGS = {
  key: { type: 'string' },
  backend: { type: 'string' },
  label: { type: 'string' },
  algorithm: { type: 'string' },
} as const;

const command: Command = {
  summary: 'make a new key in any backend (file, pkcs11, tpm, keyring, …)',
  help: `Usage: cosignkit key generate (--key <ref> | --backend <name> --label <label>) [--algorithm <alg>]

Creates a key pair where the reference points: a key file, a PKCS#11 token object, a TPM key, a keyring
entry. Prints the new key's reference, algorithm and fingerprint.

Flags:
  --key <ref>           e.g. release.key, pkcs11:token=ci;object=release?module-path=…, tpm:release,
                        keyring:cosignkit/release
  --backend <name>      the backend (file, pkcs11, tpm, keyring or a configured one), with --label:
                        the key is made in the backend's default store
  --label <label>       the new key's name in that store
  --algorithm <alg>     ${KEY_ALGORITHMS.join(', ')} (default ecdsa-p256-sha256)`,
  async run(context) {
    const flags = parseFlags('key generate', context.argv, FLAGS, { min: 0, max: 0, names: '' });
    const key = stringFlag(flags, 'key');
    const backend = stringFlag(flags, 'backend');
    const label = stringFlag(flags, 'label');
    const algorithm = stringFlag(flags, 'algorithm');
    if (algorithm !== undefined && !isKeyAlgorithm(algorithm)) {
      throw usageError('key generate', `--algorithm takes ${KEY_ALGORITHMS.join(', ')}, not "${algorithm}"`);
    }
    if ((key === undefined) === (backend === undefined)) {
      throw usageError('key generate', 'pass either --key <ref> or --backend <name> --label <label>');
    }
    if (key !== undefined && label !== undefined)
      throw usageError('key generate', '--label goes with --backend, not --key');
    if (backend !== undefined && !label) throw usageError('key generate', '--backend needs --label <label>');
    const ref = key ?? `${backend}:`;
    const opened = await context.keys.open(ref);
    if (!opened.backend.capabilities.generate) {
      throw new CosignkitError('NOT_SUPPORTED', `the ${opened.backend.name} backend cannot generate keys`);
    }
    if (algorithm !== undefined && !opened.backend.capabilities.algorithms.includes(algorithm)) {
      throw new CosignkitError(
        'ALGORITHM_UNSUPPORTED',
        `the ${opened.backend.name} backend cannot make ${algorithm} keys`,
      );
    }
    const info = await opened.manager.generateKeyPair({
      label: label ?? opened.keyId,
      ...(algorithm !== undefined ? { algorithm } : {}),
      signal: context.signal,
    });
    return {
      text: `Generated ${describeKey(info)}`,
      data: { ...info, ref: redactKeyRef(info.ref) },
    };
  },
};

export default command;
