import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import type { SignBlobResult } from '../contracts/roles.js';
import type { VerificationFailure, VerificationResult } from '../contracts/verification-result.js';
import { assertReadableFile, digestFile } from '../digest.js';
import { CosignkitError } from '../errors.js';
import { ALGORITHMS, algorithmOfKey, fingerprintOf } from '../keys/algorithms.js';
import { silentLogger, type Logger } from '../logger.js';
import { throwIfAborted } from '../shared/abort.js';
import { removeQuietly, renameAll, reserveTempFile, tempPathFor } from '../shared/atomic-output.js';
import { isSigstoreBundle, readBundle, readBundleJson, type BundleSignature } from '../signatures/bundle-input.js';
import { readSignatureFile } from '../signatures/signature-input.js';
import { redactArgv, signBlobArgs, verifyBlobArgs } from './argv.js';
import { cosignError, cosignReason, isVerificationMismatch, type CosignOutcome } from './cosign-errors.js';
import { findCosign, type CosignInfo, type FindCosignOptions } from './find-cosign.js';
import { EMPTY_TRUSTED_ROOT } from './trusted-root.js';

export interface CosignRunnerOptions {
  env?: Readonly<Record<string, string | undefined>>;
  logger?: Logger;
  /** Milliseconds before a cosign run is killed (TIMEOUT). Default 3 minutes, cosign's own default. */
  timeoutMs?: number;
}

export interface CosignRunOptions {
  /** Secrets for the child, passed ONLY through its environment (COSIGN_PASSWORD, COSIGN_PKCS11_PIN…). */
  secretEnv?: Readonly<Record<string, string>>;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface CosignRunOutput extends CosignOutcome {
  stdout: string;
}

export interface CosignSignBlobOptions {
  /** A cosign key file path, or `cosignkit://<reference>` for any other backend (the KMS plugin). */
  key: string;
  /** The key file's password, handed to cosign as COSIGN_PASSWORD. */
  password?: string;
  outputSignature?: string;
  bundle?: string;
  signal?: AbortSignal;
}

export interface CosignVerifyBlobOptions {
  /** A PEM public key file for cosign's `--key`. */
  publicKeyPath: string;
  /** The same key, to report its fingerprint and pick the digest algorithm. */
  publicKey: KeyObject;
  signature?: string;
  bundle?: string;
  signal?: AbortSignal;
}

const DEFAULT_TIMEOUT = 180_000;

/** Drives the real cosign CLI: argv arrays (never a shell), secrets by environment, typed errors. */
export class CosignRunner {
  readonly info: CosignInfo;
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #logger: Logger;
  readonly #timeoutMs: number;

  constructor(info: CosignInfo, options: CosignRunnerOptions = {}) {
    this.info = info;
    this.#env = options.env ?? process.env;
    this.#logger = options.logger ?? silentLogger;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT;
  }

  /** Finds cosign (COSIGN_PATH, then PATH), learns its grammar and returns a runner for it. */
  static async create(
    options: CosignRunnerOptions & Pick<FindCosignOptions, 'cosignPath'> = {},
  ): Promise<CosignRunner> {
    const info = await findCosign({ cosignPath: options.cosignPath, env: options.env });
    return new CosignRunner(info, options);
  }

