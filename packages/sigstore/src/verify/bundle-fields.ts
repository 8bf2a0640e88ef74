import { escapeForTerminal } from '@cosignkit/core';

/**
 * The JSON shape of a Sigstore bundle (protobuf-specs v0.3, `sigstore_bundle.proto` and what it imports), as
 * protojson reads it. sigstore-go, hence cosign, parses a bundle with `protojson.Unmarshal`, whose default
 * options keep `DiscardUnknown` false: an unknown field, a value of the wrong JSON type (`"keyid": []` where a
 * string belongs) or two members of one oneof are errors, and the bundle is refused before any signature is
 * looked at. @sigstore/bundle's `fromJSON` skips unknown fields and coerces types (`String([])` is `""`), so
 * a bundle cosign refuses would be read here as a different bundle. This walk refuses what protojson refuses,
 * with one difference: protojson also accepts the protobuf field names (`tlog_entries`), which @sigstore/bundle
 * does not read at all; they are refused here (no producer writes them), where sigstore-go would read them.
 */
type Field =
  | 'string'
  | 'bytes'
  | 'int64'
  | 'enum'
  | { message: Message }
  | { repeated: 'bytes' | { message: Message } };
interface Message {
  fields: Record<string, Field>;
  /** Members of a protobuf oneof: at most one may be set. */
  oneof?: readonly string[];
}

const X509_CERTIFICATE: Message = { fields: { rawBytes: 'bytes' } };
const CHECKPOINT: Message = { fields: { envelope: 'string' } };
const INCLUSION_PROOF: Message = {
  fields: {
    logIndex: 'int64',
    rootHash: 'bytes',
    treeSize: 'int64',
    hashes: { repeated: 'bytes' },
    checkpoint: { message: CHECKPOINT },
  },
};
const TLOG_ENTRY: Message = {
  fields: {
    logIndex: 'int64',
    logId: { message: { fields: { keyId: 'bytes' } } },
    kindVersion: { message: { fields: { kind: 'string', version: 'string' } } },
    integratedTime: 'int64',
    inclusionPromise: { message: { fields: { signedEntryTimestamp: 'bytes' } } },
    inclusionProof: { message: INCLUSION_PROOF },
    canonicalizedBody: 'bytes',
  },
};
const VERIFICATION_MATERIAL: Message = {
  fields: {
    publicKey: { message: { fields: { hint: 'string' } } },
    x509CertificateChain: { message: { fields: { certificates: { repeated: { message: X509_CERTIFICATE } } } } },
    certificate: { message: X509_CERTIFICATE },
    tlogEntries: { repeated: { message: TLOG_ENTRY } },
    timestampVerificationData: {
      message: { fields: { rfc3161Timestamps: { repeated: { message: { fields: { signedTimestamp: 'bytes' } } } } } },
    },
  },
  oneof: ['publicKey', 'x509CertificateChain', 'certificate'],
};
const BUNDLE: Message = {
  fields: {
    mediaType: 'string',
    verificationMaterial: { message: VERIFICATION_MATERIAL },
    messageSignature: {
      message: {
        fields: {
          messageDigest: { message: { fields: { algorithm: 'enum', digest: 'bytes' } } },
          signature: 'bytes',
        },
      },
    },
    dsseEnvelope: {
      message: {
        fields: {
          payload: 'bytes',
          payloadType: 'string',
          signatures: { repeated: { message: { fields: { sig: 'bytes', keyid: 'string' } } } },
        },
      },
    },
  },
  oneof: ['messageSignature', 'dsseEnvelope'],
};

// protojson's bytes: standard or URL-safe base64, padded or not.
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
// protojson's int64: a JSON integer, or a string holding one.
const INT64_STRING = /^-?[0-9]+$/;

/** What protojson would refuse in this bundle's JSON, as one line naming the path; undefined when nothing. */
export function bundleFieldProblem(json: Record<string, unknown>): string | undefined {
  return messageProblem(json, BUNDLE, 'bundle');
}

function messageProblem(value: Record<string, unknown>, message: Message, path: string): string | undefined {
  let oneofSet: string | undefined;
  for (const name of Object.keys(value)) {
    const field = message.fields[name];
    if (field === undefined) return `${show(`${path}.${name}`)}: unknown field (sigstore-go refuses it)`;
    const member = value[name];
    // protojson: null is the field left unset.
    if (member === null) continue;
    if (message.oneof?.includes(name)) {
      if (oneofSet !== undefined) return `${show(path)}: both ${oneofSet} and ${name} are set (one of them only)`;
      oneofSet = name;
    }
    const problem = fieldProblem(member, field, path, name);
    if (problem) return problem;
  }
  return undefined;
}

/**
 * The field `key` of the message at `path` (or element `key` of the list at `path`). Its own path is
 * written out only for a problem or to go down into it: a bundle has hundreds of fields and list elements,
 * and a valid one (every verification) needs none of their names.
 */
function fieldProblem(value: unknown, field: Field, path: string, key: string | number): string | undefined {
  if (field === 'string') return typeof value === 'string' ? undefined : `${show(fieldPath(path, key))}: not a string`;
  if (field === 'bytes') {
    return typeof value === 'string' && BASE64.test(value)
      ? undefined
      : `${show(fieldPath(path, key))}: not base64 bytes`;
  }
  if (field === 'int64') {
    const ok =
      (typeof value === 'number' && Number.isInteger(value)) || (typeof value === 'string' && INT64_STRING.test(value));
    return ok ? undefined : `${show(fieldPath(path, key))}: not an integer`;
  }
  if (field === 'enum') {
    const ok = typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value));
    return ok ? undefined : `${show(fieldPath(path, key))}: not an enum name or number`;
  }
  if ('message' in field) {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      return `${show(fieldPath(path, key))}: not an object`;
    return messageProblem(value as Record<string, unknown>, field.message, fieldPath(path, key));
  }
  if (!Array.isArray(value)) return `${show(fieldPath(path, key))}: not a list`;
  const element = field.repeated;
  const listPath = fieldPath(path, key);
  for (let i = 0; i < value.length; i++) {
    // protojson refuses a null element of a list (it is not "unset" there).
    const problem = fieldProblem(value[i], element, listPath, i);
    if (problem) return problem;
  }
  return undefined;
}

function fieldPath(path: string, key: string | number): string {
  return typeof key === 'number' ? `${path}[${key}]` : `${path}.${key}`;
}

/** A path built from the bundle's own keys: escaped and bounded before it reaches a terminal. */
function show(path: string): string {
  return escapeForTerminal(path.length > 160 ? `${path.slice(0, 160)}…` : path);
}
