import { createHash } from 'node:crypto';
import { TransparencyLogEntry } from '@sigstore/protobuf-specs';
import { CreateEntryRequest, Entry } from '@sigstore/protobuf-specs/rekor/v2';
import type { TLog } from '@sigstore/mock/dist/rekor/tlog.js';

/**
 * Rekor v2's `POST /api/v2/log/entries` on @sigstore/mock's log. The mock has a v2 handler, but its entry
 * body is the canonicalized *request* (with Buffers serialized as objects) and its root hash is decoded from
 * hex as base64, so no verifier accepts its entries. Here the body is what Rekor v2 logs, the `Entry`
 * (`hashedrekord`/`dsse` 0.0.2: the digest or payload hash and the signature with its verifier), and the
 * mock's log computes the one-leaf inclusion proof and the signed checkpoint. Signatures are not checked
 * here (the v1 path of the mock does not check hashedrekord either): verifiers check them against the body.
 */
export async function createEntryV2(tlog: TLog, logKeyDer: Buffer, body: string): Promise<Record<string, unknown>> {
  const request = CreateEntryRequest.fromJSON(JSON.parse(body));
  const spec = request.spec;
  let entry: Entry;
  if (spec?.$case === 'hashedRekordRequestV002') {
    const { digest, signature } = spec.hashedRekordRequestV002;
    if (digest.length !== 32 || !signature?.verifier)
      throw new Error('hashedrekord needs a SHA-256 digest and a verifier');
    entry = {
      kind: 'hashedrekord',
      apiVersion: '0.0.2',
      spec: { spec: { $case: 'hashedRekordV002', hashedRekordV002: { data: { algorithm: 1, digest }, signature } } },
    };
  } else if (spec?.$case === 'dsseRequestV002') {
    const { envelope, verifiers } = spec.dsseRequestV002;
    if (envelope?.signatures.length !== 1 || verifiers.length !== 1)
      throw new Error('dsse needs an envelope with one signature and one verifier');
    entry = {
      kind: 'dsse',
      apiVersion: '0.0.2',
      spec: {
        spec: {
          $case: 'dsseV002',
          dsseV002: {
            payloadHash: { algorithm: 1, digest: createHash('sha256').update(envelope.payload).digest() },
            signatures: [{ content: envelope.signatures[0]!.sig, verifier: verifiers[0] }],
          },
        },
      },
    };
  } else {
    throw new Error('the request is neither hashedRekordRequestV002 nor dsseRequestV002');
  }
  const canonical = Buffer.from(canonicalJson(Entry.toJSON(entry)));
  const logID = createHash('sha256').update(logKeyDer).digest();
  const timestamp = Math.floor(Date.now() / 1000);
  // Rekor v2 gives no index to trust without the proof; any stable number does for a one-leaf tree.
  const logIndex = 0;
  const proof = (
    tlog as unknown as {
      calculateInclusionProof(e: { body: Buffer; timestamp: number; logIndex: number; logID: Buffer }): {
        treeSize: number;
        rootHash: string;
        checkpoint: string;
      };
    }
  ).calculateInclusionProof({ body: canonical, timestamp, logIndex, logID });
  return TransparencyLogEntry.toJSON({
    logIndex: String(logIndex),
    logId: { keyId: logID },
    kindVersion: { kind: entry.kind, version: '0.0.2' },
    // Rekor v2 has no integrated time: time comes from a timestamp authority.
    integratedTime: '0',
    inclusionPromise: undefined,
    inclusionProof: {
      logIndex: String(logIndex),
      treeSize: String(proof.treeSize),
      rootHash: Buffer.from(proof.rootHash, 'hex'),
      hashes: [],
      checkpoint: { envelope: proof.checkpoint },
    },
    canonicalizedBody: canonical,
  }) as Record<string, unknown>;
}

/** JSON with sorted keys and no spaces (RFC 8785 for the strings and integers this body holds). */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}