  /** Runs cosign once. A non-zero exit is returned, not thrown; failing to run at all throws. */
  async run(args: readonly string[], options: CosignRunOptions = {}): Promise<CosignRunOutput> {
    const argv = redactArgv(args);
    const secretNames = Object.keys(options.secretEnv ?? {});
    this.#logger.debug('running cosign', { cosign: this.info.path, argv, secretEnv: secretNames });
    throwIfAborted(options.signal);
    const { execa } = await import('execa');
    const result = await execa(this.info.path, [...args], {
      env: { ...this.#env, ...options.secretEnv },
      extendEnv: false,
      stdin: 'ignore',
      reject: false,
      timeout: options.timeoutMs ?? this.#timeoutMs,
      cancelSignal: options.signal,
      forceKillAfterDelay: 2_000,
      stripFinalNewline: true,
    });
    const details = { argv, exitCode: result.exitCode };
    if (result.isCanceled)
      throw new CosignkitError('ABORTED', 'cosign was stopped: the operation was aborted', { details });
    if (result.timedOut) {
      throw new CosignkitError(
        'TIMEOUT',
        `cosign ${args[0]} did not finish within ${options.timeoutMs ?? this.#timeoutMs} ms`,
        { details },
      );
    }
    if (result.exitCode === undefined) {
      const notFound = result.code === 'ENOENT';
      throw new CosignkitError(
        notFound ? 'COSIGN_NOT_FOUND' : 'COSIGN_FAILED',
        `cannot run cosign at ${this.info.path}: ${result.shortMessage ?? result.signalDescription ?? 'it did not start'}`,
        { details, cause: result.cause },
      );
    }
    return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr), argv };
  }

  /** `cosign sign-blob`: outputs go to temp files beside their targets and are renamed only on success. */
  async signBlob(file: string, options: CosignSignBlobOptions): Promise<SignBlobResult> {
    await assertReadableFile(file);
    const scratch = options.bundle ? undefined : await privateTempDir();
    const bundleTemp = options.bundle ? tempPathFor(options.bundle) : join(scratch!, 'bundle.json');
    const signatureTemp = options.outputSignature ? tempPathFor(options.outputSignature) : undefined;
    try {
      if (options.bundle) await reserveTempFile(bundleTemp, options.bundle);
      if (signatureTemp) await reserveTempFile(signatureTemp, options.outputSignature!);
      const args = signBlobArgs(this.info.grammar, {
        key: options.key,
        file,
        bundle: bundleTemp,
        outputSignature: signatureTemp,
      });
      const secretEnv = options.password === undefined ? undefined : { COSIGN_PASSWORD: options.password };
      const out = await this.run(args, { secretEnv, signal: options.signal });
      if (out.exitCode !== 0) throw cosignError('sign-blob', out);
      const written = await readWrittenBundle(bundleTemp, out);
      const moves = [
        ...(options.bundle ? [{ from: bundleTemp, to: options.bundle }] : []),
        ...(signatureTemp ? [{ from: signatureTemp, to: options.outputSignature! }] : []),
      ];
      await renameAll(moves);
      return {
        engine: 'cosign',
        ...written,
        ...(options.outputSignature ? { signaturePath: options.outputSignature } : {}),
        ...(options.bundle ? { bundlePath: options.bundle } : {}),
      };
    } finally {
      await removeQuietly([bundleTemp, ...(signatureTemp ? [signatureTemp] : [])]);
      if (scratch) await rm(scratch, { recursive: true, force: true });
    }
  }

