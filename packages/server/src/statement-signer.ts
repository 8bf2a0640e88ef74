import type { KeyObject } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { BackendRegistry, KeyManager } from '@cosignkit/core';
import { envelopeToJson, IN_TOTO_PAYLOAD_TYPE, publicKeyHint, serializeDsseBundle, signEnvelope, STATEMENT_V1, type Envelope, type Subject } from '@cosignkit/dsse';

export interface SignedStatement {
  envelope: Envelope;
  /** The envelope as DSSE JSON. */
  envelopeJson: unknown;
  /** A Sigstore v0.3 bundle carrying the envelope (key hint, no tlog entries), as cosign writes for a key. */
  bundle: unknown;
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
  ) {}

  static async open(registry: BackendRegistry, reference: string): Promise<StatementSigner> {
    const opened = await registry.open(reference);
    await opened.manager.prepare?.(opened.keyId);
    const publicKey = await opened.manager.getPublicKey(opened.keyId);
    const pem = await opened.manager.getPublicKeyPem(opened.keyId);
    return new StatementSigner(opened.manager, opened.keyId, publicKey, pem, publicKeyHint(publicKey));
  }

  static payload(subjects: Subject[], predicateType: string, predicate: unknown): Buffer {
    return Buffer.from(canonicalize({ _type: STATEMENT_V1, subject: subjects, predicateType, predicate })!, 'utf8');
  }

  async sign(payload: Uint8Array): Promise<SignedStatement> {
    // As cosign: ECDSA over SHA-256 whatever the curve, keyid "" (verifiers try their key).
    const envelope = await signEnvelope(IN_TOTO_PAYLOAD_TYPE, payload, [{ manager: this.manager, keyId: this.keyId, keyid: '', hash: 'sha256' }]);
    return {
      envelope,
      envelopeJson: envelopeToJson(envelope),
      bundle: JSON.parse(serializeDsseBundle({ ...envelope, signatures: envelope.signatures.map((s) => ({ sig: s.sig })) }, this.publicKey)),
    };
  }
}
