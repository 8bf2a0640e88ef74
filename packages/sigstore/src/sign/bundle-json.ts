import type { Bundle, SerializedBundle, TransparencyLogEntry } from '@sigstore/bundle';

// A new bundle's JSON, as @sigstore/bundle's bundleToJSON (protobuf-specs' Bundle.toJSON) writes it: the same
// fields in the same order, bytes as base64, proto3's defaults (empty strings, empty bytes, "0", empty lists)
// left out. Written here for the few messages a signature's bundle holds: importing protobuf-specs and
// @sigstore/bundle costs a one-shot keyless sign-blob more CPU (their CommonJS interop copies hundreds of
// exports at load) than the rest of its signing half. test/bundle-json.test.ts holds it to bundleToJSON.

type Json = Record<string, unknown>;

const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/** The bundle's proto3 JSON: what bundleToJSON(bundle) gives. */
export function serializeBundle(bundle: Bundle): SerializedBundle {
  const out: Json = {};
  if (bundle.mediaType !== '') out.mediaType = bundle.mediaType;
  if (bundle.verificationMaterial !== undefined) {
    const material = bundle.verificationMaterial;
    const json: Json = {};
    const content = material.content;
    if (content?.$case === 'publicKey') {
      json.publicKey = content.publicKey.hint !== '' ? { hint: content.publicKey.hint } : {};
    } else if (content?.$case === 'x509CertificateChain') {
      const certificates = content.x509CertificateChain.certificates;
      json.x509CertificateChain = certificates?.length ? { certificates: certificates.map(certificate) } : {};
    } else if (content?.$case === 'certificate') {
      json.certificate = certificate(content.certificate);
    }
    if (material.tlogEntries?.length) json.tlogEntries = material.tlogEntries.map(logEntry);
    if (material.timestampVerificationData !== undefined) {
      const stamps = material.timestampVerificationData.rfc3161Timestamps;
      json.timestampVerificationData = stamps?.length
        ? {
            rfc3161Timestamps: stamps.map((stamp) =>
              stamp.signedTimestamp.length !== 0 ? { signedTimestamp: base64(stamp.signedTimestamp) } : {},
            ),
          }
        : {};
    }
    out.verificationMaterial = json;
  }
  const content = bundle.content;
  if (content?.$case === 'messageSignature') {
    const signature = content.messageSignature;
    const json: Json = {};
    if (signature.messageDigest !== undefined) {
      const digest: Json = {};
      if (signature.messageDigest.algorithm !== 0) digest.algorithm = hashAlgorithm(signature.messageDigest.algorithm);
      if (signature.messageDigest.digest.length !== 0) digest.digest = base64(signature.messageDigest.digest);
      json.messageDigest = digest;
    }
    if (signature.signature.length !== 0) json.signature = base64(signature.signature);
    out.messageSignature = json;
  } else if (content?.$case === 'dsseEnvelope') {
    const envelope = content.dsseEnvelope;
    const json: Json = {};
    if (envelope.payload.length !== 0) json.payload = base64(envelope.payload);
    if (envelope.payloadType !== '') json.payloadType = envelope.payloadType;
    if (envelope.signatures?.length)
      json.signatures = envelope.signatures.map((s) => {
        const sig: Json = {};
        if (s.sig.length !== 0) sig.sig = base64(s.sig);
        if (s.keyid !== '') sig.keyid = s.keyid;
        return sig;
      });
    out.dsseEnvelope = json;
  }
  return out as SerializedBundle;
}

/** protobuf-specs' HashAlgorithm, by number (its JSON names). */
const HASH_ALGORITHMS: Record<number, string> = {
  0: 'HASH_ALGORITHM_UNSPECIFIED',
  1: 'SHA2_256',
  2: 'SHA2_384',
  3: 'SHA2_512',
  4: 'SHA3_256',
  5: 'SHA3_384',
};

function hashAlgorithm(value: number): string {
  const name = HASH_ALGORITHMS[value];
  if (name === undefined) throw new Error(`Unrecognized enum value ${value} for enum HashAlgorithm`);
  return name;
}

function certificate(cert: { rawBytes: Uint8Array }): Json {
  return cert.rawBytes.length !== 0 ? { rawBytes: base64(cert.rawBytes) } : {};
}

function logEntry(entry: TransparencyLogEntry): Json {
  const json: Json = {};
  if (entry.logIndex !== '0') json.logIndex = entry.logIndex;
  if (entry.logId !== undefined)
    json.logId = entry.logId.keyId.length !== 0 ? { keyId: base64(entry.logId.keyId) } : {};
  if (entry.kindVersion !== undefined) {
    const kind: Json = {};
    if (entry.kindVersion.kind !== '') kind.kind = entry.kindVersion.kind;
    if (entry.kindVersion.version !== '') kind.version = entry.kindVersion.version;
    json.kindVersion = kind;
  }
  if (entry.integratedTime !== '0') json.integratedTime = entry.integratedTime;
  if (entry.inclusionPromise !== undefined) {
    const set = entry.inclusionPromise.signedEntryTimestamp;
    json.inclusionPromise = set.length !== 0 ? { signedEntryTimestamp: base64(set) } : {};
  }
  if (entry.inclusionProof !== undefined) {
    const proof = entry.inclusionProof;
    const p: Json = {};
    if (proof.logIndex !== '0') p.logIndex = proof.logIndex;
    if (proof.rootHash.length !== 0) p.rootHash = base64(proof.rootHash);
    if (proof.treeSize !== '0') p.treeSize = proof.treeSize;
    if (proof.hashes?.length) p.hashes = proof.hashes.map(base64);
    if (proof.checkpoint !== undefined)
      p.checkpoint = proof.checkpoint.envelope !== '' ? { envelope: proof.checkpoint.envelope } : {};
    json.inclusionProof = p;
  }
  if (entry.canonicalizedBody.length !== 0) json.canonicalizedBody = base64(entry.canonicalizedBody);
  return json;
}