  /**
   * `cosign verify-blob --insecure-ignore-tlog` with a public key. Inputs are checked first with the native
   * parsers, so malformed input fails with the same codes on both engines; a mismatch is `verified: false`.
   */
  async verifyBlob(file: string, options: CosignVerifyBlobOptions): Promise<VerificationResult> {
    if (!options.signature && !options.bundle)
      throw new CosignkitError('USAGE', 'nothing to verify: give a signature or a bundle');
    await assertReadableFile(file);
    const algorithm = algorithmOfKey(options.publicKey);
    if (options.signature) await readSignatureFile(options.signature, algorithm);
    let sigstoreBundle = false;
    let claimed: BundleSignature['messageDigest'];
    if (options.bundle) {
      claimed = (await readBundle(options.bundle, algorithm)).messageDigest;
      sigstoreBundle = isSigstoreBundle(await readBundleJson(options.bundle));
    }
    const scratch = sigstoreBundle ? await privateTempDir() : undefined;
    try {
      const trustedRoot = scratch ? join(scratch, 'trusted_root.json') : undefined;
      if (trustedRoot) await writeFile(trustedRoot, EMPTY_TRUSTED_ROOT, { mode: 0o600 });
      const runs: string[][] = [];
      const base = { publicKey: options.publicKeyPath, file };
      if (options.signature) runs.push(verifyBlobArgs(this.info.grammar, { ...base, signature: options.signature }));
      if (options.bundle)
        runs.push(verifyBlobArgs(this.info.grammar, { ...base, bundle: options.bundle, sigstoreBundle, trustedRoot }));
      const failures: VerificationFailure[] = [];
      const checks: boolean[] = [];
      for (const args of runs) {
        // No secret is needed to verify; an empty password keeps cosign from ever prompting.
        const out = await this.run(args, { signal: options.signal, secretEnv: { COSIGN_PASSWORD: '' } });
        if (out.exitCode === 0) {
          checks.push(true);
        } else if (isVerificationMismatch(out)) {
          checks.push(false);
          failures.push({ code: 'VERIFICATION_FAILED', message: `cosign: ${cosignReason(out.stderr)}` });
        } else {
          throw cosignError('verify-blob', out);
        }
      }
      const hash = claimed?.algorithm ?? (algorithm === 'ed25519' ? 'sha256' : ALGORITHMS[algorithm].hash);
      const digest = await digestFile(file, hash, { signal: options.signal });
      // Not left to cosign: the bundle's claimed digest must be this artifact's, whatever cosign's version checks.
      if (claimed && !claimed.digest.equals(digest)) {
        failures.push({
          code: 'VERIFICATION_FAILED',
          message: `${options.bundle}: the bundle's message digest does not match the artifact`,
        });
        checks[checks.length - 1] = false;
      }
      const keyFingerprint = fingerprintOf(options.publicKey);
      return {
        verified: failures.length === 0 && checks.every(Boolean),
        engine: 'cosign',
        artifact: { path: file, digest: { algorithm: hash, hex: digest.toString('hex') } },
        signatures: checks.map((verified) => ({ verified, keyFingerprint })),
        failures,
      };
    } finally {
      if (scratch) await rm(scratch, { recursive: true, force: true });
    }
  }
}

async function privateTempDir(): Promise<string> {
  // mkdtemp creates the directory 0700: the trusted root and scratch bundles stay private.
  // node:os here, not at the top: this module is part of core's index, which every command loads.
  return mkdtemp(join(process.getBuiltinModule('node:os').tmpdir(), 'cosignkit-'));
}

/** Reads back the bundle cosign wrote: the signature, the digest and the key's hint (its fingerprint). */
async function readWrittenBundle(
  path: string,
  out: CosignRunOutput,
): Promise<Pick<SignBlobResult, 'signature' | 'digest' | 'keyFingerprint'>> {
  let json: {
    verificationMaterial?: { publicKey?: { hint?: string } };
    messageSignature?: { messageDigest?: { algorithm?: string; digest?: string }; signature?: string };
  };
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new CosignkitError('COSIGN_FAILED', 'cosign sign-blob exited 0 but wrote no readable bundle', {
      cause: error,
      details: { exitCode: out.exitCode, stderr: out.stderr.slice(-1000), argv: out.argv },
    });
  }
  const sig = json.messageSignature;
  const algorithm = { SHA2_256: 'sha256', SHA2_384: 'sha384', SHA2_512: 'sha512' }[
    sig?.messageDigest?.algorithm ?? ''
  ] as SignBlobResult['digest']['algorithm'] | undefined;
  if (!sig?.signature || !algorithm || !sig.messageDigest?.digest) {
    throw new CosignkitError('COSIGN_FAILED', 'cosign sign-blob wrote a bundle without a message signature', {
      details: { exitCode: out.exitCode, argv: out.argv },
    });
  }
  const hint = json.verificationMaterial?.publicKey?.hint;
  return {
    signature: sig.signature,
    digest: { algorithm, hex: Buffer.from(sig.messageDigest.digest, 'base64').toString('hex') },
    keyFingerprint: hint ? Buffer.from(hint, 'base64').toString('hex') : '',
  };
}
