import { redactKeyRef } from '../keys/key-ref.js';
import type { CosignGrammar } from './find-cosign.js';

export interface SignBlobArgs {
  /** A key file path or a `cosignkit://<reference>` for the KMS plugin. Never a password. */
  key: string;
  file: string;
  bundle: string;
  outputSignature?: string;
}

/** `cosign sign-blob` with a key, no transparency log, a v0.3 bundle (always: it names the key's hint). */
export function signBlobArgs(grammar: CosignGrammar, o: SignBlobArgs): string[] {
  const format =
    grammar === 'v3' ? ['--use-signing-config=false', '--new-bundle-format=true'] : ['--new-bundle-format=true'];
  return [
    'sign-blob',
    '--yes',
    '--key',
    o.key,
    '--tlog-upload=false',
    ...format,
    '--bundle',
    o.bundle,
    ...(o.outputSignature ? ['--output-signature', o.outputSignature] : []),
    '--',
    o.file,
  ];
}

export interface VerifyBlobArgs {
  /** A PEM public key file. */
  publicKey: string;
  file: string;
  signature?: string;
  bundle?: string;
  /** True for Sigstore bundles (protobuf-specs), false for cosign's legacy bundle. */
  sigstoreBundle?: boolean;
  /** Needed with Sigstore bundles so that cosign does not go to TUF for trust material. */
  trustedRoot?: string;
}

/** `cosign verify-blob` with a key and no transparency log; one signature source per call. */
export function verifyBlobArgs(grammar: CosignGrammar, o: VerifyBlobArgs): string[] {
  const args = ['verify-blob', '--key', o.publicKey, '--insecure-ignore-tlog=true'];
  if (o.bundle && o.sigstoreBundle) {
    args.push(
      '--new-bundle-format=true',
      ...(o.trustedRoot ? ['--trusted-root', o.trustedRoot] : []),
      '--bundle',
      o.bundle,
    );
  } else {
    if (grammar === 'v3') args.push('--new-bundle-format=false');
    if (o.bundle) args.push('--bundle', o.bundle);
    if (o.signature) args.push('--signature', o.signature);
  }
  args.push('--', o.file);
  return args;
}

/** The argv as it may appear in logs and error details: inline secrets of key references removed. */
export function redactArgv(argv: readonly string[]): string[] {
  return argv.map((arg) => redactKeyRef(arg));
}
