import type {
  AttestManyInput,
  AttestManyOptions,
  BatchInputs,
  BatchItemResult,
  SignManyInput,
  SignManyOptions,
  VerifyManyInput,
  VerifyManyOptions,
} from './batch.js';
import type { EngineName, VerificationResult } from './verification-result.js';

/** The one digest shape of every result: blobs, images, statements' subjects. */
export interface Digest {
  algorithm: 'sha256' | 'sha384' | 'sha512';
  hex: string;
}

/** Which of cosign's two registry layouts: `.sig`/`.att` tags (cosign 2.x) or Sigstore-bundle referrers. */
export type SignatureFormat = 'legacy' | 'bundle';

export interface SignBlobOptions {
  /** A key reference (`cosign.key`, `pkcs11:…`, `tpm:…`, …); the configured default key when absent. */
  key?: string;
  /** Where to write the base64 signature. */
  outputSignature?: string;
  /** Where to write a Sigstore bundle (v0.3, key-based, no transparency log). */
  bundle?: string;
  /**
   * Sign this SHA-256 digest, computed elsewhere, instead of hashing the file (the file argument is then only
   * a name). Native only: cosign's sign-blob has no digest form; ECDSA keys only (Ed25519 signs messages).
   */
  digest?: Digest;
  signal?: AbortSignal;
}

export interface SignBlobResult {
  engine: EngineName;
  /** Base64 of the ASN.1 DER (ECDSA) or raw (Ed25519) signature. */
  signature: string;
  digest: Digest;
  keyFingerprint: string;
  /** The key used (redacted reference) and its backend (file, pkcs11, tpm, keyring, …): provenance metadata. */
  key?: string;
  keyBackend?: string;
  signaturePath?: string;
  bundlePath?: string;
}

export interface SignArtifactOptions {
  key?: string;
  /** Default: legacy on the cosign engine (what cosign 2.x writes), bundle natively. */
  format?: SignatureFormat;
  annotations?: Record<string, string>;
  signal?: AbortSignal;
}

/** An image (or pushed file) signed or attested in its registry, always by digest. */
export interface SignArtifactResult {
  engine: EngineName;
  /** `registry/repository@sha256:…`. */
  image: string;
  digest: Digest;
  format: SignatureFormat;
  /** Where the signature went (a tag or a referrer digest), when the engine says. */
  location?: string;
  /** The key used (redacted reference) and its backend; its id (SPKI SHA-256 hex) when the engine knows it. */
  key?: string;
  keyBackend?: string;
  keyFingerprint?: string;
}

export interface VerifyLocalOptions {
  /** A public key PEM file or any key reference whose public key is used. */
  key: string;
  /** A file holding a base64 (or raw DER) signature. */
  signature?: string;
  /** A Sigstore bundle (v0.1–v0.3) or cosign's legacy `{"base64Signature": …}` bundle. */
  bundle?: string;
  signal?: AbortSignal;
}

export interface RegistryPolicy {
  /** PEM public key files or key references; a signature by any of them counts. Empty with `keyless`. */
  key: string | string[];
  /** Keyless signatures (as cosign without --key): the certificate identity and trust they must meet. */
  keyless?: KeylessPolicy;
  signal?: AbortSignal;
}

/**
 * cosign's keyless verification flags. At least one identity and one issuer rule are required, as cosign
 * requires them; regexps are Go RE2 and unanchored, as cosign reads them.
 */
export interface KeylessPolicy {
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  certificateOidcIssuerRegexp?: string;
  githubWorkflowTrigger?: string;
  githubWorkflowSha?: string;
  githubWorkflowName?: string;
  githubWorkflowRepository?: string;
  githubWorkflowRef?: string;
  /** A TrustedRoot or ClientTrustConfig file; default: public good over TUF, else cached, else embedded. */
  trustedRootPath?: string;
  /** Never touch the network: the cached or embedded root. */
  offline?: boolean;
  staging?: boolean;
  insecureIgnoreTlog?: boolean;
  insecureIgnoreSct?: boolean;
  useSignedTimestamps?: boolean;
}

export interface AttestationPolicy extends RegistryPolicy {
  /** Only attestations of this predicate type URI count. */
  predicateType?: string;
  /** The type as the user wrote it (`slsaprovenance`, a URI): what the cosign engine passes on. */
  type?: string;
}

