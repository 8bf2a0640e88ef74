import { CosignkitError, KEY_ALGORITHMS, isKeyAlgorithm, redactKeyRef, type KeyAlgorithm } from '@cosignkit/core';
import { parseFlags, stringFlag } from '../args.js';
import type { Command } from '../command.js';
import { usageError } from '../usage-error.js';
import { describeKey } from '../key-format.js';

const FLAGS = {
  key: { type: 'string' },
  backend: { type: 'string' },
  label: { type: 'string' },
  algorithm: { type: 'string' },
  curve: { type: 'string' },
} as const;

/** `--curve` names (seed 001's KeyManager: P256, P384), as the algorithms they mean. */
const CURVES: Record<string, KeyAlgorithm> = {
  P256: 'ecdsa-p256-sha256',
  P384: 'ecdsa-p384-sha384',
};

/**
 * The design's default: P-384 (seed 001: "Generates a new ECC key pair (P-384 by default)"). cosign's own
 * generate-key-pair keeps cosign's P-256; a P-384 key still serves stock cosign, which hashes with SHA-256.
 */
const DEFAULT_ALGORITHM: KeyAlgorithm = 'ecdsa-p384-sha384';

const command: Command = {
  summary: 'make a new key in any backend (file, pkcs11, tpm, keyring, …)',
  help: `Usage: cosignkit key generate (--key <ref> | --backend <name> --label <label>) [--curve P256|P384 | --algorithm <alg>]

Creates a key pair where the reference points: a key file, a PKCS#11 token object, a TPM key, a keyring
entry. Prints the new key's reference, algorithm and fingerprint.

Flags:
  --key <ref>           e.g. release.key, pkcs11:token=ci;object=release?module-path=…, tpm:release,
                        keyring:cosignkit/release
  --backend <name>      the backend (file, pkcs11, tpm, keyring or a configured one), with --label:
                        the key is made in the backend's default store
  --label <label>       the new key's name in that store
  --algorithm <alg>     ${KEY_ALGORITHMS.join(', ')} (default ${DEFAULT_ALGORITHM}, or the backend's
                        own when it cannot make P-384 keys; noted on stderr)
  --curve P256|P384     the same as --algorithm ecdsa-p256-sha256 / ecdsa-p384-sha384
(cosign's generate-key-pair, "cosignkit generate-key-pair", keeps cosign's P-256.)`,
  async run(context) {
    const flags = parseFlags('key generate', context.argv, FLAGS, { min: 0, max: 0, names: '' });
    const key = stringFlag(flags, 'key');
    const backend = stringFlag(flags, 'backend');
    const label = stringFlag(flags, 'label');
    const curve = stringFlag(flags, 'curve');
    const curveAlgorithm = curve === undefined ? undefined : CURVES[curve.toUpperCase().replace('-', '')];
    if (curve !== undefined && curveAlgorithm === undefined)
      throw usageError('key generate', `--curve takes P256 or P384, not "${curve}"`);
    const asked = stringFlag(flags, 'algorithm');
    if (asked !== undefined && !isKeyAlgorithm(asked)) {
      throw usageError('key generate', `--algorithm takes ${KEY_ALGORITHMS.join(', ')}, not "${asked}"`);
    }
    if (asked !== undefined && curveAlgorithm !== undefined && asked !== curveAlgorithm)
      throw usageError('key generate', `--curve ${curve} and --algorithm ${asked} disagree`);
    let algorithm: string | undefined = asked ?? curveAlgorithm;
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
    const notes: string[] = [];
    if (algorithm === undefined) {
      const supported = opened.backend.capabilities.algorithms;
      if (supported.includes(DEFAULT_ALGORITHM)) algorithm = DEFAULT_ALGORITHM;
      else notes.push(`the ${opened.backend.name} backend cannot make ${DEFAULT_ALGORITHM} keys: made its default`);
    }
    if (algorithm !== undefined && !opened.backend.capabilities.algorithms.includes(algorithm as KeyAlgorithm)) {
      throw new CosignkitError(
        'ALGORITHM_UNSUPPORTED',
        `the ${opened.backend.name} backend cannot make ${algorithm} keys`,
      );
    }
    const info = await opened.manager.generateKeyPair({
      label: label ?? opened.keyId,
      ...(algorithm !== undefined ? { algorithm: algorithm as KeyAlgorithm } : {}),
      signal: context.signal,
    });
    return {
      text: `Generated ${describeKey(info)}`,
      data: { ...info, ref: redactKeyRef(info.ref) },
      notes,
    };
  },
};

export default command;
