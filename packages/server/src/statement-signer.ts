import type { KeyObject } from 'node:crypto';
import canonicalize from 'canonicalize';
import { createHash } from 'node:crypto';
import type { BackendRegistry, KeyAlgorithm, KeyManager } from '@cosignkit/core';
import {
  BUNDLE_V03_MEDIA_TYPE,
  envelopeToJson,
  IN_TOTO_PAYLOAD_TYPE,
  pae,
  publicKeyHint,
  STATEMENT_V1,
  type Envelope,
  type Subject,
} from '@cosignkit/dsse';

const STATEMENT_PREFIX = canonicalize(STATEMENT_V1)!;

export interface SignedStatement {
  envelope: Envelope;
  /** The envelope as DSSE JSON. */
  envelopeJson: unknown;
  /** A Sigstore v0.3 bundle carrying the envelope (key hint, no tlog entries), as cosign writes for a key. */
  bundle: unknown;
  /** dsse's envelopeDigest of the envelope (hex SHA-256 of its compact serialization): its id in the audit log. */
  digest: string;
}

/**
 * Signs in-toto statements with the configured key. The payload is RFC 8785 canonical JSON of the statement,
 * so equal input gives a byte-equal payload (and digest), whatever order the caller's JSON had.
 */
export class StatementSigner {
  private constructor(
    private readonly manager: KeyManager,
    private readonly keyId: string,
    readonly publicKey: KeyObject,
    readonly publicKeyPem: string,
    /** The key's identity as reported to callers: cosign's hint (base64 SHA-256 of the SPKI). */
    readonly keyHint: string,
    private readonly algorithm: KeyAlgorithm,
  ) {}

  static async open(registry: BackendRegistry, reference: string): Promise<StatementSigner> {
    const opened = await registry.open(reference);
    await opened.manager.prepare?.(opened.keyId);
    const publicKey = await opened.manager.getPublicKey(opened.keyId);
    const pem = await opened.manager.getPublicKeyPem(opened.keyId);
    const algorithm = await opened.manager.getAlgorithm(opened.keyId);
    return new StatementSigner(opened.manager, opened.keyId, publicKey, pem, publicKeyHint(publicKey), algorithm);
  }

  static payload(subjects: Subject[], predicateType: string, predicate: unknown): Buffer {
    return Buffer.from(canonicalize({ _type: STATEMENT_V1, subject: subjects, predicateType, predicate })!, 'utf8');
  }

  /**
   * The same bytes as payload(), from a predicate already in canonical JSON (the service canonicalizes it
   * once, to check its size): RFC 8785 orders the statement's keys _type, predicate, predicateType, subject.
   */
  static canonicalPayload(subjects: Subject[], predicateType: string, canonicalPredicate: string): Buffer {
    return Buffer.from(
      `{"_type":${STATEMENT_PREFIX},"predicate":${canonicalPredicate},"predicateType":${canonicalize(predicateType)},"subject":${canonicalize(subjects)}}`,
      'utf8',
    );
  }

  async sign(payload: Uint8Array): Promise<SignedStatement> {
    // As cosign (and dsse's signEnvelope with hash sha256, keyid ""): ECDSA over SHA-256 whatever the curve,
    // Ed25519 over the PAE itself. Done here rather than through signEnvelope so the hot path asks the key
    // for nothing but the signature: algorithm, public key and hint are read once, at start-up.
    const message = pae(IN_TOTO_PAYLOAD_TYPE, payload);
    const sig =
      this.algorithm === 'ed25519' || (this.algorithm === 'ecdsa-p256-sha256' && this.manager.signMessage)
        ? await this.manager.signMessage!(this.keyId, message)
        : await this.manager.signDigest(this.keyId, createHash('sha256').update(message).digest());
    const envelope: Envelope = {
      payloadType: IN_TOTO_PAYLOAD_TYPE,
      payload: Uint8Array.from(payload),
      signatures: [{ keyid: '', sig }],
    };
    // Encoded once: the answer's envelope, its bundle and its digest share the base64 strings (dsse's
    // serializeEnvelope, which envelopeDigest hashes, is JSON.stringify of this same envelopeToJson).
    const envelopeJson = envelopeToJson(envelope);
    const payloadB64 = envelopeJson.payload;
    const sigB64 = envelopeJson.signatures[0]!.sig;
    return {
      envelope,
      envelopeJson,
      digest: createHash('sha256').update(JSON.stringify(envelopeJson)).digest('hex'),
      // The v0.3 bundle cosign writes for a key without a log (dsse's serializeDsseBundle, hint precomputed).
      bundle: {
        mediaType: BUNDLE_V03_MEDIA_TYPE,
        verificationMaterial: { publicKey: { hint: this.keyHint } },
        dsseEnvelope: { payload: payloadB64, payloadType: IN_TOTO_PAYLOAD_TYPE, signatures: [{ sig: sigB64 }] },
      },
    };
  }
}