/** A VerificationResult for an image, with the verified payloads (simple-signing documents or statements). */
export interface RegistryVerificationResult extends VerificationResult {
  image: string;
  payloads: unknown[];
}

export interface AttestOptions {
  key?: string;
  /** The predicate file (JSON; any text for `custom` and `spdx`). */
  predicate: string;
  /** cosign's `--type`: `custom` (default), `slsaprovenance`, `spdxjson`, … or a predicate type URI. */
  type?: string;
  signal?: AbortSignal;
}

export interface AttestBlobOptions extends AttestOptions {
  /** Where to write the DSSE envelope (JSON). */
  outputFile?: string;
  /** Where to write a bundle carrying the envelope. */
  bundle?: string;
  /** cosign's legacy bundle instead of a Sigstore v0.3 bundle. */
  legacyBundle?: boolean;
  /** In-toto statement version: `v0.1` (default, as cosign 2.x writes) or `v1`. */
  statementVersion?: 'v0.1' | 'v1';
  /** The signature's `keyid` (default `""`, as cosign writes). Native engine only. */
  keyid?: string;
  /** The subject's name instead of the file's base name (e.g. `git+https://github.com/o/r@sha`). Native only. */
  subjectName?: string;
  /** The statement in RFC 8785 (JCS) canonical form instead of cosign's field order. Native only. */
  canonical?: boolean;
}

export interface AttestBlobResult {
  engine: EngineName;
  predicateType: string;
  subjects: { name?: string; digest: Record<string, string> }[];
  /** The DSSE envelope as written (compact JSON, no trailing newline). */
  envelope: string;
  /** The key used (redacted reference), its backend, and its id (SPKI SHA-256 hex) when the engine knows it. */
  key?: string;
  keyBackend?: string;
  keyFingerprint?: string;
  outputFile?: string;
  bundlePath?: string;
}

export interface AttestArtifactOptions extends AttestOptions {
  format?: SignatureFormat;
}

export interface AttestArtifactResult extends SignArtifactResult {
  predicateType: string;
}

/** The Signer role (pyCosign design): files to local outputs, files pushed to a registry, images in place. */
export interface Signer {
  signBlobLocal(file: string, options: SignBlobOptions): Promise<SignBlobResult>;
  /** Pushes the file as a one-layer OCI artifact at `ref`, then signs its manifest digest. */
  signBlobAndPush(file: string, ref: string, options?: SignArtifactOptions): Promise<SignArtifactResult>;
  signArtifact(image: string, options?: SignArtifactOptions): Promise<SignArtifactResult>;
  /** Signs many files with one key open, `jobs` at a time, yielding each item's result as it completes. */
  signMany(
    inputs: BatchInputs<SignManyInput>,
    options: SignManyOptions,
  ): AsyncIterable<BatchItemResult<SignManyInput, SignBlobResult>>;
}

/** The Verifier role. Verification failures are results (verified: false); unusable input throws. */
export interface Verifier {
  verifyLocal(file: string, options: VerifyLocalOptions): Promise<VerificationResult>;
  verifyRegistry(image: string, policy: RegistryPolicy): Promise<RegistryVerificationResult>;
  verifyAttestation(image: string, policy: AttestationPolicy): Promise<RegistryVerificationResult>;
  /** Verifies many files with one key; a mismatch is an `ok` item whose result has `verified: false`. */
  verifyMany(
    inputs: BatchInputs<VerifyManyInput>,
    options: VerifyManyOptions,
  ): AsyncIterable<BatchItemResult<VerifyManyInput, VerificationResult>>;
}

/** The Attester role: in-toto statements signed as DSSE envelopes, for files and images. */
export interface Attester {
  attestBlobLocal(file: string, options: AttestBlobOptions): Promise<AttestBlobResult>;
  attestBlobAndPush(file: string, ref: string, options: AttestArtifactOptions): Promise<AttestArtifactResult>;
  attestArtifact(image: string, options: AttestArtifactOptions): Promise<AttestArtifactResult>;
  /** Attests many files (one statement each) with one key open, `jobs` at a time. */
  attestMany(
    inputs: BatchInputs<AttestManyInput>,
    options: AttestManyOptions,
  ): AsyncIterable<BatchItemResult<AttestManyInput, AttestBlobResult>>;
}
