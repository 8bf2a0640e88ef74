import type { KeyObject } from 'node:crypto';

/** The signature algorithms a key can have. ECDSA signatures are ASN.1 DER; Ed25519 signs messages (pure). */
export type KeyAlgorithm = 'ecdsa-p256-sha256' | 'ecdsa-p384-sha384' | 'ed25519';

export interface KeyInfo {
  /** The key's id inside its backend (a file name, a token object label, a TPM key name, a keyring account). */
  id: string;
  label?: string;
  algorithm: KeyAlgorithm;
  /** The backend's name, e.g. `file`, `pkcs11`. */
  backend: string;
  /** A key reference that opens this key again (what a user passes to `--key`). */
  ref: string;
  publicKeyPem: string;
  /** Lower-case hex SHA-256 of the SubjectPublicKeyInfo DER. */
  fingerprint: string;
}

export interface GenerateKeyOptions {
  algorithm?: KeyAlgorithm;
  /** The id/label of the new key; backends that need one refuse without it (code USAGE). */
  label?: string;
  signal?: AbortSignal;
}

export interface SignOptions {
  signal?: AbortSignal;
}

/**
 * One key store (a directory of key files, a PKCS#11 token, a TPM keystore, a keyring service) and the keys
 * in it. The nine operations of the Key Manager design, all async. Private keys never leave the manager.
 */
export interface KeyManager {
  readonly backend: string;
  generateKeyPair(options?: GenerateKeyOptions): Promise<KeyInfo>;
  getPublicKey(id: string): Promise<KeyObject>;
  getPublicKeyPem(id: string): Promise<string>;
  getPublicKeyFingerprint(id: string): Promise<string>;
  /**
   * Signs a digest already computed with the key's hash (SHA-256 for P-256, SHA-384 for P-384). Refuses a
   * digest of the wrong length (code DIGEST_LENGTH). Returns an ASN.1 DER ECDSA signature.
   */
  signDigest(id: string, digest: Uint8Array, options?: SignOptions): Promise<Uint8Array>;
  /** Signs a whole message: required for Ed25519 keys (pure signatures), optional otherwise. */
  signMessage?(id: string, message: Uint8Array, options?: SignOptions): Promise<Uint8Array>;
  verifySignature(id: string, signature: Uint8Array, message: Uint8Array): Promise<boolean>;
  /**
   * Optional: gets ready to sign with the key (decrypts it, logs in) without signing, so a caller can do it
   * while it hashes the artifact. Signing works without it; it only moves the cost earlier.
   */
  prepare?(id: string, options?: SignOptions): Promise<void>;
  /**
   * Optional fast path for software keys: a one-shot signer fed the message in chunks, hashing with SHA-256
   * and signing in OpenSSL in the same pass (ECDSA P-256 only; undefined for other keys). Batch signing uses
   * it so many files are not bound by signing digests in JS.
   */
  createMessageSigner?(id: string, options?: SignOptions): Promise<MessageSigner | undefined>;
  getAlgorithm(id: string): Promise<KeyAlgorithm>;
  listKeys(): Promise<KeyInfo[]>;
  deleteKey(id: string): Promise<void>;
  /** Releases sessions, contexts and decrypted keys. Idempotent. */
  close(): Promise<void>;
}

/** A streaming signature over one message (see KeyManager.createMessageSigner). */
export interface MessageSigner {
  update(chunk: Uint8Array): void;
  /** Ends the message: an ASN.1 DER ECDSA signature over SHA-256 of everything fed. */
  sign(): Uint8Array;
  /**
   * Optional: the same signature over one whole message already in memory, in one call. It is independent of
   * update/sign and may be called any number of times, so a batch of small files keeps one signer and skips
   * the streaming state (measured ~15 µs a file with OpenSSL's one-shot call).
   */
  signOnce?(message: Uint8Array): Uint8Array;
}
